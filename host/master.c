/* master.c - the DFU master state machine (sequence and resume rules in master.h). */
#include "master.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/msg.h"
#include "dfukit/rd.h"
#include "dfukit/tables.h"

#define DH_PING_MS 250 /* wait per PING while connecting */
#define DH_REOPEN_MS 5000 /* between images: a USB CDC target re-enumerates */

/* Internal outcomes of a step. */
enum {
    R_OK = 0,
    R_FAIL = -1,  /* res filled in: stop */
    R_AGAIN = -2, /* state unclear: start the image attempt again (m->why) */
    R_LOST = -3,  /* target stopped answering: reconnect, then again */
    R_FRESH = -4, /* target holds what it cannot undo: new CREATE command */
    R_BAD = -5,   /* this object failed a check: send it again */
    R_REWIND = -6, /* the target rolled back further than asked: go on from m->rewind */
    R_UNTAKEN = -7, /* the final EXECUTE was answered but not kept: this image again */
    R_PREV = -8,   /* the previous image was not kept: go back to it */
};

typedef struct {
    const dh_opts *o;
    const dh_io *io;
    dh_result *res;
    const dh_image *img;
    size_t idx;
    uint8_t ping_id;
    bool desync;        /* an answer went missing: PING-resync before the next request */
    uint32_t chunk;     /* data bytes per WRITE */
    uint32_t obj_max;   /* data object size (SELECT data max_size) */
    uint32_t writes;    /* WRITEs since the PRN counter was last reset */
    bool advanced;      /* this attempt moved the target forward */
    uint64_t sent;      /* image bytes written for this image, all attempts */
    size_t rewind;      /* R_REWIND: the object boundary the target is really at */
    bool final_pending; /* waiting for the final EXECUTE's answer */
    bool late_final;    /* ... and saw it while expecting something else */
    uint8_t late_result, late_ext;
    bool late_has_ext;
    const dh_image *prev; /* the image before (its activation not yet checked) */
    bool last;          /* img is the last image: check after_final */
    unsigned executed;  /* bit i: image i's init packet was executed (SUCCESS) in this run */
    size_t crc_off;     /* cache: crc of bin[0..crc_off) */
    uint32_t crc_val;
    char why[400];
    uint8_t rx[DH_FRAME_MAX];
    uint8_t tx[DH_FRAME_MAX];
} M;

void dh_opts_default(dh_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prn = 0;
    o->connect_ms = 10000;
    o->rsp_ms = 1000;
    o->final_ms = 10000;
    o->retries = 3;
    o->max_restarts = 5;
    o->verify = true;
    o->verify_ms = 2000;
}

/* ---- events and errors ------------------------------------------------ */

static void emit(M *m, dh_ev_kind kind, uint64_t done, uint64_t total, const char *text)
{
    if (!m->o->on_event)
        return;
    dh_event ev = { kind, m->idx, m->img ? m->img->bin_name : NULL, done, total, text };
    m->o->on_event(m->o->ev_ctx, &ev);
}

