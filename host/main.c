/* dfuhost - send a DFU package to a Secure DFU bootloader over a serial line.
 * Options: usage() below; behaviour: host/README.md. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dfukit/err.h"
#include "dfukit/opterr.h"
#include "dfukit/pkg.h"
#include "lgmaster.h"
#include "link.h"
#include "master.h"

static const char *prog = "dfuhost";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dfuhost -p PORT --pkg PKG.zip [options]\n"
            "Send every image of a DFU package to a Secure DFU bootloader (SDK 15-17,\n"
            "serial/SLIP), resuming whatever the target already holds.\n"
            "  -p, --port PORT        serial port or pty (e.g. /dev/ttyACM0, /dev/pts/3)\n"
            "      --pkg FILE         the package (zip with manifest.json, .bin, .dat)\n"
            "  -b, --baud N           baud rate (default 115200)\n"
            "      --prn N            ask for a CRC notification every N writes (default 0: off)\n"
            "      --flow-control     RTS/CTS hardware flow control (default off)\n"
            "      --timeout S        wait up to S seconds for the target to answer PING,\n"
            "                         and for the answer to the final EXECUTE (default 10)\n"
            "      --response-timeout MS\n"
            "                         wait for any other answer before resyncing (default 1000)\n"
            "      --retries N        re-sends of an unanswered request (default 3)\n"
            "      --restart          ignore what the target holds: send everything afresh\n"
            "      --capture FILE     record all traffic (pcap, link type 250; dfudecode reads it);\n"
            "                         an existing file is overwritten, a new one is mode 0600,\n"
            "                         a symlink is refused, a FIFO is fine\n"
            "      --no-check         send the package even if its hashes do not match\n"
            "      --protocol P       sdfu (default) or legacy: HCI serial DFU for SDK <= 11 and\n"
            "                         the Adafruit nRF52 bootloader (an adafruit-nrfutil package)\n"
            "  -v, --verbose          tell decisions in detail; twice: every message\n"
            "  -q, --quiet            errors only\n"
            "  -h, --help\n"
            "Exit status: 0 the target accepted every image, 1 the update failed,\n"
            "2 bad options or a bad package.\n");
}

/* ---- progress ---------------------------------------------------------- */

typedef struct {
    bool tty, quiet;
    int verbose;
    size_t nimg;
    uint64_t t0_ms, last_ms;
    int last_pct;
    bool bar_shown;
    const char *name;
} ui;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bar_clear(ui *u)
{
    if (u->bar_shown) {
        fputs("\r\033[K", stderr);
        u->bar_shown = false;
    }
}

static void bar(ui *u, uint64_t done, uint64_t total, bool force)
{
    uint64_t t = wall_ms();
    int pct = total ? (int)(done * 100 / total) : 100;
    if (u->tty) {
        if (!force && t - u->last_ms < 100 && pct == u->last_pct)
            return;
        const int w = 30;
        int fill = total ? (int)(done * w / total) : w;
        double secs = (t - u->t0_ms) / 1000.0;
        char b[w + 1];
        for (int i = 0; i < w; i++)
            b[i] = i < fill ? '#' : '.';
        b[w] = 0;
        fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu B %.1f KiB/s\033[K", u->name, b, pct,
                (unsigned long long)done, (unsigned long long)total,
                secs > 0 ? done / 1024.0 / secs : 0.0);
        u->bar_shown = true;
    } else {
        if (pct == u->last_pct || (pct / 25 == u->last_pct / 25 && !force))
            return;
        fprintf(stderr, "%s: %s: %d%% (%llu of %llu bytes)\n", prog, u->name, pct,
                (unsigned long long)done, (unsigned long long)total);
    }
    u->last_ms = t;
    u->last_pct = pct;
}

