/* scenario_int.h - what the scenario files (lib/analysis/scenario*.c) share.
 *   scenario.c        the model: defaults, notes, faults, validation
 *   scenario_json.c   JSON out and in
 *   scenario_build.c  the builder that derives a scenario from a session
 */
#ifndef DFUKIT_SCENARIO_INT_H
#define DFUKIT_SCENARIO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dfukit/scenario.h"

/* src (NULL: "") into dst[cap], cut to fit, NUL-terminated. */
static inline void scen_cpy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

/* The largest app that fits the scenario's chip: from the end of the
 * SoftDevice (or the MBR) to the app data pages below the bootloader.  0
 * when the chip is unknown or the SoftDevice leaves no room. */
uint32_t scen_app_room(const dk_scenario *s);

#endif
