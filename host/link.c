/* link.c - SLIP, batching and capture between the master and a port. */
#include "link.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define QCAP (sizeof ((dh_link *)0)->q / sizeof ((dh_link *)0)->q[0])
#define QFRAME (sizeof ((dh_link *)0)->qstore[0])

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    dh_link *l = ctx;
    if (ev->kind == DK_SLIP_FRAME) {
        if (l->qn == QCAP || ev->len > QFRAME) {
            l->anomalies++;
            if (l->on_anomaly)
                l->on_anomaly(l->ctx, "dropped a received frame: too many queued or too long");
            return;
        }
        size_t slot = (l->qhead + l->qn) % QCAP;
        memcpy(l->qstore[slot], ev->data, ev->len);
        l->q[slot].b = l->qstore[slot];
        l->q[slot].len = ev->len;
        l->qn++;
        return;
    }
    if (ev->kind == DK_SLIP_EMPTY)
        return; /* a stray END: harmless for the host */
    l->anomalies++;
    if (l->on_anomaly) {
        char m[120];
        snprintf(m, sizeof m, "received %s at line byte %llu",
                 ev->kind == DK_SLIP_BAD_ESCAPE ? "a bad SLIP escape" : "an over-long frame",
                 (unsigned long long)(ev->kind == DK_SLIP_BAD_ESCAPE ? ev->bad_at : ev->start));
        l->on_anomaly(l->ctx, m);
    }
}

/* raw 8N1 at baud, RTS/CTS when asked; what came in before the open is dropped */
static dk_serial *open_port(const char *path, unsigned baud, bool flow, dk_err *err)
{
    dk_serial_cfg c = dk_serial_cfg_default(baud);
    c.flow = flow ? DK_SERIAL_FLOW_RTSCTS : DK_SERIAL_FLOW_NONE;
    return dk_serial_open(path, &c, DK_SERIAL_FLUSH_INPUT, err);
}

static int flush_out(dh_link *l)
{
    if (!l->out_len)
        return 0;
    if (l->cap)
        dk_cap_write(l->cap, -1, DK_DIR_HOST, l->out, l->out_len, NULL);
    if (dk_serial_write(l->port, l->out, l->out_len, &l->err) != DK_OK)
        return -1;
    l->out_len = 0;
    return 0;
}

static int link_send(void *ctx, const uint8_t *msg, size_t len)
{
    dh_link *l = ctx;
    if (!l->port)
        return -1;
    if (l->out_len + DK_SLIP_MAX_ENCODED(len) > sizeof l->out && flush_out(l) < 0)
        return -1;
    if (DK_SLIP_MAX_ENCODED(len) > sizeof l->out)
        return -1;
    l->out_len += dk_slip_encode(msg, len, l->out + l->out_len);
    return 0;
}

static int link_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    dh_link *l = ctx;
    if (!l->port)
        return -1;
    if (flush_out(l) < 0)
        return -1;
    uint64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        if (l->qn) {
            size_t n = l->q[l->qhead].len < cap ? l->q[l->qhead].len : cap;
            memcpy(buf, l->q[l->qhead].b, n);
            *len = n;
            l->qhead = (l->qhead + 1) % QCAP;
            l->qn--;
            return 1;
        }
        uint64_t t = mono_ms();
        int wait = t >= deadline ? 0 : (int)(deadline - t);
        uint8_t raw[4096];
        long n = dk_serial_read(l->port, raw, sizeof raw, wait, &l->err);
        if (n < 0)
            return -1;
        if (n == 0) {
            if (mono_ms() >= deadline)
                return 0;
            continue;
        }
        if (l->cap)
            dk_cap_write(l->cap, -1, DK_DIR_TARGET, raw, (size_t)n, NULL);
        dk_slip_dec_feed(&l->dec, raw, (size_t)n, on_slip, l);
    }
}

static uint64_t link_now(void *ctx)
{
    (void)ctx;
    return mono_ms();
}

static int link_reopen(void *ctx, uint32_t wait_ms)
{
    dh_link *l = ctx;
    if (l->port)
        flush_out(l);
    dk_serial_close(l->port);
    l->port = NULL;
    dk_slip_dec_reset(&l->dec);
    l->qn = 0;
    /* A USB CDC target re-enumerates after its reset: try every 100 ms. */
    uint64_t deadline = mono_ms() + wait_ms;
    for (;;) {
        l->port = open_port(l->path, l->baud, l->flow, &l->err);
        if (l->port)
            return 0;
        uint64_t t = mono_ms();
        if (t >= deadline)
            return -1;
        uint64_t nap = deadline - t < 100 ? deadline - t : 100;
        struct timespec ts = { 0, (long)nap * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

dk_status dh_link_open(dh_link *l, const char *path, unsigned baud, bool flow,
                       dk_cap_writer *cap, dk_err *err)
{
    memset(l, 0, sizeof *l);
    l->path = path;
    l->baud = baud;
    l->flow = flow;
    dk_slip_dec_init(&l->dec, l->dec_buf, sizeof l->dec_buf);
    l->cap = cap;
    l->port = open_port(path, baud, flow, err);
    if (!l->port) {
        if (l->cap)
            dk_cap_close_writer(l->cap, NULL);
        l->cap = NULL;
        return err ? err->status : DK_E_IO;
    }
    return DK_OK;
}

void dh_link_close(dh_link *l)
{
    if (l->port) {
        flush_out(l);
        dk_serial_close(l->port);
        l->port = NULL;
    }
    if (l->cap) {
        dk_cap_close_writer(l->cap, NULL);
        l->cap = NULL;
    }
}

dh_io dh_link_io(dh_link *l)
{
    dh_io io = { l, link_send, link_recv, link_now, link_reopen };
    return io;
}
