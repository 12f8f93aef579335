/* session_pair.c - requests, the answers owed for them (§6.1), responses paired. */
#include "session_int.h"

#include <stdio.h>
#include <string.h>

/* ---- exchanges ----------------------------------------------------------- */

static void exchange_base(dk_event *ev, const pending *p)
{
    sess_event_head(ev, DK_EV_EXCHANGE, p->t, p->start, p->end, DK_DIR_HOST);
    dk_exchange *x = &ev->u.x;
    x->has_req = true;
    x->req = p->m;
    x->req.raw = p->raw;
    x->obj_type = p->obj;
    x->t_req = p->t;
    x->t_rsp = -1;
    x->req_start = p->start;
    x->req_end = p->end;
    x->latency_us = -1;
}

/* A request that will never be answered.  A PING after a completed image is
 * the exception: the bootloader reset into the app, which does not speak
 * DFU, and a host that PINGs then is checking just that (docs/protocol.md
 * §14.9); said once per image, as information. */
static void unanswered(dk_session *s, pending *p, const char *why)
{
    if (!p->on)
        return;
    p->on = false;
    dk_event ev;
    exchange_base(&ev, p);
    sess_emit(s, &ev);
    char b[DK_NAME_BUFSZ];
    if (p->m.op == DK_OP_PING && s->img.completed) {
        if (!s->img.boot_checked)
            sess_note_op(s, DK_AN_DFU_BOOT_CHECK, p->t, DK_DIR_HOST, p->start, p->end, p->m.op,
                         "PING after image %u completed was not answered: the target left its "
                         "bootloader", s->img.index);
        s->img.boot_checked = true;
    } else if (p->obj == DK_OBJ_UNSHOWN) { /* no object shown yet: none to name */
        sess_note_op(s, DK_AN_DFU_NO_RESPONSE, p->t, DK_DIR_HOST, p->start, p->end, p->m.op,
                     "%s was never answered%s", op_word(p->m.op, b), why);
    } else {
        sess_note_op(s, DK_AN_DFU_NO_RESPONSE, p->t, DK_DIR_HOST, p->start, p->end, p->m.op,
                     "%s (%s object) was never answered%s", op_word(p->m.op, b),
                     obj_word(p->obj), why);
    }
    sess_init_emit_due(s);
}

/* ---- owed answers -------------------------------------------------------- */

pending *sess_out_at(dk_session *s, unsigned i)
{
    return &s->pair.out[(s->pair.head + i) % OUT_Q];
}

static void out_drop(dk_session *s)
{
    if (!s->pair.out[s->pair.head].prn)
        s->pair.req--;
    s->pair.head = (s->pair.head + 1) % OUT_Q;
    s->pair.n--;
}

static pending out_pop(dk_session *s)
{
    pending p = s->pair.out[s->pair.head];
    out_drop(s);
    return p;
}

static void prn_void_flush(dk_session *s, const char *why)
{
    prn_void *v = &s->pair.lost;
    if (!v->n)
        return;
    if (v->n == 1)
        sess_note_op(s, DK_AN_DFU_NO_RESPONSE, v->t, DK_DIR_HOST, v->start, v->end,
                     DK_OP_OBJECT_WRITE, "the PRN notification due at %s offset %u never came%s",
                     obj_word(v->obj), (unsigned)v->first, why);
    else
        sess_note_op(s, DK_AN_DFU_NO_RESPONSE, v->t, DK_DIR_HOST, v->start, v->end,
                     DK_OP_OBJECT_WRITE,
                     "%u PRN notifications due at %s offsets %u to %u never came%s", v->n,
                     obj_word(v->obj), (unsigned)v->first, (unsigned)v->last, why);
    v->n = 0;
}

/* The k oldest owed answers will never come: the target answers in order
 * (§6.1), and something later was answered, or the capture ends.  Said
 * now, unless quiet: notifications then join the next note. */
void sess_out_close(dk_session *s, unsigned k, const char *why, bool quiet)
{
    prn_void *v = &s->pair.lost;
    while (k-- > 0 && s->pair.n > 0) {
        pending *p = sess_out_at(s, 0);
        if (!p->prn) {
            prn_void_flush(s, why);
            pending q = out_pop(s);
            unanswered(s, &q, why);
            continue;
        }
        if (v->n && v->obj != p->obj)
            prn_void_flush(s, why);
        if (!v->n) {
            v->obj = p->obj;
            v->first = p->exp_off;
            v->t = p->t;
            v->start = p->start;
        }
        v->n++;
        v->last = p->exp_off;
        v->end = p->end;
        out_drop(s);
    }
    if (!quiet)
        prn_void_flush(s, why);
}

