/* dfusniff - capture a live DFU serial link into pcap (link type 250).
 *
 * Man in the middle: a pty for the host tool <-> the real port, every chunk
 * captured with its direction and read time, line settings the host sets on
 * the pty copied to the port.  Passive tap: two ports, read only.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "dfukit/capfile.h"
#include "line.h"
#include "live.h"
#include "opts.h"
#include "port.h"

#define TOOL "dfusniff"
#define TICK_MS 50
#define BUF_SZ 65536

static volatile sig_atomic_t stop_sig;

static void on_signal(int s) { stop_sig = s; }

/* Everything the loop needs, passed around as one. */
typedef struct {
    const sn_opts *o;
    dk_cap_writer *cap;
    sn_live *live;
    uint64_t packets;
    uint8_t lines;      /* last control lines recorded */
    bool lines_known;
    int exit_code;
} ctx;

static void note(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ctx *c, const char *fmt, ...)
{
    if (!c->o->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, TOOL ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* One chunk read from a line: capture it, show it.  -1 when the capture
 * cannot be written. */
static int record(ctx *c, dk_dir dir, const uint8_t *p, size_t n)
{
    int64_t t = dk_now_us();
    if (c->cap) {
        dk_err e = {0};
        if (dk_cap_write(c->cap, t, dir, p, n, &e) != DK_OK) {
            dk_err_print(stderr, TOOL, c->o->out, &e);
            return -1;
        }
        c->packets++;
    }
    if (c->live)
        sn_live_feed(c->live, t, dir, p, n);
    return 0;
}

static int record_lines(ctx *c, uint8_t lines)
{
    if (c->lines_known && lines == c->lines)
        return 0;
    bool first = !c->lines_known;
    c->lines = lines;
    c->lines_known = true;
    if (!c->cap)
        return 0;
    if (first) {
        dk_cap_set_lines(c->cap, lines);
        return 0;
    }
    dk_err e = {0};
    if (dk_cap_write_lines(c->cap, -1, lines, &e) != DK_OK) {
        dk_err_print(stderr, TOOL, c->o->out, &e);
        return -1;
    }
    c->packets++;
    note(c, "control lines now 0x%02x", lines);
    return 0;
}

/* Pending bytes for one destination. */
typedef struct {
    uint8_t buf[BUF_SZ];
    size_t off, len;
} pend;

/* Write what is pending; 0 ok (maybe partly), -1 on error (errno). */
static int flush_pend(int fd, pend *q)
{
    while (q->len) {
        ssize_t w = write(fd, q->buf + q->off, q->len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            return -1;
        }
        q->off += (size_t)w;
        q->len -= (size_t)w;
    }
    q->off = 0;
    return 0;
}

static int port_gone(ctx *c, const char *path, const char *why)
{
    fprintf(stderr, TOOL ": %s: port gone (%s); capture closed after %llu packets\n", path, why,
            (unsigned long long)c->packets);
    c->exit_code = 1;
    return -1;
}

/* Read one chunk from fd into q (must be empty) and record it.
 * 1 data, 0 nothing now, -1 read failed or EOF (errno, 0 for EOF), -2 capture failed. */
static int pull(ctx *c, int fd, dk_dir dir, pend *q)
{
    ssize_t n = read(fd, q->buf, sizeof q->buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        if (n == 0)
            errno = 0;
        return -1;
    }
    q->off = 0;
    q->len = (size_t)n;
    return record(c, dir, q->buf, q->len) < 0 ? -2 : 1;
}

/* ---- man in the middle ---- */

typedef struct {
    int master;
    char slave[128];
    bool present;       /* the host has the pty open */
    sn_line line;       /* settings last copied to the port */
    uint64_t dropped;   /* target bytes that arrived while the host was away */
} host_pty;

static int open_host_pty(host_pty *h, const sn_line *l, char *err, size_t cap)
{
    h->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (h->master < 0 || grantpt(h->master) < 0 || unlockpt(h->master) < 0 ||
        ptsname_r(h->master, h->slave, sizeof h->slave) != 0) {
        snprintf(err, cap, "cannot create a pty: %s", strerror(errno));
        return -1;
    }
    if (chmod(h->slave, 0600) < 0) {
        snprintf(err, cap, "%s: cannot set mode 0600: %s", h->slave, strerror(errno));
        return -1;
    }
    /* Termios calls on the master act on the slave: start it raw at -b. */
    struct termios t;
    if (tcgetattr(h->master, &t) < 0 || !sn_line_to_termios(l, &t) ||
        tcsetattr(h->master, TCSANOW, &t) < 0) {
        snprintf(err, cap, "%s: cannot set line settings: %s", h->slave, strerror(errno));
        return -1;
    }
    h->line = *l;
    return 0;
}

/* The host has the slave open exactly when the master does not report a hangup. */
static bool host_is_there(int master)
{
    struct pollfd p = {.fd = master, .events = 0};
    return poll(&p, 1, 0) == 0 || !(p.revents & POLLHUP);
}

/* Copy line settings the host set on the pty to the port. */
static void follow_host(ctx *c, host_pty *h, sn_port *port)
{
    struct termios t;
    if (tcgetattr(h->master, &t) < 0)
        return;
    sn_line l = sn_line_from_termios(&t);
    if (sn_line_eq(&l, &h->line))
        return;
    char a[64], b[64], err[256];
    if (l.baud == 0) {
        note(c, "host set speed 0 (hang up) or an unsupported rate: port keeps %s",
             sn_line_str(&h->line, a, sizeof a));
        h->line = l;
        return;
    }
    if (sn_port_apply(port, &l, err, sizeof err) < 0)
        fprintf(stderr, TOOL ": %s: host set %s: %s\n", sn_port_path(port), sn_line_str(&l, a, sizeof a), err);
    else
        note(c, "host set %s (was %s): port follows", sn_line_str(&l, a, sizeof a),
             sn_line_str(&h->line, b, sizeof b));
    h->line = l;
}

static int poll_signals(ctx *c, sn_port *port)
{
    uint8_t in;
    if (!sn_port_signals(port, &in))
        return 0;
    /* A real port opened by us drives DTR (and RTS unless the UART owns it). */
    uint8_t lines = in;
    if (sn_port_is_real(port))
        lines |= DK_LINE_DTR | DK_LINE_RTS;
    return record_lines(c, lines);
}

static int run_mitm(ctx *c, sn_port *port, host_pty *h)
{
    static pend h2t, t2h; /* host -> target, target -> host */
    int pfd = sn_port_fd(port);
    int64_t next_tick = 0;
    h->present = host_is_there(h->master);
    while (!stop_sig) {
        int64_t now = dk_now_us();
        if (now >= next_tick) {
            next_tick = now + TICK_MS * 1000;
            if (!sn_port_present(port))
                return port_gone(c, sn_port_path(port), "device node vanished");
            if (!h->present && host_is_there(h->master)) {
                h->present = true;
                note(c, "host opened %s", h->slave);
            }
            if (h->present)
                follow_host(c, h, port);
            if (poll_signals(c, port) < 0)
                return -1;
        }
        struct pollfd pf[2] = {
            {.fd = pfd, .events = (short)((t2h.len ? 0 : POLLIN) | (h2t.len ? POLLOUT : 0))},
            /* left out while it has nothing to do: a hang-up would wake us at once */
            {.fd = h->present && (!h2t.len || t2h.len) ? h->master : -1,
             .events = (short)((h2t.len ? 0 : POLLIN) | (t2h.len ? POLLOUT : 0))},
        };
        int r = poll(pf, 2, TICK_MS);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, TOOL ": poll: %s\n", strerror(errno));
            c->exit_code = 1;
            return -1;
        }
        /* Target side. */
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!t2h.len) {
                int k = pull(c, pfd, DK_DIR_TARGET, &t2h);
                if (k == -2)
                    return c->exit_code = 1, -1;
                if (k == -1)
                    return port_gone(c, sn_port_path(port), errno ? strerror(errno) : "end of file");
                if (k == 1 && !h->present) {
                    h->dropped += t2h.len;
                    t2h.len = 0;
                }
            } else if (pf[0].revents & (POLLHUP | POLLERR)) {
                return port_gone(c, sn_port_path(port), "hang-up");
            }
        }
        if (h2t.len && flush_pend(pfd, &h2t) < 0)
            return port_gone(c, sn_port_path(port), strerror(errno));
        /* Host side. */
        if (h->present && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !h2t.len) {
            follow_host(c, h, port); /* settings first: the host set them before writing */
            int k = pull(c, h->master, DK_DIR_HOST, &h2t);
            if (k == -2)
                return c->exit_code = 1, -1;
            if (k == -1) {
                h->present = false;
                note(c, "host closed %s (capture goes on)", h->slave);
                if (t2h.len)
                    h->dropped += t2h.len, t2h.len = 0;
            } else if (k == 1 && flush_pend(pfd, &h2t) < 0) {
                return port_gone(c, sn_port_path(port), strerror(errno));
            }
        }
        /* A pty master accepts writes while no slave is open and the slave
         * reads them later: check the host is there before each write, so a
         * host that reopens does not read answers meant for its predecessor. */
        if (h->present && t2h.len && (!host_is_there(h->master) || flush_pend(h->master, &t2h) < 0)) {
            h->present = false;
            note(c, "host closed %s (capture goes on)", h->slave);
            h->dropped += t2h.len;
            t2h.len = 0;
        }
    }
    return 0;
}

