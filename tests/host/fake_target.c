/* fake_target.c - scripted Secure DFU target on a virtual clock (see fake_target.h). */
#include "fake_target.h"

#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/msg.h"
#include "dfukit/tables.h"

void ft_init(fake_target *t)
{
    memset(t, 0, sizeof *t);
    t->cmd_max = 512;
    t->obj_max = 4096;
    t->mtu = 131;
    t->exec_cmd_result = DK_RES_SUCCESS;
    t->cur = DK_OBJ_COMMAND;
}

void ft_expect(fake_target *t, const uint8_t *bin, size_t len)
{
    t->want[t->nwant] = bin;
    t->want_len[t->nwant] = len;
    t->nwant++;
}

void ft_fault(fake_target *t, uint8_t op, unsigned nth, int action, uint32_t arg)
{
    if (t->nfault == sizeof t->fault / sizeof t->fault[0])
        abort(); /* a test asked for more than the table holds */
    t->fault[t->nfault].op = op;
    t->fault[t->nfault].nth = nth;
    t->fault[t->nfault].action = action;
    t->fault[t->nfault].arg = arg;
    t->nfault++;
}

void ft_preset_cmd(fake_target *t, const uint8_t *dat, size_t len, size_t have, bool valid)
{
    memcpy(t->cmd, dat, have);
    t->cmd_size = (uint32_t)len;
    t->cmd_off = (uint32_t)have;
    t->cmd_crc = dk_crc32(0, dat, have);
    t->cmd_valid = valid;
}

void ft_preset_data(fake_target *t, const uint8_t *src, uint32_t off, uint32_t off_last)
{
    memcpy(t->img, src, off);
    t->off = off;
    t->crc = dk_crc32(0, t->img, off);
    t->off_last = off_last;
    t->crc_last = dk_crc32(0, t->img, off_last);
    t->data_size = off == off_last ? 0 : t->obj_max;
}

static size_t image_size(const fake_target *t)
{
    return t->cur_img < t->nwant ? t->want_len[t->cur_img] : 0;
}

static void answer(fake_target *t, uint64_t delay, const uint8_t *b, size_t len)
{
    if (t->qn == sizeof t->q / sizeof t->q[0])
        return;
    /* one line, one sequential target: an answer never overtakes an earlier one */
    uint64_t at = t->now + delay;
    if (t->qn && t->q[t->qn - 1].at > at)
        at = t->q[t->qn - 1].at;
    t->q[t->qn].at = at;
    memcpy(t->q[t->qn].b, b, len);
    t->q[t->qn].len = len;
    t->qn++;
}

static void reset(fake_target *t)
{
    /* RAM lost; flash keeps the executed init command and, with
     * save_progress, the last executed object. */
    t->cur = DK_OBJ_COMMAND;
    t->prn = 0;
    t->prn_count = 0;
    if (!t->cmd_valid) {
        t->cmd_off = 0;
        t->cmd_crc = 0;
    }
    if (!t->save_progress) {
        t->off_last = 0;
        t->crc_last = 0;
    }
    t->off = t->off_last;
    t->crc = t->crc_last;
    t->data_size = 0;
    t->qn = 0;
}

static void log_entry(fake_target *t, uint8_t op, uint8_t type, uint32_t size, uint32_t at,
                      uint8_t result)
{
    if (t->nlog < FT_LOG_MAX) {
        ft_entry e = { op, result, type, size, at };
        t->log[t->nlog++] = e;
    }
}

