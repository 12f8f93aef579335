/* fuzz_sim.c - libFuzzer target for dfusim's request handling: a whole
 * session into the bootloader core (sim/bl.c) on its RAM flash.  The first
 * two bytes pick the build (chip, SoftDevice, installed app, save progress,
 * single bank, unsigned updates, how DFU mode is entered, MTU, inactivity);
 * the rest is steps: request frames, resets, power-ons, timer ticks, power
 * cuts and NVMC errors armed at a coming flash operation, buttonless DFU
 * requests.  RESET and CUT from the core reboot it, as dfusim does.
 *
 * Invariants beyond the sanitizers, after every step: the settings page's
 * CRC is valid or its backup is; the bank codes, layout and current bank
 * are ones the SDK writes and bank 0 lies in the app area; flash operations
 * stay inside the flash and never touch the MBR or the app data pages; an
 * app reported valid is bank 0's VALID_APP whose bytes match its stored CRC
 * and its boot validation (CRC or SHA-256 recomputed here); a response is
 * 0x60, the request's opcode (or, to a WRITE, the CRC_GET of its receipt
 * notification), a result, and fits the MTU. */
#include <stdint.h>
#include <string.h>

#include "bl.h"
#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/msg.h"
#include "dfukit/rd.h"
#include "flash.h"
#include "fuzz_util.h"
#include "settings.h"

typedef struct {
    const ds_chip *chip;
    uint64_t cut_at, fail_at; /* flash op numbers; 0 = none armed */
} hook_ctx;

