/* track.c - the legacy HCI DFU tracker: host packets paired with the ACKs
 * that answer them, the device's sequence rules (protocol.md §13.4, §13.12)
 * and what its DFU state machine does with each accepted packet (§13.6,
 * §13.7); events and the summary as every tracker gives them (tracker.h).
 *
 *   host line    C0 hdr payload crc16 C0    (one packet at a time)
 *   target line  C0 (n << 3) 00 00 cs C0    (the ACK: n = expected next)
 *
 * The device as the ACKs show it: a packet acknowledged with its sequence
 * number + 1 was accepted and handed to the DFU layer; one acknowledged with
 * any other number was dropped.  The DFU layer is followed on the accepted
 * packets only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/pipeline.h"
#include "dfukit/tables.h"

/* The device's DFU state (§13.6); UNKNOWN: the capture began inside an
 * earlier session, or the device came back from a reset we did not see. */
typedef enum { LS_UNKNOWN, LS_IDLE, LS_RDY, LS_RX_DATA, LS_VALIDATE, LS_DONE } lstate;

static const char *const lstate_names[] = { "unknown", "IDLE", "RDY", "RX_DATA", "VALIDATE",
                                            "activated" };

#define QMAX 6

typedef struct {
    dk_event_cb cb;
    void *ctx;
    dk_track_opts o;
    dk_summary sum;
    /* the host packet waiting for its ACK */
    bool pending;
    dk_hci_ev pev;
    dk_hci_status pst;
    dk_lg_pkt plg;
    bool plg_ok;
    dk_dir pdir;
    uint8_t pbuf[DK_FRAME_CAP];
    size_t plen;
    /* the host's numbering */
    int last_seq;
    bool port_moved;         /* the host closed or opened the port since */
    bool port_seen;
    uint16_t last_crc;
    size_t last_len;
    uint64_t run_packets;
    unsigned run_accepted;
    bool run_stale;
    /* the device as its ACKs show it */
    int dev_expect;          /* -1 unknown */
    bool pred_reset;         /* we expect the device to have reset */
    uint32_t last_kind;      /* of the last accepted packet */
    /* the DFU state machine */
    lstate st;
    uint32_t mode, size, offset;
    uint16_t crc, init_crc;
    bool overflow, ooo_noted;
    bool wrote;              /* the packet being resolved was written */
    dk_lg_init init;
    /* the image as the host sends it */
    unsigned image;
    bool failed;
    /* anomalies found while resolving a packet: after its event */
    bool queueing;
    dk_event q[QMAX];
    unsigned nq, nq_an;
    /* the run of accepted DATA packets being folded */
    bool run_open;
    dk_event run;
} lg_tracker;

const char *dk_hci_verdict_name(dk_hci_verdict v)
{
    switch (v) {
    case DK_HCI_ACCEPTED: return "accepted";
    case DK_HCI_DROPPED: return "dropped";
    case DK_HCI_NO_ACK: return "no_ack";
    case DK_HCI_INVALID: return "invalid";
    }
    return "unknown";
}

/* ---- events ---------------------------------------------------------- */

static void out(lg_tracker *t, dk_event *ev)
{
    ev->image = t->image;
    t->cb(t->ctx, ev);
}

static void flush_run(lg_tracker *t)
{
    if (!t->run_open)
        return;
    t->run_open = false;
    out(t, &t->run);
}

/* An event about the packet being resolved goes after the packet's own. */
static void later(lg_tracker *t, dk_event *ev)
{
    if (t->queueing && t->nq < QMAX) {
        t->q[t->nq++] = *ev;
        return;
    }
    flush_run(t);
    out(t, ev);
}

static void note(lg_tracker *t, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                 uint64_t end, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void note(lg_tracker *t, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                 uint64_t end, const char *fmt, ...)
{
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_ANOMALY;
    ev.t_us = t_us;
    ev.start = start;
    ev.end = end;
    ev.dir = dir;
    dk_anomaly *a = &ev.u.an;
    a->id = id;
    a->severity = dk_anomaly_severity(id);
    a->dir = dir;
    a->start = start;
    a->end = end;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    va_end(ap);
    t->sum.anomalies++;
    t->sum.an_count[id]++;
    if (t->queueing && t->nq < QMAX) {
        t->q[t->nq++] = ev;
        t->nq_an++;
        return;
    }
    flush_run(t);
    out(t, &ev);
}

/* An anomaly about the pending packet. */
#define PNOTE(t, id, ...) note(t, id, (t)->pev.t_pkt, DK_DIR_HOST, (t)->pev.pkt_start, \
                               (t)->pev.pkt_end, __VA_ARGS__)

