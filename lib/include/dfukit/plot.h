/* plot.h - a picture of a session: an event consumer (event.h) that draws,
 * as one self-contained SVG, the data offset of each image against time.
 *
 *   pipeline (pipeline.h) --dk_event--> dk_plot_event (a tap) --> points,
 *       marks, port gaps, kept in bounded memory --dk_plot_write--> SVG
 *
 * What the picture holds:
 *   - one line (one colour) per image: the data offset reached, from the
 *     folded write runs (WRITES), the offsets SELECT reports and where the
 *     host goes on after a resume; the line drops where data is sent again;
 *   - marks: each data object's EXECUTE (a diamond in the image's colour;
 *     red when refused, hollow when never answered), the init packet's
 *     EXECUTE (a square at offset 0), resumes (a green triangle), object
 *     restarts and image restarts (purple), an image completed (a check),
 *     every anomaly (a circle coloured by severity, labelled with its dotted
 *     id; the full text is its tooltip);
 *   - the port closed (DTR low in a pcap): shaded, with its duration; a
 *     closed stretch longer than the rest of the session is drawn narrower
 *     (the axis breaks there) so the update itself stays readable;
 *   - axes with ticks and units: seconds since the first event; an input
 *     without times (raw files, logs without stamps) is drawn against the
 *     byte position in the input, and the axis says so;
 *   - a title with the input's name, the outcome and the diagnosis id, a
 *     line of figures, and a legend.
 * Elements carry classes for tools and tests: "image" polylines with
 * data-image, marks "exec", "exec failed", "exec unanswered", "init",
 * "resume", "object-restart", "restart", "done", "anomaly SEVERITY" with
 * data-id, "port-gap" rects.
 *
 * Memory is bounded whatever the capture's length: at most max_points line
 * points for all images together (when full, points are merged per image in
 * time buckets that double in width, keeping each bucket's first, lowest,
 * highest and last point, and never a point a mark stands on; with very
 * many images, first and last only); DK_PLOT_ROUTINE routine marks (data
 * EXECUTEs, init packets executed, images completed: past that, every
 * second one is dropped and then every 2^k-th kept); DK_PLOT_MARKS other
 * marks (anomalies, resumes, restarts, refusals: all of them up to that,
 * further ones counted); DK_PLOT_GAPS port gaps (past that, the shortest
 * are left out and counted).  The picture's footnote says what was left
 * out.  The SVG's size follows: well under 1 MiB.
 *
 * Pure: the SVG goes to the FILE the caller passes; no other I/O.
 */
#ifndef DFUKIT_PLOT_H
#define DFUKIT_PLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/event.h"

#define DK_PLOT_POINTS 4000 /* default line points, all images together */
#define DK_PLOT_MARKS 2000  /* the other marks: anomalies, resumes, restarts, refusals */
#define DK_PLOT_ROUTINE 1024 /* routine marks: data EXECUTEs, init packets
                               executed, images completed */
#define DK_PLOT_GAPS 256    /* port-closed stretches */

typedef struct {
    const char *title;   /* the input's name for the title (NULL: none); copied */
    bool split;          /* two one-line inputs: positions are the host file's */
    unsigned max_points; /* 0: DK_PLOT_POINTS; at least 64 */
    unsigned width, height; /* pixels; 0: 1200 x 720 */
} dk_plot_opts;

typedef struct dk_plot dk_plot;

dk_plot *dk_plot_new(const dk_plot_opts *o); /* NULL: out of memory */
void dk_plot_free(dk_plot *p);

/* One event (a dk_event_cb; ctx is the dk_plot). */
void dk_plot_event(void *ctx, const dk_event *ev);

/* Write the SVG of what was seen (after the SUMMARY event for the title's
 * outcome and diagnosis).  0, or -1 when the FILE reports an error. */
int dk_plot_write(const dk_plot *p, FILE *out);

/* What the plot holds (tests, and the figures a caller may print). */
typedef struct {
    bool by_time;          /* x is time; else the byte position */
    unsigned points;       /* line points kept */
    uint64_t points_seen;  /* line points offered */
    unsigned marks;        /* marks kept (data EXECUTEs included) */
    uint64_t marks_left_out;
    unsigned routine_stride; /* 1: every routine mark is kept */
    unsigned gaps;         /* port gaps kept */
    uint64_t gaps_left_out;
    unsigned images;       /* the highest image index seen */
} dk_plot_stats;

void dk_plot_get_stats(const dk_plot *p, dk_plot_stats *st);

#endif
