/* flash.c - simulated NOR flash with an op counter, fault hook, mmap backing. */
#include "flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfukit/file.h"

#define ERASE_US DS_FLASH_ERASE_US
#define WORD_US DS_FLASH_WORD_US

struct ds_flash {
    uint8_t *mem;
    uint32_t size, page;
    bool mapped;
    ds_flash_hook hook;
    void *ctx;
    uint64_t ops, erases, violations, busy_us;
    bool cut;
    ds_flash_run runs[DS_FLASH_RUNS]; /* the work since the last ds_flash_take_runs */
    size_t nruns, mark;
    bool marked;
};

/* One more operation of each_us: runs of the same kind merge. */
static void run_add(ds_flash *f, uint32_t n, uint32_t each_us)
{
    ds_flash_run *last = f->nruns ? &f->runs[f->nruns - 1] : NULL;
    if (last && last->each_us == each_us && !(f->marked && f->mark == f->nruns)) {
        last->n += n;
        return;
    }
    if (f->nruns == DS_FLASH_RUNS) { /* an activation's page copies: keep the total */
        last->each_us = (uint32_t)(((uint64_t)last->n * last->each_us + (uint64_t)n * each_us) / (last->n + n));
        last->n += n;
        return;
    }
    f->runs[f->nruns++] = (ds_flash_run){ .n = n, .each_us = each_us };
}

static bool geometry_ok(uint32_t size, uint32_t page)
{
    return page >= 4 && (page & (page - 1)) == 0 && size >= page && size % page == 0;
}

ds_flash *ds_flash_new(uint32_t size, uint32_t page_size)
{
    if (!geometry_ok(size, page_size))
        return NULL;
    ds_flash *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->mem = malloc(size);
    if (!f->mem) {
        free(f);
        return NULL;
    }
    memset(f->mem, 0xFF, size);
    f->size = size;
    f->page = page_size;
    return f;
}

