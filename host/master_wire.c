/* master_wire.c - the Secure DFU master's wire side: events and errors,
 * frames (send, wait, resync) and requests (master_int.h). */
#include "master_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/tables.h"

/* ---- events and errors ------------------------------------------------ */

void dm_emit(M *m, dh_ev_kind kind, uint64_t done, uint64_t total, const char *text)
{
    if (!m->o->on_event)
        return;
    dh_event ev = { kind, m->idx, m->img ? m->img->bin_name : NULL, done, total, text };
    m->o->on_event(m->o->ev_ctx, &ev);
}

void dm_say(M *m, dh_ev_kind kind, const char *fmt, ...)
{
    if (!m->o->on_event)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dm_emit(m, kind, 0, 0, buf);
}

int dm_fail(M *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->res->msg, sizeof m->res->msg, fmt, ap);
    va_end(ap);
    m->res->status = DH_FAILED;
    m->res->image = m->idx;
    return R_FAIL;
}

int dm_again(M *m, int code, const char *fmt, ...)
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
void dm_describe_refusal(char *out, size_t cap, const char *what, uint8_t op, uint8_t obj,
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

int dm_fail_rsp(M *m, const char *what, uint8_t obj, const dk_msg *r)
{
    dm_describe_refusal(m->res->msg, sizeof m->res->msg, what, r->op, obj, r->result, r->has_ext, r->ext);
    m->res->status = DH_FAILED;
    m->res->image = m->idx;
    m->res->has_rsp = true;
    m->res->op = r->op;
    m->res->result = r->result;
    m->res->has_ext = r->has_ext;
    m->res->ext = r->ext;
    return R_FAIL;
}

int dm_again_rsp(M *m, const char *what, uint8_t obj, const dk_msg *r)
{
    dm_describe_refusal(m->why, sizeof m->why, what, r->op, obj, r->result, r->has_ext, r->ext);
    return R_AGAIN;
}

/* ---- frames ------------------------------------------------------------ */

uint64_t dm_now(M *m) { return m->io->now_ms(m->io->ctx); }

int dm_port_gone(M *m, const char *while_)
{
    return dm_fail(m, "the port failed or closed while %s", while_);
}

int dm_tx(M *m, size_t len)
{
    if (m->o->trace && m->o->on_event) {
        dk_msg q;
        char d[160];
        dk_msg_parse(m->tx, len, &q);
        dk_msg_describe(&q, d, sizeof d);
        dm_emit(m, DH_EV_TX, 0, 0, d);
    }
    return m->io->send(m->io->ctx, m->tx, len) < 0 ? -1 : 0;
}

/* One parsed response by the deadline: 1, 0 timeout, <0 port. */
static int rx_frame(M *m, dk_msg *r, uint64_t deadline)
{
    for (;;) {
        uint64_t t = dm_now(m);
        uint32_t wait = t >= deadline ? 0 : (uint32_t)(deadline - t);
        size_t len = 0;
        int k = m->io->recv(m->io->ctx, m->rx, sizeof m->rx, &len, wait);
        if (k <= 0)
            return k;
        dk_msg_status st = dk_msg_parse(m->rx, len, r);
        if (m->o->trace && m->o->on_event) {
            char d[160];
            dk_msg_describe(r, d, sizeof d);
            dm_emit(m, DH_EV_RX, 0, 0, d);
        }
        if (st == DK_MSG_EMPTY || st == DK_MSG_TRUNCATED || st == DK_MSG_UNKNOWN_OP ||
            !r->is_response) {
            dm_say(m, DH_EV_DEBUG, "dropped a %zu-byte frame that is no valid response", len);
            continue;
        }
        return 1;
    }
}

/* Wait for the answer to op (PING: with id, or any when id < 0), dropping
 * stale ones. */
int dm_wait_rsp(M *m, uint8_t op, int id, dk_msg *r, uint32_t ms)
{
    uint64_t deadline = dm_now(m) + ms;
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
        dm_say(m, DH_EV_DEBUG, "dropped a stale %s answer", dk_op_str(r->op, ob));
    }
}

