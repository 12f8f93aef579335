/* logread.c - the log reader: lines, records, held records, detection, the format table.
 * Each line goes to its format's handler (logread_int.h) and comes out as
 * MSG / RAW / TOOL / UNKNOWN records (logread.h). */
#include "logread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the formats ---------------------------------------------------------- */

static const lr_format *const formats[DK_LOG_FORMAT_COUNT] = {
    [DK_LOG_NRFUTIL] = &lr_fmt_nrfutil,
    [DK_LOG_BLE] = &lr_fmt_ble,
    [DK_LOG_SOCAT] = &lr_fmt_socat,
    [DK_LOG_HEXDUMP] = &lr_fmt_hexdump,
    [DK_LOG_HEX] = &lr_fmt_hex,
    [DK_LOG_SALEAE] = &lr_fmt_saleae,
    [DK_LOG_PROGRAMMER] = &lr_fmt_programmer,
    [DK_LOG_ADAFRUIT] = &lr_fmt_adafruit,
    [DK_LOG_MCUMGR] = &lr_fmt_mcumgr,
};

/* ---- names ------------------------------------------------------------------ */

const char *dk_log_format_name(dk_log_format f)
{
    if ((unsigned)f >= DK_LOG_FORMAT_COUNT)
        return NULL;
    return f == DK_LOG_AUTO ? "auto" : formats[f]->name;
}

int dk_log_format_by_name(const char *name)
{
    for (int i = 0; i < DK_LOG_FORMAT_COUNT; i++)
        if (name && strcmp(name, dk_log_format_name((dk_log_format)i)) == 0)
            return i;
    return -1;
}

const char *dk_nx_name(dk_nx_kind k)
{
    static const char *const n[] = {
        "other", "no_ping", "ext_error", "result", "unexpected_opcode", "not_a_response", "crc",
        "offset", "init_failed", "firmware_failed", "no_checksum", "port", "write", "timeout",
        "no_data", "port_not_open", "write_timeout", "port_gone", "port_not_found",
        "port_denied", "port_busy", "ble_open", "ble_rpc", "tool_bug", "package",
        "board_not_found", "interrupted",
    };
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "other";
}

const char *dk_lg_name(dk_lg_what w)
{
    static const char *const n[] = { "upgrading", "touched", "opened", "starting",
                                     "send_start", "send_init", "send_firmware", "marks",
                                     "no_ack", "activating", "took", "no_new_port",
                                     "ide_touch", "zip" };
    return (unsigned)w < sizeof n / sizeof n[0] ? n[w] : "?";
}

const char *dk_ble_name(dk_ble_what w)
{
    static const char *const n[] = { "conn_fw", "opening", "opened", "no_response", "att_mtu",
                                     "scanning", "connecting", "connected", "port_closed",
                                     "flashed", "no_ports", "write_list", "flashing" };
    return (unsigned)w < sizeof n / sizeof n[0] ? n[w] : "?";
}

const char *dk_mcu_name(dk_mcu_what w)
{
    static const char *const n[] = { "progress", "nmp_timeout", "panic", "error", "tx", "rx",
                                     "rx_text" };
    return (unsigned)w < sizeof n / sizeof n[0] ? n[w] : "?";
}

const char *dk_lr_kind_name(dk_lr_kind k)
{
    static const char *const n[] = { "msg", "raw", "tool", "unknown", "long", "cut" };
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}

/* ---- time ------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "HH:MM:SS" + optional [.,]fraction: microseconds of the day. */
bool lr_clock_us(dk_rd *c, int64_t *us)
{
    unsigned h, mi, s;
    if (!digits(c, 2, &h) || !lit(c, ":") || !digits(c, 2, &mi) || !lit(c, ":") ||
        !digits(c, 2, &s) || h > 23 || mi > 59 || s > 60)
        return false;
    int64_t frac = 0;
    if ((peekc(c) == '.' || peekc(c) == ',') && is_digit(peekc_at(c, 1))) {
        c->pos++;
        int64_t scale = 100000;
        while (is_digit(peekc(c))) {
            frac += (peekc(c) - '0') * scale;
            scale /= 10;
            c->pos++;
        }
    }
    *us = ((int64_t)h * 3600 + mi * 60 + s) * 1000000 + frac;
    return true;
}

