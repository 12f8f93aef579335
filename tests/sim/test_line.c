/* test_line.c - the line model (sim/line.h) on a virtual clock: no pty, no
 * wall clock, byte/time scripts in, events out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/slip.h"
#include "line.h"

#define MS 1000000ull
#define ERASE_NS (85 * MS)
#define WORD_NS 41000ull

typedef struct {
    int requests, overruns, glued, empty, notes, lost_answers;
    uint8_t ops[64];
    size_t lens[64];
    uint64_t t_first_write, t_last;
    char text[2048];
} outcome;

/* A data CREATE of 4096 and n WRITEs of 64 bytes, SLIP-encoded. */
static size_t burst(uint8_t *out, int n)
{
    uint8_t req[65] = { 0x01, 0x02, 0x00, 0x10, 0x00, 0x00 };
    size_t len = dk_slip_encode(req, 6, out);
    for (int k = 0; k < n; k++) {
        req[0] = 0x08;
        for (int i = 1; i < 65; i++)
            req[i] = (uint8_t)(k * 64 + i);
        len += dk_slip_encode(req, 65, out + len);
    }
    return len;
}

/* Run the model to the end as the SDK's main loop would: CREATE data erases
 * one page before its answer, WRITE writes len/4 words (no answer), others
 * answer at once.  The host's writes: (bytes, not_before) pairs. */
static void drive(ds_line *l, const uint8_t *const *chunks, const size_t *lens, const uint64_t *nb, int nchunks,
                  outcome *o)
{
    memset(o, 0, sizeof *o);
    int next = 0;
    ds_line_ev ev;
    for (int guard = 0; guard < 100000; guard++) {
        while (next < nchunks && ds_line_host_room(l) >= lens[next]) {
            ds_line_host_write(l, chunks[next], lens[next], nb[next]);
            next++;
        }
        ds_lev k = ds_line_next(l, UINT64_MAX, &ev);
        if (k == DS_LEV_NONE)
            break;
        o->t_last = ev.t;
        if (k == DS_LEV_NOTE) {
            o->notes++;
            strncat(o->text, ev.text, sizeof o->text - strlen(o->text) - 2);
            strcat(o->text, "\n");
            continue;
        }
        if (k == DS_LEV_OVERRUN) {
            o->overruns++;
            ds_line_reset(l, ev.t);
            ds_line_ready(l);
            continue;
        }
        if (o->requests < 64) {
            o->ops[o->requests] = ev.req[0];
            o->lens[o->requests] = ev.req_len;
        }
        o->requests++;
        o->glued += ev.glued;
        o->empty += ev.empty;
        bool lost = false;
        if (ev.req[0] == 0x01 && ev.req_len >= 2 && ev.req[1] == 0x02)
            ds_line_halt(l, 1, ERASE_NS);
        if (ev.req[0] == 0x08 && !ev.empty) {
            if (!o->t_first_write)
                o->t_first_write = ev.t;
            ds_line_halt(l, (uint32_t)(ev.payload_len / 4), WORD_NS);
        } else {
            ds_line_answer(l, 4, &lost);
        }
        o->lost_answers += lost;
        ds_line_done(l, true);
    }
}

static ds_line *make(uint32_t baud, bool hwfc, bool host_fc)
{
    ds_line_cfg c;
    ds_line_cfg_default(&c, DS_LINK_UART, baud);
    c.chip_hwfc = hwfc;
    ds_line *l = ds_line_new(&c);
    assert_non_null(l);
    ds_line_set_host_rtscts(l, host_fc);
    return l;
}

/* The burst the host writes without waiting for CREATE's answer. */
static void run_burst(uint32_t baud, bool hwfc, bool host_fc, outcome *o)
{
    static uint8_t b[2048];
    size_t n = burst(b, 8);
    const uint8_t *ch[] = { b };
    size_t ln[] = { n };
    uint64_t nb[] = { 0 };
    ds_line *l = make(baud, hwfc, host_fc);
    drive(l, ch, ln, nb, 1, o);
    ds_line_free(l);
}

static void burst_no_flow_overruns(void **state)
{
    (void)state;
    outcome o;
    run_burst(115200, true, false, &o);
    assert_int_equal(o.overruns, 1);
    assert_int_equal(o.ops[0], 0x01); /* the CREATE was taken */
}

