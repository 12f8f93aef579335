/* serial.c - serial lines through termios or libserialport (see serial.h). */
#include "dfukit/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfukit/capfile.h"

/* ---- line settings ---- */

static const struct {
    speed_t speed;
    uint32_t baud;
} bauds[] = {
    {B0, 0},             {B50, 50},           {B75, 75},           {B110, 110},
    {B134, 134},         {B150, 150},         {B200, 200},         {B300, 300},
    {B600, 600},         {B1200, 1200},       {B1800, 1800},       {B2400, 2400},
    {B4800, 4800},       {B9600, 9600},       {B19200, 19200},     {B38400, 38400},
    {B57600, 57600},     {B115200, 115200},   {B230400, 230400},   {B460800, 460800},
    {B500000, 500000},   {B576000, 576000},   {B921600, 921600},   {B1000000, 1000000},
    {B1152000, 1152000}, {B1500000, 1500000}, {B2000000, 2000000}, {B2500000, 2500000},
    {B3000000, 3000000}, {B3500000, 3500000}, {B4000000, 4000000},
};

dk_serial_cfg dk_serial_cfg_default(uint32_t baud)
{
    return (dk_serial_cfg){.baud = baud, .bits = 8, .parity = 'N', .stop = 1, .flow = DK_SERIAL_FLOW_NONE};
}

uint32_t dk_serial_baud_of_speed(speed_t s)
{
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].speed == s)
            return bauds[i].baud;
    return 0;
}

speed_t dk_serial_speed_of_baud(uint32_t baud)
{
    for (size_t i = 1; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].baud == baud)
            return bauds[i].speed;
    return 0;
}

dk_serial_cfg dk_serial_cfg_from_termios(const struct termios *t)
{
    dk_serial_cfg c;
    c.baud = dk_serial_baud_of_speed(cfgetospeed(t));
    switch (t->c_cflag & CSIZE) {
    case CS5: c.bits = 5; break;
    case CS6: c.bits = 6; break;
    case CS7: c.bits = 7; break;
    default: c.bits = 8; break;
    }
    if (!(t->c_cflag & PARENB))
        c.parity = 'N';
    else if (t->c_cflag & CMSPAR)
        c.parity = (t->c_cflag & PARODD) ? 'M' : 'S';
    else
        c.parity = (t->c_cflag & PARODD) ? 'O' : 'E';
    c.stop = (t->c_cflag & CSTOPB) ? 2 : 1;
    int flow = 0;
    if (t->c_cflag & CRTSCTS)
        flow |= DK_SERIAL_FLOW_RTSCTS;
    if (t->c_iflag & (IXON | IXOFF))
        flow |= DK_SERIAL_FLOW_XONXOFF;
    c.flow = (dk_serial_flow)flow;
    return c;
}

bool dk_serial_cfg_to_termios(const dk_serial_cfg *c, struct termios *t)
{
    speed_t sp = c->baud ? dk_serial_speed_of_baud(c->baud) : B0;
    if (c->baud && !sp)
        return false;
    cfmakeraw(t);
    t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS);
    t->c_cflag |= CREAD | CLOCAL;
    switch (c->bits) {
    case 5: t->c_cflag |= CS5; break;
    case 6: t->c_cflag |= CS6; break;
    case 7: t->c_cflag |= CS7; break;
    default: t->c_cflag |= CS8; break;
    }
    switch (c->parity) {
    case 'E': t->c_cflag |= PARENB; break;
    case 'O': t->c_cflag |= PARENB | PARODD; break;
    case 'M': t->c_cflag |= PARENB | CMSPAR | PARODD; break;
    case 'S': t->c_cflag |= PARENB | CMSPAR; break;
    default: break;
    }
    if (c->stop == 2)
        t->c_cflag |= CSTOPB;
    if (c->flow & DK_SERIAL_FLOW_RTSCTS)
        t->c_cflag |= CRTSCTS;
    t->c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    if (c->flow & DK_SERIAL_FLOW_XONXOFF)
        t->c_iflag |= IXON | IXOFF;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
    cfsetispeed(t, sp);
    cfsetospeed(t, sp);
    return true;
}

bool dk_serial_cfg_eq(const dk_serial_cfg *a, const dk_serial_cfg *b)
{
    return a->baud == b->baud && a->bits == b->bits && a->parity == b->parity &&
           a->stop == b->stop && a->flow == b->flow;
}

const char *dk_serial_cfg_str(const dk_serial_cfg *c, char *buf, size_t cap)
{
    static const char *flows[] = {"none", "rtscts", "xonxoff", "rtscts+xonxoff"};
    snprintf(buf, cap, "%u %u%c%u %s", (unsigned)c->baud, (unsigned)c->bits, c->parity,
             (unsigned)c->stop, flows[c->flow & 3]);
    return buf;
}

/* ---- an open line ---- */

