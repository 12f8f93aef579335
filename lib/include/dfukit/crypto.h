/* crypto.h - SHA-256 and ECDSA P-256 as Secure DFU uses them (OpenSSL).
 *
 * Nordic byte order: the 64-byte signature r||s and the 64-byte public key x||y
 * are stored with each 32-byte half reversed (little-endian).  The init packet
 * hash is the SHA-256 of the image, reversed as a whole.
 */
#ifndef DFUKIT_CRYPTO_H
#define DFUKIT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "dfukit/err.h"

void dk_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* The hash as an init packet carries it: SHA-256 byte-reversed. */
void dk_sha256_le(const uint8_t *data, size_t len, uint8_t out[32]);

/* Verify a Nordic-order signature over msg with a PEM public key (or a PEM
 * private key, whose public half is used).  DK_OK, DK_E_VERIFY on a bad
 * signature, other errors for unreadable keys. */
dk_status dk_ecdsa_verify_pem(const char *pem_path, const uint8_t *msg, size_t len,
                              const uint8_t sig[64], dk_err *err);

/* Sign msg with a PEM private key; sig in Nordic order. */
dk_status dk_ecdsa_sign_pem(const char *pem_path, const uint8_t *msg, size_t len,
                            uint8_t sig[64], dk_err *err);

/* Write a fresh P-256 key pair as PEM (private to priv_path, public to
 * pub_path; either may be NULL). For tests and sample packages. */
dk_status dk_ecdsa_keygen_pem(const char *priv_path, const char *pub_path, dk_err *err);

/* Nordic order <-> big-endian for a 64-byte r||s or x||y: reverse each
 * 32-byte half (its own inverse; in and out may be the same buffer). */
void dk_nordic_swap64(const uint8_t in[64], uint8_t out[64]);

/* The public key of a PEM key (public or private) as the 64 bytes x||y in
 * Nordic order, the form a bootloader's public key array holds. */
dk_status dk_ecdsa_pubkey_raw(const char *pem_path, uint8_t xy[64], dk_err *err);

#endif
