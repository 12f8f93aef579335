/* test_slip.c - SLIP encoder and streaming deframer (protocol.md §1): escapes,
 * frames split across feeds at every byte, anomalies and stream positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/slip.h"

/* The same deframer with the portable scanner (8 bytes a step, no SSE2),
 * built from lib's source under other names so that x86 runs test it too. */
#define DK_SLIP_PORTABLE 1
#define dk_slip_encode port_slip_encode
#define dk_slip_dec_init port_slip_dec_init
#define dk_slip_dec_device_mode port_slip_dec_device_mode
#define dk_slip_dec_set_pos port_slip_dec_set_pos
#define dk_slip_dec_reset port_slip_dec_reset
#define dk_slip_dec_next port_slip_dec_next
#define dk_slip_dec_feed port_slip_dec_feed
#define dk_slip_dec_eof port_slip_dec_eof
#define dk_slip_dec_flush port_slip_dec_flush
#include "../../lib/wire/slip.c"
#undef dk_slip_encode
#undef dk_slip_dec_init
#undef dk_slip_dec_device_mode
#undef dk_slip_dec_set_pos
#undef dk_slip_dec_reset
#undef dk_slip_dec_next
#undef dk_slip_dec_feed
#undef dk_slip_dec_eof
#undef dk_slip_dec_flush

#define MAXEV 64

typedef struct {
    dk_slip_kind kind;
    uint8_t data[300];
    size_t len;
    uint64_t start, end, bad_at;
    bool first;
} ev_copy;

typedef struct {
    ev_copy ev[MAXEV];
    int n;
} sink;

static void collect(void *ctx, const dk_slip_event *e)
{
    sink *s = ctx;
    assert_true(s->n < MAXEV);
    ev_copy *c = &s->ev[s->n++];
    c->kind = e->kind;
    assert_true(e->len <= sizeof c->data);
    if (e->len)
        memcpy(c->data, e->data, e->len);
    c->len = e->len;
    c->start = e->start;
    c->end = e->end;
    c->bad_at = e->bad_at;
    c->first = e->first;
}

typedef struct {
    dk_slip_dec d;
    uint8_t buf[256];
    sink s;
} fixture;

static void fx_init(fixture *f, size_t cap)
{
    memset(f, 0, sizeof *f);
    assert_true(cap <= sizeof f->buf);
    dk_slip_dec_init(&f->d, f->buf, cap);
}

static void feed(fixture *f, const void *p, size_t n)
{
    dk_slip_dec_feed(&f->d, p, n, collect, &f->s);
}

static void test_encode_escapes(void **state)
{
    (void)state;
    static const uint8_t in[] = { 0xC0, 0xDB, 0x00, 0xDC, 0xDD, 0x41, 0xDB, 0xC0 };
    static const uint8_t want[] = { 0xDB, 0xDC, 0xDB, 0xDD, 0x00, 0xDC, 0xDD, 0x41,
                                    0xDB, 0xDD, 0xDB, 0xDC, 0xC0 };
    uint8_t out[DK_SLIP_MAX_ENCODED(sizeof in)];
    size_t n = dk_slip_encode(in, sizeof in, out);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);

    /* §1.2: no leading END, one END after the packet */
    uint8_t one[3];
    assert_int_equal(dk_slip_encode(NULL, 0, one), 1);
    assert_int_equal(one[0], DK_SLIP_END);
    static const uint8_t ping[] = { 0x09, 0x01 };
    assert_int_equal(dk_slip_encode(ping, 2, one), 3);
    assert_memory_equal(one, "\x09\x01\xC0", 3);

    /* worst case: every byte escaped */
    uint8_t ends[40], big[DK_SLIP_MAX_ENCODED(40)];
    memset(ends, 0xC0, sizeof ends);
    assert_int_equal(dk_slip_encode(ends, sizeof ends, big), DK_SLIP_MAX_ENCODED(40));
}