struct dk_serial {
    char *path;
    int fd;             /* termios, or libserialport's own */
    struct sp_port *sp; /* NULL: termios */
    bool read_only;
    bool signals_ok;
};

static dk_status sp_error(dk_err *err, enum sp_return rc, const char *what)
{
    char *m = sp_last_error_message();
    const char *why = rc == SP_ERR_FAIL && m   ? m
                      : rc == SP_ERR_MEM   ? "out of memory"
                      : rc == SP_ERR_ARG   ? "invalid argument"
                                           : "not supported by the port";
    dk_err_set(err, DK_E_IO, -1, "%s: %s", what, why);
    sp_free_error_message(m);
    return DK_E_IO;
}

static dk_status sp_apply(struct sp_port *sp, const dk_serial_cfg *c, dk_err *err)
{
    struct sp_port_config *pc;
    if (sp_new_config(&pc) != SP_OK)
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    enum sp_parity par = c->parity == 'E'   ? SP_PARITY_EVEN
                         : c->parity == 'O' ? SP_PARITY_ODD
                         : c->parity == 'M' ? SP_PARITY_MARK
                         : c->parity == 'S' ? SP_PARITY_SPACE
                                            : SP_PARITY_NONE;
    enum sp_flowcontrol fc = (c->flow & DK_SERIAL_FLOW_RTSCTS)    ? SP_FLOWCONTROL_RTSCTS
                             : (c->flow & DK_SERIAL_FLOW_XONXOFF) ? SP_FLOWCONTROL_XONXOFF
                                                                  : SP_FLOWCONTROL_NONE;
    enum sp_return rc = sp_set_config_baudrate(pc, (int)c->baud);
    if (rc == SP_OK)
        rc = sp_set_config_bits(pc, c->bits);
    if (rc == SP_OK)
        rc = sp_set_config_parity(pc, par);
    if (rc == SP_OK)
        rc = sp_set_config_stopbits(pc, c->stop);
    if (rc == SP_OK)
        rc = sp_set_config_flowcontrol(pc, fc); /* RTS and DTR follow the flow mode */
    if (rc == SP_OK && c->flow == DK_SERIAL_FLOW_BOTH)
        rc = sp_set_config_xon_xoff(pc, SP_XONXOFF_INOUT);
    if (rc == SP_OK)
        rc = sp_set_config(sp, pc);
    sp_free_config(pc);
    return rc == SP_OK ? DK_OK : sp_error(err, rc, "cannot set line settings");
}

static dk_status tio_apply(int fd, const dk_serial_cfg *c, dk_err *err)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        return dk_err_set(err, DK_E_IO, -1, "not a serial port (not a terminal)");
    if (!dk_serial_cfg_to_termios(c, &t))
        return dk_err_set(err, DK_E_USAGE, -1, "baud %u is not one termios knows", (unsigned)c->baud);
    if (tcsetattr(fd, TCSANOW, &t) < 0)
        return dk_err_set(err, DK_E_IO, -1, "cannot set line settings: %s", strerror(errno));
    return DK_OK;
}

/* A pty goes to termios without asking libserialport (it would look the
 * name up under /sys/class/tty and fail). */
static bool is_pty(const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return false;
    return strncmp(real, "/dev/pts/", 9) == 0 || strcmp(real, "/dev/ptmx") == 0;
}

static dk_status open_sp(dk_serial *s, unsigned flags, dk_err *err)
{
    enum sp_return rc = sp_open(s->sp, (flags & DK_SERIAL_READ_ONLY) ? SP_MODE_READ : SP_MODE_READ_WRITE);
    if (rc != SP_OK) {
        sp_error(err, rc, "cannot open port");
        sp_free_port(s->sp);
        s->sp = NULL;
        return DK_E_IO;
    }
    if (sp_get_port_handle(s->sp, &s->fd) != SP_OK || s->fd < 0) {
        s->fd = -1;
        return dk_err_set(err, DK_E_IO, -1, "cannot open port: no file descriptor");
    }
    s->signals_ok = true;
    return DK_OK;
}

