/* test_serial.c - serial lines (serial.h) on pty pairs: the settings <->
 * termios mapping, open (by path and through a symlink), settings read back
 * from the other end, reads with and without a timeout, write all, a
 * read-only line that refuses to write, dropping input from before the open,
 * presence, and one-line errors for unusable paths. */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "dfukit/serial.h"
#include "dk_proc.h"
#include "dk_test.h"

/* Per test: a far end (the master of a pty pair, raw so nothing is echoed;
 * the slave is the port under test), a line on it opened 115200 8N1 (flags
 * from the test's entry in main), and a scratch directory. */
typedef struct {
    int m;
    char slave[128];
    dk_serial *s;
    char dir[256];
} line_fx;

static int line_up(void **state, unsigned flags)
{
    line_fx *f = calloc(1, sizeof *f);
    if (!f || dk_test_tmpdir(f->dir, sizeof f->dir) < 0)
        return -1;
    f->m = dk_test_pty_pair(f->slave, sizeof f->slave, 0);
    dk_serial_cfg c = dk_serial_cfg_default(115200);
    f->s = dk_serial_open(f->slave, &c, flags, NULL);
    *state = f;
    return f->s ? 0 : -1;
}

static int line_rw(void **state) { return line_up(state, 0); }
static int line_ro(void **state) { return line_up(state, DK_SERIAL_READ_ONLY); }

