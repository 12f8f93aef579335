/* test_cli.c - option tables (cli.h): parsing, refusals, the built-in
 * options, two passes, and the help, man page and table made from one table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/cli.h"
#include "dfukit/opterr.h"
#include "dfukit/version.h"

typedef struct {
    const char *port, *out;
    bool live, flag;
    int verbose;
    int level;    /* set by on_level */
    int calls;    /* handler calls */
    int early;    /* early row calls */
} cfg;

static int on_level(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    cfg *c = ctx;
    c->calls++;
    if (strcmp(arg, "fail") == 0)
        return 2;
    if (strcmp(arg, "stop") == 0)
        return 0;
    c->level = atoi(arg);
    return DK_CLI_GO;
}

static int on_early(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    ((cfg *)ctx)->early++;
    return DK_CLI_GO;
}

#define O(f) offsetof(cfg, f)
static const dk_cli_opt rows[] = {
    { "port", 'p', "PORT", "the port to open", NULL, dk_cli_str, O(port) },
    { "write", 'w', "FILE",
      "write the capture there; a long help text that has to be wrapped over more than one line of the "
      "help, at seventy-nine columns at most, whatever the option's width",
      NULL, dk_cli_str, O(out) },
    { "live", 0, NULL, ".starts with a dot and holds a back\\slash", NULL, dk_cli_true, O(live) },
    { "verbose", 'v', NULL, "more", "output", dk_cli_count, O(verbose) },
    { NULL, 'j', "N", "short only", "output", on_level },
    { "no-flag", 0, NULL, "clear the flag", "output", dk_cli_false, O(flag) },
    { "chip", 0, "NAME", "taken first", NULL, on_early, 0, DK_CLI_EARLY },
};
#undef O
static const char *const usage[] = { "[options] FILE", "--list", NULL };
static const dk_cli_exit exits[] = { { 0, "fine" }, { 2, "usage error" } };
static const dk_cli_example examples[] = { { "tool -p /dev/ttyACM0 x", "Open a port:" } };
static const dk_cli_note notes[] = { { "signals", "SIGTERM ends it." } };
static const char *const see[] = { "dfusim(1)", "tshark(1)", NULL };
static const dk_cli_tool tool = {
    .name = "tool",
    .summary = "a tool for tests",
    .usage = usage,
    .description = "First paragraph.\n\nSecond paragraph.",
    .details = "Only in the page.",
    .opts = rows,
    .n_opts = DK_CLI_N(rows),
    .notes = notes,
    .n_notes = DK_CLI_N(notes),
    .exits = exits,
    .n_exits = DK_CLI_N(exits),
    .examples = examples,
    .n_examples = DK_CLI_N(examples),
    .see_also = see,
};

#define ARGV(...) ((char *[]){ "tool", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "tool", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(t, c, pass, r, ...) dk_cli_parse((t), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (c), (pass), (r))

/* What f writes onto a memory stream (its buffer on the heap: the stream
 * owns it until closed). */
typedef struct {
    char *buf;
    size_t len;
} mem;

static char *capture(void (*f)(const dk_cli_tool *, FILE *), const dk_cli_tool *t)
{
    mem *m = calloc(1, sizeof *m);
    assert_non_null(m);
    FILE *s = open_memstream(&m->buf, &m->len);
    assert_non_null(s);
    f(t, s);
    fclose(s);
    char *text = m->buf;
    free(m);
    return text;
}

static void parses_rows(void **state)
{
    (void)state;
    cfg c = { .flag = true };
    dk_cli_result r;
    char **argv = ARGV("-vv", "--port=/dev/x", "in.bin", "-wout.pcap", "--live", "-j", "7", "--no-flag", "--verbose");
    dk_cli_parse(&tool, 10, argv, &c, DK_CLI_ALL, &r);
    assert_int_equal(r.outcome, DK_CLI_RUN);
    assert_string_equal(c.port, "/dev/x");
    assert_string_equal(c.out, "out.pcap");
    assert_true(c.live);
    assert_false(c.flag);
    assert_int_equal(c.verbose, 3);
    assert_int_equal(c.level, 7);
    /* the operand is moved after the options */
    assert_int_equal(r.next, 9);
    assert_string_equal(argv[r.next], "in.bin");

    /* a second parse starts afresh */
    cfg d = { 0 };
    PARSE(&tool, &d, DK_CLI_ALL, &r, "-p", "A", "--", "-v");
    assert_int_equal(r.outcome, DK_CLI_RUN);
    assert_string_equal(d.port, "A");
    assert_int_equal(d.verbose, 0);
    assert_int_equal(r.next, 4); /* "-v" after -- is an operand */
}

