/* saleae.c - the Saleae Logic 2 async-serial CSV reader.
 * "name,type,start_time,duration,data", one byte per row; the analyzer's
 * name tells the line (logread.h). */
#include "logread_int.h"

/* Next CSV field into [*f, *fl); quotes removed (doubled quotes kept as is). */
static bool csv_field(dk_rd *c, const char **f, size_t *fl)
{
    if (at_end(c))
        return false;
    if (peekc(c) == '"') {
        c->pos++;
        *f = tx_here(c);
        size_t st = c->pos;
        while (!at_end(c)) {
            if (peekc(c) == '"' && peekc_at(c, 1) == '"') {
                c->pos += 2;
                continue;
            }
            if (peekc(c) == '"')
                break;
            c->pos++;
        }
        if (at_end(c))
            return false; /* unterminated quote */
        *fl = c->pos - st;
        c->pos++;
    } else {
        *f = tx_here(c);
        size_t st = c->pos;
        while (!at_end(c) && peekc(c) != ',' && peekc(c) != '\r')
            c->pos++;
        *fl = c->pos - st;
    }
    if (peekc(c) == ',')
        c->pos++;
    else
        c->pos = c->len;
    return true;
}

static bool fieq(const char *f, size_t fl, const char *s)
{
    return strlen(s) == fl && memcmp(f, s, fl) == 0;
}

static bool saleae_byte(const char *f, size_t fl, uint8_t *b)
{
    dk_rd c = tx(f, fl);
    uint32_t v;
    if (fl >= 3 && f[0] == '0' && lower(f[1]) == 'b') {
        v = 0;
        for (size_t i = 2; i < fl; i++) {
            if (f[i] != '0' && f[i] != '1')
                return false;
            v = v * 2 + (uint32_t)(f[i] - '0');
        }
        if (fl - 2 > 8)
            return false;
        *b = (uint8_t)v;
        return true;
    }
    if (fl >= 2 && is_digit(f[0]) && num_u32(&c, &v) && at_end(&c) && v <= 255) {
        *b = (uint8_t)v;
        return true;
    }
    if (fl == 1 && is_digit(f[0])) {
        *b = (uint8_t)(f[0] - '0');
        return true;
    }
    if (fl >= 3 && f[0] == '\'' && f[fl - 1] == '\'') {
        f++;
        fl -= 2;
    }
    if (fl == 1) {
        *b = (uint8_t)f[0];
        return true;
    }
    if (fl == 2 && f[0] == '\\') {
        switch (f[1]) {
        case 'n': *b = '\n'; return true;
        case 'r': *b = '\r'; return true;
        case 't': *b = '\t'; return true;
        case '0': *b = 0; return true;
        case '\\': *b = '\\'; return true;
        default: return false;
        }
    }
    if (fl == 4 && f[0] == '\\' && f[1] == 'x' && dk_hex_digit(f[2]) >= 0 && dk_hex_digit(f[3]) >= 0) {
        *b = (uint8_t)(dk_hex_digit(f[2]) * 16 + dk_hex_digit(f[3]));
        return true;
    }
    return false;
}

static bool ci_has(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++) {
        size_t k = 0;
        while (k < wl && lower(s[i + k]) == w[k])
            k++;
        if (k == wl)
            return true;
    }
    return false;
}

static const char *parse_saleae(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    if (blank(s, n))
        return NULL;
    const char *f[16];
    size_t fl[16];
    unsigned nf = 0;
    dk_rd c = tx(s, n);
    while (nf < 16 && csv_field(&c, &f[nf], &fl[nf]))
        nf++;
    if (!at_end(&c) && nf == 16)
        return "CSV row with too many columns";
    /* the header names the columns */
    for (unsigned i = 0; i < nf; i++) {
        if (fieq(f[i], fl[i], "start_time") || fieq(f[i], fl[i], "Time [s]")) {
            r->sa.name = r->sa.time = r->sa.data = -1;
            for (unsigned k = 0; k < nf; k++) {
                if (fieq(f[k], fl[k], "name"))
                    r->sa.name = (int)k;
                else if (fieq(f[k], fl[k], "start_time") || fieq(f[k], fl[k], "Time [s]"))
                    r->sa.time = (int)k;
                else if (fieq(f[k], fl[k], "data") || fieq(f[k], fl[k], "Value"))
                    r->sa.data = (int)k;
            }
            return r->sa.time >= 0 && r->sa.data >= 0 ? NULL : "CSV header without time/data";
        }
    }
    if (r->sa.time < 0 || r->sa.data < 0 || (unsigned)r->sa.time >= nf ||
        (unsigned)r->sa.data >= nf)
        return "not a CSV row of the export";
    /* time */
    dk_rd tc = tx(f[r->sa.time], fl[r->sa.time]);
    uint64_t sec = 0;
    int64_t frac = 0;
    bool neg = lit(&tc, "-");
    if (!dec_u64(&tc, &sec, 1ull << 40))
        return "CSV row: bad start_time";
    if (lit(&tc, ".")) {
        int64_t scale = 100000;
        while (is_digit(peekc(&tc))) {
            frac += (peekc(&tc) - '0') * scale;
            scale /= 10;
            tc.pos++;
        }
    }
    if (!at_end(&tc))
        return "CSV row: bad start_time";
    int64_t t = (int64_t)sec * 1000000 + frac;
    if (neg)
        t = -t;
    uint8_t b;
    if (!saleae_byte(f[r->sa.data], fl[r->sa.data], &b))
        return "CSV row: data is not one byte";
    unsigned chan = 0;
    dk_dir dir = DK_DIR_UNKNOWN;
    if (r->sa.name >= 0 && (unsigned)r->sa.name < nf) {
        const char *nm = f[r->sa.name];
        size_t nl = fl[r->sa.name] < SALEAE_NAME - 1 ? fl[r->sa.name] : SALEAE_NAME - 1;
        unsigned i;
        for (i = 0; i < r->sa.count; i++)
            if (strlen(r->sa.names[i]) == nl && memcmp(r->sa.names[i], nm, nl) == 0)
                break;
        if (i == r->sa.count && r->sa.count < SALEAE_CHANS) {
            memcpy(r->sa.names[i], nm, nl);
            r->sa.names[i][nl] = 0;
            r->sa.count++;
        }
        chan = i;
        if (ci_has(nm, nl, "tx") || ci_has(nm, nl, "host"))
            dir = DK_DIR_HOST;
        else if (ci_has(nm, nl, "rx") || ci_has(nm, nl, "target") || ci_has(nm, nl, "device"))
            dir = DK_DIR_TARGET;
    }
    r->msg[0] = b;
    lr_emit_bytes(L, DK_LR_RAW, dir, t, false, r->msg, 1, chan);
    return NULL;
}


/* The export's header row, or a row with a hex byte. */
static unsigned sniff_saleae(const lr_line *ln)
{
    const char *s = ln->s;
    size_t n = ln->n;
    if (find(s, n, "start_time") && find(s, n, "name,") && find(s, n, "data"))
        return 5;
    if (find(s, n, ",data,") && find(s, n, ",0x"))
        return 1;
    return 0;
}

/* Logic 2's columns until a header row names them. */
static void saleae_init(dk_logrd *r)
{
    r->sa.name = 0;
    r->sa.time = 2;
    r->sa.data = 4;
}

const lr_format lr_fmt_saleae = {
    .name = "saleae",
    .sniff = sniff_saleae,
    .line = parse_saleae,
    .init = saleae_init,
};
