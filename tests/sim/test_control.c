/* test_control.c - dfusim's --control socket (sim/control.h): its mode, its
 * lines and their commands, a client dropped while it is being answered,
 * lines too long, NUL bytes and bad arguments answered, a last line without
 * its end, a client that does not read its answers, and removal at close
 * only of the socket it bound. */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "dk_suite.h"
#include "dk_test.h"

typedef struct {
    ds_ctl *ctl;
    char got[8][64];
    int n;
    bool drop_on_second;
    size_t answer; /* bytes of each answer ("ok ..." padded) */
} seen;

static void on_req(void *ctx, const ds_ctl_req *req)
{
    seen *s = ctx;
    char line[600];
    assert_true(ds_ctl_format(req, line, sizeof line) > 0);
    if (s->n < 8)
        snprintf(s->got[s->n], sizeof s->got[0], "%.63s", line);
    s->n++;
    if (s->answer) {
        char big[8192];
        memset(big, '.', s->answer);
        big[s->answer - 1] = '\n';
        ds_ctl_write(s->ctl, big, s->answer);
    } else {
        ds_ctl_reply(s->ctl, "ok %s\n", line);
    }
    if (s->drop_on_second && s->n == 2) { /* the client goes away while answered */
        close(s->ctl->conn);
        s->ctl->conn = -1;
    }
}

/* What the client has been answered so far (within 200 ms). */
static char *answers(int fd)
{
    static char buf[8192];
    size_t n = 0;
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    while (n < sizeof buf - 1 && poll(&pf, 1, 200) > 0) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    return buf;
}

static int client(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

typedef struct {
    char dir[256], path[300];
    ds_ctl ctl;
} fix;

static int setup(void **state)
{
    static fix f;
    memset(&f, 0, sizeof f);
    if (dk_test_tmpdir(f.dir, sizeof f.dir))
        return -1;
    snprintf(f.path, sizeof f.path, "%s/ctl", f.dir);
    ds_ctl_init(&f.ctl);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    ds_ctl_close(&f->ctl);
    dk_test_rmtree(f->dir);
    return 0;
}

static void mode_0600_whatever_the_umask(void **state)
{
    fix *f = *state;
    mode_t old = umask(0);
    int rc = ds_ctl_open(&f->ctl, f->path);
    umask(old);
    assert_int_equal(rc, 0);
    struct stat st;
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
}

/* A connected client; the server side accepted. */
static int connected(fix *f)
{
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), 0);
    int c = client(f->path);
    ds_ctl_accept(&f->ctl);
    assert_true(f->ctl.conn >= 0);
    return c;
}

static void send_all(int c, const char *p, size_t n)
{
    assert_int_equal(write(c, p, n), (ssize_t)n);
}

static void lines_and_answers(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl };
    const char *in = "reset\r\n\nstatus\npower-";
    send_all(c, in, strlen(in));
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 2); /* the empty line is no command, "power-" waits */
    assert_string_equal(s.got[0], "reset");
    assert_string_equal(s.got[1], "status");
    send_all(c, "cut 50\n", 7);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.got[2], "power-cut 50");
    assert_string_equal(answers(c), "ok reset\nok status\nok power-cut 50\n");
    close(c);
    ds_ctl_read(&f->ctl, on_req, &s); /* end of file: the client is dropped */
    assert_int_equal(f->ctl.conn, -1);
}

/* Many commands in one read, all of them, in order. */
static void many_in_one_read(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl };
    char in[1024] = "";
    for (int i = 0; i < 100; i++)
        strcat(in, i % 2 ? "stall\n" : "status\n");
    send_all(c, in, strlen(in));
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 100);
    assert_string_equal(s.got[6], "status");
    assert_string_equal(s.got[7], "stall");
    close(c);
}

static void client_dropped_while_answered(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl, .drop_on_second = true };
    const char *in = "reset\nstall\nstatus\nenter-dfu\n";
    send_all(c, in, strlen(in));
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 2); /* nothing after the client went */
    close(c);
    /* the next client starts afresh */
    c = client(f->path);
    ds_ctl_accept(&f->ctl);
    s.drop_on_second = false;
    send_all(c, "status\n", 7);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.got[2], "status");
    close(c);
}

/* A line too long is answered once, as soon as it is, and none of it is
 * taken for a command (its tail used to be: here "reset"); the next line is
 * whole. */
