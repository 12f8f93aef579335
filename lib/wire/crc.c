/* crc.c - CRC-32 through zlib (its chaining matches the SDK's crc32_compute);
 * CRC-16/CCITT-FALSE bit by bit (legacy frames are short). */
#include "dfukit/crc.h"

#include <zlib.h>

uint32_t dk_crc32(uint32_t crc, const void *buf, size_t len)
{
    const Bytef *data = buf;
    uLong c = crc;
    /* zlib takes uInt lengths: feed huge buffers in slices. */
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        c = crc32(c, data, n);
        data += n;
        len -= n;
    }
    return (uint32_t)c;
}

uint32_t dk_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    return (uint32_t)crc32_combine(crc_a, crc_b, (z_off_t)len_b);
}

uint16_t dk_crc16_ccitt(uint16_t prev, const uint8_t *data, size_t len)
{
    uint16_t c = prev;
    for (size_t i = 0; i < len; i++) {
        c ^= (uint16_t)(data[i] << 8);
        for (int k = 0; k < 8; k++)
            c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
    }
    return c;
}
