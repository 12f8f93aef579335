/* test_scenario.c - reproduction scenarios: JSON round trip, every check of
 * dk_scen_validate and of the reader, and the builder fed real session events
 * for the failures issue 5 lists (protocol.md §5.2, §6.4-§6.9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/diag.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/rd.h"
#include "dfukit/scenario.h"
#include "dfukit/session.h"
#include "dfukit/tables.h"
#include "dk_test.h"

/* ---- JSON ---------------------------------------------------------------- */

static dk_scenario full(void)
{
    dk_scenario s;
    dk_scen_init(&s);
    snprintf(s.source.file, sizeof s.source.file, "x.log");
    snprintf(s.source.format, sizeof s.source.format, "nrfutil");
    snprintf(s.source.host, sizeof s.source.host, "nrfutil");
    snprintf(s.diagnosis, sizeof s.diagnosis, "resume.crc_boundary");
    snprintf(s.failure.outcome, sizeof s.failure.outcome, "failed");
    snprintf(s.failure.stage, sizeof s.failure.stage, "data");
    s.failure.op = 3;
    s.failure.image = 1;
    snprintf(s.failure.object, sizeof s.failure.object, "data");
    s.failure.offset = 12288;
    s.failure.size = 16000;
    snprintf(s.failure.host_error, sizeof s.failure.host_error, "Failed CRC validation.");
    snprintf(s.failure.host_error_kind, sizeof s.failure.host_error_kind, "crc");
    s.init.present = true;
    s.init.len = 5;
    memcpy(s.init.bytes, "\x12\x03\x08\x01\x10", 5);
    s.init.crc = dk_crc32(0, s.init.bytes, 5);
    s.init.bytes_known = true;
    s.device.softdevice = true;
    s.device.sd_fwid = 0x0100;
    s.device.app = true;
    s.device.app_size = 4000;
    s.device.app_version = 7;
    s.device.save_progress_in_flash = true;
    s.device.require_signature = true;
    snprintf(s.device.enter_dfu, sizeof s.device.enter_dfu, "first-boot");
    s.start.init = true;
    s.start.init_size = 5;
    s.start.init_crc = s.init.crc;
    s.start.init_bytes_known = true;
    memcpy(s.start.init_bytes, s.init.bytes, 5);
    s.start.data = true;
    s.start.data_offset = 8192;
    s.start.data_crc = 0xDEADBEEF;
    s.host.prn = 8;
    s.host.flow_control = 0;
    s.host.baud = 1000000;
    dk_scen_host_arg(&s, "--no-check");
    dk_scen_host_arg(&s, "--no-check"); /* once */
    s.line.realtime = true;
    s.line.baud = 2000000;
    dk_scen_fault(&s, "op=0x04#%d:delay-response=%d", 2, 1500);
    dk_scen_note(&s, "a note with \"quotes\"");
    return s;
}

