/* test_initpkt.c - init packet decode/encode (protocol.md §8.1, §8.2):
 * packets built byte by byte here, round trips, the signed span, and every
 * malformed input kept as a case with its status and offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crypto.h"
#include "dfukit/initpkt.h"
#include "dfukit/pkg.h"
#include "dfukit/tables.h"
#include "dk_test.h"

/* ---- a tiny protobuf writer, independent of nanopb ---- */
typedef struct {
    uint8_t b[1024];
    size_t n;
} pbw;

static void w_raw(pbw *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_varint(pbw *w, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b |= 0x80;
        w_raw(w, &b, 1);
    } while (v);
}

static void w_u(pbw *w, unsigned tag, uint64_t v)
{
    w_varint(w, (uint64_t)tag << 3);
    w_varint(w, v);
}

static void w_len(pbw *w, unsigned tag, const void *p, size_t n)
{
    w_varint(w, ((uint64_t)tag << 3) | 2);
    w_varint(w, n);
    w_raw(w, p, n);
}

static void w_msg(pbw *w, unsigned tag, const pbw *sub) { w_len(w, tag, sub->b, sub->n); }

static uint8_t hash32[32];

/* InitCommand as nrfutil fills it for an application (§8.2). */
static void build_init(pbw *w, uint32_t app_size)
{
    pbw h = { .n = 0 }, bv = { .n = 0 }, sd = { .n = 0 };
    w->n = 0;
    w_u(w, 1, 3);  /* fw_version */
    w_u(w, 2, 52); /* hw_version */
    w_varint(&sd, 0x0100);
    w_varint(&sd, 0x0101);
    w_msg(w, 3, &sd); /* sd_req packed */
    w_u(w, 4, 0);     /* type APPLICATION */
    w_u(w, 5, 0);
    w_u(w, 6, 0);
    w_u(w, 7, app_size);
    w_u(&h, 1, 3); /* SHA256 */
    w_len(&h, 2, hash32, 32);
    w_msg(w, 8, &h);
    w_u(w, 9, 0); /* is_debug false */
    w_u(&bv, 1, 1);
    w_len(&bv, 2, "", 0);
    w_msg(w, 10, &bv);
}

static void build_plain(pbw *pkt, const pbw *init)
{
    pbw cmd = { .n = 0 };
    w_u(&cmd, 1, 1);
    w_msg(&cmd, 2, init);
    pkt->n = 0;
    w_msg(pkt, 1, &cmd);
}

static void build_signed(pbw *pkt, const pbw *init, const uint8_t sig[64], unsigned sigtype)
{
    pbw cmd = { .n = 0 }, sc = { .n = 0 };
    w_u(&cmd, 1, 1);
    w_msg(&cmd, 2, init);
    w_msg(&sc, 1, &cmd);
    w_u(&sc, 2, sigtype);
    w_len(&sc, 3, sig, 64);
    pkt->n = 0;
    w_msg(pkt, 2, &sc);
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 32; i++)
        hash32[i] = (uint8_t)(0xA0 + i);
    return 0;
}

static void test_decode_plain_fields(void **state)
{
    (void)state;
    pbw init, pkt;
    build_init(&init, 100000);
    build_plain(&pkt, &init);
    dk_initpkt p;
    dk_err e = { 0 };
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_false(p.is_signed);
    assert_true(p.has_plain);
    assert_true(p.has_op_code);
    assert_int_equal(p.op_code, 1);
    assert_true(p.has_init);
    const dk_init_cmd *c = &p.init;
    assert_true(c->has_fw_version);
    assert_int_equal(c->fw_version, 3);
    assert_true(c->has_hw_version);
    assert_int_equal(c->hw_version, 52);
    assert_int_equal(c->sd_req_count, 2);
    assert_int_equal(c->sd_req[0], 0x0100);
    assert_int_equal(c->sd_req[1], 0x0101);
    assert_true(c->has_type);
    assert_int_equal(c->type, DK_FW_APPLICATION);
    assert_true(c->has_sd_size && c->has_bl_size && c->has_app_size);
    assert_int_equal(c->sd_size, 0);
    assert_int_equal(c->bl_size, 0);
    assert_int_equal(c->app_size, 100000);
    assert_true(c->has_hash);
    assert_int_equal(c->hash_type, DK_HASH_SHA256);
    assert_int_equal(c->hash_len, 32);
    assert_memory_equal(c->hash, hash32, 32);
    assert_true(c->has_is_debug);
    assert_false(c->is_debug);
    assert_int_equal(c->bv_count, 1);
    assert_int_equal(c->bv[0].type, DK_VAL_VALIDATE_GENERATED_CRC);
    assert_int_equal(c->bv[0].len, 0);
    assert_int_equal(p.unknown_fields, 0);
    /* unsigned: the span is the plain command's InitCommand: 0a LEN 08 01 12 LEN */
    assert_int_equal(p.signed_off, 6);
    assert_int_equal(p.signed_len, init.n);
    assert_memory_equal(pkt.b + p.signed_off, init.b, init.n);
    assert_int_equal(dk_initpkt_image_size(&p), 100000);

    /* our encoder writes exactly these bytes (the same shape nrfutil writes) */
    uint8_t out[DK_INITPKT_MAX];
    assert_int_equal(dk_initpkt_encode(&p, out, sizeof out), pkt.n);
    assert_memory_equal(out, pkt.b, pkt.n);
    assert_int_equal(dk_initpkt_encode_init(&p.init, out, sizeof out), init.n);
    assert_memory_equal(out, init.b, init.n);
}

