/* cli.c - option tables -> getopt_long arrays, --help text, man page (cli.h). */
#include "dfukit/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/opterr.h"
#include "dfukit/version.h"

#define WIDTH 79   /* --help never goes past this column */
#define MAX_COL 30 /* where option help starts, at most */

/* The options every tool takes; their getopt values follow the rows'. */
enum { B_HELP, B_VERSION, B_MAN, B_TABLE, B_COUNT };
static const struct {
    const char *name;
    char letter;
    bool hidden;
    const char *help;
} builtin[B_COUNT] = {
    [B_HELP] = { "help", 'h', false, "print this help and exit" },
    [B_VERSION] = { "version", 0, false, "print the version and exit" },
    [B_MAN] = { "man", 0, true, NULL },
    [B_TABLE] = { "cli-table", 0, true, NULL },
};

const char *dk_version(void)
{
    return DFUKIT_VERSION;
}

/* ---- stock handlers ---------------------------------------------------- */

int dk_cli_str(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    *(const char **)(void *)((char *)ctx + opt->off) = arg;
    return DK_CLI_GO;
}

int dk_cli_true(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)arg;
    *(bool *)(void *)((char *)ctx + opt->off) = true;
    return DK_CLI_GO;
}

int dk_cli_false(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)arg;
    *(bool *)(void *)((char *)ctx + opt->off) = false;
    return DK_CLI_GO;
}

int dk_cli_count(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)arg;
    (*(int *)(void *)((char *)ctx + opt->off))++;
    return DK_CLI_GO;
}

bool dk_cli_real(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) /* NaN fails both */
        return false;
    *out = v;
    return true;
}

bool dk_cli_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ---- the table --------------------------------------------------------- */

static int broken(char *why, size_t cap, const char *fmt, const char *what)
{
    snprintf(why, cap, fmt, what ? what : "(null)");
    return -1;
}

static bool taken_by_builtin(const dk_cli_opt *o)
{
    for (int b = 0; b < B_COUNT; b++)
        if ((o->name && !strcmp(o->name, builtin[b].name)) || (o->letter && o->letter == builtin[b].letter))
            return true;
    return false;
}

int dk_cli_check(const dk_cli_tool *t, char *why, size_t cap)
{
    if (!t->name || !t->summary || !t->usage || !t->description || t->n_exits == 0 || t->n_examples == 0)
        return broken(why, cap, "%s: name, summary, usage, description, exits and examples are required",
                      t->name);
    if (t->n_opts > DK_CLI_MAX_OPTS)
        return broken(why, cap, "%s: too many options", t->name);
    for (size_t i = 0; i < t->n_opts; i++) {
        const dk_cli_opt *o = &t->opts[i];
        const char *id = o->name ? o->name : "(short)";
        if (!o->name && !o->letter)
            return broken(why, cap, "row after '%s' has neither a name nor a letter", i ? t->opts[i - 1].name : "");
        if (o->letter && (!isalnum((unsigned char)o->letter)))
            return broken(why, cap, "%s: a short option is a letter or a digit", id);
        if (!o->fn || !o->help)
            return broken(why, cap, "%s: no handler or no help", id);
        if (taken_by_builtin(o))
            return broken(why, cap, "%s: taken by a built-in option", id);
        for (size_t k = 0; k < i; k++) {
            const dk_cli_opt *p = &t->opts[k];
            if ((o->name && p->name && !strcmp(o->name, p->name)) || (o->letter && o->letter == p->letter))
                return broken(why, cap, "%s: given twice", id);
        }
    }
    for (size_t m = 0; m < t->n_modes; m++) {
        const dk_cli_mode *md = &t->modes[m];
        const dk_cli_opt *o = NULL;
        for (size_t i = 0; md->option && i < t->n_opts && !o; i++)
            if (t->opts[i].name && !strcmp(t->opts[i].name, md->option) && t->opts[i].arg)
                o = &t->opts[i];
        if (!o || !md->value || !md->title || !md->tool || md->tool->n_modes)
            return broken(why, cap, "mode '%s': no such row with an argument, or no value, title or table",
                          md->option);
        if (md->tool->name != t->name && (!md->tool->name || strcmp(md->tool->name, t->name)))
            return broken(why, cap, "mode '%s': its table has another name", md->value);
        if (dk_cli_check(md->tool, why, cap) != 0)
            return -1;
    }
    return 0;
}

