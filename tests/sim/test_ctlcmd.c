/* test_ctlcmd.c - the --control socket's command parser and line cutter
 * (sim/ctlcmd.h), pure: every command and its arguments, what is refused
 * and how it is said, and lines cut from bytes however they come (CR LF,
 * pieces, NUL bytes, lines too long, a last line without its end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctlcmd.h"
#include "dk_suite.h"

static ds_ctl_parsed parse(const char *line, ds_ctl_req *req, char *why, size_t cap)
{
    return ds_ctl_parse(line, strlen(line), req, why, cap);
}

static void commands(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        ds_ctl_op op;
        uint32_t off_ms;
        int drop;
        const char *file;
    } ok[] = {
        { "reset", DS_CTL_RESET, 0, 0, "" },
        { "  reset \t", DS_CTL_RESET, 0, 0, "" },
        { "power-cut", DS_CTL_POWER_CUT, 0, 0, "" },
        { "power-cut 0", DS_CTL_POWER_CUT, 0, 0, "" },
        { "power-cut 250", DS_CTL_POWER_CUT, 250, 0, "" },
        { "power-cut\t0x64 ", DS_CTL_POWER_CUT, 100, 0, "" },
        { "power-cut 010", DS_CTL_POWER_CUT, 10, 0, "" }, /* decimal, not octal */
        { "power-cut 3600000", DS_CTL_POWER_CUT, 3600000, 0, "" },
        { "enter-dfu", DS_CTL_ENTER_DFU, 0, 0, "" },
        { "stall", DS_CTL_STALL, 0, 0, "" },
        { "resume", DS_CTL_RESUME, 0, 0, "" },
        { "resume drop", DS_CTL_RESUME, 0, 1, "" },
        { "show-settings", DS_CTL_SHOW_SETTINGS, 0, 0, "" },
        { "dump-hex", DS_CTL_DUMP_HEX, 0, 0, "" },
        { "dump-hex   /tmp/a b.hex  ", DS_CTL_DUMP_HEX, 0, 0, "/tmp/a b.hex" },
        { "dump-hex caf\xc3\xa9.hex", DS_CTL_DUMP_HEX, 0, 0, "caf\xc3\xa9.hex" },
        { "status", DS_CTL_STATUS, 0, 0, "" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ds_ctl_req r;
        char why[200] = "x";
        if (parse(ok[i].line, &r, why, sizeof why) != DS_CTL_REQ)
            fail_msg("'%s': refused: %s", ok[i].line, why);
        assert_int_equal(r.op, ok[i].op);
        assert_int_equal(r.off_ms, ok[i].off_ms);
        assert_int_equal(r.drop, ok[i].drop);
        assert_string_equal(r.file, ok[i].file);
        /* written back, the same request */
        char line[600];
        ds_ctl_req again;
        assert_true(ds_ctl_format(&r, line, sizeof line) > 0);
        assert_int_equal(parse(line, &again, why, sizeof why), DS_CTL_REQ);
        assert_memory_equal(&r, &again, sizeof r);
    }
}

static void blank_lines(void **state)
{
    (void)state;
    ds_ctl_req r;
    char why[100];
    assert_int_equal(parse("", &r, why, sizeof why), DS_CTL_BLANK);
    assert_int_equal(parse(" \t  ", &r, why, sizeof why), DS_CTL_BLANK);
}

/* What used to pass: "power-cut abc" and "power-cut 12x" were 0 ms, words
 * after a command that takes none were ignored. */
