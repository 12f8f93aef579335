/* slip.c - streaming SLIP encoder and deframer (see slip.h for the layout). */
#include "dfukit/slip.h"

#include <string.h>

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

static void emit(dk_slip_dec *d, dk_slip_kind kind, uint64_t end, dk_slip_cb cb, void *ctx)
{
    dk_slip_event ev = {
        .kind = kind,
        .data = d->buf,
        .len = d->len,
        .start = d->frame_start,
        .end = end,
        .bad_at = d->bad_at,
        .raw_len = d->raw_in_frame,
        .first = !d->seen_end,
    };
    cb(ctx, &ev);
}

/* Append a run of plain bytes to the frame, or start discarding when it
 * would not fit. */
static void append(dk_slip_dec *d, const uint8_t *p, size_t n)
{
    if (d->state != ST_DATA)
        return;
    if (n > d->cap - d->len) {
        d->state = ST_DISCARD_LONG;
        return;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
}

void dk_slip_dec_feed(dk_slip_dec *d, const uint8_t *in, size_t n, dk_slip_cb cb, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        if (d->raw_in_frame == 0)
            d->frame_start = d->pos + i;
        if (d->state == ST_DATA) {
            /* Fast path: copy the run up to the next special byte. */
            size_t j = i;
            while (j < n && in[j] != DK_SLIP_END && in[j] != DK_SLIP_ESC)
                j++;
            if (j > i) {
                append(d, in + i, j - i);
                d->raw_in_frame += j - i;
                i = j;
                continue;
            }
        } else if (d->state == ST_DISCARD_BAD || d->state == ST_DISCARD_LONG) {
            const uint8_t *e = memchr(in + i, DK_SLIP_END, n - i);
            size_t j = e ? (size_t)(e - in) : n;
            d->raw_in_frame += j - i;
            i = j;
            if (i == n)
                break;
        }
        uint8_t b = in[i];
        uint64_t at = d->pos + i;
        i++;
        d->raw_in_frame++;
        if (b == DK_SLIP_END && d->state == ST_ESC && d->device_mode) {
            /* The END itself is the bad escape: keep discarding. */
            d->bad_at = at;
            d->state = ST_DISCARD_BAD;
            continue;
        }
        if (b == DK_SLIP_END) {
            if (d->state == ST_DISCARD_BAD)
                emit(d, DK_SLIP_BAD_ESCAPE, at + 1, cb, ctx);
            else if (d->state == ST_DISCARD_LONG)
                emit(d, DK_SLIP_TOO_LONG, at + 1, cb, ctx);
            else if (d->state == ST_ESC) {
                d->bad_at = at;
                emit(d, DK_SLIP_BAD_ESCAPE, at + 1, cb, ctx);
            } else if (d->len == 0)
                emit(d, DK_SLIP_EMPTY, at + 1, cb, ctx);
            else
                emit(d, DK_SLIP_FRAME, at + 1, cb, ctx);
            d->seen_end = true;
            d->len = 0;
            d->raw_in_frame = 0;
            d->state = ST_DATA;
            continue;
        }
        switch (d->state) {
        case ST_DATA: /* b is ESC here */
            d->state = ST_ESC;
            break;
        case ST_ESC:
            if (b == DK_SLIP_ESC_END || b == DK_SLIP_ESC_ESC) {
                uint8_t v = b == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
                d->state = ST_DATA;
                append(d, &v, 1);
            } else {
                d->bad_at = at;
                d->state = ST_DISCARD_BAD;
            }
            break;
        default: /* discarding: wait for END */
            break;
        }
    }
    d->pos += n;
}

void dk_slip_dec_flush(dk_slip_dec *d, dk_slip_cb cb, void *ctx)
{
    if (d->raw_in_frame > 0)
        emit(d, DK_SLIP_UNTERMINATED, d->pos, cb, ctx);
    dk_slip_dec_reset(d);
}
