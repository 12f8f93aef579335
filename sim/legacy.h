/* legacy.h - the simulated Adafruit nRF52 bootloader (legacy HCI serial DFU,
 * SDK 11 DFU code with the SDK 14.2 HCI transport): a pure core that takes
 * the line's bytes, answers with HCI ACKs and drives the simulated flash as
 * the bootloader does (protocol.md §13).
 *
 *   in   C0 escaped(hdr[4] payload crc16) C0     (one HCI packet)
 *   out  C0 (n << 3) 00 00 cs C0                  (the ACK, n = expected next)
 *
 * Life cycle: ds_lg_new -> ds_lg_boot -> (ds_lg_feed -> ds_lg_packet ->
 * ds_lg_process)* ; ds_lg_tick for the timers; ds_lg_touch when the host
 * opens and closes the port at 1200 baud.  A call returning DS_LG_RESET or
 * DS_LG_CUT wants ds_lg_boot (power_on for a cut) after the ACK it left has
 * been sent.  Time is only what the caller passes.
 *
 * The §13.12 defect is modelled as the bootloader has it: the expected
 * sequence number is set to 1 only when serial DFU mode is entered, so a new
 * host run without a reset is acknowledged and dropped until its numbers
 * meet the old count.  cfg.seq_fix is the fixed behaviour: a valid START
 * numbered 1 restarts the transport (expected 1) and abandons an open
 * session.
 */
#ifndef DFUKIT_SIM_LEGACY_H
#define DFUKIT_SIM_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chip.h"
#include "flash.h"

#define DS_LG_RX_BUF 600        /* HCI_RX_BUF_SIZE (§13.5) */
#define DS_LG_QUEUE 3           /* usable DFU queue slots (MAX_BUFFERS - 1) */
#define DS_LG_DFU_TIMEOUT_MS 360000u
#define DS_LG_STARTUP_MS 1000u  /* nRF52832: serial DFU window at start-up */

/* Bank codes of the settings page (§13.9). */
#define DS_LG_BANK_VALID_APP 0x01u
#define DS_LG_BANK_VALID_SD 0xA5u
#define DS_LG_BANK_VALID_BOOT 0xAAu
#define DS_LG_BANK_ERASED 0xFEu
#define DS_LG_BANK_INVALID_APP 0xFFu

typedef struct {
    ds_chip chip;           /* geometry (flash and page size) from the chip table */
    uint32_t bl_start;      /* BOOTLOADER_REGION_START */
    uint32_t mbr_params;    /* MBR parameters page */
    uint32_t settings;      /* bootloader settings page */
    uint32_t reserved;      /* DFU_APP_DATA_RESERVED */
    uint32_t sd_end;        /* 0: no SoftDevice (bank 0 at 0x1000) */
    int sd_fwid;            /* the installed SoftDevice's FWID, -1 none */
    bool dual_bank;         /* DUALBANK_FW=1 */
    bool usb;               /* USB CDC (nRF52833/840); false: UART (nRF52832) */
    bool double_reset;      /* the board was double-reset into DFU at power-on */
    uint32_t app_size;      /* an app installed on a blank chip (0 none) */
    bool app_touch;         /* the running app takes the 1200-baud touch (Arduino cores) */
    bool seq_fix;           /* not the bootloader's: see above */
    uint32_t dfu_timeout_ms;
} ds_lg_config;

/* An Adafruit build for chip ("nrf52840" Feather/XIAO/nice!nano, "nrf52832"
 * Feather); NULL or unknown: nrf52840.  S140 6.1.1 (FWID 0x00B6, up to
 * 0x26000) or S132 6.1.1 (0x00B7, 0x26000), single bank, an app that takes
 * the touch, no app installed. */
void ds_lg_config_default(ds_lg_config *cfg, const char *chip);

/* Bytes an app may take: bank 0 (after the SoftDevice, or the MBR) up to
 * the app data kept below the bootloader. */