static void test_decode_signed_span(void **state)
{
    (void)state;
    pbw init, pkt;
    uint8_t sig[64];
    for (int i = 0; i < 64; i++)
        sig[i] = (uint8_t)i;
    build_init(&init, 4096);
    build_signed(&pkt, &init, sig, 0);
    dk_initpkt p;
    dk_err e = { 0 };
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_true(p.is_signed);
    assert_false(p.has_plain);
    assert_int_equal(p.signature_type, DK_SIG_ECDSA_P256_SHA256);
    assert_int_equal(p.signature_len, 64);
    assert_memory_equal(p.signature, sig, 64);
    assert_int_equal(p.init.app_size, 4096);
    /* 12 LEN(2 bytes) 0a LEN 08 01 12 LEN: InitCommand starts at 9 (§8.2) */
    assert_true(pkt.n > 127 + 3);
    assert_int_equal(p.signed_off, 9);
    assert_int_equal(p.signed_len, init.n);
    assert_memory_equal(pkt.b + 9, init.b, init.n);
    uint8_t out[DK_INITPKT_MAX];
    assert_int_equal(dk_initpkt_encode(&p, out, sizeof out), pkt.n);
    assert_memory_equal(out, pkt.b, pkt.n);
}

static void test_signature_over_span(void **state)
{
    (void)state;
    char dir[512], key[600], pub[600];
    assert_int_equal(dk_test_tmpdir(dir, sizeof dir), 0);
    dk_test_path(key, sizeof key, dir, "k.pem");
    dk_test_path(pub, sizeof pub, dir, "pub.pem");
    dk_err e = { 0 };
    assert_int_equal(dk_ecdsa_keygen_pem(key, pub, &e), DK_OK);

    uint8_t bin[5000];
    dk_test_fill(bin, sizeof bin, 3);
    dk_init_cmd t;
    memset(&t, 0, sizeof t);
    t.has_fw_version = t.has_hw_version = true;
    t.fw_version = 9;
    t.hw_version = 52;
    uint8_t *dat;
    size_t len;
    assert_int_equal(dk_pkg_make_dat(&t, DK_FW_APPLICATION, bin, sizeof bin, 0, 0, key, &dat,
                                     &len, &e),
                     DK_OK);
    dk_initpkt p;
    assert_int_equal(dk_initpkt_decode(dat, len, &p, &e), DK_OK);
    assert_true(p.is_signed);
    uint8_t enc[DK_INITPKT_MAX];
    size_t n = dk_initpkt_encode_init(&p.init, enc, sizeof enc);
    assert_int_equal(n, p.signed_len);
    assert_memory_equal(dat + p.signed_off, enc, n);
    assert_int_equal(dk_ecdsa_verify_pem(pub, dat + p.signed_off, p.signed_len, p.signature, &e),
                     DK_OK);
    /* the span is exact: one byte more or less, or any byte changed, fails */
    assert_int_equal(dk_ecdsa_verify_pem(pub, dat + p.signed_off, p.signed_len - 1, p.signature,
                                         &e),
                     DK_E_VERIFY);
    assert_int_equal(dk_ecdsa_verify_pem(pub, dat + p.signed_off - 1, p.signed_len + 1,
                                         p.signature, &e),
                     DK_E_VERIFY);
    for (size_t i = 0; i < p.signed_len; i++) {
        dat[p.signed_off + i] ^= 0x04;
        assert_int_equal(dk_ecdsa_verify_pem(pub, dat + p.signed_off, p.signed_len, p.signature,
                                             &e),
                         DK_E_VERIFY);
        dat[p.signed_off + i] ^= 0x04;
    }
    free(dat);
    dk_test_rmtree(dir);
}

