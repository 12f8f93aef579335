/* fuzz_pkg.c - libFuzzer target for DFU packages (lib/files pkg.c, from
 * memory with dk_pkg_open_mem: libzip on a buffer, the manifest through
 * jansson, every named member, then the checks of each image's init packet
 * against its firmware and the signature check against a fixed key; then
 * the package as dfuhost --protocol legacy takes it: its images in the
 * legacy master's form and each .dat as a legacy init packet).  An input
 * that starts "PK" is the archive itself; any other is its members (name
 * length u8, name, length u16 BE, bytes; up to 8), stored in a well-formed
 * archive here, so that mutations reach the manifest and the init packets
 * instead of stopping at libzip's CRC and header checks.
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

#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/legacy.h"
#include "dfukit/pkg.h"
#include "dfukit/rd.h"
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

/* A zip archive with the members of in, stored (zip's "no compression"). */
static size_t zip_of(fz_in *in, uint8_t *out, size_t cap)
{
    struct { const uint8_t *name, *data; size_t nlen, dlen; uint32_t off; } m[8];
    size_t n = 0, o = 0;
    while (fz_left(in) && n < 8) {
        m[n].name = fz_bytes(in, fz_u8(in), &m[n].nlen);
        m[n].data = fz_bytes(in, fz_u16(in), &m[n].dlen);
        n++;
    }
    /* local headers and data, then the central directory, then its end */
    static const uint8_t ver_date[] = { 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0 };
    for (size_t i = 0; i < n; i++) {
        if (o + 30 + m[i].nlen + m[i].dlen > cap)
            return 0;
        m[i].off = (uint32_t)o;
        uint32_t crc = dk_crc32(0, m[i].data, m[i].dlen);
        uint8_t *q = dk_put_le32(out + o, 0x04034b50);
        memcpy(q, ver_date, sizeof ver_date);
        q = dk_put_le32(q + sizeof ver_date, crc);
        q = dk_put_le32(q, (uint32_t)m[i].dlen);
        q = dk_put_le32(q, (uint32_t)m[i].dlen);
        q = dk_put_le16(q, (uint16_t)m[i].nlen);
        q = dk_put_le16(q, 0);
        memcpy(q, m[i].name, m[i].nlen);
        memcpy(q + m[i].nlen, m[i].data, m[i].dlen);
        o += 30 + m[i].nlen + m[i].dlen;
    }
    uint32_t cd = (uint32_t)o;
    for (size_t i = 0; i < n; i++) {
        if (o + 46 + m[i].nlen > cap)
            return 0;
        uint8_t *q = dk_put_le32(out + o, 0x02014b50);
        q = dk_put_le16(q, 20);
        memcpy(q, ver_date, sizeof ver_date);
        q = dk_put_le32(q + sizeof ver_date, dk_crc32(0, m[i].data, m[i].dlen));
        q = dk_put_le32(q, (uint32_t)m[i].dlen);
        q = dk_put_le32(q, (uint32_t)m[i].dlen);
        q = dk_put_le16(q, (uint16_t)m[i].nlen);
        memset(q, 0, 12); /* extra, comment, disk, attributes */
        q = dk_put_le32(q + 12, m[i].off);
        memcpy(q, m[i].name, m[i].nlen);
        o += 46 + m[i].nlen;
    }
    if (o + 22 > cap)
        return 0;
    uint8_t *q = dk_put_le32(out + o, 0x06054b50);
    q = dk_put_le32(q, 0);
    q = dk_put_le16(q, (uint16_t)n);
    q = dk_put_le16(q, (uint16_t)n);
    q = dk_put_le32(q, (uint32_t)(o - cd));
    q = dk_put_le32(q, cd);
    dk_put_le16(q, 0);
    return o + 22;
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
    static uint8_t zip[8 * (30 + 46 + 255 + 65535) + 22];
    if (size < 2 || data[0] != 'P' || data[1] != 'K') {
        fz_in in = { data, size, 0 };
        size = zip_of(&in, zip, sizeof zip);
        CHECK(size > 0);
        data = zip;
    }
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