/* A stream of frames with every escape, and the events it must produce. */
static size_t build_stream(uint8_t *out, sink *want)
{
    static const uint8_t f1[] = { 0x09, 0x01 };
    static const uint8_t f2[] = { 0x60, 0x06, 0x01, 0xC0, 0xDB, 0xC0, 0xC0, 0xDB, 0xDB, 0x00 };
    static const uint8_t f3[] = { 0xDB };
    static const uint8_t f4[] = { 0xC0 };
    uint8_t f5[200];
    for (size_t i = 0; i < sizeof f5; i++)
        f5[i] = (uint8_t)(0xBF + i % 30); /* crosses C0 and DB regularly */
    const struct { const uint8_t *p; size_t n; } fr[] = {
        { f1, sizeof f1 }, { f2, sizeof f2 }, { NULL, 0 }, { f3, 1 }, { f4, 1 }, { f5, sizeof f5 },
    };
    size_t pos = 0;
    memset(want, 0, sizeof *want);
    for (size_t k = 0; k < sizeof fr / sizeof fr[0]; k++) {
        size_t n = dk_slip_encode(fr[k].p, fr[k].n, out + pos);
        ev_copy *e = &want->ev[want->n++];
        e->kind = fr[k].n ? DK_SLIP_FRAME : DK_SLIP_EMPTY;
        if (fr[k].n)
            memcpy(e->data, fr[k].p, fr[k].n);
        e->len = fr[k].n;
        e->start = pos;
        e->end = pos + n;
        e->first = k == 0;
        pos += n;
    }
    return pos;
}

static void check_same(const sink *got, const sink *want)
{
    assert_int_equal(got->n, want->n);
    for (int i = 0; i < want->n; i++) {
        assert_int_equal(got->ev[i].kind, want->ev[i].kind);
        assert_int_equal(got->ev[i].len, want->ev[i].len);
        assert_memory_equal(got->ev[i].data, want->ev[i].data, want->ev[i].len);
        assert_int_equal(got->ev[i].start, want->ev[i].start);
        assert_int_equal(got->ev[i].end, want->ev[i].end);
        assert_int_equal(got->ev[i].first, want->ev[i].first);
    }
}

static void test_round_trip_split_everywhere(void **state)
{
    (void)state;
    uint8_t stream[1024];
    static sink want;
    size_t n = build_stream(stream, &want);
    static fixture f;

    fx_init(&f, 256);
    feed(&f, stream, n);
    check_same(&f.s, &want);

    for (size_t k = 0; k <= n; k++) {
        fx_init(&f, 256);
        feed(&f, stream, k);
        feed(&f, stream + k, n - k);
        check_same(&f.s, &want);
    }
    fx_init(&f, 256);
    for (size_t k = 0; k < n; k++)
        feed(&f, stream + k, 1);
    check_same(&f.s, &want);
    dk_slip_dec_flush(&f.d, collect, &f.s); /* nothing pending */
    check_same(&f.s, &want);
}

static void test_random_round_trips(void **state)
{
    (void)state;
    srand(1234);
    static fixture f;
    for (int iter = 0; iter < 300; iter++) {
        uint8_t p[130], enc[DK_SLIP_MAX_ENCODED(130)];
        size_t len = 1 + (size_t)rand() % sizeof p;
        for (size_t i = 0; i < len; i++) {
            int r = rand() % 4;
            p[i] = r == 0 ? 0xC0 : r == 1 ? 0xDB : (uint8_t)rand();
        }
        size_t n = dk_slip_encode(p, len, enc);
        assert_true(n <= DK_SLIP_MAX_ENCODED(len));
        assert_null(memchr(enc, 0xC0, n - 1)); /* only the last byte is END */
        fx_init(&f, 130);
        size_t cut = (size_t)rand() % (n + 1);
        feed(&f, enc, cut);
        feed(&f, enc + cut, n - cut);
        assert_int_equal(f.s.n, 1);
        assert_int_equal(f.s.ev[0].kind, DK_SLIP_FRAME);
        assert_int_equal(f.s.ev[0].len, len);
        assert_memory_equal(f.s.ev[0].data, p, len);
    }
}

static void test_bad_escape(void **state)
{
    (void)state;
    static fixture f;
    static const uint8_t s[] = { 0x01, 0xDB, 0x41, 0x02, 0xC0, 0x05, 0xC0 };
    fx_init(&f, 64);
    feed(&f, s, sizeof s);
    assert_int_equal(f.s.n, 2);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_BAD_ESCAPE);
    assert_int_equal(f.s.ev[0].start, 0);
    assert_int_equal(f.s.ev[0].end, 5);
    assert_int_equal(f.s.ev[0].bad_at, 2);
    assert_true(f.s.ev[0].first);
    assert_int_equal(f.s.ev[1].kind, DK_SLIP_FRAME); /* decoding restarts after END */
    assert_int_equal(f.s.ev[1].len, 1);
    assert_int_equal(f.s.ev[1].data[0], 0x05);
    assert_int_equal(f.s.ev[1].start, 5);
    assert_int_equal(f.s.ev[1].end, 7);
    assert_false(f.s.ev[1].first);

    /* ESC right before END: the END is the offending byte */
    static const uint8_t t[] = { 0x09, 0xDB, 0xC0 };
    fx_init(&f, 64);
    dk_slip_dec_set_pos(&f.d, 1000);
    feed(&f, t, 1);
    feed(&f, t + 1, 1);
    feed(&f, t + 2, 1);
    assert_int_equal(f.s.n, 1);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_BAD_ESCAPE);
    assert_int_equal(f.s.ev[0].bad_at, 1002);
    assert_int_equal(f.s.ev[0].start, 1000);
    assert_int_equal(f.s.ev[0].end, 1003);
}

