/* test_pkg.c - DFU package read/check/verify/write (protocol.md §8.2, §8.3):
 * round trips in send order, the manifest text, every check and verify
 * failure, and every broken zip/manifest/member kept as a case. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zip.h>

#include "dfukit/crypto.h"
#include "dfukit/initpkt.h"
#include "dfukit/pkg.h"
#include "dfukit/tables.h"
#include "dk_test.h"

struct ctx {
    char dir[512];
    char key[600], pub[600], other[600];
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (!c || dk_test_tmpdir(c->dir, sizeof c->dir) != 0)
        return -1;
    dk_test_path(c->key, sizeof c->key, c->dir, "k.pem");
    dk_test_path(c->pub, sizeof c->pub, c->dir, "k.pub.pem");
    dk_test_path(c->other, sizeof c->other, c->dir, "other.pem");
    dk_err e;
    if (dk_ecdsa_keygen_pem(c->key, c->pub, &e) || dk_ecdsa_keygen_pem(c->other, NULL, &e))
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    dk_test_rmtree(c->dir);
    free(c);
    return 0;
}

static const char *path(const struct ctx *c, const char *name)
{
    static char p[4][600];
    static int i;
    i = (i + 1) % 4;
    return dk_test_path(p[i], sizeof p[i], c->dir, name);
}

/* One image with generated content and a matching .dat. */
static void add_image(dk_pkg *pkg, dk_img_kind kind, size_t len, const char *key)
{
    static const char *stem[] = { "sd_bl", "sd", "bl", "app" };
    dk_image *im = &pkg->img[pkg->n++];
    memset(im, 0, sizeof *im);
    im->kind = kind;
    im->key = dk_img_key(kind);
    snprintf(im->bin_name, sizeof im->bin_name, "%s.bin", stem[kind]);
    snprintf(im->dat_name, sizeof im->dat_name, "%s.dat", stem[kind]);
    im->bin_len = len;
    im->bin = malloc(len ? len : 1);
    assert_non_null(im->bin);
    dk_test_fill(im->bin, len, 100 + kind);
    if (kind == DK_IMG_SOFTDEVICE_BOOTLOADER) {
        im->sd_size = (uint32_t)(len - len / 4);
        im->bl_size = (uint32_t)(len / 4);
    }
    dk_init_cmd t;
    memset(&t, 0, sizeof t);
    t.has_fw_version = t.has_hw_version = t.has_is_debug = true;
    t.fw_version = 5;
    t.hw_version = 52;
    t.sd_req_count = 1;
    t.sd_req[0] = 0x0100;
    t.bv_count = 1;
    t.bv[0].type = DK_VAL_VALIDATE_GENERATED_CRC;
    dk_err e = { 0 };
    assert_int_equal(dk_pkg_make_dat(&t, dk_img_fw_type(kind), im->bin, len, im->sd_size,
                                     im->bl_size, key, &im->dat, &im->dat_len, &e),
                     DK_OK);
}

static void write_pkg(const char *p, dk_pkg *pkg)
{
    dk_err e = { 0 };
    if (dk_pkg_write(p, pkg, &e) != DK_OK)
        fail_msg("write %s: %s", p, e.msg);
}

/* Re-encode an image's .dat after edit() changed the decoded packet. */
static void edit_dat(dk_image *im, void (*edit)(dk_initpkt *))
{
    dk_initpkt p;
    dk_err e;
    assert_int_equal(dk_initpkt_decode(im->dat, im->dat_len, &p, &e), DK_OK);
    edit(&p);
    uint8_t buf[DK_INITPKT_MAX];
    size_t n = dk_initpkt_encode(&p, buf, sizeof buf);
    assert_true(n > 0);
    im->dat = realloc(im->dat, n);
    memcpy(im->dat, buf, n);
    im->dat_len = n;
}

static void expect_err(dk_status st, const dk_err *e, dk_status want, const char *msg)
{
    if (st != want || !strstr(e->msg, msg))
        fail_msg("status %d \"%s\"; want %d \"%s\"", st, e->msg, want, msg);
}

