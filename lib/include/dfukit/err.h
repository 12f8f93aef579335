/* err.h - the one error report every lib call fills in.
 *
 * Functions that can fail take a dk_err * (may be NULL) and return a negative
 * dk_status.  The message is one line, without the file name: tools print
 * "TOOL: FILE: offset N: MESSAGE" from it (dk_err_print).
 */
#ifndef DFUKIT_ERR_H
#define DFUKIT_ERR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    DK_OK = 0,
    DK_E_IO = -1,        /* the operating system refused (open, read, write) */
    DK_E_FORMAT = -2,    /* the input is not what it claims to be */
    DK_E_TRUNCATED = -3, /* the input ends too early */
    DK_E_RANGE = -4,     /* a value or length is out of range */
    DK_E_NOMEM = -5,
    DK_E_UNSUPPORTED = -6,
    DK_E_VERIFY = -7,    /* a hash or signature check failed */
    DK_E_USAGE = -8,
} dk_status;

typedef struct {
    dk_status status;
    bool has_offset;
    uint64_t offset; /* byte offset in the input the message refers to */
    char msg[256];
} dk_err;

/* Fill err (if not NULL) and return status. offset < 0: no offset.  The
 * message is one line: control bytes in it (from a name or spec it quotes)
 * become '?'. */
dk_status dk_err_set(dk_err *err, dk_status status, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "TOOL: FILE: offset N: MESSAGE\n" (parts left out when absent). */
void dk_err_print(FILE *out, const char *tool, const char *file, const dk_err *err);

#endif
