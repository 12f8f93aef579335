/* input.h - an input file or stream read once, front to back: its first
 * bytes are looked at (to tell the format) and then handed to the reader
 * followed by the rest.
 *
 * Works the same on a regular file, standard input ("-"), a pipe, a FIFO or
 * a process substitution (/dev/fd/N): nothing is rewound and nothing is
 * opened twice, so no byte is lost on an input that cannot seek.  Reads go
 * through read(2): a read returns what the input has (at least one byte,
 * unless at its end), so a live stream is decoded as it comes.
 */
#ifndef DFUKIT_INPUT_H
#define DFUKIT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/err.h"

#define DK_INPUT_HEAD 4096 /* bytes dk_input_peek can keep */

typedef struct dk_input dk_input;

/* Open path ("-": standard input, left open at close).  Reads nothing.
 * NULL with err ("cannot open: ...", no offset). */
dk_input *dk_input_open(const char *path, dk_err *err);
void dk_input_close(dk_input *in);

/* The first min(n, DK_INPUT_HEAD) bytes of the input, read now if they were
 * not yet (blocking until they came or the input ended): *head and *len (less
 * than asked: the input is that short).  They stay to be read again: the
 * next dk_input_read starts at byte 0.  Only before the first dk_input_read.
 * DK_OK, or DK_E_IO ("read error: ...", offset 0) / DK_E_USAGE. */
dk_status dk_input_peek(dk_input *in, size_t n, const uint8_t **head, size_t *len, dk_err *err);

/* Up to cap bytes: what was peeked and not yet read, then one read(2) for
 * the rest of cap (what the input has now; on a regular file, all of it).
 * Returns how many (0: the end, or an error: dk_input_failed). */
size_t dk_input_read(dk_input *in, uint8_t *buf, size_t cap);

/* The last read failed; errno's value then is dk_input_errno. */
bool dk_input_failed(const dk_input *in);
int dk_input_errno(const dk_input *in);

/* Bytes handed out by dk_input_read so far (the offset of the next one). */
uint64_t dk_input_pos(const dk_input *in);

#endif
