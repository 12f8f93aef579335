/* nrfutil.c - the nrfutil reader: -v and plain runs, and nrfutil dfu ble.
 * "2024-05-14 10:00:00,123 SLIP: --> [9, 1]" and its DEBUG/INFO lines (with
 * or without the timestamp), the progress bar, tracebacks, "BLE:" lines,
 * control point traffic "data([..])" and a poster's listing of the writes
 * ("18 0x01 [2, 0, 0]"), pc-ble-driver's event dumps (logread.h, protocol.md
 * §5). */
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

/* "Serial: ..." / "BLE: ..." DEBUG lines. */
static void transport_line(dk_logrd *r, dk_rd c)
{
    dk_rd k = c;
    uint32_t a, b, x;
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
}

/* BLE adapter and connection lines (nrfutil dfu ble, pc-ble-driver). */
static bool ble_line(dk_logrd *r, const char *s, size_t n)
{
    static const struct { const char *w; dk_ble_what k; } t[] = {
        { "ATT MTU", DK_BLE_ATT_MTU },
        { "Board already flashed with connectivity firmware", DK_BLE_FLASHED },
        { "Connectivity firmware flashed", DK_BLE_FLASHED },
        { "Flashing connectivity firmware", DK_BLE_FLASHING },
        { "Using connectivity board at serial port", DK_BLE_OPENING },
        { "Scanning for", DK_BLE_SCANNING },
        { "Connecting to", DK_BLE_CONNECTING },
        { "Connected to", DK_BLE_CONNECTED },
        { "serial ports found", DK_BLE_NO_PORTS },
        { "handle, uuid, data", DK_BLE_WRITE_LIST },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *p = find(s, n, t[i].w);
        if (!p)
            continue;
        if (t[i].k == DK_BLE_NO_PORTS && !find(s, n, " 0 serial ports"))
            return false;
        lr_tool_reset(r, DK_TOOL_BLE);
        lr_tool_text(r, s, n);
        r->tool.u.ble.what = t[i].k;
        if (t[i].k == DK_BLE_ATT_MTU) {
            const char *q = memchr(p, ':', n - (size_t)(p - s));
            dk_rd c = tx(q ? q + 1 : p, q ? n - (size_t)(q + 1 - s) : 0);
            skip_sp(&c);
            uint32_t v = 0;
            dec_u32(&c, &v);
            r->tool.u.ble.value = v;
        }
        return true;
    }
    return false;
}

/* The message part of an nrfutil line (t -1: no timestamp).  Returns NULL
 * when a record was emitted (or the line is plain tool text), else why it
 * failed. */
static const char *nrf_message(lctx *L, const char *s, size_t n, int64_t t)
{
    dk_logrd *r = L->r;
    dk_rd c = tx(s, n);
    size_t len;
    bool abs = t >= 0;
    if (lit(&c, "SLIP: --> ") || lit(&c, "SLIP: <-- ")) {
        dk_dir dir = s[6] == '-' ? DK_DIR_HOST : DK_DIR_TARGET;
        const char *why = parse_list(&c, r->msg, sizeof r->msg, &len);
        if (why)
            return why;
        lr_emit_bytes(L, DK_LR_MSG, dir, t, abs, r->msg, len, 0);
        return NULL;
    }
    const char *d = find(s, n, "data([");
    if (d && !find(s, n, "write_cmd")) { /* write_cmd: firmware on the data point */
        c.pos = (size_t)(d - s) + 5;
        const char *why = parse_list(&c, r->msg, sizeof r->msg, &len);
        if (why)
            return why;
        dk_dir dir = len && r->msg[0] == DK_OP_RESPONSE ? DK_DIR_TARGET : DK_DIR_HOST;
        lr_emit_bytes(L, DK_LR_MSG, dir, t, abs, r->msg, len, 0);
        return NULL;
    }
    bool transport = lit(&c, "Serial: ") || lit(&c, "BLE: ");
    uint32_t a;
    lr_tool_reset(r, DK_TOOL_TEXT);
    lr_tool_text(r, tx_here(&c), dk_rd_left(&c));
    if (ble_line(r, s, n)) {
        lr_emit_tool(L, t, abs);
        return NULL;
    }
    if (transport) {
        transport_line(r, c);
        lr_emit_tool(L, t, abs);
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
    } else if (t < 0) {
        return "not a line of this log format"; /* plain words only count with a timestamp */
    }
    lr_emit_tool(L, t, abs);
    return NULL;
}

/* "18 0x01 [2, 0, 0]": a poster's listing of the host's control point
 * writes (handle, UUID, data). */
static bool write_listing(lctx *L, const char *s, size_t n)
{
    dk_rd c = tx(s, n);
    uint32_t h, u;
    size_t len;
    if (!dec_u32(&c, &h) || !skip_sp(&c) || !num_u32(&c, &u) || !skip_sp(&c) || peekc(&c) != '[')
        return false;
    if (parse_list(&c, L->r->msg, sizeof L->r->msg, &len) || !len)
        return false;
    lr_emit_bytes(L, DK_LR_MSG, DK_DIR_HOST, -1, false, L->r->msg, len, 0);
    return true;
}