/* ---- passive tap ---- */

static int run_tap(ctx *c, sn_port *hp, sn_port *tp)
{
    static pend buf;
    sn_port *ports[2] = {hp, tp};
    const dk_dir dirs[2] = {DK_DIR_HOST, DK_DIR_TARGET};
    int64_t next_tick = 0;
    while (!stop_sig) {
        int64_t now = dk_now_us();
        if (now >= next_tick) {
            next_tick = now + TICK_MS * 1000;
            uint8_t lines = 0, in;
            bool any = false;
            for (int i = 0; i < 2; i++) {
                if (!sn_port_present(ports[i]))
                    return port_gone(c, sn_port_path(ports[i]), "device node vanished");
                if (!sn_port_signals(ports[i], &in))
                    continue;
                any = true;
                /* A tap cable wires the host's RTS/DTR to the host tap's CTS/DSR. */
                if (i == 0)
                    lines |= (uint8_t)(((in & DK_LINE_CTS) ? DK_LINE_RTS : 0) | ((in & DK_LINE_DSR) ? DK_LINE_DTR : 0));
                else
                    lines |= in;
            }
            if (any && record_lines(c, lines) < 0)
                return -1;
        }
        struct pollfd pf[2] = {{.fd = sn_port_fd(hp), .events = POLLIN}, {.fd = sn_port_fd(tp), .events = POLLIN}};
        int r = poll(pf, 2, TICK_MS);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, TOOL ": poll: %s\n", strerror(errno));
            c->exit_code = 1;
            return -1;
        }
        for (int i = 0; i < 2; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int k = pull(c, pf[i].fd, dirs[i], &buf);
            buf.len = 0;
            if (k == -2)
                return c->exit_code = 1, -1;
            if (k == -1)
                return port_gone(c, sn_port_path(ports[i]), errno ? strerror(errno) : "end of file");
        }
    }
    return 0;
}

