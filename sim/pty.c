/* pty.c - pseudo-terminal master for dfusim (see pty.h). */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

dk_status dk_pty_open(dk_pty *p, dk_err *err)
{
    memset(p, 0, sizeof *p);
    p->master = -1;
    p->opened = -1;
    /* posix_openpt rather than openpty: <pty.h> would be shadowed by ours. */
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0)
        return dk_err_set(err, DK_E_IO, -1, "posix_openpt: %s", strerror(errno));
    char name[128];
    int s = -1;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof name) != 0 ||
        (s = open(name, O_RDWR | O_NOCTTY)) < 0) {
        int e = errno;
        close(m);
        return dk_err_set(err, DK_E_IO, -1, "pty: %s", strerror(e));
    }
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(s, TCSANOW, &t);
    }
    if (fchmod(s, 0600) < 0) {
        int e = errno;
        close(m);
        close(s);
        return dk_err_set(err, DK_E_IO, -1, "chmod %s: %s", name, strerror(e));
    }
    close(s);
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    fcntl(m, F_SETFD, FD_CLOEXEC);
    p->master = m;
    snprintf(p->slave, sizeof p->slave, "%s", name);
    /* Without the watch the caller only looks for a host now and then. */
    p->opened = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (p->opened >= 0 && inotify_add_watch(p->opened, name, IN_OPEN) < 0) {
        close(p->opened);
        p->opened = -1;
    }
    return DK_OK;
}

static bool is_pty_link(const char *path, char *target, size_t cap)
{
    ssize_t n = readlink(path, target, cap - 1);
    if (n < 0)
        return false;
    target[n] = 0;
    return strncmp(target, "/dev/pts/", 9) == 0;
}

dk_status dk_pty_link(dk_pty *p, const char *path, dk_err *err)
{
    struct stat st;
    char target[256];
    if (lstat(path, &st) == 0) {
        if (!S_ISLNK(st.st_mode) || !is_pty_link(path, target, sizeof target))
            return dk_err_set(err, DK_E_USAGE, -1,
                              "--link %s: exists and is not a dfusim pty link; not replacing it",
                              path);
    } else if (errno != ENOENT) {
        return dk_err_set(err, DK_E_IO, -1, "--link %s: %s", path, strerror(errno));
    }
    /* Atomic replace: a temporary link renamed over the old one. */
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp)
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    snprintf(tmp, len, "%s.%ld.tmp", path, (long)getpid());
    unlink(tmp);
    if (symlink(p->slave, tmp) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return dk_err_set(err, DK_E_IO, -1, "--link %s: %s", path, strerror(e));
    }
    free(tmp);
    p->link = strdup(path);
    return DK_OK;
}

void dk_pty_close(dk_pty *p)
{
    if (p->link) {
        char target[256];
        if (is_pty_link(p->link, target, sizeof target) && strcmp(target, p->slave) == 0)
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
    struct pollfd pf = { .fd = p->master, .events = 0 };
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

size_t dk_pty_write(dk_pty *p, const uint8_t *buf, size_t len, int timeout_ms)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(p->master, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return done;
        struct pollfd pf = { .fd = p->master, .events = POLLOUT };
        int r = poll(&pf, 1, timeout_ms);
        if (r == 0)
            return done; /* the host stopped reading */
        if (r < 0 && errno != EINTR)
            return done;
    }
    return done;
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

static long speed_of(speed_t s)
{
    static const struct { speed_t s; long v; } tab[] = {
        { B1200, 1200 },     { B2400, 2400 },     { B4800, 4800 },     { B9600, 9600 },
        { B19200, 19200 },   { B38400, 38400 },   { B57600, 57600 },   { B115200, 115200 },
        { B230400, 230400 }, { B460800, 460800 }, { B921600, 921600 }, { B1000000, 1000000 },
    };
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
        if (tab[i].s == s)
            return tab[i].v;
    return -1;
}

void dk_pty_describe(const dk_pty *p, char *out, size_t cap)
{
    struct termios t;
    if (cap)
        out[0] = 0;
    if (tcgetattr(p->master, &t) < 0)
        return;
    int bits = (t.c_cflag & CSIZE) == CS8 ? 8 : (t.c_cflag & CSIZE) == CS7 ? 7
             : (t.c_cflag & CSIZE) == CS6 ? 6 : 5;
    char par = !(t.c_cflag & PARENB) ? 'N' : (t.c_cflag & PARODD) ? 'O' : 'E';
    int stop = (t.c_cflag & CSTOPB) ? 2 : 1;
    bool raw = !(t.c_lflag & (ICANON | ECHO | ISIG)) && !(t.c_iflag & (ICRNL | IXON))
               && !(t.c_oflag & OPOST);
    snprintf(out, cap, "%ld %d%c%d %s%s", speed_of(cfgetospeed(&t)), bits, par, stop,
             raw ? "raw" : "cooked", (t.c_cflag & CRTSCTS) ? " rtscts" : "");
}