/* Handle one request; returns the result code and fills the answer. */
static uint8_t handle(fake_target *t, const dk_msg *q, dk_msg *a, bool *final)
{
    *final = false;
    switch (q->op) {
    case DK_OP_PING:
        a->rsp.ping.id = q->req.ping.id;
        return DK_RES_SUCCESS;
    case DK_OP_RECEIPT_NOTIF_SET:
        t->prn = q->req.prn.target;
        t->prn_count = 0;
        return DK_RES_SUCCESS;
    case DK_OP_MTU_GET:
        a->rsp.mtu.mtu = t->mtu;
        return DK_RES_SUCCESS;
    case DK_OP_OBJECT_SELECT:
        if (q->req.select.type == DK_OBJ_COMMAND) {
            t->cur = DK_OBJ_COMMAND;
            a->rsp.select.max_size = t->cmd_max;
            a->rsp.select.offset = t->cmd_off;
            a->rsp.select.crc = t->cmd_crc;
        } else if (q->req.select.type == DK_OBJ_DATA) {
            t->cur = DK_OBJ_DATA;
            a->rsp.select.max_size = t->obj_max;
            a->rsp.select.offset = t->off;
            a->rsp.select.crc = t->crc;
        } else {
            t->cur = DK_OBJ_INVALID;
            return DK_RES_INVALID_OBJECT;
        }
        return DK_RES_SUCCESS;
    case DK_OP_OBJECT_CREATE: {
        uint32_t size = q->req.create.size;
        t->prn_count = 0;
        if (q->req.create.type == DK_OBJ_COMMAND) {
            t->cur = DK_OBJ_COMMAND;
            if (size == 0)
                return DK_RES_INVALID_PARAMETER;
            if (size > t->cmd_max)
                return DK_RES_INSUFFICIENT_RESOURCES;
            t->cmd_valid = false;
            t->cmd_size = size;
            t->cmd_off = t->cmd_crc = 0;
            t->off = t->crc = t->off_last = t->crc_last = t->data_size = 0;
            return DK_RES_SUCCESS;
        }
        if (q->req.create.type != DK_OBJ_DATA)
            return DK_RES_INVALID_OBJECT;
        t->cur = DK_OBJ_DATA;
        if (!t->cmd_valid)
            return DK_RES_OPERATION_NOT_PERMITTED;
        if (size == 0 || (size % t->obj_max && t->off_last + size != image_size(t)))
            return DK_RES_INVALID_PARAMETER;
        if (size > t->obj_max)
            return DK_RES_INSUFFICIENT_RESOURCES;
        if (t->off_last + size > image_size(t))
            return DK_RES_OPERATION_NOT_PERMITTED;
        t->data_size = size;
        t->off = t->off_last;
        t->crc = t->crc_last;
        return DK_RES_SUCCESS;
    }
    case DK_OP_OBJECT_WRITE: {
        const uint8_t *d = q->req.write.data;
        uint32_t n = (uint32_t)q->req.write.len;
        if (t->cur == DK_OBJ_COMMAND) {
            if (t->cmd_off + n > t->cmd_size)
                return DK_RES_INVALID_PARAMETER;
            memcpy(t->cmd + t->cmd_off, d, n);
            t->cmd_crc = dk_crc32(t->cmd_crc, d, n);
            t->cmd_off += n;
            return DK_RES_SUCCESS;
        }
        if (!t->cmd_valid)
            return DK_RES_OPERATION_NOT_PERMITTED;
        if (t->off + n > t->off_last + t->data_size || t->off + n > FT_IMG_MAX)
            return DK_RES_INVALID_PARAMETER;
        memcpy(t->img + t->off, d, n);
        t->crc = dk_crc32(t->crc, d, n);
        t->off += n;
        return DK_RES_SUCCESS;
    }
    case DK_OP_CRC_GET:
        if (t->cur == DK_OBJ_COMMAND) {
            a->rsp.crc.offset = t->cmd_off;
            a->rsp.crc.crc = t->cmd_crc;
        } else {
            a->rsp.crc.offset = t->off;
            a->rsp.crc.crc = t->crc;
        }
        return DK_RES_SUCCESS;
    case DK_OP_OBJECT_EXECUTE:
        if (t->cur == DK_OBJ_COMMAND) {
            if (t->cmd_off != t->cmd_size)
                return DK_RES_OPERATION_NOT_PERMITTED;
            if (t->cmd_valid)
                return DK_RES_SUCCESS;
            if (t->exec_cmd_result != DK_RES_SUCCESS) {
                a->has_ext = t->exec_cmd_result == DK_RES_EXT_ERROR;
                a->ext = t->exec_cmd_ext;
                t->cmd_off = t->cmd_crc = 0;
                return t->exec_cmd_result;
            }
            t->cmd_valid = true;
            t->off = t->crc = t->off_last = t->crc_last = t->data_size = 0;
            return DK_RES_SUCCESS;
        }
        if (t->off - t->off_last != t->data_size)
            return DK_RES_OPERATION_NOT_PERMITTED;
        t->data_size = 0;
        t->off_last = t->off;
        t->crc_last = t->crc;
        if (t->off == image_size(t) && t->off) {
            *final = true;
            if (memcmp(t->img, t->want[t->cur_img], t->off) != 0) {
                a->has_ext = true;
                a->ext = DK_EXT_VERIFICATION_FAILED;
                return DK_RES_EXT_ERROR;
            }
            t->done++;
            t->cur_img++;
        }
        return DK_RES_SUCCESS;
    case DK_OP_ABORT:
        return DK_RES_INVALID;
    default:
        return DK_RES_OP_CODE_NOT_SUPPORTED;
    }
}

