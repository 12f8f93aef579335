/* opterr.h - the one line every tool prints for an option getopt_long
 * refused, and its exit status (2):
 *
 *   TOOL: unknown option '--frob' (see TOOL --help)
 *   TOOL: option '--capture' needs an argument (see TOOL --help)
 *   TOOL: option '--json' takes no argument (see TOOL --help)
 *
 * For getopt_long called with opterr = 0 and short options that begin with
 * ':' (so that a missing argument returns ':', not '?').  Header only: it
 * formats into the buffer or onto the stream it is given.  cli.h's parser
 * calls it for every tool.
 */
#ifndef DFUKIT_OPTERR_H
#define DFUKIT_OPTERR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The middle of the line ("unknown option '--frob'") into buf (cap bytes,
 * always terminated).  c: what getopt_long returned (':' or '?'); argv, ind,
 * opt: argv, optind and optopt right after that call. */
static inline void dk_opt_describe(char *buf, size_t cap, int c, char *const argv[], int ind, int opt)
{
    /* The element at fault: a long option is always the one just passed
     * (ind - 1); a short one may sit inside a cluster still being read
     * (argv[ind]), and is named by opt alone. */
    const char *cur = argv[ind];
    const char *prev = ind > 0 ? argv[ind - 1] : "";
    bool in_cluster = opt > 0 && opt < 256 && cur && cur[0] == '-' && cur[1] && cur[1] != '-' &&
                      strchr(cur + 1, opt) != NULL;
    bool is_long = !in_cluster && prev && !strncmp(prev, "--", 2);
    char name[64];
    if (is_long) {
        size_t n = strcspn(prev, "=");
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), prev);
    } else {
        snprintf(name, sizeof name, "-%c", opt > 0 && opt < 256 ? opt : '?');
    }
    const char *what = c == ':' ? "option '%s' needs an argument"
                       : is_long && opt && strchr(prev, '=') ? "option '%s' takes no argument"
                                                             : "unknown option '%s'";
    snprintf(buf, cap, what, name);
}

/* The whole line onto out.  Returns 2. */
static inline int dk_opt_complain(FILE *out, const char *tool, int c, char *const argv[], int ind, int opt)
{
    char what[128];
    dk_opt_describe(what, sizeof what, c, argv, ind, opt);
    fprintf(out, "%s: %s (see %s --help)\n", tool, what, tool);
    return 2;
}

#endif
