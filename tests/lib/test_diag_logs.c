/* test_diag_logs.c - every diagnosis row reached from a log: small nrfutil
 * -vvvv / Programmer logs written here, read by logread, tracked by the
 * session, judged with the facts (diag.h).  The signatures issue 5 names
 * have full sample logs in captures/logs/ (tests/repro); this file gives the
 * others a log too, and checks that together the two reach every row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/diag.h"
#include "dfukit/initpkt.h"
#include "dfukit/logread.h"
#include "dfukit/session.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"

/* ---- writing a log ------------------------------------------------------- */

typedef struct {
    char b[1 << 16];
    size_t n;
    unsigned ms;
} logbuf;

static void add(logbuf *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(logbuf *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->b + l->n, sizeof l->b - l->n, fmt, ap);
    va_end(ap);
    assert_true(k > 0 && (size_t)k < sizeof l->b - l->n);
    l->n += (size_t)k;
}

/* "SLIP: --> [..]" (host) or "SLIP: <-- [..]" (target), 1 ms apart */
static void msg(logbuf *l, bool host, const uint8_t *p, size_t n)
{
    l->ms++;
    add(l, "2024-05-14 10:00:%02u,%03u SLIP: %s [", 1 + l->ms / 1000, l->ms % 1000, host ? "-->" : "<--");
    for (size_t i = 0; i < n; i++)
        add(l, i ? ", %u" : "%u", p[i]);
    add(l, "]\n");
}

#define TX(l, ...)                                                                                 \
    do {                                                                                           \
        const uint8_t m_[] = { __VA_ARGS__ };                                                      \
        msg(l, true, m_, sizeof m_);                                                               \
    } while (0)
#define RX(l, ...)                                                                                 \
    do {                                                                                           \
        const uint8_t m_[] = { 0x60, __VA_ARGS__ };                                                \
        msg(l, false, m_, sizeof m_);                                                              \
    } while (0)

static void connect_(logbuf *l)
{
    TX(l, 0x09, 0x01);
    RX(l, 0x09, 0x01, 0x01);
    TX(l, 0x02, 0x00, 0x00);
    RX(l, 0x02, 0x01);
    TX(l, 0x07);
    RX(l, 0x07, 0x01, 0x83, 0x00);
}

/* SELECT, CREATE, WRITE(s) and CRC_GET of a real unsigned init packet for a
 * 8192-byte app; the EXECUTE is the caller's */
static void init_object(logbuf *l)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_plain = p.has_op_code = p.has_init = true;
    p.op_code = 1;
    p.init.has_fw_version = p.init.has_hw_version = p.init.has_type = p.init.has_app_size = true;
    p.init.fw_version = 2;
    p.init.hw_version = 52;
    p.init.type = DK_FW_APPLICATION;
    p.init.app_size = 8192;
    p.init.has_hash = true;
    p.init.hash_type = DK_HASH_SHA256;
    p.init.hash_len = 32;
    uint8_t dat[256], w[1 + 64];
    size_t n = dk_initpkt_encode(&p, dat, sizeof dat);
    assert_true(n > 0 && n <= 64);
    TX(l, 0x06, 0x01);
    RX(l, 0x06, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    TX(l, 0x01, 0x01, (uint8_t)n, 0, 0, 0);
    RX(l, 0x01, 0x01);
    w[0] = 0x08;
    memcpy(w + 1, dat, n);
    msg(l, true, w, n + 1);
}

static void execute_ok(logbuf *l)
{
    TX(l, 0x04);
    RX(l, 0x04, 0x01);
}

/* ---- reading it: logread -> session + facts -> diagnosis --------------- */

typedef struct {
    dk_session *s;
    dk_diag_facts f;
    dk_summary sum;
    dk_slip_dec dec[3];
    uint8_t buf[3][512];
} judge;

static void on_event(void *ctx, const dk_event *ev)
{
    judge *j = ctx;
    dk_diag_facts_event(&j->f, ev);
    if (ev->kind == DK_EV_SUMMARY)
        j->sum = *ev->u.sum;
}

typedef struct {
    judge *j;
    int64_t t;
    dk_dir dir;
} slip_ctx;

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    slip_ctx *c = ctx;
    dk_session_slip(c->j->s, ev, c->t, c->dir);
}

