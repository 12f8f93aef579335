/* fuzz_lghost.c - libFuzzer target for dfuhost --protocol legacy's response
 * handling (host/lgmaster.c) against a hostile line.  The device is the
 * simulator's legacy bootloader core (sim/legacy.c) on a RAM flash; between
 * it and the master, the input decides for every packet whether it arrives
 * whole, is lost or has a byte changed, and for every wait of the master
 * whether the device's ACK comes, is lost, comes corrupted, arbitrary bytes
 * come instead, the port goes away, the device resets or loses power, or
 * minutes pass.  The first bytes pick the image (its size, whether it is a
 * whole number of words, its mode: APP, or SD or BL with a SoftDevice
 * request list that fits) and the master's retries.
 *
 * Invariants beyond the sanitizers: every packet the master sends is a
 * valid reliable HCI packet (header checksum, CRC16) with a DFU packet
 * inside; START announces the image's sizes; INIT carries the .dat and two
 * zero bytes; DATA carries at most 512 bytes, the image's own, at a 512-byte
 * boundary; the result is one line; against a line that never lied, an APP
 * update of whole words succeeds and the device holds the image, valid;
 * the run ends within a bounded number of sends, receives and milliseconds. */
#include <stdint.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "flash.h"
#include "fuzz_util.h"
#include "legacy.h"
#include "lgmaster.h"

#define STEPS_MAX 200000

typedef struct {
    fz_in in;
    uint64_t now, steps;
    ds_lg *lg;
    ds_flash *fl;
    const dh_lg_image *img;
    uint8_t q[8][8];    /* ACKs owed to the master, oldest first (framed) */
    size_t qn;
    bool lied;
    bool port_gone;
} line;

static void owe(line *t, const uint8_t *ack, size_t n)
{
    CHECK(n == 6);
    if (t->qn == 8) { /* the oldest is lost, as in a full FIFO */
        memmove(t->q[0], t->q[1], sizeof t->q[0] * 7);
        t->qn--;
        t->lied = true;
    }
    memcpy(t->q[t->qn++], ack, n);
}

static void pop(line *t)
{
    memmove(t->q[0], t->q[1], sizeof t->q[0] * 7);
    t->qn--;
}

static void dev_flags(line *t, int flags)
{
    if (flags & DS_LG_CUT)
        ds_lg_boot(t->lg, t->now, true);
    else if (flags & DS_LG_RESET)
        ds_lg_boot(t->lg, t->now, false);
}

/* Framed bytes into the device, as legacy_main.c's feed does. */
static void to_device(line *t, const uint8_t *p, size_t n)
{
    while (n && ds_lg_in_dfu(t->lg)) {
        size_t used, len;
        const uint8_t *frame;
        bool got = ds_lg_feed(t->lg, p, n, &used, &frame, &len);
        p += used;
        n -= used;
        if (!got)
            continue;
        uint8_t ack[8];
        size_t an;
        int flags = ds_lg_packet(t->lg, frame, len, t->now, ack, &an);
        if (an)
            owe(t, ack, an);
        flags |= ds_lg_process(t->lg, t->now);
        dev_flags(t, flags);
    }
}

/* What the master sends: checked, then (maybe damaged) to the device. */
static void check_packet(line *t, const uint8_t *msg, size_t len)
{
    dk_hci_pkt pk;
    CHECK(dk_hci_parse(msg, len, &pk) == DK_HCI_OK && !pk.len_mismatch);
    CHECK(pk.hdr.reliable && pk.hdr.integrity && pk.hdr.type == DK_HCI_TYPE_VENDOR);
    dk_lg_pkt g;
    CHECK(dk_lg_parse(pk.payload, pk.payload_len, &g) == DK_LG_OK);
    const dh_lg_image *im = t->img;
    switch (g.kind) {
    case DK_LG_NOP:
    case DK_LG_STOP:
        CHECK(g.body_len == 0);
        break;
    case DK_LG_START: {
        uint32_t app = im->mode == DK_LG_MODE_APP ? (uint32_t)im->bin_len : 0;
        uint32_t sd = im->mode == DK_LG_MODE_SD ? (uint32_t)im->bin_len : im->sd_size;
        uint32_t bl = im->mode == DK_LG_MODE_BL ? (uint32_t)im->bin_len : im->bl_size;
        CHECK(g.mode == im->mode && g.app_size == app && g.sd_size == sd && g.bl_size == bl);
        break;
    }
    case DK_LG_INIT:
        CHECK(g.body_len == im->dat_len + 2 && !memcmp(g.body, im->dat, im->dat_len));
        CHECK(g.body[im->dat_len] == 0 && g.body[im->dat_len + 1] == 0);
        break;
    case DK_LG_DATA: {
        CHECK(g.body_len > 0 && g.body_len <= DK_LG_DATA_MAX);
        const uint8_t *at = memmem(im->bin, im->bin_len, g.body, g.body_len);
        CHECK(at != NULL);
        /* the chunk at its own offset: the first match may be earlier */
        bool found = false;
        for (size_t off = 0; off < im->bin_len && !found; off += DK_LG_DATA_MAX)
            found = im->bin_len - off >= g.body_len && !memcmp(im->bin + off, g.body, g.body_len) &&
                    (g.body_len == DK_LG_DATA_MAX || off + g.body_len == im->bin_len);
        CHECK(found);
        break;
    }
    default:
        CHECK(0);
    }
}

