/* fuzz_util.h - what the libFuzzer targets share: an invariant check that
 * aborts (so libFuzzer keeps the input), error checks, an input cursor, and
 * an in-memory file (memfd) that readers open by path without disk I/O. */
#ifndef DFUKIT_FUZZ_UTIL_H
#define DFUKIT_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dfukit/err.h"

#define CHECK(c)                                                                       \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "%s: invariant failed: %s (line %d)\n", __FILE__, #c, __LINE__); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* An error is one line that fits its buffer, and its offset (if any) lies
 * within the input of size bytes (the end itself names a truncation). */
static inline void fz_check_err(const dk_err *e, uint64_t size)
{
    CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL);
    CHECK(strchr(e->msg, '\n') == NULL);
    CHECK(!e->has_offset || e->offset <= size);
}

/* A cursor over the input: bytes run out as zeros. */
typedef struct {
    const uint8_t *p;
    size_t n, i;
} fz_in;

static inline bool fz_left(const fz_in *in)
{
    return in->i < in->n;
}

static inline uint8_t fz_u8(fz_in *in)
{
    return in->i < in->n ? in->p[in->i++] : 0;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

/* Up to want bytes from the cursor: *len gets how many there were. */
static inline const uint8_t *fz_bytes(fz_in *in, size_t want, size_t *len)
{
    size_t k = in->n - in->i < want ? in->n - in->i : want;
    const uint8_t *p = in->p + in->i;
    in->i += k;
    *len = k;
    return p;
}

/* An in-memory file with a path: created once, refilled each run. */
typedef struct {
    int fd;
    char path[64];
} fz_memfile;

static inline void fz_memfile_init(fz_memfile *m, const char *name)
{
    m->fd = memfd_create(name, MFD_CLOEXEC);
    CHECK(m->fd >= 0);
    snprintf(m->path, sizeof m->path, "/proc/self/fd/%d", m->fd);
}

static inline void fz_memfile_set(fz_memfile *m, const uint8_t *data, size_t len)
{
    CHECK(ftruncate(m->fd, 0) == 0);
    size_t done = 0;
    while (done < len) {
        ssize_t k = pwrite(m->fd, data + done, len - done, (off_t)done);
        CHECK(k > 0);
        done += (size_t)k;
    }
}

/* A FILE that discards what is written (the printers' text output). */
static inline FILE *fz_null(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    CHECK(f);
    return f;
}

#endif
