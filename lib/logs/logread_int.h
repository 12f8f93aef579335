/* logread_int.h - the log readers' shared machinery and the interface of a format.
 * For lib/logs only; the API is dfukit/logread.h.
 *
 *   logread.c     the reader: lines cut from the bytes, records delivered,
 *                 held records, detection, and the table of formats
 *   nrfutil.c     nrfutil -v / plain and nrfutil dfu ble
 *   adafruit.c    adafruit-nrfutil / legacy nrfutil and the IDE uploads around it
 *   mcumgr.c      mcumgr (SMP) uploads
 *   hosttext.c    what every host log shares: pasting damage, command lines, versions
 *   pyexc.c       Python tracebacks and exception lines of nrfutil-like hosts
 *   socat.c       socat -x dumps
 *   hexdump.c     hexdump -C / xxd
 *   hex.c         plain hex with direction markers
 *   saleae.c      Saleae Logic 2 CSV exports
 *   programmer.c  nRF Connect Programmer (and its error code tables)
 *
 * A format is one lr_format row (below): a sniff function that scores a
 * line for detection, a line handler that turns a line into records, and
 * optional hooks for held records, the end of the log and initial state.
 * Adding a format: a DK_LOG_* value, a file with its row, its slot in
 * logread.c's table, and its state (if any) in struct dk_logrd.
 */
#ifndef DFUKIT_LOGREAD_INT_H
#define DFUKIT_LOGREAD_INT_H

#include "dfukit/logread.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dfukit/rd.h"

/* ---- text cursor on dk_rd ---------------------------------------------------
 * Each reader takes what it recognises and moves past it; on a mismatch it
 * returns false (the position may have moved: parse from a copy). */

static inline dk_rd tx(const char *s, size_t n) { return dk_rd_make((const uint8_t *)s, n); }
static inline int peekc(const dk_rd *c) { return c->pos < c->len ? c->p[c->pos] : -1; }
static inline int peekc_at(const dk_rd *c, size_t k)
{
    return c->pos + k < c->len ? c->p[c->pos + k] : -1;
}
static inline bool at_end(const dk_rd *c) { return c->pos >= c->len; }
static inline const char *tx_here(const dk_rd *c) { return (const char *)c->p + c->pos; }

static inline bool is_digit(int ch) { return ch >= '0' && ch <= '9'; }
static inline int lower(int ch) { return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch; }

static inline bool lit(dk_rd *c, const char *s)
{
    size_t n = strlen(s);
    if (dk_rd_left(c) < n || memcmp(c->p + c->pos, s, n) != 0)
        return false;
    c->pos += n;
    return true;
}

static inline size_t skip_sp(dk_rd *c)
{
    size_t n = 0;
    while (peekc(c) == ' ' || peekc(c) == '\t') {
        c->pos++;
        n++;
    }
    return n;
}

/* n exactly-digits decimal */
static inline bool digits(dk_rd *c, unsigned n, unsigned *v)
{
    unsigned x = 0;
    for (unsigned i = 0; i < n; i++) {
        int ch = peekc_at(c, i);
        if (!is_digit(ch))
            return false;
        x = x * 10 + (unsigned)(ch - '0');
    }
    c->pos += n;
    *v = x;
    return true;
}

static inline bool dec_u64(dk_rd *c, uint64_t *v, uint64_t max)
{
    if (!is_digit(peekc(c)))
        return false;
    uint64_t x = 0;
    while (is_digit(peekc(c))) {
        x = x * 10 + (uint64_t)(peekc(c) - '0');
        if (x > max)
            return false;
        c->pos++;
    }
    *v = x;
    return true;
}

static inline bool dec_u32(dk_rd *c, uint32_t *v)
{
    uint64_t x;
    if (!dec_u64(c, &x, UINT32_MAX))
        return false;
    *v = (uint32_t)x;
    return true;
}