static void test_device_mode_esc_end(void **state)
{
    (void)state;
    static fixture f;
    /* §1.3: on the target, ESC followed by END makes that END the bad byte, so
     * the decoder discards through the next END: the PING after it is lost. */
    static const uint8_t s[] = { 0x08, 0x01, 0xDB, 0xC0, 0x09, 0x07, 0xC0, 0x07, 0xC0 };
    fx_init(&f, 64);
    dk_slip_dec_device_mode(&f.d, true);
    feed(&f, s, sizeof s);
    assert_int_equal(f.s.n, 2);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_BAD_ESCAPE);
    assert_int_equal(f.s.ev[0].bad_at, 3);
    assert_int_equal(f.s.ev[0].start, 0);
    assert_int_equal(f.s.ev[0].end, 7);
    assert_int_equal(f.s.ev[1].kind, DK_SLIP_FRAME);
    assert_int_equal(f.s.ev[1].len, 1);
    assert_int_equal(f.s.ev[1].data[0], 0x07);

    /* The same bytes without device mode: decoding restarts at that END. */
    fx_init(&f, 64);
    feed(&f, s, sizeof s);
    assert_int_equal(f.s.n, 3);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_BAD_ESCAPE);
    assert_int_equal(f.s.ev[0].end, 4);
    assert_int_equal(f.s.ev[1].kind, DK_SLIP_FRAME);
    assert_int_equal(f.s.ev[1].len, 2);
    assert_int_equal(f.s.ev[1].data[0], 0x09);
}

static void test_empty_frames_and_first(void **state)
{
    (void)state;
    static fixture f;
    fx_init(&f, 64);
    static const uint8_t s[] = { 0xC0, 0xC0, 0x09, 0x01, 0xC0, 0xC0 };
    feed(&f, s, sizeof s);
    assert_int_equal(f.s.n, 4);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_EMPTY);
    assert_true(f.s.ev[0].first);
    assert_int_equal(f.s.ev[0].start, 0);
    assert_int_equal(f.s.ev[0].end, 1);
    assert_int_equal(f.s.ev[1].kind, DK_SLIP_EMPTY);
    assert_false(f.s.ev[1].first);
    assert_int_equal(f.s.ev[1].start, 1);
    assert_int_equal(f.s.ev[2].kind, DK_SLIP_FRAME);
    assert_false(f.s.ev[2].first);
    assert_int_equal(f.s.ev[2].start, 2);
    assert_int_equal(f.s.ev[2].end, 5);
    assert_int_equal(f.s.ev[3].kind, DK_SLIP_EMPTY);
    assert_int_equal(f.s.ev[3].start, 5);

    /* a capture that starts mid-frame: the first frame is flagged */
    fx_init(&f, 64);
    static const uint8_t mid[] = { 0x40, 0x41, 0xC0, 0x03, 0xC0 };
    feed(&f, mid, sizeof mid);
    assert_int_equal(f.s.n, 2);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_FRAME);
    assert_true(f.s.ev[0].first);
    assert_false(f.s.ev[1].first);
}

/* 1 MB with no END: nothing reported while feeding, the buffer is the only
 * memory, one TOO_LONG at the END (or one UNTERMINATED at flush). */
