/* adafruit.c - the legacy host reader: adafruit-nrfutil 0.5.3 (and Nordic's
 * nrfutil <= 0.5, whose words it kept) plain, --verbose and at DEBUG level,
 * and the Arduino IDE / PlatformIO uploads around it (protocol.md §13.13):
 *   "Upgrading target on COM7 with DFU package X.zip. Flow control is
 *    disabled, Single bank, Touch 1200"
 *   "Touched serial port COM7", "Opened serial port COM7", "Starting DFU
 *    upgrade of type 4, SoftDevice size: 0, bootloader size: 0, application
 *    size: 36300", "Sending DFU start packet" / "init packet" / "Sending
 *    firmware file", "####" progress marks, "Timed out waiting for
 *    acknowledgement from device.", "Activating new firmware", "DFU upgrade
 *    took 1.1s", "Device programmed."
 *   "Failed to upgrade target. Error is: MSG", the traceback, "Possible
 *    causes:" and its list
 *   DEBUG "PC -> target: ['0xc0', '0xd1', ...]" / "PC <- target: [...]":
 *    the HCI frames as they crossed the line (RAW records, for the legacy
 *    tracker), and the other DEBUG lines of a packet's making
 *   the IDE: "Sketch uses ...", "PORTS {...} / {...} => {}", "Forcing reset
 *    using 1200bps open/close on port X", "No new serial port detected." */
#include "logread_int.h"

#include <stdlib.h>

/* ['0xc0', '0x10', '0x0'] into out[cap], *n bytes: NULL, or why not. */
static const char *hex_list(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    dk_rd c = tx(s, len);
    *n = 0;
    if (!lit(&c, "["))
        return "expected '['";
    for (;;) {
        skip_sp(&c);
        if (lit(&c, "]"))
            return NULL;
        bool q = lit(&c, "'");
        uint32_t v;
        if (!lit(&c, "0x") || !hex_u32(&c, &v) || v > 0xFF || (q && !lit(&c, "'")))
            return at_end(&c) ? "byte list cut off" : "byte list: not a '0x..' byte";
        if (*n >= cap)
            return "byte list longer than 4096 bytes";
        out[(*n)++] = (uint8_t)v;
        skip_sp(&c);
        if (lit(&c, "]"))
            return NULL;
        if (!lit(&c, ","))
            return at_end(&c) ? "byte list cut off" : "byte list: expected ',' or ']'";
    }
}

/* DEBUG lines: the frames, and the steps of building one (noise). */
static const char *debug_line(lctx *L, const char *s, size_t n, bool *done)
{
    *done = true;
    const char *p = find(s, n, "PC -> target: ");
    dk_dir dir = DK_DIR_HOST;
    if (!p) {
        p = find(s, n, "PC <- target: ");
        dir = DK_DIR_TARGET;
    }
    if (p) {
        size_t len;
        p += 14;
        const char *why = hex_list(p, n - (size_t)(p - s), L->r->msg, sizeof L->r->msg, &len);
        if (!why)
            lr_emit_bytes(L, DK_LR_RAW, dir, -1, false, L->r->msg, len, 0);
        return why;
    }
    static const char *const steps[] = { "Add slip preamble: ", "Add Data: ", "Add CRC: ",
                                         "SLIP encoded: ", "Final packet: " };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (find(s, n, steps[i]))
            return NULL;
    dk_rd c = tx(s, n);
    uint32_t v;
    if ((lit(&c, "Data ") && dec_u32(&c, &v) && lit(&c, ": ")) ||
        (c = tx(s, n), lit(&c, "CRC: 0x")))
        return NULL;
    *done = false;
    return NULL;
}

static void lg(dk_logrd *r, dk_lg_what w, const char *s, size_t n)
{
    lr_tool_reset(r, DK_TOOL_LEGACY);
    r->tool.u.lg.what = w;
    r->tool.u.lg.fc = -1;
    r->tool.u.lg.singlebank = -1;
    lr_tool_text(r, s, n);
}

