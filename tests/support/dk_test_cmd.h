/* dk_test_cmd.h - the application init command that the test generators
 * (dk-gencap, dk-genlog) and the bootloader unit tests start from (fields
 * of protocol.md §8.1):
 *   fw_version, hw_version, sd_req = { one id }, type APPLICATION,
 *   sd_size = bl_size = 0 and app_size = len (all present),
 *   hash SHA-256 of the image (in the packet's byte order, dk_sha256_le),
 *   boot validation: one VALIDATE_GENERATED_CRC.
 * Everything else absent (is_debug included): callers add what their
 * packets differ by.  Header-only (static inline); needs libdfukit.
 */
#ifndef DFUKIT_DK_TEST_CMD_H
#define DFUKIT_DK_TEST_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dfukit/crypto.h"
#include "dfukit/initpkt.h"

static inline void dk_test_app_cmd(dk_init_cmd *c, const uint8_t *img, size_t len, uint32_t fw,
                                   uint32_t hw, uint32_t sd_req)
{
    memset(c, 0, sizeof *c);
    c->has_fw_version = true;
    c->fw_version = fw;
    c->has_hw_version = true;
    c->hw_version = hw;
    c->sd_req_count = 1;
    c->sd_req[0] = sd_req;
    c->has_type = true;
    c->type = DK_FW_APPLICATION;
    c->has_sd_size = c->has_bl_size = c->has_app_size = true;
    c->app_size = (uint32_t)len;
    c->has_hash = true;
    c->hash_type = DK_HASH_SHA256;
    c->hash_len = 32;
    dk_sha256_le(img, len, c->hash);
    c->bv_count = 1;
    c->bv[0].type = DK_VAL_VALIDATE_GENERATED_CRC;
}

#endif