static int line_down(void **state)
{
    line_fx *f = *state;
    dk_serial_close(f->s);
    if (f->m >= 0)
        close(f->m);
    dk_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Read exactly n bytes from a line (they may come in pieces). */
static void read_exact(dk_serial *s, uint8_t *buf, size_t n)
{
    dk_err e = {0};
    while (n) {
        long k = dk_serial_read(s, buf, n, 5000, &e);
        assert_true(k > 0);
        buf += k;
        n -= (size_t)k;
    }
}

/* Read exactly n bytes from fd (non-blocking), waiting as needed. */
static void get_all(int fd, uint8_t *buf, size_t n)
{
    while (n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        assert_true(poll(&pf, 1, 5000) > 0);
        ssize_t k = read(fd, buf, n);
        if (k < 0 && errno == EAGAIN)
            continue;
        assert_true(k > 0);
        buf += k;
        n -= (size_t)k;
    }
}

/* ---- settings, pure ---- */

static void test_cfg_termios_round_trip(void **state)
{
    (void)state;
    static const dk_serial_cfg cases[] = {
        {115200, 8, 'N', 1, DK_SERIAL_FLOW_NONE}, {9600, 7, 'E', 2, DK_SERIAL_FLOW_RTSCTS},
        {1000000, 8, 'O', 1, DK_SERIAL_FLOW_XONXOFF}, {300, 5, 'M', 1, DK_SERIAL_FLOW_BOTH},
        {57600, 6, 'S', 2, DK_SERIAL_FLOW_NONE}, {4000000, 8, 'N', 1, DK_SERIAL_FLOW_RTSCTS},
        {0, 8, 'N', 1, DK_SERIAL_FLOW_NONE}, /* B0: hang up */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct termios t;
        memset(&t, 0xa5, sizeof t); /* whatever was there before: raw afterwards */
        assert_true(dk_serial_cfg_to_termios(&cases[i], &t));
        assert_int_equal(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
        assert_int_equal(t.c_oflag & OPOST, 0);
        assert_int_equal(t.c_cflag & (CREAD | CLOCAL), CREAD | CLOCAL);
        assert_int_equal(t.c_cc[VMIN], 1);
        assert_int_equal(t.c_cc[VTIME], 0);
        dk_serial_cfg back = dk_serial_cfg_from_termios(&t);
        assert_true(dk_serial_cfg_eq(&back, &cases[i]));
    }
}

static void test_cfg_unsupported_baud(void **state)
{
    (void)state;
    dk_serial_cfg odd = {12345, 8, 'N', 1, DK_SERIAL_FLOW_NONE};
    struct termios t, before;
    memset(&t, 0x5a, sizeof t);
    before = t;
    assert_false(dk_serial_cfg_to_termios(&odd, &t));
    assert_memory_equal(&t, &before, sizeof t); /* untouched */
    assert_int_equal(dk_serial_speed_of_baud(12345), 0);
    assert_int_equal(dk_serial_speed_of_baud(0), 0);
    assert_int_equal(dk_serial_speed_of_baud(921600), B921600);
    assert_int_equal(dk_serial_baud_of_speed(B1000000), 1000000);
    assert_int_equal(dk_serial_baud_of_speed(B0), 0);
}

static void test_cfg_str_eq(void **state)
{
    (void)state;
    char buf[64];
    dk_serial_cfg c = {9600, 7, 'E', 2, DK_SERIAL_FLOW_RTSCTS};
    assert_string_equal(dk_serial_cfg_str(&c, buf, sizeof buf), "9600 7E2 rtscts");
    dk_serial_cfg d = dk_serial_cfg_default(115200);
    assert_string_equal(dk_serial_cfg_str(&d, buf, sizeof buf), "115200 8N1 none");
    d.flow = DK_SERIAL_FLOW_BOTH;
    assert_string_equal(dk_serial_cfg_str(&d, buf, sizeof buf), "115200 8N1 rtscts+xonxoff");
    dk_serial_cfg e = dk_serial_cfg_default(115200);
    assert_false(dk_serial_cfg_eq(&d, &e));
    e.flow = DK_SERIAL_FLOW_BOTH;
    assert_true(dk_serial_cfg_eq(&d, &e));
    e.stop = 2;
    assert_false(dk_serial_cfg_eq(&d, &e));
}

/* ---- an open line on a pty ---- */

static void test_open_pty_settings(void **state)
{
    (void)state;
    char slave[128];
    int m = dk_test_pty_pair(slave, sizeof slave, 0);
    dk_serial_cfg c = {230400, 8, 'N', 2, DK_SERIAL_FLOW_RTSCTS};
    dk_err e = {0};
    dk_serial *s = dk_serial_open(slave, &c, 0, &e);
    assert_non_null(s);
    assert_string_equal(dk_serial_kind(s), "termios"); /* libserialport cannot open a pty */
    assert_false(dk_serial_is_real(s));
    assert_string_equal(dk_serial_path(s), slave);
    int fd = dk_serial_fd(s);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    /* what the other end sees: termios on the master acts on the slave */
    struct termios t;
    assert_int_equal(tcgetattr(m, &t), 0);
    dk_serial_cfg seen = dk_serial_cfg_from_termios(&t);
    assert_true(dk_serial_cfg_eq(&seen, &c));
    assert_int_equal(t.c_lflag & (ICANON | ECHO), 0);

    /* new settings on the open line */
    dk_serial_cfg c2 = {9600, 8, 'N', 1, DK_SERIAL_FLOW_XONXOFF};
    assert_int_equal(dk_serial_apply(s, &c2, &e), DK_OK);
    assert_int_equal(tcgetattr(m, &t), 0);
    seen = dk_serial_cfg_from_termios(&t);
    assert_true(dk_serial_cfg_eq(&seen, &c2));

    dk_serial_cfg bad = {12345, 8, 'N', 1, DK_SERIAL_FLOW_NONE};
    assert_int_equal(dk_serial_apply(s, &bad, &e), DK_E_USAGE);
    assert_string_equal(e.msg, "baud 12345 is not one termios knows");
    assert_int_equal(tcgetattr(m, &t), 0); /* the line keeps what it had */
    seen = dk_serial_cfg_from_termios(&t);
    assert_true(dk_serial_cfg_eq(&seen, &c2));

    dk_serial_close(s);
    close(m);
}

static void test_read_timeout_and_data(void **state)
{
    line_fx *f = *state;
    dk_err e = {0};
    uint8_t buf[64];
    assert_int_equal(dk_serial_read(f->s, buf, sizeof buf, 0, &e), 0);  /* nothing, no wait */
    assert_int_equal(dk_serial_read(f->s, buf, sizeof buf, 20, &e), 0); /* nothing within 20 ms */
    assert_int_equal(write(f->m, "\x09\x01\xc0", 3), 3);
    read_exact(f->s, buf, 3);
    assert_memory_equal(buf, "\x09\x01\xc0", 3);
    assert_int_equal(dk_serial_read(f->s, buf, sizeof buf, 0, &e), 0);
}

typedef struct {
    int fd;
    size_t len;
    uint8_t *buf;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    get_all(a->fd, a->buf, a->len);
    return NULL;
}

/* More than a pty holds at once: dk_serial_write waits while it is full. */
static void test_write_all(void **state)
{
    line_fx *f = *state;
    dk_err e = {0};
    size_t len = 256 * 1024;
    uint8_t *out = malloc(len), *in = malloc(len);
    assert_non_null(out);
    assert_non_null(in);
    dk_test_fill(out, len, 7);
    reader_arg a = {f->m, len, in};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader, &a), 0);
    assert_int_equal(dk_serial_write(f->s, out, len, &e), DK_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
}

static void test_write_after_far_end_closed(void **state)
{
    line_fx *f = *state;
    dk_err e = {0};
    close(f->m);
    f->m = -1;
    assert_int_equal(dk_serial_write(f->s, (const uint8_t *)"x", 1, &e), DK_E_IO);
    assert_non_null(strstr(e.msg, "write"));
}

static void test_read_only(void **state)
{
    line_fx *f = *state;
    dk_err e = {0};
    assert_int_equal(fcntl(dk_serial_fd(f->s), F_GETFL) & O_ACCMODE, O_RDONLY);
    assert_int_equal(dk_serial_write(f->s, (const uint8_t *)"\xc0", 1, &e), DK_E_USAGE);
    assert_string_equal(e.msg, "the port is open read-only");
    struct pollfd pf = {.fd = f->m, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 50), 0); /* nothing reached the far end */
    assert_int_equal(write(f->m, "ok", 2), 2); /* reading still works */
    uint8_t b[2];
    read_exact(f->s, b, 2);
    assert_memory_equal(b, "ok", 2);
}

