/* line.c - the serial line and the SDK 17.1 receive path in time (line.h).
 *
 * Sources of each rule: protocol.md §1.3 (decoder, pool), §6.1 (scheduler),
 * §14.1-§14.8 (ISR per byte, NVMC halts, FIFO, RTS, overrun reset, empty
 * frame, answer collisions, USB).
 */
#include "line.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HQ_CAP 8192   /* host bytes the model holds (the rest wait in the pty) */
#define NSEG 64       /* runs of NVMC operations not over yet */
#define HEAD 16       /* request fields the serial layer copies at once */
#define NOTES 4
#define OP_WRITE 0x08
#define END 0xC0
#define ESC 0xDB
#define ESC_END 0xDC
#define ESC_ESC 0xDD
#define NEVER UINT64_MAX

enum { DECODING, ESC_RECEIVED, CLEARING };

typedef struct {
    uint64_t t0, each;
    uint32_t n;
} seg;

typedef struct {
    uint64_t t;
    uint8_t blk, op;
    size_t len;
    bool empty, glued;
    uint8_t head[HEAD]; /* fields copied in the ISR (non-WRITE requests) */
} sreq;

struct ds_line {
    ds_line_cfg c;
    uint64_t byte_ns;
    bool host_fc, held;

    /* host -> chip */
    uint8_t hq[HQ_CAP];
    uint64_t hq_nb[HQ_CAP];
    size_t hq_head, hq_n;
    uint64_t line_free; /* the end of the last byte on the wire */

    /* the CPU's halts (NVMC work of the main loop), in time order */
    seg segs[NSEG];
    size_t nsegs;

    /* bytes waiting in the DMA buffer + FIFO for the halt to end */
    uint8_t pend[16];
    unsigned pend_n;
    uint64_t pend_end;

    /* the SLIP decoder and the RX block pool */
    uint8_t *pool;
    size_t bsize;
    uint8_t stack[8];
    unsigned sp;
    uint8_t dblk;
    size_t didx;
    int dstate;
    bool gluing, jam_noted, overran;

    /* scheduler queue and main loop */
    sreq sq[64];
    size_t sq_head, sq_n;
    bool ml_busy, deaf;
    uint64_t ml_free, ml_cursor;
    sreq cur;
    uint8_t *reqbuf;

    /* chip -> host */
    uint64_t tx_free;

    char notes[NOTES][160];
    size_t note_head, note_n;
    ds_line_stats st;
};

void ds_line_cfg_default(ds_line_cfg *c, ds_link link, uint32_t baud)
{
    memset(c, 0, sizeof *c);
    c->link = link;
    c->baud = baud ? baud : 115200;
    c->chip_hwfc = true;
    c->mtu = link == DS_LINK_USB ? 2051 : 131;
    c->rx_blocks = 3;
    c->fifo = 6;
    c->rts_room = 4;
    c->sched_len = 32;
}

