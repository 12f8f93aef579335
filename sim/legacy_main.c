/* legacy_main.c - `dfusim --protocol legacy`: the legacy bootloader core
 * (legacy.h) on a pty.  Bytes from the host go through the core's SLIP
 * receiver; each packet is answered with its ACK, then processed (the USB
 * bootloader's main loop empties the DFU queue before it reads USB again,
 * protocol.md §13.5); with --realtime the flash work takes its time before
 * the next byte is read.
 *
 * The 1200-baud touch: while a host has the port open its line settings are
 * read from the pty; a host that set 1200 baud and closed the port has
 * touched it (§13.10, §13.13).  The app takes the touch (GPREGRET 0x4E and a
 * reset into serial DFU); the bootloader in DFU mode ignores it.
 */
#include "legacy_main.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfukit/capfile.h"
#include "dfukit/cli.h"
#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/pty.h"
#include "fault.h"
#include "flash.h"
#include "legacy.h"
#include "proc.h"

#define TOOL "dfusim"
#define POLL_OPEN_MS 10  /* line settings are read this often while a host has the port */
#define POLL_IDLE_MS 20

typedef struct {
    ds_lg_config cfg;
    const char *chip; /* the first pass's */
    const char *flash_path, *link, *capture;
    bool realtime, show_settings;
    int verbose;
    ds_faults faults;
} lopts;

typedef struct {
    lopts o;
    dk_pty pty;
    ds_flash *flash;
    ds_lg *lg;
    dk_cap_writer *cap;
    uint64_t t0_us;
    bool host_open, saw_1200, stalled, off;
    uint64_t off_until_ms;
    uint8_t in[4096];
} lsim;

static uint64_t now_ms(const lsim *s)
{
    return (ds_mono_us() - s->t0_us) / 1000u;
}