static void refusals(void **state)
{
    (void)state;
    static const struct {
        char *args[4];
        int n;
        const char *says;
    } cases[] = {
        { { "--frob" }, 1, "unknown option '--frob'" },
        { { "--frob=1" }, 1, "unknown option '--frob'" },
        { { "-Z" }, 1, "unknown option '-Z'" },
        { { "-vZv" }, 1, "unknown option '-Z'" },
        { { "--port" }, 1, "option '--port' needs an argument" },
        { { "-p" }, 1, "option '-p' needs an argument" },
        { { "--live=yes" }, 1, "option '--live' takes no argument" },
        { { "-p", "A", "--write" }, 3, "option '--write' needs an argument" },
    };
    for (size_t i = 0; i < DK_CLI_N(cases); i++) {
        char *argv[6] = { "tool" };
        for (int k = 0; k < cases[i].n; k++)
            argv[k + 1] = cases[i].args[k];
        cfg c = { 0 };
        dk_cli_result r;
        dk_cli_parse(&tool, cases[i].n + 1, argv, &c, DK_CLI_ALL, &r);
        assert_int_equal(r.outcome, DK_CLI_REFUSED);
        char what[128];
        dk_opt_describe(what, sizeof what, r.c, argv, r.ind, r.opt);
        if (strcmp(what, cases[i].says))
            fail_msg("case %zu: '%s', expected '%s'", i, what, cases[i].says);
        /* dk_cli_finish prints the same through dk_opt_complain */
        char *buf = NULL;
        size_t len = 0;
        FILE *err = open_memstream(&buf, &len);
        FILE *out = fopen("/dev/null", "w");
        assert_int_equal(dk_cli_finish(&tool, &r, argv, out, err), 2);
        fclose(err);
        fclose(out);
        char line[200];
        snprintf(line, sizeof line, "tool: %s (see tool --help)\n", cases[i].says);
        assert_string_equal(buf, line);
        free(buf);
    }
}

static void builtins_and_stops(void **state)
{
    (void)state;
    cfg c = { 0 };
    dk_cli_result r;
    PARSE(&tool, &c, DK_CLI_ALL, &r, "-p", "A", "-h", "--frob");
    assert_int_equal(r.outcome, DK_CLI_HELP);
    PARSE(&tool, &c, DK_CLI_ALL, &r, "--help");
    assert_int_equal(r.outcome, DK_CLI_HELP);
    PARSE(&tool, &c, DK_CLI_ALL, &r, "--version");
    assert_int_equal(r.outcome, DK_CLI_VERSION);
    PARSE(&tool, &c, DK_CLI_ALL, &r, "--man");
    assert_int_equal(r.outcome, DK_CLI_MAN);
    PARSE(&tool, &c, DK_CLI_ALL, &r, "--cli-table");
    assert_int_equal(r.outcome, DK_CLI_TABLE);
    /* a handler's status stops the parse: later options are not taken */
    memset(&c, 0, sizeof c);
    PARSE(&tool, &c, DK_CLI_ALL, &r, "-j", "fail", "-j", "5");
    assert_int_equal(r.outcome, DK_CLI_STOPPED);
    assert_int_equal(r.status, 2);
    assert_int_equal(c.calls, 1);
    PARSE(&tool, &c, DK_CLI_ALL, &r, "-j", "stop", "--frob");
    assert_int_equal(r.outcome, DK_CLI_STOPPED);
    assert_int_equal(r.status, 0);
    /* dk_cli_run: the version line, exit 0 */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int next;
    assert_int_equal(dk_cli_run(&tool, 2, ARGV("--version"), &c, DK_CLI_ALL, &next, out, stderr), 0);
    fclose(out);
    assert_string_equal(buf, "tool (dfukit) " DFUKIT_VERSION "\n");
    free(buf);
    assert_string_equal(dk_version(), DFUKIT_VERSION);
}