static void test_too_long_bounded(void **state)
{
    (void)state;
    static fixture f;
    uint8_t chunk[4096];
    memset(chunk, 0x41, sizeof chunk);
    chunk[100] = 0xDB; /* escapes inside the long frame are skipped too */
    chunk[101] = 0xDC;
    const size_t total = 1u << 20;
    for (int end = 0; end < 2; end++) {
        fx_init(&f, 131);
        for (size_t done = 0; done < total; done += sizeof chunk) {
            feed(&f, chunk, sizeof chunk);
            assert_int_equal(f.s.n, 0);
            assert_true(f.d.len <= 131);
        }
        if (end) {
            static const uint8_t tail[] = { 0xC0, 0x09, 0x02, 0xC0 };
            feed(&f, tail, sizeof tail);
            assert_int_equal(f.s.n, 2);
            assert_int_equal(f.s.ev[0].kind, DK_SLIP_TOO_LONG);
            assert_int_equal(f.s.ev[0].start, 0);
            assert_int_equal(f.s.ev[0].end, total + 1);
            assert_true(f.s.ev[0].len <= 131);
            assert_int_equal(f.s.ev[1].kind, DK_SLIP_FRAME); /* back in step */
            assert_int_equal(f.s.ev[1].len, 2);
            assert_int_equal(f.s.ev[1].start, total + 1);
        } else {
            dk_slip_dec_flush(&f.d, collect, &f.s);
            assert_int_equal(f.s.n, 1);
            assert_int_equal(f.s.ev[0].kind, DK_SLIP_UNTERMINATED);
            assert_int_equal(f.s.ev[0].start, 0);
            assert_int_equal(f.s.ev[0].end, total);
            assert_true(f.s.ev[0].len <= 131);
        }
    }

    /* exactly at the limit is fine, one more byte is not */
    uint8_t frame[132];
    memset(frame, 0x22, sizeof frame);
    frame[131] = 0xC0;
    fx_init(&f, 131);
    feed(&f, frame, 132);
    assert_int_equal(f.s.n, 1);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_FRAME);
    assert_int_equal(f.s.ev[0].len, 131);
    fx_init(&f, 130);
    feed(&f, frame, 132);
    assert_int_equal(f.s.n, 1);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_TOO_LONG);
    /* an escaped byte that overflows counts as well */
    frame[129] = 0xDB;
    frame[130] = 0xDD;
    fx_init(&f, 129);
    feed(&f, frame, 132);
    assert_int_equal(f.s.n, 1);
    assert_int_equal(f.s.ev[0].kind, DK_SLIP_TOO_LONG);
}

static void test_unterminated_flush(void **state)
{
    (void)state;
    static fixture f;
    fx_init(&f, 64);
    static const uint8_t s[] = { 0x09, 0x01, 0xC0, 0x60, 0x09, 0xDB, 0xDD };
    feed(&f, s, sizeof s);
    assert_int_equal(f.s.n, 1);
    dk_slip_dec_flush(&f.d, collect, &f.s);
    assert_int_equal(f.s.n, 2);
    assert_int_equal(f.s.ev[1].kind, DK_SLIP_UNTERMINATED);
    assert_int_equal(f.s.ev[1].len, 3);
    assert_memory_equal(f.s.ev[1].data, "\x60\x09\xDB", 3);
    assert_int_equal(f.s.ev[1].start, 3);
    assert_int_equal(f.s.ev[1].end, 7);
    dk_slip_dec_flush(&f.d, collect, &f.s); /* reported once */
    assert_int_equal(f.s.n, 2);
    /* a lone ESC at the end is still something pending */
    feed(&f, "\xDB", 1);
    dk_slip_dec_flush(&f.d, collect, &f.s);
    assert_int_equal(f.s.n, 3);
    assert_int_equal(f.s.ev[2].kind, DK_SLIP_UNTERMINATED);
    assert_int_equal(f.s.ev[2].start, 7);
    assert_int_equal(f.s.ev[2].end, 8);
}

static void test_positions_and_reset(void **state)
{
    (void)state;
    static fixture f;
    fx_init(&f, 64);
    /* a frame split across two capture chunks at file offsets 100 and 500 */
    dk_slip_dec_set_pos(&f.d, 100);
    feed(&f, "\x09\x01", 2);
    dk_slip_dec_set_pos(&f.d, 500);
    feed(&f, "\x02\xC0\x03\xC0", 4);
    assert_int_equal(f.s.n, 2);
    assert_int_equal(f.s.ev[0].start, 100);
    assert_int_equal(f.s.ev[0].end, 502);
    assert_int_equal(f.s.ev[0].len, 3);
    assert_int_equal(f.s.ev[1].start, 502);
    assert_int_equal(f.s.ev[1].end, 504);

    /* reset drops the partial frame; the next one starts where it starts */
    feed(&f, "\x60\x09", 2);
    dk_slip_dec_reset(&f.d);
    feed(&f, "\x04\xC0", 2);
    assert_int_equal(f.s.n, 3);
    assert_int_equal(f.s.ev[2].kind, DK_SLIP_FRAME);
    assert_int_equal(f.s.ev[2].len, 1);
    assert_int_equal(f.s.ev[2].data[0], 0x04);
    assert_int_equal(f.s.ev[2].start, 506);
    assert_int_equal(f.s.ev[2].end, 508);
    dk_slip_dec_flush(&f.d, collect, &f.s);
    assert_int_equal(f.s.n, 3);
}