static void note(ds_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void note(ds_line *l, const char *fmt, ...)
{
    if (l->note_n == NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->notes[(l->note_head + l->note_n) % NOTES], sizeof l->notes[0], fmt, ap);
    va_end(ap);
    l->note_n++;
}

/* nrf_balloc: a stack of block indices; the first alloc gives block 0. */
static void pool_init(ds_line *l)
{
    memset(l->pool, 0, l->c.rx_blocks * l->bsize + 2);
    l->sp = 0;
    for (unsigned i = l->c.rx_blocks; i > 0; i--)
        l->stack[l->sp++] = (uint8_t)(i - 1);
}

static bool pool_alloc(ds_line *l, uint8_t *blk)
{
    if (!l->sp)
        return false;
    *blk = l->stack[--l->sp];
    return true;
}

static void pool_free(ds_line *l, uint8_t blk)
{
    if (l->sp < l->c.rx_blocks) /* a free beyond the pool: the SDK writes past its stack */
        l->stack[l->sp++] = blk;
}

static void rx_init(ds_line *l)
{
    pool_init(l);
    pool_alloc(l, &l->dblk); /* uart_dfu_transport_init */
    l->didx = 0;
    l->dstate = DECODING;
    l->gluing = l->jam_noted = l->overran = false;
    l->pend_n = 0;
    l->sq_n = 0;
    l->nsegs = 0;
}

ds_line *ds_line_new(const ds_line_cfg *c)
{
    if ((c->link == DS_LINK_UART && c->baud == 0) || c->mtu < 4 || c->rx_blocks == 0 || c->rx_blocks > 8 ||
        c->fifo < c->rts_room || c->fifo > 14 || c->sched_len == 0 || c->sched_len > 64)
        return NULL;
    ds_line *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->c = *c;
    l->bsize = (size_t)c->mtu + 1;
    l->pool = malloc(c->rx_blocks * l->bsize + 2);
    l->reqbuf = malloc((size_t)c->mtu + 2);
    if (!l->pool || !l->reqbuf) {
        ds_line_free(l);
        return NULL;
    }
    l->byte_ns = c->link == DS_LINK_UART ? (10000000000ULL + c->baud / 2) / c->baud : 0;
    rx_init(l);
    return l;
}

void ds_line_free(ds_line *l)
{
    if (!l)
        return;
    free(l->pool);
    free(l->reqbuf);
    free(l);
}

uint64_t ds_line_byte_ns(const ds_line *l)
{
    return l->byte_ns;
}

void ds_line_set_host_rtscts(ds_line *l, bool on)
{
    l->host_fc = on;
}

void ds_line_hold(ds_line *l, bool on)
{
    l->held = on;
}

size_t ds_line_host_room(const ds_line *l)
{
    return HQ_CAP - l->hq_n;
}

size_t ds_line_host_pending(const ds_line *l)
{
    return l->hq_n;
}

void ds_line_host_drop(ds_line *l)
{
    l->hq_n = 0;
}

size_t ds_line_host_write(ds_line *l, const uint8_t *p, size_t n, uint64_t not_before_ns)
{
    size_t room = ds_line_host_room(l);
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++) {
        size_t k = (l->hq_head + l->hq_n + i) % HQ_CAP;
        l->hq[k] = p[i];
        l->hq_nb[k] = not_before_ns;
    }
    l->hq_n += n;
    return n;
}

/* ---- halts ---------------------------------------------------------------- */

static uint64_t seg_end(const seg *s)
{
    return s->t0 + s->each * s->n;
}

/* The halt [*h0, *h1) that contains t, if any. */
static bool halt_at(const ds_line *l, uint64_t t, uint64_t *h0, uint64_t *h1)
{
    for (size_t i = 0; i < l->nsegs; i++) {
        const seg *s = &l->segs[i];
        if (t < s->t0)
            return false;
        if (t < seg_end(s)) {
            uint64_t k = (t - s->t0) / s->each;
            *h0 = s->t0 + k * s->each;
            *h1 = *h0 + s->each;
            return true;
        }
    }
    return false;
}

/* Forget halts that ended before t. */
static void halts_prune(ds_line *l, uint64_t t)
{
    size_t k = 0;
    while (k < l->nsegs && seg_end(&l->segs[k]) <= t)
        k++;
    if (k) {
        memmove(l->segs, l->segs + k, (l->nsegs - k) * sizeof l->segs[0]);
        l->nsegs -= k;
    }
}

void ds_line_halt(ds_line *l, uint32_t n, uint64_t each_ns)
{
    if (!n || !each_ns)
        return;
    uint64_t t0 = l->ml_cursor;
    l->ml_cursor += each_ns * n;
    if (l->deaf)
        return; /* nobody listens: nothing to stop */
    if (l->nsegs) {
        seg *last = &l->segs[l->nsegs - 1];
        if (last->each == each_ns && seg_end(last) == t0) {
            last->n += n;
            return;
        }
    }
    if (l->nsegs == NSEG) { /* cannot happen with the SDK's work: keep the time */
        seg *last = &l->segs[NSEG - 1];
        last->each = (seg_end(last) - last->t0 + each_ns * n) / (last->n + n);
        last->n += n;
        return;
    }
    l->segs[l->nsegs++] = (seg){ .t0 = t0, .each = each_ns, .n = n };
}

/* ---- the ISR: one byte into the SLIP decoder (slip_decode_add_byte) ------- */

static void packet(ds_line *l, uint64_t t)
{
    uint8_t *b = l->pool + l->dblk * l->bsize + 3;
    uint8_t op = b[0];
    if (l->didx == 0)
        l->st.empty++;
    if (l->sq_n == l->c.sched_len) {
        l->st.sched_drops++;
        note(l, "scheduler queue full (%u requests): request 0x%02X dropped%s", l->c.sched_len, op,
             op == OP_WRITE ? ", its RX block never freed" : "");
    } else {
        sreq *r = &l->sq[(l->sq_head + l->sq_n++) % 64];
        r->t = t;
        r->blk = l->dblk;
        r->op = op;
        r->len = l->didx;
        r->empty = l->didx == 0;
        r->glued = l->gluing;
        memcpy(r->head, b, HEAD);
    }
    if (op != OP_WRITE)
        pool_free(l, l->dblk); /* payload_free before the transport allocates */
    uint8_t nb;
    if (!pool_alloc(l, &nb)) {
        /* "Failed to allocate buffer": the decoder is not reset */
        l->st.glued++;
        l->gluing = true;
        note(l, "rx: no free RX block after a frame of %zu bytes: the SDK does not reset its decoder, "
                "the next frame is glued onto this one (protocol.md §1.3)",
             l->didx);
        return;
    }
    l->gluing = false;
    l->dblk = nb;
    l->didx = 0;
    l->dstate = DECODING;
}

