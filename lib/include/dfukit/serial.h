/* serial.h - one serial line: open, line settings, read, write, signals.
 *
 * An I/O adapter, not a core: it calls open, read, write, poll, termios and
 * libserialport, and is kept thin.  Tools (dfuhost, dfusniff) use it to reach
 * a real UART, a pty slave or any other terminal.
 *
 * Which backend:
 *   pty           /dev/pts/N, /dev/ptmx, also behind a symlink (dfusim --link,
 *                 dfusniff --link): termios.  libserialport 0.1.1 looks names
 *                 up under /sys/class/tty and cannot open a pty.
 *   real port     a name libserialport knows (/dev/ttyUSB0, /dev/ttyACM0,
 *                 /dev/ttyS0): libserialport.
 *   anything else that is a character device and a terminal: termios.
 *
 * Line settings (dk_serial_cfg) and the termios fields that carry them:
 *
 *   field    termios                               values
 *   baud     cfgetospeed / cfsetospeed (Bxxx)      B0..B4000000; no BOTHER rates
 *   bits     c_cflag CSIZE                         CS5..CS8
 *   parity   c_cflag PARENB, PARODD, CMSPAR        N E O M(ark) S(pace)
 *   stop     c_cflag CSTOPB                        1 or 2
 *   flow     c_cflag CRTSCTS, c_iflag IXON|IXOFF   none, rtscts, xonxoff, both
 *
 * A line is always raw (no echo, no translation, CREAD | CLOCAL).  Linux ptys
 * force 8 data bits and no parity on every tcsetattr: on a pty only baud, stop
 * bits and flow control stick.
 *
 * Errors: one line in dk_err without the port name (the caller prints
 * "TOOL: PORT: MESSAGE"); DK_E_IO when the system or libserialport refused,
 * DK_E_USAGE for a baud termios has no constant for and for a write on a
 * read-only line.
 */
#ifndef DFUKIT_SERIAL_H
#define DFUKIT_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "dfukit/err.h"

/* ---- line settings (pure: no file descriptors) ---- */

typedef enum {
    DK_SERIAL_FLOW_NONE = 0,
    DK_SERIAL_FLOW_RTSCTS = 1,
    DK_SERIAL_FLOW_XONXOFF = 2,
    DK_SERIAL_FLOW_BOTH = 3, /* RTSCTS | XONXOFF */
} dk_serial_flow;

typedef struct {
    uint32_t baud;       /* bits per second; 0 = hang up (B0) */
    uint8_t bits;        /* 5..8 */
    char parity;         /* 'N', 'E', 'O', 'M' (mark), 'S' (space) */
    uint8_t stop;        /* 1 or 2 */
    dk_serial_flow flow;
} dk_serial_cfg;

/* baud 8N1, no flow control. */
dk_serial_cfg dk_serial_cfg_default(uint32_t baud);

/* Baud rate <-> termios speed constant; 0 when there is no constant
 * (dk_serial_speed_of_baud(0) is 0 too: B0 is not a rate). */
uint32_t dk_serial_baud_of_speed(speed_t s);
speed_t dk_serial_speed_of_baud(uint32_t baud);

/* The settings a termios carries. */
dk_serial_cfg dk_serial_cfg_from_termios(const struct termios *t);

/* Make t a raw line (VMIN 1, VTIME 0) with c's settings.  false when c->baud
 * has no termios constant (t untouched). */
bool dk_serial_cfg_to_termios(const dk_serial_cfg *c, struct termios *t);

bool dk_serial_cfg_eq(const dk_serial_cfg *a, const dk_serial_cfg *b);

/* "115200 8N1 rtscts" (flow: none, rtscts, xonxoff, rtscts+xonxoff). */
const char *dk_serial_cfg_str(const dk_serial_cfg *c, char *buf, size_t cap);

/* ---- an open line ---- */

typedef struct dk_serial dk_serial;

enum {
    DK_SERIAL_READ_ONLY = 1,   /* open for reading only; dk_serial_write refuses */
    DK_SERIAL_FLUSH_INPUT = 2, /* drop what the port received before it was opened */
};

/* Open path (flags: DK_SERIAL_*) and set it to c.  The descriptor is
 * non-blocking and close-on-exec.  NULL on failure:
 *   "cannot open port: ..."                       DK_E_IO (also libserialport's reason)
 *   "not a serial port (not a character device)"  DK_E_IO
 *   "not a serial port (not a terminal)"          DK_E_IO
 *   "baud N is not one termios knows"             DK_E_USAGE
 *   "cannot set line settings: ..."               DK_E_IO */
dk_serial *dk_serial_open(const char *path, const dk_serial_cfg *c, unsigned flags, dk_err *err);

/* Apply new settings to an open line.  DK_OK, or the errors of open. */
dk_status dk_serial_apply(dk_serial *s, const dk_serial_cfg *c, dk_err *err);

/* Read what is there, waiting up to timeout_ms (0: do not wait) for the first
 * byte: the byte count, 0 on timeout, -1 when the line is gone (err: "read:
 * ...", "the other end closed the line"; a pty whose master closed reads EIO
 * or hangs up). */
long dk_serial_read(dk_serial *s, uint8_t *buf, size_t cap, int timeout_ms, dk_err *err);

/* Write all of buf, waiting while the port is full.  DK_OK; DK_E_IO when the
 * port takes nothing for 5 s ("write stalled for 5 s (flow control?)") or the
 * other end is gone; DK_E_USAGE on a line opened read-only. */
dk_status dk_serial_write(dk_serial *s, const uint8_t *buf, size_t len, dk_err *err);

/* The input control lines as DK_LINE_CTS | DSR | DCD | RING bits (capfile.h):
 * libserialport's signals on a real port, TIOCMGET on a termios port.  false
 * when the port cannot report them (Linux ptys refuse TIOCMGET). */
bool dk_serial_signals(dk_serial *s, uint8_t *lines);

/* false once the device node is gone (a USB adapter unplugged). */
bool dk_serial_present(const dk_serial *s);

/* The descriptor, for poll; reads and writes on it are the caller's. */
int dk_serial_fd(const dk_serial *s);
const char *dk_serial_path(const dk_serial *s);
bool dk_serial_is_real(const dk_serial *s); /* opened through libserialport */
const char *dk_serial_kind(const dk_serial *s); /* "libserialport" or "termios" */

void dk_serial_close(dk_serial *s);

#endif
