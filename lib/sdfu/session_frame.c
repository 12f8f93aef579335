/* session_frame.c - frames other than a host's WRITE: parsed, resynced, noted (§1, §2). */
#include "session_int.h"

#include <stdio.h>
#include <string.h>

#define RESYNC_MAX 64 /* noise bytes searched at the front of a frame */

/* Noise glued to the front of a frame: find the longest tail that parses as
 * exactly one message.  A WRITE tail is only believed when its length is that
 * of the previous write (any bytes parse as a WRITE).  Returns the bytes of
 * noise, with the message in *out; 0: no tail parses. */
static size_t resync(dk_session *s, const uint8_t *f, size_t len, bool whole_ok, dk_msg *out)
{
    size_t lim = len < RESYNC_MAX ? len : RESYNC_MAX;
    for (size_t p = 1; p < lim; p++) {
        dk_msg m;
        if (dk_msg_parse(f + p, len - p, &m) != DK_MSG_OK)
            continue;
        /* The whole frame parses (with extra bytes): only a tail with a
         * payload is more convincing than that. */
        if (whole_ok && len - p < 2)
            continue;
        if (!m.is_response && m.op == DK_OP_OBJECT_WRITE &&
            !(s->wr.run_on && s->wr.run.u.run.count &&
              (uint64_t)m.req.write.len * s->wr.run.u.run.count == s->wr.run.u.run.bytes))
            continue;
        if (m.is_response && !dk_result_name(m.result))
            continue;
        *out = m;
        return p;
    }
    return 0;
}

/* An anomaly of a frame that still yields a message: noted before the
 * message when it is a request, after it when it is a response (whose line
 * is the exchange, at the request's time, and comes first). */
typedef struct {
    dk_anomaly_id id;
    uint64_t start, end;
    uint8_t op;
    char text[80];
} frame_note;

/* Kept out of dk_session_frame (noinline under LTO too) so the hot path
 * stays a small function. */
__attribute__((noinline)) void sess_frame_parse(dk_session *s, const uint8_t *frame, size_t len,
                                                bool first, int64_t t_us, dk_dir dir,
                                                uint64_t start, uint64_t end)
{
    frame_note notes[3];
    int nn = 0;
    char b[DK_NAME_BUFSZ];
    dk_msg m;
    dk_msg_status st = dk_msg_parse(frame, len, &m);
    if (st == DK_MSG_UNKNOWN_OP || st == DK_MSG_OVERLONG ||
        (st == DK_MSG_TRUNCATED && first)) {
        dk_msg m2;
        size_t skip = resync(s, frame, len, st == DK_MSG_OVERLONG, &m2);
        if (skip) {
            frame_note *n = &notes[nn++];
            n->id = first ? DK_AN_SLIP_BEFORE_FIRST : DK_AN_SLIP_NOISE;
            n->start = start;
            n->end = start + skip;
            n->op = 0;
            snprintf(n->text, sizeof n->text, "%zu byte%s before a %s (first 0x%02x)", skip,
                     skip == 1 ? "" : "s", m2.is_response ? "response" : "request",
                     (unsigned)frame[0]);
            m = m2;
            st = DK_MSG_OK;
            start += skip;
        }
    }
    switch (st) {
    case DK_MSG_EMPTY:
        sess_note_op(s, DK_AN_SLIP_EMPTY_FRAME, t_us, dir, start, end, 0, "empty frame");
        return;
    case DK_MSG_UNKNOWN_OP:
        if (first) {
            sess_note_op(s, DK_AN_SLIP_BEFORE_FIRST, t_us, dir, start, end, 0,
                         "%zu bytes before the first frame end", len);
        } else if (m.is_response) {
            sess_note_op(s, DK_AN_MSG_UNKNOWN_OPCODE, t_us, dir, start, end, m.op,
                         "response to unknown opcode 0x%02x (%zu bytes)", (unsigned)m.op, len);
        } else {
            sess_note_op(s, DK_AN_MSG_UNKNOWN_OPCODE, t_us, dir, start, end, frame[0],
                         "unknown opcode 0x%02x (%zu bytes)", (unsigned)frame[0], len);
        }
        return;
    case DK_MSG_TRUNCATED:
        if (first) {
            sess_note_op(s, DK_AN_SLIP_BEFORE_FIRST, t_us, dir, start, end, 0,
                         "%zu bytes before the first frame end", len);
            return;
        }
        sess_note_op(s, DK_AN_MSG_TRUNCATED, t_us, dir, start, end, m.op,
                     "%s%s of %zu bytes is too short", m.is_response ? "response to " : "",
                     op_word(m.op, b), len);
        return;
    case DK_MSG_OVERLONG: {
        frame_note *n = &notes[nn++];
        n->id = DK_AN_MSG_OVERLONG;
        n->start = start;
        n->end = end;
        n->op = m.op;
        snprintf(n->text, sizeof n->text, "%s%s has %zu bytes more than defined",
                 m.is_response ? "response to " : "", op_word(m.op, b), m.extra);
        break;
    }
    default:
        break;
    }
    dk_dir mdir = m.is_response ? DK_DIR_TARGET : DK_DIR_HOST;
    if (dir != DK_DIR_UNKNOWN && dir != mdir) {
        frame_note *n = &notes[nn++];
        n->id = DK_AN_MSG_WRONG_DIRECTION;
        n->start = start;
        n->end = end;
        n->op = m.op;
        snprintf(n->text, sizeof n->text, "%s%s sent by the %s",
                 m.is_response ? "response to " : "request ", op_word(m.op, b),
                 dir == DK_DIR_HOST ? "host" : "target");
    }
    if (m.is_response)
        sess_process(s, &m, t_us, start, end);
    for (int i = 0; i < nn; i++)
        sess_note_op(s, notes[i].id, t_us, dir, notes[i].start, notes[i].end, notes[i].op, "%s",
                     notes[i].text);
    if (!m.is_response)
        sess_process(s, &m, t_us, start, end);
}
