/* session.c - DFU session tracker (see session.h; protocol.md §2-§6). */
#include "dfukit/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/diag.h"

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
    uint8_t sel;            /* selected object type (device rule, §6.1) */
    bool sel_flagged;       /* write_without_object reported for this selection */
    bool stream_ok;         /* write_streaming may skip its slow-changing checks */

    struct {                /* answers owed, and pairing them with responses */
        pending out[OUT_Q]; /* oldest first (ring) */
        unsigned head, n;
        unsigned req;       /* of them, requests */
        prn_void lost;      /* notifications that never came, not yet said */
    } pair;

    struct {                /* packet receipt notifications (§2.3) */
        uint16_t every;     /* expected every `every` WRITEs (0: none) */
        uint16_t set;       /* what the host last set */
        uint64_t set_at;    /* sum.writes when it did */
        bool reset;         /* the target reset since: its PRN is 0 (RAM) */
        uint32_t count;     /* WRITEs since the last notification */
    } prn;

    struct {                /* the current image */
        unsigned index;     /* 0: none yet */
        dk_image_sum *sum;  /* summary slot: sum.img[] or over */
        dk_image_sum over;  /* images past DK_SESSION_MAX_IMAGES */
        bool active;        /* something was written or executed */
        bool done;          /* completed or failed at the end: the target reset */
        bool restart_counted;
        uint32_t size;      /* from the init packet, 0 unknown */
        uint32_t prev_cmd_crc, prev_cmd_len; /* previous image's init packet */
        bool prev_done;
    } img;

    struct {                /* the init packet (§4) */
        enum init_state state;
        dk_initpkt pkt;
        bool ev_due;        /* emit INIT after the EXECUTE exchange */
        dk_event ev;
    } init;

    struct {                /* the command object */
        bool created;
        bool grounded;      /* off/crc are known (CREATE or a report) */
        uint32_t size, off, crc;
        bool known;         /* buf holds bytes [0, off) */
        bool beyond_flagged;
        uint64_t pos0, pos1; /* where its bytes lie in the input */
        uint8_t buf[CMD_MAX];
    } cmd;

    struct {                /* data objects and the image's progress */
        uint32_t max_size;  /* object size from SELECT (default 4096) */
        bool open;          /* an object created, not executed */
        uint32_t start, size;
        bool flagged;       /* one write_beyond / data_before_init per object */
        uint32_t off, crc;  /* crc covers [0, off - stage_len) */
        bool crc_known;
        size_t stage_len;
        uint8_t stage[STAGE]; /* written data not yet in crc */
        bool seen;          /* off/crc are grounded (from 0 or a report) */
        uint32_t last_off, last_crc; /* last executed boundary */
        bool last_crc_known;
        snapshot cp[CHECKPOINTS];
        unsigned cp_head, cp_n;
        bool lost;          /* the target reported offset 0 after a reset:
                               the next data CREATE restarts the image */
    } data;

    struct {                /* a SELECT that reported progress, until the host uses it */
        bool on;
        uint8_t obj;
        uint32_t off, crc;
        bool open;          /* counted; cleared by fresh progress */
    } resume;

    struct {                /* WRITE requests */
        bool crc;           /* WRITE events carry the running CRC */
        bool events;        /* emit WRITE events */
        bool run_on;        /* run holds the writes folded so far */
        dk_event run;
    } wr;

    struct {                /* the port (dk_session_port) */
        dk_event held[4];   /* PORT events held while a request waits, so its */
        unsigned n;         /* line (printed at the answer) comes first */
        int state;          /* -1 unknown, 0 closed, 1 open */
        int64_t t_closed;   /* when it closed, -1 unknown */
        bool gap;           /* closed since the last message */
        int64_t closed_us;  /* message gaps across a closed port */
    } port;

    struct {                /* what the summary's outcome rests on */
        bool err_open;      /* the target's last word so far was an error */
        dk_check bad_check; /* the last CRC/offset mismatch an answer reported, */
        uint64_t bad_check_req; /* ... and the request count then */
        bool finished;
    } verdict;

    struct {                /* result/ext for the next anomaly (set by error_anomaly) */
        bool set, has_ext;
        uint8_t result, ext;
    } an;
};

/* ---- emission ------------------------------------------------------- */

/* Bring data_crc up to data_off. */
static void sync_crc(dk_session *s)
{
    if (!s->data.stage_len)
        return;
    if (s->data.crc_known)
        s->data.crc = dk_crc32(s->data.crc, s->data.stage, s->data.stage_len);
    s->data.stage_len = 0;
}