static void logx(const lsim *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logx(const lsim *s, int level, const char *fmt, ...)
{
    if (s->o.verbose < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    ds_vlog(now_ms(s), fmt, ap);
    va_end(ap);
}

/* ---- the chip ------------------------------------------------------------ */

static void boot(lsim *s, bool power_on, const char *why)
{
    s->stalled = s->off = false;
    bool dfu = ds_lg_boot(s->lg, now_ms(s), power_on);
    uint64_t busy = ds_flash_take_busy_us(s->flash);
    if (s->o.realtime && busy)
        usleep((useconds_t)busy);
    logx(s, 0, "%s: boot %llu, %s", why, (unsigned long long)ds_lg_boots(s->lg),
         dfu ? "serial DFU mode (expects sequence number 1)" : "the app runs (port silent)");
}

static void power_cut(lsim *s, uint32_t off_ms, const char *why)
{
    if (!off_ms) {
        boot(s, true, why);
        return;
    }
    logx(s, 0, "%s: power off for %u ms", why, off_ms);
    s->off = true;
    s->off_until_ms = now_ms(s) + off_ms;
}

static void flags_do(lsim *s, int flags, const char *why)
{
    if (flags & DS_LG_CUT)
        power_cut(s, 0, "power cut in a flash operation");
    else if (flags & DS_LG_RESET)
        boot(s, false, why);
    else if (flags & DS_LG_APP)
        logx(s, 0, "DFU mode ended: the app runs (port silent)");
}

static void fire(lsim *s, const ds_fault_fire *f, const char *where)
{
    for (size_t i = 0; i < f->n_which; i++)
        logx(s, 0, "fault %s fired (%s)", s->o.faults.f[f->which[i]].spec, where);
    if (f->power_cut)
        power_cut(s, f->off_ms, "power cut (fault)");
    else if (f->reset)
        boot(s, false, "reset (fault)");
    if (f->stall) {
        s->stalled = true;
        logx(s, 0, "stalled: no more ACKs until a reset");
    }
}

static ds_flash_verdict flash_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no)
{
    lsim *s = ctx;
    ds_fault_verdict v = ds_faults_flash_op(&s->o.faults, op_no);
    if (v != DS_FV_GO || s->o.verbose >= 2)
        logx(s, v == DS_FV_GO ? 2 : 0, "flash op %llu: %s 0x%08X len %u%s", (unsigned long long)op_no,
             is_erase ? "erase" : "write", addr, len,
             v == DS_FV_CUT ? ": POWER CUT (fault)" : v == DS_FV_FAIL ? ": fails (fault)" : "");
    return v == DS_FV_CUT ? DS_FLASH_CUT : v == DS_FV_FAIL ? DS_FLASH_FAIL : DS_FLASH_GO;
}

/* ---- the line ---------------------------------------------------------------- */

static void send_ack(lsim *s, uint8_t *ack, size_t n)
{
    uint32_t delay_ms;
    int64_t corrupt_at;
    if (ds_faults_response(&s->o.faults, &delay_ms, &corrupt_at)) {
        logx(s, 0, "ACK dropped (fault)");
        return;
    }
    if (corrupt_at != -2) {
        ds_fault_corrupt(ack + 1, n - 2, corrupt_at);
        logx(s, 0, "ACK corrupted (fault)");
    }
    if (delay_ms) {
        logx(s, 0, "ACK delayed %u ms (fault)", delay_ms);
        usleep((useconds_t)delay_ms * 1000u);
    }
    size_t w = 0;
    if (s->host_open) {
        dk_pty_wr r;
        size_t k;
        /* a signal wakes the write; the main loop acts on it next */
        while ((r = dk_pty_write(&s->pty, ack + w, n - w, 1000, ds_sig_fd(), &k)) == DK_PTY_WOKEN &&
               !ds_sig_quit)
            w += k;
        w += k;
        (void)r; /* DK_PTY_GONE: the next watch_host sees the port closed */
    }
    if (w && s->cap)
        dk_cap_write(s->cap, -1, DK_DIR_TARGET, ack, w, NULL);
    if (w < n)
        logx(s, 0, "ACK lost: %s", s->host_open ? "the host stopped reading" : "no host has the port open");
}

static void handle(lsim *s, const uint8_t *frame, size_t len)
{
    int kind = ds_lg_frame_kind(frame, len);
    const char *kn = kind >= 0 ? dk_lg_kind_name((uint32_t)kind) : NULL;
    char what[64];
    snprintf(what, sizeof what, "%s #%u (%zu bytes)", kn ? kn : "packet", len ? frame[0] & 7 : 0, len);
    logx(s, 1, "<- %s", what);
    ds_fault_fire f;
    ds_faults_request(&s->o.faults, (uint8_t)(kind < 0 ? 0xFF : kind), &f);
    if (f.lose && !(f.reset || f.power_cut || f.stall)) {
        logx(s, 0, "packet lost on the line (fault): %s", what);
        return;
    }
    if (f.n_which && (f.reset || f.power_cut || f.stall)) {
        fire(s, &f, what);
        return;
    }
    uint8_t ack[8];
    size_t an = 0;
    uint8_t before = ds_lg_expected(s->lg);
    int flags = ds_lg_packet(s->lg, frame, len, now_ms(s), ack, &an);
    if (!an)
        logx(s, 0, "%s: invalid (header or CRC16): dropped without an ACK", what);
    else if (ds_lg_expected(s->lg) == before)
        logx(s, 0, "%s: the device expects #%u: dropped, ACK %u", what, before, before);
    if (an) {
        logx(s, 1, "-> ACK %u", ds_lg_expected(s->lg));
        send_ack(s, ack, an);
    }
    flags |= ds_lg_process(s->lg, now_ms(s));
    uint64_t busy = ds_flash_take_busy_us(s->flash);
    if (s->o.realtime && busy)
        usleep((useconds_t)busy); /* the main loop reads USB only after this */
    ds_faults_handled(&s->o.faults, (uint8_t)(kind < 0 ? 0xFF : kind), ds_lg_image_bytes(s->lg), &f);
    if (f.n_which) {
        fire(s, &f, what);
        if (f.reset || f.power_cut)
            return;
    }
    flags_do(s, flags, flags & DS_LG_RESET ? "reset by the bootloader (error from START/INIT, or "
                                             "an SD/BL update activated)" : "");
}

static void feed(lsim *s, const uint8_t *p, size_t n)
{
    while (n) {
        if (s->off || s->stalled || !ds_lg_in_dfu(s->lg)) {
            logx(s, 1, "%zu bytes ignored: %s", n, s->off ? "the chip is off" : s->stalled ? "stalled"
                                                                                : "the app runs");
            return;
        }
        size_t used;
        const uint8_t *frame;
        size_t len;
        bool got = ds_lg_feed(s->lg, p, n, &used, &frame, &len);
        p += used;
        n -= used;
        if (got)
            handle(s, frame, len);
    }
}

/* The host side: opened, closed, its baud rate (the touch). */
static void watch_host(lsim *s)
{
    bool open = dk_pty_host_open(&s->pty);
    if (open) {
        dk_serial_cfg c;
        if (!s->host_open) {
            s->host_open = true;
            s->saw_1200 = false;
            logx(s, 1, "host opened the port");
            if (s->cap) /* the host's DTR in the capture: the port is open */
                dk_cap_write_lines(s->cap, -1, DK_LINE_DTR | DK_LINE_RTS, NULL);
        }
        if (dk_pty_cfg(&s->pty, &c))
            s->saw_1200 = c.baud == 1200;
        return;
    }
    if (!s->host_open)
        return;
    s->host_open = false;
    dk_pty_drop_unread(&s->pty);
    logx(s, 1, "host closed the port");
    if (s->cap)
        dk_cap_write_lines(s->cap, -1, 0, NULL);
    if (!s->saw_1200)
        return;
    s->saw_1200 = false;
    int flags = s->off ? 0 : ds_lg_touch(s->lg);
    logx(s, 0, "1200-baud touch: %s", flags ? "the app resets into serial DFU (GPREGRET 0x4E)"
                                            : ds_lg_in_dfu(s->lg) ? "the bootloader ignores it (already in DFU mode)"
                                                                  : "nothing takes it");
    flags_do(s, flags, "reset by the app (1200-baud touch)");
}

static void timers(lsim *s)
{
    uint64_t ms = now_ms(s);
    if (s->off && ms >= s->off_until_ms)
        boot(s, true, "power back on");
    ds_fault_fire f;
    ds_faults_tick(&s->o.faults, ms, &f);
    if (f.n_which)
        fire(s, &f, "timer");
    if (!s->off && !s->stalled) {
        int flags = ds_lg_tick(s->lg, ms);
        if (flags)
            flags_do(s, flags, "DFU timer ran out");
    }
}

static int loop(lsim *s)
{
    while (!ds_sig_quit) {
        if (ds_sig_reset) {
            ds_sig_reset = 0;
            boot(s, false, "reset (SIGUSR1)");
        }
        if (ds_sig_cut) {
            ds_sig_cut = 0;
            power_cut(s, 0, "power cut (SIGUSR2)");
        }
        timers(s);
        watch_host(s);
        struct pollfd pf[2] = { { .fd = ds_sig_fd(), .events = POLLIN },
                                { .fd = s->host_open ? s->pty.master : s->pty.opened, .events = POLLIN } };
        int nfd = pf[1].fd >= 0 ? 2 : 1;
        int timeout = s->host_open ? POLL_OPEN_MS : POLL_IDLE_MS;
        uint64_t d = ds_lg_deadline(s->lg), ms = now_ms(s);
        if (d != UINT64_MAX && d - ms < (uint64_t)timeout)
            timeout = d > ms ? (int)(d - ms) : 0;
        int r = poll(pf, (nfds_t)nfd, timeout);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, TOOL ": poll: %s\n", strerror(errno));
            return 1;
        }
        if (r > 0 && pf[0].revents)
            ds_sig_drain();
        if (r > 0 && nfd == 2 && pf[1].revents && !s->host_open)
            dk_pty_opened_drain(&s->pty);
        if (!s->host_open || !(r > 0 && nfd == 2 && pf[1].revents))
            continue;
        ssize_t got = dk_pty_read(&s->pty, s->in, sizeof s->in);
        if (got == -2) {
            fprintf(stderr, TOOL ": read %s: %s\n", s->pty.slave, strerror(errno));
            return 1;
        }
        if (got <= 0)
            continue;
        if (s->cap)
            dk_cap_write(s->cap, -1, DK_DIR_HOST, s->in, (size_t)got, NULL);
        feed(s, s->in, (size_t)got);
    }
    return 0;
}

