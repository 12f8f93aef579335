/* print.h - dfudecode's printers: session events -> transcript or JSON Lines.
 *
 * Text: one line per request/response pair, writes folded per object (every
 * frame with verbose), anomalies marked "!!", a closing summary.
 * JSON Lines: one object per event (fields in decode/README.md).
 */
#ifndef DFUDECODE_PRINT_H
#define DFUDECODE_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/diag.h"
#include "dfukit/logread.h"
#include "dfukit/session.h"

typedef struct pkgcheck pkgcheck;

typedef struct {
    FILE *f;
    bool json;
    bool verbose;
    bool split;      /* two one-line inputs: positions say the file (@h, @t) */
    int64_t t0;      /* time of the first event, -1 until seen */
    pkgcheck *pkg;   /* NULL without --pkg */
    const dk_diag_facts *facts; /* host-log facts for the summary, or NULL */
    const dk_logrd_stats *log;  /* a log input: how far it was understood, or NULL */
    const char *log_tool;       /* the log's format name, for tool lines */
} printer;

void printer_init(printer *p, FILE *f, bool json, bool verbose);

/* dk_session_cb: print one event (and hand writes/init to the package check). */
void printer_event(void *ctx, const dk_event *ev);

/* A finding outside the session (package check): printed like an anomaly. */
void printer_extra(printer *p, const char *id, dk_severity sev, int64_t t, uint64_t start,
                   uint64_t end, const char *text);

/* A host tool's record (logread.h): one transcript line ("## ..."), or a
 * {"event":"tool"} object.  DEBUG echoes of messages only when verbose. */
void printer_tool(printer *p, int64_t t, uint64_t pos, uint64_t line_no, const dk_tool_ev *tv);

/* A log line not understood, too long, or the log cut off: "?? ..." or a
 * {"event":"log"} object. */
void printer_logline(printer *p, const dk_logrec *rec);

/* A plain summary line after the session summary (text only; JSON: a
 * {"event":"package", ...} object is printed by the caller). */
void printer_note(printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