static void isr_byte(ds_line *l, uint8_t c, uint64_t t)
{
    if (l->didx == l->c.mtu) { /* NRF_ERROR_NO_MEM for every byte, END too */
        if (!l->jam_noted) {
            l->st.jammed++;
            note(l, "rx: decoder full (a frame of %u decoded bytes): the transport is stuck until a reset "
                    "(protocol.md §1.3)",
                 l->c.mtu);
        }
        l->jam_noted = true;
        return;
    }
    uint8_t *b = l->pool + l->dblk * l->bsize + 3;
    switch (l->dstate) {
    case DECODING:
        if (c == END)
            packet(l, t);
        else if (c == ESC)
            l->dstate = ESC_RECEIVED;
        else
            b[l->didx++] = c;
        break;
    case ESC_RECEIVED:
        if (c == ESC_END || c == ESC_ESC) {
            b[l->didx++] = c == ESC_END ? END : ESC;
            l->dstate = DECODING;
        } else {
            l->dstate = CLEARING;
            l->st.bad_escapes++;
            note(l, "rx: bad escape (DB %02X): bytes dropped up to the next END", c);
        }
        break;
    default:
        if (c == END) {
            l->dstate = DECODING;
            l->didx = 0;
        }
        break;
    }
}

/* ---- time order ---------------------------------------------------------- */

/* When the next host byte is complete at the chip (UART) or read by the
 * main loop (USB). */
static bool host_next(const ds_line *l, uint64_t *arr)
{
    if (!l->hq_n || l->held || l->overran)
        return false;
    uint64_t nb = l->hq_nb[l->hq_head];
    if (l->c.link == DS_LINK_USB) {
        if (l->deaf) {
            *arr = nb;
            return true;
        }
        if (l->ml_busy || l->sq_n)
            return false; /* decoded only between requests */
        uint64_t t = nb > l->ml_free ? nb : l->ml_free;
        *arr = t > l->line_free ? t : l->line_free;
        return true;
    }
    uint64_t s = nb > l->line_free ? nb : l->line_free;
    if (l->host_fc && l->c.chip_hwfc && !l->deaf) {
        /* RTS inactive while the FIFO holds fifo - rts_room bytes (the first
         * byte of a halt waits in the DMA buffer, not in the FIFO) */
        uint64_t h0, h1;
        unsigned stop = 1u + l->c.fifo - l->c.rts_room;
        while (l->pend_n >= stop && halt_at(l, s, &h0, &h1) && h1 == l->pend_end)
            s = h1;
    }
    *arr = s + l->byte_ns;
    return true;
}

static uint64_t take_time(const ds_line *l)
{
    if (l->ml_busy || l->deaf || l->overran || !l->sq_n)
        return NEVER;
    uint64_t t = l->sq[l->sq_head].t;
    return t > l->ml_free ? t : l->ml_free;
}

uint64_t ds_line_next_time(const ds_line *l)
{
    if (l->note_n)
        return 0;
    uint64_t t = l->pend_n ? l->pend_end : NEVER, a;
    if (host_next(l, &a) && a < t)
        t = a;
    uint64_t r = take_time(l);
    return r < t ? r : t;
}

/* The byte at the head of the host queue arrives at a. */
static bool host_byte(ds_line *l, uint64_t a)
{
    uint8_t c = l->hq[l->hq_head];
    l->hq_head = (l->hq_head + 1) % HQ_CAP;
    l->hq_n--;
    l->line_free = a;
    l->st.host_bytes++;
    if (l->deaf) {
        l->st.lost_deaf++;
        return true;
    }
    uint64_t h0, h1;
    if (l->c.link == DS_LINK_UART && halt_at(l, a, &h0, &h1)) {
        l->pend[l->pend_n++] = c;
        l->pend_end = h1;
        if (l->pend_n > 1u + l->c.fifo) { /* DMA buffer + FIFO full: overrun */
            l->st.overruns++;
            l->overran = true;
            return false;
        }
        return true;
    }
    isr_byte(l, c, a);
    return true;
}

