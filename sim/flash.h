/* flash.h - the simulated nRF52 flash: pages, erase before write, an operation
 * counter, a fault hook, and an optional file backing.
 *
 *   memory:  size bytes, pages of page_size, erased state 0xFF
 *   erase:   one page -> all 0xFF                       (1 operation)
 *   write:   word-aligned address; each bit can only go 1 -> 0; a write that
 *            would need a 0 -> 1 transition is applied as on silicon (AND) and
 *            counted in ds_flash_violations()           (1 operation)
 *
 * File backing (ds_flash_open_file) is a MAP_SHARED mmap: every store lands in
 * the file as it happens, so a simulator killed at any instant (kill -9) leaves
 * the file as a chip would be after a power cut: only the page being erased or
 * written can be partly done.
 *
 * Fault hook: before each operation the hook sees its sequence number (1-based,
 * erases and writes both count, failed ones too) and answers
 *   DS_FLASH_GO    do it;
 *   DS_FLASH_FAIL  the operation fails, flash untouched (an NVMC error);
 *   DS_FLASH_CUT   power cut: the operation is applied only partly (a write
 *                  stores its first half of words, rounded down; an erase sets
 *                  the first half of the page to 0xFF) and every later
 *                  operation is refused (untouched) until ds_flash_clear_cut(),
 *                  which the owner calls when it "reboots".
 */
#ifndef DFUKIT_SIM_FLASH_H
#define DFUKIT_SIM_FLASH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/err.h"

typedef struct ds_flash ds_flash;

/* DS_FLASH_STOP: the chip stopped before this operation (it reset): this
 * and every later one refused, untouched, until ds_flash_clear_cut(). */
typedef enum { DS_FLASH_GO = 0, DS_FLASH_FAIL, DS_FLASH_CUT, DS_FLASH_STOP } ds_flash_verdict;

#define DS_FLASH_ERASE_US 85000u /* nRF52840 page erase (NVMC_PAGE_ERASE_DURATION_MS) */
#define DS_FLASH_WORD_US 41u     /* one word written (data sheet, UNVERIFIED) */

/* Return codes of erase/write. */
enum { DS_FLASH_OK = 0, DS_FLASH_E_FAIL = -1, DS_FLASH_E_CUT = -2, DS_FLASH_E_RANGE = -3 };

typedef ds_flash_verdict (*ds_flash_hook)(void *ctx, int is_erase, uint32_t addr, uint32_t len,
                                          uint64_t op_no);

/* RAM flash, all 0xFF.  size must be a multiple of page_size (a power of two).
 * NULL on bad sizes or no memory. */
ds_flash *ds_flash_new(uint32_t size, uint32_t page_size);

/* File-backed flash: the file is created 0xFF-filled when missing or empty;
 * an existing file must be exactly size bytes.  *created (may be NULL) tells
 * whether the file was new.  Opened with dk_file_create(DK_FILE_KEEP)
 * (file.h): read-write as it is, never through a symlink, a regular file
 * only, a new one mode 0600 whatever the umask. */
ds_flash *ds_flash_open_file(const char *path, uint32_t size, uint32_t page_size, bool *created,
                             dk_err *err);

void ds_flash_free(ds_flash *f);

void ds_flash_set_hook(ds_flash *f, ds_flash_hook hook, void *ctx);

/* Erase the page containing addr (addr must be page-aligned). */
int ds_flash_erase_page(ds_flash *f, uint32_t addr);

/* Program len bytes at addr (addr word-aligned; a short last word is padded
 * with 0xFF, which leaves those bits untouched). */
int ds_flash_write(ds_flash *f, uint32_t addr, const uint8_t *p, uint32_t len);

/* Factory programming (like a debugger): overwrite bytes directly, no hook, no
 * operation counted, no erase needed.  For provisioning and tests. */
int ds_flash_program(ds_flash *f, uint32_t addr, const uint8_t *p, uint32_t len);

const uint8_t *ds_flash_mem(const ds_flash *f);
uint32_t ds_flash_size(const ds_flash *f);
uint32_t ds_flash_page_size(const ds_flash *f);
bool ds_flash_is_erased(const ds_flash *f, uint32_t addr, uint32_t len);

uint64_t ds_flash_ops(const ds_flash *f);        /* operations attempted so far */
uint64_t ds_flash_erases(const ds_flash *f);     /* successful (or partial) erases */
uint64_t ds_flash_violations(const ds_flash *f); /* writes that needed 0 -> 1 */
bool ds_flash_was_cut(const ds_flash *f);        /* a DS_FLASH_CUT since the last clear */
void ds_flash_clear_cut(ds_flash *f);

/* Realtime mode: microseconds of flash work since the last call (nRF52840:
 * page erase 85 ms, 41 us per word written), so the adapter can sleep. */
uint64_t ds_flash_take_busy_us(ds_flash *f);

/* The same work as runs of operations in the order they happened (an erase
 * is one operation, each word written one), for the line model (line.h):
 * the CPU stops for each.  ds_flash_mark notes the moment an answer went
 * out; *before_mark = the runs before it (all of them when not marked).
 * Taking them starts a new list. */
#define DS_FLASH_RUNS 32
typedef struct {
    uint32_t n, each_us;
} ds_flash_run;
void ds_flash_mark(ds_flash *f);
bool ds_flash_marked(const ds_flash *f);
size_t ds_flash_take_runs(ds_flash *f, ds_flash_run *out, size_t cap, size_t *before_mark);

/* Intel HEX of the whole flash: type 04 extended linear address records and
 * 16-byte data records; all-0xFF (erased) rows are left out.  DK_E_IO when
 * out fails. */
dk_status ds_flash_write_hex(const ds_flash *f, FILE *out, dk_err *err);

#endif
