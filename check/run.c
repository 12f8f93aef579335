/* run.c - one case on its own simulated board (check.h).
 *
 *   dfusim  --flash F --capture C --clock virtual --control S --fault ...
 *           stdout line 1: the pty; stderr: its log, watched for
 *           "fault ... fired" and "paused (fault)"
 *   host    the command with {port} {pkg} {dat} {bin} {prn} filled in, in its
 *           own process group, output to host-N.log
 *
 * A pause fault stops the board taking input; the host is then killed
 * (SIGKILL to its group), what it had in flight is dropped ("resume drop"),
 * and it runs again, as a user would after a crash.  A power cut or reset
 * that makes the host give up earns one more run too, when the case allows.
 * --clock virtual makes the capture hold exactly what the board took.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SIM_START_MS 5000
#define SIM_STOP_MS 5000

extern char **environ;

static volatile sig_atomic_t g_host_pg, g_sim;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A worker told to stop takes its board and host with it. */
static void on_stop(int sig)
{
    if (g_host_pg > 0)
        kill(-(pid_t)g_host_pg, SIGKILL);
    if (g_sim > 0)
        kill((pid_t)g_sim, SIGTERM);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Start file (PATH searched when it has no slash) with stdin from
 * /dev/null and stdout/stderr on out/err, default signal dispositions, in a
 * process group of its own when asked.  posix_spawn: no copy of this
 * process's page tables per board.  The pid, or -1 with errno. */
static pid_t spawn(const char *file, char *const argv[], int out, int err, bool own_group)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t def;
    pid_t pid = -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigdefault(&at, &def);
    short flags = POSIX_SPAWN_SETSIGDEF;
    if (own_group) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&at, 0);
    }
    posix_spawnattr_setflags(&at, flags);
    int rc = posix_spawnp(&pid, file, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc) {
        errno = rc;
        return -1;
    }
    return pid;
}

typedef struct {
    pid_t pid;
    int out, err;          /* its stdout / stderr pipes */
    FILE *log;             /* dfusim.log */
    char pty[256];
    char line[1024];
    size_t line_len;
    unsigned fired, paused;
    bool eof;
    char sock[DC_PATH];
} simproc;

static void sim_line(simproc *s)
{
    s->line[s->line_len] = 0;
    if (strstr(s->line, "paused (fault)"))
        s->paused++;
    else if (strstr(s->line, "fault ") && strstr(s->line, " fired ("))
        s->fired++;
    s->line_len = 0;
}

/* Read what dfusim logged (waiting up to ms for something); false at EOF. */
static bool sim_pump(simproc *s, int ms)
{
    if (s->eof)
        return false;
    struct pollfd pf = { .fd = s->err, .events = POLLIN };
    if (poll(&pf, 1, ms) <= 0)
        return true;
    char buf[4096];
    ssize_t n = read(s->err, buf, sizeof buf);
    if (n <= 0) {
        s->eof = true;
        return false;
    }
    if (s->log)
        fwrite(buf, 1, (size_t)n, s->log);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n')
            sim_line(s);
        else if (s->line_len < sizeof s->line - 1)
            s->line[s->line_len++] = buf[i];
    }
    return true;
}

static void add(const char **argv, size_t *n, const char *a)
{
    argv[(*n)++] = a;
}