static void round_trip(void **state)
{
    (void)state;
    dk_scenario a = full(), b;
    assert_int_equal(dk_scen_validate(&a, NULL), DK_OK);
    char *j = dk_scen_to_json(&a);
    assert_non_null(j);
    assert_true(strstr(j, "\"dfukit_scenario\": 1") != NULL);
    assert_true(strstr(j, "\"crc\": \"0xdeadbeef\"") != NULL);
    assert_true(strstr(j, "\"request\": \"CRC_GET\"") != NULL);
    assert_int_equal(j[strlen(j) - 1], '\n');
    dk_err e;
    assert_int_equal(dk_scen_from_json(j, strlen(j), &b, &e), DK_OK);
    assert_int_equal(a.host.n_dfuhost_args, 1);
    /* every field survives */
    assert_memory_equal(&a, &b, sizeof a);
    free(j);

    /* defaults: a scenario of nothing but the version */
    const char *min = "{\"dfukit_scenario\": 1}";
    assert_int_equal(dk_scen_from_json(min, strlen(min), &b, &e), DK_OK);
    dk_scen_init(&a);
    assert_memory_equal(&a, &b, sizeof a);

    /* "from" without "hex" says nothing (the writer leaves it out then): read
     * and written again, the scenario is the same (found by fuzz_scenario) */
    const char *nohex = "{\"dfukit_scenario\": 1, \"init_packet\": {\"len\": 4, \"crc\": "
                        "\"0x12345678\", \"accepted\": true, \"from\": \"package\"}}";
    assert_int_equal(dk_scen_from_json(nohex, strlen(nohex), &a, &e), DK_OK);
    assert_false(a.init.bytes_known);
    assert_false(a.init.from_package);
    j = dk_scen_to_json(&a);
    assert_non_null(j);
    assert_int_equal(dk_scen_from_json(j, strlen(j), &b, &e), DK_OK);
    assert_memory_equal(&a, &b, sizeof a);
    free(j);

    /* through a file */
    char dir[256], path[300];
    assert_int_equal(dk_test_tmpdir(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/s.json", dir);
    a = full();
    assert_int_equal(dk_scen_write(&a, path, &e), DK_OK);
    assert_int_equal(dk_scen_read(path, &b, &e), DK_OK);
    assert_memory_equal(&a, &b, sizeof a);
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(dk_scen_read(path, &b, &e), DK_E_IO);
    dk_test_rmtree(dir);
}

static void expect_bad(const char *json, dk_status st, const char *words)
{
    dk_scenario s;
    dk_err e;
    memset(&e, 0, sizeof e);
    assert_int_equal(dk_scen_from_json(json, strlen(json), &s, &e), st);
    if (!strstr(e.msg, words))
        fail_msg("'%s' does not say '%s'", e.msg, words);
}

static void reader_errors(void **state)
{
    (void)state;
    /* the spec quoted in the error keeps it one line (found by fuzz_scenario) */
    const char *nl = "{\"dfukit_scenario\": 1, \"faults\": [\"bad\\nspec\"]}";
    dk_scenario sn;
    dk_err en;
    memset(&en, 0, sizeof en);
    assert_int_equal(dk_scen_from_json(nl, strlen(nl), &sn, &en), DK_E_FORMAT);
    assert_null(strchr(en.msg, '\n'));
    assert_non_null(strstr(en.msg, "'bad?spec'"));
    expect_bad("", DK_E_FORMAT, "not JSON");
    expect_bad("{\"dfukit_scenario\": 1,", DK_E_FORMAT, "not JSON");
    expect_bad("[1]", DK_E_FORMAT, "expected an object");
    expect_bad("{\"other\": 1}", DK_E_FORMAT, "not a dfukit scenario");
    expect_bad("{\"dfukit_scenario\": 2}", DK_E_UNSUPPORTED, "version 2");
    expect_bad("{\"dfukit_scenario\": 1, \"dfukit_scenario\": 1}", DK_E_FORMAT, "not JSON");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"chip\": \"nrf51422\"}}", DK_E_RANGE,
               "device.chip");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"hw_version\": -1}}", DK_E_FORMAT,
               "device.hw_version");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"hw_version\": \"52\"}}", DK_E_FORMAT,
               "device.hw_version");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"enter_dfu\": \"never\"}}", DK_E_RANGE,
               "device.enter_dfu");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"mtu\": 10}}", DK_E_RANGE, "device.mtu");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"inactivity_ms\": 50}}", DK_E_RANGE,
               "inactivity_ms");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 65534}}}",
               DK_E_RANGE, "softdevice.fwid");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 256, \"end\": 5}}}",
               DK_E_RANGE, "softdevice.end");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"app\": 3}}", DK_E_FORMAT, "device.app");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"save_progress_in_flash\": 1}}", DK_E_FORMAT,
               "save_progress_in_flash");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"init\": {\"size\": 600, \"crc\": \"0x0\"}}}",
               DK_E_FORMAT, "start.init.size");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"init\": {\"size\": 2, \"crc\": \"0x1\", "
               "\"hex\": \"0a\"}}}",
               DK_E_FORMAT, "start.init.hex");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"init\": {\"size\": 1, \"crc\": \"0x1\", "
               "\"hex\": \"zz\"}}}",
               DK_E_FORMAT, "not hex");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"init\": {\"size\": 1, \"crc\": \"0x1\", "
               "\"hex\": \"0a\"}}}",
               DK_E_VERIFY, "does not match");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"init\": {\"size\": 1}}}", DK_E_FORMAT,
               "start.init.crc: missing");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"data\": {\"offset\": 4096, \"crc\": \"0x1\"}}}",
               DK_E_FORMAT, "needs start.init");
    expect_bad("{\"dfukit_scenario\": 1, \"start\": {\"data\": {\"offset\": 4096, \"crc\": \"0xq\"}}}",
               DK_E_FORMAT, "start.data.crc");
    expect_bad("{\"dfukit_scenario\": 1, \"faults\": [\"reset\"]}", DK_E_FORMAT, "faults[0]");
    expect_bad("{\"dfukit_scenario\": 1, \"faults\": [\"op=4:explode\"]}", DK_E_FORMAT, "faults[0]");
    expect_bad("{\"dfukit_scenario\": 1, \"faults\": \"op=4:stall\"}", DK_E_FORMAT, "faults");
    expect_bad("{\"dfukit_scenario\": 1, \"faults\": [1,2]}", DK_E_FORMAT, "faults[0]");
    expect_bad("{\"dfukit_scenario\": 1, \"faults\": [\"op=1:stall\",\"op=1:stall\",\"op=1:stall\","
               "\"op=1:stall\",\"op=1:stall\",\"op=1:stall\",\"op=1:stall\",\"op=1:stall\","
               "\"op=1:stall\"]}",
               DK_E_FORMAT, "too many");
    expect_bad("{\"dfukit_scenario\": 1, \"line\": {\"realtime\": true, \"baud\": 10}}", DK_E_RANGE,
               "line.baud");
    expect_bad("{\"dfukit_scenario\": 1, \"init_packet\": {\"len\": 0, \"crc\": \"0x0\"}}",
               DK_E_FORMAT, "init_packet.len");
    /* offset of broken JSON */
    dk_scenario s;
    dk_err e;
    const char *j = "{\"dfukit_scenario\": 1, \"x\": }";
    assert_int_equal(dk_scen_from_json(j, strlen(j), &s, &e), DK_E_FORMAT);
    assert_true(e.has_offset);
    assert_true(e.offset >= 25 && e.offset <= 30);
    /* null means unknown/default */
    j = "{\"dfukit_scenario\": 1, \"host\": {\"prn\": null, \"flow_control\": false}, "
        "\"device\": {\"softdevice\": null, \"app\": null}, \"start\": null}";
    assert_int_equal(dk_scen_from_json(j, strlen(j), &s, &e), DK_OK);
    assert_int_equal(s.host.prn, -1);
    assert_int_equal(s.host.flow_control, 0);
    assert_false(s.device.softdevice);
}