static void two_passes(void **state)
{
    (void)state;
    cfg c = { 0 };
    dk_cli_result r;
    PARSE(&tool, &c, DK_CLI_FIRST, &r, "-j", "3", "--chip", "x", "-v");
    assert_int_equal(r.outcome, DK_CLI_RUN);
    assert_int_equal(c.early, 1);
    assert_int_equal(c.level, 0);
    assert_int_equal(c.verbose, 0);
    PARSE(&tool, &c, DK_CLI_REST, &r, "-j", "3", "--chip", "x", "-v");
    assert_int_equal(r.outcome, DK_CLI_RUN);
    assert_int_equal(c.early, 1);
    assert_int_equal(c.level, 3);
    assert_int_equal(c.verbose, 1);
    /* a bad value of a later row is not looked at in the first pass; an
     * unknown option is refused in either */
    memset(&c, 0, sizeof c);
    PARSE(&tool, &c, DK_CLI_FIRST, &r, "-j", "fail", "--chip", "x");
    assert_int_equal(r.outcome, DK_CLI_RUN);
    PARSE(&tool, &c, DK_CLI_FIRST, &r, "--chip", "x", "--frob");
    assert_int_equal(r.outcome, DK_CLI_REFUSED);
}

static void stop_at_operand(void **state)
{
    (void)state;
    dk_cli_tool t = tool;
    t.stop_at_operand = true;
    cfg c = { 0 };
    dk_cli_result r;
    char **argv = ARGV("-v", "host", "-p", "X", "--frob");
    dk_cli_parse(&t, 6, argv, &c, DK_CLI_ALL, &r);
    assert_int_equal(r.outcome, DK_CLI_RUN);
    assert_int_equal(r.next, 2);
    assert_null(c.port);
    assert_string_equal(argv[3], "-p");
}

static void broken_tables(void **state)
{
    (void)state;
    dk_cli_opt bad[2] = { rows[0], rows[0] };
    dk_cli_tool t = tool;
    t.opts = bad;
    t.n_opts = 2;
    char why[128];
    assert_int_equal(dk_cli_check(&t, why, sizeof why), -1);
    assert_non_null(strstr(why, "given twice"));
    bad[1].name = "other"; /* same letter */
    assert_int_equal(dk_cli_check(&t, why, sizeof why), -1);
    bad[1].letter = 'h'; /* -h is --help's */
    assert_int_equal(dk_cli_check(&t, why, sizeof why), -1);
    assert_non_null(strstr(why, "built-in"));
    bad[1].letter = 0;
    bad[1].name = "man"; /* hidden built-in */
    assert_int_equal(dk_cli_check(&t, why, sizeof why), -1);
    bad[1].name = "other";
    bad[1].fn = NULL;
    assert_int_equal(dk_cli_check(&t, why, sizeof why), -1);
    bad[1].fn = dk_cli_true;
    assert_int_equal(dk_cli_check(&t, why, sizeof why), 0);
    t.n_examples = 0; /* a page needs an example */
    assert_int_equal(dk_cli_check(&t, why, sizeof why), -1);
    /* a broken table: one line, exit 2, no handler called */
    cfg c = { 0 };
    dk_cli_result r;
    PARSE(&t, &c, DK_CLI_ALL, &r, "--other");
    assert_int_equal(r.outcome, DK_CLI_BROKEN);
    char *buf = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&buf, &len);
    assert_int_equal(dk_cli_finish(&t, &r, ARGV("--other"), stdout, err), 2);
    fclose(err);
    assert_non_null(strstr(buf, "tool: internal error: option table:"));
    assert_int_equal(strchr(buf, '\n') + 1 - buf, (long)len); /* one line */
    free(buf);
    assert_false(c.flag);
}

/* The line of text that holds needle, or NULL. */
static const char *line_with(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (!p)
        return NULL;
    while (p > text && p[-1] != '\n')
        p--;
    return p;
}