static int sim_start(const dc_ctx *ctx, const dc_plan *p, unsigned slot, simproc *s, char *why,
                     size_t cap)
{
    char flash[DC_PATH], capf[DC_PATH], hw[16], appv[16], appsz[16], sd[16], logp[DC_PATH];
    char sockname[32];
    snprintf(sockname, sizeof sockname, "%u.sock", slot);
    if (!dc_path(flash, p->dir, "flash.bin") || !dc_path(capf, p->dir, "capture.pcap") ||
        !dc_path(logp, p->dir, "dfusim.log") || !dc_path(s->sock, ctx->sockdir, sockname))
        return snprintf(why, cap, "%.200s: path too long", p->dir), -1;
    snprintf(hw, sizeof hw, "%u", p->hw_version);
    snprintf(appv, sizeof appv, "%u", p->app_version);
    snprintf(appsz, sizeof appsz, "%u", DC_APP_SIZE);
    snprintf(sd, sizeof sd, "0x%04x", p->sd_fwid);
    unlink(flash);
    unlink(capf);
    const char *argv[64];
    size_t n = 0;
    add(argv, &n, ctx->sim);
    const char *fixed[] = { "--chip", "nrf52840", "--hw-version", hw, "--app-size", appsz,
                            "--app-version", appv, "--enter-dfu", "always", "--flash", flash,
                            "--capture", capf, "--clock", "virtual", "--control", s->sock };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        add(argv, &n, fixed[i]);
    if (p->sd_fwid) {
        add(argv, &n, "--sd-fwid");
        add(argv, &n, sd);
    }
    if (p->require_signature) {
        add(argv, &n, "--public-key");
        add(argv, &n, p->pubkey);
    } else {
        add(argv, &n, "--allow-unsigned");
    }
    if (p->save_progress)
        add(argv, &n, "--save-progress-in-flash");
    if (p->scenario[0]) {
        add(argv, &n, "--scenario");
        add(argv, &n, p->scenario);
    }
    if (p->flash_log)
        add(argv, &n, "-vv");
    for (size_t i = 0; i < p->n_faults; i++) {
        add(argv, &n, "--fault");
        add(argv, &n, p->faults[i]);
    }
    argv[n] = NULL;

    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
        return snprintf(why, cap, "pipe: %s", strerror(errno)), -1;
    s->log = fopen(logp, "w");
    pid_t pid = spawn(ctx->sim, (char *const *)argv, po[1], pe[1], false);
    int e = errno;
    close(po[1]);
    close(pe[1]);
    s->pid = pid;
    s->out = po[0];
    s->err = pe[0];
    g_sim = pid;
    if (pid < 0)
        return snprintf(why, cap, "cannot run %.200s: %s", ctx->sim, strerror(e)), -1;
    /* the pty path: the first line of its stdout */
    size_t got = 0;
    int64_t end = now_ms() + SIM_START_MS;
    while (now_ms() < end) {
        struct pollfd pf[2] = { { .fd = s->out, .events = POLLIN }, { .fd = s->err, .events = POLLIN } };
        if (poll(pf, 2, 50) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            sim_pump(s, 0);
        if (pf[0].revents) {
            ssize_t r = read(s->out, s->pty + got, sizeof s->pty - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            s->pty[got] = 0;
            char *nl = strchr(s->pty, '\n');
            if (nl) {
                *nl = 0;
                return 0;
            }
        }
    }
    while (sim_pump(s, 100))
        ;
    if (s->log)
        fflush(s->log);
    snprintf(why, cap, "dfusim did not start (its log: %.200s)", logp);
    return -1;
}

/* One control command; its reply in out.  0 when it ends in "ok". */
static int ctl(const char *sock, const char *cmd, char *out, size_t cap)
{
    out[0] = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        snprintf(out, cap, "control %s: %s", sock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char line[128];
    int len = snprintf(line, sizeof line, "%s\n", cmd);
    int rc = -1;
    size_t n = 0;
    if (write(fd, line, (size_t)len) == len) {
        int64_t end = now_ms() + 3000;
        while (now_ms() < end && n < cap - 1) {
            struct pollfd pf = { .fd = fd, .events = POLLIN };
            if (poll(&pf, 1, 100) <= 0)
                continue;
            ssize_t r = read(fd, out + n, cap - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            out[n] = 0;
            if ((n >= 3 && !strcmp(out + n - 3, "ok\n")) || strstr(out, "error:")) {
                rc = strstr(out, "error:") ? -1 : 0;
                break;
            }
        }
    }
    close(fd);
    return rc;
}

/* After a power cut the board is off for a while: wait until it is on. */
static void wait_board_on(const simproc *s)
{
    char r[512];
    for (int i = 0; i < 100; i++) {
        if (ctl(s->sock, "status", r, sizeof r) < 0 || !strstr(r, "state: off"))
            return;
        usleep(20000);
    }
}

static void sim_stop(simproc *s, bool count_ops, dc_outcome *o)
{
    char r[512];
    if (count_ops && ctl(s->sock, "status", r, sizeof r) == 0) {
        const char *f = strstr(r, "flash-ops: ");
        if (f)
            o->flash_op_count = strtoull(f + 11, NULL, 10);
    }
    kill(s->pid, SIGTERM);
    int64_t end = now_ms() + SIM_STOP_MS;
    while (now_ms() < end && sim_pump(s, 50))
        ;
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
    }
    g_sim = 0;
    unlink(s->sock); /* dfusim removes it; not when it had to be killed */
    close(s->out);
    close(s->err);
    if (s->log)
        fclose(s->log);
    s->log = NULL;
}

static bool looks_like_error(const char *l)
{
    static const char *const words[] = { "fail", "error", "exception", "invalid", "timeout",
                                         "timed out", "mismatch", "refused" };
    char low[256];
    size_t i = 0;
    for (; l[i] && i < sizeof low - 1; i++)
        low[i] = (char)(l[i] >= 'A' && l[i] <= 'Z' ? l[i] + 32 : l[i]);
    low[i] = 0;
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (strstr(low, words[k]))
            return true;
    return false;
}

/* The line of a host's log that says why it stopped: among its last lines
 * the first that reads like an error (a host often prints the cause, then
 * "failed" lines), else the last one; a Python traceback: its last line. */
static void last_line(const char *path, char *out, size_t cap)
{
    out[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char buf[4096];
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        fseek(f, sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0, SEEK_SET);
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *lines[8];
    size_t nl = 0;
    bool traceback = strstr(buf, "Traceback (most recent call last)") != NULL;
    for (char *p = buf + n; p > buf && nl < 8;) { /* the last 8 non-empty lines, newest first */
        char *end = p;
        while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
            end--;
        *end = 0;
        char *start = end;
        while (start > buf && start[-1] != '\n' && start[-1] != '\r')
            start--;
        if (start == end)
            break;
        lines[nl++] = start;
        p = start;
    }
    const char *pick = nl ? lines[0] : "";
    for (size_t i = nl; !traceback && i-- > 0;)
        if (looks_like_error(lines[i])) {
            pick = lines[i];
            break;
        }
    size_t o = 0;
    for (const char *p = pick; *p && o < cap - 1; p++)
        out[o++] = (*p >= 0x20 && *p < 0x7F) ? *p : ' ';
    out[o] = 0;
}

static pid_t host_spawn(const dc_ctx *ctx, const dc_plan *p, const char *pty, unsigned run,
                        char *log, char *why, size_t cap)
{
    char prn[16];
    snprintf(prn, sizeof prn, "%u", p->prn);
    dc_subst sub = { pty, p->pkg, p->dat, p->bin, prn };
    char **argv = calloc(ctx->host_n + 1, sizeof *argv);
    if (!argv)
        return snprintf(why, cap, "out of memory"), -1;
    pid_t pid = -1;
    size_t i;
    for (i = 0; i < ctx->host_n; i++) {
        char tmp[DC_PATH * 2];
        if (!dc_subst_arg(ctx->host[i], &sub, tmp, sizeof tmp) || !(argv[i] = strdup(tmp))) {
            snprintf(why, cap, "host command: %.200s", tmp);
            goto out;
        }
    }
    char name[32];
    snprintf(name, sizeof name, "host-%u.log", run);
    dc_path(log, p->dir, name);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid = fd < 0 ? -1 : spawn(argv[0], argv, fd, fd, true);
    if (pid > 0)
        g_host_pg = pid;
    else
        snprintf(why, cap, "cannot run %.200s: %s", argv[0], strerror(errno));
    if (fd >= 0)
        close(fd);
out:
    for (size_t k = 0; k < i; k++)
        free(argv[k]);
    free(argv);
    return pid;
}

enum { EV_EXIT, EV_PAUSED, EV_TIMEOUT, EV_SIM_GONE };

/* Wait for the host to end, the board to pause, or the deadline. */
static int host_wait(simproc *s, pid_t pid, int64_t deadline, bool pause_due, int *status)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    unsigned paused = s->paused;
    int ev;
    for (;;) {
        if (s->paused != paused) {
            ev = EV_PAUSED;
            break;
        }
        if (waitpid(pid, status, WNOHANG) == pid) {
            /* a host that gave up as the line was held: the pause comes first */
            if (pause_due && *status != 0) {
                sim_pump(s, 20);
                if (s->paused != paused) {
                    ev = EV_PAUSED;
                    break;
                }
            }
            ev = EV_EXIT;
            break;
        }
        if (s->eof) {
            ev = EV_SIM_GONE;
            break;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            ev = EV_TIMEOUT;
            break;
        }
        struct pollfd pf[2] = { { .fd = s->err, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
        int wait = pfd >= 0 ? (int)(left < 1000 ? left : 1000) : 10;
        if (poll(pf, pfd >= 0 ? 2 : 1, wait) > 0 && pf[0].revents)
            sim_pump(s, 0);
    }
    if (ev != EV_EXIT) {
        kill(-pid, SIGKILL);
        waitpid(pid, status, 0);
    }
    if (pfd >= 0)
        close(pfd);
    g_host_pg = 0;
    return ev;
}

static int exit_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
}

/* The host's runs: 1, plus one after each kill, plus one after each fault
 * that ended a run (when the case allows). */
static void host_runs(const dc_ctx *ctx, const dc_plan *p, simproc *s, dc_outcome *o, dc_result *r)
{
    unsigned reruns = 0;
    for (;;) {
        char log[DC_PATH], why[300];
        pid_t pid = host_spawn(ctx, p, s->pty, ++o->runs, log, why, sizeof why);
        if (pid < 0) {
            r->setup_error = true;
            snprintf(r->reason, sizeof r->reason, "%s", why);
            return;
        }
        int st = 0;
        int ev = host_wait(s, pid, now_ms() + (int64_t)(ctx->timeout_s * 1000), o->kills < p->pauses, &st);
        last_line(log, o->last_line, sizeof o->last_line);
        if (ev == EV_PAUSED) {
            o->kills++;
            char rep[256];
            if (ctl(s->sock, "resume drop", rep, sizeof rep) < 0) {
                r->setup_error = true;
                snprintf(r->reason, sizeof r->reason, "dfusim did not resume: %s", rep);
                return;
            }
            continue;
        }
        if (ev == EV_SIM_GONE) {
            r->setup_error = true;
            snprintf(r->reason, sizeof r->reason, "dfusim ended during the run (see dfusim.log)");
            return;
        }
        o->timed_out = ev == EV_TIMEOUT;
        o->last_exit = o->timed_out ? -1 : exit_code(st);
        if (o->last_exit <= 0)
            return;
        sim_pump(s, 20); /* the fault lines of the run's end */
        if (!p->rerun_after_fault || reruns >= s->fired - s->paused)
            return;
        if (reruns++ == 0) {
            o->first_fail_exit = o->last_exit;
            snprintf(o->first_fail_line, sizeof o->first_fail_line, "%s", o->last_line);
        }
        o->failed_runs++;
        wait_board_on(s);
    }
}

void dc_run_plan(const dc_ctx *ctx, const dc_plan *p, dc_outcome *o, dc_result *r)
{
    static unsigned slot;
    memset(o, 0, sizeof *o);
    snprintf(r->dir, sizeof r->dir, "%s", p->dir);
    dc_path(r->capture, p->dir, "capture.pcap");
    dc_path(o->flash_ops, p->dir, "dfusim.log");
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    simproc s;
    memset(&s, 0, sizeof s);
    char why[300];
    if (sim_start(ctx, p, (unsigned)getpid() * 64 + slot++ % 64, &s, why, sizeof why) < 0) {
        r->setup_error = true;
        snprintf(r->reason, sizeof r->reason, "%s", why);
        if (s.pid > 0)
            sim_stop(&s, p->flash_log, o);
        return;
    }
    host_runs(ctx, p, &s, o, r);
    o->fired = s.fired;
    sim_stop(&s, p->flash_log, o);
}

void dc_transcript(const dc_ctx *ctx, dc_result *r)
{
    if (!ctx->decode)
        return;
    dc_path(r->transcript, r->dir, "transcript.txt");
    int fd = open(r->transcript, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char *argv[] = { (char *)ctx->decode, r->capture, NULL };
    pid_t pid = fd < 0 ? -1 : spawn(ctx->decode, argv, fd, fd, false);
    if (fd >= 0)
        close(fd);
    int st;
    if (pid > 0)
        waitpid(pid, &st, 0);
}

void dc_check_case(const dc_ctx *ctx, const dc_case *c, dc_result *r)
{
    int64_t t0 = now_ms();
    memset(r, 0, sizeof *r);
    dc_plan *p = calloc(1, sizeof *p);
    dc_outcome o;
    memset(&o, 0, sizeof o);
    char why[400];
    if (!p || dc_make_plan(ctx, c, NULL, p, why, sizeof why) < 0) {
        r->setup_error = true;
        snprintf(r->reason, sizeof r->reason, "%s", p ? why : "out of memory");
    } else {
        dc_run_plan(ctx, p, &o, r);
        if (!r->setup_error) {
            dc_judge(p, &o, ctx->timeout_s, r);
            if (p->transcript)
                dc_transcript(ctx, r);
        }
        r->runs = o.runs;
    }
    if (p)
        dc_plan_free(p);
    free(p);
    r->seconds = (double)(now_ms() - t0) / 1000.0;
}
