/* main.c - dfucheck: grade a Secure DFU host against dfusim (README.md).
 *
 *   dfucheck [options] -- HOST-COMMAND ARGS...
 *
 * Each case runs in a worker process of its own (-j N at once), on its own
 * simulated board; results come back over a pipe and are printed in table
 * order, one line each (or one JSON object each), then the totals.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "dfukit/cli.h"

#define TOOL "dfucheck"
#define DEFAULT_SIZE (6 * DC_OBJ + 1000u) /* 7 objects, the last one short */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(TOOL ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* PROG next to this executable (or in ../DIR/ of a build tree), else PATH. */
static const char *find_tool(const char *name, const char *dir, char *out, size_t cap)
{
    char self[DC_PATH];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            int k = snprintf(out, cap, "%s/%s", self, name);
            if (k > 0 && (size_t)k < cap && access(out, X_OK) == 0)
                return out;
            k = snprintf(out, cap, "%s/../%s/%s", self, dir, name);
            if (k > 0 && (size_t)k < cap && access(out, X_OK) == 0)
                return out;
        }
    }
    const char *path = getenv("PATH");
    for (const char *p = path; p && *p;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int k = snprintf(out, cap, "%.*s/%s", (int)len, p, name);
        if (len && k > 0 && (size_t)k < cap && access(out, X_OK) == 0)
            return out;
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

/* ---- workers ---------------------------------------------------------------- */

typedef struct {
    pid_t pid;
    int fd;
    size_t i;
    size_t got;
} worker;

static void start_worker(worker *w, size_t i, dc_job_fn job, void *ctx)
{
    int p[2];
    w->i = i;
    w->got = 0;
    w->pid = -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        dc_result r;
        memset(&r, 0, sizeof r);
        job(ctx, i, &r);
        const char *b = (const char *)&r;
        size_t off = 0;
        while (off < sizeof r) {
            ssize_t n = write(p[1], b + off, sizeof r - off);
            if (n <= 0)
                _exit(1);
            off += (size_t)n;
        }
        _exit(0);
    }
    close(p[1]);
    w->pid = pid;
    w->fd = p[0];
    if (pid < 0)
        close(p[0]);
}

int dc_parallel(size_t n, unsigned jobs, dc_job_fn job, dc_done_fn done, void *ctx)
{
    if (jobs == 0)
        jobs = 1;
    dc_result *res = calloc(n ? n : 1, sizeof *res);
    bool *have = calloc(n ? n : 1, sizeof *have);
    worker *w = calloc(jobs, sizeof *w);
    if (!res || !have || !w) {
        free(res);
        free(have);
        free(w);
        return -1;
    }
    size_t next = 0, printed = 0, running = 0;
    while (printed < n) {
        while (running < jobs && next < n) {
            size_t k = 0;
            while (w[k].pid > 0)
                k++;
            start_worker(&w[k], next, job, ctx);
            if (w[k].pid < 0) {
                snprintf(res[next].reason, sizeof res[next].reason, "fork: %s", strerror(errno));
                res[next].setup_error = true;
                have[next] = true;
                w[k].pid = 0;
            } else {
                running++;
            }
            next++;
        }
        struct pollfd pf[64];
        size_t idx[64], m = 0;
        for (size_t k = 0; k < jobs && m < 64; k++)
            if (w[k].pid > 0) {
                pf[m] = (struct pollfd){ .fd = w[k].fd, .events = POLLIN };
                idx[m++] = k;
            }
        if (m && poll(pf, (nfds_t)m, -1) < 0 && errno != EINTR)
            break;
        for (size_t j = 0; j < m; j++) {
            if (!pf[j].revents)
                continue;
            worker *x = &w[idx[j]];
            char *b = (char *)&res[x->i];
            ssize_t r = read(x->fd, b + x->got, sizeof *res - x->got);
            if (r > 0) {
                x->got += (size_t)r;
                if (x->got < sizeof *res)
                    continue;
            } else if (x->got < sizeof *res) {
                memset(&res[x->i], 0, sizeof *res);
                res[x->i].setup_error = true;
                snprintf(res[x->i].reason, sizeof res[x->i].reason, "the worker died");
            }
            int st;
            close(x->fd);
            waitpid(x->pid, &st, 0);
            have[x->i] = true;
            x->pid = 0;
            running--;
        }
        while (printed < n && have[printed]) {
            done(ctx, printed, &res[printed]);
            printed++;
        }
    }
    free(res);
    free(have);
    free(w);
    return 0;
}

/* ---- the suite ---------------------------------------------------------------- */

typedef struct {
    dc_ctx *ctx;
    const dc_case **cases;
    size_t n;
    bool json;
    unsigned pass, fail, errors;
    int width;
} suite;

