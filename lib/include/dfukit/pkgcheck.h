/* pkgcheck.h - compare what a session wrote with a DFU package: an event
 * consumer that raises pkg.* anomalies as data and ends with a report.
 *
 * Each session image is matched to a package image: by an identical .dat,
 * else by firmware type (from the decoded init packet), else by order.  Every
 * data WRITE is compared with the .bin at its offset and the init packet
 * (INIT event) with the .dat; the first differing byte of each image is an
 * anomaly (pkg.data_mismatch, pkg.init_mismatch; severity from event.h's
 * table) with the span of the write or command object it was found in.  The
 * session must emit WRITE events (dk_track_opts.write_events).
 *
 * The package is loaded by the caller (dk_pkg_open, pkg.h, lib/files) and
 * only read here; it must outlive the check.  Pure: no I/O.
 */
#ifndef DFUKIT_PKGCHECK_H
#define DFUKIT_PKGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/event.h"
#include "dfukit/pkg.h"

#define DK_PKGCHECK_IMAGES 64 /* session images tracked (index modulo this) */

/* One session image against its package image. */
typedef struct {
    unsigned image;        /* session image, from 1 */
    const char *bin, *dat; /* the package's member names */
    bool init_seen;        /* the init packet was in the session */
    bool init_diff;        /* ... and differs from the .dat from byte init_first */
    size_t init_first;
    uint64_t checked;      /* data bytes compared */
    bool diff;             /* a data byte differs; the first at offset first */
    uint32_t first;
} dk_pkg_image_report;

/* The PACKAGE event's payload (event.h). */
typedef struct dk_pkg_report {
    const char *file;      /* the name the caller gave the package */
    bool ok;               /* no byte differed */
    unsigned n;
    dk_pkg_image_report img[DK_PKGCHECK_IMAGES];
} dk_pkg_report;

typedef struct dk_pkgcheck dk_pkgcheck;

/* pkg must hold at least one image; name is shown in the report (copied).
 * NULL: out of memory, or an empty package. */
dk_pkgcheck *dk_pkgcheck_new(const dk_pkg *pkg, const char *name);
void dk_pkgcheck_free(dk_pkgcheck *c);

/* One session event.  A difference found in it goes to emit(ctx, anomaly
 * event) at once: stamped with the event's time, span and image, from the
 * host's line. */
void dk_pkgcheck_event(dk_pkgcheck *c, const dk_event *ev, dk_event_cb emit, void *ctx);

/* No byte differed so far. */
bool dk_pkgcheck_ok(const dk_pkgcheck *c);

/* The report so far (images in session order); valid until the next call
 * on c. */
const dk_pkg_report *dk_pkgcheck_report(dk_pkgcheck *c);

#endif
