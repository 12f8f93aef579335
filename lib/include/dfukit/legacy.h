/* legacy.h - legacy serial DFU (SDK <= 11, the Adafruit nRF52 bootloader,
 * adafruit-nrfutil 0.5.3): the DFU packets inside the HCI packets (hci.h),
 * the legacy init packet, the device's init checks, and the legacy tracker
 * (protocol.md §9, §13).
 *
 *   payload  kind u32 LE, body
 *     0 NOP    acknowledged, then freed (§13.5): dfuhost's probe
 *     3 START  mode u32 (1 SD, 2 BL, 3 SD+BL, 4 APP), sd_size, bl_size, app_size u32
 *     1 INIT   the .dat + 2 zero bytes (the device takes whole words, §13.5)
 *     4 DATA   up to 512 bytes of the image
 *     5 STOP   no body
 *   .dat     device_type u16, device_rev u16, app_version u32,
 *            sd_req count u16 + u16 each, then the extension (§13.14):
 *              0.5  CRC16 u16                 0.6  ext id 0 u32, CRC16 u16
 *              0.7  ext id 1, length u32, SHA-256[32]
 *              0.8  ext id 2, length, SHA-256, ECDSA r||s[64]
 *
 * The device acts on a body rounded down to whole words (§13.5); the
 * parsers keep the bytes as sent and say how many words the device uses.
 */
#ifndef DFUKIT_LEGACY_H
#define DFUKIT_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/err.h"
#include "dfukit/tracker.h"

/* X(ENUM, value, "NAME") - the packet kinds (payload u32 0). */
#define DK_LG_KINDS(X)          \
    X(NOP, 0, "NOP")            \
    X(INIT, 1, "INIT")          \
    X(START, 3, "START")        \
    X(DATA, 4, "DATA")          \
    X(STOP, 5, "STOP")

typedef enum {
#define DK_X(e, v, n) DK_LG_##e = v,
    DK_LG_KINDS(DK_X)
#undef DK_X
} dk_lg_kind;

/* "START", ...; NULL for a kind the protocol does not define. */
const char *dk_lg_kind_name(uint32_t kind);

/* START modes (bits: 1 SD, 2 BL, 4 APP; §13.6) */
#define DK_LG_MODE_SD 1u
#define DK_LG_MODE_BL 2u
#define DK_LG_MODE_SD_BL 3u
#define DK_LG_MODE_APP 4u
/* "softdevice", "bootloader", "softdevice+bootloader", "application", or
 * NULL for another value. */
const char *dk_lg_mode_name(uint32_t mode);

#define DK_LG_DATA_MAX 512     /* adafruit-nrfutil's DATA body */
#define DK_LG_INIT_MAX 128     /* m_init_packet: a longer INIT is refused (§13.7) */
#define DK_LG_START_LEN 20     /* kind + mode + 3 sizes */
#define DK_LG_DEVICE_TYPE 0x0052u /* ADAFRUIT_DEVICE_TYPE */
#define DK_LG_SD_ANY 0xFFFEu   /* sd_req: any SoftDevice */

typedef enum {
    DK_LG_OK = 0,
    DK_LG_SHORT,        /* fewer than 4 payload bytes: no kind */
    DK_LG_START_SHORT,  /* a START without its 16 body bytes */
} dk_lg_status;

typedef struct {
    uint32_t kind;
    const uint8_t *body;   /* after the kind (points into the payload) */
    size_t body_len;       /* as sent */
    size_t words_len;      /* what the device uses: body_len rounded down to 4 */
    uint32_t mode, sd_size, bl_size, app_size; /* START */
} dk_lg_pkt;

/* One HCI payload.  Never reads past len. */
dk_lg_status dk_lg_parse(const uint8_t *payload, size_t len, dk_lg_pkt *out);

/* kind u32 LE + body into out (4 + len bytes).  Returns the length. */
size_t dk_lg_encode(uint32_t kind, const uint8_t *body, size_t len, uint8_t *out);
/* A START payload (DK_LG_START_LEN bytes). */
size_t dk_lg_encode_start(uint32_t mode, uint32_t sd, uint32_t bl, uint32_t app, uint8_t *out);

/* ---- the legacy init packet ------------------------------------------ */

#define DK_LG_SD_REQ_MAX 32

typedef struct dk_lg_init {
    uint16_t device_type, device_rev;
    uint32_t app_version;
    uint16_t n_sd_req;             /* as the count field says */
    uint16_t sd_req[DK_LG_SD_REQ_MAX]; /* the first DK_LG_SD_REQ_MAX */
    unsigned version;              /* 5, 6, 7, 8 (genpkg --dfu-ver 0.N) */
    bool has_crc;                  /* 0.5, 0.6 */
    uint16_t crc16;
    uint32_t ext_id;               /* 0.6-0.8 */
    uint32_t fw_len;               /* 0.7, 0.8 */
    bool has_hash, has_sig;
    uint8_t hash[32], sig[64];
    size_t len;                    /* bytes the fields take */
    size_t pad;                    /* zero bytes after them (the host's 2) */
    size_t extra;                  /* other bytes after them */
} dk_lg_init;

/* Decode the bytes of an INIT body (or a .dat).  The version is read from
 * the extension: an ext id of 0, 1 or 2 with the room its fields need, else
 * 0.5 (a CRC16).  DK_E_TRUNCATED / DK_E_FORMAT with the offset in err. */
dk_status dk_lg_init_parse(const uint8_t *p, size_t len, dk_lg_init *out, dk_err *err);

/* Encode in (its version's fields) into out; returns the length, 0 when cap
 * is too small. */
size_t dk_lg_init_encode(const dk_lg_init *in, uint8_t *out, size_t cap);

/* The device's verdict on an init packet (§13.7, unsigned build). */
typedef enum {
    DK_LG_INIT_ACCEPT = 0,
    DK_LG_INIT_LENGTH,       /* shorter than 12, no 2-byte extension, list past the end,
                                or longer than DK_LG_INIT_MAX */
    DK_LG_INIT_DEVICE_TYPE,  /* not 0x0052 */
    DK_LG_INIT_DEVICE_REV,   /* SD/BL update for a revision other than 52840/52833/0xADAF */
    DK_LG_INIT_SD_REQ,       /* the list holds neither 0xFFFE nor the installed FWID */
} dk_lg_verdict;

const char *dk_lg_verdict_text(dk_lg_verdict v);

/* What the device decides on the words it received (len: the INIT body
 * rounded down to words) for a START of mode.  sd_fwid: the installed
 * SoftDevice's FWID, or -1 unknown (then only an empty list fails).  *crc:
 * extension bytes 0-1, what the unsigned build checks the image against. */
dk_lg_verdict dk_lg_init_check(const uint8_t *p, size_t len, uint32_t mode, int sd_fwid,
                               uint16_t *crc);

/* ---- the tracker ------------------------------------------------------ */

/* The legacy tracker behind the pipeline (DK_PROTO_HCI): HCI packets paired
 * with the ACKs that answer them, what the device does with each one it
 * accepts (§13.4-§13.7), and the session's summary.  Registered by
 * dk_pipe_new. */
extern const dk_tracker_ops dk_legacy_tracker;

#endif
