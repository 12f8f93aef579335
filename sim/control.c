/* control.c - the --control socket (control.h). */
#define _GNU_SOURCE /* accept4 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
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
    ds_ctl_lines_init(&c->lines);
}

static void drop_client(ds_ctl *c)
{
    if (c->conn >= 0)
        close(c->conn);
    c->conn = -1;
    ds_ctl_lines_init(&c->lines);
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
    int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    drop_client(c);
    c->conn = fd;
}

void ds_ctl_write(ds_ctl *c, const char *buf, size_t len)
{
    if (c->conn < 0 || len == 0)
        return;
    ssize_t n;
    do
        n = send(c->conn, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n < len) /* gone, or not reading: never waited on */
        drop_client(c);
}

void ds_ctl_reply(ds_ctl *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof buf) { /* cut: still one whole line */
        n = (int)sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    ds_ctl_write(c, buf, (size_t)n);
}

/* One event of the line cutter: a command to cmd, or an error answered. */
static void event(ds_ctl *c, ds_ctl_ev ev, const char *line, size_t len,
                  void (*cmd)(void *ctx, const ds_ctl_req *req), void *ctx)
{
    if (ev == DS_CTL_EV_TOO_LONG) {
        ds_ctl_reply(c, "error: line too long (more than %d bytes): dropped\n", DS_CTL_LINE_MAX);
        return;
    }
    if (ev != DS_CTL_EV_LINE)
        return;
    ds_ctl_req req;
    char why[400];
    ds_ctl_parsed p = ds_ctl_parse(line, len, &req, why, sizeof why);
    if (p == DS_CTL_REQ)
        cmd(ctx, &req);
    else if (p == DS_CTL_BAD)
        ds_ctl_reply(c, "error: %s\n", why);
}

void ds_ctl_read(ds_ctl *c, void (*cmd)(void *ctx, const ds_ctl_req *req), void *ctx)
{
    uint8_t in[1024];
    ssize_t n = recv(c->conn, in, sizeof in, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* nothing after all: poll will say */
    size_t got = n > 0 ? (size_t)n : 0, at = 0;
    const char *line = NULL;
    size_t len = 0;
    while (c->conn >= 0 && at < got) {
        ds_ctl_ev ev;
        at += ds_ctl_lines_take(&c->lines, in + at, got - at, &ev, &line, &len);
        event(c, ev, line, len, cmd, ctx);
    }
    if (n == 0 && c->conn >= 0) { /* the client is done: its last line counts */
        ds_ctl_ev ev = ds_ctl_lines_end(&c->lines, &line, &len);
        event(c, ev, line, len, cmd, ctx);
    }
    if (n <= 0)
        drop_client(c);
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