/* ---- the command line -------------------------------------------------------- */

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, TOOL ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see " TOOL " --protocol legacy --help)\n");
    return 2;
}

/* op=start -> op=3: the legacy kinds for the shared fault parser. */
static int add_fault(lopts *o, const char *spec)
{
    static const char *const names[][2] = { { "start", "3" }, { "init", "1" }, { "data", "4" },
                                            { "stop", "5" } };
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec);
    char *eq = strchr(buf, '=');
    if (eq && (!strncmp(buf, "op=", 3) || !strncmp(buf, "after-op=", 9))) {
        for (size_t i = 0; i < 4; i++) {
            size_t n = strlen(names[i][0]);
            if (!strncasecmp(eq + 1, names[i][0], n) && (eq[1 + n] == 0 || eq[1 + n] == '#' || eq[1 + n] == ':')) {
                char rest[128];
                snprintf(rest, sizeof rest, "%s", eq + 1 + n);
                snprintf(eq + 1, sizeof buf - (size_t)(eq + 1 - buf), "%s%s", names[i][1], rest);
                break;
            }
        }
    }
    ds_fault f;
    char why[160];
    if (ds_fault_parse(buf, &f, why, sizeof why) != 0)
        return bad("--fault: %s", why);
    snprintf(f.spec, sizeof f.spec, "%s", spec);
    if (ds_faults_add(&o->faults, &f) != 0)
        return bad("--fault %s: too many faults", spec);
    return 0;
}

