/* slip.h - SLIP as Secure DFU uses it: no leading END, one END after each frame.
 *
 *   frame on the wire:  escaped(payload) C0
 *   escapes:            C0 -> DB DC,  DB -> DB DD
 *
 * The deframer is a pure streaming state machine: hand it bytes with their
 * stream position; it reports one event per frame and one per framing
 * anomaly, either pulled one at a time (dk_slip_dec_next) or through a
 * callback (dk_slip_dec_feed, a loop over it).  Memory is the caller's
 * buffer only; a frame longer than it is reported once (DK_SLIP_TOO_LONG)
 * and skipped up to the next END.  Runs of plain bytes and valid escapes are
 * decoded in one copying pass (16/32 bytes a step with SSE2, 8 with plain
 * C), so a whole frame costs about one memcpy.
 */
#ifndef DFUKIT_SLIP_H
#define DFUKIT_SLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DK_SLIP_END 0xC0
#define DK_SLIP_ESC 0xDB
#define DK_SLIP_ESC_END 0xDC
#define DK_SLIP_ESC_ESC 0xDD

/* Worst-case encoded size of n payload bytes (every byte escaped, plus END). */
#define DK_SLIP_MAX_ENCODED(n) (2 * (size_t)(n) + 1)

/* Encode one frame into out (at least DK_SLIP_MAX_ENCODED(n) bytes).
 * Returns the number of bytes written, END included. */
size_t dk_slip_encode(const uint8_t *in, size_t n, uint8_t *out);

typedef enum {
    DK_SLIP_FRAME,      /* a complete frame: data/len hold the decoded payload */
    DK_SLIP_EMPTY,      /* an END with nothing before it (the SDK would parse it!) */
    DK_SLIP_BAD_ESCAPE, /* ESC followed by something else: frame dropped up to END */
    DK_SLIP_TOO_LONG,   /* decoded frame exceeded the buffer: dropped up to END */
    DK_SLIP_UNTERMINATED, /* only from dk_slip_dec_flush: bytes with no END at EOF */
} dk_slip_kind;

typedef struct {
    dk_slip_kind kind;
    const uint8_t *data; /* decoded bytes (FRAME; the others: what was kept,
                            at most the first cap bytes) */
    size_t len;
    uint64_t start;      /* stream position of the frame's first raw byte */
    uint64_t end;        /* stream position just past its END (or last byte) */
    uint64_t bad_at;     /* BAD_ESCAPE: position of the offending byte */
    uint64_t raw_len;    /* bytes of the line in it, END included (end - start
                            also counts whatever the stream positions skip,
                            e.g. capture record headers between chunks) */
    bool first;          /* no END was seen before this frame: it may have
                            started before the capture did */
} dk_slip_event;

typedef void (*dk_slip_cb)(void *ctx, const dk_slip_event *ev);

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint64_t pos;         /* stream position of the next byte fed */
    uint64_t frame_start;
    uint64_t bad_at;
    size_t raw_in_frame;  /* raw bytes seen in the current frame */
    int state;            /* internal */
    bool seen_end;
    bool device_mode;     /* see dk_slip_dec_device_mode */
} dk_slip_dec;

/* buf/cap: storage for one decoded frame (cap = the frame length limit). */
void dk_slip_dec_init(dk_slip_dec *d, uint8_t *buf, size_t cap);

/* Decode as the nRF5 SDK's slip_decode_add_byte does (§1.3): an ESC followed
 * by END makes that END the offending byte, so the decoder discards up to the
 * *next* END and the following frame is lost too.  Off by default: a decoder
 * of captures restarts at the END; the simulator turns it on. */
void dk_slip_dec_device_mode(dk_slip_dec *d, bool on);

/* Set the stream position of the next byte (e.g. a capture's file offset). */
void dk_slip_dec_set_pos(dk_slip_dec *d, uint64_t pos);

/* Pull form: decode in[0, n) up to and including the byte that completes
 * the next event (always an END), and no further.  *used: the bytes consumed
 * (all n when no event came; then call again with more bytes).  True: *ev
 * holds the event; ev->data points into the decoder's buffer or, for a
 * frame without escapes, into in itself: it is valid until the next call on
 * d and while in[] is.  Events, positions and flags do not depend on
 * how the stream is cut into calls.  Typical loop:
 *     while (n) { size_t k; bool got = dk_slip_dec_next(d, p, n, &k, &ev);
 *                 p += k; n -= k; if (got) use(&ev); } */
bool dk_slip_dec_next(dk_slip_dec *d, const uint8_t *in, size_t n, size_t *used,
                      dk_slip_event *ev);

/* Callback form: every event of in[0, n), in order. */
void dk_slip_dec_feed(dk_slip_dec *d, const uint8_t *in, size_t n, dk_slip_cb cb, void *ctx);

/* At end of stream: a pending partial frame as UNTERMINATED in *ev (true),
 * or false when nothing is pending; the decoder is reset either way. */
bool dk_slip_dec_eof(dk_slip_dec *d, dk_slip_event *ev);

/* Callback form of dk_slip_dec_eof. */
void dk_slip_dec_flush(dk_slip_dec *d, dk_slip_cb cb, void *ctx);

/* Drop a partial frame (after a reset or a reopened port). */
void dk_slip_dec_reset(dk_slip_dec *d);

#endif
