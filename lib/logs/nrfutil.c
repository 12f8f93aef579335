/* nrfutil.c - the nrfutil reader: -v and plain runs, and nrfutil dfu ble.
 * "2024-05-14 10:00:00,123 SLIP: --> [9, 1]" and its DEBUG/INFO lines, the
 * progress bar, tracebacks, "BLE:" lines and "data([..])" notifications
 * (logread.h, protocol.md §5). */
#include "logread_int.h"

#include "dfukit/tables.h"

/* "[9, 1, 2]" (decimal, Python list) into out[cap], *n bytes.  Returns NULL,
 * or why the list is not one. */
static const char *parse_list(dk_rd *c, uint8_t *out, size_t cap, size_t *n)
{
    if (!lit(c, "["))
        return "expected '['";
    *n = 0;
    skip_sp(c);
    if (lit(c, "]"))
        return NULL;
    for (;;) {
        skip_sp(c);
        uint32_t v;
        if (!num_u32(c, &v))
            return at_end(c) ? "byte list cut off" : "byte list: not a number";
        if (v > 255)
            return "byte list: value above 255";
        if (*n >= cap)
            return "byte list longer than " "4096" " bytes";
        out[(*n)++] = (uint8_t)v;
        skip_sp(c);
        if (lit(c, "]"))
            return NULL;
        if (!lit(c, ","))
            return at_end(c) ? "byte list cut off" : "byte list: expected ',' or ']'";
    }
}

static int fw_type_of(const char *s, size_t n)
{
    /* Order matters: "SoftDevice+Bootloader" before its parts. */
    if (find(s, n, "SoftDevice+Bootloader"))
        return DK_FW_SOFTDEVICE_BOOTLOADER;
    if (find(s, n, "SoftDevice"))
        return DK_FW_SOFTDEVICE;
    if (find(s, n, "Bootloader"))
        return DK_FW_BOOTLOADER;
    if (find(s, n, "Application"))
        return DK_FW_APPLICATION;
    return -1;
}

/* Named fields "key:N" in order (max_size, offset, crc / len, offset, crc). */
static bool kv(dk_rd *c, const char *key, uint32_t *v)
{
    skip_sp(c);
    return lit(c, key) && num_u32(c, v);
}

/* The message part of a timestamped nrfutil line. Returns NULL when a record
 * was emitted (or the line is plain tool text), else why it failed. */
static const char *nrf_message(lctx *L, const char *s, size_t n, int64_t t)
{
    dk_logrd *r = L->r;
    dk_rd c = tx(s, n);
    size_t len;
    if (lit(&c, "SLIP: --> ") || lit(&c, "SLIP: <-- ")) {
        dk_dir dir = s[6] == '-' ? DK_DIR_HOST : DK_DIR_TARGET;
        const char *why = parse_list(&c, r->msg, sizeof r->msg, &len);
        if (why)
            return why;
        lr_emit_bytes(L, DK_LR_MSG, dir, t, true, r->msg, len, 0);
        return NULL;
    }
    const char *d = find(s, n, "data([");
    if (d) {
        c.pos = (size_t)(d - s) + 5;
        const char *why = parse_list(&c, r->msg, sizeof r->msg, &len);
        if (why)
            return why;
        dk_dir dir = len && r->msg[0] == DK_OP_RESPONSE ? DK_DIR_TARGET : DK_DIR_HOST;
        lr_emit_bytes(L, DK_LR_MSG, dir, t, true, r->msg, len, 0);
        return NULL;
    }
    bool transport = lit(&c, "Serial: ") || lit(&c, "BLE: ");
    uint32_t a, b, x;
    lr_tool_reset(r, DK_TOOL_TEXT);
    lr_tool_text(r, tx_here(&c), dk_rd_left(&c));
    if (transport) {
        dk_rd k = c;
        if (lit(&k, "Set Packet Receipt Notification ") && dec_u32(&k, &a)) {
            r->tool.kind = DK_TOOL_SET_PRN;
            r->tool.u.prn.prn = a;
        } else if ((k = c, lit(&k, "Selecting Object: type:")) && dec_u32(&k, &a)) {
            r->tool.kind = DK_TOOL_SELECTING;
            r->tool.u.select.type = a;
        } else if ((k = c, lit(&k, "Object selected:")) && kv(&k, "max_size:", &a) &&
                   kv(&k, "offset:", &b) && kv(&k, "crc:", &x)) {
            r->tool.kind = DK_TOOL_SELECTED;
            r->tool.u.selected.max_size = a;
            r->tool.u.selected.offset = b;
            r->tool.u.selected.crc = x;
        } else if ((k = c, lit(&k, "Streaming Data:")) && kv(&k, "len:", &a) &&
                   kv(&k, "offset:", &b) && kv(&k, "crc:", &x)) {
            r->tool.kind = DK_TOOL_STREAMING;
            r->tool.u.stream.len = a;
            r->tool.u.stream.offset = b;
            r->tool.u.stream.crc = x;
        } else if ((k = c, lit(&k, "No ping response"))) {
            r->tool.kind = DK_TOOL_NO_PING;
        }
        lr_emit_tool(L, t, true);
        return NULL;
    }
    if (lit(&c, "Using board at serial port: ")) {
        r->tool.kind = DK_TOOL_PORT;
        lr_tool_text(r, tx_here(&c), dk_rd_left(&c));
    } else if (lit(&c, "Sending init packet")) {
        r->tool.kind = DK_TOOL_SEND_INIT;
    } else if (lit(&c, "Sending firmware file")) {
        r->tool.kind = DK_TOOL_SEND_FW;
    } else if (lit(&c, "Sending ") && find(s, n, " image")) {
        r->tool.kind = DK_TOOL_IMAGE;
        r->tool.u.image.fw_type = fw_type_of(s, n);
    } else if (lit(&c, "Image sent in ") && dec_u32(&c, &a)) {
        uint32_t ms = a * 1000;
        if (lit(&c, ".")) {
            unsigned scale = 100;
            while (is_digit(peekc(&c))) {
                ms += (uint32_t)(peekc(&c) - '0') * scale;
                scale /= 10;
                c.pos++;
            }
        }
        r->tool.kind = DK_TOOL_IMAGE_SENT;
        r->tool.u.sent.ms = ms;
    }
    lr_emit_tool(L, t, true);
    return NULL;
}


