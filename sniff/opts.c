/* opts.c - dfusniff command line (see opts.h): one table (cli.h) gives
 * getopt_long, --help and the man page. */
#include "opts.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/opterr.h"
#include "dfukit/serial.h"

/* A parse: the options and where a bad one is described. */
typedef struct {
    sn_opts *o;
    char *err;
    size_t cap;
    bool baud_set;
} parse;

static int bad(parse *p, const char *fmt, const char *arg)
{
    snprintf(p->err, p->cap, fmt, arg);
    return 2;
}

/* --port, --link, --tap-host, --tap-target, -w: a non-empty value, once. */
static int opt_path(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    parse *p = ctx;
    const char **slot = (const char **)(void *)((char *)p->o + opt->off);
    char name[32];
    snprintf(name, sizeof name, "--%s", opt->name);
    if (!*arg)
        return bad(p, "option %s needs a non-empty value", name);
    if (*slot)
        return bad(p, "option %s given twice", name);
    *slot = arg;
    return DK_CLI_GO;
}

static int opt_baud(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    parse *p = ctx;
    if (!*arg)
        return bad(p, "%s", "option --baud needs a non-empty value");
    char *end;
    errno = 0;
    unsigned long b = strtoul(arg, &end, 10);
    if (errno || *end || arg[0] == '-' || b == 0 || b > UINT32_MAX || !dk_serial_speed_of_baud((uint32_t)b))
        return bad(p, "unsupported baud rate %s (use a standard rate, e.g. 115200)", arg);
    if (p->baud_set)
        return bad(p, "%s", "option --baud given twice");
    p->o->baud = (uint32_t)b;
    p->baud_set = true;
    return DK_CLI_GO;
}

static int opt_flag(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    return dk_cli_true(((parse *)ctx)->o, opt, arg);
}

static int opt_count(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    return dk_cli_count(((parse *)ctx)->o, opt, arg);
}

#define O(field) offsetof(sn_opts, field)
static const dk_cli_opt opts[] = {
    { "port", 0, "PORT",
      "the real serial port (or a pty/tty path); dfusniff makes a pty for the host tool and prints its "
      "path as the first stdout line",
      NULL, opt_path, O(port) },
    { "link", 0, "PATH", "also make PATH a symlink to that pty", NULL, opt_path, O(link) },
    { "tap-host", 0, "PORT", "passive tap: port listening to the host's TX line", NULL, opt_path, O(tap_host) },
    { "tap-target", 0, "PORT", "passive tap: port listening to the target's TX line", NULL, opt_path,
      O(tap_target) },
    { "baud", 'b', "BAUD", "line speed (MITM: until the host sets its own; default 115200)", NULL, opt_baud },
    { "write", 'w', "FILE",
      "write the capture (pcap, link type 250 RTAC serial); - = stdout; an existing file is overwritten, "
      "a new one is mode 0600 (it holds the firmware), a symlink is refused, a FIFO is fine",
      NULL, opt_path, O(out) },
    { "live", 0, NULL, "print the DFU transcript as traffic flows", NULL, opt_flag, O(live) },
    { "verbose", 'v', NULL,
      "report line-setting changes and port events on stderr; -vv also shows every frame in --live", NULL,
      opt_count, O(verbose) },
};
#undef O

static const char *const usage[] = {
    "--port PORT [--link PATH] [-b BAUD] [-w FILE|-] [--live] [-v]",
    "--tap-host PORT --tap-target PORT [-b BAUD] [-w FILE|-] [--live] [-v]",
    NULL,
};
static const dk_cli_exit exits[] = {
    { 0, "stopped by a signal; the capture is complete" },
    { 1, "the port went away or the capture could not be written; the capture holds everything up to then" },
    { 2, "bad options or an unusable port or output file" },
};
static const dk_cli_example examples[] = {
    { "dfusniff --port /dev/ttyACM0 --link /tmp/dfu -w link.pcap --live",
      "Sit between a host tool and a board; the host tool opens /tmp/dfu instead of /dev/ttyACM0:" },
    { "dfusniff --tap-host /dev/ttyUSB0 --tap-target /dev/ttyUSB1 -w tap.pcap",
      "Listen to both lines of a link through two receive-only adapters:" },
    { "tshark -X lua_script:contrib/wireshark/dfukit.lua -r link.pcap -V",
      "Read a capture in tshark with the project's dissector:" },
};
static const dk_cli_note notes[] = {
    { "signals", "SIGINT, SIGTERM and SIGHUP close the capture and exit 0." },
};
static const char *const see_also[] = { "dfudecode(1)", "dfusim(1)", "dfuhost(1)", "tshark(1)", "socat(1)", NULL };