static void line_too_long(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl };
    char big[700];
    memset(big, 'x', sizeof big);
    send_all(c, big, 600);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_string_equal(answers(c), "error: line too long (more than 511 bytes): dropped\n");
    send_all(c, "xxreset\nstatus\n", 15);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.got[0], "status");
    assert_string_equal(answers(c), "ok status\n");
    close(c);
}

/* A NUL byte no longer hides the line end after it (the line was left
 * unfinished until the buffer overflowed), a lone CR or other control byte
 * is refused, bad arguments are answered, and the commands around them go
 * on. */
static void bad_lines_answered(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl };
    const char in[] = "res\0et\nstatus\npower-cut abc\npower-cut 12x\nreset now\nsta\rtus\nexplode\nstall\n";
    send_all(c, in, sizeof in - 1);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.got[0], "status");
    assert_string_equal(s.got[1], "stall");
    assert_string_equal(answers(c),
                        "error: control byte 0x00 at column 4 (commands are text)\n"
                        "ok status\n"
                        "error: power-cut: 'abc' is not a time in ms (a whole number from 0 to 3600000, "
                        "decimal or 0x-hex)\n"
                        "error: power-cut: '12x' is not a time in ms (a whole number from 0 to 3600000, "
                        "decimal or 0x-hex)\n"
                        "error: reset takes no argument (got 'now')\n"
                        "error: control byte 0x0D at column 4 (commands are text)\n"
                        "error: unknown command 'explode' (" DS_CTL_USAGE ")\n"
                        "ok stall\n");
    close(c);
}

/* A client that sends its last command without a line end and closes its
 * side ("printf status | nc -U") gets it done and answered. */
static void last_line_unended(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl };
    send_all(c, "reset\nstatus", 12);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(shutdown(c, SHUT_WR), 0);
    ds_ctl_read(&f->ctl, on_req, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.got[1], "status");
    assert_string_equal(answers(c), "ok reset\nok status\n");
    assert_int_equal(f->ctl.conn, -1);
    close(c);
}

/* A client that sends and never reads is dropped once its answers no longer
 * fit: dfusim must not block on it (its write waited for ever). */
static void client_not_reading(void **state)
{
    fix *f = *state;
    int c = connected(f);
    seen s = { .ctl = &f->ctl, .answer = 8000 };
    alarm(20); /* a write that blocks ends the test here */
    char in[1000];
    for (size_t i = 0; i + 7 <= sizeof in; i += 7)
        memcpy(in + i, "status\n", 7);
    int rounds = 0;
    while (f->ctl.conn >= 0 && rounds < 10000) {
        send_all(c, in, sizeof in / 7 * 7);
        ds_ctl_read(&f->ctl, on_req, &s);
        rounds++;
    }
    alarm(0);
    assert_int_equal(f->ctl.conn, -1);
    assert_true(s.n > 0);
    close(c);
}

/* An answer longer than the reply buffer is cut and still ends its line. */
static void long_reply_one_line(void **state)
{
    fix *f = *state;
    int c = connected(f);
    char word[700];
    memset(word, 'y', sizeof word - 1);
    word[sizeof word - 1] = 0;
    ds_ctl_reply(&f->ctl, "error: %s\n", word);
    char *got = answers(c);
    assert_int_equal(strlen(got), 511);
    assert_int_equal(got[510], '\n');
    assert_null(strchr(got, '\n') != got + 510 ? got : NULL);
    close(c);
}

static void close_removes_only_its_own(void **state)
{
    fix *f = *state;
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), 0);
    ds_ctl_close(&f->ctl);
    assert_int_not_equal(access(f->path, F_OK), 0);
    /* a socket that someone else put at the path after ours is left */
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), 0);
    unlink(f->path);
    assert_int_equal(dk_test_write_file(f->path, "x", 1), 0);
    ds_ctl_close(&f->ctl);
    assert_int_equal(access(f->path, F_OK), 0);
    /* and a file that is not a socket is not replaced */
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), -1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mode_0600_whatever_the_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_and_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(many_in_one_read, setup, teardown),
        cmocka_unit_test_setup_teardown(client_dropped_while_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(line_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_lines_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(last_line_unended, setup, teardown),
        cmocka_unit_test_setup_teardown(client_not_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(long_reply_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(close_removes_only_its_own, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return dk_suite_run(argc, argv, tests, NULL, NULL);
}
