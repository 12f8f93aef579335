/* master.c - the DFU master state machine (sequence and resume rules in
 * master.h): the init packet, the image, the check after the last image and
 * dh_run; the wire side is master_wire.c. */
#include "master_int.h"

#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/tables.h"

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

/* ---- the init packet ---------------------------------------------------- */

static int send_command(M *m, bool fresh)
{
    const dh_image *im = m->img;
    const char *dn = im->dat_name;
    dk_msg r;
    int k = dm_req_select(m, DK_OBJ_COMMAND, &r);
    if (k)
        return k;
    if (r.result != DK_RES_SUCCESS)
        return dm_fail_rsp(m, dn, DK_OBJ_COMMAND, &r);
    uint32_t max = r.rsp.select.max_size, off = r.rsp.select.offset, crc = r.rsp.select.crc;
    const dh_image *pv = m->prev;
    if (pv && m->o->verify &&
        dh_after_final(true, true, off, crc, pv->dat, pv->dat_len) == DH_AF_NOT_TAKEN)
        return dm_again(m, R_PREV, "the target is back in its bootloader still holding %s: %s did not "
                                   "take (power lost while it stored its settings after the final "
                                   "EXECUTE?)",
                        pv->dat_name, pv->bin_name);
    m->prev = NULL; /* it took: the target holds something else now */
    if (im->dat_len > max)
        return dm_fail(m, "%s is %zu bytes; the target accepts init packets of at most %u bytes", dn,
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
            dm_say(m, DH_EV_NOTE, "%s is still on the target, executed earlier in this run (CRC "
                                  "0x%08X): not executing it again", dn, crc);
            return R_OK;
        }
        dm_say(m, DH_EV_NOTE, "%s is already on the target (CRC 0x%08X): executing it again", dn, crc);
        recovered = true;
    } else if (!fresh && off > 0 && off < im->dat_len && crc == dk_crc32(0, im->dat, off)) {
        dm_say(m, DH_EV_NOTE, "target holds the first %u bytes of %s: sending the rest", off, dn);
        c = crc;
        k = dm_write_span(m, im->dat, off, im->dat_len, &c, false);
        if (k == R_OK)
            k = dm_check_crc(m, (uint32_t)im->dat_len, c, &r, dn, DK_OBJ_COMMAND);
        if (k < 0 && k != R_BAD)
            return k;
        recovered = k == 1;
    }
    if (!recovered) {
        if (off && !fresh)
            dm_say(m, DH_EV_NOTE, "target holds another init packet (%u bytes, CRC 0x%08X): sending %s",
                   off, crc, dn);
        unsigned t;
        m->executed &= ~bit; /* a command CREATE makes the target forget its init packet */
        for (t = 0; t <= m->o->retries; t++) {
            k = dm_req_create(m, DK_OBJ_COMMAND, (uint32_t)im->dat_len, &r);
            if (k)
                return k;
            if (r.result != DK_RES_SUCCESS)
                return dm_fail_rsp(m, dn, DK_OBJ_COMMAND, &r);
            c = 0;
            k = dm_write_span(m, im->dat, 0, im->dat_len, &c, false);
            if (k == R_OK)
                k = dm_check_crc(m, (uint32_t)im->dat_len, c, &r, dn, DK_OBJ_COMMAND);
            if (k == 1)
                break;
            if (k < 0 && k != R_BAD)
                return k;
            if (k == 0)
                dm_say(m, DH_EV_NOTE, "%s did not arrive intact (target: %u bytes, CRC 0x%08X): "
                                      "sending it again", dn, r.rsp.crc.offset, r.rsp.crc.crc);
        }
        if (t > m->o->retries)
            return dm_fail(m, "%s did not arrive intact after %u tries", dn, t);
    }

    k = dm_req_simple(m, DK_OP_OBJECT_EXECUTE, &r);
    if (k)
        return k;
    if (r.result != DK_RES_SUCCESS) {
        if (recovered) {
            char d[400];
            dm_describe_refusal(d, sizeof d, dn, r.op, DK_OBJ_COMMAND, r.result, r.has_ext, r.ext);
            return dm_again(m, R_FRESH, "executing the init packet found on the target failed (%s)", d);
        }
        return dm_fail_rsp(m, dn, DK_OBJ_COMMAND, &r);
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
        return dm_fail_rsp(m, m->img->bin_name, DK_OBJ_DATA, r);
    dm_emit(m, DH_EV_DONE, m->sent, m->img->bin_len, NULL);
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
            int k = dm_resync(m);
            if (k == R_FAIL)
                return k;
        }
        m->tx[0] = DK_OP_OBJECT_EXECUTE;
        if (dm_tx(m, 1) < 0)
            return dm_port_gone(m, "sending the final EXECUTE");
        int k = dm_wait_rsp(m, DK_OP_OBJECT_EXECUTE, -1, &r, m->o->final_ms);
        if (k < 0)
            return dm_port_gone(m, "waiting for the answer to the final EXECUTE");
        if (k == 1)
            return final_answer(m, &r);
        memset(&late, 0, sizeof late);
        late.op = DK_OP_OBJECT_EXECUTE;
        m->desync = true;
        k = dm_resync(m);
        if (k == R_FAIL)
            return k;
        if (!m->late_final && k == R_OK)
            k = dm_req_select(m, DK_OBJ_DATA, &r);
        if (k == R_FAIL)
            return k;
        if (m->late_final) {
            late.result = m->late_result;
            late.has_ext = m->late_has_ext;
            late.ext = m->late_ext;
            return final_answer(m, &late);
        }
        if (k == R_LOST)
            return dm_fail(m, "no answer to the final EXECUTE of %s within %u ms and the target is "
                           "silent: it may have reset into the new firmware, but the update is "
                           "unconfirmed",
                           bn, m->o->final_ms);
        if (k || r.result != DK_RES_SUCCESS || r.rsp.select.offset != im->bin_len ||
            r.rsp.select.crc != dm_crc_upto(m, im->bin_len))
            return dm_fail(m, "no answer to the final EXECUTE of %s, and the target no longer holds "
                           "the image: it reset without confirming; the update is unconfirmed",
                           bn);
        if (t >= m->o->retries)
            return dm_fail(m, "no answer to the final EXECUTE of %s after %u tries", bn, t + 1);
        dm_say(m, DH_EV_NOTE, "the final EXECUTE got lost: the target still holds all of %s; sending it again",
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
    int k = dm_transact_x(m, 1, &r, false);
    if (k)
        return k;
    if (r.result == DK_RES_OPERATION_NOT_PERMITTED || r.result == DK_RES_INVALID_PARAMETER)
        return dm_again_rsp(m, m->img->bin_name, DK_OBJ_DATA, &r);
    if (r.result != DK_RES_SUCCESS)
        return dm_fail_rsp(m, m->img->bin_name, DK_OBJ_DATA, &r);
    m->advanced = true;
    dm_emit(m, DH_EV_PROGRESS, end, m->img->bin_len, NULL);
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
    uint32_t c0 = dm_crc_upto(m, start);
    dk_msg r;
    for (unsigned t = 0; t <= m->o->retries; t++) {
        int k = dm_req_create(m, DK_OBJ_DATA, (uint32_t)len, &r);
        if (k)
            return k;
        if (r.result == DK_RES_OPERATION_NOT_PERMITTED || r.result == DK_RES_INVALID_PARAMETER)
            return dm_again_rsp(m, bn, DK_OBJ_DATA, &r);
        if (r.result != DK_RES_SUCCESS)
            return dm_fail_rsp(m, bn, DK_OBJ_DATA, &r);
        if (rollback) {
            k = dm_check_crc(m, (uint32_t)start, c0, &r, bn, DK_OBJ_DATA);
            if (k < 0)
                return k;
            uint32_t o = r.rsp.crc.offset;
            if (k == 0 && o < start && o % m->obj_max == 0 && r.rsp.crc.crc == dm_crc_upto(m, o)) {
                dm_say(m, DH_EV_NOTE, "the target rolled back to offset %u: carrying on from there", o);
                m->rewind = o;
                return R_REWIND;
            }
            if (k == 0)
                return dm_again(m, R_FRESH,
                                "after rolling back, the target holds %u bytes (CRC 0x%08X) that "
                                "differ from %s",
                                o, r.rsp.crc.crc, bn);
            rollback = false;
        }
        uint32_t c = c0;
        k = dm_write_span(m, im->bin, start, end, &c, true);
        if (k == R_OK) {
            k = dm_check_crc(m, (uint32_t)end, c, &r, bn, DK_OBJ_DATA);
            if (k == 1) {
                m->crc_off = end; /* the next object starts from here */
                m->crc_val = c;
                return execute_data(m, end);
            }
            if (k == 0 && (r.rsp.crc.offset < start || r.rsp.crc.offset > end))
                return dm_again(m, R_AGAIN,
                                "the target reports offset %u, outside the object %zu..%zu being sent "
                                "(did it reset?)",
                                r.rsp.crc.offset, start, end);
            if (k == 0)
                dm_say(m, DH_EV_NOTE,
                       "object %zu..%zu of %s failed its CRC check (target: offset %u CRC 0x%08X, "
                       "expected %zu CRC 0x%08X): bytes were lost or changed on the line (an overrun, "
                       "frames glued while the target wrote flash); sending it again. If this "
                       "repeats, use --flow-control (RTS/CTS at both ends), --prn N or a lower baud rate",
                       start, end, bn, r.rsp.crc.offset, r.rsp.crc.crc, end, c);
        }
        if (k < 0 && k != R_BAD)
            return k;
    }
    return dm_fail(m, "%s: object %zu..%zu failed its CRC check %u times: the line loses or changes bytes; "
                   "use --flow-control (RTS/CTS at both ends), --prn N or a lower baud rate",
                   bn, start, end, m->o->retries + 1);
}

