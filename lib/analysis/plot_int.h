/* plot_int.h - what the plot consumer (plot.c) keeps and the SVG writer
 * (plot_svg.c) draws; private to lib/analysis. */
#ifndef DFUKIT_PLOT_INT_H
#define DFUKIT_PLOT_INT_H

#include "dfukit/diag.h"
#include "dfukit/plot.h"

enum { PLOT_NONE = 0, PLOT_TIME, PLOT_POS };

/* One point of an image's line. */
typedef struct {
    double x;
    uint32_t y;
    unsigned img;
    bool pin;    /* a mark stands on it: never merged away */
} plot_pt;

typedef enum {
    MK_EXEC,       /* data object executed */
    MK_EXEC_BAD,   /* EXECUTE refused (data or command) */
    MK_EXEC_NONE,  /* EXECUTE never answered */
    MK_INIT,       /* init packet executed */
    MK_RESUME,     /* the host went on from the target's offset */
    MK_OBJ_RESTART,/* the host sent the partial object again */
    MK_RESTART,    /* the image sent again from its start */
    MK_DONE,       /* image completed */
    MK_ANOMALY,
    MK_KINDS
} plot_mark_kind;

typedef struct {
    double x;
    uint32_t y;
    unsigned img;
    uint8_t kind;        /* plot_mark_kind */
    uint8_t sev;         /* MK_ANOMALY: dk_severity */
    int16_t an;          /* MK_ANOMALY: dk_anomaly_id */
    char text[128];      /* the tooltip */
} plot_mark;

typedef struct {
    double a, b;         /* closed from a to b */
} plot_gap;

struct dk_plot {
    dk_plot_opts o;
    char title[256];
    int mode;            /* PLOT_* */
    int64_t t0;          /* time of x = 0 */
    double x_last;       /* the latest x an event gave (for those without one) */
    bool any;
    double xmin, xmax;
    uint32_t ymax;

    plot_pt *pts;
    unsigned n_pts, cap_pts;
    uint64_t pts_seen, pts_dropped;
    double bx0, bucket;  /* merge buckets: origin and width (0: none yet) */
    int keep;            /* points a bucket keeps: 4, 2 or 1 */
    unsigned line_img;   /* image of the last point, and its x */
    double line_x;

    plot_mark *mk;
    unsigned n_mk;
    uint64_t mk_left_out;
    unsigned mk_count[MK_KINDS];   /* marks of each kind seen */
    plot_mark *ex;       /* routine marks (data EXECUTEs, init packets
                            executed, images completed), thinned */
    unsigned n_ex, ex_stride;
    uint64_t ex_seen;

    plot_gap gaps[DK_PLOT_GAPS];
    unsigned n_gaps;
    uint64_t gaps_left_out;
    bool closed;
    double closed_x;

    unsigned cur_img, max_img;
    uint32_t cur_off;
    bool lost;           /* SELECT data reported 0 after progress: a run
                            from 0 is the image sent again */
    double img_x0[DK_SESSION_MAX_IMAGES];
    double create_x;     /* the last data CREATE, until the next data run */
    bool create_due;

    bool have_sum;
    dk_summary sum;
    char diag_id[64];
};

/* plot_svg.c */
int dk_plot_svg(const struct dk_plot *p, FILE *out);

#endif
