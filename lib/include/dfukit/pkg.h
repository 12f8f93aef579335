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
/* Largest member read from a package (a whole nRF52840 flash is 1 MiB). */
#define DK_PKG_MEMBER_MAX (16u << 20)

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
 * "not a zip archive (...)", "manifest.json: line 3: column 5: ...",
 * "app.bin: missing from the package", "app.bin: N bytes, more than the 16 MiB
 * limit", "app.bin: offset N: CRC error".  Offsets inside a member are part of
 * the message (err->has_offset stays false: offsets in err are offsets in the
 * file named to the user, which is the zip). */
dk_status dk_pkg_open(const char *path, dk_pkg *pkg, dk_err *err);
/* The same from a zip archive in memory (len bytes at buf, not copied: it
 * must stay valid until this returns). */
dk_status dk_pkg_open_mem(const void *buf, size_t len, dk_pkg *pkg, dk_err *err);
void dk_pkg_free(dk_pkg *pkg);

/* dk_pkg_check for one image. */
dk_status dk_pkg_check_image(const dk_image *img, dk_err *err);

/* Decode each .dat and check that its hash is the byte-reversed SHA-256 of
 * its .bin and that its size field matches; the first problem is reported.
 * Also rejected: a packet with both command and signed_command, an op_code
 * other than INIT, a type that does not match the manifest key (an
 * EXTERNAL_APPLICATION passes as application), SD+BL metadata that disagrees
 * with the .dat.  DK_E_VERIFY for hash/size mismatches, DK_E_FORMAT else. */
dk_status dk_pkg_check(const dk_pkg *pkg, dk_err *err);

/* Verify every signed .dat against a PEM public key; unsigned ones fail. */
dk_status dk_pkg_verify(const dk_pkg *pkg, const char *pubkey_pem, dk_err *err);

/* Write a package (manifest with sorted keys, indent 4, no trailing newline;
 * members stored uncompressed: manifest.json, then .dat and .bin of each image)
 * from images whose kind, names and bin/dat are set; sd_size/bl_size go into
 * the metadata of a softdevice_bootloader image. Used by generators and tests. */
dk_status dk_pkg_write(const char *path, const dk_pkg *pkg, dk_err *err);

/* Build the .dat for an image: fills an InitCommand for the given type and
 * image, hashes it, signs it when key_pem is not NULL, and returns a malloc'd
 * buffer in *dat. The fields a caller may want to vary come in *tmpl
 * (fw_version, hw_version, sd_req, is_debug, boot_validation...); type, sizes
 * and hash are filled here: all three size fields are written, only the one
 * matching the type non-zero (sd_size and bl_size for SOFTDEVICE_BOOTLOADER,
 * which must add up to bin_len), as nrfutil does. Signed: a signed_command
 * with op_code INIT and signature_type ECDSA_P256_SHA256; unsigned: a plain
 * command with op_code INIT. */
dk_status dk_pkg_make_dat(const dk_init_cmd *tmpl, uint32_t fw_type, const uint8_t *bin,
                          size_t bin_len, uint32_t sd_size, uint32_t bl_size,
                          const char *key_pem, uint8_t **dat, size_t *dat_len, dk_err *err);

/* The manifest.json text dk_pkg_write stores (malloc'd; NULL on failure). */
char *dk_pkg_manifest_json(const dk_pkg *pkg);

/* Manifest key ("application", ...) and init packet FwType of a kind. */
const char *dk_img_key(dk_img_kind kind);
uint32_t dk_img_fw_type(dk_img_kind kind);

#endif
