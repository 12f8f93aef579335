/* fuzz_pkgimg.h - the one package fuzz_pipeline checks sessions against, and
 * that fuzz_seeds sends in its sessions: an application of 300 generated
 * bytes with an unsigned init packet (hw 52, fw 1, sd_req 0x0000 or
 * 0x0100, CRC boot validation), built the same way in both. */
#ifndef DFUKIT_FUZZ_PKGIMG_H
#define DFUKIT_FUZZ_PKGIMG_H

#include <stdlib.h>
#include <string.h>

#include "dfukit/pkg.h"
#include "dfukit/tables.h"

#define FZ_APP_LEN 300

/* 0 on success, -1 when the .dat cannot be made. */
static inline int fz_pkg_app(dk_pkg *pkg)
{
    memset(pkg, 0, sizeof *pkg);
    uint8_t *bin = malloc(FZ_APP_LEN);
    if (!bin)
        return -1;
    for (size_t i = 0; i < FZ_APP_LEN; i++)
        bin[i] = (uint8_t)(i * 13 + 0xBB);
    dk_init_cmd tmpl;
    memset(&tmpl, 0, sizeof tmpl);
    tmpl.has_fw_version = true;
    tmpl.fw_version = 1;
    tmpl.has_hw_version = true;
    tmpl.hw_version = 52;
    tmpl.sd_req_count = 2;
    tmpl.sd_req[0] = 0x0000; /* no SoftDevice (the MBR only) */
    tmpl.sd_req[1] = 0x0100; /* or dfusim's default SoftDevice */
    tmpl.has_is_debug = true;
    tmpl.bv_count = 1;
    tmpl.bv[0].type = DK_VAL_VALIDATE_GENERATED_CRC;
    dk_err e;
    dk_image *im = &pkg->img[0];
    if (dk_pkg_make_dat(&tmpl, DK_FW_APPLICATION, bin, FZ_APP_LEN, 0, 0, NULL, &im->dat,
                        &im->dat_len, &e) != DK_OK) {
        free(bin);
        return -1;
    }
    pkg->n = 1;
    im->kind = DK_IMG_APPLICATION;
    im->key = dk_img_key(DK_IMG_APPLICATION);
    strcpy(im->bin_name, "app.bin");
    strcpy(im->dat_name, "app.dat");
    im->bin = bin;
    im->bin_len = FZ_APP_LEN;
    return 0;
}

#endif