/* ---- the pull form, both scanners, against a byte-at-a-time model ---- */

typedef struct {
    const char *name;
    void (*init)(dk_slip_dec *, uint8_t *, size_t);
    void (*device_mode)(dk_slip_dec *, bool);
    void (*set_pos)(dk_slip_dec *, uint64_t);
    bool (*next)(dk_slip_dec *, const uint8_t *, size_t, size_t *, dk_slip_event *);
    void (*feed)(dk_slip_dec *, const uint8_t *, size_t, dk_slip_cb, void *);
    bool (*eof)(dk_slip_dec *, dk_slip_event *);
    void (*flush)(dk_slip_dec *, dk_slip_cb, void *);
} impl;

static const impl impls[] = {
    { "lib", dk_slip_dec_init, dk_slip_dec_device_mode, dk_slip_dec_set_pos, dk_slip_dec_next,
      dk_slip_dec_feed, dk_slip_dec_eof, dk_slip_dec_flush },
    { "portable", port_slip_dec_init, port_slip_dec_device_mode, port_slip_dec_set_pos,
      port_slip_dec_next, port_slip_dec_feed, port_slip_dec_eof, port_slip_dec_flush },
};

/* An event, its decoded bytes kept by value. */
typedef struct {
    dk_slip_kind kind;
    size_t len;
    uint64_t start, end, bad_at, raw_len;
    bool first;
    size_t data_at; /* offset of its bytes in evlist.bytes */
} evrec;

typedef struct {
    evrec *r;
    size_t n, cap;
    uint8_t *bytes;
    size_t nbytes, bcap;
} evlist;

static void ev_add(evlist *l, const dk_slip_event *e)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->r = realloc(l->r, l->cap * sizeof *l->r);
        assert_non_null(l->r);
    }
    while (l->nbytes + e->len > l->bcap) {
        l->bcap = l->bcap ? 2 * l->bcap : 4096;
        l->bytes = realloc(l->bytes, l->bcap);
        assert_non_null(l->bytes);
    }
    if (e->len)
        memcpy(l->bytes + l->nbytes, e->data, e->len);
    l->r[l->n++] = (evrec){ e->kind, e->len, e->start, e->end,
                          e->kind == DK_SLIP_BAD_ESCAPE ? e->bad_at : 0, e->raw_len, e->first,
                          l->nbytes };
    l->nbytes += e->len;
}

static void ev_cb(void *ctx, const dk_slip_event *e)
{
    ev_add(ctx, e);
}

static void ev_free(evlist *l)
{
    free(l->r);
    free(l->bytes);
    memset(l, 0, sizeof *l);
}

/* Every field of every event, the bytes included (bad_at for BAD_ESCAPE). */
static void ev_same(const evlist *a, const evlist *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const evrec *x = &a->r[i], *y = &b->r[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->len, y->len);
        assert_memory_equal(a->bytes + x->data_at, b->bytes + y->data_at, x->len);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->bad_at, y->bad_at);
        assert_int_equal(x->raw_len, y->raw_len);
        assert_int_equal(x->first, y->first);
    }
}

/* The model: §1 read one byte at a time, the decoded frame kept up to cap
 * bytes; pos[i] is the stream position of byte i. */
static void model(const uint8_t *b, const uint64_t *pos, size_t n, size_t cap, bool device,
                  evlist *out)
{
    enum { DATA, ESC, BAD, LONG } st = DATA;
    uint8_t *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t len = 0;
    uint64_t start = 0, bad_at = 0, raw = 0;
    bool seen_end = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (raw++ == 0)
            start = pos[i];
        dk_slip_kind kind;
        if (c == DK_SLIP_END && !(st == ESC && device)) {
            if (st == ESC)
                bad_at = pos[i];
            kind = st == BAD || st == ESC ? DK_SLIP_BAD_ESCAPE
                 : st == LONG            ? DK_SLIP_TOO_LONG
                 : len == 0              ? DK_SLIP_EMPTY
                                         : DK_SLIP_FRAME;
            dk_slip_event e = { .kind = kind, .data = buf, .len = len, .start = start,
                                .end = pos[i] + 1, .bad_at = bad_at, .raw_len = raw,
                                .first = !seen_end };
            ev_add(out, &e);
            seen_end = true;
            st = DATA;
            len = 0;
            raw = 0;
            continue;
        }
        if (st == BAD || st == LONG)
            continue;
        if (st == ESC && c != DK_SLIP_ESC_END && c != DK_SLIP_ESC_ESC) {
            bad_at = pos[i]; /* in device mode c may be the END */
            st = BAD;
            continue;
        }
        if (st == DATA && c == DK_SLIP_ESC) {
            st = ESC;
            continue;
        }
        if (st == ESC)
            c = c == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
        st = DATA;
        if (len == cap)
            st = LONG;
        else
            buf[len++] = c;
    }
    if (raw) {
        dk_slip_event e = { .kind = DK_SLIP_UNTERMINATED, .data = buf, .len = len,
                            .start = start, .end = pos[n - 1] + 1, .raw_len = raw,
                            .first = !seen_end };
        ev_add(out, &e);
    }
    free(buf);
}

