/* tables.h - every Secure DFU constant set, once: opcodes, results, extended
 * errors, object types, firmware types.
 *
 * Each set is an X-macro list, expanded into an enum, a name lookup and (for
 * errors) a meaning and a hint.  Wire values have gaps: names are always looked
 * up by value (dk_*_name), never by indexing an array with a wire byte.
 * Unknown values yield NULL from dk_*_name and "unknown(0x..)" from dk_*_str.
 */
#ifndef DFUKIT_TABLES_H
#define DFUKIT_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* X(value, NAME, sdk) - sdk is 1 when SDK 17.1 implements the opcode. */
#define DK_OPCODES(X)                                                          \
    X(0x00, PROTOCOL_VERSION, 1)                                               \
    X(0x01, OBJECT_CREATE, 1)                                                  \
    X(0x02, RECEIPT_NOTIF_SET, 1)                                              \
    X(0x03, CRC_GET, 1)                                                        \
    X(0x04, OBJECT_EXECUTE, 1)                                                 \
    X(0x05, READ_ERROR, 0)                                                     \
    X(0x06, OBJECT_SELECT, 1)                                                  \
    X(0x07, MTU_GET, 1)                                                        \
    X(0x08, OBJECT_WRITE, 1)                                                   \
    X(0x09, PING, 1)                                                           \
    X(0x0A, HARDWARE_VERSION, 1)                                               \
    X(0x0B, FIRMWARE_VERSION, 1)                                               \
    X(0x0C, ABORT, 1)                                                          \
    X(0x60, RESPONSE, 1)

/* X(value, NAME, meaning) */
#define DK_RESULTS(X)                                                          \
    X(0x00, INVALID, "invalid result code (never sent by the SDK)")           \
    X(0x01, SUCCESS, "success")                                                \
    X(0x02, OP_CODE_NOT_SUPPORTED, "opcode not supported by this bootloader") \
    X(0x03, INVALID_PARAMETER,                                                 \
      "invalid parameter: zero or unaligned size, or write beyond the object") \
    X(0x04, INSUFFICIENT_RESOURCES,                                            \
      "insufficient resources: object too large or no room for the image")    \
    X(0x05, INVALID_OBJECT,                                                    \
      "invalid object: bad type, undecodable init packet or bad signature")   \
    X(0x06, INVALID_SIGNATURE, "invalid signature (nrfutil name, not in SDK 17.1)") \
    X(0x07, UNSUPPORTED_TYPE, "unsupported object type")                      \
    X(0x08, OPERATION_NOT_PERMITTED,                                           \
      "operation not permitted in this state (missing init packet, missing or extra bytes)") \
    X(0x0A, OPERATION_FAILED, "operation failed (settings write, signature length, hash engine)") \
    X(0x0B, EXT_ERROR, "extended error: see the extended error code")

/* X(value, NAME, meaning, what to check) */
#define DK_EXT_ERRORS(X)                                                       \
    X(0x00, NO_ERROR, "no extended error was set (bootloader implementation problem)", \
      "report it; the bootloader returned EXT_ERROR without a reason")        \
    X(0x01, INVALID_ERROR_CODE, "invalid extended error code",                 \
      "the bootloader produced an error code it does not define")             \
    X(0x02, WRONG_COMMAND_FORMAT, "wrong command format",                      \
      "the request was malformed; compare it with the protocol")              \
    X(0x03, UNKNOWN_COMMAND, "unknown command",                                \
      "the init packet carries an op code the bootloader does not know")      \
    X(0x04, INIT_COMMAND_INVALID,                                              \
      "init command invalid: missing type, hw_version, fw_version or size",    \
      "regenerate the package with nrfutil pkg generate and all required options") \
    X(0x05, FW_VERSION_FAILURE,                                                \
      "firmware version too low: downgrade prevented",                         \
      "raise --application-version (or --bootloader-version) above the installed one") \
    X(0x06, HW_VERSION_FAILURE,                                                \
      "hardware version does not match the bootloader's",                      \
      "use --hw-version equal to NRF_DFU_HW_VERSION of the bootloader (52 in the examples)") \
    X(0x07, SD_VERSION_FAILURE,                                                \
      "SoftDevice requirement not met: sd_req does not list the installed SoftDevice", \
      "add the installed SoftDevice's FWID to --sd-req (nrfutil pkg generate --help lists them)") \
    X(0x08, SIGNATURE_MISSING,                                                 \
      "init packet is unsigned but the bootloader requires a signature",      \
      "sign the package with --key-file matching the bootloader's public key") \
    X(0x09, WRONG_HASH_TYPE, "hash type is not SHA-256",                       \
      "regenerate the package; the bootloader only accepts SHA-256 hashes")   \
    X(0x0A, HASH_FAILED, "hash could not be computed",                         \
      "the bootloader's hash engine failed; retry, then check the bootloader build") \
    X(0x0B, WRONG_SIGNATURE_TYPE, "signature type is not ECDSA P-256 SHA-256", \
      "sign with an ECDSA P-256 key (nrfutil keys generate)")                 \
    X(0x0C, VERIFICATION_FAILED,                                               \
      "SHA-256 of the received image does not match the init packet",         \
      "bytes were lost or corrupted on the way, or the .bin and .dat do not belong together") \
    X(0x0D, INSUFFICIENT_SPACE, "not enough space for the image",              \
      "the image does not fit in the free flash; shrink it or update with a single bank")