static void test_both_commands(void **state)
{
    (void)state;
    pbw init, other, sgn, pkt;
    uint8_t sig[64] = { 1 };
    build_init(&init, 777);
    build_init(&other, 888);
    build_signed(&sgn, &init, sig, 0);
    build_plain(&pkt, &other);
    w_raw(&pkt, sgn.b, sgn.n); /* Packet{command, signed_command} */
    dk_initpkt p;
    dk_err e = { 0 };
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_true(p.is_signed);
    assert_true(p.has_plain);
    assert_int_equal(p.init.app_size, 777); /* the signed command's fields */
    assert_memory_equal(pkt.b + p.signed_off, init.b, init.n);
    assert_true(p.signed_off > 6 + other.n);
    char *txt = NULL;
    size_t tl = 0;
    FILE *f = open_memstream(&txt, &tl);
    dk_initpkt_print(&p, "", f);
    fclose(f);
    assert_non_null(strstr(txt, "command and signed_command"));
    free(txt);
}

static void test_sdk15_shape_and_variants(void **state)
{
    (void)state;
    /* SDK 15: no boot_validation, no is_debug, sd_req of 4, SD+BL sizes */
    pbw init = { .n = 0 }, h = { .n = 0 }, sd = { .n = 0 }, pkt;
    w_u(&init, 1, 0xFFFFFFFFu);
    w_u(&init, 2, 52);
    for (unsigned v = 0x90; v < 0x94; v++)
        w_varint(&sd, v);
    w_msg(&init, 3, &sd);
    w_u(&init, 4, 3);
    w_u(&init, 5, 150000);
    w_u(&init, 6, 24000);
    w_u(&h, 1, 3);
    w_len(&h, 2, hash32, 32);
    w_msg(&init, 8, &h);
    build_plain(&pkt, &init);
    dk_initpkt p;
    dk_err e = { 0 };
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_int_equal(p.init.fw_version, 0xFFFFFFFFu);
    assert_int_equal(p.init.sd_req_count, 4);
    assert_int_equal(p.init.sd_req[3], 0x93);
    assert_int_equal(p.init.type, DK_FW_SOFTDEVICE_BOOTLOADER);
    assert_false(p.init.has_app_size);
    assert_false(p.init.has_is_debug);
    assert_int_equal(p.init.bv_count, 0);
    assert_int_equal(dk_initpkt_image_size(&p), 174000);
    uint8_t out[DK_INITPKT_MAX];
    assert_int_equal(dk_initpkt_encode(&p, out, sizeof out), pkt.n);
    assert_memory_equal(out, pkt.b, pkt.n);

    /* sd_req not packed (one varint per entry) decodes the same */
    pbw init2 = { .n = 0 };
    w_u(&init2, 3, 0x100);
    w_u(&init2, 3, 0x200);
    build_plain(&pkt, &init2);
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_int_equal(p.init.sd_req_count, 2);
    assert_int_equal(p.init.sd_req[1], 0x200);

    /* unknown fields of every wire type are skipped and counted */
    pbw init3 = { .n = 0 };
    w_u(&init3, 2, 7);
    w_u(&init3, 50, 1);
    w_len(&init3, 51, "xyz", 3);
    w_varint(&init3, (52 << 3) | 1);
    w_raw(&init3, "12345678", 8);
    w_varint(&init3, (53 << 3) | 5);
    w_raw(&init3, "1234", 4);
    build_plain(&pkt, &init3);
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_int_equal(p.unknown_fields, 4);
    assert_int_equal(p.init.hw_version, 7);

    /* ResetCommand (nrfutil only) */
    pbw rst = { .n = 0 }, cmd = { .n = 0 };
    w_u(&rst, 1, 30);
    w_u(&cmd, 1, 0);
    w_msg(&cmd, 3, &rst);
    pkt.n = 0;
    w_msg(&pkt, 1, &cmd);
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    assert_true(p.has_reset);
    assert_int_equal(p.reset_timeout, 30);
    assert_int_equal(p.op_code, 0);
    assert_false(p.has_init);
    assert_int_equal(dk_initpkt_encode(&p, out, sizeof out), pkt.n);
    assert_memory_equal(out, pkt.b, pkt.n);
}

