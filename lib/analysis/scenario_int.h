/* scenario_int.h - what the scenario files share (lib/analysis/scenario*.c):
 *   scenario.c        the model: defaults, notes, faults, validation
 *   scenario_json.c   JSON out and in
 *   scenario_build.c  the builder that derives a scenario from a session
 */
#ifndef DFUKIT_SCENARIO_INT_H
#define DFUKIT_SCENARIO_INT_H

#include <stddef.h>
#include <string.h>

/* src (NULL: "") into dst[cap], cut to fit, NUL-terminated. */
static inline void scen_cpy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

#endif