/* PING with a fresh id and drain everything up to its echo. */
int dm_resync(M *m)
{
    dk_msg r;
    for (unsigned t = 0; t <= m->o->retries; t++) {
        uint8_t id = ++m->ping_id;
        m->tx[0] = DK_OP_PING;
        m->tx[1] = id;
        if (dm_tx(m, 2) < 0)
            return dm_port_gone(m, "resyncing");
        int k = dm_wait_rsp(m, DK_OP_PING, id, &r, m->o->rsp_ms);
        if (k < 0)
            return dm_port_gone(m, "resyncing");
        if (k == 1) {
            m->desync = false;
            dm_say(m, DH_EV_DEBUG, "resynced on PING id %u", id);
            return R_OK;
        }
    }
    return dm_again(m, R_LOST, "the target stopped answering (no PING echo after %u tries)",
                    m->o->retries + 1);
}

/* Send tx[0..len) and wait for its answer, re-sending after a resync when it
 * does not come. */
int dm_transact_x(M *m, size_t len, dk_msg *r, bool resend)
{
    uint8_t op = m->tx[0];
    uint8_t saved[8];
    memcpy(saved, m->tx, len < sizeof saved ? len : sizeof saved); /* resync reuses tx */
    char ob[DK_NAME_BUFSZ];
    for (unsigned t = 0; t <= m->o->retries; t++) {
        if (m->desync) {
            int k = dm_resync(m);
            if (k)
                return k;
            memcpy(m->tx, saved, len < sizeof saved ? len : sizeof saved);
        }
        if (dm_tx(m, len) < 0)
            return dm_port_gone(m, "sending a request");
        int k = dm_wait_rsp(m, op, -1, r, m->o->rsp_ms);
        if (k < 0)
            return dm_port_gone(m, "waiting for an answer");
        if (k == 1)
            return R_OK;
        m->desync = true;
        if (!resend)
            return dm_again(m, R_AGAIN, "no answer to %s within %u ms", dk_op_str(op, ob),
                            m->o->rsp_ms);
        dm_say(m, DH_EV_NOTE, "no answer to %s within %u ms: resyncing and sending it again",
               dk_op_str(op, ob), m->o->rsp_ms);
    }
    return dm_again(m, R_LOST, "no answer to %s after %u tries", dk_op_str(op, ob), m->o->retries + 1);
}

static int transact(M *m, size_t len, dk_msg *r)
{
    return dm_transact_x(m, len, r, true);
}

/* ---- requests ---------------------------------------------------------- */

int dm_req_select(M *m, uint8_t type, dk_msg *r)
{
    m->tx[0] = DK_OP_OBJECT_SELECT;
    m->tx[1] = type;
    return transact(m, 2, r);
}

int dm_req_create(M *m, uint8_t type, uint32_t size, dk_msg *r)
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

int dm_req_simple(M *m, uint8_t op, dk_msg *r)
{
    m->tx[0] = op;
    return transact(m, 1, r);
}

int dm_connect(M *m)
{
    dk_msg r;
    uint64_t deadline = dm_now(m) + m->o->connect_ms;
    bool alive = false;
    unsigned tries = 0;
    do {
        m->tx[0] = DK_OP_PING;
        m->tx[1] = ++m->ping_id;
        if (dm_tx(m, 2) < 0)
            return dm_port_gone(m, "pinging");
        tries++;
        /* Re-ping briskly: a target that is booting, or a port that dropped
         * what came before it was ready, answers the next one. */
        uint64_t t = dm_now(m);
        uint32_t wait = m->o->rsp_ms < DH_PING_MS ? m->o->rsp_ms : DH_PING_MS;
        if (t + wait > deadline)
            wait = t >= deadline ? 0 : (uint32_t)(deadline - t);
        int k = dm_wait_rsp(m, DK_OP_PING, -1, &r, wait);
        if (k < 0)
            return dm_port_gone(m, "pinging");
        if (k == 1) {
            alive = true;
            /* An older PING's echo may have answered: resync before relying on order. */
            if (r.result != DK_RES_SUCCESS || r.rsp.ping.id != m->ping_id)
                m->desync = true;
        }
    } while (!alive && dm_now(m) < deadline);
    if (!alive)
        return dm_fail(m, "no answer to PING within %.1f s (%u tries): is the target's bootloader "
                       "running in DFU mode on this port?",
                       m->o->connect_ms / 1000.0, tries);

    m->tx[0] = DK_OP_RECEIPT_NOTIF_SET;
    m->tx[1] = (uint8_t)m->o->prn;
    m->tx[2] = (uint8_t)(m->o->prn >> 8);
    int k = transact(m, 3, &r);
    if (k)
        return k == R_LOST ? dm_fail(m, "%s", m->why) : k;
    if (r.result != DK_RES_SUCCESS)
        return dm_fail_rsp(m, "PRN setting", 0, &r);
    m->writes = 0;

    k = dm_req_simple(m, DK_OP_MTU_GET, &r);
    if (k)
        return k == R_LOST ? dm_fail(m, "%s", m->why) : k;
    if (r.result != DK_RES_SUCCESS)
        return dm_fail_rsp(m, "MTU request", 0, &r);
    uint32_t mtu = r.rsp.mtu.mtu;
    if (mtu < 7)
        return dm_fail(m, "the target reports an MTU of %u bytes: too small to carry a WRITE", mtu);
    m->chunk = (mtu - 1) / 2 - 1;
    if (m->chunk > DH_FRAME_MAX - 1)
        m->chunk = DH_FRAME_MAX - 1;
    dm_say(m, DH_EV_DEBUG, "target answers; MTU %u: %u bytes per WRITE", mtu, m->chunk);
    return R_OK;
}

