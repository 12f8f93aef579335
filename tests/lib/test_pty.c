/* test_pty.c - the pty a host tool opens (pty.h): mode 0600, settings at
 * creation and as the host changes them, host-open detection with and
 * without DK_PTY_NO_HOST, the IN_OPEN watch, reads and writes, answers the
 * last host left unread dropped (and kept without the drop), --link made,
 * replacing only a stale pty link, refusing files, directories and foreign
 * links, removed at close only while it is still ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "dfukit/pty.h"
#include "dk_proc.h"
#include "dk_test.h"

static char g_dir[256];

/* name in the scratch directory (a few at once: a ring of buffers) */
static const char *in_dir(const char *name)
{
    static char ring[4][512];
    static unsigned k;
    k = (k + 1) % 4;
    return dk_test_path(ring[k], sizeof ring[k], g_dir, name);
}

static int host_open(const dk_pty *p)
{
    int fd = open(p->slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Wait until fd has something to read (without reading it). */
static void wait_readable(int fd)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 5000), 1);
    assert_true(pf.revents & POLLIN);
}

static void test_open_mode_and_settings(void **state)
{
    (void)state;
    dk_pty p;
    dk_err e = {0};
    assert_int_equal(dk_pty_open(&p, NULL, 0, &e), DK_OK);
    assert_true(p.master >= 0);
    assert_true(!strncmp(p.slave, "/dev/pts/", 9));
    assert_null(p.link);
    struct stat st;
    assert_int_equal(stat(p.slave, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, getuid());
    assert_true(fcntl(p.master, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(p.master, F_GETFD) & FD_CLOEXEC);
    char d[64];
    dk_pty_describe(&p, d, sizeof d);
    assert_string_equal(d, "115200 8N1 raw");
    dk_serial_cfg c;
    assert_true(dk_pty_cfg(&p, &c));
    dk_serial_cfg want = dk_serial_cfg_default(115200);
    assert_true(dk_serial_cfg_eq(&c, &want));
    dk_pty_close(&p);
    assert_int_equal(p.master, -1);
    dk_pty_close(&p); /* twice is harmless */

    /* given settings, as the host finds them when it opens the slave */
    dk_serial_cfg set = {9600, 8, 'N', 2, DK_SERIAL_FLOW_RTSCTS};
    assert_int_equal(dk_pty_open(&p, &set, 0, &e), DK_OK);
    int h = host_open(&p);
    struct termios t;
    assert_int_equal(tcgetattr(h, &t), 0);
    c = dk_serial_cfg_from_termios(&t);
    assert_true(dk_serial_cfg_eq(&c, &set));
    assert_int_equal(t.c_lflag & (ICANON | ECHO), 0);
    dk_pty_describe(&p, d, sizeof d);
    assert_string_equal(d, "9600 8N2 raw rtscts");

    /* the host changes them: seen through the master */
    cfsetispeed(&t, B57600);
    cfsetospeed(&t, B57600);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | CRTSCTS);
    t.c_lflag |= ICANON | ECHO;
    assert_int_equal(tcsetattr(h, TCSANOW, &t), 0);
    assert_true(dk_pty_cfg(&p, &c));
    dk_serial_cfg now = dk_serial_cfg_default(57600);
    assert_true(dk_serial_cfg_eq(&c, &now));
    dk_pty_describe(&p, d, sizeof d);
    assert_string_equal(d, "57600 8N1 cooked");
    close(h);
    dk_pty_close(&p);
}

static void test_open_bad_baud(void **state)
{
    (void)state;
    dk_pty p;
    dk_err e = {0};
    dk_serial_cfg odd = dk_serial_cfg_default(12345);
    assert_int_equal(dk_pty_open(&p, &odd, 0, &e), DK_E_USAGE);
    assert_non_null(strstr(e.msg, "baud 12345 is not one termios knows"));
    assert_int_equal(p.master, -1);
    dk_pty_close(&p);
}

/* A fresh master looks as if a host were there until the first host leaves;
 * DK_PTY_NO_HOST reports "no host" from the start. */
static void test_host_open_detection(void **state)
{
    (void)state;
    dk_pty p;
    dk_err e = {0};
    assert_int_equal(dk_pty_open(&p, NULL, 0, &e), DK_OK);
    assert_true(dk_pty_host_open(&p));
    int h = host_open(&p);
    assert_true(dk_pty_host_open(&p));
    close(h);
    assert_false(dk_pty_host_open(&p));
    dk_pty_close(&p);

    assert_int_equal(dk_pty_open(&p, NULL, DK_PTY_NO_HOST, &e), DK_OK);
    uint8_t b[16];
    assert_false(dk_pty_host_open(&p));
    assert_int_equal(dk_pty_read(&p, b, sizeof b), -1); /* no host */
    for (int round = 0; round < 2; round++) {           /* open, close, again */
        h = host_open(&p);
        assert_true(dk_pty_host_open(&p));
        assert_int_equal(dk_pty_read(&p, b, sizeof b), 0); /* a host, nothing sent */
        assert_int_equal(write(h, "\xc0\x09\x01\xc0", 4), 4);
        wait_readable(p.master);
        assert_int_equal(dk_pty_read(&p, b, sizeof b), 4);
        assert_memory_equal(b, "\xc0\x09\x01\xc0", 4);
        close(h);
        assert_false(dk_pty_host_open(&p));
        assert_int_equal(dk_pty_read(&p, b, sizeof b), -1);
    }
    dk_pty_close(&p);
}

/* DK_PTY_WATCH_OPEN: p.opened wakes poll when a host opens the slave, not
 * for the pty's own open at creation. */
static void test_watch_open(void **state)
{
    (void)state;
    dk_pty p = DK_PTY_CLOSED;
    dk_pty_close(&p); /* never opened: nothing to close */
    dk_err e = {0};
    assert_int_equal(dk_pty_open(&p, NULL, DK_PTY_NO_HOST, &e), DK_OK);
    assert_int_equal(p.opened, -1); /* not asked for */
    dk_pty_close(&p);

    assert_int_equal(dk_pty_open(&p, NULL, DK_PTY_NO_HOST | DK_PTY_WATCH_OPEN, &e), DK_OK);
    assert_true(p.opened >= 0);
    assert_true(fcntl(p.opened, F_GETFD) & FD_CLOEXEC);
    struct pollfd pf = {.fd = p.opened, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 0), 0);
    int h = host_open(&p);
    assert_int_equal(poll(&pf, 1, 5000), 1);
    dk_pty_opened_drain(&p);
    assert_int_equal(poll(&pf, 1, 0), 0);
    assert_true(dk_pty_host_open(&p));
    close(h);
    dk_pty_close(&p);
    assert_int_equal(p.opened, -1);
}

