/* bl.c - SDK 17.1 Secure DFU bootloader model (protocol.md §2-§7). */
#include "bl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/file.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/rd.h"
#include "dfukit/tables.h"

/* Handler results: low byte = result code, next byte = extended error. */
#define OK DK_RES_SUCCESS
#define EXT(e) (DK_RES_EXT_ERROR | ((e) << 8))
#define R_CUT (-1) /* a flash power cut: stop at once */

#define COPY_STEP_PAGES 8u        /* NRF_BL_FW_COPY_PROGRESS_STORE_STEP */
#define CONTINUATION_MS 10000u    /* NRF_BL_DFU_CONTINUATION_TIMEOUT_MS */
#define GPREGRET_DFU 0xB1u

struct ds_bl {
    ds_bl_config cfg;
    ds_flash *fl;
    ds_settings s; /* s_dfu_settings */
    /* retained across resets (not power-on) */
    bool gpregret_dfu;
    /* per process */
    uint64_t boots;
    bool first_boot_pending;
    /* RAM, lost on reset */
    bool in_dfu;
    uint8_t cur_obj;
    bool valid_init;
    dk_initpkt pkt;
    uint32_t fw_start, fw_size;
    uint16_t prn_target, prn_count;
    bool write_freed; /* the last WRITE gave its RX block back */
    uint64_t deadline;
    uint64_t image_bytes;
    uint32_t timeout_ms; /* inactivity period of this DFU session */
    /* Data bytes a run of WRITEs accepted that are not yet in
     * s.progress.firmware_image_crc: the CRC is folded once per run (zlib's
     * crc32 is several times slower on 64-byte pieces), before any other
     * request, a PRN answer, or a look at the settings. */
    uint8_t crc_pend[4096];
    size_t crc_pend_len;
};

/* ---- the data CRC, folded per run of WRITEs ---- */

static void crc_sync(ds_bl *bl)
{
    if (bl->crc_pend_len) {
        uint32_t *c = &bl->s.progress.firmware_image_crc;
        *c = dk_crc32(*c, bl->crc_pend, bl->crc_pend_len);
        bl->crc_pend_len = 0;
    }
}

static void crc_add(ds_bl *bl, const uint8_t *d, uint32_t len)
{
    if (len > sizeof bl->crc_pend - bl->crc_pend_len) {
        crc_sync(bl);
        if (len > sizeof bl->crc_pend) {
            uint32_t *c = &bl->s.progress.firmware_image_crc;
            *c = dk_crc32(*c, d, len);
            return;
        }
    }
    memcpy(bl->crc_pend + bl->crc_pend_len, d, len);
    bl->crc_pend_len += len;
}

/* ---- configuration ---- */

void ds_bl_config_default(ds_bl_config *cfg, const char *chip)
{
    memset(cfg, 0, sizeof *cfg);
    const ds_chip *c = ds_chip_find(chip);
    cfg->chip = c ? *c : *ds_chip_find("nrf52840");
    cfg->sd_fwid = 0x0100;
    cfg->bootloader_version = 1;
    cfg->hw_version = 52;
    cfg->downgrade_prevention = true;
    cfg->accept_same_version = true;
    cfg->enter = DS_BL_ENTER_NO_VALID_APP;
    cfg->mtu = DK_MTU_UART;
    cfg->inactivity_ms = 120000;
    cfg->protocol_version_msg = true;
    cfg->fw_version_msg = true;
}

uint32_t ds_bl_config_app_room(const ds_bl_config *cfg)
{
    const ds_chip *c = &cfg->chip;
    uint32_t b0 = DS_MBR_SIZE;
    if (cfg->sd_end > DS_MBR_SIZE + 0x3000) { /* provisioned: bank 0 starts at its end */
        uint32_t end = (cfg->sd_end + c->page_size - 1) / c->page_size * c->page_size;
        if (end < c->bl_start)
            b0 = end;
    }
    uint32_t end = c->bl_start - c->app_data_size;
    return end > b0 ? end - b0 : 0;
}

ds_bl *ds_bl_new(const ds_bl_config *cfg, ds_flash *flash)
{
    const ds_chip *c = &cfg->chip;
    if (!flash || ds_flash_size(flash) != c->flash_size || ds_flash_page_size(flash) != c->page_size ||
        c->settings + c->page_size > c->flash_size || c->bl_start >= c->mbr_params ||
        c->bl_start < DS_MBR_SIZE + c->app_data_size || (cfg->sd_end && cfg->sd_end >= c->bl_start))
        return NULL;
    ds_bl *bl = calloc(1, sizeof *bl);
    if (!bl)
        return NULL;
    bl->cfg = *cfg;
    bl->fl = flash;
    bl->first_boot_pending = true;
    /* A process's first SHA-256 sets up the crypto library (~1 ms): paid
     * here, not in the answer to the final EXECUTE. */
    static const uint8_t none[1];
    uint8_t h[32];
    dk_sha256_le(none, 0, h);
    return bl;
}

void ds_bl_free(ds_bl *bl) { free(bl); }

/* ---- flash helpers ---- */

static uint32_t page_up(const ds_bl *bl, uint32_t v)
{
    uint32_t p = bl->cfg.chip.page_size;
    return (v + p - 1) / p * p;
}

static uint32_t rd32(const ds_bl *bl, uint32_t addr)
{
    dk_rd r = dk_rd_make(ds_flash_mem(bl->fl) + addr, 4);
    return dk_rd_le32(&r);
}

static bool sd_present(const ds_bl *bl) { return rd32(bl, DS_SD_INFO_ADDR + 4) == DS_SD_MAGIC; }

uint32_t ds_bl_bank0_start(const ds_bl *bl)
{
    if (!sd_present(bl))
        return DS_MBR_SIZE;
    uint32_t end = page_up(bl, rd32(bl, DS_SD_INFO_ADDR + 8));
    return end > DS_MBR_SIZE && end < bl->cfg.chip.bl_start ? end : DS_MBR_SIZE;
}

uint32_t ds_bl_bank1_start(const ds_bl *bl)
{
    return page_up(bl, ds_bl_bank0_start(bl) + bl->s.bank_0.image_size);
}

