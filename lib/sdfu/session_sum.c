/* session_sum.c - names, the target's stated failures, the summary and its outcome. */
#include "session_int.h"

#include <stdio.h>
#include <string.h>


/* ---- names --------------------------------------------------------------- */

struct anomaly_def {
    const char *name;
    dk_severity sev;
    const char *text;
};

static const struct anomaly_def an_defs[DK_AN_COUNT] = {
#define DK_X(e, id, sev, text) [DK_AN_##e] = { id, DK_SEV_##sev, text },
    DK_ANOMALIES(DK_X)
#undef DK_X
};

const char *dk_anomaly_name(dk_anomaly_id id)
{
    return (unsigned)id < DK_AN_COUNT ? an_defs[id].name : NULL;
}

const char *dk_anomaly_text(dk_anomaly_id id)
{
    return (unsigned)id < DK_AN_COUNT ? an_defs[id].text : NULL;
}

dk_severity dk_anomaly_severity(dk_anomaly_id id)
{
    return (unsigned)id < DK_AN_COUNT ? an_defs[id].sev : DK_SEV_ERROR;
}

const char *dk_severity_name(dk_severity s)
{
    switch (s) {
    case DK_SEV_INFO: return "info";
    case DK_SEV_WARN: return "warning";
    default: return "error";
    }
}

int dk_anomaly_by_name(const char *name)
{
    for (int i = 0; i < DK_AN_COUNT; i++)
        if (strcmp(an_defs[i].name, name) == 0)
            return i;
    return -1;
}

const char *dk_outcome_name(dk_outcome o)
{
    switch (o) {
    case DK_OUTCOME_COMPLETED: return "completed";
    case DK_OUTCOME_INTERRUPTED: return "interrupted";
    case DK_OUTCOME_FAILED: return "failed";
    case DK_OUTCOME_NO_RESPONSE: return "no_response";
    case DK_OUTCOME_UNKNOWN: return "unknown";
    default: return "empty";
    }
}

const char *dk_resume_name(dk_resume_how h)
{
    switch (h) {
    case DK_RESUME_CONTINUE: return "continue";
    case DK_RESUME_OBJECT_RESTART: return "object_restart";
    case DK_RESUME_RESTART: return "restart";
    default: return "unknown";
    }
}

const char *dk_check_name(dk_check c)
{
    switch (c) {
    case DK_CHECK_OK: return "ok";
    case DK_CHECK_CRC_BAD: return "crc_mismatch";
    case DK_CHECK_OFFSET_BAD: return "offset_mismatch";
    case DK_CHECK_ADOPTED: return "adopted";
    default: return "none";
    }
}

const char *dk_stage_name(dk_stage s)
{
    switch (s) {
    case DK_STAGE_CONNECT: return "connect";
    case DK_STAGE_INIT: return "init";
    case DK_STAGE_DATA: return "data";
    case DK_STAGE_FINAL: return "final";
    default: return "none";
    }
}

/* ---- failures ------------------------------------------------------------ */

static dk_stage stage_of(const pending *p)
{
    switch (p->m.op) {
    case DK_OP_OBJECT_CREATE:
        return p->m.req.create.type == DK_OBJ_COMMAND ? DK_STAGE_INIT : DK_STAGE_DATA;
    case DK_OP_OBJECT_SELECT:
        return p->m.req.select.type == DK_OBJ_COMMAND ? DK_STAGE_INIT : DK_STAGE_DATA;
    case DK_OP_CRC_GET:
    case DK_OP_OBJECT_WRITE:
        return p->obj == DK_OBJ_COMMAND ? DK_STAGE_INIT : DK_STAGE_DATA;
    case DK_OP_OBJECT_EXECUTE:
        if (p->obj == DK_OBJ_COMMAND)
            return DK_STAGE_INIT;
        return p->final ? DK_STAGE_FINAL : DK_STAGE_DATA;
    default:
        return DK_STAGE_CONNECT;
    }
}

void sess_mismatch_seen(dk_session *s, dk_anomaly_id an)
{
    if (an == DK_AN_DFU_CRC_MISMATCH || an == DK_AN_DFU_OFFSET_MISMATCH) {
        s->verdict.bad_check =
            an == DK_AN_DFU_CRC_MISMATCH ? DK_CHECK_CRC_BAD : DK_CHECK_OFFSET_BAD;
        s->verdict.bad_check_req = s->sum.requests;
    }
}

void sess_fail_note(dk_session *s, const pending *p, const dk_msg *m, uint64_t start)
{
    s->verdict.err_open = true;
    s->sum.fail_stage = p ? stage_of(p) : DK_STAGE_NONE;
    s->sum.fail_op = m->op;
    s->sum.fail_result = m->result;
    s->sum.fail_has_ext = m->has_ext;
    s->sum.fail_ext = m->ext;
    s->sum.fail_pos = start;
    if (s->img.sum && p &&
        (s->sum.fail_stage == DK_STAGE_INIT || s->sum.fail_stage == DK_STAGE_FINAL ||
         s->sum.fail_stage == DK_STAGE_DATA)) {
        s->img.sum->failed = true;
        s->img.sum->result = m->result;
        s->img.sum->ext = m->ext;
    }
}