/* Sizes and addresses must fit the chip's flash (SDK 17.1 UART layout,
 * sim/chip.c): an app that does not fit would be reported installed while
 * dfusim installs none. */
static void flash_fits(void **state)
{
    (void)state;
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"app\": {\"size\": 4294967295}}}",
               DK_E_RANGE, "device.app.size: 4294967295 (1-999424: the nrf52840's app area above "
                           "the MBR)");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"app\": {\"size\": 0}}}", DK_E_RANGE,
               "device.app.size");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"app\": {\"size\": 999425}}}", DK_E_RANGE,
               "device.app.size");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"chip\": \"nrf52832\", "
               "\"app\": {\"size\": 475137}}}",
               DK_E_RANGE, "device.app.size: 475137 (1-475136: the nrf52832's");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 256, "
               "\"end\": 159744}, \"app\": {\"size\": 843777}}}",
               DK_E_RANGE, "above the SoftDevice");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 256, "
               "\"end\": 1011712}}}",
               DK_E_RANGE,
               "device.softdevice.end: 0xF7000 (page-aligned, above 0x4000, below 0xF7000)");
    expect_bad("{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 65535}}}",
               DK_E_RANGE, "softdevice.fwid: 0xFFFF");
    static const char *const ok[] = {
        "{\"dfukit_scenario\": 1, \"device\": {\"app\": {\"size\": 999424}}}",
        "{\"dfukit_scenario\": 1, \"device\": {\"chip\": \"nrf52832\", "
        "\"app\": {\"size\": 475136}}}",
        "{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 256, \"end\": 159744}, "
        "\"app\": {\"size\": 843776}}}",
        "{\"dfukit_scenario\": 1, \"device\": {\"softdevice\": {\"fwid\": 65533, "
        "\"end\": 1007616}}}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        dk_scenario s;
        dk_err e;
        if (dk_scen_from_json(ok[i], strlen(ok[i]), &s, &e) != DK_OK)
            fail_msg("%s: %s", ok[i], e.msg);
    }
}

