/* session.c - DFU session tracker (see session.h; protocol.md §2-§6). */
#include "dfukit/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"

#define CMD_MAX 512     /* INIT_COMMAND_MAX_SIZE, SDK 17.1 (§4) */
#define OUT_Q 64        /* answers owed: requests and PRN notifications */
#define CHECKPOINTS 16  /* (offset, crc) at recent executed data boundaries */
#define REQ_RAW 16      /* requests other than WRITE are at most 6 bytes */
#define RESYNC_MAX 64   /* noise bytes searched at the front of a frame */
#define STAGE 16384     /* data bytes whose CRC is computed in one call */

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

/* An answer the target owes, in the order it owes them (§6.1): a request,
 * or a PRN notification due after a WRITE (§2.3). */
typedef struct {
    bool on;
    bool prn;         /* a PRN notification; m is not used */
    dk_msg m;
    uint8_t raw[REQ_RAW];
    uint8_t obj;
    bool final;       /* an EXECUTE that ends the image */
    bool exec_open;   /* a data EXECUTE: the object it executes, if one was open */
    uint32_t exec_start;
    uint32_t exp_off; /* CRC_GET, PRN: the offset of obj when it was sent */
    uint32_t exp_crc; /* PRN: the CRC there */
    bool crc_known;   /* PRN: exp_crc is known */
    int64_t t;
    uint64_t start, end;
} pending;

typedef struct {
    uint8_t obj;
    uint32_t offset, crc;
    bool crc_known;
} snapshot;

/* PRN notifications that will never come, folded into one note. */
typedef struct {
    unsigned n;
    uint8_t obj;
    uint32_t first, last;
    int64_t t;
    uint64_t start, end;
} prn_void;

enum init_state { INIT_UNKNOWN, INIT_NONE, INIT_PENDING, INIT_VALID, INIT_REJECTED };

struct dk_session {
    dk_session_cb cb;
    void *ctx;
    dk_summary sum;

    pending out[OUT_Q];     /* owed answers, oldest first (ring) */
    unsigned out_head, out_n;
    unsigned out_req;       /* of them, requests */
    prn_void lost;          /* notifications that never came, not yet said */
    uint8_t sel;            /* selected object type (device rule, §6.1) */
    bool sel_flagged;       /* write_without_object reported for this selection */

    uint16_t prn;           /* notifications expected every prn WRITEs (0: none) */
    uint16_t prn_set;       /* what the host last set */
    uint64_t prn_set_at;    /* sum.writes when it did */
    bool prn_reset;         /* the target reset since: its PRN is 0 (RAM) */
    uint32_t prn_count;

    /* current image */
    unsigned image;         /* 0: none yet */
    dk_image_sum *img;      /* summary slot, NULL past DK_SESSION_MAX_IMAGES */
    bool img_active;        /* something was written or executed */
    bool img_done;          /* completed or failed at the end: the target reset */
    bool restart_counted;
    bool data_lost;         /* the target reported data offset 0 after a reset:
                               the next data CREATE restarts the image */
    enum init_state init;
    bool cmd_created;
    bool cmd_grounded;      /* cmd_off/cmd_crc are known (CREATE or a report) */
    uint32_t cmd_size, cmd_off, cmd_crc;
    bool cmd_known;         /* cmd_buf holds bytes [0, cmd_off) */
    bool cmd_beyond_flagged;
    uint64_t cmd_pos0, cmd_pos1;
    uint8_t cmd_buf[CMD_MAX];
    uint32_t prev_cmd_crc, prev_cmd_len; /* previous image's init packet */
    bool prev_done;
    dk_initpkt pkt;
    bool init_ev_due;       /* emit INIT after the EXECUTE exchange */
    dk_event init_ev;
    uint32_t image_size;    /* from the init packet, 0 unknown */
    uint32_t max_size;      /* data object size from SELECT (default 4096) */

    bool obj_open;          /* data object created, not executed */
    uint32_t obj_start, obj_size;
    bool obj_flagged;       /* one write_beyond / data_before_init per object */
    uint32_t data_off, data_crc; /* data_crc covers [0, data_off - stage_len) */
    bool data_crc_known;
    bool write_crc;         /* WRITE events carry the running CRC */
    bool write_events;      /* emit WRITE events */
    size_t stage_len;
    uint8_t stage[STAGE];   /* written data not yet in data_crc */
    dk_image_sum img_over;  /* images past DK_SESSION_MAX_IMAGES */
    bool data_seen;         /* offset/crc are grounded (from 0 or a report) */
    uint32_t last_off, last_crc; /* last executed boundary */
    bool last_crc_known;
    snapshot cp[CHECKPOINTS];
    unsigned cp_head, cp_n;

    /* resume */
    bool resume_on;
    uint8_t resume_obj;
    uint32_t resume_off, resume_crc;
    bool resume_open;       /* counted; cleared by fresh progress */

    /* write run */
    bool run_on;
    dk_event run;

    /* the port (dk_session_port) */
    dk_event port_q[4];     /* PORT events held while a request waits, so its */
    unsigned port_n;        /* line (printed at the answer) comes first */
    int port;               /* -1 unknown, 0 closed, 1 open */
    int64_t t_closed;       /* when it closed, -1 unknown */
    bool port_gap;          /* closed since the last message */
    int64_t closed_us;      /* message gaps across a closed port */

    bool stream_ok;         /* write_streaming may skip its slow-changing checks */
    bool err_open;          /* the target's last word so far was an error */
    dk_check bad_check;     /* the last CRC/offset mismatch an answer reported, */
    uint64_t bad_check_req; /* ... and the request count then */
    bool finished;

    /* result/ext for the next anomaly (set by error_anomaly) */
    bool an_set, an_has_ext;
    uint8_t an_result, an_ext;
};

/* ---- emission ------------------------------------------------------- */

/* Bring data_crc up to data_off. */
static void sync_crc(dk_session *s)
{
    if (!s->stage_len)
        return;
    if (s->data_crc_known)
        s->data_crc = dk_crc32(s->data_crc, s->stage, s->stage_len);
    s->stage_len = 0;
}

/* Before any state change outside the write path: CRC current, and the
 * running write run's CRC filled in while it still describes data_off. */
static void settle(dk_session *s)
{
    sync_crc(s);
    /* Once: after a report the tracker may take the target's CRC, which is
     * not the CRC of the bytes the run sent. */
    if (s->run_on && !s->run.u.run.crc_known && s->run.u.run.obj_type == DK_OBJ_DATA &&
        s->run.image == s->image && s->run.u.run.off_end == s->data_off && s->data_crc_known &&
        s->data_seen) {
        s->run.u.run.crc_end = s->data_crc;
        s->run.u.run.crc_known = true;
    }
}

static void flush_run(dk_session *s)
{
    if (!s->run_on)
        return;
    settle(s);
    s->run_on = false;
    s->cb(s->ctx, &s->run);
}

static void emit(dk_session *s, dk_event *ev)
{
    if (ev->kind != DK_EV_WRITE && ev->kind != DK_EV_PRN)
        flush_run(s);
    ev->image = s->image;
    s->cb(s->ctx, ev);
}

/* A zeroed event with its header filled in. */
static void event_head(dk_event *ev, dk_ev_kind kind, int64_t t, uint64_t start, uint64_t end,
                       dk_dir dir)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->t_us = t;
    ev->start = start;
    ev->end = end;
    ev->dir = dir;
}

/* An anomaly about bytes [start, end) of line dir at time t.  It sorts (ev
 * time, position, line) where it was found, or with the exchange `at` when
 * it explains that exchange's line. */
static void vnote(dk_session *s, const pending *at, dk_anomaly_id id, int64_t t, dk_dir dir,
                  uint64_t start, uint64_t end, uint8_t op, const char *fmt, va_list ap)
{
    dk_event ev;
    if (at)
        event_head(&ev, DK_EV_ANOMALY, at->t, at->start, at->end, DK_DIR_HOST);
    else
        event_head(&ev, DK_EV_ANOMALY, t, start, end, dir);
    dk_anomaly *a = &ev.u.an;
    a->id = id;
    a->severity = dk_anomaly_severity(id);
    a->dir = dir;
    a->start = start;
    a->end = end;
    a->op = op;
    if (s->an_set) {
        s->an_set = false;
        a->result = s->an_result;
        a->has_ext = s->an_has_ext;
        a->ext = s->an_ext;
    }
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    s->sum.anomalies++;
    if ((unsigned)id < DK_AN_COUNT)
        s->sum.an_count[id]++;
    emit(s, &ev);
}