static inline bool hex_u32(dk_rd *c, uint32_t *v)
{
    if (dk_hex_digit(peekc(c)) < 0)
        return false;
    uint64_t x = 0;
    unsigned n = 0;
    while (dk_hex_digit(peekc(c)) >= 0) {
        x = x * 16 + (uint64_t)dk_hex_digit(peekc(c));
        if (++n > 8)
            return false;
        c->pos++;
    }
    *v = (uint32_t)x;
    return true;
}

/* "0x1F" or "31" */
static inline bool num_u32(dk_rd *c, uint32_t *v)
{
    if (peekc(c) == '0' && lower(peekc_at(c, 1)) == 'x') {
        c->pos += 2;
        return hex_u32(c, v);
    }
    return dec_u32(c, v);
}

static inline const char *find(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (!k || k > n)
        return NULL;
    for (const char *p = s; (p = memchr(p, needle[0], n - (size_t)(p - s) - k + 1)) != NULL; p++)
        if (memcmp(p, needle, k) == 0)
            return p;
    return NULL;
}

static inline bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Hex pairs " xx xx ..." up to the ASCII column. */
static inline size_t hex_row(dk_rd *c, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && peekc(c) == ' ' && dk_hex_digit(peekc_at(c, 1)) >= 0 &&
           dk_hex_digit(peekc_at(c, 2)) >= 0 && (peekc_at(c, 3) == ' ' || peekc_at(c, 3) == -1)) {
        out[n++] = (uint8_t)(dk_hex_digit(peekc_at(c, 1)) * 16 + dk_hex_digit(peekc_at(c, 2)));
        c->pos += 3;
    }
    return n;
}

/* ---- the reader ------------------------------------------------------------ */

#define SALEAE_CHANS 8
#define SALEAE_NAME 32

struct dk_logrd {
    dk_log_format fmt;
    bool failed;
    dk_logrd_stats st;
    /* line assembly */
    char *line;
    size_t cap, llen;
    uint64_t ltotal, loff, pos;
    /* sniffing (AUTO) */
    uint8_t *sniff;
    size_t sniff_len;
    unsigned sniff_lines;
    /* the record being built */
    uint8_t msg[DK_LOG_MSG_MAX];
    dk_tool_ev tool;
    /* a record held for its continuation line */
    bool hold;
    const char *hold_cut; /* the CUT when the log ends before it, or NULL */
    dk_logrec hrec;
    dk_tool_ev htool;
    bool prev_understood;
    /* AUTO found nothing in the head: each later line is looked at until one
     * names a format (the lines before it are skipped) */
    bool late;
    /* a line as long as a console is wide, held: the next may continue it */
    char *wrap;
    size_t wrap_len;
    uint64_t wrap_line, wrap_off, wrap_total;
    unsigned wrap_parts;
    /* versions said so far (hosttext.c), to say each once */
    unsigned ver_seen;
    unsigned ver_last[16];
    /* a Python traceback being read (pyexc.c) */
    struct {
        bool in_tb;
        uint64_t tb_line;
        dk_host_stage stage;
        char func[32]; /* the host's innermost frame (library frames skipped) */
        char last[32]; /* the innermost frame of all */
        char op[24];
    } py;
    /* state of the formats */
    struct {
        bool causes; /* inside adafruit-nrfutil's "Possible causes:" list */
    } lg;
    struct {
        int dump;    /* a debug hexdump follows: 0 none, 1 Tx, 2 Rx */
        bool text_said;
        uint8_t rx[64];
        size_t rx_len;
    } mcu;
    struct {
        bool blk;
        dk_dir dir;
        int64_t t;
        uint64_t len, got, line;
    } socat;
    struct {
        dk_dir dir;
        bool star;
        uint64_t next;
        bool started;
        uint8_t last[64];
        size_t last_len;
    } hd;
    struct {
        int framed; /* -1 undecided, 0 messages, 1 SLIP bytes */
    } hex;
    struct {
        int name, time, data;
        char names[SALEAE_CHANS][SALEAE_NAME];
        unsigned count;
    } sa;
};

