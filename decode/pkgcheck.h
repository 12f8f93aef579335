/* pkgcheck.h - dfudecode --pkg: compare what the capture wrote with a DFU
 * package (every data write against the image's .bin at its offset, the init
 * packet against the .dat) and report the first differing offset. */
#ifndef DFUDECODE_PKGCHECK_H
#define DFUDECODE_PKGCHECK_H

#include <stdbool.h>

#include "dfukit/err.h"
#include "dfukit/session.h"
#include "print.h"

pkgcheck *pkgcheck_open(const char *path, dk_err *err);
void pkgcheck_free(pkgcheck *pc);

/* Called by the printer for every session event, before it is printed. */
void pkgcheck_event(pkgcheck *pc, printer *p, const dk_event *ev);

/* Closing report (after the summary). */
void pkgcheck_report(pkgcheck *pc, printer *p);

/* No byte differed. */
bool pkgcheck_ok(const pkgcheck *pc);

#endif
