/* ctlcmd.h - the --control socket's commands, pure (no I/O): the lines a
 * client's bytes make, and a line -> a typed request, or one line saying
 * what is wrong with it.  control.c does the socket; sim_ctl.c what a
 * request does.
 *
 *   LINE    = [BLANKS] COMMAND [BLANKS ARG] [BLANKS], ended by LF or CR LF
 *             (or by the client closing the connection), at most
 *             DS_CTL_LINE_MAX bytes without its end; BLANKS are spaces and
 *             tabs; no other control byte (NUL, a lone CR, ESC, DEL ...)
 *   COMMAND   ARG
 *   reset                    none
 *   power-cut [MS]           off for MS ms (0, the default: back on at once);
 *                            decimal or 0x-hex, at most an hour
 *   enter-dfu                none
 *   stall                    none
 *   resume [drop]            "drop" or none
 *   show-settings            none
 *   dump-hex [FILE]          the rest of the line (blanks inside kept); none:
 *                            the --dump-hex file
 *   status                   none
 *
 * A blank line is no command (no answer).  Anything else that is not one
 * of these, or gives an argument a command does not take, is refused.
 */
#ifndef DFUKIT_SIM_CTLCMD_H
#define DFUKIT_SIM_CTLCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DS_CTL_LINE_MAX 511            /* bytes of a line, without its end */
#define DS_CTL_OFF_MAX_MS 3600000u     /* power-cut: at most an hour off */

typedef enum { DS_CTL_ARG_NONE, DS_CTL_ARG_MS, DS_CTL_ARG_DROP, DS_CTL_ARG_FILE } ds_ctl_arg;

/* X(ID, name, argument, how its argument is written in the usage) */
#define DS_CTL_COMMANDS(X)                                    \
    X(RESET, "reset", DS_CTL_ARG_NONE, "")                    \
    X(POWER_CUT, "power-cut", DS_CTL_ARG_MS, " [MS]")         \
    X(ENTER_DFU, "enter-dfu", DS_CTL_ARG_NONE, "")            \
    X(STALL, "stall", DS_CTL_ARG_NONE, "")                    \
    X(RESUME, "resume", DS_CTL_ARG_DROP, " [drop]")           \
    X(SHOW_SETTINGS, "show-settings", DS_CTL_ARG_NONE, "")    \
    X(DUMP_HEX, "dump-hex", DS_CTL_ARG_FILE, " [FILE]")       \
    X(STATUS, "status", DS_CTL_ARG_NONE, "")

/* The table above as one line (the option's help, the unknown-command
 * error); test_ctlcmd checks the two agree. */
#define DS_CTL_USAGE \
    "reset, power-cut [MS], enter-dfu, stall, resume [drop], show-settings, dump-hex [FILE], status"

typedef enum {
#define DS_CTL_X_ENUM(id, name, arg, usage) DS_CTL_##id,
    DS_CTL_COMMANDS(DS_CTL_X_ENUM)
#undef DS_CTL_X_ENUM
    DS_CTL_N_OPS
} ds_ctl_op;

typedef struct {
    ds_ctl_op op;
    uint32_t off_ms;                /* power-cut */
    bool drop;                      /* resume drop */
    char file[DS_CTL_LINE_MAX + 1]; /* dump-hex: "" = the --dump-hex file */
} ds_ctl_req;

typedef enum { DS_CTL_BAD = -1, DS_CTL_BLANK = 0, DS_CTL_REQ = 1 } ds_ctl_parsed;

/* One line (len bytes, without its end; NUL bytes are bytes of it) ->
 * DS_CTL_REQ with *req set, DS_CTL_BLANK, or DS_CTL_BAD with why set to one
 * line (no newline, no control byte, cut to fit cap) saying what is wrong. */
ds_ctl_parsed ds_ctl_parse(const char *line, size_t len, ds_ctl_req *req, char *why, size_t cap);

const char *ds_ctl_op_name(ds_ctl_op op);
ds_ctl_arg ds_ctl_op_arg(ds_ctl_op op);
const char *ds_ctl_op_usage(ds_ctl_op op); /* " [MS]", "" ... */

/* A request written as a line that parses to the same request: its length,
 * or -1 when it does not fit cap. */
int ds_ctl_format(const ds_ctl_req *req, char *out, size_t cap);

/* ---- lines ---------------------------------------------------------------- */

typedef struct {
    char buf[DS_CTL_LINE_MAX + 2]; /* a line, its CR, a NUL */
    size_t len;
    bool skipping; /* in a line found too long: dropped up to its end */
    bool ready;    /* buf holds the line last returned */
} ds_ctl_lines;

typedef enum {
    DS_CTL_EV_NONE,    /* all bytes taken, the line goes on */
    DS_CTL_EV_LINE,    /* a line: *line, *len (NUL-terminated, may hold NULs) */
    DS_CTL_EV_TOO_LONG /* a line longer than DS_CTL_LINE_MAX: said once, as
                          soon as it is known; the rest of it is dropped */
} ds_ctl_ev;

void ds_ctl_lines_init(ds_ctl_lines *l);
/* Take bytes from p up to the first event: returns how many were taken
 * (all n with DS_CTL_EV_NONE).  A line stays valid until the next call. */
size_t ds_ctl_lines_take(ds_ctl_lines *l, const uint8_t *p, size_t n, ds_ctl_ev *ev, const char **line,
                         size_t *len);
/* The client is gone: a last line it did not end is a line too. */
ds_ctl_ev ds_ctl_lines_end(ds_ctl_lines *l, const char **line, size_t *len);

#endif
