/* crc.h - CRC-32 as the DFU target computes it (zlib's CRC-32, chained),
 * and the CRC-16 of legacy HCI DFU frames.
 *
 * Chaining: pass the previous result as crc; 0 starts afresh
 * (dk_crc32(0, "123456789", 9) = 0xCBF43926).  The data CRC
 * the target reports covers the whole image from byte 0 to the offset, across
 * objects; the command CRC covers the init packet bytes received so far.
 */
#ifndef DFUKIT_CRC_H
#define DFUKIT_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t dk_crc32(uint32_t crc, const void *buf, size_t len);

/* CRC of (A||B) from crc(A), crc(B) and len(B), without the bytes. */
uint32_t dk_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final
 * XOR; check("123456789") = 0x29B1), as legacy HCI DFU frames carry it
 * (protocol.md §9).  Chaining: pass the previous result as prev; 0xFFFF
 * starts afresh. */
#define DK_CRC16_INIT 0xFFFFu
uint16_t dk_crc16_ccitt(uint16_t prev, const uint8_t *data, size_t len);

#endif