static void test_roundtrip_full(void **state)
{
    (void)state;
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.is_signed = true;
    p.has_init = true;
    p.signature_type = DK_SIG_ED25519;
    p.signature_len = 64;
    memset(p.signature, 0xEE, 64);
    dk_init_cmd *c = &p.init;
    c->has_fw_version = c->has_hw_version = c->has_type = c->has_sd_size = true;
    c->has_bl_size = c->has_app_size = c->has_hash = c->has_is_debug = true;
    c->fw_version = 0xFFFFFFFFu;
    c->hw_version = 0x80000000u;
    c->sd_req_count = DK_INIT_SD_REQ_MAX;
    for (size_t i = 0; i < DK_INIT_SD_REQ_MAX; i++)
        c->sd_req[i] = 0xFFFFFFFFu - (uint32_t)i;
    c->type = DK_FW_EXTERNAL_APPLICATION;
    c->sd_size = 1;
    c->bl_size = 2;
    c->app_size = 3;
    c->hash_type = DK_HASH_SHA512;
    c->hash_len = 32;
    memset(c->hash, 0x5A, 32);
    c->is_debug = true;
    c->bv_count = DK_INIT_BV_MAX;
    for (size_t i = 0; i < DK_INIT_BV_MAX; i++) {
        c->bv[i].type = DK_VAL_VALIDATE_ECDSA_P256_SHA256;
        c->bv[i].len = 64;
        memset(c->bv[i].bytes, (int)i, 64);
    }
    uint8_t buf[DK_INITPKT_MAX];
    size_t n = dk_initpkt_encode(&p, buf, sizeof buf);
    assert_true(n > 0 && n <= DK_INITPKT_MAX);
    dk_initpkt q;
    dk_err e = { 0 };
    assert_int_equal(dk_initpkt_decode(buf, n, &q, &e), DK_OK);
    q.signed_off = q.signed_len = 0;
    p.has_op_code = true; /* the encoder writes op_code INIT */
    p.op_code = 1;
    assert_memory_equal(&q.init, &p.init, sizeof p.init);
    assert_int_equal(q.signature_type, p.signature_type);
    assert_memory_equal(q.signature, p.signature, 64);
    /* every buffer too small fails with 0, none writes past cap (ASan) */
    for (size_t cap = 0; cap < n; cap++) {
        uint8_t *small = malloc(cap ? cap : 1);
        assert_int_equal(dk_initpkt_encode(&p, small, cap), 0);
        free(small);
    }
    /* values out of the schema's range do not encode */
    c->sd_req_count = DK_INIT_SD_REQ_MAX + 1;
    assert_int_equal(dk_initpkt_encode(&p, buf, sizeof buf), 0);
    assert_int_equal(dk_initpkt_encode_init(c, buf, sizeof buf), 0);
    c->sd_req_count = 0;
    c->bv[1].len = 65;
    assert_int_equal(dk_initpkt_encode_init(c, buf, sizeof buf), 0);
}

static void test_print(void **state)
{
    (void)state;
    pbw init, pkt;
    uint8_t sig[64] = { 0 };
    build_init(&init, 100000);
    build_signed(&pkt, &init, sig, 7);
    dk_initpkt p;
    dk_err e = { 0 };
    assert_int_equal(dk_initpkt_decode(pkt.b, pkt.n, &p, &e), DK_OK);
    p.init.type = 9;
    p.init.bv[0].type = 12;
    char *txt = NULL;
    size_t tl = 0;
    FILE *f = open_memstream(&txt, &tl);
    dk_initpkt_print(&p, "> ", f);
    fclose(f);
    const char *want[] = {
        "> packet: signed_command\n",
        "> op_code: INIT\n",
        "> fw_version: 3 (0x3)\n",
        "> hw_version: 52 (0x34)\n",
        "> sd_req: 0x0100, 0x0101\n",
        "> type: unknown(0x09)\n",
        "> sd_size: 0 (0x0)\n",
        "> app_size: 100000 (0x186a0)\n",
        "> hash_type: SHA256\n",
        "> hash: a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf (32 bytes as in the packet; the image's SHA-256 byte-reversed)\n",
        "> is_debug: false\n",
        "> boot_validation[0]: unknown(0x0c), 0 bytes\n",
        "> signature_type: unknown(0x07)\n",
        "> signed_bytes: offset 9, length ",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(txt, want[i]))
            fail_msg("missing line %s in:\n%s", want[i], txt);
    }
    free(txt);
}