static void suite_job(void *vs, size_t i, dc_result *r)
{
    suite *s = vs;
    dc_check_case(s->ctx, s->cases[i], r);
}

static void print_json(const char *id, const dc_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "case", json_string(id));
    json_object_set_new(o, "result", json_string(r->setup_error ? "error" : r->pass ? "pass" : "fail"));
    json_object_set_new(o, "reason", json_string(r->reason));
    json_object_set_new(o, "runs", json_integer(r->runs));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    json_object_set_new(o, "dir", json_string(r->dir));
    json_object_set_new(o, "capture", r->capture[0] ? json_string(r->capture) : json_null());
    json_object_set_new(o, "transcript", r->transcript[0] ? json_string(r->transcript) : json_null());
    char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(4));
    if (t)
        puts(t);
    free(t);
    json_decref(o);
}

static void suite_done(void *vs, size_t i, const dc_result *r)
{
    suite *s = vs;
    const char *id = s->cases[i]->id;
    if (r->setup_error) {
        s->errors++;
        fprintf(stderr, TOOL ": %s: %s\n", id, r->reason);
    } else if (r->pass) {
        s->pass++;
    } else {
        s->fail++;
    }
    if (s->json) {
        print_json(id, r);
    } else if (!s->ctx->quiet || (!r->pass && !r->setup_error)) {
        const char *rel = r->dir + (strncmp(r->dir, s->ctx->keep, strlen(s->ctx->keep)) ? 0
                                                                                       : strlen(s->ctx->keep) + 1);
        printf("%-*s  %s  %s  [%s: capture.pcap%s]\n", s->width, id,
               r->setup_error ? "ERROR" : r->pass ? "PASS" : "FAIL", r->reason, rel,
               r->transcript[0] ? ", transcript.txt" : "");
    }
    fflush(stdout);
}

static void list_cases(bool json)
{
    if (!json)
        printf("Sections (§) are those of docs/protocol.md (the numbering of the protocol notes).\n");
    for (size_t i = 0; i < dc_n_cases; i++) {
        const dc_case *c = &dc_cases[i];
        if (json) {
            json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "case", c->id, "kind",
                                  c->expect == DC_EXPECT_REJECT ? "rejection" : "update", "expects",
                                  c->expects, "relies", c->relies);
            char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(4));
            if (t)
                puts(t);
            free(t);
            json_decref(o);
        } else {
            printf("%s\n    expects: %s\n    relies on: %s\n", c->id, c->expects, c->relies);
        }
    }
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- options ------------------------------------------------------------------- */

typedef struct {
    dc_ctx ctx;
    const char *keep, *sweep;
    const dc_case *sel[64];
    size_t n_sel;
    unsigned jobs;
    bool json, list;
    char simbuf[DC_PATH], decbuf[DC_PATH];
} options;

/* ---- the table (cli.h): getopt, --help and the man page ---------------------- */

static int opt_case(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    if (!dc_case_find(arg))
        return usage_error("--case %s: no such case (dfucheck --list)", arg);
    if (o->n_sel == sizeof o->sel / sizeof *o->sel)
        return usage_error("--case: too many");
    o->sel[o->n_sel++] = dc_case_find(arg);
    return DK_CLI_GO;
}

static int opt_jobs(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 1, 64, &v) || v != (unsigned)v)
        return usage_error("-j %s: expected 1 to 64", arg);
    ((options *)ctx)->jobs = (unsigned)v;
    return DK_CLI_GO;
}

static int opt_timeout(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 0.1, 86400, &v))
        return usage_error("--timeout %s: expected seconds (0.1 to 86400)", arg);
    ((options *)ctx)->ctx.timeout_s = v;
    return DK_CLI_GO;
}

static int opt_size(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    double v;
    if (!dk_cli_real(arg, 2 * DC_OBJ + 4, 900000, &v) || v != (uint32_t)v || (uint32_t)v % 4)
        return usage_error("--size %s: expected a multiple of 4 from %u to 900000 (3 objects or "
                           "more; the SDK's flash layer takes no other write length)",
                           arg, 2 * DC_OBJ + 4);
    ((options *)ctx)->ctx.size = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_sweep(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "flash-ops") && strcmp(arg, "objects"))
        return usage_error("--sweep %s: expected flash-ops or objects", arg);
    ((options *)ctx)->sweep = arg;
    return DK_CLI_GO;
}

