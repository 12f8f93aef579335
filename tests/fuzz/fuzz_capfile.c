/* fuzz_capfile.c - libFuzzer target for the capture readers (lib/files
 * capfile.c and input.c): the input is a capture file, held in a memfd and
 * opened by path like any file, read as detected, as raw and as pcap/pcapng;
 * then (after two bytes giving the first file's length) cut in two and read as a two-file capture (host line, target line)
 * merged in protocol order through the pipeline, as dfudecode --host/--target.
 *
 * Invariants beyond the sanitizers: every chunk (its record and its data)
 * lies inside the file, chunks never overlap or go back, their numbers
 * count up by one; a raw read hands over every byte once, in order; an error
 * is one line whose offset lies inside the file, and the reader stays at its
 * end after it; merged units lie inside the file they came from. */
#include <stdint.h>
#include <string.h>

#include "dfukit/capfile.h"
#include "dfukit/pipeline.h"
#include "fuzz_util.h"

static fz_memfile whole, host_f, target_f;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_memfile_init(&whole, "capture");
    fz_memfile_init(&host_f, "host");
    fz_memfile_init(&target_f, "target");
    return 0;
}

static void read_capture(const uint8_t *data, size_t size, dk_cap_format fmt, dk_dir dir)
{
    dk_err e;
    memset(&e, 0, sizeof e);
    dk_cap_reader *r = dk_cap_open(whole.path, fmt, dir, &e);
    if (!r) {
        fz_check_err(&e, size);
        CHECK(size == 0 || e.status != DK_E_IO);
        return;
    }
    dk_cap_format got = dk_cap_format_of(r);
    CHECK(got == DK_FMT_RAW || got == DK_FMT_PCAP);
    CHECK(fmt == DK_FMT_AUTO || got == fmt);
    dk_chunk c;
    uint64_t next = 0, index = 0, raw_total = 0;
    int rc;
    while ((rc = dk_cap_next(r, &c, &e)) == 1) {
        CHECK(c.index == index + 1);
        index = c.index;
        CHECK(c.file_off <= c.data_off);
        CHECK(c.data_off <= size && c.len <= size - c.data_off);
        CHECK(c.file_off >= next);
        CHECK(c.len == 0 || c.data != NULL);
        CHECK(c.t_us >= -1);
        if (got == DK_FMT_RAW) {
            CHECK(c.data_off == raw_total);
            CHECK(memcmp(c.data, data + c.data_off, c.len) == 0);
            CHECK(c.dir == dir);
            raw_total += c.len;
        } else if (c.len) {
            CHECK(memcmp(c.data, data + c.data_off, c.len) == 0);
        }
        next = c.data_off + c.len;
    }
    if (rc < 0) {
        fz_check_err(&e, size);
        CHECK(e.status != DK_E_IO);
        CHECK(dk_cap_next(r, &c, &e) == 0);
    } else {
        CHECK(rc == 0);
        CHECK(got != DK_FMT_RAW || raw_total == size);
    }
    dk_cap_close(r);
}

/* ---- two files, merged as dfudecode --host/--target does ---- */

typedef struct {
    dk_cap_reader *r;
    dk_units *u;
    dk_chunk c;
    bool eof, failed;
    size_t size;
    dk_err err;
} line_src;

static bool line_open(line_src *l, const fz_memfile *m, size_t size, dk_dir dir)
{
    memset(l, 0, sizeof *l);
    l->size = size;
    l->r = dk_cap_open(m->path, DK_FMT_RAW, dir, &l->err);
    if (!l->r) {
        fz_check_err(&l->err, size);
        CHECK(size == 0);
        return false;
    }
    l->u = dk_units_new();
    CHECK(l->u);
    return true;
}

static void line_close(line_src *l)
{
    if (l->r)
        dk_cap_close(l->r);
    dk_units_free(l->u);
}

static int line_next(line_src *l, dk_unit *out)
{
    for (;;) {
        if (dk_units_next(l->u, out))
            break;
        if (l->eof) {
            if (!dk_units_flush(l->u, out))
                return l->failed ? -1 : 0;
            break;
        }
        int rc = dk_cap_next(l->r, &l->c, &l->err);
        if (rc <= 0) {
            l->eof = true;
            l->failed = rc < 0;
            continue;
        }
        dk_units_put(l->u, l->c.t_us, l->c.dir, l->c.data, l->c.len, l->c.data_off);
    }
    CHECK(out->ev.start <= out->ev.end && out->ev.end <= l->size);
    return 1;
}

/* The first two bytes (little-endian) say how long the host file is. */
static void merge_two(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    size_t cut = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (cut > size)
        cut = size;
    fz_memfile_set(&host_f, data, cut);
    fz_memfile_set(&target_f, data + cut, size - cut);
    line_src h, t;
    memset(&t, 0, sizeof t);
    if (!line_open(&h, &host_f, cut, DK_DIR_HOST) ||
        !line_open(&t, &target_f, size - cut, DK_DIR_TARGET)) {
        line_close(&h);
        line_close(&t);
        return;
    }
    dk_pipe_opts po = { .split = true };
    dk_pipe *d = dk_pipe_new(NULL, &po);
    CHECK(d);
    dk_unit u;
    int rh, rt = 1;
    bool target_left = true;
    while ((rh = line_next(&h, &u)) == 1) {
        CHECK(u.dir == DK_DIR_HOST);
        dk_pipe_unit(d, &u);
        while (target_left && dk_pipe_awaiting(d)) {
            if ((rt = line_next(&t, &u)) != 1) {
                target_left = false;
                break;
            }
            CHECK(u.dir == DK_DIR_TARGET);
            dk_pipe_unit(d, &u);
            if (u.ev.kind != DK_SLIP_FRAME)
                break;
        }
    }
    while (target_left && (rt = line_next(&t, &u)) == 1)
        dk_pipe_unit(d, &u);
    CHECK(rh == 0 && rt <= 1 && rt >= 0);
    dk_pipe_finish(d);
    CHECK(dk_pipe_diag(d) != NULL);
    dk_pipe_free(d);
    line_close(&h);
    line_close(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_cap_format sniffed = dk_cap_sniff(data, size);
    CHECK(sniffed == DK_FMT_RAW || sniffed == DK_FMT_PCAP || sniffed == DK_FMT_LOG);
    fz_memfile_set(&whole, data, size);
    read_capture(data, size, DK_FMT_AUTO, DK_DIR_UNKNOWN);
    read_capture(data, size, DK_FMT_RAW, DK_DIR_TARGET);
    read_capture(data, size, DK_FMT_PCAP, DK_DIR_UNKNOWN);
    merge_two(data, size);
    return 0;
}