static dk_status open_tio(dk_serial *s, unsigned flags, dk_err *err)
{
    s->fd = open(s->path, ((flags & DK_SERIAL_READ_ONLY) ? O_RDONLY : O_RDWR) | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (s->fd < 0)
        return dk_err_set(err, DK_E_IO, -1, "cannot open port: %s", strerror(errno));
    if (!isatty(s->fd))
        return dk_err_set(err, DK_E_IO, -1, "not a serial port (not a terminal)");
    int bits;
    s->signals_ok = ioctl(s->fd, TIOCMGET, &bits) == 0;
    return DK_OK;
}

dk_serial *dk_serial_open(const char *path, const dk_serial_cfg *c, unsigned flags, dk_err *err)
{
    dk_serial *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->read_only = flags & DK_SERIAL_READ_ONLY;
    struct stat st;
    dk_status rc;
    if (stat(path, &st) < 0)
        rc = dk_err_set(err, DK_E_IO, -1, "cannot open port: %s", strerror(errno));
    else if (!S_ISCHR(st.st_mode))
        rc = dk_err_set(err, DK_E_IO, -1, "not a serial port (not a character device)");
    else if (!is_pty(path) && sp_get_port_by_name(path, &s->sp) == SP_OK)
        rc = open_sp(s, flags, err);
    else
        rc = open_tio(s, flags, err);
    if (rc == DK_OK)
        rc = dk_serial_apply(s, c, err);
    if (rc == DK_OK) {
        int fl = fcntl(s->fd, F_GETFL);
        if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0)
            rc = dk_err_set(err, DK_E_IO, -1, "cannot open port: %s", strerror(errno));
    }
    if (rc != DK_OK) {
        dk_serial_close(s);
        return NULL;
    }
    if (flags & DK_SERIAL_FLUSH_INPUT) {
        if (s->sp)
            sp_flush(s->sp, SP_BUF_INPUT);
        else
            tcflush(s->fd, TCIFLUSH);
    }
    return s;
}

dk_status dk_serial_apply(dk_serial *s, const dk_serial_cfg *c, dk_err *err)
{
    return s->sp ? sp_apply(s->sp, c, err) : tio_apply(s->fd, c, err);
}

dk_status dk_serial_write(dk_serial *s, const uint8_t *buf, size_t len, dk_err *err)
{
    if (s->read_only)
        return dk_err_set(err, DK_E_USAGE, -1, "the port is open read-only");
    if (s->sp) {
        enum sp_return r = sp_blocking_write(s->sp, buf, len, 0);
        if (r < 0 || (size_t)r != len)
            return dk_err_set(err, DK_E_IO, -1, "write failed");
        return DK_OK;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(s->fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = {s->fd, POLLOUT, 0};
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

long dk_serial_read(dk_serial *s, uint8_t *buf, size_t cap, int timeout_ms, dk_err *err)
{
    if (s->sp) {
        /* libserialport reads a timeout of 0 as "wait forever" */
        enum sp_return r = timeout_ms > 0 ? sp_blocking_read_next(s->sp, buf, cap, (unsigned)timeout_ms)
                                          : sp_nonblocking_read(s->sp, buf, cap);
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
            struct pollfd pf = {s->fd, POLLIN, 0};
            int k = poll(&pf, 1, timeout_ms);
            polled = true;
            if (k == 0)
                return 0;
            if (k < 0 && errno != EINTR) {
                dk_err_set(err, DK_E_IO, -1, "poll: %s", strerror(errno));
                return -1;
            }
        }
        ssize_t n = read(s->fd, buf, cap);
        if (n > 0)
            return (long)n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            /* a pty whose master closed reads EIO */
            dk_err_set(err, DK_E_IO, -1, "read: %s", strerror(errno));
            return -1;
        }
        if (timeout_ms <= 0)
            return 0;
        struct pollfd pf = {s->fd, POLLIN, 0};
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

bool dk_serial_signals(dk_serial *s, uint8_t *lines)
{
    if (!s->signals_ok)
        return false;
    uint8_t out = 0;
    if (s->sp) {
        enum sp_signal sig;
        if (sp_get_signals(s->sp, &sig) != SP_OK)
            return false;
        out |= (sig & SP_SIG_CTS) ? DK_LINE_CTS : 0;
        out |= (sig & SP_SIG_DSR) ? DK_LINE_DSR : 0;
        out |= (sig & SP_SIG_DCD) ? DK_LINE_DCD : 0;
        out |= (sig & SP_SIG_RI) ? DK_LINE_RING : 0;
    } else {
        int b;
        if (ioctl(s->fd, TIOCMGET, &b) < 0)
            return false;
        out |= (b & TIOCM_CTS) ? DK_LINE_CTS : 0;
        out |= (b & TIOCM_DSR) ? DK_LINE_DSR : 0;
        out |= (b & TIOCM_CAR) ? DK_LINE_DCD : 0;
        out |= (b & TIOCM_RNG) ? DK_LINE_RING : 0;
    }
    *lines = out;
    return true;
}

bool dk_serial_present(const dk_serial *s)
{
    struct stat st;
    return stat(s->path, &st) == 0;
}

int dk_serial_fd(const dk_serial *s) { return s->fd; }
const char *dk_serial_path(const dk_serial *s) { return s->path; }
bool dk_serial_is_real(const dk_serial *s) { return s->sp != NULL; }
const char *dk_serial_kind(const dk_serial *s) { return s->sp ? "libserialport" : "termios"; }

void dk_serial_close(dk_serial *s)
{
    if (!s)
        return;
    if (s->sp) {
        sp_close(s->sp);
        sp_free_port(s->sp);
    } else if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->path);
    free(s);
}
