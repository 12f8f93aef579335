/* fuzz_lgsim.c - libFuzzer target for dfusim --protocol legacy's request
 * handling: a whole session into the legacy bootloader core (sim/legacy.c)
 * on its RAM flash, as legacy_main.c drives it (bytes through the device's
 * SLIP receiver, each frame to ds_lg_packet, its ACK, then ds_lg_process).
 * The first byte picks the build (chip, dual bank, SoftDevice or none, an
 * installed app, double reset, --legacy-seq-fix, the 1200-baud touch); the
 * rest is steps: raw line bytes, well-formed HCI packets (right header and
 * CRC16, any sequence number, kind and body, so the DFU state machine is
 * reached), resets, power-ons, timer ticks, touches, power cuts and NVMC
 * errors armed at a coming flash operation.  DS_LG_RESET and DS_LG_CUT
 * reboot the core, as dfusim does.
 *
 * Invariants beyond the sanitizers: flash operations stay in bank 0's area
 * (the app area between the SoftDevice and the app data below the
 * bootloader) or the settings page, erases whole pages: never the MBR, the
 * SoftDevice, the app data, the bootloader or the MBR parameters page; an
 * ACK is the 6-byte framed HCI ACK carrying the number the core now
 * expects; the expected number is 0-7 and the queue holds at most its 3
 * slots; an app reported valid has the settings' VALID_APP code and a size
 * inside the app area; an update activated as an app leaves bank 0 marked
 * valid with a size inside the app area. */
#include <stdint.h>
#include <string.h>

#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "flash.h"
#include "fuzz_util.h"
#include "legacy.h"

typedef struct {
    uint32_t lo, hi;      /* bank 0's area */
    uint32_t settings, page;
    uint32_t flash_size;
    uint64_t cut_at, fail_at; /* flash op numbers; 0 = none armed */
} hook_ctx;

static ds_flash_verdict hook(void *vctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no)
{
    hook_ctx *h = vctx;
    CHECK(len > 0 && addr <= h->flash_size && len <= h->flash_size - addr);
    bool in_bank = addr >= h->lo && addr + len <= h->hi;
    bool in_settings = addr >= h->settings && addr + len <= h->settings + h->page;
    CHECK(in_bank || in_settings);
    if (is_erase)
        CHECK(addr % h->page == 0 && len == h->page);
    else
        CHECK(addr % 4 == 0);
    if (h->cut_at && op_no >= h->cut_at) {
        h->cut_at = 0;
        return DS_FLASH_CUT;
    }
    if (h->fail_at && op_no >= h->fail_at) {
        h->fail_at = 0;
        return DS_FLASH_FAIL;
    }
    return DS_FLASH_GO;
}

static void configure(ds_lg_config *cfg, uint8_t a)
{
    ds_lg_config_default(cfg, a & 1 ? "nrf52832" : "nrf52840");
    cfg->dual_bank = a & 2;
    if (a & 4) {
        cfg->sd_end = 0;
        cfg->sd_fwid = -1;
    }
    if (a & 8)
        cfg->app_size = 0x3000;
    cfg->double_reset = a & 0x10;
    cfg->seq_fix = a & 0x20;
    cfg->app_touch = !(a & 0x40);
    if (a & 0x80)
        cfg->dfu_timeout_ms = 2000;
}

typedef struct {
    ds_lg *lg;
    ds_flash *fl;
    hook_ctx *h;
    uint64_t now;
    uint32_t room;
} run;

static void check_state(run *r)
{
    CHECK(ds_lg_expected(r->lg) <= 7);
    CHECK(ds_lg_queued(r->lg) <= DS_LG_QUEUE);
    if (ds_lg_app_valid(r->lg)) {
        ds_lg_settings s;
        ds_lg_settings_read(r->lg, &s);
        CHECK(s.bank_0 == DS_LG_BANK_VALID_APP && (s.bank_0_crc == 0 || s.bank_0_size <= r->room));
    }
    CHECK(ds_lg_bank0(r->lg) == r->h->lo);
    CHECK(ds_lg_bank1(r->lg) >= r->h->lo && ds_lg_bank1(r->lg) < r->h->hi);
}

static void flags_do(run *r, int flags)
{
    CHECK((flags & ~(DS_LG_RESET | DS_LG_CUT | DS_LG_APP)) == 0);
    if (flags & DS_LG_APP) {
        CHECK(!ds_lg_in_dfu(r->lg));
        ds_lg_settings s;
        ds_lg_settings_read(r->lg, &s);
        CHECK(s.bank_0 == DS_LG_BANK_VALID_APP && s.bank_0_size <= r->room);
    }
    if (flags & DS_LG_CUT)
        ds_lg_boot(r->lg, r->now, true);
    else if (flags & DS_LG_RESET)
        ds_lg_boot(r->lg, r->now, false);
}