/* X(value, NAME) */
#define DK_OBJ_TYPES(X)                                                        \
    X(0x00, INVALID)                                                           \
    X(0x01, COMMAND)                                                           \
    X(0x02, DATA)

/* Firmware types of the init packet (FwType). X(value, NAME, manifest key) */
#define DK_FW_TYPES(X)                                                         \
    X(0, APPLICATION, "application")                                           \
    X(1, SOFTDEVICE, "softdevice")                                             \
    X(2, BOOTLOADER, "bootloader")                                             \
    X(3, SOFTDEVICE_BOOTLOADER, "softdevice_bootloader")                       \
    X(4, EXTERNAL_APPLICATION, "application")

/* Hash types of the init packet (HashType). */
#define DK_HASH_TYPES(X)                                                       \
    X(0, NO_HASH)                                                              \
    X(1, CRC)                                                                  \
    X(2, SHA128)                                                               \
    X(3, SHA256)                                                               \
    X(4, SHA512)

/* Signature types of the init packet (SignatureType). */
#define DK_SIG_TYPES(X)                                                        \
    X(0, ECDSA_P256_SHA256)                                                    \
    X(1, ED25519)

/* Boot validation types (ValidationType, SDK 17 only). */
#define DK_VALIDATION_TYPES(X)                                                 \
    X(0, NO_VALIDATION)                                                        \
    X(1, VALIDATE_GENERATED_CRC)                                               \
    X(2, VALIDATE_SHA256)                                                      \
    X(3, VALIDATE_ECDSA_P256_SHA256)

#define DK_X_ENUM3(v, n, a) DK_OP_##n = v,
enum dk_op { DK_OPCODES(DK_X_ENUM3) };
#undef DK_X_ENUM3
#define DK_X_ENUM3(v, n, a) DK_RES_##n = v,
enum dk_result { DK_RESULTS(DK_X_ENUM3) };
#undef DK_X_ENUM3
#define DK_X_ENUM4(v, n, a, b) DK_EXT_##n = v,
enum dk_ext_error { DK_EXT_ERRORS(DK_X_ENUM4) };
#undef DK_X_ENUM4
#define DK_X_ENUM2(v, n) DK_OBJ_##n = v,
enum dk_obj_type { DK_OBJ_TYPES(DK_X_ENUM2) };
#undef DK_X_ENUM2
#define DK_X_ENUM3(v, n, a) DK_FW_##n = v,
enum dk_fw_type { DK_FW_TYPES(DK_X_ENUM3) };
#undef DK_X_ENUM3
#define DK_X_ENUM2(v, n) DK_HASH_##n = v,
enum dk_hash_type { DK_HASH_TYPES(DK_X_ENUM2) };
#undef DK_X_ENUM2
#define DK_X_ENUM2(v, n) DK_SIG_##n = v,
enum dk_sig_type { DK_SIG_TYPES(DK_X_ENUM2) };
#undef DK_X_ENUM2
#define DK_X_ENUM2(v, n) DK_VAL_##n = v,
enum dk_validation_type { DK_VALIDATION_TYPES(DK_X_ENUM2) };
#undef DK_X_ENUM2

/* Buffer size that always holds a dk_*_str result. */
#define DK_NAME_BUFSZ 24

/* Name lookups: NULL when the value is not in the table. */
const char *dk_op_name(unsigned v);
const char *dk_result_name(unsigned v);
const char *dk_result_meaning(unsigned v);
const char *dk_ext_name(unsigned v);
const char *dk_ext_meaning(unsigned v);
const char *dk_ext_hint(unsigned v);
const char *dk_obj_name(unsigned v);
const char *dk_fw_name(unsigned v);
const char *dk_fw_manifest_key(unsigned v);
const char *dk_hash_name(unsigned v);
const char *dk_sig_name(unsigned v);
const char *dk_validation_name(unsigned v);

/* 1 when SDK 17.1 implements the opcode (0x05 is named by nrfutil only). */
int dk_op_in_sdk(unsigned v);

/* Never NULL: the name, or "unknown(0x..)" written into buf. */
const char *dk_op_str(unsigned v, char buf[DK_NAME_BUFSZ]);
const char *dk_result_str(unsigned v, char buf[DK_NAME_BUFSZ]);
const char *dk_ext_str(unsigned v, char buf[DK_NAME_BUFSZ]);
const char *dk_obj_str(unsigned v, char buf[DK_NAME_BUFSZ]);
const char *dk_fw_str(unsigned v, char buf[DK_NAME_BUFSZ]);

#endif
