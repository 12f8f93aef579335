/* settings.c - nrf_dfu_settings_t bytes <-> struct, CRCs, printing. */
#include "settings.h"

#include <inttypes.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/rd.h"

void ds_sett_encode(const ds_settings *s, uint8_t out[DS_SETT_SIZE])
{
    memset(out, 0, DS_SETT_SIZE);
    uint8_t *p = out;
    const uint32_t head[] = {
        s->crc, s->settings_version, s->app_version, s->bootloader_version, s->bank_layout,
        s->bank_current, s->bank_0.image_size, s->bank_0.image_crc, s->bank_0.bank_code,
        s->bank_1.image_size, s->bank_1.image_crc, s->bank_1.bank_code, s->write_offset,
        s->sd_size, s->progress.command_size, s->progress.command_offset,
        s->progress.command_crc, s->progress.data_object_size, s->progress.firmware_image_crc,
        s->progress.firmware_image_crc_last, s->progress.firmware_image_offset,
        s->progress.firmware_image_offset_last, s->enter_buttonless_dfu,
    };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        p = dk_put_le32(p, head[i]);
    memcpy(out + DS_SETT_INIT_CMD_OFF, s->init_command, DS_SETT_INIT_CMD_MAX);
    dk_put_le32(out + DS_SETT_BV_CRC_OFF, s->boot_validation_crc);
    const ds_bootval *bv[3] = { &s->bv_sd, &s->bv_app, &s->bv_bl };
    for (int i = 0; i < 3; i++) {
        uint8_t *b = out + DS_SETT_BV_OFF + i * DS_SETT_BV_LEN;
        b[0] = bv[i]->type;
        memcpy(b + 1, bv[i]->bytes, 64);
    }
    memcpy(out + 0x324, s->peer_data, sizeof s->peer_data);
    memcpy(out + 0x364, s->adv_name, sizeof s->adv_name);
}

void ds_sett_decode(const uint8_t in[DS_SETT_SIZE], ds_settings *s)
{
    dk_rd r = dk_rd_make(in, DS_SETT_SIZE);
    uint32_t *head[] = {
        &s->crc, &s->settings_version, &s->app_version, &s->bootloader_version, &s->bank_layout,
        &s->bank_current, &s->bank_0.image_size, &s->bank_0.image_crc, &s->bank_0.bank_code,
        &s->bank_1.image_size, &s->bank_1.image_crc, &s->bank_1.bank_code, &s->write_offset,
        &s->sd_size, &s->progress.command_size, &s->progress.command_offset,
        &s->progress.command_crc, &s->progress.data_object_size,
        &s->progress.firmware_image_crc, &s->progress.firmware_image_crc_last,
        &s->progress.firmware_image_offset, &s->progress.firmware_image_offset_last,
        &s->enter_buttonless_dfu,
    };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        *head[i] = dk_rd_le32(&r);
    memcpy(s->init_command, in + DS_SETT_INIT_CMD_OFF, DS_SETT_INIT_CMD_MAX);
    r.pos = DS_SETT_BV_CRC_OFF;
    s->boot_validation_crc = dk_rd_le32(&r);
    ds_bootval *bv[3] = { &s->bv_sd, &s->bv_app, &s->bv_bl };
    for (int i = 0; i < 3; i++) {
        const uint8_t *b = in + DS_SETT_BV_OFF + i * DS_SETT_BV_LEN;
        bv[i]->type = b[0];
        memcpy(bv[i]->bytes, b + 1, 64);
    }
    memcpy(s->peer_data, in + 0x324, sizeof s->peer_data);
    memcpy(s->adv_name, in + 0x364, sizeof s->adv_name);
}

uint32_t ds_sett_crc_of(const uint8_t *page)
{
    return dk_crc32(0, page + 4, DS_SETT_INIT_CMD_OFF - 4);
}

