/* dk_proc.c - see dk_proc.h. */
#define _GNU_SOURCE /* ptsname_r */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/slip.h"
#include "dk_proc.h"
#include "dk_test.h"

int64_t dk_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dk_test_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

char *dk_test_slurp(const char *path)
{
    size_t n;
    char *t = (char *)dk_test_read_file(path, &n);
    return t ? t : strdup("");
}

int dk_test_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- processes ---- */

pid_t dk_test_spawn(const char *const argv[], const char *out, const char *err)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int dk_test_reap(pid_t pid, int ms)
{
    int64_t end = dk_test_now_ms() + ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (dk_test_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        dk_test_sleep_ms(5);
    }
}

long dk_test_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    assert_non_null(p);
    unsigned long ut = 0, st = 0;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime */
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
    return (long)(ut + st);
}

int dk_test_run(const char *const argv[], const char *out, const char *err, int ms)
{
    return dk_test_reap(dk_test_spawn(argv, out, err), ms);
}

/* ---- dfusim ---- */

static int nsims;
static pid_t live[16];

static void forget(pid_t pid)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] == pid)
            live[i] = 0;
}

void dk_test_sim_start(dk_test_sim *s, const char *dfusim, const char *dir,
                       const char *const extra[])
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = dfusim;
    for (size_t i = 0; extra && extra[i] && n + 1 < sizeof argv / sizeof argv[0]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    snprintf(s->out, sizeof s->out, "%s/sim%d.out", dir, nsims);
    snprintf(s->err, sizeof s->err, "%s/sim%d.err", dir, nsims);
    nsims++;
    s->pid = dk_test_spawn(argv, s->out, s->err);
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (!live[i]) {
            live[i] = s->pid;
            break;
        }
    int64_t end = dk_test_now_ms() + 5000;
    for (;;) {
        char *t = dk_test_slurp(s->out);
        char *nl = strchr(t, '\n');
        if (nl) {
            *nl = 0;
            snprintf(s->pty, sizeof s->pty, "%s", t);
            free(t);
            return;
        }
        free(t);
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            forget(s->pid);
            char *e = dk_test_slurp(s->err);
            fail_msg("dfusim exited at start: %s", e);
        }
        if (dk_test_now_ms() > end)
            fail_msg("dfusim printed no pty path within 5 s");
        dk_test_sleep_ms(2);
    }
}

void dk_test_sim_stop(dk_test_sim *s)
{
    kill(s->pid, SIGTERM);
    int rc = dk_test_reap(s->pid, 5000);
    forget(s->pid);
    if (rc != 0) {
        char *e = dk_test_slurp(s->err);
        fail_msg("dfusim ended with %d after SIGTERM:\n%s", rc, e);
    }
}

void dk_test_sim_kill(dk_test_sim *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    forget(s->pid);
}

void dk_test_sim_kill_all(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i]) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
}

/* ---- ptys and SLIP ---- */

void dk_test_raw_fd(int fd, speed_t speed)
{
    struct termios t;
    assert_int_equal(tcgetattr(fd, &t), 0);
    cfmakeraw(&t);
    if (speed) {
        cfsetispeed(&t, speed);
        cfsetospeed(&t, speed);
    }
    assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
}

int dk_test_pty_pair(char *slave, size_t cap, speed_t speed)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    assert_true(m >= 0);
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    assert_int_equal(ptsname_r(m, slave, cap), 0);
    dk_test_raw_fd(m, speed);
    return m;
}

int dk_test_port_open(const char *path, speed_t speed)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    dk_test_raw_fd(fd, speed);
    return fd;
}

void dk_test_send_raw(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        assert_true(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

void dk_test_send_frame(int fd, const uint8_t *req, size_t n)
{
    uint8_t *enc = malloc(DK_SLIP_MAX_ENCODED(n));
    assert_non_null(enc);
    size_t e = dk_slip_encode(req, n, enc);
    dk_test_send_raw(fd, enc, e);
    free(enc);
}

typedef struct {
    uint8_t buf[512];
    size_t len;
    bool got;
} rx_t;

static void on_frame(void *ctx, const dk_slip_event *ev)
{
    rx_t *r = ctx;
    if (ev->kind == DK_SLIP_FRAME && !r->got) {
        memcpy(r->buf, ev->data, ev->len);
        r->len = ev->len;
        r->got = true;
    }
}

int dk_test_recv_frame(int fd, uint8_t *out, size_t cap, int ms)
{
    static uint8_t dbuf[512];
    dk_slip_dec d;
    dk_slip_dec_init(&d, dbuf, sizeof dbuf);
    rx_t r = { .got = false };
    int64_t end = dk_test_now_ms() + ms;
    while (!r.got) {
        int64_t left = end - dk_test_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        uint8_t b;
        if (read(fd, &b, 1) != 1)
            return -1;
        dk_slip_dec_feed(&d, &b, 1, on_frame, &r);
    }
    size_t n = r.len < cap ? r.len : cap;
    memcpy(out, r.buf, n);
    return (int)r.len;
}
