/* dfuhost - send a DFU package to a Secure DFU bootloader over a serial line.
 * Options: the table cli_opts below; behaviour: host/README.md. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dfukit/err.h"
#include "dfukit/cli.h"
#include "dfukit/pkg.h"
#include "lgmaster.h"
#include "link.h"
#include "master.h"

static const char *prog = "dfuhost";

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

/* ---- options: one table (cli.h) gives getopt, --help and the man page ---- */

typedef struct {
    const char *port, *pkg_path, *cap_path;
    unsigned baud;
    bool flow, check, quiet;
    bool legacy; /* --protocol legacy */
    int verbose;
    dh_opts o;
} cfg;

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see %s --help)\n", prog);
    return 2;
}

static int opt_baud(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 1, 20000000, &v))
        return bad("bad baud rate '%s'", arg);
    ((cfg *)ctx)->baud = (unsigned)v;
    return DK_CLI_GO;
}

/* --protocol sdfu (the default) or legacy. */
static int opt_protocol(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "sdfu") && strcmp(arg, "legacy"))
        return bad("--protocol wants sdfu or legacy, not '%s'", arg);
    ((cfg *)ctx)->legacy = !strcmp(arg, "legacy");
    return DK_CLI_GO;
}

static int opt_prn(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 0, 65535, &v) || v != (unsigned)v)
        return bad("--prn wants 0..65535, not '%s'", arg);
    ((cfg *)ctx)->o.prn = (uint16_t)v;
    return DK_CLI_GO;
}

static int opt_timeout(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 0.001, 3600, &v))
        return bad("--timeout wants seconds (0.001..3600), not '%s'", arg);
    cfg *c = ctx;
    c->o.connect_ms = c->o.final_ms = (uint32_t)(v * 1000 + 0.5);
    return DK_CLI_GO;
}

static int opt_rsp(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 1, 600000, &v))
        return bad("--response-timeout wants milliseconds, not '%s'", arg);
    ((cfg *)ctx)->o.rsp_ms = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_retries(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 0, 100, &v) || v != (unsigned)v)
        return bad("--retries wants 0..100, not '%s'", arg);
    ((cfg *)ctx)->o.retries = (unsigned)v;
    return DK_CLI_GO;
}

static int opt_verify_window(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 1, 600000, &v))
        return bad("--verify-window wants milliseconds (1..600000), not '%s'", arg);
    ((cfg *)ctx)->o.verify_ms = (uint32_t)v;
    return DK_CLI_GO;
}

#define O(field) offsetof(cfg, field)
static const dk_cli_opt cli_opts[] = {
    { "port", 'p', "PORT", "serial port or pty (e.g. /dev/ttyACM0, /dev/pts/3)", NULL, dk_cli_str, O(port) },
    { "pkg", 0, "FILE", "the package (zip with manifest.json, .bin, .dat)", NULL, dk_cli_str, O(pkg_path) },
    { "baud", 'b', "N", "baud rate (default 115200)", NULL, opt_baud },
    { "prn", 0, "N", "ask for a CRC notification every N writes (default 0: off)", NULL, opt_prn },
    { "flow-control", 0, NULL, "RTS/CTS hardware flow control (default off)", NULL, dk_cli_true, O(flow) },
    { "timeout", 0, "S",
      "wait up to S seconds for the target to answer PING, and for the answer to the final EXECUTE "
      "(default 10)",
      NULL, opt_timeout },
    { "response-timeout", 0, "MS", "wait for any other answer before resyncing (default 1000)", NULL, opt_rsp },
    { "retries", 0, "N", "re-sends of an unanswered request (default 3)", NULL, opt_retries },
    { "restart", 0, NULL, "ignore what the target holds: send everything afresh", NULL, dk_cli_true,
      O(o.restart) },
    { "capture", 0, "FILE",
      "record all traffic (pcap, link type 250; dfudecode reads it); an existing file is overwritten, a "
      "new one is mode 0600, a symlink is refused, a FIFO is fine",
      NULL, dk_cli_str, O(cap_path) },
    { "no-check", 0, NULL, "send the package even if its hashes do not match", NULL, dk_cli_false, O(check) },
    { "no-verify", 0, NULL,
      "do not check, after the last image, that the target left its bootloader (by default a "
      "bootloader that still answers PING and still holds the init packet did not keep the update, "
      "which is then sent again)",
      NULL, dk_cli_false, O(o.verify) },
    { "verify-window", 0, "MS",
      "how long that check pings for an answer before it counts the target as gone into its new "
      "firmware (default 2000)",
      NULL, opt_verify_window },
    { "protocol", 0, "sdfu|legacy",
      "sdfu (default) or legacy: HCI serial DFU for SDK <= 11 and the Adafruit nRF52 bootloader (an "
      "adafruit-nrfutil package)",
      NULL, opt_protocol },
    { "verbose", 'v', NULL, "tell decisions in detail; twice: every message", NULL, dk_cli_count, O(verbose) },
    { "quiet", 'q', NULL, "errors only", NULL, dk_cli_true, O(quiet) },
};
#undef O

