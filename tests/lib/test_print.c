/* test_print.c - the text printer (print.h) builds its lines by hand: every
 * message must read as dk_msg_describe() words it, and every time stamp and
 * latency as printf's "%.6f" / "%.3f" would print it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/msg.h"
#include "dfukit/session.h"
#include "dfukit/print.h"

typedef struct {
    FILE *f;
    char *buf;
    size_t len;
    dk_printer *p;
} out;

static void out_open(out *o, bool split)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    assert_non_null(o->f);
    dk_print_opts po = { .split = split };
    o->p = dk_printer_new(o->f, &po);
    assert_non_null(o->p);
}

/* What the printer wrote since the last call, NUL-terminated. */
static char *out_take(out *o)
{
    fflush(o->f);
    char *s = strdup(o->buf ? o->buf : "");
    fclose(o->f);
    free(o->buf);
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    assert_non_null(o->f);
    dk_printer_out(o->p, o->f); /* the printer keeps its state (time origin) */
    return s;
}

static void out_close(out *o)
{
    dk_printer_free(o->p);
    fclose(o->f);
    free(o->buf);
}

static dk_event exchange(const dk_msg *req, const dk_msg *rsp)
{
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_EXCHANGE;
    ev.t_us = -1;
    dk_exchange *x = &ev.u.x;
    x->t_req = x->t_rsp = -1;
    x->latency_us = -1;
    if (req) {
        x->has_req = true;
        x->req = *req;
        ev.dir = DK_DIR_HOST;
    }
    if (rsp) {
        x->has_rsp = true;
        x->rsp = *rsp;
        x->rsp_start = 7;
        ev.dir = req ? DK_DIR_HOST : DK_DIR_TARGET;
    }
    return ev;
}

static const uint8_t ops[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                               0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x42, 0x60, 0xFF };

static void fill(dk_msg *m, uint32_t k)
{
    m->req.create.type = (uint8_t)(k % 4);
    m->req.create.size = 4096 + k;
    m->req.prn.target = (uint16_t)(k * 3);
    m->req.write.len = k * 7;
    m->rsp.crc.offset = 123456 + k;
    m->rsp.crc.crc = 0xdeadbeef ^ k;
}

/* Requests alone: "@0           --> DESCRIBE  (no response[ expected])". */
static void requests(void **state)
{
    (void)state;
    out o;
    out_open(&o, false);
    for (size_t i = 0; i < sizeof ops; i++) {
        for (uint32_t k = 0; k < 6; k++) {
            dk_msg m = dk_msg_request(ops[i]);
            fill(&m, k);
            if (ops[i] == DK_OP_OBJECT_SELECT)
                m.req.select.type = (uint8_t)k;
            if (ops[i] == DK_OP_PING)
                m.req.ping.id = (uint8_t)(k * 50);
            if (ops[i] == DK_OP_FIRMWARE_VERSION)
                m.req.fw.image = (uint8_t)k;
            dk_event ev = exchange(&m, NULL);
            dk_printer_event(o.p, &ev);
            char d[256], want[400];
            dk_msg_describe(&m, d, sizeof d);
            snprintf(want, sizeof want, "@0           --> %s  %s\n", d,
                     dk_msg_expects_response(m.op) ? "(no response)" : "(no response expected)");
            char *got = out_take(&o);
            assert_string_equal(got, want);
            free(got);
        }
    }
    out_close(&o);
}

/* Responses alone ("<-- OP -> ...") and after a request ("<-- ..." without
 * "OP -> "), every result, extended errors, every success payload. */
static void responses(void **state)
{
    (void)state;
    static const uint8_t results[] = { 0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x0A, 0x0B, 0x33 };
    static const uint8_t fw_types[] = { 0, 1, 2, 3, 0x7E, 0xFF };
    out o;
    out_open(&o, false);
    for (size_t i = 0; i < sizeof ops; i++) {
        for (size_t r = 0; r < sizeof results; r++) {
            for (size_t k = 0; k < sizeof fw_types; k++) {
                dk_msg m = dk_msg_response(ops[i], results[r]);
                fill(&m, (uint32_t)k);
                m.has_ext = results[r] == DK_RES_EXT_ERROR;
                m.ext = (uint8_t)(k * 3 + 1);
                m.rsp.proto.version = (uint8_t)k;
                m.rsp.select.max_size = 4096;
                m.rsp.select.offset = (uint32_t)k * 1000;
                m.rsp.select.crc = 0x00000000u + (uint32_t)k;
                m.rsp.mtu.mtu = (uint16_t)(131 + k);
                m.rsp.ping.id = (uint8_t)k;
                if (ops[i] == DK_OP_HARDWARE_VERSION) {
                    m.rsp.hw.part = 0x52840;
                    m.rsp.hw.variant = 0x41414141;
                    m.rsp.hw.rom_size = 1u << 20;
                    m.rsp.hw.ram_size = 256 * 1024;
                    m.rsp.hw.rom_page_size = 4096;
                }
                if (ops[i] == DK_OP_FIRMWARE_VERSION) {
                    m.rsp.fw.type = fw_types[k];
                    m.rsp.fw.version = 7;
                    m.rsp.fw.addr = 0x27000;
                    m.rsp.fw.len = 0xFFFFFFFFu;
                }
                char d[256], want[400];
                dk_msg_describe(&m, d, sizeof d);

                dk_event ev = exchange(NULL, &m);
                dk_printer_event(o.p, &ev);
                snprintf(want, sizeof want, "@7           <-- %s\n", d);
                char *got = out_take(&o);
                assert_string_equal(got, want);
                free(got);

                dk_msg q = dk_msg_request(ops[i]);
                ev = exchange(&q, &m);
                dk_printer_event(o.p, &ev);
                char qd[256];
                dk_msg_describe(&q, qd, sizeof qd);
                const char *tail = strstr(d, " -> ");
                assert_non_null(tail);
                snprintf(want, sizeof want, "@0           --> %s  <-- %s\n", qd, tail + 4);
                got = out_take(&o);
                assert_string_equal(got, want);
                free(got);
            }
        }
    }
    out_close(&o);
}