/* ---- malformed inputs: every one kept, with status and offset ---- */
struct bad {
    const char *name;
    uint8_t b[96];
    size_t n;
    long off;
    const char *msg;
};

static const struct bad bads[] = {
    { "empty", { 0 }, 0, 0, "neither command nor signed_command" },
    { "only unknown field", { 0x18, 0x01 }, 2, 0, "neither command nor signed_command" },
    { "key truncated", { 0x80 }, 1, 0, "truncated field key" },
    { "key overlong", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 11, 0,
      "invalid field key" },
    { "field number 0", { 0x00, 0x00 }, 2, 0, "invalid field number 0" },
    { "group wire type", { 0x0b, 0x0c }, 2, 0, "unsupported wire type 3" },
    { "wire type 6", { 0x0e }, 1, 0, "unsupported wire type 6" },
    { "command as varint", { 0x08, 0x01 }, 2, 0, "Packet.command: wrong wire type 0" },
    { "length missing", { 0x0a }, 1, 1, "truncated length" },
    { "length past end", { 0x0a, 0x05, 0x08 }, 3, 0, "runs past the end" },
    { "huge length", { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f }, 6, 0, "runs past the end" },
    { "varint truncated", { 0x0a, 0x02, 0x08, 0x80 }, 4, 3, "truncated varint" },
    { "varint 10th byte > 1",
      { 0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 }, 13, 3,
      "overlong varint" },
    { "fixed64 truncated", { 0x19, 1, 2, 3 }, 4, 1, "truncated 8-byte field 3" },
    { "fixed32 truncated", { 0x0a, 0x03, 0x1d, 1, 2 }, 5, 3, "truncated 4-byte field 3" },
    /* inner length runs past its parent even though the buffer continues */
    { "inner past parent", { 0x0a, 0x02, 0x12, 0x05, 0x08, 0x01, 0x10, 0x02, 0x18 }, 9, 2,
      "Command.init: length 5 runs past the end" },
    { "fw_version > 32 bits", { 0x0a, 0x08, 0x12, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10 }, 10, 5,
      "InitCommand.fw_version: value 4294967296 does not fit 32 bits" },
    { "op_code as bytes", { 0x0a, 0x02, 0x0a, 0x00 }, 4, 2, "Command.op_code: wrong wire type 2" },
    { "hash 33 bytes",
      { 0x0a, 0x29, 0x12, 0x27, 0x42, 0x25, 0x08, 0x03, 0x12, 0x21 }, 10 + 33, 8,
      "Hash.hash: 33 bytes, more than 32" },
    { "hash without type", { 0x0a, 0x06, 0x12, 0x04, 0x42, 0x02, 0x12, 0x00 }, 8, 6,
      "Hash: required field hash_type missing" },
    { "bv bytes 65", { 0x0a, 0x49, 0x12, 0x47, 0x52, 0x45, 0x08, 0x03, 0x12, 0x41 }, 10 + 65, 8,
      "BootValidation.bytes: 65 bytes, more than 64" },
    { "bv without bytes", { 0x0a, 0x06, 0x12, 0x04, 0x52, 0x02, 0x08, 0x01 }, 8, 6,
      "BootValidation: required field bytes missing" },
    { "4 boot validations",
      { 0x0a, 0x1a, 0x12, 0x18, 0x52, 0x04, 0x08, 0x01, 0x12, 0x00, 0x52, 0x04, 0x08, 0x01, 0x12,
        0x00, 0x52, 0x04, 0x08, 0x01, 0x12, 0x00, 0x52, 0x04, 0x08, 0x01, 0x12, 0x00 },
      28, 22, "InitCommand.boot_validation: more than 3 entries" },
    { "17 sd_req packed",
      { 0x0a, 0x15, 0x12, 0x13, 0x1a, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        17 },
      23, 22, "InitCommand.sd_req: more than 16 entries" },
    { "bad packed varint", { 0x0a, 0x05, 0x12, 0x03, 0x1a, 0x01, 0x80 }, 7, 6,
      "InitCommand.sd_req: bad packed varint" },
    { "signed without signature", { 0x12, 0x04, 0x0a, 0x00, 0x10, 0x00 }, 6, 2,
      "SignedCommand: required field signature missing" },
    { "signed without command", { 0x12, 0x04, 0x10, 0x00, 0x1a, 0x00 }, 6, 2,
      "SignedCommand: required field command missing" },
    { "signature 67 bytes", { 0x12, 0x45, 0x1a, 0x43 }, 4 + 67, 2,
      "SignedCommand.signature: 67 bytes, more than 64" },
    { "reset without timeout", { 0x0a, 0x02, 0x1a, 0x00 }, 4, 4,
      "ResetCommand: required field timeout missing" },
    { "is_debug as fixed32", { 0x0a, 0x07, 0x12, 0x05, 0x4d, 0, 0, 0, 0 }, 9, 4,
      "InitCommand.is_debug: wrong wire type 5" },
    /* merged by protobuf, but a signature covers one span: refused */
    { "init twice", { 0x0a, 0x04, 0x12, 0x00, 0x12, 0x00 }, 6, 4, "Command.init: appears twice" },
    { "command twice", { 0x0a, 0x00, 0x0a, 0x00 }, 4, 2, "Packet.command: appears twice" },
    { "trailing garbage after valid packet", { 0x0a, 0x02, 0x08, 0x01, 0xff }, 5, 4,
      "truncated field key" },
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        /* exact-size heap copy so ASan catches any read past the end */
        uint8_t *buf = malloc(b->n ? b->n : 1);
        memcpy(buf, b->b, b->n);
        dk_initpkt p;
        dk_err e = { 0 };
        dk_status st = dk_initpkt_decode(b->n ? buf : NULL, b->n, &p, &e);
        if (st != DK_E_FORMAT || !e.has_offset || (long)e.offset != b->off ||
            !strstr(e.msg, b->msg))
            fail_msg("%s: status %d offset %s%llu msg \"%s\"; want offset %ld \"%s\"", b->name,
                     st, e.has_offset ? "" : "(none) ", (unsigned long long)e.offset, e.msg,
                     b->off, b->msg);
        free(buf);
    }
}

