/* initpkt.h - the Secure DFU init packet (.dat): a protobuf "Packet" holding
 * either a plain Command or a SignedCommand (schema: lib/sdfu/proto/dfu-cc.proto).
 *
 *   Packet { 1: Command command | 2: SignedCommand signed_command }
 *   SignedCommand { 1: Command, 2: signature_type, 3: signature (64 bytes r||s,
 *                   each 32-byte half little-endian) }
 *   Command { 1: op_code, 2: InitCommand init, [3: ResetCommand, nrfutil only] }
 *
 * A signature covers the serialized InitCommand bytes exactly as they sit in
 * the packet: signed_off/signed_len give that span.  Decoding uses nanopb and
 * never allocates.
 */
#ifndef DFUKIT_INITPKT_H
#define DFUKIT_INITPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/err.h"

#define DK_INIT_SD_REQ_MAX 16
#define DK_INIT_BV_MAX 3
/* Room for the largest packet this schema can encode (every field at its
 * maximum, signed) */
#define DK_INITPKT_MAX 1024

typedef struct {
    bool has_fw_version;
    uint32_t fw_version;
    bool has_hw_version;
    uint32_t hw_version;
    size_t sd_req_count;
    uint32_t sd_req[DK_INIT_SD_REQ_MAX];
    bool has_type;
    uint32_t type; /* enum dk_fw_type */
    bool has_sd_size, has_bl_size, has_app_size;
    uint32_t sd_size, bl_size, app_size;
    bool has_hash;
    uint32_t hash_type; /* enum dk_hash_type */
    uint8_t hash[32];   /* as in the packet: SHA-256 byte-reversed */
    size_t hash_len;
    bool has_is_debug;
    bool is_debug;
    size_t bv_count;
    struct {
        uint32_t type; /* enum dk_validation_type */
        uint8_t bytes[64];
        size_t len;
    } bv[DK_INIT_BV_MAX];
} dk_init_cmd;

typedef struct {
    bool is_signed;      /* signed_command present */
    bool has_plain;      /* command present (both set: the SDK rejects it) */
    bool has_op_code;
    uint32_t op_code;    /* 1 = INIT, 0 = RESET (nrfutil only) */
    bool has_init;
    dk_init_cmd init;
    bool has_reset;
    uint32_t reset_timeout;
    uint32_t signature_type;
    uint8_t signature[64];
    size_t signature_len;
    size_t signed_off;   /* span of the serialized InitCommand in the packet */
    size_t signed_len;   /* (of the signed command; of the plain one when unsigned) */
    size_t unknown_fields; /* fields not in the schema, skipped while decoding */
} dk_initpkt;

/* Decode a .dat.  On failure (DK_E_FORMAT) err names the byte offset where
 * decoding stopped and the reason: the wire format is walked with a
 * bounds-checked reader first, so offsets are exact for bad keys, varints,
 * lengths, wire types, oversized fields and missing required fields.  A
 * message field that occurs twice (protobuf would merge the two, while a
 * signature covers only one span) is refused too.  Unknown fields are skipped
 * and counted.  A packet
 * with neither command nor signed_command fails; one with both decodes (both
 * flags set) and the signed one's fields are reported. */
dk_status dk_initpkt_decode(const uint8_t *buf, size_t len, dk_initpkt *out, dk_err *err);

/* Serialize just the InitCommand (what a signature covers). Returns the
 * length, or 0 when cap is too small. */
size_t dk_initpkt_encode_init(const dk_init_cmd *init, uint8_t *out, size_t cap);

/* Serialize a whole packet: a signed_command when pkt->is_signed (with
 * pkt->signature), else a plain command; both when is_signed and has_plain.
 * op_code is INIT unless has_op_code; init is written when has_init or when
 * there is no reset. Returns the length or 0. */
size_t dk_initpkt_encode(const dk_initpkt *pkt, uint8_t *out, size_t cap);

/* The image size the packet announces: app_size, or sd_size + bl_size. */
uint32_t dk_initpkt_image_size(const dk_initpkt *pkt);

/* Print every field, one "name: value" line each after the given prefix:
 * packet kind, op_code, each InitCommand field ("absent" when not present),
 * enum names from tables.h ("unknown(0x..)" otherwise), the hash in hex in
 * packet order (noted as the image's SHA-256 byte-reversed), boot
 * validations, signature type and bytes, and the signed span. */
void dk_initpkt_print(const dk_initpkt *pkt, const char *prefix, FILE *out);

#endif