static int send_data(M *m)
{
    const dh_image *im = m->img;
    const char *bn = im->bin_name;
    dk_msg r;
    int k = dm_req_select(m, DK_OBJ_DATA, &r);
    if (k)
        return k;
    if (r.result != DK_RES_SUCCESS)
        return dm_again_rsp(m, bn, DK_OBJ_DATA, &r);
    uint32_t max = r.rsp.select.max_size, off = r.rsp.select.offset, crc = r.rsp.select.crc;
    if (max == 0)
        return dm_fail(m, "the target reports a data object size of 0");
    m->obj_max = max;

    size_t pos = 0;
    bool rollback = false;
    bool boundary = off % max == 0 || off == im->bin_len;
    if (off <= im->bin_len && crc == dm_crc_upto(m, off)) {
        if (off == 0) {
            pos = 0;
        } else if (boundary) {
            dm_say(m, DH_EV_NOTE, "target holds %u of %zu bytes of %s (CRC ok): executing its last object again",
                   off, im->bin_len, bn);
            k = execute_data(m, off);
            if (k == R_AGAIN && off < im->bin_len) {
                /* 0x08: an object was created after the last EXECUTE and is
                 * still empty (or of another size): create it again. */
                dm_say(m, DH_EV_NOTE, "creating the object at %u again: the target has an empty object "
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
            dm_say(m, DH_EV_NOTE, "target holds %u of %zu bytes of %s (CRC ok): finishing the object at %zu",
                   off, im->bin_len, bn, start);
            uint32_t c = crc;
            k = dm_write_span(m, im->bin, off, end, &c, true);
            if (k == R_OK)
                k = dm_check_crc(m, (uint32_t)end, c, &r, bn, DK_OBJ_DATA);
            if (k == 1) {
                k = execute_data(m, end);
                if (k)
                    return k;
                pos = end;
            } else if (k == 0 || k == R_BAD) {
                dm_say(m, DH_EV_NOTE, "the finished object did not check out: sending it whole");
                pos = start;
            } else {
                return k;
            }
        }
    } else if (off < im->bin_len && !boundary) {
        pos = off - off % max;
        rollback = true;
        dm_say(m, DH_EV_NOTE,
               "target's partial object (offset %u, CRC 0x%08X) differs from %s: sending the object at "
               "%zu again",
               off, crc, bn, pos);
    } else {
        return dm_again(m, R_FRESH,
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
    while (dm_now(m) < deadline) {
        uint64_t t = dm_now(m);
        uint32_t left = (uint32_t)(deadline - t);
        if (gone) {
            /* USB CDC: the bootloader's port went with its reset; the app's may
             * come back under the same name, or nothing does. */
            if (!m->io->reopen || m->io->reopen(m->io->ctx, left) < 0)
                return 0;
            gone = false;
            dm_say(m, DH_EV_DEBUG, "the port went away after the final EXECUTE and came back: pinging");
            continue;
        }
        uint8_t id = ++m->ping_id;
        m->tx[0] = DK_OP_PING;
        m->tx[1] = id;
        if (dm_tx(m, 2) < 0) {
            gone = true;
            continue;
        }
        int k = dm_wait_rsp(m, DK_OP_PING, id, &r, left < DH_PING_MS ? left : DH_PING_MS);
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
    uint64_t deadline = dm_now(m) + m->o->verify_ms;
    m->desync = false;
    int answered = ping_window(m, deadline);
    dk_msg r;
    bool selected = false;
    if (answered) {
        int k = dm_req_select(m, DK_OBJ_COMMAND, &r);
        if (k == R_FAIL)
            return k;
        selected = k == R_OK && r.result == DK_RES_SUCCESS;
    }
    dh_after a = dh_after_final(answered, selected, selected ? r.rsp.select.offset : 0,
                                selected ? r.rsp.select.crc : 0, im->dat, im->dat_len);
    m->res->after = a;
    switch (a) {
    case DH_AF_LEFT:
        dm_say(m, DH_EV_DEBUG, "no bootloader answered PING within %.1f s of the final EXECUTE: the "
                               "target left its bootloader", m->o->verify_ms / 1000.0);
        return R_OK;
    case DH_AF_STORED:
        dm_say(m, DH_EV_NOTE, "the bootloader still answers after the update, but no longer holds %s: "
                              "the update was stored; it stays in DFU mode for another reason (a "
                              "button or pin held, a SoftDevice waiting for its application)",
               im->dat_name);
        return R_OK;
    default:
        break;
    }
    return dm_again(m, R_UNTAKEN, "the target answered SUCCESS to the final EXECUTE of %s but came back "
                                  "in its bootloader %s: the update did not take (power lost while it "
                                  "stored its settings?)",
                    im->bin_name, selected ? "still holding its init packet" : "without saying what it holds");
}

/* A transfer the target did not keep: one more, within --retries. */
static int untaken(M *m)
{
    if (++m->res->untaken > m->o->retries)
        return dm_fail(m, "%s; gave up after %u complete transfers that the target did not keep",
                       m->why, m->res->untaken);
    dm_say(m, DH_EV_NOTE, "%s: sending it again", m->why);
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
            int k = dm_connect(m);
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
            return dm_fail(m, "giving up on %s after %u attempts: %s", m->img->bin_name, attempts,
                           m->why);
        if (k == R_FRESH) {
            fresh = true;
            dm_say(m, DH_EV_NOTE, "%s: starting %s again with a new init packet", m->why,
                   m->img->bin_name);
        } else {
            dm_say(m, DH_EV_NOTE, "%s: asking the target where it stands", m->why);
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
        dm_emit(m, DH_EV_IMAGE, 0, imgs[i].bin_len, NULL);
        if (reopen && io->reopen && io->reopen(io->ctx, DH_REOPEN_MS) < 0) {
            dm_port_gone(m, "reopening it for the next image");
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
