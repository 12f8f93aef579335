/* crypto.c - SHA-256 and the byte orders of Nordic's hashes and signatures
 * (crypto.h); ECDSA with key files is files/keys.c. */
#include "dfukit/crypto.h"

#include <string.h>

#include <openssl/evp.h>

void dk_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
        memset(out, 0, 32); /* only when libcrypto itself is broken */
}

static void reverse(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        uint8_t t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

void dk_sha256_le(const uint8_t *data, size_t len, uint8_t out[32])
{
    dk_sha256(data, len, out);
    reverse(out, 32);
}

void dk_nordic_swap64(const uint8_t in[64], uint8_t out[64])
{
    uint8_t tmp[64];
    memcpy(tmp, in, 64);
    reverse(tmp, 32);
    reverse(tmp + 32, 32);
    memcpy(out, tmp, 64);
}