static void fail(lg_tracker *t, dk_stage stage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(lg_tracker *t, dk_stage stage, const char *fmt, ...)
{
    if (t->failed) /* the image's first failure is the one that counts */
        return;
    t->failed = true;
    t->sum.fail_stage = stage;
    t->sum.fail_op = (uint8_t)t->pev.kind;
    t->sum.fail_pos = t->pev.pkt_start;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->sum.fail_text, sizeof t->sum.fail_text, fmt, ap);
    va_end(ap);
    if (t->image && t->image <= DK_SESSION_MAX_IMAGES)
        t->sum.img[t->image - 1].failed = true;
}

static dk_image_sum *cur_img(lg_tracker *t)
{
    return t->image && t->image <= DK_SESSION_MAX_IMAGES ? &t->sum.img[t->image - 1] : NULL;
}

/* ---- the device's state machine (§13.6) ------------------------------ */

static void model_reset(lg_tracker *t)
{
    t->st = LS_IDLE;
    t->offset = t->size = 0;
    t->overflow = t->ooo_noted = false;
}

/* The device resets on this packet (an error from START or INIT): it comes
 * back expecting sequence number 1 in IDLE (§13.6, §13.4). */
static void predict_reset(lg_tracker *t)
{
    t->sum.hci.resets++;
    t->pred_reset = true;
    t->dev_expect = 1;
    model_reset(t);
}

static uint32_t fw_type_of(uint32_t mode)
{
    switch (mode) {
    case DK_LG_MODE_SD: return DK_FW_SOFTDEVICE;
    case DK_LG_MODE_BL: return DK_FW_BOOTLOADER;
    case DK_LG_MODE_SD_BL: return DK_FW_SOFTDEVICE_BOOTLOADER;
    default: return DK_FW_APPLICATION;
    }
}

static void model_start(lg_tracker *t)
{
    const dk_lg_pkt *g = &t->plg;
    dk_hci_ev *e = &t->pev;
    const char *why = NULL;
    uint64_t total = (uint64_t)g->sd_size + g->bl_size + g->app_size;
    if (!t->plg_ok)
        why = "START without its mode and sizes";
    else if ((g->mode & DK_LG_MODE_APP) && (g->mode & DK_LG_MODE_SD_BL))
        why = "an application together with a SoftDevice or bootloader";
    else if ((g->sd_size | g->bl_size | g->app_size) & 3)
        why = "a size that is not a multiple of 4";
    else if (total > UINT32_MAX)
        why = "a total size over 4 GiB";
    else if (t->st != LS_IDLE && t->st != LS_UNKNOWN)
        why = "the device is not IDLE: a session is already open";
    if (why) {
        PNOTE(t, DK_AN_LEGACY_START_REFUSED, "START refused (%s, state %s): the device resets",
              why, lstate_names[t->st]);
        fail(t, DK_STAGE_CONNECT, "the device refused START (%s) and reset", why);
        snprintf(e->effect, sizeof e->effect, "refused: the device resets");
        predict_reset(t);
        return;
    }
    t->st = LS_RDY;
    t->mode = g->mode;
    t->size = (uint32_t)total;
    t->offset = 0;
    t->crc = DK_CRC16_INIT;
    t->overflow = t->ooo_noted = false;
    snprintf(e->effect, sizeof e->effect, "erases %u pages; bank 0 invalid",
             (unsigned)((total + 4095) / 4096));
}

static void init_event(lg_tracker *t, bool ok)
{
    const dk_lg_pkt *g = &t->plg;
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_INIT;
    ev.t_us = t->pev.t_pkt;
    ev.start = t->pev.pkt_start;
    ev.end = t->pev.pkt_end;
    ev.dir = DK_DIR_HOST;
    dk_init_ev *iv = &ev.u.init;
    iv->ok = ok;
    iv->bytes = g->body;
    iv->len = ok && !t->init.extra ? t->init.len : g->body_len;
    iv->crc = dk_crc32(0, iv->bytes, iv->len);
    iv->legacy = &t->init; /* ok says whether it decoded */
    if (!ok)
        dk_lg_init_parse(g->body, g->body_len, &t->init, &iv->err);
    later(t, &ev);
}

