/* cli.h - a tool's command line as one table: getopt_long's arrays, the
 * --help text and the man page are all made from it, so they cannot drift.
 *
 *   static int set_baud(void *ctx, const dk_cli_opt *opt, const char *arg);
 *   static const dk_cli_opt opts[] = {
 *       // name     letter arg     help                              section fn           off
 *       { "port",    'p',   "PORT", "serial port or pty",             NULL,   dk_cli_str,  offsetof(cfg, port) },
 *       { "baud",    'b',   "N",    "baud rate (default 115200)",     NULL,   set_baud },
 *       { "verbose", 'v',   NULL,   "more detail; twice: everything", NULL,   dk_cli_count, offsetof(cfg, verbose) },
 *   };
 *   static const dk_cli_tool tool = { .name = "dfuhost", .opts = opts, .n_opts = DK_CLI_N(opts), ... };
 *
 *   int next, rc = dk_cli_run(&tool, argc, argv, &cfg, DK_CLI_ALL, &next, stdout, stderr);
 *   if (rc != DK_CLI_GO)
 *       return rc;          // --help, --version, a refused option, a bad value
 *   ... operands are argv[next .. argc-1]
 *
 * Adding an option is adding a row.  Every tool also takes, without rows of
 * its own: -h/--help (the help on stdout, exit 0), --version ("TOOL (dfukit)
 * X.Y.Z", exit 0) and two options for the build and the tests that --help
 * does not list: --man (the man page, roff) and --cli-table (every option
 * getopt_long is given, one a line).  An unknown option, a missing argument
 * or an argument to a flag: one line on stderr (opterr.h), exit 2.
 *
 * The parser (dk_cli_parse) prints nothing; dk_cli_finish prints what the
 * outcome calls for.  getopt_long's state is global: one parse at a time.
 */
#ifndef DFUKIT_CLI_H
#define DFUKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DK_CLI_N(a) (sizeof(a) / sizeof((a)[0]))

/* A handler's "carry on"; any other return value stops the parse and is the
 * tool's exit status (after the handler printed its one line, or 0 after an
 * option that did its work, like --list). */
#define DK_CLI_GO (-1)

/* Most options a table may hold (the tool's rows). */
#define DK_CLI_MAX_OPTS 64

typedef struct dk_cli_opt dk_cli_opt;

/* Take one option into ctx.  arg: its argument (NULL for a flag). */
typedef int (*dk_cli_fn)(void *ctx, const dk_cli_opt *opt, const char *arg);

/* Row flags. */
#define DK_CLI_EARLY 0x1u /* handled by the DK_CLI_FIRST pass (see dk_cli_parse) */

struct dk_cli_opt {
    const char *name;    /* long name without "--"; NULL: a short option only */
    char letter;         /* short option; 0: long only */
    const char *arg;     /* the argument's name ("FILE", "raw|pcap|log"); NULL: a flag */
    const char *help;    /* one paragraph ('\n' forces a break): wrapped in --help, filled in the page */
    const char *section; /* the heading it is listed under; NULL: the first, unnamed group */
    dk_cli_fn fn;        /* required */
    size_t off;          /* for the stock handlers: where in ctx the value goes */
    unsigned flags;      /* DK_CLI_EARLY */
};

/* Stock handlers, for a field at ctx + opt->off: */
int dk_cli_str(void *ctx, const dk_cli_opt *opt, const char *arg);   /* const char * = arg */
int dk_cli_true(void *ctx, const dk_cli_opt *opt, const char *arg);  /* bool = true */
int dk_cli_false(void *ctx, const dk_cli_opt *opt, const char *arg); /* bool = false */
int dk_cli_count(void *ctx, const dk_cli_opt *opt, const char *arg); /* int += 1 */

/* Option values, for handlers that check their own ranges.  The whole string
 * must be the number (dk_cli_uint: no sign or leading blank, so " -1" cannot
 * wrap; decimal, 0x hex or 0 octal);
 * false for anything else, NaN, or a value outside [lo, hi] / over max.
 * *out is written only on success. */
bool dk_cli_real(const char *s, double lo, double hi, double *out);
bool dk_cli_uint(const char *s, uint64_t max, uint64_t *out);

typedef struct {
    int code;
    const char *meaning;
} dk_cli_exit;

typedef struct {
    const char *command; /* as typed, without a prompt */
    const char *what;    /* what it does, one sentence */
} dk_cli_example;

/* A section of its own after the options (SIGNALS, FILES, ...): a titled
 * paragraph at the end of --help, a .SH of the page. */
typedef struct {
    const char *title;
    const char *text;
} dk_cli_note;

typedef struct dk_cli_tool dk_cli_tool;

/* Another command line of the same tool, picked by one option's value
 * (dfusim --protocol legacy): a table of its own, which the tool parses
 * after dk_cli_pick chose it.  The main --help names it; the main page lists
 * its options, exit statuses and examples in a section of their own, so the
 * one page covers both. */
