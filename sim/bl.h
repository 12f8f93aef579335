/* bl.h - the simulated SDK 17.1 Secure DFU bootloader (serial transport): a pure
 * core that turns one decoded request frame into one response, keeps the
 * bootloader's RAM state, and reads/writes the simulated flash exactly when
 * the SDK would (protocol.md §2-§7).
 *
 *   request   op u8, payload                (one SLIP frame, already decoded)
 *   response  0x60, op, result, [payload]   (unframed; none for WRITE without
 *                                            PRN, ABORT, or while the "app" runs)
 *
 * Life cycle: ds_bl_new() -> ds_bl_boot() -> ds_bl_handle()* -> on DS_BL_RESET
 * or DS_BL_CUT call ds_bl_boot() again (for a cut, after ds_flash_clear_cut is
 * done by ds_bl_boot itself).  Time is only what the caller passes as now_ms.
 * The only I/O is the flash (which may be a file) and, when a signature must
 * be checked, reading cfg.pubkey_pem.
 */
#ifndef DFUKIT_SIM_BL_H
#define DFUKIT_SIM_BL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chip.h"
#include "dfukit/err.h"
#include "flash.h"
#include "settings.h"

/* When a reset ends in DFU mode (§6.9, dfu_enter_check). */
typedef enum {
    DS_BL_ENTER_NO_VALID_APP = 0, /* only without a valid app in bank 0 (or a
                                     pending ds_bl_request_dfu / buttonless flag) */
    DS_BL_ENTER_ALWAYS,           /* every boot (button held / pin reset) */
    DS_BL_ENTER_FIRST_BOOT,       /* the first boot after ds_bl_new (button held at
                                     power-on), later boots like NO_VALID_APP */
} ds_bl_enter;

typedef struct {
    ds_chip chip;               /* copied profile; fields may be edited */
    /* SoftDevice: sd_end == 0 means MBR only (the UART example). Otherwise a
     * SoftDevice from 0x1000 to sd_end (page-aligned) is provisioned. */
    uint32_t sd_end;
    uint16_t sd_fwid;           /* e.g. 0x0100 (S140 7.2.0) */
    uint32_t sd_version;        /* reported by FIRMWARE_VERSION image 1 */
    /* Installed at first provisioning (blank flash): an app of app_size
     * bytes (deterministic pattern) at bank 0, marked valid with app_version. */
    uint32_t app_size;
    uint32_t app_version;
    uint32_t bootloader_version;
    uint32_t hw_version;        /* NRF_DFU_HW_VERSION (52) */
    bool save_progress_in_flash;/* NRF_DFU_SAVE_PROGRESS_IN_FLASH (0) */
    bool single_bank;           /* NRF_DFU_SINGLE_BANK_APP_UPDATES (0) */
    bool force_dual_bank;       /* NRF_DFU_FORCE_DUAL_BANK_APP_UPDATES (0) */
    bool downgrade_prevention;  /* NRF_DFU_APP_DOWNGRADE_PREVENTION (1) */
    bool accept_same_version;   /* NRF_DFU_APP_ACCEPT_SAME_VERSION (1) */
    bool debug_bootloader;      /* accept is_debug packets without version checks (0) */
    bool allow_unsigned;        /* !NRF_DFU_REQUIRE_SIGNED_APP_UPDATE for APP/SD (0) */
    const char *pubkey_pem;     /* public (or private) key PEM; NULL: no key, so
                                   every required signature check fails (0x05) */
    ds_bl_enter enter;
    uint16_t mtu;               /* DK_MTU_UART 131, DK_MTU_USB 2051 */
    uint32_t inactivity_ms;     /* 120000; 0 = never */
    bool protocol_version_msg;  /* NRF_DFU_PROTOCOL_VERSION_MSG (1) */
    bool fw_version_msg;        /* NRF_DFU_PROTOCOL_FW_VERSION_MSG (1) */
} ds_bl_config;

/* Defaults of the SDK 17.1 pca10056_uart / pca10040_uart example for chip
 * ("nrf52840" | "nrf52832"; NULL or unknown -> nrf52840).  No app installed,
 * no SoftDevice, enter = NO_VALID_APP. */
void ds_bl_config_default(ds_bl_config *cfg, const char *chip);

/* The largest app_size the first provisioning installs: bank 0 from the end
 * of the SoftDevice (or the MBR) up to the app data pages; 0 when the
 * SoftDevice leaves no room.  A larger app_size installs no app. */
uint32_t ds_bl_config_app_room(const ds_bl_config *cfg);

typedef struct ds_bl ds_bl;

/* The flash must be cfg->chip.flash_size bytes with cfg->chip.page_size pages;
 * it stays owned by the caller.  NULL on a mismatch or no memory. */