static void model_init(lg_tracker *t)
{
    const dk_lg_pkt *g = &t->plg;
    dk_err err;
    bool ok = dk_lg_init_parse(g->body, g->body_len, &t->init, &err) == DK_OK;
    init_event(t, ok);
    dk_image_sum *im = cur_img(t);
    t->sum.bytes_cmd += g->body_len;
    if (im)
        im->cmd_size = (uint32_t)g->body_len;
    if (t->st != LS_RDY && t->st != LS_UNKNOWN) {
        PNOTE(t, DK_AN_LEGACY_OUT_OF_ORDER,
              "INIT while the device is in %s, not right after START: the device resets",
              lstate_names[t->st]);
        fail(t, DK_STAGE_INIT, "INIT came when the device was in %s; it reset", lstate_names[t->st]);
        predict_reset(t);
        return;
    }
    uint16_t crc;
    dk_lg_verdict v = dk_lg_init_check(g->body, g->words_len, t->mode, -1, &crc);
    static const dk_anomaly_id ids[] = { 0, DK_AN_LEGACY_INIT_MALFORMED, DK_AN_LEGACY_INIT_DEVICE_TYPE,
                                         DK_AN_LEGACY_INIT_DEVICE_REV, DK_AN_LEGACY_INIT_SD_REQ };
    if (v != DK_LG_INIT_ACCEPT) {
        PNOTE(t, ids[v], "init packet refused (%s; %zu bytes as whole words, device type 0x%04x): "
              "the device resets", dk_lg_verdict_text(v), g->words_len, t->init.device_type);
        fail(t, DK_STAGE_INIT, "the device refused the init packet (%s) and reset",
             dk_lg_verdict_text(v));
        snprintf(t->pev.effect, sizeof t->pev.effect, "refused: the device resets");
        predict_reset(t);
        return;
    }
    if (im)
        im->init_ok = true;
    t->st = LS_RX_DATA;
    t->init_crc = crc;
    snprintf(t->pev.effect, sizeof t->pev.effect, "init packet accepted (image CRC16 0x%04x)", crc);
}

static void write_event(lg_tracker *t, const uint8_t *data, size_t len, uint32_t off)
{
    if (!t->o.write_events)
        return;
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_WRITE;
    ev.t_us = t->pev.t_pkt;
    ev.start = t->pev.pkt_start;
    ev.end = t->pev.pkt_end;
    ev.dir = DK_DIR_HOST;
    ev.u.w = (dk_write){ .obj_type = DK_OBJ_DATA, .legacy = true, .data = data, .len = len,
                         .offset = off, .crc = t->crc, .crc_known = true };
    out(t, &ev); /* for the package check; the run it belongs to stays open */
}

static void model_data(lg_tracker *t)
{
    const dk_lg_pkt *g = &t->plg;
    dk_hci_ev *e = &t->pev;
    if (t->st != LS_RX_DATA) {
        if (!t->ooo_noted)
            PNOTE(t, DK_AN_LEGACY_OUT_OF_ORDER, "DATA while the device is in %s: ignored%s",
                  lstate_names[t->st], t->st == LS_UNKNOWN ? " here (its offset is unknown)" : "");
        t->ooo_noted = true;
        snprintf(e->effect, sizeof e->effect, "ignored (state %s)", lstate_names[t->st]);
        return;
    }
    size_t len = g->words_len;
    e->offset = t->offset;
    if (t->overflow || (uint64_t)t->offset + len > t->size) {
        if (!t->overflow)
            PNOTE(t, DK_AN_LEGACY_DATA_OVERFLOW,
                  "DATA [%u, %u) goes past the image size %u: dropped; later data lands below bank 0",
                  t->offset, t->offset + (unsigned)len, t->size);
        t->overflow = true;
        snprintf(e->effect, sizeof e->effect, "past the image: dropped");
        return;
    }
    t->crc = dk_crc16_ccitt(t->crc, g->body, len);
    t->wrote = true;
    write_event(t, g->body, len, t->offset);
    t->offset += (uint32_t)len;
    t->sum.bytes_data += len;
    t->sum.writes++;
    dk_image_sum *im = cur_img(t);
    if (im && t->offset > im->offset)
        im->offset = t->offset;
    if (t->offset == t->size)
        snprintf(e->effect, sizeof e->effect, "image complete: last page written");
}