/* Before any state change outside the write path: CRC current, and the
 * running write run's CRC filled in while it still describes data_off. */
static void settle(dk_session *s)
{
    sync_crc(s);
    /* Once: after a report the tracker may take the target's CRC, which is
     * not the CRC of the bytes the run sent. */
    if (s->wr.run_on && !s->wr.run.u.run.crc_known && s->wr.run.u.run.obj_type == DK_OBJ_DATA &&
        s->wr.run.image == s->img.index && s->wr.run.u.run.off_end == s->data.off && s->data.crc_known &&
        s->data.seen) {
        s->wr.run.u.run.crc_end = s->data.crc;
        s->wr.run.u.run.crc_known = true;
    }
}

static void flush_run(dk_session *s)
{
    if (!s->wr.run_on)
        return;
    settle(s);
    s->wr.run_on = false;
    s->cb(s->ctx, &s->wr.run);
}

static void emit(dk_session *s, dk_event *ev)
{
    if (ev->kind != DK_EV_WRITE && ev->kind != DK_EV_PRN)
        flush_run(s);
    ev->image = s->img.index;
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
    if (s->an.set) {
        s->an.set = false;
        a->result = s->an.result;
        a->has_ext = s->an.has_ext;
        a->ext = s->an.ext;
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
static void reset_data(dk_session *s, bool grounded)
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

dk_session *dk_session_new(dk_session_cb cb, void *ctx)
{
    dk_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cb = cb;
    s->ctx = ctx;
    s->sel = DK_OBJ_COMMAND; /* the device's default after boot (§6.1) */
    s->data.max_size = 4096;
    s->sum.t_first = s->sum.t_last = -1;
    s->port.state = -1;
    s->port.t_closed = -1;
    s->sum.duration_s = -1;
    s->sum.throughput_Bps = -1;
    s->init.state = INIT_UNKNOWN;
    s->wr.events = true;
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
    s->wr.crc = on;
}

void dk_session_write_events(dk_session *s, bool on)
{
    s->stream_ok = false;
    s->wr.events = on;
}

bool dk_session_awaiting(const dk_session *s)
{
    return s->pair.n > 0;
}

/* ---- images --------------------------------------------------------- */

static void open_image(dk_session *s, bool created, uint32_t cmd_size, int64_t t,
                       uint64_t start, uint64_t end)
{
    if (s->img.index > 0 && !s->img.active && !s->img.done) {
        /* Nothing happened in the current slot (e.g. only a SELECT): reuse it. */
    } else {
        if (s->img.index > 0 && s->cmd.known && s->cmd.off > 0) {
            s->img.prev_cmd_crc = s->cmd.crc;
            s->img.prev_cmd_len = s->cmd.off;
            s->img.prev_done = s->img.done;
        } else {
            s->img.prev_cmd_len = 0;
        }
        s->img.index++;
    }
    s->sum.n_images = s->img.index;
    s->img.sum = s->img.index <= DK_SESSION_MAX_IMAGES ? &s->sum.img[s->img.index - 1] : &s->img.over;
    if (s->img.sum) {
        memset(s->img.sum, 0, sizeof *s->img.sum);
        s->img.sum->index = s->img.index;
        s->img.sum->cmd_size = cmd_size;
    }
    s->img.active = false;
    s->img.done = false;
    s->img.restart_counted = false;
    s->data.lost = false;
    s->init.state = created ? INIT_NONE : INIT_UNKNOWN;
    s->cmd.created = created;
    s->cmd.grounded = created;
    s->cmd.size = cmd_size;
    s->cmd.off = s->cmd.crc = 0;
    s->cmd.known = created;
    s->cmd.beyond_flagged = false;
    s->init.ev_due = false;
    s->img.size = 0;
    reset_data(s, created);
    dk_event ev;
    event_head(&ev, DK_EV_IMAGE, t, start, end, DK_DIR_HOST);
    ev.u.img.index = s->img.index;
    ev.u.img.cmd_size = cmd_size;
    emit(s, &ev);
}

/* The capture shows object traffic before any command CREATE: open an image
 * whose beginning is not in the capture. */
static void ensure_image(dk_session *s, int64_t t, uint64_t start, uint64_t end)
{
    if (s->img.index == 0 || (s->img.done && s->img.active))
        open_image(s, false, 0, t, start, end);
}

static void image_done(dk_session *s, int64_t t, uint64_t start, uint64_t end)
{
    s->img.done = true;
    if (s->img.sum) {
        s->img.sum->completed = true;
        s->img.sum->offset = s->data.off;
    }
    dk_event ev;
    event_head(&ev, DK_EV_IMAGE, t, start, end, DK_DIR_TARGET);
    ev.u.img.done = true;
    ev.u.img.index = s->img.index;
    ev.u.img.cmd_size = s->cmd.size;
    ev.u.img.has_type = s->img.sum && s->img.sum->has_type;
    ev.u.img.fw_type = s->img.sum ? s->img.sum->fw_type : 0;
    ev.u.img.size = s->data.off;
    ev.u.img.crc = s->data.crc;
    emit(s, &ev);
}

/* ---- resume --------------------------------------------------------- */

static void resume_emit(dk_session *s, dk_resume_how how, uint32_t from, int64_t t,
                        uint64_t start, uint64_t end)
{
    dk_event ev;
    event_head(&ev, DK_EV_RESUME, t, start, end, DK_DIR_HOST);
    ev.u.resume.obj_type = s->resume.obj;
    ev.u.resume.offset = s->resume.off;
    ev.u.resume.crc = s->resume.crc;
    ev.u.resume.how = how;
    ev.u.resume.from = from;
    s->resume.on = false;
    if (how == DK_RESUME_RESTART) {
        s->sum.restarts++;
        s->img.restart_counted = true;
    } else if (!s->resume.open) {
        s->sum.resumes++;
        s->resume.open = true;
    }
    emit(s, &ev);
}

/* The host's next step after a SELECT that reported offset > 0 says how it
 * used it (§5.2: send_init_packet / try_to_recover). */
static void resume_resolve(dk_session *s, const dk_msg *m, int64_t t, uint64_t start,
                           uint64_t end)
{
    if (!s->resume.on)
        return;
    uint8_t op = m->op;
    uint8_t ctype = op == DK_OP_OBJECT_CREATE ? m->req.create.type : 0;
    if (op == DK_OP_OBJECT_CREATE && ctype == DK_OBJ_COMMAND) {
        resume_emit(s, DK_RESUME_RESTART, 0, t, start, end);
        return;
    }
    if (s->resume.obj == DK_OBJ_COMMAND) {
        if ((op == DK_OP_OBJECT_WRITE || op == DK_OP_OBJECT_EXECUTE) && s->sel == DK_OBJ_COMMAND)
            resume_emit(s, DK_RESUME_CONTINUE, s->cmd.off, t, start, end);
        return;
    }
    if ((op == DK_OP_OBJECT_WRITE || op == DK_OP_OBJECT_EXECUTE) && s->sel == DK_OBJ_DATA)
        resume_emit(s, DK_RESUME_CONTINUE, s->data.off, t, start, end);
    else if (op == DK_OP_OBJECT_CREATE && ctype == DK_OBJ_DATA)
        resume_emit(s, s->resume.off == s->data.last_off ? DK_RESUME_CONTINUE : DK_RESUME_OBJECT_RESTART,
                    s->data.last_off, t, start, end);
}

/* ---- reported offset/CRC checks ------------------------------------ */

/* The target reset (power cut, ABORT, the end of an image): its PRN target
 * is 0 again (RAM) until the host sets it (§2.3, §6.9).  seen_late: the
 * reset shows only now (a SELECT): a RECEIPT_NOTIF_SET sent after the last
 * WRITE came after it (the host sets PRN when it reconnects) and holds. */
static void target_reset(dk_session *s, bool seen_late)
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
        r->exp_off = s->cmd.off;
        r->exp_crc = s->cmd.crc;
        if (!s->cmd.grounded || s->img.done) {
            r->check = DK_CHECK_ADOPTED;
        } else if (off == s->cmd.off) {
            r->check = crc == s->cmd.crc ? DK_CHECK_OK : DK_CHECK_CRC_BAD;
        } else if (off < s->cmd.off) {
            r->check = DK_CHECK_OFFSET_BAD;
            if (s->cmd.known) {
                uint32_t c = dk_crc32(0, s->cmd.buf, off);
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
                         (unsigned)off, (unsigned)s->cmd.off,
                         is_select ? (off ? ": the target kept only part of the init packet"
                                          : ": the target lost the init packet")
                                   : "");
            }
        } else {
            r->check = DK_CHECK_OFFSET_BAD;
            r->an = DK_AN_DFU_OFFSET_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports command offset %u, but only %u bytes were sent", what,
                     (unsigned)off, (unsigned)s->cmd.off);
        }
        if (r->check == DK_CHECK_CRC_BAD) {
            r->an = DK_AN_DFU_CRC_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports command crc=0x%08x at offset %u, the bytes sent give 0x%08x", what,
                     (unsigned)crc, (unsigned)off, (unsigned)s->cmd.crc);
        }
        if (r->check != DK_CHECK_OK) {
            if (off > s->cmd.off || !s->cmd.grounded || s->img.done)
                s->cmd.known = off == 0;
            s->cmd.off = off;
            s->cmd.crc = crc;
            s->cmd.grounded = true;
        }
        return;
    }
    if (obj != DK_OBJ_DATA)
        return;
    r->exp_off = s->data.off;
    r->exp_crc = s->data.crc;
    if (!s->data.seen || s->img.done) {
        r->check = DK_CHECK_ADOPTED;
    } else if (off == s->data.off) {
        if (!s->data.crc_known)
            r->check = DK_CHECK_ADOPTED;
        else
            r->check = crc == s->data.crc ? DK_CHECK_OK : DK_CHECK_CRC_BAD;
        if (r->check == DK_CHECK_CRC_BAD) {
            r->an = DK_AN_DFU_CRC_MISMATCH;
            snprintf(r->text, sizeof r->text,
                     "%s reports crc=0x%08x at offset %u, the bytes sent give 0x%08x", what,
                     (unsigned)crc, (unsigned)off, (unsigned)s->data.crc);
        }
    } else if (off < s->data.off) {
        r->check = DK_CHECK_OFFSET_BAD;
        if (is_select) {
            target_reset(s, true);
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
        } else if (is_select) {
            r->an = DK_AN_DFU_OFFSET_BACKWARDS;
            if (off == 0)
                snprintf(r->text, sizeof r->text,
                         "%s reports offset 0 after %u bytes were sent: the target lost its "
                         "progress (it reset), the data must be sent again from 0",
                         what, (unsigned)s->data.off);
            else
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
    } else {
        r->check = DK_CHECK_OFFSET_BAD;
        r->an = DK_AN_DFU_OFFSET_MISMATCH;
        snprintf(r->text, sizeof r->text,
                 "%s reports offset %u, but only %u bytes were sent", what, (unsigned)off,
                 (unsigned)s->data.off);
    }
    if (r->check != DK_CHECK_OK) {
        s->data.off = off;
        s->data.crc = crc;
        s->data.crc_known = true;
        s->data.seen = true;
        if (is_select || off < s->data.last_off) {
            /* Where a data CREATE would roll back to (§6.4). */
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
    if (!s->init.ev_due)
        return;
    s->init.ev_due = false;
    s->init.ev.u.init.pkt = s->init.ev.u.init.ok ? &s->init.pkt : NULL;
    s->init.ev.u.init.bytes = s->cmd.buf;
    emit(s, &s->init.ev);
    if (!s->init.ev.u.init.ok && s->init.ev.u.init.len > 0) {
        const dk_err *e = &s->init.ev.u.init.err;
        note_op(s, DK_AN_INIT_MALFORMED, s->init.ev.t_us, DK_DIR_HOST, s->cmd.pos0, s->cmd.pos1,
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
    prn_void *v = &s->pair.lost;
    while (k-- > 0 && s->pair.n > 0) {
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
    if (s->pair.n == OUT_Q)
        out_close(s, 1, "", true); /* notifications: said with the next ones */
    pending *p = out_at(s, s->pair.n);
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
 * earlier ones never came.  A PING echo names its request (§2.2).  -1:
 * none. */
static int out_match(dk_session *s, const dk_msg *m)
{
    int first = -1, prn_hit = -1;
    bool by_off = m->op == DK_OP_CRC_GET && m->result == DK_RES_SUCCESS;
    for (unsigned i = 0; i < s->pair.n; i++) {
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

/* A CRC or offset mismatch the target reported (see dk_summary.stop_check). */
static void mismatch_seen(dk_session *s, dk_anomaly_id an)
{
    if (an == DK_AN_DFU_CRC_MISMATCH || an == DK_AN_DFU_OFFSET_MISMATCH) {
        s->verdict.bad_check = an == DK_AN_DFU_CRC_MISMATCH ? DK_CHECK_CRC_BAD : DK_CHECK_OFFSET_BAD;
        s->verdict.bad_check_req = s->sum.requests;
    }
}

static void fail_note(dk_session *s, const pending *p, const dk_msg *m, uint64_t start)
{
    s->verdict.err_open = true;
    s->sum.fail_stage = p ? stage_of(p) : DK_STAGE_NONE;
    s->sum.fail_op = m->op;
    s->sum.fail_result = m->result;
    s->sum.fail_has_ext = m->has_ext;
    s->sum.fail_ext = m->ext;
    s->sum.fail_pos = start;
    if (s->img.sum && p && (s->sum.fail_stage == DK_STAGE_INIT || s->sum.fail_stage == DK_STAGE_FINAL ||
                        s->sum.fail_stage == DK_STAGE_DATA)) {
        s->img.sum->failed = true;
        s->img.sum->result = m->result;
        s->img.sum->ext = m->ext;
    }
}

/* p: the exchange the error answers (the anomaly sorts with it), or NULL. */
static void error_anomaly(dk_session *s, const pending *p, const dk_msg *m, const char *ctx,
                          int64_t t, uint64_t start, uint64_t end)
{
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    s->an.set = true;
    s->an.result = m->result;
    s->an.has_ext = m->has_ext;
    s->an.ext = m->ext;
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
        return;
    }
    if (p->obj != DK_OBJ_DATA)
        return;
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
    if (p->final || (was_open && !s->img.size && s->data.size < s->data.max_size &&
                     s->data.off == s->data.start + s->data.size)) {
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
                s->data.max_size = m->rsp.select.max_size;
            check_report(s, obj, m->rsp.select.offset, m->rsp.select.crc, true, "SELECT", &r);
            if (obj == DK_OBJ_COMMAND) {
                if (m->rsp.select.offset == 0 && s->init.state == INIT_UNKNOWN)
                    s->init.state = INIT_NONE;
                else if (m->rsp.select.offset > 0 &&
                         (s->init.state == INIT_UNKNOWN || s->init.state == INIT_NONE || s->img.done))
                    s->init.state = INIT_PENDING;
            }
            if ((obj == DK_OBJ_COMMAND || obj == DK_OBJ_DATA) && m->rsp.select.offset > 0) {
                s->resume.on = true;
                s->resume.obj = obj;
                s->resume.off = m->rsp.select.offset;
                s->resume.crc = m->rsp.select.crc;
            }
            break;
        }
        case DK_OP_CRC_GET:
            check_report(s, p->obj, m->rsp.crc.offset, m->rsp.crc.crc, false, "CRC_GET", &r);
            s->verdict.err_open = false;
            break;
        case DK_OP_OBJECT_EXECUTE:
            on_execute_ok(s, p, t, start, end, &completed);
            s->verdict.err_open = false;
            break;
        case DK_OP_OBJECT_CREATE:
            s->verdict.err_open = false;
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
    s->img.active = true;
    if (!s->data.flagged && (s->init.state == INIT_NONE || s->init.state == INIT_REJECTED)) {
        s->data.flagged = true;
        note_op(s, DK_AN_DFU_DATA_BEFORE_INIT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "data written at offset %u while the target holds no valid init packet%s",
                (unsigned)s->data.off, s->init.state == INIT_REJECTED ? " (it was rejected)" : "");
    }
    if (s->data.open && !s->data.flagged &&
        (uint64_t)s->data.off + len > (uint64_t)s->data.start + s->data.size) {
        s->data.flagged = true;
        note_op(s, DK_AN_DFU_WRITE_BEYOND_OBJECT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "data write [%u, %u) goes past the object [%u, %u)", (unsigned)s->data.off,
                (unsigned)(s->data.off + len), (unsigned)s->data.start,
                (unsigned)(s->data.start + s->data.size));
    }
    uint32_t offset = s->data.off;
    if (s->data.crc_known) {
        if (len > STAGE - s->data.stage_len)
            sync_crc(s);
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
        sync_crc(s);
    return offset;
}

/* The command bytes of a write: kept (the init packet is decoded at EXECUTE)
 * and CRCed.  Returns the offset in the command object. */
static uint32_t write_cmd(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                          uint64_t start, uint64_t end)
{
    ensure_image(s, t, start, end);
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
        note_op(s, DK_AN_DFU_WRITE_BEYOND_OBJECT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "command write up to offset %u, but the command object has %u bytes",
                (unsigned)s->cmd.off, (unsigned)s->cmd.size);
    }
    return offset;
}

/* The hot path: one OBJECT_WRITE (every frame of the firmware). */
static void on_write(dk_session *s, const uint8_t *data, size_t len, int64_t t, uint64_t start,
                     uint64_t end)
{
    s->sum.writes++;
    if (s->resume.on) {
        dk_msg m = dk_msg_request(DK_OP_OBJECT_WRITE);
        resume_resolve(s, &m, t, start, end);
    }

    uint8_t obj = s->sel;
    uint32_t offset = 0, crc = 0;
    bool crc_known = false;
    if (obj == DK_OBJ_DATA) {
        offset = write_data(s, data, len, t, start, end);
        crc = s->data.crc;
        crc_known = s->data.crc_known && s->data.seen && s->data.stage_len == 0;
    } else if (obj == DK_OBJ_COMMAND) {
        offset = write_cmd(s, data, len, t, start, end);
        crc = s->cmd.crc;
        crc_known = s->cmd.grounded;
    } else if (!s->sel_flagged) {
        s->sel_flagged = true;
        note_op(s, DK_AN_DFU_WRITE_WITHOUT_OBJECT, t, DK_DIR_HOST, start, end, DK_OP_OBJECT_WRITE,
                "write while object type %u is selected", (unsigned)obj);
    }
    uint32_t off_end = offset + (uint32_t)len;

    if (s->prn.every && ++s->prn.count >= s->prn.every) {
        s->prn.count = 0;
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

    if (s->wr.events) {
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
    dk_writes *r = &s->wr.run.u.run;
    if (s->wr.run_on && r->obj_type == obj && r->off_end == offset && s->wr.run.image == s->img.index) {
        r->count++;
        r->bytes += len;
        r->off_end = off_end;
        r->crc_end = crc;
        r->crc_known = crc_known;
        r->t_last = t;
        s->wr.run.end = end;
        return;
    }
    flush_run(s);
    memset(&s->wr.run, 0, sizeof s->wr.run);
    s->wr.run.kind = DK_EV_WRITES;
    s->wr.run.t_us = t;
    s->wr.run.start = start;
    s->wr.run.end = end;
    s->wr.run.dir = DK_DIR_HOST;
    s->wr.run.image = s->img.index;
    r->obj_type = obj;
    r->count = 1;
    r->bytes = len;
    r->off_start = offset;
    r->off_end = off_end;
    r->crc_end = crc;
    r->crc_known = crc_known;
    r->t_first = r->t_last = t;
    s->wr.run_on = true;
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
    dk_writes *r = &s->wr.run.u.run;
    /* What only other events change is checked once (stream_ok is cleared
     * by every entry point but this path). */
    if (!s->stream_ok) {
        if (s->sel != DK_OBJ_DATA || s->wr.events || s->wr.crc || s->resume.on ||
            !s->wr.run_on || r->obj_type != DK_OBJ_DATA || r->off_end != s->data.off ||
            s->wr.run.image != s->img.index || !s->data.open || !s->data.crc_known || !s->img.sum ||
            s->img.index == 0 || s->img.done ||
            (!s->data.flagged && (s->init.state == INIT_NONE || s->init.state == INIT_REJECTED)))
            return false;
        s->stream_ok = true;
    }
    uint64_t off_end = (uint64_t)s->data.off + len;
    if (off_end > (uint64_t)s->data.start + s->data.size || len > STAGE - s->data.stage_len ||
        (s->prn.every && s->prn.count + 1 >= s->prn.every))
        return false;
    s->sum.writes++;
    s->img.active = true;
    memcpy(s->data.stage + s->data.stage_len, data, len);
    s->data.stage_len += len;
    s->data.off = (uint32_t)off_end;
    s->sum.bytes_data += len;
    s->img.sum->bytes_sent += len;
    if (s->data.off > s->img.sum->offset)
        s->img.sum->offset = s->data.off;
    if (s->prn.every)
        s->prn.count++;
    r->count++;
    r->bytes += len;
    r->off_end = s->data.off;
    r->crc_end = s->data.crc;
    r->crc_known = s->data.seen && s->data.stage_len == 0;
    r->t_last = t;
    s->wr.run.end = end;
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
    bool resolving = s->resume.on;
    resume_resolve(s, m, t, start, end);
    if (!(resolving && !s->resume.on) &&
        (m->op == DK_OP_PING || m->op == DK_OP_OBJECT_CREATE || m->op == DK_OP_OBJECT_EXECUTE))
        s->resume.open = false;

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
        s->prn.count = 0;
        s->sel = type;
        s->sel_flagged = false;
        if (type == DK_OBJ_COMMAND) {
            open_image(s, true, m->req.create.size, t, start, end);
        } else if (type == DK_OBJ_DATA) {
            ensure_image(s, t, start, end);
            s->img.active = true;
            if (s->init.state == INIT_NONE || s->init.state == INIT_REJECTED)
                note_op(s, DK_AN_DFU_DATA_BEFORE_INIT, t, DK_DIR_HOST, start, end, m->op,
                        "data object created while the target holds no valid init packet%s",
                        s->init.state == INIT_REJECTED ? " (it was rejected)" : "");
            if (s->data.seen && s->data.off != s->data.last_off && !resolving)
                note_op(s, DK_AN_DFU_OBJECT_DISCARDED, t, DK_DIR_HOST, start, end, m->op,
                        "CREATE throws away %u bytes written after offset %u",
                        (unsigned)(s->data.off - s->data.last_off), (unsigned)s->data.last_off);
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
            s->data.flagged = s->init.state == INIT_NONE || s->init.state == INIT_REJECTED;
        }
        break;
    }
    case DK_OP_OBJECT_SELECT:
        s->sel = m->req.select.type;
        s->sel_flagged = false;
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        s->prn.every = s->prn.set = m->req.prn.target;
        s->prn.set_at = s->sum.writes;
        s->prn.reset = false;
        s->prn.count = 0;
        break;
    case DK_OP_OBJECT_EXECUTE:
        if (s->sel == DK_OBJ_COMMAND) {
            ensure_image(s, t, start, end);
            if (s->cmd.created && s->cmd.off < s->cmd.size)
                note_op(s, DK_AN_DFU_EXECUTE_INCOMPLETE, t, DK_DIR_HOST, start, end, m->op,
                        "command EXECUTE with %u of %u bytes", (unsigned)s->cmd.off,
                        (unsigned)s->cmd.size);
            /* Decode now; the INIT event follows the EXECUTE exchange. */
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
                note_op(s, DK_AN_INIT_INCOMPLETE, t, DK_DIR_HOST, start, end, m->op,
                        "the init packet's bytes are not all in the capture (%u known)",
                        (unsigned)(s->cmd.known ? s->cmd.off : 0));
            }
        } else if (s->sel == DK_OBJ_DATA) {
            ensure_image(s, t, start, end);
            if (s->data.open && s->data.off - s->data.start < s->data.size)
                note_op(s, DK_AN_DFU_EXECUTE_INCOMPLETE, t, DK_DIR_HOST, start, end, m->op,
                        "data EXECUTE with %u of %u bytes of the object at %u",
                        (unsigned)(s->data.off - s->data.start), (unsigned)s->data.size,
                        (unsigned)s->data.start);
            p.final = s->img.size ? s->data.off == s->img.size : false;
            p.exec_open = s->data.open;
            p.exec_start = s->data.start;
            /* The target executes in request order: a CREATE sent before the
             * answer arrives already starts after this object (§6.1). */
            if (s->data.open && s->data.off - s->data.start == s->data.size && s->data.seen) {
                s->data.last_off = s->data.off;
                s->data.last_crc = s->data.crc;
                s->data.last_crc_known = s->data.crc_known;
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
        p.exp_off = p.obj == DK_OBJ_COMMAND ? s->cmd.off : s->data.off;
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
    if (s->wr.run_on) {
        if (n->check == DK_CHECK_OK || n->check == DK_CHECK_ADOPTED)
            s->wr.run.u.run.prn_ok++;
        else
            s->wr.run.u.run.prn_bad++;
    }
    emit(s, &ev);
    if (r.an != DK_AN_COUNT) {
        note_op(s, r.an, t, DK_DIR_TARGET, start, end, DK_OP_CRC_GET, "%s", r.text);
        mismatch_seen(s, r.an);
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
        fail_note(s, &p, m, start);
        error_anomaly(s, NULL, m, "PRN on a failed write: ", t, start, end);
    } else {
        s->verdict.err_open = false;
    }
}

/* A notification while the tracker takes the target's PRN to be 0 after a
 * reset: it was not reset after all (or the host set PRN without the
 * capture showing it).  Checked only against the present offset. */
static void stray_prn(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    s->prn.every = s->prn.set;
    s->prn.reset = false;
    s->prn.count = 0;
    pending q;
    memset(&q, 0, sizeof q);
    q.obj = s->sel;
    bool data = q.obj == DK_OBJ_DATA;
    q.exp_off = data ? s->data.off : s->cmd.off;
    q.exp_crc = data ? s->data.crc : s->cmd.crc;
    q.crc_known = data ? s->data.seen && s->data.crc_known : s->cmd.grounded;
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
        if (i > 0 || s->pair.lost.n)
            out_close(s, (unsigned)i, "", false);
        /* Used in place (neither changes the queue), then dropped. */
        pending *p = out_at(s, 0);
        if (p->prn)
            on_prn(s, p, m, t, start, end);
        else
            pair(s, p, m, s->pair.req > 1, t, start, end);
        out_drop(s);
        return;
    }
    if (m->op == DK_OP_CRC_GET && m->result == DK_RES_SUCCESS && s->prn.reset && s->prn.set) {
        stray_prn(s, m, t, start, end);
        return;
    }
    const pending *w = NULL; /* the request whose answer is due */
    for (unsigned k = 0; k < s->pair.n && !w; k++)
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
    else if (m->op == DK_OP_CRC_GET && s->prn.every)
        note_op(s, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST, t, DK_DIR_TARGET, start, end, m->op,
                "PRN notification after %u writes, but PRN is every %u", (unsigned)s->prn.count,
                (unsigned)s->prn.every);
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
    } else if (s->port.gap) {
        s->port.gap = false;
        if (t > s->sum.t_last)
            s->port.closed_us += t - s->sum.t_last;
    }
    s->sum.t_last = t;
}

/* Emit the first n held PORT events. */
static void port_flush(dk_session *s, unsigned n)
{
    if (n > s->port.n)
        n = s->port.n;
    for (unsigned i = 0; i < n; i++)
        emit(s, &s->port.held[i]);
    s->port.n -= n;
    memmove(s->port.held, s->port.held + n, s->port.n * sizeof s->port.held[0]);
}

void dk_session_port(dk_session *s, int64_t t_us, bool open, uint64_t pos)
{
    s->stream_ok = false;
    int was = s->port.state;
    s->port.state = open;
    if (was < 0 || was == (int)open)
        return;
    dk_event ev;
    event_head(&ev, DK_EV_PORT, t_us, pos, pos, DK_DIR_UNKNOWN);
    ev.u.port.open = open;
    ev.u.port.closed_us = open && s->port.t_closed >= 0 && t_us >= s->port.t_closed ? t_us - s->port.t_closed : -1;
    if (!open) {
        s->port.t_closed = t_us;
        s->port.gap = s->sum.t_first >= 0;
    }
    if (!s->pair.req) {
        emit(s, &ev);
        return;
    }
    if (s->port.n == sizeof s->port.held / sizeof s->port.held[0])
        port_flush(s, 1);
    s->port.held[s->port.n++] = ev;
}

static void process(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    seen_at(s, t);
    if (m->is_response)
        on_response(s, m, t, start, end);
    else
        on_request(s, m, t, start, end);
    if (s->port.n && !s->pair.req)
        port_flush(s, s->port.n);
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
    if (s->verdict.finished)
        return;
    s->verdict.finished = true;
    settle(s);
    /* The newest request and what is owed after it: the capture ended. */
    unsigned last = s->pair.n;
    for (unsigned i = s->pair.n; i-- > 0 && last == s->pair.n;)
        if (!out_at(s, i)->prn)
            last = i;
    out_close(s, last == s->pair.n ? 0 : last, "", false);
    out_close(s, s->pair.n, " (the capture ends)", false);
    port_flush(s, s->port.n);
    flush_run(s);
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
    if (s->sel == DK_OBJ_COMMAND && !(s->init.state == INIT_VALID)) {
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
            u->throughput_Bps = (double)(u->bytes_data + u->bytes_cmd) / ((double)active / 1e6);
    } else if (u->t_first >= 0) {
        u->duration_s = 0;
    }
    u->diag = dk_diag_pick(u);
    dk_event ev;
    event_head(&ev, DK_EV_SUMMARY, u->t_last, 0, 0, DK_DIR_UNKNOWN);
    ev.u.sum = u;
    emit(s, &ev);
}