uint32_t ds_lg_config_app_room(const ds_lg_config *cfg);

typedef struct ds_lg ds_lg;

/* The flash must be cfg->chip.flash_size with cfg->chip.page_size pages; it
 * stays the caller's.  NULL on a mismatch or no memory. */
ds_lg *ds_lg_new(const ds_lg_config *cfg, ds_flash *flash);
void ds_lg_free(ds_lg *lg);

/* A blank chip: the SoftDevice's info struct and, with cfg.app_size, an app
 * (a pattern) marked valid, as a factory would program them. */
void ds_lg_provision(ds_lg *lg);

enum {
    DS_LG_RESET = 1,      /* the chip resets: ds_lg_boot(now, false) */
    DS_LG_CUT = 2,        /* a flash operation lost power: ds_lg_boot(now, true) */
    DS_LG_APP = 4,        /* DFU mode ended and the app runs (the port is silent) */
};

/* Reset or power-on: RAM lost (a power-on also forgets GPREGRET), the DFU
 * decision of §13.10.  Returns true in DFU mode. */
bool ds_lg_boot(ds_lg *lg, uint64_t now_ms, bool power_on);

/* The host opened and closed the port at 1200 baud.  A running app that
 * takes the touch sets GPREGRET 0x4E and resets (DS_LG_RESET); in DFU mode
 * nothing happens (§13.10).  Returns the flags. */
int ds_lg_touch(ds_lg *lg);

/* Bytes through the device's SLIP receiver (§13.2): returns true when a
 * frame ended (*frame, *len: decoded, valid until the next call), with *used
 * bytes taken; false when all n were taken without one. */
bool ds_lg_feed(ds_lg *lg, const uint8_t *p, size_t n, size_t *used, const uint8_t **frame,
                size_t *len);

/* One decoded frame (§13.3, §13.4): the ACK, if any, in ack (*ack_len 6 or
 * 0), the packet queued when accepted (a full queue loses it after its
 * ACK).  Returns the flags (0: nothing to do). */
int ds_lg_packet(ds_lg *lg, const uint8_t *frame, size_t len, uint64_t now_ms, uint8_t ack[8],
                 size_t *ack_len);

/* Run the queued packets (§13.6).  Returns the flags. */
int ds_lg_process(ds_lg *lg, uint64_t now_ms);

/* The DFU timer and the start-up window: flags when one ran out. */
int ds_lg_tick(ds_lg *lg, uint64_t now_ms);
uint64_t ds_lg_deadline(const ds_lg *lg); /* ms, UINT64_MAX none */

bool ds_lg_in_dfu(const ds_lg *lg);
bool ds_lg_app_valid(const ds_lg *lg);   /* bootloader_app_is_valid */
uint8_t ds_lg_expected(const ds_lg *lg); /* the next sequence number it takes */
unsigned ds_lg_queued(const ds_lg *lg);
uint64_t ds_lg_image_bytes(const ds_lg *lg); /* DATA bytes taken since boot */
uint64_t ds_lg_boots(const ds_lg *lg);
uint32_t ds_lg_bank0(const ds_lg *lg);
uint32_t ds_lg_bank1(const ds_lg *lg);
const char *ds_lg_state_name(const ds_lg *lg); /* "IDLE", "RDY", ... */
/* The packet kind of a frame (payload u32 0), or -1 (for fault triggers). */
int ds_lg_frame_kind(const uint8_t *frame, size_t len);

/* The settings page as stored (§13.9). */
typedef struct {
    uint16_t bank_0, bank_0_crc, bank_1;
    uint32_t bank_0_size, sd_image_size, bl_image_size, app_image_size, sd_image_start;
} ds_lg_settings;
void ds_lg_settings_read(const ds_lg *lg, ds_lg_settings *s);
void ds_lg_print_settings(const ds_lg *lg, FILE *out);

#endif