/* Room for one more owed answer (the oldest gives way) and a slot for it. */
pending *sess_out_push(dk_session *s, bool prn)
{
    if (s->pair.n == OUT_Q)
        sess_out_close(s, 1, "", true); /* notifications: said with the next ones */
    pending *p = sess_out_at(s, s->pair.n);
    s->pair.n++;
    if (!prn)
        s->pair.req++;
    return p;
}

/* Which owed answer a response is: the oldest it can be (§6.1), skipping
 * answers that never came.  A CRC_GET-shaped response is a PRN
 * notification or a CRC_GET's answer: the first of those whose offset it
 * reports, else the oldest (§2.3); when a notification and the CRC_GET sent
 * right after its write both have that offset, the notification, unless
 * earlier ones never came.  A PING echo names its request (§2.2).  Returns
 * the owed answer's index (0: the oldest), -1 when none fits. */
static int out_match(dk_session *s, const dk_msg *m)
{
    int first = -1, prn_hit = -1;
    bool by_off = m->op == DK_OP_CRC_GET && m->result == DK_RES_SUCCESS;
    for (unsigned i = 0; i < s->pair.n; i++) {
        const pending *p = sess_out_at(s, i);
        if (m->op == DK_OP_CRC_GET) {
            if (!p->prn && p->m.op != DK_OP_CRC_GET) {
                if (prn_hit >= 0)
                    break; /* a CRC_GET after another request was not just sent */
                continue;
            }
            if (first < 0)
                first = (int)i;
            if (by_off && p->exp_off != m->rsp.crc.offset)
                continue;
            if (!p->prn)
                return (int)i;
            if (prn_hit < 0 && (int)i == first && !s->pair.lost.n)
                return (int)i; /* notifications arrive */
            if (prn_hit < 0)
                prn_hit = (int)i;
        } else if (!p->prn && p->m.op == m->op) {
            if (first < 0)
                first = (int)i;
            if (m->op != DK_OP_PING || p->m.req.ping.id == m->rsp.ping.id)
                return (int)i;
        }
    }
    return prn_hit >= 0 ? prn_hit : first;
}

static void on_failure_state(dk_session *s, const pending *p)
{
    if (p->m.op == DK_OP_OBJECT_CREATE) {
        if (p->m.req.create.type == DK_OBJ_COMMAND)
            s->cmd.created = false;
        else
            s->data.open = false;
    } else if (p->m.op == DK_OP_OBJECT_EXECUTE && p->obj == DK_OBJ_COMMAND) {
        s->init.state = INIT_REJECTED;
        s->img.done = true; /* progress reset on the target (§6.5) */
    } else if (p->m.op == DK_OP_OBJECT_EXECUTE && p->final) {
        s->img.done = true; /* reset after postvalidation either way (§6.6) */
    }
}

/* A SELECT answered: progress reported for obj, judged into r; what it says
 * of the init packet; a resume the host may now make of it. */
static void select_answered(dk_session *s, const pending *p, const dk_msg *m, uint64_t end,
                            report *r)
{
    uint8_t obj = p->obj;
    bool object = obj == DK_OBJ_COMMAND || obj == DK_OBJ_DATA;
    /* The target reports exactly where the unknown object stands: it is
     * of this type (a CRC matching by chance is out of reach). */
    if (object && s->unk.on && s->unk.grounded && s->unk.bytes > 0 &&
        m->rsp.select.offset == s->unk.off && m->rsp.select.crc == s->unk.crc)
        sess_unk_settle(s, obj, UNK_BY_SELECT);
    if (object && m->rsp.select.offset > 0)
        sess_ensure_image(s, p->t, p->start, end);
    if (obj == DK_OBJ_DATA && m->rsp.select.max_size)
        s->data.max_size = m->rsp.select.max_size;
    sess_check_report(s, obj, m->rsp.select.offset, m->rsp.select.crc, true, "SELECT", r);
    if (obj == DK_OBJ_COMMAND) {
        if (m->rsp.select.offset == 0 && s->init.state == INIT_UNKNOWN)
            s->init.state = INIT_NONE;
        else if (m->rsp.select.offset > 0 &&
                 (s->init.state == INIT_UNKNOWN || s->init.state == INIT_NONE || s->img.done))
            s->init.state = INIT_PENDING;
    }
    if (object && m->rsp.select.offset > 0) {
        s->resume.on = true;
        s->resume.obj = obj;
        s->resume.off = m->rsp.select.offset;
        s->resume.crc = m->rsp.select.crc;
    }
}

/* Request p answered with success by m.  Returns true when the answer
 * completed the image (a data EXECUTE). */
