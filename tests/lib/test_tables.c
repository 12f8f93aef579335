/* test_tables.c - every entry of every table in tables.h looked up by value;
 * gaps and unknown values (protocol.md §2.2, §3.1, §3.2, §4, §8.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/tables.h"

/* Which values 0..255 a table defines, built from the same X-macro lists. */
typedef struct {
    bool known[256];
    int count;
} seen;

static void mark(seen *s, unsigned v)
{
    assert_true(v < 256);
    assert_false(s->known[v]); /* no value twice in one table */
    s->known[v] = true;
    s->count++;
}

static void check_line(const char *s)
{
    assert_non_null(s);
    assert_true(strlen(s) > 3);
    assert_null(strchr(s, '\n'));
}

static void check_unknown(const char *(*str)(unsigned, char *), const char *(*name)(unsigned),
                          const seen *s)
{
    char buf[DK_NAME_BUFSZ], want[DK_NAME_BUFSZ];
    for (unsigned v = 0; v < 256; v++) {
        if (s->known[v])
            continue;
        assert_null(name(v));
        snprintf(want, sizeof want, "unknown(0x%02x)", v);
        assert_string_equal(str(v, buf), want);
    }
    /* values past a byte still fit the buffer */
    assert_string_equal(str(0x100, buf), "unknown(0x100)");
    assert_string_equal(str(UINT_MAX, buf), "unknown(0xffffffff)");
}

