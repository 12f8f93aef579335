/* gen.c - test images, update geometry, fault templates, placeholders (gen.h). */
#include "gen.h"

#include <stdio.h>
#include <string.h>

#include "dfukit/crc.h"

/* The reflected CRC-32 table (polynomial 0xEDB88320), for running it backwards. */
static void crc_table(uint32_t t[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
}

/* Four bytes XORed into the register (as one little-endian word) and four
 * table steps give the next register; each step is undone by finding the
 * table entry from the register's top byte, which is unique per entry. */
void dc_crc_forge(uint32_t crc, uint32_t target, uint8_t out[4])
{
    static uint32_t t[256];
    static uint8_t by_top[256];
    if (t[1] == 0) {
        crc_table(t);
        for (unsigned i = 0; i < 256; i++)
            by_top[t[i] >> 24] = (uint8_t)i;
    }
    uint32_t reg = ~target;
    for (int i = 0; i < 4; i++) {
        uint8_t j = by_top[reg >> 24];
        reg = ((reg ^ t[j]) << 8) | j;
    }
    uint32_t w = reg ^ ~crc;
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(w >> (8 * i));
}

bool dc_u32_needs_escape(uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        if (b == 0xC0 || b == 0xDB)
            return true;
    }
    return false;
}

bool dc_u32_has_both(uint32_t v)
{
    bool c0 = false, db = false;
    for (int i = 0; i < 4; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        c0 |= b == 0xC0;
        db |= b == 0xDB;
    }
    return c0 && db;
}

static uint32_t rng(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Each word (or the short tail) drawn again until the CRC after it is clean. */
static void image_clean(uint8_t *img, size_t len, uint32_t *x)
{
    uint32_t crc = 0;
    for (size_t off = 0; off < len; off += 4) {
        size_t n = len - off < 4 ? len - off : 4;
        uint32_t c;
        do {
            uint32_t w = rng(x);
            for (size_t i = 0; i < n; i++)
                img[off + i] = (uint8_t)(w >> (8 * i));
            c = dk_crc32(crc, img + off, n);
        } while (dc_u32_needs_escape(c));
        crc = c;
    }
}

/* A CRC with 0xC0 and 0xDB at positions that move from boundary to boundary. */
static uint32_t escaped_target(uint32_t k, uint32_t *x)
{
    unsigned p1 = k % 4, p2 = (p1 + 1 + (k / 4) % 3) % 4;
    uint32_t v = rng(x);
    v &= ~(0xFFu << (8 * p1)) & ~(0xFFu << (8 * p2));
    return v | (0xC0u << (8 * p1)) | (0xDBu << (8 * p2));
}

static void image_escaped(uint8_t *img, size_t len, uint32_t *x)
{
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)rng(x);
    uint32_t crc = 0;
    size_t done = 0;
    for (uint32_t k = 1; done < len; k++) {
        size_t end = (size_t)k * DC_OBJ < len ? (size_t)k * DC_OBJ : len;
        crc = dk_crc32(crc, img + done, end - 4 - done);
        dc_crc_forge(crc, escaped_target(k, x), img + end - 4);
        crc = dk_crc32(crc, img + end - 4, 4);
        done = end;
    }
}

void dc_image_make(uint8_t *img, size_t len, dc_img_kind kind, uint32_t seed)
{
    uint32_t x = seed * 2654435761u | 1;
    if (kind == DC_IMG_ESCAPED)
        image_escaped(img, len, &x);
    else
        image_clean(img, len, &x);
}

bool dc_geom_of(uint32_t len, dc_geom *g)
{
    memset(g, 0, sizeof *g);
    g->len = len;
    g->objects = (uint32_t)(((uint64_t)len + DC_OBJ - 1) / DC_OBJ);
    if (g->objects < 3)
        return false;
    g->k = (g->objects - 1) / 2;
    g->bnd = g->k * DC_OBJ;
    g->mid = g->bnd + DC_OBJ / 2;
    g->bnd2 = g->bnd + DC_OBJ;
    g->exe = g->k + 1;
    g->write = 3 + g->bnd / 64 + 10;
    return true;
}

/* Copy s[0, n) to out at *o; false when it does not fit. */
static bool put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    if (*o + n >= cap)
        return false;
    memcpy(out + *o, s, n);
    *o += n;
    out[*o] = 0;
    return true;
}

/* Replace "{name}" tokens: look(name, len) gives the text or NULL. */
static bool expand(const char *in, char *out, size_t cap,
                   const char *(*look)(const void *ctx, const char *name, size_t n, char *tmp),
                   const void *ctx)
{
    size_t o = 0;
    if (cap)
        out[0] = 0;
    for (const char *p = in; *p;) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!close) {
            if (!put(out, cap, &o, p, strlen(p)))
                goto toolong;
            break;
        }
        char tmp[32];
        const char *v = look(ctx, open + 1, (size_t)(close - open - 1), tmp);
        if (!v) {
            snprintf(out, cap, "unknown placeholder %.*s in '%s'", (int)(close - open + 1), open, in);
            return false;
        }
        if (!put(out, cap, &o, p, (size_t)(open - p)) || !put(out, cap, &o, v, strlen(v)))
            goto toolong;
        p = close + 1;
    }
    return true;
toolong:
    snprintf(out, cap, "'%.40s...' is too long once expanded", in);
    return false;
}

static bool is(const char *name, size_t n, const char *w)
{
    return strlen(w) == n && !strncmp(name, w, n);
}

static const char *geom_look(const void *ctx, const char *name, size_t n, char *tmp)
{
    const dc_geom *g = ctx;
    uint32_t v;
    if (is(name, n, "mid"))
        v = g->mid;
    else if (is(name, n, "bnd"))
        v = g->bnd;
    else if (is(name, n, "bnd2"))
        v = g->bnd2;
    else if (is(name, n, "exe"))
        v = g->exe;
    else if (is(name, n, "write"))
        v = g->write;
    else
        return NULL;
    snprintf(tmp, 32, "%u", v);
    return tmp;
}

bool dc_fault_expand(const char *tmpl, const dc_geom *g, char *out, size_t cap)
{
    return expand(tmpl, out, cap, geom_look, g);
}

static const char *subst_look(const void *ctx, const char *name, size_t n, char *tmp)
{
    const dc_subst *s = ctx;
    (void)tmp;
    const char *v = is(name, n, "port") ? s->port
                    : is(name, n, "pkg") ? s->pkg
                    : is(name, n, "dat") ? s->dat
                    : is(name, n, "bin") ? s->bin
                    : is(name, n, "prn") ? s->prn
                                         : NULL;
    return v;
}

bool dc_subst_arg(const char *arg, const dc_subst *s, char *out, size_t cap)
{
    return expand(arg, out, cap, subst_look, s);
}

bool dc_args_use(const char *const *argv, size_t argc, const char *token)
{
    for (size_t i = 0; i < argc; i++)
        if (strstr(argv[i], token))
            return true;
    return false;
}
