/* dfusniff - capture a live DFU serial link into pcap (link type 250).
 *
 * Man in the middle: a pty for the host tool <-> the real port, every chunk
 * captured with its direction and read time, line settings the host sets on
 * the pty copied to the port.  Passive tap: two ports, read only.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfukit/capfile.h"
#include "dfukit/pty.h"
#include "dfukit/serial.h"
#include "live.h"
#include "opts.h"

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

/* The pty is created without DK_PTY_NO_HOST: a fresh master counts as
 * opened, so a host that opens it and writes at once is served at once. */
typedef struct {
    dk_pty pty;
    bool present;         /* the host has the pty open */
    dk_serial_cfg line;   /* settings last copied to the port */
    uint64_t dropped;     /* target bytes that arrived while the host was away */
} host_pty;

/* Copy line settings the host set on the pty to the port. */
static void follow_host(ctx *c, host_pty *h, dk_serial *port)
{
    dk_serial_cfg l;
    if (!dk_pty_cfg(&h->pty, &l))
        return;
    if (dk_serial_cfg_eq(&l, &h->line))
        return;
    char a[64], b[64];
    if (l.baud == 0) {
        note(c, "host set speed 0 (hang up) or an unsupported rate: port keeps %s",
             dk_serial_cfg_str(&h->line, a, sizeof a));
        h->line = l;
        return;
    }
    dk_err e = {0};
    if (dk_serial_apply(port, &l, &e) != DK_OK)
        fprintf(stderr, TOOL ": %s: host set %s: %s\n", dk_serial_path(port), dk_serial_cfg_str(&l, a, sizeof a),
                e.msg);
    else
        note(c, "host set %s (was %s): port follows", dk_serial_cfg_str(&l, a, sizeof a),
             dk_serial_cfg_str(&h->line, b, sizeof b));
    h->line = l;
}

/* The host closed the pty (or died): what it left unread, and what was on
 * its way to it, is dropped, not kept for the next opener. */
static void host_left(ctx *c, host_pty *h, pend *t2h)
{
    h->present = false;
    note(c, "host closed %s (capture goes on)", h->pty.slave);
    h->dropped += t2h->len;
    t2h->len = 0;
    t2h->off = 0;
    dk_pty_drop_unread(&h->pty);
}

/* Deliver what is pending to the host without waiting; false when the host
 * went away (a hang-up: a full pty then polls POLLHUP for ever). */
static bool to_host(host_pty *h, pend *q)
{
    size_t n = 0;
    dk_pty_wr w = dk_pty_write(&h->pty, q->buf + q->off, q->len, 0, -1, &n);
    q->off += n;
    q->len -= n;
    if (!q->len)
        q->off = 0;
    return w == DK_PTY_SENT || w == DK_PTY_STALLED;
}

static int poll_signals(ctx *c, dk_serial *port)
{
    uint8_t in;
    if (!dk_serial_signals(port, &in))
        return 0;
    /* A real port opened by us drives DTR (and RTS unless the UART owns it). */
    uint8_t lines = in;
    if (dk_serial_is_real(port))
        lines |= DK_LINE_DTR | DK_LINE_RTS;
    return record_lines(c, lines);
}

static int run_mitm(ctx *c, dk_serial *port, host_pty *h)
{
    static pend h2t, t2h; /* host -> target, target -> host */
    int pfd = dk_serial_fd(port);
    int64_t next_tick = 0;
    h->present = dk_pty_host_open(&h->pty);
    while (!stop_sig) {
        int64_t now = dk_now_us();
        if (now >= next_tick) {
            next_tick = now + TICK_MS * 1000;
            if (!dk_serial_present(port))
                return port_gone(c, dk_serial_path(port), "device node vanished");
            if (!h->present && dk_pty_host_open(&h->pty)) {
                h->present = true;
                note(c, "host opened %s", h->pty.slave);
            }
            if (h->present)
                follow_host(c, h, port);
            if (poll_signals(c, port) < 0)
                return -1;
        }
        struct pollfd pf[2] = {
            {.fd = pfd, .events = (short)((t2h.len ? 0 : POLLIN) | (h2t.len ? POLLOUT : 0))},
            /* left out while it has nothing to do: a hang-up would wake us at once */
            {.fd = h->present && (!h2t.len || t2h.len) ? h->pty.master : -1,
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
                    return port_gone(c, dk_serial_path(port), errno ? strerror(errno) : "end of file");
                if (k == 1 && !h->present) {
                    h->dropped += t2h.len;
                    t2h.len = 0;
                }
            } else if (pf[0].revents & (POLLHUP | POLLERR)) {
                return port_gone(c, dk_serial_path(port), "hang-up");
            }
        }
        if (h2t.len && flush_pend(pfd, &h2t) < 0)
            return port_gone(c, dk_serial_path(port), strerror(errno));
        /* Host side. */
        if (h->present && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !h2t.len) {
            follow_host(c, h, port); /* settings first: the host set them before writing */
            int k = pull(c, h->pty.master, DK_DIR_HOST, &h2t);
            if (k == -2)
                return c->exit_code = 1, -1;
            if (k == -1)
                host_left(c, h, &t2h);
            else if (k == 1 && flush_pend(pfd, &h2t) < 0) {
                return port_gone(c, dk_serial_path(port), strerror(errno));
            }
        }
        /* A pty master accepts writes while no slave is open and the slave
         * reads them later: check the host is there before each write, so a
         * host that reopens does not read answers meant for its predecessor. */
        if (h->present && t2h.len && (!dk_pty_host_open(&h->pty) || !to_host(h, &t2h)))
            host_left(c, h, &t2h);
    }
    return 0;
}