static int ft_send(void *ctx, const uint8_t *msg, size_t len)
{
    fake_target *t = ctx;
    dk_msg q;
    dk_msg_status st = dk_msg_parse(msg, len, &q);
    if (st != DK_MSG_OK && st != DK_MSG_OVERLONG)
        return 0;
    if (t->silent || t->booted)
        return 0;
    unsigned nth = ++t->count[q.op];
    int action = 0;
    uint32_t arg = 0;
    for (size_t i = 0; i < t->nfault; i++)
        if (t->fault[i].op == q.op && t->fault[i].nth == nth) {
            action = t->fault[i].action;
            arg = t->fault[i].arg;
        }
    if (action == FT_IGNORE)
        return 0;
    if (action == FT_RESET)
        reset(t);
    uint8_t copy[DH_FRAME_MAX];
    if (action == FT_CORRUPT && q.op == DK_OP_OBJECT_WRITE && len > 1) {
        memcpy(copy, msg, len);
        copy[len / 2] ^= 0x5A;
        dk_msg_parse(copy, len, &q);
    }

    uint32_t at = q.op == DK_OP_OBJECT_WRITE ? (t->cur == DK_OBJ_DATA ? t->off : t->cmd_off)
                                             : t->off_last;
    dk_msg a = dk_msg_response(q.op, 0);
    bool final = false;
    uint8_t result = action == FT_ANSWER ? (uint8_t)arg : handle(t, &q, &a, &final);
    if (action == FT_ANSWER) {
        a.has_ext = result == DK_RES_EXT_ERROR;
        a.ext = (uint8_t)(arg >> 8);
    }
    a.result = result;
    uint8_t type = q.op == DK_OP_OBJECT_CREATE ? q.req.create.type
                   : q.op == DK_OP_OBJECT_SELECT ? q.req.select.type
                                                 : t->cur;
    log_entry(t, q.op, type, q.op == DK_OP_OBJECT_CREATE ? q.req.create.size : (uint32_t)q.req.write.len,
              at, result);

    uint8_t out[24];
    size_t n;
    if (q.op == DK_OP_OBJECT_WRITE) {
        if (!t->prn || ++t->prn_count < t->prn)
            return 0;
        t->prn_count = 0;
        t->notifications++;
        a = dk_msg_response(DK_OP_CRC_GET, result);
        a.rsp.crc.offset = t->cur == DK_OBJ_DATA ? t->off : t->cmd_off;
        a.rsp.crc.crc = t->cur == DK_OBJ_DATA ? t->crc : t->cmd_crc;
    } else if (q.op == DK_OP_ABORT) {
        reset(t);
        return 0;
    }
    if (action == FT_DROP) {
        n = 0;
    } else {
        if (action == FT_STALE) {
            uint8_t stale[3] = { 0x60, DK_OP_OBJECT_EXECUTE, DK_RES_SUCCESS };
            answer(t, 0, stale, 3);
        }
        n = dk_msg_encode(&a, out, sizeof out);
        answer(t, action == FT_DELAY ? arg : 0, out, n);
    }
    if (final) {
        /* The target resets after answering the final EXECUTE. */
        t->cmd_valid = false;
        t->cmd_off = t->cmd_crc = 0;
        t->off = t->crc = t->off_last = t->crc_last = t->data_size = 0;
        t->cur = DK_OBJ_COMMAND;
        if (!t->dfu_after_final && result == DK_RES_SUCCESS)
            t->booted = true;
    }
    return 0;
}

static int ft_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    fake_target *t = ctx;
    /* earliest answer first */
    size_t best = t->qn;
    for (size_t i = 0; i < t->qn; i++)
        if (best == t->qn || t->q[i].at < t->q[best].at)
            best = i;
    if (best == t->qn || t->q[best].at > t->now + timeout_ms) {
        t->now += timeout_ms;
        return 0;
    }
    if (t->q[best].at > t->now)
        t->now = t->q[best].at;
    size_t n = t->q[best].len < cap ? t->q[best].len : cap;
    memcpy(buf, t->q[best].b, n);
    *len = n;
    memmove(&t->q[best], &t->q[best + 1], (t->qn - best - 1) * sizeof t->q[0]);
    t->qn--;
    return 1;
}

static uint64_t ft_now(void *ctx)
{
    return ((fake_target *)ctx)->now;
}

static int ft_reopen(void *ctx)
{
    ((fake_target *)ctx)->reopens++;
    return 0;
}

dh_io ft_io(fake_target *t)
{
    dh_io io = { t, ft_send, ft_recv, ft_now, ft_reopen };
    return io;
}

unsigned ft_count(const fake_target *t, uint8_t op, int type)
{
    unsigned n = 0;
    for (size_t i = 0; i < t->nlog; i++)
        if (t->log[i].op == op && (type < 0 || t->log[i].type == type))
            n++;
    return n;
}

size_t ft_data_written(const fake_target *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nlog; i++)
        if (t->log[i].op == DK_OP_OBJECT_WRITE && t->log[i].type == DK_OBJ_DATA)
            n += t->log[i].size;
    return n;
}

const ft_entry *ft_find(const fake_target *t, size_t from, uint8_t op, int type)
{
    for (size_t i = from; i < t->nlog; i++)
        if (t->log[i].op == op && (type < 0 || t->log[i].type == type))
            return &t->log[i];
    return NULL;
}

size_t ft_index(const fake_target *t, const ft_entry *e)
{
    return (size_t)(e - t->log);
}