static void on_event(void *ctx, const dh_event *ev)
{
    ui *u = ctx;
    switch (ev->kind) {
    case DH_EV_IMAGE:
        u->name = ev->name;
        u->t0_ms = wall_ms();
        u->last_pct = -1;
        if (!u->quiet) {
            bar_clear(u);
            fprintf(stderr, "%s: image %zu of %zu: %s (%llu bytes)\n", prog, ev->image + 1, u->nimg,
                    ev->name, (unsigned long long)ev->total);
        }
        break;
    case DH_EV_PROGRESS:
        if (!u->quiet)
            bar(u, ev->done, ev->total, false);
        break;
    case DH_EV_DONE:
        if (!u->quiet) {
            bar(u, ev->total, ev->total, true);
            bar_clear(u);
            fprintf(stderr, "%s: %s accepted by the target (%llu image bytes sent, %.2f s)\n",
                    prog, ev->name, (unsigned long long)ev->done, (wall_ms() - u->t0_ms) / 1000.0);
        }
        break;
    case DH_EV_NOTE:
        if (!u->quiet) {
            bar_clear(u);
            fprintf(stderr, "%s: %s\n", prog, ev->text);
        }
        break;
    case DH_EV_DEBUG:
        if (u->verbose >= 1) {
            bar_clear(u);
            fprintf(stderr, "%s: %s\n", prog, ev->text);
        }
        break;
    case DH_EV_TX:
    case DH_EV_RX:
        if (u->verbose >= 2) {
            bar_clear(u);
            fprintf(stderr, "%s: %s %s\n", prog, ev->kind == DH_EV_TX ? "-->" : "<--", ev->text);
        }
        break;
    }
}

static void on_anomaly(void *ctx, const char *text)
{
    ui *u = ctx;
    if (u->verbose >= 1) {
        bar_clear(u);
        fprintf(stderr, "%s: %s\n", prog, text);
    }
}

/* ---- options ------------------------------------------------------------ */

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see %s --help)\n", prog);
    return 2;
}

static bool num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* --protocol legacy: the legacy master (lgmaster.h) with the same options. */
static dh_status run_legacy(const dh_opts *o, const dh_io *io, const dk_pkg *pkg, dh_result *res)
{
    dh_lg_opts lo;
    dh_lg_opts_default(&lo);
    lo.ack_ms = o->rsp_ms;
    lo.retries = o->retries;
    lo.trace = o->trace;
    lo.on_event = o->on_event;
    lo.ev_ctx = o->ev_ctx;
    dh_lg_image li[DK_PKG_MAX_IMAGES];
    size_t n = dh_lg_images(pkg, li);
    return dh_lg_run(&lo, io, li, n, res);
}

