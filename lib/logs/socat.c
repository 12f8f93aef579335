/* socat.c - the socat -x [-v] reader.
 * Block headers "> 2016/07/05 15:00:27.776812  length=28 from=0 to=27" ('>':
 * host -> target), hex rows " 09 01 c0 ...", "--" between blocks (logread.h). */
#include "logread_int.h"

static void socat_close(lctx *L)
{
    dk_logrd *r = L->r;
    if (r->socat.blk && r->socat.got != r->socat.len) {
        /* reported at the line that ends the block (the next header, "--"):
         * records come in line order, each with one line's number and offset */
        dk_logrec rec = L->base;
        rec.kind = DK_LR_UNKNOWN;
        rec.why = r->socat.got < r->socat.len
                      ? "the socat block before this line has fewer bytes than its length="
                      : "the socat block before this line has more bytes than its length=";
        rec.text = NULL;
        rec.text_len = 0;
        lr_deliver(r, L->cb, L->ctx, &rec);
    }
    r->socat.blk = false;
}


static bool socat_header(const char *s, size_t n, dk_dir *dir, int64_t *t, uint64_t *len)
{
    dk_rd c = tx(s, n);
    int m = peekc(&c);
    if ((m != '>' && m != '<') || peekc_at(&c, 1) != ' ')
        return false;
    c.pos += 2;
    size_t k = dk_log_parse_time(tx_here(&c), dk_rd_left(&c), t);
    if (!k)
        return false;
    c.pos += k;
    skip_sp(&c);
    if (!lit(&c, "length=") || !dec_u64(&c, len, 1u << 30))
        return false;
    *dir = m == '>' ? DK_DIR_HOST : DK_DIR_TARGET;
    return true;
}

static const char *parse_socat(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    dk_dir dir;
    int64_t t;
    uint64_t len;
    if (socat_header(s, n, &dir, &t, &len)) {
        socat_close(L);
        r->socat.blk = true;
        r->socat.dir = dir;
        r->socat.t = t;
        r->socat.len = len;
        r->socat.got = 0;
        r->socat.line = L->base.line;
        return NULL;
    }
    if (n == 2 && s[0] == '-' && s[1] == '-') {
        socat_close(L);
        return NULL;
    }
    if (blank(s, n))
        return NULL;
    if (find(s, n, " socat[")) /* socat -d diagnostics */
        return NULL;
    if (s[0] == ' ') {
        dk_rd c = tx(s, n);
        size_t got = hex_row(&c, r->msg, sizeof r->msg);
        if (got) {
            if (!r->socat.blk)
                return "hex row outside a socat block";
            r->socat.got += got;
            lr_emit_bytes(L, DK_LR_RAW, r->socat.dir, r->socat.t, true, r->msg, got, 0);
            return NULL;
        }
    }
    return "not a socat -x line";
}

static unsigned sniff_socat(const lr_line *ln)
{
    dk_dir d;
    int64_t t;
    uint64_t len;
    return socat_header(ln->s, ln->n, &d, &t, &len) ? 3 : 0;
}

static void socat_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    if (r->socat.blk && r->socat.got < r->socat.len) {
        r->socat.blk = false;
        lr_cut(r, cb, ctx, r->socat.line, "the last socat block ends before its length=");
    }
}

const lr_format lr_fmt_socat = {
    .name = "socat",
    .sniff = sniff_socat,
    .line = parse_socat,
    .finish = socat_finish,
};
