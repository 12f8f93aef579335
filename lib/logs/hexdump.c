/* hexdump.c - the hexdump -C / xxd reader.
 * Rows "00000000  09 01 c0 60 ...  |...`|" ("*" repeats the row before) or
 * "00000000: 0901 c060  ...", after an optional direction line ">", "<",
 * "TX", "RX" (logread.h). */
#include "logread_int.h"

#define HEXDUMP_REPEAT_MAX 65536 /* rows a "*" may stand for (1 MB) */

static bool dir_line(const char *s, size_t n, dk_dir *dir)
{
    dk_rd c = tx(s, n);
    skip_sp(&c);
    static const struct { const char *w; dk_dir d; } t[] = {
        { ">", DK_DIR_HOST },   { "<", DK_DIR_TARGET }, { "TX", DK_DIR_HOST },
        { "RX", DK_DIR_TARGET }, { "tx", DK_DIR_HOST },  { "rx", DK_DIR_TARGET },
        { "host", DK_DIR_HOST }, { "target", DK_DIR_TARGET },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dk_rd k = c;
        if (lit(&k, t[i].w)) {
            lit(&k, ":");
            skip_sp(&k);
            if (at_end(&k) || peekc(&k) == '\r') {
                *dir = t[i].d;
                return true;
            }
        }
    }
    return false;
}

static const char *parse_hexdump(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    dk_dir dir;
    if (dir_line(s, n, &dir)) {
        r->hd.dir = dir;
        r->hd.started = false;
        r->hd.star = false;
        return NULL;
    }
    if (blank(s, n))
        return NULL;
    if (n >= 1 && s[0] == '*' && blank(s + 1, n - 1)) {
        if (!r->hd.started)
            return "'*' before any row";
        r->hd.star = true;
        return NULL;
    }
    dk_rd c = tx(s, n);
    uint32_t off;
    size_t start = c.pos;
    if (!hex_u32(&c, &off) || c.pos - start < 7)
        return "not a hexdump row";
    bool xxd = lit(&c, ":");
    size_t got = 0;
    if (xxd) {
        /* groups of hex digits separated by one space, then two spaces */
        for (;;) {
            if (peekc(&c) != ' ' || dk_hex_digit(peekc_at(&c, 1)) < 0)
                break;
            c.pos++;
            while (dk_hex_digit(peekc(&c)) >= 0 && dk_hex_digit(peekc_at(&c, 1)) >= 0 && got < 64) {
                r->msg[got++] = (uint8_t)(dk_hex_digit(peekc(&c)) * 16 + dk_hex_digit(peekc_at(&c, 1)));
                c.pos += 2;
            }
            if (dk_hex_digit(peekc(&c)) >= 0)
                return "xxd row: odd number of hex digits";
        }
    } else {
        if (at_end(&c)) {
            /* the closing offset line */
            r->hd.next = off;
            return NULL;
        }
        for (;;) {
            size_t before = got;
            dk_rd k = c;
            lit(&k, " "); /* the extra space after 8 bytes */
            got += hex_row(&k, r->msg + got, 64 - got);
            if (got == before)
                break;
            c = k;
        }
        if (!got)
            return "hexdump row without bytes";
    }
    if (r->hd.started && off != r->hd.next) {
        if (r->hd.star && off > r->hd.next && r->hd.last_len) {
            uint64_t rows = (off - r->hd.next) / r->hd.last_len;
            if ((off - r->hd.next) % r->hd.last_len || rows > HEXDUMP_REPEAT_MAX) {
                lr_emit_unknown(L, "'*' stands for a run that does not fit the offsets");
            } else {
                for (uint64_t i = 0; i < rows; i++)
                    lr_emit_bytes(L, DK_LR_RAW, r->hd.dir, -1, false, r->hd.last, r->hd.last_len,
                                  0);
            }
        } else if (off != 0) {
            lr_emit_unknown(L, "hexdump offset jumps: rows are missing");
        }
    }
    r->hd.star = false;
    r->hd.started = true;
    r->hd.next = off + got;
    memcpy(r->hd.last, r->msg, got);
    r->hd.last_len = got;
    lr_emit_bytes(L, DK_LR_RAW, r->hd.dir, -1, false, r->msg, got, 0);
    return NULL;
}


/* A row: an offset of at least 7 hex digits, then hex bytes. */
static unsigned sniff_hexdump(const lr_line *ln)
{
    dk_rd c = tx(ln->s, ln->n);
    uint32_t off;
    if (!hex_u32(&c, &off) || c.pos < 7)
        return 0;
    if ((lit(&c, "  ") && dk_hex_digit(peekc(&c)) >= 0 && dk_hex_digit(peekc_at(&c, 1)) >= 0) ||
        (lit(&c, ": ") && dk_hex_digit(peekc(&c)) >= 0))
        return 1;
    return 0;
}

const lr_format lr_fmt_hexdump = {
    .name = "hexdump",
    .sniff = sniff_hexdump,
    .line = parse_hexdump,
};
