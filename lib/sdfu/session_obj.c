/* session_obj.c - data objects, and reported offsets/CRCs judged against what was sent. */
#include "session_int.h"

#include <stdio.h>
#include <string.h>

#include "dfukit/crc.h"

/* ---- progress ------------------------------------------------------------ */

static void cp_push(dk_session *s, uint32_t off, uint32_t crc)
{
    snapshot *c = &s->data.cp[s->data.cp_head];
    c->offset = off;
    c->crc = crc;
    c->crc_known = true;
    s->data.cp_head = (s->data.cp_head + 1) % CHECKPOINTS;
    if (s->data.cp_n < CHECKPOINTS)
        s->data.cp_n++;
}

static const snapshot *cp_find(const dk_session *s, uint32_t off)
{
    for (unsigned i = 0; i < s->data.cp_n; i++) {
        const snapshot *c = &s->data.cp[(s->data.cp_head + CHECKPOINTS - 1 - i) % CHECKPOINTS];
        if (c->offset == off)
            return c;
    }
    return NULL;
}

/* Data progress back to zero, as after a command CREATE (§6.4). */
void sess_reset_data(dk_session *s, bool grounded)
{
    s->data.open = false;
    s->data.start = s->data.size = 0;
    s->data.flagged = false;
    s->data.off = s->data.crc = 0;
    s->data.stage_len = 0;
    s->data.crc_known = grounded;
    s->data.seen = grounded;
    s->data.last_off = s->data.last_crc = 0;
    s->data.last_crc_known = grounded;
    s->data.cp_n = s->data.cp_head = 0;
    cp_push(s, 0, 0);
}

/* ---- reported offset/CRC checks ------------------------------------------ */

/* The target reports an offset and a CRC for an object in the answers to
 * SELECT and CRC_GET (and in PRN notifications, session_prn.c).  Each judge
 * below decides one case into r; `what` names the request and `obj` is
 * "command " or "" (data) in the anomaly's text. */

/* CRC crc at off, where the bytes sent give exp. */
static void say_crc(report *r, const char *what, const char *obj, uint32_t off, uint32_t crc,
                    uint32_t exp)
{
    r->an = DK_AN_DFU_CRC_MISMATCH;
    snprintf(r->text, sizeof r->text,
             "%s reports %scrc=0x%08x at offset %u, the bytes sent give 0x%08x", what, obj,
             (unsigned)crc, (unsigned)off, (unsigned)exp);
}

/* At the offset sent up to: the CRC decides. */
static void judge_at_sent(report *r, const char *what, const char *obj, uint32_t off, uint32_t crc,
                          uint32_t exp)
{
    r->check = crc == exp ? DK_CHECK_OK : DK_CHECK_CRC_BAD;
    if (r->check == DK_CHECK_CRC_BAD)
        say_crc(r, what, obj, off, crc, exp);
}

/* Beyond the offset sent up to: bytes the host never sent. */
static void judge_ahead(report *r, const char *what, const char *obj, uint32_t off, uint32_t sent)
{
    r->check = DK_CHECK_OFFSET_BAD;
    r->an = DK_AN_DFU_OFFSET_MISMATCH;
    snprintf(r->text, sizeof r->text, "%s reports %soffset %u, but only %u bytes were sent", what,
             obj, (unsigned)off, (unsigned)sent);
}

/* Command object behind what was sent: checked against the CRC of the
 * bytes sent up to there when they are known; at a SELECT the target reset
 * and kept part or none of the init packet, else bytes did not arrive. */