/* getopt_long's arrays: the rows (value: the letter, or 256 + row), then the
 * built-ins (256 + n_opts + b). */
typedef struct {
    struct option longs[DK_CLI_MAX_OPTS + B_COUNT + 1];
    char shorts[3 * (DK_CLI_MAX_OPTS + B_COUNT) + 3];
} arrays;

static int row_value(const dk_cli_tool *t, size_t i)
{
    return t->opts[i].letter ? (unsigned char)t->opts[i].letter : 256 + (int)i;
}

static void make_arrays(const dk_cli_tool *t, arrays *a)
{
    size_t nl = 0, ns = 0;
    if (t->stop_at_operand)
        a->shorts[ns++] = '+';
    a->shorts[ns++] = ':';
    for (size_t i = 0; i < t->n_opts; i++) {
        const dk_cli_opt *o = &t->opts[i];
        int has = o->arg ? required_argument : no_argument;
        if (o->name)
            a->longs[nl++] = (struct option){ o->name, has, NULL, row_value(t, i) };
        if (o->letter) {
            a->shorts[ns++] = o->letter;
            if (o->arg)
                a->shorts[ns++] = ':';
        }
    }
    for (int b = 0; b < B_COUNT; b++) {
        a->longs[nl++] = (struct option){ builtin[b].name, no_argument, NULL,
                                          builtin[b].letter ? builtin[b].letter : 256 + (int)t->n_opts + b };
        if (builtin[b].letter)
            a->shorts[ns++] = builtin[b].letter;
    }
    a->longs[nl] = (struct option){ NULL, 0, NULL, 0 };
    a->shorts[ns] = 0;
}

/* ---- parsing ------------------------------------------------------------ */

static bool wanted(const dk_cli_opt *o, dk_cli_pass pass)
{
    bool early = o->flags & DK_CLI_EARLY;
    return pass == DK_CLI_ALL || (pass == DK_CLI_FIRST) == early;
}

/* getopt_long's value -> a row (>= 0) or -1 - builtin. */
static int lookup(const dk_cli_tool *t, int c)
{
    for (int b = 0; b < B_COUNT; b++)
        if (c == (builtin[b].letter ? builtin[b].letter : 256 + (int)t->n_opts + b))
            return -1 - b;
    if (c >= 256)
        return c - 256;
    for (size_t i = 0; i < t->n_opts; i++)
        if (t->opts[i].letter == c)
            return (int)i;
    return -1 - B_COUNT; /* cannot happen: getopt returns what it was given */
}

void dk_cli_parse(const dk_cli_tool *t, int argc, char **argv, void *ctx, dk_cli_pass pass, dk_cli_result *r)
{
    static const dk_cli_outcome of_builtin[B_COUNT] = { DK_CLI_HELP, DK_CLI_VERSION, DK_CLI_MAN, DK_CLI_TABLE };
    memset(r, 0, sizeof *r);
    if (dk_cli_check(t, r->why, sizeof r->why) != 0) {
        r->outcome = DK_CLI_BROKEN;
        return;
    }
    arrays a;
    make_arrays(t, &a);
    optind = 0; /* glibc: start afresh (a second pass, a second parse) */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, a.shorts, a.longs, NULL)) != -1) {
        if (c == ':' || c == '?') {
            *r = (dk_cli_result){ .outcome = DK_CLI_REFUSED, .c = c, .ind = optind, .opt = optopt };
            return;
        }
        int k = lookup(t, c);
        if (k < 0) {
            if (k >= -B_COUNT) {
                r->outcome = of_builtin[-1 - k];
                return;
            }
            r->outcome = DK_CLI_BROKEN;
            snprintf(r->why, sizeof r->why, "getopt_long returned %d", c);
            return;
        }
        const dk_cli_opt *o = &t->opts[k];
        if (!wanted(o, pass))
            continue;
        int rc = o->fn(ctx, o, o->arg ? optarg : NULL);
        if (rc != DK_CLI_GO) {
            r->outcome = DK_CLI_STOPPED;
            r->status = rc;
            return;
        }
    }
    r->outcome = DK_CLI_RUN;
    r->next = optind;
}