static int t_send(void *ctx, const uint8_t *msg, size_t len)
{
    line *t = ctx;
    CHECK(++t->steps < STEPS_MAX);
    CHECK(!t->port_gone);
    static const uint8_t end = 0xC0;
    if (!msg) { /* the leading END */
        CHECK(len == 0);
        to_device(t, &end, 1);
        return 0;
    }
    CHECK(len <= DK_HCI_MAX_PACKET(4 + DK_LG_INIT_MAX + DK_LG_DATA_MAX));
    check_packet(t, msg, len);
    static uint8_t framed[DK_HCI_MAX_FRAMED(4 + DK_LG_INIT_MAX + DK_LG_DATA_MAX)];
    uint8_t ctl = fz_u8(&t->in);
    if (ctl == 0xFD) { /* lost on the line */
        t->lied = true;
        return 0;
    }
    /* the master's bytes are its own: framing (its transport's job) here */
    size_t n = dk_hci_frame(msg, len, framed + 0) ;
    if (ctl == 0xFC) { /* a byte changed on the line */
        uint8_t at = fz_u8(&t->in), x = fz_u8(&t->in);
        if (x) {
            framed[1 + at % (n - 2)] ^= x;
            t->lied = true;
        }
    }
    to_device(t, framed, n);
    return 0;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    line *t = ctx;
    CHECK(++t->steps < STEPS_MAX);
    CHECK(cap >= 8);
    CHECK(!t->port_gone);
    uint8_t ctl = fz_u8(&t->in); /* 0 when the input is used up: the truth */
    switch (ctl % 8 < 4 ? 0 : ctl % 8) {
    case 0:
        if (!t->qn) { /* nothing comes */
            t->now += timeout_ms;
            return 0;
        }
        memcpy(buf, t->q[0] + 1, 4); /* the transport takes the SLIP off */
        *len = 4;
        pop(t);
        t->now += 1;
        return 1;
    case 4: /* the oldest ACK is lost */
        if (t->qn) {
            pop(t);
            t->lied = true;
        }
        t->now += timeout_ms;
        return 0;
    case 5: /* corrupted */
        if (!t->qn)
            break;
        memcpy(buf, t->q[0] + 1, 4);
        pop(t);
        buf[fz_u8(&t->in) % 4] ^= (uint8_t)(fz_u8(&t->in) | 1);
        *len = 4;
        t->lied = true;
        t->now += 1;
        return 1;
    case 6: { /* arbitrary bytes */
        size_t n;
        const uint8_t *p = fz_bytes(&t->in, fz_u8(&t->in) % cap, &n);
        memcpy(buf, p, n);
        *len = n;
        t->lied = true;
        t->now += 1;
        return 1;
    }
    default: /* 7: the port or the device */
        t->lied = true;
        switch ((ctl >> 3) % 4) {
        case 0:
            t->port_gone = true;
            return -1;
        case 1:
            ds_lg_boot(t->lg, t->now, false);
            break;
        case 2:
            ds_lg_boot(t->lg, t->now, true);
            break;
        default: /* minutes pass: the device's DFU timer */
            t->now += 400000;
            dev_flags(t, ds_lg_tick(t->lg, t->now));
            break;
        }
    }
    t->now += timeout_ms;
    return 0;
}

static uint64_t t_now(void *ctx)
{
    line *t = ctx;
    return t->now;
}

static int t_reopen(void *ctx, uint32_t wait_ms)
{
    line *t = ctx;
    (void)wait_ms;
    t->port_gone = false;
    t->qn = 0;
    if (fz_u8(&t->in) == 0xFE)
        return -1;
    /* dfuhost touches the port at 1200 baud when it opens it */
    dev_flags(t, ds_lg_touch(t->lg));
    return 0;
}