static void judge_cmd_behind(dk_session *s, uint32_t off, uint32_t crc, bool is_select,
                             const char *what, report *r)
{
    r->check = DK_CHECK_OFFSET_BAD;
    if (s->cmd.known) {
        uint32_t c = dk_crc32(0, s->cmd.buf, off);
        r->exp_crc = c;
        if (c != crc)
            say_crc(r, what, "command ", off, crc, c);
    }
    if (is_select)
        sess_target_reset(s, true); /* only a reset loses RAM progress (§6.9) */
    if (r->an != DK_AN_COUNT)
        return;
    r->an = is_select ? DK_AN_DFU_OFFSET_BACKWARDS : DK_AN_DFU_OFFSET_MISMATCH;
    snprintf(r->text, sizeof r->text, "%s reports command offset %u, but %u bytes were sent%s",
             what, (unsigned)off, (unsigned)s->cmd.off,
             is_select ? (off ? ": the target kept only part of the init packet"
                              : ": the target lost the init packet")
                       : "");
}

/* Data behind what was sent: checked against the CRC at an executed
 * boundary there when one is known; at a SELECT the target reset and the
 * transfer resumes from there (from 0: a restart), else bytes did not
 * arrive. */
static void judge_data_behind(dk_session *s, uint32_t off, uint32_t crc, bool is_select,
                              const char *what, report *r)
{
    r->check = DK_CHECK_OFFSET_BAD;
    if (is_select) {
        sess_target_reset(s, true);
        /* The host can only go on from 0: a restart when it does. */
        s->data.lost = off == 0;
    }
    const snapshot *c = cp_find(s, off);
    if (c && c->crc != crc) {
        r->an = DK_AN_DFU_CRC_MISMATCH;
        r->exp_crc = c->crc;
        snprintf(r->text, sizeof r->text,
                 "%s reports crc=0x%08x at offset %u, the bytes sent there gave 0x%08x", what,
                 (unsigned)crc, (unsigned)off, (unsigned)c->crc);
    } else if (is_select && off == 0) {
        r->an = DK_AN_DFU_OFFSET_BACKWARDS;
        snprintf(r->text, sizeof r->text,
                 "%s reports offset 0 after %u bytes were sent: the target lost its "
                 "progress (it reset), the data must be sent again from 0",
                 what, (unsigned)s->data.off);
    } else if (is_select) {
        r->an = DK_AN_DFU_OFFSET_BACKWARDS;
        snprintf(r->text, sizeof r->text,
                 "%s reports offset %u after %u bytes were sent: the transfer resumes "
                 "from %u",
                 what, (unsigned)off, (unsigned)s->data.off, (unsigned)off);
    } else {
        r->an = DK_AN_DFU_OFFSET_MISMATCH;
        snprintf(r->text, sizeof r->text,
                 "%s reports offset %u, but %u bytes were sent: %u bytes did not arrive", what,
                 (unsigned)off, (unsigned)s->data.off, (unsigned)(s->data.off - off));
    }
}

/* The target's word on the command object, taken. */
static void adopt_cmd(dk_session *s, uint32_t off, uint32_t crc)
{
    if (off > s->cmd.off || !s->cmd.grounded || s->img.done)
        s->cmd.known = off == 0;
    s->cmd.off = off;
    s->cmd.crc = crc;
    s->cmd.grounded = true;
}

/* The target's word on the data, taken; after a SELECT (or a step back past
 * the last executed boundary) also where a data CREATE would roll back to
 * (§6.4). */
static void adopt_data(dk_session *s, uint32_t off, uint32_t crc, bool is_select)
{
    s->data.off = off;
    s->data.crc = crc;
    s->data.crc_known = true;
    s->data.seen = true;
    if (!is_select && off >= s->data.last_off)
        return;
    uint32_t ms = s->data.max_size ? s->data.max_size : 4096;
    if (off % ms == 0 || (s->img.size && off == s->img.size)) {
        s->data.last_off = off;
        s->data.last_crc = crc;
        s->data.last_crc_known = true;
    } else {
        s->data.last_off = off - off % ms;
        const snapshot *c = cp_find(s, s->data.last_off);
        s->data.last_crc_known = c != NULL;
        s->data.last_crc = c ? c->crc : 0;
    }
}

