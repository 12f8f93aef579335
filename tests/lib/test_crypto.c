/* test_crypto.c - SHA-256, Nordic byte order, ECDSA P-256 sign/verify/keygen
 * (protocol.md §8.2: hash byte-reversed, signature r||s each half reversed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dfukit/crypto.h"
#include "dk_test.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void reverse_halves(const uint8_t in[64], uint8_t out[64])
{
    for (int i = 0; i < 32; i++) {
        out[i] = in[31 - i];
        out[32 + i] = in[63 - i];
    }
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    uint8_t h[32], want[32], le[32];
    dk_sha256((const uint8_t *)"abc", 3, h);
    unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    assert_memory_equal(h, want, 32);
    dk_sha256(NULL, 0, h);
    unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    assert_memory_equal(h, want, 32);
    /* the init packet form: the same digest, last byte first */
    dk_sha256_le(NULL, 0, le);
    for (int i = 0; i < 32; i++)
        assert_int_equal(le[i], want[31 - i]);
}

static void test_nordic_swap(void **state)
{
    (void)state;
    uint8_t in[64], out[64], back[64], want[64];
    for (int i = 0; i < 64; i++)
        in[i] = (uint8_t)i;
    dk_nordic_swap64(in, out);
    reverse_halves(in, want);
    assert_memory_equal(out, want, 64);
    assert_int_equal(out[0], 31);
    assert_int_equal(out[32], 63);
    dk_nordic_swap64(out, back);
    assert_memory_equal(back, in, 64);
    memcpy(back, in, 64);
    dk_nordic_swap64(back, back); /* in place */
    assert_memory_equal(back, want, 64);
}

/* RFC 6979 A.2.5: P-256, SHA-256, message "sample". */
static const char *rfc_x = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
static const char *rfc_y = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const char *rfc_r = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
static const char *rfc_s = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

struct dir {
    char path[512];
};

static int setup_dir(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    if (!d || dk_test_tmpdir(d->path, sizeof d->path) != 0)
        return -1;
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    struct dir *d = *state;
    dk_test_rmtree(d->path);
    free(d);
    return 0;
}

/* PEM of the RFC public key, built from its raw point (SubjectPublicKeyInfo). */
static void write_rfc_pub(const char *path)
{
    static const uint8_t prefix[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                      0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                      0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 };
    uint8_t der[sizeof prefix + 64];
    memcpy(der, prefix, sizeof prefix);
    unhex(rfc_x, der + sizeof prefix, 32);
    unhex(rfc_y, der + sizeof prefix + 32, 32);
    unsigned char b64[256];
    int n = EVP_EncodeBlock(b64, der, (int)sizeof der);
    assert_true(n > 0);
    char pem[512];
    int m = snprintf(pem, sizeof pem, "-----BEGIN PUBLIC KEY-----\n%.64s\n%s\n-----END PUBLIC KEY-----\n",
                     (char *)b64, (char *)b64 + 64);
    assert_true(m > 0 && n > 64);
    assert_int_equal(dk_test_write_file(path, pem, (size_t)m), 0);
}

static void test_verify_known_answer(void **state)
{
    struct dir *d = *state;
    char pub[600];
    dk_test_path(pub, sizeof pub, d->path, "rfc.pem");
    write_rfc_pub(pub);
    uint8_t be[64], nordic[64];
    unhex(rfc_r, be, 32);
    unhex(rfc_s, be + 32, 32);
    reverse_halves(be, nordic);
    dk_err e = { 0 };
    const uint8_t *msg = (const uint8_t *)"sample";
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, 6, nordic, &e), DK_OK);
    /* big-endian r||s is not what the packet carries: must fail */
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, 6, be, &e), DK_E_VERIFY);
    assert_non_null(strstr(e.msg, "does not verify"));
    /* another message fails */
    assert_int_equal(dk_ecdsa_verify_pem(pub, (const uint8_t *)"samplf", 6, nordic, &e),
                     DK_E_VERIFY);
    /* the raw key in Nordic order: x and y each reversed */
    uint8_t xy[64], want[64], raw[64];
    assert_int_equal(dk_ecdsa_pubkey_raw(pub, xy, &e), DK_OK);
    unhex(rfc_x, raw, 32);
    unhex(rfc_y, raw + 32, 32);
    reverse_halves(raw, want);
    assert_memory_equal(xy, want, 64);
}