static void help_text(void **state)
{
    (void)state;
    char *h = capture(dk_cli_help, &tool);
    static const char head[] = "usage: tool [options] FILE\n       tool --list\n";
    assert_true(strncmp(h, head, strlen(head)) == 0);
    assert_non_null(strstr(h, "First paragraph.\n\nSecond paragraph.\n"));
    assert_null(strstr(h, "Only in the page"));
    assert_non_null(line_with(h, "  -p, --port PORT "));
    assert_non_null(line_with(h, "      --live "));
    assert_non_null(line_with(h, "  -j N "));
    assert_non_null(line_with(h, "  -h, --help "));
    assert_non_null(line_with(h, "      --version "));
    assert_null(strstr(h, "--man"));
    assert_null(strstr(h, "--cli-table"));
    /* sections: a heading, then their rows; the unnamed group first */
    const char *sec = strstr(h, "\noutput:\n");
    assert_non_null(sec);
    assert_true(strstr(h, "--verbose") > sec && strstr(h, "--port") < sec && strstr(h, "--chip") < sec);
    assert_non_null(strstr(h, "signals: SIGTERM ends it.\n"));
    assert_non_null(strstr(h, "Exit status:\n  0  fine\n  2  usage error\n"));
    /* every line fits; the long help is wrapped, its words all there, and
     * its continuation lines start at the help column */
    size_t col = (size_t)(strstr(line_with(h, "--write"), "write the") - line_with(h, "--write"));
    int wrapped = 0;
    for (const char *l = h; *l;) {
        size_t n = strcspn(l, "\n");
        if (n > 79)
            fail_msg("line over 79 columns: %.*s", (int)n, l);
        if (n > col && strspn(l, " ") == col && l > strstr(h, "--write") && l < strstr(h, "--live"))
            wrapped++;
        l += n + (l[n] == '\n');
    }
    assert_true(wrapped >= 1);
    assert_non_null(strstr(h, "whatever the option's width\n"));
    free(h);
}

static void man_page(void **state)
{
    (void)state;
    char *m = capture(dk_cli_man, &tool);
    assert_non_null(strstr(m, "\n.TH TOOL 1 \"\" \"dfukit " DFUKIT_VERSION "\""));
    static const char *const sections[] = { ".SH NAME\ntool \\- a tool for tests\n", ".SH SYNOPSIS\n.B tool\n",
                                            ".SH DESCRIPTION\n", ".SH OPTIONS\n", ".SS \"output\"\n",
                                            ".SH SIGNALS\nSIGTERM ends it.\n", ".SH \"EXIT STATUS\"\n.TP\n.B 0\nfine\n",
                                            ".SH EXAMPLES\n", ".SH \"SEE ALSO\"\n\\fBdfusim\\fR(1),\n\\fBtshark\\fR(1)\n" };
    const char *prev = m;
    for (size_t i = 0; i < DK_CLI_N(sections); i++) {
        const char *p = strstr(m, sections[i]);
        if (!p || p < prev)
            fail_msg("'%s' missing or out of order", sections[i]);
        prev = p;
    }
    /* the paragraphs, the details, every option, escaped; no hidden one */
    assert_non_null(strstr(m, "First paragraph.\n.PP\nSecond paragraph.\n.PP\nOnly in the page.\n"));
    assert_non_null(strstr(m, ".TP\n\\fB\\-p\\fR, \\fB\\-\\-port\\fR \\fIPORT\\fR\nthe port to open\n"));
    assert_non_null(strstr(m, ".TP\n\\fB\\-j\\fR \\fIN\\fR\n"));
    assert_non_null(strstr(m, "\\fB\\-\\-no\\-flag\\fR\n"));
    assert_non_null(strstr(m, "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"));
    assert_non_null(strstr(m, "\\fB\\-\\-version\\fR\n"));
    assert_non_null(strstr(m, "\n\\&.starts with a dot and holds a back\\eslash\n"));
    assert_non_null(strstr(m, ".nf\ntool \\-p /dev/ttyACM0 x\n.fi\n"));
    assert_null(strstr(m, "cli\\-table"));
    assert_null(strstr(m, "\\-\\-man"));
    /* no line of text starts with a control character it did not mean */
    for (const char *l = m; *l;) {
        if (*l == '\'')
            fail_msg("a line starts with a quote: %.20s", l);
        l += strcspn(l, "\n");
        l += *l == '\n';
    }
    free(m);
}