/* ---- passive tap ---- */

static int run_tap(ctx *c, dk_serial *hp, dk_serial *tp)
{
    static pend buf;
    dk_serial *ports[2] = {hp, tp};
    const dk_dir dirs[2] = {DK_DIR_HOST, DK_DIR_TARGET};
    int64_t next_tick = 0;
    while (!stop_sig) {
        int64_t now = dk_now_us();
        if (now >= next_tick) {
            next_tick = now + TICK_MS * 1000;
            uint8_t lines = 0, in;
            bool any = false;
            for (int i = 0; i < 2; i++) {
                if (!dk_serial_present(ports[i]))
                    return port_gone(c, dk_serial_path(ports[i]), "device node vanished");
                if (!dk_serial_signals(ports[i], &in))
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
        struct pollfd pf[2] = {{.fd = dk_serial_fd(hp), .events = POLLIN}, {.fd = dk_serial_fd(tp), .events = POLLIN}};
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
                return port_gone(c, dk_serial_path(ports[i]), errno ? strerror(errno) : "end of file");
        }
    }
    return 0;
}

/* ---- main ---- */

/* --help, --version, --man, --cli-table: from the option table (opts.c). */
static int print_info(sn_opts_result r)
{
    if (r == SN_OPTS_HELP)
        dk_cli_help(&sn_cli, stdout);
    else if (r == SN_OPTS_VERSION)
        dk_cli_version(&sn_cli, stdout);
    else if (r == SN_OPTS_MAN)
        dk_cli_man(&sn_cli, stdout);
    else
        dk_cli_table(&sn_cli, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    sn_opts o;
    char err[256];
    sn_opts_result r = sn_opts_parse(argc, argv, &o, err, sizeof err);
    switch (r) {
    case SN_OPTS_HELP:
    case SN_OPTS_VERSION:
    case SN_OPTS_MAN:
    case SN_OPTS_TABLE:
        return print_info(r);
    case SN_OPTS_BAD:
        fprintf(stderr, TOOL ": %s (see " TOOL " --help)\n", err);
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
    dk_serial_cfg l = dk_serial_cfg_default(o.baud);
    dk_serial *port = NULL, *tap_h = NULL, *tap_t = NULL;
    host_pty h = {.pty = DK_PTY_CLOSED};
    dk_err pe = {0};

    if (o.mode == SN_MODE_MITM) {
        port = dk_serial_open(o.port, &l, 0, &pe);
        if (!port) {
            dk_err_print(stderr, TOOL, o.port, &pe);
            return 2;
        }
        if (dk_pty_open(&h.pty, &l, 0, &pe) != DK_OK) {
            dk_err_print(stderr, TOOL, NULL, &pe);
            dk_serial_close(port);
            return 2;
        }
        h.line = l;
        if (o.link && dk_pty_link(&h.pty, o.link, &pe) != DK_OK) {
            dk_err_print(stderr, TOOL, o.link, &pe);
            dk_serial_close(port);
            dk_pty_close(&h.pty);
            return 2;
        }
    } else {
        tap_h = dk_serial_open(o.tap_host, &l, DK_SERIAL_READ_ONLY, &pe);
        if (!tap_h) {
            dk_err_print(stderr, TOOL, o.tap_host, &pe);
            return 2;
        }
        tap_t = dk_serial_open(o.tap_target, &l, DK_SERIAL_READ_ONLY, &pe);
        if (!tap_t) {
            dk_err_print(stderr, TOOL, o.tap_target, &pe);
            dk_serial_close(tap_h);
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
        fprintf(info, "%s\n", h.pty.slave);
        fflush(info);
        note(&c, "%s <-> %s (%s), %s", h.pty.slave, o.port, dk_serial_kind(port), dk_serial_cfg_str(&l, err, sizeof err));
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
    dk_pty_close(&h.pty); /* and its link */
    dk_serial_close(port);
    dk_serial_close(tap_h);
    dk_serial_close(tap_t);
    return rc;
}
