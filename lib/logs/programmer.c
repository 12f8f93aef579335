/* programmer.c - the nRF Connect for Desktop reader: Programmer (its nrfjprog,
 * nrf-device-lib and MCUboot layers), nrfutil device, the BLE app's adapter
 * lines, and probe-side modem updaters that log the same way.
 *   "2024-01-04T13:59:14.654Z INFO Programming 1 of 32 segments"   (ISO, level)
 *   "13:34:19.258<TAB>Segger speed: 2000 kHz"          (the app's log panel)
 *   "[2025-04-29T08:12:39Z INFO  modem_updater] ..."   (env_logger)
 *   lines that lost their stamp: "DFU failed: ...", "Lowlevel error: ...",
 *   "Failed with exit code 1. One or more program tasks failed: ..."
 * Failures carry the codes of Programmer's nrfjprog bindings and of the
 * nrfjprog DLL (progcodes.c), nrf-device-lib's ("Error code: 603
 * (Timeout)"), and the DFU target's error when the message names it. */
#include "logread_int.h"

static bool prog_level(dk_rd *c, bool *err)
{
    static const char *const lv[] = { "INFO ", "DEBUG ", "VERBOSE ", "ERROR ", "WARN ",
                                      "WARNING ", "SILLY ", "RROR " /* its E lost in a paste */ };
    for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++)
        if (lit(c, lv[i])) {
            *err = i == 3 || i == 7;
            skip_sp(c);
            return true;
        }
    return false;
}

/* "Errorcode: NAME (0x9)" and "Lowlevel error: NAME (ffffff9a)" anywhere. */
static void prog_codes(dk_tool_ev *ev, const char *s, size_t n)
{
    const char *e = find(s, n, "Errorcode:");
    if (e) {
        dk_rd c = tx(e + 10, n - (size_t)(e + 10 - s));
        skip_sp(&c);
        const char *nm = tx_here(&c);
        while (!at_end(&c) && peekc(&c) != ' ' && peekc(&c) != '(')
            c.pos++;
        size_t nl = (size_t)(tx_here(&c) - nm);
        skip_sp(&c);
        uint32_t v;
        if (lit(&c, "(0x") && hex_u32(&c, &v)) {
            ev->u.perr.has_code = true;
            ev->u.perr.code = (int)v;
        } else if (dk_progjs_err_by_name(nm, nl) >= 0) {
            ev->u.perr.has_code = true;
            ev->u.perr.code = dk_progjs_err_by_name(nm, nl);
        }
    }
    const char *l = find(s, n, "Lowlevel error:");
    if (l) {
        dk_rd c = tx(l + 15, n - (size_t)(l + 15 - s));
        skip_sp(&c);
        const char *nm = tx_here(&c);
        const char *par = memchr(nm, '(', dk_rd_left(&c));
        if (par) {
            size_t nl = (size_t)(par - nm);
            while (nl && nm[nl - 1] == ' ')
                nl--;
            c.pos += (size_t)(par - nm) + 1;
            lit(&c, "0x");
            uint32_t v;
            if (hex_u32(&c, &v) && lit(&c, ")")) {
                ev->u.perr.has_lowlevel = true;
                ev->u.perr.lowlevel = (int32_t)v;
            } else if (dk_jprog_err_by_name(nm, nl) != -1000) {
                ev->u.perr.has_lowlevel = true;
                ev->u.perr.lowlevel = dk_jprog_err_by_name(nm, nl);
            }
        }
    }
}

/* What else a failure names: the DFU target's error, nrf-device-lib's code,
 * MCUboot, a USB device that could not be probed. */
static void prog_more(dk_tool_ev *ev, const char *s, size_t n)
{
    ev->u.perr.ext = lr_dfu_ext_words(s, n);
    ev->u.perr.result = ev->u.perr.ext >= 0 ? 0x0B : lr_dfu_result_words(s, n);
    ev->u.perr.devlib = -1;
    const char *e = find(s, n, "Error code: ");
    if (e) {
        dk_rd c = tx(e + 12, n - (size_t)(e + 12 - s));
        uint32_t v;
        if (dec_u32(&c, &v))
            ev->u.perr.devlib = (int)v;
    }
    ev->u.perr.mcuboot = find(s, n, "MCUboot") || find(s, n, "MCUBoot") || find(s, n, "mcuBoot");
    ev->u.perr.usb_probe = find(s, n, "LIBUSB_ERROR") || find(s, n, "Unsupported device");
}

static bool of_n(const char *s, size_t n, const char *pre, const char *mid, unsigned *i,
                 unsigned *k)
{
    const char *p = find(s, n, pre);
    if (!p)
        return false;
    dk_rd c = tx(p + strlen(pre), n - (size_t)(p - s) - strlen(pre));
    uint32_t a, b;
    if (!dec_u32(&c, &a) || !lit(&c, mid) || !dec_u32(&c, &b))
        return false;
    *i = a;
    *k = b;
    return true;
}