static void check_cmd(dk_session *s, uint32_t off, uint32_t crc, bool is_select, const char *what,
                      report *r)
{
    r->exp_off = s->cmd.off;
    r->exp_crc = s->cmd.crc;
    if (!s->cmd.grounded || s->img.done)
        r->check = DK_CHECK_ADOPTED; /* nothing sent to compare with */
    else if (off == s->cmd.off)
        judge_at_sent(r, what, "command ", off, crc, s->cmd.crc);
    else if (off < s->cmd.off)
        judge_cmd_behind(s, off, crc, is_select, what, r);
    else
        judge_ahead(r, what, "command ", off, s->cmd.off);
    if (r->check != DK_CHECK_OK)
        adopt_cmd(s, off, crc);
}

static void check_data(dk_session *s, uint32_t off, uint32_t crc, bool is_select, const char *what,
                       report *r)
{
    r->exp_off = s->data.off;
    r->exp_crc = s->data.crc;
    if (!s->data.seen || s->img.done)
        r->check = DK_CHECK_ADOPTED; /* nothing sent to compare with */
    else if (off == s->data.off && !s->data.crc_known)
        r->check = DK_CHECK_ADOPTED; /* the CRC of what was sent is not known */
    else if (off == s->data.off)
        judge_at_sent(r, what, "", off, crc, s->data.crc);
    else if (off < s->data.off)
        judge_data_behind(s, off, crc, is_select, what, r);
    else
        judge_ahead(r, what, "", off, s->data.off);
    if (r->check != DK_CHECK_OK)
        adopt_data(s, off, crc, is_select);
}

void sess_check_report(dk_session *s, uint8_t obj, uint32_t off, uint32_t crc, bool is_select,
                       const char *what, report *r)
{
    r->an = DK_AN_COUNT;
    r->check = DK_CHECK_NONE;
    if (obj == DK_OBJ_COMMAND)
        check_cmd(s, off, crc, is_select, what, r);
    else if (obj == DK_OBJ_DATA)
        check_data(s, off, crc, is_select, what, r);
    else if (obj == DK_OBJ_UNSHOWN)
        sess_unk_report(s, off, crc, what, r);
}

/* ---- writes -------------------------------------------------------------- */

/* The data bytes of a write: flags, the running CRC (staged, see STAGE),
 * progress.  Returns the image offset they went to. */
static uint32_t write_data(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                           uint64_t start, uint64_t end)
{
    sess_ensure_image(s, t, start, end);
    s->img.active = true;
    if (!s->data.flagged && (s->init.state == INIT_NONE || s->init.state == INIT_REJECTED)) {
        s->data.flagged = true;
        sess_note_op(s, DK_AN_DFU_DATA_BEFORE_INIT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                     "data written at offset %u while the target holds no valid init packet%s",
                     (unsigned)s->data.off,
                     s->init.state == INIT_REJECTED ? " (it was rejected)" : "");
    }
    if (s->data.open && !s->data.flagged &&
        (uint64_t)s->data.off + len > (uint64_t)s->data.start + s->data.size) {
        s->data.flagged = true;
        sess_note_op(s, DK_AN_DFU_WRITE_BEYOND_OBJECT, t, DK_DIR_HOST, start, end,
                     DK_OP_OBJECT_WRITE, "data write [%u, %u) goes past the object [%u, %u)",
                     (unsigned)s->data.off, (unsigned)(s->data.off + len), (unsigned)s->data.start,
                     (unsigned)(s->data.start + s->data.size));
    }
    uint32_t offset = s->data.off;
    if (s->data.crc_known) {
        if (len > STAGE - s->data.stage_len)
            sess_sync_crc(s);
        if (len > STAGE) {
            s->data.crc = dk_crc32(s->data.crc, data, len);
        } else {
            memcpy(s->data.stage + s->data.stage_len, data, len);
            s->data.stage_len += len;
        }
    }
    s->data.off += (uint32_t)len;
    s->sum.bytes_data += len;
    if (s->img.sum) {
        s->img.sum->bytes_sent += len;
        if (s->data.off > s->img.sum->offset)
            s->img.sum->offset = s->data.off;
    }
    if (s->wr.crc || (s->prn.every && s->prn.count + 1 >= s->prn.every))
        sess_sync_crc(s);
    return offset;
}