static void test_roundtrip_send_order(void **state)
{
    struct ctx *c = *state;
    dk_pkg out = { .n = 0 };
    add_image(&out, DK_IMG_APPLICATION, 10000, NULL);
    add_image(&out, DK_IMG_BOOTLOADER, 3000, NULL);
    add_image(&out, DK_IMG_SOFTDEVICE, 7001, NULL);
    add_image(&out, DK_IMG_SOFTDEVICE_BOOTLOADER, 8000, NULL);
    const char *p = path(c, "all.zip");
    write_pkg(p, &out);

    dk_pkg in;
    dk_err e = { 0 };
    assert_int_equal(dk_pkg_open(p, &in, &e), DK_OK);
    assert_int_equal(in.n, 4);
    const dk_img_kind order[] = { DK_IMG_SOFTDEVICE_BOOTLOADER, DK_IMG_SOFTDEVICE,
                                  DK_IMG_BOOTLOADER, DK_IMG_APPLICATION };
    for (size_t i = 0; i < 4; i++) {
        const dk_image *a = &in.img[i];
        const dk_image *b = NULL;
        for (size_t k = 0; k < out.n; k++)
            if (out.img[k].kind == order[i])
                b = &out.img[k];
        assert_non_null(b);
        assert_int_equal(a->kind, order[i]);
        assert_string_equal(a->key, dk_img_key(order[i]));
        assert_string_equal(a->bin_name, b->bin_name);
        assert_string_equal(a->dat_name, b->dat_name);
        assert_int_equal(a->bin_len, b->bin_len);
        assert_memory_equal(a->bin, b->bin, b->bin_len);
        assert_int_equal(a->dat_len, b->dat_len);
        assert_memory_equal(a->dat, b->dat, b->dat_len);
        assert_int_equal(a->sd_size, b->sd_size);
        assert_int_equal(a->bl_size, b->bl_size);
    }
    assert_int_equal(in.img[0].sd_size, 6000);
    assert_int_equal(in.img[0].bl_size, 2000);
    assert_int_equal(dk_pkg_check(&in, &e), DK_OK);
    /* unsigned packages do not verify */
    expect_err(dk_pkg_verify(&in, c->pub, &e), &e, DK_E_VERIFY, "sd_bl.dat: not signed");
    dk_pkg_free(&in);
    assert_int_equal(in.n, 0);
    dk_pkg_free(&in); /* twice is harmless */

    /* the SD+BL .dat carries both sizes, app_size 0 (§8.2) */
    dk_initpkt ip;
    assert_int_equal(dk_initpkt_decode(out.img[3].dat, out.img[3].dat_len, &ip, &e), DK_OK);
    assert_int_equal(ip.init.type, DK_FW_SOFTDEVICE_BOOTLOADER);
    assert_int_equal(ip.init.sd_size, 6000);
    assert_int_equal(ip.init.bl_size, 2000);
    assert_true(ip.init.has_app_size);
    assert_int_equal(ip.init.app_size, 0);
    assert_false(ip.is_signed);
    dk_pkg_free(&out);
}

/* From memory: the same package as from its file, the same errors. */
static void test_open_mem(void **state)
{
    struct ctx *c = *state;
    dk_pkg out = { .n = 0 };
    add_image(&out, DK_IMG_APPLICATION, 5000, NULL);
    add_image(&out, DK_IMG_SOFTDEVICE, 3001, NULL);
    const char *p = path(c, "mem.zip");
    write_pkg(p, &out);
    size_t len = 0;
    uint8_t *zip = dk_test_read_file(p, &len);
    assert_non_null(zip);

    dk_pkg a, b;
    dk_err e = { 0 };
    assert_int_equal(dk_pkg_open(p, &a, &e), DK_OK);
    assert_int_equal(dk_pkg_open_mem(zip, len, &b, &e), DK_OK);
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(b.img[i].kind, a.img[i].kind);
        assert_string_equal(b.img[i].bin_name, a.img[i].bin_name);
        assert_int_equal(b.img[i].bin_len, a.img[i].bin_len);
        assert_memory_equal(b.img[i].bin, a.img[i].bin, a.img[i].bin_len);
        assert_int_equal(b.img[i].dat_len, a.img[i].dat_len);
        assert_memory_equal(b.img[i].dat, a.img[i].dat, a.img[i].dat_len);
    }
    assert_int_equal(dk_pkg_check(&b, &e), DK_OK);
    dk_pkg_free(&a);
    dk_pkg_free(&b);

    expect_err(dk_pkg_open_mem("", 0, &b, &e), &e, DK_E_FORMAT, "not a zip archive");
    assert_int_equal(b.n, 0);
    expect_err(dk_pkg_open_mem(zip, len / 2, &b, &e), &e, DK_E_FORMAT, "not a zip archive");
    uint8_t junk[3000];
    dk_test_fill(junk, sizeof junk, 5);
    expect_err(dk_pkg_open_mem(junk, sizeof junk, &b, &e), &e, DK_E_FORMAT, "not a zip archive");
    free(zip);
    dk_pkg_free(&out);
}

