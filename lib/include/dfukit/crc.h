/* crc.h - CRC-32 as the DFU target computes it (zlib's CRC-32, chained).
 *
 * Chaining: pass the previous result as prev; 0 starts afresh.  The data CRC
 * the target reports covers the whole image from byte 0 to the offset, across
 * objects; the command CRC covers the init packet bytes received so far.
 */
#ifndef DFUKIT_CRC_H
#define DFUKIT_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t dk_crc32(uint32_t prev, const uint8_t *data, size_t len);

/* CRC of (A||B) from crc(A), crc(B) and len(B), without the bytes. */
uint32_t dk_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

#endif
