/* fuzz_host.c - libFuzzer target for dfuhost's response handling (host/
 * master.c) against a hostile target.  The fake target is a model of a
 * correct Secure DFU target (it keeps what was written and answers with true
 * offsets and CRCs); for every frame the master waits for, the input decides
 * whether the true answer comes, a corrupted one, arbitrary bytes, nothing
 * (a timeout), or the port goes away.  The first bytes pick one or two
 * images, their sizes, PRN and --restart.
 *
 * Invariants beyond the sanitizers: every request the master sends parses
 * and fits the frame limit; WRITE payloads come from the image being sent
 * (or its init packet) and never exceed the object they belong to; objects
 * are no larger than the image; success only after the target answered an
 * EXECUTE with SUCCESS after the last byte was written; against a target
 * that never lied, success means the target holds exactly the image; the run
 * ends within a bounded number of sends, receives and milliseconds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/msg.h"
#include "fuzz_util.h"
#include "master.h"

#define STEPS_MAX 200000

typedef struct {
    fz_in in;
    uint64_t now, steps;
    const dh_image *img;   /* the image being sent */
    /* the model target */
    uint8_t *cmd, *data;   /* what it holds (command object, data stream) */
    size_t cmd_len, cmd_cap, data_len, data_exec, data_cap;
    uint8_t cur;           /* object type of the last CREATE/SELECT */
    size_t obj_start, obj_size, obj_written;
    uint32_t max_data;     /* SELECT data max_size it reports */
    uint16_t prn;
    unsigned writes;
    /* what the master is owed, oldest first */
    uint8_t q[8][32];
    size_t qlen[8], qn;
    bool lied;             /* some answer was not the model's */
    bool exec_since_write, exec_ok;
    bool port_gone;
} target;