int dk_cli_finish(const dk_cli_tool *t, const dk_cli_result *r, char **argv, FILE *out, FILE *err)
{
    switch (r->outcome) {
    case DK_CLI_RUN: return DK_CLI_GO;
    case DK_CLI_HELP: dk_cli_help(t, out); break;
    case DK_CLI_VERSION: dk_cli_version(t, out); break;
    case DK_CLI_MAN: dk_cli_man(t, out); break;
    case DK_CLI_TABLE: dk_cli_table(t, out); break;
    case DK_CLI_REFUSED: return dk_opt_complain(err, t->name, r->c, argv, r->ind, r->opt);
    case DK_CLI_STOPPED: return r->status;
    case DK_CLI_BROKEN:
        fprintf(err, "%s: internal error: option table: %s\n", t->name ? t->name : "?", r->why);
        return 2;
    }
    return fflush(out) == 0 ? 0 : 1;
}

int dk_cli_run(const dk_cli_tool *t, int argc, char **argv, void *ctx, dk_cli_pass pass, int *next, FILE *out,
               FILE *err)
{
    dk_cli_result r;
    dk_cli_parse(t, argc, argv, ctx, pass, &r);
    *next = r.next;
    return dk_cli_finish(t, &r, argv, out, err);
}

/* ---- modes -------------------------------------------------------------- */

/* The row a long option names ("port", "po" when unambiguous; len: up to
 * '='), or NULL. */
static const dk_cli_opt *long_row(const dk_cli_tool *t, const char *name, size_t len)
{
    const dk_cli_opt *hit = NULL;
    size_t hits = 0;
    for (size_t i = 0; i < t->n_opts; i++) {
        const char *n = t->opts[i].name;
        if (!n || strncmp(n, name, len))
            continue;
        if (n[len] == 0)
            return &t->opts[i];
        hit = &t->opts[i];
        hits++;
    }
    return hits == 1 ? hit : NULL;
}

static const dk_cli_opt *short_row(const dk_cli_tool *t, char c)
{
    for (size_t i = 0; i < t->n_opts; i++)
        if (t->opts[i].letter == c)
            return &t->opts[i];
    return NULL;
}

/* The value of the last --NAME in argv, or NULL. */
static const char *last_value(const dk_cli_tool *t, const dk_cli_opt *want, int argc, char **argv)
{
    const char *val = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (a[0] != '-' || a[1] == 0) {
            if (t->stop_at_operand)
                break;
            continue;
        }
        if (a[1] == '-') {
            size_t len = strcspn(a + 2, "=");
            const dk_cli_opt *o = long_row(t, a + 2, len);
            const char *v = a[2 + len] == '=' ? a + 3 + len : NULL;
            if (o && o->arg && !v && i + 1 < argc)
                v = argv[++i];
            if (o == want && v)
                val = v;
            continue;
        }
        for (const char *p = a + 1; *p; p++) { /* a cluster: -qv, -pPORT, -p PORT */
            const dk_cli_opt *o = short_row(t, *p);
            if (!o || !o->arg)
                continue;
            const char *v = p[1] ? p + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (o == want && v)
                val = v;
            break;
        }
    }
    return val;
}

const dk_cli_tool *dk_cli_pick(const dk_cli_tool *t, int argc, char **argv)
{
    const dk_cli_tool *pick = t;
    const dk_cli_opt *seen = NULL;
    for (size_t m = 0; m < t->n_modes; m++) {
        const dk_cli_mode *md = &t->modes[m];
        const dk_cli_opt *o = long_row(t, md->option, strlen(md->option));
        if (!o || o == seen)
            continue;
        const char *v = last_value(t, o, argc, argv);
        for (size_t k = m; v && k < t->n_modes; k++) /* every mode of this option */
            if (!strcmp(t->modes[k].option, md->option) && !strcmp(t->modes[k].value, v))
                pick = t->modes[k].tool;
        seen = o;
    }
    return pick;
}

/* ---- --help ------------------------------------------------------------- */

/* Words of text from column col to WIDTH, continuation lines at indent; a
 * '\n' in text breaks the line.  Ends with a newline. */