static void test_sign_verify_roundtrip(void **state)
{
    struct dir *d = *state;
    char priv[600], pub[600], other[600];
    dk_test_path(priv, sizeof priv, d->path, "k.pem");
    dk_test_path(pub, sizeof pub, d->path, "k.pub.pem");
    dk_test_path(other, sizeof other, d->path, "o.pem");
    dk_err e = { 0 };
    assert_int_equal(dk_ecdsa_keygen_pem(priv, pub, &e), DK_OK);
    assert_int_equal(dk_ecdsa_keygen_pem(other, NULL, &e), DK_OK);
    size_t n;
    char *txt = (char *)dk_test_read_file(priv, &n);
    assert_non_null(txt);
    assert_non_null(strstr(txt, "BEGIN EC PRIVATE KEY")); /* nrfutil's key form */
    free(txt);

    uint8_t msg[100], sig[64], sig2[64];
    dk_test_fill(msg, sizeof msg, 7);
    assert_int_equal(dk_ecdsa_sign_pem(priv, msg, sizeof msg, sig, &e), DK_OK);
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, sizeof msg, sig, &e), DK_OK);
    assert_int_equal(dk_ecdsa_verify_pem(priv, msg, sizeof msg, sig, &e), DK_OK);
    /* ECDSA is randomized: two signatures differ, both verify */
    assert_int_equal(dk_ecdsa_sign_pem(priv, msg, sizeof msg, sig2, &e), DK_OK);
    assert_memory_not_equal(sig, sig2, 64);
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, sizeof msg, sig2, &e), DK_OK);
    /* wrong key */
    assert_int_equal(dk_ecdsa_verify_pem(other, msg, sizeof msg, sig, &e), DK_E_VERIFY);
    /* every flipped message byte and a flipped signature byte in each half */
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] ^= 0x01;
        assert_int_equal(dk_ecdsa_verify_pem(pub, msg, sizeof msg, sig, &e), DK_E_VERIFY);
        msg[i] ^= 0x01;
    }
    sig[0] ^= 0x80;
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, sizeof msg, sig, &e), DK_E_VERIFY);
    sig[0] ^= 0x80;
    sig[63] ^= 0x01;
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, sizeof msg, sig, &e), DK_E_VERIFY);
    /* an all-zero signature is invalid, not a crash */
    memset(sig, 0, 64);
    assert_int_equal(dk_ecdsa_verify_pem(pub, msg, sizeof msg, sig, &e), DK_E_VERIFY);
    /* signing with only a public key fails cleanly */
    assert_int_equal(dk_ecdsa_sign_pem(pub, msg, sizeof msg, sig, &e), DK_E_FORMAT);
    assert_non_null(strstr(e.msg, "private"));
}

static void test_bad_keys(void **state)
{
    struct dir *d = *state;
    char p[600];
    dk_err e = { 0 };
    uint8_t sig[64] = { 0 }, msg[1] = { 0 };
    dk_test_path(p, sizeof p, d->path, "missing.pem");
    assert_int_equal(dk_ecdsa_verify_pem(p, msg, 1, sig, &e), DK_E_IO);
    assert_non_null(strstr(e.msg, "missing.pem"));
    assert_int_equal(dk_ecdsa_sign_pem(p, msg, 1, sig, &e), DK_E_IO);

    dk_test_path(p, sizeof p, d->path, "garbage.pem");
    assert_int_equal(dk_test_write_file(p, "not a key\n", 10), 0);
    assert_int_equal(dk_ecdsa_verify_pem(p, msg, 1, sig, &e), DK_E_FORMAT);
    assert_int_equal(dk_ecdsa_pubkey_raw(p, sig, &e), DK_E_FORMAT);

    /* a P-384 key is a valid EC key but not what Secure DFU uses */
    dk_test_path(p, sizeof p, d->path, "p384.pem");
    EVP_PKEY *k = EVP_EC_gen("P-384");
    assert_non_null(k);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PUBKEY(f, k), 1);
    fclose(f);
    EVP_PKEY_free(k);
    assert_int_equal(dk_ecdsa_verify_pem(p, msg, 1, sig, &e), DK_E_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "P-256"));

    /* unwritable key path */
    dk_test_path(p, sizeof p, d->path, "no/such/dir/k.pem");
    assert_int_equal(dk_ecdsa_keygen_pem(p, NULL, &e), DK_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_nordic_swap),
        cmocka_unit_test_setup_teardown(test_verify_known_answer, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_sign_verify_roundtrip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_keys, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