static void on_record(void *ctx, const dk_logrec *r)
{
    judge *j = ctx;
    switch (r->kind) {
    case DK_LR_MSG:
        dk_session_frame(j->s, r->data, r->len, false, r->t_us, r->dir, r->off, r->off + r->line_len);
        break;
    case DK_LR_RAW: {
        slip_ctx c = { j, r->t_us, r->dir };
        dk_slip_dec_feed(&j->dec[r->dir], r->data, r->len, on_slip, &c);
        break;
    }
    case DK_LR_TOOL:
        dk_diag_facts_tool(&j->f, r->tool);
        break;
    default:
        if (r->text)
            dk_diag_facts_text(&j->f, r->text, r->text_len);
        break;
    }
}

static const char *picked[128];
static unsigned n_picked;

static void diagnose(const logbuf *l, const char *want)
{
    judge *j = calloc(1, sizeof *j);
    assert_non_null(j);
    dk_diag_facts_init(&j->f);
    for (int i = 0; i < 3; i++)
        dk_slip_dec_init(&j->dec[i], j->buf[i], sizeof j->buf[i]);
    j->s = dk_session_new(on_event, j);
    dk_logrd *r = dk_logrd_new(DK_LOG_AUTO, 0);
    assert_non_null(r);
    dk_logrd_feed(r, (const uint8_t *)l->b, l->n, on_record, j);
    dk_err e;
    assert_int_equal(dk_logrd_finish(r, on_record, j, &e), DK_OK);
    dk_logrd_free(r);
    dk_session_finish(j->s);
    const dk_diag_row *d = dk_diag_pick_facts(&j->sum, &j->f);
    if (strcmp(d->id, want) != 0)
        fail_msg("log diagnosed %s, expected %s:\n%.*s", d->id, want, (int)l->n, l->b);
    bool seen = false;
    for (unsigned i = 0; i < n_picked; i++)
        seen |= strcmp(picked[i], d->id) == 0;
    if (!seen && n_picked < 128)
        picked[n_picked++] = d->id;
    dk_session_free(j->s);
    free(j);
}

/* ---- the rows ------------------------------------------------------------ */