static void test_write(void **state)
{
    (void)state;
    dk_pty p;
    dk_err e = {0};
    assert_int_equal(dk_pty_open(&p, NULL, DK_PTY_NO_HOST, &e), DK_OK);
    int h = host_open(&p);
    size_t n = 0;
    assert_int_equal(dk_pty_write(&p, (const uint8_t *)"\x60\x09\x01\xc0", 4, 1000, -1, &n), DK_PTY_SENT);
    assert_int_equal(n, 4);
    wait_readable(h);
    uint8_t b[8];
    assert_int_equal(read(h, b, sizeof b), 4);
    assert_memory_equal(b, "\x60\x09\x01\xc0", 4);

    /* a host that stops reading: the write gives up with what went out */
    size_t len = 1 << 20;
    uint8_t *big = calloc(1, len);
    assert_non_null(big);
    assert_int_equal(dk_pty_write(&p, big, len, 20, -1, &n), DK_PTY_STALLED);
    assert_true(n > 0);
    assert_true(n < len);

    /* a wake fd readable while it waits: it stops at once */
    int wake[2];
    assert_int_equal(pipe(wake), 0);
    assert_int_equal(write(wake[1], "x", 1), 1);
    int64_t t = dk_test_now_ms();
    assert_int_equal(dk_pty_write(&p, big, len, 5000, wake[0], &n), DK_PTY_WOKEN);
    assert_true(dk_test_now_ms() - t < 1000);
    close(wake[0]);
    close(wake[1]);

    /* the host dies with the pty full: a hang-up, told at once (it used to
     * be polled again and again until the timeout, which a hang-up never
     * reaches) */
    close(h);
    alarm(20); /* a spin would otherwise hold the test for ever */
    t = dk_test_now_ms();
    assert_int_equal(dk_pty_write(&p, big, len, 5000, -1, &n), DK_PTY_GONE);
    assert_true(dk_test_now_ms() - t < 1000);
    alarm(0);
    free(big);
    dk_pty_close(&p);
}

/* Answers the last host did not read wait for the next one in a pty; after
 * dk_pty_drop_unread the next host finds nothing. */