static void wrap(FILE *out, const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        int n = (int)strcspn(p, " \n");
        bool first = col == indent;
        if (!first && col + 1 + n > WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
            first = true;
        }
        fprintf(out, "%s%.*s", first ? "" : " ", n, p);
        col += n + (first ? 0 : 1);
        p += n;
    }
    fputc('\n', out);
}

/* "  -p, --port PORT" into buf; long-only rows line up under the long names
 * (every tool has a short option: -h). */
static int opt_lhs(char *buf, size_t cap, const char *name, char letter, const char *arg)
{
    if (letter && name)
        return snprintf(buf, cap, "  -%c, --%s%s%s", letter, name, arg ? " " : "", arg ? arg : "");
    if (letter)
        return snprintf(buf, cap, "  -%c%s%s", letter, arg ? " " : "", arg ? arg : "");
    return snprintf(buf, cap, "      --%s%s%s", name, arg ? " " : "", arg ? arg : "");
}

static void help_row(FILE *out, const char *lhs, int len, const char *help, int col)
{
    fputs(lhs, out);
    if (len + 2 > col)
        fprintf(out, "\n%*s", col, "");
    else
        fprintf(out, "%*s", col - len, "");
    wrap(out, help, col, col);
}

static int help_col(const dk_cli_tool *t)
{
    char lhs[128];
    int col = 0;
    for (size_t i = 0; i < t->n_opts; i++) {
        const dk_cli_opt *o = &t->opts[i];
        int n = opt_lhs(lhs, sizeof lhs, o->name, o->letter, o->arg) + 2;
        if (n > col && n <= MAX_COL)
            col = n;
    }
    return col < 20 ? 20 : col;
}

/* Rows under section s (NULL: the unnamed group, with the built-ins). */
static void help_group(FILE *out, const dk_cli_tool *t, const char *s, int col)
{
    char lhs[128];
    for (size_t i = 0; i < t->n_opts; i++) {
        const dk_cli_opt *o = &t->opts[i];
        if (s ? !o->section || strcmp(o->section, s) : o->section != NULL)
            continue;
        int n = opt_lhs(lhs, sizeof lhs, o->name, o->letter, o->arg);
        help_row(out, lhs, n, o->help, col);
    }
    if (s)
        return;
    for (int b = 0; b < B_COUNT; b++) {
        if (builtin[b].hidden)
            continue;
        int n = opt_lhs(lhs, sizeof lhs, builtin[b].name, builtin[b].letter, NULL);
        help_row(out, lhs, n, builtin[b].help, col);
    }
}

/* Section s has appeared in a row before row i. */
static bool seen_before(const dk_cli_tool *t, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (t->opts[k].section && !strcmp(t->opts[k].section, t->opts[i].section))
            return true;
    return false;
}

void dk_cli_help(const dk_cli_tool *t, FILE *out)
{
    for (size_t i = 0; t->usage[i]; i++) { /* long ones continue under their start */
        int n = fprintf(out, "%s %s ", i ? "      " : "usage:", t->name);
        wrap(out, t->usage[i], n, n);
    }
    wrap(out, t->description, 0, 0);
    fputc('\n', out);
    int col = help_col(t);
    help_group(out, t, NULL, col);
    for (size_t i = 0; i < t->n_opts; i++) {
        if (!t->opts[i].section || seen_before(t, i))
            continue;
        fprintf(out, "\n%s:\n", t->opts[i].section);
        help_group(out, t, t->opts[i].section, col);
    }
    fputc('\n', out);
    for (size_t m = 0; m < t->n_modes; m++) {
        const dk_cli_mode *md = &t->modes[m];
        char line[256];
        snprintf(line, sizeof line, "with --%s %s, %s takes other options: %s --%s %s --help", md->option,
                 md->value, t->name, t->name, md->option, md->value);
        fprintf(out, "%s:", md->title);
        wrap(out, line, (int)strlen(md->title) + 1, 2);
    }
    if (t->n_modes)
        fputc('\n', out);
    for (size_t i = 0; i < t->n_notes; i++) {
        fprintf(out, "%s:", t->notes[i].title);
        wrap(out, t->notes[i].text, (int)strlen(t->notes[i].title) + 1, 2);
    }
    if (t->n_notes)
        fputc('\n', out);
    fputs("Exit status:\n", out);
    for (size_t i = 0; i < t->n_exits; i++) {
        int n = fprintf(out, "  %d", t->exits[i].code);
        fprintf(out, "%*s", n < 5 ? 5 - n : 1, "");
        wrap(out, t->exits[i].meaning, n < 5 ? 5 : n + 1, 5);
    }
}