int main(int argc, char **argv)
{
    enum { O_PKG = 256, O_PRN, O_FLOW, O_TIMEOUT, O_RSP, O_RETRIES, O_RESTART, O_CAPTURE, O_NOCHECK,
           O_PROTO };
    static const struct option lopts[] = {
        { "port", required_argument, NULL, 'p' },
        { "pkg", required_argument, NULL, O_PKG },
        { "baud", required_argument, NULL, 'b' },
        { "prn", required_argument, NULL, O_PRN },
        { "flow-control", no_argument, NULL, O_FLOW },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "response-timeout", required_argument, NULL, O_RSP },
        { "retries", required_argument, NULL, O_RETRIES },
        { "restart", no_argument, NULL, O_RESTART },
        { "capture", required_argument, NULL, O_CAPTURE },
        { "no-check", no_argument, NULL, O_NOCHECK },
        { "protocol", required_argument, NULL, O_PROTO },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *port = NULL, *pkg_path = NULL, *cap_path = NULL;
    unsigned baud = 115200;
    bool flow = false, check = true, legacy = false;
    ui u = { .tty = isatty(2) == 1 };
    dh_opts o;
    dh_opts_default(&o);
    double v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:b:vqh", lopts, NULL)) != -1) {
        switch (c) {
        case 'p': port = optarg; break;
        case O_PKG: pkg_path = optarg; break;
        case 'b':
            if (!num(optarg, 1, 20000000, &v))
                return bad("bad baud rate '%s'", optarg);
            baud = (unsigned)v;
            break;
        case O_PRN:
            if (!num(optarg, 0, 65535, &v) || v != (unsigned)v)
                return bad("--prn wants 0..65535, not '%s'", optarg);
            o.prn = (uint16_t)v;
            break;
        case O_FLOW: flow = true; break;
        case O_TIMEOUT:
            if (!num(optarg, 0.001, 3600, &v))
                return bad("--timeout wants seconds (0.001..3600), not '%s'", optarg);
            o.connect_ms = o.final_ms = (uint32_t)(v * 1000 + 0.5);
            break;
        case O_RSP:
            if (!num(optarg, 1, 600000, &v))
                return bad("--response-timeout wants milliseconds, not '%s'", optarg);
            o.rsp_ms = (uint32_t)v;
            break;
        case O_RETRIES:
            if (!num(optarg, 0, 100, &v) || v != (unsigned)v)
                return bad("--retries wants 0..100, not '%s'", optarg);
            o.retries = (unsigned)v;
            break;
        case O_RESTART: o.restart = true; break;
        case O_CAPTURE: cap_path = optarg; break;
        case O_NOCHECK: check = false; break;
        case O_PROTO:
            if (strcmp(optarg, "sdfu") && strcmp(optarg, "legacy"))
                return bad("--protocol wants sdfu or legacy, not '%s'", optarg);
            legacy = !strcmp(optarg, "legacy");
            break;
        case 'v': u.verbose++; break;
        case 'q': u.quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: return dk_opt_complain(stderr, prog, c, argv, optind, optopt);
        }
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (!port)
        return bad("%s", "-p PORT is required");
    if (!pkg_path)
        return bad("%s", "--pkg FILE is required");
    if (u.quiet)
        u.verbose = 0;

    dk_pkg pkg;
    dk_err err = { 0 };
    if (dk_pkg_open(pkg_path, &pkg, &err) != DK_OK) {
        dk_err_print(stderr, prog, pkg_path, &err);
        return 2;
    }
    if (check && !legacy && dk_pkg_check(&pkg, &err) != DK_OK) {
        dk_err_print(stderr, prog, pkg_path, &err);
        dk_pkg_free(&pkg);
        return 2;
    }
    dh_image imgs[DK_PKG_MAX_IMAGES];
    for (size_t i = 0; i < pkg.n; i++) {
        dk_image *im = &pkg.img[i];
        if (im->dat_len == 0 || im->bin_len == 0) {
            fprintf(stderr, "%s: %s: %s is empty\n", prog, pkg_path,
                    im->dat_len == 0 ? im->dat_name : im->bin_name);
            dk_pkg_free(&pkg);
            return 2;
        }
        dh_image d = { im->bin_name, im->dat_name, im->bin, im->bin_len, im->dat, im->dat_len };
        imgs[i] = d;
    }

    signal(SIGPIPE, SIG_IGN);
    dk_cap_writer *cap = NULL;
    if (cap_path && !(cap = dk_cap_create(cap_path, &err))) {
        dk_err_print(stderr, prog, cap_path, &err);
        dk_pkg_free(&pkg);
        return 2;
    }
    static dh_link link;
    if (dh_link_open(&link, port, baud, flow, cap, &err) != DK_OK) {
        dk_err_print(stderr, prog, port, &err);
        dk_pkg_free(&pkg);
        return err.status == DK_E_USAGE ? 2 : 1;
    }
    link.on_anomaly = on_anomaly;
    link.ctx = &u;
    if (u.verbose)
        fprintf(stderr, "%s: %s opened with %s at %u baud%s\n", prog, port,
                dk_serial_kind(link.port), baud, flow ? ", RTS/CTS" : "");

    u.nimg = pkg.n;
    o.on_event = on_event;
    o.ev_ctx = &u;
    o.trace = u.verbose >= 2;
    dh_io io = dh_link_io(&link);
    dh_result res;
    dh_status st = legacy ? run_legacy(&o, &io, &pkg, &res) : dh_run(&o, &io, imgs, pkg.n, &res);
    bar_clear(&u);
    if (st != DH_OK) {
        if (link.err.msg[0] && strstr(res.msg, "port"))
            fprintf(stderr, "%s: %s: %s (%s)\n", prog, port, res.msg, link.err.msg);
        else
            fprintf(stderr, "%s: %s\n", prog, res.msg);
    } else if (!u.quiet) {
        fprintf(stderr, "%s: update complete: the target accepted %zu image%s\n", prog, pkg.n,
                pkg.n == 1 ? "" : "s");
    }
    dh_link_close(&link);
    dk_pkg_free(&pkg);
    return st == DH_OK ? 0 : 1;
}
