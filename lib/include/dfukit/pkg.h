/* pkg.h - a DFU package: a zip holding manifest.json and, per image, a .bin
 * (firmware) and a .dat (init packet).
 *
 *   {"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat"},
 *                 "softdevice_bootloader": {..., "info_read_only_metadata":
 *                                           {"bl_size": n, "sd_size": n}}, ...}}
 *
 * Images come out in send order: softdevice_bootloader, softdevice,
 * bootloader, application.
 */
#ifndef DFUKIT_PKG_H
#define DFUKIT_PKG_H

#include <stddef.h>
#include <stdint.h>

#include "dfukit/err.h"
#include "dfukit/initpkt.h"

#define DK_PKG_MAX_IMAGES 4

typedef enum {
    DK_IMG_SOFTDEVICE_BOOTLOADER = 0,
    DK_IMG_SOFTDEVICE = 1,
    DK_IMG_BOOTLOADER = 2,
    DK_IMG_APPLICATION = 3,
} dk_img_kind; /* in send order */

typedef struct {
    dk_img_kind kind;
    const char *key;  /* manifest key */
    char bin_name[256];
    char dat_name[256];
    uint8_t *bin;
    size_t bin_len;
    uint8_t *dat;
    size_t dat_len;
    uint32_t sd_size, bl_size; /* info_read_only_metadata, 0 when absent */
} dk_image;

typedef struct {
    dk_image img[DK_PKG_MAX_IMAGES];
    size_t n;
} dk_pkg;

/* Read a package.  Errors name the member (and offset where it applies):
 * "not a zip archive", "manifest.json: line 3: ...", "app.bin: missing". */
dk_status dk_pkg_open(const char *path, dk_pkg *pkg, dk_err *err);
void dk_pkg_free(dk_pkg *pkg);

/* Decode each .dat and check that its hash is the byte-reversed SHA-256 of
 * its .bin and that its size field matches; the first problem is reported. */
dk_status dk_pkg_check(const dk_pkg *pkg, dk_err *err);

/* Verify every signed .dat against a PEM public key; unsigned ones fail. */
dk_status dk_pkg_verify(const dk_pkg *pkg, const char *pubkey_pem, dk_err *err);

/* Write a package (manifest with sorted keys, indent 4) from images whose
 * bin/dat are set. Used by generators and tests. */
dk_status dk_pkg_write(const char *path, const dk_pkg *pkg, dk_err *err);

/* Build the .dat for an image: fills an InitCommand for the given type and
 * image, hashes it, signs it when key_pem is not NULL, and returns a malloc'd
 * buffer in *dat. The fields a caller may want to vary come in *tmpl
 * (fw_version, hw_version, sd_req...); type, sizes and hash are filled here. */
dk_status dk_pkg_make_dat(const dk_init_cmd *tmpl, uint32_t fw_type, const uint8_t *bin,
                          size_t bin_len, uint32_t sd_size, uint32_t bl_size,
                          const char *key_pem, uint8_t **dat, size_t *dat_len, dk_err *err);

#endif
