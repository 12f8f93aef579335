/* tracker.h - one session tracker per DFU protocol behind one interface, and
 * the sniffer that tells the protocols apart from a line's frames.
 *
 * Both serial DFU protocols frame with the same SLIP escapes (C0, DB DC,
 * DB DD), so the SLIP layer is shared and the protocol shows in the frames:
 *
 *   Secure DFU (SDK 12-17, protocol.md §1-§2)
 *     frame  escaped(op u8 + payload) C0; a response is 60 op result ...
 *   legacy HCI DFU (SDK <= 11, adafruit-nrfutil, protocol.md §9)
 *     frame  C0 escaped(hdr[4] + payload + crc16 LE[2]) C0
 *     hdr    [0] seq (bits 0-2) | ack (3-5) | integrity (6) | reliable (7)
 *            [1] type (low nibble) | len & 0xF << 4   [2] len >> 4
 *            [3] two's complement of the sum of [0..2]
 *     crc16  CRC-16/CCITT-FALSE of hdr + payload, when the integrity bit is set
 *
 * A tracker takes a line's SLIP frames and framing anomalies, the
 * messages a log shows unframed, notes from the capture and the port's
 * state, and emits dk_events (event.h) to one callback: exchanges, writes and
 * runs, images, anomalies with dotted ids, and SUMMARY last, from finish.  It
 * does not pick the diagnosis: the pipeline does that from the summary and
 * the facts (diag.h).  The Secure DFU tracker is dk_session (session.h),
 * behind dk_sdfu_tracker.  A tracker for another protocol provides a
 * dk_tracker_ops for its dk_proto; the pipeline (pipeline.h) sends a stream
 * to it once dk_proto_sniff names that protocol.
 */
#ifndef DFUKIT_TRACKER_H
#define DFUKIT_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/event.h"
#include "dfukit/msg.h"
#include "dfukit/slip.h"

typedef enum {
    DK_PROTO_UNKNOWN = 0, /* nothing decisive seen yet */
    DK_PROTO_SDFU,        /* Secure DFU over serial (SLIP) */
    DK_PROTO_HCI,         /* legacy HCI DFU (SDK <= 11) */
    DK_PROTO_COUNT
} dk_proto;

const char *dk_proto_name(dk_proto p); /* "unknown", "sdfu", "hci" */

/* What one decoded SLIP frame of line dir (DK_DIR_UNKNOWN: both lines
 * merged) says about the protocol:
 *   HCI   the 4-byte header's checksum holds, its length is the frame's
 *         (and the CRC16 matches when the integrity bit is set), and it is
 *         a reliable packet, or, on the target's line, an ACK (type 0, no
 *         payload);
 *   SDFU  otherwise, a message that parses (dk_msg_parse OK or OVERLONG)
 *         and goes the way its line does (a request from the host, a
 *         response from the target);
 *   UNKNOWN  neither (noise, a garbled frame). */
dk_proto dk_proto_sniff(const uint8_t *frame, size_t len, dk_dir dir);

/* How a tracker is run (the pipeline's options). */
typedef struct {
    bool write_crc;    /* WRITE events carry the running CRC (costs time) */
    bool write_events; /* a WRITE event per write (only -v and --pkg use them) */
} dk_track_opts;

/* A protocol's tracker.  t is what create returned.  Every call but create
 * and destroy happens between them, in stream order; positions (start, end,
 * pos) are byte offsets in the input. */
typedef struct dk_tracker_ops {
    dk_proto proto;
    const char *name;
    /* NULL: out of memory.  Events go to cb(ctx, ev) as they are found. */
    void *(*create)(const dk_track_opts *o, dk_event_cb cb, void *ctx);
    void (*destroy)(void *t);
    /* A decoded SLIP frame (ev->kind DK_SLIP_FRAME: data, len, first, start,
     * end) of line dir (DK_DIR_UNKNOWN: both lines merged).  The hot path. */
    void (*frame)(void *t, const dk_slip_event *ev, int64_t t_us, dk_dir dir);
    /* A framing anomaly of line dir (a SLIP event other than a frame). */
    void (*slip)(void *t, const dk_slip_event *ev, int64_t t_us, dk_dir dir);
    /* A message a log shows without its framing. */
    void (*message)(void *t, const uint8_t *msg, size_t len, int64_t t_us, dk_dir dir,
                    uint64_t start, uint64_t end);
    /* An anomaly the source found (a capture tool's lost data). */
    void (*note)(void *t, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                 uint64_t end, const char *text);
    /* The host's side of the port: open or closed (a capture's DTR). */
    void (*port)(void *t, int64_t t_us, bool open, uint64_t pos);
    /* The host's log says the object traffic so far was of type obj
     * (dk_session_host_obj).  NULL: the protocol has no use for it. */
    void (*host_obj)(void *t, uint8_t obj, int64_t t_us, uint64_t pos);
    /* The target owes an answer (merging two one-line captures). */
    bool (*awaiting)(const void *t);
    /* End of input: what is pending, then the SUMMARY event. */
    void (*finish)(void *t);
    /* The summary so far; final after finish.  Its diag is NULL. */
    const dk_summary *(*summary)(const void *t);
} dk_tracker_ops;

/* Secure DFU: dk_session (session.h). */
extern const dk_tracker_ops dk_sdfu_tracker;

#endif