/* Every prefix and every single-byte change of a real signed packet either
 * decodes or fails with DK_E_FORMAT; nothing reads out of bounds. */
static void test_truncation_and_mutation_sweep(void **state)
{
    (void)state;
    pbw init, pkt;
    uint8_t sig[64];
    memset(sig, 0x33, 64);
    build_init(&init, 100000);
    build_signed(&pkt, &init, sig, 0);
    dk_initpkt p;
    dk_err e;
    size_t ok = 0;
    for (size_t n = 0; n < pkt.n; n++) {
        uint8_t *buf = malloc(n ? n : 1);
        memcpy(buf, pkt.b, n);
        dk_status st = dk_initpkt_decode(buf, n, &p, &e);
        assert_true(st == DK_OK || st == DK_E_FORMAT);
        if (st == DK_E_FORMAT)
            assert_true(e.has_offset && e.offset <= n);
        ok += st == DK_OK;
        free(buf);
    }
    assert_int_equal(ok, 0); /* a cut signed packet always misses something */
    uint8_t *buf = malloc(pkt.n);
    for (size_t i = 0; i < pkt.n; i++) {
        for (unsigned x = 1; x < 256; x <<= 1) {
            memcpy(buf, pkt.b, pkt.n);
            buf[i] ^= (uint8_t)x;
            dk_status st = dk_initpkt_decode(buf, pkt.n, &p, &e);
            assert_true(st == DK_OK || st == DK_E_FORMAT);
            if (st == DK_OK && p.signed_len)
                assert_true(p.signed_off + p.signed_len <= pkt.n);
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_plain_fields),
        cmocka_unit_test(test_decode_signed_span),
        cmocka_unit_test(test_signature_over_span),
        cmocka_unit_test(test_both_commands),
        cmocka_unit_test(test_sdk15_shape_and_variants),
        cmocka_unit_test(test_roundtrip_full),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncation_and_mutation_sweep),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
