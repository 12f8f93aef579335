/* pty.h - the simulator's serial port: the master side of a pseudo-terminal.
 *
 * The host opens the slave (/dev/pts/N, mode 0600) as if it were a UART, any
 * number of times.  dfusim keeps only the master: while no slave is open the
 * master reads EIO and polls POLLHUP, which dk_pty_read reports as "no host"
 * (the caller then sleeps a little instead of spinning).  Termios settings the
 * host makes are visible through the master (dk_pty_describe).  An inotify
 * watch on the slave (IN_OPEN) tells at once when a host opens it.
 */
#ifndef DFUSIM_PTY_H
#define DFUSIM_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dfukit/err.h"

typedef struct {
    int master;        /* non-blocking, close-on-exec */
    char slave[128];   /* /dev/pts/N */
    char *link;        /* symlink we made (removed by dk_pty_close), or NULL */
    int opened;        /* polls readable once the slave is opened (inotify), or -1 */
} dk_pty;

/* openpty, slave set raw and chmod 0600, slave fd closed, master kept. */
dk_status dk_pty_open(dk_pty *p, dk_err *err);

/* Make path a symlink to the slave.  An existing path is replaced only when
 * it is a symlink into /dev/pts/ (what dfusim leaves behind when killed);
 * anything else is refused with DK_E_USAGE. */
dk_status dk_pty_link(dk_pty *p, const char *path, dk_err *err);

/* Close the master and remove the link if it still points at our slave. */
void dk_pty_close(dk_pty *p);

/* Read what the host sent.  >0: bytes; 0: nothing right now; -1: no host has
 * the port open (and nothing is left to read); -2: another error (errno). */
ssize_t dk_pty_read(dk_pty *p, uint8_t *buf, size_t cap);

/* Whether a host has the slave open right now (poll without POLLHUP). */
bool dk_pty_host_open(const dk_pty *p);

/* Empty p->opened after it polled readable. */
void dk_pty_opened_drain(dk_pty *p);

/* Send bytes to the host.  Returns the number written: len, or less when the
 * host stopped reading for timeout_ms.  Bytes written while no host has the
 * port open wait in the pty for the next opener: the caller checks first. */
size_t dk_pty_write(dk_pty *p, const uint8_t *buf, size_t len, int timeout_ms);

/* Throw away what was sent but not read (the host closed the port: a UART
 * would not keep it for the next opener; a pty does). */
void dk_pty_drop_unread(dk_pty *p);

/* The host's line settings, e.g. "115200 8N1 raw rtscts", or "" if unknown. */
void dk_pty_describe(const dk_pty *p, char *out, size_t cap);

#endif