/* "Upgrading target on PORT with DFU package PKG. Flow control is disabled,
 * Single bank, Touch 1200" (nrfutil <= 0.5: up to "disabled."). */
static void upgrading(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    const char *port = s + 20;
    const char *with = find(s, n, " with DFU package");
    size_t pl = with ? (size_t)(with - port) : 0;
    lg(r, DK_LG_UPGRADING, port, pl);
    const char *fc = find(s, n, "Flow control is ");
    if (fc)
        r->tool.u.lg.fc = find(fc, n - (size_t)(fc - s), "enabled") != NULL;
    if (find(s, n, "Single bank"))
        r->tool.u.lg.singlebank = 1;
    else if (find(s, n, "Dual bank"))
        r->tool.u.lg.singlebank = 0;
    const char *t = find(s, n, "Touch ");
    if (t) {
        dk_rd c = tx(t + 6, n - (size_t)(t + 6 - s));
        uint32_t v;
        if (dec_u32(&c, &v))
            r->tool.u.lg.touch = v;
    }
    lr_emit_tool(L, -1, false);
}

/* "Starting DFU upgrade of type 3, SoftDevice size: 151016, bootloader
 * size: 39000, application size: 0" */
static bool starting(lctx *L, const char *s, size_t n)
{
    dk_rd c = tx(s, n);
    uint32_t t, a = 0, b = 0, d = 0;
    if (!lit(&c, "Starting DFU upgrade of type ") || !dec_u32(&c, &t))
        return false;
    const char *p;
    if ((p = find(s, n, "SoftDevice size: ")) != NULL)
        a = (uint32_t)strtoul(p + 17, NULL, 10);
    if ((p = find(s, n, "bootloader size: ")) != NULL)
        b = (uint32_t)strtoul(p + 17, NULL, 10);
    if ((p = find(s, n, "application size: ")) != NULL)
        d = (uint32_t)strtoul(p + 18, NULL, 10);
    lg(L->r, DK_LG_STARTING, s, n);
    L->r->tool.u.lg.type = t;
    L->r->tool.u.lg.sd = a;
    L->r->tool.u.lg.bl = b;
    L->r->tool.u.lg.app = d;
    lr_emit_tool(L, -1, false);
    return true;
}

static bool starts(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && memcmp(s, w, k) == 0;
}