static void say(M *m, dh_ev_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(M *m, dh_ev_kind kind, const char *fmt, ...)
{
    if (!m->o->on_event)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit(m, kind, 0, 0, buf);
}

static int fail(M *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(M *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->res->msg, sizeof m->res->msg, fmt, ap);
    va_end(ap);
    m->res->status = DH_FAILED;
    m->res->image = m->idx;
    return R_FAIL;
}

static int again(M *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int again(M *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof m->why, fmt, ap);
    va_end(ap);
    return code;
}

/* What a refusal means in context, beyond the result's generic meaning. */
static const char *context_hint(uint8_t op, uint8_t obj, uint8_t result)
{
    if (op == DK_OP_OBJECT_EXECUTE && obj == DK_OBJ_COMMAND) {
        switch (result) {
        case DK_RES_INSUFFICIENT_RESOURCES:
            return "the image does not fit in the target's free flash (or bl_size exceeds the "
                   "bootloader region) - build a smaller image or update the pieces separately";
        case DK_RES_INVALID_OBJECT:
            return "the init packet does not decode or its signature does not verify - sign the "
                   "package with the key whose public half is built into the bootloader";
        case DK_RES_OPERATION_FAILED:
            return "the target could not store the init packet, or the signature is not 64 "
                   "bytes long";
        case DK_RES_OPERATION_NOT_PERMITTED:
            return "the target did not receive the whole init packet";
        }
    }
    if (op == DK_OP_OBJECT_CREATE && obj == DK_OBJ_COMMAND && result == DK_RES_INSUFFICIENT_RESOURCES)
        return "the init packet is larger than the bootloader accepts";
    if (op == DK_OP_OBJECT_CREATE && obj == DK_OBJ_DATA && result == DK_RES_OPERATION_NOT_PERMITTED)
        return "the target has no valid init packet, or the object runs past the announced "
               "image size";
    return NULL;
}

/* "app.dat rejected (OBJECT_EXECUTE): EXT_ERROR SD_VERSION_FAILURE (0x07): meaning - hint" */
static void describe_refusal(char *out, size_t cap, const char *what, uint8_t op, uint8_t obj,
                             uint8_t result, bool has_ext, uint8_t ext)
{
    char ob[DK_NAME_BUFSZ];
    const char *opn = dk_op_str(op, ob);
    const char *dash = " \xe2\x80\x94 ";
    if (result == DK_RES_EXT_ERROR && has_ext) {
        const char *name = dk_ext_name(ext), *mean = dk_ext_meaning(ext), *hint = dk_ext_hint(ext);
        snprintf(out, cap, "%s rejected (%s): EXT_ERROR %s%s(0x%02X): %s%s%s", what, opn,
                 name ? name : "", name ? " " : "", ext,
                 mean ? mean : "extended error code unknown to SDK 17.1", hint ? dash : "",
                 hint ? hint : "");
        return;
    }
    const char *name = dk_result_name(result), *mean = dk_result_meaning(result);
    const char *hint = context_hint(op, obj, result);
    snprintf(out, cap, "%s rejected (%s): %s%s(0x%02X): %s%s%s", what, opn, name ? name : "",
             name ? " " : "", result, mean ? mean : "result code unknown to SDK 17.1",
             hint ? dash : "", hint ? hint : "");
}

static int fail_rsp(M *m, const char *what, uint8_t obj, const dk_msg *r)
{
    describe_refusal(m->res->msg, sizeof m->res->msg, what, r->op, obj, r->result, r->has_ext, r->ext);
    m->res->status = DH_FAILED;
    m->res->image = m->idx;
    m->res->has_rsp = true;
    m->res->op = r->op;
    m->res->result = r->result;
    m->res->has_ext = r->has_ext;
    m->res->ext = r->ext;
    return R_FAIL;
}

static int again_rsp(M *m, const char *what, uint8_t obj, const dk_msg *r)
{
    describe_refusal(m->why, sizeof m->why, what, r->op, obj, r->result, r->has_ext, r->ext);
    return R_AGAIN;
}

/* ---- frames ------------------------------------------------------------ */

static uint64_t now(M *m) { return m->io->now_ms(m->io->ctx); }

static int port_gone(M *m, const char *while_)
{
    return fail(m, "the port failed or closed while %s", while_);
}

static int tx(M *m, size_t len)
{
    if (m->o->trace && m->o->on_event) {
        dk_msg q;
        char d[160];
        dk_msg_parse(m->tx, len, &q);
        dk_msg_describe(&q, d, sizeof d);
        emit(m, DH_EV_TX, 0, 0, d);
    }
    return m->io->send(m->io->ctx, m->tx, len) < 0 ? -1 : 0;
}

/* One parsed response by the deadline: 1, 0 timeout, <0 port. */
static int rx_frame(M *m, dk_msg *r, uint64_t deadline)
{
    for (;;) {
        uint64_t t = now(m);
        uint32_t wait = t >= deadline ? 0 : (uint32_t)(deadline - t);
        size_t len = 0;
        int k = m->io->recv(m->io->ctx, m->rx, sizeof m->rx, &len, wait);
        if (k <= 0)
            return k;
        dk_msg_status st = dk_msg_parse(m->rx, len, r);
        if (m->o->trace && m->o->on_event) {
            char d[160];
            dk_msg_describe(r, d, sizeof d);
            emit(m, DH_EV_RX, 0, 0, d);
        }
        if (st == DK_MSG_EMPTY || st == DK_MSG_TRUNCATED || st == DK_MSG_UNKNOWN_OP ||
            !r->is_response) {
            say(m, DH_EV_DEBUG, "dropped a %zu-byte frame that is no valid response", len);
            continue;
        }
        return 1;
    }
}

/* Wait for the answer to op (PING: with id, or any when id < 0), dropping
 * stale ones. */
static int wait_rsp(M *m, uint8_t op, int id, dk_msg *r, uint32_t ms)
{
    uint64_t deadline = now(m) + ms;
    for (;;) {
        int k = rx_frame(m, r, deadline);
        if (k <= 0)
            return k;
        if (r->op == op) {
            if (op != DK_OP_PING || id < 0 || r->result != DK_RES_SUCCESS || r->rsp.ping.id == id)
                return 1;
        }
        if (m->final_pending && r->op == DK_OP_OBJECT_EXECUTE) {
            m->late_final = true;
            m->late_result = r->result;
            m->late_has_ext = r->has_ext;
            m->late_ext = r->ext;
        }
        char ob[DK_NAME_BUFSZ];
        say(m, DH_EV_DEBUG, "dropped a stale %s answer", dk_op_str(r->op, ob));
    }
}

/* PING with a fresh id and drain everything up to its echo. */
static int resync(M *m)
{
    dk_msg r;
    for (unsigned t = 0; t <= m->o->retries; t++) {
        uint8_t id = ++m->ping_id;
        m->tx[0] = DK_OP_PING;
        m->tx[1] = id;
        if (tx(m, 2) < 0)
            return port_gone(m, "resyncing");
        int k = wait_rsp(m, DK_OP_PING, id, &r, m->o->rsp_ms);
        if (k < 0)
            return port_gone(m, "resyncing");
        if (k == 1) {
            m->desync = false;
            say(m, DH_EV_DEBUG, "resynced on PING id %u", id);
            return R_OK;
        }
    }
    return again(m, R_LOST, "the target stopped answering (no PING echo after %u tries)",
                 m->o->retries + 1);
}

/* Send tx[0..len) and wait for its answer, re-sending after a resync when it
 * does not come. */
static int transact_x(M *m, size_t len, dk_msg *r, bool resend)
{
    uint8_t op = m->tx[0];
    uint8_t saved[8];
    memcpy(saved, m->tx, len < sizeof saved ? len : sizeof saved); /* resync reuses tx */
    char ob[DK_NAME_BUFSZ];
    for (unsigned t = 0; t <= m->o->retries; t++) {
        if (m->desync) {
            int k = resync(m);
            if (k)
                return k;
            memcpy(m->tx, saved, len < sizeof saved ? len : sizeof saved);
        }
        if (tx(m, len) < 0)
            return port_gone(m, "sending a request");
        int k = wait_rsp(m, op, -1, r, m->o->rsp_ms);
        if (k < 0)
            return port_gone(m, "waiting for an answer");
        if (k == 1)
            return R_OK;
        m->desync = true;
        if (!resend)
            return again(m, R_AGAIN, "no answer to %s within %u ms", dk_op_str(op, ob),
                         m->o->rsp_ms);
        say(m, DH_EV_NOTE, "no answer to %s within %u ms: resyncing and sending it again",
            dk_op_str(op, ob), m->o->rsp_ms);
    }
    return again(m, R_LOST, "no answer to %s after %u tries", dk_op_str(op, ob), m->o->retries + 1);
}

static int transact(M *m, size_t len, dk_msg *r)
{
    return transact_x(m, len, r, true);
}

/* ---- requests ---------------------------------------------------------- */

static int req_select(M *m, uint8_t type, dk_msg *r)
{
    m->tx[0] = DK_OP_OBJECT_SELECT;
    m->tx[1] = type;
    return transact(m, 2, r);
}

static int req_create(M *m, uint8_t type, uint32_t size, dk_msg *r)
{
    m->tx[0] = DK_OP_OBJECT_CREATE;
    m->tx[1] = type;
    m->tx[2] = (uint8_t)size;
    m->tx[3] = (uint8_t)(size >> 8);
    m->tx[4] = (uint8_t)(size >> 16);
    m->tx[5] = (uint8_t)(size >> 24);
    int k = transact(m, 6, r);
    m->writes = 0; /* CREATE resets the target's PRN counter */
    return k;
}

static int req_simple(M *m, uint8_t op, dk_msg *r)
{
    m->tx[0] = op;
    return transact(m, 1, r);
}

static int connect(M *m)
{
    dk_msg r;
    uint64_t deadline = now(m) + m->o->connect_ms;
    bool alive = false;
    unsigned tries = 0;
    do {
        m->tx[0] = DK_OP_PING;
        m->tx[1] = ++m->ping_id;
        if (tx(m, 2) < 0)
            return port_gone(m, "pinging");
        tries++;
        /* Re-ping briskly: a target that is booting, or a port that dropped
         * what came before it was ready, answers the next one. */
        uint64_t t = now(m);
        uint32_t wait = m->o->rsp_ms < DH_PING_MS ? m->o->rsp_ms : DH_PING_MS;
        if (t + wait > deadline)
            wait = t >= deadline ? 0 : (uint32_t)(deadline - t);
        int k = wait_rsp(m, DK_OP_PING, -1, &r, wait);
        if (k < 0)
            return port_gone(m, "pinging");
        if (k == 1) {
            alive = true;
            /* An older PING's echo may have answered: resync before relying on order. */
            if (r.result != DK_RES_SUCCESS || r.rsp.ping.id != m->ping_id)
                m->desync = true;
        }
    } while (!alive && now(m) < deadline);
    if (!alive)
        return fail(m, "no answer to PING within %.1f s (%u tries): is the target's bootloader "
                       "running in DFU mode on this port?",
                    m->o->connect_ms / 1000.0, tries);

    m->tx[0] = DK_OP_RECEIPT_NOTIF_SET;
    m->tx[1] = (uint8_t)m->o->prn;
    m->tx[2] = (uint8_t)(m->o->prn >> 8);
    int k = transact(m, 3, &r);
    if (k)
        return k == R_LOST ? fail(m, "%s", m->why) : k;
    if (r.result != DK_RES_SUCCESS)
        return fail_rsp(m, "PRN setting", 0, &r);
    m->writes = 0;

    k = req_simple(m, DK_OP_MTU_GET, &r);
    if (k)
        return k == R_LOST ? fail(m, "%s", m->why) : k;
    if (r.result != DK_RES_SUCCESS)
        return fail_rsp(m, "MTU request", 0, &r);
    uint32_t mtu = r.rsp.mtu.mtu;
    if (mtu < 7)
        return fail(m, "the target reports an MTU of %u bytes: too small to carry a WRITE", mtu);
    m->chunk = (mtu - 1) / 2 - 1;
    if (m->chunk > DH_FRAME_MAX - 1)
        m->chunk = DH_FRAME_MAX - 1;
    say(m, DH_EV_DEBUG, "target answers; MTU %u: %u bytes per WRITE", mtu, m->chunk);
    return R_OK;
}

/* CRC of bin[0..off), cached for the sequential case. */
static uint32_t crc_upto(M *m, size_t off)
{
    if (off < m->crc_off) {
        m->crc_off = 0;
        m->crc_val = 0;
    }
    m->crc_val = dk_crc32(m->crc_val, m->img->bin + m->crc_off, off - m->crc_off);
    m->crc_off = off;
    return m->crc_val;
}

/* WRITE buf[from..to) in chunks; *crc holds crc(buf[0..from)) and is
 * advanced.  PRN notifications are checked when due.  The CRC is brought up
 * to date only where it is compared (zlib's crc32 is several times slower
 * on 64-byte pieces than on a whole object). */
static int write_span(M *m, const uint8_t *buf, size_t from, size_t to, uint32_t *crc, bool data)
{
    dk_msg r;
    size_t pos = from, c_at = from; /* c = crc(buf[0..c_at)) */
    uint32_t c = *crc;
    while (pos < to) {
        size_t n = to - pos < m->chunk ? to - pos : m->chunk;
        m->tx[0] = DK_OP_OBJECT_WRITE;
        memcpy(m->tx + 1, buf + pos, n);
        if (tx(m, n + 1) < 0)
            return port_gone(m, "writing");
        pos += n;
        if (data) {
            m->sent += n;
            emit(m, DH_EV_PROGRESS, pos, m->img->bin_len, NULL);
        }
        if (!m->o->prn || ++m->writes < m->o->prn)
            continue;
        m->writes = 0;
        if (m->desync)
            continue; /* an earlier notification is missing: the CRC_GET after a resync tells */
        int k = wait_rsp(m, DK_OP_CRC_GET, -1, &r, m->o->rsp_ms);
        if (k < 0)
            return port_gone(m, "waiting for a PRN notification");
        if (k == 0) {
            m->desync = true;
            say(m, DH_EV_NOTE, "PRN notification at offset %zu missing; checking at the object's end",
                pos);
            continue;
        }
        c = dk_crc32(c, buf + c_at, pos - c_at);
        c_at = pos;
        char rb[DK_NAME_BUFSZ];
        if (r.result != DK_RES_SUCCESS) {
            say(m, DH_EV_NOTE, "a WRITE failed (PRN at offset %zu: %s)", pos,
                dk_result_str(r.result, rb));
            return R_BAD;
        }
        if (r.rsp.crc.offset != pos || r.rsp.crc.crc != c) {
            say(m, DH_EV_NOTE,
                "PRN notification: target at offset %u crc 0x%08X, expected %zu crc 0x%08X",
                r.rsp.crc.offset, r.rsp.crc.crc, pos, c);
            return R_BAD;
        }
    }
    *crc = dk_crc32(c, buf + c_at, to - c_at);
    return R_OK;
}

/* CRC_GET: 1 when the target reports exactly (off, crc), 0 otherwise (*got). */
static int check_crc(M *m, uint32_t off, uint32_t crc, dk_msg *r, const char *what, uint8_t obj)
{
    int k = req_simple(m, DK_OP_CRC_GET, r);
    if (k)
        return k;
    if (r->result != DK_RES_SUCCESS)
        return again_rsp(m, what, obj, r);
    return r->rsp.crc.offset == off && r->rsp.crc.crc == crc ? 1 : 0;
}

/* ---- the init packet ---------------------------------------------------- */

static int send_command(M *m, bool fresh)
{
    const dh_image *im = m->img;
    const char *dn = im->dat_name;
    dk_msg r;
    int k = req_select(m, DK_OBJ_COMMAND, &r);
    if (k)
        return k;
    if (r.result != DK_RES_SUCCESS)
        return fail_rsp(m, dn, DK_OBJ_COMMAND, &r);
    uint32_t max = r.rsp.select.max_size, off = r.rsp.select.offset, crc = r.rsp.select.crc;
    const dh_image *pv = m->prev;
    if (pv && m->o->verify &&
        dh_after_final(true, true, off, crc, pv->dat, pv->dat_len) == DH_AF_NOT_TAKEN)
        return again(m, R_PREV, "the target is back in its bootloader still holding %s: %s did not "
                                "take (power lost while it stored its settings after the final "
                                "EXECUTE?)",
                     pv->dat_name, pv->bin_name);
    m->prev = NULL; /* it took: the target holds something else now */
    if (im->dat_len > max)
        return fail(m, "%s is %zu bytes; the target accepts init packets of at most %u bytes", dn,
                    im->dat_len, max);

    bool recovered = false;
    uint32_t c = 0;
    unsigned bit = 1u << m->idx;
    if (!fresh && off == im->dat_len && crc == dk_crc32(0, im->dat, im->dat_len)) {
        if (m->executed & bit) {
            /* It answered SUCCESS to this init packet's EXECUTE in this run, and
             * no CREATE came since: valid in RAM, or stored before that answer
             * and executed again at boot (§6.9).  SELECT alone cannot tell that
             * from a packet written but never executed, so only then. */
            say(m, DH_EV_NOTE, "%s is still on the target, executed earlier in this run (CRC "
                               "0x%08X): not executing it again", dn, crc);
            return R_OK;
        }
        say(m, DH_EV_NOTE, "%s is already on the target (CRC 0x%08X): executing it again", dn, crc);
        recovered = true;
    } else if (!fresh && off > 0 && off < im->dat_len && crc == dk_crc32(0, im->dat, off)) {
        say(m, DH_EV_NOTE, "target holds the first %u bytes of %s: sending the rest", off, dn);
        c = crc;
        k = write_span(m, im->dat, off, im->dat_len, &c, false);
        if (k == R_OK)
            k = check_crc(m, (uint32_t)im->dat_len, c, &r, dn, DK_OBJ_COMMAND);
        if (k < 0 && k != R_BAD)
            return k;
        recovered = k == 1;
    }
    if (!recovered) {
        if (off && !fresh)
            say(m, DH_EV_NOTE, "target holds another init packet (%u bytes, CRC 0x%08X): sending %s",
                off, crc, dn);
        unsigned t;
        m->executed &= ~bit; /* a command CREATE makes the target forget its init packet */
        for (t = 0; t <= m->o->retries; t++) {
            k = req_create(m, DK_OBJ_COMMAND, (uint32_t)im->dat_len, &r);
            if (k)
                return k;
            if (r.result != DK_RES_SUCCESS)
                return fail_rsp(m, dn, DK_OBJ_COMMAND, &r);
            c = 0;
            k = write_span(m, im->dat, 0, im->dat_len, &c, false);
            if (k == R_OK)
                k = check_crc(m, (uint32_t)im->dat_len, c, &r, dn, DK_OBJ_COMMAND);
            if (k == 1)
                break;
            if (k < 0 && k != R_BAD)
                return k;
            if (k == 0)
                say(m, DH_EV_NOTE, "%s did not arrive intact (target: %u bytes, CRC 0x%08X): "
                                   "sending it again", dn, r.rsp.crc.offset, r.rsp.crc.crc);
        }
        if (t > m->o->retries)
            return fail(m, "%s did not arrive intact after %u tries", dn, t);
    }

    k = req_simple(m, DK_OP_OBJECT_EXECUTE, &r);
    if (k)
        return k;
    if (r.result != DK_RES_SUCCESS) {
        if (recovered) {
            char d[400];
            describe_refusal(d, sizeof d, dn, r.op, DK_OBJ_COMMAND, r.result, r.has_ext, r.ext);
            return again(m, R_FRESH, "executing the init packet found on the target failed (%s)", d);
        }
        return fail_rsp(m, dn, DK_OBJ_COMMAND, &r);
    }
    m->executed |= bit;
    if (!recovered)
        m->advanced = true;
    return R_OK;
}

/* ---- the image ---------------------------------------------------------- */

static int final_answer(M *m, const dk_msg *r)
{
    m->final_pending = false;
    if (r->result != DK_RES_SUCCESS)
        return fail_rsp(m, m->img->bin_name, DK_OBJ_DATA, r);
    emit(m, DH_EV_DONE, m->sent, m->img->bin_len, NULL);
    return R_OK;
}

/* The final EXECUTE: the target answers, then resets, so a lost answer cannot
 * be asked for again.  On silence: a target that still answers PING and still
 * reports the whole image never saw the request, and gets it again. */
static int final_execute(M *m)
{
    const dh_image *im = m->img;
    const char *bn = im->bin_name;
    dk_msg r, late;
    m->final_pending = true;
    m->late_final = false;
    for (unsigned t = 0;; t++) {
        if (m->desync) {
            int k = resync(m);
            if (k == R_FAIL)
                return k;
        }
        m->tx[0] = DK_OP_OBJECT_EXECUTE;
        if (tx(m, 1) < 0)
            return port_gone(m, "sending the final EXECUTE");
        int k = wait_rsp(m, DK_OP_OBJECT_EXECUTE, -1, &r, m->o->final_ms);
        if (k < 0)
            return port_gone(m, "waiting for the answer to the final EXECUTE");
        if (k == 1)
            return final_answer(m, &r);
        memset(&late, 0, sizeof late);
        late.op = DK_OP_OBJECT_EXECUTE;
        m->desync = true;
        k = resync(m);
        if (k == R_FAIL)
            return k;
        if (!m->late_final && k == R_OK)
            k = req_select(m, DK_OBJ_DATA, &r);
        if (k == R_FAIL)
            return k;
        if (m->late_final) {
            late.result = m->late_result;
            late.has_ext = m->late_has_ext;
            late.ext = m->late_ext;
            return final_answer(m, &late);
        }
        if (k == R_LOST)
            return fail(m, "no answer to the final EXECUTE of %s within %u ms and the target is "
                           "silent: it may have reset into the new firmware, but the update is "
                           "unconfirmed",
                        bn, m->o->final_ms);
        if (k || r.result != DK_RES_SUCCESS || r.rsp.select.offset != im->bin_len ||
            r.rsp.select.crc != crc_upto(m, im->bin_len))
            return fail(m, "no answer to the final EXECUTE of %s, and the target no longer holds "
                           "the image: it reset without confirming; the update is unconfirmed",
                        bn);
        if (t >= m->o->retries)
            return fail(m, "no answer to the final EXECUTE of %s after %u tries", bn, t + 1);
        say(m, DH_EV_NOTE, "the final EXECUTE got lost: the target still holds all of %s; sending it again",
            bn);
    }
}

static int execute_data(M *m, size_t end)
{
    if (end == m->img->bin_len)
        return final_execute(m);
    /* Not re-sent blindly: after a reset the target's current object is the
     * command, and EXECUTE would succeed on that instead.  The next attempt
     * SELECTs data first and executes again only what is really there. */
    dk_msg r;
    m->tx[0] = DK_OP_OBJECT_EXECUTE;
    int k = transact_x(m, 1, &r, false);
    if (k)
        return k;
    if (r.result == DK_RES_OPERATION_NOT_PERMITTED || r.result == DK_RES_INVALID_PARAMETER)
        return again_rsp(m, m->img->bin_name, DK_OBJ_DATA, &r);
    if (r.result != DK_RES_SUCCESS)
        return fail_rsp(m, m->img->bin_name, DK_OBJ_DATA, &r);
    m->advanced = true;
    emit(m, DH_EV_PROGRESS, end, m->img->bin_len, NULL);
    return R_OK;
}

/* CREATE, WRITE, check and EXECUTE the object starting at start.  rollback:
 * the target may hold part of this object: confirm the CREATE rolled it back
 * to start before writing. */
static int send_object(M *m, size_t start, bool rollback)
{
    const dh_image *im = m->img;
    const char *bn = im->bin_name;
    size_t len = im->bin_len - start < m->obj_max ? im->bin_len - start : m->obj_max;
    size_t end = start + len;
    uint32_t c0 = crc_upto(m, start);
    dk_msg r;
    for (unsigned t = 0; t <= m->o->retries; t++) {
        int k = req_create(m, DK_OBJ_DATA, (uint32_t)len, &r);
        if (k)
            return k;
        if (r.result == DK_RES_OPERATION_NOT_PERMITTED || r.result == DK_RES_INVALID_PARAMETER)
            return again_rsp(m, bn, DK_OBJ_DATA, &r);
        if (r.result != DK_RES_SUCCESS)
            return fail_rsp(m, bn, DK_OBJ_DATA, &r);
        if (rollback) {
            k = check_crc(m, (uint32_t)start, c0, &r, bn, DK_OBJ_DATA);
            if (k < 0)
                return k;
            uint32_t o = r.rsp.crc.offset;
            if (k == 0 && o < start && o % m->obj_max == 0 && r.rsp.crc.crc == crc_upto(m, o)) {
                say(m, DH_EV_NOTE, "the target rolled back to offset %u: carrying on from there", o);
                m->rewind = o;
                return R_REWIND;
            }
            if (k == 0)
                return again(m, R_FRESH,
                             "after rolling back, the target holds %u bytes (CRC 0x%08X) that "
                             "differ from %s",
                             o, r.rsp.crc.crc, bn);
            rollback = false;
        }
        uint32_t c = c0;
        k = write_span(m, im->bin, start, end, &c, true);
        if (k == R_OK) {
            k = check_crc(m, (uint32_t)end, c, &r, bn, DK_OBJ_DATA);
            if (k == 1) {
                m->crc_off = end; /* the next object starts from here */
                m->crc_val = c;
                return execute_data(m, end);
            }
            if (k == 0 && (r.rsp.crc.offset < start || r.rsp.crc.offset > end))
                return again(m, R_AGAIN,
                             "the target reports offset %u, outside the object %zu..%zu being sent "
                             "(did it reset?)",
                             r.rsp.crc.offset, start, end);
            if (k == 0)
                say(m, DH_EV_NOTE,
                    "object %zu..%zu of %s failed its CRC check (target: offset %u CRC 0x%08X, "
                    "expected %zu CRC 0x%08X): bytes were lost or changed on the line (an overrun, "
                    "frames glued while the target wrote flash); sending it again. If this "
                    "repeats, use --flow-control (RTS/CTS at both ends), --prn N or a lower baud rate",
                    start, end, bn, r.rsp.crc.offset, r.rsp.crc.crc, end, c);
        }
        if (k < 0 && k != R_BAD)
            return k;
    }
    return fail(m, "%s: object %zu..%zu failed its CRC check %u times: the line loses or changes bytes; "
                   "use --flow-control (RTS/CTS at both ends), --prn N or a lower baud rate",
                bn, start, end, m->o->retries + 1);
}

static int send_data(M *m)
{
    const dh_image *im = m->img;
    const char *bn = im->bin_name;
    dk_msg r;
    int k = req_select(m, DK_OBJ_DATA, &r);
    if (k)
        return k;
    if (r.result != DK_RES_SUCCESS)
        return again_rsp(m, bn, DK_OBJ_DATA, &r);
    uint32_t max = r.rsp.select.max_size, off = r.rsp.select.offset, crc = r.rsp.select.crc;
    if (max == 0)
        return fail(m, "the target reports a data object size of 0");
    m->obj_max = max;

    size_t pos = 0;
    bool rollback = false;
    bool boundary = off % max == 0 || off == im->bin_len;
    if (off <= im->bin_len && crc == crc_upto(m, off)) {
        if (off == 0) {
            pos = 0;
        } else if (boundary) {
            say(m, DH_EV_NOTE, "target holds %u of %zu bytes of %s (CRC ok): executing its last object again",
                off, im->bin_len, bn);
            k = execute_data(m, off);
            if (k == R_AGAIN && off < im->bin_len) {
                /* 0x08: an object was created after the last EXECUTE and is
                 * still empty (or of another size): create it again. */
                say(m, DH_EV_NOTE, "creating the object at %u again: the target has an empty object "
                                   "open, or did not answer (%s)",
                    off, m->why);
                rollback = true;
            } else if (k) {
                return k;
            }
            pos = off;
        } else {
            size_t start = off - off % max;
            size_t end = start + max < im->bin_len ? start + max : im->bin_len;
            say(m, DH_EV_NOTE, "target holds %u of %zu bytes of %s (CRC ok): finishing the object at %zu",
                off, im->bin_len, bn, start);
            uint32_t c = crc;
            k = write_span(m, im->bin, off, end, &c, true);
            if (k == R_OK)
                k = check_crc(m, (uint32_t)end, c, &r, bn, DK_OBJ_DATA);
            if (k == 1) {
                k = execute_data(m, end);
                if (k)
                    return k;
                pos = end;
            } else if (k == 0 || k == R_BAD) {
                say(m, DH_EV_NOTE, "the finished object did not check out: sending it whole");
                pos = start;
            } else {
                return k;
            }
        }
    } else if (off < im->bin_len && !boundary) {
        pos = off - off % max;
        rollback = true;
        say(m, DH_EV_NOTE,
            "target's partial object (offset %u, CRC 0x%08X) differs from %s: sending the object at "
            "%zu again",
            off, crc, bn, pos);
    } else {
        return again(m, R_FRESH,
                     "target holds %u bytes (CRC 0x%08X) that differ from %s, and an executed object "
                     "cannot be rolled back",
                     off, crc, bn);
    }

    while (pos < im->bin_len) {
        k = send_object(m, pos, rollback);
        if (k == R_REWIND) {
            pos = m->rewind;
            continue; /* rollback stays set: confirm again after the next CREATE */
        }
        if (k)
            return k;
        rollback = false;
        pos = pos + m->obj_max < im->bin_len ? pos + m->obj_max : im->bin_len;
    }
    return R_OK;
}

/* ---- after the last image: did the target leave its bootloader? ------------ */

dh_after dh_after_final(bool answered, bool selected, uint32_t off, uint32_t crc,
                        const uint8_t *dat, size_t dat_len)
{
    if (!answered)
        return DH_AF_LEFT;
    if (!selected)
        return DH_AF_NOT_TAKEN; /* a bootloader that will not say: assume the worst */
    if (off == dat_len && crc == dk_crc32(0, dat, dat_len))
        return DH_AF_NOT_TAKEN;
    return DH_AF_STORED;
}

/* PING (reopening the port when it went away) until a bootloader echoes or
 * the window ends.  1 echoed, 0 not.  No pause first: the SDK writes its
 * settings and resets inside the final EXECUTE's handler (§14.9), so a PING
 * sent meanwhile is never handled by that session; its 3 bytes wait in the
 * UARTE (no overrun, §14.6) and go with the reset, and the next one, 250 ms
 * later, reaches the new boot.  Against an instant simulator the answer then
 * costs nothing. */
static int ping_window(M *m, uint64_t deadline)
{
    dk_msg r;
    bool gone = false;
    while (now(m) < deadline) {
        uint64_t t = now(m);
        uint32_t left = (uint32_t)(deadline - t);
        if (gone) {
            /* USB CDC: the bootloader's port went with its reset; the app's may
             * come back under the same name, or nothing does. */
            if (!m->io->reopen || m->io->reopen(m->io->ctx, left) < 0)
                return 0;
            gone = false;
            say(m, DH_EV_DEBUG, "the port went away after the final EXECUTE and came back: pinging");
            continue;
        }
        uint8_t id = ++m->ping_id;
        m->tx[0] = DK_OP_PING;
        m->tx[1] = id;
        if (tx(m, 2) < 0) {
            gone = true;
            continue;
        }
        int k = wait_rsp(m, DK_OP_PING, id, &r, left < DH_PING_MS ? left : DH_PING_MS);
        if (k == 1)
            return 1;
        gone = k < 0;
    }
    return 0;
}

/* The check after the last image's final EXECUTE (dh_after_final): R_OK, or
 * R_UNTAKEN (said why), or R_FAIL. */
static int after_final(M *m)
{
    const dh_image *im = m->img;
    uint64_t deadline = now(m) + m->o->verify_ms;
    m->desync = false;
    int answered = ping_window(m, deadline);
    dk_msg r;
    bool selected = false;
    if (answered) {
        int k = req_select(m, DK_OBJ_COMMAND, &r);
        if (k == R_FAIL)
            return k;
        selected = k == R_OK && r.result == DK_RES_SUCCESS;
    }
    dh_after a = dh_after_final(answered, selected, selected ? r.rsp.select.offset : 0,
                                selected ? r.rsp.select.crc : 0, im->dat, im->dat_len);
    m->res->after = a;
    switch (a) {
    case DH_AF_LEFT:
        say(m, DH_EV_DEBUG, "no bootloader answered PING within %.1f s of the final EXECUTE: the "
                            "target left its bootloader", m->o->verify_ms / 1000.0);
        return R_OK;
    case DH_AF_STORED:
        say(m, DH_EV_NOTE, "the bootloader still answers after the update, but no longer holds %s: "
                           "the update was stored; it stays in DFU mode for another reason (a "
                           "button or pin held, a SoftDevice waiting for its application)",
            im->dat_name);
        return R_OK;
    default:
        break;
    }
    return again(m, R_UNTAKEN, "the target answered SUCCESS to the final EXECUTE of %s but came back "
                               "in its bootloader %s: the update did not take (power lost while it "
                               "stored its settings?)",
                 im->bin_name, selected ? "still holding its init packet" : "without saying what it holds");
}

/* A transfer the target did not keep: one more, within --retries. */
static int untaken(M *m)
{
    if (++m->res->untaken > m->o->retries)
        return fail(m, "%s; gave up after %u complete transfers that the target did not keep",
                    m->why, m->res->untaken);
    say(m, DH_EV_NOTE, "%s: sending it again", m->why);
    return R_OK;
}

/* Attempts until the image is accepted: each one asks the target where it
 * stands (SELECT) and carries on from there; an attempt that moves nothing
 * forward counts against max_restarts. */
static int send_image(M *m)
{
    bool fresh = m->o->restart, connected = false;
    unsigned idle = 0, attempts = 0;
    unsigned cap = 4 * (m->o->max_restarts + 1);
    for (;;) {
        if (!connected) {
            int k = connect(m);
            if (k)
                return k;
            connected = true;
        }
        attempts++;
        m->advanced = false;
        m->final_pending = false;
        int k = send_command(m, fresh);
        if (k == R_OK) {
            fresh = false;
            k = send_data(m);
        }
        if (k == R_OK && m->last && m->o->verify) {
            k = after_final(m);
            if (k == R_UNTAKEN) {
                if ((k = untaken(m)) != R_OK)
                    return k;
                connected = false; /* it reset: PRN and MTU again */
                idle = 0;
                continue;
            }
        }
        if (k == R_OK || k == R_FAIL || k == R_PREV)
            return k;
        idle = m->advanced ? 0 : idle + 1;
        if (idle > m->o->max_restarts || attempts >= cap)
            return fail(m, "giving up on %s after %u attempts: %s", m->img->bin_name, attempts,
                        m->why);
        if (k == R_FRESH) {
            fresh = true;
            say(m, DH_EV_NOTE, "%s: starting %s again with a new init packet", m->why,
                m->img->bin_name);
        } else {
            say(m, DH_EV_NOTE, "%s: asking the target where it stands", m->why);
        }
        /* The target may have reset (§6.9): its PRN target lives in RAM and is
         * 0 again, so with --prn the link is set up anew before going on. */
        if (k == R_LOST || (k == R_AGAIN && m->o->prn))
            connected = false;
    }
}

dh_status dh_run(const dh_opts *o, const dh_io *io, const dh_image *imgs, size_t n, dh_result *res)
{
    M mm;
    M *m = &mm;
    memset(m, 0, sizeof *m);
    memset(res, 0, sizeof *res);
    m->o = o;
    m->io = io;
    m->res = res;
    bool reopen = false;
    for (size_t i = 0; i < n;) {
        m->idx = i;
        m->img = &imgs[i];
        m->prev = i > 0 ? &imgs[i - 1] : NULL;
        m->last = i + 1 == n;
        m->crc_off = 0;
        m->crc_val = 0;
        m->sent = 0;
        m->desync = false;
        emit(m, DH_EV_IMAGE, 0, imgs[i].bin_len, NULL);
        if (reopen && io->reopen && io->reopen(io->ctx, DH_REOPEN_MS) < 0) {
            port_gone(m, "reopening it for the next image");
            return DH_FAILED;
        }
        int k = send_image(m);
        if (k == R_PREV) { /* the target lost image i - 1 (§14.9): back to it */
            if (untaken(m) != R_OK)
                return DH_FAILED;
            reopen = false;
            i--;
            continue;
        }
        if (k != R_OK)
            return DH_FAILED;
        reopen = true;
        i++;
    }
    res->status = DH_OK;
    return DH_OK;
}