static bool answered_ok(dk_session *s, const pending *p, const dk_msg *m, uint64_t end, report *r)
{
    bool completed = false;
    switch (m->op) {
    case DK_OP_OBJECT_SELECT:
        select_answered(s, p, m, end, r);
        break;
    case DK_OP_CRC_GET:
        sess_check_report(s, p->obj, m->rsp.crc.offset, m->rsp.crc.crc, false, "CRC_GET", r);
        s->verdict.err_open = false;
        break;
    case DK_OP_OBJECT_EXECUTE:
        if (p->obj == DK_OBJ_COMMAND)
            sess_init_executed(s);
        else if (p->obj == DK_OBJ_DATA)
            completed = sess_data_executed(s, p);
        else if (p->obj == DK_OBJ_UNSHOWN && s->unk.on)
            s->unk.executed = true;
        s->verdict.err_open = false;
        break;
    case DK_OP_OBJECT_CREATE:
        s->verdict.err_open = false;
        break;
    default:
        break;
    }
    return completed;
}

/* Response m answers request p: the EXCHANGE event, then what the answer
 * shows, under the exchange's line. */
static void pair_answer(dk_session *s, pending *p, const dk_msg *m, bool late, int64_t t,
                        uint64_t start, uint64_t end)
{
    dk_event ev;
    exchange_base(&ev, p);
    dk_exchange *x = &ev.u.x;
    x->has_rsp = true;
    x->rsp = *m;
    x->t_rsp = t;
    x->rsp_start = start;
    x->rsp_end = end;
    x->late = late;
    if (t >= 0 && p->t >= 0)
        x->latency_us = t - p->t;
    ev.end = end;
    p->on = false;

    report r = { .check = DK_CHECK_NONE, .an = DK_AN_COUNT };
    bool completed = false;
    bool ok = m->result == DK_RES_SUCCESS;
    if (ok) {
        completed = answered_ok(s, p, m, end, &r);
    } else {
        sess_fail_note(s, p, m, start);
        on_failure_state(s, p);
    }
    x->check = r.check;
    x->exp_offset = r.exp_off;
    x->exp_crc = r.exp_crc;
    sess_emit(s, &ev);

    /* What the answer shows is printed under the exchange's line, at its
     * time: a late answer arrives after lines of later requests. */
    char b[DK_NAME_BUFSZ];
    if (late)
        sess_note_in(s, p, DK_AN_DFU_LATE_RESPONSE, t, start, end, m->op,
                     "the answer to %s came after the host had sent its next request: every "
                     "later answer may be read as the previous one's",
                     op_word(m->op, b));
    if (r.an != DK_AN_COUNT) {
        sess_note_in(s, p, r.an, t, start, end, m->op, "%s", r.text);
        sess_mismatch_seen(s, r.an);
    }
    if (!ok) {
        bool obj = p->obj == DK_OBJ_DATA || p->obj == DK_OBJ_COMMAND;
        char ctx[64];
        snprintf(ctx, sizeof ctx, "%s%s", obj ? obj_word(p->obj) : "", obj ? " " : "");
        sess_error_anomaly(s, p, m, ctx, t, start, end);
    }
    sess_init_emit_due(s);
    if (completed || (p->m.op == DK_OP_OBJECT_EXECUTE && p->final))
        sess_target_reset(s, false); /* after the final EXECUTE, either way (§6.6) */
    if (completed)
        sess_image_done(s, t, start, end);
}

/* ---- requests ------------------------------------------------------------ */

/* The owed answer a request makes, as the request left the host. */
static pending pending_of(const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    pending p;
    memset(&p, 0, sizeof p);
    p.on = true;
    p.m = *m;
    p.t = t;
    p.start = start;
    p.end = end;
    size_t rl = m->raw_len < REQ_RAW ? m->raw_len : REQ_RAW;
    if (m->raw && rl)
        memcpy(p.raw, m->raw, rl);
    p.m.raw_len = rl;
    return p;
}

/* A type a host names: the tracker's DK_OBJ_UNSHOWN is no wire value, a host
 * naming it names an invalid type. */
static inline uint8_t wire_type(uint8_t type)
{
    return type == DK_OBJ_UNSHOWN ? DK_OBJ_INVALID : type;
}

/* A CREATE: the object it makes is selected; a command object starts an
 * image (§6.4). */
static void req_create(dk_session *s, const dk_msg *m, bool resolving, int64_t t, uint64_t start,
                       uint64_t end)
{
    uint8_t type = wire_type(m->req.create.type);
    s->prn.count = 0;
    s->sel = type;
    s->sel_flagged = false;
    /* A command CREATE after the unknown object was executed begins the
     * next image: the object was that image's last data (§6.10).  Not
     * executed, what it was stays unknown. */
    if (type == DK_OBJ_COMMAND && s->unk.on && s->unk.executed)
        sess_unk_settle(s, DK_OBJ_DATA, UNK_BY_NEXT);
    if (type == DK_OBJ_COMMAND)
        s->unk.on = false;
    if (type == DK_OBJ_COMMAND)
        sess_open_image(s, true, m->req.create.size, t, start, end);
    else if (type == DK_OBJ_DATA)
        sess_data_create(s, m, resolving, t, start, end);
}