/* ---- main ---- */

static char *link_made;

static int make_link(const char *link, const char *target)
{
    struct stat st;
    if (lstat(link, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            fprintf(stderr, TOOL ": %s: exists and is not a symlink; not replacing it\n", link);
            return -1;
        }
        unlink(link);
    }
    if (symlink(target, link) < 0) {
        fprintf(stderr, TOOL ": %s: cannot make the link: %s\n", link, strerror(errno));
        return -1;
    }
    link_made = strdup(link);
    return 0;
}

static void remove_link(const char *target)
{
    if (!link_made)
        return;
    char buf[256];
    ssize_t n = readlink(link_made, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        if (!strcmp(buf, target))
            unlink(link_made);
    }
    free(link_made);
    link_made = NULL;
}

int main(int argc, char **argv)
{
    sn_opts o;
    char err[256];
    switch (sn_opts_parse(argc, argv, &o, err, sizeof err)) {
    case SN_OPTS_HELP:
        fputs(sn_usage, stdout);
        return 0;
    case SN_OPTS_VERSION:
        puts(TOOL " " DFUKIT_VERSION);
        return 0;
    case SN_OPTS_BAD:
        fprintf(stderr, TOOL ": %s (try --help)\n", err);
        return 2;
    case SN_OPTS_RUN:
        break;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bool cap_stdout = o.out && !strcmp(o.out, "-");
    FILE *info = cap_stdout ? stderr : stdout; /* pty path, live transcript */
    ctx c = {.o = &o};
    sn_line l = sn_line_default(o.baud);
    sn_port *port = NULL, *tap_h = NULL, *tap_t = NULL;
    host_pty h = {.master = -1};

    if (o.mode == SN_MODE_MITM) {
        port = sn_port_open(o.port, &l, false, err, sizeof err);
        if (!port) {
            fprintf(stderr, TOOL ": %s: %s\n", o.port, err);
            return 2;
        }
        if (open_host_pty(&h, &l, err, sizeof err) < 0) {
            fprintf(stderr, TOOL ": %s\n", err);
            sn_port_close(port);
            return 2;
        }
        if (o.link && make_link(o.link, h.slave) < 0) {
            sn_port_close(port);
            close(h.master);
            return 2;
        }
    } else {
        tap_h = sn_port_open(o.tap_host, &l, true, err, sizeof err);
        if (!tap_h) {
            fprintf(stderr, TOOL ": %s: %s\n", o.tap_host, err);
            return 2;
        }
        tap_t = sn_port_open(o.tap_target, &l, true, err, sizeof err);
        if (!tap_t) {
            fprintf(stderr, TOOL ": %s: %s\n", o.tap_target, err);
            sn_port_close(tap_h);
            return 2;
        }
    }

    int rc = 0;
    if (o.out) {
        dk_err e = {0};
        c.cap = dk_cap_create(o.out, &e);
        if (!c.cap) {
            dk_err_print(stderr, TOOL, o.out, &e);
            rc = 2;
            goto out;
        }
    }
    if (o.live) {
        c.live = sn_live_new(info, o.verbose, err, sizeof err);
        if (!c.live) {
            fprintf(stderr, TOOL ": --live: %s\n", err);
            rc = 2;
            goto out;
        }
    }
    if (o.mode == SN_MODE_MITM) {
        fprintf(info, "%s\n", h.slave);
        fflush(info);
        note(&c, "%s <-> %s (%s), %s", h.slave, o.port, sn_port_is_real(port) ? "libserialport" : "termios",
             sn_line_str(&l, err, sizeof err));
        run_mitm(&c, port, &h);
        if (h.dropped)
            fprintf(stderr, TOOL ": %llu bytes from the target arrived while no host had the pty open (captured, not delivered)\n",
                    (unsigned long long)h.dropped);
    } else {
        run_tap(&c, tap_h, tap_t);
    }
    rc = c.exit_code;
    if (stop_sig)
        note(&c, "stopped by signal %d after %llu packets", (int)stop_sig, (unsigned long long)c.packets);
out:
    if (c.live) {
        sn_live_finish(c.live);
        sn_live_free(c.live);
    }
    if (c.cap) {
        dk_err e = {0};
        if (dk_cap_close_writer(c.cap, &e) != DK_OK) {
            dk_err_print(stderr, TOOL, o.out, &e);
            rc = rc ? rc : 1;
        }
    }
    remove_link(h.slave);
    if (h.master >= 0)
        close(h.master);
    sn_port_close(port);
    sn_port_close(tap_h);
    sn_port_close(tap_t);
    return rc;
}
