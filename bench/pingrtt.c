/* pingrtt - timing helpers for bench/host.sh (not part of the build).
 *
 *   pingrtt echo N          PING frames round-tripped through a bare pty whose
 *                           other end echoes every byte: the baseline
 *   pingrtt port PATH N     PING requests to a DFU target on PATH (dfusim's pty),
 *                           each waiting for its "60 09 01 id" answer
 *   pingrtt copy BYTES      BYTES written into a pty and read out at the other
 *                           end by a second process: the transfer baseline
 *   pingrtt replay CAP.pcap the conversation of a capture (link type 250, as
 *                           dfuhost --capture writes it) played through a bare
 *                           pty: one process writes the host's chunks and reads
 *                           the target's, the other the reverse; the same bytes
 *                           and the same waits, no DFU work at either end
 *   pingrtt time CMD...     run CMD, print its wall time
 *
 * Each prints one line: "<microseconds per round trip or total seconds> ..."
 * (the number first, for the script to cut).  Exit 1 on any protocol or I/O
 * surprise, so a broken run never yields a figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms_(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static void die(const char *what)
{
    fprintf(stderr, "pingrtt: %s: %s\n", what, errno ? strerror(errno) : "unexpected data");
    exit(1);
}

static void raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        die("tcgetattr");
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) < 0)
        die("tcsetattr");
}

static void write_all(int fd, const uint8_t *b, size_t n)
{
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("write");
        b += k;
        n -= (size_t)k;
    }
}

/* Read until a frame-ending 0xC0; returns the bytes before it.  Reads in
 * chunks (one read per answer, whatever its length), so the echo baseline
 * and the target pay the same syscalls. */
static size_t read_frame(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        uint8_t c[64];
        ssize_t k = read(fd, c, sizeof c);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("read");
        for (ssize_t i = 0; i < k; i++) {
            if (c[i] == 0xC0) {
                if (n) {
                    if (i + 1 != k) {
                        errno = 0;
                        die("bytes after the answer");
                    }
                    return n;
                }
                continue;
            }
            if (n < cap)
                buf[n++] = c[i];
        }
    }
}

static int open_pair(int *master, int *slave)
{
    if (openpty(master, slave, NULL, NULL, NULL) < 0)
        die("openpty");
    raw(*master);
    raw(*slave);
    return 0;
}

static void pings(int fd, long n, int echo)
{
    uint8_t f[4], got[16];
    for (long i = 0; i < n; i++) {
        uint8_t id = (uint8_t)(i & 0x7F); /* never an END/ESC byte */
        f[0] = 0x09;
        f[1] = id;
        f[2] = 0xC0;
        write_all(fd, f, 3);
        size_t k = read_frame(fd, got, sizeof got);
        if (echo ? (k != 2 || got[0] != 0x09 || got[1] != id)
                 : (k != 4 || got[0] != 0x60 || got[1] != 0x09 || got[2] != 0x01 || got[3] != id)) {
            errno = 0;
            die("PING answer");
        }
    }
}

static int cmd_echo(long n)
{
    int m, s;
    open_pair(&m, &s);
    pid_t pid = fork();
    if (pid == 0) {
        close(s);
        uint8_t b[4096];
        for (;;) {
            ssize_t k = read(m, b, sizeof b);
            if (k <= 0)
                _exit(0);
            write_all(m, b, (size_t)k);
        }
    }
    close(m);
    pings(s, 100, 1); /* warm-up */
    double t = now_s();
    pings(s, n, 1);
    t = now_s() - t;
    close(s);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    printf("%.2f us per round trip (bare pty echo, %ld PINGs)\n", t / n * 1e6, n);
    return 0;
}

/* Until the target answers a PING (a port may drop what arrives before it
 * notices the open), then drain. */
static void first_answer(int fd)
{
    for (int t = 0; t < 40; t++) {
        uint8_t f[3] = { 0x09, 0x7E, 0xC0 }, b[256];
        write_all(fd, f, 3);
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, 250) <= 0)
            continue;
        sleep_ms_(50);
        ssize_t k = read(fd, b, sizeof b);
        if (k > 0 && memchr(b, 0xC0, (size_t)k))
            return;
    }
    errno = 0;
    die("no answer to PING");
}

static int cmd_port(const char *path, long n)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    if (fd < 0)
        die(path);
    raw(fd);
    first_answer(fd);
    pings(fd, 100, 0);
    double t = now_s();
    pings(fd, n, 0);
    t = now_s() - t;
    close(fd);
    printf("%.2f us per round trip (%s, %ld PINGs)\n", t / n * 1e6, path, n);
    return 0;
}

