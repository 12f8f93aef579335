/* port.c - serial ports: libserialport for real UARTs, termios for ptys. */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct dh_port {
    int fd;                  /* termios, or -1 */
    struct sp_port *sp;      /* libserialport, or NULL */
};

static const struct { unsigned baud; speed_t code; } bauds[] = {
    { 1200, B1200 },       { 2400, B2400 },       { 4800, B4800 },     { 9600, B9600 },
    { 19200, B19200 },     { 38400, B38400 },     { 57600, B57600 },   { 115200, B115200 },
    { 230400, B230400 },   { 460800, B460800 },   { 500000, B500000 }, { 576000, B576000 },
    { 921600, B921600 },   { 1000000, B1000000 }, { 2000000, B2000000 },
};

static dh_port *open_termios(const char *path, unsigned baud, bool flow, dk_err *err)
{
    speed_t code = 0;
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].baud == baud)
            code = bauds[i].code;
    if (!code) {
        dk_err_set(err, DK_E_USAGE, -1, "baud %u is not one termios knows", baud);
        return NULL;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        dk_err_set(err, DK_E_IO, -1, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct termios t;
    if (tcgetattr(fd, &t) < 0) {
        dk_err_set(err, DK_E_IO, -1, "not a terminal: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)CSTOPB;
    if (flow)
        t.c_cflag |= CRTSCTS;
    else
        t.c_cflag &= ~(tcflag_t)CRTSCTS;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, code);
    cfsetospeed(&t, code);
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        dk_err_set(err, DK_E_IO, -1, "cannot set raw %u baud: %s", baud, strerror(errno));
        close(fd);
        return NULL;
    }
    tcflush(fd, TCIFLUSH); /* nothing from before we opened counts */
    dh_port *p = calloc(1, sizeof *p);
    if (!p) {
        close(fd);
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    p->fd = fd;
    return p;
}

static dh_port *sp_fail(struct sp_port *sp, dk_err *err, const char *what)
{
    char *m = sp_last_error_message();
    dk_err_set(err, DK_E_IO, -1, "%s: %s", what, m ? m : "libserialport error");
    sp_free_error_message(m);
    if (sp) {
        sp_close(sp);
        sp_free_port(sp);
    }
    return NULL;
}

static bool is_pty(const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return false;
    return strncmp(real, "/dev/pts/", 9) == 0 || strcmp(real, "/dev/ptmx") == 0;
}

dh_port *dh_port_open(const char *path, unsigned baud, bool flow, dk_err *err)
{
    struct sp_port *sp = NULL;
    if (is_pty(path) || sp_get_port_by_name(path, &sp) != SP_OK)
        return open_termios(path, baud, flow, err);
    if (sp_open(sp, SP_MODE_READ_WRITE) != SP_OK)
        return sp_fail(sp, err, "cannot open");
    if (sp_set_baudrate(sp, (int)baud) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
        sp_set_parity(sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(sp, 1) != SP_OK ||
        sp_set_flowcontrol(sp, flow ? SP_FLOWCONTROL_RTSCTS : SP_FLOWCONTROL_NONE) != SP_OK)
        return sp_fail(sp, err, "cannot configure");
    sp_flush(sp, SP_BUF_INPUT);
    dh_port *p = calloc(1, sizeof *p);
    if (!p) {
        sp_close(sp);
        sp_free_port(sp);
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    p->fd = -1;
    p->sp = sp;
    return p;
}

dk_status dh_port_write(dh_port *p, const uint8_t *buf, size_t len, dk_err *err)
{
    if (p->sp) {
        enum sp_return r = sp_blocking_write(p->sp, buf, len, 0);
        if (r < 0 || (size_t)r != len)
            return dk_err_set(err, DK_E_IO, -1, "write failed");
        return DK_OK;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(p->fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { p->fd, POLLOUT, 0 };
            int k = poll(&pf, 1, 5000);
            if (k == 0)
                return dk_err_set(err, DK_E_IO, -1, "write stalled for 5 s (flow control?)");
            if (k < 0 && errno != EINTR)
                return dk_err_set(err, DK_E_IO, -1, "poll: %s", strerror(errno));
            if (k > 0 && (pf.revents & (POLLERR | POLLHUP | POLLNVAL)))
                return dk_err_set(err, DK_E_IO, -1, "the other end closed the line");
            continue;
        }
        return dk_err_set(err, DK_E_IO, -1, "write: %s", n < 0 ? strerror(errno) : "nothing written");
    }
    return DK_OK;
}

long dh_port_read(dh_port *p, uint8_t *buf, size_t cap, int timeout_ms, dk_err *err)
{
    if (p->sp) {
        enum sp_return r = sp_blocking_read_next(p->sp, buf, cap, (unsigned)timeout_ms);
        if (r < 0) {
            dk_err_set(err, DK_E_IO, -1, "read failed");
            return -1;
        }
        return (long)r;
    }
    bool polled = false;
    for (;;) {
        if (timeout_ms > 0 && !polled) {
            /* just after a request the answer is rarely there yet: wait
             * first instead of paying a read that says EAGAIN */
            struct pollfd pf = { p->fd, POLLIN, 0 };
            int k = poll(&pf, 1, timeout_ms);
            polled = true;
            if (k == 0)
                return 0;
            if (k < 0 && errno != EINTR) {
                dk_err_set(err, DK_E_IO, -1, "poll: %s", strerror(errno));
                return -1;
            }
        }
        ssize_t n = read(p->fd, buf, cap);
        if (n > 0)
            return (long)n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            /* a pty whose master closed reads EIO */
            dk_err_set(err, DK_E_IO, -1, "read: %s", strerror(errno));
            return -1;
        }
        if (n == 0 && timeout_ms == 0)
            return 0;
        if (timeout_ms <= 0)
            return 0;
        struct pollfd pf = { p->fd, POLLIN, 0 };
        int k = poll(&pf, 1, timeout_ms);
        if (k == 0)
            return 0;
        if (k < 0) {
            if (errno == EINTR)
                return 0;
            dk_err_set(err, DK_E_IO, -1, "poll: %s", strerror(errno));
            return -1;
        }
        if (!(pf.revents & POLLIN) && (pf.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            dk_err_set(err, DK_E_IO, -1, "the other end closed the line");
            return -1;
        }
        timeout_ms = 0; /* readable now: read once more, then report */
    }
}

const char *dh_port_kind(const dh_port *p)
{
    return p->sp ? "libserialport" : "termios";
}

void dh_port_close(dh_port *p)
{
    if (!p)
        return;
    if (p->sp) {
        sp_close(p->sp);
        sp_free_port(p->sp);
    } else if (p->fd >= 0) {
        close(p->fd);
    }
    free(p);
}
