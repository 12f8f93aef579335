/* control.c - the --control socket (control.h). */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proc.h"

void ds_ctl_init(ds_ctl *c)
{
    memset(c, 0, sizeof *c);
    c->fd = c->conn = -1;
}

static void drop_client(ds_ctl *c)
{
    if (c->conn >= 0)
        close(c->conn);
    c->conn = -1;
    c->len = 0;
}

/* What is at path may be replaced: nothing, or a stale socket of ours (one a
 * killed dfusim left: ours, and nobody listening).  0, or -1 after a line. */
static int replaceable(const char *path, const struct sockaddr_un *a)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    const char *why = NULL;
    char buf[64];
    if (!S_ISSOCK(st.st_mode)) {
        why = "exists and is not a socket";
    } else if (st.st_uid != geteuid()) {
        snprintf(buf, sizeof buf, "is a socket of uid %lu", (unsigned long)st.st_uid);
        why = buf;
    } else {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int e = fd < 0 || connect(fd, (const struct sockaddr *)a, sizeof *a) == 0 ? 0 : errno;
        if (fd >= 0)
            close(fd);
        if (e != ECONNREFUSED)
            why = e == 0 ? "is in use (something listens on it)" : "is a socket that cannot be checked";
    }
    if (why) {
        fprintf(stderr, DS_TOOL ": --control %s: %s; not replacing it\n", path, why);
        return -1;
    }
    unlink(path);
    return 0;
}

int ds_ctl_open(ds_ctl *c, const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr, DS_TOOL ": --control %s: path too long\n", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    if (replaceable(path, &a) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* The socket's mode comes from the umask at bind: 0600 whatever the
     * user's (a control socket cuts power and writes files). */
    mode_t old = umask(0177);
    int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    struct stat st;
    if (rc < 0 || listen(fd, 4) < 0 || lstat(path, &st) < 0) {
        fprintf(stderr, DS_TOOL ": --control %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    c->path = path;
    c->fd = fd;
    c->ino = st.st_ino;
    return 0;
}

void ds_ctl_accept(ds_ctl *c)
{
    int fd = accept(c->fd, NULL, NULL);
    if (fd < 0)
        return;
    drop_client(c);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    c->conn = fd;
}

void ds_ctl_write(ds_ctl *c, const char *buf, size_t len)
{
    if (c->conn >= 0 && len && write(c->conn, buf, len) < 0)
        drop_client(c);
}

void ds_ctl_reply(ds_ctl *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        ds_ctl_write(c, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void ds_ctl_read(ds_ctl *c, void (*cmd)(void *ctx, char *line), void *ctx)
{
    ssize_t n = read(c->conn, c->buf + c->len, sizeof c->buf - 1 - c->len);
    if (n <= 0) {
        drop_client(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = 0;
    char *nl;
    while (c->conn >= 0 && (nl = strchr(c->buf, '\n')) != NULL) {
        *nl = 0;
        if (nl > c->buf && nl[-1] == '\r')
            nl[-1] = 0;
        if (c->buf[0])
            cmd(ctx, c->buf);
        if (c->conn < 0) /* dropped while answering: nothing is left */
            return;
        size_t used = (size_t)(nl + 1 - c->buf);
        memmove(c->buf, nl + 1, c->len - used + 1);
        c->len -= used;
    }
    if (c->len == sizeof c->buf - 1) {
        ds_ctl_reply(c, "error: line too long\n");
        c->len = 0;
    }
}

void ds_ctl_close(ds_ctl *c)
{
    drop_client(c);
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    struct stat st;
    if (c->path && lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == c->ino)
        unlink(c->path);
}
