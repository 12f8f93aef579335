/* session_init.c - the command object, decoded as an init packet at EXECUTE (§4). */
#include "session_int.h"

#include <string.h>

#include "dfukit/crc.h"

uint32_t sess_write_cmd(dk_session *s, const uint8_t *data, size_t len, int64_t t, uint64_t start,
                        uint64_t end)
{
    sess_ensure_image(s, t, start, end);
    s->img.active = true;
    if (s->cmd.off == 0)
        s->cmd.pos0 = start;
    s->cmd.pos1 = end;
    uint32_t offset = s->cmd.off;
    if (s->cmd.known) {
        if (len <= CMD_MAX - s->cmd.off && s->cmd.off <= CMD_MAX) {
            if (len)
                memcpy(s->cmd.buf + s->cmd.off, data, len);
        } else {
            s->cmd.known = false;
        }
    }
    s->cmd.crc = dk_crc32(s->cmd.crc, data, len);
    s->cmd.off += (uint32_t)len;
    s->sum.bytes_cmd += len;
    if (s->cmd.created && s->cmd.off > s->cmd.size && !s->cmd.beyond_flagged) {
        s->cmd.beyond_flagged = true;
        sess_note_op(s, DK_AN_DFU_WRITE_BEYOND_OBJECT, t, DK_DIR_HOST, start, end,
                     DK_OP_OBJECT_WRITE,
                     "command write up to offset %u, but the command object has %u bytes",
                     (unsigned)s->cmd.off, (unsigned)s->cmd.size);
    }
    return offset;
}

void sess_init_emit_due(dk_session *s)
{
    if (!s->init.ev_due)
        return;
    s->init.ev_due = false;
    s->init.ev.u.init.pkt = s->init.ev.u.init.ok ? &s->init.pkt : NULL;
    s->init.ev.u.init.bytes = s->cmd.buf;
    sess_emit(s, &s->init.ev);
    if (!s->init.ev.u.init.ok && s->init.ev.u.init.len > 0) {
        const dk_err *e = &s->init.ev.u.init.err;
        sess_note_op(s, DK_AN_INIT_MALFORMED, s->init.ev.t_us, DK_DIR_HOST, s->cmd.pos0,
                     s->cmd.pos1, DK_OP_OBJECT_EXECUTE, "init packet byte %llu: %s",
                     (unsigned long long)(e->has_offset ? e->offset : 0), e->msg);
    }
}

void sess_init_execute(dk_session *s, uint8_t op, int64_t t, uint64_t start, uint64_t end)
{
    sess_ensure_image(s, t, start, end);
    if (s->cmd.created && s->cmd.off < s->cmd.size)
        sess_note_op(s, DK_AN_DFU_EXECUTE_INCOMPLETE, t, DK_DIR_HOST, start, end, op,
                     "command EXECUTE with %u of %u bytes", (unsigned)s->cmd.off,
                     (unsigned)s->cmd.size);
    dk_event *ie = &s->init.ev;
    memset(ie, 0, sizeof *ie);
    ie->kind = DK_EV_INIT;
    ie->t_us = t;
    ie->start = s->cmd.pos0;
    ie->end = s->cmd.pos1;
    ie->dir = DK_DIR_HOST;
    dk_init_ev *iv = &ie->u.init;
    iv->len = s->cmd.known ? s->cmd.off : 0;
    iv->crc = s->cmd.crc;
    if (s->cmd.known && s->cmd.off > 0) {
        iv->ok = dk_initpkt_decode(s->cmd.buf, s->cmd.off, &s->init.pkt, &iv->err) == DK_OK;
        if (iv->ok) {
            s->img.size = dk_initpkt_image_size(&s->init.pkt);
            if (s->img.sum && s->init.pkt.has_init) {
                s->img.sum->has_type = s->init.pkt.init.has_type;
                s->img.sum->fw_type = s->init.pkt.init.type;
                s->img.sum->size = s->img.size;
            }
        }
        s->init.ev_due = true;
    } else if (s->cmd.off > 0 || !s->cmd.grounded) {
        sess_note_op(s, DK_AN_INIT_INCOMPLETE, t, DK_DIR_HOST, start, end, op,
                     "the init packet's bytes are not all in the capture (%u known)",
                     (unsigned)(s->cmd.known ? s->cmd.off : 0));
    }
}

/* The same init packet again after an image that did not complete: the
 * host restarted the update (counted once per image). */
void sess_init_executed(dk_session *s)
{
    s->init.state = INIT_VALID;
    if (s->img.sum)
        s->img.sum->init_ok = true;
    if (!s->img.restart_counted && s->img.prev_cmd_len && !s->img.prev_done && s->cmd.known &&
        s->img.prev_cmd_len == s->cmd.off && s->img.prev_cmd_crc == s->cmd.crc) {
        s->sum.restarts++;
        s->img.restart_counted = true;
        if (s->img.sum)
            s->img.sum->restart = true;
    }
}
