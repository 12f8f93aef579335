/* pipeline.h - the decoding pipeline, whatever the bytes come from:
 *
 *   line bytes {t, dir, bytes, pos} --SLIP, one deframer per line--> frames
 *     --protocol sniffer (tracker.h)--> the protocol's tracker --> events
 *     --> facts (diag.h), scenario builder (scenario.h), package check
 *         (pkgcheck.h) --> printer (print.h): transcript | JSON Lines
 *   end of input --> the tracker's summary + facts --> the settled outcome
 *       and the diagnosis from it, once (diag.h dk_diag_settle)
 *
 * A source hands over what it has, at the level it has it:
 *   dk_pipe_chunk    a capture-file chunk (line bytes, lost data, control lines)
 *   dk_pipe_bytes    SLIP-framed line bytes, in chunks of any size
 *   dk_pipe_unit     one unit cut by a dk_units of its own (two merged files)
 *   dk_pipe_message  one Secure DFU message without SLIP framing (a log)
 *   dk_pipe_record   a record of a text log (logread.h): messages, line
 *                    bytes, what the host tool says, lines not understood
 *   dk_pipe_note     an anomaly the source found
 * and calls dk_pipe_finish once at the end (partial frames, the summary with
 * its diagnosis, the package report).  A log source hands over its reader's
 * statistics with dk_pipe_log_done before dk_pipe_finish: the summary then
 * says how far the log was understood.  Positions (pos, start, end) are byte
 * offsets in the input; a live source counts the bytes it has fed.
 *
 * Protocols.  Each registered protocol has a tracker (tracker.h); Secure DFU
 * (dk_sdfu_tracker) and legacy HCI DFU (dk_legacy_tracker, legacy.h) are
 * registered by default; dk_pipe_set_tracker replaces or removes the second.
 * With one protocol registered, every stream goes to its tracker at once.
 * With more, each line's frames are sniffed (dk_proto_sniff): the first frame
 * of any line that names a registered protocol decides the session's
 * protocol, and that tracker gets every line.  What comes before (framing
 * anomalies, frames that name no protocol, notes, port changes) is held, in
 * order, and handed to the tracker first; a session still undecided after
 * DK_PIPE_HOLD events, or at the end, is Secure DFU.  A protocol the sniffer
 * names that has no tracker registered is read as Secure DFU.  One session is
 * one protocol: a line that later looks like another protocol still goes to
 * the session's tracker, which reports what it cannot read as anomalies.
 *
 * Events go, in this order, to: the facts, the taps (dk_pipe_tap: the
 * scenario builder, a test), the package check, the printer.  The package
 * check's anomalies go to the printer only; the summary's anomaly counts are
 * the tracker's.  The SUMMARY event reaches every consumer with its diag
 * filled; nothing changes it after.
 *
 * Lines are written to the FILE as soon as they are complete (a folded run of
 * writes when its object ends); the FILE is not flushed: a live caller
 * flushes after each chunk.  No other I/O: the pipeline is pure.
 */
#ifndef DFUKIT_PIPELINE_H
#define DFUKIT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/capfile.h"
#include "dfukit/diag.h"
#include "dfukit/event.h"
#include "dfukit/logread.h"
#include "dfukit/pkg.h"
#include "dfukit/slip.h"
#include "dfukit/tracker.h"

#define DK_FRAME_CAP 8192 /* decoded frame limit: USB writes carry 1024 bytes (§4) */

/* ---- SLIP units: line bytes -> frames and framing anomalies ---------- */

/* One unit of a line: a frame or a framing anomaly (ev.kind). */
typedef struct {
    dk_slip_event ev; /* ev.data is valid until the next dk_units call */
    dk_dir dir;
    int64_t t_us;     /* of the chunk the unit ended in; -1 unknown */
} dk_unit;

typedef struct dk_units dk_units;

dk_units *dk_units_new(void); /* NULL: out of memory */
void dk_units_free(dk_units *u);

/* The next chunk of line bytes: data[0] is at stream position pos, dir is
 * the line (DK_DIR_UNKNOWN: both lines merged, told apart per frame).  data
 * must stay valid until dk_units_next returns false. */
void dk_units_put(dk_units *u, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                  uint64_t pos);

