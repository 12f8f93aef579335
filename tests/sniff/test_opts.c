/* test_opts.c - dfusniff's pure parts: command line and line settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "line.h"
#include "opts.h"

#define PARSE(o, err, ...)                                                                         \
    sn_opts_parse((int)(sizeof((char *[]){"dfusniff", __VA_ARGS__}) / sizeof(char *)),             \
                  (char *[]){"dfusniff", __VA_ARGS__}, (o), (err), sizeof(err))

static void mitm_ok(void **state)
{
    (void)state;
    sn_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--port", "/dev/ttyUSB0", "--link", "/tmp/l", "-w", "x.pcap"), SN_OPTS_RUN);
    assert_int_equal(o.mode, SN_MODE_MITM);
    assert_string_equal(o.port, "/dev/ttyUSB0");
    assert_string_equal(o.link, "/tmp/l");
    assert_string_equal(o.out, "x.pcap");
    assert_int_equal(o.baud, 115200);
    assert_false(o.live);
    assert_int_equal(PARSE(&o, err, "--port=/dev/ttyS1", "-wout.pcap", "-b9600", "--live", "-v"), SN_OPTS_RUN);
    assert_string_equal(o.port, "/dev/ttyS1");
    assert_string_equal(o.out, "out.pcap");
    assert_int_equal(o.baud, 9600);
    assert_true(o.live);
    assert_int_equal(o.verbose, 1);
    /* --live alone is enough */
    assert_int_equal(PARSE(&o, err, "--port", "/dev/ttyS1", "--live"), SN_OPTS_RUN);
    assert_null(o.out);
}

static void tap_ok(void **state)
{
    (void)state;
    sn_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--tap-host", "A", "--tap-target", "B", "-b", "1000000", "-w", "-"), SN_OPTS_RUN);
    assert_int_equal(o.mode, SN_MODE_TAP);
    assert_string_equal(o.tap_host, "A");
    assert_string_equal(o.tap_target, "B");
    assert_int_equal(o.baud, 1000000);
    assert_string_equal(o.out, "-");
}

static void bad(void **state)
{
    (void)state;
    sn_opts o;
    char err[256];
    static const struct {
        const char *args[8];
        int n;
        const char *says;
    } cases[] = {
        {{"--port"}, 1, "option '--port' needs an argument"},
        {{"--port", ""}, 2, "non-empty"},
        {{"-x"}, 1, "unknown option '-x'"},
        {{"file"}, 1, "unexpected argument 'file'"},
        {{"--port", "A", "-b", "0", "-w", "f"}, 6, "unsupported baud rate 0"},
        {{"--port", "A", "-b", "-9600", "-w", "f"}, 6, "unsupported baud rate -9600"},
        {{"--port", "A", "-b", "9600x", "-w", "f"}, 6, "unsupported baud rate 9600x"},
        {{"--port", "A", "-b", "99999999999999999999", "-w", "f"}, 6, "unsupported baud rate"},
        {{"--port", "A", "-b", "9600", "-b", "9600", "-w", "f"}, 8, "given twice"},
        {{"--port", "A"}, 2, "nothing to do"},
        {{"-w", "f"}, 2, "nothing to listen to"},
        {{"--port", "A", "--tap-target", "B", "-w", "f"}, 6, "exclude each other"},
        {{"--tap-target", "B", "-w", "f"}, 4, "--tap-target needs --tap-host"},
        {{"--tap-host", "A", "--tap-target", "B", "--link", "L", "-w", "f"}, 8, "--link only applies"},
        {{"--tap-host", "A", "--tap-target", "A", "-w", "f"}, 6, "same port A"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[9] = {"dfusniff"};
        for (int k = 0; k < cases[i].n; k++)
            argv[k + 1] = (char *)cases[i].args[k];
        err[0] = 0;
        assert_int_equal(sn_opts_parse(cases[i].n + 1, argv, &o, err, sizeof err), SN_OPTS_BAD);
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].says);
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(PARSE(&o, err, "--port", "A", "--help"), SN_OPTS_HELP);
    assert_int_equal(PARSE(&o, err, "--version"), SN_OPTS_VERSION);
}

static void line_roundtrip(void **state)
{
    (void)state;
    static const sn_line cases[] = {
        {115200, 8, 'N', 1, SN_FLOW_NONE}, {9600, 7, 'E', 2, SN_FLOW_RTSCTS}, {1000000, 8, 'O', 1, SN_FLOW_XONXOFF},
        {300, 5, 'M', 1, SN_FLOW_BOTH},    {57600, 6, 'S', 2, SN_FLOW_NONE},   {4000000, 8, 'N', 1, SN_FLOW_RTSCTS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct termios t;
        memset(&t, 0xA5, sizeof t); /* whatever was there before */
        assert_true(sn_line_to_termios(&cases[i], &t));
        sn_line back = sn_line_from_termios(&t);
        assert_true(sn_line_eq(&back, &cases[i]));
        /* raw: no echo, no canonical mode, no output processing, 1-byte reads */
        assert_int_equal(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0);
        assert_int_equal(t.c_oflag & OPOST, 0);
        assert_int_equal(t.c_iflag & (ICRNL | INLCR | ISTRIP), 0);
        assert_true(t.c_cflag & CREAD);
        assert_int_equal(t.c_cc[VMIN], 1);
    }
    sn_line odd = {12345, 8, 'N', 1, SN_FLOW_NONE};
    struct termios t = {0};
    assert_false(sn_line_to_termios(&odd, &t));
}

static void line_misc(void **state)
{
    (void)state;
    assert_int_equal(sn_baud_of_speed(B115200), 115200);
    assert_int_equal(sn_baud_of_speed(B921600), 921600);
    assert_int_equal(sn_speed_of_baud(460800), B460800);
    assert_int_equal(sn_speed_of_baud(0), 0);
    assert_int_equal(sn_speed_of_baud(250000), 0);
    char buf[64];
    sn_line l = {9600, 7, 'E', 2, SN_FLOW_RTSCTS};
    assert_string_equal(sn_line_str(&l, buf, sizeof buf), "9600 7E2 rtscts");
    sn_line d = sn_line_default(115200);
    assert_string_equal(sn_line_str(&d, buf, sizeof buf), "115200 8N1 none");
    sn_line e = d;
    e.stop = 2;
    assert_false(sn_line_eq(&d, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mitm_ok), cmocka_unit_test(tap_ok), cmocka_unit_test(bad),
        cmocka_unit_test(line_roundtrip), cmocka_unit_test(line_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
