/* control.h - dfusim's --control socket: a Unix stream socket, mode 0600
 * whatever the umask, one client at a time, commands one per line (CR LF or
 * LF; ctlcmd.h), answers written back to the client.  This is the socket:
 * it cuts what the client sends into lines and parses them (ctlcmd.c),
 * answers a line that is not a command with "error: ..." itself, and hands
 * each request to the adapter (the callback), which does it and answers.
 *
 * A path that exists is replaced only when it is a stale socket of this
 * user's that nobody listens on (a killed dfusim's); at exit the socket is
 * removed only if it is still the one bound here.
 */
#ifndef DFUKIT_SIM_CONTROL_H
#define DFUKIT_SIM_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "ctlcmd.h"

typedef struct {
    const char *path;
    int fd, conn; /* listening socket, client (-1: none; non-blocking) */
    ino_t ino;
    ds_ctl_lines lines; /* what the client sent, cut into lines */
} ds_ctl;

/* Not open: fd and conn -1 (ds_ctl_close is safe on it). */
void ds_ctl_init(ds_ctl *c);
/* Bind and listen at path.  0, or -1 after one line on stderr. */
int ds_ctl_open(ds_ctl *c, const char *path);
/* Take a new client (poll said fd is readable); an older one is dropped. */
void ds_ctl_accept(ds_ctl *c);
/* Read from the client (poll said conn is readable): each command in what
 * came, in order, to cmd; each line that is not one answered "error: ..."
 * (one line); a blank line passed over; a line longer than DS_CTL_LINE_MAX
 * answered "error: line too long ..." once, as soon as it is, and the rest
 * of it dropped.  A client that closes the connection is dropped after the
 * last line it sent, ended or not; one dropped while answered (it went
 * away, or did not read its answers) has nothing more done. */
void ds_ctl_read(ds_ctl *c, void (*cmd)(void *ctx, const ds_ctl_req *req), void *ctx);
/* Write to the client, if any; a client that cannot take all of it at once
 * (it is gone, or its answers pile up unread) is dropped: dfusim never
 * waits on a client. */
void ds_ctl_write(ds_ctl *c, const char *buf, size_t len);
/* A reply of up to 511 bytes; a longer one is cut and still ends in '\n'. */
void ds_ctl_reply(ds_ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the client, close the socket and remove it if still ours. */
void ds_ctl_close(ds_ctl *c);

#endif
