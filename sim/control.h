/* control.h - dfusim's --control socket: a Unix stream socket, mode 0600
 * whatever the umask, one client at a time, commands one per line (CR LF or
 * LF), answers written back to the client.  What a command does is the
 * adapter's (the callback); this is the socket and its lines.
 *
 * A path that exists is replaced only when it is a stale socket of this
 * user's that nobody listens on (a killed dfusim's); at exit the socket is
 * removed only if it is still the one bound here.
 */
#ifndef DFUKIT_SIM_CONTROL_H
#define DFUKIT_SIM_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    const char *path;
    int fd, conn; /* listening socket, client (-1: none) */
    ino_t ino;
    char buf[512];
    size_t len;
} ds_ctl;

/* Not open: fd and conn -1 (ds_ctl_close is safe on it). */
void ds_ctl_init(ds_ctl *c);
/* Bind and listen at path.  0, or -1 after one line on stderr. */
int ds_ctl_open(ds_ctl *c, const char *path);
/* Take a new client (poll said fd is readable); an older one is dropped. */
void ds_ctl_accept(ds_ctl *c);
/* Read from the client (poll said conn is readable) and call cmd for each
 * complete non-empty line, without its line end.  A closed client is
 * dropped; a line longer than the buffer is answered with an error. */
void ds_ctl_read(ds_ctl *c, void (*cmd)(void *ctx, char *line), void *ctx);
/* Write to the client, if any; a client that cannot take it is dropped. */
void ds_ctl_write(ds_ctl *c, const char *buf, size_t len);
void ds_ctl_reply(ds_ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the client, close the socket and remove it if still ours. */
void ds_ctl_close(ds_ctl *c);

#endif
