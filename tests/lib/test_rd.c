/* test_rd.c - the bounds-checked little-endian cursor every parse uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dfukit/rd.h"

static void test_values(void **state)
{
    (void)state;
    static const uint8_t b[] = { 0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
                                 0xA1, 0xB2, 0xC3, 0xD4, 0xEE, 0xFF };
    dk_rd r = dk_rd_make(b, sizeof b);
    assert_int_equal(dk_rd_u8(&r), 0x01);
    assert_int_equal(dk_rd_le16(&r), 0x1234);
    assert_int_equal(dk_rd_le32(&r), 0x12345678);
    assert_int_equal(dk_rd_be32(&r), 0xA1B2C3D4);
    assert_int_equal(dk_rd_left(&r), 2);
    const uint8_t *p = dk_rd_bytes(&r, 2);
    assert_ptr_equal(p, b + 11);
    assert_int_equal(dk_rd_left(&r), 0);
    assert_true(dk_rd_ok(&r));
    assert_non_null(dk_rd_bytes(&r, 0)); /* nothing asked, nothing wrong */
    assert_true(dk_rd_ok(&r));
}

/* A read past the end touches nothing (exact-size heap buffers let the
 * sanitizers see it), returns 0, parks the cursor at the end, and sticks. */
static void test_bounds(void **state)
{
    (void)state;
    for (size_t len = 0; len < 4; len++) {
        uint8_t *b = malloc(len ? len : 1);
        assert_non_null(b);
        memset(b, 0xAB, len ? len : 1);
        dk_rd r = dk_rd_make(b, len);
        assert_int_equal(dk_rd_le32(&r), 0);
        assert_false(dk_rd_ok(&r));
        assert_int_equal(r.pos, len);
        assert_int_equal(dk_rd_left(&r), 0);
        free(b);
    }
    static const uint8_t b[] = { 1, 2, 3 };
    dk_rd r = dk_rd_make(b, 3);
    assert_int_equal(dk_rd_le16(&r), 0x0201);
    assert_int_equal(dk_rd_le16(&r), 0); /* one byte left: too short */
    assert_false(dk_rd_ok(&r));
    assert_int_equal(dk_rd_u8(&r), 0); /* the error sticks */
    assert_null(dk_rd_bytes(&r, 0));
    r = dk_rd_make(b, 3);
    assert_null(dk_rd_bytes(&r, 4));
    assert_false(dk_rd_ok(&r));
    r = dk_rd_make(b, 3);
    assert_int_equal(dk_rd_be32(&r), 0);
    assert_false(dk_rd_ok(&r));
    r = dk_rd_make(NULL, 0);
    assert_int_equal(dk_rd_u8(&r), 0);
    assert_false(dk_rd_ok(&r));
    /* a huge length never wraps the check */
    r = dk_rd_make(b, 3);
    dk_rd_u8(&r);
    assert_null(dk_rd_bytes(&r, SIZE_MAX));
    assert_false(dk_rd_ok(&r));
}

static void test_put(void **state)
{
    (void)state;
    uint8_t b[10];
    memset(b, 0, sizeof b);
    uint8_t *p = dk_put_le16(b, 0xBEEF);
    p = dk_put_le32(p, 0x01020304);
    p = dk_put_be32(p, 0x0A0B0C0D);
    assert_int_equal(p - b, 10);
    assert_memory_equal(b, "\xEF\xBE\x04\x03\x02\x01\x0A\x0B\x0C\x0D", 10);
    dk_rd r = dk_rd_make(b, sizeof b);
    assert_int_equal(dk_rd_le16(&r), 0xBEEF);
    assert_int_equal(dk_rd_le32(&r), 0x01020304);
    assert_int_equal(dk_rd_be32(&r), 0x0A0B0C0D);
    assert_true(dk_rd_ok(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_put),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