/* The BLE app's adapter lines (pc-ble-driver underneath). */
static bool ble_app(lctx *L, const char *m, size_t ml, int64_t t, bool abs)
{
    dk_logrd *r = L->r;
    static const struct { const char *w; dk_ble_what k; } tb[] = {
        { "Connectivity firmware version:", DK_BLE_CONN_FW },
        { "Opening adapter connected to", DK_BLE_OPENING },
        { "PKT_SEND_MAX_RETRIES_REACHED", DK_BLE_NO_RESPONSE },
        { "No response from device", DK_BLE_NO_RESPONSE },
    };
    lr_tool_reset(r, DK_TOOL_BLE);
    lr_tool_text(r, m, ml);
    dk_tool_ev *ev = &r->tool;
    for (size_t i = 0; i < sizeof tb / sizeof tb[0]; i++)
        if (find(m, ml, tb[i].w)) {
            ev->u.ble.what = tb[i].k;
            const char *p = find(m, ml, "API version: ");
            if (tb[i].k == DK_BLE_CONN_FW && p)
                ev->u.ble.api = (unsigned)(p[13] - '0');
            if (tb[i].k == DK_BLE_NO_RESPONSE && (p = find(m, ml, "send packet ")) != NULL)
                ev->u.ble.value = (unsigned)(p[12] - '0');
            lr_emit_tool(L, t, abs);
            return true;
        }
    if (find(m, ml, "Adapter connected to") && find(m, ml, "opened")) {
        ev->u.ble.what = DK_BLE_OPENED;
    } else if (find(m, ml, "serial port") && find(m, ml, "closed")) {
        ev->u.ble.what = DK_BLE_PORT_CLOSED;
    } else if (find(m, ml, "when opening port") || find(m, ml, "opening port")) {
        /* "Error occured when opening port. Errorcode: NRF_ERROR_TIMEOUT (0xd)" */
        lr_tool_reset(r, DK_TOOL_EXCEPTION);
        lr_tool_text(r, m, ml);
        ev->u.exc.nx = find(m, ml, "NRF_ERROR_TIMEOUT") ? DK_NX_BLE_OPEN : DK_NX_OTHER;
        memcpy(ev->u.exc.cls, "nRF Connect", 12);
        ev->u.exc.stage = DK_HS_OPEN;
    } else {
        return false;
    }
    lr_emit_tool(L, t, abs);
    return true;
}

/* A failure: the record, held when a low-level code may follow. */
static void failure(lctx *L, const char *m, size_t ml, int64_t t, bool abs)
{
    dk_tool_ev *ev = &L->r->tool;
    ev->kind = DK_TOOL_PROG_ERROR;
    ev->u.perr.modem = find(m, ml, "Modem DFU") != NULL;
    prog_codes(ev, m, ml);
    prog_more(ev, m, ml);
    if (ev->u.perr.has_code && !ev->u.perr.has_lowlevel)
        lr_hold(L, NULL, t, abs); /* a low-level code may follow */
    else
        lr_emit_tool(L, t, abs);
}

/* The message of a line (after its stamp and level). */
static const char *message(lctx *L, const char *m, size_t ml, int64_t t, bool abs, bool err)
{
    dk_logrd *r = L->r;
    if (ble_app(L, m, ml, t, abs))
        return NULL;
    lr_version(L, m, ml, t, abs);
    dk_tool_ev *ev = &r->tool;
    lr_tool_reset(r, DK_TOOL_PROG_STEP);
    lr_tool_text(r, m, ml);
    if (err || find(m, ml, "failed with error") || find(m, ml, "Errorcode:") ||
        find(m, ml, "DFU failed") || find(m, ml, "One or more program tasks failed") ||
        find(m, ml, "LIBUSB_ERROR") || find(m, ml, "Unsupported device")) {
        failure(L, m, ml, t, abs);
        return NULL;
    }
    unsigned i, nn;
    if (of_n(m, ml, "Programming file ", " of ", &i, &nn)) {
        ev->u.step.step = DK_PSTEP_FILE;
        ev->u.step.i = i;
        ev->u.step.n = nn;
    } else if (of_n(m, ml, "Programming ", " of ", &i, &nn) && find(m, ml, "segment")) {
        ev->u.step.step = DK_PSTEP_SEGMENT;
        ev->u.step.i = i;
        ev->u.step.n = nn;
    } else if (find(m, ml, "Application data folder")) {
        ev->u.step.step = DK_PSTEP_START;
        r->ver_seen = 0; /* a new start says its versions again */
    } else if (find(m, ml, "Device type is unknown")) {
        ev->u.step.step = DK_PSTEP_UNKNOWN_DEVICE;
    } else if (find(m, ml, "setup completed") || find(m, ml, "Setup completed")) {
        ev->u.step.step = DK_PSTEP_OTHER; /* the device's setup, not an update */
    } else if (find(m, ml, "completed") || find(m, ml, "successfully") ||
               find(m, ml, "Completed")) {
        ev->u.step.step = find(m, ml, "Successfully opened") ? DK_PSTEP_OTHER : DK_PSTEP_DONE;
    } else if (find(m, ml, "Modem DFU") || find(m, ml, "modem DFU") || find(m, ml, "Modem")) {
        ev->u.step.step = DK_PSTEP_MODEM;
    } else {
        ev->u.step.step = DK_PSTEP_OTHER;
    }
    lr_emit_tool(L, t, abs);
    return NULL;
}

