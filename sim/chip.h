/* chip.h - nRF52 chip profiles for the simulator: flash geometry, FICR values
 * and the fixed addresses of an SDK 17.1 UART bootloader build.
 *
 *   0x00000000  MBR (0x1000)
 *   0x00001000  SoftDevice (optional; info struct at 0x3000: magic @+4, end
 *               address @+8, FWID u16 @+0xC, version @+0x10)
 *   bank0_start application (bank 0), then bank 1, up to
 *   bl_start - app_data_size   (app data pages, untouched by DFU)
 *   bl_start    bootloader (up to the MBR params page)
 *   mbr_params  settings backup page
 *   settings    bootloader settings page (last page)
 */
#ifndef DFUKIT_SIM_CHIP_H
#define DFUKIT_SIM_CHIP_H

#include <stdint.h>

#define DS_MBR_SIZE 0x1000u
#define DS_SD_INFO_ADDR 0x3000u
#define DS_SD_MAGIC 0x51B1E5DBu

typedef struct {
    const char *name;       /* "nrf52840" */
    uint32_t flash_size;    /* bytes */
    uint32_t page_size;     /* 4096 */
    uint32_t ram_size;      /* bytes, for HARDWARE_VERSION */
    uint32_t part;          /* FICR INFO.PART, e.g. 0x52840 */
    uint32_t variant;       /* FICR INFO.VARIANT, ASCII e.g. "AAD0" */
    uint32_t bl_start;      /* BOOTLOADER_START_ADDR */
    uint32_t mbr_params;    /* NRF_MBR_PARAMS_PAGE_ADDRESS (settings backup) */
    uint32_t settings;      /* BOOTLOADER_SETTINGS_ADDRESS */
    uint32_t app_data_size; /* NRF_DFU_APP_DATA_AREA_SIZE (3 pages) */
} ds_chip;

/* Profile by name ("nrf52840", "nrf52832"), NULL when unknown. */
const ds_chip *ds_chip_find(const char *name);

/* BOOTLOADER_SIZE: from bl_start up to the MBR params page. */
static inline uint32_t ds_chip_bl_size(const ds_chip *c) { return c->mbr_params - c->bl_start; }

#endif
