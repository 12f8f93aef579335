/* pipeline.c - line bytes -> SLIP units -> the protocol's tracker -> facts,
 * taps, package check, printer; the diagnosis at the end (see pipeline.h). */
#include "dfukit/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "dfukit/legacy.h"
#include "dfukit/pkgcheck.h"
#include "dfukit/print.h"
#include "dfukit/tables.h"

/* ---- SLIP units ------------------------------------------------------ */

struct dk_units {
    dk_slip_dec dec[3]; /* by dk_dir */
    uint8_t buf[3][DK_FRAME_CAP];
    int64_t t_line[3];  /* time of each line's last chunk */
    /* the chunk being cut */
    const uint8_t *p;
    size_t len, used;
    dk_dir dir;
    int64_t t;
    int flushed;
};

dk_units *dk_units_new(void)
{
    dk_units *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    for (int i = 0; i < 3; i++) {
        dk_slip_dec_init(&u->dec[i], u->buf[i], DK_FRAME_CAP);
        u->t_line[i] = -1;
    }
    return u;
}

void dk_units_free(dk_units *u)
{
    free(u);
}

void dk_units_put(dk_units *u, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                  uint64_t pos)
{
    if ((unsigned)dir > DK_DIR_TARGET)
        dir = DK_DIR_UNKNOWN;
    u->p = data;
    u->len = len;
    u->used = 0;
    u->dir = dir;
    u->t = t_us;
    u->t_line[dir] = t_us;
    dk_slip_dec_set_pos(&u->dec[dir], pos);
}

/* The next event of the chunk from its line's deframer. */
static inline bool next_event(dk_units *u, dk_slip_event *ev)
{
    if (u->used == u->len)
        return false;
    size_t k;
    bool got = dk_slip_dec_next(&u->dec[u->dir], u->p + u->used, u->len - u->used, &k, ev);
    u->used += k;
    return got;
}

bool dk_units_next(dk_units *u, dk_unit *out)
{
    if (!next_event(u, &out->ev))
        return false;
    out->dir = u->dir;
    out->t_us = u->t;
    return true;
}

bool dk_units_flush(dk_units *u, dk_unit *out)
{
    while (u->flushed < 3) {
        int i = u->flushed++;
        if (dk_slip_dec_eof(&u->dec[i], &out->ev)) {
            out->dir = (dk_dir)i;
            out->t_us = u->t_line[i];
            return true;
        }
    }
    return false;
}

/* ---- the pipeline ---------------------------------------------------- */

/* An input held while the protocol is unknown. */
typedef struct {
    enum { H_SLIP, H_NOTE, H_PORT } kind;
    dk_slip_event ev;   /* H_SLIP; data in the pipe's hold_buf */
    int64_t t;
    dk_dir dir;
    dk_anomaly_id id;   /* H_NOTE */
    uint64_t start, end;
    bool open;          /* H_PORT (start: its position) */
    char text[200];     /* H_NOTE */
} held;

struct dk_pipe {
    const dk_tracker_ops *ops[DK_PROTO_COUNT]; /* registered trackers */
    unsigned n_ops;
    const dk_tracker_ops *tr_ops;              /* the session's */
    void *tr;
    bool decided;
    dk_track_opts topts;
    dk_units *u;
    held hold[DK_PIPE_HOLD];
    unsigned n_hold;
    uint8_t hold_buf[2 * DK_FRAME_CAP];
    size_t hold_used;
    bool lines_known;
    bool dtr;           /* the capture's DTR: the host has the port open */
    bool finished;
    dk_diag_facts facts;
    dk_event_cb tap;
    void *tap_ctx;
    dk_pkgcheck *pkg;
    dk_printer *pr;
    dk_summary sum;     /* final, with the diagnosis */
    bool have_sum;
    const dk_diag_row *diag;
    dk_logrd_stats log;
    uint64_t log_notes;
    bool run_busy;      /* this run of a log has done something (messages, errors) */
    unsigned run;       /* runs of the host in the log so far */
};

static void to_printer(void *ctx, const dk_event *ev)
{
    dk_pipe *p = ctx;
    if (p->pr)
        dk_printer_event(p->pr, ev);
}