/* "  [#####-----]   25%  00:00:12", possibly several updates split by CR. */
static bool progress_line(const char *s, size_t n, unsigned *pct)
{
    bool got = false;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\r')
            j++;
        dk_rd c = tx(s + i, j - i);
        skip_sp(&c);
        if (lit(&c, "[")) {
            while (peekc(&c) == '#' || peekc(&c) == '-')
                c.pos++;
            uint32_t v;
            if (lit(&c, "]") && skip_sp(&c) && dec_u32(&c, &v) && lit(&c, "%") && v <= 100) {
                *pct = v;
                got = true;
            }
        }
        i = j + 1;
    }
    return got;
}


static const char *parse_nrfutil(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    if (k && k < n && s[k] == ' ') {
        r->nrf.in_traceback = false;
        return nrf_message(L, s + k + 1, n - k - 1, t);
    }
    if (blank(s, n))
        return NULL;
    dk_rd c = tx(s, n);
    if (lit(&c, "Traceback (most recent call last):")) {
        r->nrf.in_traceback = true;
        r->nrf.traceback_line = L->base.line;
        lr_tool_reset(r, DK_TOOL_TRACEBACK);
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    if (r->nrf.in_traceback && (s[0] == ' ' || s[0] == '\t'))
        return NULL; /* frames, source lines, carets */
    uint32_t e, g;
    if (lr_py_expected(s, n, &e, &g)) /* second line of a DEBUG message */
        return NULL;
    if (lit(&c, "During handling of the above exception") ||
        lit(&c, "The above exception was the direct cause"))
        return NULL;
    unsigned pct;
    if (progress_line(s, n, &pct)) {
        lr_tool_reset(r, DK_TOOL_PROGRESS);
        r->tool.u.progress.percent = pct;
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    c = tx(s, n);
    if (lit(&c, "Device programmed")) {
        lr_tool_reset(r, DK_TOOL_DONE);
        lr_tool_text(r, s, n);
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    if (lr_py_exception(L, s, n)) {
        r->nrf.in_traceback = false;
        return NULL;
    }
    if (r->nrf.in_traceback)
        return "traceback: expected a frame or the exception";
    return "not a line of this log format";
}


/* Of the detection points of nrfutil -v lines, BLE ones and plain lines. */
static unsigned sniff_nrfutil(const lr_line *ln)
{
    const char *s = ln->s;
    size_t n = ln->n, k = ln->stamp;
    unsigned sc = 0;
    if (k >= 23 && s[19] == ',') {
        dk_rd m = tx(s + k + 1, n - k - 1);
        sc += 1;
        if (lit(&m, "SLIP: ") || lit(&m, "Serial: "))
            sc += 2;
    }
    dk_rd c = tx(s, n);
    if (lit(&c, "Traceback (most recent call last)"))
        sc += 1;
    unsigned pct;
    if (progress_line(s, n, &pct))
        sc += 1;
    return sc;
}

static unsigned sniff_ble(const lr_line *ln)
{
    const char *s = ln->s;
    size_t n = ln->n, k = ln->stamp;
    if (!(k >= 23 && s[19] == ','))
        return 0;
    dk_rd m = tx(s + k + 1, n - k - 1);
    return lit(&m, "BLE: ") || find(s, n, "data([") ? 3 : 0;
}

/* An exception waits for its "Expected: .. Received: .." line. */
static bool nrfutil_cont(dk_logrd *r, const char *s, size_t n)
{
    uint32_t e, g;
    if (!lr_py_expected(s, n, &e, &g))
        return false;
    r->htool.u.exc.has_values = true;
    r->htool.u.exc.expected = e;
    r->htool.u.exc.received = g;
    return true;
}

static void nrfutil_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    if (r->nrf.in_traceback)
        lr_cut(r, cb, ctx, r->nrf.traceback_line, "the traceback ends without its exception line");
}

const lr_format lr_fmt_nrfutil = {
    .name = "nrfutil",
    .sniff = sniff_nrfutil,
    .line = parse_nrfutil,
    .cont = nrfutil_cont,
    .finish = nrfutil_finish,
};

const lr_format lr_fmt_ble = {
    .name = "ble",
    .sniff = sniff_ble,
    .base = DK_LOG_NRFUTIL,
    .line = parse_nrfutil,
    .cont = nrfutil_cont,
    .finish = nrfutil_finish,
};