static void test_drop_unread(void **state)
{
    (void)state;
    for (int drop = 0; drop < 2; drop++) {
        dk_pty p;
        dk_err e = {0};
        assert_int_equal(dk_pty_open(&p, NULL, DK_PTY_NO_HOST, &e), DK_OK);
        int h = host_open(&p);
        assert_int_equal(dk_pty_write(&p, (const uint8_t *)"stale", 5, 1000, -1, NULL), DK_PTY_SENT);
        wait_readable(h); /* reached the host's side, never read */
        close(h);
        assert_false(dk_pty_host_open(&p));
        if (drop)
            dk_pty_drop_unread(&p);
        assert_false(dk_pty_host_open(&p)); /* the drop does not look like a host */
        h = host_open(&p);
        uint8_t b[8];
        struct pollfd pf = {.fd = h, .events = POLLIN};
        if (drop) {
            assert_int_equal(poll(&pf, 1, 50), 0);
            assert_int_equal(read(h, b, sizeof b), -1);
            assert_int_equal(errno, EAGAIN);
        } else {
            assert_int_equal(poll(&pf, 1, 5000), 1);
            assert_int_equal(read(h, b, sizeof b), 5);
            assert_memory_equal(b, "stale", 5);
        }
        close(h);
        dk_pty_close(&p);
    }
}

static void assert_link_to(const char *link, const char *target)
{
    char got[256];
    ssize_t n = readlink(link, got, sizeof got - 1);
    assert_true(n > 0);
    got[n] = 0;
    assert_string_equal(got, target);
}

static void test_link(void **state)
{
    (void)state;
    dk_pty p;
    dk_err e = {0};
    assert_int_equal(dk_pty_open(&p, NULL, 0, &e), DK_OK);
    const char *link = in_dir("port");
    assert_int_equal(dk_pty_link(&p, link, &e), DK_OK);
    assert_link_to(link, p.slave);
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s.%ld.tmp", link, (long)getpid());
    struct stat st;
    assert_int_equal(lstat(tmpname, &st), -1); /* no temporary left behind */
    dk_pty_close(&p);
    assert_int_equal(lstat(link, &st), -1); /* removed at close */

    /* a stale pty link (a killed tool's) is replaced */
    assert_int_equal(symlink("/dev/pts/98765", link), 0);
    assert_int_equal(dk_pty_open(&p, NULL, 0, &e), DK_OK);
    assert_int_equal(dk_pty_link(&p, link, &e), DK_OK);
    assert_link_to(link, p.slave);
    /* someone else took the name meanwhile: left alone at close */
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink("/dev/pts/98766", link), 0);
    dk_pty_close(&p);
    assert_link_to(link, "/dev/pts/98766");
    assert_int_equal(unlink(link), 0);
}

static void test_link_refused(void **state)
{
    (void)state;
    dk_pty p;
    dk_err e = {0};
    assert_int_equal(dk_pty_open(&p, NULL, 0, &e), DK_OK);

    const char *file = in_dir("file");
    assert_int_equal(dk_test_write_file(file, "keep", 4), 0);
    assert_int_equal(dk_pty_link(&p, file, &e), DK_E_USAGE);
    assert_string_equal(e.msg, "exists and is not a symlink; not replacing it");
    size_t len;
    char *kept = (char *)dk_test_read_file(file, &len);
    assert_non_null(kept);
    assert_int_equal(len, 4);
    assert_memory_equal(kept, "keep", 4);
    free(kept);

    const char *dir = in_dir("dir");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(dk_pty_link(&p, dir, &e), DK_E_USAGE);
    assert_string_equal(e.msg, "exists and is not a symlink; not replacing it");
    struct stat st;
    assert_int_equal(lstat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    const char *other = in_dir("other");
    assert_int_equal(symlink(file, other), 0);
    assert_int_equal(dk_pty_link(&p, other, &e), DK_E_USAGE);
    char want[700];
    snprintf(want, sizeof want, "exists and is a symlink to %s, not to a pty; not replacing it", file);
    assert_string_equal(e.msg, want);
    assert_link_to(other, file);

    const char *nowhere = in_dir("no-such-dir/port");
    assert_int_equal(dk_pty_link(&p, nowhere, &e), DK_E_IO);
    assert_string_equal(e.msg, "cannot make the link: No such file or directory");

    assert_null(p.link); /* nothing made, nothing to remove */
    dk_pty_close(&p);
    assert_int_equal(lstat(file, &st), 0);
    assert_link_to(other, file);
}

static int setup(void **state)
{
    (void)state;
    return dk_test_tmpdir(g_dir, sizeof g_dir);
}

static int teardown(void **state)
{
    (void)state;
    dk_test_rmtree(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_mode_and_settings),
        cmocka_unit_test(test_open_bad_baud),
        cmocka_unit_test(test_host_open_detection),
        cmocka_unit_test(test_watch_open),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_drop_unread),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_link_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