void sess_error_anomaly(dk_session *s, const pending *p, const dk_msg *m, const char *ctx,
                        int64_t t, uint64_t start, uint64_t end)
{
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    s->an.set = true;
    s->an.result = m->result;
    s->an.has_ext = m->has_ext;
    s->an.ext = m->ext;
    if (m->result == DK_RES_EXT_ERROR) {
        const char *mean = dk_ext_meaning(m->ext);
        sess_note_in(s, p, DK_AN_DFU_EXT_ERROR, t, start, end, m->op,
                     "%s%s answered EXT_ERROR %s (0x%02x): %s", ctx, op_word(m->op, b1),
                     m->has_ext ? dk_ext_str(m->ext, b2) : "(code missing)", (unsigned)m->ext,
                     mean ? mean : "unknown extended error");
    } else {
        const char *mean = dk_result_meaning(m->result);
        sess_note_in(s, p, DK_AN_DFU_ERROR_RESULT, t, start, end, m->op,
                     "%s%s answered %s (0x%02x): %s", ctx, op_word(m->op, b1),
                     dk_result_str(m->result, b2), (unsigned)m->result,
                     mean ? mean : "unknown result code");
    }
}

/* ---- the summary --------------------------------------------------------- */

void dk_session_finish(dk_session *s)
{
    s->stream_ok = false;
    if (s->verdict.finished)
        return;
    s->verdict.finished = true;
    sess_settle(s);
    /* The newest request and what is owed after it: the capture ended. */
    unsigned last = s->pair.n;
    for (unsigned i = s->pair.n; i-- > 0 && last == s->pair.n;)
        if (!sess_out_at(s, i)->prn)
            last = i;
    sess_out_close(s, last == s->pair.n ? 0 : last, "", false);
    sess_out_close(s, s->pair.n, " (the capture ends)", false);
    sess_port_flush(s, s->port.n);
    sess_flush_run(s);
    dk_summary *u = &s->sum;
    if (s->img.sum)
        s->img.sum->offset = s->data.off > s->img.sum->offset ? s->data.off : s->img.sum->offset;
    bool done = s->img.sum && s->img.sum->completed;
    if (u->requests + u->responses == 0)
        u->outcome = DK_OUTCOME_EMPTY;
    else if (u->responses == 0)
        u->outcome = DK_OUTCOME_NO_RESPONSE;
    else if (s->verdict.err_open)
        u->outcome = DK_OUTCOME_FAILED;
    else if (done && s->img.done)
        u->outcome = DK_OUTCOME_COMPLETED;
    else
        u->outcome = DK_OUTCOME_INTERRUPTED;
    u->settled = u->outcome;
    u->settled_by_host = false;
    if (s->sel == DK_OBJ_UNSHOWN && s->unk.on) {
        u->stop_obj = DK_OBJ_UNSHOWN; /* the capture never showed which */
        u->stop_offset = s->unk.off;
    } else if ((s->sel == DK_OBJ_COMMAND || s->sel == DK_OBJ_UNSHOWN) &&
               !(s->init.state == INIT_VALID)) {
        /* No object shown at all: it stopped before the first (the init
         * packet). */
        u->stop_obj = DK_OBJ_COMMAND;
        u->stop_offset = s->cmd.off;
        u->stop_size = s->cmd.created ? s->cmd.size : 0;
    } else {
        u->stop_obj = DK_OBJ_DATA;
        u->stop_offset = s->data.off;
        u->stop_size = s->img.size;
        if (s->data.open && !s->img.done) {
            u->stop_open = true;
            u->stop_open_start = s->data.start;
            u->stop_open_end = s->data.start + s->data.size;
        }
    }
    if (s->verdict.bad_check != DK_CHECK_NONE && s->verdict.bad_check_req == u->requests)
        u->stop_check = s->verdict.bad_check;
    if (u->t_first >= 0 && u->t_last > u->t_first) {
        u->duration_s = (double)(u->t_last - u->t_first) / 1e6;
        u->closed_s = (double)s->port.closed_us / 1e6;
        int64_t active = u->t_last - u->t_first - s->port.closed_us;
        if (active > 0)
            u->throughput_Bps =
                (double)(u->bytes_data + u->bytes_cmd + u->bytes_unknown) / ((double)active / 1e6);
    } else if (u->t_first >= 0) {
        u->duration_s = 0;
    }
    dk_event ev;
    sess_event_head(&ev, DK_EV_SUMMARY, u->t_last, 0, 0, DK_DIR_UNKNOWN);
    ev.u.sum = u;
    sess_emit(s, &ev);
}
