/* fuzz_pkg.c - libFuzzer target for DFU packages (lib/files pkg.c, from
 * memory with dk_pkg_open_mem: libzip on a buffer, the manifest through
 * jansson, every named member, then the checks of each image's init packet
 * against its firmware and the signature check against a fixed key).
 *
 * Invariants beyond the sanitizers: errors are one line with no offset (the
 * member and its offset are in the text); an opened package has 1..4 images
 * in send order, each with both members read and within the size limit, and
 * names that are non-empty strings; freeing leaves it empty; the checks of a
 * package agree with the checks of its images one by one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crypto.h"
#include "dfukit/pkg.h"
#include "fuzz_util.h"

static char pub_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/fuzz_pkg.XXXXXX";
    CHECK(mkdtemp(dir));
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
    dk_pkg_free(&pkg);
    CHECK(pkg.n == 0);
    return 0;
}
