/* fuzz_pkg.c - libFuzzer target for DFU packages (lib/files pkg.c, from
 * memory with dk_pkg_open_mem: libzip on a buffer, the manifest through
 * jansson, every named member, then the checks of each image's init packet
 * against its firmware and the signature check against a fixed key; then
 * the package as dfuhost --protocol legacy takes it: its images in the
 * legacy master's form and each .dat as a legacy init packet).
 *
 * Invariants beyond the sanitizers: errors are one line with no offset (the
 * member and its offset are in the text); an opened package has 1..4 images
 * in send order, each with both members read and within the size limit, and
 * names that are non-empty strings; freeing leaves it empty; the checks of a
 * package agree with the checks of its images one by one; the legacy images
 * are the package's, in its order, with a legacy START mode; a legacy init
 * packet that parses lies inside its .dat. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crypto.h"
#include "dfukit/legacy.h"
#include "dfukit/pkg.h"
#include "fuzz_util.h"
#include "lgmaster.h"

static char pub_path[64];
static char key_dir[32];

static void cleanup(void)
{
    unlink(pub_path);
    rmdir(key_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = key_dir;
    snprintf(key_dir, sizeof key_dir, "/tmp/fuzz_pkg.XXXXXX");
    CHECK(mkdtemp(key_dir));
    atexit(cleanup);
    char priv[64];
    snprintf(priv, sizeof priv, "%s/key.pem", dir);
    snprintf(pub_path, sizeof pub_path, "%s/pub.pem", dir);
    dk_err e;
    CHECK(dk_ecdsa_keygen_pem(priv, pub_path, &e) == DK_OK);
    unlink(priv);
    return 0;
}

static void check_err(const dk_err *e)
{
    fz_check_err(e, 0);
    CHECK(!e->has_offset);
    CHECK(e->msg[0] != '\0');
}

/* The package as dfuhost --protocol legacy reads it. */
static void legacy(const dk_pkg *pkg)
{
    dh_lg_image li[DK_PKG_MAX_IMAGES];
    size_t n = dh_lg_images(pkg, li);
    CHECK(n == pkg->n);
    for (size_t i = 0; i < n; i++) {
        CHECK(li[i].bin == pkg->img[i].bin && li[i].bin_len == pkg->img[i].bin_len);
        CHECK(li[i].mode == DK_LG_MODE_SD || li[i].mode == DK_LG_MODE_BL ||
              li[i].mode == DK_LG_MODE_SD_BL || li[i].mode == DK_LG_MODE_APP);
        dk_lg_init in;
        dk_err e;
        memset(&e, 0, sizeof e);
        if (dk_lg_init_parse(li[i].dat, li[i].dat_len, &in, &e) == DK_OK)
            CHECK(in.len + in.pad + in.extra == li[i].dat_len);
        else
            fz_check_err(&e, li[i].dat_len);
        uint16_t crc;
        dk_lg_verdict v = dk_lg_init_check(li[i].dat, li[i].dat_len & ~(size_t)3, li[i].mode, -1, &crc);
        CHECK(dk_lg_verdict_text(v) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_pkg pkg;
    dk_err e;
    memset(&e, 0, sizeof e);
    dk_status st = dk_pkg_open_mem(data, size, &pkg, &e);
    if (st != DK_OK) {
        check_err(&e);
        CHECK(pkg.n == 0);
        return 0;
    }
    CHECK(pkg.n >= 1 && pkg.n <= DK_PKG_MAX_IMAGES);
    for (size_t i = 0; i < pkg.n; i++) {
        const dk_image *im = &pkg.img[i];
        CHECK(i == 0 || im->kind > pkg.img[i - 1].kind);
        CHECK(im->key && strcmp(im->key, dk_img_key(im->kind)) == 0);
        CHECK(memchr(im->bin_name, '\0', sizeof im->bin_name) && im->bin_name[0]);
        CHECK(memchr(im->dat_name, '\0', sizeof im->dat_name) && im->dat_name[0]);
        CHECK(im->bin && im->dat);
        CHECK(im->bin_len <= DK_PKG_MEMBER_MAX && im->dat_len <= DK_PKG_MEMBER_MAX);
    }
    dk_status all = dk_pkg_check(&pkg, &e);
    if (all != DK_OK)
        check_err(&e);
    bool each_ok = true;
    for (size_t i = 0; i < pkg.n; i++) {
        dk_err ei;
        memset(&ei, 0, sizeof ei);
        if (dk_pkg_check_image(&pkg.img[i], &ei) != DK_OK) {
            check_err(&ei);
            each_ok = false;
        }
    }
    CHECK(all != DK_OK || each_ok); /* the package check is at least as strict */
    if (all == DK_OK) {
        /* a fresh key signed none of it: never verified */
        dk_err ev;
        memset(&ev, 0, sizeof ev);
        CHECK(dk_pkg_verify(&pkg, pub_path, &ev) != DK_OK);
        check_err(&ev);
    }
    legacy(&pkg);
    dk_pkg_free(&pkg);
    CHECK(pkg.n == 0);
    return 0;
}