static void test_opcodes(void **state)
{
    (void)state;
    seen s = { 0 };
    char buf[DK_NAME_BUFSZ];
#define X(v, n, sdk)                                                           \
    mark(&s, v);                                                               \
    assert_string_equal(dk_op_name(v), #n);                                    \
    assert_string_equal(dk_op_str(v, buf), #n);                                \
    assert_int_equal(dk_op_in_sdk(v), sdk);                                    \
    assert_int_equal(DK_OP_##n, v);
    DK_OPCODES(X)
#undef X
    /* §2.2: 0x00..0x0C and 0x60, of which 0x05 is not in the SDK */
    assert_int_equal(s.count, 14);
    for (unsigned v = 0; v <= 0x0C; v++)
        assert_true(s.known[v]);
    assert_true(s.known[0x60]);
    assert_int_equal(dk_op_in_sdk(0x05), 0);
    assert_int_equal(dk_op_in_sdk(0x0D), 0);
    assert_string_equal(dk_op_name(0x06), "OBJECT_SELECT");
    check_unknown(dk_op_str, dk_op_name, &s);
    assert_string_equal(dk_op_str(0x0D, buf), "unknown(0x0d)");
    assert_string_equal(dk_op_str(0x5F, buf), "unknown(0x5f)");
    assert_string_equal(dk_op_str(0x61, buf), "unknown(0x61)");
}

static void test_results(void **state)
{
    (void)state;
    seen s = { 0 };
    char buf[DK_NAME_BUFSZ];
#define X(v, n, meaning)                                                       \
    mark(&s, v);                                                               \
    assert_string_equal(dk_result_name(v), #n);                                \
    assert_string_equal(dk_result_str(v, buf), #n);                            \
    assert_string_equal(dk_result_meaning(v), meaning);                        \
    check_line(dk_result_meaning(v));
    DK_RESULTS(X)
#undef X
    /* §3.1: 0x00..0x08, 0x0A, 0x0B; 0x09 is a gap */
    assert_int_equal(s.count, 11);
    assert_false(s.known[0x09]);
    assert_null(dk_result_meaning(0x09));
    assert_string_equal(dk_result_str(0x09, buf), "unknown(0x09)");
    assert_string_equal(dk_result_name(0x0B), "EXT_ERROR");
    assert_string_equal(dk_result_name(0x0A), "OPERATION_FAILED");
    assert_null(dk_result_meaning(0x0C));
    check_unknown(dk_result_str, dk_result_name, &s);
}

static void test_ext_errors(void **state)
{
    (void)state;
    seen s = { 0 };
    char buf[DK_NAME_BUFSZ];
#define X(v, n, meaning, hint)                                                 \
    mark(&s, v);                                                               \
    assert_string_equal(dk_ext_name(v), #n);                                   \
    assert_string_equal(dk_ext_str(v, buf), #n);                               \
    assert_string_equal(dk_ext_meaning(v), meaning);                           \
    assert_string_equal(dk_ext_hint(v), hint);                                 \
    check_line(dk_ext_meaning(v));                                             \
    check_line(dk_ext_hint(v));
    DK_EXT_ERRORS(X)
#undef X
    /* §3.2: 0x00..0x0D; nrfutil's 0x0E has no SDK code */
    assert_int_equal(s.count, 14);
    assert_string_equal(dk_ext_name(0x07), "SD_VERSION_FAILURE");
    assert_non_null(strstr(dk_ext_hint(0x07), "sd-req"));
    assert_null(dk_ext_name(0x0E));
    assert_null(dk_ext_meaning(0x0E));
    assert_null(dk_ext_hint(0x0E));
    assert_string_equal(dk_ext_str(0x0E, buf), "unknown(0x0e)");
    check_unknown(dk_ext_str, dk_ext_name, &s);
}

static void test_obj_and_fw_types(void **state)
{
    (void)state;
    seen s = { 0 };
    char buf[DK_NAME_BUFSZ];
#define X(v, n)                                                                \
    mark(&s, v);                                                               \
    assert_string_equal(dk_obj_name(v), #n);                                   \
    assert_string_equal(dk_obj_str(v, buf), #n);
    DK_OBJ_TYPES(X)
#undef X
    /* §4: 1 = command, 2 = data */
    assert_int_equal(s.count, 3);
    assert_int_equal(DK_OBJ_COMMAND, 1);
    assert_int_equal(DK_OBJ_DATA, 2);
    check_unknown(dk_obj_str, dk_obj_name, &s);

    seen f = { 0 };
#define X(v, n, key)                                                           \
    mark(&f, v);                                                               \
    assert_string_equal(dk_fw_name(v), #n);                                    \
    assert_string_equal(dk_fw_str(v, buf), #n);                                \
    assert_string_equal(dk_fw_manifest_key(v), key);
    DK_FW_TYPES(X)
#undef X
    assert_int_equal(f.count, 5);
    assert_string_equal(dk_fw_manifest_key(DK_FW_SOFTDEVICE_BOOTLOADER), "softdevice_bootloader");
    assert_null(dk_fw_manifest_key(5));
    check_unknown(dk_fw_str, dk_fw_name, &f);
}

static void test_init_packet_enums(void **state)
{
    (void)state;
    /* §8.1: HashType, SignatureType, ValidationType */
    seen h = { 0 }, g = { 0 }, b = { 0 };
#define X(v, n) mark(&h, v); assert_string_equal(dk_hash_name(v), #n);
    DK_HASH_TYPES(X)
#undef X
#define X(v, n) mark(&g, v); assert_string_equal(dk_sig_name(v), #n);
    DK_SIG_TYPES(X)
#undef X
#define X(v, n) mark(&b, v); assert_string_equal(dk_validation_name(v), #n);
    DK_VALIDATION_TYPES(X)
#undef X
    assert_int_equal(h.count, 5);
    assert_int_equal(g.count, 2);
    assert_int_equal(b.count, 4);
    assert_int_equal(DK_HASH_SHA256, 3);
    for (unsigned v = 0; v < 256; v++) {
        if (!h.known[v])
            assert_null(dk_hash_name(v));
        if (!g.known[v])
            assert_null(dk_sig_name(v));
        if (!b.known[v])
            assert_null(dk_validation_name(v));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opcodes),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_ext_errors),
        cmocka_unit_test(test_obj_and_fw_types),
        cmocka_unit_test(test_init_packet_enums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
