/* settings.h - the SDK 17.1 bootloader settings page (nrf_dfu_settings_t,
 * settings_version 2, #pragma pack(4), 1-byte enums), protocol.md §6.2.
 *
 *   off    field                          off    field
 *   0x000  crc                            0x038  progress.command_size
 *   0x004  settings_version (2)           0x03C  progress.command_offset
 *   0x008  app_version                    0x040  progress.command_crc
 *   0x00C  bootloader_version             0x044  progress.data_object_size
 *   0x010  bank_layout                    0x048  progress.firmware_image_crc
 *   0x014  bank_current                          (== update_start_address)
 *   0x018  bank_0 {image_size, image_crc, 0x04C  progress.firmware_image_crc_last
 *                  bank_code}             0x050  progress.firmware_image_offset
 *   0x024  bank_1 {...}                   0x054  progress.firmware_image_offset_last
 *   0x030  write_offset                   0x058  enter_buttonless_dfu
 *   0x034  sd_size                        0x05C  init_command[512]
 *   0x25C  boot_validation_crc (CRC32 of the three records, 0x260..0x322)
 *   0x260  boot_validation_softdevice {type u8, bytes[64]}
 *   0x2A1  boot_validation_app        {type u8, bytes[64]}
 *   0x2E2  boot_validation_bootloader {type u8, bytes[64]}
 *   0x324  peer_data[64], 0x364 adv_name[28]  (offsets not verified against the
 *          SDK; this simulator's choice, outside both CRCs)       size 0x380
 *
 * crc = CRC32 of bytes 0x004..0x05B; 0xFFFFFFFF never counts as valid.  A
 * backup (MBR params page) is valid only when its boot_validation_crc also
 * matches.  All integers little-endian.
 */
#ifndef DFUKIT_SIM_SETTINGS_H
#define DFUKIT_SIM_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DS_SETT_SIZE 0x380u
#define DS_SETT_VERSION 2u
#define DS_SETT_INIT_CMD_OFF 0x5Cu
#define DS_SETT_INIT_CMD_MAX 512u
#define DS_SETT_BV_CRC_OFF 0x25Cu
#define DS_SETT_BV_OFF 0x260u
#define DS_SETT_BV_LEN 65u

/* bank codes */
enum {
    DS_BANK_INVALID = 0x00,
    DS_BANK_VALID_APP = 0x01,
    DS_BANK_VALID_SD = 0xA5,
    DS_BANK_VALID_BL = 0xAA,
    DS_BANK_VALID_SD_BL = 0xAC,
    DS_BANK_VALID_EXT_APP = 0xB1,
};
/* bank_layout / bank_current */
enum { DS_BANK_LAYOUT_DUAL = 0, DS_BANK_LAYOUT_SINGLE = 1 };
enum { DS_BANK_CURRENT_0 = 0, DS_BANK_CURRENT_1 = 1 };
/* boot validation types as stored (boot_validation_type_t) */
enum { DS_BV_NO_VALIDATION = 0, DS_BV_CRC = 1, DS_BV_SHA256 = 2, DS_BV_ECDSA = 3 };

typedef struct {
    uint32_t image_size, image_crc, bank_code;
} ds_bank;

typedef struct {
    uint8_t type;
    uint8_t bytes[64];
} ds_bootval;

typedef struct {
    uint32_t crc;
    uint32_t settings_version;
    uint32_t app_version;
    uint32_t bootloader_version;
    uint32_t bank_layout;
    uint32_t bank_current;
    ds_bank bank_0, bank_1;
    uint32_t write_offset;
    uint32_t sd_size;
    struct {
        uint32_t command_size, command_offset, command_crc;
        uint32_t data_object_size;
        uint32_t firmware_image_crc; /* also update_start_address */
        uint32_t firmware_image_crc_last;
        uint32_t firmware_image_offset;
        uint32_t firmware_image_offset_last;
    } progress;
    uint32_t enter_buttonless_dfu;
    uint8_t init_command[DS_SETT_INIT_CMD_MAX];
    uint32_t boot_validation_crc;
    ds_bootval bv_sd, bv_app, bv_bl;
    uint8_t peer_data[64];
    uint8_t adv_name[28];
} ds_settings;

/* Bytes <-> struct (exactly DS_SETT_SIZE bytes, no CRC computed or checked). */
void ds_sett_encode(const ds_settings *s, uint8_t out[DS_SETT_SIZE]);
void ds_sett_decode(const uint8_t in[DS_SETT_SIZE], ds_settings *s);

/* Fill s->crc and s->boot_validation_crc from the other fields. */
void ds_sett_seal(ds_settings *s);

/* Checks on raw page bytes (at least DS_SETT_SIZE). */
uint32_t ds_sett_crc_of(const uint8_t *page);
uint32_t ds_sett_bv_crc_of(const uint8_t *page);
bool ds_sett_page_valid(const uint8_t *page);   /* crc != ~0 and matches */
bool ds_sett_backup_valid(const uint8_t *page); /* also boot_validation_crc */

/* nrf_dfu_settings_progress_reset: init_command filled with 0xFF, progress and
 * write_offset zeroed. */
void ds_sett_progress_reset(ds_settings *s);

/* Every field, one "prefix name: value" line each. */
void ds_sett_print(const ds_settings *s, const char *prefix, FILE *out);

#endif