/* ---- the option table (cli.h): a mode of dfusim's (dfusim.c) ------------------ */

static int opt_protocol(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)ctx, (void)opt;
    return strcmp(arg, "legacy") ? bad("--protocol: '%s' here must be legacy", arg) : DK_CLI_GO;
}

static int opt_chip(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "nrf52840") && strcmp(arg, "nrf52832"))
        return bad("--chip: '%s' is not nrf52840 or nrf52832", arg);
    ((lopts *)ctx)->chip = arg;
    return DK_CLI_GO;
}

static int opt_sd_fwid(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ds_lg_config *c = &((lopts *)ctx)->cfg;
    uint64_t v;
    if (!strcmp(arg, "none")) {
        c->sd_fwid = -1;
        c->sd_end = 0;
    } else if (dk_cli_uint(arg, 0xFFFF, &v)) {
        c->sd_fwid = (int)v;
    } else {
        return bad("--sd-fwid: '%s' is not a FWID or none", arg);
    }
    return DK_CLI_GO;
}

static int opt_app_size(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ds_lg_config *c = &((lopts *)ctx)->cfg;
    uint64_t v;
    if (!dk_cli_uint(arg, c->chip.flash_size, &v))
        return bad("--app-size: bad size '%s'", arg);
    c->app_size = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_timeout(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v) || !v)
        return bad("--dfu-timeout-ms: bad value '%s'", arg);
    ((lopts *)ctx)->cfg.dfu_timeout_ms = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_fault(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    return add_fault(ctx, arg) ? 2 : DK_CLI_GO;
}

static int opt_quiet(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    ((lopts *)ctx)->verbose = -1;
    return DK_CLI_GO;
}

static int opt_verbose(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    lopts *o = ctx;
    o->verbose += o->verbose >= 0; /* -q wins */
    return DK_CLI_GO;
}

