/* line.h - the serial line and the chip's receive path in time: a pure model
 * of what an nRF52840 running the SDK 17.1 serial bootloader does with the
 * bytes a host sends (protocol.md §1.3, §6.1, §14).  No clock of its own:
 * every time is a nanosecond count the caller passes.
 *
 *   host bytes --line (10 bits each at baud, RTS/CTS)--> UARTE (1-byte DMA
 *   buffer + RX FIFO) --ISR--> SLIP decoder in an RX block --> scheduler
 *   queue --main loop--> request (the caller handles it with the core, then
 *   tells the model the flash work it did and the answer it sent)
 *
 * UART (DS_LINK_UART):
 *   - host -> chip: a byte starts no earlier than the end of the one before
 *     and no earlier than the time the host can have written it (the caller's
 *     not_before); with RTS/CTS at both ends it also waits while the chip's
 *     RTS is inactive (the RX FIFO holds fifo - rts_room bytes);
 *   - the CPU stops only during NVMC work (ds_line_halt: a page erase, each
 *     word written), when no interrupt runs: bytes arriving then wait in the
 *     1-byte DMA buffer and the RX FIFO, and the ISR takes them when the halt
 *     ends.  One more byte is an overrun: DS_LEV_OVERRUN, the SDK resets the
 *     chip (§14.8);
 *   - the ISR decodes byte by byte exactly as slip_decode_add_byte and
 *     on_rx_complete do, in the blocks of the nrf_balloc pool (a LIFO stack,
 *     zeroed RAM): a complete frame becomes a request; a frame that ends when
 *     no block is free leaves the decoder where it was, so the next frame is
 *     glued onto it (§1.3, §14.1); a frame of mtu decoded bytes jams the
 *     decoder until a reset; an empty frame is a request of the block's stale
 *     opcode with payload length 0xFFFF (§14.4);
 *   - the main loop takes requests in order when it is free; a WRITE keeps
 *     its block until ds_line_done frees it (a refused data WRITE never
 *     does, §15.2);
 *   - chip -> host: an answer takes its encoded length in byte times; one
 *     produced while the previous is still on the line is lost (§14.5).
 * USB CDC (DS_LINK_USB, §14.7): no line time, no FIFO: the main loop decodes
 * the host's bytes between requests (USB flow control holds the host), so a
 * frame is handled before the next one is decoded; answers never collide.
 *
 * Losses depend only on the bytes and the times given: the same script
 * through the model gives the same events.
 */
#ifndef DFUKIT_SIM_LINE_H
#define DFUKIT_SIM_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { DS_LINK_UART = 0, DS_LINK_USB } ds_link;

typedef struct {
    ds_link link;
    uint32_t baud;      /* UART bits per second, 8N1: 10 bits a byte */
    bool chip_hwfc;     /* NRF_DFU_SERIAL_UART_USES_HWFC (1 in the examples) */
    uint16_t mtu;       /* the decoder's buffer_len: 131 UART, 2051 USB */
    uint8_t rx_blocks;  /* NRF_DFU_SERIAL_*_RX_BUFFERS: 3 */
    uint8_t fifo;       /* UARTE RX FIFO bytes: 6 (data sheet, UNVERIFIED) */
    uint8_t rts_room;   /* RTS goes inactive with this many places left: 4 */
    uint8_t sched_len;  /* app_scheduler queue: 32 */
} ds_line_cfg;

/* The SDK 17.1 example configuration for the link (UART: 115200 unless
 * baud is given, HWFC on, MTU 131; USB: MTU 2051). */
void ds_line_cfg_default(ds_line_cfg *c, ds_link link, uint32_t baud);

typedef struct ds_line ds_line;

/* NULL on a bad configuration (baud 0 on UART, mtu < 4, rx_blocks 0 or
 * over 8, fifo < rts_room, sched_len 0 or over 64) or no memory.  The chip
 * starts listening at time 0. */