typedef struct {
    const char *option;      /* "protocol": a row of the main table that takes an argument */
    const char *value;       /* "legacy" */
    const char *title;       /* the page's section: "legacy protocol" */
    const dk_cli_tool *tool; /* the same name; usage lines start with "--protocol legacy" */
} dk_cli_mode;

struct dk_cli_tool {
    const char *name;               /* "dfusim" */
    const char *summary;            /* the page's NAME line, after "dfusim - " */
    const char *const *usage;       /* synopsis lines after the name, NULL-terminated */
    const char *description;        /* --help and the page ("\n\n" between paragraphs) */
    const char *details;            /* the page only, after description; may be NULL */
    const dk_cli_opt *opts;
    size_t n_opts;
    const dk_cli_note *notes;
    size_t n_notes;
    const dk_cli_exit *exits;       /* at least one */
    size_t n_exits;
    const dk_cli_example *examples; /* at least one */
    size_t n_examples;
    const char *const *see_also;    /* "dfudecode(1)", ..., NULL-terminated; may be NULL */
    bool stop_at_operand;           /* options end at the first operand (a command follows) */
    const dk_cli_mode *modes;       /* may be NULL */
    size_t n_modes;
};

typedef enum {
    DK_CLI_RUN,     /* every option taken: operands are argv[next .. argc-1] */
    DK_CLI_HELP,    /* -h, --help */
    DK_CLI_VERSION, /* --version */
    DK_CLI_MAN,     /* --man */
    DK_CLI_TABLE,   /* --cli-table */
    DK_CLI_REFUSED, /* getopt_long refused an option: c, ind, opt for opterr.h */
    DK_CLI_STOPPED, /* a handler returned status */
    DK_CLI_BROKEN,  /* the table is wrong (why): a bug of the tool */
} dk_cli_outcome;

typedef struct {
    dk_cli_outcome outcome;
    int next;        /* DK_CLI_RUN: the first operand */
    int status;      /* DK_CLI_STOPPED */
    int c, ind, opt; /* DK_CLI_REFUSED: getopt_long's return value, optind, optopt */
    char why[128];   /* DK_CLI_BROKEN */
} dk_cli_result;

/* Which rows' handlers a parse calls.  A tool whose defaults depend on some
 * options (dfusim: the chip, a scenario) parses twice: DK_CLI_FIRST takes
 * the DK_CLI_EARLY rows, then DK_CLI_REST the others.  Built-in options and
 * refusals end either pass. */
typedef enum { DK_CLI_ALL, DK_CLI_FIRST, DK_CLI_REST } dk_cli_pass;

/* Parse argv (argv[0] the program) against t, calling the handlers with
 * ctx.  Prints nothing.  getopt_long may permute argv. */
void dk_cli_parse(const dk_cli_tool *t, int argc, char **argv, void *ctx, dk_cli_pass pass, dk_cli_result *r);

/* What the outcome calls for: the help, version, page or table on out (exit
 * 0), the refusal's one line on err (exit 2), a broken table's one line on
 * err (exit 2), a handler's status as it is.  DK_CLI_GO for DK_CLI_RUN. */
int dk_cli_finish(const dk_cli_tool *t, const dk_cli_result *r, char **argv, FILE *out, FILE *err);

/* dk_cli_parse then dk_cli_finish; *next: the first operand. */
int dk_cli_run(const dk_cli_tool *t, int argc, char **argv, void *ctx, dk_cli_pass pass, int *next, FILE *out,
               FILE *err);

/* The outputs, also for tools that parse on their own terms: */
void dk_cli_help(const dk_cli_tool *t, FILE *out);    /* at most 79 columns */
void dk_cli_version(const dk_cli_tool *t, FILE *out); /* "dfusim (dfukit) 0.1.0" */
void dk_cli_man(const dk_cli_tool *t, FILE *out);     /* section 1, roff (man(7)) */
/* One line per option getopt_long accepts: "--port\t1", "-p\t1", "--man\t0\thidden"
 * (1: takes an argument); the first line is "optstring\t:p:b:vh". */
void dk_cli_table(const dk_cli_tool *t, FILE *out);

/* The table argv asks for: the tool of the mode whose option has its value
 * (the last time the option is given wins, as getopt_long would take it),
 * else t.  Reads argv as getopt_long would (arguments of options skipped,
 * "--=" forms, unambiguous prefixes of long names, short clusters), up to
 * "--" or, with stop_at_operand, the first operand.  Prints nothing. */
const dk_cli_tool *dk_cli_pick(const dk_cli_tool *t, int argc, char **argv);

/* 0 when the table is sound (names and letters unique, none taken by the
 * built-in options, a handler on every row, at most DK_CLI_MAX_OPTS rows,
 * each mode's option a row that takes an argument, each mode's table sound);
 * else -1 with the first fault in why. */
int dk_cli_check(const dk_cli_tool *t, char *why, size_t cap);

#endif
