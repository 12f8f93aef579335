/* test_flash.c - the simulated flash layer: erase before write, op counter,
 * fault hook (fail / power cut), mmap file backing, Intel HEX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dk_test.h"
#include "flash.h"

#define PAGE 4096u
#define SIZE (16u * PAGE)

static void test_new_is_erased(void **state)
{
    (void)state;
    ds_flash *f = ds_flash_new(SIZE, PAGE);
    assert_non_null(f);
    assert_true(ds_flash_is_erased(f, 0, SIZE));
    assert_int_equal(ds_flash_ops(f), 0);
    assert_null(ds_flash_new(SIZE, 3000));
    assert_null(ds_flash_new(PAGE + 1, PAGE));
    ds_flash_free(f);
}

static void test_write_clears_bits_only(void **state)
{
    (void)state;
    ds_flash *f = ds_flash_new(SIZE, PAGE);
    uint8_t a[8] = { 0xF0, 0x0F, 0x55, 0xAA, 1, 2, 3, 4 };
    assert_int_equal(ds_flash_write(f, PAGE, a, 8), DS_FLASH_OK);
    assert_memory_equal(ds_flash_mem(f) + PAGE, a, 8);
    assert_int_equal(ds_flash_violations(f), 0);
    /* writing again over programmed bits: AND, and the violation is visible */
    uint8_t b[4] = { 0xFF, 0xFF, 0xFF, 0x0F };
    assert_int_equal(ds_flash_write(f, PAGE, b, 4), DS_FLASH_OK);
    assert_int_equal(ds_flash_mem(f)[PAGE], 0xF0);
    assert_int_equal(ds_flash_mem(f)[PAGE + 3], 0x0A);
    assert_int_equal(ds_flash_violations(f), 1); /* 0xAA -> 0x0F needs 0 -> 1 */
    /* erase, then the same write is clean */
    assert_int_equal(ds_flash_erase_page(f, PAGE), DS_FLASH_OK);
    assert_true(ds_flash_is_erased(f, PAGE, PAGE));
    assert_int_equal(ds_flash_ops(f), 3);
    /* unaligned address, out of range */
    assert_int_equal(ds_flash_write(f, 2, a, 4), DS_FLASH_E_RANGE);
    assert_int_equal(ds_flash_write(f, SIZE - 4, a, 8), DS_FLASH_E_RANGE);
    assert_int_equal(ds_flash_erase_page(f, 100), DS_FLASH_E_RANGE);
    /* a short tail is padded with 0xFF */
    assert_int_equal(ds_flash_write(f, 2 * PAGE, a, 3), DS_FLASH_OK);
    assert_int_equal(ds_flash_mem(f)[2 * PAGE + 3], 0xFF);
    ds_flash_free(f);
}

typedef struct {
    uint64_t at;
    ds_flash_verdict v;
    uint64_t seen;
} hook_ctx;

static ds_flash_verdict hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op)
{
    (void)is_erase, (void)addr, (void)len;
    hook_ctx *h = ctx;
    h->seen = op;
    return op == h->at ? h->v : DS_FLASH_GO;
}

static void test_hook_fail(void **state)
{
    (void)state;
    ds_flash *f = ds_flash_new(SIZE, PAGE);
    hook_ctx h = { 2, DS_FLASH_FAIL, 0 };
    ds_flash_set_hook(f, hook, &h);
    uint8_t a[4] = { 0, 0, 0, 0 };
    assert_int_equal(ds_flash_write(f, 0, a, 4), DS_FLASH_OK);
    assert_int_equal(ds_flash_write(f, 4, a, 4), DS_FLASH_E_FAIL);
    assert_int_equal(ds_flash_mem(f)[4], 0xFF); /* untouched */
    assert_int_equal(ds_flash_write(f, 8, a, 4), DS_FLASH_OK);
    assert_int_equal(h.seen, 3);
    assert_false(ds_flash_was_cut(f));
    ds_flash_free(f);
}