static void note_op(dk_session *s, dk_anomaly_id id, int64_t t, dk_dir dir, uint64_t start,
                    uint64_t end, uint8_t op, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void note_op(dk_session *s, dk_anomaly_id id, int64_t t, dk_dir dir, uint64_t start,
                    uint64_t end, uint8_t op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(s, NULL, id, t, dir, start, end, op, fmt, ap);
    va_end(ap);
}

/* An anomaly in a response that explains the exchange of request p. */
static void note_in(dk_session *s, const pending *p, dk_anomaly_id id, int64_t t, uint64_t start,
                    uint64_t end, uint8_t op, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void note_in(dk_session *s, const pending *p, dk_anomaly_id id, int64_t t, uint64_t start,
                    uint64_t end, uint8_t op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(s, p, id, t, DK_DIR_TARGET, start, end, op, fmt, ap);
    va_end(ap);
}

void dk_session_note(dk_session *s, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                     uint64_t end, const char *fmt, ...)
{
    s->stream_ok = false;
    va_list ap;
    va_start(ap, fmt);
    vnote(s, NULL, id, t_us, dir, start, end, 0, fmt, ap);
    va_end(ap);
}

static const char *obj_word(uint8_t t)
{
    return t == DK_OBJ_COMMAND ? "command" : t == DK_OBJ_DATA ? "data" : "invalid";
}

static const char *op_word(uint8_t op, char buf[DK_NAME_BUFSZ])
{
    return dk_op_str(op, buf);
}

/* ---- lifecycle ------------------------------------------------------ */

static void cp_push(dk_session *s, uint32_t off, uint32_t crc)
{
    snapshot *c = &s->cp[s->cp_head];
    c->offset = off;
    c->crc = crc;
    c->crc_known = true;
    s->cp_head = (s->cp_head + 1) % CHECKPOINTS;
    if (s->cp_n < CHECKPOINTS)
        s->cp_n++;
}

static const snapshot *cp_find(const dk_session *s, uint32_t off)
{
    for (unsigned i = 0; i < s->cp_n; i++) {
        const snapshot *c = &s->cp[(s->cp_head + CHECKPOINTS - 1 - i) % CHECKPOINTS];
        if (c->offset == off)
            return c;
    }
    return NULL;
}

/* Data progress back to zero, as after a command CREATE (§6.4). */
static void reset_data(dk_session *s, bool grounded)
{
    s->obj_open = false;
    s->obj_start = s->obj_size = 0;
    s->obj_flagged = false;
    s->data_off = s->data_crc = 0;
    s->stage_len = 0;
    s->data_crc_known = grounded;
    s->data_seen = grounded;
    s->last_off = s->last_crc = 0;
    s->last_crc_known = grounded;
    s->cp_n = s->cp_head = 0;
    cp_push(s, 0, 0);
}

dk_session *dk_session_new(dk_session_cb cb, void *ctx)
{
    dk_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cb = cb;
    s->ctx = ctx;
    s->sel = DK_OBJ_COMMAND; /* the device's default after boot (§6.1) */
    s->max_size = 4096;
    s->sum.t_first = s->sum.t_last = -1;
    s->port = -1;
    s->t_closed = -1;
    s->sum.duration_s = -1;
    s->sum.throughput_Bps = -1;
    s->init = INIT_UNKNOWN;
    s->write_events = true;
    reset_data(s, false);
    return s;
}

void dk_session_free(dk_session *s)
{
    free(s);
}

const dk_summary *dk_session_summary(const dk_session *s)
{
    return &s->sum;
}

void dk_session_write_crc(dk_session *s, bool on)
{
    s->stream_ok = false;
    s->write_crc = on;
}

void dk_session_write_events(dk_session *s, bool on)
{
    s->stream_ok = false;
    s->write_events = on;
}

bool dk_session_awaiting(const dk_session *s)
{
    return s->out_n > 0;
}

/* ---- images --------------------------------------------------------- */

static void open_image(dk_session *s, bool created, uint32_t cmd_size, int64_t t,
                       uint64_t start, uint64_t end)
{
    if (s->image > 0 && !s->img_active && !s->img_done) {
        /* Nothing happened in the current slot (e.g. only a SELECT): reuse it. */
    } else {
        if (s->image > 0 && s->cmd_known && s->cmd_off > 0) {
            s->prev_cmd_crc = s->cmd_crc;
            s->prev_cmd_len = s->cmd_off;
            s->prev_done = s->img_done;
        } else {
            s->prev_cmd_len = 0;
        }
        s->image++;
    }
    s->sum.n_images = s->image;
    s->img = s->image <= DK_SESSION_MAX_IMAGES ? &s->sum.img[s->image - 1] : &s->img_over;
    if (s->img) {
        memset(s->img, 0, sizeof *s->img);
        s->img->index = s->image;
        s->img->cmd_size = cmd_size;
    }
    s->img_active = false;
    s->img_done = false;
    s->restart_counted = false;
    s->data_lost = false;
    s->init = created ? INIT_NONE : INIT_UNKNOWN;
    s->cmd_created = created;
    s->cmd_grounded = created;
    s->cmd_size = cmd_size;
    s->cmd_off = s->cmd_crc = 0;
    s->cmd_known = created;
    s->cmd_beyond_flagged = false;
    s->init_ev_due = false;
    s->image_size = 0;
    reset_data(s, created);
    dk_event ev;
    event_head(&ev, DK_EV_IMAGE, t, start, end, DK_DIR_HOST);
    ev.u.img.index = s->image;
    ev.u.img.cmd_size = cmd_size;
    emit(s, &ev);
}

/* The capture shows object traffic before any command CREATE: open an image
 * whose beginning is not in the capture. */
static void ensure_image(dk_session *s, int64_t t, uint64_t start, uint64_t end)
{
    if (s->image == 0 || (s->img_done && s->img_active))
        open_image(s, false, 0, t, start, end);
}

static void image_done(dk_session *s, int64_t t, uint64_t start, uint64_t end)
{
    s->img_done = true;
    if (s->img) {
        s->img->completed = true;
        s->img->offset = s->data_off;
    }
    dk_event ev;
    event_head(&ev, DK_EV_IMAGE, t, start, end, DK_DIR_TARGET);
    ev.u.img.done = true;
    ev.u.img.index = s->image;
    ev.u.img.cmd_size = s->cmd_size;
    ev.u.img.has_type = s->img && s->img->has_type;
    ev.u.img.fw_type = s->img ? s->img->fw_type : 0;
    ev.u.img.size = s->data_off;
    ev.u.img.crc = s->data_crc;
    emit(s, &ev);
}

/* ---- resume --------------------------------------------------------- */

static void resume_emit(dk_session *s, dk_resume_how how, uint32_t from, int64_t t,
                        uint64_t start, uint64_t end)
{
    dk_event ev;
    event_head(&ev, DK_EV_RESUME, t, start, end, DK_DIR_HOST);
    ev.u.resume.obj_type = s->resume_obj;
    ev.u.resume.offset = s->resume_off;
    ev.u.resume.crc = s->resume_crc;
    ev.u.resume.how = how;
    ev.u.resume.from = from;
    s->resume_on = false;
    if (how == DK_RESUME_RESTART) {
        s->sum.restarts++;
        s->restart_counted = true;
    } else if (!s->resume_open) {
        s->sum.resumes++;
        s->resume_open = true;
    }
    emit(s, &ev);
}

/* The host's next step after a SELECT that reported offset > 0 says how it
 * used it (§5.2: send_init_packet / try_to_recover). */
static void resume_resolve(dk_session *s, const dk_msg *m, int64_t t, uint64_t start,
                           uint64_t end)
{
    if (!s->resume_on)
        return;
    uint8_t op = m->op;
    uint8_t ctype = op == DK_OP_OBJECT_CREATE ? m->req.create.type : 0;
    if (op == DK_OP_OBJECT_CREATE && ctype == DK_OBJ_COMMAND) {
        resume_emit(s, DK_RESUME_RESTART, 0, t, start, end);
        return;
    }
    if (s->resume_obj == DK_OBJ_COMMAND) {
        if ((op == DK_OP_OBJECT_WRITE || op == DK_OP_OBJECT_EXECUTE) && s->sel == DK_OBJ_COMMAND)
            resume_emit(s, DK_RESUME_CONTINUE, s->cmd_off, t, start, end);
        return;
    }
    if ((op == DK_OP_OBJECT_WRITE || op == DK_OP_OBJECT_EXECUTE) && s->sel == DK_OBJ_DATA)
        resume_emit(s, DK_RESUME_CONTINUE, s->data_off, t, start, end);
    else if (op == DK_OP_OBJECT_CREATE && ctype == DK_OBJ_DATA)
        resume_emit(s, s->resume_off == s->last_off ? DK_RESUME_CONTINUE : DK_RESUME_OBJECT_RESTART,
                    s->last_off, t, start, end);
}

/* ---- reported offset/CRC checks ------------------------------------ */

/* The target reset (power cut, ABORT, the end of an image): its PRN target
 * is 0 again (RAM) until the host sets it (§2.3, §6.9).  seen_late: the
 * reset shows only now (a SELECT): a RECEIPT_NOTIF_SET sent after the last
 * WRITE came after it (the host sets PRN when it reconnects) and holds. */
static void target_reset(dk_session *s, bool seen_late)
{
    if (seen_late && s->prn_set_at == s->sum.writes && s->sum.writes) {
        s->prn_count = 0;
        return;
    }
    if (s->prn) {
        s->prn_set = s->prn;
        s->prn = 0;
        s->prn_reset = true;
    }
    s->prn_count = 0;
}

typedef struct {
    dk_check check;
    uint32_t exp_off, exp_crc;
    dk_anomaly_id an;  /* DK_AN_COUNT: none */
    char text[160];
} report;

/* Compare what the target reports for obj with what was sent, then take the
 * target's values so one fault is reported once.  is_select: a SELECT (a
 * lower offset there means progress was lost, not bytes). */
static void check_report(dk_session *s, uint8_t obj, uint32_t off, uint32_t crc, bool is_select,
                         const char *what, report *r)
{
    r->an = DK_AN_COUNT;
    r->check = DK_CHECK_NONE;
    if (obj == DK_OBJ_COMMAND) {
        r->exp_off = s->cmd_off;
        r->exp_crc = s->cmd_crc;
        if (!s->cmd_grounded || s->img_done) {
            r->check = DK_CHECK_ADOPTED;
        } else if (off == s->cmd_off) {
            r->check = crc == s->cmd_crc ? DK_CHECK_OK : DK_CHECK_CRC_BAD;
        } else if (off < s->cmd_off) {
            r->check = DK_CHECK_OFFSET_BAD;
            if (s->cmd_known) {
                uint32_t c = dk_crc32(0, s->cmd_buf, off);
                r->exp_crc = c;
                if (c != crc) {
                    r->an = DK_AN_DFU_CRC_MISMATCH;
                    snprintf(r->text, sizeof r->text,
                             "%s reports command crc=0x%08x at offset %u, the bytes sent give 0x%08x",
                             what, (unsigned)crc, (unsigned)off, (unsigned)c);
                }
            }
            if (is_select)
                target_reset(s, true); /* only a reset loses RAM progress (§6.9) */
            if (r->an == DK_AN_COUNT) {
                r->an = is_select ? DK_AN_DFU_OFFSET_BACKWARDS : DK_AN_DFU_OFFSET_MISMATCH;
                snprintf(r->text, sizeof r->text,
                         "%s reports command offset %u, but %u bytes were sent%s", what,
                         (unsigned)off, (unsigned)s->cmd_off,
                         is_select ? (off ? ": the target kept only part of the init packet"
                                          : ": the target lost the init packet")
                                   : "");
            }
        } else {
            r->check = DK_CHECK_OFFSET_BAD;
            r->an = DK_AN_DFU_OFFSET_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports command offset %u, but only %u bytes were sent", what,
                     (unsigned)off, (unsigned)s->cmd_off);
        }
        if (r->check == DK_CHECK_CRC_BAD) {
            r->an = DK_AN_DFU_CRC_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports command crc=0x%08x at offset %u, the bytes sent give 0x%08x", what,
                     (unsigned)crc, (unsigned)off, (unsigned)s->cmd_crc);
        }
        if (r->check != DK_CHECK_OK) {
            if (off > s->cmd_off || !s->cmd_grounded || s->img_done)
                s->cmd_known = off == 0;
            s->cmd_off = off;
            s->cmd_crc = crc;
            s->cmd_grounded = true;
        }
        return;
    }
    if (obj != DK_OBJ_DATA)
        return;
    r->exp_off = s->data_off;
    r->exp_crc = s->data_crc;
    if (!s->data_seen || s->img_done) {
        r->check = DK_CHECK_ADOPTED;
    } else if (off == s->data_off) {
        if (!s->data_crc_known)
            r->check = DK_CHECK_ADOPTED;
        else
            r->check = crc == s->data_crc ? DK_CHECK_OK : DK_CHECK_CRC_BAD;
        if (r->check == DK_CHECK_CRC_BAD) {
            r->an = DK_AN_DFU_CRC_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports crc=0x%08x at offset %u, the bytes sent give 0x%08x", what,
                     (unsigned)crc, (unsigned)off, (unsigned)s->data_crc);
        }
    } else if (off < s->data_off) {
        r->check = DK_CHECK_OFFSET_BAD;
        if (is_select) {
            target_reset(s, true);
            /* The host can only go on from 0: a restart when it does. */
            s->data_lost = off == 0;
        }
        const snapshot *c = cp_find(s, off);
        if (c && c->crc != crc) {
            r->an = DK_AN_DFU_CRC_MISMATCH;
            r->exp_crc = c->crc;
            snprintf(r->text, sizeof r->text,
                     "%s reports crc=0x%08x at offset %u, the bytes sent there gave 0x%08x", what,
                     (unsigned)crc, (unsigned)off, (unsigned)c->crc);
        } else if (is_select) {
            r->an = DK_AN_DFU_OFFSET_BACKWARDS;
            if (off == 0)
                snprintf(r->text, sizeof r->text,
                         "%s reports offset 0 after %u bytes were sent: the target lost its "
                         "progress (it reset), the data must be sent again from 0",
                         what, (unsigned)s->data_off);
            else
                snprintf(r->text, sizeof r->text,
                         "%s reports offset %u after %u bytes were sent: the transfer resumes "
                         "from %u",
                         what, (unsigned)off, (unsigned)s->data_off, (unsigned)off);
        } else {
            r->an = DK_AN_DFU_OFFSET_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports offset %u, but %u bytes were sent: %u bytes did not arrive", what,
                     (unsigned)off, (unsigned)s->data_off, (unsigned)(s->data_off - off));
        }
    } else {
        r->check = DK_CHECK_OFFSET_BAD;
        r->an = DK_AN_DFU_OFFSET_MISMATCH;
        snprintf(r->text, sizeof r->text,
                 "%s reports offset %u, but only %u bytes were sent", what, (unsigned)off,
                 (unsigned)s->data_off);
    }
    if (r->check != DK_CHECK_OK) {
        s->data_off = off;
        s->data_crc = crc;
        s->data_crc_known = true;
        s->data_seen = true;
        if (is_select || off < s->last_off) {
            /* Where a data CREATE would roll back to (§6.4). */
            uint32_t ms = s->max_size ? s->max_size : 4096;
            if (off % ms == 0 || (s->image_size && off == s->image_size)) {
                s->last_off = off;
                s->last_crc = crc;
                s->last_crc_known = true;
            } else {
                s->last_off = off - off % ms;
                const snapshot *c = cp_find(s, s->last_off);
                s->last_crc_known = c != NULL;
                s->last_crc = c ? c->crc : 0;
            }
        }
    }
}

