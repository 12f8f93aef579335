/* hci.h - the HCI packet of legacy serial DFU (SDK <= 11, the Adafruit nRF52
 * bootloader): parse, encode, and the device's ACK (protocol.md §9, §13.3).
 *
 *   on the wire  C0 escaped(packet) C0          (a leading END, §13.2)
 *   packet       hdr[4] payload[len] [crc16 LE]
 *   hdr[0]       seq (bits 0-2) | ack (3-5) | integrity (6) | reliable (7)
 *   hdr[1]       type (bits 0-3) | (len & 0xF) << 4
 *   hdr[2]       len >> 4
 *   hdr[3]       (-(hdr[0] + hdr[1] + hdr[2])) & 0xFF
 *   crc16        CRC-16/CCITT-FALSE of hdr + payload, when integrity is set
 *   ACK          C0 (n << 3) 00 00 (-(n << 3) & 0xFF) C0: n = the sequence
 *                number the device expects next; no payload, no CRC
 *
 * The device checks (§13.3, in this order): length > 4, integrity set,
 * reliable set, type 14, header checksum, CRC16.  It never compares the
 * length field with the real length; dk_hci_parse reports the difference
 * (DK_HCI_LEN_MISMATCH is a finding, not a refusal: the packet parses).
 */
#ifndef DFUKIT_HCI_H
#define DFUKIT_HCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DK_HCI_HDR_LEN 4
#define DK_HCI_TYPE_ACK 0       /* packet type of an ACK */
#define DK_HCI_TYPE_VENDOR 14   /* the DFU packets' type (vendor specific) */
#define DK_HCI_MAX_PAYLOAD 4095 /* the 12-bit length field */
#define DK_HCI_ACK_LEN 4
/* Largest encoded packet: header, payload, CRC16 */
#define DK_HCI_MAX_PACKET(n) (DK_HCI_HDR_LEN + (size_t)(n) + 2)
/* Largest framed packet: leading END, every byte escaped, closing END */
#define DK_HCI_MAX_FRAMED(n) (2 * DK_HCI_MAX_PACKET(n) + 2)

typedef struct {
    uint8_t seq;       /* bits 0-2 */
    uint8_t ack;       /* bits 3-5 */
    bool integrity;    /* bit 6: a CRC16 follows the payload */
    bool reliable;     /* bit 7 */
    uint8_t type;      /* low nibble of byte 1 */
    uint16_t len;      /* the 12-bit length field */
    uint8_t checksum;  /* byte 3 as sent */
} dk_hci_hdr;

/* What a packet is, in the device's order of checks (§13.3). */
typedef enum {
    DK_HCI_OK = 0,
    DK_HCI_SHORT,        /* 4 bytes or fewer: the device drops it */
    DK_HCI_NO_INTEGRITY, /* bit 6 clear (every ACK has it clear) */
    DK_HCI_UNRELIABLE,   /* bit 7 clear */
    DK_HCI_BAD_TYPE,     /* type is not 14 */
    DK_HCI_BAD_CHECKSUM, /* header bytes do not sum to 0 */
    DK_HCI_BAD_CRC,      /* CRC16 differs (or fewer than 2 bytes for it) */
} dk_hci_status;

const char *dk_hci_status_name(dk_hci_status s); /* "ok", "bad_crc", ... */

typedef struct {
    dk_hci_hdr hdr;
    dk_hci_status status;   /* the device's verdict */
    bool len_mismatch;      /* hdr.len differs from the bytes between header and CRC */
    const uint8_t *payload; /* between header and CRC (whatever hdr.len says) */
    size_t payload_len;
    uint16_t crc_sent, crc_calc; /* integrity set and >= 6 bytes */
} dk_hci_pkt;

/* Read the 4-byte header of p (len >= 4); false when shorter. */
bool dk_hci_hdr_read(const uint8_t *p, size_t len, dk_hci_hdr *out);

/* A decoded frame (SLIP removed) as the device judges it.  Never reads past
 * len; out->payload points into p. */
dk_hci_status dk_hci_parse(const uint8_t *p, size_t len, dk_hci_pkt *out);

/* An ACK packet: 4 bytes, type 0, no payload, integrity and reliable clear,
 * header checksum right.  *expected gets the number it carries. */
bool dk_hci_is_ack(const uint8_t *p, size_t len, uint8_t *expected);

/* The 4 bytes of the device's ACK for "expected next" n (0-7). */
void dk_hci_ack(uint8_t n, uint8_t out[DK_HCI_ACK_LEN]);

/* A reliable packet with integrity as adafruit-nrfutil builds it: seq, ack =
 * (seq + 1) % 8, type 14, payload, CRC16.  out must hold
 * DK_HCI_MAX_PACKET(len); len <= DK_HCI_MAX_PAYLOAD.  Returns the length. */
size_t dk_hci_encode(uint8_t seq, const uint8_t *payload, size_t len, uint8_t *out);

/* C0 + SLIP-escaped p + C0 into out (DK_HCI_MAX_FRAMED-sized for the packet).
 * Returns the framed length. */
size_t dk_hci_frame(const uint8_t *p, size_t len, uint8_t *out);

#endif
