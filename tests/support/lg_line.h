/* lg_line.h - a virtual serial line to dfusim's legacy bootloader core
 * (sim/legacy.h) for unit tests: bytes in, the device's ACKs out, a virtual
 * clock, and a dh_io (host/master.h) for the legacy master.  Header-only. */
#ifndef DK_LG_LINE_H
#define DK_LG_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dfukit/hci.h"
#include "dfukit/slip.h"
#include "legacy.h"
#include "master.h"

typedef struct {
    ds_lg_config cfg;
    ds_flash *fl;
    ds_lg *lg;
    uint64_t ms;          /* virtual clock */
    uint8_t acks[64][8];  /* ACK frames not yet read */
    size_t ack_len[64];
    unsigned na, ra;
    int drop_acks;        /* ACKs to lose on the line */
    int flags;            /* the core's flags, or-ed */
    uint8_t pend[2048];
    size_t plen;
    unsigned packets;     /* frames the device got */
} lg_line;

static inline void lgl_boot(lg_line *l, bool power_on)
{
    ds_lg_boot(l->lg, l->ms, power_on);
}

static inline void lgl_open(lg_line *l, const ds_lg_config *cfg)
{
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->fl = ds_flash_new(cfg->chip.flash_size, cfg->chip.page_size);
    l->lg = ds_lg_new(&l->cfg, l->fl);
    ds_lg_provision(l->lg);
    lgl_boot(l, true);
}

static inline void lgl_close(lg_line *l)
{
    ds_lg_free(l->lg);
    ds_flash_free(l->fl);
}

/* Bytes to the device: each frame answered (its ACK queued), processed, and
 * the core's resets carried out. */
static inline void lgl_put(lg_line *l, const uint8_t *p, size_t n)
{
    while (n && ds_lg_in_dfu(l->lg)) {
        size_t used, flen;
        const uint8_t *f;
        bool got = ds_lg_feed(l->lg, p, n, &used, &f, &flen);
        p += used;
        n -= used;
        if (!got)
            continue;
        l->packets++;
        uint8_t a[8];
        size_t al;
        int fl = ds_lg_packet(l->lg, f, flen, l->ms, a, &al);
        if (al && l->drop_acks > 0)
            l->drop_acks--;
        else if (al && l->na < 64) {
            memcpy(l->acks[l->na % 64], a, al);
            l->ack_len[l->na++ % 64] = al;
        }
        fl |= ds_lg_process(l->lg, l->ms);
        l->flags |= fl;
        if (fl & (DS_LG_RESET | DS_LG_CUT))
            lgl_boot(l, (fl & DS_LG_CUT) != 0);
    }
}

static inline int lgl_send(void *ctx, const uint8_t *msg, size_t len)
{
    lg_line *l = ctx;
    if (!len) {
        l->pend[0] = DK_SLIP_END;
        l->plen = 1;
        return 0;
    }
    l->plen += dk_slip_encode(msg, len, l->pend + l->plen);
    lgl_put(l, l->pend, l->plen);
    l->plen = 0;
    return 0;
}

static inline int lgl_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    lg_line *l = ctx;
    if (l->ra < l->na && cap >= 4) {
        memcpy(buf, l->acks[l->ra % 64] + 1, 4);
        *len = 4;
        l->ra++;
        return 1;
    }
    l->ms += timeout_ms;
    return 0;
}

static inline uint64_t lgl_now(void *ctx)
{
    return ((lg_line *)ctx)->ms;
}

static inline dh_io lgl_io(lg_line *l)
{
    dh_io io = { .ctx = l, .send = lgl_send, .recv = lgl_recv, .now_ms = lgl_now };
    return io;
}

#endif