ds_flash *ds_flash_open_file(const char *path, uint32_t size, uint32_t page_size, bool *created,
                             dk_err *err)
{
    if (created)
        *created = false;
    if (!geometry_ok(size, page_size)) {
        dk_err_set(err, DK_E_USAGE, -1, "bad flash geometry: %u bytes, page %u", size, page_size);
        return NULL;
    }
    /* read-write as it is, never through a symlink, a new one 0600, a
     * regular file only (file.h) */
    dk_err e = { 0 };
    int fd = dk_file_create(path, DK_FILE_KEEP, &e);
    if (fd < 0) {
        dk_err_set(err, e.status, -1, "%s", e.msg);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        dk_err_set(err, DK_E_IO, -1, "cannot stat flash file: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    bool fresh = st.st_size == 0;
    if (!fresh && st.st_size != (off_t)size) {
        dk_err_set(err, DK_E_FORMAT, -1, "flash file is %lld bytes, the chip has %u",
                   (long long)st.st_size, size);
        close(fd);
        return NULL;
    }
    if (fresh) {
        /* Fill with 0xFF through write() so the file never holds zeros that
         * would read as programmed flash. */
        uint8_t buf[4096];
        memset(buf, 0xFF, sizeof buf);
        for (uint32_t done = 0; done < size;) {
            uint32_t n = size - done < sizeof buf ? size - done : (uint32_t)sizeof buf;
            ssize_t w = write(fd, buf, n);
            if (w <= 0) {
                dk_err_set(err, DK_E_IO, -1, "cannot fill flash file: %s", strerror(errno));
                close(fd);
                return NULL;
            }
            done += (uint32_t)w;
        }
    }
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        dk_err_set(err, DK_E_IO, -1, "cannot map flash file: %s", strerror(errno));
        return NULL;
    }
    ds_flash *f = calloc(1, sizeof *f);
    if (!f) {
        munmap(m, size);
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    f->mem = m;
    f->mapped = true;
    f->size = size;
    f->page = page_size;
    if (created)
        *created = fresh;
    return f;
}

void ds_flash_free(ds_flash *f)
{
    if (!f)
        return;
    if (f->mapped) {
        msync(f->mem, f->size, MS_SYNC);
        munmap(f->mem, f->size);
    } else {
        free(f->mem);
    }
    free(f);
}

void ds_flash_set_hook(ds_flash *f, ds_flash_hook hook, void *ctx)
{
    f->hook = hook;
    f->ctx = ctx;
}

/* Common prologue: count the op, ask the hook.  Returns the verdict, or
 * DS_FLASH_E_CUT (as a negative) when power is already off. */
static int begin_op(ds_flash *f, int is_erase, uint32_t addr, uint32_t len, ds_flash_verdict *v)
{
    f->ops++;
    if (f->cut)
        return DS_FLASH_E_CUT;
    *v = f->hook ? f->hook(f->ctx, is_erase, addr, len, f->ops) : DS_FLASH_GO;
    if (*v == DS_FLASH_FAIL)
        return DS_FLASH_E_FAIL;
    if (*v == DS_FLASH_STOP) {
        f->cut = true;
        return DS_FLASH_E_CUT;
    }
    if (*v == DS_FLASH_CUT)
        f->cut = true;
    return DS_FLASH_OK;
}

int ds_flash_erase_page(ds_flash *f, uint32_t addr)
{
    if (addr % f->page || addr >= f->size)
        return DS_FLASH_E_RANGE;
    ds_flash_verdict v = DS_FLASH_GO;
    int rc = begin_op(f, 1, addr, f->page, &v);
    if (rc)
        return rc;
    f->erases++;
    f->busy_us += ERASE_US;
    run_add(f, 1, ERASE_US);
    memset(f->mem + addr, 0xFF, v == DS_FLASH_CUT ? f->page / 2 : f->page);
    return v == DS_FLASH_CUT ? DS_FLASH_E_CUT : DS_FLASH_OK;
}

/* Bits only go 1 -> 0.  Branch-free, so the compiler can vectorise it. */
static void store(ds_flash *f, uint32_t addr, const uint8_t *p, uint32_t len)
{
    uint8_t *m = f->mem + addr;
    uint8_t up = 0; /* bits that would have to go 0 -> 1 */
    for (uint32_t i = 0; i < len; i++) {
        up |= (uint8_t)(p[i] & ~m[i]);
        m[i] &= p[i];
    }
    f->violations += up != 0;
}

int ds_flash_write(ds_flash *f, uint32_t addr, const uint8_t *p, uint32_t len)
{
    if (addr % 4 || addr > f->size || len > f->size - addr)
        return DS_FLASH_E_RANGE;
    ds_flash_verdict v = DS_FLASH_GO;
    int rc = begin_op(f, 0, addr, len, &v);
    if (rc)
        return rc;
    uint32_t words = (len + 3) / 4;
    f->busy_us += (uint64_t)words * WORD_US;
    run_add(f, words, WORD_US);
    uint32_t n = v == DS_FLASH_CUT ? (words / 2) * 4 : len;
    if (n > len)
        n = len;
    store(f, addr, p, n);
    return v == DS_FLASH_CUT ? DS_FLASH_E_CUT : DS_FLASH_OK;
}

int ds_flash_program(ds_flash *f, uint32_t addr, const uint8_t *p, uint32_t len)
{
    if (addr > f->size || len > f->size - addr)
        return DS_FLASH_E_RANGE;
    memcpy(f->mem + addr, p, len);
    return DS_FLASH_OK;
}

const uint8_t *ds_flash_mem(const ds_flash *f) { return f->mem; }
uint32_t ds_flash_size(const ds_flash *f) { return f->size; }
uint32_t ds_flash_page_size(const ds_flash *f) { return f->page; }
uint64_t ds_flash_ops(const ds_flash *f) { return f->ops; }
uint64_t ds_flash_erases(const ds_flash *f) { return f->erases; }
uint64_t ds_flash_violations(const ds_flash *f) { return f->violations; }
bool ds_flash_was_cut(const ds_flash *f) { return f->cut; }
void ds_flash_clear_cut(ds_flash *f) { f->cut = false; }

bool ds_flash_is_erased(const ds_flash *f, uint32_t addr, uint32_t len)
{
    if (addr > f->size || len > f->size - addr)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (f->mem[addr + i] != 0xFF)
            return false;
    return true;
}

uint64_t ds_flash_take_busy_us(ds_flash *f)
{
    uint64_t us = f->busy_us;
    f->busy_us = 0;
    return us;
}

void ds_flash_mark(ds_flash *f)
{
    f->mark = f->nruns;
    f->marked = true;
}

bool ds_flash_marked(const ds_flash *f)
{
    return f->marked;
}

size_t ds_flash_take_runs(ds_flash *f, ds_flash_run *out, size_t cap, size_t *before_mark)
{
    size_t n = f->nruns < cap ? f->nruns : cap;
    memcpy(out, f->runs, n * sizeof *out);
    *before_mark = f->marked && f->mark < n ? f->mark : n;
    f->nruns = 0;
    f->marked = false;
    return n;
}

static int hex_record(FILE *out, uint8_t type, uint16_t addr, const uint8_t *p, uint8_t n)
{
    uint8_t sum = (uint8_t)(n + (addr >> 8) + (addr & 0xFF) + type);
    if (fprintf(out, ":%02X%04X%02X", n, addr, type) < 0)
        return -1;
    for (uint8_t i = 0; i < n; i++) {
        sum = (uint8_t)(sum + p[i]);
        if (fprintf(out, "%02X", p[i]) < 0)
            return -1;
    }
    return fprintf(out, "%02X\n", (uint8_t)(0x100 - sum) & 0xFF) < 0 ? -1 : 0;
}

dk_status ds_flash_write_hex(const ds_flash *f, FILE *out, dk_err *err)
{
    uint32_t upper = UINT32_MAX;
    for (uint32_t a = 0; a < f->size; a += 16) {
        uint32_t n = f->size - a < 16 ? f->size - a : 16;
        if (ds_flash_is_erased(f, a, n))
            continue;
        if (a >> 16 != upper) {
            upper = a >> 16;
            uint8_t ela[2] = { (uint8_t)(upper >> 8), (uint8_t)upper };
            if (hex_record(out, 4, 0, ela, 2))
                goto fail;
        }
        if (hex_record(out, 0, (uint16_t)a, f->mem + a, (uint8_t)n))
            goto fail;
    }
    if (hex_record(out, 1, 0, NULL, 0) == 0 && fflush(out) == 0)
        return DK_OK;
fail:
    return dk_err_set(err, DK_E_IO, -1, "cannot write Intel HEX: %s", strerror(errno));
}