static void table_dump(void **state)
{
    (void)state;
    char *t = capture(dk_cli_table, &tool);
    assert_non_null(strstr(t, "optstring\t:p:w:vj:h\n"));
    static const char *const lines[] = { "--port\t1\n", "--write\t1\n", "--live\t0\n", "--verbose\t0\n",
                                         "--no-flag\t0\n", "--chip\t1\n", "--help\t0\n", "--version\t0\n",
                                         "--man\t0\thidden\n", "--cli-table\t0\thidden\n", "-p\t1\n",
                                         "-w\t1\n", "-v\t0\n", "-j\t1\n", "-h\t0\n" };
    for (size_t i = 0; i < DK_CLI_N(lines); i++)
        if (!strstr(t, lines[i]))
            fail_msg("no line '%s' in\n%s", lines[i], t);
    free(t);
}

/* ---- modes: dfusim --protocol legacy ----------------------------------------- */

static int on_proto(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ((cfg *)ctx)->out = arg;
    return DK_CLI_GO;
}

static const dk_cli_opt old_rows[] = {
    { "protocol", 0, "old", "this table", NULL, on_proto },
    { "dual-bank", 0, NULL, "only here", "board", dk_cli_true, offsetof(cfg, live) },
};
static const char *const old_usage[] = { "--protocol old [options]", NULL };
static const dk_cli_exit old_exits[] = { { 0, "served" }, { 2, "bad options" } };
static const dk_cli_example old_examples[] = { { "mtool --protocol old --dual-bank", "Two banks:" } };
static const dk_cli_tool old_tool = {
    .name = "mtool", .summary = "the old protocol", .usage = old_usage, .description = "The old one.",
    .opts = old_rows, .n_opts = DK_CLI_N(old_rows), .exits = old_exits, .n_exits = DK_CLI_N(old_exits),
    .examples = old_examples, .n_examples = DK_CLI_N(old_examples),
};
static const dk_cli_opt new_rows[] = {
    { "protocol", 0, "new|old", "which one", NULL, on_proto },
    { "port", 'p', "PORT", "takes an argument", NULL, dk_cli_str, offsetof(cfg, port) },
    { "verbose", 'v', NULL, "more", NULL, dk_cli_count, offsetof(cfg, verbose) },
};
static const dk_cli_mode modes_of[] = { { "protocol", "old", "old protocol", &old_tool } };
static const char *const new_usage[] = { "[options]", NULL };
static const dk_cli_tool mtool = {
    .name = "mtool", .summary = "two protocols", .usage = new_usage, .description = "The new one.",
    .opts = new_rows, .n_opts = DK_CLI_N(new_rows), .exits = exits, .n_exits = DK_CLI_N(exits),
    .examples = examples, .n_examples = DK_CLI_N(examples), .modes = modes_of, .n_modes = DK_CLI_N(modes_of),
};