/* The hot path: one OBJECT_WRITE (every frame of the firmware). */
/* Fold write w into the run of writes that it continues, or start a new
 * run (a data run's CRC is filled in by sess_settle() when it ends). */
static void fold(dk_session *s, const dk_write *w, int64_t t, uint64_t start, uint64_t end)
{
    dk_writes *r = &s->wr.run.u.run;
    if (s->wr.run_on && r->obj_type == w->obj_type && r->off_end == w->offset &&
        s->wr.run.image == s->img.index) {
        r->count++;
        r->bytes += w->len;
        r->off_end = w->offset + (uint32_t)w->len;
        r->crc_end = w->crc;
        r->crc_known = w->crc_known;
        r->t_last = t;
        s->wr.run.end = end;
        return;
    }
    sess_flush_run(s);
    memset(&s->wr.run, 0, sizeof s->wr.run);
    s->wr.run.kind = DK_EV_WRITES;
    s->wr.run.t_us = t;
    s->wr.run.start = start;
    s->wr.run.end = end;
    s->wr.run.dir = DK_DIR_HOST;
    s->wr.run.image = s->img.index;
    r->obj_type = w->obj_type;
    r->count = 1;
    r->bytes = w->len;
    r->off_start = w->offset;
    r->off_end = w->offset + (uint32_t)w->len;
    r->crc_end = w->crc;
    r->crc_known = w->crc_known;
    r->t_first = r->t_last = t;
    s->wr.run_on = true;
}

void sess_on_write(dk_session *s, const uint8_t *data, size_t len, int64_t t, uint64_t start,
                   uint64_t end)
{
    s->sum.writes++;
    if (s->resume.on) {
        dk_msg m = dk_msg_request(DK_OP_OBJECT_WRITE);
        sess_resume_resolve(s, &m, t, start, end);
    }

    s->at.t = t;
    s->at.start = start;
    s->at.end = end;
    uint8_t obj = s->sel;
    uint32_t offset = 0, crc = 0;
    bool crc_known = false;
    if (obj == DK_OBJ_UNSHOWN) {
        offset = sess_write_unk(s, data, len, t, start, end);
        crc = s->unk.crc;
        crc_known = s->unk.grounded;
        /* Past the most a command object holds: the object is data. */
        if (s->unk.off > CMD_MAX) {
            sess_unk_settle(s, DK_OBJ_DATA, UNK_BY_SIZE);
            obj = DK_OBJ_DATA;
        }
    } else if (obj == DK_OBJ_DATA) {
        offset = write_data(s, data, len, t, start, end);
        crc = s->data.crc;
        crc_known = s->data.crc_known && s->data.seen && s->data.stage_len == 0;
    } else if (obj == DK_OBJ_COMMAND) {
        offset = sess_write_cmd(s, data, len, t, start, end);
        crc = s->cmd.crc;
        crc_known = s->cmd.grounded;
    } else if (!s->sel_flagged) {
        s->sel_flagged = true;
        sess_note_op(s, DK_AN_DFU_WRITE_WITHOUT_OBJECT, t, DK_DIR_HOST, start, end,
                     DK_OP_OBJECT_WRITE, "write while object type %u is selected", (unsigned)obj);
    }
    uint32_t off_end = offset + (uint32_t)len;

    sess_prn_count(s, obj, off_end, crc, crc_known, t, start, end);

    dk_write w = { .obj_type = obj,
                   .data = data,
                   .len = len,
                   .offset = offset,
                   .crc = crc,
                   .crc_known = crc_known };
    if (s->wr.events) {
        dk_event ev;
        ev.kind = DK_EV_WRITE;
        ev.t_us = t;
        ev.start = start;
        ev.end = end;
        ev.dir = DK_DIR_HOST;
        ev.u.w = w;
        sess_emit(s, &ev);
    }

    fold(s, &w, t, start, end);
}