static void burst_rtscts_keeps_all(void **state)
{
    (void)state;
    outcome o;
    run_burst(115200, true, true, &o);
    assert_int_equal(o.overruns, 0);
    assert_int_equal(o.glued, 0);
    assert_int_equal(o.requests, 9);
    for (int i = 1; i < 9; i++) {
        assert_int_equal(o.ops[i], 0x08);
        assert_int_equal(o.lens[i], 65);
    }
    /* the WRITEs waited for the erase: the first ends after it */
    assert_true(o.t_first_write >= ERASE_NS);
}

/* The host's RTS/CTS means nothing when the chip does not drive RTS. */
static void burst_chip_without_hwfc(void **state)
{
    (void)state;
    outcome o;
    run_burst(115200, false, true, &o);
    assert_int_equal(o.overruns, 1);
}

/* The same frames, written after CREATE's answer: all kept, at any speed. */
static void after_answer_keeps_all(void **state)
{
    (void)state;
    uint32_t bauds[] = { 115200, 1000000 };
    for (int b = 0; b < 2; b++) {
        static uint8_t buf[2048];
        size_t n = burst(buf, 8);
        size_t c = dk_slip_encode((const uint8_t[]){ 0x01, 0x02, 0x00, 0x10, 0, 0 }, 6, buf);
        const uint8_t *ch[] = { buf, buf + c };
        size_t ln[] = { c, n - c };
        /* the answer's end: CREATE arrives, 85 ms erase, 5 bytes back */
        ds_line *l = make(bauds[b], true, false);
        uint64_t byte = ds_line_byte_ns(l);
        uint64_t nb[] = { 0, c * byte + ERASE_NS + 5 * byte };
        outcome o;
        drive(l, ch, ln, nb, 2, &o);
        assert_int_equal(o.overruns, 0);
        assert_int_equal(o.glued, 0);
        assert_int_equal(o.requests, 9);
        ds_line_free(l);
    }
}

/* Same script, same events: twice through fresh models. */
static void deterministic(void **state)
{
    (void)state;
    outcome a, b;
    run_burst(115200, true, false, &a);
    run_burst(115200, true, false, &b);
    assert_memory_equal(&a, &b, sizeof a);
}

/* WRITEs back to back at a speed the main loop cannot follow: the third
 * frame finds no RX block and the next is glued onto it (§14.1). */
static void glue_when_main_loop_lags(void **state)
{
    (void)state;
    static uint8_t b[4096];
    size_t n = 0;
    uint8_t req[65] = { 0x08 };
    for (int k = 0; k < 6; k++)
        n += dk_slip_encode(req, 65, b + n);
    ds_line *l = make(1000000, true, false);
    ds_line_host_write(l, b, n, 0);
    ds_line_ev ev;
    int reqs = 0, glued = 0, notes = 0;
    for (;;) {
        ds_lev k = ds_line_next(l, UINT64_MAX, &ev);
        if (k == DS_LEV_NONE)
            break;
        if (k == DS_LEV_NOTE) {
            notes++;
            continue;
        }
        assert_int_equal(k, DS_LEV_REQUEST);
        reqs++;
        glued += ev.glued;
        ds_line_halt(l, 100, 50000); /* a slow main loop: 5 ms of halts too short to overrun */
        ds_line_done(l, true);
    }
    assert_true(glued >= 1);
    assert_true(notes >= 1);
    assert_true(reqs < 6);
    ds_line_free(l);
}

/* Empty frames (§14.4): first PROTOCOL_VERSION from zeroed RAM, then the
 * previous request again, with payload length 0xFFFF. */
static void empty_frame(void **state)
{
    (void)state;
    ds_line *l = make(115200, true, false);
    const uint8_t end = 0xC0, ping[] = { 0x09, 0x42, 0xC0 };
    ds_line_ev ev;
    ds_line_host_write(l, &end, 1, 0);
    assert_int_equal(ds_line_next(l, UINT64_MAX, &ev), DS_LEV_REQUEST);
    assert_true(ev.empty);
    assert_int_equal(ev.req[0], 0x00);
    assert_int_equal(ev.payload_len, 0xFFFF);
    ds_line_done(l, true);
    ds_line_host_write(l, ping, 3, 0);
    assert_int_equal(ds_line_next(l, UINT64_MAX, &ev), DS_LEV_REQUEST);
    assert_false(ev.empty);
    assert_int_equal(ev.req_len, 2);
    ds_line_done(l, true);
    ds_line_host_write(l, &end, 1, 0);
    assert_int_equal(ds_line_next(l, UINT64_MAX, &ev), DS_LEV_REQUEST);
    assert_true(ev.empty);
    assert_int_equal(ev.req[0], 0x09);
    assert_int_equal(ev.req[1], 0x42);
    ds_line_done(l, true);
    ds_line_free(l);
}

