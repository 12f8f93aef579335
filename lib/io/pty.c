/* pty.c - a pseudo-terminal for a host tool (see pty.h). */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include "dfukit/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

dk_status dk_pty_open(dk_pty *p, const dk_serial_cfg *c, unsigned flags, dk_err *err)
{
    memset(p, 0, sizeof *p);
    p->master = -1;
    p->opened = -1;
    dk_serial_cfg def = dk_serial_cfg_default(115200);
    if (!c)
        c = &def;
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, p->slave, sizeof p->slave) != 0) {
        int e = errno;
        if (m >= 0)
            close(m);
        return dk_err_set(err, DK_E_IO, -1, "cannot create a pty: %s", strerror(e));
    }
    p->master = m;
    if (chmod(p->slave, 0600) < 0) {
        int e = errno;
        dk_pty_close(p);
        return dk_err_set(err, DK_E_IO, -1, "%s: cannot set mode 0600: %s", p->slave, strerror(e));
    }
    /* Termios calls on the master act on the slave. */
    struct termios t;
    if (tcgetattr(m, &t) < 0) {
        int e = errno;
        dk_pty_close(p);
        return dk_err_set(err, DK_E_IO, -1, "%s: cannot set line settings: %s", p->slave, strerror(e));
    }
    if (!dk_serial_cfg_to_termios(c, &t)) {
        dk_pty_close(p);
        return dk_err_set(err, DK_E_USAGE, -1, "%s: baud %u is not one termios knows", p->slave,
                          (unsigned)c->baud);
    }
    if (tcsetattr(m, TCSANOW, &t) < 0) {
        int e = errno;
        dk_pty_close(p);
        return dk_err_set(err, DK_E_IO, -1, "%s: cannot set line settings: %s", p->slave, strerror(e));
    }
    if (flags & DK_PTY_NO_HOST) {
        int s = open(p->slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0) {
            int e = errno;
            dk_pty_close(p);
            return dk_err_set(err, DK_E_IO, -1, "%s: cannot open: %s", p->slave, strerror(e));
        }
        close(s);
    }
    if (flags & DK_PTY_WATCH_OPEN) { /* after our own open: it is no host */
        p->opened = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (p->opened >= 0 && inotify_add_watch(p->opened, p->slave, IN_OPEN) < 0) {
            close(p->opened);
            p->opened = -1;
        }
    }
    return DK_OK;
}

/* path's target into buf; false when path is not a readable symlink. */
static bool link_target(const char *path, char *buf, size_t cap)
{
    ssize_t n = readlink(path, buf, cap - 1);
    if (n < 0)
        return false;
    buf[n] = 0;
    return true;
}

dk_status dk_pty_link(dk_pty *p, const char *path, dk_err *err)
{
    struct stat st;
    char target[PATH_MAX];
    if (lstat(path, &st) == 0) {
        if (!S_ISLNK(st.st_mode))
            return dk_err_set(err, DK_E_USAGE, -1, "exists and is not a symlink; not replacing it");
        if (!link_target(path, target, sizeof target) || strncmp(target, "/dev/pts/", 9) != 0)
            return dk_err_set(err, DK_E_USAGE, -1, "exists and is a symlink to %s, not to a pty; not replacing it",
                              target);
    } else if (errno != ENOENT) {
        return dk_err_set(err, DK_E_IO, -1, "cannot make the link: %s", strerror(errno));
    }
    /* Atomic replace: a temporary link renamed over the old one. */
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    char *keep = strdup(path);
    if (!tmp || !keep) {
        free(tmp);
        free(keep);
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    }
    snprintf(tmp, len, "%s.%ld.tmp", path, (long)getpid());
    unlink(tmp);
    if (symlink(p->slave, tmp) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        free(keep);
        return dk_err_set(err, DK_E_IO, -1, "cannot make the link: %s", strerror(e));
    }
    free(tmp);
    free(p->link);
    p->link = keep;
    return DK_OK;
}

