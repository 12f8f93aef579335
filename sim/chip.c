/* chip.c - nRF52 profiles (addresses of the SDK 17.1 UART bootloader examples). */
#include "chip.h"

#include <string.h>

static const ds_chip chips[] = {
    { "nrf52840", 0x100000, 4096, 0x40000, 0x52840, 0x41414430 /* AAD0 */, 0xF8000, 0xFE000,
      0xFF000, 3 * 4096 },
    { "nrf52832", 0x80000, 4096, 0x10000, 0x52832, 0x41414530 /* AAE0 */, 0x78000, 0x7E000,
      0x7F000, 3 * 4096 },
};

const ds_chip *ds_chip_find(const char *name)
{
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
        if (name && !strcmp(name, chips[i].name))
            return &chips[i];
    return NULL;
}
