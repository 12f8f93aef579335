/* port.h - the host's serial line: a real UART through libserialport, or a
 * pty (and anything libserialport cannot open) through termios.
 *
 * libserialport 0.1.1 looks ports up under /sys/class/tty and so cannot open
 * a pty: /dev/pts/N (also behind a symlink, as dfusim --link makes) goes to
 * termios directly, and any name libserialport does not know falls back to
 * termios.  Both are set to raw 8N1 at the given baud, RTS/CTS when asked.
 */
#ifndef DFUHOST_PORT_H
#define DFUHOST_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/err.h"

typedef struct dh_port dh_port;

/* err names the port and the reason; DK_E_USAGE for an unsupported baud. */
dh_port *dh_port_open(const char *path, unsigned baud, bool flow, dk_err *err);

/* Write all of buf.  DK_OK or DK_E_IO. */
dk_status dh_port_write(dh_port *p, const uint8_t *buf, size_t len, dk_err *err);

/* Read what is there, waiting up to timeout_ms for the first byte: the byte
 * count, 0 on timeout, <0 when the port is gone (err says why). */
long dh_port_read(dh_port *p, uint8_t *buf, size_t cap, int timeout_ms, dk_err *err);

/* "termios" or "libserialport". */
const char *dh_port_kind(const dh_port *p);

void dh_port_close(dh_port *p);

#endif