/* CRC of bin[0..off), cached for the sequential case. */
uint32_t dm_crc_upto(M *m, size_t off)
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
int dm_write_span(M *m, const uint8_t *buf, size_t from, size_t to, uint32_t *crc, bool data)
{
    dk_msg r;
    size_t pos = from, c_at = from; /* c = crc(buf[0..c_at)) */
    uint32_t c = *crc;
    while (pos < to) {
        size_t n = to - pos < m->chunk ? to - pos : m->chunk;
        m->tx[0] = DK_OP_OBJECT_WRITE;
        memcpy(m->tx + 1, buf + pos, n);
        if (dm_tx(m, n + 1) < 0)
            return dm_port_gone(m, "writing");
        pos += n;
        if (data) {
            m->sent += n;
            dm_emit(m, DH_EV_PROGRESS, pos, m->img->bin_len, NULL);
        }
        if (!m->o->prn || ++m->writes < m->o->prn)
            continue;
        m->writes = 0;
        if (m->desync)
            continue; /* an earlier notification is missing: the CRC_GET after a resync tells */
        int k = dm_wait_rsp(m, DK_OP_CRC_GET, -1, &r, m->o->rsp_ms);
        if (k < 0)
            return dm_port_gone(m, "waiting for a PRN notification");
        if (k == 0) {
            m->desync = true;
            dm_say(m, DH_EV_NOTE, "PRN notification at offset %zu missing; checking at the object's end",
                   pos);
            continue;
        }
        c = dk_crc32(c, buf + c_at, pos - c_at);
        c_at = pos;
        char rb[DK_NAME_BUFSZ];
        if (r.result != DK_RES_SUCCESS) {
            dm_say(m, DH_EV_NOTE, "a WRITE failed (PRN at offset %zu: %s)", pos,
                   dk_result_str(r.result, rb));
            return R_BAD;
        }
        if (r.rsp.crc.offset != pos || r.rsp.crc.crc != c) {
            dm_say(m, DH_EV_NOTE,
                   "PRN notification: target at offset %u crc 0x%08X, expected %zu crc 0x%08X",
                   r.rsp.crc.offset, r.rsp.crc.crc, pos, c);
            return R_BAD;
        }
    }
    *crc = dk_crc32(c, buf + c_at, to - c_at);
    return R_OK;
}

/* CRC_GET: 1 when the target reports exactly (off, crc), 0 otherwise (*got). */
int dm_check_crc(M *m, uint32_t off, uint32_t crc, dk_msg *r, const char *what, uint8_t obj)
{
    int k = dm_req_simple(m, DK_OP_CRC_GET, r);
    if (k)
        return k;
    if (r->result != DK_RES_SUCCESS)
        return dm_again_rsp(m, what, obj, r);
    return r->rsp.crc.offset == off && r->rsp.crc.crc == crc ? 1 : 0;
}