static ds_flash_verdict hook(void *vctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no)
{
    hook_ctx *h = vctx;
    const ds_chip *c = h->chip;
    CHECK(len > 0 && addr <= c->flash_size && len <= c->flash_size - addr);
    CHECK(addr >= DS_MBR_SIZE);
    uint32_t data_lo = c->bl_start - c->app_data_size;
    CHECK(addr + len <= data_lo || addr >= c->bl_start);
    if (is_erase)
        CHECK(addr % c->page_size == 0 && len == c->page_size);
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

static bool bank_code_ok(uint32_t code)
{
    return code == DS_BANK_INVALID || code == DS_BANK_VALID_APP || code == DS_BANK_VALID_SD ||
           code == DS_BANK_VALID_BL || code == DS_BANK_VALID_SD_BL ||
           code == DS_BANK_VALID_EXT_APP;
}

static void check_state(ds_bl *bl, const ds_chip *c)
{
    ds_flash *fl = ds_bl_flash(bl);
    const uint8_t *m = ds_flash_mem(fl);
    if (!ds_flash_was_cut(fl))
        CHECK(ds_sett_page_valid(m + c->settings) || ds_sett_backup_valid(m + c->mbr_params));
    const ds_settings *s = ds_bl_settings(bl);
    CHECK(bank_code_ok(s->bank_0.bank_code));
    CHECK(bank_code_ok(s->bank_1.bank_code));
    CHECK(s->bank_layout <= DS_BANK_LAYOUT_SINGLE);
    CHECK(s->bank_current <= DS_BANK_CURRENT_1);
    uint32_t b0 = ds_bl_bank0_start(bl), end = c->bl_start - c->app_data_size;
    CHECK(b0 >= DS_MBR_SIZE && b0 < end);
    if (s->bank_0.bank_code == DS_BANK_VALID_APP)
        CHECK(s->bank_0.image_size <= end - b0);
    if (ds_bl_app_valid(bl)) {
        CHECK(s->bank_0.bank_code == DS_BANK_VALID_APP);
        uint32_t n = s->bank_0.image_size;
        CHECK(dk_crc32(0, m + b0, n) == s->bank_0.image_crc);
        if (s->bv_app.type == DS_BV_CRC) {
            dk_rd r = dk_rd_make(s->bv_app.bytes, 4);
            CHECK(dk_crc32(0, m + b0, n) == dk_rd_le32(&r));
        } else if (s->bv_app.type == DS_BV_SHA256) {
            uint8_t h[32];
            dk_sha256_le(m + b0, n, h);
            CHECK(memcmp(h, s->bv_app.bytes, 32) == 0);
        }
    }
    CHECK(ds_bl_current_obj(bl) == DK_OBJ_COMMAND || ds_bl_current_obj(bl) == DK_OBJ_DATA ||
          ds_bl_current_obj(bl) == DK_OBJ_INVALID);
}

static void reboot(ds_bl *bl, bool power_on, uint64_t now)
{
    if (power_on)
        ds_bl_power_on(bl, now);
    else
        ds_bl_boot(bl, now);
}

static void configure(ds_bl_config *cfg, uint8_t a, uint8_t b)
{
    ds_bl_config_default(cfg, a & 1 ? "nrf52832" : "nrf52840");
    if (a & 2)
        cfg->sd_end = 0x27000;
    if (a & 4) {
        cfg->app_size = 0x2345;
        cfg->app_version = 3;
    }
    cfg->save_progress_in_flash = a & 8;
    cfg->single_bank = a & 0x10;
    cfg->allow_unsigned = !(a & 0x20);
    unsigned enter = a >> 6;
    cfg->enter = enter == 1 ? DS_BL_ENTER_ALWAYS
               : enter == 2 ? DS_BL_ENTER_FIRST_BOOT
                            : DS_BL_ENTER_NO_VALID_APP;
    cfg->downgrade_prevention = !(b & 1);
    cfg->debug_bootloader = b & 2;
    cfg->mtu = b & 4 ? DK_MTU_USB : DK_MTU_UART;
    cfg->inactivity_ms = b & 8 ? 0 : 120000;
    cfg->force_dual_bank = b & 0x10;
    cfg->accept_same_version = !(b & 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0 };
    ds_bl_config cfg;
    uint8_t a = fz_u8(&in), b = fz_u8(&in);
    configure(&cfg, a, b);
    const ds_chip *c = &cfg.chip;
    /* one flash per chip, erased again for each input: a fresh 1 MiB
     * allocation per run would cost more than the run */
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
    hook_ctx h = { c, 0, 0 };
    ds_flash_set_hook(fl, hook, &h);
    ds_bl *bl = ds_bl_new(&cfg, fl);
    CHECK(bl);
    uint64_t now = 0;
    reboot(bl, true, now);
    check_state(bl, c);
    static uint8_t req[8192];
    uint8_t rsp[64];
    unsigned steps = 0;
    while (fz_left(&in) && steps++ < 4096) {
        uint8_t op = fz_u8(&in);
        int flags = 0;
        switch (op & 7) {
        case 0:
        case 1: { /* a request: length u8 (0) or u16 (1), then its bytes */
            size_t want = (op & 7) ? fz_u16(&in) % (cfg.mtu + 8) : fz_u8(&in);
            size_t n;
            const uint8_t *p = fz_bytes(&in, want, &n);
            memcpy(req, p, n); /* the exact bytes, so overreads show */
            size_t rlen = 0;
            now += 1 + (op >> 3);
            flags = ds_bl_handle(bl, req, n, now, rsp, sizeof rsp, &rlen);
            CHECK(rlen <= sizeof rsp);
            if (rlen) {
                /* a WRITE may be answered by its receipt notification,
                 * which is CRC_GET's response: offset and CRC, or (a write
                 * refused) the bare error */
                bool prn = n && req[0] == DK_OP_OBJECT_WRITE && rsp[1] == DK_OP_CRC_GET &&
                           (rlen == 11 ? rsp[2] == DK_RES_SUCCESS : rlen == 3 && rsp[2] != DK_RES_SUCCESS);
                CHECK(rlen >= 3 && rsp[0] == DK_OP_RESPONSE && (rsp[1] == req[0] || prn));
                CHECK(rlen <= cfg.mtu);
            }
            break;
        }
        case 2:
            reboot(bl, false, now);
            break;
        case 3:
            reboot(bl, true, now);
            break;
        case 4:
            now += (uint64_t)fz_u16(&in) * 10;
            flags = ds_bl_tick(bl, now);
            break;
        case 5:
            h.cut_at = ds_flash_ops(fl) + 1 + fz_u8(&in);
            break;
        case 6:
            h.fail_at = ds_flash_ops(fl) + 1 + fz_u8(&in);
            break;
        case 7:
            ds_bl_request_dfu(bl);
            break;
        }
        CHECK(flags == 0 || flags == DS_BL_RESET || flags == DS_BL_CUT);
        if (flags)
            reboot(bl, false, now);
        check_state(bl, c);
    }
    ds_flash_set_hook(fl, NULL, NULL);
    ds_bl_free(bl);
    return 0;
}
