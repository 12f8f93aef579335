/* test_fault.c - dfusim's --fault SPEC parser and matcher (sim/fault.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fault.h"

static ds_fault parse_ok(const char *spec)
{
    ds_fault f;
    char why[200] = "";
    int rc = ds_fault_parse(spec, &f, why, sizeof why);
    if (rc != 0)
        fail_msg("'%s' refused: %s", spec, why);
    return f;
}

static void parse_triggers(void **state)
{
    (void)state;
    ds_fault f = parse_ok("after-bytes=8192:power-cut");
    assert_int_equal(f.trig, DS_FT_BYTES);
    assert_int_equal(f.n, 8192);
    assert_int_equal(f.act, DS_FA_POWER_CUT);
    assert_int_equal(f.arg, 0);

    f = parse_ok("flash-op=0x39:flash-error");
    assert_int_equal(f.trig, DS_FT_FLASH_OP);
    assert_int_equal(f.n, 57);
    assert_int_equal(f.act, DS_FA_FLASH_ERROR);

    f = parse_ok("op=0x04#3:drop-response");
    assert_int_equal(f.trig, DS_FT_OP);
    assert_int_equal(f.opcode, 0x04);
    assert_int_equal(f.n, 3);
    assert_false(f.repeat);

    f = parse_ok("op=crc:drop-response"); /* default: the first one */
    assert_int_equal(f.opcode, 0x03);
    assert_int_equal(f.n, 1);

    f = parse_ok("after-op=OBJECT_EXECUTE#2:power-cut=50");
    assert_int_equal(f.trig, DS_FT_AFTER_OP);
    assert_int_equal(f.opcode, 0x04);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.arg, 50);

    f = parse_ok("op=ping#1+:drop-response");
    assert_int_equal(f.opcode, 0x09);
    assert_true(f.repeat);

    f = parse_ok("after-ms=500:stall");
    assert_int_equal(f.trig, DS_FT_MS);
    assert_int_equal(f.n, 500);
    assert_int_equal(f.act, DS_FA_STALL);
    assert_string_equal(f.spec, "after-ms=500:stall");
}

static void parse_actions(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("op=9:reset").act, DS_FA_RESET);
    ds_fault f = parse_ok("op=9:delay-response=1500");
    assert_int_equal(f.act, DS_FA_DELAY);
    assert_int_equal(f.arg, 1500);
    f = parse_ok("op=9:corrupt-byte");
    assert_int_equal(f.act, DS_FA_CORRUPT);
    assert_int_equal(f.arg, -1);
    f = parse_ok("op=9:corrupt-byte=2");
    assert_int_equal(f.arg, 2);
    /* every opcode alias */
    static const struct { const char *n; uint8_t op; } al[] = {
        { "version", 0 }, { "create", 1 }, { "prn", 2 }, { "crc", 3 }, { "execute", 4 },
        { "select", 6 },  { "mtu", 7 },    { "write", 8 }, { "ping", 9 }, { "hw", 10 },
        { "fw", 11 },     { "abort", 12 }, { "Select", 6 }, { "mtu_get", 7 }, { "0xff", 0xFF },
    };
    for (size_t i = 0; i < sizeof al / sizeof *al; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "op=%s:reset", al[i].n);
        assert_int_equal(parse_ok(spec).opcode, al[i].op);
    }
}

