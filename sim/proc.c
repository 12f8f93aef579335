/* proc.c - signals, clock, log and port set-up shared by dfusim's adapters
 * (proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t ds_sig_quit, ds_sig_reset, ds_sig_cut, ds_sig_dump;
static volatile sig_atomic_t hup_is_dump;
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int e = errno;
    if (sig == SIGUSR1)
        ds_sig_reset = 1;
    else if (sig == SIGUSR2)
        ds_sig_cut = 1;
    else if (sig == SIGHUP && hup_is_dump)
        ds_sig_dump = 1;
    else
        ds_sig_quit = 1;
    if (sig_pipe[1] >= 0) {
        ssize_t w = write(sig_pipe[1], "x", 1);
        (void)w;
    }
    errno = e;
}

int ds_sig_setup(bool hup_dumps)
{
    if (pipe(sig_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    hup_is_dump = hup_dumps;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int ds_sig_fd(void)
{
    return sig_pipe[0];
}

void ds_sig_drain(void)
{
    char junk[64];
    while (sig_pipe[0] >= 0 && read(sig_pipe[0], junk, sizeof junk) > 0)
        ;
}

uint64_t ds_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ds_vlog(uint64_t ms, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, DS_TOOL ": %llu.%03llu %s\n", (unsigned long long)(ms / 1000),
            (unsigned long long)(ms % 1000), msg);
}

int ds_port_open(dk_pty *pty, const char *link, const char *capture, dk_cap_writer **cap)
{
    dk_err err;
    *cap = NULL;
    if (dk_pty_open(pty, NULL, DK_PTY_NO_HOST | DK_PTY_WATCH_OPEN, &err) != DK_OK) {
        dk_err_print(stderr, DS_TOOL, NULL, &err);
        return -1;
    }
    if (link && dk_pty_link(pty, link, &err) != DK_OK) {
        fprintf(stderr, DS_TOOL ": --link %s: %s\n", link,
                err.status == DK_E_USAGE ? "exists and is not a dfusim pty link; not replacing it" : err.msg);
        dk_pty_close(pty);
        return -1;
    }
    if (capture && !(*cap = dk_cap_create(capture, &err))) {
        dk_err_print(stderr, DS_TOOL, capture, &err);
        dk_pty_close(pty);
        return -1;
    }
    return 0;
}

int ds_flash_setup(const char *path, const ds_chip *c, bool must_exist, ds_flash **out, bool *fresh)
{
    *fresh = true;
    if (!path) {
        *out = ds_flash_new(c->flash_size, c->page_size);
        return 0;
    }
    if (must_exist && access(path, F_OK) != 0) {
        fprintf(stderr, DS_TOOL ": --flash %s: %s\n", path, strerror(errno));
        return -1;
    }
    dk_err err;
    *out = ds_flash_open_file(path, c->flash_size, c->page_size, fresh, &err);
    if (!*out) {
        dk_err_print(stderr, DS_TOOL, path, &err);
        return -1;
    }
    return 0;
}