void sess_on_request(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->sum.requests++;
    if (m->op == DK_OP_OBJECT_WRITE) {
        sess_on_write(s, m->req.write.data, m->req.write.len, t, start, end);
        return;
    }
    sess_settle(s);
    bool resolving = s->resume.on;
    sess_resume_resolve(s, m, t, start, end);
    if (!(resolving && !s->resume.on) &&
        (m->op == DK_OP_PING || m->op == DK_OP_OBJECT_CREATE || m->op == DK_OP_OBJECT_EXECUTE))
        s->resume.open = false;

    pending p = pending_of(m, t, start, end);
    switch (m->op) {
    case DK_OP_OBJECT_CREATE:
        req_create(s, m, resolving, t, start, end);
        break;
    case DK_OP_OBJECT_SELECT:
        s->sel = wire_type(m->req.select.type);
        s->sel_flagged = false;
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        sess_prn_set(s, m->req.prn.target);
        break;
    case DK_OP_OBJECT_EXECUTE:
        if (s->sel == DK_OBJ_COMMAND)
            sess_init_execute(s, m->op, t, start, end);
        else if (s->sel == DK_OBJ_DATA)
            sess_data_execute(s, &p, t, start, end);
        else if (s->sel == DK_OBJ_UNSHOWN)
            sess_ensure_image(s, t, start, end);
        break;
    default:
        break;
    }
    p.obj = s->sel;
    if (m->op == DK_OP_OBJECT_CREATE)
        p.obj = wire_type(m->req.create.type);
    else if (m->op == DK_OP_OBJECT_SELECT)
        p.obj = wire_type(m->req.select.type);

    if (m->op == DK_OP_CRC_GET)
        p.exp_off = p.obj == DK_OBJ_COMMAND   ? s->cmd.off
                    : p.obj == DK_OBJ_UNSHOWN ? s->unk.off
                                              : s->data.off;
    if (dk_msg_expects_response(m->op)) {
        *sess_out_push(s, false) = p;
    } else {
        /* ABORT: the target resets without answering (§2.2, §6.8). */
        sess_target_reset(s, false);
        dk_event ev;
        exchange_base(&ev, &p);
        sess_emit(s, &ev);
    }
}

/* ---- responses ----------------------------------------------------------- */

/* A response no owed answer can be: its own EXCHANGE line and a note. */
static void unpaired(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    const pending *w = NULL; /* the request whose answer is due */
    for (unsigned k = 0; k < s->pair.n && !w; k++)
        if (!sess_out_at(s, k)->prn)
            w = sess_out_at(s, k);
    dk_event ev;
    sess_event_head(&ev, DK_EV_EXCHANGE, t, start, end, DK_DIR_TARGET);
    ev.u.x.has_rsp = true;
    ev.u.x.rsp = *m;
    ev.u.x.t_req = -1;
    ev.u.x.t_rsp = t;
    ev.u.x.rsp_start = start;
    ev.u.x.rsp_end = end;
    ev.u.x.latency_us = -1;
    sess_emit(s, &ev);
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    if (w)
        sess_note_op(s, DK_AN_DFU_UNEXPECTED_OPCODE, t, DK_DIR_TARGET, start, end, m->op,
                     "a response to %s arrived while %s waits for its answer", op_word(m->op, b1),
                     op_word(w->m.op, b2));
    else if (m->op == DK_OP_CRC_GET && s->prn.every)
        sess_note_op(s, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST, t, DK_DIR_TARGET, start, end, m->op,
                     "PRN notification after %u writes, but PRN is every %u",
                     (unsigned)s->prn.count, (unsigned)s->prn.every);
    else
        sess_note_op(s, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST, t, DK_DIR_TARGET, start, end, m->op,
                     "a response to %s, which no request asked for", op_word(m->op, b1));
    if (m->result != DK_RES_SUCCESS)
        sess_error_anomaly(s, NULL, m, "", t, start, end);
}

void sess_on_response(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->sum.responses++;
    sess_settle(s);
    int i = out_match(s, m);
    if (i >= 0) {
        if (i > 0 || s->pair.lost.n)
            sess_out_close(s, (unsigned)i, "", false);
        /* Used in place (neither changes the queue), then dropped. */
        pending *p = sess_out_at(s, 0);
        if (p->prn)
            sess_on_prn(s, p, m, t, start, end);
        else
            pair_answer(s, p, m, s->pair.req > 1, t, start, end);
        out_drop(s);
        return;
    }
    if (m->op == DK_OP_CRC_GET && m->result == DK_RES_SUCCESS && s->prn.reset && s->prn.set) {
        sess_stray_prn(s, m, t, start, end);
        return;
    }
    unpaired(s, m, t, start, end);
}
