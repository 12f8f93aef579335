/* dk_suite.h - the command line of a CMocka suite whose tests CTest runs one
 * at a time (`suite NAME`), such as host_sim, sim_e2e and sniff_pty.
 *
 *   suite            run every test
 *   suite PATTERN    run the tests whose name matches PATTERN ('*' any run
 *                    of characters, '?' one character, as cmocka's filter);
 *                    a PATTERN that matches no test is an error (exit 1)
 *   suite --list     print the test names, one a line, and run nothing
 *
 * cmocka 1.1.5 runs nothing and exits 0 when its filter matches no test, so
 * a test renamed in C but not in CMake would pass without running.  Here the
 * suite picks its tests from its own table itself and fails when none is
 * left; cmocka runs the tests picked (a group named after the table).
 * tests/CMakeLists.txt (dk_cmocka_suite) registers one CTest test per name
 * and compares `--list` with the names it registered.
 *
 * Include after <cmocka.h>.  Header-only.
 */
#ifndef DFUKIT_DK_SUITE_H
#define DFUKIT_DK_SUITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* '*' matches any run of characters, '?' any one character. */
static inline int dk_suite_match(const char *pat, const char *s)
{
    for (;; pat++, s++) {
        if (*pat == '\0')
            return *s == '\0';
        if (*pat == '*') {
            while (pat[1] == '*')
                pat++;
            for (;; s++) {
                if (dk_suite_match(pat + 1, s))
                    return 1;
                if (*s == '\0')
                    return 0;
            }
        }
        if (*s == '\0' || (*pat != '?' && *pat != *s))
            return 0;
    }
}

/* Runs the tests of t[0..n) that argv selects (see the top of this file) and
 * returns main's exit status. */
static inline int dk_suite_main(int argc, char **argv, const char *group,
                                const struct CMUnitTest *t, size_t n,
                                CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
    if (argc > 2 || (argc == 2 && !argv[1][0])) {
        fprintf(stderr, "usage: %s [--list | TEST-PATTERN]\n", argv[0]);
        return 1;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", t[i].name);
        return 0;
    }
    struct CMUnitTest *sel = calloc(n ? n : 1, sizeof *sel);
    if (!sel) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (argc < 2 || dk_suite_match(argv[1], t[i].name))
            sel[k++] = t[i];
    if (k == 0) {
        fprintf(stderr, "%s: no test matches '%s' (--list shows the %zu tests)\n", argv[0],
                argc < 2 ? "" : argv[1], n);
        free(sel);
        return 1;
    }
    int rc = _cmocka_run_group_tests(group, sel, k, group_setup, group_teardown);
    free(sel);
    return rc;
}

/* main's last line: return dk_suite_run(argc, argv, tests, setup, teardown); */
#define dk_suite_run(argc, argv, tests, group_setup, group_teardown)                             \
    dk_suite_main((argc), (argv), #tests, (tests), sizeof(tests) / sizeof((tests)[0]),           \
                  (group_setup), (group_teardown))

#endif