const dk_cli_tool sn_cli = {
    .name = "dfusniff",
    .summary = "capture a live Nordic DFU serial link into pcap",
    .usage = usage,
    .description = "Capture a serial link into pcap (link type 250, RTAC serial): as a man in the middle "
                   "between a host tool and a port, or as a passive tap on both lines.",
    .details = "Each packet is one chunk read from a line, stamped with the time of the read and its "
               "direction, written and flushed before the bytes are passed on; control line changes are "
               "packets of their own.  At least one of -w and --live is needed.  dfudecode reads the "
               "capture, and so do Wireshark and tshark with contrib/wireshark/dfukit.lua.",
    .opts = opts,
    .n_opts = DK_CLI_N(opts),
    .notes = notes,
    .n_notes = DK_CLI_N(notes),
    .exits = exits,
    .n_exits = DK_CLI_N(exits),
    .examples = examples,
    .n_examples = DK_CLI_N(examples),
    .see_also = see_also,
};

static sn_opts_result refuse(parse *p, const char *fmt, const char *arg)
{
    bad(p, fmt, arg);
    return SN_OPTS_BAD;
}

/* The combinations, once every option is in. */
static sn_opts_result check(parse *p, int argc, char *const argv[], int next)
{
    sn_opts *o = p->o;
    if (next < argc)
        return refuse(p, "unexpected argument '%s'", argv[next]);
    bool tap = o->tap_host || o->tap_target;
    const char *why = o->port && tap ? "--port (man in the middle) and --tap-host/--tap-target (passive tap) "
                                       "exclude each other"
                      : !o->port && !tap ? "nothing to listen to: give --port PORT, or --tap-host PORT and "
                                           "--tap-target PORT"
                      : tap && !o->tap_target ? "--tap-host needs --tap-target too"
                      : tap && !o->tap_host   ? "--tap-target needs --tap-host too"
                      : tap && o->link        ? "--link only applies to --port (there is no pty in tap mode)"
                                              : NULL;
    if (why)
        return refuse(p, "%s", why);
    if (tap && !strcmp(o->tap_host, o->tap_target))
        return refuse(p, "--tap-host and --tap-target are the same port %s", o->tap_host);
    if (!o->out && !o->live)
        return refuse(p, "%s", "nothing to do: give -w FILE (or -w - for stdout) and/or --live");
    o->mode = tap ? SN_MODE_TAP : SN_MODE_MITM;
    return SN_OPTS_RUN;
}

sn_opts_result sn_opts_parse(int argc, char *const argv[], sn_opts *o, char *err, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->baud = 115200;
    err[0] = '\0';
    parse p = { o, err, cap, false };
    dk_cli_result r;
    dk_cli_parse(&sn_cli, argc, (char **)argv, &p, DK_CLI_ALL, &r);
    switch (r.outcome) {
    case DK_CLI_RUN: return check(&p, argc, argv, r.next);
    case DK_CLI_HELP: return SN_OPTS_HELP;
    case DK_CLI_VERSION: return SN_OPTS_VERSION;
    case DK_CLI_MAN: return SN_OPTS_MAN;
    case DK_CLI_TABLE: return SN_OPTS_TABLE;
    case DK_CLI_REFUSED: dk_opt_describe(err, cap, r.c, argv, r.ind, r.opt); return SN_OPTS_BAD;
    case DK_CLI_STOPPED: return SN_OPTS_BAD;
    case DK_CLI_BROKEN: snprintf(err, cap, "internal error: option table: %s", r.why); return SN_OPTS_BAD;
    }
    return SN_OPTS_BAD;
}
