/* opts.c - dfusniff command line (see opts.h). */
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/serial.h"

const char sn_usage[] =
    "usage: dfusniff --port PORT [--link PATH] [-b BAUD] [-w FILE|-] [--live] [-v]\n"
    "       dfusniff --tap-host PORT --tap-target PORT [-b BAUD] [-w FILE|-] [--live] [-v]\n"
    "\n"
    "  --port PORT        the real serial port (or a pty/tty path); dfusniff makes a pty\n"
    "                     for the host tool and prints its path as the first stdout line\n"
    "  --link PATH        also make PATH a symlink to that pty\n"
    "  --tap-host PORT    passive tap: port listening to the host's TX line\n"
    "  --tap-target PORT  passive tap: port listening to the target's TX line\n"
    "  -b, --baud BAUD    line speed (MITM: until the host sets its own; default 115200)\n"
    "  -w FILE            write the capture (pcap, link type 250 RTAC serial); - = stdout;\n"
    "                     an existing file is overwritten, a new one is mode 0600 (it\n"
    "                     holds the firmware), a symlink is refused, a FIFO is fine\n"
    "  --live             print the DFU transcript as traffic flows\n"
    "  -v                 report line-setting changes and port events on stderr;\n"
    "                     -vv also shows every frame in --live\n";

static int bad(char *err, size_t cap, const char *fmt, const char *arg)
{
    snprintf(err, cap, fmt, arg);
    return SN_OPTS_BAD;
}

/* Options that take a value: long name, short letter (0 = none). */
static const struct {
    const char *name;
    char letter;
} with_arg[] = {
    {"--port", 0}, {"--link", 0}, {"--tap-host", 0}, {"--tap-target", 0}, {"--baud", 'b'}, {"--write", 'w'},
};

sn_opts_result sn_opts_parse(int argc, char *const argv[], sn_opts *o, char *err, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->baud = 115200;
    bool baud_set = false;
    err[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return SN_OPTS_HELP;
        if (!strcmp(a, "--version"))
            return SN_OPTS_VERSION;
        if (!strcmp(a, "--live")) {
            o->live = true;
            continue;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose++;
            continue;
        }
        const char *val = NULL;
        const char *name = NULL;
        for (size_t k = 0; k < sizeof with_arg / sizeof with_arg[0]; k++) {
            size_t n = strlen(with_arg[k].name);
            char sh[3] = {'-', with_arg[k].letter, 0};
            if (!strcmp(a, with_arg[k].name) || (with_arg[k].letter && !strcmp(a, sh))) {
                if (i + 1 >= argc)
                    return bad(err, cap, "option '%s' needs an argument", a);
                name = with_arg[k].name;
                val = argv[++i];
            } else if (!strncmp(a, with_arg[k].name, n) && a[n] == '=') {
                name = with_arg[k].name;
                val = a + n + 1;
            } else if (with_arg[k].letter && !strncmp(a, sh, 2) && a[2]) {
                name = with_arg[k].name;
                val = a + 2;
            }
            if (name)
                break;
        }
        if (!name && a[0] == '-') { /* named up to a '=' */
            snprintf(err, cap, "unknown option '%.*s'", (int)strcspn(a, "="), a);
            return SN_OPTS_BAD;
        }
        if (!name)
            return bad(err, cap, "unexpected argument '%s'", a);
        if (!*val)
            return bad(err, cap, "option %s needs a non-empty value", name);
        const char **slot = NULL;
        if (!strcmp(name, "--port"))
            slot = &o->port;
        else if (!strcmp(name, "--link"))
            slot = &o->link;
        else if (!strcmp(name, "--tap-host"))
            slot = &o->tap_host;
        else if (!strcmp(name, "--tap-target"))
            slot = &o->tap_target;
        else if (!strcmp(name, "--write"))
            slot = &o->out;
        if (slot) {
            if (*slot)
                return bad(err, cap, "option %s given twice", name);
            *slot = val;
            continue;
        }
        /* --baud */
        char *end;
        errno = 0;
        unsigned long b = strtoul(val, &end, 10);
        if (errno || *end || val[0] == '-' || b == 0 || !dk_serial_speed_of_baud((uint32_t)b) || b > UINT32_MAX)
            return bad(err, cap, "unsupported baud rate %s (use a standard rate, e.g. 115200)", val);
        if (baud_set)
            return bad(err, cap, "option %s given twice", name);
        o->baud = (uint32_t)b;
        baud_set = true;
    }
    bool tap = o->tap_host || o->tap_target;
    if (o->port && tap)
        return bad(err, cap, "%s", "--port (man in the middle) and --tap-host/--tap-target (passive tap) exclude each other");
    if (!o->port && !tap)
        return bad(err, cap, "%s", "nothing to listen to: give --port PORT, or --tap-host PORT and --tap-target PORT");
    if (tap && (!o->tap_host || !o->tap_target))
        return bad(err, cap, "%s", o->tap_host ? "--tap-host needs --tap-target too" : "--tap-target needs --tap-host too");
    if (tap && o->link)
        return bad(err, cap, "%s", "--link only applies to --port (there is no pty in tap mode)");
    if (tap && !strcmp(o->tap_host, o->tap_target))
        return bad(err, cap, "--tap-host and --tap-target are the same port %s", o->tap_host);
    if (!o->out && !o->live)
        return bad(err, cap, "%s", "nothing to do: give -w FILE (or -w - for stdout) and/or --live");
    o->mode = tap ? SN_MODE_TAP : SN_MODE_MITM;
    return SN_OPTS_RUN;
}
