/* sim_target.h - the simulator's bootloader core (sim/bl.h, ds_bl_*) as the
 * target of the test drivers that play the line themselves: dk-gencap,
 * dk-genlog and dfuhost's fake target (tests/host/fake_target.c).
 *
 * Every answer they show comes from ds_bl_handle; a driver adds only what is
 * its own (its clock and timing, its scripted faults on the line).  The chip
 * sits on RAM flash; a reset or power cut the core reports is followed by the
 * boot at once, as nothing of the driver's runs while the chip restarts.
 *
 * Header-only (static inline); link dfusim_core.
 */
#ifndef DFUKIT_SIM_TARGET_H
#define DFUKIT_SIM_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "dfukit/msg.h"
#include "dfukit/tables.h"

typedef struct {
    ds_flash *fl;
    ds_bl *bl;
} st_chip;

/* The device of the sample captures and logs: an nRF52840 with the SDK 17.1
 * UART bootloader, S140 7.2.0 (FWID 0x0100, up to 0x27000), an application
 * of 20000 bytes at app_version installed, unsigned app updates allowed. */
static inline void st_sample_config(ds_bl_config *c, uint32_t app_version)
{
    ds_bl_config_default(c, "nrf52840");
    c->sd_end = 0x27000;
    c->sd_fwid = 0x0100;
    c->app_size = 20000;
    c->app_version = app_version;
    c->allow_unsigned = true;
}

/* A blank chip with cfg, powered on at now_ms.  Exits on a bad config (a
 * driver's own mistake). */
static inline void st_open(st_chip *t, const ds_bl_config *cfg, uint64_t now_ms)
{
    t->fl = ds_flash_new(cfg->chip.flash_size, cfg->chip.page_size);
    t->bl = t->fl ? ds_bl_new(cfg, t->fl) : NULL;
    if (!t->bl) {
        fprintf(stderr, "sim_target: the bootloader core refused its configuration\n");
        exit(2);
    }
    ds_bl_power_on(t->bl, now_ms);
}

static inline void st_close(st_chip *t)
{
    ds_bl_free(t->bl);
    ds_flash_free(t->fl);
    t->bl = NULL;
    t->fl = NULL;
}

/* One decoded request at now_ms: its answer (unframed) in rsp[0..*rsp_len),
 * cap >= 32.  Returns ds_bl_handle's flags; the chip has booted again when
 * they are not 0 (the answer, if any, went out before). */
static inline int st_request(st_chip *t, const uint8_t *req, size_t len, uint64_t now_ms,
                             uint8_t *rsp, size_t cap, size_t *rsp_len)
{
    int flags = ds_bl_handle(t->bl, req, len, now_ms, rsp, cap, rsp_len);
    if (flags)
        ds_bl_boot(t->bl, now_ms);
    return flags;
}

/* A request the driver sends outside its line (a preset): true when it was
 * answered with success or, as a WRITE without PRN, not at all. */
static inline bool st_quiet(st_chip *t, const dk_msg *m, uint64_t now_ms)
{
    uint8_t q[1 + 1024], r[64];
    size_t n = dk_msg_encode(m, q, sizeof q), rl = 0;
    if (n == 0 || st_request(t, q, n, now_ms, r, sizeof r, &rl) != 0)
        return false;
    return rl == 0 ? m->op == DK_OP_OBJECT_WRITE : rl >= 3 && r[2] == DK_RES_SUCCESS;
}

static inline bool st_quiet_create(st_chip *t, uint8_t type, uint32_t size, uint64_t now_ms)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = type;
    m.req.create.size = size;
    return st_quiet(t, &m, now_ms);
}

/* WRITEs of at most 64 bytes, as a UART host sends them. */
static inline bool st_quiet_write(st_chip *t, const uint8_t *p, size_t len, uint64_t now_ms)
{
    for (size_t i = 0; i < len; i += 64) {
        dk_msg m = dk_msg_request(DK_OP_OBJECT_WRITE);
        m.req.write.data = p + i;
        m.req.write.len = len - i < 64 ? len - i : 64;
        if (!st_quiet(t, &m, now_ms))
            return false;
    }
    return true;
}

/* What an earlier session left on the target, sent through the core as that
 * session sent it (no PRN): a command object of len bytes with its first
 * have bytes written (dat), executed when execute; then the data objects of
 * src up to off, those up to off_last executed.  Objects are a page each
 * (the image must reach past off's page), off_last is a multiple of the
 * page, off - off_last at most a page.  False when the core refused a step. */
static inline bool st_preset(st_chip *t, const uint8_t *dat, size_t len, size_t have, bool execute,
                             const uint8_t *src, uint32_t off, uint32_t off_last, uint64_t now_ms)
{
    uint32_t page = ds_bl_get_config(t->bl)->chip.page_size;
    dk_msg ex = dk_msg_request(DK_OP_OBJECT_EXECUTE);
    if (!st_quiet_create(t, DK_OBJ_COMMAND, (uint32_t)len, now_ms) ||
        !st_quiet_write(t, dat, have, now_ms) || (execute && !st_quiet(t, &ex, now_ms)))
        return false;
    for (uint32_t at = 0; at < off; at += page) {
        uint32_t n = off - at < page ? off - at : page;
        if (!st_quiet_create(t, DK_OBJ_DATA, page, now_ms) || !st_quiet_write(t, src + at, n, now_ms) ||
            (at < off_last && !st_quiet(t, &ex, now_ms)))
            return false;
    }
    return true;
}

#endif