/* The stamp a line starts with (ISO, the app panel's clock and tab,
 * env_logger's "[ISO LEVEL module]"): its length with what follows it, 0
 * when none.  *lvl_done: the level was read too. */
static size_t stamp(const char *s, size_t n, int64_t *t, bool *abs, bool *err, bool *lvl_done)
{
    *lvl_done = false;
    *abs = true;
    size_t k = dk_log_parse_time(s, n, t);
    if (k && k < n && s[k] == ' ' && k > 10 && s[10] == 'T')
        return k + 1;
    if (n > 22 && s[0] == '[' && (k = dk_log_parse_time(s + 1, n - 1, t)) != 0 && s[1 + k] == ' ') {
        dk_rd c = tx(s + k + 2, n - k - 2);
        const char *close = memchr(s, ']', n);
        if (close && prog_level(&c, err)) {
            *lvl_done = true;
            size_t e = (size_t)(close - s) + 1;
            return e < n && s[e] == ' ' ? e + 1 : e;
        }
    }
    dk_rd c = tx(s, n);
    int64_t us;
    if (lr_clock_us(&c, &us) && (peekc(&c) == '\t' || peekc(&c) == ' ') && c.pos == 12) {
        *t = us;
        *abs = false;
        return c.pos + 1;
    }
    return 0;
}

static const char *prog_one(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    int64_t t = -1;
    bool abs = false, err = false, lvl = false;
    size_t k = stamp(s, n, &t, &abs, &err, &lvl);
    dk_rd c = tx(s + k, n - k);
    if (!lvl)
        prog_level(&c, &err);
    const char *m = tx_here(&c);
    size_t ml = dk_rd_left(&c);
    if (k || c.pos)
        return ml ? message(L, m, ml, k ? t : -1, k ? abs : false, err) : NULL;
    /* no stamp: a message that lost it, or the next line of a message */
    static const char *const known[] = { "DFU failed", "Modem DFU", "MCUboot DFU",
                                         "One or more program tasks failed",
                                         "Received status with code", "Error occured when",
                                         "serial port", "Connectivity firmware" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (find(s, n, known[i]))
            return message(L, s, n, -1, false, false);
    const char *why = lr_host_common(L, s, n);
    if (why && r->prev_understood)
        return NULL; /* a continuation line of a multi-line message */
    return why ? "not a Programmer log line" : NULL;
}

/* Lines a page ran together: cut before every stamp (ISO ones even glued to
 * the text before them, clock ones after a blank). */
static bool prog_cut(const char *s, size_t n, size_t i, lr_split *c)
{
    c->end_prev = c->begin = i;
    if (s[i] < '0' || s[i] > '9' || (s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '[')
        return false;
    int64_t t;
    size_t k = dk_log_parse_time(s + i, n - i, &t);
    if (k && k > 10 && s[i + 10] == 'T')
        return true;
    dk_rd r = tx(s + i, n - i);
    return s[i - 1] == ' ' && lr_clock_us(&r, &t) && r.pos == 12 && peekc(&r) == ' ';
}

static const char *parse_programmer(lctx *L, const char *s, size_t n)
{
    if (blank(s, n))
        return NULL;
    size_t m = n;
    const char *p = lr_unwrap(s, &m);
    if (!m)
        return NULL;
    return lr_split_line(L, p, m, prog_cut, prog_one);
}

/* A stamp of one of its shapes then a level, or words only these tools use. */
static unsigned sniff_programmer(const lr_line *ln)
{
    static const char *const w[] = {
        "DFU failed", "Modem DFU", "MCUboot DFU", "Errorcode:", "Lowlevel error",
        "JLINKARM", "nrfjprog", "One or more program tasks failed", "Connectivity firmware",
        "Opening adapter", "PKT_SEND_MAX_RETRIES", "Error occured when opening port",
        "pc-nrfconnect", "LIBUSB_ERROR", "modem_updater", "Segger ",
    };
    size_t n = ln->n;
    const char *s = lr_unwrap(ln->s, &n);
    unsigned sc = 0;
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (find(s, n, w[i]))
            sc += 3;
    int64_t t;
    bool abs, err, lvl;
    size_t k = stamp(s, n, &t, &abs, &err, &lvl);
    if (k) {
        dk_rd m = tx(s + k, n - k);
        if (lvl || prog_level(&m, &err) || !abs)
            sc += 2;
    }
    return sc;
}

/* An error with its code waits for the line with the low-level code. */
static bool programmer_cont(dk_logrd *r, const char *s, size_t n)
{
    int64_t t;
    if (dk_log_parse_time(s, n, &t) || !find(s, n, "Lowlevel error:"))
        return false;
    prog_codes(&r->htool, s, n);
    return true;
}

const lr_format lr_fmt_programmer = {
    .name = "programmer",
    .sniff = sniff_programmer,
    .exclusive = true,
    .line = parse_programmer,
    .cont = programmer_cont,
    .finish = lr_py_finish,
};
