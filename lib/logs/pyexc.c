/* pyexc.c - Python tracebacks and exception lines of the hosts (nrfutil,
 * adafruit-nrfutil, pc-ble-driver-py).
 *   "Traceback (most recent call last):"
 *   '  File "PATH", line N, in FUNC'          (a frame; indentation optional)
 *   "a.b.NordicSemiException: MESSAGE"        (the exception, last line)
 *   "Expected: 0x03 Received: 0xAB"           (second line of some, §5.2)
 * The innermost frame that names a step of the update (send_start_dfu,
 * send_init_packet, send_firmware, open, ...) gives the exception its stage;
 * the message (nrfutil §5.2, adafruit-nrfutil §13.13, pyserial's and the
 * OS's port errors) its kind. */
#include "logread_int.h"

#include <stdlib.h>

static uint8_t result_by_nrfutil_name(const char *s, size_t n)
{
    static const struct { const char *name; uint8_t v; } t[] = {
        { "InvalidCode", 0x00 },           { "Success", 0x01 },
        { "NotSupported", 0x02 },          { "InvalidParameter", 0x03 },
        { "InsufficientResources", 0x04 }, { "InvalidObject", 0x05 },
        { "InvalidSignature", 0x06 },      { "UnsupportedType", 0x07 },
        { "OperationNotPermitted", 0x08 }, { "OperationFailed", 0x0A },
        { "ExtendedError", 0x0B },
    };
    size_t k = 0;
    while (k < n && s[k] != ' ' && s[k] != '.' && s[k] != '\r')
        k++;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strlen(t[i].name) == k && memcmp(t[i].name, s, k) == 0)
            return t[i].v;
    return 0xFF;
}

const char *dk_host_stage_name(dk_host_stage s)
{
    static const char *const n[] = { "", "open", "start", "init", "firmware", "activate" };
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "";
}

/* ---- what a message says ------------------------------------------------- */

/* The port's own trouble, in pyserial's and the OS's words (Linux errno,
 * macOS errno, Windows errors as pyserial wraps them). */