static void image_done(lg_tracker *t)
{
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_IMAGE;
    ev.t_us = t->pev.t_pkt;
    ev.start = t->pev.pkt_start;
    ev.end = t->pev.pkt_end;
    ev.dir = DK_DIR_HOST;
    ev.u.img = (dk_image_ev){ .done = true, .index = t->image, .has_type = true,
                              .fw_type = fw_type_of(t->mode), .size = t->size, .crc = t->crc };
    dk_image_sum *im = cur_img(t);
    if (im)
        im->completed = true;
    t->failed = false;
    later(t, &ev);
}

static void model_stop(lg_tracker *t)
{
    dk_hci_ev *e = &t->pev;
    if (t->st != LS_RX_DATA) {
        PNOTE(t, DK_AN_LEGACY_OUT_OF_ORDER, "STOP while the device is in %s: ignored",
              lstate_names[t->st]);
        snprintf(e->effect, sizeof e->effect, "ignored (state %s)", lstate_names[t->st]);
        if (t->st != LS_DONE)
            fail(t, DK_STAGE_FINAL, "STOP came when the device was in %s: nothing was activated",
                 lstate_names[t->st]);
        return;
    }
    if (t->offset != t->size || t->overflow) {
        PNOTE(t, DK_AN_LEGACY_SIZE_MISMATCH, "STOP after %u of %u bytes: ignored, nothing activated",
              t->offset, t->size);
        fail(t, DK_STAGE_FINAL, "STOP came after %u of %u bytes: nothing was activated",
             t->offset, t->size);
        snprintf(e->effect, sizeof e->effect, "ignored: image incomplete");
        return;
    }
    t->st = LS_VALIDATE;
    if (t->crc != t->init_crc) {
        PNOTE(t, DK_AN_LEGACY_CRC_MISMATCH, "image CRC16 0x%04x, the init packet says 0x%04x: "
              "validation fails, the device stays in DFU mode", t->crc, t->init_crc);
        fail(t, DK_STAGE_FINAL, "the image's CRC16 0x%04x differs from the init packet's 0x%04x: "
             "nothing was activated", t->crc, t->init_crc);
        snprintf(e->effect, sizeof e->effect, "validation fails (CRC16)");
        return;
    }
    t->st = LS_DONE;
    snprintf(e->effect, sizeof e->effect, "validated and activated: the device leaves DFU mode");
    image_done(t);
}

static void model(lg_tracker *t)
{
    dk_hci_ev *e = &t->pev;
    if (!t->plg_ok && t->pev.kind != DK_LG_START) {
        PNOTE(t, DK_AN_LEGACY_UNKNOWN_KIND, "payload of %u bytes: no packet kind", e->body_len);
        return;
    }
    if (t->plg.body_len & 3 && e->kind != DK_LG_START)
        PNOTE(t, DK_AN_LEGACY_PARTIAL_WORD, "%s body of %zu bytes: the device takes %zu",
              dk_lg_kind_name(e->kind) ? dk_lg_kind_name(e->kind) : "packet", t->plg.body_len,
              t->plg.words_len);
    t->last_kind = e->kind;
    switch (e->kind) {
    case DK_LG_START: model_start(t); break;
    case DK_LG_INIT: model_init(t); break;
    case DK_LG_DATA: model_data(t); break;
    case DK_LG_STOP: model_stop(t); break;
    case DK_LG_NOP:
        snprintf(e->effect, sizeof e->effect, "freed: a no-op");
        break;
    default:
        PNOTE(t, DK_AN_LEGACY_UNKNOWN_KIND, "packet kind %u: queued and ignored", e->kind);
        break;
    }
}

/* ---- packets out ------------------------------------------------------- */

static void emit_packet(lg_tracker *t)
{
    flush_run(t);
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_HCI;
    ev.t_us = t->pev.t_pkt;
    ev.start = t->pev.pkt_start;
    ev.end = t->pev.has_ack ? t->pev.ack_end : t->pev.pkt_end;
    ev.dir = t->pdir;
    ev.u.hci = t->pev;
    out(t, &ev);
}