/* The host's own messages (not the IDE's). */
static bool host_line(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    static const struct { const char *w; dk_lg_what k; } t[] = {
        { "Touched serial port ", DK_LG_TOUCHED },   { "Opened serial port ", DK_LG_OPENED },
        { "Sending DFU start packet", DK_LG_SEND_START },
        { "Sending DFU init packet", DK_LG_SEND_INIT },
        { "Sending firmware file", DK_LG_SEND_FW },  { "Activating new firmware", DK_LG_ACTIVATING },
        { "DFU upgrade took ", DK_LG_TOOK },        { "Zip created at ", DK_LG_ZIP },
        { "No new serial port detected", DK_LG_NO_NEW_PORT },
        { "Forcing reset using 1200bps", DK_LG_IDE_TOUCH },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (starts(s, n, t[i].w)) {
            lg(r, t[i].k, s, n);
            lr_emit_tool(L, -1, false);
            return true;
        }
    if (find(s, n, "Timed out waiting for acknowledgement")) { /* also "ERROR:root:..." */
        lg(r, DK_LG_NO_ACK, s, n);
        lr_emit_tool(L, -1, false);
        return true;
    }
    if (starts(s, n, "Upgrading target on ")) {
        upgrading(L, s, n);
        return true;
    }
    if (starts(s, n, "Failed to upgrade target. Error is: ")) {
        r->lg.causes = false;
        const char *m = s + 36;
        size_t ml = n - 36;
        lr_tool_reset(r, DK_TOOL_EXCEPTION);
        lr_tool_text(r, m, ml);
        r->tool.u.exc.nx = lr_py_classify("", 0, m, ml, &r->tool, NULL);
        lr_emit_tool(L, -1, false);
        return true;
    }
    return starting(L, s, n);
}

/* The IDE's and the wrappers' lines around the host: known, nothing to use. */
static bool ide_noise(dk_logrd *r, const char *s, size_t n)
{
    static const char *const w[] = {
        "Sketch uses ", "Global variables use ", "has been declared precompiled",
        "Using precompiled library", "PORTS {", "Waiting for the new upload port",
        "Uploading using selected port", "Auto-detected: ", "Uploading .pio", "Available ports:",
        "Bootloader info:", "lines:[", "*** found ", "Checking boot loader version",
        "Packaging ", "Flashing: ", "DONE", "packaging iHex",
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (find(s, n, w[i]))
            return true;
    if (starts(s, n, "Possible causes:")) {
        r->lg.causes = true;
        return true;
    }
    /* the list under "Possible causes:", and its indented second lines */
    if (r->lg.causes && (s[0] == '-' || starts(s, n, "Please upgrade") ||
                         starts(s, n, "Please select") || find(s, n, "Tools->Bootloader")))
        return true;
    return false;
}

static const char *ada_one(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    size_t marks = 0;
    while (marks < n && s[marks] == '#')
        marks++;
    /* marks alone, padded, or run into the next message ("###Timed out ...") */
    if (marks && (blank(s + marks, n - marks) || (s[marks] >= 'A' && s[marks] <= 'Z'))) {
        lg(r, DK_LG_MARKS, s, marks);
        r->tool.u.lg.marks = (unsigned)marks;
        lr_emit_tool(L, -1, false);
        size_t k = n - marks;
        const char *rest = lr_unwrap(s + marks, &k);
        return k ? (ada_one(L, rest, k), NULL) : NULL;
    }
    if (host_line(L, s, n))
        return NULL;
    bool done;
    const char *why = debug_line(L, s, n, &done);
    if (done)
        return why;
    if (ide_noise(r, s, n))
        return NULL;
    r->lg.causes = false;
    return lr_host_common(L, s, n);
}

static const char *parse_adafruit(lctx *L, const char *s, size_t n)
{
    if (blank(s, n))
        return NULL;
    size_t m = n;
    const char *p = lr_unwrap(s, &m);
    if (!m)
        return NULL;
    if (find(p, m < 64 ? m : 64, "target: ["))
        return ada_one(L, p, m); /* DEBUG frames: nothing to cut */
    return lr_split_line(L, p, m, lr_host_cut, ada_one);
}

static unsigned sniff_adafruit(const lr_line *ln)
{
    static const char *const w[] = {
        "Upgrading target on ", "Timed out waiting for acknowledgement",
        "Failed to upgrade target", "Sending DFU start packet", "Sending DFU init packet",
        "Touched serial port", "Opened serial port", "No data received on serial port",
        "adafruit-nrfutil", "Activating new firmware", "PC -> target: [", "send_start_dfu",
        "get_ack_nr",
    };
    size_t n = ln->n;
    const char *s = lr_unwrap(ln->s, &n);
    unsigned sc = 0;
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (find(s, n, w[i]))
            sc += 3;
    if (n >= 8 && s[0] == '#' && s[n - 1] == '#')
        sc += 1;
    if (find(s, n, "Forcing reset using 1200bps") || find(s, n, "Possible causes:"))
        sc += 2;
    return sc;
}

/* Nordic nrfutil <= 0.5 shows the click progress bar too: "[----]   0%". */
const lr_format lr_fmt_adafruit = {
    .name = "adafruit",
    .sniff = sniff_adafruit,
    .line = parse_adafruit,
    .cont = NULL,
    .finish = lr_py_finish,
};
