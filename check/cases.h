/* cases.h - dfucheck's conformance cases: what each sets up (package,
 * device, faults), how often the host may run, and what counts as a pass.
 *
 * Section references (§) are to docs/protocol.md, which mirrors the
 * numbering of the project's protocol notes.
 */
#ifndef DFUCHECK_CASES_H
#define DFUCHECK_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The package a case hands the host. */
typedef enum {
    DC_PKG_GOOD,      /* a clean image the device accepts */
    DC_PKG_ESCAPED,   /* every object boundary's CRC holds 0xC0 and 0xDB */
    DC_PKG_HW,        /* hw_version 51 for a device built with 52 */
    DC_PKG_SD_REQ,    /* needs SoftDevice 0x0101 on an MBR-only device */
    DC_PKG_FW_OLD,    /* fw_version below the installed app's */
    DC_PKG_WRONG_KEY, /* signed with a key the device does not hold */
    DC_PKG_UNSIGNED,  /* unsigned, for a device that requires signatures */
    DC_PKG_TOO_BIG,   /* an image larger than the device's free flash */
    DC_PKG_BAD_HASH,  /* the .bin is not the image the .dat hashes */
} dc_pkg_kind;

typedef enum {
    DC_EXPECT_UPDATE, /* exit 0, image in bank 0 after activation */
    DC_EXPECT_REJECT, /* exit != 0, the refused image never boots */
} dc_expect;

#define DC_FAULTS_MAX 3

typedef struct {
    const char *id;
    dc_pkg_kind pkg;
    dc_expect expect;
    const char *faults[DC_FAULTS_MAX]; /* dfusim --fault templates (gen.h tokens) */
    unsigned pauses;      /* faults that pause: the host is killed, then run again */
    bool rerun_after_fault; /* a fault may end a run: the user runs the host again */
    bool must_resume;     /* the host must pick up the target's progress (no restart) */
    bool save_progress;   /* NRF_DFU_SAVE_PROGRESS_IN_FLASH = 1 */
    bool stale_init;      /* the device holds another package's init command */
    bool require_signature; /* whatever the run's signing mode */
    bool user_pkg_ok;     /* runs with the user's --pkg (else its own package) */
    uint32_t app_version; /* of the installed app (0: 1) */
    unsigned prn;         /* what {prn} becomes (0: off) */
    const char *expects;  /* what the host must do */
    const char *relies;   /* the SDK behaviour it relies on */
} dc_case;

extern const dc_case dc_cases[];
extern const size_t dc_n_cases;

/* A case by id, or NULL. */
const dc_case *dc_case_find(const char *id);

#endif
