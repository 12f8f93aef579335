/* fake_target.c - dfusim's bootloader core behind a dh_io, with scripted
 * line faults (see fake_target.h). */
#include "fake_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/tables.h"
#include "dk_test_cmd.h"

void ft_init(fake_target *t)
{
    st_close(&t->chip);
    memset(t, 0, sizeof *t);
    ds_bl_config_default(&t->cfg, "nrf52840");
    t->cfg.allow_unsigned = true;
}

void ft_free(fake_target *t) { st_close(&t->chip); }

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

void ft_fault_reply(fake_target *t, uint8_t op, unsigned nth, const uint8_t *rsp, size_t len)
{
    if (len > sizeof t->fault[0].reply)
        abort();
    ft_fault(t, op, nth, FT_REPLY, 0);
    memcpy(t->fault[t->nfault - 1].reply, rsp, len);
    t->fault[t->nfault - 1].reply_len = len;
}

size_t ft_make_dat(uint8_t *out, size_t cap, const uint8_t *bin, size_t len, uint32_t fw)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_plain = p.has_init = p.has_op_code = true;
    p.op_code = 1;
    dk_test_app_cmd(&p.init, bin, len, fw, 52, 0x00);
    return dk_initpkt_encode(&p, out, cap);
}

static ds_flash_verdict cut_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no)
{
    (void)is_erase, (void)addr, (void)len, (void)op_no;
    fake_target *t = ctx;
    return t->cut_in && --t->cut_in == 0 ? DS_FLASH_CUT : DS_FLASH_GO;
}

static ds_bl *chip(fake_target *t)
{
    if (!t->chip.bl) {
        st_open(&t->chip, &t->cfg, t->now);
        ds_flash_set_hook(t->chip.fl, cut_hook, t);
    }
    return t->chip.bl;
}

void ft_preset(fake_target *t, const uint8_t *dat, size_t len, size_t have, bool valid,
               const uint8_t *src, uint32_t off, uint32_t off_last)
{
    chip(t);
    if (!st_preset(&t->chip, dat, len, have, valid, src, off, off_last, t->now)) {
        fprintf(stderr, "fake_target: the bootloader refused the preset\n");
        abort();
    }
}

void ft_preset_create(fake_target *t, uint32_t size)
{
    chip(t);
    if (!st_quiet_create(&t->chip, DK_OBJ_DATA, size, t->now))
        abort();
}

bool ft_app_is(fake_target *t, const uint8_t *bin, size_t len)
{
    ds_bl *bl = chip(t);
    const ds_settings *s = ds_bl_settings(bl);
    return s->bank_0.bank_code == DS_BANK_VALID_APP && s->bank_0.image_size == len &&
           !memcmp(ds_flash_mem(ds_bl_flash(bl)) + ds_bl_bank0_start(bl), bin, len);
}

static void answer(fake_target *t, uint64_t delay, const uint8_t *b, size_t len)
{
    if (t->qn == sizeof t->q / sizeof t->q[0] || len > sizeof t->q[0].b)
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

static void log_entry(fake_target *t, const dk_msg *q, uint8_t cur, uint32_t at, uint8_t result)
{
    if (t->nlog == FT_LOG_MAX)
        return;
    ft_entry e = { q->op, result, cur, 0, at };
    if (q->op == DK_OP_OBJECT_WRITE)
        e.size = (uint32_t)q->req.write.len;
    if (q->op == DK_OP_OBJECT_CREATE) {
        e.type = q->req.create.type;
        e.size = q->req.create.size;
    } else if (q->op == DK_OP_OBJECT_SELECT) {
        e.type = q->req.select.type;
    }
    t->log[t->nlog++] = e;
}

/* The scripted fault for the Nth request of op (the last one listed wins). */
static int fault_for(const fake_target *t, uint8_t op, unsigned nth, size_t *which)
{
    int action = 0;
    for (size_t i = 0; i < t->nfault; i++)
        if (t->fault[i].op == op && t->fault[i].nth == nth) {
            action = t->fault[i].action;
            *which = i;
        }
    return action;
}

/* The answer instead of the core's (FT_ANSWER, FT_REPLY). */
static size_t scripted(const fake_target *t, size_t f, int action, uint8_t op, uint8_t *rsp,
                       size_t cap)
{
    if (action == FT_REPLY) {
        memcpy(rsp, t->fault[f].reply, t->fault[f].reply_len);
        return t->fault[f].reply_len;
    }
    dk_msg a = dk_msg_response(op, (uint8_t)t->fault[f].arg);
    a.has_ext = a.result == DK_RES_EXT_ERROR;
    a.ext = (uint8_t)(t->fault[f].arg >> 8);
    return dk_msg_encode(&a, rsp, cap);
}

static int ft_send(void *ctx, const uint8_t *msg, size_t len)
{
    fake_target *t = ctx;
    ds_bl *bl = chip(t);
    uint8_t req[DH_FRAME_MAX];
    dk_msg q;
    dk_msg_status st = dk_msg_parse(msg, len, &q);
    if ((st != DK_MSG_OK && st != DK_MSG_OVERLONG) || len > sizeof req)
        return 0;
    if (t->silent || !ds_bl_in_dfu(bl))
        return 0;
    size_t f = 0;
    int action = fault_for(t, q.op, ++t->count[q.op], &f);
    if (action == FT_IGNORE)
        return 0;
    if (action == FT_RESET) {
        ds_bl_power_on(bl, t->now);
        t->qn = 0;
    }
    memcpy(req, msg, len);
    if (action == FT_CORRUPT && q.op == DK_OP_OBJECT_WRITE && len > 1) {
        req[len / 2] ^= 0x5A;
        dk_msg_parse(req, len, &q);
    }
    uint8_t cur = ds_bl_current_obj(bl);
    const ds_settings *s = ds_bl_settings(bl);
    uint32_t at = q.op != DK_OP_OBJECT_WRITE ? s->progress.firmware_image_offset_last
                  : cur == DK_OBJ_DATA       ? s->progress.firmware_image_offset
                                             : s->progress.command_offset;
    uint8_t rsp[32];
    size_t rl = 0;
    int flags = 0;
    if (action == FT_CUT_FLASH)
        t->cut_in = t->fault[f].arg ? t->fault[f].arg : 1;
    if (action == FT_ANSWER || action == FT_REPLY)
        rl = scripted(t, f, action, q.op, rsp, sizeof rsp);
    else
        flags = st_request(&t->chip, req, len, t->now, rsp, sizeof rsp, &rl);
    t->cut_in = 0; /* a request that wrote less than asked: no cut later */
    uint8_t result = rl >= 3 ? rsp[2] : 0;
    log_entry(t, &q, cur, at, result);
    if (rl >= 3 && q.op == DK_OP_OBJECT_WRITE && rsp[1] == DK_OP_CRC_GET)
        t->notifications++;
    if (q.op == DK_OP_OBJECT_EXECUTE && cur == DK_OBJ_DATA && (flags & DS_BL_RESET) &&
        result == DK_RES_SUCCESS)
        t->done++; /* the final EXECUTE: answered, then the chip reset */
    if (rl == 0 || action == FT_DROP)
        return 0;
    if (action == FT_STALE) {
        static const uint8_t stale[3] = { DK_OP_RESPONSE, DK_OP_OBJECT_EXECUTE, DK_RES_SUCCESS };
        answer(t, 0, stale, sizeof stale);
    }
    answer(t, action == FT_DELAY ? t->fault[f].arg : 0, rsp, rl);
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

static int ft_reopen(void *ctx, uint32_t wait_ms)
{
    (void)wait_ms;
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