/* An accepted DATA packet into the folded run (a new run when it does not
 * follow the last one). */
static void fold_data(lg_tracker *t)
{
    const dk_hci_ev *e = &t->pev;
    dk_writes *r = &t->run.u.run;
    if (t->run_open && r->off_end == e->offset && t->run.image == t->image) {
        r->count++;
        r->bytes += t->plg.words_len;
        r->off_end = t->offset;
        r->crc_end = t->crc;
        r->seq_last = e->seq;
        r->t_last = e->t_pkt;
        t->run.end = e->ack_end;
        return;
    }
    flush_run(t);
    memset(&t->run, 0, sizeof t->run);
    t->run.kind = DK_EV_WRITES;
    t->run.t_us = e->t_pkt;
    t->run.start = e->pkt_start;
    t->run.end = e->ack_end;
    t->run.dir = t->pdir;
    t->run.image = t->image;
    *r = (dk_writes){ .obj_type = DK_OBJ_DATA, .legacy = true, .seq_first = e->seq,
                      .seq_last = e->seq, .count = 1, .bytes = t->plg.words_len,
                      .off_start = e->offset, .off_end = t->offset, .crc_end = t->crc,
                      .crc_known = true, .t_first = e->t_pkt, .t_last = e->t_pkt };
    t->run_open = true;
}

/* ---- the sequence rules (§13.4) -------------------------------------- */

/* Was the pending packet (seq) accepted, given the ACK number a? */
static bool judge(lg_tracker *t, uint8_t seq, uint8_t a)
{
    uint8_t acc = (uint8_t)((seq + 1) & 7);
    if (t->sum.hci.first_expect < 0)
        t->sum.hci.first_expect = a;
    if (t->dev_expect < 0) {
        t->dev_expect = a;
        return a == acc;
    }
    uint8_t e = (uint8_t)t->dev_expect;
    uint8_t pred = seq == e ? acc : e;
    if (a == pred) {
        t->dev_expect = a;
        t->pred_reset = false;
        return seq == e;
    }
    if ((seq == 1 && a == 2) || (seq != 1 && a == 1)) { /* counting from 1 again */
        bool after_init = t->last_kind == DK_LG_INIT && t->st == LS_RX_DATA && t->offset == 0;
        PNOTE(t, DK_AN_LEGACY_DEVICE_RESET, "ACK %u where %u was due: the device reset and "
              "expects sequence numbers from 1 again%s", a, pred,
              after_init ? " (right after it took the init packet: it refused it)" : "");
        if (after_init)
            fail(t, DK_STAGE_INIT, "the device reset right after the INIT packet: it refused the "
                 "init packet (sd_req, device revision or signature)");
        t->sum.hci.resets++;
        model_reset(t);
        t->dev_expect = a;
        return seq == 1;
    }
    PNOTE(t, DK_AN_HCI_ACK_NUMBER, "ACK %u fits neither acceptance (%u) nor dropping (%u)", a, acc, e);
    t->dev_expect = a;
    return a == acc;
}