void dk_cli_version(const dk_cli_tool *t, FILE *out)
{
    fprintf(out, "%s (dfukit) %s\n", t->name, DFUKIT_VERSION);
}

void dk_cli_table(const dk_cli_tool *t, FILE *out)
{
    arrays a;
    make_arrays(t, &a);
    fprintf(out, "optstring\t%s\n", a.shorts);
    for (const struct option *o = a.longs; o->name; o++) {
        bool hidden = false;
        for (int b = 0; b < B_COUNT; b++)
            hidden |= builtin[b].hidden && !strcmp(builtin[b].name, o->name);
        fprintf(out, "--%s\t%d%s\n", o->name, o->has_arg == required_argument, hidden ? "\thidden" : "");
    }
    for (const char *s = a.shorts; *s; s++)
        if (*s != ':' && *s != '+')
            fprintf(out, "-%c\t%d\n", *s, s[1] == ':');
    for (size_t m = 0; m < t->n_modes; m++)
        fprintf(out, "mode\t--%s\t%s\t%s\n", t->modes[m].option, t->modes[m].value, t->modes[m].title);
}

/* ---- the man page -------------------------------------------------------- */

/* Text as roff: '\' and '-' escaped, a control character at the start of a
 * line neutralised, "\n\n" a new paragraph, "\n" a break. */
static void roff(FILE *out, const char *s, bool line_start)
{
    for (; *s; s++) {
        if (line_start && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        line_start = false;
        if (*s == '\n') {
            bool para = s[1] == '\n';
            fputs(para ? "\n.PP\n" : "\n.br\n", out);
            s += para;
            while (s[1] == ' ')
                s++;
            line_start = true;
        } else if (*s == '\\') {
            fputs("\\e", out);
        } else if (*s == '-') {
            fputs("\\-", out);
        } else {
            fputc(*s, out);
        }
    }
}

static void man_opt_tag(FILE *out, const char *name, char letter, const char *arg)
{
    fputs(".TP\n", out);
    if (letter)
        fprintf(out, "\\fB\\-%c\\fR%s", letter, name ? ", " : "");
    if (name) {
        fputs("\\fB\\-\\-", out);
        roff(out, name, false);
        fputs("\\fR", out);
    }
    if (arg) {
        fputs(" \\fI", out);
        roff(out, arg, false);
        fputs("\\fR", out);
    }
    fputc('\n', out);
}

static void man_group(FILE *out, const dk_cli_tool *t, const char *s)
{
    for (size_t i = 0; i < t->n_opts; i++) {
        const dk_cli_opt *o = &t->opts[i];
        if (s ? !o->section || strcmp(o->section, s) : o->section != NULL)
            continue;
        man_opt_tag(out, o->name, o->letter, o->arg);
        roff(out, o->help, true);
        fputc('\n', out);
    }
    if (s)
        return;
    for (int b = 0; b < B_COUNT; b++) {
        if (builtin[b].hidden)
            continue;
        man_opt_tag(out, builtin[b].name, builtin[b].letter, NULL);
        roff(out, builtin[b].help, true);
        fputc('\n', out);
    }
}

static void man_upper(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(toupper((unsigned char)*s), out);
}

static void man_head(FILE *out, const dk_cli_tool *t)
{
    fprintf(out, ".\\\" %s.1: made by '%s --man' from its option table (dfukit %s); do not edit.\n", t->name,
            t->name, DFUKIT_VERSION);
    fputs(".TH ", out);
    man_upper(out, t->name);
    fprintf(out, " 1 \"\" \"dfukit %s\" \"dfukit manual\"\n.SH NAME\n", DFUKIT_VERSION);
    roff(out, t->name, true);
    fputs(" \\- ", out);
    roff(out, t->summary, false);
    fputs("\n.SH SYNOPSIS\n", out);
    for (size_t i = 0; t->usage[i]; i++) {
        fprintf(out, "%s.B %s\n", i ? ".br\n" : "", t->name);
        roff(out, t->usage[i], true);
        fputc('\n', out);
    }
    for (size_t m = 0; m < t->n_modes; m++)
        for (size_t i = 0; t->modes[m].tool->usage[i]; i++) {
            fprintf(out, ".br\n.B %s\n", t->name);
            roff(out, t->modes[m].tool->usage[i], true);
            fputc('\n', out);
        }
    fputs(".SH DESCRIPTION\n", out);
    roff(out, t->description, true);
    if (t->details) {
        fputs("\n.PP\n", out);
        roff(out, t->details, true);
    }
    fputc('\n', out);
}

static void man_exits(FILE *out, const dk_cli_tool *t)
{
    for (size_t i = 0; i < t->n_exits; i++) {
        fprintf(out, ".TP\n.B %d\n", t->exits[i].code);
        roff(out, t->exits[i].meaning, true);
        fputc('\n', out);
    }
}

static void man_examples(FILE *out, const dk_cli_tool *t)
{
    for (size_t i = 0; i < t->n_examples; i++) {
        fputs(".PP\n", out);
        roff(out, t->examples[i].what, true);
        fputs("\n.PP\n.RS 4\n.nf\n", out);
        roff(out, t->examples[i].command, true);
        fputs("\n.fi\n.RE\n", out);
    }
}

static void man_tail(FILE *out, const dk_cli_tool *t)
{
    for (size_t i = 0; i < t->n_notes; i++) {
        fputs(".SH ", out);
        man_upper(out, t->notes[i].title);
        fputc('\n', out);
        roff(out, t->notes[i].text, true);
        fputc('\n', out);
    }
    fputs(".SH \"EXIT STATUS\"\n", out);
    man_exits(out, t);
    fputs(".SH EXAMPLES\n", out);
    man_examples(out, t);
    if (t->see_also && t->see_also[0]) {
        fputs(".SH \"SEE ALSO\"\n", out);
        for (size_t i = 0; t->see_also[i]; i++) {
            const char *s = t->see_also[i];
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(s, "("), s);
            fputs("\\fB", out);
            roff(out, name, false);
            fprintf(out, "\\fR%s%s\n", s + strlen(name), t->see_also[i + 1] ? "," : "");
        }
    }
}

