/* fuzz_pipeline.c - libFuzzer target for the whole decoding pipeline (lib/
 * analysis pipeline.c, the Secure DFU tracker, facts, diagnosis, package
 * check and both printers) on arbitrary bytes.  The first byte picks the
 * printer (text or JSON Lines), verbose, a package to check against, how the
 * rest enters (a SLIP stream in chunks, framed chunks per line, unframed
 * messages, a text log) and the chunk size.
 *
 * Invariants beyond the sanitizers: the run ends with a diagnosis; JSON
 * output is lines that each parse (jansson) as one object; the text
 * transcript holds no NUL byte; the summary counts no more frames than the
 * input could hold. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "dfukit/logread.h"
#include "dfukit/pipeline.h"
#include "dfukit/pkg.h"
#include "fuzz_pkgimg.h"
#include "fuzz_util.h"

static dk_pkg pkg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(fz_pkg_app(&pkg) == 0);
    return 0;
}

static void on_rec(void *ctx, const dk_logrec *rec)
{
    dk_pipe_record(ctx, rec);
}

static void check_json(const char *out, size_t len)
{
    const char *p = out, *end = out + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        CHECK(nl != NULL); /* every line ends */
        json_error_t je;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (!j)
            fprintf(stderr, "bad JSON line: %.*s\n%s\n", (int)(nl - p), p, je.text);
        CHECK(j != NULL);
        CHECK(json_is_object(j));
        json_decref(j);
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    bool json = flags & 1, with_pkg = flags & 4;
    unsigned mode = (flags >> 3) & 3;
    size_t chunk = 1 + 37u * (flags >> 5);
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    CHECK(f);
    dk_pipe_opts po = { .json = json, .verbose = flags & 2, .split = mode == 3 && (flags & 0x20),
                        .pkg = with_pkg ? &pkg : NULL, .pkg_name = "app.zip" };
    dk_pipe *p = dk_pipe_new(f, &po);
    CHECK(p);
    fz_in in = { data + 1, size - 1, 0 };
    int64_t t = 1700000000000000;
    uint64_t pos = 0;
    if (mode == 0) { /* one SLIP stream, both lines merged */
        while (fz_left(&in)) {
            size_t n;
            const uint8_t *b = fz_bytes(&in, chunk, &n);
            dk_pipe_bytes(p, t, DK_DIR_UNKNOWN, b, n, pos);
            pos += n;
            t += 1000;
        }
    } else if (mode == 1 || mode == 3) { /* [ctl][len][bytes]... */
        uint64_t hpos = 0, tpos = 0;
        while (fz_left(&in)) {
            uint8_t ctl = fz_u8(&in);
            size_t n;
            const uint8_t *b = fz_bytes(&in, fz_u8(&in), &n);
            dk_dir dir = (dk_dir)(ctl % 3);
            t += (ctl >> 2) * 250;
            if (mode == 1) {
                dk_pipe_message(p, t, dir, b, n, pos, pos + n);
                pos += n;
            } else {
                uint64_t *lp = dir == DK_DIR_TARGET ? &tpos : &hpos;
                dk_pipe_bytes(p, t, dir, b, n, po.split ? *lp : pos);
                *lp += n;
                pos += n;
            }
            (void)dk_pipe_awaiting(p);
        }
    } else { /* a text log */
        dk_logrd *r = dk_logrd_new(DK_LOG_AUTO, 0);
        CHECK(r);
        dk_logrd_feed(r, in.p, in.n, on_rec, p);
        dk_err e;
        memset(&e, 0, sizeof e);
        if (dk_logrd_finish(r, on_rec, p, &e) == DK_OK)
            dk_pipe_log_done(p, dk_logrd_stats_get(r));
        dk_logrd_free(r);
    }
    dk_pipe_finish(p);
    dk_pipe_finish(p); /* a second call does nothing */
    CHECK(dk_pipe_diag(p) != NULL);
    const dk_summary *sum = dk_pipe_summary(p);
    CHECK(sum->frames <= size);
    (void)dk_pipe_pkg_ok(p);
    dk_pipe_free(p);
    CHECK(fclose(f) == 0);
    if (json)
        check_json(out, out_len);
    else
        CHECK(memchr(out, '\0', out_len) == NULL);
    free(out);
    return 0;
}