/* ---- CREATE and EXECUTE ------------------------------------------------- */

void sess_data_create(dk_session *s, const dk_msg *m, bool resolving, int64_t t, uint64_t start,
                      uint64_t end)
{
    sess_ensure_image(s, t, start, end);
    s->img.active = true;
    bool no_init = s->init.state == INIT_NONE || s->init.state == INIT_REJECTED;
    if (no_init)
        sess_note_op(s, DK_AN_DFU_DATA_BEFORE_INIT, t, DK_DIR_HOST, start, end, m->op,
                     "data object created while the target holds no valid init packet%s",
                     s->init.state == INIT_REJECTED ? " (it was rejected)" : "");
    if (s->data.seen && s->data.off != s->data.last_off && !resolving)
        sess_note_op(s, DK_AN_DFU_OBJECT_DISCARDED, t, DK_DIR_HOST, start, end, m->op,
                     "CREATE throws away %u bytes written after offset %u",
                     (unsigned)(s->data.off - s->data.last_off), (unsigned)s->data.last_off);
    /* The target rolls back to the last executed object (§6.4). */
    if (s->data.seen) {
        s->data.off = s->data.last_off;
        s->data.crc = s->data.last_crc;
        s->data.crc_known = s->data.last_crc_known;
    }
    if (s->data.lost && s->data.off == 0) {
        s->sum.restarts++; /* the data again from 0 after a reset (§6.9) */
        s->data.lost = false;
    }
    s->data.open = true;
    s->data.start = s->data.off;
    s->data.size = m->req.create.size;
    s->data.flagged = no_init;
}

void sess_data_execute(dk_session *s, pending *p, int64_t t, uint64_t start, uint64_t end)
{
    sess_ensure_image(s, t, start, end);
    if (s->data.open && s->data.off - s->data.start < s->data.size)
        sess_note_op(s, DK_AN_DFU_EXECUTE_INCOMPLETE, t, DK_DIR_HOST, start, end, p->m.op,
                     "data EXECUTE with %u of %u bytes of the object at %u",
                     (unsigned)(s->data.off - s->data.start), (unsigned)s->data.size,
                     (unsigned)s->data.start);
    p->final = s->img.size ? s->data.off == s->img.size : false;
    p->exec_open = s->data.open;
    p->exec_start = s->data.start;
    /* The target executes in request order: a CREATE sent before the
     * answer arrives already starts after this object (§6.1). */
    if (s->data.open && s->data.off - s->data.start == s->data.size && s->data.seen) {
        s->data.last_off = s->data.off;
        s->data.last_crc = s->data.crc;
        s->data.last_crc_known = s->data.crc_known;
    }
}

/* The image is complete at its size from the init packet, or, without one,
 * at an object shorter than the maximum that was filled. */
bool sess_data_executed(dk_session *s, const pending *p)
{
    s->img.active = true;
    s->data.last_off = s->data.off;
    s->data.last_crc = s->data.crc;
    s->data.last_crc_known = s->data.crc_known;
    if (s->data.crc_known)
        cp_push(s, s->data.off, s->data.crc);
    /* A late answer may come after the host created the next object: that
     * one stays open. */
    bool was_open = p->exec_open && s->data.open && s->data.start == p->exec_start;
    if (was_open)
        s->data.open = false;
    return p->final || (was_open && !s->img.size && s->data.size < s->data.max_size &&
                        s->data.off == s->data.start + s->data.size);
}