static const char *const cli_usage[] = { "-p PORT --pkg PKG.zip [options]", NULL };
static const dk_cli_exit cli_exits[] = {
    { 0, "the target accepted every image and, unless --no-verify, left its bootloader (or reports it kept the update)" },
    { 1, "the update failed: the target refused, stopped answering, or the port went away" },
    { 2, "bad options or a bad package" },
};
static const dk_cli_example cli_examples[] = {
    { "dfuhost -p /dev/ttyACM0 --pkg app.zip", "Update a board on a USB serial port:" },
    { "dfuhost -p /dev/pts/7 --pkg app.zip --prn 8 --capture run.pcap -v",
      "Against dfusim, with a CRC notification every 8 writes, the traffic kept for dfudecode:" },
};
static const char *const cli_see_also[] = { "dfusim(1)", "dfudecode(1)", "dfucheck(1)", "dfusniff(1)", NULL };
static const dk_cli_tool cli = {
    .name = "dfuhost",
    .summary = "send a DFU package to a Nordic Secure DFU bootloader over a serial line",
    .usage = cli_usage,
    .description = "Send every image of a DFU package to a Secure DFU bootloader (SDK 15-17, serial/SLIP), "
                   "resuming whatever the target already holds; with --protocol legacy, to a legacy HCI DFU "
                   "bootloader (SDK <= 11, the Adafruit nRF52 bootloader).",
    .details = "Images go in the SDK's order (SoftDevice and bootloader, SoftDevice, bootloader, "
               "application).  Before each object dfuhost asks the target (SELECT) what it holds and "
               "resumes from there when the CRC matches; an unanswered request is re-sent, a garbled or "
               "late answer resynchronises the link.  A refusal names the result and extended error "
               "codes, their meaning and a hint.  The SDK answers the last EXECUTE before it stores "
               "its settings, so after the last image dfuhost checks that the target really left its "
               "bootloader: PINGs for --verify-window (a USB port that went away is reopened); no "
               "answer, or a port that does not come back, counts as left; a bootloader that answers "
               "and still holds the init packet lost the update, and it is sent again (up to --retries "
               "times).  Progress goes to stderr.",
    .opts = cli_opts,
    .n_opts = DK_CLI_N(cli_opts),
    .exits = cli_exits,
    .n_exits = DK_CLI_N(cli_exits),
    .examples = cli_examples,
    .n_examples = DK_CLI_N(cli_examples),
    .see_also = cli_see_also,
};

