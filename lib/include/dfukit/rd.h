/* rd.h - bounds-checked little-endian cursor for every parse in dfukit.
 *
 * A read past the end never touches memory: it sets rd->err, returns 0 and
 * leaves the cursor at the end.  Check dk_rd_ok() once after a run of reads.
 * Also: little-endian/big-endian writers and a hex digit's value.
 */
#ifndef DFUKIT_RD_H
#define DFUKIT_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err; /* a read ran past the end */
} dk_rd;

static inline dk_rd dk_rd_make(const uint8_t *p, size_t len)
{
    dk_rd r = { p, len, 0, false };
    return r;
}

static inline size_t dk_rd_left(const dk_rd *r) { return r->len - r->pos; }
static inline bool dk_rd_ok(const dk_rd *r) { return !r->err; }

static inline bool dk_rd_need(dk_rd *r, size_t n)
{
    if (r->err || dk_rd_left(r) < n) {
        r->err = true;
        r->pos = r->len;
        return false;
    }
    return true;
}

static inline uint8_t dk_rd_u8(dk_rd *r)
{
    if (!dk_rd_need(r, 1))
        return 0;
    return r->p[r->pos++];
}

static inline uint16_t dk_rd_le16(dk_rd *r)
{
    if (!dk_rd_need(r, 2))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 2;
    return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t dk_rd_le32(dk_rd *r)
{
    if (!dk_rd_need(r, 4))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline uint32_t dk_rd_be32(dk_rd *r)
{
    if (!dk_rd_need(r, 4))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

/* Pointer to the next n bytes (advancing), or NULL when fewer remain. */
static inline const uint8_t *dk_rd_bytes(dk_rd *r, size_t n)
{
    if (!dk_rd_need(r, n))
        return NULL;
    const uint8_t *b = r->p + r->pos;
    r->pos += n;
    return b;
}

/* Little-endian writers for encoders; the caller sizes the buffer. */
static inline uint8_t *dk_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static inline uint8_t *dk_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

static inline uint8_t *dk_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Value of one hex digit character (0-9, a-f, A-F), or -1 for anything else
 * (EOF included), for the text forms dfukit reads (logs, scenarios). */
static inline int dk_hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

#endif