static void init_errors(void **state)
{
    (void)state;
    static const struct { uint8_t res, ext; const char *id; } cases[] = {
        { 0x0B, 0x04, "init.invalid" },         { 0x0B, 0x09, "init.hash_type" },
        { 0x05, 0, "init.invalid_object" },     { 0x04, 0, "init.no_room" },
        { 0x0A, 0, "init.operation_failed" },   { 0x08, 0, "init.rejected" },
        { 0x0B, 0x07, "init.sd_req" },          { 0x0B, 0x05, "init.fw_version" },
        { 0x0B, 0x06, "init.hw_version" },      { 0x0B, 0x08, "init.signature_missing" },
        { 0x0B, 0x0B, "init.signature_type" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static logbuf l;
        memset(&l, 0, sizeof l);
        connect_(&l);
        init_object(&l);
        TX(&l, 0x04);
        if (cases[i].res == 0x0B)
            RX(&l, 0x04, 0x0B, cases[i].ext);
        else
            RX(&l, 0x04, cases[i].res);
        diagnose(&l, cases[i].id);
    }
}

static void data_errors(void **state)
{
    (void)state;
    static logbuf l;
    /* a data object before the init packet was executed: 0x08 (§6.4) */
    memset(&l, 0, sizeof l);
    connect_(&l);
    init_object(&l);
    TX(&l, 0x01, 0x02, 0x00, 0x10, 0x00, 0x00);
    RX(&l, 0x01, 0x08);
    diagnose(&l, "data.before_init");
    /* data CREATE refused after a good init packet: the general row */
    memset(&l, 0, sizeof l);
    connect_(&l);
    init_object(&l);
    execute_ok(&l);
    TX(&l, 0x01, 0x02, 0x00, 0x10, 0x00, 0x00);
    RX(&l, 0x01, 0x04);
    diagnose(&l, "transfer.failed");
    /* CRC_GET reports none of the 64 bytes written, with the CRC of nothing */
    memset(&l, 0, sizeof l);
    connect_(&l);
    init_object(&l);
    execute_ok(&l);
    TX(&l, 0x01, 0x02, 0x00, 0x10, 0x00, 0x00);
    RX(&l, 0x01, 0x01);
    uint8_t w[65] = { 0x08, 1, 2, 3 };
    msg(&l, true, w, sizeof w);
    TX(&l, 0x03);
    RX(&l, 0x03, 0x01, 0, 0, 0, 0, 0, 0, 0, 0);
    diagnose(&l, "data.bytes_lost");
    /* the same with nrfutil -fc 0 on its command line: an overrun */
    static logbuf l2;
    memset(&l2, 0, sizeof l2);
    add(&l2, "$ nrfutil -vvvv dfu serial -pkg app.zip -p /dev/ttyUSB0 -fc 0\n");
    memcpy(l2.b + l2.n, l.b, l.n);
    l2.n += l.n;
    diagnose(&l2, "link.overrun");
    /* an answer to another request than the one waiting */
    memset(&l, 0, sizeof l);
    connect_(&l);
    TX(&l, 0x06, 0x01);
    RX(&l, 0x03, 0x01, 0, 0, 0, 0, 0, 0, 0, 0);
    diagnose(&l, "link.unexpected_response");
}

static void stops(void **state)
{
    (void)state;
    static logbuf l;
    /* stopped after the init packet's first write */
    memset(&l, 0, sizeof l);
    connect_(&l);
    init_object(&l);
    diagnose(&l, "transfer.interrupted_init");
    /* stopped after PING, PRN, MTU: no signature */
    memset(&l, 0, sizeof l);
    connect_(&l);
    diagnose(&l, "unknown");
    /* a target that never answers */
    memset(&l, 0, sizeof l);
    TX(&l, 0x09, 0x01);
    add(&l, "2024-05-14 10:00:02,000 Serial: No ping response\n");
    diagnose(&l, "link.no_answer");
}

static void host_and_programmer(void **state)
{
    (void)state;
    static logbuf l;
    memset(&l, 0, sizeof l);
    add(&l, "2024-05-14 10:00:00,000 Using board at serial port: /dev/ttyACM0\n");
    diagnose(&l, "log.incomplete");
    memset(&l, 0, sizeof l);
    add(&l, "> 12 34 56\n< 78 9a\n"); /* line bytes that hold no DFU message, no host text */
    diagnose(&l, "capture.empty");
    memset(&l, 0, sizeof l);
    add(&l, "Traceback (most recent call last):\n  File \"x.py\", line 1, in open\n"
            "pc_ble_driver_py.exceptions.NordicSemiException: Serial port could not be opened on "
            "/dev/ttyUSB0. Reason: the moon was in the way\n");
    diagnose(&l, "host.port");
    memset(&l, 0, sizeof l);
    add(&l, "Traceback (most recent call last):\n  File \"x.py\", line 1, in run\n"
            "pc_ble_driver_py.exceptions.NordicSemiException: Something nobody expected\n");
    diagnose(&l, "host.error");
    memset(&l, 0, sizeof l);
    add(&l, "2024-01-04T13:59:14.654Z ERROR Programming failed with error: Error: Failed. "
            "Errorcode: CouldNotProgram (0xb)\n");
    diagnose(&l, "programmer.failed");
    memset(&l, 0, sizeof l);
    add(&l, "2024-01-04T13:59:14.654Z ERROR Modem DFU failed with error: Error: Error occured when "
            "program. Errorcode: CouldNotConnectToDevice (0x8)\nLowlevel error: CANNOT_CONNECT "
            "(fffffff5)\n");
    diagnose(&l, "programmer.jlink");
}

/* The host's own words (diag_host.c): rows the field logs of captures/field
 * do not reach, and the byte no DFU bootloader sends. */
static void host_rows(void **state)
{
    (void)state;
    static logbuf l;
    const char *tb = "Traceback (most recent call last):\n"
                     "  File \"nordicsemi/__main__.py\", line 988, in do_serial\n";
    /* 0x41 to the first PING: not a desync, something else answered */
    memset(&l, 0, sizeof l);
    TX(&l, 0x09, 0x01);
    add(&l, "%s  File \"nordicsemi/dfu/dfu_transport_serial.py\", line 254, in __ping\n"
            "nordicsemi.exceptions.NordicSemiException: Unexpected Executed OP_CODE.\n"
            "Expected: 0x09 Received: 0x41\n", tb);
    diagnose(&l, "not_dfu.answer");
    /* the same with an opcode DFU knows, later on: a desync */
    memset(&l, 0, sizeof l);
    add(&l, "%snordicsemi.exceptions.NordicSemiException: Unexpected Executed OP_CODE.\n"
            "Expected: 0x01 Received: 0x04\n", tb);
    diagnose(&l, "link.desync");
    memset(&l, 0, sizeof l);
    add(&l, "C:\\fw>nrfutil dfu serial -pkg app.zip -p COM4\n%s"
            "  File \"nordicsemi\\dfu\\dfu_transport_serial.py\", line 180, in open\n"
            "serial.serialutil.SerialException: could not open port 'COM4': "
            "PermissionError(13, 'Access is denied.', None, 5)\n", tb);
    diagnose(&l, "port.busy");
    memset(&l, 0, sizeof l);
    add(&l, "$ nrfutil dfu ble -pkg app.zip -p /dev/ttyACM0 -n DfuTarg\n%s"
            "  File \"nordicsemi/dfu/dfu_transport_ble.py\", line 140, in open\n"
            "  File \"pc_ble_driver_py/ble_adapter.py\", line 240, in att_mtu_exchange\n"
            "pc_ble_driver_py.exceptions.NordicSemiException: Failed to "
            "ble_gattc_exchange_mtu_request. Error code: 8\n", tb);
    diagnose(&l, "ble.mtu");
    memset(&l, 0, sizeof l);
    add(&l, "$ nrfutil dfu ble -pkg app.zip -p /dev/ttyACM0 -n DfuTarg\n%s"
            "pc_ble_driver_py.exceptions.NordicSemiException: Timeout. Target device not found.\n", tb);
    diagnose(&l, "ble.timeout");
    memset(&l, 0, sizeof l);
    add(&l, "$ nrfutil dfu serial -pkg app.zip -p /dev/ttyACM0\n%s"
            "AttributeError: 'NoneType' object has no attribute 'read'\n", tb);
    diagnose(&l, "host.tool_bug");
    memset(&l, 0, sizeof l);
    add(&l, "$ nrfutil dfu serial -pkg app.zip -p /dev/ttyACM0\n%sKeyboardInterrupt\n", tb);
    diagnose(&l, "host.interrupted");
    memset(&l, 0, sizeof l);
    add(&l, "$ mcumgr --conntype serial --connstring /dev/ttyACM0 image upload app.bin\n"
            " 8.24 KiB / 276.19 KiB [==>----------------------------]   2.98%% 314 B/s\n"
            "Error: NMP timeout\n");
    diagnose(&l, "mcumgr.stalled");
}

/* The rows this file does not reach have a sample log of their own in
 * captures/logs/ (tests/repro/cases.txt), or, the legacy ones, a legacy
 * capture in captures/legacy/ (tests/golden/cases.txt): together, every row. */
static void every_row_has_a_log(void **state)
{
    (void)state;
    static const char *const in_samples[] = {
        "update.completed", "link.flow_control", "init.signature_invalid", "image.hash_mismatch", "link.inactivity",
        "link.desync", "resume.crc_boundary", "resume.new_init", "data.crc_mismatch",
        "transfer.interrupted", "programmer.jlink_busy", "ble.driver_mismatch",
        /* the field logs of captures/field (tests/field/golden/expected.tsv) */
        "programmer.timeout", "programmer.mcuboot_timeout", "programmer.usb_probe",
        "programmer.dfu_refused", "legacy.touch_no_port", "port.not_found", "port.permission",
        "port.access_lost", "port.vanished", "port.write_timeout", "legacy.ack_late",
        "package.invalid", "ble.connectivity_fw", "ble.adapter_lost", "link.garbled_answer",
        "legacy.no_ack_start", "legacy.no_ack_init", "legacy.no_ack_data", "link.init_corrupt",
        "nrfutil.no_port_crash", "mcumgr.tool_crash", "mcumgr.no_answer",
        "programmer.device_unknown", "ble.adapter_ready", "log.one_sided", "host.traceback",
        "log.no_transfer", "log.incomplete",
        /* captures/legacy/ */
        "legacy.stale_sequence", "legacy.init_device_type", "legacy.init_rejected",
        "legacy.start_refused", "legacy.validation_failed", "legacy.failed",
    };
    unsigned n = dk_diag_count();
    for (unsigned i = 0; i < n; i++) {
        const dk_diag_row *row = dk_diag_row_at(i);
        bool seen = false;
        for (unsigned k = 0; k < n_picked; k++)
            seen |= strcmp(picked[k], row->id) == 0;
        for (size_t k = 0; k < sizeof in_samples / sizeof in_samples[0]; k++)
            seen |= strcmp(in_samples[k], row->id) == 0;
        if (!seen)
            fail_msg("row %s has no log that reaches it", row->id);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_errors), cmocka_unit_test(data_errors),
        cmocka_unit_test(stops),       cmocka_unit_test(host_and_programmer),
        cmocka_unit_test(host_rows),
        cmocka_unit_test(every_row_has_a_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