/* Time stamps ("%11s" of "%.6f" seconds since the first) and latencies
 * ("(%.3f ms)"), from integer microseconds. */
static void times(void **state)
{
    (void)state;
    static const int64_t ts[] = { 0, 1, 9, 10, 999999, 1000000, 1000001, 36843315, 59999999999,
                                  123456789012, -1, -999999, -1000000, -36843315 };
    static const int64_t lat[] = { 0, 1, 499, 500, 999, 1000, 1001, 1250430, 9999999 };
    const int64_t t0 = 1700000000000000;
    out o;
    out_open(&o, false);
    dk_msg q = dk_msg_request(DK_OP_PING), a = dk_msg_response(DK_OP_PING, DK_RES_SUCCESS);
    dk_event ev = exchange(&q, &a);
    ev.u.x.t_req = t0; /* sets the time origin */
    dk_printer_event(o.p, &ev);
    free(out_take(&o));
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        for (size_t j = 0; j < sizeof lat / sizeof lat[0]; j++) {
            ev.u.x.t_req = t0 + ts[i];
            ev.u.x.latency_us = lat[j];
            dk_printer_event(o.p, &ev);
            char num[40], want[200];
            snprintf(num, sizeof num, "%.6f", (double)ts[i] / 1e6);
            snprintf(want, sizeof want, "%11s  --> PING id=0  <-- SUCCESS id=0  (%.3f ms)\n", num,
                     (double)lat[j] / 1000.0);
            char *got = out_take(&o);
            assert_string_equal(got, want);
            free(got);
        }
    }
    out_close(&o);
}

/* Two one-line files: the position says which file it is in. */
static void split_positions(void **state)
{
    (void)state;
    out o;
    out_open(&o, true);
    dk_msg q = dk_msg_request(DK_OP_OBJECT_EXECUTE), a = dk_msg_response(DK_OP_OBJECT_EXECUTE, 1);
    dk_event ev = exchange(&q, &a);
    ev.u.x.req_start = 6350;
    dk_printer_event(o.p, &ev);
    ev = exchange(NULL, &a);
    ev.u.x.rsp_start = 103;
    dk_printer_event(o.p, &ev);
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_IMAGE;
    ev.t_us = -1;
    ev.dir = DK_DIR_TARGET;
    ev.start = 103;
    ev.u.img.index = 1;
    ev.u.img.done = true;
    ev.u.img.size = 6000;
    dk_printer_event(o.p, &ev);
    char *got = out_take(&o);
    assert_string_equal(got, "@h6350       --> OBJECT_EXECUTE  <-- SUCCESS\n"
                             "@t103        <-- OBJECT_EXECUTE -> SUCCESS\n"
                             "@t103        == image 1 complete: type unknown, 6000 bytes, crc=0x00000000\n");
    free(got);
    out_close(&o);
}

/* The longest anomaly text comes out whole. */
static void long_anomaly(void **state)
{
    (void)state;
    out o;
    out_open(&o, false);
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_ANOMALY;
    ev.t_us = -1;
    ev.start = ev.u.an.start = 18446744073709551615ull;
    ev.end = ev.u.an.end = 18446744073709551615ull;
    ev.u.an.id = DK_AN_SLIP_NOISE;
    ev.u.an.severity = DK_SEV_WARN;
    memset(ev.u.an.text, 'x', sizeof ev.u.an.text - 1);
    dk_printer_event(o.p, &ev);
    char want[600];
    snprintf(want, sizeof want,
             "@18446744073709551615  !! warning slip.noise: %s [bytes 18446744073709551615..18446744073709551615]\n",
             ev.u.an.text);
    char *got = out_take(&o);
    assert_string_equal(got, want);
    free(got);
    out_close(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requests),
        cmocka_unit_test(responses),
        cmocka_unit_test(times),
        cmocka_unit_test(split_positions),
        cmocka_unit_test(long_anomaly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
