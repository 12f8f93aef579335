/* master_int.h - what the two halves of the Secure DFU master share:
 * master_wire.c (events and errors, frames, requests) and master.c (the init
 * packet, the image, the check after the last image, dh_run).  Not for use
 * outside host/master*.c; the API is master.h. */
#ifndef DFUHOST_MASTER_INT_H
#define DFUHOST_MASTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/msg.h"
#include "master.h"

#define DH_PING_MS 250 /* wait per PING while connecting */
#define DH_REOPEN_MS 5000 /* between images: a USB CDC target re-enumerates */

/* Internal outcomes of a step. */
enum {
    R_OK = 0,
    R_FAIL = -1,  /* res filled in: stop */
    R_AGAIN = -2, /* state unclear: start the image attempt again (m->why) */
    R_LOST = -3,  /* target stopped answering: reconnect, then again */
    R_FRESH = -4, /* target holds what it cannot undo: new CREATE command */
    R_BAD = -5,   /* this object failed a check: send it again */
    R_REWIND = -6, /* the target rolled back further than asked: go on from m->rewind */
    R_UNTAKEN = -7, /* the final EXECUTE was answered but not kept: this image again */
    R_PREV = -8,   /* the previous image was not kept: go back to it */
};

typedef struct {
    const dh_opts *o;
    const dh_io *io;
    dh_result *res;
    const dh_image *img;
    size_t idx;
    uint8_t ping_id;
    bool desync;        /* an answer went missing: PING-resync before the next request */
    uint32_t chunk;     /* data bytes per WRITE */
    uint32_t obj_max;   /* data object size (SELECT data max_size) */
    uint32_t writes;    /* WRITEs since the PRN counter was last reset */
    bool advanced;      /* this attempt moved the target forward */
    uint64_t sent;      /* image bytes written for this image, all attempts */
    size_t rewind;      /* R_REWIND: the object boundary the target is really at */
    bool final_pending; /* waiting for the final EXECUTE's answer */
    bool late_final;    /* ... and saw it while expecting something else */
    uint8_t late_result, late_ext;
    bool late_has_ext;
    const dh_image *prev; /* the image before (its activation not yet checked) */
    bool last;          /* img is the last image: check after_final */
    unsigned executed;  /* bit i: image i's init packet was executed (SUCCESS) in this run */
    size_t crc_off;     /* cache: crc of bin[0..crc_off) */
    uint32_t crc_val;
    char why[400];
    uint8_t rx[DH_FRAME_MAX];
    uint8_t tx[DH_FRAME_MAX];
} M;

/* events and errors (master_wire.c) */
void dm_emit(M *m, dh_ev_kind kind, uint64_t done, uint64_t total, const char *text);
void dm_say(M *m, dh_ev_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* res filled in: R_FAIL */
int dm_fail(M *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* m->why filled in: code */
int dm_again(M *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void dm_describe_refusal(char *out, size_t cap, const char *what, uint8_t op, uint8_t obj,
                         uint8_t result, bool has_ext, uint8_t ext);
int dm_fail_rsp(M *m, const char *what, uint8_t obj, const dk_msg *r);
int dm_again_rsp(M *m, const char *what, uint8_t obj, const dk_msg *r);

/* frames (master_wire.c) */
uint64_t dm_now(M *m);
int dm_port_gone(M *m, const char *while_);
int dm_tx(M *m, size_t len);
int dm_wait_rsp(M *m, uint8_t op, int id, dk_msg *r, uint32_t ms);
int dm_resync(M *m);
int dm_transact_x(M *m, size_t len, dk_msg *r, bool resend);

/* requests (master_wire.c) */
int dm_req_select(M *m, uint8_t type, dk_msg *r);
int dm_req_create(M *m, uint8_t type, uint32_t size, dk_msg *r);
int dm_req_simple(M *m, uint8_t op, dk_msg *r);
int dm_connect(M *m);
uint32_t dm_crc_upto(M *m, size_t off);
int dm_write_span(M *m, const uint8_t *buf, size_t from, size_t to, uint32_t *crc, bool data);
int dm_check_crc(M *m, uint32_t off, uint32_t crc, dk_msg *r, const char *what, uint8_t obj);

#endif