/* A record: bytes [at, at+len) of the stream, all at positions pos[at]... */
typedef struct {
    size_t at, len;
} span;

/* Pull form: each record set_pos'd and cut into chunks of 1..maxc bytes,
 * every call checked against the contract (stops right after an END). */
static void run_pull(const impl *im, const uint8_t *b, const uint64_t *pos, const span *recs,
                     size_t nrec, size_t cap, bool device, size_t maxc, unsigned *seed,
                     evlist *out)
{
    uint8_t *buf = malloc(cap ? cap : 1); /* exactly cap: ASan sees a store past it */
    assert_non_null(buf);
    dk_slip_dec d;
    im->init(&d, buf, cap);
    im->device_mode(&d, device);
    for (size_t r = 0; r < nrec; r++) {
        im->set_pos(&d, pos[recs[r].at]);
        const uint8_t *p = b + recs[r].at;
        size_t left = recs[r].len;
        while (left) {
            size_t k = 1 + (size_t)rand_r(seed) % maxc;
            if (k > left)
                k = left;
            size_t used = 0;
            while (k) {
                dk_slip_event ev;
                size_t u = 99999;
                bool got = im->next(&d, p, k, &u, &ev);
                assert_true(u >= 1 && u <= k);
                if (got) {
                    assert_int_equal(p[u - 1], DK_SLIP_END);
                    assert_int_equal(ev.end, pos[(size_t)(p - b) + u - 1] + 1);
                    ev_add(out, &ev);
                } else {
                    assert_int_equal(u, k);
                }
                p += u;
                k -= u;
                left -= u;
                used += u;
            }
            (void)used;
        }
    }
    dk_slip_event ev;
    if (im->eof(&d, &ev))
        ev_add(out, &ev);
    assert_false(im->eof(&d, &ev)); /* once */
    free(buf);
}

/* Callback form, one byte a call. */
static void run_feed_bytes(const impl *im, const uint8_t *b, const uint64_t *pos, size_t n,
                           size_t cap, bool device, evlist *out)
{
    uint8_t *buf = malloc(cap ? cap : 1);
    assert_non_null(buf);
    dk_slip_dec d;
    im->init(&d, buf, cap);
    im->device_mode(&d, device);
    for (size_t i = 0; i < n; i++) {
        im->set_pos(&d, pos[i]);
        im->feed(&d, b + i, 1, ev_cb, out);
    }
    im->flush(&d, ev_cb, out);
    free(buf);
}

/* Random traffic: frames of many sizes with and without escapes, empty
 * frames, bad escapes (ESC + plain, ESC ESC, ESC END), runs with no END
 * longer than cap, a tail without END. */
static size_t random_stream(uint8_t *b, size_t room, size_t cap, unsigned *seed)
{
    size_t n = 0;
    uint8_t pl[600];
    while (n + DK_SLIP_MAX_ENCODED(sizeof pl) + 8 < room) {
        int k = rand_r(seed) % 16;
        if (k == 0) {
            b[n++] = DK_SLIP_END;
        } else if (k == 1) {
            static const uint8_t bad[] = { 0x41, DK_SLIP_ESC, DK_SLIP_END, 0x00 };
            b[n++] = 0x11;
            b[n++] = DK_SLIP_ESC;
            b[n++] = bad[rand_r(seed) % 4];
            b[n++] = 0x22;
            if (rand_r(seed) % 2)
                b[n++] = DK_SLIP_END;
        } else {
            size_t len = k == 2 ? cap + (size_t)(rand_r(seed) % 3) /* at, +1, +2 */
                       : k < 8  ? (size_t)(rand_r(seed) % 70)
                                : (size_t)(rand_r(seed) % sizeof pl);
            if (len > sizeof pl)
                len = sizeof pl;
            int dens = 1 + rand_r(seed) % 40; /* one escape in dens bytes on average */
            for (size_t i = 0; i < len; i++) {
                int r = rand_r(seed) % (2 * dens);
                pl[i] = r == 0 ? DK_SLIP_END : r == 1 ? DK_SLIP_ESC : (uint8_t)rand_r(seed);
            }
            n += dk_slip_encode(pl, len, b + n);
        }
    }
    for (int i = rand_r(seed) % 6; i > 0; i--)
        b[n++] = (uint8_t)(i == 2 ? DK_SLIP_ESC : 0x33);
    return n;
}