static void owe(target *t, const uint8_t *p, size_t n)
{
    if (t->qn == 8) { /* the oldest is lost, as in a full UART FIFO */
        memmove(t->q[0], t->q[1], sizeof t->q[0] * 7);
        memmove(t->qlen, t->qlen + 1, sizeof t->qlen[0] * 7);
        t->qn--;
        t->lied = true;
    }
    memcpy(t->q[t->qn], p, n);
    t->qlen[t->qn++] = n;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void answer_crc(target *t, uint8_t op, uint8_t *r, size_t *n)
{
    bool cmd = t->cur == DK_OBJ_COMMAND;
    size_t len = cmd ? t->cmd_len : t->data_len;
    r[0] = 0x60;
    r[1] = op;
    r[2] = DK_RES_SUCCESS;
    put32(r + 3, (uint32_t)len);
    put32(r + 7, dk_crc32(0, cmd ? t->cmd : t->data, len));
    *n = 11;
}

/* The model's side of one request. */
static void model(target *t, const uint8_t *req, size_t len, const dk_msg *m)
{
    uint8_t r[32] = { 0x60, req[0], DK_RES_SUCCESS };
    size_t n = 3;
    switch (req[0]) {
    case DK_OP_PROTOCOL_VERSION:
        r[3] = 1;
        n = 4;
        break;
    case DK_OP_OBJECT_CREATE:
        t->cur = m->req.create.type;
        t->obj_size = m->req.create.size;
        t->obj_written = 0;
        if (t->cur == DK_OBJ_COMMAND) {
            t->cmd_len = 0;
            t->obj_start = 0;
        } else {
            t->data_len = t->data_exec;
            t->obj_start = t->data_exec;
        }
        t->writes = 0;
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        t->prn = m->req.prn.target;
        break;
    case DK_OP_CRC_GET:
        answer_crc(t, req[0], r, &n);
        break;
    case DK_OP_OBJECT_EXECUTE:
        if (t->cur == DK_OBJ_DATA)
            t->data_exec = t->data_len;
        break;
    case DK_OP_OBJECT_SELECT: {
        t->cur = m->req.select.type;
        bool cmd = t->cur == DK_OBJ_COMMAND;
        size_t have = cmd ? t->cmd_len : t->data_len;
        /* writes may go on in the object the target holds: its size is the
         * master's own guess from here, not checked */
        t->obj_start = cmd ? 0 : t->data_exec;
        t->obj_written = have - t->obj_start;
        t->obj_size = SIZE_MAX;
        put32(r + 3, cmd ? 512 : t->max_data);
        put32(r + 7, (uint32_t)have);
        put32(r + 11, dk_crc32(0, cmd ? t->cmd : t->data, have));
        n = 15;
        break;
    }
    case DK_OP_MTU_GET:
        r[3] = DK_MTU_UART & 0xFF;
        r[4] = DK_MTU_UART >> 8;
        n = 5;
        break;
    case DK_OP_OBJECT_WRITE: {
        const uint8_t *p = req + 1;
        size_t k = len - 1;
        uint8_t **buf = t->cur == DK_OBJ_COMMAND ? &t->cmd : &t->data;
        size_t *have = t->cur == DK_OBJ_COMMAND ? &t->cmd_len : &t->data_len;
        size_t cap = t->cur == DK_OBJ_COMMAND ? t->cmd_cap : t->data_cap;
        if (*have + k <= cap)
            memcpy(*buf + *have, p, k);
        *have += k <= cap - *have ? k : 0;
        t->obj_written += k;
        if (t->prn && ++t->writes % t->prn == 0) {
            answer_crc(t, DK_OP_CRC_GET, r, &n);
            break;
        }
        return; /* no answer */
    }
    case DK_OP_PING:
        r[3] = m->req.ping.id;
        n = 4;
        break;
    case DK_OP_ABORT:
        return;
    default:
        r[2] = DK_RES_OP_CODE_NOT_SUPPORTED;
        break;
    }
    owe(t, r, n);
}

static int t_send(void *ctx, const uint8_t *msg, size_t len)
{
    target *t = ctx;
    CHECK(++t->steps < STEPS_MAX);
    CHECK(len >= 1 && len <= DH_FRAME_MAX);
    dk_msg m;
    CHECK(dk_msg_parse(msg, len, &m) == DK_MSG_OK);
    CHECK(!m.is_response);
    const dh_image *im = t->img;
    if (msg[0] == DK_OP_OBJECT_CREATE) {
        if (m.req.create.type == DK_OBJ_COMMAND)
            CHECK(m.req.create.size == im->dat_len);
        else
            CHECK(m.req.create.type == DK_OBJ_DATA && m.req.create.size <= im->bin_len &&
                  m.req.create.size > 0);
        t->exec_since_write = t->exec_ok = false;
    }
    if (msg[0] == DK_OP_OBJECT_WRITE) {
        const uint8_t *src = t->cur == DK_OBJ_COMMAND ? im->dat : im->bin;
        size_t src_len = t->cur == DK_OBJ_COMMAND ? im->dat_len : im->bin_len;
        CHECK(len - 1 <= src_len);
        CHECK(memmem(src, src_len, msg + 1, len - 1) != NULL);
        CHECK(t->obj_size == SIZE_MAX || t->obj_written + (len - 1) <= t->obj_size);
        if (!t->lied) { /* in order: the bytes the model holds are the image's */
            CHECK(t->obj_start + t->obj_written + (len - 1) <= src_len);
            CHECK(memcmp(src + t->obj_start + t->obj_written, msg + 1, len - 1) == 0);
        }
        t->exec_since_write = t->exec_ok = false;
    }
    if (msg[0] == DK_OP_OBJECT_EXECUTE)
        t->exec_since_write = true;
    model(t, msg, len, &m);
    return 0;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    target *t = ctx;
    CHECK(++t->steps < STEPS_MAX);
    CHECK(cap >= 64);
    CHECK(!t->port_gone);
    uint8_t ctl = fz_u8(&t->in); /* 0 when the input is used up: the truth */
    if (ctl == 0xFF) {
        t->port_gone = true;
        return -1;
    }
    int what = t->qn ? ctl % 8 : (ctl % 4 < 2 ? 6 : 7);
    if (what == 6 || (what < 6 && !t->qn)) { /* nothing comes (or the answer is lost) */
        if (t->qn) {
            memmove(t->q[0], t->q[1], sizeof t->q[0] * 7);
            memmove(t->qlen, t->qlen + 1, sizeof t->qlen[0] * 7);
            t->qn--;
            t->lied = true;
        }
        t->now += timeout_ms;
        return 0;
    }
    t->now += 1;
    if (what == 7) { /* arbitrary bytes */
        size_t n;
        const uint8_t *p = fz_bytes(&t->in, fz_u8(&t->in) % 40, &n);
        memcpy(buf, p, n);
        *len = n;
        t->lied = true;
    } else {
        memcpy(buf, t->q[0], t->qlen[0]);
        *len = t->qlen[0];
        memmove(t->q[0], t->q[1], sizeof t->q[0] * 7);
        memmove(t->qlen, t->qlen + 1, sizeof t->qlen[0] * 7);
        t->qn--;
        if (what == 5) { /* corrupted */
            uint8_t at = fz_u8(&t->in), x = fz_u8(&t->in);
            if (*len && x) {
                buf[at % *len] ^= x;
                t->lied = true;
            }
        }
    }
    if (*len >= 3 && buf[0] == 0x60 && buf[1] == DK_OP_OBJECT_EXECUTE &&
        buf[2] == DK_RES_SUCCESS && t->exec_since_write)
        t->exec_ok = true;
    return 1;
}

static uint64_t t_now(void *ctx)
{
    target *t = ctx;
    return t->now;
}

typedef struct {
    target *t;
    const dh_image *imgs;
    unsigned done;
} run_ctx;

static void on_event(void *ctx, const dh_event *ev)
{
    run_ctx *r = ctx;
    if (ev->kind == DH_EV_IMAGE) {
        r->t->img = &r->imgs[ev->image];
        /* the master goes back to an image the target did not keep (§14.9) */
        CHECK(ev->image <= r->done);
        r->done = (unsigned)ev->image;
    }
    if (ev->kind == DH_EV_DONE) {
        /* accepted: the target answered an EXECUTE after the last write */
        CHECK(r->t->exec_ok);
        /* or the same image again: the check after the last one found it lost */
        CHECK(ev->image == r->done || ev->image + 1 == r->done);
        r->done = (unsigned)ev->image + 1;
        if (!r->t->lied) {
            CHECK(r->t->data_exec == r->t->img->bin_len);
            CHECK(memcmp(r->t->data, r->t->img->bin, r->t->img->bin_len) == 0);
            CHECK(r->t->cmd_len == r->t->img->dat_len);
        }
    }
    CHECK(ev->kind != DH_EV_PROGRESS || ev->done <= ev->total);
    if (ev->text)
        CHECK(strchr(ev->text, '\n') == NULL);
}

static int t_reopen(void *ctx, uint32_t wait_ms)
{
    target *t = ctx;
    (void)wait_ms;
    /* a new boot: RAM state gone; the model forgets the finished image */
    t->cmd_len = t->data_len = t->data_exec = 0;
    t->cur = 0;
    t->prn = 0;
    t->qn = 0;
    t->lied = false;
    t->exec_since_write = t->exec_ok = false;
    if (fz_u8(&t->in) == 0xFE)
        return -1;
    t->port_gone = false; /* a port that came back (USB CDC re-enumerated) */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0 };
    uint8_t a = fz_u8(&in);
    size_t n_img = a & 1 ? 2 : 1;
    dh_image imgs[2];
    uint8_t *bufs[4];
    for (size_t i = 0; i < n_img; i++) {
        size_t bin_len = 1 + fz_u16(&in) % 3000, dat_len = 1 + fz_u8(&in) % 200;
        bufs[2 * i] = malloc(bin_len); /* exact sizes: any overread shows */
        bufs[2 * i + 1] = malloc(dat_len);
        CHECK(bufs[2 * i] && bufs[2 * i + 1]);
        for (size_t k = 0; k < bin_len; k++)
            bufs[2 * i][k] = (uint8_t)(k * 7 + 3 * k / 251 + i);
        for (size_t k = 0; k < dat_len; k++)
            bufs[2 * i + 1][k] = (uint8_t)(k * 11 + 0x40 + i);
        imgs[i] = (dh_image){ i ? "sd.bin" : "app.bin", i ? "sd.dat" : "app.dat",
                              bufs[2 * i], bin_len, bufs[2 * i + 1], dat_len };
    }
    static target t;
    memset(&t, 0, sizeof t);
    t.in = in;
    t.cmd_cap = 256;
    t.data_cap = 3001;
    static uint8_t cmd_store[256], data_store[3001];
    t.cmd = cmd_store;
    t.data = data_store;
    t.max_data = a & 2 ? 4096 : 256 + (a >> 4) * 64;
    t.img = &imgs[0];
    run_ctx rc = { &t, imgs, 0 };
    dh_opts o;
    dh_opts_default(&o);
    o.prn = a & 4 ? (uint16_t)(1 + (a >> 5)) : 0;
    o.restart = a & 8;
    o.connect_ms = 300;
    o.rsp_ms = 100;
    o.final_ms = 200;
    o.retries = 2;
    o.max_restarts = 2;
    o.trace = true;
    o.on_event = on_event;
    o.ev_ctx = &rc;
    dh_io io = { &t, t_send, t_recv, t_now, t_reopen };
    dh_result res;
    dh_status st = dh_run(&o, &io, imgs, n_img, &res);
    CHECK(st == DH_OK || st == DH_FAILED);
    CHECK(res.status == st);
    CHECK(memchr(res.msg, '\0', sizeof res.msg) && strchr(res.msg, '\n') == NULL);
    if (st == DH_OK)
        CHECK(rc.done == n_img);
    else
        CHECK(res.msg[0] != '\0' && res.image < n_img);
    CHECK(t.now < 100000000); /* bounded time, too */
    for (size_t i = 0; i < 2 * n_img; i++)
        free(bufs[i]);
    return 0;
}