size_t dk_log_parse_time(const char *s, size_t len, int64_t *t_us)
{
    dk_rd c = tx(s, len);
    unsigned y, mo, d;
    if (!digits(&c, 4, &y))
        return 0;
    int sep = peekc(&c);
    if (sep != '-' && sep != '/')
        return 0;
    c.pos++;
    if (!digits(&c, 2, &mo) || peekc(&c) != sep)
        return 0;
    c.pos++;
    if (!digits(&c, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    if (peekc(&c) != ' ' && peekc(&c) != 'T')
        return 0;
    c.pos++;
    int64_t us;
    if (!lr_clock_us(&c, &us))
        return 0;
    int64_t zone_s = 0;
    if (peekc(&c) == 'Z') {
        c.pos++;
    } else if ((peekc(&c) == '+' || peekc(&c) == '-') && sep == '-' && is_digit(peekc_at(&c, 1))) {
        int sign = peekc(&c) == '-' ? -1 : 1;
        dk_rd save = c;
        c.pos++;
        unsigned zh, zm = 0;
        bool ok = digits(&c, 2, &zh);
        if (ok && lit(&c, ":"))
            ok = digits(&c, 2, &zm);
        else if (ok)
            digits(&c, 2, &zm); /* "+0100" */
        if (ok && zh <= 23 && zm <= 59)
            zone_s = sign * ((int64_t)zh * 3600 + zm * 60);
        else
            c = save;
    }
    *t_us = (days_from_civil(y, mo, d) * 86400 - zone_s) * 1000000 + us;
    return c.pos;
}

/* ---- records ------------------------------------------------------------------ */

void lr_deliver(dk_logrd *r, dk_logrec_cb cb, void *ctx, const dk_logrec *rec)
{
    r->st.records++;
    if (rec->kind == DK_LR_UNKNOWN) {
        r->st.unknown++;
        if (!r->st.first_unknown)
            r->st.first_unknown = rec->line;
    } else if (rec->kind == DK_LR_LONG) {
        r->st.long_lines++;
    } else if (rec->kind == DK_LR_CUT) {
        r->st.cut = true;
    }
    cb(ctx, rec);
}

void lr_emit_bytes(lctx *L, dk_lr_kind kind, dk_dir dir, int64_t t, bool abs, const uint8_t *p,
                   size_t n, unsigned chan)
{
    dk_logrec rec = L->base;
    rec.kind = kind;
    rec.dir = dir;
    rec.t_us = t;
    rec.t_abs = abs;
    rec.data = p;
    rec.len = n;
    rec.chan = chan;
    lr_deliver(L->r, L->cb, L->ctx, &rec);
}

void lr_emit_tool(lctx *L, int64_t t, bool abs)
{
    dk_logrec rec = L->base;
    rec.kind = DK_LR_TOOL;
    rec.t_us = t;
    rec.t_abs = abs;
    rec.tool = &L->r->tool;
    lr_deliver(L->r, L->cb, L->ctx, &rec);
}

void lr_emit_unknown(lctx *L, const char *why)
{
    dk_logrec rec = L->base;
    rec.kind = DK_LR_UNKNOWN;
    rec.why = why;
    lr_deliver(L->r, L->cb, L->ctx, &rec);
}

void lr_tool_reset(dk_logrd *r, dk_tool_kind k)
{
    memset(&r->tool, 0, sizeof r->tool);
    r->tool.kind = k;
}

void lr_tool_text(dk_logrd *r, const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    if (n >= sizeof r->tool.text)
        n = sizeof r->tool.text - 1;
    memcpy(r->tool.text, s, n);
    r->tool.text[n] = 0;
}

void lr_hold(lctx *L, const char *cut, int64_t t, bool abs)
{
    dk_logrd *r = L->r;
    r->hold = true;
    r->hold_cut = cut;
    r->hrec = L->base;
    r->hrec.kind = DK_LR_TOOL;
    r->hrec.t_us = t;
    r->hrec.t_abs = abs;
    r->hrec.text = NULL; /* the line buffer is reused */
    r->hrec.text_len = 0;
    r->htool = r->tool;
}

static void release(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    if (!r->hold)
        return;
    r->hold = false;
    r->hrec.tool = &r->htool;
    lr_deliver(r, cb, ctx, &r->hrec);
}

/* ---- per line ----------------------------------------------------------------- */

/* A held record takes this line as its continuation, or is released first. */
static bool continue_held(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    const lr_format *f = formats[r->fmt];
    if (blank(s, n) && f && f->cont)
        return true; /* a blank line between a message and its second line */
    bool took = f && f->cont && f->cont(r, s, n);
    release(r, L->cb, L->ctx);
    return took;
}

static bool late_format(dk_logrd *r, const char *s, size_t n);

/* One line (or lines a console wrapped, joined: parts of them) to its
 * format. */
static void read_line(dk_logrd *r, const char *s, size_t n, uint64_t line, uint64_t off,
                      uint64_t total, unsigned parts, dk_logrec_cb cb, void *ctx)
{
    lctx L = { r, cb, ctx, { 0 } };
    L.base.fmt = r->fmt;
    L.base.line = line;
    L.base.off = off;
    L.base.line_len = total;
    L.base.t_us = -1;
    L.base.text = s;
    L.base.text_len = n;
    if (r->hold && continue_held(&L, s, n)) {
        r->st.understood += parts;
        r->st.last_understood = line + parts - 1;
        r->prev_understood = true;
        return;
    }
    const lr_format *f = formats[r->fmt];
    const char *why = f ? f->line(&L, s, n) : "no format";
    if (why) {
        lr_emit_unknown(&L, why);
        r->prev_understood = false;
    } else {
        r->st.understood += parts;
        r->st.last_understood = line + parts - 1;
        r->prev_understood = true;
    }
}

const char *lr_line_again(lctx *L, const char *s, size_t n)
{
    const lr_format *f = formats[L->r->fmt];
    return f ? f->line(L, s, n) : "no format";
}

/* ---- wrapped lines ------------------------------------------------------------
 * A console breaks a long line at its width (cmd.exe 80 or 120 columns,
 * PowerShell the window's), sometimes losing a character there.  A line of
 * exactly such a width is held; the next one continues it unless it starts a
 * line of its own. */

#define WRAP_MAX 8192

static bool console_width(size_t n)
{
    return n == 80 || n == 100 || n == 120 || n == 132 || n == 140 || n == 150 || n == 160;
}

static bool wraps(dk_log_format f)
{
    return f == DK_LOG_NRFUTIL || f == DK_LOG_BLE || f == DK_LOG_PROGRAMMER ||
           f == DK_LOG_ADAFRUIT || f == DK_LOG_MCUMGR;
}

/* s starts a line of its own: indented, a timestamp, a prompt, or the first
 * word of a host's message. */
static bool own_start(const char *s, size_t n)
{
    static const char *const w[] = {
        "Traceback", "File \"", "During handling", "Upgrading ", "Failed", "Touched ", "Opened ",
        "Sending ", "Timed out", "Possible", "#", "[", ">", "$ ", "PS ", "Device ", "Activating",
        "Zip ", "DEBU[", "Error", "Sketch ", "Global ", "Using ", "Starting ",
    };
    /* a console breaks lines anywhere: its continuations rarely start with a
     * capital, a new line of a tool usually does */
    if (blank(s, n) || s[0] == '\t' || (s[0] >= 'A' && s[0] <= 'Z'))
        return true;
    /* indented by two or more (a frame, a source line); one blank is where
     * the console broke the line between two words */
    if (s[0] == ' ')
        return n > 1 && (s[1] == ' ' || s[1] == '\t');
    int64_t t;
    if (dk_log_parse_time(s, n, &t))
        return true;
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (n >= strlen(w[i]) && memcmp(s, w[i], strlen(w[i])) == 0)
            return true;
    const char *colon = memchr(s, ':', n < 80 ? n : 80);
    return colon && colon > s + 5 && (memcmp(colon - 5, "Error", 5) == 0 ||
                                      (colon > s + 9 && memcmp(colon - 9, "Exception", 9) == 0));
}

static void wrap_flush(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    if (!r->wrap_parts)
        return;
    unsigned parts = r->wrap_parts;
    r->wrap_parts = 0;
    read_line(r, r->wrap, r->wrap_len, r->wrap_line, r->wrap_off, r->wrap_total, parts, cb, ctx);
}

static void process_line(dk_logrd *r, const char *s, size_t n, dk_logrec_cb cb, void *ctx)
{
    if (r->fmt == DK_LOG_AUTO && !late_format(r, s, n))
        return;
    if (r->wrap_parts) {
        if (!own_start(s, n) && r->wrap_len + n <= WRAP_MAX) {
            memcpy(r->wrap + r->wrap_len, s, n);
            r->wrap_len += n;
            r->wrap_total += n;
            r->wrap_parts++;
            if (console_width(n))
                return; /* wrapped again */
            wrap_flush(r, cb, ctx);
            return;
        }
        wrap_flush(r, cb, ctx);
    }
    if (console_width(n) && wraps(r->fmt) && r->wrap) {
        memcpy(r->wrap, s, n);
        r->wrap_len = n;
        r->wrap_line = r->st.lines;
        r->wrap_off = r->loff;
        r->wrap_total = r->ltotal;
        r->wrap_parts = 1;
        return;
    }
    read_line(r, s, n, r->st.lines, r->loff, r->ltotal, 1, cb, ctx);
}

/* ---- sniffing ----------------------------------------------------------------- */

static bool is_text(const uint8_t *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (b == 0)
            return false;
        if (b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != 0x1B)
            bad++;
        if (b == 0x7F)
            bad++;
    }
    return bad * 20 <= n;
}

/* Every format's points for one line into sc (an exclusive format that
 * recognises the line takes it alone). */
static void score_line(const char *s, size_t n, unsigned *sc)
{
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    lr_line ln = { s, n, k && k < n && s[k] == ' ' ? k : 0 };
    unsigned pts[DK_LOG_FORMAT_COUNT] = { 0 };
    bool claimed = false;
    for (int f = 1; f < DK_LOG_FORMAT_COUNT; f++) {
        pts[f] = formats[f]->sniff(&ln);
        if (pts[f] && formats[f]->exclusive)
            claimed = true;
    }
    for (int f = 1; f < DK_LOG_FORMAT_COUNT; f++)
        if (!claimed || formats[f]->exclusive)
            sc[f] += pts[f];
}

/* The best format for a set of points (DK_LOG_AUTO: none scored). */
static dk_log_format best_of(unsigned *sc, unsigned *score)
{
    /* BLE lines are nrfutil lines too, mcumgr's dumps hexdump rows */
    for (int f = 1; f < DK_LOG_FORMAT_COUNT; f++)
        if (formats[f]->base != DK_LOG_AUTO && sc[f])
            sc[f] += sc[formats[f]->base];
    dk_log_format best = DK_LOG_AUTO;
    unsigned bs = 0;
    for (int f = 1; f < DK_LOG_FORMAT_COUNT; f++)
        if (sc[f] > bs) {
            bs = sc[f];
            best = (dk_log_format)f;
        }
    if (score)
        *score = bs;
    return best;
}

/* Late detection: nothing in the head named a format, so each later line is
 * looked at; the first that names one decides, the lines before it are
 * skipped. */
static bool late_format(dk_logrd *r, const char *s, size_t n)
{
    unsigned sc[DK_LOG_FORMAT_COUNT] = { 0 };
    score_line(s, n, sc);
    dk_log_format f = best_of(sc, NULL);
    if (f == DK_LOG_AUTO)
        return false;
    r->fmt = f;
    r->st.fmt = f;
    return true;
}

dk_log_format dk_log_sniff(const uint8_t *head, size_t len, unsigned *score)
{
    if (score)
        *score = 0;
    if (!len || !is_text(head, len))
        return DK_LOG_AUTO;
    unsigned sc[DK_LOG_FORMAT_COUNT] = { 0 };
    size_t i = 0;
    unsigned lines = 0;
    while (i < len && lines < DK_LOG_SNIFF_LINES) {
        const uint8_t *nl = memchr(head + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - head) : len;
        if (!nl && i > 0)
            break; /* a partial last line */
        size_t n = e - i;
        if (n && head[i + n - 1] == '\r')
            n--;
        score_line((const char *)head + i, n, sc);
        lines++;
        i = e + 1;
    }
    return best_of(sc, score);
}

/* ---- streaming ---------------------------------------------------------------- */

dk_logrd *dk_logrd_new(dk_log_format fmt, size_t line_max)
{
    if ((unsigned)fmt >= DK_LOG_FORMAT_COUNT)
        return NULL;
    if (line_max == 0)
        line_max = DK_LOG_LINE_MAX_DEFAULT;
    if (line_max < 256)
        line_max = 256;
    dk_logrd *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->line = malloc(line_max);
    r->wrap = malloc(WRAP_MAX);
    if (fmt == DK_LOG_AUTO)
        r->sniff = malloc(DK_LOG_SNIFF_MAX);
    if (!r->line || !r->wrap || (fmt == DK_LOG_AUTO && !r->sniff)) {
        dk_logrd_free(r);
        return NULL;
    }
    r->cap = line_max;
    r->fmt = fmt;
    r->st.fmt = fmt;
    for (int f = 1; f < DK_LOG_FORMAT_COUNT; f++)
        if (formats[f]->init)
            formats[f]->init(r);
    return r;
}

void dk_logrd_free(dk_logrd *r)
{
    if (!r)
        return;
    free(r->line);
    free(r->wrap);
    free(r->sniff);
    free(r);
}

dk_log_format dk_logrd_format(const dk_logrd *r) { return r->fmt; }
bool dk_logrd_failed(const dk_logrd *r) { return r->failed; }
const dk_logrd_stats *dk_logrd_stats_get(const dk_logrd *r) { return &r->st; }

static void end_line(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    r->st.lines++;
    if (r->ltotal > r->cap && r->fmt == DK_LOG_AUTO) {
        /* no line has named a format yet: lines are only looked at to name
         * one (process_line), and one too long for that is passed over the
         * same way, without a record (a reader that then fails has
         * delivered nothing) */
    } else if (r->ltotal > r->cap) {
        wrap_flush(r, cb, ctx);
        release(r, cb, ctx);
        dk_logrec rec = { 0 };
        rec.kind = DK_LR_LONG;
        rec.fmt = r->fmt;
        rec.line = r->st.lines;
        rec.off = r->loff;
        rec.line_len = r->ltotal;
        rec.t_us = -1;
        rec.text = r->line;
        rec.text_len = r->llen;
        rec.why = "line longer than the reader's limit: skipped";
        r->prev_understood = false;
        lr_deliver(r, cb, ctx, &rec);
    } else {
        size_t n = r->llen;
        if (n && r->line[n - 1] == '\r')
            n--;
        process_line(r, r->line, n, cb, ctx);
    }
    r->llen = 0;
    r->ltotal = 0;
}

/* Cut bytes into lines. */
static void split(dk_logrd *r, const uint8_t *p, size_t n, dk_logrec_cb cb, void *ctx)
{
    while (n) {
        if (r->ltotal == 0 && r->llen == 0)
            r->loff = r->pos;
        const uint8_t *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        size_t room = r->cap - r->llen;
        size_t take = k < room ? k : room;
        memcpy(r->line + r->llen, p, take);
        r->llen += take;
        r->ltotal += k;
        r->pos += k;
        p += k;
        n -= k;
        if (nl) {
            r->pos++;
            p++;
            n--;
            end_line(r, cb, ctx);
        }
    }
}

static void decide(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    unsigned score;
    dk_log_format f = dk_log_sniff(r->sniff, r->sniff_len, &score);
    r->st.sniff_score = score;
    if (f == DK_LOG_AUTO && !is_text(r->sniff, r->sniff_len)) {
        r->failed = true;
    } else {
        r->late = f == DK_LOG_AUTO; /* each line is looked at until one names a format */
        r->fmt = f;
        r->st.fmt = f;
        split(r, r->sniff, r->sniff_len, cb, ctx);
    }
    free(r->sniff);
    r->sniff = NULL;
    r->sniff_len = 0;
}

void dk_logrd_feed(dk_logrd *r, const uint8_t *data, size_t len, dk_logrec_cb cb, void *ctx)
{
    r->st.bytes += len;
    if (r->failed)
        return;
    if (r->fmt == DK_LOG_AUTO) {
        size_t take = DK_LOG_SNIFF_MAX - r->sniff_len;
        if (take > len)
            take = len;
        /* the head stops at the end of line DK_LOG_SNIFF_LINES, so detection
         * sees the same bytes however the log is fed */
        size_t i = 0;
        while (i < take)
            if (data[i++] == '\n' && ++r->sniff_lines == DK_LOG_SNIFF_LINES)
                break;
        take = i;
        memcpy(r->sniff + r->sniff_len, data, take);
        r->sniff_len += take;
        data += take;
        len -= take;
        if (r->sniff_len < DK_LOG_SNIFF_MAX && r->sniff_lines < DK_LOG_SNIFF_LINES)
            return;
        decide(r, cb, ctx);
        if (r->failed)
            return;
    }
    split(r, data, len, cb, ctx);
}

void lr_cut(dk_logrd *r, dk_logrec_cb cb, void *ctx, uint64_t line, const char *why)
{
    dk_logrec rec = { 0 };
    rec.kind = DK_LR_CUT;
    rec.fmt = r->fmt;
    rec.line = line;
    rec.off = r->pos;
    rec.t_us = -1;
    rec.why = why;
    lr_deliver(r, cb, ctx, &rec);
}

dk_status dk_logrd_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx, dk_err *err)
{
    if (r->fmt == DK_LOG_AUTO && !r->failed)
        decide(r, cb, ctx);
    if (r->failed)
        return dk_err_set(err, DK_E_FORMAT, 0,
                          "not a log this reader knows (binary data, or no line of nrfutil, "
                          "BLE, socat, hexdump, hex, Saleae, Programmer, adafruit-nrfutil or "
                          "mcumgr format)");
    bool partial = r->llen || r->ltotal;
    uint64_t before = r->st.unknown;
    if (partial)
        end_line(r, cb, ctx);
    wrap_flush(r, cb, ctx);
    if (r->fmt == DK_LOG_AUTO) { /* no line named a format */
        r->failed = true;
        return dk_err_set(err, DK_E_FORMAT, 0,
                          "not a log this reader knows (no line of nrfutil, BLE, socat, hexdump, "
                          "hex, Saleae, Programmer, adafruit-nrfutil or mcumgr format)");
    }
    const char *held_cut = r->hold ? r->hold_cut : NULL;
    release(r, cb, ctx);
    if (held_cut)
        lr_cut(r, cb, ctx, r->st.lines, held_cut);
    const lr_format *f = formats[r->fmt];
    if (f && f->finish)
        f->finish(r, cb, ctx);
    if (partial && r->st.unknown > before)
        lr_cut(r, cb, ctx, r->st.lines, "the last line is cut off");
    return DK_OK;
}
