/* decoder.c - line bytes -> SLIP units -> session -> printer (see decoder.h). */
#include "decoder.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "print.h"

/* ---- SLIP units ------------------------------------------------------ */

struct dd_units {
    dk_slip_dec dec[3]; /* by dk_dir */
    uint8_t buf[3][DD_FRAME_CAP];
    uint8_t fast[DD_FRAME_CAP]; /* frames decoded by the fast path */
    int64_t t_line[3];  /* time of each line's last chunk */
    /* the chunk being cut */
    const uint8_t *p;
    size_t len, used;
    uint64_t pos;
    dk_dir dir;
    int64_t t;
    /* deframer callback */
    dd_unit *out;
    bool got;
    int flushed;
};

dd_units *dd_units_new(void)
{
    dd_units *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    for (int i = 0; i < 3; i++) {
        dk_slip_dec_init(&u->dec[i], u->buf[i], DD_FRAME_CAP);
        u->t_line[i] = -1;
    }
    return u;
}

void dd_units_free(dd_units *u)
{
    free(u);
}

void dd_units_put(dd_units *u, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                  uint64_t pos)
{
    if ((unsigned)dir > DK_DIR_TARGET)
        dir = DK_DIR_UNKNOWN;
    u->p = data;
    u->len = len;
    u->used = 0;
    u->pos = pos;
    u->dir = dir;
    u->t = t_us;
    u->t_line[dir] = t_us;
}

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    dd_units *u = ctx;
    u->out->ev = *ev;
    u->got = true;
}

#if defined(__SSE2__)
/* Bit k set: byte k of x is END or ESC. */
static inline unsigned special_mask(__m128i x)
{
    const __m128i vend = _mm_set1_epi8((char)DK_SLIP_END), vesc = _mm_set1_epi8((char)DK_SLIP_ESC);
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, vend), _mm_cmpeq_epi8(x, vesc)));
}
#endif

/* Copy the bytes in front of the first END or ESC of p[0, n) to out (room
 * bytes at most); returns how many.  With SSE2 each block of 32 (then 16)
 * bytes is stored whole (within room) before its special byte is looked
 * for. */