static void test_pull_random_chunks(void **state)
{
    (void)state;
    enum { ROOM = 1 << 16 };
    uint8_t *b = malloc(ROOM);
    uint64_t *pos = malloc(ROOM * sizeof *pos);
    span *recs = malloc(ROOM * sizeof *recs);
    assert_non_null(b);
    assert_non_null(pos);
    assert_non_null(recs);
    static const size_t caps[] = { 1, 15, 16, 17, 31, 32, 33, 47, 64, 255, 600, 8192 };
    static const size_t maxcs[] = { 1, 3, 16, 33, 100, 1000, ROOM };
    unsigned kinds = 0;
    unsigned seed = 77;
    for (int iter = 0; iter < 48; iter++) {
        size_t cap = caps[iter % (sizeof caps / sizeof caps[0])];
        bool device = iter % 2;
        size_t n = random_stream(b, ROOM, cap, &seed);
        /* records of 1..2000 bytes with gaps between them (capture headers) */
        size_t nrec = 0;
        uint64_t p0 = 1000 + (uint64_t)rand_r(&seed);
        for (size_t at = 0; at < n;) {
            size_t len = 1 + (size_t)rand_r(&seed) % 2000;
            if (len > n - at)
                len = n - at;
            recs[nrec++] = (span){ at, len };
            for (size_t i = 0; i < len; i++)
                pos[at + i] = p0 + i;
            p0 += len + (size_t)(rand_r(&seed) % 3) * 16;
            at += len;
        }
        evlist want = { 0 };
        model(b, pos, n, cap, device, &want);
        assert_true(want.n > 20);
        for (size_t i = 0; i < want.n; i++)
            kinds |= 1u << want.r[i].kind;
        for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
            evlist got = { 0 };
            run_feed_bytes(&impls[m], b, pos, n, cap, device, &got);
            ev_same(&want, &got);
            ev_free(&got);
            for (size_t c = 0; c < sizeof maxcs / sizeof maxcs[0]; c++) {
                run_pull(&impls[m], b, pos, recs, nrec, cap, device, maxcs[c], &seed, &got);
                ev_same(&want, &got);
                ev_free(&got);
            }
        }
        ev_free(&want);
    }
    /* every kind was met */
    assert_int_equal(kinds, 1u << DK_SLIP_FRAME | 1u << DK_SLIP_EMPTY |
                            1u << DK_SLIP_BAD_ESCAPE | 1u << DK_SLIP_TOO_LONG |
                            1u << DK_SLIP_UNTERMINATED);
    free(b);
    free(pos);
    free(recs);
}

/* One frame after a lead-in of 0..33 bytes (another frame), of every length
 * 0..80, with no escape or one at every place, for caps just around the
 * length: every end of a 16/32/8-byte block meets an END, an ESC and the
 * end of the room.  Decoded in one call and byte by byte. */
static void test_pull_block_edges(void **state)
{
    (void)state;
    uint8_t pl[96], b[2 * 34 + DK_SLIP_MAX_ENCODED(96) + 4];
    uint64_t pos[sizeof b];
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        pos[i] = i;
    span rec;
    unsigned seed = 5;
    size_t checked = 0;
    for (size_t lead = 0; lead <= 33; lead += 1 + lead / 8) {
        for (size_t len = 0; len <= 80; len++) {
            for (long esc = -1; esc < (long)len; esc++) {
                for (size_t i = 0; i < len; i++)
                    pl[i] = (uint8_t)(0x20 + (i + lead) % 0x60);
                if (esc >= 0)
                    pl[esc] = esc % 2 ? DK_SLIP_END : DK_SLIP_ESC;
                size_t n = 0;
                memset(b, 0x5A, lead);
                n = lead;
                if (lead)
                    b[n++] = DK_SLIP_END;
                n += dk_slip_encode(pl, len, b + n);
                rec = (span){ 0, n };
                size_t elen = n - (lead ? lead + 1 : 0);
                for (size_t cap = len ? len - 1 : 0; cap <= len + 1; cap++) {
                    evlist want = { 0 };
                    model(b, pos, n, cap, false, &want);
                    assert_int_equal(want.r[want.n - 1].kind,
                                     cap < len ? DK_SLIP_TOO_LONG
                                     : len     ? DK_SLIP_FRAME
                                               : DK_SLIP_EMPTY);
                    assert_int_equal(want.r[want.n - 1].raw_len, elen);
                    for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
                        evlist got = { 0 };
                        run_pull(&impls[m], b, pos, &rec, 1, cap, false, n, &seed, &got);
                        ev_same(&want, &got);
                        ev_free(&got);
                        run_feed_bytes(&impls[m], b, pos, n, cap, false, &got);
                        ev_same(&want, &got);
                        ev_free(&got);
                        checked++;
                    }
                    ev_free(&want);
                }
            }
        }
    }
    assert_true(checked > 10000);
}