static uint32_t free_end(const ds_bl *bl) { return bl->cfg.chip.bl_start - bl->cfg.chip.app_data_size; }

/* Flash op result -> 0, R_CUT, or 1 (failed). */
static int fl_rc(int rc) { return rc == 0 ? 0 : rc == DS_FLASH_E_CUT ? R_CUT : 1; }

static int erase_range(ds_bl *bl, uint32_t addr, uint32_t len)
{
    uint32_t p = bl->cfg.chip.page_size;
    for (uint32_t a = addr; a < addr + len; a += p) {
        int rc = fl_rc(ds_flash_erase_page(bl->fl, a));
        if (rc)
            return rc;
    }
    return 0;
}

/* settings_write: skipped when the page already holds these bytes. */
static int sett_write_to(ds_bl *bl, uint32_t addr, const uint8_t img[DS_SETT_SIZE])
{
    if (!memcmp(ds_flash_mem(bl->fl) + addr, img, DS_SETT_SIZE))
        return 0;
    int rc = fl_rc(ds_flash_erase_page(bl->fl, addr));
    if (rc)
        return rc;
    return fl_rc(ds_flash_write(bl->fl, addr, img, DS_SETT_SIZE));
}

/* nrf_dfu_settings_write_and_backup: page, then backup (whose failure the
 * SDK only logs).  0, 1 (page write failed) or R_CUT. */
static int sett_save(ds_bl *bl)
{
    uint8_t img[DS_SETT_SIZE];
    ds_sett_seal(&bl->s);
    ds_sett_encode(&bl->s, img);
    int rc = sett_write_to(bl, bl->cfg.chip.settings, img);
    if (rc)
        return rc;
    rc = sett_write_to(bl, bl->cfg.chip.mbr_params, img);
    return rc == R_CUT ? R_CUT : 0;
}

/* Reset "with backup": the settings page (as in flash) copied to the backup. */
static int backup_from_page(ds_bl *bl)
{
    uint8_t img[DS_SETT_SIZE];
    memcpy(img, ds_flash_mem(bl->fl) + bl->cfg.chip.settings, DS_SETT_SIZE);
    if (!ds_sett_page_valid(img))
        return 0;
    int rc = sett_write_to(bl, bl->cfg.chip.mbr_params, img);
    return rc == R_CUT ? R_CUT : 0;
}

/* ---- provisioning a blank chip (what a debugger + nrfutil settings would do) ---- */