/* The rows, the unnamed group first, then each section under a .SS. */
static void man_options(FILE *out, const dk_cli_tool *t)
{
    man_group(out, t, NULL);
    for (size_t i = 0; i < t->n_opts; i++) {
        if (!t->opts[i].section || seen_before(t, i))
            continue;
        fputs(".SS \"", out);
        roff(out, t->opts[i].section, false);
        fputs("\"\n", out);
        man_group(out, t, t->opts[i].section);
    }
}

/* A mode as a section of the main page: what it is, its options, its exit
 * statuses and examples. */
static void man_mode(FILE *out, const dk_cli_tool *t, const dk_cli_mode *md)
{
    const dk_cli_tool *m = md->tool;
    fputs(".SH \"", out);
    man_upper(out, md->title);
    fputs("\"\n", out);
    fputs("Given \\fB\\-\\-", out);
    roff(out, md->option, false);
    fputc(' ', out);
    roff(out, md->value, false);
    fprintf(out, "\\fR, \\fB%s\\fR is another program with a command line of its own.\n.PP\n", t->name);
    roff(out, m->description, true);
    if (m->details) {
        fputs("\n.PP\n", out);
        roff(out, m->details, true);
    }
    fputs("\n.PP\nIts options (others are refused):\n", out);
    man_options(out, m);
    for (size_t i = 0; i < m->n_notes; i++) {
        fputs(".SS \"", out);
        roff(out, m->notes[i].title, false);
        fputs("\"\n", out);
        roff(out, m->notes[i].text, true);
        fputc('\n', out);
    }
    fputs(".SS \"Exit status\"\n", out);
    man_exits(out, m);
    fputs(".SS Examples\n", out);
    man_examples(out, m);
}

void dk_cli_man(const dk_cli_tool *t, FILE *out)
{
    man_head(out, t);
    fputs(".SH OPTIONS\n", out);
    man_options(out, t);
    for (size_t m = 0; m < t->n_modes; m++)
        man_mode(out, t, &t->modes[m]);
    man_tail(out, t);
}