static void take(ds_line *l, uint64_t t, ds_line_ev *ev)
{
    sreq *r = &l->sq[l->sq_head];
    l->sq_head = (l->sq_head + 1) % 64;
    l->sq_n--;
    l->cur = *r;
    l->ml_busy = true;
    l->ml_cursor = t;
    l->st.requests++;
    halts_prune(l, t);
    ev->kind = DS_LEV_REQUEST;
    ev->t = t;
    ev->empty = r->empty;
    ev->glued = r->glued;
    ev->req = l->reqbuf;
    if (r->op == OP_WRITE) {
        /* the payload is read from the block now, whatever is in it */
        const uint8_t *b = l->pool + r->blk * l->bsize + 3;
        size_t n = r->empty ? 1 : r->len;
        memcpy(l->reqbuf, b, n);
        l->reqbuf[0] = OP_WRITE;
        ev->req_len = n;
        ev->payload_len = r->empty ? 0xFFFF : (uint32_t)(r->len - 1);
    } else {
        size_t n = r->empty || r->len > HEAD ? HEAD : r->len;
        memcpy(l->reqbuf, r->head, n);
        ev->req_len = n;
        ev->payload_len = r->empty ? 0xFFFF : (uint32_t)(r->len - 1);
    }
}

ds_lev ds_line_next(ds_line *l, uint64_t until, ds_line_ev *ev)
{
    memset(ev, 0, sizeof *ev);
    for (;;) {
        if (l->note_n) {
            ev->kind = DS_LEV_NOTE;
            ev->text = l->notes[l->note_head];
            l->note_head = (l->note_head + 1) % NOTES;
            l->note_n--;
            ev->t = l->line_free;
            return DS_LEV_NOTE;
        }
        uint64_t tp = l->pend_n ? l->pend_end : NEVER, tb = NEVER, tr = take_time(l);
        uint64_t a;
        if (host_next(l, &a))
            tb = a;
        uint64_t t = tp < tb ? tp : tb;
        if (tr < t)
            t = tr;
        if (t == NEVER || t > until)
            return DS_LEV_NONE;
        if (tp == t) { /* the halt is over: the ISR takes what waited */
            unsigned n = l->pend_n;
            l->pend_n = 0;
            /* a host that RTS stopped starts its next byte now */
            if (l->host_fc && l->c.chip_hwfc && n >= 1u + l->c.fifo - l->c.rts_room && l->line_free < tp)
                l->line_free = tp;
            for (unsigned i = 0; i < n; i++)
                isr_byte(l, l->pend[i], tp);
            continue;
        }
        if (tb == t) {
            if (!host_byte(l, a)) {
                ev->kind = DS_LEV_OVERRUN;
                ev->t = a;
                return DS_LEV_OVERRUN;
            }
            continue;
        }
        take(l, t, ev);
        return DS_LEV_REQUEST;
    }
}

uint64_t ds_line_answer(ds_line *l, size_t enc_len, bool *lost)
{
    *lost = false;
    uint64_t t = l->ml_cursor;
    if (l->c.link == DS_LINK_USB)
        return t;
    if (l->tx_free > t) { /* nrf_drv_uart_tx: BUSY */
        l->st.answers_lost++;
        *lost = true;
        return t;
    }
    l->tx_free = t + enc_len * l->byte_ns;
    return l->tx_free;
}

uint64_t ds_line_now(const ds_line *l)
{
    return l->ml_cursor;
}

void ds_line_done(ds_line *l, bool free_block)
{
    if (!l->ml_busy)
        return;
    if (l->cur.op == OP_WRITE && free_block)
        pool_free(l, l->cur.blk);
    l->ml_busy = false;
    l->ml_free = l->ml_cursor;
}

void ds_line_reset(ds_line *l, uint64_t t)
{
    rx_init(l);
    l->ml_busy = true;
    l->deaf = true;
    l->ml_cursor = t;
    l->note_n = 0;
}

void ds_line_ready(ds_line *l)
{
    l->deaf = false;
    l->ml_busy = false;
    l->ml_free = l->ml_cursor;
}

void ds_line_deaf(ds_line *l, uint64_t t)
{
    rx_init(l);
    l->deaf = true;
    l->ml_busy = false;
    if (l->ml_cursor < t)
        l->ml_cursor = t;
    l->ml_free = l->ml_cursor;
}

void ds_line_get_stats(const ds_line *l, ds_line_stats *st)
{
    *st = l->st;
}
