/* sim_opts.c - dfusim's command line (dfusim.h): the option table (cli.h:
 * getopt, --help and the man page), the defaults a --chip and a --scenario
 * give, and what goes together. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfukit/msg.h"
#include "dfusim.h"
#include "legacy_main.h"

/* ---- command line ------------------------------------------------------------- */

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(TOOL ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* --scenario: the device, line and faults of a dk_scenario (scenario.h) as
 * defaults; 0, or -1 after a one-line error. */
static uint32_t scaled(uint64_t ms, double scale, uint32_t min)
{
    double v = (double)ms * scale + 0.5;
    return v < min ? min : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int scenario_config(options *o, bool *sd, uint32_t *sd_end, double scale)
{
    const dk_scenario *sc = o->scen;
    ds_bl_config *c = &o->cfg;
    c->hw_version = sc->device.hw_version;
    if (sc->device.softdevice) {
        *sd = true;
        c->sd_fwid = sc->device.sd_fwid;
        *sd_end = sc->device.sd_end;
    }
    if (sc->device.app) {
        c->app_size = sc->device.app_size;
        c->app_version = sc->device.app_version;
    }
    c->bootloader_version = sc->device.bootloader_version;
    c->save_progress_in_flash = sc->device.save_progress_in_flash;
    c->single_bank = sc->device.single_bank;
    c->allow_unsigned = !sc->device.require_signature;
    c->enter = !strcmp(sc->device.enter_dfu, "always")       ? DS_BL_ENTER_ALWAYS
               : !strcmp(sc->device.enter_dfu, "first-boot") ? DS_BL_ENTER_FIRST_BOOT
                                                             : DS_BL_ENTER_NO_VALID_APP;
    c->mtu = sc->device.mtu;
    c->inactivity_ms = sc->device.inactivity_ms ? scaled(sc->device.inactivity_ms, scale, 100) : 0;
    if (sc->line.realtime) {
        o->realtime = true;
        o->baud = sc->line.baud;
    }
    for (size_t i = 0; i < sc->n_faults; i++) {
        ds_fault f;
        char why[200];
        if (ds_fault_parse(sc->faults[i], &f, why, sizeof why) < 0) {
            fprintf(stderr, TOOL ": --scenario %s: faults[%zu]: %s\n", o->scenario_path, i, why);
            return -1;
        }
        if (scale < 1) { /* times in ms: delays, off times, after-ms triggers */
            if ((f.act == DS_FA_DELAY || f.act == DS_FA_POWER_CUT) && f.arg > 0)
                f.arg = scaled((uint64_t)f.arg, scale, 1);
            if (f.trig == DS_FT_MS)
                f.n = scaled(f.n, scale, 0);
        }
        if (ds_faults_add(&o->faults, &f) < 0) {
            fprintf(stderr, TOOL ": --scenario %s: faults[%zu]: too many faults\n", o->scenario_path, i);
            return -1;
        }
    }
    return 0;
}


/* ---- the option table (cli.h): getopt, --help and the man page ------------- */

static int opt_mtu(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, 8192, &v) || v < 23)
        return bad("--mtu %s: expected a number from 23 to 8192 (131 UART, 2051 USB)", arg);
    ((options *)ctx)->cfg.mtu = (uint16_t)v;
    ((options *)ctx)->mtu_set = true;
    return DK_CLI_GO;
}

static int opt_hw(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v))
        return bad("--hw-version %s: expected a number", arg);
    ((options *)ctx)->cfg.hw_version = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_sd_fwid(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    uint64_t v;
    if (!strcmp(arg, "none")) {
        o->sd = false;
    } else if (dk_cli_uint(arg, 0xFFFD, &v) && v != 0) {
        o->sd = true;
        o->cfg.sd_fwid = (uint16_t)v;
    } else {
        return bad("--sd-fwid %s: expected none or a FWID from 0x0001 to 0xFFFD", arg);
    }
    return DK_CLI_GO;
}

static int opt_sd_end(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v) || v % o->cfg.chip.page_size || v <= DS_SD_INFO_ADDR + 0x1000)
        return bad("--sd-end %s: expected a page-aligned address above 0x4000", arg);
    o->sd_end = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_app_size(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    uint64_t v;
    if (!dk_cli_uint(arg, o->cfg.chip.flash_size, &v))
        return bad("--app-size %s: expected a byte count", arg);
    o->cfg.app_size = (uint32_t)v;
    o->app_cli = true;
    return DK_CLI_GO;
}

static int opt_app_version(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v))
        return bad("--app-version %s: expected a number", arg);
    ((options *)ctx)->cfg.app_version = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_public_key(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (access(arg, R_OK) != 0)
        return bad("--public-key %s: %s", arg, strerror(errno));
    ((options *)ctx)->cfg.pubkey_pem = arg;
    return DK_CLI_GO;
}