static void refused(void **state)
{
    (void)state;
    static const struct {
        const char *line, *why;
    } bad[] = {
        { "power-cut abc",
          "power-cut: 'abc' is not a time in ms (a whole number from 0 to 3600000, decimal or 0x-hex)" },
        { "power-cut 12x", "power-cut: '12x' is not a time in ms" },
        { "power-cut -5", "power-cut: '-5' is not a time in ms" },
        { "power-cut +5", "power-cut: '+5' is not a time in ms" },
        { "power-cut 0x", "power-cut: '0x' is not a time in ms" },
        { "power-cut 3600001", "power-cut: '3600001' is not a time in ms" },
        { "power-cut 99999999999999999999999", "power-cut: '99999999999999999999999' is not" },
        { "power-cut 5 6", "power-cut: '5 6' is not a time in ms" },
        { "reset now", "reset takes no argument (got 'now')" },
        { "enter-dfu 1", "enter-dfu takes no argument (got '1')" },
        { "stall x", "stall takes no argument (got 'x')" },
        { "status all", "status takes no argument (got 'all')" },
        { "show-settings backup", "show-settings takes no argument (got 'backup')" },
        { "resume dropped", "resume takes nothing or 'drop' (got 'dropped')" },
        { "resume drop now", "resume takes nothing or 'drop' (got 'drop now')" },
        { "RESET", "unknown command 'RESET' (" DS_CTL_USAGE ")" },
        { "explode", "unknown command 'explode' (reset, power-cut [MS]" },
        { "power-cut\r", "control byte 0x0D at column 10 (commands are text)" },
        { "\x1b[Areset", "control byte 0x1B at column 1" },
        { "reset\x7f", "control byte 0x7F at column 6" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_ctl_req r;
        char why[400] = "";
        if (parse(bad[i].line, &r, why, sizeof why) != DS_CTL_BAD)
            fail_msg("'%s': taken", bad[i].line);
        if (strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
            fail_msg("'%s': '%s', expected '%s...'", bad[i].line, why, bad[i].why);
    }
    /* a NUL is a byte of the line, not its end */
    ds_ctl_req r;
    char why[200];
    assert_int_equal(ds_ctl_parse("reset\0now", 9, &r, why, sizeof why), DS_CTL_BAD);
    assert_string_equal(why, "control byte 0x00 at column 6 (commands are text)");
}

/* What the client sent is quoted short and as text: the answer stays one
 * line however long or strange the word. */
static void quoted_short(void **state)
{
    (void)state;
    char line[DS_CTL_LINE_MAX + 1];
    memset(line, 'w', DS_CTL_LINE_MAX);
    line[DS_CTL_LINE_MAX] = 0;
    ds_ctl_req r;
    char why[400];
    assert_int_equal(parse(line, &r, why, sizeof why), DS_CTL_BAD);
    assert_string_equal(why, "unknown command 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww...' (" DS_CTL_USAGE ")");
    assert_int_equal(parse("reset \xff\xfe", &r, why, sizeof why), DS_CTL_BAD);
    assert_string_equal(why, "reset takes no argument (got '?" "?')");
    /* a message cut to its buffer is still a string */
    char small[16];
    assert_int_equal(parse("explode", &r, small, sizeof small), DS_CTL_BAD);
    assert_string_equal(small, "unknown command");
}

/* DS_CTL_USAGE (the --help line, the unknown-command error) is the table. */
static void usage_is_the_table(void **state)
{
    (void)state;
    char all[300] = "";
    for (int op = 0; op < DS_CTL_N_OPS; op++) {
        if (op)
            strcat(all, ", ");
        strcat(all, ds_ctl_op_name((ds_ctl_op)op));
        strcat(all, ds_ctl_op_usage((ds_ctl_op)op));
    }
    assert_string_equal(all, DS_CTL_USAGE);
}

/* ---- lines ------------------------------------------------------------------ */

typedef struct {
    char got[16][DS_CTL_LINE_MAX + 8];
    size_t len[16];
    int n;
} events;

/* Feed s in pieces of step bytes (0: at once), then end it; each line as
 * its text, each too-long as "<long>". */
static void record(events *ev, ds_ctl_ev e, const char *line, size_t len)
{
    assert_true(ev->n < 16);
    if (e == DS_CTL_EV_LINE) {
        assert_int_equal(line[len], 0);
        memcpy(ev->got[ev->n], line, len);
        ev->len[ev->n++] = len;
    } else if (e == DS_CTL_EV_TOO_LONG) {
        strcpy(ev->got[ev->n], "<long>");
        ev->len[ev->n++] = 6;
    }
}

static void cut(const char *s, size_t n, size_t step, events *ev)
{
    ds_ctl_lines l;
    ds_ctl_lines_init(&l);
    memset(ev, 0, sizeof *ev);
    const char *line = NULL;
    size_t len = 0;
    ds_ctl_ev e;
    for (size_t at = 0; at < n;) {
        size_t k = step && n - at > step ? step : n - at;
        size_t took = ds_ctl_lines_take(&l, (const uint8_t *)s + at, k, &e, &line, &len);
        assert_true(took >= 1 && took <= k);
        assert_true(e != DS_CTL_EV_NONE || took == k);
        at += took;
        record(ev, e, line, len);
    }
    record(ev, ds_ctl_lines_end(&l, &line, &len), line, len);
    assert_int_equal(ds_ctl_lines_end(&l, &line, &len), DS_CTL_EV_NONE); /* said once */
}

static void lines_in_pieces(void **state)
{
    (void)state;
    const char in[] = "reset\r\n\nstatus\npower-cut 50\nres\0et\r\r\nlast";
    size_t n = sizeof in - 1;
    for (size_t step = 0; step <= 7; step++) {
        events ev;
        cut(in, n, step, &ev);
        assert_int_equal(ev.n, 6);
        assert_string_equal(ev.got[0], "reset");
        assert_int_equal(ev.len[1], 0); /* an empty line is a line (parsed: blank) */
        assert_string_equal(ev.got[2], "status");
        assert_string_equal(ev.got[3], "power-cut 50");
        assert_int_equal(ev.len[4], 7); /* the NUL and the first CR stay in it */
        assert_memory_equal(ev.got[4], "res\0et\r", 7);
        assert_string_equal(ev.got[5], "last"); /* not ended: a line at the end */
    }
}

/* A line of DS_CTL_LINE_MAX bytes is a line, with or without CR; one byte
 * more is too long, said once, and nothing of it is taken for a command;
 * the line after it is whole. */
static void lines_too_long(void **state)
{
    (void)state;
    static char in[6 * DS_CTL_LINE_MAX];
    size_t n = 0;
    memset(in + n, 'a', DS_CTL_LINE_MAX);
    n += DS_CTL_LINE_MAX;
    in[n++] = '\n';
    memset(in + n, 'b', DS_CTL_LINE_MAX);
    n += DS_CTL_LINE_MAX;
    in[n++] = '\r';
    in[n++] = '\n';
    memset(in + n, 'c', DS_CTL_LINE_MAX + 1);
    n += DS_CTL_LINE_MAX + 1;
    in[n++] = '\n';
    memset(in + n, 'd', 600);
    memcpy(in + n + 590, "reset\r", 6); /* the tail of a long line is no command */
    n += 600;
    memcpy(in + n, "\nstatus\n", 8);
    n += 8;
    for (size_t step = 0; step <= 3; step++) {
        events ev;
        cut(in, n, step ? step * 100 + 1 : 0, &ev);
        assert_int_equal(ev.n, 5);
        assert_int_equal(ev.len[0], DS_CTL_LINE_MAX);
        assert_int_equal(ev.got[0][DS_CTL_LINE_MAX - 1], 'a');
        assert_int_equal(ev.len[1], DS_CTL_LINE_MAX);
        assert_int_equal(ev.got[1][DS_CTL_LINE_MAX - 1], 'b');
        assert_string_equal(ev.got[2], "<long>");
        assert_string_equal(ev.got[3], "<long>");
        assert_string_equal(ev.got[4], "status");
    }
    /* a long line the client never ends: said once, then nothing */
    events ev;
    memset(in, 'x', sizeof in);
    cut(in, sizeof in, 0, &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "<long>");
    /* one byte over, then the end: too long at the end */
    cut(in, DS_CTL_LINE_MAX + 1, 0, &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "<long>");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commands),
        cmocka_unit_test(blank_lines),
        cmocka_unit_test(refused),
        cmocka_unit_test(quoted_short),
        cmocka_unit_test(usage_is_the_table),
        cmocka_unit_test(lines_in_pieces),
        cmocka_unit_test(lines_too_long),
    };
    return dk_suite_run(argc, argv, tests, NULL, NULL);
}
