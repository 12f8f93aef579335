/* session.h - the DFU session tracker: messages in, typed events out.
 *
 * Input, in stream order: decoded SLIP frames or parsed dk_msg, each with its
 * time (microseconds, -1 when the capture has none), direction and stream
 * position (byte span in the input).  Framing anomalies found by the caller
 * (SLIP deframer, capture reader) come in through dk_session_slip() or
 * dk_session_note().
 *
 *   request   host -> target   op u8, payload              (msg.h)
 *   response  target -> host   0x60, op, result, payload
 *
 * What it tracks (protocol.md §2-§6):
 *   - request/response pairing and latency.  The target answers in request
 *     order (§6.1), so the answers owed (requests, and PRN notifications due
 *     after WRITEs) are kept oldest first, up to 64: a response is the oldest
 *     owed answer it can be (same opcode; a PING echo by its id; a
 *     CRC_GET-shaped response is a PRN notification or a CRC_GET's answer,
 *     the first whose offset it reports, else the oldest).  Everything owed
 *     before it will never come: dfu.no_response, once per request and once
 *     per batch of notifications.  An answer that comes after the host sent
 *     a later request is late (dfu.late_response);
 *   - the selected object type (only SELECT and CREATE change it, §6.1).  A
 *     capture that starts inside an object shows its type only later: until
 *     evidence settles it (§6.10) its bytes are of an unknown object
 *     (DK_OBJ_UNSHOWN, dk_summary.bytes_unknown) and no init packet or
 *     data check is made on them;
 *   - the command object: size, offset, running CRC and its first 512 bytes,
 *     decoded with dk_initpkt_decode at EXECUTE (INIT event);
 *   - the data object: created size, start, running offset and CRC of the
 *     whole image (§4), the last executed boundary (where a data CREATE rolls
 *     back to, §6.4);
 *   - PRN: every Nth WRITE (counter reset by CREATE, RECEIPT_NOTIF_SET and each
 *     notification, §2.3) is answered by a CRC_GET-shaped response, checked
 *     against the offset/CRC at that write.  A reset (a SELECT reporting less
 *     than was sent, ABORT, the end of an image) sets the target's PRN to 0
 *     until the next RECEIPT_NOTIF_SET (§6.9; one sent after the last WRITE,
 *     before the SELECT that shows the reset, came after it and holds); a
 *     notification that comes while PRN is taken to be 0 is taken as one
 *     (the target had not reset).  A CRC_GET-shaped response whose offset is
 *     that of both an owed notification and the CRC_GET sent right after
 *     that write is the notification, unless earlier ones never came;
 *   - every offset/CRC the target reports (SELECT, CRC_GET, PRN) is checked;
 *   - images: every command CREATE starts a new image;
 *   - resumes: a SELECT reporting offset > 0 is resolved by the host's next
 *     step into continue / object restart / restart (RESUME event).
 * Anomalies are data (ANOMALY event): a stable dotted id, a severity, a text
 * and the byte span they cover.  Decoding always continues.
 *
 * Memory is fixed: the tracker keeps no per-message allocation; the event
 * pointers it hands out are valid only during the callback.
 */
#ifndef DFUKIT_SESSION_H
#define DFUKIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/event.h" /* the events and anomalies it emits */
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/slip.h"

/* The tracker's events go to a dk_event_cb (event.h). */
typedef dk_event_cb dk_session_cb;

typedef struct dk_session dk_session;

dk_session *dk_session_new(dk_session_cb cb, void *ctx);
void dk_session_free(dk_session *s);

/* A decoded SLIP frame.  dir is the line it came from, or DK_DIR_UNKNOWN
 * (then a frame starting with 0x60 is a response).  first: no END was seen
 * before it (the capture may have started inside it).  A frame that does not
 * parse is searched for a message at its tail (noise glued to the front of a
 * frame); what cannot be explained becomes an msg.* anomaly. */
void dk_session_frame(dk_session *s, const uint8_t *frame, size_t len, bool first,
                      int64_t t_us, dk_dir dir, uint64_t start, uint64_t end);

/* A SLIP deframer event: frames go to dk_session_frame, the rest become
 * slip.* anomalies. */
void dk_session_slip(dk_session *s, const dk_slip_event *ev, int64_t t_us, dk_dir dir);

/* An already parsed message (status OK or OVERLONG; m->raw may be NULL). */
void dk_session_msg(dk_session *s, const dk_msg *m, int64_t t_us, dk_dir dir, uint64_t start,
                    uint64_t end);

/* An anomaly found outside the tracker (capture reader, deframer). */
void dk_session_note(dk_session *s, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                     uint64_t end, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The host's side of the port as a capture shows it (e.g. DTR of an RTAC
 * serial pcap): open or closed at time t, pos the position in the input.
 * The first call gives the state at the start; each later change is a PORT
 * event, and the gap between the messages before and after a closed port is
 * not counted as transfer time (dk_summary.closed_s). */
void dk_session_port(dk_session *s, int64_t t_us, bool open, uint64_t pos);

/* WRITE events carry the running CRC after each write (w.crc_known).  Off by
 * default: the data CRC is then computed in large blocks, which is several
 * times faster, and w.crc_known is false; runs, PRN and every check still get
 * exact CRCs. */
void dk_session_write_crc(dk_session *s, bool on);

/* Emit a WRITE event per OBJECT_WRITE (default on).  Off, writes still count
 * and fold into WRITES runs; a consumer that needs neither the bytes nor
 * per-write detail saves a callback per frame. */
void dk_session_write_events(dk_session *s, bool on);

/* True while the target owes an answer: a request waits, or a PRN
 * notification is due.  Used to merge two one-line captures. */
bool dk_session_awaiting(const dk_session *s);

/* The host's log says the object traffic so far was of type obj (nrfutil's
 * "Sending firmware file...": the init packet; "Image sent in": the
 * firmware; protocol.md §5.2).  Settles the type of an object the capture
 * started inside (§6.10); otherwise nothing.  pos: where the log says it. */
void dk_session_host_obj(dk_session *s, uint8_t obj, int64_t t_us, uint64_t pos);

/* End of input: flush the write run, flag requests never answered, settle the
 * outcome and emit the SUMMARY event (its diag is left NULL: the diagnosis
 * needs facts the tracker does not see; the pipeline picks it, pipeline.h). */
void dk_session_finish(dk_session *s);

/* The summary so far (final after dk_session_finish). */
const dk_summary *dk_session_summary(const dk_session *s);

#endif
