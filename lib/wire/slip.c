/* slip.c - streaming SLIP encoder and deframer (see slip.h for the layout). */
#include "dfukit/slip.h"

#include <string.h>
#if defined(__SSE2__) && !defined(DK_SLIP_PORTABLE)
#define DK_SLIP_SSE2 1
#include <emmintrin.h>
#endif

enum { ST_DATA, ST_ESC, ST_DISCARD_BAD, ST_DISCARD_LONG };

size_t dk_slip_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t *o = out;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (b == DK_SLIP_END) {
            *o++ = DK_SLIP_ESC;
            *o++ = DK_SLIP_ESC_END;
        } else if (b == DK_SLIP_ESC) {
            *o++ = DK_SLIP_ESC;
            *o++ = DK_SLIP_ESC_ESC;
        } else {
            *o++ = b;
        }
    }
    *o++ = DK_SLIP_END;
    return (size_t)(o - out);
}

void dk_slip_dec_init(dk_slip_dec *d, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->buf = buf;
    d->cap = cap;
    d->state = ST_DATA;
}

void dk_slip_dec_device_mode(dk_slip_dec *d, bool on)
{
    d->device_mode = on;
}

void dk_slip_dec_set_pos(dk_slip_dec *d, uint64_t pos)
{
    if (d->raw_in_frame == 0)
        d->frame_start = pos;
    d->pos = pos;
}

void dk_slip_dec_reset(dk_slip_dec *d)
{
    d->len = 0;
    d->raw_in_frame = 0;
    d->state = ST_DATA;
    d->frame_start = d->pos;
}

static void fill(const dk_slip_dec *d, dk_slip_kind kind, uint64_t end, dk_slip_event *ev)
{
    *ev = (dk_slip_event){
        .kind = kind,
        .data = d->buf,
        .len = d->len,
        .start = d->frame_start,
        .end = end,
        .bad_at = d->bad_at,
        .raw_len = d->raw_in_frame,
        .first = !d->seen_end,
    };
}

#ifdef DK_SLIP_SSE2
/* Bit k set: byte k of x is END or ESC. */
static inline unsigned special_mask(__m128i x)
{
    const __m128i vend = _mm_set1_epi8((char)DK_SLIP_END), vesc = _mm_set1_epi8((char)DK_SLIP_ESC);
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, vend), _mm_cmpeq_epi8(x, vesc)));
}
#else
#define ONES 0x0101010101010101u
/* Some byte of w is END or ESC (exact: a zero byte of w ^ END or w ^ ESC). */
static inline bool word_special(uint64_t w)
{
    uint64_t a = w ^ (ONES * DK_SLIP_END), b = w ^ (ONES * DK_SLIP_ESC);
    return (((a - ONES) & ~a) | ((b - ONES) & ~b)) & (ONES << 7);
}
#endif