/* Bytes that reached the port before it was opened: dropped with
 * DK_SERIAL_FLUSH_INPUT, read without. */
static void test_flush_input(void **state)
{
    line_fx *f = *state;
    for (int flush = 0; flush < 2; flush++) {
        assert_int_equal(write(f->m, "old", 3), 3);
        struct pollfd pf = {.fd = dk_serial_fd(f->s), .events = POLLIN};
        assert_int_equal(poll(&pf, 1, 5000), 1); /* arrived, not read */

        dk_serial_cfg c = dk_serial_cfg_default(115200);
        dk_err e = {0};
        dk_serial *s = dk_serial_open(f->slave, &c, flush ? DK_SERIAL_FLUSH_INPUT : 0, &e);
        assert_non_null(s);
        uint8_t b[8];
        if (flush) {
            assert_int_equal(dk_serial_read(s, b, sizeof b, 0, &e), 0);
            assert_int_equal(dk_serial_read(f->s, b, sizeof b, 0, &e), 0); /* one queue per line */
        } else {
            read_exact(s, b, 3);
            assert_memory_equal(b, "old", 3);
        }
        dk_serial_close(s);
    }
}

/* Through a symlink (dfusim --link): still a pty, still termios; present
 * until the name goes away. */
static void test_symlink_and_presence(void **state)
{
    line_fx *f = *state;
    char link[512];
    dk_test_path(link, sizeof link, f->dir, "port");
    assert_int_equal(symlink(f->slave, link), 0);
    dk_serial_cfg c = dk_serial_cfg_default(115200);
    dk_err e = {0};
    dk_serial *s = dk_serial_open(link, &c, 0, &e);
    assert_non_null(s);
    assert_string_equal(dk_serial_kind(s), "termios");
    assert_string_equal(dk_serial_path(s), link);
    assert_true(dk_serial_present(s));
    uint8_t lines = 0x7f;
    assert_false(dk_serial_signals(s, &lines)); /* Linux ptys refuse TIOCMGET */
    assert_int_equal(lines, 0x7f);
    assert_int_equal(unlink(link), 0);
    assert_false(dk_serial_present(s));
    dk_serial_close(s);
}

static void test_open_errors(void **state)
{
    line_fx *f = *state;
    char plain[512];
    dk_test_path(plain, sizeof plain, f->dir, "plain-file");
    assert_int_equal(dk_test_write_file(plain, "x", 1), 0);
    dk_serial_cfg ok = dk_serial_cfg_default(115200), odd = dk_serial_cfg_default(12345);
    const struct {
        const char *path;
        const dk_serial_cfg *cfg;
        dk_status status;
        const char *msg;
    } cases[] = {
        {"/dev/nonexistent-tty", &ok, DK_E_IO, "cannot open port: No such file or directory"},
        {plain, &ok, DK_E_IO, "not a serial port (not a character device)"},
        {"/dev/null", &ok, DK_E_IO, "not a serial port (not a terminal)"},
        {f->slave, &odd, DK_E_USAGE, "baud 12345 is not one termios knows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_err e = {0};
        assert_null(dk_serial_open(cases[i].path, cases[i].cfg, 0, &e));
        assert_int_equal(e.status, cases[i].status);
        assert_string_equal(e.msg, cases[i].msg);
        assert_null(strchr(e.msg, '\n'));
    }
    assert_null(dk_serial_open("/dev/nonexistent-tty", &ok, 0, NULL)); /* err may be NULL */
}

int main(void)
{
#define LINE_TEST(t, up) cmocka_unit_test_setup_teardown(t, up, line_down)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_termios_round_trip),
        cmocka_unit_test(test_cfg_unsupported_baud),
        cmocka_unit_test(test_cfg_str_eq),
        cmocka_unit_test(test_open_pty_settings),
        LINE_TEST(test_read_timeout_and_data, line_rw),
        LINE_TEST(test_write_all, line_rw),
        LINE_TEST(test_write_after_far_end_closed, line_rw),
        LINE_TEST(test_read_only, line_ro),
        LINE_TEST(test_flush_input, line_rw),
        LINE_TEST(test_symlink_and_presence, line_rw),
        LINE_TEST(test_open_errors, line_rw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