#define O(field) offsetof(lopts, field)
#define BOARD "chip and bootloader"
#define RUN "run time"
static const dk_cli_opt lg_opts[] = {
    { "protocol", 0, "legacy", "the legacy HCI DFU (this table); sdfu: see dfusim --help", NULL, opt_protocol,
      0, DK_CLI_EARLY },
    { "chip", 0, "nrf52840|nrf52832",
      "chip profile (default nrf52840, a USB board; nrf52832: a UART board that runs serial DFU for 1 s at "
      "every start-up)",
      BOARD, opt_chip, 0, DK_CLI_EARLY },
    { "dual-bank", 0, NULL, "DUALBANK_FW=1: START erases bank 1, not the app", BOARD, dk_cli_true,
      O(cfg.dual_bank) },
    { "sd-fwid", 0, "ID|none",
      "the installed SoftDevice's FWID (default S140 6.1.1 0x00B6, S132 0x00B7); none: no SoftDevice", BOARD,
      opt_sd_fwid },
    { "app-size", 0, "N", "install an app of N bytes on a blank chip", BOARD, opt_app_size },
    { "no-touch", 0, NULL, "the app ignores the 1200-baud touch (it does not reset into serial DFU)", BOARD,
      dk_cli_false, O(cfg.app_touch) },
    { "double-reset", 0, NULL, "the board was double-reset into DFU mode at power-on", BOARD, dk_cli_true,
      O(cfg.double_reset) },
    { "legacy-seq-fix", 0, NULL,
      "not the bootloader's: a valid START numbered 1 starts the transport and the state machine over "
      "(protocol.md section 13.12)",
      BOARD, dk_cli_true, O(cfg.seq_fix) },
    { "dfu-timeout-ms", 0, "N", "how long DFU mode lasts without an update (the bootloader's 6 minutes)",
      BOARD, opt_timeout },
    { "flash", 0, "FILE", "keep the chip's flash in FILE (survives kill -9)", "flash", dk_cli_str,
      O(flash_path) },
    { "show-settings", 0, NULL, "print the 28-byte settings page (of --flash FILE) and exit", "flash",
      dk_cli_true, O(show_settings) },
    { "link", 0, "PATH", "symlink PATH to the pty", RUN, dk_cli_str, O(link) },
    { "capture", 0, "FILE", "record all traffic (pcap, link type 250; dfudecode reads it as legacy DFU)", RUN,
      dk_cli_str, O(capture) },
    { "fault", 0, "SPEC",
      "inject a fault (repeatable); op= and after-op= take the legacy packet kinds start, init, data, stop "
      "(or 3, 1, 4, 5)",
      RUN, opt_fault },
    { "realtime", 0, NULL, "spend the flash work's time (85 ms a page erase, 41 us a word) before reading on",
      RUN, dk_cli_true, O(realtime) },
    { "quiet", 'q', NULL, "quieter: errors only", RUN, opt_quiet },
    { "verbose", 'v', NULL, "more verbose (repeatable)", RUN, opt_verbose },
};
#undef O
#undef BOARD
#undef RUN

