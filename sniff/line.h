/* line.h - serial line settings as dfusniff moves them from the host's pty to
 * the real port: baud, data bits, parity, stop bits, flow control.
 *
 *   termios field   what it carries
 *   c_cflag         CSIZE (CS5..CS8), PARENB, PARODD, CMSPAR, CSTOPB, CRTSCTS
 *   c_iflag         IXON / IXOFF (software flow control)
 *   speed           B50..B4000000 (cfgetospeed); no BOTHER custom rates
 *
 * Pure conversions only: no file descriptors here.
 */
#ifndef DFUSNIFF_LINE_H
#define DFUSNIFF_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

typedef enum {
    SN_FLOW_NONE = 0,
    SN_FLOW_RTSCTS = 1,
    SN_FLOW_XONXOFF = 2,
    SN_FLOW_BOTH = 3, /* RTSCTS | XONXOFF */
} sn_flow;

typedef struct {
    uint32_t baud;   /* bits per second; 0 = hang up (B0) */
    uint8_t bits;    /* 5..8 */
    char parity;     /* 'N', 'E', 'O', 'M' (mark), 'S' (space) */
    uint8_t stop;    /* 1 or 2 */
    sn_flow flow;
} sn_line;

/* 115200 8N1, no flow control. */
sn_line sn_line_default(uint32_t baud);

/* Baud rate <-> termios speed constant.  0 when there is no constant. */
uint32_t sn_baud_of_speed(speed_t s);
speed_t sn_speed_of_baud(uint32_t baud);

/* Read the settings a termios carries. */
sn_line sn_line_from_termios(const struct termios *t);

/* Make t a raw line (no echo, no translation, CREAD | CLOCAL) with l's
 * settings. false when l->baud has no termios constant (t untouched). */
bool sn_line_to_termios(const sn_line *l, struct termios *t);

bool sn_line_eq(const sn_line *a, const sn_line *b);

/* "115200 8N1 rtscts" */
const char *sn_line_str(const sn_line *l, char *buf, size_t cap);

#endif
