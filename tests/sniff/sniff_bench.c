/* sniff_bench.c - measurements for bench/sniff.sh (not a test).
 *
 *   sniff_bench DFUSNIFF [MB] [ROUNDS]
 *
 * Moves MB each way and makes ROUNDS request/response round trips (20-byte
 * request, 16-byte answer, DFU sized) over
 *   direct  one pty pair: the host writes the slave, the target the master
 *   relay   two pty pairs joined by a bare read/write loop (no capture)
 *   sniff   two pty pairs joined by dfusniff writing a pcap
 * and prints "NAME mb_per_s RTT_median_us" lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "sniff_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void rawfd(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        die("tcgetattr");
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    if (tcsetattr(fd, TCSANOW, &t) < 0)
        die("tcsetattr");
}

static int pair(char *slave, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, slave, cap))
        die("pty");
    rawfd(m);
    return m;
}

static int open_nb(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die(path);
    rawfd(fd);
    return fd;
}

/* Send total bytes from a to b and total bytes from b to a at once; seconds. */
static double pump(int a, int b, uint64_t total)
{
    static uint8_t buf[65536], sink[65536];
    memset(buf, 0x5A, sizeof buf);
    uint64_t sent[2] = {0, 0}, got[2] = {0, 0};
    int fd[2] = {a, b};
    double t0 = now_s();
    while (got[0] < total || got[1] < total) {
        struct pollfd pf[2];
        for (int i = 0; i < 2; i++) {
            pf[i].fd = fd[i];
            pf[i].events = (short)((sent[i] < total ? POLLOUT : 0) | (got[1 - i] < total ? POLLIN : 0));
        }
        if (poll(pf, 2, 5000) <= 0)
            die("pump stalled");
        for (int i = 0; i < 2; i++) {
            if (pf[i].revents & POLLOUT) {
                size_t n = total - sent[i] < sizeof buf ? (size_t)(total - sent[i]) : sizeof buf;
                ssize_t w = write(fd[i], buf, n);
                if (w > 0)
                    sent[i] += (uint64_t)w;
            }
            if (pf[i].revents & POLLIN) {
                ssize_t r = read(fd[i], sink, sizeof sink);
                if (r > 0)
                    got[1 - i] += (uint64_t)r; /* read at i = sent by the other */
            }
        }
    }
    return now_s() - t0;
}

static void get_n(int fd, uint8_t *p, size_t n)
{
    while (n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 5000) <= 0)
            die("round trip stalled");
        ssize_t r = read(fd, p, n);
        if (r > 0)
            p += r, n -= (size_t)r;
    }
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Median round trip in microseconds: host sends 20 bytes, target answers 16. */
static double rtt(int host, int target, int rounds)
{
    uint8_t req[20], rsp[16], buf[32];
    memset(req, 0x08, sizeof req);
    memset(rsp, 0x60, sizeof rsp);
    double *v = malloc(sizeof(double) * (size_t)rounds);
    for (int i = 0; i < rounds; i++) {
        double t0 = now_s();
        if (write(host, req, sizeof req) != sizeof req)
            die("write");
        get_n(target, buf, sizeof req);
        if (write(target, rsp, sizeof rsp) != sizeof rsp)
            die("write");
        get_n(host, buf, sizeof rsp);
        v[i] = (now_s() - t0) * 1e6;
    }
    qsort(v, (size_t)rounds, sizeof *v, cmp_d);
    double m = v[rounds / 2];
    free(v);
    return m;
}

/* A bare relay between two fds in a child process. */
static pid_t relay(int x, int y)
{
    pid_t pid = fork();
    if (pid)
        return pid;
    static uint8_t buf[2][65536];
    size_t len[2] = {0, 0}, off[2] = {0, 0};
    int fd[2] = {x, y};
    for (;;) {
        struct pollfd pf[2];
        for (int i = 0; i < 2; i++) {
            pf[i].fd = fd[i];
            pf[i].events = (short)((len[i] ? 0 : POLLIN) | (len[1 - i] ? POLLOUT : 0));
        }
        if (poll(pf, 2, -1) < 0)
            _exit(1);
        for (int i = 0; i < 2; i++) {
            if (!len[i] && (pf[i].revents & POLLIN)) {
                ssize_t r = read(fd[i], buf[i], sizeof buf[i]);
                if (r > 0)
                    len[i] = (size_t)r, off[i] = 0;
            }
            int o = 1 - i; /* buffer read at o goes to i */
            if (len[o]) {
                ssize_t w = write(fd[i], buf[o] + off[o], len[o]);
                if (w > 0)
                    off[o] += (size_t)w, len[o] -= (size_t)w;
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sniff_bench DFUSNIFF [MB] [ROUNDS]\n");
        return 2;
    }
    uint64_t total = (uint64_t)(argc > 2 ? atoi(argv[2]) : 64) << 20;
    int rounds = argc > 3 ? atoi(argv[3]) : 2000;
    signal(SIGPIPE, SIG_IGN);
    char s1[128], s2[128];

    /* direct */
    int m = pair(s1, sizeof s1), s = open_nb(s1);
    double td = pump(s, m, total);
    double rd = rtt(s, m, rounds);
    close(s), close(m);
    printf("direct %.1f %.1f\n", 2.0 * (double)total / td / 1e6, rd);

    /* relay: host <-> pty1 <-> relay <-> pty2 <-> target */
    int m1 = pair(s1, sizeof s1), m2 = pair(s2, sizeof s2);
    int host = open_nb(s1), ps2 = open_nb(s2);
    pid_t rp = relay(m1, ps2);
    double tr = pump(host, m2, total);
    double rr = rtt(host, m2, rounds);
    kill(rp, SIGKILL);
    waitpid(rp, NULL, 0);
    close(host), close(ps2), close(m1), close(m2);
    printf("relay %.1f %.1f\n", 2.0 * (double)total / tr / 1e6, rr);

    /* dfusniff */
    m2 = pair(s2, sizeof s2);
    /* the capture goes into a private directory: nobody else can have put
     * a file or a link at its path before dfusniff opens it */
    const char *tmp = getenv("TMPDIR");
    char dir[256], cap[300];
    snprintf(dir, sizeof dir, "%s/sniff_bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(cap, sizeof cap, "%s/bench.pcap", dir);
    int out[2];
    if (pipe(out))
        die("pipe");
    pid_t sp = fork();
    if (sp == 0) {
        dup2(out[1], 1);
        execl(argv[1], argv[1], "--port", s2, "-w", cap, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[128];
    size_t n = 0;
    while (n + 1 < sizeof line && read(out[0], line + n, 1) == 1 && line[n] != '\n')
        n++;
    line[n] = '\0';
    if (strncmp(line, "/dev/", 5)) {
        fprintf(stderr, "sniff_bench: dfusniff did not print its pty\n");
        kill(sp, SIGTERM);
        waitpid(sp, NULL, 0);
        unlink(cap);
        rmdir(dir);
        return 1;
    }
    host = open_nb(line);
    double tsn = pump(host, m2, total);
    double rs = rtt(host, m2, rounds);
    kill(sp, SIGTERM);
    waitpid(sp, NULL, 0);
    close(host), close(m2);
    unlink(cap);
    rmdir(dir);
    printf("sniff %.1f %.1f\n", 2.0 * (double)total / tsn / 1e6, rs);
    return 0;
}