/* One line being read, and where its records go. */
typedef struct {
    dk_logrd *r;
    dk_logrec_cb cb;
    void *ctx;
    dk_logrec base; /* line, off, text filled in */
} lctx;

/* Deliver a record (and count it in the statistics). */
void lr_deliver(dk_logrd *r, dk_logrec_cb cb, void *ctx, const dk_logrec *rec);
/* A MSG or RAW record of this line. */
void lr_emit_bytes(lctx *L, dk_lr_kind kind, dk_dir dir, int64_t t, bool abs, const uint8_t *p,
                   size_t n, unsigned chan);
/* A TOOL record of this line: r->tool. */
void lr_emit_tool(lctx *L, int64_t t, bool abs);
/* An UNKNOWN record of this line. */
void lr_emit_unknown(lctx *L, const char *why);
/* A CUT record at the end of the log. */
void lr_cut(dk_logrd *r, dk_logrec_cb cb, void *ctx, uint64_t line, const char *why);
/* r->tool zeroed, of kind k. */
void lr_tool_reset(dk_logrd *r, dk_tool_kind k);
/* r->tool.text = s[0, n) without trailing blanks, cut to fit. */
void lr_tool_text(dk_logrd *r, const char *s, size_t n);
/* Hold r->tool as a TOOL record of this line until the next line says
 * whether it continues it (the format's cont hook).  cut: the CUT record's
 * why when the log ends first (NULL: none). */
void lr_hold(lctx *L, const char *cut, int64_t t, bool abs);
/* The rest of a line given to the format's line handler again (a line that
 * holds two: "[---]  0%Timed out ..."). */
const char *lr_line_again(lctx *L, const char *s, size_t n);
/* "HH:MM:SS" and an optional [.,]fraction: microseconds of the day. */
bool lr_clock_us(dk_rd *c, int64_t *us);

/* ---- formats ------------------------------------------------------------------ */

/* A line offered to the sniff functions. */
typedef struct {
    const char *s;
    size_t n;
    size_t stamp;   /* length of a leading timestamp followed by a space
                       (dk_log_parse_time), 0 none */
} lr_line;

typedef struct {
    const char *name; /* dk_log_format_name */
    /* Detection: the points this line earns the format, 0 when it is not one
     * of its lines. */
    unsigned (*sniff)(const lr_line *ln);
    /* A line this format recognises is no other format's: their points for
     * it are dropped. */
    bool exclusive;
    /* This format's lines are also lines of base: when it scores at all,
     * base's points add to its own (DK_LOG_AUTO: none). */
    dk_log_format base;
    /* Read one line into records (through L).  Returns NULL when the line
     * was understood (records delivered, or known noise), else why not (an
     * UNKNOWN record follows). */
    const char *(*line)(lctx *L, const char *s, size_t n);
    /* A record is held (lr_hold) and this is the next line: true when the
     * line continues it (r->htool completed; the line is consumed).  NULL:
     * the format holds none. */
    bool (*cont)(dk_logrd *r, const char *s, size_t n);
    /* End of the log, after held records: CUT records for what the log stops
     * inside.  NULL: none. */
    void (*finish)(dk_logrd *r, dk_logrec_cb cb, void *ctx);
    /* The format's state at dk_logrd_new (NULL: zeroed). */
    void (*init)(dk_logrd *r);
} lr_format;

extern const lr_format lr_fmt_nrfutil, lr_fmt_ble, lr_fmt_socat, lr_fmt_hexdump, lr_fmt_hex,
    lr_fmt_saleae, lr_fmt_programmer, lr_fmt_adafruit, lr_fmt_mcumgr;

/* ---- hosttext.c: what every host log shares ---- */

/* Leading blanks, "> " / "| " quoting and a CI runner's timestamp in front
 * of the tool's own one taken off; *n updated. */