static int opt_enter(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ds_bl_config *c = &((options *)ctx)->cfg;
    if (!strcmp(arg, "no-valid-app"))
        c->enter = DS_BL_ENTER_NO_VALID_APP;
    else if (!strcmp(arg, "always"))
        c->enter = DS_BL_ENTER_ALWAYS;
    else if (!strcmp(arg, "first-boot"))
        c->enter = DS_BL_ENTER_FIRST_BOOT;
    else
        return bad("--enter-dfu %s: expected no-valid-app, always or first-boot", arg);
    return DK_CLI_GO;
}

static int opt_inactivity(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v) || (v > 0 && v < 100))
        return bad("--inactivity-ms %s: expected 0 (off) or at least 100", arg);
    ((options *)ctx)->cfg.inactivity_ms = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_fault(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ds_fault f;
    char why[200];
    if (ds_fault_parse(arg, &f, why, sizeof why) < 0)
        return bad("--%s", why);
    if (ds_faults_add(&((options *)ctx)->faults, &f) < 0)
        return bad("--fault: at most %d faults", DS_FAULTS_MAX);
    return DK_CLI_GO;
}

static int opt_baud(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, 12000000, &v) || v < 300)
        return bad("--baud %s: expected a rate from 300 to 12000000", arg);
    ((options *)ctx)->baud = (long)v;
    return DK_CLI_GO;
}

static int opt_hwfc(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "on") && strcmp(arg, "off"))
        return bad("--hwfc %s: expected on or off", arg);
    ((options *)ctx)->hwfc = !strcmp(arg, "on");
    return DK_CLI_GO;
}

static int opt_transport(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    if (strcmp(arg, "uart") && strcmp(arg, "usb"))
        return bad("--transport %s: expected uart or usb", arg);
    o->transport = !strcmp(arg, "usb") ? DS_LINK_USB : DS_LINK_UART;
    o->transport_set = true;
    return DK_CLI_GO;
}

static int opt_clock(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "real") && strcmp(arg, "virtual"))
        return bad("--clock %s: expected real or virtual", arg);
    ((options *)ctx)->vclock = !strcmp(arg, "virtual");
    return DK_CLI_GO;
}

static int opt_protocol(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)ctx, (void)opt;
    if (strcmp(arg, "sdfu")) /* legacy was picked before the parse (main) */
        return bad("--protocol: '%s' is not sdfu or legacy", arg);
    return DK_CLI_GO;
}

static int opt_quiet(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    ((options *)ctx)->verbose = -1;
    return DK_CLI_GO;
}

static int opt_verbose(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    options *o = ctx;
    if (o->verbose < 0)
        o->verbose = 0;
    o->verbose++;
    return DK_CLI_GO;
}

