/* sweep.c - --sweep flash-ops|objects: a power cut at every flash operation
 * (or right after every EXECUTE) of one complete update, each on a fresh
 * board, the host run again after the cut as a user would; a table of the
 * cut points it did not recover from (check.h).
 *
 *   reference  the update once, dfusim -vv: how many flash operations, and
 *              what each one is ("flash op N: write 0x... len ...")
 *   flash-ops  point N: --fault flash-op=N:power-cut (the op half done, §6.3)
 *   objects    point K: --fault after-op=execute#K:power-cut (the EXECUTE
 *              done, its answer lost; K = 1 is the init packet's)
 *
 * A point passes as the complete case does: exit 0 and the image activated.
 * Points that pass leave nothing behind; failures keep their artefacts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"

typedef struct {
    const dc_ctx *ctx;
    dc_plan ref;
    bool ops; /* flash-ops, else objects */
    uint64_t n;
    char (*what)[80]; /* per point */
    bool json;
    unsigned failed;
    char dir[DC_PATH];
} sweep;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Remove a passing point's directory and what is in it. */
static void prune(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[DC_PATH * 2];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void point_job(void *vs, size_t i, dc_result *r)
{
    sweep *s = vs;
    double t0 = mono_s();
    dc_plan p = s->ref;
    p.flash_log = false;
    p.lean = true;
    snprintf(p.id, sizeof p.id, "%s-%04zu", s->ops ? "op" : "execute", i + 1);
    dc_path(p.dir, s->dir, p.id);
    if (dc_mkdir_p(p.dir) < 0) {
        r->setup_error = true;
        snprintf(r->reason, sizeof r->reason, "%.300s: cannot make it", p.dir);
        return;
    }
    snprintf(p.faults[0], sizeof p.faults[0], s->ops ? "flash-op=%zu:power-cut" : "after-op=execute#%zu:power-cut",
             i + 1);
    p.n_faults = 1;
    p.rerun_after_fault = true;
    dc_outcome o;
    dc_run_plan(s->ctx, &p, &o, r);
    r->runs = o.runs;
    if (r->setup_error)
        return;
    dc_judge(&p, &o, s->ctx->timeout_s, r);
    if (r->pass)
        prune(p.dir);
    else
        dc_transcript(s->ctx, r);
    r->seconds = mono_s() - t0;
}

static void point_done(void *vs, size_t i, const dc_result *r)
{
    sweep *s = vs;
    bool bad = !r->pass || r->setup_error;
    s->failed += bad;
    if (s->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:i,s:f}", "cut", (json_int_t)(i + 1), "what",
                              s->what[i], "result", r->setup_error ? "error" : r->pass ? "pass" : "fail",
                              "reason", r->reason, "runs", (int)r->runs, "seconds", r->seconds);
        if (bad)
            json_object_set_new(o, "dir", json_string(r->dir));
        char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(4));
        if (t)
            puts(t);
        free(t);
        json_decref(o);
    } else if (bad) {
        if (s->failed == 1)
            printf("%-6s %-44s %s\n", s->ops ? "op" : "exec", "what was cut", "why the update did not recover");
        printf("%-6zu %-44s %s  [%s]\n", i + 1, s->what[i], r->reason, r->dir);
    }
    fflush(stdout);
}

/* "flash op N: erase 0x000FF000 len 4096" lines of the reference log. */
static void read_ops(sweep *s, const char *log)
{
    FILE *f = fopen(log, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "flash op ");
        unsigned long long n;
        char kind[16];
        unsigned addr, len;
        if (!p || sscanf(p, "flash op %llu: %15s 0x%x len %u", &n, kind, &addr, &len) != 4 || n == 0 ||
            n > s->n)
            continue;
        const char *where = addr == 0xFF000u ? " (settings page)" : addr == 0xFE000u ? " (settings backup)" : "";
        snprintf(s->what[n - 1], sizeof s->what[n - 1], "%s 0x%05X len %u%s", kind, addr, len, where);
    }
    if (f)
        fclose(f);
}

/* The update once, without faults: it must pass, and it sets the points. */
static int reference(sweep *s, char *why, size_t cap)
{
    const char *name = s->ops ? "sweep-flash-ops" : "sweep-objects";
    char ref[64];
    snprintf(ref, sizeof ref, "%s/reference", name);
    if (dc_make_plan(s->ctx, dc_case_find("complete"), ref, &s->ref, why, cap) < 0)
        return -1;
    dc_path(s->dir, s->ctx->keep, name);
    s->ref.flash_log = true;
    s->ref.save_progress = s->ctx->sweep_save;
    s->ref.transcript = false;
    dc_outcome o;
    dc_result r;
    memset(&r, 0, sizeof r);
    dc_run_plan(s->ctx, &s->ref, &o, &r);
    if (!r.setup_error)
        dc_judge(&s->ref, &o, s->ctx->timeout_s, &r);
    if (!r.pass) {
        snprintf(why, cap, "the host does not pass a plain update, nothing to sweep: %s", r.reason);
        return -1;
    }
    uint32_t objects = (uint32_t)((s->ref.img_len + DC_OBJ - 1) / DC_OBJ);
    s->n = s->ops ? o.flash_op_count : objects + 1;
    s->what = calloc(s->n ? s->n : 1, sizeof *s->what);
    if (!s->what)
        return snprintf(why, cap, "out of memory"), -1;
    if (s->ops) {
        read_ops(s, o.flash_ops);
    } else {
        snprintf(s->what[0], sizeof s->what[0], "EXECUTE of the init packet");
        for (uint64_t k = 1; k < s->n; k++)
            snprintf(s->what[k], sizeof s->what[k], "EXECUTE of object %llu (offset %llu)%s",
                     (unsigned long long)k, (unsigned long long)(k < objects ? k * DC_OBJ : s->ref.img_len),
                     k == objects ? ", the last" : "");
    }
    return 0;
}

int dc_sweep(const dc_ctx *ctx, const char *what, unsigned jobs, bool json)
{
    sweep s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.ops = !strcmp(what, "flash-ops");
    s.json = json;
    char why[600];
    double t0 = mono_s();
    if (reference(&s, why, sizeof why) < 0) {
        fprintf(stderr, "dfucheck: --sweep %s: %s\n", what, why);
        dc_plan_free(&s.ref);
        free(s.what);
        return 2;
    }
    dc_parallel((size_t)s.n, jobs, point_job, point_done, &s);
    double dt = mono_s() - t0;
    if (json) {
        json_t *o = json_pack("{s:{s:s,s:I,s:i,s:f,s:s}}", "summary", "sweep", what, "points",
                              (json_int_t)s.n, "failed", (int)s.failed, "seconds", dt, "dir", s.dir);
        char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(4));
        if (t)
            puts(t);
        free(t);
        json_decref(o);
    } else {
        printf("sweep %s: %llu cut points, %u not recovered from, in %.1f s (-j %u); a %zu-byte "
               "update; artefacts of failures in %s\n", what, (unsigned long long)s.n, s.failed, dt,
               jobs, s.ref.img_len, s.dir);
    }
    dc_plan_free(&s.ref);
    free(s.what);
    return s.failed ? 1 : 0;
}