/* Every event, to every consumer in order. */
static void deliver(dk_pipe *p, const dk_event *ev)
{
    dk_diag_facts_event(&p->facts, ev);
    if (p->tap)
        p->tap(p->tap_ctx, ev);
    if (p->pkg)
        dk_pkgcheck_event(p->pkg, ev, to_printer, p);
    to_printer(p, ev);
}

/* The tracker's events.  Its SUMMARY ends the session: the diagnosis is
 * picked here, once, from the summary and the facts. */
static void on_event(void *ctx, const dk_event *ev)
{
    dk_pipe *p = ctx;
    if (ev->kind != DK_EV_SUMMARY) {
        deliver(p, ev);
        return;
    }
    p->sum = *ev->u.sum;
    p->diag = dk_diag_settle(&p->sum, &p->facts); /* sum.settled and sum.diag, together */
    p->have_sum = true;
    dk_event e = *ev;
    e.u.sum = &p->sum;
    deliver(p, &e);
}

dk_pipe *dk_pipe_new(FILE *out, const dk_pipe_opts *o)
{
    dk_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    dk_diag_facts_init(&p->facts);
    p->run = p->facts.run = 1;
    p->ops[DK_PROTO_SDFU] = &dk_sdfu_tracker;
    p->ops[DK_PROTO_HCI] = &dk_legacy_tracker;
    p->n_ops = 2;
    p->decided = false; /* the first frame that names a protocol decides */
    /* Per-write CRCs and events cost time: only -v and --pkg use them. */
    p->topts.write_crc = o->verbose;
    p->topts.write_events = o->verbose || o->pkg;
    p->tr_ops = &dk_sdfu_tracker;
    p->tr = p->tr_ops->create(&p->topts, on_event, p);
    p->u = dk_units_new();
    bool ok = p->tr && p->u;
    if (ok && o->pkg)
        ok = (p->pkg = dk_pkgcheck_new(o->pkg, o->pkg_name)) != NULL;
    if (ok && out) {
        dk_print_opts po = { .json = o->json, .verbose = o->verbose, .split = o->split };
        ok = (p->pr = dk_printer_new(out, &po)) != NULL;
        if (ok)
            dk_printer_facts(p->pr, &p->facts);
    }
    if (!ok) {
        dk_pipe_free(p);
        return NULL;
    }
    return p;
}

void dk_pipe_free(dk_pipe *p)
{
    if (!p)
        return;
    if (p->tr)
        p->tr_ops->destroy(p->tr);
    dk_units_free(p->u);
    dk_pkgcheck_free(p->pkg);
    dk_printer_free(p->pr);
    free(p);
}

void dk_pipe_set_tracker(dk_pipe *p, dk_proto proto, const dk_tracker_ops *ops)
{
    if (proto <= DK_PROTO_SDFU || proto >= DK_PROTO_COUNT)
        return;
    p->ops[proto] = ops;
    p->n_ops = 0;
    for (int i = 0; i < DK_PROTO_COUNT; i++)
        p->n_ops += p->ops[i] != NULL;
    p->decided = p->n_ops == 1;
}

void dk_pipe_tap(dk_pipe *p, dk_event_cb cb, void *ctx)
{
    p->tap = cb;
    p->tap_ctx = ctx;
}

/* ---- the protocol: held inputs until a frame names it ---------------- */

/* A SLIP event to the tracker: a frame (the hot path), or a framing
 * anomaly. */
static inline void to_tracker(dk_pipe *p, const dk_slip_event *ev, int64_t t, dk_dir dir)
{
    if (ev->kind == DK_SLIP_FRAME)
        p->tr_ops->frame(p->tr, ev, t, dir);
    else
        p->tr_ops->slip(p->tr, ev, t, dir);
}

static void replay(dk_pipe *p, const held *h)
{
    switch (h->kind) {
    case H_SLIP:
        to_tracker(p, &h->ev, h->t, h->dir);
        break;
    case H_NOTE:
        p->tr_ops->note(p->tr, h->id, h->t, h->dir, h->start, h->end, h->text);
        break;
    case H_PORT:
        p->tr_ops->port(p->tr, h->t, h->open, h->start);
        break;
    }
}

/* The session is proto's: its tracker (Secure DFU's when proto has none, or
 * when it cannot be made) gets what was held, in order. */