/* The next unit of the chunk; false when the chunk is used up (a frame that
 * goes on in the next chunk is kept). */
bool dk_units_next(dk_units *u, dk_unit *out);

/* End of input: a partial frame of some line (DK_SLIP_UNTERMINATED), one
 * call per unit; false when none is left. */
bool dk_units_flush(dk_units *u, dk_unit *out);

/* ---- the pipeline ---------------------------------------------------- */

#define DK_PIPE_HOLD 32   /* events held at most while the protocol is unknown */
#define DK_PIPE_NOTES 20  /* log lines not understood that are printed */

typedef struct {
    bool json;            /* JSON Lines instead of the transcript */
    bool verbose;         /* every frame (no folding of writes) */
    bool split;           /* two one-line inputs: text positions say the file */
    const dk_pkg *pkg;    /* --pkg: check every byte against it, or NULL (not
                             owned; must outlive the pipeline) */
    const char *pkg_name; /* the package's name in the report */
} dk_pipe_opts;

typedef struct dk_pipe dk_pipe;

/* out: where the printer writes; NULL prints nothing.  NULL: out of memory,
 * or an empty package. */
dk_pipe *dk_pipe_new(FILE *out, const dk_pipe_opts *o);
void dk_pipe_free(dk_pipe *p);

/* Register (or, with NULL, remove) the tracker of a protocol.  Before any
 * input; DK_PROTO_SDFU cannot be removed. */
void dk_pipe_set_tracker(dk_pipe *p, dk_proto proto, const dk_tracker_ops *ops);

/* One more consumer of every tracker event (after the facts, before the
 * package check and the printer); cb NULL: none.  ctx stays the caller's. */
void dk_pipe_tap(dk_pipe *p, dk_event_cb cb, void *ctx);

void dk_pipe_chunk(dk_pipe *p, const dk_chunk *c);
void dk_pipe_bytes(dk_pipe *p, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                   uint64_t pos);
void dk_pipe_unit(dk_pipe *p, const dk_unit *u);
void dk_pipe_message(dk_pipe *p, int64_t t_us, dk_dir dir, const uint8_t *msg, size_t len,
                     uint64_t start, uint64_t end);
void dk_pipe_note(dk_pipe *p, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                  uint64_t end, const char *text);

/* One record of a log reader (logread.h), in log order:
 *   MSG      an unframed message: dk_pipe_message
 *   RAW      line bytes: dk_pipe_bytes (the deframer of rec->dir)
 *   TOOL     what the host tool says: a fact for the diagnosis and a TOOL
 *            event ("## ..."; DEBUG echoes of messages only with verbose)
 *   UNKNOWN, LONG, CUT   a LOG event ("?? ..."; the first DK_PIPE_NOTES of
 *            them, and CUT always); an UNKNOWN shell line naming the host's
 *            options (flow control, baud, PRN) is a fact
 * Positions are the byte offsets of the log lines. */
void dk_pipe_record(dk_pipe *p, const dk_logrec *rec);

/* The log reader's statistics, for the summary (before dk_pipe_finish). */
void dk_pipe_log_done(dk_pipe *p, const dk_logrd_stats *st);

/* True while the target owes an answer (a request waits, or a PRN is due);
 * while the protocol is unknown, while anything is held. */
bool dk_pipe_awaiting(const dk_pipe *p);

/* Partial frames, the end of the session (SUMMARY with the diagnosis), the
 * package report (PACKAGE).  Once; later calls do nothing. */
void dk_pipe_finish(dk_pipe *p);

/* The session's protocol: UNKNOWN until decided. */
dk_proto dk_pipe_proto(const dk_pipe *p);

/* The summary (final after dk_pipe_finish, with diag; before it, the
 * tracker's so far, without). */
const dk_summary *dk_pipe_summary(const dk_pipe *p);

/* The facts gathered so far (diag.h). */
const dk_diag_facts *dk_pipe_facts(const dk_pipe *p);

/* The diagnosis: NULL before dk_pipe_finish. */
const dk_diag_row *dk_pipe_diag(const dk_pipe *p);

/* With a package: no byte differed (true without one). */
bool dk_pipe_pkg_ok(const dk_pipe *p);

#endif