#define O(field) offsetof(options, field)
#define CHIP "chip and bootloader"
#define RUN "run time"
static const dk_cli_opt cli_opts[] = {
    { "protocol", 0, "sdfu|legacy",
      "sdfu: Secure DFU (the default); legacy: the Adafruit nRF52 bootloader's HCI DFU, which takes options "
      "of its own (dfusim --protocol legacy --help)",
      NULL, opt_protocol },
    /* the first pass: they decide the defaults of the rest */
    { "scenario", 0, "FILE",
      "start as a dfudecode --scenario file says (device, held init command and progress, faults); "
      "options given with it override it",
      NULL, dk_cli_str, O(scenario_path), DK_CLI_EARLY },
    { "time-scale", 0, "F",
      "run the scenario's times (inactivity timeout, fault delays and off times, after-ms) F times as long",
      NULL, dk_cli_str, O(time_scale), DK_CLI_EARLY },
    { "chip", 0, "nrf52840|nrf52832", "chip profile (default nrf52840)", CHIP, dk_cli_str, O(chip),
      DK_CLI_EARLY },
    /* the second */
    { "mtu", 0, "N", "MTU_GET answer and frame limit (131 UART, 2051 USB)", CHIP, opt_mtu },
    { "hw-version", 0, "N", "NRF_DFU_HW_VERSION (52)", CHIP, opt_hw },
    { "sd-fwid", 0, "none|ID", "SoftDevice FWID; none = MBR only (default)", CHIP, opt_sd_fwid },
    { "sd-end", 0, "ADDR", "end of the SoftDevice (default 0x27000)", CHIP, opt_sd_end },
    { "app-size", 0, "N", "install an app of N bytes on a blank chip", CHIP, opt_app_size },
    { "app-version", 0, "N", "the installed app's version (downgrade check)", CHIP, opt_app_version },
    { "public-key", 0, "FILE", "PEM key for signature checks", CHIP, opt_public_key },
    { "allow-unsigned", 0, NULL, "do not require signed app/SD updates", CHIP, dk_cli_true,
      O(cfg.allow_unsigned) },
    { "save-progress-in-flash", 0, NULL, "NRF_DFU_SAVE_PROGRESS_IN_FLASH = 1", CHIP, dk_cli_true,
      O(cfg.save_progress_in_flash) },
    { "single-bank", 0, NULL, "NRF_DFU_SINGLE_BANK_APP_UPDATES = 1", CHIP, dk_cli_true, O(cfg.single_bank) },
    { "enter-dfu", 0, "WHEN", "no-valid-app (default), always, first-boot", CHIP, opt_enter },
    { "inactivity-ms", 0, "N", "inactivity reset (120000; 0 = off)", CHIP, opt_inactivity },
    { "flash", 0, "FILE", "keep the chip's flash in FILE (survives kill -9)", "flash", dk_cli_str,
      O(flash_path) },
    { "dump-hex", 0, "FILE",
      "write the flash as Intel HEX at exit and on SIGHUP (exit 1 when it cannot be written)", "flash",
      dk_cli_str, O(dump_hex) },
    { "show-settings", 0, NULL, "print the settings page (of --flash FILE) and exit", "flash", dk_cli_true,
      O(show_settings) },
    { "link", 0, "PATH", "symlink PATH to the pty", RUN, dk_cli_str, O(link) },
    { "capture", 0, "FILE", "record all traffic (pcap, link type 250)", RUN, dk_cli_str, O(capture) },
    { "control", 0, "PATH",
      "unix socket: " DS_CTL_USAGE,
      RUN, dk_cli_str, O(control) },
    { "fault", 0, "SPEC", "inject a fault (repeatable; see sim/README.md)", RUN, opt_fault },
    { "realtime", 0, NULL, "pace bytes at --baud, spend flash time, lose overruns", RUN, dk_cli_true,
      O(realtime) },
    { "baud", 0, "N", "line speed for --realtime and --clock virtual (115200)", RUN, opt_baud },
    { "hwfc", 0, "on|off", "the bootloader's UART flow control, RTS/CTS (on)", RUN, opt_hwfc },
    { "transport", 0, "uart|usb", "UART (default) or USB CDC (no baud pacing, MTU 2051; --mtu 2051 implies it)",
      RUN, opt_transport },
    { "clock", 0, "real|virtual",
      "capture time stamps: the wall clock (default), or a virtual clock from 2024-05-14 10:00:00 UTC that "
      "only counts line time and flash time (same run, same pcap)",
      RUN, opt_clock },
    { "quiet", 'q', NULL, "quieter: no state changes or anomalies on stderr", RUN, opt_quiet },
    { "verbose", 'v', NULL, "more verbose (-vv: flash operations)", RUN, opt_verbose },
};
#undef O
#undef CHIP
#undef RUN

static const char *const cli_usage[] = { "[options]", NULL };
static const dk_cli_note cli_notes[] = {
    { "signals", "SIGUSR1 reset, SIGUSR2 power cut, SIGHUP dump HEX, SIGTERM/SIGINT exit" },
    { "files",
      "--capture, --dump-hex, dump-hex FILE, --flash: never written through a symlink; a new one is mode "
      "0600 (they hold the firmware); an existing capture or HEX file is overwritten, an existing --flash "
      "file used as it is; --capture may be a FIFO; the --control socket is mode 0600" },
};
static const dk_cli_exit cli_exits[] = {
    { 0, "ended by SIGTERM/SIGINT, or --show-settings done" },
    { 1, "could not open the pty, the flash file, the capture or the control socket; --link refused; "
         "--dump-hex could not be written; --show-settings of a missing --flash file" },
    { 2, "bad options or values, or a --scenario file that does not read or check" },
};
static const dk_cli_example cli_examples[] = {
    { "dfusim --allow-unsigned --link /tmp/dk0 &\ndfuhost -p /tmp/dk0 --pkg app.zip",
      "A board that takes unsigned packages, on a pty also reachable as /tmp/dk0:" },
    { "dfusim --capture sim.pcap --fault after-bytes=8192:power-cut",
      "Cut the power once 8192 bytes have arrived, and keep the traffic:" },
    { "dfusim --flash board.bin --show-settings", "The settings page a previous run left in board.bin:" },
};
static const char *const cli_see_also[] = { "dfuhost(1)", "dfudecode(1)", "dfucheck(1)", "dfusniff(1)", NULL };
static const dk_cli_mode cli_modes[] = {
    { "protocol", "legacy", "legacy protocol", &ds_legacy_cli },
};
const dk_cli_tool ds_sim_cli = {
    .name = TOOL,
    .summary = "a fake nRF5 SDK 17.1 Secure DFU bootloader on a pseudo-terminal",
    .usage = cli_usage,
    .description = "A fake nRF5 SDK 17.1 Secure DFU bootloader (serial, SLIP) on a pseudo-terminal, or with "
                   "--protocol legacy the Adafruit nRF52 bootloader's legacy HCI DFU.  Prints the pty path as "
                   "the first line of stdout and serves until SIGTERM.",
    .details = "It plays an nRF52 running the SDK's UART Secure DFU bootloader: banks, the settings page "
               "and its backup, progress in RAM or flash, init packet validation, activation, resets, the "
               "app booting.  Faults come on demand (--fault, the --control socket, signals): a power cut "
               "at a byte or a flash operation, lost or late responses, stalls, flash errors.",
    .opts = cli_opts,
    .n_opts = DK_CLI_N(cli_opts),
    .notes = cli_notes,
    .n_notes = DK_CLI_N(cli_notes),
    .exits = cli_exits,
    .n_exits = DK_CLI_N(cli_exits),
    .examples = cli_examples,
    .n_examples = DK_CLI_N(cli_examples),
    .see_also = cli_see_also,
    .modes = cli_modes,
    .n_modes = DK_CLI_N(cli_modes),
};