static void test_manifest_text(void **state)
{
    struct ctx *c = *state;
    dk_pkg pkg = { .n = 0 };
    add_image(&pkg, DK_IMG_APPLICATION, 100, NULL);
    add_image(&pkg, DK_IMG_SOFTDEVICE_BOOTLOADER, 400, NULL);
    char *m = dk_pkg_manifest_json(&pkg);
    assert_non_null(m);
    assert_string_equal(m, "{\n"
                           "    \"manifest\": {\n"
                           "        \"application\": {\n"
                           "            \"bin_file\": \"app.bin\",\n"
                           "            \"dat_file\": \"app.dat\"\n"
                           "        },\n"
                           "        \"softdevice_bootloader\": {\n"
                           "            \"bin_file\": \"sd_bl.bin\",\n"
                           "            \"dat_file\": \"sd_bl.dat\",\n"
                           "            \"info_read_only_metadata\": {\n"
                           "                \"bl_size\": 100,\n"
                           "                \"sd_size\": 300\n"
                           "            }\n"
                           "        }\n"
                           "    }\n"
                           "}");
    free(m);
    /* the zip stores that text, uncompressed, first */
    const char *p = path(c, "m.zip");
    write_pkg(p, &pkg);
    int ze;
    zip_t *z = zip_open(p, ZIP_RDONLY, &ze);
    assert_non_null(z);
    assert_int_equal(zip_get_num_entries(z, 0), 5);
    assert_string_equal(zip_get_name(z, 0, 0), "manifest.json");
    zip_stat_t sb;
    assert_int_equal(zip_stat_index(z, 0, 0, &sb), 0);
    assert_int_equal(sb.comp_method, ZIP_CM_STORE);
    zip_discard(z);
    dk_pkg_free(&pkg);
}

static void test_write_rejects(void **state)
{
    struct ctx *c = *state;
    dk_pkg pkg = { .n = 0 };
    dk_err e = { 0 };
    expect_err(dk_pkg_write(path(c, "x.zip"), &pkg, &e), &e, DK_E_USAGE, "1 to 4 images");
    add_image(&pkg, DK_IMG_APPLICATION, 10, NULL);
    add_image(&pkg, DK_IMG_APPLICATION, 10, NULL);
    expect_err(dk_pkg_write(path(c, "x.zip"), &pkg, &e), &e, DK_E_USAGE, "repeated kind");
    pkg.n = 1;
    expect_err(dk_pkg_write(path(c, "no/such/dir/x.zip"), &pkg, &e), &e, DK_E_IO, "");
    pkg.n = 2;
    dk_pkg_free(&pkg);
}