static dk_nx_kind port_words(const char *m, size_t n)
{
    static const struct { const char *w; dk_nx_kind k; } t[] = {
        /* gone while open, before the permission words they contain */
        { "does not recognize the command", DK_NX_PORT_GONE }, /* Windows error 22 */
        { "device is not connected", DK_NX_PORT_GONE },        /* Windows error 1167 */
        { "Device not configured", DK_NX_PORT_GONE },          /* macOS ENXIO (6) */
        { "[Errno 6]", DK_NX_PORT_GONE },
        { "Input/output error", DK_NX_PORT_GONE },             /* EIO (5) */
        { "[Errno 5]", DK_NX_PORT_GONE },
        { "No such device", DK_NX_PORT_GONE },                 /* ENODEV (19) */
        { "Protocol error", DK_NX_PORT_GONE },                 /* EPROTO (71) */
        { "returned no data", DK_NX_PORT_GONE },               /* pyserial's readiness line */
        { "ClearCommError failed", DK_NX_PORT_GONE },
        { "GetOverlappedResult failed", DK_NX_PORT_GONE },
        { "WriteFile failed", DK_NX_PORT_GONE },
        { "Write timeout", DK_NX_WRITE_TIMEOUT },
        { "port that is not open", DK_NX_PORT_NOT_OPEN },
        { "FileNotFoundError", DK_NX_PORT_NOT_FOUND },
        { "No such file or directory", DK_NX_PORT_NOT_FOUND },
        { "cannot find the file specified", DK_NX_PORT_NOT_FOUND },
        { "[Errno 2]", DK_NX_PORT_NOT_FOUND },
        { "Access is denied", DK_NX_PORT_BUSY },               /* Windows: open elsewhere */
        { "Device or resource busy", DK_NX_PORT_BUSY },        /* EBUSY (16) */
        { "[Errno 16]", DK_NX_PORT_BUSY },
        { "exclusively lock", DK_NX_PORT_BUSY },
        { "Permission denied", DK_NX_PORT_DENIED },            /* EACCES (13) */
        { "Operation not permitted", DK_NX_PORT_DENIED },      /* EPERM (1) */
        { "[Errno 13]", DK_NX_PORT_DENIED },
        { "[Errno 1]", DK_NX_PORT_DENIED },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (find(m, n, t[i].w))
            return t[i].k;
    return DK_NX_OTHER;
}

/* nrfutil's, adafruit-nrfutil's and pc-ble-driver's own messages. */
static dk_nx_kind host_words(const char *m, size_t n, dk_tool_ev *ev, bool *two_lines)
{
    dk_rd k = tx(m, n);
    uint32_t v;
    if (lit(&k, "No ping response"))
        return DK_NX_NO_PING;
    if ((k = tx(m, n), lit(&k, "Extended Error 0x")) && hex_u32(&k, &v) && v <= 0xFF) {
        ev->u.exc.ext = (uint8_t)v;
        return DK_NX_EXT_ERROR;
    }
    if ((k = tx(m, n), lit(&k, "Response Code "))) {
        ev->u.exc.result = result_by_nrfutil_name(tx_here(&k), dk_rd_left(&k));
        return DK_NX_RESULT;
    }
    if ((k = tx(m, n), lit(&k, "Unexpected Executed OP_CODE"))) {
        *two_lines = true;
        return DK_NX_UNEXPECTED_OP;
    }
    if ((k = tx(m, n), lit(&k, "No Response: 0x")) && hex_u32(&k, &v)) {
        ev->u.exc.received = v;
        ev->u.exc.has_values = true;
        return DK_NX_NOT_RESPONSE;
    }
    static const struct { const char *w; dk_nx_kind k; bool two; } t[] = {
        { "Failed CRC validation", DK_NX_CRC, true },
        { "Failed offset validation", DK_NX_OFFSET, true },
        { "Failed to send init packet", DK_NX_INIT_FAILED, false },
        { "Failed to send firmware", DK_NX_FW_FAILED, false },
        { "Did not receive checksum response", DK_NX_NO_CHECKSUM, false },
        { "No data received on serial port", DK_NX_NO_DATA, false },
        { "Board not found", DK_NX_BOARD_NOT_FOUND, false },
        { "manifest.json", DK_NX_PACKAGE, false },
        { "is not a zip file", DK_NX_PACKAGE, false },
        { "Wrong type of manifest", DK_NX_PACKAGE, false },
        { "NRF_ERROR_SD_RPC", DK_NX_BLE_RPC, false },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if ((k = tx(m, n), lit(&k, t[i].w)) || (t[i].k >= DK_NX_NO_DATA && find(m, n, t[i].w))) {
            *two_lines = t[i].two;
            return t[i].k;
        }
    if (find(m, n, "NRF_ERROR_TIMEOUT") && (find(m, n, "open") || find(m, n, "Open")))
        return DK_NX_BLE_OPEN;
    /* nrfutil's port messages; the reason after them says more */
    dk_nx_kind pw = port_words(m, n);
    if ((k = tx(m, n), lit(&k, "Serial port could not be opened")))
        return pw != DK_NX_OTHER ? pw : DK_NX_PORT;
    if ((k = tx(m, n), lit(&k, "Writing to serial port failed")))
        return pw != DK_NX_OTHER ? pw : DK_NX_WRITE;
    if ((k = tx(m, n), lit(&k, "Timeout")))
        return DK_NX_TIMEOUT;
    return pw;
}

static bool ends_with(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && memcmp(s + n - k, w, k) == 0;
}

/* The exception's class when its message says nothing known. */
static dk_nx_kind class_words(const char *c, size_t n)
{
    static const char *const bugs[] = { "AttributeError", "TypeError", "IndexError",
                                        "KeyError", "NameError", "UnboundLocalError" };
    for (size_t i = 0; i < sizeof bugs / sizeof bugs[0]; i++)
        if (ends_with(c, n, bugs[i]))
            return DK_NX_TOOL_BUG;
    if (ends_with(c, n, "KeyboardInterrupt"))
        return DK_NX_INTERRUPTED;
    if (ends_with(c, n, "BadZipFile") || ends_with(c, n, "BadZipfile"))
        return DK_NX_PACKAGE;
    if (ends_with(c, n, "SerialTimeoutException"))
        return DK_NX_WRITE_TIMEOUT;
    if (ends_with(c, n, "PortNotOpenError"))
        return DK_NX_PORT_NOT_OPEN;
    return DK_NX_OTHER;
}

dk_nx_kind lr_py_classify(const char *cls, size_t clen, const char *m, size_t mlen, dk_tool_ev *ev,
                          bool *two_lines)
{
    bool two = false;
    dk_nx_kind nx = host_words(m, mlen, ev, &two);
    if (nx == DK_NX_OTHER)
        nx = class_words(cls, clen);
    if (nx == DK_NX_TOOL_BUG && find(m, mlen, "manifest"))
        nx = DK_NX_PACKAGE;
    if (two_lines)
        *two_lines = two;
    return nx;
}

/* ---- frames ------------------------------------------------------------- */

static dk_host_stage stage_of(const char *f, size_t n, const char *file, size_t fl)
{
    static const struct { const char *fn; dk_host_stage s; } t[] = {
        { "send_start_dfu", DK_HS_START },       { "send_init_packet", DK_HS_INIT },
        { "send_firmware", DK_HS_FIRMWARE },     { "write_data_point", DK_HS_FIRMWARE },
        { "send_activate_firmware", DK_HS_ACTIVATE }, { "__ping", DK_HS_OPEN },
        { "__set_prn", DK_HS_OPEN },             { "__get_mtu", DK_HS_OPEN },
        { "__ensure_bootloader", DK_HS_OPEN },   { "_wait_while_opening_transport", DK_HS_OPEN },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strlen(t[i].fn) == n && memcmp(t[i].fn, f, n) == 0)
            return t[i].s;
    /* open() of a DFU transport, the BLE adapter or the serial port itself */
    if (n == 4 && memcmp(f, "open", 4) == 0 &&
        (find(file, fl, "dfu_transport") || find(file, fl, "ble_") || find(file, fl, "serial")))
        return DK_HS_OPEN;
    return DK_HS_NONE;
}

/* A frame of a library under the host (pyserial, pc-ble-driver-py, click,
 * Python's own), not of the host tool. */
static bool library_file(const char *file, size_t n)
{
    static const char *const libs[] = { "serial/",  "serial\\", "serialwin32", "serialposix",
                                        "pc_ble_driver", "click/", "click\\", "threading.py",
                                        "queue.py", "Queue.py", "socket.py" };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
        if (find(file, n, libs[i]))
            return true;
    return false;
}

bool lr_py_frame(dk_logrd *r, const char *s, size_t n)
{
    dk_rd c = tx(s, n);
    skip_sp(&c);
    if (!lit(&c, "File \""))
        return false;
    const char *file = tx_here(&c);
    const char *q = memchr(file, '"', dk_rd_left(&c));
    if (!q)
        return false;
    size_t fl = (size_t)(q - file);
    c.pos += fl + 1;
    uint32_t ln;
    if (!lit(&c, ", line ") || !dec_u32(&c, &ln))
        return false;
    if (lit(&c, ", in ")) {
        const char *fn = tx_here(&c);
        size_t k = 0;
        while (k < dk_rd_left(&c) && fn[k] != ' ' && fn[k] != '\r' && fn[k] != '\t')
            k++;
        size_t cap = sizeof r->py.func - 1;
        memcpy(r->py.last, fn, k < cap ? k : cap);
        r->py.last[k < cap ? k : cap] = 0;
        if (!r->py.func[0] || !library_file(file, fl)) { /* the host's own innermost frame */
            memcpy(r->py.func, fn, k < cap ? k : cap);
            r->py.func[k < cap ? k : cap] = 0;
        }
        dk_host_stage st = stage_of(fn, k, file, fl);
        if (st != DK_HS_NONE)
            r->py.stage = st;
        static const char *const ops[] = { "__execute", "__create_command", "__create_data",
                                           "__create_object", "__select_command",
                                           "__select_data", "__select_object",
                                           "__calculate_checksum", "__stream_data", "__set_prn",
                                           "__get_mtu", "__ping" };
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strlen(ops[i]) == k && memcmp(ops[i], fn, k) == 0)
                memcpy(r->py.op, ops[i], k + 1);
    }
    return true;
}

/* ---- exception lines --------------------------------------------------------- */

/* The message part: its kind, its second line when on the same line, and
 * the record (held for a second line when it has one). */
static void exception_record(lctx *L, const char *cls, size_t clen, const char *m, size_t mlen)
{
    dk_logrd *r = L->r;
    lr_tool_reset(r, DK_TOOL_EXCEPTION);
    if (clen >= sizeof r->tool.u.exc.cls)
        clen = sizeof r->tool.u.exc.cls - 1;
    memcpy(r->tool.u.exc.cls, cls, clen);
    lr_tool_text(r, m, mlen);
    bool two = false;
    r->tool.u.exc.nx = lr_py_classify(cls, clen, m, mlen, &r->tool, &two);
    r->tool.u.exc.stage = r->py.stage;
    memcpy(r->tool.u.exc.func, r->py.func, sizeof r->tool.u.exc.func);
    memcpy(r->tool.u.exc.op, r->py.op, sizeof r->tool.u.exc.op);
    const char *ex = two ? find(m, mlen, "Expected:") : NULL;
    uint32_t e, g;
    if (ex && lr_py_expected(ex, mlen - (size_t)(ex - m), &e, &g)) {
        r->tool.u.exc.has_values = true;
        r->tool.u.exc.expected = e;
        r->tool.u.exc.received = g;
        two = false;
    }
    if (two)
        lr_hold(L, "the exception's second line (Expected/Received) is missing", -1, false);
    else
        lr_emit_tool(L, -1, false);
}

static bool ident_char(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '_';
}

bool lr_py_exception(lctx *L, const char *s, size_t n)
{
    dk_rd c = tx(s, n);
    int ch = peekc(&c);
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_'))
        return false;
    while (!at_end(&c) && (ident_char(peekc(&c)) || peekc(&c) == '.'))
        c.pos++;
    size_t nlen = c.pos;
    if (!(at_end(&c) || peekc(&c) == ':' || peekc(&c) == '\r'))
        return false;
    bool exc = ends_with(s, nlen, "Exception") || ends_with(s, nlen, "Error") ||
               ends_with(s, nlen, "KeyboardInterrupt") || ends_with(s, nlen, "BadZipFile") ||
               ends_with(s, nlen, "BadZipfile");
    if (!exc || (nlen == 5 && peekc(&c) == ':' && !L->r->py.in_tb))
        return false; /* "Error: ..." of other tools */
    const char *cls = s;
    for (size_t i = 0; i < nlen; i++)
        if (s[i] == '.')
            cls = s + i + 1;
    size_t clen = nlen - (size_t)(cls - s);
    if (lit(&c, ":"))
        skip_sp(&c);
    exception_record(L, cls, clen, tx_here(&c), dk_rd_left(&c));
    L->r->py.in_tb = false;
    return true;
}

/* A known host message without its class ("... Extended Error 0x07: ..."
 * when a page or the poster left the class out). */
static bool bare_message(lctx *L, const char *s, size_t n)
{
    static const char *const starts[] = {
        "Extended Error 0x", "No ping response after opening", "Unexpected Executed OP_CODE",
        "Response Code ", "Failed to send init packet", "Failed to send firmware",
        "No data received on serial port", "Serial port could not be opened",
        "Did not receive checksum response",
    };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        const char *p = find(s, n, starts[i]);
        if (!p)
            continue;
        for (const char *q = s; q < p; q++) /* only an elision or punctuation before it */
            if (*q != ' ' && *q != '.' && *q != ':' && *q != '\t' && *q != '>')
                return false;
        exception_record(L, "", 0, p, n - (size_t)(p - s));
        L->r->py.in_tb = false;
        return true;
    }
    return false;
}