/* The pending packet's ACK came (has_ack), or will not. */
static void resolve(lg_tracker *t, bool has_ack, uint8_t a, int64_t t_us, uint64_t start,
                    uint64_t end)
{
    dk_hci_ev *e = &t->pev;
    t->pending = false;
    t->queueing = true;
    t->wrote = false;
    t->nq = t->nq_an = 0;
    if (has_ack) {
        e->has_ack = true;
        e->ack = a;
        e->t_ack = t_us;
        e->ack_start = start;
        e->ack_end = end;
        e->latency_us = t_us >= 0 && e->t_pkt >= 0 ? t_us - e->t_pkt : -1;
        t->sum.hci.acks++;
        t->sum.responses++;
    }
    if (t->pst != DK_HCI_OK) {
        e->verdict = DK_HCI_INVALID;
        if (has_ack)
            note(t, DK_AN_HCI_UNEXPECTED, t_us, DK_DIR_TARGET, start, end,
                 "ACK %u after a packet the device drops", a);
    } else if (!has_ack) {
        e->verdict = DK_HCI_NO_ACK;
        t->sum.hci.no_ack++;
        PNOTE(t, DK_AN_HCI_NO_ACK, "%s (sequence %u) never acknowledged",
              e->has_kind && dk_lg_kind_name(e->kind) ? dk_lg_kind_name(e->kind) : "packet", e->seq);
    } else if (judge(t, e->seq, a)) {
        e->verdict = DK_HCI_ACCEPTED;
        t->run_accepted++;
        model(t);
    } else {
        e->verdict = DK_HCI_DROPPED;
        t->sum.hci.dropped++;
        snprintf(e->effect, sizeof e->effect, "dropped: the device expects sequence %u", a);
        bool stale = t->run_accepted == 0 && t->run_packets > 0 && t->sum.hci.runs > 0;
        if (stale && !t->run_stale) {
            t->run_stale = t->sum.hci.stale = true;
            PNOTE(t, DK_AN_LEGACY_STALE_SEQ, "the host's new run starts at 1, the device expects %u "
                  "from an earlier session that was not reset: it acknowledges and drops every "
                  "packet until number %u (§13.12)", a, a ? a : 8);
            fail(t, DK_STAGE_CONNECT, "the device still counted from an interrupted session: it "
                 "dropped the run's first packets (§13.12), so the image was not written");
        } else if (!t->run_stale || t->run_accepted) {
            PNOTE(t, DK_AN_LEGACY_DROPPED, "%s (sequence %u) acknowledged with %u: dropped",
                  e->has_kind && dk_lg_kind_name(e->kind) ? dk_lg_kind_name(e->kind) : "packet",
                  e->seq, a);
        }
    }
    t->queueing = false;
    bool fold = e->verdict == DK_HCI_ACCEPTED && e->kind == DK_LG_DATA && t->wrote && !t->nq_an &&
                !t->o.write_crc && !e->retransmit;
    if (fold)
        fold_data(t);
    else
        emit_packet(t);
    for (unsigned i = 0; i < t->nq; i++)
        out(t, &t->q[i]);
    t->nq = 0;
}

/* ---- input ------------------------------------------------------------ */

/* The host starts an image: a START with its sizes (sent, whatever the
 * device then does with it). */
static void begin_image(lg_tracker *t)
{
    const dk_lg_pkt *g = &t->plg;
    dk_image_sum *prev = cur_img(t);
    uint32_t size = (uint32_t)((uint64_t)g->sd_size + g->bl_size + g->app_size);
    t->image++;
    t->sum.n_images = t->image;
    t->failed = false;
    t->sum.fail_text[0] = 0;
    dk_image_sum *im = cur_img(t);
    if (!im)
        return;
    memset(im, 0, sizeof *im);
    im->index = t->image;
    im->has_type = true;
    im->fw_type = fw_type_of(g->mode);
    im->legacy_mode = g->mode;
    im->size = size;
    if (prev && !prev->completed && prev->size == size && prev->legacy_mode == g->mode) {
        im->restart = true;
        t->sum.restarts++;
    }
}