static void test_signed_verify(void **state)
{
    struct ctx *c = *state;
    dk_pkg out = { .n = 0 };
    add_image(&out, DK_IMG_SOFTDEVICE, 3000, c->key);
    add_image(&out, DK_IMG_APPLICATION, 5000, c->key);
    const char *p = path(c, "signed.zip");
    write_pkg(p, &out);
    dk_pkg in;
    dk_err e = { 0 };
    assert_int_equal(dk_pkg_open(p, &in, &e), DK_OK);
    assert_int_equal(dk_pkg_check(&in, &e), DK_OK);
    assert_int_equal(dk_pkg_verify(&in, c->pub, &e), DK_OK);
    assert_int_equal(dk_pkg_verify(&in, c->key, &e), DK_OK); /* private key works too */
    expect_err(dk_pkg_verify(&in, c->other, &e), &e, DK_E_VERIFY,
               "sd.dat: signature does not verify");
    expect_err(dk_pkg_verify(&in, path(c, "nokey.pem"), &e), &e, DK_E_IO, "nokey.pem");

    /* a flipped byte inside the signed span of the second image */
    dk_initpkt ip;
    assert_int_equal(dk_initpkt_decode(in.img[1].dat, in.img[1].dat_len, &ip, &e), DK_OK);
    in.img[1].dat[ip.signed_off + 3] ^= 0x01; /* hw_version 52 -> 53 */
    expect_err(dk_pkg_verify(&in, c->pub, &e), &e, DK_E_VERIFY, "app.dat: signature does not");
    in.img[1].dat[ip.signed_off + 3] ^= 0x01;
    /* a flipped signature byte */
    in.img[1].dat[in.img[1].dat_len - 1] ^= 0x01;
    expect_err(dk_pkg_verify(&in, c->pub, &e), &e, DK_E_VERIFY, "app.dat: signature does not");
    dk_pkg_free(&in);
    dk_pkg_free(&out);
}

static void set_ed25519(dk_initpkt *p) { p->signature_type = DK_SIG_ED25519; }
static void set_sigtype9(dk_initpkt *p) { p->signature_type = 9; }
static void short_sig(dk_initpkt *p) { p->signature_len = 63; }
static void drop_init_signed(dk_initpkt *p) { p->has_init = false, p->has_reset = true; }
static void app_size_plus1(dk_initpkt *p) { p->init.app_size++; }
static void sd_size_minus1(dk_initpkt *p) { p->init.sd_size--; }
static void type_bl(dk_initpkt *p) { p->init.type = DK_FW_BOOTLOADER; }
static void type_ext(dk_initpkt *p) { p->init.type = DK_FW_EXTERNAL_APPLICATION; }
static void no_hash(dk_initpkt *p) { p->init.has_hash = false; }
static void crc_hash(dk_initpkt *p) { p->init.hash_type = DK_HASH_CRC; }
static void no_init(dk_initpkt *p) { p->has_init = false, p->has_reset = true; }
static void reset_op(dk_initpkt *p) { p->has_op_code = true, p->op_code = 0; }
static void both(dk_initpkt *p) { p->is_signed = p->has_plain = true, p->signature_len = 64; }

