/* fake_target.h - a small scripted Secure DFU target behind a dh_io, for
 * testing the DFU master without a pty.
 *
 * It answers requests as the SDK 17.1 serial bootloader does (protocol.md §2,
 * §6.4-§6.6) on a virtual clock, and lets a test preset its state (what a
 * previous session left behind) and script faults on the Nth request of an
 * opcode.  Every request is logged with where its bytes landed.
 */
#ifndef FAKE_TARGET_H
#define FAKE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master.h"

#define FT_IMG_MAX (64 * 1024)
#define FT_LOG_MAX 4096

enum ft_action {
    FT_DROP = 1, /* handle the request, send no answer */
    FT_DELAY,    /* answer arg ms late */
    FT_ANSWER,   /* answer with result arg & 0xFF (ext arg >> 8) instead of handling */
    FT_IGNORE,   /* the request never arrives */
    FT_RESET,    /* power cut just before the request: RAM state lost */
    FT_STALE,    /* a spurious "60 04 01" goes out just before the answer */
    FT_CORRUPT,  /* WRITE: one data byte flips on the way */
};

typedef struct {
    uint8_t op;
    uint8_t result;
    uint8_t type;    /* CREATE/SELECT: object type; WRITE: current type */
    uint32_t size;   /* CREATE size, WRITE length */
    uint32_t at;     /* WRITE/CREATE: offset in the object stream where it acted */
} ft_entry;

typedef struct {
    /* configuration */
    uint32_t cmd_max, obj_max;
    uint16_t mtu;
    const uint8_t *want[4]; /* the images it expects, in order (final hash check) */
    size_t want_len[4];
    size_t nwant, cur_img;
    uint8_t exec_cmd_result, exec_cmd_ext; /* answer to a command EXECUTE that validates */
    bool silent;             /* answers nothing at all */
    bool dfu_after_final;    /* after the final EXECUTE: stays in DFU mode (else silent) */
    bool save_progress;      /* NRF_DFU_SAVE_PROGRESS_IN_FLASH for FT_RESET */
    struct { uint8_t op; unsigned nth; int action; uint32_t arg; } fault[80];
    size_t nfault;

    /* state (a test may preset it) */
    uint8_t cur;
    uint8_t cmd[512];
    uint32_t cmd_size, cmd_off, cmd_crc;
    bool cmd_valid;
    uint32_t data_size, off, crc, off_last, crc_last;
    uint8_t img[FT_IMG_MAX];
    uint16_t prn, prn_count;
    unsigned notifications;
    unsigned done;          /* images accepted */
    bool booted;            /* reset into the app: silent */

    /* what happened */
    unsigned count[256];
    ft_entry log[FT_LOG_MAX];
    size_t nlog;
    unsigned reopens;

    /* answers in flight */
    struct { uint64_t at; uint8_t b[24]; size_t len; } q[32];
    size_t qn;
    uint64_t now;
} fake_target;

/* Defaults: cmd_max 512, obj_max 4096, MTU 131, command EXECUTE succeeds. */
void ft_init(fake_target *t);
void ft_expect(fake_target *t, const uint8_t *bin, size_t len);
void ft_fault(fake_target *t, uint8_t op, unsigned nth, int action, uint32_t arg);

/* Preset: the init packet dat is on the target (executed when valid). */
void ft_preset_cmd(fake_target *t, const uint8_t *dat, size_t len, size_t have, bool valid);
/* Preset: the target holds src[0..off) with objects executed up to off_last. */
void ft_preset_data(fake_target *t, const uint8_t *src, uint32_t off, uint32_t off_last);

dh_io ft_io(fake_target *t);

/* Log queries. */
unsigned ft_count(const fake_target *t, uint8_t op, int type);
size_t ft_data_written(const fake_target *t);
const ft_entry *ft_find(const fake_target *t, size_t from, uint8_t op, int type);
size_t ft_index(const fake_target *t, const ft_entry *e);

#endif