uint32_t ds_sett_bv_crc_of(const uint8_t *page)
{
    return dk_crc32(0, page + DS_SETT_BV_OFF, 3 * DS_SETT_BV_LEN);
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool ds_sett_page_valid(const uint8_t *page)
{
    uint32_t crc = le32_at(page);
    return crc != 0xFFFFFFFFu && crc == ds_sett_crc_of(page);
}

bool ds_sett_backup_valid(const uint8_t *page)
{
    return ds_sett_page_valid(page) &&
           (le32_at(page + 4) == 1 || le32_at(page + DS_SETT_BV_CRC_OFF) == ds_sett_bv_crc_of(page));
}

void ds_sett_seal(ds_settings *s)
{
    uint8_t b[DS_SETT_SIZE];
    ds_sett_encode(s, b);
    s->crc = ds_sett_crc_of(b);
    s->boot_validation_crc = ds_sett_bv_crc_of(b);
}

void ds_sett_progress_reset(ds_settings *s)
{
    memset(s->init_command, 0xFF, sizeof s->init_command);
    memset(&s->progress, 0, sizeof s->progress);
    s->write_offset = 0;
}

static const char *bank_code_name(uint32_t c)
{
    switch (c) {
    case DS_BANK_INVALID: return "INVALID";
    case DS_BANK_VALID_APP: return "VALID_APP";
    case DS_BANK_VALID_SD: return "VALID_SD";
    case DS_BANK_VALID_BL: return "VALID_BL";
    case DS_BANK_VALID_SD_BL: return "VALID_SD_BL";
    case DS_BANK_VALID_EXT_APP: return "VALID_EXT_APP";
    default: return "unknown";
    }
}

static const char *bv_name(uint8_t t)
{
    switch (t) {
    case DS_BV_NO_VALIDATION: return "NO_VALIDATION";
    case DS_BV_CRC: return "VALIDATE_CRC";
    case DS_BV_SHA256: return "VALIDATE_SHA256";
    case DS_BV_ECDSA: return "VALIDATE_ECDSA_P256_SHA256";
    default: return "unknown";
    }
}

static void print_hex(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

void ds_sett_print(const ds_settings *s, const char *px, FILE *out)
{
#define U32(name, v) fprintf(out, "%s%s: 0x%08" PRIx32 " (%" PRIu32 ")\n", px, name, v, v)
    U32("crc", s->crc);
    U32("settings_version", s->settings_version);
    U32("app_version", s->app_version);
    U32("bootloader_version", s->bootloader_version);
    U32("bank_layout", s->bank_layout);
    U32("bank_current", s->bank_current);
    const ds_bank *banks[2] = { &s->bank_0, &s->bank_1 };
    for (int i = 0; i < 2; i++) {
        fprintf(out, "%sbank_%d.image_size: %" PRIu32 "\n", px, i, banks[i]->image_size);
        fprintf(out, "%sbank_%d.image_crc: 0x%08" PRIx32 "\n", px, i, banks[i]->image_crc);
        fprintf(out, "%sbank_%d.bank_code: 0x%02" PRIx32 " %s\n", px, i, banks[i]->bank_code,
                bank_code_name(banks[i]->bank_code));
    }
    U32("write_offset", s->write_offset);
    U32("sd_size", s->sd_size);
    U32("progress.command_size", s->progress.command_size);
    U32("progress.command_offset", s->progress.command_offset);
    U32("progress.command_crc", s->progress.command_crc);
    U32("progress.data_object_size", s->progress.data_object_size);
    U32("progress.firmware_image_crc/update_start_address", s->progress.firmware_image_crc);
    U32("progress.firmware_image_crc_last", s->progress.firmware_image_crc_last);
    U32("progress.firmware_image_offset", s->progress.firmware_image_offset);
    U32("progress.firmware_image_offset_last", s->progress.firmware_image_offset_last);
    U32("enter_buttonless_dfu", s->enter_buttonless_dfu);
    /* init_command: the bytes up to command_size (the rest is fill). */
    uint32_t n = s->progress.command_size <= DS_SETT_INIT_CMD_MAX ? s->progress.command_size : 0;
    fprintf(out, "%sinit_command: %" PRIu32 " bytes ", px, n);
    print_hex(out, s->init_command, n);
    fputc('\n', out);
    U32("boot_validation_crc", s->boot_validation_crc);
    const char *bvn[3] = { "softdevice", "app", "bootloader" };
    const ds_bootval *bv[3] = { &s->bv_sd, &s->bv_app, &s->bv_bl };
    for (int i = 0; i < 3; i++) {
        fprintf(out, "%sboot_validation_%s: %s ", px, bvn[i], bv_name(bv[i]->type));
        print_hex(out, bv[i]->bytes, 64);
        fputc('\n', out);
    }
    fprintf(out, "%speer_data: ", px);
    print_hex(out, s->peer_data, sizeof s->peer_data);
    fprintf(out, "\n%sadv_name: ", px);
    print_hex(out, s->adv_name, sizeof s->adv_name);
    fputc('\n', out);
#undef U32
}