static void test_verify_failures(void **state)
{
    struct ctx *c = *state;
    static const struct {
        void (*edit)(dk_initpkt *);
        const char *msg;
    } cases[] = {
        { set_ed25519, "app.dat: signature type ED25519, not ECDSA_P256_SHA256" },
        { set_sigtype9, "app.dat: signature type unknown(0x09)" },
        { short_sig, "app.dat: signature is 63 bytes, not 64" },
        { drop_init_signed, "app.dat: signed command has no InitCommand" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_pkg pkg = { .n = 0 };
        add_image(&pkg, DK_IMG_APPLICATION, 700, c->key);
        edit_dat(&pkg.img[0], cases[i].edit);
        dk_err e = { 0 };
        expect_err(dk_pkg_verify(&pkg, c->pub, &e), &e, DK_E_VERIFY, cases[i].msg);
        dk_pkg_free(&pkg);
    }
    dk_pkg empty = { .n = 0 };
    dk_err e = { 0 };
    expect_err(dk_pkg_verify(&empty, c->pub, &e), &e, DK_E_FORMAT, "no images");
}

static void test_check_failures(void **state)
{
    (void)state;
    static const struct {
        dk_img_kind kind;
        void (*edit)(dk_initpkt *);
        dk_status st;
        const char *msg;
    } cases[] = {
        { DK_IMG_APPLICATION, app_size_plus1, DK_E_VERIFY, "app.dat: app_size is 1001 but app.bin has 1000 bytes" },
        { DK_IMG_SOFTDEVICE_BOOTLOADER, sd_size_minus1, DK_E_VERIFY,
          "sd_bl.dat: sd_size + bl_size is 999 but sd_bl.bin has 1000 bytes" },
        { DK_IMG_APPLICATION, type_bl, DK_E_FORMAT,
          "app.dat: type BOOTLOADER, but the manifest lists it as application" },
        { DK_IMG_SOFTDEVICE, type_bl, DK_E_FORMAT, "sd.dat: type BOOTLOADER, but the manifest lists it as softdevice" },
        { DK_IMG_APPLICATION, no_hash, DK_E_FORMAT, "app.dat: no 32-byte SHA256 hash" },
        { DK_IMG_APPLICATION, crc_hash, DK_E_FORMAT, "app.dat: no 32-byte SHA256 hash" },
        { DK_IMG_APPLICATION, no_init, DK_E_FORMAT, "app.dat: no InitCommand" },
        { DK_IMG_APPLICATION, reset_op, DK_E_FORMAT, "app.dat: op_code 0, not INIT" },
        { DK_IMG_APPLICATION, both, DK_E_FORMAT,
          "app.dat: both command and signed_command (the bootloader rejects it)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_pkg pkg = { .n = 0 };
        add_image(&pkg, cases[i].kind, 1000, NULL);
        edit_dat(&pkg.img[0], cases[i].edit);
        dk_err e = { 0 };
        expect_err(dk_pkg_check(&pkg, &e), &e, cases[i].st, cases[i].msg);
        dk_pkg_free(&pkg);
    }
    /* an external application passes as "application" */
    dk_pkg pkg = { .n = 0 };
    dk_err e = { 0 };
    add_image(&pkg, DK_IMG_APPLICATION, 1000, NULL);
    edit_dat(&pkg.img[0], type_ext);
    assert_int_equal(dk_pkg_check(&pkg, &e), DK_OK);
    /* hash mismatch: the .bin changed after hashing; message shows both */
    pkg.img[0].bin[999] ^= 1;
    expect_err(dk_pkg_check(&pkg, &e), &e, DK_E_VERIFY,
               "is not the reversed SHA-256 of app.bin");
    pkg.img[0].bin[999] ^= 1;
    /* manifest metadata disagreeing with the .dat */
    dk_pkg_free(&pkg);
    add_image(&pkg, DK_IMG_SOFTDEVICE_BOOTLOADER, 1000, NULL);
    pkg.img[0].bl_size++;
    expect_err(dk_pkg_check(&pkg, &e), &e, DK_E_VERIFY,
               "softdevice_bootloader metadata sd_size 750, bl_size 251, but sd_bl.dat says 750, 250");
    /* a malformed .dat: member and offset named */
    pkg.img[0].dat_len = 5;
    expect_err(dk_pkg_check(&pkg, &e), &e, DK_E_FORMAT, "sd_bl.dat: offset 0: Packet.command: length");
    assert_false(e.has_offset);
    dk_pkg_free(&pkg);
}

/* ---- broken archives ---- */

/* A zip with the given members (NULL content = leave it out). */
static void make_zip(const char *p, const char *const *names, const char *const *texts, size_t n)
{
    int ze;
    zip_t *z = zip_open(p, ZIP_CREATE | ZIP_TRUNCATE, &ze);
    assert_non_null(z);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, texts[i], strlen(texts[i]), 0);
        assert_non_null(s);
        assert_true(zip_file_add(z, names[i], s, 0) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
}

static const char *good_manifest =
    "{\"manifest\": {\"application\": {\"bin_file\": \"app.bin\", \"dat_file\": \"app.dat\"}}}";

static void test_bad_archives(void **state)
{
    struct ctx *c = *state;
    static const struct {
        const char *name;
        const char *manifest; /* NULL: no manifest.json member */
        bool with_bin, with_dat;
        dk_status st;
        const char *msg;
    } cases[] = {
        { "no manifest", NULL, true, true, DK_E_FORMAT, "manifest.json: missing from the package" },
        { "bad json", "{\n  \"manifest\": {\n    \"application\": ,\n}", true, true, DK_E_FORMAT,
          "manifest.json: line 3: column 20: " },
        { "empty json", "", true, true, DK_E_FORMAT, "manifest.json: line 1: column 0:" },
        { "json array", "[1, 2]", true, true, DK_E_FORMAT, "manifest.json: no \"manifest\" object" },
        { "manifest not object", "{\"manifest\": 3}", true, true, DK_E_FORMAT,
          "manifest.json: no \"manifest\" object" },
        { "no images", "{\"manifest\": {\"dfu_version\": 0.5}}", true, true, DK_E_FORMAT,
          "manifest.json: lists no images" },
        { "entry not object", "{\"manifest\": {\"application\": \"app.bin\"}}", true, true,
          DK_E_FORMAT, "manifest.json: application: not an object" },
        { "no bin_file", "{\"manifest\": {\"application\": {\"dat_file\": \"app.dat\"}}}", true,
          true, DK_E_FORMAT, "manifest.json: application: no \"bin_file\"" },
        { "bin_file number", "{\"manifest\": {\"application\": {\"bin_file\": 7, \"dat_file\": \"app.dat\"}}}",
          true, true, DK_E_FORMAT, "manifest.json: application.bin_file: not a file name" },
        { "bin_file empty", "{\"manifest\": {\"application\": {\"bin_file\": \"\", \"dat_file\": \"app.dat\"}}}",
          true, true, DK_E_FORMAT, "manifest.json: application.bin_file: not a file name" },
        { "metadata not object",
          "{\"manifest\": {\"softdevice_bootloader\": {\"bin_file\": \"app.bin\", \"dat_file\": "
          "\"app.dat\", \"info_read_only_metadata\": []}}}",
          true, true, DK_E_FORMAT, "info_read_only_metadata: not an object" },
        { "metadata negative",
          "{\"manifest\": {\"softdevice_bootloader\": {\"bin_file\": \"app.bin\", \"dat_file\": "
          "\"app.dat\", \"info_read_only_metadata\": {\"sd_size\": -1}}}}",
          true, true, DK_E_FORMAT, "info_read_only_metadata.sd_size: not a 32-bit size" },
        { "missing bin", NULL, false, true, DK_E_FORMAT, "app.bin: missing from the package" },
        { "missing dat", NULL, true, false, DK_E_FORMAT, "app.dat: missing from the package" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *names[3], *texts[3];
        size_t n = 0;
        bool is_missing_member = !cases[i].with_bin || !cases[i].with_dat;
        const char *man = is_missing_member ? good_manifest : cases[i].manifest;
        if (man) {
            names[n] = "manifest.json";
            texts[n++] = man;
        }
        if (cases[i].with_bin) {
            names[n] = "app.bin";
            texts[n++] = "0123456789";
        }
        if (cases[i].with_dat) {
            names[n] = "app.dat";
            texts[n++] = "\x0a\x00";
        }
        const char *p = path(c, "bad.zip");
        make_zip(p, names, texts, n);
        dk_pkg pkg;
        dk_err e = { 0 };
        dk_status st = dk_pkg_open(p, &pkg, &e);
        if (st != cases[i].st || !strstr(e.msg, cases[i].msg))
            fail_msg("%s: status %d \"%s\"; want \"%s\"", cases[i].name, st, e.msg, cases[i].msg);
        assert_int_equal(pkg.n, 0);
    }
}

static void test_not_a_zip(void **state)
{
    struct ctx *c = *state;
    dk_pkg pkg;
    dk_err e = { 0 };
    expect_err(dk_pkg_open(path(c, "nonexistent.zip"), &pkg, &e), &e, DK_E_IO, "cannot open");
    const char *p = path(c, "empty.zip");
    assert_int_equal(dk_test_write_file(p, "", 0), 0);
    expect_err(dk_pkg_open(p, &pkg, &e), &e, DK_E_FORMAT, "not a zip archive");
    uint8_t junk[3000];
    dk_test_fill(junk, sizeof junk, 5);
    assert_int_equal(dk_test_write_file(p, junk, sizeof junk), 0);
    expect_err(dk_pkg_open(p, &pkg, &e), &e, DK_E_FORMAT, "not a zip archive");
    dk_status st = dk_pkg_open(c->dir, &pkg, &e); /* a directory */
    assert_true(st == DK_E_IO || st == DK_E_FORMAT);
}

/* Every prefix of a valid package and every byte of it flipped: an error or
 * (for flips libzip cannot see, e.g. in timestamps) a package; never a crash. */
static void test_cut_and_flip_sweep(void **state)
{
    struct ctx *c = *state;
    dk_pkg out = { .n = 0 };
    add_image(&out, DK_IMG_APPLICATION, 64, NULL);
    const char *p = path(c, "small.zip");
    write_pkg(p, &out);
    size_t len = 0;
    uint8_t *z = dk_test_read_file(p, &len);
    assert_non_null(z);
    const char *q = path(c, "cut.zip");
    dk_pkg pkg;
    dk_err e;
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(dk_test_write_file(q, z, n), 0);
        dk_status st = dk_pkg_open(q, &pkg, &e);
        assert_int_not_equal(st, DK_OK);
        assert_true(e.msg[0] != 0);
    }
    size_t opened = 0, failed_check = 0;
    for (size_t i = 0; i < len; i++) {
        z[i] ^= 0x20;
        assert_int_equal(dk_test_write_file(q, z, len), 0);
        z[i] ^= 0x20;
        if (dk_pkg_open(q, &pkg, &e) == DK_OK) {
            opened++;
            failed_check += dk_pkg_check(&pkg, &e) != DK_OK;
            dk_pkg_free(&pkg);
        }
    }
    assert_true(opened > 0 && opened < len);
    (void)failed_check;
    free(z);
    dk_pkg_free(&out);
}

static void test_corrupt_member_crc(void **state)
{
    struct ctx *c = *state;
    dk_pkg out = { .n = 0 };
    add_image(&out, DK_IMG_APPLICATION, 4000, NULL);
    const char *p = path(c, "crc.zip");
    write_pkg(p, &out);
    size_t len = 0;
    uint8_t *z = dk_test_read_file(p, &len);
    uint8_t *at = memmem(z, len, out.img[0].bin + 100, 64); /* stored: bytes as they are */
    assert_non_null(at);
    at[10] ^= 0xFF;
    assert_int_equal(dk_test_write_file(p, z, len), 0);
    dk_pkg pkg;
    dk_err e = { 0 };
    expect_err(dk_pkg_open(p, &pkg, &e), &e, DK_E_FORMAT, "app.bin: offset 4000: CRC error");
    free(z);
    dk_pkg_free(&out);
}

static void test_member_too_large(void **state)
{
    struct ctx *c = *state;
    const char *p = path(c, "big.zip");
    size_t big = DK_PKG_MEMBER_MAX + 1;
    char *zeros = calloc(1, big);
    assert_non_null(zeros);
    int ze;
    zip_t *z = zip_open(p, ZIP_CREATE | ZIP_TRUNCATE, &ze);
    assert_non_null(z);
    zip_source_t *s = zip_source_buffer(z, good_manifest, strlen(good_manifest), 0);
    assert_true(zip_file_add(z, "manifest.json", s, 0) >= 0);
    s = zip_source_buffer(z, "\x0a\x00", 2, 0);
    assert_true(zip_file_add(z, "app.dat", s, 0) >= 0);
    s = zip_source_buffer(z, zeros, big, 0);
    zip_int64_t idx = zip_file_add(z, "app.bin", s, 0);
    assert_true(idx >= 0);
    assert_int_equal(zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1), 0);
    assert_int_equal(zip_close(z), 0);
    free(zeros);
    dk_pkg pkg;
    dk_err e = { 0 };
    expect_err(dk_pkg_open(p, &pkg, &e), &e, DK_E_RANGE,
               "app.bin: 16777217 bytes, more than the 16 MiB limit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_send_order),
        cmocka_unit_test(test_manifest_text),
        cmocka_unit_test(test_write_rejects),
        cmocka_unit_test(test_signed_verify),
        cmocka_unit_test(test_verify_failures),
        cmocka_unit_test(test_check_failures),
        cmocka_unit_test(test_bad_archives),
        cmocka_unit_test(test_not_a_zip),
        cmocka_unit_test(test_open_mem),
        cmocka_unit_test(test_cut_and_flip_sweep),
        cmocka_unit_test(test_corrupt_member_crc),
        cmocka_unit_test(test_member_too_large),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