ds_line *ds_line_new(const ds_line_cfg *c);
void ds_line_free(ds_line *l);

/* Nanoseconds one byte takes on the line (0 on USB). */
uint64_t ds_line_byte_ns(const ds_line *l);

/* The host's CRTSCTS (it may change it whenever it sets the port up). */
void ds_line_set_host_rtscts(ds_line *l, bool on);
/* Hold the host's bytes (a test's "CTS off" pause), whatever the settings. */
void ds_line_hold(ds_line *l, bool on);

/* Bytes the host wrote, not on the line before not_before_ns.  Returns how
 * many were taken (up to ds_line_host_room). */
size_t ds_line_host_write(ds_line *l, const uint8_t *p, size_t n, uint64_t not_before_ns);
size_t ds_line_host_room(const ds_line *l);
size_t ds_line_host_pending(const ds_line *l);
/* Forget the host's bytes not sent yet (its tty flushed them). */
void ds_line_host_drop(ds_line *l);

typedef enum {
    DS_LEV_NONE = 0, /* nothing happens up to the time asked */
    DS_LEV_REQUEST,  /* the main loop takes a request at t: handle it, then
                        ds_line_halt / ds_line_answer as it happened, then
                        ds_line_done */
    DS_LEV_OVERRUN,  /* a byte overran the UARTE at t: the chip resets (call
                        ds_line_reset, boot, ds_line_ready) */
    DS_LEV_NOTE,     /* something the SDK did that a log should show (text) */
} ds_lev;

typedef struct {
    ds_lev kind;
    uint64_t t;
    /* REQUEST: opcode and payload as the serial layer reads them (for an
     * empty frame the block's stale bytes), and the payload length it passes */
    const uint8_t *req;
    size_t req_len;
    uint32_t payload_len; /* req_len - 1, or 0xFFFF for an empty frame */
    bool empty;           /* an empty SLIP frame (§14.4) */
    bool glued;           /* two or more frames decoded into one block (§14.1) */
    const char *text;     /* NOTE */
} ds_line_ev;

/* The next thing that happens no later than until_ns, in time order.  While
 * a REQUEST is being handled (before ds_line_done) it returns DS_LEV_NONE. */
ds_lev ds_line_next(ds_line *l, uint64_t until_ns, ds_line_ev *ev);

/* When ds_line_next would next have something (UINT64_MAX: nothing pending
 * until the host writes). */
uint64_t ds_line_next_time(const ds_line *l);

/* The main loop's work on the request (or boot), in order: n NVMC
 * operations of each_ns each, the CPU stopped during each. */
void ds_line_halt(ds_line *l, uint32_t n, uint64_t each_ns);
/* The main loop sends an answer of enc_len bytes (SLIP-encoded) now.
 * Returns when its last byte reaches the host; *lost is set when it
 * collided with the previous answer (§14.5) and never left. */
uint64_t ds_line_answer(ds_line *l, size_t enc_len, bool *lost);
/* The main loop's current time (the request's start plus its work). */
uint64_t ds_line_now(const ds_line *l);
/* The request is done; free_block: its WRITE block goes back to the pool
 * (ignored for other requests, which gave theirs back at once). */
void ds_line_done(ds_line *l, bool free_block);

/* The chip resets (or loses power) at t: RX state, blocks, queued requests
 * and pending flash work gone; the UART is off (bytes arriving are lost)
 * until ds_line_ready, after the boot's ds_line_halt calls. */
void ds_line_reset(ds_line *l, uint64_t t);
void ds_line_ready(ds_line *l);
/* The chip is off or not listening (app running, stalled) from t. */
void ds_line_deaf(ds_line *l, uint64_t t);

typedef struct {
    uint64_t host_bytes, lost_deaf, overruns, glued, empty, jammed, sched_drops, bad_escapes,
        answers_lost, requests;
} ds_line_stats;
void ds_line_get_stats(const ds_line *l, ds_line_stats *st);

#endif
