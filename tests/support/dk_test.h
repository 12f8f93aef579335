/* dk_test.h - small helpers shared by dfukit's tests and test tools: temp
 * directories, whole-file read/write, test data paths, and the deterministic
 * pseudo-random image content dk-mkpkg uses (so a test can rebuild the exact
 * bytes of a generated package's images from the seed).
 *
 * Header-only (static inline); needs nothing beyond libc.
 */
#ifndef DFUKIT_DK_TEST_H
#define DFUKIT_DK_TEST_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* splitmix64 stream, written out little-endian 8 bytes at a time.  Same seed,
 * same bytes, on every platform.  dk-mkpkg fills the application from SEED,
 * the SoftDevice from SEED + 1 and the bootloader from SEED + 2; an SD+BL
 * image is the SoftDevice bytes followed by the bootloader bytes. */
static inline void dk_test_fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        for (size_t k = 0; k < 8 && i + k < len; k++)
            buf[i + k] = (uint8_t)(z >> (8 * k));
    }
}

/* Make a fresh directory under $TMPDIR (or /tmp); path written to out.
 * Returns 0, or -1 with errno set. */
static inline int dk_test_tmpdir(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(out, cap, "%s/dktest.XXXXXX", base);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

/* Remove a directory tree made by a test (does not follow symlinks). */
static inline int dk_test_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) {
            rc = -1;
            continue;
        }
        if (dk_test_rmtree(sub) != 0)
            rc = -1;
    }
    closedir(d);
    return rmdir(path) == 0 ? rc : -1;
}

/* "dir/name" into out (truncation-safe; returns out). */
static inline char *dk_test_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
    return out;
}

/* Write len bytes to path (created or truncated). 0 or -1. */
static inline int dk_test_write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = len ? fwrite(buf, 1, len, f) : 0;
    int rc = fclose(f);
    return n == len && rc == 0 ? 0 : -1;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated for convenience,
 * the NUL not counted in *len). NULL on error. */
static inline uint8_t *dk_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap + 1);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        uint8_t *nb = realloc(b, 2 * cap + 1);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        return NULL;
    }
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

/* Path of a checked-in test input: $DK_TEST_DATA/name (CTest sets it to
 * tests/data), else tests/data/name relative to the working directory. */
static inline char *dk_test_data(char *out, size_t cap, const char *name)
{
    const char *d = getenv("DK_TEST_DATA");
    return dk_test_path(out, cap, d && *d ? d : "tests/data", name);
}

#endif