#define O(field) offsetof(options, field)
static const dk_cli_opt cli_opts[] = {
    { "list", 0, NULL, "the cases, what each expects, the SDK behaviour it relies on", NULL, dk_cli_true,
      O(list) },
    { "case", 0, "ID", "run this case (repeatable; default: all)", NULL, opt_case },
    { NULL, 'j', "N", "N cases at once (default 1)", NULL, opt_jobs },
    { "keep", 0, "DIR", "artefacts here (default: a new dfucheck.XXXXXX in $TMPDIR)", NULL, dk_cli_str,
      O(keep) },
    { "timeout", 0, "S", "per host run (default 30)", NULL, opt_timeout },
    { "json", 0, NULL, "one JSON object per case, then a summary object", NULL, dk_cli_true, O(json) },
    { "signed", 0, NULL, "sign the packages dfucheck makes (the board requires it)", NULL, dk_cli_true,
      O(ctx.sign) },
    { "size", 0, "N", "image size of those packages (default 25576, a multiple of 4)", NULL, opt_size },
    { "pkg", 0, "FILE", "the cases that can use it send this package instead", NULL, dk_cli_str,
      O(ctx.user_pkg) },
    { "public-key", 0, "PEM", "the key the board checks --pkg's signature with", NULL, dk_cli_str,
      O(ctx.user_pub) },
    { "sweep", 0, "flash-ops|objects",
      "a power cut at every flash operation (or object boundary) of a complete update, the host run again "
      "after each",
      NULL, opt_sweep },
    { "save-progress", 0, NULL, "the sweep's board keeps progress in flash (SAVE_PROGRESS 1)", NULL,
      dk_cli_true, O(ctx.sweep_save) },
    { "sim", 0, "PATH", "dfusim (default: next to dfucheck, then PATH)", NULL, dk_cli_str, O(ctx.sim) },
    { "decode", 0, "PATH", "dfudecode for transcripts (same search; optional)", NULL, dk_cli_str,
      O(ctx.decode) },
    { NULL, 'q', NULL, "totals only (and failures)", NULL, dk_cli_true, O(ctx.quiet) },
};
#undef O

static const char *const cli_usage[] = {
    "[options] -- HOST-COMMAND ARGS...",
    "--list [--json]",
    "--sweep flash-ops|objects [--save-progress] [options] -- HOST-COMMAND ARGS...",
    NULL,
};
static const dk_cli_exit cli_exits[] = {
    { 0, "every case passed" },
    { 1, "a case failed" },
    { 2, "usage or set-up error" },
};
static const dk_cli_example cli_examples[] = {
    { "dfucheck -j 2 -- ./my-host --port {port} --package {pkg}", "Every case against your own host, two at once:" },
    { "dfucheck -- nrfutil dfu serial -pkg {pkg} -p {port} -fc 0 -t 1 -cd 0", "The same for nrfutil:" },
    { "dfucheck --sweep flash-ops -- dfuhost -p {port} --pkg {pkg}",
      "A power cut at every flash operation of an update, the host run again after each:" },
};
static const char *const cli_see_also[] = { "dfusim(1)", "dfudecode(1)", "dfuhost(1)", NULL };
static const dk_cli_tool cli = {
    .name = TOOL,
    .summary = "grade a Nordic Secure DFU host against dfusim",
    .usage = cli_usage,
    .description = "Grade a Secure DFU host against dfusim: each case runs the command on a fresh simulated "
                   "board; {port} {pkg} {dat} {bin} {prn} in it are filled in.",
    .details = "Everything after -- is the host command, run as it is (no shell).  Each case starts a "
               "fresh simulated nRF52840 (SDK 17.1 UART bootloader, an old app installed), may kill the "
               "host, cut the power, reset the board or lose an answer, and may run the host again the "
               "way a user would.  It then reads the simulated flash with the simulator's own code: PASS "
               "means the host exited 0 and the board boots the new image (or, for a refusal, the host "
               "stopped with an error and the board never boots the refused image).  One line per case "
               "says why; its capture and decoded transcript are kept.",
    .opts = cli_opts,
    .n_opts = DK_CLI_N(cli_opts),
    .exits = cli_exits,
    .n_exits = DK_CLI_N(cli_exits),
    .examples = cli_examples,
    .n_examples = DK_CLI_N(cli_examples),
    .see_also = cli_see_also,
    .stop_at_operand = true, /* the host command's own options are its own */
};