/* The pull contract on a small stream: one event a call, consumed up to its
 * END; bytes with no END are all consumed and kept for the next call. */
static void test_pull_contract(void **state)
{
    (void)state;
    static const uint8_t s[] = { 0x09, 0xDB, 0xDC, 0xC0, 0xC0, 0x01, 0xDB, 0x41, 0xC0, 0x60, 0xDB };
    static const uint8_t t[] = { 0xDD, 0x02, 0xC0 };
    uint8_t buf[16];
    dk_slip_dec d;
    dk_slip_event ev;
    size_t u;
    dk_slip_dec_init(&d, buf, sizeof buf);
    dk_slip_dec_set_pos(&d, 10);
    assert_true(dk_slip_dec_next(&d, s, sizeof s, &u, &ev));
    assert_int_equal(u, 4);
    assert_int_equal(ev.kind, DK_SLIP_FRAME);
    assert_int_equal(ev.len, 2);
    assert_memory_equal(ev.data, "\x09\xC0", 2);
    assert_int_equal(ev.start, 10);
    assert_int_equal(ev.end, 14);
    assert_int_equal(ev.raw_len, 4);
    assert_true(ev.first);
    assert_true(dk_slip_dec_next(&d, s + 4, sizeof s - 4, &u, &ev));
    assert_int_equal(u, 1);
    assert_int_equal(ev.kind, DK_SLIP_EMPTY);
    assert_int_equal(ev.start, 14);
    assert_false(ev.first);
    assert_true(dk_slip_dec_next(&d, s + 5, sizeof s - 5, &u, &ev));
    assert_int_equal(u, 4);
    assert_int_equal(ev.kind, DK_SLIP_BAD_ESCAPE);
    assert_int_equal(ev.bad_at, 17);
    assert_int_equal(ev.start, 15);
    assert_int_equal(ev.end, 19);
    assert_false(dk_slip_dec_next(&d, s + 9, sizeof s - 9, &u, &ev)); /* 60 DB: no END */
    assert_int_equal(u, 2);
    assert_false(dk_slip_dec_next(&d, t, 0, &u, &ev));
    assert_int_equal(u, 0);
    dk_slip_dec_set_pos(&d, 100); /* a gap: the frame still starts at 19 */
    assert_true(dk_slip_dec_next(&d, t, sizeof t, &u, &ev));
    assert_int_equal(u, 3);
    assert_int_equal(ev.kind, DK_SLIP_FRAME);
    assert_int_equal(ev.len, 3);
    assert_memory_equal(ev.data, "\x60\xDB\x02", 3);
    assert_int_equal(ev.start, 19);
    assert_int_equal(ev.end, 103);
    assert_int_equal(ev.raw_len, 5);
    assert_false(dk_slip_dec_eof(&d, &ev));

    /* too long: the first cap bytes are kept, wherever the stream is cut */
    uint8_t big[40];
    memset(big, 0x41, sizeof big);
    big[39] = DK_SLIP_END;
    dk_slip_dec_init(&d, buf, sizeof buf);
    assert_true(dk_slip_dec_next(&d, big, sizeof big, &u, &ev));
    assert_int_equal(u, 40);
    assert_int_equal(ev.kind, DK_SLIP_TOO_LONG);
    assert_int_equal(ev.len, 16);
    assert_int_equal(ev.raw_len, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_escapes),
        cmocka_unit_test(test_round_trip_split_everywhere),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_bad_escape),
        cmocka_unit_test(test_device_mode_esc_end),
        cmocka_unit_test(test_empty_frames_and_first),
        cmocka_unit_test(test_too_long_bounded),
        cmocka_unit_test(test_unterminated_flush),
        cmocka_unit_test(test_positions_and_reset),
        cmocka_unit_test(test_pull_contract),
        cmocka_unit_test(test_pull_random_chunks),
        cmocka_unit_test(test_pull_block_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