/* Between the passes: the scenario, the chip's defaults, the time scale; 0
 * or 2 after one line. */
static int apply_first(options *o)
{
    static dk_scenario scen;
    if (o->scenario_path) {
        dk_err e;
        if (dk_scen_read(o->scenario_path, &scen, &e) != DK_OK) {
            fprintf(stderr, TOOL ": --scenario ");
            dk_err_print(stderr, NULL, o->scenario_path, &e);
            return 2;
        }
        o->scen = &scen;
        if (!o->chip)
            o->chip = scen.device.chip;
    }
    if (!o->chip)
        o->chip = "nrf52840";
    if (!ds_chip_find(o->chip))
        return bad("--chip %s: unknown chip (nrf52840, nrf52832)", o->chip);
    ds_bl_config_default(&o->cfg, o->chip);
    o->baud = 115200;
    o->hwfc = true;
    o->transport = DS_LINK_UART;
    ds_faults_init(&o->faults);
    double scale = 1.0;
    if (o->time_scale) {
        char *end;
        scale = strtod(o->time_scale, &end);
        if (*end || !(scale > 0 && scale <= 1))
            return bad("--time-scale %s: expected a factor above 0, at most 1", o->time_scale);
        if (!o->scen)
            return bad("--time-scale goes with --scenario");
    }
    if (o->scen && scenario_config(o, &o->sd, &o->sd_end, scale) != 0)
        return 2;
    return 0;
}

/* After the second pass: operands and what goes together. */
static int check_args(int argc, char **argv, int next, options *o)
{
    if (next < argc)
        return bad("unexpected argument '%s' (see dfusim --help)", argv[next]);
    if (o->vclock && o->realtime)
        return bad("--clock virtual is for instant mode: --realtime paces by the wall clock");
    /* --mtu 2051 is the USB bootloader, --transport usb has its MTU */
    if (!o->transport_set && o->mtu_set && o->cfg.mtu == DK_MTU_USB)
        o->transport = DS_LINK_USB;
    if (o->transport_set && !o->mtu_set && o->transport == DS_LINK_USB)
        o->cfg.mtu = DK_MTU_USB;
    if (o->sd) {
        o->cfg.sd_end = o->sd_end ? o->sd_end : 0x27000;
        if (o->cfg.sd_end + o->cfg.chip.page_size >= o->cfg.chip.bl_start)
            return bad("--sd-end 0x%X: leaves no room for an app", o->cfg.sd_end);
    } else if (o->sd_end) {
        return bad("--sd-end needs --sd-fwid");
    }
    /* An app that does not fit would not be installed while the log said it
     * was (a scenario's own size was checked when it was read). */
    uint32_t room = ds_bl_config_app_room(&o->cfg);
    if (o->cfg.app_size > room)
        return bad("%s %u: more than the %s's app area above the %s holds (%u bytes)",
                   o->app_cli ? "--app-size" : "device.app.size", o->cfg.app_size,
                   o->cfg.chip.name, o->sd ? "SoftDevice" : "MBR", room);
    return DK_CLI_GO;
}

/* DK_CLI_GO: serve; else the exit status.  Two passes: the chip and a
 * scenario give the defaults the other options then override. */
int sim_parse_args(int argc, char **argv, options *o)
{
    int next;
    int rc = dk_cli_run(&ds_sim_cli, argc, argv, o, DK_CLI_FIRST, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    if ((rc = apply_first(o)) != 0)
        return rc;
    rc = dk_cli_run(&ds_sim_cli, argc, argv, o, DK_CLI_REST, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    return check_args(argc, argv, next, o);
}

