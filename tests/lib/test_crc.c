/* test_crc.c - CRC-32 as the target computes it (protocol.md §4): known
 * vectors, chaining across writes and objects, combine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dfukit/crc.h"

static uint32_t crc_str(const char *s)
{
    return dk_crc32(0, (const uint8_t *)s, strlen(s));
}

static void test_vectors(void **state)
{
    (void)state;
    /* reflected, poly 0xEDB88320, init and final XOR 0xFFFFFFFF */
    assert_int_equal(crc_str("123456789"), 0xCBF43926);
    assert_int_equal(crc_str(""), 0);
    assert_int_equal(crc_str("a"), 0xE8B7BE43);
    assert_int_equal(crc_str("The quick brown fox jumps over the lazy dog"), 0x414FA339);
    static const uint8_t zero = 0;
    assert_int_equal(dk_crc32(0, &zero, 1), 0xD202EF8D);
    uint8_t ff[32];
    memset(ff, 0xFF, sizeof ff);
    assert_int_equal(dk_crc32(0, ff, sizeof ff), 0xFF6CAB0B);
    /* no data leaves the chain value alone */
    assert_int_equal(dk_crc32(0x12345678, NULL, 0), 0x12345678);
}

/* §4: "a chain value of 0 equals a fresh start" and chaining equals one shot */
/* §9: legacy frames carry CRC-16/CCITT-FALSE (binascii.crc_hqx with 0xFFFF) */
static void test_crc16(void **state)
{
    (void)state;
    const uint8_t *s = (const uint8_t *)"123456789";
    assert_int_equal(dk_crc16_ccitt(DK_CRC16_INIT, s, 9), 0x29B1);
    assert_int_equal(dk_crc16_ccitt(DK_CRC16_INIT, NULL, 0), 0xFFFF);
    /* chained in two pieces = one shot */
    assert_int_equal(dk_crc16_ccitt(dk_crc16_ccitt(DK_CRC16_INIT, s, 4), s + 4, 5), 0x29B1);
    /* crc_hqx(b"\x00", 0xFFFF) and crc_hqx(b"A", 0xFFFF) */
    static const uint8_t z = 0, a = 'A';
    assert_int_equal(dk_crc16_ccitt(DK_CRC16_INIT, &z, 1), 0xE1F0);
    assert_int_equal(dk_crc16_ccitt(DK_CRC16_INIT, &a, 1), 0xB915);
}

static void test_chaining(void **state)
{
    (void)state;
    uint8_t img[10000];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 131 + (i >> 7));
    uint32_t whole = dk_crc32(0, img, sizeof img);
    for (size_t cut = 0; cut <= sizeof img; cut += 997) {
        uint32_t a = dk_crc32(0, img, cut);
        assert_int_equal(dk_crc32(a, img + cut, sizeof img - cut), whole);
    }
    /* an init packet sent as 64 + 64 + 12 bytes (§4, nrfutil chunking) */
    uint32_t c = 0;
    c = dk_crc32(c, img, 64);
    c = dk_crc32(c, img + 64, 64);
    c = dk_crc32(c, img + 128, 12);
    assert_int_equal(c, dk_crc32(0, img, 140));
    /* the data CRC runs across objects: two 4096-byte objects then a tail */
    c = dk_crc32(0, img, 4096);
    c = dk_crc32(c, img + 4096, 4096);
    c = dk_crc32(c, img + 8192, sizeof img - 8192);
    assert_int_equal(c, whole);
    /* a nonzero start is not a fresh start */
    assert_int_not_equal(dk_crc32(1, img, 16), dk_crc32(0, img, 16));
}

static void test_combine(void **state)
{
    (void)state;
    uint8_t buf[5000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i ^ (i >> 3));
    uint32_t whole = dk_crc32(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 499) {
        uint32_t a = dk_crc32(0, buf, cut), b = dk_crc32(0, buf + cut, sizeof buf - cut);
        assert_int_equal(dk_crc32_combine(a, b, sizeof buf - cut), whole);
    }
    assert_int_equal(dk_crc32_combine(0xCBF43926, 0, 0), 0xCBF43926);
    /* "1234" + "56789" */
    assert_int_equal(dk_crc32_combine(crc_str("1234"), crc_str("56789"), 5), 0xCBF43926);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_combine),
        cmocka_unit_test(test_crc16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
