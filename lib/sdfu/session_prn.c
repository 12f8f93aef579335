/* session_prn.c - packet receipt notifications: due, and checked against their write (§2.3). */
#include "session_int.h"

#include <stdio.h>
#include <string.h>

/* The target reset (power cut, ABORT, the end of an image): its PRN target
 * is 0 again (RAM) until the host sets it (§2.3, §6.9).  seen_late: the
 * reset shows only now (a SELECT): a RECEIPT_NOTIF_SET sent after the last
 * WRITE came after it (the host sets PRN when it reconnects) and holds. */
void sess_target_reset(dk_session *s, bool seen_late)
{
    if (seen_late && s->prn.set_at == s->sum.writes && s->sum.writes) {
        s->prn.count = 0;
        return;
    }
    if (s->prn.every) {
        s->prn.set = s->prn.every;
        s->prn.every = 0;
        s->prn.reset = true;
    }
    s->prn.count = 0;
}

void sess_prn_set(dk_session *s, uint16_t n)
{
    s->prn.every = s->prn.set = n;
    s->prn.set_at = s->sum.writes;
    s->prn.reset = false;
    s->prn.count = 0;
}

void sess_prn_count(dk_session *s, uint8_t obj, uint32_t off_end, uint32_t crc, bool crc_known,
                    int64_t t, uint64_t start, uint64_t end)
{
    if (!s->prn.every || ++s->prn.count < s->prn.every)
        return;
    s->prn.count = 0;
    pending *q = sess_out_push(s, true);
    q->on = true;
    q->prn = true; /* (the request fields are not used) */
    q->obj = obj;
    q->exp_off = off_end;
    q->exp_crc = crc;
    q->crc_known = crc_known;
    q->t = t;
    q->start = start;
    q->end = end;
}

void sess_on_prn(dk_session *s, const pending *q, const dk_msg *m, int64_t t, uint64_t start,
                 uint64_t end)
{
    dk_event ev;
    sess_event_head(&ev, DK_EV_PRN, t, start, end, DK_DIR_TARGET);
    dk_prn *n = &ev.u.prn;
    n->obj_type = q->obj;
    n->offset = m->rsp.crc.offset;
    n->crc = m->rsp.crc.crc;
    n->exp_offset = q->exp_off;
    n->exp_crc = q->exp_crc;
    n->result = m->result;
    report r = { .check = DK_CHECK_NONE, .an = DK_AN_COUNT };
    if (m->result != DK_RES_SUCCESS) {
        n->check = DK_CHECK_NONE;
    } else if (!q->crc_known) {
        n->check = DK_CHECK_ADOPTED;
    } else if (n->offset != q->exp_off) {
        n->check = DK_CHECK_OFFSET_BAD;
        r.an = DK_AN_DFU_OFFSET_MISMATCH;
        snprintf(r.text, sizeof r.text,
                 "PRN reports %s offset %u, but %u bytes had been sent at that write",
                 obj_word(q->obj), (unsigned)n->offset, (unsigned)q->exp_off);
    } else if (n->crc != q->exp_crc) {
        n->check = DK_CHECK_CRC_BAD;
        r.an = DK_AN_DFU_CRC_MISMATCH;
        snprintf(r.text, sizeof r.text,
                 "PRN reports %s crc=0x%08x at offset %u, the bytes sent give 0x%08x",
                 obj_word(q->obj), (unsigned)n->crc, (unsigned)n->offset, (unsigned)q->exp_crc);
    } else {
        n->check = DK_CHECK_OK;
    }
    if (s->wr.run_on) {
        if (n->check == DK_CHECK_OK || n->check == DK_CHECK_ADOPTED)
            s->wr.run.u.run.prn_ok++;
        else
            s->wr.run.u.run.prn_bad++;
    }
    sess_emit(s, &ev);
    /* The present offset of an unknown object: what the target says of it. */
    if (m->result == DK_RES_SUCCESS && q->obj == DK_OBJ_UNSHOWN && s->sel == DK_OBJ_UNSHOWN &&
        q->exp_off == s->unk.off && r.an == DK_AN_COUNT) {
        report u = { .check = DK_CHECK_NONE, .an = DK_AN_COUNT };
        sess_unk_report(s, n->offset, n->crc, "PRN", &u);
    }
    if (r.an != DK_AN_COUNT) {
        sess_note_op(s, r.an, t, DK_DIR_TARGET, start, end, DK_OP_CRC_GET, "%s", r.text);
        sess_mismatch_seen(s, r.an);
        /* Take the target's word where it speaks of the present. */
        if (q->obj == DK_OBJ_DATA && q->exp_off == s->data.off) {
            s->data.off = n->offset;
            s->data.crc = n->crc;
        } else if (q->obj == DK_OBJ_COMMAND && q->exp_off == s->cmd.off) {
            s->cmd.off = n->offset;
            s->cmd.crc = n->crc;
            s->cmd.known = false;
        }
    }
    if (m->result != DK_RES_SUCCESS) {
        pending p;
        memset(&p, 0, sizeof p);
        p.m.op = DK_OP_OBJECT_WRITE;
        p.obj = q->obj;
        sess_fail_note(s, &p, m, start);
        sess_error_anomaly(s, NULL, m, "PRN on a failed write: ", t, start, end);
    } else {
        s->verdict.err_open = false;
    }
}

/* A notification while the tracker takes the target's PRN to be 0 after a
 * reset: it was not reset after all (or the host set PRN without the
 * capture showing it).  Checked only against the present offset. */
void sess_stray_prn(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->prn.every = s->prn.set;
    s->prn.reset = false;
    s->prn.count = 0;
    pending q;
    memset(&q, 0, sizeof q);
    q.obj = s->sel;
    bool data = q.obj == DK_OBJ_DATA, unk = q.obj == DK_OBJ_UNSHOWN;
    q.exp_off = data ? s->data.off : unk ? s->unk.off : s->cmd.off;
    q.exp_crc = data ? s->data.crc : unk ? s->unk.crc : s->cmd.crc;
    q.crc_known = data  ? s->data.seen && s->data.crc_known
                  : unk ? s->unk.grounded
                        : s->cmd.grounded;
    if (m->rsp.crc.offset < q.exp_off) { /* an earlier write's: nothing to compare */
        q.exp_off = m->rsp.crc.offset;
        q.crc_known = false;
    }
    sess_on_prn(s, &q, m, t, start, end);
}
