/* opts.h - dfusniff's command line, parsed without side effects.
 *
 *   man in the middle:  dfusniff --port PORT [--link PATH] [-b BAUD] [-w FILE] [--live]
 *   passive tap:        dfusniff --tap-host PORT --tap-target PORT [-b BAUD] [-w FILE] [--live]
 *
 * At least one of -w and --live.  -w - writes the capture to stdout.
 */
#ifndef DFUSNIFF_OPTS_H
#define DFUSNIFF_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/cli.h"

typedef enum { SN_MODE_MITM, SN_MODE_TAP } sn_mode;

typedef struct {
    sn_mode mode;
    const char *port;       /* MITM: the real port (or a pty/tty path) */
    const char *link;       /* MITM: symlink to the host-side pty, or NULL */
    const char *tap_host;   /* TAP: port that hears host -> target */
    const char *tap_target; /* TAP: port that hears target -> host */
    uint32_t baud;          /* -b; 115200 when absent */
    const char *out;        /* -w FILE, "-" = stdout, NULL = none */
    bool live;
    int verbose;
} sn_opts;

typedef enum {
    SN_OPTS_RUN = 0,
    SN_OPTS_HELP = 1,    /* print dk_cli_help(&sn_cli) */
    SN_OPTS_VERSION = 2, /* dk_cli_version */
    SN_OPTS_MAN = 3,     /* dk_cli_man */
    SN_OPTS_TABLE = 4,   /* dk_cli_table */
    SN_OPTS_BAD = -1,
} sn_opts_result;

/* Parse argv (argv[0] is the program; getopt_long may permute it).  On
 * SN_OPTS_BAD, err holds one line (no trailing newline) saying what is
 * wrong. */
sn_opts_result sn_opts_parse(int argc, char *const argv[], sn_opts *o, char *err, size_t cap);

/* The option table: getopt_long's arrays, --help and the man page. */
extern const dk_cli_tool sn_cli;

#endif