static void test_hook_cut_is_partial_and_final(void **state)
{
    (void)state;
    ds_flash *f = ds_flash_new(SIZE, PAGE);
    uint8_t z[64];
    memset(z, 0, sizeof z);
    assert_int_equal(ds_flash_write(f, PAGE, z, 64), DS_FLASH_OK);
    hook_ctx h = { 3, DS_FLASH_CUT, 0 };
    ds_flash_set_hook(f, hook, &h);
    /* op 3: erase cut halfway: first half erased, second half still old */
    assert_int_equal(ds_flash_write(f, 0, z, 4), DS_FLASH_OK);
    assert_int_equal(ds_flash_erase_page(f, PAGE), DS_FLASH_E_CUT);
    assert_true(ds_flash_was_cut(f));
    /* nothing lands after the cut */
    assert_int_equal(ds_flash_write(f, 2 * PAGE, z, 4), DS_FLASH_E_CUT);
    assert_true(ds_flash_is_erased(f, 2 * PAGE, 4));
    ds_flash_clear_cut(f);
    /* write cut halfway: first half of the words stored */
    h.at = ds_flash_ops(f) + 1;
    assert_int_equal(ds_flash_write(f, 3 * PAGE, z, 64), DS_FLASH_E_CUT);
    assert_true(ds_flash_is_erased(f, 3 * PAGE + 32, 32));
    assert_false(ds_flash_is_erased(f, 3 * PAGE, 4));
    assert_int_equal(ds_flash_mem(f)[3 * PAGE + 31], 0);
    ds_flash_free(f);
}

static void test_busy_time(void **state)
{
    (void)state;
    ds_flash *f = ds_flash_new(SIZE, PAGE);
    uint8_t z[8] = { 0 };
    ds_flash_erase_page(f, 0);
    ds_flash_write(f, 0, z, 8);
    assert_int_equal(ds_flash_take_busy_us(f), 85000 + 2 * 41);
    assert_int_equal(ds_flash_take_busy_us(f), 0);
    ds_flash_free(f);
}

static void test_file_backing_survives_kill(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_int_equal(dk_test_tmpdir(dir, sizeof dir), 0);
    dk_test_path(path, sizeof path, dir, "chip.bin");
    bool created = false;
    dk_err err;
    ds_flash *f = ds_flash_open_file(path, SIZE, PAGE, &created, &err);
    assert_non_null(f);
    assert_true(created);
    assert_true(ds_flash_is_erased(f, 0, SIZE));
    ds_flash_free(f);

    /* A child writes and is SIGKILLed before it can unmap or sync. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ds_flash *c = ds_flash_open_file(path, SIZE, PAGE, NULL, NULL);
        uint8_t v[4] = { 0x12, 0x34, 0x56, 0x78 };
        if (!c || ds_flash_write(c, 5 * PAGE, v, 4))
            _exit(1);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    f = ds_flash_open_file(path, SIZE, PAGE, &created, &err);
    assert_non_null(f);
    assert_false(created);
    assert_int_equal(ds_flash_mem(f)[5 * PAGE + 3], 0x78);
    assert_true(ds_flash_is_erased(f, 0, 5 * PAGE));
    ds_flash_free(f);

    /* wrong size is refused with a message */
    assert_null(ds_flash_open_file(path, 2 * SIZE, PAGE, NULL, &err));
    assert_int_equal(err.status, DK_E_FORMAT);
    dk_test_rmtree(dir);
}

static void test_intel_hex(void **state)
{
    (void)state;
    ds_flash *f = ds_flash_new(32u * PAGE * 16, PAGE); /* 2 MiB: crosses 64 KiB segments */
    uint8_t v[4] = { 0xDE, 0xAD, 0xBE, 0xEF };
    ds_flash_write(f, 0x10, v, 4);
    ds_flash_write(f, 0x1FFF0, v, 4);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(ds_flash_write_hex(f, out, NULL), DK_OK);
    fclose(out);
    assert_string_equal(buf, ":020000040000FA\n"
                             ":10001000DEADBEEFFFFFFFFFFFFFFFFFFFFFFFFFB4\n"
                             ":020000040001F9\n"
                             ":10FFF000DEADBEEFFFFFFFFFFFFFFFFFFFFFFFFFD5\n"
                             ":00000001FF\n");
    free(buf);
    ds_flash_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_erased),
        cmocka_unit_test(test_write_clears_bits_only),
        cmocka_unit_test(test_hook_fail),
        cmocka_unit_test(test_hook_cut_is_partial_and_final),
        cmocka_unit_test(test_busy_time),
        cmocka_unit_test(test_file_backing_survives_kill),
        cmocka_unit_test(test_intel_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