static int cmd_copy(long bytes)
{
    int m, s;
    open_pair(&m, &s);
    pid_t pid = fork();
    if (pid == 0) {
        close(s);
        uint8_t b[65536];
        long left = bytes;
        while (left > 0) {
            ssize_t k = read(m, b, sizeof b);
            if (k <= 0)
                _exit(1);
            left -= k;
        }
        _exit(0);
    }
    close(m);
    uint8_t *buf = malloc((size_t)bytes);
    if (!buf)
        die("malloc");
    for (long i = 0; i < bytes; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    double t = now_s();
    for (long off = 0; off < bytes; off += 4096)
        write_all(s, buf + off, (size_t)(bytes - off < 4096 ? bytes - off : 4096));
    int st;
    waitpid(pid, &st, 0);
    t = now_s() - t;
    close(s);
    free(buf);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        errno = 0;
        die("reader");
    }
    printf("%.4f s to copy %ld bytes through a pty\n", t, bytes);
    return 0;
}

typedef struct {
    uint8_t dir; /* 1 host -> target, 2 target -> host */
    uint32_t off, len;
} chunk;

static uint32_t get32(const uint8_t *p, int swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swap ? __builtin_bswap32(v) : v;
}

static void read_exact(int fd, uint8_t *b, size_t n)
{
    while (n) {
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("read");
        b += k;
        n -= (size_t)k;
    }
}

/* Play the chunks: side 1 writes dir-1 chunks and reads dir-2 ones. */
static void play(int fd, const uint8_t *data, const chunk *c, size_t n, uint8_t side)
{
    uint8_t *tmp = malloc(65536);
    for (size_t i = 0; i < n; i++) {
        if (c[i].dir == side)
            write_all(fd, data + c[i].off, c[i].len);
        else
            read_exact(fd, tmp, c[i].len);
    }
    free(tmp);
}

static int cmd_replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    static uint8_t file[64 << 20];
    size_t len = fread(file, 1, sizeof file, f);
    fclose(f);
    if (len < 24) {
        errno = 0;
        die("capture too short");
    }
    uint32_t magic = get32(file, 0);
    int swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    if (!swap && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
        errno = 0;
        die("not a pcap file");
    }
    size_t cap = 1 << 16, n = 0;
    chunk *c = malloc(cap * sizeof *c);
    uint64_t bytes = 0;
    for (size_t off = 24; off + 16 <= len;) {
        uint32_t incl = get32(file + off + 8, swap);
        if (off + 16 + incl > len || incl < 12)
            break;
        const uint8_t *rec = file + off + 16;
        if ((rec[8] == 1 || rec[8] == 2) && incl > 12) {
            if (n == cap)
                c = realloc(c, (cap *= 2) * sizeof *c);
            c[n].dir = rec[8];
            c[n].off = (uint32_t)(off + 16 + 12);
            c[n].len = incl - 12;
            bytes += c[n].len;
            n++;
        }
        off += 16 + incl;
    }
    int m, s;
    open_pair(&m, &s);
    double t = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        close(s);
        play(m, file, c, n, 2);
        /* keep the master open until the other side has read everything
         * and closed the slave (closing first would discard its input) */
        uint8_t b[256];
        while (read(m, b, sizeof b) > 0)
            ;
        _exit(0);
    }
    close(m);
    play(s, file, c, n, 1);
    t = now_s() - t;
    close(s);
    int st;
    waitpid(pid, &st, 0);
    free(c);
    printf("%.4f s to replay %zu chunks, %llu bytes through a pty\n", t, n,
           (unsigned long long)bytes);
    return 0;
}

static int cmd_time(char **argv)
{
    double t = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    wait4(pid, &st, 0, &ru);
    t = now_s() - t;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    printf("%.4f s exit %d (cpu %.4f s user %.4f s sys)\n", t, code,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    return code ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "echo"))
        return cmd_echo(atol(argv[2]));
    if (argc >= 4 && !strcmp(argv[1], "port"))
        return cmd_port(argv[2], atol(argv[3]));
    if (argc >= 3 && !strcmp(argv[1], "copy"))
        return cmd_copy(atol(argv[2]));
    if (argc >= 3 && !strcmp(argv[1], "replay"))
        return cmd_replay(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "time"))
        return cmd_time(argv + 2);
    fprintf(stderr, "usage: pingrtt echo N | port PATH N | copy BYTES | replay CAP | time CMD...\n");
    return 2;
}