/* Byte pacing: 10 bits a byte; nothing before not_before. */
static void pacing(void **state)
{
    (void)state;
    ds_line *l = make(115200, true, false);
    const uint8_t ping[] = { 0x09, 0x01, 0xC0 };
    ds_line_ev ev;
    ds_line_host_write(l, ping, 3, 5 * MS);
    assert_int_equal(ds_line_next(l, 5 * MS, &ev), DS_LEV_NONE);
    assert_int_equal(ds_line_next(l, UINT64_MAX, &ev), DS_LEV_REQUEST);
    assert_int_equal(ev.t, 5 * MS + 3 * ds_line_byte_ns(l));
    bool lost;
    uint64_t end = ds_line_answer(l, 5, &lost);
    assert_false(lost);
    assert_int_equal(end, ev.t + 5 * ds_line_byte_ns(l));
    /* a second answer at once collides (§14.5) */
    ds_line_answer(l, 5, &lost);
    assert_true(lost);
    ds_line_done(l, true);
    ds_line_free(l);
}

/* A halt shorter than the FIFO's worth of bytes loses nothing; bytes that
 * arrive while the chip is deaf (booting) are lost. */
static void word_halts_and_deaf(void **state)
{
    (void)state;
    outcome o;
    static uint8_t b[2048];
    size_t n = burst(b, 8) ;
    size_t c = dk_slip_encode((const uint8_t[]){ 0x01, 0x02, 0x00, 0x10, 0, 0 }, 6, b);
    const uint8_t *ch[] = { b + c };
    size_t ln[] = { n - c };
    uint64_t nb[] = { 0 };
    ds_line *l = make(1000000, true, false);
    drive(l, ch, ln, nb, 1, &o); /* WRITEs only, 16 x 41 us each at 1 Mbaud */
    assert_int_equal(o.overruns, 0);
    assert_int_equal(o.requests, 8);
    ds_line_reset(l, o.t_last);
    ds_line_host_write(l, b, 10, 0);
    ds_line_ev ev;
    assert_int_equal(ds_line_next(l, UINT64_MAX, &ev), DS_LEV_NONE);
    ds_line_stats st;
    ds_line_get_stats(l, &st);
    assert_int_equal(st.lost_deaf, 10);
    ds_line_free(l);
}

/* USB: no line time, frames handled one at a time, nothing glued. */
static void usb(void **state)
{
    (void)state;
    ds_line_cfg c;
    ds_line_cfg_default(&c, DS_LINK_USB, 0);
    assert_int_equal(c.mtu, 2051);
    ds_line *l = ds_line_new(&c);
    assert_non_null(l);
    static uint8_t b[2048];
    size_t n = burst(b, 8);
    const uint8_t *ch[] = { b };
    size_t ln[] = { n };
    uint64_t nb[] = { 0 };
    outcome o;
    drive(l, ch, ln, nb, 1, &o);
    assert_int_equal(o.requests, 9);
    assert_int_equal(o.overruns, 0);
    assert_int_equal(o.glued, 0);
    assert_int_equal(ds_line_byte_ns(l), 0);
    ds_line_free(l);
}

static void bad_config(void **state)
{
    (void)state;
    ds_line_cfg c;
    ds_line_cfg_default(&c, DS_LINK_UART, 115200);
    c.rx_blocks = 0;
    assert_null(ds_line_new(&c));
    ds_line_cfg_default(&c, DS_LINK_UART, 115200);
    c.fifo = 2;
    assert_null(ds_line_new(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_no_flow_overruns), cmocka_unit_test(burst_rtscts_keeps_all),
        cmocka_unit_test(burst_chip_without_hwfc), cmocka_unit_test(after_answer_keeps_all),
        cmocka_unit_test(deterministic),         cmocka_unit_test(glue_when_main_loop_lags),
        cmocka_unit_test(empty_frame),           cmocka_unit_test(pacing),
        cmocka_unit_test(word_halts_and_deaf),   cmocka_unit_test(usb),
        cmocka_unit_test(bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