/* A host packet (a decoded frame). */
static void host_packet(lg_tracker *t, const uint8_t *f, size_t len, int64_t t_us, dk_dir dir,
                        uint64_t start, uint64_t end)
{
    if (t->pending)
        resolve(t, false, 0, -1, 0, 0);
    if (len > sizeof t->pbuf)
        len = sizeof t->pbuf;
    memcpy(t->pbuf, f, len);
    t->plen = len;
    dk_hci_pkt pk;
    t->pst = dk_hci_parse(t->pbuf, len, &pk);
    memset(&t->pev, 0, sizeof t->pev);
    dk_hci_ev *e = &t->pev;
    e->seq = pk.hdr.seq;
    e->t_pkt = t_us;
    e->t_ack = e->latency_us = -1;
    e->pkt_start = start;
    e->pkt_end = end;
    e->body_len = pk.payload_len >= 4 ? (uint32_t)(pk.payload_len - 4) : 0;
    t->pdir = dir;
    t->pending = true;
    t->sum.hci.packets++;
    t->sum.requests++;
    if (t->pst != DK_HCI_OK) {
        t->sum.hci.invalid++;
        dk_anomaly_id id = t->pst == DK_HCI_BAD_CRC ? DK_AN_HCI_BAD_CRC : DK_AN_HCI_BAD_HEADER;
        if (t->pst == DK_HCI_BAD_CRC && pk.hdr.integrity && len >= 6)
            note(t, id, t_us, dir, start, end, "CRC16 0x%04x, the bytes give 0x%04x: no ACK",
                 pk.crc_sent, pk.crc_calc);
        else
            note(t, id, t_us, dir, start, end, "%zu-byte packet (%s): dropped without an ACK", len,
                 dk_hci_status_name(t->pst));
        return;
    }
    if (pk.len_mismatch)
        note(t, DK_AN_HCI_BAD_LENGTH, t_us, dir, start, end,
             "length field %u, the packet holds %zu payload bytes", pk.hdr.len, pk.payload_len);
    t->plg_ok = dk_lg_parse(pk.payload, pk.payload_len, &t->plg) == DK_LG_OK;
    e->has_kind = pk.payload_len >= 4;
    e->kind = t->plg.kind;
    e->mode = t->plg.mode;
    e->sd_size = t->plg.sd_size;
    e->bl_size = t->plg.bl_size;
    e->app_size = t->plg.app_size;
    /* the host's numbering: the same packet again, a gap, a new run */
    uint16_t c = dk_crc16_ccitt(DK_CRC16_INIT, pk.payload, pk.payload_len);
    bool new_run = e->kind == DK_LG_START && e->seq == 1;
    if (t->last_seq >= 0 && e->seq == t->last_seq && c == t->last_crc && len == t->last_len &&
        !(new_run && t->port_moved)) {
        e->retransmit = true;
        t->sum.hci.retransmits++;
        note(t, DK_AN_HCI_RETRANSMIT, t_us, dir, start, end, "sequence %u sent again", e->seq);
    } else if (t->last_seq >= 0 && !new_run && e->seq != ((t->last_seq + 1) & 7)) {
        note(t, DK_AN_HCI_SEQ_GAP, t_us, dir, start, end, "sequence %u after %u", e->seq,
             t->last_seq);
    }
    t->port_moved = false;
    t->last_seq = e->seq;
    t->last_crc = c;
    t->last_len = len;
    if (new_run && !e->retransmit) {
        t->sum.hci.runs++;
        t->run_packets = 0;
        t->run_accepted = 0;
        t->run_stale = false;
    }
    t->run_packets++;
    if (e->kind == DK_LG_START && t->plg_ok && !e->retransmit)
        begin_image(t);
    dk_image_sum *im = cur_img(t);
    if (im && e->kind == DK_LG_DATA)
        im->bytes_sent += e->body_len;
}

static void lg_frame_data(lg_tracker *t, const uint8_t *f, size_t len, int64_t t_us, dk_dir dir,
                          uint64_t start, uint64_t end)
{
    uint8_t a;
    bool ack = dk_hci_is_ack(f, len, &a);
    if (t_us >= 0) {
        if (t->sum.t_first < 0)
            t->sum.t_first = t_us;
        t->sum.t_last = t_us;
    }
    t->sum.frames++;
    if (ack && dir != DK_DIR_HOST) {
        if (t->pending)
            resolve(t, true, a, t_us, start, end);
        else
            note(t, DK_AN_HCI_UNEXPECTED, t_us, dir, start, end, "ACK %u that no packet waits for", a);
        return;
    }
    if (dir == DK_DIR_TARGET || ack) {
        note(t, DK_AN_HCI_UNEXPECTED, t_us, dir, start, end, "%zu-byte frame from the %s that is "
             "not %s", len, dir == DK_DIR_TARGET ? "target" : "host",
             dir == DK_DIR_TARGET ? "an ACK" : "a DFU packet");
        return;
    }
    host_packet(t, f, len, t_us, dir, start, end);
}

/* ---- the tracker interface ---------------------------------------------- */

static void *lg_create(const dk_track_opts *o, dk_event_cb cb, void *ctx)
{
    lg_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cb = cb;
    t->ctx = ctx;
    t->o = *o;
    t->last_seq = -1;
    t->dev_expect = -1;
    t->st = LS_UNKNOWN;
    t->sum.legacy = true;
    t->sum.t_first = t->sum.t_last = -1;
    t->sum.hci.first_expect = -1;
    t->sum.duration_s = t->sum.throughput_Bps = -1;
    return t;
}

static void lg_destroy(void *t)
{
    free(t);
}

static void lg_frame(void *tp, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    lg_frame_data(tp, ev->data, ev->len, t_us, dir, ev->start, ev->end);
}