static void decide(dk_pipe *p, dk_proto proto)
{
    const dk_tracker_ops *ops = proto < DK_PROTO_COUNT ? p->ops[proto] : NULL;
    if (ops && ops != p->tr_ops) {
        void *t = ops->create(&p->topts, on_event, p);
        if (t) { /* the Secure DFU tracker has seen nothing yet */
            p->tr_ops->destroy(p->tr);
            p->tr_ops = ops;
            p->tr = t;
        }
    }
    p->decided = true;
    for (unsigned i = 0; i < p->n_hold; i++)
        replay(p, &p->hold[i]);
    p->n_hold = 0;
    p->hold_used = 0;
}

/* A slot for one more held input; NULL when the hold is full (the session
 * is then Secure DFU's). */
static held *hold_slot(dk_pipe *p, size_t bytes)
{
    if (p->n_hold == DK_PIPE_HOLD || bytes > sizeof p->hold_buf - p->hold_used) {
        decide(p, DK_PROTO_SDFU);
        return NULL;
    }
    held *h = &p->hold[p->n_hold++];
    memset(h, 0, sizeof *h);
    return h;
}

static void slip_in(dk_pipe *p, const dk_slip_event *ev, int64_t t, dk_dir dir)
{
    if (!p->decided && ev->kind == DK_SLIP_FRAME) {
        dk_proto pr = dk_proto_sniff(ev->data, ev->len, dir);
        if (pr != DK_PROTO_UNKNOWN)
            decide(p, pr);
    }
    held *h = p->decided ? NULL : hold_slot(p, ev->len);
    if (!h) {
        to_tracker(p, ev, t, dir);
        return;
    }
    h->kind = H_SLIP;
    h->ev = *ev;
    if (ev->len)
        memcpy(p->hold_buf + p->hold_used, ev->data, ev->len);
    h->ev.data = p->hold_buf + p->hold_used;
    p->hold_used += ev->len;
    h->t = t;
    h->dir = dir;
}

void dk_pipe_note(dk_pipe *p, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                  uint64_t end, const char *text)
{
    held *h = p->decided ? NULL : hold_slot(p, 0);
    if (!h) {
        p->tr_ops->note(p->tr, id, t_us, dir, start, end, text);
        return;
    }
    *h = (held){ .kind = H_NOTE, .t = t_us, .dir = dir, .id = id, .start = start, .end = end };
    snprintf(h->text, sizeof h->text, "%s", text);
}

static void port_in(dk_pipe *p, int64_t t_us, bool open, uint64_t pos)
{
    held *h = p->decided ? NULL : hold_slot(p, 0);
    if (!h)
        p->tr_ops->port(p->tr, t_us, open, pos);
    else
        *h = (held){ .kind = H_PORT, .t = t_us, .open = open, .start = pos };
}

/* ---- inputs ---------------------------------------------------------- */

void dk_pipe_unit(dk_pipe *p, const dk_unit *u)
{
    slip_in(p, &u->ev, u->t_us, u->dir);
}

void dk_pipe_bytes(dk_pipe *p, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                   uint64_t pos)
{
    dk_units *u = p->u;
    dk_units_put(u, t_us, dir, data, len, pos);
    dk_slip_event ev;
    while (next_event(u, &ev)) {
        if (p->decided)
            to_tracker(p, &ev, u->t, u->dir);
        else
            slip_in(p, &ev, u->t, u->dir);
    }
}

void dk_pipe_chunk(dk_pipe *p, const dk_chunk *c)
{
    /* Every packet carries the control lines; STATUS packets change them.
     * The host drops DTR when it closes the port. */
    bool dtr = (c->lines & DK_LINE_DTR) != 0;
    if (!p->lines_known || dtr != p->dtr) {
        p->lines_known = true;
        p->dtr = dtr;
        port_in(p, c->t_us, dtr, c->file_off);
    }
    if (c->event == DK_CAP_EV_LOST) {
        dk_pipe_note(p, DK_AN_CAP_DATA_LOST, c->t_us, c->dir, c->file_off, c->file_off,
                     "the capture tool lost data here");
        return;
    }
    if (c->len)
        dk_pipe_bytes(p, c->t_us, c->dir, c->data, c->len, c->data_off);
}

void dk_pipe_message(dk_pipe *p, int64_t t_us, dk_dir dir, const uint8_t *msg, size_t len,
                     uint64_t start, uint64_t end)
{
    if (!p->decided) /* messages without framing come from Secure DFU logs */
        decide(p, DK_PROTO_SDFU);
    p->tr_ops->message(p->tr, msg, len, t_us, dir, start, end);
}