#define PICK(...) dk_cli_pick(&mtool, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void modes(void **state)
{
    (void)state;
    char why[128];
    assert_int_equal(dk_cli_check(&mtool, why, sizeof why), 0);
    /* the option's value picks the table, as getopt_long would read argv */
    assert_ptr_equal(PICK("-v"), &mtool);
    assert_ptr_equal(PICK("--protocol", "old"), &old_tool);
    assert_ptr_equal(PICK("--protocol=old", "--dual-bank"), &old_tool);
    assert_ptr_equal(PICK("--proto", "old"), &old_tool); /* an unambiguous prefix */
    assert_ptr_equal(PICK("--protocol", "new"), &mtool);
    assert_ptr_equal(PICK("--protocol", "old", "--protocol", "new"), &mtool); /* the last one */
    assert_ptr_equal(PICK("--protocol", "new", "-v", "--protocol=old"), &old_tool);
    /* an argument that looks like the option is an argument */
    assert_ptr_equal(PICK("--port", "--protocol", "old"), &mtool);
    assert_ptr_equal(PICK("-p", "--protocol", "old"), &mtool);
    assert_ptr_equal(PICK("-vp", "--protocol", "old"), &mtool);
    assert_ptr_equal(PICK("-p--protocol", "old"), &mtool);
    assert_ptr_equal(PICK("--", "--protocol", "old"), &mtool);
    assert_ptr_equal(PICK("--protocol"), &mtool); /* no value: getopt_long's to refuse */

    /* the old table parses the old command line; the new one refuses it */
    cfg c = { 0 };
    dk_cli_result r;
    PARSE(&old_tool, &c, DK_CLI_ALL, &r, "--protocol", "old", "--dual-bank");
    assert_int_equal(r.outcome, DK_CLI_RUN);
    assert_true(c.live);
    PARSE(&mtool, &c, DK_CLI_ALL, &r, "--dual-bank");
    assert_int_equal(r.outcome, DK_CLI_REFUSED);

    /* --help names the mode; the page holds its section with its options,
     * exit statuses and examples, and its synopsis */
    char *h = capture(dk_cli_help, &mtool);
    assert_non_null(strstr(h, "old protocol: with --protocol old, mtool takes other options: mtool --protocol"));
    assert_null(strstr(h, "dual-bank"));
    free(h);
    char *m = capture(dk_cli_man, &mtool);
    static const char *const order[] = { ".SH SYNOPSIS\n.B mtool\n[options]\n.br\n.B mtool\n\\-\\-protocol old [options]\n",
                                         ".SH OPTIONS\n", ".SH \"OLD PROTOCOL\"\n", ".SS \"board\"\n.TP\n\\fB\\-\\-dual\\-bank\\fR\n",
                                         ".SS \"Exit status\"\n.TP\n.B 0\nserved\n", ".SS Examples\n",
                                         "mtool \\-\\-protocol old \\-\\-dual\\-bank\n", ".SH \"EXIT STATUS\"\n" };
    const char *prev = m;
    for (size_t i = 0; i < DK_CLI_N(order); i++) {
        const char *p = strstr(m, order[i]);
        if (!p || p < prev)
            fail_msg("'%s' missing or out of order in\n%s", order[i], m);
        prev = p;
    }
    free(m);
    char *t = capture(dk_cli_table, &mtool);
    assert_non_null(strstr(t, "\nmode\t--protocol\told\told protocol\n"));
    free(t);

    /* a mode whose option is no row, or takes no argument, breaks the table */
    dk_cli_mode bad_mode[] = { { "verbose", "old", "x", &old_tool } };
    dk_cli_tool b = mtool;
    b.modes = bad_mode;
    assert_int_equal(dk_cli_check(&b, why, sizeof why), -1);
    bad_mode[0].option = "nothing";
    assert_int_equal(dk_cli_check(&b, why, sizeof why), -1);
}

/* dk_cli_real / dk_cli_uint: the whole string, in range; NaN and a sign that
 * strtoull would wrap are refused, and *out is left alone on refusal. */
static void numbers(void **state)
{
    (void)state;
    double d = -7;
    assert_true(dk_cli_real("0.25", 0, 1, &d));
    assert_true(d == 0.25);
    assert_true(dk_cli_real("1e3", 1, 1000, &d));
    assert_true(d == 1000);
    const char *bad_real[] = { "", "x", "1x", "2", "-0.5", "nan", "inf", "1e999" };
    for (size_t i = 0; i < sizeof bad_real / sizeof *bad_real; i++) {
        d = -7;
        assert_false(dk_cli_real(bad_real[i], 0, 1, &d));
        assert_true(d == -7);
    }
    assert_false(dk_cli_real(NULL, 0, 1, &d));
    uint64_t u = 7;
    assert_true(dk_cli_uint("0x10", 16, &u));
    assert_int_equal(u, 16);
    assert_true(dk_cli_uint("010", 16, &u));
    assert_int_equal(u, 8);
    assert_true(dk_cli_uint("18446744073709551615", UINT64_MAX, &u));
    assert_true(u == UINT64_MAX);
    const char *bad_uint[] = { "", "17", "-1", " -1", "+1", " 1", "1 ", "0x", "18446744073709551616" };
    for (size_t i = 0; i < sizeof bad_uint / sizeof *bad_uint; i++) {
        u = 7;
        assert_false(dk_cli_uint(bad_uint[i], i == 1 ? 16 : UINT64_MAX, &u));
        assert_int_equal(u, 7);
    }
    assert_false(dk_cli_uint(NULL, 1, &u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_rows),   cmocka_unit_test(refusals),      cmocka_unit_test(builtins_and_stops),
        cmocka_unit_test(two_passes),    cmocka_unit_test(stop_at_operand), cmocka_unit_test(broken_tables),
        cmocka_unit_test(help_text),     cmocka_unit_test(man_page),      cmocka_unit_test(table_dump),
        cmocka_unit_test(modes),         cmocka_unit_test(numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
