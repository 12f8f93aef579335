/* hex.c - the plain-hex reader: one direction marker and hex bytes per line.
 * "> 09 01 c0", "TX: 09 01 C0", "<- 0x60 0x09", optionally after a timestamp;
 * unframed messages or SLIP bytes, decided on the first line (logread.h). */
#include "logread_int.h"

#include "dfukit/slip.h"

/* Optional leading time: absolute stamp, "[HH:MM:SS.fff]", or seconds. */
static void hex_time(dk_rd *c, int64_t *t, bool *abs)
{
    *t = -1;
    *abs = false;
    size_t k = dk_log_parse_time(tx_here(c), dk_rd_left(c), t);
    if (k) {
        c->pos += k;
        *abs = true;
        skip_sp(c);
        return;
    }
    dk_rd s = *c;
    bool br = lit(&s, "[");
    int64_t us;
    if (lr_clock_us(&s, &us) && (!br || lit(&s, "]")) && (peekc(&s) == ' ' || peekc(&s) == '\t')) {
        *c = s;
        *t = us;
        skip_sp(c);
        return;
    }
    s = *c;
    br = lit(&s, "[");
    uint64_t sec;
    if (dec_u64(&s, &sec, 1ull << 40) && lit(&s, ".") && is_digit(peekc(&s))) {
        int64_t frac = 0, scale = 100000;
        while (is_digit(peekc(&s))) {
            frac += (peekc(&s) - '0') * scale;
            scale /= 10;
            s.pos++;
        }
        if ((!br || lit(&s, "]")) && (peekc(&s) == ' ' || peekc(&s) == '\t')) {
            *c = s;
            *t = (int64_t)sec * 1000000 + frac;
            skip_sp(c);
        }
    }
}

static bool hex_marker(dk_rd *c, dk_dir *dir)
{
    static const struct { const char *w; dk_dir d; } t[] = {
        { "->", DK_DIR_HOST },   { "<-", DK_DIR_TARGET }, { ">>", DK_DIR_HOST },
        { "<<", DK_DIR_TARGET }, { ">", DK_DIR_HOST },    { "<", DK_DIR_TARGET },
        { "TX", DK_DIR_HOST },   { "RX", DK_DIR_TARGET }, { "Tx", DK_DIR_HOST },
        { "Rx", DK_DIR_TARGET }, { "tx", DK_DIR_HOST },   { "rx", DK_DIR_TARGET },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dk_rd k = *c;
        if (lit(&k, t[i].w)) {
            lit(&k, ":");
            if (peekc(&k) != ' ' && peekc(&k) != '\t')
                continue;
            skip_sp(&k);
            *c = k;
            *dir = t[i].d;
            return true;
        }
    }
    return false;
}

/* "09 01 C0", "0x09,0x01", "09-01-c0", "0901c0" into out[cap], *n bytes.
 * Returns NULL, or why the rest of the line is not hex bytes. */
static const char *hex_bytes(dk_rd *c, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    while (!at_end(c)) {
        skip_sp(c);
        if (at_end(c) || peekc(c) == '\r')
            break;
        if (peekc(c) == '0' && lower(peekc_at(c, 1)) == 'x')
            c->pos += 2;
        if (dk_hex_digit(peekc(c)) < 0 || dk_hex_digit(peekc_at(c, 1)) < 0)
            return "expected hex bytes";
        while (dk_hex_digit(peekc(c)) >= 0 && dk_hex_digit(peekc_at(c, 1)) >= 0) {
            if (*n >= cap)
                return "hex row longer than 4096 bytes";
            out[(*n)++] = (uint8_t)(dk_hex_digit(peekc(c)) * 16 + dk_hex_digit(peekc_at(c, 1)));
            c->pos += 2;
        }
        if (dk_hex_digit(peekc(c)) >= 0)
            return "odd number of hex digits";
        if (peekc(c) == ',' || peekc(c) == '-' || peekc(c) == ':')
            c->pos++;
    }
    return *n ? NULL : "no hex bytes after the marker";
}

static const char *parse_hex(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    if (blank(s, n) || s[0] == '#')
        return NULL;
    dk_rd c = tx(s, n);
    int64_t t;
    bool abs;
    hex_time(&c, &t, &abs);
    dk_dir dir;
    if (!hex_marker(&c, &dir))
        return "no direction marker (>, <, TX, RX)";
    size_t len;
    const char *why = hex_bytes(&c, r->msg, sizeof r->msg, &len);
    if (why)
        return why;
    if (r->hex.framed < 0) {
        dk_msg m;
        bool c0 = memchr(r->msg, DK_SLIP_END, len) != NULL;
        dk_msg_status st = dk_msg_parse(r->msg, len, &m);
        r->hex.framed = (!c0 && (st == DK_MSG_OK || st == DK_MSG_OVERLONG)) ? 0 : 1;
    }
    lr_emit_bytes(L, r->hex.framed ? DK_LR_RAW : DK_LR_MSG, dir, t, abs, r->msg, len, 0);
    return NULL;
}


/* A marker and hex bytes after it. */
static unsigned sniff_hex(const lr_line *ln)
{
    dk_rd c = tx(ln->s, ln->n);
    int64_t t;
    bool abs;
    dk_dir d;
    hex_time(&c, &t, &abs);
    if (!hex_marker(&c, &d))
        return 0;
    uint8_t tmp[DK_LOG_MSG_MAX];
    size_t hn;
    return hex_bytes(&c, tmp, sizeof tmp, &hn) ? 0 : 1;
}

static void hex_init(dk_logrd *r)
{
    r->hex.framed = -1;
}

const lr_format lr_fmt_hex = {
    .name = "hex",
    .sniff = sniff_hex,
    .line = parse_hex,
    .init = hex_init,
};