/* Operands and the options that go together; 0 or 2. */
static int check_args(int argc, char **argv, int next, options *o)
{
    o->ctx.host = (const char *const *)argv + next;
    o->ctx.host_n = (size_t)(argc - next);
    if (o->list)
        return 0;
    if (o->ctx.host_n == 0)
        return usage_error("no host command: dfucheck [options] -- HOST-COMMAND ARGS... (dfucheck --help)");
    if (o->ctx.sweep_save && !o->sweep)
        return usage_error("--save-progress goes with --sweep (the cases choose their own)");
    if (o->ctx.user_pub && !o->ctx.user_pkg)
        return usage_error("--public-key goes with --pkg");
    if (o->ctx.user_pub && access(o->ctx.user_pub, R_OK) != 0)
        return usage_error("--public-key %s: %s", o->ctx.user_pub, strerror(errno));
    if (!o->ctx.sim && !(o->ctx.sim = find_tool("dfusim", "sim", o->simbuf, sizeof o->simbuf)))
        return usage_error("dfusim not found next to dfucheck or on PATH (give --sim PATH)");
    if (o->ctx.user_pkg && access(o->ctx.user_pkg, R_OK) != 0)
        return usage_error("--pkg %s: %s", o->ctx.user_pkg, strerror(errno));
    char why[600];
    if (o->ctx.user_pkg && dc_check_user_pkg(&o->ctx, why, sizeof why) < 0)
        return usage_error("%s", why); /* once, not once per case */
    if (access(o->ctx.sim, X_OK) != 0)
        return usage_error("--sim %s: %s", o->ctx.sim, strerror(errno));
    if (!o->ctx.decode)
        o->ctx.decode = find_tool("dfudecode", "decode", o->decbuf, sizeof o->decbuf);
    return 0;
}

/* 0: run; 1: done (exit 0); else the exit status. */
static int parse_args(int argc, char **argv, options *o)
{
    o->ctx.timeout_s = 30;
    o->ctx.size = DEFAULT_SIZE;
    o->jobs = 1;
    int next;
    int rc = dk_cli_run(&cli, argc, argv, o, DK_CLI_ALL, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc == 0 ? 1 : rc;
    return check_args(argc, argv, next, o);
}

/* The artefact and socket directories. */
static int set_up_dirs(options *o)
{
    dc_ctx *x = &o->ctx;
    if (o->keep) {
        if (mkdir(o->keep, 0755) < 0 && errno != EEXIST)
            return usage_error("--keep %s: %s", o->keep, strerror(errno));
        if (!realpath(o->keep, x->keep))
            return usage_error("--keep %s: %s", o->keep, strerror(errno));
    } else {
        const char *t = getenv("TMPDIR");
        snprintf(x->keep, sizeof x->keep, "%s/dfucheck.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(x->keep))
            return usage_error("%s: %s", x->keep, strerror(errno));
    }
    char why[300];
    if (dc_make_keys(x, why, sizeof why) < 0)
        return usage_error("keys: %s", why);
    snprintf(x->sockdir, sizeof x->sockdir, "/tmp/dfucheck-sock.XXXXXX"); /* last: removed at exit */
    if (!mkdtemp(x->sockdir))
        return usage_error("%s: %s", x->sockdir, strerror(errno));
    return 0;
}

static int run_suite(options *o)
{
    suite s = { .ctx = &o->ctx, .json = o->json };
    if (o->n_sel) {
        s.cases = o->sel;
        s.n = o->n_sel;
    } else {
        static const dc_case *all[64];
        for (size_t i = 0; i < dc_n_cases && i < 64; i++)
            all[i] = &dc_cases[i];
        s.cases = all;
        s.n = dc_n_cases < 64 ? dc_n_cases : 64;
    }
    for (size_t i = 0; i < s.n; i++)
        if ((int)strlen(s.cases[i]->id) > s.width)
            s.width = (int)strlen(s.cases[i]->id);
    double t0 = mono_s();
    if (dc_parallel(s.n, o->jobs, suite_job, suite_done, &s) < 0)
        return usage_error("out of memory");
    double dt = mono_s() - t0;
    if (o->json) {
        json_t *sum = json_pack("{s:{s:i,s:i,s:i,s:i,s:f,s:s}}", "summary", "cases", (int)s.n, "passed",
                                (int)s.pass, "failed", (int)s.fail, "errors", (int)s.errors, "seconds",
                                dt, "dir", o->ctx.keep);
        char *t = json_dumps(sum, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(4));
        if (t)
            puts(t);
        free(t);
        json_decref(sum);
    } else {
        printf("%u passed, %u failed%s of %zu cases in %.1f s (-j %u); artefacts in %s\n", s.pass,
               s.fail, s.errors ? ", some could not run" : "", s.n, dt, o->jobs, o->ctx.keep);
    }
    return s.errors ? 2 : s.fail ? 1 : 0;
}

int main(int argc, char **argv)
{
    static options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.list) {
        list_cases(o.json);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((rc = set_up_dirs(&o)) != 0)
        return rc;
    rc = o.sweep ? dc_sweep(&o.ctx, o.sweep, o.jobs, o.json) : run_suite(&o);
    rmdir(o.ctx.sockdir);
    return rc;
}