/* ---- exchanges ------------------------------------------------------ */

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

static void emit_init_if_due(dk_session *s)
{
    if (!s->init_ev_due)
        return;
    s->init_ev_due = false;
    s->init_ev.u.init.pkt = s->init_ev.u.init.ok ? &s->pkt : NULL;
    s->init_ev.u.init.bytes = s->cmd_buf;
    emit(s, &s->init_ev);
    if (!s->init_ev.u.init.ok && s->init_ev.u.init.len > 0) {
        const dk_err *e = &s->init_ev.u.init.err;
        note_op(s, DK_AN_INIT_MALFORMED, s->init_ev.t_us, DK_DIR_HOST, s->cmd_pos0, s->cmd_pos1,
                DK_OP_OBJECT_EXECUTE, "init packet byte %llu: %s",
                (unsigned long long)(e->has_offset ? e->offset : 0), e->msg);
    }
}

static void exchange_base(dk_event *ev, const pending *p)
{
    event_head(ev, DK_EV_EXCHANGE, p->t, p->start, p->end, DK_DIR_HOST);
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

/* A request that will never be answered. */
static void unanswered(dk_session *s, pending *p, const char *why)
{
    if (!p->on)
        return;
    p->on = false;
    dk_event ev;
    exchange_base(&ev, p);
    emit(s, &ev);
    char b[DK_NAME_BUFSZ];
    note_op(s, DK_AN_DFU_NO_RESPONSE, p->t, DK_DIR_HOST, p->start, p->end, p->m.op,
            "%s (%s object) was never answered%s", op_word(p->m.op, b), obj_word(p->obj), why);
    emit_init_if_due(s);
}

/* ---- owed answers ---------------------------------------------------- */

static pending *out_at(dk_session *s, unsigned i)
{
    return &s->out[(s->out_head + i) % OUT_Q];
}

static void out_drop(dk_session *s)
{
    if (!s->out[s->out_head].prn)
        s->out_req--;
    s->out_head = (s->out_head + 1) % OUT_Q;
    s->out_n--;
}

static pending out_pop(dk_session *s)
{
    pending p = s->out[s->out_head];
    out_drop(s);
    return p;
}

static void prn_void_flush(dk_session *s, const char *why)
{
    prn_void *v = &s->lost;
    if (!v->n)
        return;
    if (v->n == 1)
        note_op(s, DK_AN_DFU_NO_RESPONSE, v->t, DK_DIR_HOST, v->start, v->end, DK_OP_OBJECT_WRITE,
                "the PRN notification due at %s offset %u never came%s", obj_word(v->obj),
                (unsigned)v->first, why);
    else
        note_op(s, DK_AN_DFU_NO_RESPONSE, v->t, DK_DIR_HOST, v->start, v->end, DK_OP_OBJECT_WRITE,
                "%u PRN notifications due at %s offsets %u to %u never came%s", v->n,
                obj_word(v->obj), (unsigned)v->first, (unsigned)v->last, why);
    v->n = 0;
}

/* The k oldest owed answers will never come: the target answers in order
 * (§6.1), and something later was answered, or the capture ends.  Said
 * now, unless quiet: notifications then join the next note. */
static void out_close(dk_session *s, unsigned k, const char *why, bool quiet)
{
    prn_void *v = &s->lost;
    while (k-- > 0 && s->out_n > 0) {
        pending *p = out_at(s, 0);
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
static pending *out_push(dk_session *s, bool prn)
{
    if (s->out_n == OUT_Q)
        out_close(s, 1, "", true); /* notifications: said with the next ones */
    pending *p = out_at(s, s->out_n);
    s->out_n++;
    if (!prn)
        s->out_req++;
    return p;
}

/* Which owed answer a response is: the oldest it can be (§6.1), skipping
 * answers that never came.  A CRC_GET-shaped response is a PRN
 * notification or a CRC_GET's answer: the first of those whose offset it
 * reports, else the oldest (§2.3); when a notification and the CRC_GET sent
 * right after its write both have that offset, the notification, unless
 * earlier ones never came.  A PING echo names its request (§2.2).  -1:
 * none. */
static int out_match(dk_session *s, const dk_msg *m)
{
    int first = -1, prn_hit = -1;
    bool by_off = m->op == DK_OP_CRC_GET && m->result == DK_RES_SUCCESS;
    for (unsigned i = 0; i < s->out_n; i++) {
        const pending *p = out_at(s, i);
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
            if (prn_hit < 0 && (int)i == first && !s->lost.n)
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

/* A CRC or offset mismatch the target reported (see dk_summary.stop_check). */
static void mismatch_seen(dk_session *s, dk_anomaly_id an)
{
    if (an == DK_AN_DFU_CRC_MISMATCH || an == DK_AN_DFU_OFFSET_MISMATCH) {
        s->bad_check = an == DK_AN_DFU_CRC_MISMATCH ? DK_CHECK_CRC_BAD : DK_CHECK_OFFSET_BAD;
        s->bad_check_req = s->sum.requests;
    }
}

static void fail_note(dk_session *s, const pending *p, const dk_msg *m, uint64_t start)
{
    s->err_open = true;
    s->sum.fail_stage = p ? stage_of(p) : DK_STAGE_NONE;
    s->sum.fail_op = m->op;
    s->sum.fail_result = m->result;
    s->sum.fail_has_ext = m->has_ext;
    s->sum.fail_ext = m->ext;
    s->sum.fail_pos = start;
    if (s->img && p && (s->sum.fail_stage == DK_STAGE_INIT || s->sum.fail_stage == DK_STAGE_FINAL ||
                        s->sum.fail_stage == DK_STAGE_DATA)) {
        s->img->failed = true;
        s->img->result = m->result;
        s->img->ext = m->ext;
    }
}

/* p: the exchange the error answers (the anomaly sorts with it), or NULL. */
static void error_anomaly(dk_session *s, const pending *p, const dk_msg *m, const char *ctx,
                          int64_t t, uint64_t start, uint64_t end)
{
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    s->an_set = true;
    s->an_result = m->result;
    s->an_has_ext = m->has_ext;
    s->an_ext = m->ext;
    if (m->result == DK_RES_EXT_ERROR) {
        const char *mean = dk_ext_meaning(m->ext);
        note_in(s, p, DK_AN_DFU_EXT_ERROR, t, start, end, m->op,
                "%s%s answered EXT_ERROR %s (0x%02x): %s", ctx, op_word(m->op, b1),
                m->has_ext ? dk_ext_str(m->ext, b2) : "(code missing)", (unsigned)m->ext,
                mean ? mean : "unknown extended error");
    } else {
        const char *mean = dk_result_meaning(m->result);
        note_in(s, p, DK_AN_DFU_ERROR_RESULT, t, start, end, m->op,
                "%s%s answered %s (0x%02x): %s", ctx, op_word(m->op, b1),
                dk_result_str(m->result, b2), (unsigned)m->result,
                mean ? mean : "unknown result code");
    }
}

static void on_execute_ok(dk_session *s, const pending *p, int64_t t, uint64_t start,
                          uint64_t end, bool *completed)
{
    if (p->obj == DK_OBJ_COMMAND) {
        s->init = INIT_VALID;
        if (s->img)
            s->img->init_ok = true;
        if (!s->restart_counted && s->prev_cmd_len && !s->prev_done && s->cmd_known &&
            s->prev_cmd_len == s->cmd_off && s->prev_cmd_crc == s->cmd_crc) {
            s->sum.restarts++;
            s->restart_counted = true;
            if (s->img)
                s->img->restart = true;
        }
        return;
    }
    if (p->obj != DK_OBJ_DATA)
        return;
    s->img_active = true;
    s->last_off = s->data_off;
    s->last_crc = s->data_crc;
    s->last_crc_known = s->data_crc_known;
    if (s->data_crc_known)
        cp_push(s, s->data_off, s->data_crc);
    /* A late answer may come after the host created the next object: that
     * one stays open. */
    bool was_open = p->exec_open && s->obj_open && s->obj_start == p->exec_start;
    if (was_open)
        s->obj_open = false;
    if (p->final || (was_open && !s->image_size && s->obj_size < s->max_size &&
                     s->data_off == s->obj_start + s->obj_size)) {
        (void)t;
        (void)start;
        (void)end;
        *completed = true;
    }
}

static void on_failure_state(dk_session *s, const pending *p)
{
    if (p->m.op == DK_OP_OBJECT_CREATE) {
        if (p->m.req.create.type == DK_OBJ_COMMAND)
            s->cmd_created = false;
        else
            s->obj_open = false;
    } else if (p->m.op == DK_OP_OBJECT_EXECUTE && p->obj == DK_OBJ_COMMAND) {
        s->init = INIT_REJECTED;
        s->img_done = true; /* progress reset on the target (§6.5) */
    } else if (p->m.op == DK_OP_OBJECT_EXECUTE && p->final) {
        s->img_done = true; /* reset after postvalidation either way (§6.6) */
    }
}

static void pair(dk_session *s, pending *p, const dk_msg *m, bool late, int64_t t,
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
        switch (m->op) {
        case DK_OP_OBJECT_SELECT: {
            uint8_t obj = p->m.req.select.type;
            if ((obj == DK_OBJ_COMMAND || obj == DK_OBJ_DATA) && m->rsp.select.offset > 0)
                ensure_image(s, p->t, p->start, end);
            if (obj == DK_OBJ_DATA && m->rsp.select.max_size)
                s->max_size = m->rsp.select.max_size;
            check_report(s, obj, m->rsp.select.offset, m->rsp.select.crc, true, "SELECT", &r);
            if (obj == DK_OBJ_COMMAND) {
                if (m->rsp.select.offset == 0 && s->init == INIT_UNKNOWN)
                    s->init = INIT_NONE;
                else if (m->rsp.select.offset > 0 &&
                         (s->init == INIT_UNKNOWN || s->init == INIT_NONE || s->img_done))
                    s->init = INIT_PENDING;
            }
            if ((obj == DK_OBJ_COMMAND || obj == DK_OBJ_DATA) && m->rsp.select.offset > 0) {
                s->resume_on = true;
                s->resume_obj = obj;
                s->resume_off = m->rsp.select.offset;
                s->resume_crc = m->rsp.select.crc;
            }
            break;
        }
        case DK_OP_CRC_GET:
            check_report(s, p->obj, m->rsp.crc.offset, m->rsp.crc.crc, false, "CRC_GET", &r);
            s->err_open = false;
            break;
        case DK_OP_OBJECT_EXECUTE:
            on_execute_ok(s, p, t, start, end, &completed);
            s->err_open = false;
            break;
        case DK_OP_OBJECT_CREATE:
            s->err_open = false;
            break;
        default:
            break;
        }
    } else {
        fail_note(s, p, m, start);
        on_failure_state(s, p);
    }
    x->check = r.check;
    x->exp_offset = r.exp_off;
    x->exp_crc = r.exp_crc;
    emit(s, &ev);

    /* What the answer shows is printed under the exchange's line, at its
     * time: a late answer arrives after lines of later requests. */
    char b[DK_NAME_BUFSZ];
    if (late)
        note_in(s, p, DK_AN_DFU_LATE_RESPONSE, t, start, end, m->op,
                "the answer to %s came after the host had sent its next request: every later "
                "answer may be read as the previous one's",
                op_word(m->op, b));
    if (r.an != DK_AN_COUNT) {
        note_in(s, p, r.an, t, start, end, m->op, "%s", r.text);
        mismatch_seen(s, r.an);
    }
    if (!ok) {
        bool obj = p->obj == DK_OBJ_DATA || p->obj == DK_OBJ_COMMAND;
        char ctx[64];
        snprintf(ctx, sizeof ctx, "%s%s", obj ? obj_word(p->obj) : "", obj ? " " : "");
        error_anomaly(s, p, m, ctx, t, start, end);
    }
    emit_init_if_due(s);
    if (completed || (p->m.op == DK_OP_OBJECT_EXECUTE && p->final))
        target_reset(s, false); /* after the final EXECUTE, either way (§6.6) */
    if (completed)
        image_done(s, t, start, end);
}

/* ---- requests ------------------------------------------------------- */

/* The data bytes of a write: flags, the running CRC (staged, see STAGE),
 * progress.  Returns the image offset they went to. */
static uint32_t write_data(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                           uint64_t start, uint64_t end)
{
    ensure_image(s, t, start, end);
    s->img_active = true;
    if (!s->obj_flagged && (s->init == INIT_NONE || s->init == INIT_REJECTED)) {
        s->obj_flagged = true;
        note_op(s, DK_AN_DFU_DATA_BEFORE_INIT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "data written at offset %u while the target holds no valid init packet%s",
                (unsigned)s->data_off, s->init == INIT_REJECTED ? " (it was rejected)" : "");
    }
    if (s->obj_open && !s->obj_flagged &&
        (uint64_t)s->data_off + len > (uint64_t)s->obj_start + s->obj_size) {
        s->obj_flagged = true;
        note_op(s, DK_AN_DFU_WRITE_BEYOND_OBJECT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "data write [%u, %u) goes past the object [%u, %u)", (unsigned)s->data_off,
                (unsigned)(s->data_off + len), (unsigned)s->obj_start,
                (unsigned)(s->obj_start + s->obj_size));
    }
    uint32_t offset = s->data_off;
    if (s->data_crc_known) {
        if (len > STAGE - s->stage_len)
            sync_crc(s);
        if (len > STAGE) {
            s->data_crc = dk_crc32(s->data_crc, data, len);
        } else {
            memcpy(s->stage + s->stage_len, data, len);
            s->stage_len += len;
        }
    }
    s->data_off += (uint32_t)len;
    s->sum.bytes_data += len;
    if (s->img) {
        s->img->bytes_sent += len;
        if (s->data_off > s->img->offset)
            s->img->offset = s->data_off;
    }
    if (s->write_crc || (s->prn && s->prn_count + 1 >= s->prn))
        sync_crc(s);
    return offset;
}

/* The command bytes of a write: kept (the init packet is decoded at EXECUTE)
 * and CRCed.  Returns the offset in the command object. */
static uint32_t write_cmd(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                          uint64_t start, uint64_t end)
{
    ensure_image(s, t, start, end);
    s->img_active = true;
    if (s->cmd_off == 0)
        s->cmd_pos0 = start;
    s->cmd_pos1 = end;
    uint32_t offset = s->cmd_off;
    if (s->cmd_known) {
        if (len <= CMD_MAX - s->cmd_off && s->cmd_off <= CMD_MAX) {
            if (len)
                memcpy(s->cmd_buf + s->cmd_off, data, len);
        } else {
            s->cmd_known = false;
        }
    }
    s->cmd_crc = dk_crc32(s->cmd_crc, data, len);
    s->cmd_off += (uint32_t)len;
    s->sum.bytes_cmd += len;
    if (s->cmd_created && s->cmd_off > s->cmd_size && !s->cmd_beyond_flagged) {
        s->cmd_beyond_flagged = true;
        note_op(s, DK_AN_DFU_WRITE_BEYOND_OBJECT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "command write up to offset %u, but the command object has %u bytes",
                (unsigned)s->cmd_off, (unsigned)s->cmd_size);
    }
    return offset;
}

/* The hot path: one OBJECT_WRITE (every frame of the firmware). */
static void on_write(dk_session *s, const uint8_t *data, size_t len, int64_t t, uint64_t start,
                     uint64_t end)
{
    s->sum.writes++;
    if (s->resume_on) {
        dk_msg m = dk_msg_request(DK_OP_OBJECT_WRITE);
        resume_resolve(s, &m, t, start, end);
    }

    uint8_t obj = s->sel;
    uint32_t offset = 0, crc = 0;
    bool crc_known = false;
    if (obj == DK_OBJ_DATA) {
        offset = write_data(s, data, len, t, start, end);
        crc = s->data_crc;
        crc_known = s->data_crc_known && s->data_seen && s->stage_len == 0;
    } else if (obj == DK_OBJ_COMMAND) {
        offset = write_cmd(s, data, len, t, start, end);
        crc = s->cmd_crc;
        crc_known = s->cmd_grounded;
    } else if (!s->sel_flagged) {
        s->sel_flagged = true;
        note_op(s, DK_AN_DFU_WRITE_WITHOUT_OBJECT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "write while object type %u is selected", (unsigned)obj);
    }
    uint32_t off_end = offset + (uint32_t)len;

    if (s->prn && ++s->prn_count >= s->prn) {
        s->prn_count = 0;
        pending *q = out_push(s, true);
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

    if (s->write_events) {
        dk_event ev;
        ev.kind = DK_EV_WRITE;
        ev.t_us = t;
        ev.start = start;
        ev.end = end;
        ev.dir = DK_DIR_HOST;
        ev.u.w = (dk_write){ .obj_type = obj, .data = data, .len = len, .offset = offset,
                             .crc = crc, .crc_known = crc_known };
        emit(s, &ev);
    }

    /* fold (a data run's CRC is filled in by settle() when it ends) */
    dk_writes *r = &s->run.u.run;
    if (s->run_on && r->obj_type == obj && r->off_end == offset && s->run.image == s->image) {
        r->count++;
        r->bytes += len;
        r->off_end = off_end;
        r->crc_end = crc;
        r->crc_known = crc_known;
        r->t_last = t;
        s->run.end = end;
        return;
    }
    flush_run(s);
    memset(&s->run, 0, sizeof s->run);
    s->run.kind = DK_EV_WRITES;
    s->run.t_us = t;
    s->run.start = start;
    s->run.end = end;
    s->run.dir = DK_DIR_HOST;
    s->run.image = s->image;
    r->obj_type = obj;
    r->count = 1;
    r->bytes = len;
    r->off_start = offset;
    r->off_end = off_end;
    r->crc_end = crc;
    r->crc_known = crc_known;
    r->t_first = r->t_last = t;
    s->run_on = true;
}

/* The bulk of every capture: a data write that continues the current run
 * inside the open data object, with nothing to flag, no PRN falling due, no
 * resume to resolve and no per-write event wanted.  Does exactly what
 * on_write() does in that case, with a fraction of the work; false: not that
 * case, call on_write().  (tests/lib/test_session.c runs every scenario with
 * and without this path and compares the events.) */
static inline bool write_streaming(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                                   uint64_t end)
{
    dk_writes *r = &s->run.u.run;
    /* What only other events change is checked once (stream_ok is cleared
     * by every entry point but this path). */
    if (!s->stream_ok) {
        if (s->sel != DK_OBJ_DATA || s->write_events || s->write_crc || s->resume_on ||
            !s->run_on || r->obj_type != DK_OBJ_DATA || r->off_end != s->data_off ||
            s->run.image != s->image || !s->obj_open || !s->data_crc_known || !s->img ||
            s->image == 0 || s->img_done ||
            (!s->obj_flagged && (s->init == INIT_NONE || s->init == INIT_REJECTED)))
            return false;
        s->stream_ok = true;
    }
    uint64_t off_end = (uint64_t)s->data_off + len;
    if (off_end > (uint64_t)s->obj_start + s->obj_size || len > STAGE - s->stage_len ||
        (s->prn && s->prn_count + 1 >= s->prn))
        return false;
    s->sum.writes++;
    s->img_active = true;
    memcpy(s->stage + s->stage_len, data, len);
    s->stage_len += len;
    s->data_off = (uint32_t)off_end;
    s->sum.bytes_data += len;
    s->img->bytes_sent += len;
    if (s->data_off > s->img->offset)
        s->img->offset = s->data_off;
    if (s->prn)
        s->prn_count++;
    r->count++;
    r->bytes += len;
    r->off_end = s->data_off;
    r->crc_end = s->data_crc;
    r->crc_known = s->data_seen && s->stage_len == 0;
    r->t_last = t;
    s->run.end = end;
    return true;
}

static void on_request(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->sum.requests++;
    if (m->op == DK_OP_OBJECT_WRITE) {
        on_write(s, m->req.write.data, m->req.write.len, t, start, end);
        return;
    }
    settle(s);
    bool resolving = s->resume_on;
    resume_resolve(s, m, t, start, end);
    if (!(resolving && !s->resume_on) &&
        (m->op == DK_OP_PING || m->op == DK_OP_OBJECT_CREATE || m->op == DK_OP_OBJECT_EXECUTE))
        s->resume_open = false;

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

    char b[DK_NAME_BUFSZ];
    switch (m->op) {
    case DK_OP_OBJECT_CREATE: {
        uint8_t type = m->req.create.type;
        s->prn_count = 0;
        s->sel = type;
        s->sel_flagged = false;
        if (type == DK_OBJ_COMMAND) {
            open_image(s, true, m->req.create.size, t, start, end);
        } else if (type == DK_OBJ_DATA) {
            ensure_image(s, t, start, end);
            s->img_active = true;
            if (s->init == INIT_NONE || s->init == INIT_REJECTED)
                note_op(s, DK_AN_DFU_DATA_BEFORE_INIT, t, DK_DIR_HOST, start, end, m->op,
                        "data object created while the target holds no valid init packet%s",
                        s->init == INIT_REJECTED ? " (it was rejected)" : "");
            if (s->data_seen && s->data_off != s->last_off && !resolving)
                note_op(s, DK_AN_DFU_OBJECT_DISCARDED, t, DK_DIR_HOST, start, end, m->op,
                        "CREATE throws away %u bytes written after offset %u",
                        (unsigned)(s->data_off - s->last_off), (unsigned)s->last_off);
            if (s->data_seen) {
                s->data_off = s->last_off;
                s->data_crc = s->last_crc;
                s->data_crc_known = s->last_crc_known;
            }
            if (s->data_lost && s->data_off == 0) {
                s->sum.restarts++; /* the data again from 0 after a reset (§6.9) */
                s->data_lost = false;
            }
            s->obj_open = true;
            s->obj_start = s->data_off;
            s->obj_size = m->req.create.size;
            s->obj_flagged = s->init == INIT_NONE || s->init == INIT_REJECTED;
        }
        break;
    }
    case DK_OP_OBJECT_SELECT:
        s->sel = m->req.select.type;
        s->sel_flagged = false;
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        s->prn = s->prn_set = m->req.prn.target;
        s->prn_set_at = s->sum.writes;
        s->prn_reset = false;
        s->prn_count = 0;
        break;
    case DK_OP_OBJECT_EXECUTE:
        if (s->sel == DK_OBJ_COMMAND) {
            ensure_image(s, t, start, end);
            if (s->cmd_created && s->cmd_off < s->cmd_size)
                note_op(s, DK_AN_DFU_EXECUTE_INCOMPLETE, t, DK_DIR_HOST, start, end, m->op,
                        "command EXECUTE with %u of %u bytes", (unsigned)s->cmd_off,
                        (unsigned)s->cmd_size);
            /* Decode now; the INIT event follows the EXECUTE exchange. */
            dk_event *ie = &s->init_ev;
            memset(ie, 0, sizeof *ie);
            ie->kind = DK_EV_INIT;
            ie->t_us = t;
            ie->start = s->cmd_pos0;
            ie->end = s->cmd_pos1;
            ie->dir = DK_DIR_HOST;
            dk_init_ev *iv = &ie->u.init;
            iv->len = s->cmd_known ? s->cmd_off : 0;
            iv->crc = s->cmd_crc;
            if (s->cmd_known && s->cmd_off > 0) {
                iv->ok = dk_initpkt_decode(s->cmd_buf, s->cmd_off, &s->pkt, &iv->err) == DK_OK;
                if (iv->ok) {
                    s->image_size = dk_initpkt_image_size(&s->pkt);
                    if (s->img && s->pkt.has_init) {
                        s->img->has_type = s->pkt.init.has_type;
                        s->img->fw_type = s->pkt.init.type;
                        s->img->size = s->image_size;
                    }
                }
                s->init_ev_due = true;
            } else if (s->cmd_off > 0 || !s->cmd_grounded) {
                note_op(s, DK_AN_INIT_INCOMPLETE, t, DK_DIR_HOST, start, end, m->op,
                        "the init packet's bytes are not all in the capture (%u known)",
                        (unsigned)(s->cmd_known ? s->cmd_off : 0));
            }
        } else if (s->sel == DK_OBJ_DATA) {
            ensure_image(s, t, start, end);
            if (s->obj_open && s->data_off - s->obj_start < s->obj_size)
                note_op(s, DK_AN_DFU_EXECUTE_INCOMPLETE, t, DK_DIR_HOST, start, end, m->op,
                        "data EXECUTE with %u of %u bytes of the object at %u",
                        (unsigned)(s->data_off - s->obj_start), (unsigned)s->obj_size,
                        (unsigned)s->obj_start);
            p.final = s->image_size ? s->data_off == s->image_size : false;
            p.exec_open = s->obj_open;
            p.exec_start = s->obj_start;
            /* The target executes in request order: a CREATE sent before the
             * answer arrives already starts after this object (§6.1). */
            if (s->obj_open && s->data_off - s->obj_start == s->obj_size && s->data_seen) {
                s->last_off = s->data_off;
                s->last_crc = s->data_crc;
                s->last_crc_known = s->data_crc_known;
            }
        }
        break;
    default:
        break;
    }
    p.obj = s->sel;
    if (m->op == DK_OP_OBJECT_CREATE)
        p.obj = m->req.create.type;
    else if (m->op == DK_OP_OBJECT_SELECT)
        p.obj = m->req.select.type;

    if (m->op == DK_OP_CRC_GET)
        p.exp_off = p.obj == DK_OBJ_COMMAND ? s->cmd_off : s->data_off;
    if (dk_msg_expects_response(m->op)) {
        *out_push(s, false) = p;
    } else {
        /* ABORT: the target resets without answering (§2.2, §6.8). */
        target_reset(s, false);
        dk_event ev;
        exchange_base(&ev, &p);
        emit(s, &ev);
        (void)b;
    }
}

/* ---- responses ------------------------------------------------------ */

/* A PRN notification, checked against the write q that made it due. */
static void on_prn(dk_session *s, const pending *q, const dk_msg *m, int64_t t, uint64_t start,
                   uint64_t end)
{
    dk_event ev;
    event_head(&ev, DK_EV_PRN, t, start, end, DK_DIR_TARGET);
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
    if (s->run_on) {
        if (n->check == DK_CHECK_OK || n->check == DK_CHECK_ADOPTED)
            s->run.u.run.prn_ok++;
        else
            s->run.u.run.prn_bad++;
    }
    emit(s, &ev);
    if (r.an != DK_AN_COUNT) {
        note_op(s, r.an, t, DK_DIR_TARGET, start, end, DK_OP_CRC_GET, "%s", r.text);
        mismatch_seen(s, r.an);
        /* Take the target's word where it speaks of the present. */
        if (q->obj == DK_OBJ_DATA && q->exp_off == s->data_off) {
            s->data_off = n->offset;
            s->data_crc = n->crc;
        } else if (q->obj == DK_OBJ_COMMAND && q->exp_off == s->cmd_off) {
            s->cmd_off = n->offset;
            s->cmd_crc = n->crc;
            s->cmd_known = false;
        }
    }
    if (m->result != DK_RES_SUCCESS) {
        pending p;
        memset(&p, 0, sizeof p);
        p.m.op = DK_OP_OBJECT_WRITE;
        p.obj = q->obj;
        fail_note(s, &p, m, start);
        error_anomaly(s, NULL, m, "PRN on a failed write: ", t, start, end);
    } else {
        s->err_open = false;
    }
}

/* A notification while the tracker takes the target's PRN to be 0 after a
 * reset: it was not reset after all (or the host set PRN without the
 * capture showing it).  Checked only against the present offset. */
static void stray_prn(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->prn = s->prn_set;
    s->prn_reset = false;
    s->prn_count = 0;
    pending q;
    memset(&q, 0, sizeof q);
    q.obj = s->sel;
    bool data = q.obj == DK_OBJ_DATA;
    q.exp_off = data ? s->data_off : s->cmd_off;
    q.exp_crc = data ? s->data_crc : s->cmd_crc;
    q.crc_known = data ? s->data_seen && s->data_crc_known : s->cmd_grounded;
    if (m->rsp.crc.offset < q.exp_off) { /* an earlier write's: nothing to compare */
        q.exp_off = m->rsp.crc.offset;
        q.crc_known = false;
    }
    on_prn(s, &q, m, t, start, end);
}

static void on_response(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->sum.responses++;
    settle(s);
    int i = out_match(s, m);
    if (i >= 0) {
        if (i > 0 || s->lost.n)
            out_close(s, (unsigned)i, "", false);
        /* Used in place (neither changes the queue), then dropped. */
        pending *p = out_at(s, 0);
        if (p->prn)
            on_prn(s, p, m, t, start, end);
        else
            pair(s, p, m, s->out_req > 1, t, start, end);
        out_drop(s);
        return;
    }
    if (m->op == DK_OP_CRC_GET && m->result == DK_RES_SUCCESS && s->prn_reset && s->prn_set) {
        stray_prn(s, m, t, start, end);
        return;
    }
    const pending *w = NULL; /* the request whose answer is due */
    for (unsigned k = 0; k < s->out_n && !w; k++)
        if (!out_at(s, k)->prn)
            w = out_at(s, k);
    dk_event ev;
    event_head(&ev, DK_EV_EXCHANGE, t, start, end, DK_DIR_TARGET);
    ev.u.x.has_rsp = true;
    ev.u.x.rsp = *m;
    ev.u.x.t_req = -1;
    ev.u.x.t_rsp = t;
    ev.u.x.rsp_start = start;
    ev.u.x.rsp_end = end;
    ev.u.x.latency_us = -1;
    emit(s, &ev);
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    if (w)
        note_op(s, DK_AN_DFU_UNEXPECTED_OPCODE, t, DK_DIR_TARGET, start, end, m->op,
                "a response to %s arrived while %s waits for its answer", op_word(m->op, b1),
                op_word(w->m.op, b2));
    else if (m->op == DK_OP_CRC_GET && s->prn)
        note_op(s, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST, t, DK_DIR_TARGET, start, end, m->op,
                "PRN notification after %u writes, but PRN is every %u", (unsigned)s->prn_count,
                (unsigned)s->prn);
    else
        note_op(s, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST, t, DK_DIR_TARGET, start, end, m->op,
                "a response to %s, which no request asked for", op_word(m->op, b1));
    if (m->result != DK_RES_SUCCESS)
        error_anomaly(s, NULL, m, "", t, start, end);
}

/* ---- entry points --------------------------------------------------- */

/* A message at time t: first and last times, and a gap across a closed
 * port left out of the transfer time. */
static inline void seen_at(dk_session *s, int64_t t)
{
    if (t < 0)
        return;
    if (s->sum.t_first < 0) {
        s->sum.t_first = t;
    } else if (s->port_gap) {
        s->port_gap = false;
        if (t > s->sum.t_last)
            s->closed_us += t - s->sum.t_last;
    }
    s->sum.t_last = t;
}

/* Emit the first n held PORT events. */
static void port_flush(dk_session *s, unsigned n)
{
    if (n > s->port_n)
        n = s->port_n;
    for (unsigned i = 0; i < n; i++)
        emit(s, &s->port_q[i]);
    s->port_n -= n;
    memmove(s->port_q, s->port_q + n, s->port_n * sizeof s->port_q[0]);
}

void dk_session_port(dk_session *s, int64_t t_us, bool open, uint64_t pos)
{
    s->stream_ok = false;
    int was = s->port;
    s->port = open;
    if (was < 0 || was == (int)open)
        return;
    dk_event ev;
    event_head(&ev, DK_EV_PORT, t_us, pos, pos, DK_DIR_UNKNOWN);
    ev.u.port.open = open;
    ev.u.port.closed_us = open && s->t_closed >= 0 && t_us >= s->t_closed ? t_us - s->t_closed : -1;
    if (!open) {
        s->t_closed = t_us;
        s->port_gap = s->sum.t_first >= 0;
    }
    if (!s->out_req) {
        emit(s, &ev);
        return;
    }
    if (s->port_n == sizeof s->port_q / sizeof s->port_q[0])
        port_flush(s, 1);
    s->port_q[s->port_n++] = ev;
}

static void process(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    seen_at(s, t);
    if (m->is_response)
        on_response(s, m, t, start, end);
    else
        on_request(s, m, t, start, end);
    if (s->port_n && !s->out_req)
        port_flush(s, s->port_n);
}

void dk_session_msg(dk_session *s, const dk_msg *m, int64_t t_us, dk_dir dir, uint64_t start,
                    uint64_t end)
{
    s->stream_ok = false;
    (void)dir;
    process(s, m, t_us, start, end);
}

/* Noise glued to the front of a frame: find the longest tail that parses as
 * exactly one message.  A WRITE tail is only believed when its length is that
 * of the previous write (any bytes parse as a WRITE). */
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
            !(s->run_on && s->run.u.run.count &&
              (uint64_t)m.req.write.len * s->run.u.run.count == s->run.u.run.bytes))
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

/* Every frame but a host's WRITE (kept out of dk_session_frame so the hot
 * path stays a small function). */
__attribute__((noinline)) static void frame_parse(dk_session *s, const uint8_t *frame, size_t len,
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
        note_op(s, DK_AN_SLIP_EMPTY_FRAME, t_us, dir, start, end, 0, "empty frame");
        return;
    case DK_MSG_UNKNOWN_OP:
        if (first) {
            note_op(s, DK_AN_SLIP_BEFORE_FIRST, t_us, dir, start, end, 0,
                    "%zu bytes before the first frame end", len);
        } else if (m.is_response) {
            note_op(s, DK_AN_MSG_UNKNOWN_OPCODE, t_us, dir, start, end, m.op,
                    "response to unknown opcode 0x%02x (%zu bytes)", (unsigned)m.op, len);
        } else {
            note_op(s, DK_AN_MSG_UNKNOWN_OPCODE, t_us, dir, start, end, frame[0],
                    "unknown opcode 0x%02x (%zu bytes)", (unsigned)frame[0], len);
        }
        return;
    case DK_MSG_TRUNCATED:
        if (first) {
            note_op(s, DK_AN_SLIP_BEFORE_FIRST, t_us, dir, start, end, 0,
                    "%zu bytes before the first frame end", len);
            return;
        }
        note_op(s, DK_AN_MSG_TRUNCATED, t_us, dir, start, end, m.op,
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
        process(s, &m, t_us, start, end);
    for (int i = 0; i < nn; i++)
        note_op(s, notes[i].id, t_us, dir, notes[i].start, notes[i].end, notes[i].op, "%s",
                notes[i].text);
    if (!m.is_response)
        process(s, &m, t_us, start, end);
}

void dk_session_frame(dk_session *s, const uint8_t *frame, size_t len, bool first, int64_t t_us,
                      dk_dir dir, uint64_t start, uint64_t end)
{
    s->sum.frames++;
    /* Hot path: a WRITE from the host (any payload parses as one). */
    if (len > 0 && frame[0] == DK_OP_OBJECT_WRITE && dir != DK_DIR_TARGET) {
        seen_at(s, t_us);
        s->sum.requests++;
        if (write_streaming(s, frame + 1, len - 1, t_us, end))
            return;
        s->stream_ok = false;
        on_write(s, frame + 1, len - 1, t_us, start, end);
        return;
    }
    s->stream_ok = false;
    frame_parse(s, frame, len, first, t_us, dir, start, end);
}

void dk_session_slip(dk_session *s, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    /* Bytes of the line; the span may also cover capture headers. */
    unsigned long long line = ev->raw_len ? ev->raw_len : ev->end - ev->start;
    if (ev->kind != DK_SLIP_FRAME)
        s->stream_ok = false;
    switch (ev->kind) {
    case DK_SLIP_FRAME:
        dk_session_frame(s, ev->data, ev->len, ev->first, t_us, dir, ev->start, ev->end);
        break;
    case DK_SLIP_EMPTY:
        note_op(s, DK_AN_SLIP_EMPTY_FRAME, t_us, dir, ev->start, ev->end, 0,
                "END with nothing before it");
        break;
    case DK_SLIP_BAD_ESCAPE:
        note_op(s, DK_AN_SLIP_BAD_ESCAPE, t_us, dir, ev->start, ev->end, 0,
                "ESC at %llu not followed by DC/DD: %llu bytes dropped",
                (unsigned long long)(ev->bad_at ? ev->bad_at - 1 : 0), line);
        break;
    case DK_SLIP_TOO_LONG:
        note_op(s, DK_AN_SLIP_TOO_LONG, t_us, dir, ev->start, ev->end, 0,
                "frame of %llu bytes dropped", line);
        break;
    case DK_SLIP_UNTERMINATED:
        note_op(s, DK_AN_SLIP_UNTERMINATED, t_us, dir, ev->start, ev->end, 0,
                "%llu bytes without END at the end of the capture", line);
        break;
    }
}

void dk_session_finish(dk_session *s)
{
    s->stream_ok = false;
    if (s->finished)
        return;
    s->finished = true;
    settle(s);
    /* The newest request and what is owed after it: the capture ended. */
    unsigned last = s->out_n;
    for (unsigned i = s->out_n; i-- > 0 && last == s->out_n;)
        if (!out_at(s, i)->prn)
            last = i;
    out_close(s, last == s->out_n ? 0 : last, "", false);
    out_close(s, s->out_n, " (the capture ends)", false);
    port_flush(s, s->port_n);
    flush_run(s);
    dk_summary *u = &s->sum;
    if (s->img)
        s->img->offset = s->data_off > s->img->offset ? s->data_off : s->img->offset;
    bool done = s->img && s->img->completed;
    if (u->requests + u->responses == 0)
        u->outcome = DK_OUTCOME_EMPTY;
    else if (u->responses == 0)
        u->outcome = DK_OUTCOME_NO_RESPONSE;
    else if (s->err_open)
        u->outcome = DK_OUTCOME_FAILED;
    else if (done && s->img_done)
        u->outcome = DK_OUTCOME_COMPLETED;
    else
        u->outcome = DK_OUTCOME_INTERRUPTED;
    if (s->sel == DK_OBJ_COMMAND && !(s->init == INIT_VALID)) {
        u->stop_obj = DK_OBJ_COMMAND;
        u->stop_offset = s->cmd_off;
        u->stop_size = s->cmd_created ? s->cmd_size : 0;
    } else {
        u->stop_obj = DK_OBJ_DATA;
        u->stop_offset = s->data_off;
        u->stop_size = s->image_size;
        if (s->obj_open && !s->img_done) {
            u->stop_open = true;
            u->stop_open_start = s->obj_start;
            u->stop_open_end = s->obj_start + s->obj_size;
        }
    }
    if (s->bad_check != DK_CHECK_NONE && s->bad_check_req == u->requests)
        u->stop_check = s->bad_check;
    if (u->t_first >= 0 && u->t_last > u->t_first) {
        u->duration_s = (double)(u->t_last - u->t_first) / 1e6;
        u->closed_s = (double)s->closed_us / 1e6;
        int64_t active = u->t_last - u->t_first - s->closed_us;
        if (active > 0)
            u->throughput_Bps = (double)(u->bytes_data + u->bytes_cmd) / ((double)active / 1e6);
    } else if (u->t_first >= 0) {
        u->duration_s = 0;
    }
    dk_event ev;
    event_head(&ev, DK_EV_SUMMARY, u->t_last, 0, 0, DK_DIR_UNKNOWN);
    ev.u.sum = u;
    emit(s, &ev);
}
