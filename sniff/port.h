/* port.h - one serial port as dfusniff uses it: a non-blocking fd plus line
 * settings and modem signals.
 *
 * A real port (one libserialport finds under /sys/class/tty) is opened with
 * libserialport; anything else that is a terminal (a pty slave, a tty that
 * libserialport does not list) is opened with plain termios.  Signals:
 * libserialport's sp_get_signals on real ports (CTS, DSR, DCD, RI); TIOCMGET on
 * termios ports, which Linux ptys refuse (ENOTTY): no signals there.
 */
#ifndef DFUSNIFF_PORT_H
#define DFUSNIFF_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"

typedef struct sn_port sn_port;

/* Open path for reading (and writing unless read_only) and set it to l.
 * NULL on failure with one line in err (no newline). */
sn_port *sn_port_open(const char *path, const sn_line *l, bool read_only, char *err, size_t cap);

int sn_port_fd(const sn_port *p);
const char *sn_port_path(const sn_port *p);
bool sn_port_is_real(const sn_port *p); /* opened through libserialport */

/* Apply new settings. 0, or -1 with err filled. */
int sn_port_apply(sn_port *p, const sn_line *l, char *err, size_t cap);

/* Modem signals as DK_LINE_* bits (CTS, DSR, DCD, RING: the inputs).  false
 * when the port cannot report them. */
bool sn_port_signals(sn_port *p, uint8_t *lines);

/* false when the device node has vanished. */
bool sn_port_present(const sn_port *p);

void sn_port_close(sn_port *p);

#endif
