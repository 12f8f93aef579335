/* gen_legacy.c - `dk-gencap --legacy SCENARIO --pcap FILE`: legacy HCI DFU
 * sample captures (captures/legacy-*.pcap).  The device is dfusim's legacy
 * bootloader core (sim/legacy.h); the host is a model of adafruit-nrfutil
 * 0.5.3 (protocol.md §13.13: its packets, numbering and fixed sleeps, one
 * packet then its ACK, a 1 s ACK timeout that ends the run) or, for the
 * dfuhost scenario, dfuhost's legacy master (host/lgmaster.h) itself.  Time
 * is virtual: 115200 baud, 8N1, flash busy time from the core; the captures
 * regenerate byte for byte.
 *
 * Scenarios: complete, killed, stale, stale-fixed, reset-rerun, stale-k1,
 * devtype, sdreq, crc, noack, powercut, dfuhost-rerun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/capfile.h"
#include "dfukit/crc.h"
#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/slip.h"
#include "legacy.h"
#include "lgmaster.h"

#define T0_US 1715680800000000LL /* 2024-05-14 10:00:00 UTC */
#define BYTE_NS 86806            /* 10 bits at 115200 baud */

typedef struct {
    ds_lg_config cfg;
    ds_flash *fl;
    ds_lg *lg;
    dk_cap_writer *w;
    uint64_t t_ns;      /* virtual time since T0 */
    uint64_t busy_ns;   /* the device's main loop is busy until */
    bool dfu, off;
    uint8_t seq;        /* adafruit-nrfutil's class-level counter */
    bool port_open;
    uint8_t rx[64];     /* ACK bytes for dh_io recv */
    size_t rx_len;
    int fail;
    int cut_after;      /* power lost as this DATA packet arrives (1-based), 0 never */
    int data_seen;
    FILE *raw;          /* --raw: both lines in one file, as a tap on the line */
} lgen;

static int64_t now_us(const lgen *g)
{
    return T0_US + (int64_t)(g->t_ns / 1000);
}

static void cap(lgen *g, dk_dir dir, const uint8_t *p, size_t n)
{
    if (dk_cap_write(g->w, now_us(g), dir, p, n, NULL) != DK_OK)
        g->fail = 1;
    if (g->raw && fwrite(p, 1, n, g->raw) != n)
        g->fail = 1;
}

static void lines(lgen *g, bool open)
{
    g->port_open = open;
    if (dk_cap_write_lines(g->w, now_us(g), open ? DK_LINE_DTR | DK_LINE_RTS : 0, NULL) != DK_OK)
        g->fail = 1;
}

static void sleep_ms(lgen *g, double ms)
{
    g->t_ns += (uint64_t)(ms * 1e6);
}

static void boot(lgen *g, bool power_on)
{
    g->dfu = ds_lg_boot(g->lg, g->t_ns / 1000000, power_on);
    g->busy_ns = g->t_ns + ds_flash_take_busy_us(g->fl) * 1000;
    g->off = false;
}

static void flags_do(lgen *g, int flags)
{
    if (flags & (DS_LG_RESET | DS_LG_CUT))
        boot(g, (flags & DS_LG_CUT) != 0);
    else if (flags & DS_LG_APP)
        g->dfu = false;
}

/* Framed host bytes onto the line and into the device; the ACK, if one
 * comes, onto the line after them (and after the device's busy time).
 * Returns the ACK number or -1. */
static int line_packet(lgen *g, const uint8_t *framed, size_t n)
{
    cap(g, DK_DIR_HOST, framed, n);
    g->t_ns += (uint64_t)n * BYTE_NS;
    if (g->off || !g->dfu)
        return -1;
    if (g->busy_ns > g->t_ns) /* USB: read after the main loop is done */
        g->t_ns = g->busy_ns;
    int ack = -1;
    size_t off = 0;
    while (off < n) {
        size_t used, flen;
        const uint8_t *frame;
        bool got = ds_lg_feed(g->lg, framed + off, n - off, &used, &frame, &flen);
        off += used;
        if (!got)
            continue;
        uint8_t a[8];
        size_t al;
        int flags = ds_lg_packet(g->lg, frame, flen, g->t_ns / 1000000, a, &al);
        if (al) {
            g->t_ns += 40000; /* the ACK leaves right away */
            cap(g, DK_DIR_TARGET, a, al);
            memcpy(g->rx, a, al);
            g->rx_len = al;
            uint8_t num;
            dk_hci_is_ack(a + 1, 4, &num);
            ack = num;
            g->t_ns += al * BYTE_NS;
        }
        flags |= ds_lg_process(g->lg, g->t_ns / 1000000);
        g->busy_ns = g->t_ns + ds_flash_take_busy_us(g->fl) * 1000;
        flags_do(g, flags);
    }
    return ack;
}

/* ---- adafruit-nrfutil (§13.13) --------------------------------------------- */

