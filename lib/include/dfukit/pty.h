/* pty.h - a pseudo-terminal for a host tool to open as if it were a UART.
 *
 * An I/O adapter, not a core: it calls posix_openpt, termios, poll, read and
 * write, and is kept thin.  dfusim serves its bootloader on one; dfusniff puts
 * one between the host tool and the real port.
 *
 *   host tool --open--> /dev/pts/N (slave, mode 0600) == master <-- the tool
 *                       [--link PATH -> /dev/pts/N]
 *
 * The tool keeps only the master.  The host may open and close the slave any
 * number of times.  What Linux does, and what this module builds on:
 *   - termios calls on the master act on the slave: the host's settings are
 *     read there (dk_pty_cfg, dk_pty_describe), and the initial ones set there;
 *   - while no slave is open (after one has been), the master reads EIO and
 *     polls POLLHUP, at once and every time: leave it out of poll then;
 *   - the master gives no event when a slave opens: look again
 *     (dk_pty_host_open), or watch the slave's IN_OPEN with inotify
 *     (DK_PTY_WATCH_OPEN) to know at once;
 *   - a master that has never had its slave opened looks as if a host had it
 *     open (no POLLHUP) until the first host closes it; DK_PTY_NO_HOST makes a
 *     fresh pty report "no host" from the start instead;
 *   - bytes written to the master while no host has the slave open, and bytes
 *     the last host did not read, wait for the next opener (a UART would have
 *     lost them): write only while a host is there, dk_pty_drop_unread on a
 *     change of host.
 */
#ifndef DFUKIT_PTY_H
#define DFUKIT_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dfukit/err.h"
#include "dfukit/serial.h"

typedef struct {
    int master;      /* non-blocking, close-on-exec; -1 when not open */
    char slave[128]; /* /dev/pts/N */
    char *link;      /* symlink we made (removed by dk_pty_close), or NULL */
    int opened;      /* DK_PTY_WATCH_OPEN: polls readable once the slave has been
                      * opened since the last dk_pty_opened_drain; else -1 */
} dk_pty;

/* A dk_pty not opened yet, safe to dk_pty_close. */
#define DK_PTY_CLOSED ((dk_pty){.master = -1, .opened = -1})

enum {
    DK_PTY_NO_HOST = 1,    /* open and close the slave once: "no host" until one opens it */
    DK_PTY_WATCH_OPEN = 2, /* p->opened: an inotify IN_OPEN watch on the slave (-1 when
                            * inotify refuses: look now and then instead) */
};

/* Create a pty: slave mode 0600, raw with c's settings (NULL: 115200 8N1),
 * master kept (flags: DK_PTY_*).  Errors, DK_E_IO unless said:
 * "cannot create a pty: ...", "/dev/pts/N: cannot set mode 0600: ...",
 * "/dev/pts/N: cannot set line settings: ...", "/dev/pts/N: baud B is not
 * one termios knows" (DK_E_USAGE), "/dev/pts/N: cannot open: ..." (NO_HOST). */
dk_status dk_pty_open(dk_pty *p, const dk_serial_cfg *c, unsigned flags, dk_err *err);

/* Make path a symlink to the slave, atomically.  An existing path is replaced
 * only when it is a symlink into /dev/pts/ (what a killed tool leaves
 * behind).  Anything else is left alone and refused with DK_E_USAGE:
 * "exists and is not a symlink; not replacing it", or "exists and is a
 * symlink to T, not to a pty; not replacing it".  Other failures DK_E_IO,
 * "cannot make the link: ...". */
dk_status dk_pty_link(dk_pty *p, const char *path, dk_err *err);

/* Remove the link if it still points at our slave, close the master and
 * the watch.  Safe on a pty whose open failed and on one closed before
 * (master -1, opened -1). */
void dk_pty_close(dk_pty *p);

/* Read what the host sent.  >0: bytes; 0: nothing right now; -1: no host has
 * the port open (and nothing is left to read); -2: another error (errno). */
ssize_t dk_pty_read(dk_pty *p, uint8_t *buf, size_t cap);

/* Whether a host has the slave open right now (poll reports no hang-up). */
bool dk_pty_host_open(const dk_pty *p);

/* Empty p->opened after it polled readable.  Opens of our own
 * (dk_pty_drop_unread) show there too: check dk_pty_host_open after. */
void dk_pty_opened_drain(dk_pty *p);

/* How a dk_pty_write ended. */
typedef enum {
    DK_PTY_SENT = 0, /* every byte written */
    DK_PTY_STALLED,  /* the host read nothing for timeout_ms (0: the pty is full) */
    DK_PTY_GONE,     /* the host went away (hang-up): no host has the port open now */
    DK_PTY_WOKEN,    /* wake_fd became readable first (a signal, a stop request) */
    DK_PTY_FAILED,   /* write or poll failed (errno) */
} dk_pty_wr;

/* Send bytes to the host, waiting up to timeout_ms at a time while the pty
 * is full; *sent (may be NULL) gets the number written.  A hang-up while
 * waiting is DK_PTY_GONE at once: a host that dies with answers unread
 * leaves the pty full and polling POLLHUP for ever, and the bytes it did not
 * read would wait for the next opener (the caller drops them:
 * dk_pty_drop_unread).  wake_fd (-1: none) is polled too, so a tool's
 * signal pipe ends the wait.  Bytes written while no host has the port open
 * wait in the pty for the next opener: the caller checks first. */
dk_pty_wr dk_pty_write(dk_pty *p, const uint8_t *buf, size_t len, int timeout_ms, int wake_fd,
                       size_t *sent);

/* Throw away what was sent to the host but not read, in the master's queue
 * and in the slave's line discipline (a UART would not keep it for the next
 * opener; a pty does). */
void dk_pty_drop_unread(dk_pty *p);

/* The host's line settings.  false when the master cannot tell. */
bool dk_pty_cfg(const dk_pty *p, dk_serial_cfg *c);

/* The host's line settings as text, e.g. "115200 8N1 raw rtscts" (speed -1
 * when it has no Bxxx constant), or "" if unknown. */
void dk_pty_describe(const dk_pty *p, char *out, size_t cap);

#endif