/* Lines of nrfutil's console that carry nothing to decode. */
static bool console_noise(const char *s, size_t n)
{
    static const char *const w[] = {
        "Please select connectivity serial port", "Enter your choice", "No target selected",
        "Received advertisement report", "Result:", "Zip created at",
        "Shared library:", "Swig module name:",
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (find(s, n, w[i]))
            return true;
    /* the port menu "  0 : COM4 - 682952530"; pc-ble-driver's "  count(1)" */
    dk_rd c = tx(s, n);
    uint32_t v;
    if (dec_u32(&c, &v) && skip_sp(&c) && lit(&c, ": "))
        return true;
    c = tx(s, n);
    while (!at_end(&c) && (peekc(&c) == '_' || (peekc(&c) >= 'a' && peekc(&c) <= 'z')))
        c.pos++;
    return c.pos > 2 && peekc(&c) == '(' && s[n - 1] == ')';
}

/* One line (or one piece of a line a page ran together), prefixes gone. */
static const char *nrf_one(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    if (k && k < n && s[k] == ' ') {
        r->py.in_tb = false;
        if (lr_command(L, s + k + 1, n - k - 1))
            return NULL;
        return nrf_message(L, s + k + 1, n - k - 1, t);
    }
    if (k == n) /* a bare timestamp: its line was cut right after it */
        return "the line stops after its timestamp";
    if (!r->py.in_tb && !nrf_message(L, s, n, -1))
        return NULL;
    if (write_listing(L, s, n))
        return NULL;
    if (ble_line(r, s, n)) {
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    uint32_t e, g;
    if (!r->py.in_tb && lr_py_expected(s, n, &e, &g)) /* second line of a DEBUG message */
        return NULL;
    const char *why = lr_host_common(L, s, n);
    if (why && console_noise(s, n))
        return NULL;
    return why;
}

static const char *parse_nrfutil(lctx *L, const char *s, size_t n)
{
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    if (k && k + 8 < n && s[k] == ' ' && s[k + 1] == 'S' && s[k + 2] == 'L') {
        L->r->py.in_tb = false; /* the hot path: "... SLIP: --> [..]" */
        return nrf_message(L, s + k + 1, n - k - 1, t);
    }
    if (blank(s, n))
        return NULL;
    size_t m = n;
    const char *p = lr_unwrap(s, &m);
    if (!m)
        return NULL;
    return lr_split_line(L, p, m, lr_host_cut, nrf_one);
}

/* The line without quoting, indentation or a CI runner's stamp, and its own
 * stamp. */
static lr_line unwrapped(const lr_line *ln)
{
    lr_line u = *ln;
    u.s = lr_unwrap(ln->s, &u.n);
    if (u.s != ln->s) {
        int64_t t;
        size_t k = dk_log_parse_time(u.s, u.n, &t);
        u.stamp = k && k < u.n && u.s[k] == ' ' ? k : 0;
    }
    return u;
}

/* Of the detection points of nrfutil -v lines, BLE ones and plain lines. */
static unsigned sniff_nrfutil(const lr_line *raw)
{
    lr_line un = unwrapped(raw);
    const lr_line *ln = &un;
    const char *s = ln->s;
    size_t n = ln->n, k = ln->stamp;
    unsigned sc = 0;
    if (k >= 23 && s[19] == ',') {
        dk_rd m = tx(s + k + 1, n - k - 1);
        sc += 1;
        if (lit(&m, "SLIP: ") || lit(&m, "Serial: "))
            sc += 2;
    }
    size_t u = n;
    const char *p = lr_unwrap(s, &u);
    dk_rd c = tx(p, u);
    if (lit(&c, "Traceback (most recent call last)"))
        sc += 1;
    else if ((c = tx(p, u), lit(&c, "SLIP: ")) || lit(&c, "Serial: ") ||
             lit(&c, "Using board at serial port"))
        sc += 2;
    if (find(p, u, "NordicSemiException") || find(p, u, "Extended Error 0x") ||
        find(p, u, "Unexpected Executed OP_CODE") || find(p, u, "No ping response"))
        sc += 3;
    if (find(p, u, "nrfutil") && (find(p, u, "dfu serial") || find(p, u, "dfu usb-serial") ||
                                  find(p, u, "pkg generate")))
        sc += 2;
    else if (find(p, u, "nrfutil "))
        sc += 1;
    unsigned pct;
    size_t used;
    if (lr_progress(s, n, &pct, &used))
        sc += 1;
    return sc;
}

static unsigned sniff_ble(const lr_line *raw)
{
    lr_line un = unwrapped(raw);
    const lr_line *ln = &un;
    const char *s = ln->s;
    size_t n = ln->n, k = ln->stamp;
    if (k >= 23 && s[19] == ',') {
        dk_rd m = tx(s + k + 1, n - k - 1);
        if (lit(&m, "BLE: ") || find(s, n, "data([") || find(s, n, "ble_gattc_") ||
            find(s, n, "evt> "))
            return 3;
    }
    size_t u = n;
    const char *p = lr_unwrap(s, &u);
    if (find(p, u, "dfu ble") || find(p, u, "connectivity firmware") ||
        find(p, u, "NRF_ERROR_") || find(p, u, "handle, uuid, data") ||
        find(p, u, "dfu_transport_ble") || find(p, u, "ble_adapter.py"))
        return 3;
    dk_rd c = tx(p, u);
    uint32_t h, v;
    if (dec_u32(&c, &h) && skip_sp(&c) && num_u32(&c, &v) && skip_sp(&c) && peekc(&c) == '[')
        return 2; /* "18 0x01 [2, 0, 0]" */
    return 0;
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

const lr_format lr_fmt_nrfutil = {
    .name = "nrfutil",
    .sniff = sniff_nrfutil,
    .line = parse_nrfutil,
    .cont = nrfutil_cont,
    .finish = lr_py_finish,
};

const lr_format lr_fmt_ble = {
    .name = "ble",
    .sniff = sniff_ble,
    .base = DK_LOG_NRFUTIL,
    .line = parse_nrfutil,
    .cont = nrfutil_cont,
    .finish = lr_py_finish,
};
