/* port.c - serial ports through libserialport or termios (see port.h). */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "dfukit/capfile.h"

struct sn_port {
    char *path;
    int fd;
    struct sp_port *sp; /* NULL: termios port */
    bool signals_ok;
};

static int sp_apply(struct sp_port *sp, const sn_line *l, char *err, size_t cap)
{
    struct sp_port_config *c;
    if (sp_new_config(&c) != SP_OK) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    enum sp_parity par = l->parity == 'E'   ? SP_PARITY_EVEN
                         : l->parity == 'O' ? SP_PARITY_ODD
                         : l->parity == 'M' ? SP_PARITY_MARK
                         : l->parity == 'S' ? SP_PARITY_SPACE
                                            : SP_PARITY_NONE;
    enum sp_flowcontrol fc = (l->flow & SN_FLOW_RTSCTS) ? SP_FLOWCONTROL_RTSCTS
                             : (l->flow & SN_FLOW_XONXOFF) ? SP_FLOWCONTROL_XONXOFF
                                                            : SP_FLOWCONTROL_NONE;
    int rc = SP_OK;
    if (rc == SP_OK)
        rc = sp_set_config_baudrate(c, (int)l->baud);
    if (rc == SP_OK)
        rc = sp_set_config_bits(c, l->bits);
    if (rc == SP_OK)
        rc = sp_set_config_parity(c, par);
    if (rc == SP_OK)
        rc = sp_set_config_stopbits(c, l->stop);
    if (rc == SP_OK)
        rc = sp_set_config_flowcontrol(c, fc); /* also sets DTR on, RTS per flow */
    if (rc == SP_OK && l->flow == SN_FLOW_BOTH)
        rc = sp_set_config_xon_xoff(c, SP_XONXOFF_INOUT);
    if (rc == SP_OK)
        rc = sp_set_config(sp, c);
    sp_free_config(c);
    if (rc != SP_OK) {
        char *m = sp_last_error_message();
        snprintf(err, cap, "cannot set line settings: %s", rc == SP_ERR_FAIL && m ? m : "not supported by the port");
        sp_free_error_message(m);
        return -1;
    }
    return 0;
}

static int tio_apply(int fd, const sn_line *l, char *err, size_t cap)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0) {
        snprintf(err, cap, "not a terminal: %s", strerror(errno));
        return -1;
    }
    if (!sn_line_to_termios(l, &t)) {
        snprintf(err, cap, "unsupported baud rate %u", (unsigned)l->baud);
        return -1;
    }
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        snprintf(err, cap, "cannot set line settings: %s", strerror(errno));
        return -1;
    }
    return 0;
}

sn_port *sn_port_open(const char *path, const sn_line *l, bool read_only, char *err, size_t cap)
{
    sn_port *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path))) {
        free(p);
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    p->fd = -1;
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, cap, "cannot open port: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISCHR(st.st_mode)) {
        snprintf(err, cap, "not a serial port (not a character device)");
        goto fail;
    }
    if (sp_get_port_by_name(path, &p->sp) == SP_OK) {
        if (sp_open(p->sp, read_only ? SP_MODE_READ : SP_MODE_READ_WRITE) != SP_OK) {
            char *m = sp_last_error_message();
            snprintf(err, cap, "cannot open port: %s", m ? m : "unknown error");
            sp_free_error_message(m);
            sp_free_port(p->sp);
            p->sp = NULL;
            goto fail;
        }
        if (sp_get_port_handle(p->sp, &p->fd) != SP_OK || p->fd < 0) {
            snprintf(err, cap, "cannot get the port's file descriptor");
            goto fail;
        }
        if (sp_apply(p->sp, l, err, cap) < 0)
            goto fail;
        p->signals_ok = true;
    } else {
        p->sp = NULL;
        p->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (p->fd < 0) {
            snprintf(err, cap, "cannot open port: %s", strerror(errno));
            goto fail;
        }
        if (!isatty(p->fd)) {
            snprintf(err, cap, "not a serial port (not a terminal)");
            goto fail;
        }
        if (tio_apply(p->fd, l, err, cap) < 0)
            goto fail;
        int bits;
        p->signals_ok = ioctl(p->fd, TIOCMGET, &bits) == 0;
    }
    int fl = fcntl(p->fd, F_GETFL);
    if (fl < 0 || fcntl(p->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, cap, "cannot make the port non-blocking: %s", strerror(errno));
        goto fail;
    }
    return p;
fail:
    sn_port_close(p);
    return NULL;
}

int sn_port_fd(const sn_port *p) { return p->fd; }
const char *sn_port_path(const sn_port *p) { return p->path; }
bool sn_port_is_real(const sn_port *p) { return p->sp != NULL; }

int sn_port_apply(sn_port *p, const sn_line *l, char *err, size_t cap)
{
    return p->sp ? sp_apply(p->sp, l, err, cap) : tio_apply(p->fd, l, err, cap);
}

bool sn_port_signals(sn_port *p, uint8_t *lines)
{
    if (!p->signals_ok)
        return false;
    uint8_t out = 0;
    if (p->sp) {
        enum sp_signal s;
        if (sp_get_signals(p->sp, &s) != SP_OK)
            return false;
        out |= (s & SP_SIG_CTS) ? DK_LINE_CTS : 0;
        out |= (s & SP_SIG_DSR) ? DK_LINE_DSR : 0;
        out |= (s & SP_SIG_DCD) ? DK_LINE_DCD : 0;
        out |= (s & SP_SIG_RI) ? DK_LINE_RING : 0;
    } else {
        int b;
        if (ioctl(p->fd, TIOCMGET, &b) < 0)
            return false;
        out |= (b & TIOCM_CTS) ? DK_LINE_CTS : 0;
        out |= (b & TIOCM_DSR) ? DK_LINE_DSR : 0;
        out |= (b & TIOCM_CAR) ? DK_LINE_DCD : 0;
        out |= (b & TIOCM_RNG) ? DK_LINE_RING : 0;
    }
    *lines = out;
    return true;
}

bool sn_port_present(const sn_port *p)
{
    struct stat st;
    return stat(p->path, &st) == 0;
}

void sn_port_close(sn_port *p)
{
    if (!p)
        return;
    if (p->sp) {
        sp_close(p->sp);
        sp_free_port(p->sp);
    } else if (p->fd >= 0) {
        close(p->fd);
    }
    free(p->path);
    free(p);
}