static void on_event(void *ctx, const dh_event *ev)
{
    (void)ctx;
    CHECK(ev->kind != DH_EV_PROGRESS || ev->done <= ev->total);
    if (ev->text)
        CHECK(strchr(ev->text, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0 };
    uint8_t a = fz_u8(&in);
    size_t bin_len = 4 + fz_u16(&in) % 12000;
    if (!(a & 1))
        bin_len &= ~(size_t)3; /* whole words, as images are */
    static const uint32_t modes[] = { DK_LG_MODE_APP, DK_LG_MODE_APP, DK_LG_MODE_SD, DK_LG_MODE_BL };
    uint32_t mode = modes[(a >> 1) & 3];
    uint8_t *bin = malloc(bin_len); /* exact size: any overread shows */
    CHECK(bin);
    for (size_t k = 0; k < bin_len; k++)
        bin[k] = (uint8_t)(k * 13 + k / 509 + 1);
    dk_lg_init ini;
    memset(&ini, 0, sizeof ini);
    ini.device_type = DK_LG_DEVICE_TYPE;
    ini.device_rev = 52840;
    ini.app_version = 0xFFFFFFFFu;
    ini.n_sd_req = 1 + ((a >> 3) & 1);
    ini.sd_req[0] = (a & 0x10) ? 0x00B6 : DK_LG_SD_ANY;
    ini.sd_req[1] = 0x00B7;
    ini.version = 5;
    ini.crc16 = dk_crc16_ccitt(DK_CRC16_INIT, bin, bin_len);
    uint8_t dat_store[DK_LG_INIT_MAX];
    size_t dat_len = dk_lg_init_encode(&ini, dat_store, sizeof dat_store);
    CHECK(dat_len > 0);
    uint8_t *dat = malloc(dat_len);
    CHECK(dat);
    memcpy(dat, dat_store, dat_len);
    dh_lg_image img = { .bin_name = "app.bin", .bin = bin, .bin_len = bin_len, .dat = dat,
                        .dat_len = dat_len, .mode = mode };

    ds_lg_config cfg;
    ds_lg_config_default(&cfg, "nrf52840");
    cfg.dual_bank = a & 0x20;
    cfg.seq_fix = a & 0x40;
    static ds_flash *fl;
    static uint8_t *erased;
    if (!fl)
        fl = ds_flash_new(cfg.chip.flash_size, cfg.chip.page_size);
    if (!erased) {
        erased = malloc(cfg.chip.flash_size);
        CHECK(erased);
        memset(erased, 0xFF, cfg.chip.flash_size);
    }
    CHECK(fl);
    ds_flash_clear_cut(fl);
    CHECK(ds_flash_program(fl, 0, erased, cfg.chip.flash_size) == 0);
    ds_lg *lg = ds_lg_new(&cfg, fl);
    CHECK(lg);
    ds_lg_provision(lg);
    ds_lg_boot(lg, 0, true); /* no app: DFU mode */

    static line t;
    memset(&t, 0, sizeof t);
    t.in = in;
    t.lg = lg;
    t.fl = fl;
    t.img = &img;
    dh_lg_opts o;
    dh_lg_opts_default(&o);
    o.retries = 1 + (a >> 7);
    o.max_restarts = 2;
    o.trace = true;
    o.on_event = on_event;
    dh_io io = { &t, t_send, t_recv, t_now, t_reopen };
    dh_result res;
    dh_status st = dh_lg_run(&o, &io, &img, 1, &res);
    CHECK(st == DH_OK || st == DH_FAILED);
    CHECK(res.status == st);
    CHECK(memchr(res.msg, '\0', sizeof res.msg) && strchr(res.msg, '\n') == NULL);
    if (st == DH_FAILED)
        CHECK(res.msg[0] != '\0');
    if (!t.lied && mode == DK_LG_MODE_APP && bin_len % 4 == 0) {
        /* an honest line: the update goes through and the app is there */
        if (st != DH_OK)
            fprintf(stderr, "honest line, failed: %s\n", res.msg);
        CHECK(st == DH_OK);
        CHECK(ds_lg_app_valid(lg) || !memcmp(bin, erased, bin_len < 8 ? bin_len : 8));
        CHECK(!memcmp(ds_flash_mem(fl) + ds_lg_bank0(lg), bin, bin_len));
    }
    CHECK(t.now < 100000000);
    ds_lg_free(lg);
    free(bin);
    free(dat);
    return 0;
}