ds_bl *ds_bl_new(const ds_bl_config *cfg, ds_flash *flash);
void ds_bl_free(ds_bl *bl);

/* Reset / power-on: RAM state lost (a pending power cut on the flash is
 * cleared first), a blank chip provisioned (MBR, optional SD and app, settings),
 * settings reloaded (page + backup, §6.2) and written back if they changed,
 * activation run (§6.6 step 5; resumable; a further reset follows it, done
 * here), the persisted init command re-armed (§6.9), then the DFU-mode
 * decision (§6.9).  If a power cut hits during boot, boot starts over (the
 * hook sees the next op numbers).  Returns true when in DFU mode. */
bool ds_bl_boot(ds_bl *bl, uint64_t now_ms);

/* Power-on instead of a reset: also forgets a ds_bl_request_dfu (GPREGRET). */
bool ds_bl_power_on(ds_bl *bl, uint64_t now_ms);

/* Ask for DFU mode at the next reset (GPREGRET = 0xB1, buttonless). */
void ds_bl_request_dfu(ds_bl *bl);

bool ds_bl_in_dfu(const ds_bl *bl); /* false: the "app" runs, the port is silent */

enum {
    DS_BL_RESET = 1, /* the chip resets: call ds_bl_boot (after sending rsp) */
    DS_BL_CUT = 2,   /* a flash power cut happened: call ds_bl_boot */
};

/* One decoded request in; the unframed response out (*rsp_len 0 = nothing to
 * send).  Always send rsp first, then act on the flags: the core only leaves
 * a response in rsp when the SDK would have sent it before the reset or the
 * power cut (final EXECUTE and save-progress writes happen after the
 * response).  An empty request is ignored.  A request that arrives after the
 * inactivity deadline is not processed: the chip has reset (DS_BL_RESET).
 * cap >= 32 always suffices. */
int ds_bl_handle(ds_bl *bl, const uint8_t *req, size_t len, uint64_t now_ms, uint8_t *rsp,
                 size_t cap, size_t *rsp_len);

/* The same, with the payload length the serial layer passes, which for an
 * empty SLIP frame (0xFFFF, protocol.md §14.4) is not len - 1: a WRITE
 * claiming more than req holds is refused before its data is read.  Flash
 * work after the answer (the settings write after a data EXECUTE) follows
 * ds_flash_mark() in the flash's runs. */
int ds_bl_handle_claimed(ds_bl *bl, const uint8_t *req, size_t len, uint32_t payload_len, uint64_t now_ms,
                         uint8_t *rsp, size_t cap, size_t *rsp_len);

/* Whether the last WRITE gave its receive block back (a command WRITE, a
 * data WRITE taken); a refused data WRITE keeps it for good (§15.2). */
bool ds_bl_last_write_freed(const ds_bl *bl);

/* Inactivity reset time (ms), UINT64_MAX when off or not in DFU mode. */
uint64_t ds_bl_deadline(const ds_bl *bl);

/* Timer tick: returns DS_BL_RESET (after the settings backup) when the
 * inactivity deadline has passed, DS_BL_CUT if that backup was cut, else 0. */
int ds_bl_tick(ds_bl *bl, uint64_t now_ms);

uint64_t ds_bl_image_bytes(const ds_bl *bl); /* data bytes accepted by WRITE this boot */
uint64_t ds_bl_boots(const ds_bl *bl);       /* completed boots (resets included) */

/* Read-only views for tests and the adapter.  ds_bl_settings is the RAM copy
 * (s_dfu_settings); it first folds the data CRC of the latest WRITEs, which
 * the core computes once per run of WRITEs. */
const ds_settings *ds_bl_settings(ds_bl *bl);
const ds_bl_config *ds_bl_get_config(const ds_bl *bl);
ds_flash *ds_bl_flash(const ds_bl *bl);
uint32_t ds_bl_bank0_start(const ds_bl *bl);
uint32_t ds_bl_bank1_start(const ds_bl *bl);
bool ds_bl_app_valid(const ds_bl *bl); /* bank 0 valid and its boot validation passes */
bool ds_bl_init_cmd_valid(const ds_bl *bl);
uint8_t ds_bl_current_obj(const ds_bl *bl); /* DK_OBJ_COMMAND / DATA / INVALID */

/* "--show-settings": every field of the settings page and of the backup as
 * they are in flash (CRC checked), one "name: value" line each. */
void ds_bl_print_settings(const ds_bl *bl, FILE *out);

/* Intel HEX of the whole flash (type 04 extended linear address records,
 * 16-byte data records; rows that are entirely 0xFF, i.e. erased, are left
 * out, so loading the file onto an erased chip gives the same flash). */
dk_status ds_bl_dump_hex(const ds_bl *bl, const char *path, dk_err *err);

#endif
