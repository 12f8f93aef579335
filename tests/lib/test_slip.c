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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