/* A log's TOOL or LOG record as an event. */
static void record_event(dk_pipe *p, dk_ev_kind kind, const dk_logrec *rec, uint64_t end)
{
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.t_us = rec->t_us;
    ev.start = rec->off;
    ev.end = end;
    ev.dir = DK_DIR_HOST;
    ev.u.rec = rec;
    deliver(p, &ev);
}

/* ---- runs: a log that holds several runs of the host --------------------
 * A new run starts at the host's command line, "Upgrading target on ...",
 * nrfutil's "Using board at serial port", Programmer's start, or a PING
 * after the host said it was done or failed.  The run before ends there
 * (its summary and diagnosis are printed) when it did anything; the last
 * run decides the outcome. */

static bool run_marker(const dk_tool_ev *t)
{
    switch (t->kind) {
    case DK_TOOL_COMMAND: return t->u.cmd.transfer;
    case DK_TOOL_PORT: return true;
    case DK_TOOL_LEGACY: return t->u.lg.what == DK_LG_UPGRADING;
    case DK_TOOL_PROG_STEP: return t->u.step.step == DK_PSTEP_START;
    default: return false;
    }
}

/* A record after which a new run marker means a new run. */
static bool run_work(const dk_tool_ev *t)
{
    switch (t->kind) {
    case DK_TOOL_EXCEPTION:
    case DK_TOOL_DONE:
    case DK_TOOL_PROG_ERROR:
    case DK_TOOL_NO_PING:
    case DK_TOOL_IMAGE_SENT:
    case DK_TOOL_MCUMGR:
        return true;
    case DK_TOOL_PROGRESS: return t->u.progress.percent > 0;
    case DK_TOOL_LEGACY:
        return t->u.lg.what == DK_LG_MARKS || t->u.lg.what == DK_LG_NO_ACK ||
               t->u.lg.what == DK_LG_ACTIVATING || t->u.lg.what == DK_LG_SEND_START;
    case DK_TOOL_PROG_STEP: return t->u.step.step != DK_PSTEP_OTHER && t->u.step.step != DK_PSTEP_START;
    default: return false;
    }
}

/* The session ends: partial frames, the tracker's SUMMARY (the diagnosis). */
static void end_session(dk_pipe *p)
{
    dk_unit un;
    while (dk_units_flush(p->u, &un))
        slip_in(p, &un.ev, un.t_us, un.dir);
    if (!p->decided)
        decide(p, DK_PROTO_SDFU);
    p->tr_ops->finish(p->tr); /* SUMMARY: on_event */
    if (!p->have_sum) { /* a tracker that did not say it: its summary */
        dk_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = DK_EV_SUMMARY;
        ev.t_us = -1;
        ev.u.sum = p->tr_ops->summary(p->tr);
        on_event(p, &ev);
    }
}

static void new_run(dk_pipe *p, const dk_logrec *rec)
{
    const dk_tracker_ops *ops = p->ops[DK_PROTO_SDFU];
    dk_units *u = dk_units_new();
    if (!u)
        return; /* out of memory: the log stays one run */
    end_session(p);
    void *t = ops->create(&p->topts, on_event, p);
    if (!t) {
        dk_units_free(u);
        return;
    }
    p->tr_ops->destroy(p->tr);
    p->tr_ops = ops;
    p->tr = t;
    p->decided = p->n_ops == 1;
    dk_units_free(p->u);
    p->u = u;
    p->n_hold = 0;
    p->hold_used = 0;
    dk_diag_facts_init(&p->facts);
    p->facts.run = ++p->run;
    p->have_sum = false;
    p->diag = NULL;
    p->run_busy = false;
    if (p->pr)
        dk_printer_run(p->pr, p->run, rec->line, rec->off, rec->tool ? rec->tool->text : "");
}

/* Legacy HCI packet starts in a log's line bytes: END, then a header whose
 * four bytes sum to 0 mod 256, a reliable DFU packet (type 14) from the
 * host or a header-only ACK (type 0, length 0) from the target (protocol.md
 * §13.3).  Counted only while no Secure DFU answer came. */
