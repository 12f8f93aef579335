/* crc.c - CRC-32 through zlib; its chaining matches the SDK's crc32_compute. */
#include "dfukit/crc.h"

#include <zlib.h>

uint32_t dk_crc32(uint32_t prev, const uint8_t *data, size_t len)
{
    uLong c = prev;
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
