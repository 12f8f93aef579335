/* file.h - the one way dfukit's tools create the files they write:
 * captures (--capture, -w), HEX dumps (--dump-hex and the control
 * channel's dump-hex), the flash file (--flash), scenarios (--scenario),
 * keys and packages (test tools).
 *
 * Captures hold the whole firmware and every tool may run in a shared
 * directory, so:
 *   - a symlink at the last component is never followed (O_NOFOLLOW): a link
 *     planted in /tmp would aim the write at any file the user may write.
 *     Refused: "is a symbolic link: not writing through it";
 *   - a new file is created mode 0600 whatever the umask;
 *   - an existing regular file is overwritten (truncated: tcpdump -w's
 *     convention) and keeps its mode and owner; DK_FILE_KEEP opens it
 *     read-write as it is (--flash);
 *   - in a shared directory (sticky, writable by others: /tmp), an existing
 *     file that belongs to neither us nor the directory's owner, or a
 *     regular file with more than one hard link, is refused: only someone
 *     else can have put it there ("belongs to uid N, not to us: not writing
 *     into it", "has N hard links: not writing into it").  The kernel's
 *     fs.protected_regular=2 and protected_hardlinks, whatever the sysctls;
 *   - a directory is refused ("is a directory"); so is anything else that is
 *     not a regular file ("is a FIFO, not a regular file", "is not a regular
 *     file"), except where the caller takes a stream (DK_FILE_STREAM): a
 *     FIFO (`-w fifo` pipes a capture into Wireshark; the open waits for the
 *     reader, as tcpdump's does) or a character device (/dev/null).
 * A path of "-" (standard output) is the caller's business.
 */
#ifndef DFUKIT_FILE_H
#define DFUKIT_FILE_H

#include <stdio.h>

#include "dfukit/err.h"

enum {
    DK_FILE_STREAM = 1, /* a FIFO (the open waits for its reader) or a character device */
    DK_FILE_KEEP = 2, /* open read-write, keep what the file holds */
};

/* Open path for writing as above: a blocking, close-on-exec descriptor, or
 * -1 with err set (DK_E_IO; DK_E_USAGE for a symlink, a directory or a file
 * of the wrong type or owner).  Messages leave the path to the caller
 * (dk_err_print): "cannot create: REASON" when the system refuses. */
int dk_file_create(const char *path, unsigned flags, dk_err *err);

/* The same as a stream: "wb", or "r+b" with DK_FILE_KEEP.  NULL on error. */
FILE *dk_file_fopen(const char *path, unsigned flags, dk_err *err);

#endif
