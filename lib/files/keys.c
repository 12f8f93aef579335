/* keys.c - ECDSA P-256 with PEM key files through OpenSSL 3 EVP (crypto.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dfukit/crypto.h"
#include "dfukit/file.h"

/* The last OpenSSL error as text, for one-line messages. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown reason";
}

static bool is_p256(EVP_PKEY *k)
{
    char group[64];
    size_t glen = 0;
    if (!EVP_PKEY_is_a(k, "EC"))
        return false;
    if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen))
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* Read a PEM key: a public key, or else a private key (want_private forces
 * the latter). */
static dk_status load_key(const char *path, bool want_private, EVP_PKEY **out, dk_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return dk_err_set(err, DK_E_IO, -1, "%s: cannot open key: %m", path);
    EVP_PKEY *k = NULL;
    if (!want_private)
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    if (!k) {
        ERR_clear_error();
        rewind(f);
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (!k) {
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: not a PEM %s key (%s)", path,
                          want_private ? "private" : "public or private", ossl_reason());
    }
    if (!is_p256(k)) {
        EVP_PKEY_free(k);
        return dk_err_set(err, DK_E_UNSUPPORTED, -1, "%s: not an ECDSA P-256 key", path);
    }
    *out = k;
    return DK_OK;
}

dk_status dk_ecdsa_verify_pem(const char *pem_path, const uint8_t *msg, size_t len,
                              const uint8_t sig[64], dk_err *err)
{
    EVP_PKEY *k = NULL;
    dk_status st = load_key(pem_path, false, &k, err);
    if (st != DK_OK)
        return st;

    uint8_t be[64];
    dk_nordic_swap64(sig, be);
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(be, 32, NULL), *s = BN_bin2bn(be + 32, 32, NULL);
    unsigned char *der = NULL;
    int derlen = -1;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        derlen = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);

    st = DK_E_NOMEM;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (derlen > 0 && ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1) {
        int rc = EVP_DigestVerify(ctx, der, (size_t)derlen, msg, len);
        if (rc == 1)
            st = DK_OK;
        else
            st = dk_err_set(err, DK_E_VERIFY, -1, "signature does not verify with %s", pem_path);
    } else {
        dk_err_set(err, st, -1, "ECDSA verify setup failed (%s)", ossl_reason());
    }
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    return st;
}

dk_status dk_ecdsa_sign_pem(const char *pem_path, const uint8_t *msg, size_t len,
                            uint8_t sig[64], dk_err *err)
{
    EVP_PKEY *k = NULL;
    dk_status st = load_key(pem_path, true, &k, err);
    if (st != DK_OK)
        return st;

    st = dk_err_set(err, DK_E_NOMEM, -1, "ECDSA signing failed");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t derlen = sizeof der;
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
        EVP_DigestSign(ctx, der, &derlen, msg, len) == 1) {
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
        uint8_t be[64];
        if (es && BN_bn2binpad(ECDSA_SIG_get0_r(es), be, 32) == 32 &&
            BN_bn2binpad(ECDSA_SIG_get0_s(es), be + 32, 32) == 32) {
            dk_nordic_swap64(be, sig);
            st = DK_OK;
        }
        ECDSA_SIG_free(es);
    }
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return st;
}

static dk_status write_pem(const char *path, EVP_PKEY *k, bool priv, dk_err *err)
{
    /* never through a symlink, 0600 (a private key above all: file.h) */
    dk_err e = { 0 };
    FILE *f = dk_file_fopen(path, 0, &e);
    if (!f)
        return dk_err_set(err, e.status, -1, "%s: %s", path, e.msg);
    BIO *b = BIO_new_fp(f, BIO_CLOSE);
    if (!b) {
        fclose(f);
        return dk_err_set(err, DK_E_NOMEM, -1, "%s: cannot create key file", path);
    }
    /* The private key goes out as "EC PRIVATE KEY", the form nrfutil writes. */
    int ok = priv ? PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL)
                  : PEM_write_bio_PUBKEY(b, k);
    ok = BIO_free(b) && ok;
    ERR_clear_error();
    if (!ok)
        return dk_err_set(err, DK_E_IO, -1, "%s: cannot write key", path);
    return DK_OK;
}

dk_status dk_ecdsa_keygen_pem(const char *priv_path, const char *pub_path, dk_err *err)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        return dk_err_set(err, DK_E_NOMEM, -1, "P-256 key generation failed (%s)", ossl_reason());
    dk_status st = DK_OK;
    if (priv_path)
        st = write_pem(priv_path, k, true, err);
    if (st == DK_OK && pub_path)
        st = write_pem(pub_path, k, false, err);
    EVP_PKEY_free(k);
    return st;
}

dk_status dk_ecdsa_pubkey_raw(const char *pem_path, uint8_t xy[64], dk_err *err)
{
    EVP_PKEY *k = NULL;
    dk_status st = load_key(pem_path, false, &k, err);
    if (st != DK_OK)
        return st;
    uint8_t pt[65];
    size_t n = 0;
    if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt, &n) ||
        n != 65 || pt[0] != 0x04) {
        st = dk_err_set(err, DK_E_FORMAT, -1, "%s: cannot read the public point", pem_path);
    } else {
        dk_nordic_swap64(pt + 1, xy);
    }
    ERR_clear_error();
    EVP_PKEY_free(k);
    return st;
}