static size_t copy_plain(const uint8_t *p, size_t n, uint8_t *out, size_t room)
{
    size_t i = 0;
    if (n > room)
        n = room;
#if defined(__SSE2__)
    for (; i + 32 <= n; i += 32) { /* two blocks a step: half the loop branches */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
        _mm_storeu_si128((__m128i *)(void *)(out + i), x);
        _mm_storeu_si128((__m128i *)(void *)(out + i + 16), y);
        unsigned m = special_mask(x) | special_mask(y) << 16;
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        _mm_storeu_si128((__m128i *)(void *)(out + i), x);
        unsigned m = special_mask(x);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    for (; i < n && p[i] != DK_SLIP_END && p[i] != DK_SLIP_ESC; i++)
        out[i] = p[i];
    return i;
}

/* Decode the frame at p[0, n) up to its END into out: its length in *len,
 * the raw bytes used (END included) in *used.  One pass, copying while
 * looking for END/ESC (cheaper than finding the END first and copying only
 * frames with escapes).  False when the deframer must judge: no END in p, a
 * bad escape, an empty or too long frame. */
__attribute__((always_inline)) static inline bool fast_frame(const uint8_t *p, size_t n, uint8_t *out,
                                                            size_t *len, size_t *used)
{
    size_t i = 0, o = 0;
    for (;;) {
        size_t k = copy_plain(p + i, n - i, out + o, DD_FRAME_CAP - o);
        i += k;
        o += k;
        if (i == n)
            return false;
        if (p[i] == DK_SLIP_END)
            break;
        if (p[i] != DK_SLIP_ESC || o == DD_FRAME_CAP || i + 1 == n)
            return false; /* too long, or cut */
        uint8_t b = p[i + 1];
        if (b != DK_SLIP_ESC_END && b != DK_SLIP_ESC_ESC)
            return false;
        out[o++] = b == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
        i += 2;
    }
    *len = o;
    *used = i + 1;
    return o > 0;
}

/* The deframer's way, for everything the fast path leaves: up to and
 * including the next END of the chunk.  True when that made a unit. */
__attribute__((noinline)) static bool deframe(dd_units *u, dk_slip_dec *d, dd_unit *out)
{
    const uint8_t *p = u->p + u->used;
    size_t left = u->len - u->used;
    const uint8_t *e = memchr(p, DK_SLIP_END, left);
    size_t n = e ? (size_t)(e - p) + 1 : left;
    u->out = out;
    u->got = false;
    dk_slip_dec_set_pos(d, u->pos + u->used);
    dk_slip_dec_feed(d, p, n, on_slip, u);
    u->used += n;
    return u->got;
}

/* The fast path: a whole frame while the deframer is between frames,
 * decoded into u->fast.  Anything else (a frame across chunks, bad escapes,
 * empty frames, the first frame of a line) goes through the deframer. */
static inline bool fast_unit(dd_units *u, size_t *len, uint64_t *start, uint64_t *end)
{
    const dk_slip_dec *d = &u->dec[u->dir];
    size_t n;
    if (d->raw_in_frame != 0 || !d->seen_end ||
        !fast_frame(u->p + u->used, u->len - u->used, u->fast, len, &n))
        return false;
    *start = u->pos + u->used;
    *end = *start + n;
    u->used += n;
    return true;
}

bool dd_units_next(dd_units *u, dd_unit *out)
{
    while (u->used < u->len) {
        size_t len;
        uint64_t start, end;
        if (fast_unit(u, &len, &start, &end)) {
            out->ev = (dk_slip_event){
                .kind = DK_SLIP_FRAME, .data = u->fast, .len = len, .start = start, .end = end,
                .raw_len = end - start,
            };
        } else if (!deframe(u, &u->dec[u->dir], out)) {
            continue;
        }
        out->dir = u->dir;
        out->t_us = u->t;
        return true;
    }
    return false;
}

bool dd_units_flush(dd_units *u, dd_unit *out)
{
    while (u->flushed < 3) {
        int i = u->flushed++;
        u->out = out;
        u->got = false;
        dk_slip_dec_flush(&u->dec[i], on_slip, u);
        if (u->got) {
            out->dir = (dk_dir)i;
            out->t_us = u->t_line[i];
            return true;
        }
    }
    return false;
}

/* ---- the decoder ----------------------------------------------------- */

struct dd_decoder {
    printer pr;
    dk_session *s;
    dd_units *u;
    bool lines_known;
    bool dtr;           /* the capture's DTR: the host has the port open */
    bool finished;
    dk_diag_facts facts;
    dk_scen_builder *scen;
    const dk_diag_row *diag;
    dk_logrd_stats log;
    uint64_t log_notes;
};

/* Between the session and the printer: facts and the scenario builder see
 * every event; the summary goes out with the diagnosis the facts pick. */
static void on_event(void *ctx, const dk_event *ev)
{
    dd_decoder *d = ctx;
    dk_diag_facts_event(&d->facts, ev);
    if (d->scen)
        dk_scen_builder_event(d->scen, ev);
    if (ev->kind != DK_EV_SUMMARY) {
        printer_event(&d->pr, ev);
        return;
    }
    dk_summary sum = *ev->u.sum;
    sum.diag = d->diag = dk_diag_pick_facts(&sum, &d->facts);
    dk_event e = *ev;
    e.u.sum = &sum;
    printer_event(&d->pr, &e);
}

dd_decoder *dd_decoder_new(FILE *out, const dd_opts *o)
{
    dd_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    printer_init(&d->pr, out, o->json, o->verbose);
    d->pr.split = o->split;
    d->pr.pkg = o->pkg;
    dk_diag_facts_init(&d->facts);
    d->pr.facts = &d->facts;
    d->s = dk_session_new(on_event, d);
    d->u = dd_units_new();
    if (!d->s || !d->u) {
        dd_decoder_free(d);
        return NULL;
    }
    /* Per-write CRCs and events cost time: only -v and --pkg use them. */
    dk_session_write_crc(d->s, o->verbose);
    dk_session_write_events(d->s, o->verbose || o->pkg);
    return d;
}

void dd_decoder_free(dd_decoder *d)
{
    if (!d)
        return;
    dk_session_free(d->s);
    dd_units_free(d->u);
    free(d);
}

dk_session *dd_decoder_session(dd_decoder *d)
{
    return d->s;
}

void dd_decoder_unit(dd_decoder *d, const dd_unit *u)
{
    dk_session_slip(d->s, &u->ev, u->t_us, u->dir);
}

void dd_decoder_bytes(dd_decoder *d, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                      uint64_t pos)
{
    dd_units *u = d->u;
    dd_units_put(u, t_us, dir, data, len, pos);
    /* dd_units_next, with fast frames handed straight to the tracker */
    while (u->used < u->len) {
        size_t n;
        uint64_t start, end;
        dd_unit un;
        if (fast_unit(u, &n, &start, &end)) {
            dk_session_frame(d->s, u->fast, n, false, u->t, u->dir, start, end);
        } else if (deframe(u, &u->dec[u->dir], &un)) {
            un.dir = u->dir;
            un.t_us = u->t;
            dk_session_slip(d->s, &un.ev, un.t_us, un.dir);
        }
    }
}

void dd_decoder_chunk(dd_decoder *d, const dk_chunk *c)
{
    /* Every packet carries the control lines; STATUS packets change them.
     * The host drops DTR when it closes the port. */
    bool dtr = (c->lines & DK_LINE_DTR) != 0;
    if (!d->lines_known || dtr != d->dtr) {
        d->lines_known = true;
        d->dtr = dtr;
        dk_session_port(d->s, c->t_us, dtr, c->file_off);
    }
    if (c->event == DK_CAP_EV_LOST) {
        dk_session_note(d->s, DK_AN_CAP_DATA_LOST, c->t_us, c->dir, c->file_off, c->file_off,
                        "the capture tool lost data here");
        return;
    }
    if (c->len)
        dd_decoder_bytes(d, c->t_us, c->dir, c->data, c->len, c->data_off);
}

void dd_decoder_frame(dd_decoder *d, int64_t t_us, dk_dir dir, const uint8_t *frame, size_t len,
                      uint64_t start, uint64_t end)
{
    dk_session_frame(d->s, frame, len, false, t_us, dir, start, end);
}

void dd_decoder_finish(dd_decoder *d)
{
    if (d->finished)
        return;
    d->finished = true;
    dd_unit un;
    while (dd_units_flush(d->u, &un))
        dk_session_slip(d->s, &un.ev, un.t_us, un.dir);
    dk_session_finish(d->s);
    if (d->pr.pkg)
        pkgcheck_report(d->pr.pkg, &d->pr);
}

const dk_summary *dd_decoder_summary(const dd_decoder *d)
{
    return dk_session_summary(d->s);
}

void dd_decoder_record(dd_decoder *d, const dk_logrec *rec)
{
    switch (rec->kind) {
    case DK_LR_MSG:
        dk_session_frame(d->s, rec->data, rec->len, false, rec->t_us, rec->dir, rec->off,
                         rec->off + rec->line_len);
        break;
    case DK_LR_RAW:
        dd_decoder_bytes(d, rec->t_us, rec->dir, rec->data, rec->len, rec->off);
        break;
    case DK_LR_TOOL:
        dk_diag_facts_tool(&d->facts, rec->tool);
        d->pr.log_tool = dk_log_format_name(rec->fmt);
        printer_tool(&d->pr, rec->t_us, rec->off, rec->line, rec->tool);
        break;
    case DK_LR_UNKNOWN:
    case DK_LR_LONG:
    case DK_LR_CUT:
        if (rec->kind == DK_LR_UNKNOWN && rec->text)
            dk_diag_facts_text(&d->facts, rec->text, rec->text_len);
        if (d->log_notes++ < DD_LOG_NOTES || rec->kind == DK_LR_CUT)
            printer_logline(&d->pr, rec);
        break;
    }
}

void dd_decoder_log_done(dd_decoder *d, const dk_logrd_stats *st)
{
    d->log = *st;
    d->pr.log = &d->log;
}

void dd_decoder_scenario(dd_decoder *d, dk_scen_builder *b)
{
    d->scen = b;
}

const dk_diag_facts *dd_decoder_facts(const dd_decoder *d)
{
    return &d->facts;
}

const dk_diag_row *dd_decoder_diag(const dd_decoder *d)
{
    return d->diag;
}
