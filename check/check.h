/* check.h - dfucheck's parts: the run's settings (dc_ctx), one case made
 * concrete (dc_plan: package, device, faults), its result (dc_result), and
 * the modules that make, run and judge it.
 *
 *   main.c     options, --list, scheduling (-j), output (text, --json)
 *   make.c     keys, packages, the stale-init scenario          -> dc_plan
 *   run.c      dfusim + the host, kills and reruns, artefacts     -> dc_outcome
 *   verdict.c  the flash file (sim core), the capture (lib session) -> dc_result
 *   sweep.c    --sweep: a power cut at every flash op / object boundary
 */
#ifndef DFUCHECK_CHECK_H
#define DFUCHECK_CHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cases.h"
#include "gen.h"

#define DC_PATH 1024
#define DC_APP_SIZE 12288u /* the app installed on every simulated board */

typedef struct {
    const char *sim, *decode;    /* executables; decode may be NULL */
    char keep[DC_PATH];          /* artefacts */
    char sockdir[DC_PATH];       /* control sockets (short paths) */
    double timeout_s;            /* per host run */
    const char *const *host;     /* the host command, with placeholders */
    size_t host_n;
    bool sign;                   /* sign the packages dfucheck makes */
    char key[DC_PATH], pub[DC_PATH], other[DC_PATH]; /* own key pair; a key no board holds */
    const char *user_pkg, *user_pub; /* --pkg, --public-key */
    uint32_t size;               /* image size of the packages dfucheck makes */
    bool sweep_save;             /* --save-progress: the sweep's board keeps progress */
    bool quiet;
} dc_ctx;

typedef struct {
    char id[64];
    char dir[DC_PATH];                /* artefacts of this case */
    char pkg[DC_PATH], dat[DC_PATH], bin[DC_PATH];
    uint8_t *img;                     /* the image bank 0 must hold (or must never boot) */
    size_t img_len;
    bool has_fw;
    uint32_t fw_version;
    /* the simulated board */
    uint32_t hw_version;
    uint16_t sd_fwid;                 /* 0: MBR only */
    uint32_t app_version;             /* of the installed app */
    bool save_progress, require_signature;
    char pubkey[DC_PATH];             /* with require_signature */
    char scenario[DC_PATH];           /* "" or a dfusim --scenario file */
    char faults[DC_FAULTS_MAX + 1][96];
    size_t n_faults;
    /* how it runs and what passes */
    unsigned pauses;
    bool rerun_after_fault, must_resume;
    dc_expect expect;
    unsigned prn;
    bool flash_log;                   /* dfusim -vv (the sweep's reference run) */
    bool transcript;                  /* run dfudecode on the capture */
    bool lean;                        /* a plain success needs no capture analysis (sweep) */
} dc_plan;

typedef struct {
    bool pass;
    bool setup_error;                 /* not the host's fault: dfucheck could not run it */
    unsigned runs;
    double seconds;
    char reason[480];
    char dir[DC_PATH];
    char capture[DC_PATH], transcript[DC_PATH];
} dc_result;

/* make.c: dir/name into out (DC_PATH bytes); false (out "") when too long. */
bool dc_path(char *out, const char *dir, const char *name);
/* make.c: mkdir -p. */
int dc_mkdir_p(const char *dir);
/* make.c: keys for the run (ctx->key, pub, other) in ctx->keep/keys. */
int dc_make_keys(dc_ctx *ctx, char *why, size_t cap);
/* make.c: the plan of case c in ctx->keep/NAME (NULL: its id): package
 * files, device, faults.  0, or -1 with a one-line reason (a set-up error). */
/* --pkg read once up front: an application package whose init packet
 * decodes (and, with --public-key, is signed by that key); 0, or -1 with a
 * one-line reason in why. */
int dc_check_user_pkg(const dc_ctx *ctx, char *why, size_t cap);
int dc_make_plan(const dc_ctx *ctx, const dc_case *c, const char *name, dc_plan *p, char *why,
                 size_t cap);
void dc_plan_free(dc_plan *p);

/* What happened while the host ran (run.c), for the verdict. */
typedef struct {
    unsigned runs, kills, fired;
    int last_exit;               /* 0..255, 128+signal, -1 timed out */
    bool timed_out;
    unsigned failed_runs;        /* runs that exited non-zero (before the last) */
    int first_fail_exit;
    char last_line[200];         /* the host's last line of output (last run) */
    char first_fail_line[200];
    char flash_ops[DC_PATH];     /* -vv: the dfusim log holding "flash op N" lines */
    uint64_t flash_op_count;     /* from dfusim's status at the end */
} dc_outcome;

/* run.c: run the plan; fills r->capture etc., then hands out to the verdict. */
void dc_run_plan(const dc_ctx *ctx, const dc_plan *p, dc_outcome *o, dc_result *r);

/* verdict.c: judge the artefacts in p->dir. */
void dc_judge(const dc_plan *p, const dc_outcome *o, double timeout_s, dc_result *r);

/* run.c: dfudecode's transcript of r->capture into r->dir/transcript.txt. */
void dc_transcript(const dc_ctx *ctx, dc_result *r);

/* run.c: one case from its table entry to its result (make, run, judge). */
void dc_check_case(const dc_ctx *ctx, const dc_case *c, dc_result *r);

/* sweep.c */
int dc_sweep(const dc_ctx *ctx, const char *what, unsigned jobs, bool json);

/* main.c: run n jobs with at most `jobs` at once in worker processes;
 * job(i) fills res[i].  Results are handed to done(i) in index order. */
typedef void (*dc_job_fn)(void *ctx, size_t i, dc_result *r);
typedef void (*dc_done_fn)(void *ctx, size_t i, const dc_result *r);
int dc_parallel(size_t n, unsigned jobs, dc_job_fn job, dc_done_fn done, void *ctx);

#endif