static int send_pkt(lgen *g, uint32_t kind, const uint8_t *body, size_t len, uint8_t seq)
{
    uint8_t pl[4 + 600], pkt[DK_HCI_MAX_PACKET(604)], fr[DK_HCI_MAX_FRAMED(604)];
    if (kind == DK_LG_DATA && ++g->data_seen == g->cut_after)
        g->off = true;
    size_t n = dk_lg_encode(kind, body, len, pl);
    n = dk_hci_encode(seq, pl, n, pkt);
    n = dk_hci_frame(pkt, n, fr);
    int a = line_packet(g, fr, n);
    if (a < 0) /* get_ack_nr: 1 s, then the port is closed and the run ends */
        sleep_ms(g, 1000);
    return a;
}

static void touch(lgen *g)
{
    lines(g, true);
    sleep_ms(g, 100);
    lines(g, false);
    flags_do(g, ds_lg_touch(g->lg));
    sleep_ms(g, 1500);
}

/* One adafruit-nrfutil run: the touch, START ... STOP.  kill_after: the
 * process is killed after that many DATA packets (-1: never). */
static void nrfutil_run(lgen *g, const uint8_t *dat, size_t dat_len, const uint8_t *bin,
                        size_t bin_len, int kill_after)
{
    g->seq = 0; /* a new process: its counter starts again */
    touch(g);
    lines(g, true);
    sleep_ms(g, 100);
    uint8_t start[DK_LG_START_LEN];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, (uint32_t)bin_len, start);
    if (send_pkt(g, DK_LG_START, start + 4, 16, ++g->seq & 7) < 0)
        goto closed;
    double erase = (double)(bin_len / 4096 + 1) * 89.7;
    sleep_ms(g, erase < 500 ? 500 : erase);
    uint8_t init[DK_LG_INIT_MAX];
    memcpy(init, dat, dat_len);
    memset(init + dat_len, 0, 2);
    if (send_pkt(g, DK_LG_INIT, init, dat_len + 2, ++g->seq & 7) < 0)
        goto closed;
    size_t chunks = (bin_len + 511) / 512;
    uint8_t first = (uint8_t)(g->seq + 1); /* every DATA frame is built first */
    g->seq = (uint8_t)(g->seq + chunks);
    for (size_t i = 0; i < chunks; i++) {
        if (kill_after >= 0 && i == (size_t)kill_after)
            goto closed;
        size_t k = bin_len - i * 512 < 512 ? bin_len - i * 512 : 512;
        if (send_pkt(g, DK_LG_DATA, bin + i * 512, k, (uint8_t)(first + i) & 7) < 0)
            goto closed;
        if (i % 8 == 0)
            sleep_ms(g, 102.4);
    }
    sleep_ms(g, 102.4);
    send_pkt(g, DK_LG_STOP, NULL, 0, ++g->seq & 7);
closed:
    lines(g, false);
    sleep_ms(g, 300);
}

/* ---- dfuhost's legacy master over the virtual line ------------------------- */

static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
    static uint8_t pend[DK_HCI_MAX_FRAMED(700)];
    static size_t plen;
    lgen *g = ctx;
    if (!len) { /* the leading END */
        pend[0] = DK_SLIP_END;
        plen = 1;
        return 0;
    }
    plen += dk_slip_encode(msg, len, pend + plen);
    g->rx_len = 0;
    line_packet(g, pend, plen);
    plen = 0;
    return 0;
}

static int io_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    lgen *g = ctx;
    if (g->rx_len >= 6 && cap >= 4) {
        memcpy(buf, g->rx + 1, 4); /* the decoded ACK */
        *len = 4;
        g->rx_len = 0;
        return 1;
    }
    sleep_ms(g, timeout_ms);
    return 0;
}

static uint64_t io_now(void *ctx)
{
    return ((lgen *)ctx)->t_ns / 1000000;
}

static void dfuhost_run(lgen *g, const uint8_t *dat, size_t dat_len, const uint8_t *bin,
                        size_t bin_len)
{
    lines(g, true);
    dh_io io = { .ctx = g, .send = io_send, .recv = io_recv, .now_ms = io_now };
    dh_lg_opts o;
    dh_lg_opts_default(&o);
    dh_lg_image im = { .bin_name = "app.bin", .bin = bin, .bin_len = bin_len, .dat = dat,
                       .dat_len = dat_len, .mode = DK_LG_MODE_APP };
    dh_result res;
    if (dh_lg_run(&o, &io, &im, 1, &res) != DH_OK) {
        fprintf(stderr, "dk-gencap: dfuhost: %s\n", res.msg);
        g->fail = 1;
    }
    lines(g, false);
}