bool lr_py_expected(const char *s, size_t n, uint32_t *e, uint32_t *g)
{
    dk_rd c = tx(s, n);
    skip_sp(&c);
    return lit(&c, "Expected:") && (skip_sp(&c), num_u32(&c, e)) && (skip_sp(&c), true) &&
           lit(&c, "Received:") && (skip_sp(&c), num_u32(&c, g));
}

/* ---- a line of a traceback --------------------------------------------------- */

static bool starts_with(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && memcmp(s, w, k) == 0;
}

bool lr_py_line(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    if (starts_with(s, n, "Traceback (most recent call last)")) {
        r->py.in_tb = true;
        r->py.tb_line = L->base.line;
        r->py.stage = DK_HS_NONE;
        r->py.func[0] = r->py.last[0] = 0;
        r->py.op[0] = 0;
        lr_tool_reset(r, DK_TOOL_TRACEBACK);
        lr_emit_tool(L, -1, false);
        return true;
    }
    if (lr_py_frame(r, s, n))
        return true;
    if (starts_with(s, n, "During handling of the above exception") ||
        starts_with(s, n, "The above exception was the direct cause"))
        return true;
    if (lr_py_exception(L, s, n) || bare_message(L, s, n))
        return true;
    if (s[0] == '[' && find(s, n, "] Failed to execute script")) /* PyInstaller's last word */
        return true;
    return r->py.in_tb; /* source lines, carets, elisions */
}

void lr_py_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    if (!r->py.in_tb)
        return;
    r->py.in_tb = false;
    /* what the traceback said before it was cut: its stage */
    dk_logrec rec = { 0 };
    rec.kind = DK_LR_TOOL;
    rec.fmt = r->fmt;
    rec.line = r->py.tb_line;
    rec.off = r->pos;
    rec.t_us = -1;
    lr_tool_reset(r, DK_TOOL_TRACEBACK);
    r->tool.u.exc.stage = r->py.stage;
    memcpy(r->tool.u.exc.func, r->py.last, sizeof r->tool.u.exc.func); /* where it got */
    lr_tool_text(r, "cut", 3);
    rec.tool = &r->tool;
    lr_deliver(r, cb, ctx, &rec);
    lr_cut(r, cb, ctx, r->py.tb_line, "the traceback ends without its exception line");
}