static const char *const lg_usage[] = { "--protocol legacy [options]", NULL };
static const dk_cli_note lg_notes[] = {
    { "signals", "SIGUSR1 reset, SIGUSR2 power cut, SIGTERM/SIGINT exit" },
};
static const dk_cli_exit lg_exits[] = {
    { 0, "ended by SIGTERM/SIGINT, or --show-settings done" },
    { 1, "could not open the pty, the flash file or the capture; --link refused; --show-settings of a "
         "missing --flash file" },
    { 2, "bad options or values" },
};
static const dk_cli_example lg_examples[] = {
    { "dfusim --protocol legacy --link /tmp/dk0 &\nadafruit-nrfutil dfu serial --package app.zip -p /tmp/dk0 "
      "--touch 1200",
      "An Adafruit nRF52840 board for adafruit-nrfutil, on a pty also reachable as /tmp/dk0:" },
    { "dfusim --protocol legacy --flash board.bin --show-settings",
      "The settings page a previous run left in board.bin:" },
};
const dk_cli_tool ds_legacy_cli = {
    .name = TOOL,
    .summary = "a fake Adafruit nRF52 bootloader (legacy HCI DFU) on a pseudo-terminal",
    .usage = lg_usage,
    .description = "The Adafruit nRF52 bootloader's legacy serial DFU (HCI, SDK 11) on a pseudo-terminal.  "
                   "Prints the pty path as the first line of stdout and serves until SIGTERM.",
    .details = "A host that sets 1200 baud and closes the port touches it: a running app resets into serial "
               "DFU.  See sim/README.md.",
    .opts = lg_opts,
    .n_opts = DK_CLI_N(lg_opts),
    .notes = lg_notes,
    .n_notes = DK_CLI_N(lg_notes),
    .exits = lg_exits,
    .n_exits = DK_CLI_N(lg_exits),
    .examples = lg_examples,
    .n_examples = DK_CLI_N(lg_examples),
};

/* DK_CLI_GO, or the exit status.  Two passes: the chip gives the defaults
 * the other options change. */
static int parse(int argc, char **argv, lopts *o)
{
    ds_faults_init(&o->faults);
    o->chip = "nrf52840";
    int next;
    int rc = dk_cli_run(&ds_legacy_cli, argc, argv, o, DK_CLI_FIRST, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    ds_lg_config_default(&o->cfg, o->chip);
    rc = dk_cli_run(&ds_legacy_cli, argc, argv, o, DK_CLI_REST, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    if (next < argc)
        return bad("unexpected argument '%s'", argv[next]);
    /* an app that cannot be installed is refused, not left out in silence */
    uint32_t room = ds_lg_config_app_room(&o->cfg);
    char why[160];
    if (o->cfg.app_size % 4 || o->cfg.app_size > room) {
        if (o->cfg.app_size % 4)
            snprintf(why, sizeof why, "%u: not a whole number of 4-byte words", o->cfg.app_size);
        else
            snprintf(why, sizeof why, "%u: more than the app area above the %s holds (%u bytes)",
                     o->cfg.app_size, o->cfg.sd_end ? "SoftDevice" : "MBR", room);
        return bad("--app-size %s", why);
    }
    return DK_CLI_GO;
}

static int serve(lsim *s)
{
    if (ds_sig_setup(false) < 0) {
        fprintf(stderr, TOOL ": pipe: %s\n", strerror(errno));
        return 1;
    }
    if (ds_port_open(&s->pty, s->o.link, s->o.capture, &s->cap) < 0)
        return 1;
    boot(s, true, "power on");
    printf("%s\n", s->pty.slave);
    fflush(stdout);
    int rc = loop(s);
    if (s->cap)
        dk_cap_close_writer(s->cap, NULL);
    dk_pty_close(&s->pty);
    return rc;
}

int ds_legacy_main(int argc, char **argv)
{
    static lsim s;
    int rc = parse(argc, argv, &s.o);
    if (rc != DK_CLI_GO)
        return rc;
    const ds_chip *c = &s.o.cfg.chip;
    s.t0_us = ds_mono_us();
    bool fresh;
    if (ds_flash_setup(s.o.flash_path, c, s.o.show_settings, &s.flash, &fresh) < 0)
        return 1;
    if (!s.flash || !(s.lg = ds_lg_new(&s.o.cfg, s.flash))) {
        fprintf(stderr, TOOL ": cannot set up the %s model\n", c->name);
        return 1;
    }
    if (fresh)
        ds_lg_provision(s.lg);
    if (s.o.show_settings) {
        ds_lg_print_settings(s.lg, stdout);
        rc = 0;
    } else {
        ds_flash_set_hook(s.flash, flash_hook, &s);
        rc = serve(&s);
    }
    ds_lg_free(s.lg);
    ds_flash_free(s.flash);
    return rc;
}