static void lg_message(void *tp, const uint8_t *m, size_t len, int64_t t_us, dk_dir dir,
                       uint64_t start, uint64_t end)
{
    lg_frame_data(tp, m, len, t_us, dir, start, end);
}

/* Framing: an empty frame is how every legacy packet starts (the END in
 * front of it, §9); the rest are anomalies as for Secure DFU. */
static void lg_slip(void *tp, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    lg_tracker *t = tp;
    unsigned long long n = ev->raw_len ? ev->raw_len : ev->end - ev->start;
    switch (ev->kind) {
    case DK_SLIP_EMPTY:
    case DK_SLIP_FRAME:
        break;
    case DK_SLIP_BAD_ESCAPE:
        note(t, DK_AN_SLIP_BAD_ESCAPE, t_us, dir, ev->start, ev->end,
             "ESC not followed by DC/DD: %llu bytes dropped", n);
        break;
    case DK_SLIP_TOO_LONG:
        note(t, DK_AN_SLIP_TOO_LONG, t_us, dir, ev->start, ev->end, "frame of %llu bytes dropped", n);
        break;
    case DK_SLIP_UNTERMINATED:
        note(t, DK_AN_SLIP_UNTERMINATED, t_us, dir, ev->start, ev->end,
             "%llu bytes without END at the end of the capture", n);
        break;
    }
}

static void lg_note(void *tp, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                    uint64_t end, const char *text)
{
    note(tp, id, t_us, dir, start, end, "%s", text);
}

static void lg_port(void *tp, int64_t t_us, bool open, uint64_t pos)
{
    lg_tracker *t = tp;
    if (t->pending && !open)
        resolve(t, false, 0, -1, 0, 0);
    t->port_moved = true;
    if (!open && !t->port_seen && !t->sum.frames)
        return; /* closed before anything: no change to tell */
    t->port_seen = true;
    flush_run(t);
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_PORT;
    ev.t_us = t_us;
    ev.start = ev.end = pos;
    ev.dir = DK_DIR_HOST;
    ev.u.port = (dk_port_ev){ .open = open, .closed_us = -1 };
    out(t, &ev);
}

static bool lg_awaiting(const void *tp)
{
    return ((const lg_tracker *)tp)->pending;
}

/* The outcome from what the device did (§13.6): the last image activated,
 * a refusal, a stale sequence, or a transfer that stopped. */
static void outcome(lg_tracker *t)
{
    dk_summary *s = &t->sum;
    const dk_image_sum *im = cur_img(t);
    if (!s->hci.packets)
        s->outcome = DK_OUTCOME_EMPTY;
    else if (!s->hci.acks)
        s->outcome = DK_OUTCOME_NO_RESPONSE;
    else if (im && im->completed && !t->failed)
        s->outcome = DK_OUTCOME_COMPLETED;
    else if (t->failed)
        s->outcome = DK_OUTCOME_FAILED;
    else
        s->outcome = DK_OUTCOME_INTERRUPTED;
    s->settled = s->outcome;
    s->settled_by_host = false;
    s->stop_obj = DK_OBJ_DATA;
    s->stop_offset = t->offset;
    s->stop_size = t->size;
    if (s->t_first >= 0 && s->t_last >= s->t_first) {
        s->duration_s = (double)(s->t_last - s->t_first) / 1e6;
        s->throughput_Bps = s->duration_s > 0 ? (double)(s->bytes_data + s->bytes_cmd) / s->duration_s
                                              : -1;
    }
}

static void lg_finish(void *tp)
{
    lg_tracker *t = tp;
    if (t->pending)
        resolve(t, false, 0, -1, 0, 0);
    flush_run(t);
    outcome(t);
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_SUMMARY;
    ev.t_us = t->sum.t_last;
    ev.u.sum = &t->sum;
    out(t, &ev);
}

static const dk_summary *lg_summary(const void *tp)
{
    return &((const lg_tracker *)tp)->sum;
}

const dk_tracker_ops dk_legacy_tracker = {
    .proto = DK_PROTO_HCI,
    .name = "legacy HCI DFU",
    .create = lg_create,
    .destroy = lg_destroy,
    .frame = lg_frame,
    .slip = lg_slip,
    .message = lg_message,
    .note = lg_note,
    .port = lg_port,
    .awaiting = lg_awaiting,
    .finish = lg_finish,
    .summary = lg_summary,
};
