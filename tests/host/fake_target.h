/* fake_target.h - dfuhost's test target behind a dh_io, without a pty.
 *
 * The bootloader is dfusim's core (sim/bl.h, through tests/support/
 * sim_target.h) on a virtual clock: every answer is the simulator's.  On top
 * of it a test scripts what the core does not do by itself, on the Nth
 * request of an opcode: an answer lost, late, preceded by a stale one, or
 * replaced; a request lost or one of its bytes flipped on the line; a power
 * cut just before it.  A test may also preset what an earlier session left
 * on the target (sent through the core), and every request is logged with
 * where its bytes landed.
 */
#ifndef FAKE_TARGET_H
#define FAKE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master.h"
#include "sim_target.h"

#define FT_LOG_MAX 4096

enum ft_action {
    FT_DROP = 1, /* handle the request, send no answer */
    FT_DELAY,    /* answer arg ms late */
    FT_ANSWER,   /* answer with result arg & 0xFF (ext arg >> 8) instead of handling */
    FT_IGNORE,   /* the request never arrives */
    FT_RESET,    /* power cut just before the request: the chip boots, then hears it */
    FT_STALE,    /* a spurious "60 04 01" goes out just before the answer */
    FT_CORRUPT,  /* one byte of the request (a WRITE's data) flips on the way */
    FT_REPLY,    /* answer with the bytes of ft_fault_reply instead of handling */
    FT_CUT_FLASH, /* power cut at flash operation arg (1 = the first) of this
                    request's handling, after the answer when the SDK sends
                    it first (the final EXECUTE: arg 1 = the settings page's
                    erase, §14.9); the chip boots again at once */
};

typedef struct {
    uint8_t op;
    uint8_t result;  /* of the answer; 0 when none went out */
    uint8_t type;    /* CREATE/SELECT: object type; others: the current type */
    uint32_t size;   /* CREATE size, WRITE length */
    uint32_t at;     /* WRITE: offset in its object stream; others: the last
                        executed image offset (where a data CREATE starts) */
} ft_entry;

typedef struct {
    /* configuration: set before the first preset or request */
    ds_bl_config cfg;        /* the core's (ft_init: nRF52840, MBR only, unsigned OK) */
    bool silent;             /* answers nothing at all */
    struct {
        uint8_t op;
        unsigned nth;
        int action;
        uint32_t arg;
        uint8_t reply[24];
        size_t reply_len;
    } fault[80];
    size_t nfault;

    st_chip chip;            /* opened by the first preset or request */
    uint32_t cut_in;         /* FT_CUT_FLASH: flash operations until the cut */

    /* what happened */
    unsigned count[256];     /* requests per opcode (those the chip heard) */
    ft_entry log[FT_LOG_MAX];
    size_t nlog;
    unsigned reopens;
    unsigned notifications;  /* PRN answers */
    unsigned done;           /* images the final EXECUTE accepted */

    /* answers in flight */
    struct { uint64_t at; uint8_t b[32]; size_t len; } q[32];
    size_t qn;
    uint64_t now;
} fake_target;

/* Defaults (frees the chip of an earlier ft_init). */
void ft_init(fake_target *t);
void ft_free(fake_target *t);
void ft_fault(fake_target *t, uint8_t op, unsigned nth, int action, uint32_t arg);
/* FT_REPLY: the Nth request of op is answered with rsp[0..len), len <= 24. */
void ft_fault_reply(fake_target *t, uint8_t op, unsigned nth, const uint8_t *rsp, size_t len);

/* The unsigned init packet of an application image for this target
 * (hw_version 52, sd_req 0x00) at version fw; its length. */
size_t ft_make_dat(uint8_t *out, size_t cap, const uint8_t *bin, size_t len, uint32_t fw);

/* Preset: an earlier session sent the init packet dat (len bytes, the first
 * have of them written; executed when valid), then src's data objects up to
 * off, those up to off_last executed (st_preset).  Aborts when the core
 * refuses a step (the test asked for a state the bootloader cannot reach). */
void ft_preset(fake_target *t, const uint8_t *dat, size_t len, size_t have, bool valid,
               const uint8_t *src, uint32_t off, uint32_t off_last);
/* Preset: a data object of size created (and nothing written to it). */
void ft_preset_create(fake_target *t, uint32_t size);

dh_io ft_io(fake_target *t);

/* The application in bank 0 (the target runs it after activation) is bin. */
bool ft_app_is(fake_target *t, const uint8_t *bin, size_t len);

/* Log queries. */
unsigned ft_count(const fake_target *t, uint8_t op, int type);
size_t ft_data_written(const fake_target *t);
const ft_entry *ft_find(const fake_target *t, size_t from, uint8_t op, int type);
size_t ft_index(const fake_target *t, const ft_entry *e);

#endif
