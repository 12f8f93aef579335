/* test_gen.c - dfucheck's pure parts (check/gen.h, check/cases.h): CRC
 * forging, clean and escaped images, the update geometry, fault templates,
 * the host command's placeholders, and the case table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cases.h"
#include "dfukit/crc.h"
#include "gen.h"

/* Forged bytes take any CRC to any CRC. */
static void forge(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (int i = 0; i < 2000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t from = x;
        x = x * 1103515245u + 12345u;
        uint32_t to = x ^ (uint32_t)i;
        uint8_t b[4];
        dc_crc_forge(from, to, b);
        assert_int_equal(dk_crc32(from, b, 4), to);
    }
    uint8_t b[4];
    dc_crc_forge(0, 0xC0DBC0DB, b);
    assert_int_equal(dk_crc32(0, b, 4), 0xC0DBC0DB);
}

static void bytes(void **state)
{
    (void)state;
    assert_true(dc_u32_needs_escape(0x000000C0));
    assert_true(dc_u32_needs_escape(0xDB000000));
    assert_false(dc_u32_needs_escape(0x12345678));
    assert_true(dc_u32_has_both(0x00DBC000));
    assert_false(dc_u32_has_both(0x00C0C000));
    assert_false(dc_u32_has_both(0xDB0000DD));
}

/* Clean: no running CRC at a 4-byte offset (or the end) needs escaping. */
static void image_clean(void **state)
{
    (void)state;
    size_t len = 6 * 4096 + 1003;
    uint8_t *a = malloc(len), *b = malloc(len);
    dc_image_make(a, len, DC_IMG_CLEAN, 7);
    dc_image_make(b, len, DC_IMG_CLEAN, 7);
    assert_memory_equal(a, b, len); /* same seed, same image */
    uint32_t crc = 0;
    for (size_t off = 0; off < len; off += 4) {
        size_t n = len - off < 4 ? len - off : 4;
        crc = dk_crc32(crc, a + off, n);
        if (dc_u32_needs_escape(crc))
            fail_msg("CRC 0x%08x at %zu needs escaping", crc, off + n);
    }
    dc_image_make(b, len, DC_IMG_CLEAN, 8);
    assert_memory_not_equal(a, b, len);
    free(a);
    free(b);
}

/* Escaped: both bytes in the CRC at every object boundary and at the end. */
static void image_escaped(void **state)
{
    (void)state;
    size_t len = 0xC000 + 4096 + 1000;
    uint8_t *a = malloc(len);
    dc_image_make(a, len, DC_IMG_ESCAPED, 3);
    unsigned positions = 0;
    for (size_t end = 4096;; end += 4096) {
        if (end > len)
            end = len;
        uint32_t c = dk_crc32(0, a, end);
        if (!dc_u32_has_both(c))
            fail_msg("CRC 0x%08x at %zu lacks 0xC0 or 0xDB", c, end);
        for (int i = 0; i < 4; i++)
            positions |= ((c >> (8 * i)) & 0xFF) == 0xC0 ? 1u << i : 0;
        if (end == len)
            break;
    }
    assert_int_equal(positions, 0xF); /* 0xC0 moves through every byte of the CRC */
    free(a);
}

static void geometry(void **state)
{
    (void)state;
    dc_geom g;
    assert_false(dc_geom_of(8192, &g));
    assert_true(dc_geom_of(8193, &g));
    assert_int_equal(g.objects, 3);
    assert_int_equal(g.k, 1);
    assert_true(dc_geom_of(6 * 4096 + 1000, &g));
    assert_int_equal(g.objects, 7);
    assert_int_equal(g.k, 3);
    assert_int_equal(g.bnd, 12288);
    assert_int_equal(g.mid, 14336);
    assert_int_equal(g.bnd2, 16384);
    assert_int_equal(g.exe, 4); /* the init packet's EXECUTE is the first */
    assert_true(g.write > 3 + 12288 / 64 && g.write <= 3 + 16384 / 64);
    char out[96];
    assert_true(dc_fault_expand("after-bytes={mid}:pause", &g, out, sizeof out));
    assert_string_equal(out, "after-bytes=14336:pause");
    assert_true(dc_fault_expand("after-op=execute#{exe}:x {bnd}/{bnd2}/{write}", &g, out, sizeof out));
    char want[96];
    snprintf(want, sizeof want, "after-op=execute#4:x 12288/16384/%u", g.write);
    assert_string_equal(out, want);
    assert_false(dc_fault_expand("op={nope}:reset", &g, out, sizeof out));
    assert_non_null(strstr(out, "{nope}"));
    assert_false(dc_fault_expand("after-bytes={mid}:pause", &g, out, 10)); /* too short */
}

static void placeholders(void **state)
{
    (void)state;
    dc_subst s = { "/dev/pts/9", "/k/a.zip", "/k/a.dat", "/k/a.bin", "2" };
    char out[128];
    assert_true(dc_subst_arg("--port={port}", &s, out, sizeof out));
    assert_string_equal(out, "--port=/dev/pts/9");
    assert_true(dc_subst_arg("{dat},{bin},{pkg},{prn}", &s, out, sizeof out));
    assert_string_equal(out, "/k/a.dat,/k/a.bin,/k/a.zip,2");
    assert_true(dc_subst_arg("plain {", &s, out, sizeof out));
    assert_string_equal(out, "plain {");
    assert_false(dc_subst_arg("{device}", &s, out, sizeof out));
    assert_non_null(strstr(out, "unknown placeholder {device}"));
    const char *argv[] = { "host", "-p", "{port}", "--prn", "{prn}" };
    assert_true(dc_args_use(argv, 5, "{prn}"));
    assert_false(dc_args_use(argv, 3, "{prn}"));
}

/* Every id the suite promises; ids unique; rejections carry no faults;
 * every case says what it expects and cites a section. */
static void table(void **state)
{
    (void)state;
    static const char *const must[] = {
        "complete", "escaped-response", "kill-resume-mid-object", "kill-resume-boundary",
        "power-cut-mid-object", "power-cut-boundary", "reset-mid-object", "dropped-response",
        "late-response", "reject-hw-version", "reject-sd-req", "reject-fw-version",
        "reject-signature", "stale-init", "lost-frame", "prn",
    };
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        if (!dc_case_find(must[i]))
            fail_msg("no case %s", must[i]);
    assert_null(dc_case_find("nothing"));
    for (size_t i = 0; i < dc_n_cases; i++) {
        const dc_case *c = &dc_cases[i];
        for (size_t j = i + 1; j < dc_n_cases; j++)
            assert_string_not_equal(c->id, dc_cases[j].id);
        assert_non_null(c->expects);
        assert_non_null(strstr(c->relies, "§"));
        if (c->expect == DC_EXPECT_REJECT)
            assert_null(c->faults[0]);
        unsigned pauses = 0;
        for (size_t f = 0; f < DC_FAULTS_MAX && c->faults[f]; f++)
            pauses += strstr(c->faults[f], ":pause") != NULL;
        assert_int_equal(pauses, c->pauses);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forge),         cmocka_unit_test(bytes),    cmocka_unit_test(image_clean),
        cmocka_unit_test(image_escaped), cmocka_unit_test(geometry), cmocka_unit_test(placeholders),
        cmocka_unit_test(table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