/* ---- scenarios --------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *chip;
    uint16_t dev_type;
    uint16_t sd_req;
    int crc_delta;
    size_t size;
} scen;

static const scen scens[] = {
    { "complete", "nrf52840", 0x52, 0xFFFE, 0, 10000 },
    { "killed", "nrf52840", 0x52, 0xFFFE, 0, 20000 },
    { "stale", "nrf52840", 0x52, 0xFFFE, 0, 20000 },
    { "stale-fixed", "nrf52840", 0x52, 0xFFFE, 0, 20000 },
    { "reset-rerun", "nrf52840", 0x52, 0xFFFE, 0, 20000 },
    { "stale-k1", "nrf52832", 0x52, 0xFFFE, 0, 20000 },
    { "devtype", "nrf52832", 0xFFFF, 0xFFFE, 0, 8000 },
    { "sdreq", "nrf52832", 0x52, 0x0001, 0, 8000 },
    { "crc", "nrf52840", 0x52, 0xFFFE, 1, 8000 },
    { "noack", "nrf52840", 0x52, 0xFFFE, 0, 8000 },
    { "powercut", "nrf52840", 0x52, 0xFFFE, 0, 20000 },
    { "dfuhost-rerun", "nrf52840", 0x52, 0xFFFE, 0, 20000 },
};

static void play(lgen *g, const scen *sc, const uint8_t *dat, size_t dl, const uint8_t *bin)
{
    const char *n = sc->name;
    size_t bl = sc->size;
    if (!strcmp(n, "killed")) {
        nrfutil_run(g, dat, dl, bin, bl, 20);
    } else if (!strcmp(n, "stale") || !strcmp(n, "stale-fixed")) {
        nrfutil_run(g, dat, dl, bin, bl, 20); /* killed: 22 packets taken, expects 7 */
        nrfutil_run(g, dat, dl, bin, bl, -1); /* no reset in between (§13.12) */
    } else if (!strcmp(n, "reset-rerun")) {
        nrfutil_run(g, dat, dl, bin, bl, 20);
        sleep_ms(g, 2000);
        boot(g, true); /* a power cycle; bank 0 is invalid: DFU mode */
        nrfutil_run(g, dat, dl, bin, bl, -1);
    } else if (!strcmp(n, "stale-k1")) {
        nrfutil_run(g, dat, dl, bin, bl, 6); /* 8 packets taken: expects 1 again */
        nrfutil_run(g, dat, dl, bin, bl, -1);
    } else if (!strcmp(n, "powercut")) {
        g->cut_after = 11; /* the board loses power as DATA 10 arrives */
        nrfutil_run(g, dat, dl, bin, bl, -1);
    } else if (!strcmp(n, "dfuhost-rerun")) {
        nrfutil_run(g, dat, dl, bin, bl, 20);
        dfuhost_run(g, dat, dl, bin, bl);
    } else {
        nrfutil_run(g, dat, dl, bin, bl, -1);
    }
}

int dk_gen_legacy(const char *name, const char *pcap, const char *raw)
{
    const scen *sc = NULL;
    for (size_t i = 0; i < sizeof scens / sizeof scens[0]; i++)
        if (!strcmp(scens[i].name, name))
            sc = &scens[i];
    if (!sc || !pcap) {
        fprintf(stderr, "dk-gencap: --legacy wants a scenario and --pcap FILE; scenarios:");
        for (size_t i = 0; i < sizeof scens / sizeof scens[0]; i++)
            fprintf(stderr, " %s", scens[i].name);
        fputc('\n', stderr);
        return 2;
    }
    static lgen g;
    memset(&g, 0, sizeof g);
    ds_lg_config_default(&g.cfg, sc->chip);
    g.cfg.seq_fix = !strcmp(name, "stale-fixed");
    if (!strcmp(name, "noack"))
        g.cfg.app_size = 4096, g.cfg.app_touch = false; /* an app that ignores the touch */
    g.fl = ds_flash_new(g.cfg.chip.flash_size, g.cfg.chip.page_size);
    g.lg = g.fl ? ds_lg_new(&g.cfg, g.fl) : NULL;
    dk_err err;
    g.w = g.lg ? dk_cap_create(pcap, &err) : NULL;
    if (!g.w) {
        fprintf(stderr, "dk-gencap: cannot set up the legacy scenario\n");
        return 1;
    }
    if (raw && !(g.raw = fopen(raw, "wb"))) {
        fprintf(stderr, "dk-gencap: %s: cannot create\n", raw);
        return 1;
    }
    ds_lg_provision(g.lg);
    boot(&g, true);
    uint8_t *bin = malloc(sc->size);
    for (size_t i = 0; i < sc->size; i++)
        bin[i] = (uint8_t)((i * 2654435761u) >> 13);
    dk_lg_init in = { .device_type = sc->dev_type, .device_rev = 0xFFFF, .app_version = 0xFFFFFFFF,
                      .n_sd_req = 1, .sd_req = { sc->sd_req }, .version = 5,
                      .crc16 = (uint16_t)(dk_crc16_ccitt(DK_CRC16_INIT, bin, sc->size) + sc->crc_delta) };
    uint8_t dat[64];
    size_t dl = dk_lg_init_encode(&in, dat, sizeof dat);
    play(&g, sc, dat, dl, bin);
    free(bin);
    int rc = g.fail;
    if (dk_cap_close_writer(g.w, &err) != DK_OK || (g.raw && fclose(g.raw) != 0))
        rc = 1;
    ds_lg_free(g.lg);
    ds_flash_free(g.fl);
    return rc;
}