static void pattern(uint8_t *p, uint32_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static void provision(ds_bl *bl)
{
    const ds_bl_config *c = &bl->cfg;
    uint32_t n = c->chip.bl_start;
    uint8_t *buf = malloc(n);
    if (!buf)
        return;
    pattern(buf, DS_MBR_SIZE, 0x4D4252);
    ds_flash_program(bl->fl, 0, buf, DS_MBR_SIZE);
    if (c->sd_end > DS_MBR_SIZE + 0x3000) {
        uint32_t len = c->sd_end - DS_MBR_SIZE;
        pattern(buf, len, 0x5344);
        uint8_t *info = buf + (DS_SD_INFO_ADDR - DS_MBR_SIZE);
        dk_put_le32(info, 0xFFFFFF20); /* info struct size */
        dk_put_le32(info + 4, DS_SD_MAGIC);
        dk_put_le32(info + 8, c->sd_end);
        dk_put_le32(info + 12, 0xFFFF0000u | c->sd_fwid);
        dk_put_le32(info + 16, c->sd_version);
        ds_flash_program(bl->fl, DS_MBR_SIZE, buf, len);
    }
    uint32_t bl_len = ds_chip_bl_size(&c->chip);
    pattern(buf, bl_len, 0x424C);
    ds_flash_program(bl->fl, c->chip.bl_start, buf, bl_len);

    ds_settings *s = &bl->s;
    memset(s, 0, sizeof *s);
    s->settings_version = DS_SETT_VERSION;
    s->bootloader_version = c->bootloader_version;
    s->app_version = c->app_version;
    ds_sett_progress_reset(s);
    uint32_t b0 = ds_bl_bank0_start(bl);
    if (c->app_size && c->app_size <= ds_bl_config_app_room(c)) {
        pattern(buf, c->app_size, 0x415050);
        ds_flash_program(bl->fl, b0, buf, c->app_size);
        uint32_t crc = dk_crc32(0, buf, c->app_size);
        s->bank_0 = (ds_bank){ c->app_size, crc, DS_BANK_VALID_APP };
        s->bv_app.type = DS_BV_CRC;
        dk_put_le32(s->bv_app.bytes, crc);
    }
    ds_sett_seal(s);
    uint8_t img[DS_SETT_SIZE];
    ds_sett_encode(s, img);
    ds_flash_program(bl->fl, c->chip.settings, img, DS_SETT_SIZE);
    ds_flash_program(bl->fl, c->chip.mbr_params, img, DS_SETT_SIZE);
    free(buf);
}

/* ---- boot path ---- */

/* nrf_dfu_settings_init (§6.2): page, forbidden parts from the backup. */
static int settings_init(ds_bl *bl)
{
    const uint8_t *mem = ds_flash_mem(bl->fl);
    const uint8_t *page = mem + bl->cfg.chip.settings, *bak = mem + bl->cfg.chip.mbr_params;
    bool pv = ds_sett_page_valid(page), bv = ds_sett_backup_valid(bak);
    uint8_t img[DS_SETT_SIZE];
    if (pv) {
        memcpy(img, page, DS_SETT_SIZE);
        if (bv) {
            memcpy(img + 4, bak + 4, 0x58 - 4);
            memcpy(img + DS_SETT_INIT_CMD_OFF, bak + DS_SETT_INIT_CMD_OFF, 0x324 - DS_SETT_INIT_CMD_OFF);
        }
        ds_sett_decode(img, &bl->s);
    } else if (bv) {
        ds_sett_decode(bak, &bl->s);
    } else {
        memset(&bl->s, 0, sizeof bl->s);
        bl->s.settings_version = DS_SETT_VERSION;
    }
    return sett_save(bl) == R_CUT ? R_CUT : 0;
}

static bool bv_ok(const ds_bl *bl, const ds_bootval *bv, uint32_t addr, uint32_t len)
{
    const uint8_t *m = ds_flash_mem(bl->fl);
    if (addr > ds_flash_size(bl->fl) || len > ds_flash_size(bl->fl) - addr)
        return false;
    if (bv->type == DS_BV_CRC) {
        dk_rd r = dk_rd_make(bv->bytes, 4);
        return dk_crc32(0, m + addr, len) == dk_rd_le32(&r);
    }
    if (bv->type == DS_BV_SHA256) {
        uint8_t h[32];
        dk_sha256_le(m + addr, len, h);
        return !memcmp(h, bv->bytes, 32);
    }
    return true; /* NO_VALIDATION; ECDSA is trusted here (checked at postvalidation) */
}

bool ds_bl_app_valid(const ds_bl *bl)
{
    return bl->s.bank_0.bank_code == DS_BANK_VALID_APP &&
           bv_ok(bl, &bl->s.bv_app, ds_bl_bank0_start(bl), bl->s.bank_0.image_size);
}

/* image_copy: dst pages erased and written in steps, write_offset saved
 * after each step.  done = bytes already copied (write_offset). */
static int image_copy(ds_bl *bl, uint32_t dst, uint32_t src, uint32_t size, uint32_t done)
{
    uint32_t p = bl->cfg.chip.page_size;
    if (src == dst || done >= size)
        return 0;
    uint32_t step = COPY_STEP_PAGES;
    if (src > dst && (src - dst) / p < step)
        step = (src - dst) / p ? (src - dst) / p : 1;
    dst += done;
    src += done;
    size -= done;
    while (size) {
        uint32_t bytes = size > step * p ? step * p : size;
        int rc = erase_range(bl, dst, bytes);
        if (!rc)
            rc = fl_rc(ds_flash_write(bl->fl, dst, ds_flash_mem(bl->fl) + src, bytes));
        if (rc)
            return rc;
        dst += bytes;
        src += bytes;
        size -= bytes;
        bl->s.write_offset += bytes;
        rc = sett_save(bl);
        if (rc)
            return rc;
    }
    return 0;
}

enum { ACT_NONE, ACT_RESET, ACT_CONTINUE };

/* nrf_bootloader_fw_activate (§6.6 step 5). */
static int activate(ds_bl *bl, int *outcome)
{
    ds_settings *s = &bl->s;
    uint32_t src = s->progress.firmware_image_crc; /* update_start_address */
    uint32_t size = s->bank_1.image_size, code = s->bank_1.bank_code;
    int rc = 0;
    *outcome = ACT_NONE;
    switch (code) {
    case DS_BANK_VALID_APP: {
        uint32_t dst = ds_bl_bank0_start(bl);
        rc = image_copy(bl, dst, src, size, s->write_offset);
        if (rc)
            return rc;
        if (dst + size <= ds_flash_size(bl->fl)) {
            uint32_t crc = dk_crc32(0, ds_flash_mem(bl->fl) + dst, size);
            if (crc == s->bank_1.image_crc)
                s->bank_0 = (ds_bank){ size, crc, DS_BANK_VALID_APP };
        }
        break;
    }
    case DS_BANK_VALID_SD:
    case DS_BANK_VALID_BL:
    case DS_BANK_VALID_SD_BL: {
        uint32_t sd_len = code == DS_BANK_VALID_BL ? 0 : (code == DS_BANK_VALID_SD ? size : s->sd_size);
        if (sd_len > size)
            sd_len = size;
        uint32_t wo = s->write_offset;
        if (sd_len && wo < sd_len) {
            rc = image_copy(bl, DS_MBR_SIZE, src, sd_len, wo);
            if (rc)
                return rc;
            wo = sd_len;
        }
        uint32_t bl_len = size - sd_len;
        if (bl_len && bl_len <= ds_chip_bl_size(&bl->cfg.chip)) {
            /* the MBR copies the bootloader; progress kept the same way */
            rc = image_copy(bl, bl->cfg.chip.bl_start, src + sd_len, bl_len, wo - sd_len);
            if (rc)
                return rc;
        }
        break;
    }
    default:
        return 0;
    }
    memset(&s->bank_1, 0, sizeof s->bank_1); /* nrf_dfu_bank_invalidate */
    s->write_offset = 0;
    rc = sett_save(bl);
    if (rc == R_CUT)
        return rc;
    *outcome = (code == DS_BANK_VALID_SD || code == DS_BANK_VALID_SD_BL) && ds_bl_app_valid(bl)
                   ? ACT_CONTINUE
                   : ACT_RESET;
    return 0;
}

static uint32_t image_size_of(const dk_initpkt *p)
{
    return dk_initpkt_image_size(p);
}

/* nrf_dfu_validation_init: re-arm a persisted init command (§6.9). */
static void validation_init(ds_bl *bl)
{
    ds_settings *s = &bl->s;
    bl->valid_init = false;
    if (s->progress.command_size == 0 || s->progress.command_size > DS_SETT_INIT_CMD_MAX)
        return;
    if (dk_initpkt_decode(s->init_command, s->progress.command_size, &bl->pkt, NULL) != DK_OK ||
        !bl->pkt.has_init)
        return;
    bl->valid_init = true;
    bl->fw_start = ds_bl_bank1_start(bl);
    bl->fw_size = image_size_of(&bl->pkt);
}

static bool boot_once(ds_bl *bl, uint64_t now_ms, bool *done)
{
    *done = false;
    ds_flash_clear_cut(bl->fl);
    bool keep_gpregret = bl->gpregret_dfu;
    uint64_t boots = bl->boots;
    bool first = bl->first_boot_pending;
    ds_bl_config cfg = bl->cfg;
    ds_flash *fl = bl->fl;
    memset(bl, 0, sizeof *bl);
    bl->cfg = cfg;
    bl->fl = fl;
    bl->boots = boots;
    bl->gpregret_dfu = keep_gpregret;
    bl->first_boot_pending = first;
    bl->cur_obj = DK_OBJ_COMMAND;
    bl->deadline = UINT64_MAX;

    if (ds_flash_is_erased(bl->fl, 0, DS_MBR_SIZE))
        provision(bl);
    if (settings_init(bl) == R_CUT)
        return false;
    int outcome;
    int rc = activate(bl, &outcome);
    if (rc == R_CUT)
        return false;
    bl->boots++;
    if (rc == 0 && outcome == ACT_RESET)
        return true; /* activation done: the chip resets again */

    /* dfu_enter_check */
    bool enter = bl->cfg.enter == DS_BL_ENTER_ALWAYS ||
                 (bl->cfg.enter == DS_BL_ENTER_FIRST_BOOT && bl->first_boot_pending) ||
                 bl->gpregret_dfu || bl->s.enter_buttonless_dfu == 1 || !ds_bl_app_valid(bl) ||
                 outcome == ACT_CONTINUE;
    bl->first_boot_pending = false;
    bl->gpregret_dfu = false;
    if (bl->s.enter_buttonless_dfu == 1) {
        bl->s.enter_buttonless_dfu = 0;
        if (sett_save(bl) == R_CUT)
            return false;
    }
    bl->in_dfu = enter;
    if (enter) {
        bl->timeout_ms = outcome == ACT_CONTINUE ? CONTINUATION_MS : bl->cfg.inactivity_ms;
        bl->deadline = bl->timeout_ms ? now_ms + bl->timeout_ms : UINT64_MAX;
        validation_init(bl);
    }
    *done = true;
    return true;
}

bool ds_bl_boot(ds_bl *bl, uint64_t now_ms)
{
    /* A cut during boot or an activation reset boots again; a flash that
     * keeps failing gives up after a bounded number of rounds (the real chip
     * would loop; the simulator stays in whatever state it reached). */
    for (int round = 0; round < 64; round++) {
        bool done;
        boot_once(bl, now_ms, &done);
        if (done)
            return bl->in_dfu;
    }
    return bl->in_dfu;
}

bool ds_bl_power_on(ds_bl *bl, uint64_t now_ms)
{
    bl->gpregret_dfu = false;
    return ds_bl_boot(bl, now_ms);
}

void ds_bl_request_dfu(ds_bl *bl) { bl->gpregret_dfu = true; }
bool ds_bl_in_dfu(const ds_bl *bl) { return bl->in_dfu; }
uint64_t ds_bl_deadline(const ds_bl *bl) { return bl->in_dfu ? bl->deadline : UINT64_MAX; }
uint64_t ds_bl_image_bytes(const ds_bl *bl) { return bl->image_bytes; }
uint64_t ds_bl_boots(const ds_bl *bl) { return bl->boots; }
const ds_settings *ds_bl_settings(ds_bl *bl)
{
    crc_sync(bl);
    return &bl->s;
}
const ds_bl_config *ds_bl_get_config(const ds_bl *bl) { return &bl->cfg; }
ds_flash *ds_bl_flash(const ds_bl *bl) { return bl->fl; }
bool ds_bl_init_cmd_valid(const ds_bl *bl) { return bl->valid_init; }
uint8_t ds_bl_current_obj(const ds_bl *bl) { return bl->cur_obj; }

static void timer_restart(ds_bl *bl, uint64_t now_ms)
{
    if (bl->timeout_ms)
        bl->deadline = now_ms + bl->timeout_ms;
}

int ds_bl_tick(ds_bl *bl, uint64_t now_ms)
{
    if (!bl->in_dfu || now_ms < bl->deadline)
        return 0;
    bl->in_dfu = false;
    return backup_from_page(bl) == R_CUT ? DS_BL_CUT : DS_BL_RESET;
}

/* ---- init packet validation (§6.7) ---- */

static bool fw_type_ok(uint32_t t)
{
    return t == DK_FW_APPLICATION || t == DK_FW_SOFTDEVICE || t == DK_FW_BOOTLOADER ||
           t == DK_FW_SOFTDEVICE_BOOTLOADER || t == DK_FW_EXTERNAL_APPLICATION;
}

static bool sd_req_has(const dk_init_cmd *c, uint32_t id)
{
    for (size_t i = 0; i < c->sd_req_count; i++)
        if (c->sd_req[i] == id)
            return true;
    return false;
}

static bool sd_req_ok(const ds_bl *bl, const dk_init_cmd *c)
{
    bool ext = c->type == DK_FW_EXTERNAL_APPLICATION;
    if (ext && sd_req_has(c, 0xFFFE))
        return true;
    if (!sd_present(bl))
        return (c->sd_req_count == 0 || c->sd_req[0] == 0) &&
               (!bl->cfg.downgrade_prevention || c->has_fw_version);
    uint32_t fwid = rd32(bl, DS_SD_INFO_ADDR + 12) & 0xFFFF;
    if (c->sd_req_count == 0)
        return false;
    if (c->sd_req[0] != 0)
        return sd_req_has(c, fwid);
    if (c->type == DK_FW_APPLICATION || ext)
        return c->sd_req_count == 1 || !bl->cfg.downgrade_prevention || sd_req_has(c, fwid);
    if (c->type == DK_FW_SOFTDEVICE)
        return !bl->cfg.downgrade_prevention;
    return true;
}

static bool fw_version_ok(const ds_bl *bl, const dk_init_cmd *c)
{
    if (c->type == DK_FW_APPLICATION || c->type == DK_FW_SOFTDEVICE ||
        c->type == DK_FW_EXTERNAL_APPLICATION) {
        if (!bl->cfg.downgrade_prevention || c->fw_version > bl->s.app_version)
            return true;
        return c->fw_version == bl->s.app_version && bl->cfg.accept_same_version;
    }
    return c->fw_version > bl->s.bootloader_version;
}

static bool fw_version_required(const ds_bl *bl, uint32_t type)
{
    if (type == DK_FW_SOFTDEVICE)
        return false;
    if (type == DK_FW_APPLICATION || type == DK_FW_EXTERNAL_APPLICATION)
        return bl->cfg.downgrade_prevention;
    return true;
}

/* nrf_dfu_cache_prepare (§7): where the image goes, deleting the app and then
 * the SoftDevice when needed.  Applied only on success. */
static int cache_prepare(ds_bl *bl, uint32_t size, bool single, bool keep_app, bool keep_sd)
{
    ds_settings *s = &bl->s;
    uint32_t end = free_end(bl);
    ds_bank b0 = s->bank_0;
    bool app_valid = b0.bank_code == DS_BANK_VALID_APP;
    uint32_t addr = page_up(bl, ds_bl_bank0_start(bl) + b0.image_size);
    bool fits = addr <= end && size <= end - addr;
    if (fits && !single)
        return OK;
    if (keep_app && app_valid)
        return fits ? OK : DK_RES_INSUFFICIENT_RESOURCES;
    memset(&b0, 0, sizeof b0); /* pass 2: app deleted */
    addr = ds_bl_bank0_start(bl);
    fits = size <= end - addr;
    bool del_sd = false;
    if (!(fits && !single) && sd_present(bl) && !keep_sd) {
        del_sd = true; /* pass 3 */
        addr = DS_MBR_SIZE;
        fits = size <= end - addr;
    }
    if (!fits)
        return DK_RES_INSUFFICIENT_RESOURCES;
    s->bank_0 = b0;
    if (del_sd) {
        uint8_t zero[4] = { 0 };
        int rc = fl_rc(ds_flash_write(bl->fl, DS_SD_INFO_ADDR + 4, zero, 4));
        if (rc == R_CUT)
            return R_CUT;
    }
    return OK;
}

static int prevalidate(ds_bl *bl)
{
    ds_settings *s = &bl->s;
    dk_initpkt *p = &bl->pkt;
    if (dk_initpkt_decode(s->init_command, s->progress.command_size, p, NULL) != DK_OK ||
        (p->is_signed && p->has_plain) || !p->has_init ||
        (p->has_op_code && p->op_code != 1))
        return DK_RES_INVALID_OBJECT;
    const dk_init_cmd *c = &p->init;
    uint32_t type = c->has_type ? c->type : DK_FW_APPLICATION;

    /* 1. signature */
    bool sig_required = type == DK_FW_BOOTLOADER || type == DK_FW_SOFTDEVICE_BOOTLOADER ||
                        type == DK_FW_EXTERNAL_APPLICATION || !bl->cfg.allow_unsigned;
    if (sig_required) {
        if (!p->is_signed)
            return EXT(DK_EXT_SIGNATURE_MISSING);
        if (p->signature_type != DK_SIG_ECDSA_P256_SHA256)
            return EXT(DK_EXT_WRONG_SIGNATURE_TYPE);
        if (p->signature_len != 64)
            return DK_RES_OPERATION_FAILED;
        if (!bl->cfg.pubkey_pem ||
            dk_ecdsa_verify_pem(bl->cfg.pubkey_pem, s->init_command + p->signed_off, p->signed_len,
                                p->signature, NULL) != DK_OK)
            return DK_RES_INVALID_OBJECT;
    }
    /* 2. type, hash type */
    if (!c->has_type || !fw_type_ok(c->type))
        return EXT(DK_EXT_INIT_COMMAND_INVALID);
    if (!c->has_hash || c->hash_type != DK_HASH_SHA256)
        return EXT(DK_EXT_WRONG_HASH_TYPE);
    /* 3. versions */
    if (!(bl->cfg.debug_bootloader && c->has_is_debug && c->is_debug)) {
        if (!c->has_hw_version)
            return EXT(DK_EXT_INIT_COMMAND_INVALID);
        if (c->hw_version != bl->cfg.hw_version)
            return EXT(DK_EXT_HW_VERSION_FAILURE);
        if (!sd_req_ok(bl, c))
            return EXT(DK_EXT_SD_VERSION_FAILURE);
        if (c->has_fw_version) {
            if (!fw_version_ok(bl, c))
                return EXT(DK_EXT_FW_VERSION_FAILURE);
        } else if (fw_version_required(bl, c->type)) {
            return EXT(DK_EXT_INIT_COMMAND_INVALID);
        }
    }
    /* 4. size and room */
    uint32_t size;
    if (c->type == DK_FW_APPLICATION || c->type == DK_FW_EXTERNAL_APPLICATION) {
        size = c->app_size;
    } else {
        if (c->bl_size > ds_chip_bl_size(&bl->cfg.chip))
            return DK_RES_INSUFFICIENT_RESOURCES;
        size = c->sd_size + c->bl_size;
    }
    if (size == 0)
        return EXT(DK_EXT_INIT_COMMAND_INVALID);
    bool single = bl->cfg.single_bank &&
                  (c->type == DK_FW_APPLICATION || c->type == DK_FW_SOFTDEVICE);
    bool keep_sd = c->sd_req_count > 0 && c->sd_req[0] != 0;
    int rc = cache_prepare(bl, size, single, bl->cfg.force_dual_bank, keep_sd);
    if (rc != OK)
        return rc;
    bl->fw_start = ds_bl_bank1_start(bl);
    bl->fw_size = size;
    bool in_place = bl->fw_start == ds_bl_bank0_start(bl);
    s->bank_layout = in_place ? DS_BANK_LAYOUT_SINGLE : DS_BANK_LAYOUT_DUAL;
    s->bank_current = in_place ? DS_BANK_CURRENT_0 : DS_BANK_CURRENT_1;
    if (c->type == DK_FW_SOFTDEVICE || c->type == DK_FW_SOFTDEVICE_BOOTLOADER)
        s->sd_size = c->sd_size;
    return OK;
}

/* nrf_dfu_validation_init_cmd_execute */
static int cmd_execute(ds_bl *bl)
{
    ds_settings *s = &bl->s;
    int res;
    if (s->progress.command_offset != s->progress.command_size) {
        res = DK_RES_OPERATION_NOT_PERMITTED;
    } else if (bl->valid_init) {
        bl->fw_start = ds_bl_bank1_start(bl);
        bl->fw_size = image_size_of(&bl->pkt);
        res = OK;
    } else {
        res = prevalidate(bl);
        if (res == R_CUT)
            return R_CUT;
    }
    if (res == OK)
        bl->valid_init = true;
    else
        ds_sett_progress_reset(s);
    return res;
}

/* postvalidation of the whole image (§6.6 steps 1-3). */
static int postvalidate(ds_bl *bl)
{
    ds_settings *s = &bl->s;
    const dk_init_cmd *c = &bl->pkt.init;
    const uint8_t *img = ds_flash_mem(bl->fl) + bl->fw_start;
    int res = OK;
    uint8_t h[32]; /* the image's hash, as the boot validation may store it */
    if (!bl->valid_init || bl->fw_size == 0 ||
        bl->fw_start + (uint64_t)bl->fw_size > ds_flash_size(bl->fl)) {
        res = DK_RES_INVALID_OBJECT;
    } else {
        dk_sha256_le(img, bl->fw_size, h);
        if (c->hash_len != 32 || memcmp(h, c->hash, 32))
            res = EXT(DK_EXT_VERIFICATION_FAILED);
    }
    if (res == OK) {
        uint32_t crc = dk_crc32(0, img, bl->fw_size);
        ds_bootval bv = { DS_BV_CRC, { 0 } };
        uint32_t bvt = c->bv_count ? c->bv[0].type : DK_VAL_VALIDATE_GENERATED_CRC;
        if (bvt == DK_VAL_NO_VALIDATION) {
            bv.type = DS_BV_NO_VALIDATION;
        } else if (bvt == DK_VAL_VALIDATE_SHA256) {
            bv.type = DS_BV_SHA256;
            memcpy(bv.bytes, h, sizeof h);
        } else if (bvt == DK_VAL_VALIDATE_ECDSA_P256_SHA256) {
            bv.type = DS_BV_ECDSA;
            memcpy(bv.bytes, c->bv[0].bytes, c->bv[0].len <= 64 ? c->bv[0].len : 64);
        } else {
            dk_put_le32(bv.bytes, crc);
        }
        s->bank_1 = (ds_bank){ bl->fw_size, crc, DS_BANK_VALID_APP };
        switch (c->type) {
        case DK_FW_APPLICATION:
            if (s->bank_layout == DS_BANK_LAYOUT_DUAL && s->bank_current == DS_BANK_CURRENT_1)
                s->bank_0.bank_code = DS_BANK_INVALID;
            s->bv_app = bv;
            if (!(c->is_debug && bl->cfg.debug_bootloader))
                s->app_version = c->fw_version;
            if (sd_present(bl) && (c->sd_req_count == 0 || c->sd_req[0] == 0)) {
                uint8_t zero[4] = { 0 };
                if (fl_rc(ds_flash_write(bl->fl, DS_SD_INFO_ADDR + 4, zero, 4)) == R_CUT)
                    return R_CUT;
            }
            break;
        case DK_FW_EXTERNAL_APPLICATION:
            s->bank_1.bank_code = DS_BANK_VALID_EXT_APP;
            break;
        case DK_FW_SOFTDEVICE:
            s->bank_1.bank_code = DS_BANK_VALID_SD;
            s->bv_sd = bv;
            break;
        case DK_FW_BOOTLOADER:
            s->bank_1.bank_code = DS_BANK_VALID_BL;
            s->bv_bl = bv;
            s->bootloader_version = c->fw_version;
            break;
        default:
            s->bank_1.bank_code = DS_BANK_VALID_SD_BL;
            s->bv_bl = bv;
            s->bootloader_version = c->fw_version;
            break;
        }
    } else {
        memset(&s->bank_1, 0, sizeof s->bank_1);
    }
    ds_sett_progress_reset(s);
    s->progress.firmware_image_crc = bl->fw_start; /* update_start_address */
    return res;
}

/* ---- requests ---- */

typedef struct {
    int res;          /* handler result (OK, code, EXT(e)) or R_CUT */
    bool respond;     /* send a response */
    bool reset;       /* reset after the response */
    bool post_save;   /* write settings after the response */
    dk_msg m;         /* response payload fields */
} outcome;

static int obj_create(ds_bl *bl, const dk_msg *q, uint64_t now_ms)
{
    ds_settings *s = &bl->s;
    uint8_t type = q->req.create.type;
    uint32_t size = q->req.create.size;
    if (type == DK_OBJ_COMMAND) {
        bl->cur_obj = DK_OBJ_COMMAND;
        timer_restart(bl, now_ms);
        if (size == 0)
            return DK_RES_INVALID_PARAMETER;
        if (size > DS_SETT_INIT_CMD_MAX)
            return DK_RES_INSUFFICIENT_RESOURCES;
        bl->valid_init = false;
        ds_sett_progress_reset(s);
        s->progress.command_size = size;
        return OK;
    }
    if (type != DK_OBJ_DATA) {
        bl->cur_obj = DK_OBJ_INVALID;
        return DK_RES_INVALID_OBJECT;
    }
    bl->cur_obj = DK_OBJ_DATA;
    uint32_t page = bl->cfg.chip.page_size;
    uint32_t last = s->progress.firmware_image_offset_last;
    if (!bl->valid_init)
        return DK_RES_OPERATION_NOT_PERMITTED;
    if (size == 0)
        return DK_RES_INVALID_PARAMETER;
    if (size % page && (uint64_t)last + size != bl->fw_size)
        return DK_RES_INVALID_PARAMETER;
    if (size > page)
        return DK_RES_INSUFFICIENT_RESOURCES;
    if ((uint64_t)last + size > bl->fw_size)
        return DK_RES_OPERATION_NOT_PERMITTED;
    s->progress.data_object_size = size;
    s->progress.firmware_image_offset = last;
    s->progress.firmware_image_crc = s->progress.firmware_image_crc_last;
    s->write_offset = last;
    int rc = erase_range(bl, bl->fw_start + last, (size + page - 1) / page * page);
    if (rc == R_CUT)
        return R_CUT;
    return rc ? DK_RES_INVALID_OBJECT : OK;
}

/* *report: the write was taken, so a PRN answer reports the object's
 * progress (else it reads offset 0 / CRC 0). */
static int obj_write(ds_bl *bl, const dk_msg *q, bool *report)
{
    ds_settings *s = &bl->s;
    const uint8_t *d = q->req.write.data;
    uint32_t len = (uint32_t)q->req.write.len;
    if (bl->cur_obj == DK_OBJ_COMMAND) {
        if ((uint64_t)len + s->progress.command_offset > s->progress.command_size)
            return DK_RES_INVALID_PARAMETER;
        memcpy(s->init_command + s->progress.command_offset, d, len);
        s->progress.command_crc = dk_crc32(s->progress.command_crc, d, len);
        s->progress.command_offset += len;
        *report = true;
        return OK;
    }
    if (bl->cur_obj != DK_OBJ_DATA)
        return DK_RES_INVALID_OBJECT;
    if (!bl->valid_init)
        return DK_RES_OPERATION_NOT_PERMITTED;
    if ((uint64_t)len + s->progress.firmware_image_offset - s->progress.firmware_image_offset_last >
        s->progress.data_object_size)
        return DK_RES_INVALID_PARAMETER;
    uint32_t addr = bl->fw_start + s->write_offset;
    /* fstorage refuses empty, unaligned or odd-length writes: the request
     * is dropped without an error, a PRN then reads offset 0 / CRC 0. */
    if (len == 0 || len % 4 || addr % 4)
        return OK;
    int rc = fl_rc(ds_flash_write(bl->fl, addr, d, len));
    if (rc == R_CUT)
        return R_CUT;
    /* an NVMC error surfaces only later, through the hash */
    crc_add(bl, d, len);
    s->write_offset += len;
    s->progress.firmware_image_offset += len;
    bl->image_bytes += len;
    *report = true;
    return OK;
}

static void obj_execute(ds_bl *bl, uint64_t now_ms, outcome *o)
{
    ds_settings *s = &bl->s;
    if (bl->cur_obj == DK_OBJ_COMMAND) {
        o->res = cmd_execute(bl);
        if (o->res == OK) {
            int rc = sett_save(bl);
            if (rc == R_CUT)
                o->res = R_CUT;
            else if (rc)
                o->res = DK_RES_OPERATION_FAILED;
        }
        return;
    }
    if (bl->cur_obj != DK_OBJ_DATA) {
        o->res = DK_RES_INVALID_OBJECT;
        return;
    }
    if (s->progress.firmware_image_offset - s->progress.firmware_image_offset_last !=
        s->progress.data_object_size) {
        o->res = DK_RES_OPERATION_NOT_PERMITTED;
        return;
    }
    s->progress.data_object_size = 0;
    s->progress.firmware_image_crc_last = s->progress.firmware_image_crc;
    s->progress.firmware_image_offset_last = s->progress.firmware_image_offset;
    timer_restart(bl, now_ms);
    if (s->progress.firmware_image_offset == bl->fw_size) {
        o->res = postvalidate(bl);
        if (o->res != R_CUT) {
            o->post_save = true;
            o->reset = true;
        }
        return;
    }
    o->res = OK;
    o->post_save = bl->cfg.save_progress_in_flash;
}

/* The current object's offset and CRC, as CRC_GET and PRN report them;
 * false when no object is selected. */
static bool crc_report(ds_bl *bl, dk_msg *r)
{
    const ds_settings *s = &bl->s;
    if (bl->cur_obj == DK_OBJ_COMMAND) {
        r->rsp.crc.offset = s->progress.command_offset;
        r->rsp.crc.crc = s->progress.command_crc;
        return true;
    }
    if (bl->cur_obj != DK_OBJ_DATA)
        return false;
    crc_sync(bl);
    r->rsp.crc.offset = s->progress.firmware_image_offset;
    r->rsp.crc.crc = s->progress.firmware_image_crc;
    return true;
}

static void fw_version(const ds_bl *bl, uint8_t image, dk_msg *r)
{
    const ds_settings *s = &bl->s;
    bool sd = sd_present(bl), app = ds_bl_app_valid(bl);
    unsigned count = 1 + sd + app;
    r->rsp.fw.type = 0xFF;
    if (image == 0) {
        r->rsp.fw.type = 0x02;
        r->rsp.fw.version = s->bootloader_version;
        r->rsp.fw.addr = bl->cfg.chip.bl_start;
        r->rsp.fw.len = ds_chip_bl_size(&bl->cfg.chip);
    } else if (image == 1 && sd) {
        r->rsp.fw.type = 0x00;
        r->rsp.fw.version = rd32(bl, DS_SD_INFO_ADDR + 16);
        r->rsp.fw.addr = DS_MBR_SIZE;
        r->rsp.fw.len = rd32(bl, DS_SD_INFO_ADDR + 8) - DS_MBR_SIZE;
    } else if (image < count && app) {
        r->rsp.fw.type = 0x01;
        r->rsp.fw.version = s->app_version;
        r->rsp.fw.addr = ds_bl_bank0_start(bl);
        r->rsp.fw.len = s->bank_0.image_size;
    }
}

static void dispatch(ds_bl *bl, const uint8_t *req, size_t len, uint32_t payload_len, uint64_t now_ms,
                     outcome *o)
{
    dk_msg q;
    dk_msg_parse(req, len, &q); /* short payloads read as zero, like stale bytes */
    if (req[0] == DK_OP_OBJECT_WRITE)
        q.req.write.len = payload_len; /* 0xFFFF for an empty frame (§14.4) */
    uint8_t op = req[0];
    ds_settings *s = &bl->s;
    o->respond = true;
    o->res = OK;
    switch (op) {
    case DK_OP_PROTOCOL_VERSION:
        if (!bl->cfg.protocol_version_msg)
            o->res = DK_RES_OP_CODE_NOT_SUPPORTED;
        o->m.rsp.proto.version = 1;
        break;
    case DK_OP_OBJECT_CREATE:
        bl->prn_count = 0;
        o->res = obj_create(bl, &q, now_ms);
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        bl->prn_target = q.req.prn.target;
        bl->prn_count = 0;
        break;
    case DK_OP_CRC_GET:
        if (!crc_report(bl, &o->m))
            o->res = DK_RES_INVALID_OBJECT;
        break;
    case DK_OP_OBJECT_EXECUTE:
        obj_execute(bl, now_ms, o);
        break;
    case DK_OP_OBJECT_SELECT:
        if (q.req.select.type == DK_OBJ_COMMAND) {
            bl->cur_obj = DK_OBJ_COMMAND;
            o->m.rsp.select.max_size = DS_SETT_INIT_CMD_MAX;
            o->m.rsp.select.offset = s->progress.command_offset;
            o->m.rsp.select.crc = s->progress.command_crc;
        } else if (q.req.select.type == DK_OBJ_DATA) {
            bl->cur_obj = DK_OBJ_DATA;
            o->m.rsp.select.max_size = bl->cfg.chip.page_size;
            o->m.rsp.select.offset = s->progress.firmware_image_offset;
            o->m.rsp.select.crc = s->progress.firmware_image_crc;
        } else {
            bl->cur_obj = DK_OBJ_INVALID;
            o->res = DK_RES_INVALID_OBJECT;
        }
        break;
    case DK_OP_MTU_GET:
        o->m.rsp.mtu.mtu = bl->cfg.mtu;
        break;
    case DK_OP_OBJECT_WRITE: {
        bool report = false;
        o->res = obj_write(bl, &q, &report);
        if (o->res == R_CUT)
            break;
        /* a refused data WRITE keeps its RX block (§15.2) */
        bl->write_freed = bl->cur_obj == DK_OBJ_COMMAND || (bl->cur_obj == DK_OBJ_DATA && o->res == OK);
        /* PRN: counted per write, answered as a CRC_GET (§2.3) */
        o->respond = false;
        if (bl->prn_target && ++bl->prn_count >= bl->prn_target) {
            bl->prn_count = 0;
            o->respond = true;
            op = DK_OP_CRC_GET;
            if (report)
                crc_report(bl, &o->m);
        }
        break;
    }
    case DK_OP_PING:
        o->m.rsp.ping.id = q.req.ping.id;
        break;
    case DK_OP_HARDWARE_VERSION:
        o->m.rsp.hw.part = bl->cfg.chip.part;
        o->m.rsp.hw.variant = bl->cfg.chip.variant;
        o->m.rsp.hw.rom_size = bl->cfg.chip.flash_size;
        o->m.rsp.hw.ram_size = bl->cfg.chip.ram_size;
        o->m.rsp.hw.rom_page_size = bl->cfg.chip.page_size;
        break;
    case DK_OP_FIRMWARE_VERSION:
        if (!bl->cfg.fw_version_msg)
            o->res = DK_RES_OP_CODE_NOT_SUPPORTED;
        else
            fw_version(bl, q.req.fw.image, &o->m);
        break;
    case DK_OP_ABORT:
        o->respond = false;
        o->reset = true;
        o->res = backup_from_page(bl) == R_CUT ? R_CUT : OK;
        break;
    default:
        o->res = DK_RES_OP_CODE_NOT_SUPPORTED;
        break;
    }
    o->m.op = op;
}

int ds_bl_handle(ds_bl *bl, const uint8_t *req, size_t len, uint64_t now_ms, uint8_t *rsp,
                 size_t cap, size_t *rsp_len)
{
    return ds_bl_handle_claimed(bl, req, len, len ? (uint32_t)(len - 1) : 0, now_ms, rsp, cap, rsp_len);
}

bool ds_bl_last_write_freed(const ds_bl *bl)
{
    return bl->write_freed;
}

int ds_bl_handle_claimed(ds_bl *bl, const uint8_t *req, size_t len, uint32_t payload_len, uint64_t now_ms,
                         uint8_t *rsp, size_t cap, size_t *rsp_len)
{
    *rsp_len = 0;
    if (!bl->in_dfu || len == 0)
        return 0;
    if (now_ms >= bl->deadline)
        return ds_bl_tick(bl, now_ms);
    if (req[0] != DK_OP_OBJECT_WRITE)
        crc_sync(bl);
    outcome o;
    memset(&o, 0, sizeof o);
    dispatch(bl, req, len, payload_len, now_ms, &o);
    if (o.res == R_CUT) {
        bl->in_dfu = false;
        return DS_BL_CUT;
    }
    if (o.respond) {
        uint8_t op = o.m.op;
        dk_msg r = o.m;
        r.is_response = true;
        r.op = op;
        r.result = (uint8_t)(o.res & 0xFF);
        r.ext = (uint8_t)(o.res >> 8);
        r.has_ext = r.result == DK_RES_EXT_ERROR;
        *rsp_len = dk_msg_encode(&r, rsp, cap);
    }
    int flags = 0;
    ds_flash_mark(bl->fl); /* the answer goes out here; what follows comes after it */
    if (o.post_save) {
        int rc = sett_save(bl);
        if (rc == R_CUT) {
            bl->in_dfu = false;
            return DS_BL_CUT;
        }
    }
    if (o.reset) {
        bl->in_dfu = false;
        flags |= DS_BL_RESET;
    }
    return flags;
}

/* ---- printing ---- */

void ds_bl_print_settings(const ds_bl *bl, FILE *out)
{
    const uint8_t *mem = ds_flash_mem(bl->fl);
    const struct {
        const char *name;
        uint32_t addr;
        bool backup;
    } pages[2] = { { "settings", bl->cfg.chip.settings, false },
                   { "backup", bl->cfg.chip.mbr_params, true } };
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = mem + pages[i].addr;
        bool valid = pages[i].backup ? ds_sett_backup_valid(p) : ds_sett_page_valid(p);
        ds_settings s;
        ds_sett_decode(p, &s);
        fprintf(out, "%s page @ 0x%08" PRIx32 ": %s (crc computed 0x%08" PRIx32
                     ", boot_validation_crc computed 0x%08" PRIx32 ")\n",
                pages[i].name, pages[i].addr, valid ? "valid" : "INVALID", ds_sett_crc_of(p),
                ds_sett_bv_crc_of(p));
        ds_sett_print(&s, "  ", out);
    }
    fprintf(out, "bank0_start: 0x%08" PRIx32 "\nbank1_start: 0x%08" PRIx32
                 "\nsoftdevice: %s\napp valid: %s\n",
            ds_bl_bank0_start(bl), ds_bl_bank1_start(bl), sd_present(bl) ? "present" : "none",
            ds_bl_app_valid(bl) ? "yes" : "no");
}

dk_status ds_bl_dump_hex(const ds_bl *bl, const char *path, dk_err *err)
{
    /* never through a symlink, 0600, no FIFO: a dump must not wait for a
     * reader while the chip stands still (file.h) */
    dk_err e = { 0 };
    FILE *f = dk_file_fopen(path, 0, &e);
    if (!f)
        return dk_err_set(err, e.status, -1, "%s", e.msg);
    dk_status st = ds_flash_write_hex(bl->fl, f, err);
    if (fclose(f) != 0 && st == DK_OK)
        st = dk_err_set(err, DK_E_IO, -1, "cannot write %s", path);
    return st;
}
