/* replay.c - a fuzz target without libFuzzer: every file named (a directory:
 * every file in it, in name order) through LLVMFuzzerTestOneInput once.
 * The normal build links each target with it, so the seeds and every input
 * that once broke a target (tests/fuzz/regress/, copied into the seeds) run
 * in every test suite, with or without clang; an invariant that fails
 * aborts, as under the fuzzer.  LLVMFuzzerInitialize, where a target has
 * it, runs first, as libFuzzer runs it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* the targets that set something up once define it; libFuzzer calls it first */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int one(const char *path, unsigned *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb)
                free(b);
            b = nb;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!b || err) {
        fprintf(stderr, "%s: %s\n", path, b ? "read error" : "out of memory");
        free(b);
        return 1;
    }
    /* the exact size, as libFuzzer passes it: an overread shows */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(b);
        return 1;
    }
    memcpy(exact, b, len);
    free(b);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    (*n)++;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    unsigned n = 0;
    int bad = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= one(argv[i], &n);
            continue;
        }
        struct dirent **ents;
        int k = scandir(argv[i], &ents, NULL, by_name);
        if (k < 0) {
            perror(argv[i]);
            return 1;
        }
        for (int j = 0; j < k; j++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], ents[j]->d_name);
            if (ents[j]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                bad |= one(path, &n);
            free(ents[j]);
        }
        free(ents);
    }
    printf("%u inputs replayed\n", n);
    if (n == 0) {
        fprintf(stderr, "replay: no input\n");
        return 1;
    }
    return bad;
}
