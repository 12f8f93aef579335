/* decoder.h - dfudecode's core, whatever the bytes come from:
 *
 *   line bytes {t, dir, bytes, pos} --SLIP, one deframer per line--> frames
 *   frames, parsed messages --session tracker--> events --printer--> text | JSON Lines
 *
 * A source hands over what it has, at the level it has it:
 *   dd_decoder_chunk    a capture-file chunk (line bytes, lost data, control lines)
 *   dd_decoder_bytes    SLIP-framed line bytes, in chunks of any size
 *   dd_decoder_frame    one message without SLIP framing (a log that shows messages)
 *   dd_decoder_session  the tracker itself (dk_session_note, dk_session_msg)
 *   dd_decoder_record   a record of a text log (logread.h): messages, line
 *                       bytes, what the host tool says, lines not understood
 * and calls dd_decoder_finish once at the end (partial frames, the summary,
 * the package report).  A log source hands over its reader's statistics with
 * dd_decoder_log_done before dd_decoder_finish: the summary then says how far
 * the log was understood.
 *
 * The diagnosis is picked with facts (diag.h) gathered from the session's
 * events and the tool records; dd_decoder_scenario hands the same events to a
 * scenario builder (scenario.h).  Positions (pos, start, end) are byte offsets in the
 * input; a live source counts the bytes it has fed.
 *
 * Lines are written to the FILE as soon as they are complete (a folded run
 * of writes when its object ends); the FILE is not flushed: a live caller
 * flushes after each chunk.
 *
 * Two one-line inputs merged in protocol order (dfudecode --host --target)
 * cut their bytes into units with a dd_units each and hand the units over
 * one at a time with dd_decoder_unit.
 */
#ifndef DFUDECODE_DECODER_H
#define DFUDECODE_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/capfile.h"
#include "dfukit/diag.h"
#include "dfukit/logread.h"
#include "dfukit/scenario.h"
#include "dfukit/session.h"
#include "dfukit/slip.h"
#include "pkgcheck.h"

#define DD_FRAME_CAP 8192 /* decoded frame limit: USB writes carry 1024 bytes (§4) */

/* ---- SLIP units: line bytes -> frames and framing anomalies ---------- */

/* One unit of a line: a frame or a framing anomaly (ev.kind). */
typedef struct {
    dk_slip_event ev; /* ev.data is valid until the next dd_units call */
    dk_dir dir;
    int64_t t_us;     /* of the chunk the unit ended in; -1 unknown */
} dd_unit;

typedef struct dd_units dd_units;

dd_units *dd_units_new(void); /* NULL: out of memory */
void dd_units_free(dd_units *u);

/* The next chunk of line bytes: data[0] is at stream position pos, dir is
 * the line (DK_DIR_UNKNOWN: both lines merged, told apart per frame).  data
 * must stay valid until dd_units_next returns false. */
void dd_units_put(dd_units *u, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                  uint64_t pos);

/* The next unit of the chunk; false when the chunk is used up (a frame that
 * goes on in the next chunk is kept). */
bool dd_units_next(dd_units *u, dd_unit *out);

/* End of input: a partial frame of some line (DK_SLIP_UNTERMINATED), one
 * call per unit; false when none is left. */
bool dd_units_flush(dd_units *u, dd_unit *out);

/* ---- the decoder ----------------------------------------------------- */

typedef struct {
    bool json;     /* JSON Lines instead of the transcript */
    bool verbose;  /* every frame (no folding of writes) */
    bool split;    /* two one-line inputs: text positions say the file (@h12, @t7) */
    pkgcheck *pkg; /* --pkg check, or NULL (not owned) */
} dd_opts;

typedef struct dd_decoder dd_decoder;

dd_decoder *dd_decoder_new(FILE *out, const dd_opts *o); /* NULL: out of memory */
void dd_decoder_free(dd_decoder *d);

void dd_decoder_chunk(dd_decoder *d, const dk_chunk *c);
void dd_decoder_bytes(dd_decoder *d, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                      uint64_t pos);
void dd_decoder_unit(dd_decoder *d, const dd_unit *u);
void dd_decoder_frame(dd_decoder *d, int64_t t_us, dk_dir dir, const uint8_t *frame, size_t len,
                      uint64_t start, uint64_t end);
dk_session *dd_decoder_session(dd_decoder *d);

/* One record of a log reader (logread.h), in log order:
 *   MSG      an unframed message: enters the session at the message layer
 *   RAW      line bytes: enter the SLIP layer (the deframer of rec->dir)
 *   TOOL     what the host tool says: a transcript line ("## ..."; DEBUG
 *            echoes of messages only with -v) and a fact for the diagnosis
 *   UNKNOWN, LONG, CUT   a note ("?? ..."; the first DD_LOG_NOTES of them,
 *            and CUT always); an UNKNOWN shell line naming the host's options
 *            (flow control, baud, PRN) is a fact
 * Positions are the byte offsets of the log lines. */
#define DD_LOG_NOTES 20
void dd_decoder_record(dd_decoder *d, const dk_logrec *rec);

/* The log reader's statistics, for the summary (before dd_decoder_finish). */
void dd_decoder_log_done(dd_decoder *d, const dk_logrd_stats *st);

/* Feed every session event to b too (NULL: stop); b stays the caller's. */
void dd_decoder_scenario(dd_decoder *d, dk_scen_builder *b);

/* The facts gathered so far. */
const dk_diag_facts *dd_decoder_facts(const dd_decoder *d);

/* The diagnosis (after dd_decoder_finish; NULL before). */
const dk_diag_row *dd_decoder_diag(const dd_decoder *d);

/* Partial frames, end of the session (summary), package report.  Once. */
void dd_decoder_finish(dd_decoder *d);

/* The session summary (final after dd_decoder_finish). */
const dk_summary *dd_decoder_summary(const dd_decoder *d);

#endif
