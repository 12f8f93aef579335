/* test_units.c - dd_units (the decoder's fast SLIP path) must cut any byte
 * stream, in any chunks, into exactly the units lib's dk_slip_dec reports
 * when fed one byte at a time: same kinds, bytes, positions, "first" flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoder.h"
#include "dfukit/crc.h"
#include "dfukit/slip.h"

#define MAXU 4096

typedef struct {
    dk_slip_kind kind;
    size_t len;
    uint32_t crc; /* of the decoded bytes */
    uint64_t start, end;
    bool first;
} unit;

typedef struct {
    unit *u;
    int n;
} units;

static void add(units *us, const dk_slip_event *ev)
{
    assert_true(us->n < MAXU);
    unit *u = &us->u[us->n++];
    u->kind = ev->kind;
    u->len = ev->kind == DK_SLIP_FRAME ? ev->len : 0;
    u->crc = dk_crc32(0, ev->data, u->len);
    u->start = ev->start;
    u->end = ev->end;
    u->first = ev->first;
}

static void on_ref(void *ctx, const dk_slip_event *ev)
{
    add(ctx, ev);
}

/* The reference: dk_slip_dec, one byte at a time. */
static void reference(const uint8_t *b, size_t n, uint64_t pos0, units *out)
{
    static uint8_t buf[DD_FRAME_CAP];
    dk_slip_dec d;
    dk_slip_dec_init(&d, buf, sizeof buf);
    dk_slip_dec_set_pos(&d, pos0);
    for (size_t i = 0; i < n; i++)
        dk_slip_dec_feed(&d, b + i, 1, on_ref, out);
    dk_slip_dec_flush(&d, on_ref, out);
}

/* dd_units, the stream cut into chunks of random sizes (1..max). */
static void cut(const uint8_t *b, size_t n, uint64_t pos0, size_t max, unsigned *seed, units *out)
{
    dd_units *du = dd_units_new();
    assert_non_null(du);
    dd_unit un;
    size_t at = 0;
    while (at < n) {
        size_t k = 1 + (size_t)rand_r(seed) % max;
        if (k > n - at)
            k = n - at;
        dd_units_put(du, 5, DK_DIR_HOST, b + at, k, pos0 + at);
        while (dd_units_next(du, &un)) {
            assert_int_equal(un.dir, DK_DIR_HOST);
            add(out, &un.ev);
        }
        at += k;
    }
    while (dd_units_flush(du, &un))
        add(out, &un.ev);
    dd_units_free(du);
}

static void same(const units *a, const units *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        const unit *x = &a->u[i], *y = &b->u[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->len, y->len);
        assert_int_equal(x->crc, y->crc);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->first, y->first);
    }
}

/* Frames of random bytes (many escapes), with bad escapes, empty frames,
 * frames just at and over the limit, and garbage without END at the end. */
static size_t make_stream(uint8_t *b, size_t cap, unsigned *seed)
{
    static uint8_t payload[DD_FRAME_CAP + 2];
    size_t n = 0;
    while (n + 2 * sizeof payload + 8 < cap) {
        int kind = rand_r(seed) % 20;
        size_t len;
        if (kind == 0) {
            len = DD_FRAME_CAP - 1 + (size_t)(rand_r(seed) % 3); /* limit -1, at, +1 */
        } else if (kind == 1) {
            b[n++] = DK_SLIP_END; /* empty frame */
            continue;
        } else if (kind == 2) {
            b[n++] = DK_SLIP_ESC; /* bad escape */
            b[n++] = (uint8_t)(rand_r(seed) % 2 ? 0x41 : DK_SLIP_END);
            continue;
        } else {
            len = 1 + (size_t)(rand_r(seed) % 80);
        }
        for (size_t i = 0; i < len; i++) {
            int r = rand_r(seed) % 16;
            payload[i] = r == 0 ? DK_SLIP_END : r == 1 ? DK_SLIP_ESC : (uint8_t)rand_r(seed);
        }
        n += dk_slip_encode(payload, len, b + n);
    }
    for (int i = 0; i < 5; i++) /* unterminated tail */
        b[n++] = (uint8_t)(i == 2 ? DK_SLIP_ESC : i == 3 ? DK_SLIP_ESC_END : 0x33);
    return n;
}

static void random_streams(void **state)
{
    (void)state;
    size_t cap = 1 << 18;
    uint8_t *b = malloc(cap);
    units ref = { calloc(MAXU, sizeof(unit)), 0 }, got = { calloc(MAXU, sizeof(unit)), 0 };
    assert_non_null(b);
    assert_non_null(ref.u);
    assert_non_null(got.u);
    static const size_t maxes[] = { 1, 2, 3, 7, 16, 17, 64, 100, 4096, 1 << 18 };
    for (unsigned s = 1; s <= 6; s++) {
        unsigned seed = s;
        size_t n = make_stream(b, cap, &seed);
        ref.n = 0;
        reference(b, n, 1000, &ref);
        assert_true(ref.n > 100);
        for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
            got.n = 0;
            cut(b, n, 1000, maxes[m], &seed, &got);
            same(&ref, &got);
        }
    }
    free(b);
    free(ref.u);
    free(got.u);
}

/* Capture starting mid-frame: the first unit is "first", later ones not. */
static void first_flag(void **state)
{
    (void)state;
    static const uint8_t b[] = { 0x44, 0x01, DK_SLIP_END, 0x09, 0x01, DK_SLIP_END };
    units ref = { calloc(8, sizeof(unit)), 0 }, got = { calloc(8, sizeof(unit)), 0 };
    reference(b, sizeof b, 0, &ref);
    unsigned seed = 1;
    cut(b, sizeof b, 0, sizeof b, &seed, &got);
    same(&ref, &got);
    assert_int_equal(got.n, 2);
    assert_true(got.u[0].first);
    assert_false(got.u[1].first);
    assert_int_equal(got.u[1].start, 3);
    assert_int_equal(got.u[1].end, 6);
    free(ref.u);
    free(got.u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_streams),
        cmocka_unit_test(first_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