static void hci_count(dk_pipe *p, const dk_logrec *rec)
{
    const uint8_t *d = rec->data;
    for (size_t i = 0; i + 4 < rec->len; i++) {
        if (d[i] != 0xC0 || d[i + 1] == 0xC0)
            continue;
        const uint8_t *h = d + i + 1;
        if ((uint8_t)(h[0] + h[1] + h[2] + h[3]) != 0)
            continue;
        if ((h[0] & 0xC0) == 0xC0 && (h[1] & 0x0F) == 14)
            p->facts.hci_out++;
        else if (h[1] == 0 && h[2] == 0 && (h[0] & 0xC7) == 0)
            p->facts.hci_in++;
    }
}

/* nrfutil's words on what it just sent (protocol.md §5.2): "Sending
 * firmware file..." comes after the init packet, "Image sent in" after the
 * firmware.  They settle the type of an object the capture started inside
 * (§6.10). */
static void host_obj(dk_pipe *p, const dk_logrec *rec)
{
    dk_tool_kind k = rec->tool->kind;
    if (!p->decided || !p->tr_ops->host_obj || (k != DK_TOOL_SEND_FW && k != DK_TOOL_IMAGE_SENT))
        return;
    p->tr_ops->host_obj(p->tr, k == DK_TOOL_SEND_FW ? DK_OBJ_COMMAND : DK_OBJ_DATA, rec->t_us,
                        rec->off);
}

void dk_pipe_record(dk_pipe *p, const dk_logrec *rec)
{
    switch (rec->kind) {
    case DK_LR_MSG:
        /* a PING after the host said it was done or failed: another run */
        if (p->run_busy && rec->dir == DK_DIR_HOST && rec->len == 2 && rec->data[0] == DK_OP_PING &&
            (p->facts.done || p->facts.has_exc))
            new_run(p, rec);
        p->run_busy = true;
        dk_pipe_message(p, rec->t_us, rec->dir, rec->data, rec->len, rec->off,
                        rec->off + rec->line_len);
        break;
    case DK_LR_RAW:
        p->run_busy = true;
        if (p->tr_ops->summary(p->tr)->responses == 0)
            hci_count(p, rec);
        dk_pipe_bytes(p, rec->t_us, rec->dir, rec->data, rec->len, rec->off);
        break;
    case DK_LR_TOOL:
        if (p->run_busy && run_marker(rec->tool))
            new_run(p, rec);
        p->run_busy |= run_work(rec->tool);
        dk_diag_facts_tool(&p->facts, rec->tool);
        record_event(p, DK_EV_TOOL, rec, rec->off);
        host_obj(p, rec);
        break;
    case DK_LR_UNKNOWN:
    case DK_LR_LONG:
    case DK_LR_CUT:
        if (rec->kind == DK_LR_UNKNOWN && rec->text)
            dk_diag_facts_text(&p->facts, rec->text, rec->text_len);
        if (p->log_notes++ < DK_PIPE_NOTES || rec->kind == DK_LR_CUT)
            record_event(p, DK_EV_LOG, rec, rec->off + rec->line_len);
        break;
    }
}

void dk_pipe_log_done(dk_pipe *p, const dk_logrd_stats *st)
{
    p->log = *st;
    if (p->pr)
        dk_printer_log(p->pr, &p->log);
}

bool dk_pipe_awaiting(const dk_pipe *p)
{
    return p->decided && p->tr_ops->awaiting(p->tr);
}

void dk_pipe_finish(dk_pipe *p)
{
    if (p->finished)
        return;
    p->finished = true;
    end_session(p);
    if (p->pkg) {
        dk_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = DK_EV_PACKAGE;
        ev.t_us = -1;
        ev.u.pkg = dk_pkgcheck_report(p->pkg);
        deliver(p, &ev);
    }
}

dk_proto dk_pipe_proto(const dk_pipe *p)
{
    return p->decided ? p->tr_ops->proto : DK_PROTO_UNKNOWN;
}

const dk_summary *dk_pipe_summary(const dk_pipe *p)
{
    return p->have_sum ? &p->sum : p->tr_ops->summary(p->tr);
}

const dk_diag_facts *dk_pipe_facts(const dk_pipe *p)
{
    return &p->facts;
}

const dk_diag_row *dk_pipe_diag(const dk_pipe *p)
{
    return p->diag;
}

bool dk_pipe_pkg_ok(const dk_pipe *p)
{
    return !p->pkg || dk_pkgcheck_ok(p->pkg);
}
