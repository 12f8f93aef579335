/* print.h - the printers: events (event.h) -> annotated transcript or JSON
 * Lines, for every protocol's events.
 *
 * Text: one line per request/response pair, writes folded per object (every
 * frame with verbose), anomalies "!! SEVERITY ID: TEXT [bytes A..B]", a
 * closing summary with the diagnosis, the package report.  JSON Lines: one
 * object per event.  Both are documented field by field in decode/README.md.
 *
 * A printer is an event consumer (dk_printer_event is a dk_event_cb).  It
 * writes to the FILE it is given, never flushes it and does no other I/O;
 * text lines are built by hand and written with one fwrite each.  The first
 * column is the time since the first timed event, or "@" and the byte
 * position of the event when the input has no time ("@h"/"@t" and the
 * position in the host or target file for two one-line inputs).
 */
#ifndef DFUKIT_PRINT_H
#define DFUKIT_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/diag.h"
#include "dfukit/event.h"
#include "dfukit/logread.h"

typedef struct {
    bool json;    /* JSON Lines instead of the transcript */
    bool verbose; /* every frame: each WRITE and PRN on its own line (no WRITES
                     runs), a log's DEBUG lines that repeat the messages */
    bool split;   /* two one-line inputs: text positions say the file (@h12, @t7) */
} dk_print_opts;

typedef struct dk_printer dk_printer;

dk_printer *dk_printer_new(FILE *out, const dk_print_opts *o); /* NULL: out of memory */
void dk_printer_free(dk_printer *p);

/* Write to another FILE from now on (the time origin is kept). */
void dk_printer_out(dk_printer *p, FILE *out);

/* What the summary says besides the session's own summary: a host log's
 * exception and Programmer failure (facts, diag.h), and how far a log was
 * understood (st).  NULL: nothing.  Both must outlive the SUMMARY event. */
void dk_printer_facts(dk_printer *p, const dk_diag_facts *f);
void dk_printer_log(dk_printer *p, const dk_logrd_stats *st);

/* A log holds another run of the host from line `line` on (its command
 * line, "Upgrading target", the app's start): "== run N from line L: TEXT"
 * (JSON: {"event": "run", ...}). */
void dk_printer_run(dk_printer *p, unsigned run, uint64_t line, uint64_t pos, const char *text);

/* Print one event (a dk_event_cb; ctx is the dk_printer). */
void dk_printer_event(void *ctx, const dk_event *ev);

#endif