/* Length of the run of p[0, n) in front of its first END or ESC. */
__attribute__((always_inline)) static inline size_t scan_plain(const uint8_t *p, size_t n)
{
    size_t i = 0;
#ifdef DK_SLIP_SSE2
    for (; i + 32 <= n; i += 32) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
        unsigned m = special_mask(x) | special_mask(y) << 16;
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    for (; i + 16 <= n; i += 16) {
        unsigned m = special_mask(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#else
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (word_special(w))
            break; /* the bytes below find it */
    }
#endif
    while (i < n && p[i] != DK_SLIP_END && p[i] != DK_SLIP_ESC)
        i++;
    return i;
}

/* Copy the bytes in front of the first END or ESC of p[0, n) to out (room
 * bytes at most); returns how many.  Each block is stored whole (within
 * room) before its special byte is looked for. */
__attribute__((always_inline)) static inline size_t copy_plain(const uint8_t *p, size_t n, uint8_t *out, size_t room)
{
    size_t i = 0;
    if (n > room)
        n = room;
#ifdef DK_SLIP_SSE2
    for (; i + 32 <= n; i += 32) { /* two blocks a step: half the loop branches */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
        _mm_storeu_si128((__m128i *)(void *)(out + i), x);
        _mm_storeu_si128((__m128i *)(void *)(out + i + 16), y);
        unsigned m = special_mask(x) | special_mask(y) << 16;
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        _mm_storeu_si128((__m128i *)(void *)(out + i), x);
        unsigned m = special_mask(x);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#else
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        memcpy(out + i, &w, 8);
        if (word_special(w))
            break; /* the bytes below find it */
    }
#endif
    for (; i < n && p[i] != DK_SLIP_END && p[i] != DK_SLIP_ESC; i++)
        out[i] = p[i];
    return i;
}

/* Decode plain bytes and valid escapes of p[0, n) into buf at *len (cap
 * bytes at most), in one pass; returns the raw bytes used.  Stops in front
 * of an END, a bad or cut escape, or a byte that finds no room. */
__attribute__((always_inline)) static inline size_t decode_run(const uint8_t *p, size_t n, uint8_t *buf, size_t cap, size_t *len)
{
    size_t i = 0, o = *len;
    for (;;) {
        size_t k = copy_plain(p + i, n - i, buf + o, cap - o);
        i += k;
        o += k;
        if (i + 1 >= n || p[i] != DK_SLIP_ESC || o == cap)
            break;
        uint8_t b = p[i + 1];
        if (b != DK_SLIP_ESC_END && b != DK_SLIP_ESC_ESC)
            break;
        buf[o++] = b == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
        i += 2;
    }
    *len = o;
    return i;
}

/* Everything but a whole frame between frames: one byte's decision at a
 * time, runs in one pass.  in[0, i) is already taken into d. */
__attribute__((noinline)) static bool next_slow(dk_slip_dec *d, const uint8_t *in, size_t n,
                                                size_t i, size_t *used, dk_slip_event *ev)
{
    bool got = false;
    while (i < n) {
        if (d->state == ST_DATA) {
            size_t k = decode_run(in + i, n - i, d->buf, d->cap, &d->len);
            d->raw_in_frame += k;
            i += k;
        } else if (d->state != ST_ESC) { /* discarding: up to END */
            const uint8_t *e = memchr(in + i, DK_SLIP_END, n - i);
            size_t j = e ? (size_t)(e - in) : n;
            d->raw_in_frame += j - i;
            i = j;
        }
        if (i == n)
            break;
        /* in[i] is END, or what decode_run left: an ESC, a plain byte with
         * no room; or the byte after an ESC */
        uint8_t b = in[i];
        uint64_t at = d->pos + i;
        i++;
        d->raw_in_frame++;
        if (b == DK_SLIP_END) {
            if (d->state == ST_ESC && d->device_mode) {
                d->bad_at = at; /* the END itself is the bad escape: keep discarding */
                d->state = ST_DISCARD_BAD;
                continue;
            }
            dk_slip_kind kind = DK_SLIP_FRAME;
            if (d->state == ST_DISCARD_BAD)
                kind = DK_SLIP_BAD_ESCAPE;
            else if (d->state == ST_DISCARD_LONG)
                kind = DK_SLIP_TOO_LONG;
            else if (d->state == ST_ESC) {
                d->bad_at = at;
                kind = DK_SLIP_BAD_ESCAPE;
            } else if (d->len == 0)
                kind = DK_SLIP_EMPTY;
            fill(d, kind, at + 1, ev);
            d->seen_end = true;
            d->len = 0;
            d->raw_in_frame = 0;
            d->state = ST_DATA;
            got = true;
            break;
        }
        if (d->state == ST_DATA) {
            d->state = b == DK_SLIP_ESC ? ST_ESC : ST_DISCARD_LONG;
        } else if (b == DK_SLIP_ESC_END || b == DK_SLIP_ESC_ESC) { /* after ESC */
            if (d->len < d->cap) {
                d->buf[d->len++] = b == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
                d->state = ST_DATA;
            } else {
                d->state = ST_DISCARD_LONG;
            }
        } else {
            d->bad_at = at;
            d->state = ST_DISCARD_BAD;
        }
    }
    d->pos += i;
    *used = i;
    return got;
}

bool dk_slip_dec_next(dk_slip_dec *d, const uint8_t *in, size_t n, size_t *used,
                      dk_slip_event *ev)
{
    if (n == 0 || d->raw_in_frame != 0)
        return next_slow(d, in, n, 0, used, ev);
    /* Between frames: most often a whole frame follows.  Without escapes it
     * is handed out where it lies; else its plain start is copied and the
     * rest decoded in one pass. */
    size_t i = scan_plain(in, n), o;
    const uint8_t *data = in;
    d->frame_start = d->pos;
    if (i == n || in[i] != DK_SLIP_END || i > d->cap) {
        o = i < d->cap ? i : d->cap;
        memcpy(d->buf, in, o);
        if (o == i)
            i += decode_run(in + i, n - i, d->buf, d->cap, &o);
        else
            i = o; /* no room: the slow path judges the byte after the cap */
        data = d->buf;
    } else {
        o = i;
    }
    if (i == n || in[i] != DK_SLIP_END || o == 0) {
        if (data == in)
            memcpy(d->buf, in, o);
        d->len = o;
        d->raw_in_frame = i;
        return next_slow(d, in, n, i, used, ev);
    }
    *ev = (dk_slip_event){
        .kind = DK_SLIP_FRAME,
        .data = data,
        .len = o,
        .start = d->pos,
        .end = d->pos + i + 1,
        .bad_at = d->bad_at,
        .raw_len = i + 1,
        .first = !d->seen_end,
    };
    d->seen_end = true;
    d->pos += i + 1;
    *used = i + 1;
    return true;
}

void dk_slip_dec_feed(dk_slip_dec *d, const uint8_t *in, size_t n, dk_slip_cb cb, void *ctx)
{
    dk_slip_event ev;
    while (n) {
        size_t k;
        bool got = dk_slip_dec_next(d, in, n, &k, &ev);
        in += k;
        n -= k;
        if (got)
            cb(ctx, &ev);
    }
}

bool dk_slip_dec_eof(dk_slip_dec *d, dk_slip_event *ev)
{
    bool got = d->raw_in_frame > 0;
    if (got)
        fill(d, DK_SLIP_UNTERMINATED, d->pos, ev);
    dk_slip_dec_reset(d);
    return got;
}

void dk_slip_dec_flush(dk_slip_dec *d, dk_slip_cb cb, void *ctx)
{
    dk_slip_event ev;
    if (dk_slip_dec_eof(d, &ev))
        cb(ctx, &ev);
}
