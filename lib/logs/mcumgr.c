/* mcumgr.c - the mcumgr (SMP over serial or BLE, MCUboot uploads) reader.
 *   "mcumgr --conntype serial --connstring COM2 image upload app.bin"
 *   " 8.24 KiB / 276.19 KiB [===>-----]   2.98% 314 B/s 14m24s"
 *   "Error: NMP timeout", "panic: send on closed channel" + its goroutines
 *   with -l debug: "DEBU[2019-12-10 17:44:44.861] Tx serial" / "Rx serial:" /
 *   "Encoded:" then hexdump -C rows of what crossed the line
 * What came back is looked at: SMP over serial frames start 06 09 (or
 * 04 14); text and ANSI escapes (a shell prompt "uart:~$") mean something
 * else answers on that line. */
#include "logread_int.h"

#include <stdlib.h>

/* "00000000  1b 5b 6d 1b 5b 31 3b 33  32 6d 75 61 72 74 3a 7e  |.[m.[1;32muart:~|" */
static size_t dump_row(const char *s, size_t n, uint8_t *out, size_t cap)
{
    dk_rd c = tx(s, n);
    uint32_t off;
    size_t b = c.pos;
    if (!hex_u32(&c, &off) || c.pos - b != 8 || !lit(&c, " "))
        return 0;
    size_t got = hex_row(&c, out, cap);
    if (got == 8 && peekc(&c) == ' ')
        c.pos++;
    got += hex_row(&c, out + got, cap - got);
    return got;
}

/* "8.24 KiB" -> bytes */
static bool amount(dk_rd *c, uint64_t *v)
{
    skip_sp(c);
    const char *p = tx_here(c);
    char *end;
    double x = strtod(p, &end);
    size_t used = (size_t)(end - p);
    if (!used || used > dk_rd_left(c))
        return false;
    c->pos += used;
    skip_sp(c);
    double mul = lit(c, "KiB") ? 1024.0 : lit(c, "MiB") ? 1048576.0 : lit(c, "B") ? 1.0 : -1.0;
    if (mul < 0)
        return false;
    *v = (uint64_t)(x * mul + 0.5);
    skip_sp(c);
    return true;
}

static void mcu(dk_logrd *r, dk_mcu_what w, const char *s, size_t n)
{
    lr_tool_reset(r, DK_TOOL_MCUMGR);
    r->tool.u.mcu.what = w;
    lr_tool_text(r, s, n);
}

/* What came back looks like text, not SMP framing. */
static bool rx_is_text(const uint8_t *b, size_t n)
{
    if (n < 2 || (b[0] == 0x06 && b[1] == 0x09) || (b[0] == 0x04 && b[1] == 0x14))
        return false;
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        text += (b[i] >= 0x20 && b[i] < 0x7F) || b[i] == 0x1B || b[i] == '\r' || b[i] == '\n';
    return text * 4 >= n * 3;
}

static const char *mcu_one(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    uint8_t row[32];
    size_t got = dump_row(s, n, row, sizeof row);
    if (got) {
        if (r->mcu.dump == 2 && !r->mcu.text_said) {
            for (size_t i = 0; i < got && r->mcu.rx_len < sizeof r->mcu.rx; i++)
                r->mcu.rx[r->mcu.rx_len++] = row[i];
            if (r->mcu.rx_len >= 8 && rx_is_text(r->mcu.rx, r->mcu.rx_len)) {
                r->mcu.text_said = true;
                mcu(r, DK_MCU_RX_TEXT, s, n);
                lr_emit_tool(L, -1, false);
            }
        }
        return NULL;
    }
    const char *d = find(s, n, "DEBU[");
    if (d) {
        if (d > s)
            mcu_one(L, s, (size_t)(d - s)); /* a progress bar the debug line ran into */
        size_t k = n - (size_t)(d - s);
        bool rx = find(d, k, "Rx serial") != NULL;
        bool txl = find(d, k, "Tx serial") != NULL || find(d, k, "Encoded:") != NULL;
        r->mcu.dump = rx ? 2 : txl ? 1 : 0;
        if (rx || txl) {
            r->mcu.rx_len = 0;
            mcu(r, rx ? DK_MCU_RX : DK_MCU_TX, d, k);
            lr_emit_tool(L, -1, false);
        }
        return NULL;
    }
    dk_rd c = tx(s, n);
    uint64_t done, total;
    if (amount(&c, &done) && lit(&c, "/") && amount(&c, &total) && (skip_sp(&c), lit(&c, "["))) {
        mcu(r, DK_MCU_PROGRESS, s, n);
        r->tool.u.mcu.done = done;
        r->tool.u.mcu.total = total;
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    c = tx(s, n);
    if (lit(&c, "Error: ")) {
        mcu(r, find(s, n, "NMP timeout") ? DK_MCU_NMP_TIMEOUT : DK_MCU_ERROR, s + 7, n - 7);
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    if ((c = tx(s, n), lit(&c, "panic: "))) {
        mcu(r, DK_MCU_PANIC, s + 7, n - 7);
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    /* a Go panic's stack: "goroutine 493 [running]:", "pkg.(*T).F()", "\t/file.go:50 +0x64" */
    if (find(s, n, "goroutine ") || find(s, n, ".go:") || find(s, n, "created by ") ||
        (find(s, n, "(") && find(s, n, ")") && find(s, n, "/") && !find(s, n, " ")))
        return NULL;
    return lr_host_common(L, s, n);
}

static const char *parse_mcumgr(lctx *L, const char *s, size_t n)
{
    if (blank(s, n))
        return NULL;
    size_t m = n;
    const char *p = lr_unwrap(s, &m);
    return m ? mcu_one(L, p, m) : NULL;
}

static unsigned sniff_mcumgr(const lr_line *ln)
{
    size_t n = ln->n;
    const char *s = lr_unwrap(ln->s, &n);
    if (find(s, n, "mcumgr") || find(s, n, "NMP timeout") || find(s, n, "DEBU["))
        return 3;
    if (find(s, n, "panic: ") || find(s, n, "goroutine "))
        return 1;
    return 0;
}

const lr_format lr_fmt_mcumgr = {
    .name = "mcumgr",
    .sniff = sniff_mcumgr,
    .base = DK_LOG_HEXDUMP, /* its debug dumps are hexdump -C rows */
    .line = parse_mcumgr,
};
