/* test_control.c - dfusim's --control socket (sim/control.h): its mode, its
 * lines, a client dropped while it is being answered, a line too long, and
 * removal at close only of the socket it bound. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "dk_test.h"

typedef struct {
    ds_ctl *ctl;
    char got[8][64];
    int n;
    bool drop_on_second;
} seen;

static void on_line(void *ctx, char *line)
{
    seen *s = ctx;
    if (s->n < 8)
        snprintf(s->got[s->n], sizeof s->got[0], "%s", line);
    s->n++;
    ds_ctl_reply(s->ctl, "ok %s\n", line);
    if (s->drop_on_second && s->n == 2) { /* the client goes away while answered */
        close(s->ctl->conn);
        s->ctl->conn = -1;
        s->ctl->len = 0;
    }
}

static int client(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
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

static void lines_and_answers(void **state)
{
    fix *f = *state;
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), 0);
    int c = client(f->path);
    ds_ctl_accept(&f->ctl);
    assert_true(f->ctl.conn >= 0);
    seen s = { .ctl = &f->ctl };
    const char *in = "reset\r\n\nstatus\npower-";
    assert_int_equal(write(c, in, strlen(in)), (ssize_t)strlen(in));
    ds_ctl_read(&f->ctl, on_line, &s);
    assert_int_equal(s.n, 2); /* the empty line is no command, "power-" waits */
    assert_string_equal(s.got[0], "reset");
    assert_string_equal(s.got[1], "status");
    assert_int_equal(write(c, "cut 50\n", 7), 7);
    ds_ctl_read(&f->ctl, on_line, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.got[2], "power-cut 50");
    char buf[128] = "";
    ssize_t n = read(c, buf, sizeof buf - 1);
    assert_true(n > 0);
    assert_string_equal(buf, "ok reset\nok status\nok power-cut 50\n");
    close(c);
    ds_ctl_read(&f->ctl, on_line, &s); /* end of file: the client is dropped */
    assert_int_equal(f->ctl.conn, -1);
}

static void client_dropped_while_answered(void **state)
{
    fix *f = *state;
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), 0);
    int c = client(f->path);
    ds_ctl_accept(&f->ctl);
    seen s = { .ctl = &f->ctl, .drop_on_second = true };
    const char *in = "a\nb\nc\nd\n";
    assert_int_equal(write(c, in, strlen(in)), (ssize_t)strlen(in));
    ds_ctl_read(&f->ctl, on_line, &s);
    assert_int_equal(s.n, 2); /* nothing after the client went */
    assert_int_equal(f->ctl.len, 0);
    close(c);
}

static void line_too_long(void **state)
{
    fix *f = *state;
    assert_int_equal(ds_ctl_open(&f->ctl, f->path), 0);
    int c = client(f->path);
    ds_ctl_accept(&f->ctl);
    seen s = { .ctl = &f->ctl };
    char big[sizeof f->ctl.buf];
    memset(big, 'x', sizeof big);
    assert_int_equal(write(c, big, sizeof big), (ssize_t)sizeof big);
    while (f->ctl.len < sizeof f->ctl.buf - 1 && f->ctl.conn >= 0 && s.n == 0) {
        size_t before = f->ctl.len;
        ds_ctl_read(&f->ctl, on_line, &s);
        if (f->ctl.len == 0 || f->ctl.len == before)
            break;
    }
    char buf[128] = "";
    ssize_t n = read(c, buf, sizeof buf - 1);
    assert_true(n > 0);
    assert_string_equal(buf, "error: line too long\n");
    assert_int_equal(s.n, 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mode_0600_whatever_the_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_and_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(client_dropped_while_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(line_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(close_removes_only_its_own, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