static void parse_errors(void **state)
{
    (void)state;
    static const struct { const char *spec, *says; } bad[] = {
        { "", "TRIGGER:ACTION" },
        { "power-cut", "TRIGGER:ACTION" },
        { "after-bytes:reset", "needs a value" },
        { "after-bytes=:reset", "bad number" },
        { "after-bytes=12k:reset", "bad number" },
        { "after-bytes=-1:reset", "bad number" },
        { "sometime=3:reset", "unknown trigger" },
        { "flash-op=0:reset", "count from 1" },
        { "op=frobnicate:reset", "bad opcode" },
        { "op=0x100:reset", "bad opcode" },
        { "op=crc#0:reset", "bad count" },
        { "op=crc#:reset", "bad count" },
        { "op=crc#x:reset", "bad count" },
        { "op=crc:explode", "unknown action" },
        { "op=crc:", "unknown action" },
        { "op=crc:delay-response", "needs =MS" },
        { "op=crc:delay-response=soon", "bad action value" },
        { "op=crc:delay-response=99999999", "more than an hour" },
        { "op=crc:reset=3", "takes no value" },
        { "op=crc:stall=1", "takes no value" },
        { "op=crc:corrupt-byte=70000", "too large" },
        { "op=write#3:lose-request=1", "takes no value" },
        { "after-op=write#3:lose-request", "goes with an op= trigger" },
        { "after-bytes=64:lose-request", "goes with an op= trigger" },
        { "after-bytes=64:pause=5", "takes no value" },
        { "after-bytes=64:pauses", "unknown action" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ds_fault f;
        char why[200] = "";
        if (ds_fault_parse(bad[i].spec, &f, why, sizeof why) == 0)
            fail_msg("'%s' accepted", bad[i].spec);
        if (!strstr(why, bad[i].says))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].spec, why, bad[i].says);
        assert_null(strchr(why, '\n')); /* one line */
    }
}

static ds_faults with(const char *const specs[])
{
    ds_faults fs;
    ds_faults_init(&fs);
    for (size_t i = 0; specs[i]; i++) {
        ds_fault f = parse_ok(specs[i]);
        assert_int_equal(ds_faults_add(&fs, &f), 0);
    }
    return fs;
}