/* ---- the builder, fed by a real session ----------------------------------- */

typedef struct {
    dk_session *s;
    dk_scen_builder *b;
    dk_diag_facts f;
    dk_summary sum;
    int64_t t;
    uint64_t pos;
} run;

static void on_ev(void *ctx, const dk_event *ev)
{
    run *r = ctx;
    dk_scen_builder_event(r->b, ev);
    dk_diag_facts_event(&r->f, ev);
    if (ev->kind == DK_EV_SUMMARY)
        r->sum = *ev->u.sum;
}

static void run_start(run *r)
{
    memset(r, 0, sizeof *r);
    r->s = dk_session_new(on_ev, r);
    r->b = dk_scen_builder_new();
    assert_non_null(r->s);
    assert_non_null(r->b);
    dk_diag_facts_init(&r->f);
    r->t = 1000000;
}

static void frame(run *r, dk_dir dir, const uint8_t *p, size_t n, int64_t dt_us)
{
    r->t += dt_us;
    dk_session_frame(r->s, p, n, false, r->t, dir, r->pos, r->pos + n);
    r->pos += n + 1;
}

#define REQ(r, dt, ...)                                                                            \
    do {                                                                                           \
        const uint8_t m_[] = { __VA_ARGS__ };                                                      \
        frame(r, DK_DIR_HOST, m_, sizeof m_, dt);                                                  \
    } while (0)
#define RSP(r, dt, ...)                                                                            \
    do {                                                                                           \
        const uint8_t m_[] = { 0x60, __VA_ARGS__ };                                                \
        frame(r, DK_DIR_TARGET, m_, sizeof m_, dt);                                                \
    } while (0)

static void finish(run *r, dk_scenario *out, const uint8_t *dat, size_t dlen)
{
    dk_session_finish(r->s);
    const dk_diag_row *d = dk_diag_pick_facts(&r->sum, &r->f);
    dk_scen_builder_finish(r->b, &r->sum, &r->f, d, dat, dlen, "t.log", "nrfutil", out);
    dk_session_free(r->s);
    dk_scen_builder_free(r->b);
    dk_err e;
    if (dk_scen_validate(out, &e) != DK_OK)
        fail_msg("invalid scenario: %s", e.msg);
}

/* An unsigned init packet (hw 52, sd_req list, fw 2) for a size-byte app. */
static size_t make_dat(uint8_t *out, size_t cap, uint32_t size, uint32_t sd, uint32_t fw)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_plain = p.has_op_code = p.has_init = true;
    p.op_code = 1;
    p.init.has_fw_version = p.init.has_hw_version = p.init.has_type = p.init.has_app_size = true;
    p.init.fw_version = fw;
    p.init.hw_version = 52;
    p.init.sd_req_count = 1;
    p.init.sd_req[0] = sd;
    p.init.type = DK_FW_APPLICATION;
    p.init.app_size = size;
    p.init.has_hash = true;
    p.init.hash_type = DK_HASH_SHA256;
    p.init.hash_len = 32;
    return dk_initpkt_encode(&p, out, cap);
}

static void connect_(run *r)
{
    REQ(r, 100, 0x09, 0x01);
    RSP(r, 500, 0x09, 0x01, 0x01);
    REQ(r, 100, 0x02, 0x00, 0x00);
    RSP(r, 500, 0x02, 0x01);
    REQ(r, 100, 0x07);
    RSP(r, 500, 0x07, 0x01, 0x83, 0x00);
}