/* Line bytes into the core, as legacy_main.c's feed and handle do. */
static void line(run *r, const uint8_t *p, size_t n)
{
    while (n && ds_lg_in_dfu(r->lg)) {
        size_t used;
        const uint8_t *frame;
        size_t len;
        bool got = ds_lg_feed(r->lg, p, n, &used, &frame, &len);
        CHECK(used > 0 && used <= n);
        p += used;
        n -= used;
        if (!got)
            continue;
        /* ESC END ends a frame even with nothing in it (an empty frame:
         * dropped without an ACK below) */
        CHECK(len <= DS_LG_RX_BUF);
        uint8_t ack[8];
        size_t an = 99;
        bool was_dfu = ds_lg_in_dfu(r->lg);
        int flags = ds_lg_packet(r->lg, frame, len, r->now, ack, &an);
        CHECK(an == 0 || an == 6);
        if (an) {
            uint8_t e;
            CHECK(was_dfu && ack[0] == 0xC0 && ack[5] == 0xC0);
            CHECK(dk_hci_is_ack(ack + 1, 4, &e) && e == ds_lg_expected(r->lg));
        }
        flags |= ds_lg_process(r->lg, r->now);
        flags_do(r, flags);
        check_state(r);
    }
}

/* A well-formed packet: kind, body from the input, any sequence number. */
static void packet(run *r, fz_in *in, uint8_t op)
{
    static const uint32_t kinds[] = { DK_LG_NOP, DK_LG_INIT, DK_LG_START, DK_LG_DATA, DK_LG_STOP };
    uint8_t k = fz_u8(in);
    uint32_t kind = k < 5 * 40 ? kinds[k % 5] : k;
    size_t want = fz_u16(in) % (DK_LG_DATA_MAX + 64), n;
    const uint8_t *body = fz_bytes(in, want, &n);
    static uint8_t pl[4 + DK_LG_DATA_MAX + 64], pkt[DK_HCI_MAX_PACKET(sizeof pl)],
        framed[DK_HCI_MAX_FRAMED(sizeof pl)];
    size_t pn = dk_lg_encode(kind, body, n, pl);
    size_t hn = dk_hci_encode((uint8_t)(op >> 3), pl, pn, pkt);
    size_t fn = dk_hci_frame(pkt, hn, framed);
    CHECK(fn <= sizeof framed);
    line(r, framed, fn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0 };
    ds_lg_config cfg;
    uint8_t a = fz_u8(&in);
    configure(&cfg, a);
    const ds_chip *c = &cfg.chip;
    /* one flash per chip, erased again for each input */
    static ds_flash *flashes[2];
    static uint8_t *erased;
    ds_flash **slot = &flashes[a & 1];
    if (!*slot)
        *slot = ds_flash_new(c->flash_size, c->page_size);
    if (!erased) {
        erased = malloc(1u << 20);
        CHECK(erased);
        memset(erased, 0xFF, 1u << 20);
    }
    ds_flash *fl = *slot;
    CHECK(fl && c->flash_size <= 1u << 20);
    ds_flash_clear_cut(fl);
    CHECK(ds_flash_program(fl, 0, erased, c->flash_size) == 0);
    uint32_t lo = cfg.sd_end ? cfg.sd_end : 0x1000, room = ds_lg_config_app_room(&cfg);
    hook_ctx h = { lo, lo + room, cfg.settings, c->page_size, c->flash_size, 0, 0 };
    ds_lg *lg = ds_lg_new(&cfg, fl);
    CHECK(lg);
    ds_lg_provision(lg);
    ds_flash_set_hook(fl, hook, &h);
    run r = { lg, fl, &h, 0, room };
    ds_lg_boot(lg, 0, true);
    check_state(&r);
    unsigned steps = 0;
    while (fz_left(&in) && steps++ < 4096) {
        uint8_t op = fz_u8(&in);
        int flags = 0;
        switch (op & 7) {
        case 0: {
            size_t n;
            const uint8_t *p = fz_bytes(&in, fz_u8(&in), &n);
            line(&r, p, n);
            break;
        }
        case 1:
            packet(&r, &in, op);
            break;
        case 2:
            ds_lg_boot(lg, r.now, false);
            break;
        case 3:
            ds_lg_boot(lg, r.now, true);
            break;
        case 4: {
            r.now += (uint64_t)fz_u16(&in) * 10;
            uint64_t d = ds_lg_deadline(lg);
            flags = ds_lg_tick(lg, r.now);
            CHECK(!flags || d <= r.now);
            break;
        }
        case 5:
            flags = ds_lg_touch(lg);
            break;
        case 6:
            h.cut_at = ds_flash_ops(fl) + 1 + fz_u8(&in);
            break;
        case 7:
            h.fail_at = ds_flash_ops(fl) + 1 + fz_u8(&in);
            break;
        }
        r.now += 1;
        flags_do(&r, flags);
        check_state(&r);
    }
    ds_flash_set_hook(fl, NULL, NULL);
    ds_lg_free(lg);
    return 0;
}