void dk_pty_close(dk_pty *p)
{
    if (p->link) {
        char target[PATH_MAX];
        if (link_target(p->link, target, sizeof target) && strcmp(target, p->slave) == 0)
            unlink(p->link);
        free(p->link);
        p->link = NULL;
    }
    if (p->master >= 0)
        close(p->master);
    p->master = -1;
    if (p->opened >= 0)
        close(p->opened);
    p->opened = -1;
}

ssize_t dk_pty_read(dk_pty *p, uint8_t *buf, size_t cap)
{
    ssize_t n = read(p->master, buf, cap);
    if (n > 0)
        return n;
    if (n == 0 || errno == EIO)
        return -1;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -2;
}

bool dk_pty_host_open(const dk_pty *p)
{
    struct pollfd pf = {.fd = p->master, .events = 0};
    if (poll(&pf, 1, 0) < 0)
        return true;
    return !(pf.revents & (POLLHUP | POLLERR));
}

void dk_pty_opened_drain(dk_pty *p)
{
    char ev[256];
    while (p->opened >= 0 && read(p->opened, ev, sizeof ev) > 0)
        ;
}

dk_pty_wr dk_pty_write(dk_pty *p, const uint8_t *buf, size_t len, int timeout_ms, int wake_fd,
                       size_t *sent)
{
    size_t done = 0;
    dk_pty_wr st = DK_PTY_SENT;
    while (done < len) {
        ssize_t n = write(p->master, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EIO) { /* no slave (some kernels say so at once) */
            st = DK_PTY_GONE;
            break;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            st = DK_PTY_FAILED;
            break;
        }
        struct pollfd pf[2] = { { .fd = p->master, .events = POLLOUT },
                                { .fd = wake_fd, .events = POLLIN } };
        int r = poll(pf, wake_fd >= 0 ? 2 : 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue; /* a signal: its handler wakes wake_fd, seen next time */
        if (r < 0) {
            st = DK_PTY_FAILED;
            break;
        }
        if (r == 0) {
            st = DK_PTY_STALLED;
            break;
        }
        if (wake_fd >= 0 && pf[1].revents) {
            st = DK_PTY_WOKEN;
            break;
        }
        /* A hang-up polls at once, every time, with the pty still full:
         * waiting again would spin. */
        if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            st = DK_PTY_GONE;
            break;
        }
    }
    if (sent)
        *sent = done;
    return st;
}

void dk_pty_drop_unread(dk_pty *p)
{
    /* TCOFLUSH on the master only clears what has not reached the slave's
     * line discipline; what has stays across close and open, so flush it
     * from the slave side too. */
    tcflush(p->master, TCOFLUSH);
    int fd = open(p->slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
        tcflush(fd, TCIFLUSH);
        close(fd);
    }
}

bool dk_pty_cfg(const dk_pty *p, dk_serial_cfg *c)
{
    struct termios t;
    if (tcgetattr(p->master, &t) < 0)
        return false;
    *c = dk_serial_cfg_from_termios(&t);
    return true;
}

void dk_pty_describe(const dk_pty *p, char *out, size_t cap)
{
    struct termios t;
    if (cap)
        out[0] = 0;
    if (tcgetattr(p->master, &t) < 0)
        return;
    dk_serial_cfg c = dk_serial_cfg_from_termios(&t);
    bool raw = !(t.c_lflag & (ICANON | ECHO | ISIG)) && !(t.c_iflag & (ICRNL | IXON)) && !(t.c_oflag & OPOST);
    /* CMSPAR left out: mark shows as O, space as E */
    char par = c.parity == 'M' ? 'O' : c.parity == 'S' ? 'E' : c.parity;
    snprintf(out, cap, "%ld %u%c%u %s%s", c.baud ? (long)c.baud : -1L, (unsigned)c.bits, par, (unsigned)c.stop,
             raw ? "raw" : "cooked", (t.c_cflag & CRTSCTS) ? " rtscts" : "");
}