const char *lr_unwrap(const char *s, size_t *n);

/* Where a line a page ran together is cut: the piece before ends at
 * end_prev, the next begins at begin. */
typedef struct {
    size_t end_prev, begin;
} lr_split;
/* True when a new line begins at s[i] (i >= 1): a timestamp, "Traceback",
 * a frame, a shell prompt, an exception name, an adafruit-nrfutil message
 * after a blank; a Python "\n" escape or the b' of a bytes repr. */
bool lr_host_cut(const char *s, size_t n, size_t i, lr_split *c);
/* Any cut in s. */
bool lr_has_cut(const char *s, size_t n, bool (*cut)(const char *, size_t, size_t, lr_split *));
/* one() for each piece of s (prefixes taken off each).  NULL when a piece
 * was understood, else the first piece's why. */
const char *lr_pieces(lctx *L, const char *s, size_t n,
                      bool (*cut)(const char *, size_t, size_t, lr_split *),
                      const char *(*one)(lctx *, const char *, size_t));
/* A line through one(): whole, or in pieces when a page ran lines together
 * (a Python bytes repr with "\n" escapes, or cut() finds line starts). */
const char *lr_split_line(lctx *L, const char *s, size_t n,
                          bool (*cut)(const char *, size_t, size_t, lr_split *),
                          const char *(*one)(lctx *, const char *, size_t));
/* A host's command line: a COMMAND record.  False when the line is none. */
bool lr_command(lctx *L, const char *s, size_t n);
/* A version the line names, the first time it is named: a VERSION record. */
bool lr_version(lctx *L, const char *s, size_t n, int64_t t, bool abs);
/* What every host format tries last: versions, traceback lines and
 * exceptions, command lines, the click progress bar, "Device programmed.".
 * NULL when understood, else why not. */
const char *lr_host_common(lctx *L, const char *s, size_t n);
/* "  [#####-----]   25%  00:00:12" (updates joined by CR): *pct, and *used
 * the bytes up to the last '%'.  False when the line holds none. */
bool lr_progress(const char *s, size_t n, unsigned *pct, size_t *used);

/* ---- progcodes.c: the DFU target's errors in Programmer's words ---- */

/* The extended error a message names by its sentence or nrf-device-lib
 * name, -1 none. */
int lr_dfu_ext_words(const char *s, size_t n);
/* The result code it names, -1 none. */
int lr_dfu_result_words(const char *s, size_t n);

/* ---- pyexc.c: Python tracebacks and exceptions (nrfutil-like hosts) ---- */

/* An exception line "a.b.SomeException: message" (or without message):
 * an EXCEPTION tool record (held when a second line follows), its stage and
 * innermost function from the traceback before it.  Returns false when the
 * line is not one. */
bool lr_py_exception(lctx *L, const char *s, size_t n);
/* A line of or around a traceback ("Traceback ...", a frame, "During
 * handling ...", the exception, a source line inside one): true when it is
 * one (records delivered). */
bool lr_py_line(lctx *L, const char *s, size_t n);
/* A frame '  File "x.py", line 12, in func': the stage and function noted. */
bool lr_py_frame(dk_logrd *r, const char *s, size_t n);
/* What an exception says, from its class and message (ext, result, values
 * into ev->u.exc); *two_lines (may be NULL) when "Expected:/Received:"
 * should follow. */
dk_nx_kind lr_py_classify(const char *cls, size_t clen, const char *m, size_t mlen,
                          dk_tool_ev *ev, bool *two_lines);
/* End of the log inside a traceback: a TRACEBACK record with the stage it
 * had reached, and a CUT. */
void lr_py_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx);
/* The second line of some exceptions: "Expected: 0x03 Received: 0xAB" /
 * "Expected: 12 Received: 34.".  Returns false when the line is not one. */
bool lr_py_expected(const char *s, size_t n, uint32_t *e, uint32_t *g);

#endif
