/* msg.h - Secure DFU requests and responses (serial transport, SDK 15-17).
 *
 *   request:   op u8, payload
 *   response:  0x60, op u8, result u8, [payload if result == SUCCESS]
 *                                      [ext_error u8 if result == EXT_ERROR]
 *
 *   op  request payload          success response payload
 *   00  -                        version u8
 *   01  type u8, size u32        -                      (CREATE answers nothing)
 *   02  prn u16                  -
 *   03  -                        offset u32, crc u32    (also PRN notifications)
 *   04  -                        -
 *   06  type u8                  max_size u32, offset u32, crc u32 (this order)
 *   07  -                        mtu u16
 *   08  data...                  (no response unless PRN: then a 03 response)
 *   09  id u8                    id u8
 *   0A  -                        part, variant, rom_size, ram_size, rom_page_size u32
 *   0B  image u8                 type u8, version u32, addr u32, len u32
 *   0C  -                        (the target resets; no response)
 *
 * All integers little-endian.  Parsing never reads past the frame: a short
 * payload is DK_MSG_TRUNCATED (fields zero), a long one DK_MSG_OVERLONG (fields
 * valid, the rest counted in extra).
 */
#ifndef DFUKIT_MSG_H
#define DFUKIT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/tables.h"

#define DK_MTU_UART 131
#define DK_MTU_USB 2051

typedef enum {
    DK_DIR_UNKNOWN = 0,
    DK_DIR_HOST = 1,   /* host -> target (requests) */
    DK_DIR_TARGET = 2, /* target -> host (responses) */
} dk_dir;

typedef enum {
    DK_MSG_OK = 0,
    DK_MSG_EMPTY,       /* zero-length frame */
    DK_MSG_TRUNCATED,   /* shorter than the opcode needs; fields are zero */
    DK_MSG_OVERLONG,    /* longer than the opcode needs; fields valid */
    DK_MSG_UNKNOWN_OP,  /* opcode not in the table; only raw is meaningful */
} dk_msg_status;

typedef struct {
    bool is_response;
    uint8_t op;          /* request opcode, or the one a response echoes */
    uint8_t result;      /* response only */
    bool has_ext;        /* result == EXT_ERROR and the code byte is present */
    uint8_t ext;
    union {
        struct { uint8_t type; uint32_t size; } create;
        struct { uint16_t target; } prn;
        struct { uint8_t type; } select;
        struct { uint8_t id; } ping;
        struct { uint8_t image; } fw;
        struct { const uint8_t *data; size_t len; } write; /* points into raw */
    } req;
    union {
        struct { uint8_t version; } proto;
        struct { uint32_t offset, crc; } crc;
        struct { uint32_t max_size, offset, crc; } select;
        struct { uint16_t mtu; } mtu;
        struct { uint8_t id; } ping;
        struct { uint32_t part, variant, rom_size, ram_size, rom_page_size; } hw;
        struct { uint8_t type; uint32_t version, addr, len; } fw;
    } rsp;
    size_t extra;        /* bytes beyond what the opcode defines */
    const uint8_t *raw;  /* the whole frame */
    size_t raw_len;
} dk_msg;

/* Parse one decoded frame (frame[0] == 0x60 -> response).  m->raw points into
 * frame, so frame must outlive m. */
dk_msg_status dk_msg_parse(const uint8_t *frame, size_t len, dk_msg *m);

/* Payload length a request (is_response false) or a success response
 * defines for op; -1 when the op is unknown; -2 for OBJECT_WRITE (any). */
int dk_msg_payload_len(bool is_response, uint8_t op);

/* Whether the target answers this request at all (not WRITE, not ABORT). */
bool dk_msg_expects_response(uint8_t op);

/* Encode m (raw/extra ignored) into out.  Returns the length, or 0 when cap is
 * too small.  A response carries its payload only when result == SUCCESS and
 * the extended error byte only when result == EXT_ERROR. */
size_t dk_msg_encode(const dk_msg *m, uint8_t *out, size_t cap);

/* Convenience constructors for the common cases. */
dk_msg dk_msg_request(uint8_t op);
dk_msg dk_msg_response(uint8_t op, uint8_t result);

/* One-line human description of a message, e.g. "SELECT type=DATA" or
 * "SELECT -> SUCCESS max_size=4096 offset=0 crc=0x00000000". */
size_t dk_msg_describe(const dk_msg *m, char *out, size_t cap);

#endif