/* The command line into c.  DK_CLI_GO: go on; else the exit status. */
static int parse_args(int argc, char **argv, cfg *c)
{
    memset(c, 0, sizeof *c);
    c->baud = 115200;
    c->check = true;
    dh_opts_default(&c->o);
    int next;
    int rc = dk_cli_run(&cli, argc, argv, c, DK_CLI_ALL, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    if (next < argc)
        return bad("unexpected argument '%s'", argv[next]);
    if (!c->port)
        return bad("%s", "-p PORT is required");
    if (!c->pkg_path)
        return bad("%s", "--pkg FILE is required");
    if (c->quiet)
        c->verbose = 0;
    return DK_CLI_GO;
}

/* ---- the update ------------------------------------------------------------- */

/* The package and its images; 0, or 2 after one line. */
static int load_package(const cfg *c, dk_pkg *pkg, dh_image *imgs)
{
    dk_err err = { 0 };
    if (dk_pkg_open(c->pkg_path, pkg, &err) != DK_OK) {
        dk_err_print(stderr, prog, c->pkg_path, &err);
        return 2;
    }
    if (c->check && !c->legacy && dk_pkg_check(pkg, &err) != DK_OK) {
        dk_err_print(stderr, prog, c->pkg_path, &err);
        dk_pkg_free(pkg);
        return 2;
    }
    for (size_t i = 0; i < pkg->n; i++) {
        dk_image *im = &pkg->img[i];
        if (im->dat_len == 0 || im->bin_len == 0) {
            fprintf(stderr, "%s: %s: %s is empty\n", prog, c->pkg_path,
                    im->dat_len == 0 ? im->dat_name : im->bin_name);
            dk_pkg_free(pkg);
            return 2;
        }
        dh_image d = { im->bin_name, im->dat_name, im->bin, im->bin_len, im->dat, im->dat_len };
        imgs[i] = d;
    }
    return 0;
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

/* The capture and the port; 0, or the exit status after one line. */
static int open_link(const cfg *c, dh_link *link, ui *u)
{
    dk_err err = { 0 };
    dk_cap_writer *cap = NULL;
    if (c->cap_path && !(cap = dk_cap_create(c->cap_path, &err))) {
        dk_err_print(stderr, prog, c->cap_path, &err);
        return 2;
    }
    if (dh_link_open(link, c->port, c->baud, c->flow, cap, &err) != DK_OK) {
        dk_err_print(stderr, prog, c->port, &err);
        return err.status == DK_E_USAGE ? 2 : 1;
    }
    link->on_anomaly = on_anomaly;
    link->ctx = u;
    if (u->verbose)
        fprintf(stderr, "%s: %s opened with %s at %u baud%s\n", prog, c->port, dk_serial_kind(link->port),
                c->baud, c->flow ? ", RTS/CTS" : "");
    return 0;
}

int main(int argc, char **argv)
{
    static cfg c;
    int rc = parse_args(argc, argv, &c);
    if (rc != DK_CLI_GO)
        return rc;
    ui u = { .tty = isatty(2) == 1, .quiet = c.quiet, .verbose = c.verbose };

    dk_pkg pkg;
    dh_image imgs[DK_PKG_MAX_IMAGES];
    if ((rc = load_package(&c, &pkg, imgs)) != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    static dh_link link;
    if ((rc = open_link(&c, &link, &u)) != 0) {
        dk_pkg_free(&pkg);
        return rc;
    }

    u.nimg = pkg.n;
    dh_opts o = c.o;
    o.on_event = on_event;
    o.ev_ctx = &u;
    o.trace = u.verbose >= 2;
    dh_io io = dh_link_io(&link);
    dh_result res;
    dh_status st = c.legacy ? run_legacy(&o, &io, &pkg, &res) : dh_run(&o, &io, imgs, pkg.n, &res);
    bar_clear(&u);
    if (st != DH_OK) {
        if (link.err.msg[0] && strstr(res.msg, "port"))
            fprintf(stderr, "%s: %s: %s (%s)\n", prog, c.port, res.msg, link.err.msg);
        else
            fprintf(stderr, "%s: %s\n", prog, res.msg);
    } else if (!u.quiet) {
        const char *after = res.after == DH_AF_LEFT     ? " and left its bootloader"
                            : res.after == DH_AF_STORED ? " and kept the update (its bootloader still runs)"
                                                        : "";
        fprintf(stderr, "%s: update complete: the target accepted %zu image%s%s\n", prog, pkg.n,
                pkg.n == 1 ? "" : "s", after);
    }
    dh_link_close(&link);
    dk_pkg_free(&pkg);
    return st == DH_OK ? 0 : 1;
}