/* send the command object; returns its CRC */
static uint32_t send_init(run *r, const uint8_t *dat, size_t n)
{
    REQ(r, 100, 0x06, 0x01);
    RSP(r, 500, 0x06, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    REQ(r, 100, 0x01, 0x01, (uint8_t)n, 0, 0, 0);
    RSP(r, 500, 0x01, 0x01);
    uint8_t w[1 + 64];
    w[0] = 0x08;
    for (size_t i = 0; i < n; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;
        memcpy(w + 1, dat + i, k);
        frame(r, DK_DIR_HOST, w, k + 1, 100);
    }
    uint32_t crc = dk_crc32(0, dat, n);
    uint8_t c[11] = { 0x60, 0x03, 0x01 };
    dk_put_le32(c + 3, (uint32_t)n);
    dk_put_le32(c + 7, crc);
    REQ(r, 100, 0x03);
    frame(r, DK_DIR_TARGET, c, sizeof c, 500);
    REQ(r, 100, 0x04);
    return crc;
}

/* init packet refused with EXT 0x07 (§6.7): MBR only, the packet in the scenario */
static void build_sd_req(void **state)
{
    (void)state;
    run r;
    run_start(&r);
    uint8_t dat[128];
    size_t n = make_dat(dat, sizeof dat, 6000, 0x0101, 2);
    connect_(&r);
    send_init(&r, dat, n);
    RSP(&r, 170000, 0x04, 0x0B, 0x07);
    dk_scenario s;
    finish(&r, &s, NULL, 0);
    assert_string_equal(s.diagnosis, "init.sd_req");
    assert_string_equal(s.failure.outcome, "failed");
    assert_string_equal(s.failure.stage, "init");
    assert_int_equal(s.failure.op, 0x04);
    assert_int_equal(s.failure.ext, 0x07);
    assert_true(s.init.present && s.init.bytes_known && !s.init.accepted);
    assert_int_equal(s.init.len, n);
    assert_memory_equal(s.init.bytes, dat, n);
    assert_false(s.device.softdevice); /* MBR only refuses sd_req [0x0101] */
    assert_false(s.start.init);
    assert_int_equal(s.n_faults, 0);
    assert_int_equal(s.device.mtu, 131);
}

/* downgrade 0x05 and hw 0x06: the device is chosen to refuse the packet */
static void build_version_checks(void **state)
{
    (void)state;
    uint8_t dat[128];
    size_t n = make_dat(dat, sizeof dat, 6000, 0x0100, 7);
    for (int ext = 5; ext <= 6; ext++) {
        run r;
        run_start(&r);
        connect_(&r);
        send_init(&r, dat, n);
        RSP(&r, 170000, 0x04, 0x0B, (uint8_t)ext);
        dk_scenario s;
        finish(&r, &s, NULL, 0);
        assert_true(s.device.softdevice);
        assert_int_equal(s.device.sd_fwid, 0x0100); /* passes the sd_req check */
        if (ext == 5) {
            assert_string_equal(s.diagnosis, "init.fw_version");
            assert_true(s.device.app);
            assert_int_equal(s.device.app_version, 8);
            assert_string_equal(s.device.enter_dfu, "first-boot");
            assert_int_equal(s.device.hw_version, 52);
        } else {
            assert_string_equal(s.diagnosis, "init.hw_version");
            assert_int_equal(s.device.hw_version, 53); /* the packet says 52 */
            assert_false(s.device.app);
        }
    }
}

/* a late EXECUTE answer (§5.2 weaknesses): delay that request */
static void build_desync(void **state)
{
    (void)state;
    run r;
    run_start(&r);
    uint8_t dat[128];
    size_t n = make_dat(dat, sizeof dat, 8192, 0x0100, 2);
    connect_(&r);
    send_init(&r, dat, n);
    RSP(&r, 170000, 0x04, 0x01);
    REQ(&r, 100, 0x06, 0x02);
    RSP(&r, 500, 0x06, 0x01, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    REQ(&r, 100, 0x01, 0x02, 0x00, 0x10, 0, 0);
    RSP(&r, 85000, 0x01, 0x01);
    uint8_t w[65] = { 0x08 };
    for (int i = 0; i < 64; i++)
        frame(&r, DK_DIR_HOST, w, sizeof w, 100);
    REQ(&r, 100, 0x03);
    uint8_t c[11] = { 0x60, 0x03, 0x01 };
    uint8_t zero[4096] = { 0 };
    dk_put_le32(c + 3, 4096);
    dk_put_le32(c + 7, dk_crc32(0, zero, 4096));
    frame(&r, DK_DIR_TARGET, c, sizeof c, 500);
    REQ(&r, 100, 0x04);              /* EXECUTE #2: answered after the next request */
    REQ(&r, 1000000, 0x01, 0x02, 0x10, 0x00, 0, 0);
    RSP(&r, 300, 0x04, 0x01);
    dk_scenario s;
    finish(&r, &s, NULL, 0);
    assert_string_equal(s.diagnosis, "link.desync");
    assert_int_equal(s.n_faults, 1);
    /* 1.0003 s observed: kept between 1.2 and 1.8 s */
    assert_string_equal(s.faults[0], "op=0x04#2:delay-response=1200");
}

/* resume at an object boundary with a foreign CRC (§5.2 try_to_recover):
 * the held init packet and progress become the start state; the bytes come
 * from the package because the log never resends them */
static void build_resume(void **state)
{
    (void)state;
    run r;
    run_start(&r);
    uint8_t dat[128];
    size_t n = make_dat(dat, sizeof dat, 16000, 0x0100, 2);
    uint32_t crc = dk_crc32(0, dat, n);
    connect_(&r);
    REQ(&r, 100, 0x06, 0x01);
    uint8_t sel[15] = { 0x60, 0x06, 0x01 };
    dk_put_le32(sel + 3, 512);
    dk_put_le32(sel + 7, (uint32_t)n);
    dk_put_le32(sel + 11, crc);
    frame(&r, DK_DIR_TARGET, sel, sizeof sel, 500);
    REQ(&r, 100, 0x04);
    RSP(&r, 500, 0x04, 0x01);
    REQ(&r, 100, 0x06, 0x02);
    dk_put_le32(sel + 3, 4096);
    dk_put_le32(sel + 7, 8192);
    dk_put_le32(sel + 11, 0x12345678);
    frame(&r, DK_DIR_TARGET, sel, sizeof sel, 500);
    REQ(&r, 100, 0x01, 0x02, 0x00, 0x10, 0, 0);
    RSP(&r, 85000, 0x01, 0x01);
    dk_scenario s;
    finish(&r, &s, dat, n);
    assert_true(s.start.init);
    assert_int_equal(s.start.init_size, n);
    assert_int_equal(s.start.init_crc, crc);
    assert_true(s.start.init_bytes_known);
    assert_memory_equal(s.start.init_bytes, dat, n);
    assert_true(s.init.from_package);
    assert_true(s.start.data);
    assert_int_equal(s.start.data_offset, 8192);
    assert_int_equal(s.start.data_crc, 0x12345678);
    assert_true(s.device.save_progress_in_flash);
    /* without the package the bytes stay unknown, size and CRC are kept */
    run_start(&r);
    connect_(&r);
    REQ(&r, 100, 0x06, 0x01);
    dk_put_le32(sel + 3, 512);
    dk_put_le32(sel + 7, (uint32_t)n);
    dk_put_le32(sel + 11, crc);
    frame(&r, DK_DIR_TARGET, sel, sizeof sel, 500);
    REQ(&r, 100, 0x04);
    RSP(&r, 500, 0x04, 0x01);
    finish(&r, &s, NULL, 0);
    assert_true(s.start.init);
    assert_false(s.start.init_bytes_known);
    assert_false(s.start.data);
}

/* a target that never answers: an app that runs; a target that goes silent
 * in the middle: stall at that request */
static void build_silent(void **state)
{
    (void)state;
    run r;
    run_start(&r);
    REQ(&r, 100, 0x09, 0x01);
    REQ(&r, 1000000, 0x09, 0x02);
    dk_scenario s;
    finish(&r, &s, NULL, 0);
    assert_string_equal(s.diagnosis, "link.no_answer");
    assert_true(s.device.app);
    assert_string_equal(s.device.enter_dfu, "no-valid-app");
    assert_int_equal(s.n_faults, 0);

    run_start(&r);
    uint8_t dat[128];
    size_t n = make_dat(dat, sizeof dat, 4096, 0x0100, 2);
    connect_(&r);
    send_init(&r, dat, n);
    RSP(&r, 170000, 0x04, 0x01);
    REQ(&r, 100, 0x06, 0x02);
    REQ(&r, 1000000, 0x01, 0x02, 0x00, 0x10, 0, 0);
    finish(&r, &s, NULL, 0);
    assert_int_equal(s.n_faults, 1);
    assert_string_equal(s.faults[0], "op=0x06#2:stall");
    assert_int_equal(s.failure.op, 0x06);
}

/* 120 s without CREATE/EXECUTE, then silence (§6.8) */
static void build_inactivity(void **state)
{
    (void)state;
    run r;
    run_start(&r);
    uint8_t dat[128];
    size_t n = make_dat(dat, sizeof dat, 4096, 0x0100, 2);
    connect_(&r);
    send_init(&r, dat, n);
    RSP(&r, 170000, 0x04, 0x01);
    REQ(&r, 100, 0x09, 0x05);
    RSP(&r, 500, 0x09, 0x01, 0x05);
    REQ(&r, 130000000, 0x09, 0x06);
    dk_scenario s;
    finish(&r, &s, NULL, 0);
    assert_string_equal(s.diagnosis, "link.inactivity");
    assert_int_equal(s.n_faults, 1);
    assert_true(strncmp(s.faults[0], "op=0x09#2:delay-response=130", 28) == 0);
    assert_true(s.device.app);
    assert_string_equal(s.device.enter_dfu, "first-boot");
}

/* FIRMWARE_VERSION images (§2.2): the app is type 0x01 (the SoftDevice,
 * type 0x00, is not the app).  An app larger than the chip holds keeps the
 * scenario one dfusim can run: 16384 bytes, noted. */
static void build_app_version(void **state)
{
    (void)state;
    for (int big = 0; big <= 1; big++) {
        run r;
        run_start(&r);
        connect_(&r);
        REQ(&r, 100, 0x0B, 0x01); /* image 1: the SoftDevice, 0x26000 bytes at 0x1000 */
        RSP(&r, 500, 0x0B, 0x01, 0x00, 7, 0, 0, 0, 0x00, 0x10, 0, 0, 0x00, 0x60, 0x02, 0x00);
        REQ(&r, 100, 0x0B, 0x02); /* image 2: the app */
        if (big)
            RSP(&r, 500, 0x0B, 0x01, 0x01, 3, 0, 0, 0, 0x00, 0x70, 0x02, 0, 0xFF, 0xFF, 0xFF, 0xFF);
        else
            RSP(&r, 500, 0x0B, 0x01, 0x01, 3, 0, 0, 0, 0x00, 0x70, 0x02, 0, 0x00, 0x50, 0x00, 0x00);
        dk_scenario s;
        finish(&r, &s, NULL, 0);
        assert_true(s.device.app);
        assert_int_equal(s.device.app_version, 3);
        assert_int_equal(s.device.app_size, big ? 16384 : 0x5000);
        bool noted = false;
        for (size_t i = 0; i < s.n_notes; i++)
            noted |= strstr(s.notes[i], "app of 4294967295 bytes") != NULL;
        assert_int_equal(noted, big);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),      cmocka_unit_test(reader_errors),
        cmocka_unit_test(build_sd_req),    cmocka_unit_test(build_version_checks),
        cmocka_unit_test(build_desync),    cmocka_unit_test(build_resume),
        cmocka_unit_test(build_silent),    cmocka_unit_test(build_inactivity),
        cmocka_unit_test(flash_fits),      cmocka_unit_test(build_app_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