/* op=X#K fires on exactly the Kth such request, once; "+" on every later one. */
static void match_nth_op(void **state)
{
    (void)state;
    const char *specs[] = { "op=crc#3:reset", "op=ping#2+:stall", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    for (int i = 1; i <= 5; i++) {
        ds_faults_request(&fs, 0x03, &out);
        assert_int_equal(out.reset, i == 3);
        assert_false(out.stall);
        ds_faults_request(&fs, 0x08, &out); /* other opcodes do not count */
        assert_false(out.reset);
    }
    for (int i = 1; i <= 4; i++) {
        ds_faults_request(&fs, 0x09, &out);
        assert_int_equal(out.stall, i >= 2);
        if (i >= 2) {
            assert_int_equal(out.n_which, 1);
            assert_int_equal(out.which[0], 1);
        }
    }
    assert_int_equal(fs.f[0].fired, 1);
    assert_int_equal(fs.f[1].fired, 3);
}

/* after-op fires after handling, with the same count as op=. */
static void match_after_op(void **state)
{
    (void)state;
    const char *specs[] = { "after-op=execute#2:power-cut=50", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    ds_faults_request(&fs, 0x04, &out);
    assert_false(out.power_cut);
    ds_faults_handled(&fs, 0x04, 0, &out);
    assert_false(out.power_cut);
    ds_faults_request(&fs, 0x04, &out);
    assert_false(out.power_cut); /* not before it is handled */
    ds_faults_handled(&fs, 0x04, 0, &out);
    assert_true(out.power_cut);
    assert_int_equal(out.off_ms, 50);
    ds_faults_request(&fs, 0x04, &out);
    ds_faults_handled(&fs, 0x04, 0, &out);
    assert_false(out.power_cut);
}

static void match_bytes_once(void **state)
{
    (void)state;
    const char *specs[] = { "after-bytes=4096:reset", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    ds_faults_handled(&fs, 0x08, 4032, &out);
    assert_false(out.reset);
    ds_faults_handled(&fs, 0x08, 4096, &out);
    assert_true(out.reset);
    ds_faults_handled(&fs, 0x08, 8192, &out); /* once only, even after a reboot */
    assert_false(out.reset);
}

/* Response actions are armed and spent on the next response. */
static void match_response_actions(void **state)
{
    (void)state;
    const char *specs[] = { "op=write#2:drop-response", "op=crc:delay-response=800",
                            "op=select:corrupt-byte=1", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    uint32_t d;
    int64_t c;
    assert_false(ds_faults_response(&fs, &d, &c));
    assert_int_equal(d, 0);
    assert_int_equal(c, -2);
    ds_faults_request(&fs, 0x08, &out);
    ds_faults_request(&fs, 0x08, &out); /* WRITE has no answer: the next one goes */
    assert_int_equal(out.n_which, 1);
    assert_false(out.reset || out.power_cut || out.stall);
    assert_true(ds_faults_response(&fs, &d, &c));
    assert_false(ds_faults_response(&fs, &d, &c)); /* only one */
    ds_faults_request(&fs, 0x03, &out);
    assert_false(ds_faults_response(&fs, &d, &c));
    assert_int_equal(d, 800);
    assert_int_equal(c, -2);
    assert_false(ds_faults_response(&fs, &d, &c));
    assert_int_equal(d, 0);
    ds_faults_request(&fs, 0x06, &out);
    assert_false(ds_faults_response(&fs, &d, &c));
    assert_int_equal(c, 1);

    uint8_t rsp[] = { 0x60, 0x06, 0x01, 0xAA };
    ds_fault_corrupt(rsp, sizeof rsp, 1);
    assert_int_equal(rsp[1], 0xF9);
    ds_fault_corrupt(rsp, sizeof rsp, -1); /* last byte */
    assert_int_equal(rsp[3], 0x55);
    ds_fault_corrupt(rsp, sizeof rsp, 99); /* past the end: last byte */
    assert_int_equal(rsp[3], 0xAA);
    ds_fault_corrupt(rsp, sizeof rsp, -2); /* none */
    assert_int_equal(rsp[0], 0x60);
}

/* flash-op: the verdict for that op; other actions are deferred. */
static void match_flash_ops(void **state)
{
    (void)state;
    const char *specs[] = { "flash-op=3:power-cut=20", "flash-op=5:flash-error", "flash-op=7:reset",
                            "after-bytes=1:flash-error", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    assert_int_equal(ds_faults_flash_op(&fs, 1), DS_FV_GO);
    assert_int_equal(ds_faults_flash_op(&fs, 2), DS_FV_GO);
    assert_int_equal(ds_faults_flash_op(&fs, 3), DS_FV_CUT);
    ds_faults_handled(&fs, 0x01, 0, &out);
    assert_true(out.power_cut);
    assert_int_equal(out.off_ms, 20);
    ds_faults_handled(&fs, 0x01, 0, &out); /* handed out once */
    assert_false(out.power_cut);
    assert_int_equal(ds_faults_flash_op(&fs, 4), DS_FV_GO);
    assert_int_equal(ds_faults_flash_op(&fs, 5), DS_FV_FAIL);
    assert_int_equal(ds_faults_flash_op(&fs, 6), DS_FV_GO);
    assert_int_equal(ds_faults_flash_op(&fs, 7), DS_FV_GO); /* reset after the op */
    ds_faults_take_deferred(&fs, &out);
    assert_true(out.reset);
    /* after-bytes=1:flash-error arms the next flash op */
    ds_faults_handled(&fs, 0x08, 64, &out);
    assert_false(out.reset);
    assert_int_equal(ds_faults_flash_op(&fs, 8), DS_FV_FAIL);
    assert_int_equal(ds_faults_flash_op(&fs, 9), DS_FV_GO);
}

static void match_time(void **state)
{
    (void)state;
    const char *specs[] = { "after-ms=500:stall", "after-ms=200:power-cut=5", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    assert_int_equal(ds_faults_next_ms(&fs), 200);
    ds_faults_tick(&fs, 199, &out);
    assert_false(out.power_cut || out.stall);
    ds_faults_tick(&fs, 250, &out);
    assert_true(out.power_cut);
    assert_false(out.stall);
    assert_int_equal(ds_faults_next_ms(&fs), 500);
    ds_faults_tick(&fs, 10000, &out);
    assert_true(out.stall);
    assert_false(out.power_cut);
    assert_int_equal(ds_faults_next_ms(&fs), UINT64_MAX);
}

/* lose-request (added for dfudecode scenarios): the Kth WRITE is lost, once */
static void match_lose(void **state)
{
    (void)state;
    ds_faults fs;
    ds_faults_init(&fs);
    ds_fault f;
    char why[200];
    assert_int_equal(ds_fault_parse("op=write#3:lose-request", &f, why, sizeof why), 0);
    assert_int_equal(f.act, DS_FA_LOSE);
    assert_string_equal(ds_fault_act_name(f.act), "lose-request");
    assert_int_equal(ds_faults_add(&fs, &f), 0);
    ds_fault_fire out;
    for (int i = 1; i <= 5; i++) {
        ds_faults_request(&fs, 0x08, &out);
        assert_int_equal(out.lose, i == 3);
        assert_false(out.reset || out.power_cut || out.stall);
    }
    uint32_t ms;
    int64_t at;
    assert_false(ds_faults_response(&fs, &ms, &at)); /* nothing armed for answers */
}

/* pause: a chip action handed to the adapter (take no more input), from
 * every trigger: after-bytes, after-op, op (the request is still handled:
 * nothing says lose), and a flash-op (deferred to the end of the request). */
static void match_pause(void **state)
{
    (void)state;
    ds_fault f = parse_ok("after-bytes=10240:pause");
    assert_int_equal(f.act, DS_FA_PAUSE);
    assert_string_equal(ds_fault_act_name(f.act), "pause");
    const char *specs[] = { "after-bytes=10240:pause", "after-op=execute#3:pause", "op=ping#2:pause",
                            "flash-op=7:pause", NULL };
    ds_faults fs = with(specs);
    ds_fault_fire out;
    ds_faults_handled(&fs, 0x08, 10176, &out);
    assert_false(out.pause);
    ds_faults_handled(&fs, 0x08, 10240, &out);
    assert_true(out.pause);
    assert_false(out.reset || out.power_cut || out.stall || out.lose);
    ds_faults_handled(&fs, 0x08, 20000, &out); /* once */
    assert_false(out.pause);
    for (int k = 1; k <= 3; k++) {
        ds_faults_request(&fs, 0x04, &out);
        assert_false(out.pause);
        ds_faults_handled(&fs, 0x04, 20000, &out);
        assert_int_equal(out.pause, k == 3);
    }
    ds_faults_request(&fs, 0x09, &out);
    assert_false(out.pause);
    ds_faults_request(&fs, 0x09, &out);
    assert_true(out.pause);
    assert_false(out.lose);
    assert_int_equal(ds_faults_flash_op(&fs, 7), DS_FV_GO); /* the op itself goes ahead */
    ds_faults_handled(&fs, 0x08, 20000, &out);
    assert_true(out.pause);
    uint32_t ms;
    int64_t at;
    assert_false(ds_faults_response(&fs, &ms, &at)); /* the answer goes out as usual */
    assert_int_equal(ms, 0);
}

static void table_full(void **state)
{
    (void)state;
    ds_faults fs;
    ds_faults_init(&fs);
    ds_fault f = parse_ok("op=ping:stall");
    for (int i = 0; i < DS_FAULTS_MAX; i++)
        assert_int_equal(ds_faults_add(&fs, &f), 0);
    assert_int_equal(ds_faults_add(&fs, &f), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_triggers),     cmocka_unit_test(parse_actions),
        cmocka_unit_test(parse_errors),       cmocka_unit_test(match_nth_op),
        cmocka_unit_test(match_after_op),     cmocka_unit_test(match_bytes_once),
        cmocka_unit_test(match_response_actions), cmocka_unit_test(match_flash_ops),
        cmocka_unit_test(match_time),         cmocka_unit_test(table_full),
        cmocka_unit_test(match_lose),         cmocka_unit_test(match_pause),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
