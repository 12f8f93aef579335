/* fuzz_logs.c - libFuzzer target for the log readers (lib/logs): the input is
 * a log, read with auto-detection and with every format forced, whole and in
 * chunks of varying size (auto and one forced format per input), with the
 * default line limit and the smallest.
 *
 * Invariants beyond the sanitizers: every record's line lies inside the
 * input, offsets and line numbers never go back and a new offset is a new
 * line; no record is longer than its line (text, bytes); the statistics
 * count what was delivered and fed; tool text is NUL-terminated; reading in
 * chunks gives exactly the records of reading whole; an AUTO reader that
 * fails delivered nothing and says so in one line. */
#include <stdint.h>
#include <string.h>

#include "dfukit/logread.h"
#include "fuzz_util.h"

typedef struct {
    size_t size;      /* of the input */
    uint64_t lines;   /* in it (a last one without LF counts) */
    uint64_t records;
    uint64_t last_off, last_line;
    uint64_t hash;    /* of what the records say, to compare two reads */
} seen;

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001B3ull;
}

static void on_rec(void *vctx, const dk_logrec *rec)
{
    seen *s = vctx;
    s->records++;
    CHECK((unsigned)rec->kind <= DK_LR_CUT);
    CHECK(rec->off <= s->size);
    CHECK(rec->line <= s->lines);
    CHECK(rec->off >= s->last_off);
    /* a new offset is a new line; CUT comes at the end (offset: the log's
     * length) and names the line where what was cut began, as does what the
     * end of the log says of a thing still open (a traceback cut short) */
    if (rec->kind == DK_LR_CUT) {
        CHECK(rec->off == s->size && rec->line >= 1 && rec->line <= s->lines);
    } else if (rec->off == s->size && rec->off > s->last_off) {
        CHECK(rec->line >= 1 && rec->line <= s->lines);
    } else {
        CHECK(rec->line >= s->last_line);
        CHECK(rec->off == s->last_off || rec->line > s->last_line || s->records == 1);
    }
    if (rec->kind != DK_LR_CUT) {
        CHECK(rec->line >= 1);
        CHECK(rec->line_len <= s->size - rec->off);
        CHECK(rec->text_len <= rec->line_len);
    }
    if (rec->kind == DK_LR_MSG || rec->kind == DK_LR_RAW) {
        CHECK(rec->len <= DK_LOG_MSG_MAX);
        CHECK(rec->len <= rec->line_len);
        CHECK(rec->len == 0 || rec->data != NULL);
    }
    if (rec->kind == DK_LR_TOOL) {
        CHECK(rec->tool != NULL);
        CHECK(memchr(rec->tool->text, '\0', sizeof rec->tool->text) != NULL);
        CHECK(memchr(rec->tool->u.exc.cls, '\0', sizeof rec->tool->u.exc.cls) != NULL ||
              rec->tool->kind != DK_TOOL_EXCEPTION);
    }
    if (rec->kind == DK_LR_UNKNOWN || rec->kind == DK_LR_LONG || rec->kind == DK_LR_CUT)
        CHECK(rec->why != NULL && strchr(rec->why, '\n') == NULL);
    s->last_off = rec->off;
    if (rec->kind != DK_LR_CUT)
        s->last_line = rec->line;
    uint64_t h = mix(s->hash, rec->kind);
    h = mix(h, rec->off);
    h = mix(h, rec->line);
    h = mix(h, (uint64_t)rec->t_us);
    h = mix(h, rec->dir);
    for (size_t i = 0; (rec->kind == DK_LR_MSG || rec->kind == DK_LR_RAW) && i < rec->len; i++)
        h = mix(h, rec->data[i]);
    if (rec->kind == DK_LR_TOOL)
        h = mix(h, rec->tool->kind);
    s->hash = h;
}

/* Read the input as fmt, in chunks of about chunk bytes (0: whole). */
static seen read_log(const uint8_t *data, size_t size, dk_log_format fmt, size_t line_max,
                     size_t chunk, dk_status *st)
{
    seen s;
    memset(&s, 0, sizeof s);
    s.size = size;
    for (size_t i = 0; i < size; i++)
        s.lines += data[i] == '\n';
    s.lines += size && data[size - 1] != '\n';
    dk_logrd *r = dk_logrd_new(fmt, line_max);
    CHECK(r);
    size_t off = 0;
    while (off < size) {
        size_t k = chunk ? chunk + data[off] % chunk : size;
        if (k > size - off)
            k = size - off;
        dk_logrd_feed(r, data + off, k, on_rec, &s);
        off += k;
    }
    dk_err e;
    memset(&e, 0, sizeof e);
    *st = dk_logrd_finish(r, on_rec, &s, &e);
    const dk_logrd_stats *stats = dk_logrd_stats_get(r);
    CHECK(stats->records == s.records);
    CHECK(stats->bytes == size);
    CHECK(stats->unknown + stats->long_lines <= stats->records);
    CHECK(stats->understood <= stats->lines);
    if (*st != DK_OK) {
        fz_check_err(&e, size);
        CHECK(fmt == DK_LOG_AUTO && *st == DK_E_FORMAT);
        CHECK(s.records == 0);
        CHECK(dk_logrd_failed(r));
    } else {
        CHECK(dk_logrd_format(r) != DK_LOG_AUTO);
        CHECK(fmt == DK_LOG_AUTO || dk_logrd_format(r) == fmt);
    }
    dk_logrd_free(r);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned score = 0;
    dk_log_format sniffed = dk_log_sniff(data, size, &score);
    CHECK((unsigned)sniffed < DK_LOG_FORMAT_COUNT);
    /* every format whole; auto-detection and one forced format (a different
     * one as the input's length changes) also in chunks, which must read the
     * same, and with the smallest line limit, which makes long lines common */
    dk_log_format pick = (dk_log_format)(1 + size % (DK_LOG_FORMAT_COUNT - 1));
    for (int f = DK_LOG_AUTO; f < DK_LOG_FORMAT_COUNT; f++) {
        dk_status a, b;
        seen whole = read_log(data, size, (dk_log_format)f, 0, 0, &a);
        if (f != DK_LOG_AUTO && f != (int)pick)
            continue;
        seen parts = read_log(data, size, (dk_log_format)f, 0, 7, &b);
        CHECK(a == b);
        CHECK(whole.records == parts.records);
        CHECK(whole.hash == parts.hash);
        (void)read_log(data, size, (dk_log_format)f, 256, 61, &b);
    }
    return 0;
}
