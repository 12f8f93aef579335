/* master.h - the DFU master: sends a package's images to a Secure DFU target
 * over an abstract frame transport.  Pure: no I/O of its own, time comes from
 * the transport, so it runs unchanged against a pty, a serial port or a
 * scripted fake target.
 *
 * Per image (protocol.md §5.2, done robustly):
 *
 *   PING id (until the connect window closes)   -> 60 09 01 id
 *   02 prn u16                                   -> 60 02 01
 *   07                                           -> 60 07 01 mtu u16
 *   06 01  -> max, offset, crc of the init packet on the target:
 *       whole and CRC matches  -> 04 (re-execute; a no-op once validated)
 *       part and CRC matches   -> 08 rest, 03 check, 04
 *       otherwise / --restart  -> 01 01 len, 08..., 03 check, 04
 *   06 02  -> max, offset, crc of the image on the target:
 *       CRC matches, inside an object  -> 08 rest of the object, 03, 04
 *       CRC matches, object boundary   -> 04 (re-execute a finished object)
 *       CRC differs, inside an object  -> 01 02 (rolls back to the object start)
 *       CRC differs, object boundary   -> start the image again with a new
 *                                         01 01 (an executed object cannot be
 *                                         undone: protocol.md §11.9)
 *   then per object: 01 02 size, 08 chunk..., [PRN 60 03 checks], 03, 04
 *
 * A lost answer to a data EXECUTE is not answered by sending it again: a
 * target that reset meanwhile would execute its command object instead.  The
 * attempt starts over from SELECT, which tells what really happened.
 *
 * Chunk per WRITE = (mtu - 1) / 2 - 1 bytes (64 on UART), so the worst-case
 * SLIP escaping still fits the target's buffer.
 *
 * Responses are matched by opcode (and PING id); anything else is stale and
 * dropped.  A request that goes unanswered is re-sent after a PING resync
 * (drain until our PING id echoes), up to opts.retries times.  Requests the
 * host re-sends are all safe to repeat (protocol.md §6.4-§6.5); the final data
 * EXECUTE is never blindly repeated: the target resets after answering it.
 */
#ifndef DFUHOST_MASTER_H
#define DFUHOST_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The frame transport.  Frames are unframed DFU messages (SLIP is the
 * transport's business). */
typedef struct {
    void *ctx;
    /* Queue one request.  0, or <0 when the port is gone. */
    int (*send)(void *ctx, const uint8_t *msg, size_t len);
    /* Wait up to timeout_ms for one frame: 1 = frame in buf[0..*len), 0 =
     * timeout, <0 = port gone.  Queued requests go out before waiting. */
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms);
    /* Monotonic milliseconds. */
    uint64_t (*now_ms)(void *ctx);
    /* Close and reopen the port after the target reset (between images,
     * and when it went away after the final EXECUTE), trying for up to
     * wait_ms (a USB CDC target re-enumerates).  May be NULL.  0 or <0. */
    int (*reopen)(void *ctx, uint32_t wait_ms);
} dh_io;

typedef enum {
    DH_EV_IMAGE,    /* starting an image: image, name, total */
    DH_EV_PROGRESS, /* image bytes the target has: done of total */
    DH_EV_NOTE,     /* a decision worth telling (resume, retry): text */
    DH_EV_DEBUG,    /* -v detail: text */
    DH_EV_TX,       /* a request sent: text (described) */
    DH_EV_RX,       /* a frame received: text (described) */
    DH_EV_DONE,     /* image accepted: image, name; done = image bytes written
                       in all (more than total when parts went twice) */
} dh_ev_kind;

typedef struct {
    dh_ev_kind kind;
    size_t image;     /* index in the list */
    const char *name; /* the image's .bin name */
    uint64_t done, total;
    const char *text;
} dh_event;

typedef struct {
    const char *bin_name, *dat_name; /* for messages */
    const uint8_t *bin;
    size_t bin_len;
    const uint8_t *dat;
    size_t dat_len;
} dh_image;

typedef struct {
    uint16_t prn;            /* PRN every N writes; 0 = off */
    uint32_t connect_ms;     /* PING window after opening the port */
    uint32_t rsp_ms;         /* wait for one answer before resyncing */
    uint32_t final_ms;       /* wait for the answer to the final EXECUTE */
    unsigned retries;        /* re-sends of one unanswered request */
    unsigned max_restarts;   /* image restarts (resyncs) without progress */
    bool restart;            /* ignore what the target holds: start afresh */
    bool verify;             /* after the last image: check the target left its
                                bootloader (dh_after_final) */
    uint32_t verify_ms;      /* ... waiting this long for a bootloader's PING echo */
    bool trace;              /* emit DH_EV_TX / DH_EV_RX for every message */
    void (*on_event)(void *ctx, const dh_event *ev);
    void *ev_ctx;
} dh_opts;

/* Defaults: prn 0, connect 10 s, answer 1 s, final 10 s, 3 retries, 5 restarts,
 * verify on with a 2 s window. */
void dh_opts_default(dh_opts *o);

typedef enum {
    DH_OK = 0,      /* every image's final EXECUTE answered SUCCESS */
    DH_FAILED = 1,  /* the target refused, stopped answering, or the port went */
} dh_status;

/* What the target shows after an image's final EXECUTE was answered SUCCESS
 * (protocol.md §14.9).  The SDK answers first and only then writes the
 * settings page and its backup; power lost in between brings the bootloader
 * back with the settings of the command EXECUTE: the init packet still
 * there, the image not activated. */
typedef enum {
    DH_AF_UNCHECKED = 0, /* not checked (--no-verify, or a failure before) */
    DH_AF_LEFT,          /* no bootloader answered PING within the window (the app
                            runs, a USB port went and did not come back as a
                            bootloader): counted as activated */
    DH_AF_STORED,        /* a bootloader answers but no longer holds this init
                            packet: the settings were written, the image is
                            (being) activated; DFU mode for another reason
                            (button, pin, a SoftDevice waiting for its app) */
    DH_AF_NOT_TAKEN,     /* a bootloader answers and still holds this init packet
                            whole (or would not say): the update did not take */
} dh_after;

/* The pure decision.  answered: a bootloader echoed PING in the window;
 * selected: it answered SELECT command with SUCCESS, reporting (off, crc). */
dh_after dh_after_final(bool answered, bool selected, uint32_t off, uint32_t crc,
                        const uint8_t *dat, size_t dat_len);

typedef struct {
    dh_status status;
    dh_after after;      /* DH_OK: what the check after the last image found */
    unsigned untaken;    /* complete transfers the target did not keep */
    size_t image;        /* image that failed */
    bool has_rsp;        /* the failure is a target answer: op/result/ext */
    uint8_t op, result, ext;
    bool has_ext;
    char msg[600];       /* one line, without the tool name */
} dh_result;

/* Send every image in order.  Between images the transport is reopened and
 * the target pinged again (it reset after the final EXECUTE). */
dh_status dh_run(const dh_opts *o, const dh_io *io, const dh_image *imgs, size_t n,
                 dh_result *res);

/* Largest frame the master sends or expects (MTU 2051 -> 1024-byte chunks). */
#define DH_FRAME_MAX 4096

#endif
