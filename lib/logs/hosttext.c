/* hosttext.c - what every host-tool log shares, however it was pasted:
 * quote and indentation prefixes, a CI runner's timestamp in front of the
 * line, lines a web page ran together (cut back apart at timestamps,
 * prompts, traceback lines, exceptions, Python "\n" escapes), the host's
 * command line ("nrfutil -vvvv dfu serial -pkg app.zip -p COM3 -fc 0",
 * "adafruit-nrfutil --verbose dfu serial ... --touch 1200", "mcumgr
 * --conntype serial --connstring COM2 image list") and the versions the log
 * names ("nrfutil==6.1.7", "App pc-nrfconnect-programmer v1.4.3"). */
#include "logread_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- prefixes ------------------------------------------------------------- */

const char *lr_unwrap(const char *s, size_t *n)
{
    size_t k = *n;
    for (int round = 0; round < 4; round++) {
        size_t b = 0;
        while (b < k && (s[b] == ' ' || s[b] == '\t'))
            b++;
        s += b;
        k -= b;
        /* "> " quoting (issue templates, mail), "| " */
        if (k >= 2 && (s[0] == '>' || s[0] == '|') && (s[1] == ' ' || s[1] == '\t')) {
            s += 2;
            k -= 2;
            continue;
        }
        if (k == 1 && s[0] == '>') {
            *n = 0;
            return s + 1;
        }
        /* a CI runner's stamp in front of the tool's own line:
         * "2022-06-20T14:07:26.4625373Z 2022-06-20 10:07:06,123 ..." (GitHub
         * Actions writes 7 fraction digits, no tool here does) */
        int64_t t;
        size_t ts = dk_log_parse_time(s, k, &t);
        if (ts && ts + 1 < k && s[ts] == ' ' && s[10] == 'T' &&
            (ts == 28 || dk_log_parse_time(s + ts + 1, k - ts - 1, &t))) {
            s += ts + 1;
            k -= ts + 1;
            continue;
        }
        break;
    }
    *n = k;
    return s;
}

/* ---- lines run together --------------------------------------------------- */

static bool at(const char *s, size_t n, size_t i, const char *w)
{
    size_t k = strlen(w);
    return i + k <= n && memcmp(s + i, w, k) == 0;
}

/* An exception name "a.b.NameException:" / "NameError:" starting at i. */
static bool exc_token(const char *s, size_t n, size_t i)
{
    size_t j = i;
    bool dot = false;
    while (j < n && ((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z') ||
                     (s[j] >= '0' && s[j] <= '9') || s[j] == '_' || s[j] == '.')) {
        dot |= s[j] == '.';
        j++;
    }
    if (j >= n || s[j] != ':' || j - i < 6)
        return false;
    bool named = (j - i >= 9 && memcmp(s + j - 9, "Exception", 9) == 0) ||
                 (j - i >= 5 && memcmp(s + j - 5, "Error", 5) == 0 && j - i > 5);
    return named && (dot || (s[i] >= 'A' && s[i] <= 'Z'));
}

bool lr_host_cut(const char *s, size_t n, size_t i, lr_split *c)
{
    c->end_prev = i;
    c->begin = i;
    if (s[i] == ':' && i >= 33 && i + 1 < n &&
        memcmp(s + i - 33, "Traceback (most recent call last)", 33) == 0) {
        c->end_prev = c->begin = i + 1;
        return true;
    }
    if (s[i - 1] != ' ' && s[i - 1] != '\t')
        return false;
    int64_t t;
    size_t k = dk_log_parse_time(s + i, n - i, &t);
    if (k && i + k < n && s[i + k] == ' ')
        return true;
    if (at(s, n, i, "Traceback (most recent call last)") || at(s, n, i, "File \"") ||
        at(s, n, i, "During handling of the above") || at(s, n, i, "Upgrading target on ") ||
        at(s, n, i, "Failed to upgrade target") || at(s, n, i, "Possible causes:") ||
        at(s, n, i, "Timed out waiting for ack"))
        return at(s, n, i, "File \"") ? find(s + i, n - i, "\", line ") != NULL : true;
    /* shell prompts: "$ cmd", "C:\dir>cmd", "PS C:\dir> cmd" */
    if (s[i] == '$' && i + 2 < n && s[i + 1] == ' ' && s[i + 2] != ' ')
        return true;
    if (at(s, n, i, "PS ") && i + 6 < n && s[i + 4] == ':' && s[i + 5] == '\\')
        return true;
    if (i + 3 < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')) &&
        s[i + 1] == ':' && s[i + 2] == '\\') {
        const char *gt = memchr(s + i, '>', n - i);
        const char *sp = memchr(s + i, ' ', n - i);
        return gt && (!sp || gt < sp);
    }
    return exc_token(s, n, i);
}

const char *lr_pieces(lctx *L, const char *s, size_t n,
                      bool (*cut)(const char *, size_t, size_t, lr_split *),
                      const char *(*one)(lctx *, const char *, size_t))
{
    const char *why = NULL;
    bool any = false;
    size_t b = 0;
    lr_split c;
    for (size_t i = 1; i <= n; i++) {
        bool end = i == n;
        if (!end && !cut(s, n, i, &c))
            continue;
        if (end)
            c.end_prev = c.begin = n;
        size_t e = c.end_prev;
        while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if (e > b) {
            size_t k = e - b;
            const char *p = lr_unwrap(s + b, &k);
            const char *w = k ? one(L, p, k) : NULL;
            if (!w)
                any = true;
            else if (!why)
                why = w;
        }
        b = c.begin;
        i = c.begin > i ? c.begin : i;
    }
    return any ? NULL : why ? why : "empty";
}

/* A Python bytes repr: "\n" escapes, and the b' that opens it. */
static bool repr_cut(const char *s, size_t n, size_t i, lr_split *c)
{
    c->end_prev = c->begin = i;
    if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
        c->begin = i + 2;
        return true;
    }
    if (s[i] == 'b' && i + 1 < n && s[i + 1] == '\'' && s[i - 1] == ' ') {
        c->begin = i + 2;
        return true;
    }
    return false;
}

const char *lr_split_line(lctx *L, const char *s, size_t n,
                          bool (*cut)(const char *, size_t, size_t, lr_split *),
                          const char *(*one)(lctx *, const char *, size_t))
{
    if (n > 100 && find(s, n, " b'") && find(s, n, "\\n"))
        return lr_pieces(L, s, n, repr_cut, one);
    if (n > 100 && lr_has_cut(s, n, cut))
        return lr_pieces(L, s, n, cut, one);
    return one(L, s, n);
}

bool lr_has_cut(const char *s, size_t n, bool (*cut)(const char *, size_t, size_t, lr_split *))
{
    lr_split c;
    for (size_t i = 1; i < n; i++)
        if (cut(s, n, i, &c))
            return true;
    return false;
}

/* ---- the command line -------------------------------------------------------- */

static size_t word(const char *s, size_t n, size_t *i, const char **w)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
    size_t b = *i;
    char q = b < n && (s[b] == '"' || s[b] == '\'') ? s[b] : 0; /* b == n: blanks to the end */
    if (q) {
        (*i)++;
        while (*i < n && s[*i] != q)
            (*i)++;
        *w = s + b + 1;
        size_t len = *i - b - 1;
        if (*i < n)
            (*i)++;
        return len;
    }
    while (*i < n && s[*i] != ' ' && s[*i] != '\t')
        (*i)++;
    *w = s + b;
    return *i - b;
}

static bool is(const char *w, size_t k, const char *a)
{
    return strlen(a) == k && memcmp(w, a, k) == 0;
}

static void put(char *dst, size_t cap, const char *w, size_t k)
{
    if (k >= cap)
        k = cap - 1;
    memcpy(dst, w, k);
    dst[k] = 0;
}

static uint32_t num(const char *w, size_t k)
{
    char b[16];
    put(b, sizeof b, w, k);
    return (uint32_t)strtoul(b, NULL, 0);
}

/* The tool a word names ("./adafruit-nrfutil", "nrfutil.exe", ...). */
static const char *tool_of(const char *w, size_t k)
{
    static const struct { const char *name, *tool; } tools[] = {
        { "adafruit-nrfutil", "adafruit-nrfutil" }, { "nrfutil", "nrfutil" },
        { "nrfutil-6", "nrfutil" },                 { "mcumgr", "mcumgr" },
        { "dfuhost", "dfuhost" },                   { "nrfjprog", "nrfjprog" },
    };
    size_t b = k;
    while (b && w[b - 1] != '/' && w[b - 1] != '\\' && w[b - 1] != '>')
        b--;
    const char *base = w + b;
    size_t bl = k - b;
    if (bl > 4 && memcmp(base + bl - 4, ".exe", 4) == 0)
        bl -= 4;
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
        if (is(base, bl, tools[i].name))
            return tools[i].tool;
    return NULL;
}

/* Options of a DFU host's command line into ev->u.cmd. */
static void options(dk_tool_ev *ev, const char *s, size_t n, size_t i)
{
    const char *w, *v;
    size_t k, vk;
    bool legacy = strcmp(ev->u.cmd.tool, "adafruit-nrfutil") == 0;
    while ((k = word(s, n, &i, &w)) > 0) {
        size_t save = i;
        const char *eq = w[0] == '-' ? memchr(w, '=', k) : NULL;
        if (eq) { /* "--serial-number=X" */
            v = eq + 1;
            vk = k - (size_t)(eq + 1 - w);
            k = (size_t)(eq - w);
        } else {
            vk = word(s, n, &i, &v);
        }
        bool used = true;
        if (is(w, k, "-p") || is(w, k, "--port")) {
            ev->u.cmd.has_port = vk > 0;
            put(ev->u.cmd.port, sizeof ev->u.cmd.port, v, vk);
        } else if (is(w, k, "-b") || is(w, k, "--baudrate") || is(w, k, "--baud-rate")) {
            ev->u.cmd.baud = num(v, vk);
        } else if (is(w, k, "-t") || is(w, k, "--touch")) {
            ev->u.cmd.touch = num(v, vk);
        } else if (is(w, k, "-prn") || is(w, k, "--packet-receipt-notification")) {
            ev->u.cmd.prn = (int)num(v, vk);
        } else if ((is(w, k, "-fc") || is(w, k, "--flow-control") || is(w, k, "--flowcontrol")) &&
                   !legacy && vk == 1 && (v[0] == '0' || v[0] == '1')) {
            ev->u.cmd.fc = v[0] == '1';
        } else if (is(w, k, "-fc") || is(w, k, "--flowcontrol") || is(w, k, "--flow-control")) {
            ev->u.cmd.fc = 1; /* a flag (adafruit-nrfutil, nrfutil <= 0.5) */
            used = false;
        } else if (is(w, k, "-snr") || is(w, k, "--serial-number")) {
            ev->u.cmd.has_port = vk > 0; /* the device is named, not the port */
            if (!ev->u.cmd.port[0])
                put(ev->u.cmd.port, sizeof ev->u.cmd.port, v, vk);
        } else if (is(w, k, "--connstring")) {
            ev->u.cmd.has_port = vk > 0;
            put(ev->u.cmd.port, sizeof ev->u.cmd.port, v, vk);
        } else if (k > 13 && memcmp(w, "--connstring=", 13) == 0) {
            ev->u.cmd.has_port = true;
            put(ev->u.cmd.port, sizeof ev->u.cmd.port, w + 13, k - 13);
            used = false;
        } else if (is(w, k, "-sb") || is(w, k, "--singlebank")) {
            ev->u.cmd.singlebank = true;
            used = false;
        } else {
            used = false;
        }
        if (!used || eq)
            i = save;
    }
}

/* The subcommand: "dfu serial", "pkg generate", "image upload", ... */
static size_t subcommand(dk_tool_ev *ev, const char *s, size_t n, size_t i)
{
    const char *w;
    size_t k;
    bool mcumgr = strcmp(ev->u.cmd.tool, "mcumgr") == 0;
    while ((k = word(s, n, &i, &w)) > 0) {
        if (w[0] == '-') {
                if (mcumgr && is(w, k, "--connstring")) {
                k = word(s, n, &i, &w);
                ev->u.cmd.has_port = k > 0;
                put(ev->u.cmd.port, sizeof ev->u.cmd.port, w, k);
            } else if (mcumgr && (is(w, k, "--conntype") || is(w, k, "-t"))) {
                word(s, n, &i, &w); /* its value */
            } else if (mcumgr && k > 13 && memcmp(w, "--connstring=", 13) == 0) {
                ev->u.cmd.has_port = true;
                put(ev->u.cmd.port, sizeof ev->u.cmd.port, w + 13, k - 13);
            }
            continue;
        }
        if (is(w, k, "dfu") || is(w, k, "image") || is(w, k, "pkg") || is(w, k, "device"))
            continue;
        put(ev->u.cmd.sub, sizeof ev->u.cmd.sub, w, k);
        break;
    }
    static const char *const transfer[] = { "serial", "usb-serial", "usb_serial", "ble", "upload",
                                            "list", "program", "echo", "reset", "thread", "zigbee" };
    for (size_t j = 0; j < sizeof transfer / sizeof transfer[0]; j++)
        if (strcmp(ev->u.cmd.sub, transfer[j]) == 0)
            ev->u.cmd.transfer = true;
    return i;
}

bool lr_command(lctx *L, const char *s, size_t n)
{
    if (n < 7 || n > 4096)
        return false;
    size_t i = 0, k;
    const char *w, *tool = NULL;
    /* the tool's name within the first words (after a prompt, "sudo", a path) */
    for (int words = 0; words < 12 && (k = word(s, n, &i, &w)) > 0; words++)
        if ((tool = tool_of(w, k)) != NULL)
            break;
    if (!tool || i >= n)
        return false;
    dk_logrd *r = L->r;
    lr_tool_reset(r, DK_TOOL_COMMAND);
    dk_tool_ev *ev = &r->tool;
    put(ev->u.cmd.tool, sizeof ev->u.cmd.tool, tool, strlen(tool));
    ev->u.cmd.fc = -1;
    ev->u.cmd.prn = -1;
    if (strcmp(tool, "nrfjprog") == 0) { /* "nrfjprog --eraseall": the option is the command */
        const char *o;
        size_t ok = word(s, n, &i, &o);
        while (ok && o[0] == '-') {
            o++;
            ok--;
        }
        put(ev->u.cmd.sub, sizeof ev->u.cmd.sub, o, ok);
    }
    size_t after = ev->u.cmd.sub[0] ? i : subcommand(ev, s, n, i);
    if (!ev->u.cmd.sub[0])
        return false; /* a mention of the tool, not a command */
    options(ev, s, n, after);
    lr_tool_text(r, w, n - (size_t)(w - s));
    lr_emit_tool(L, -1, false);
    return true;
}

/* ---- versions ------------------------------------------------------------------ */

static bool version_at(const char *p, size_t n, unsigned v[3])
{
    dk_rd c = tx(p, n);
    v[0] = v[1] = v[2] = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t x;
        if (!dec_u32(&c, &x))
            return false; /* nothing after a dot: the text was cut there */
        v[i] = x;
        if (i < 2 && !lit(&c, "."))
            return i >= 1;
    }
    return true;
}

bool lr_version(lctx *L, const char *s, size_t n, int64_t t, bool abs)
{
    static const struct { const char *key, *what; } tab[] = {
        { "adafruit-nrfutil==", "adafruit-nrfutil" },
        { "adafruit_nrfutil-", "adafruit-nrfutil" },
        { "adafruit-nrfutil version ", "adafruit-nrfutil" },
        { "nrfutil==", "nrfutil" },
        { "App pc-nrfconnect-programmer v", "programmer" },
        { "Using nrfjprog library ", "nrfjprog" },
        { "Using nrfjprog DLL version: ", "nrfjprog" },
        { "Using J-Link Software version ", "jlink" },
        { "Using JLink version: JLink_V", "jlink" },
        { "Using nrfutil-device version: ", "nrfutil-device" },
        { "nRFConnect ", "nrfconnect" },
        { "ble-connectivity ", "connectivity" },
        { "modem_firmware_loader version: ", "modem-loader" },
        { "nrfutil version ", "nrfutil" },
    };
    int64_t ts = t;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        const char *p = find(s, n, tab[i].key);
        if (!p)
            continue;
        p += strlen(tab[i].key);
        unsigned v[3];
        if (!version_at(p, n - (size_t)(p - s), v))
            continue;
        dk_logrd *r = L->r;
        unsigned bit = 1u << i;
        unsigned packed = v[0] << 20 | v[1] << 10 | v[2];
        if ((r->ver_seen & bit) && r->ver_last[i] == packed)
            return false; /* said already (every frame of a traceback names it) */
        r->ver_seen |= bit;
        r->ver_last[i] = packed;
        lr_tool_reset(r, DK_TOOL_VERSION);
        put(r->tool.u.ver.what, sizeof r->tool.u.ver.what, tab[i].what, strlen(tab[i].what));
        r->tool.u.ver.major = v[0];
        r->tool.u.ver.minor = v[1];
        r->tool.u.ver.patch = v[2];
        snprintf(r->tool.text, sizeof r->tool.text, "%s %u.%u.%u", tab[i].what, v[0], v[1], v[2]);
        lr_emit_tool(L, ts, abs);
        return true;
    }
    return false;
}

/* ---- what every host format tries last ----------------------------------------- */

bool lr_progress(const char *s, size_t n, unsigned *pct, size_t *used)
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
                *used = i + c.pos;
                got = true;
            }
        }
        i = j + 1;
    }
    return got;
}

const char *lr_host_common(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    bool ver = lr_version(L, s, n, -1, false);
    if (lr_py_line(L, s, n) || lr_command(L, s, n))
        return NULL;
    unsigned pct;
    size_t used;
    if (lr_progress(s, n, &pct, &used)) {
        lr_tool_reset(r, DK_TOOL_PROGRESS);
        r->tool.u.progress.percent = pct;
        lr_emit_tool(L, -1, false);
        if (used < n) { /* "[---]    0%Timed out waiting ..." */
            size_t k = n - used;
            const char *rest = lr_unwrap(s + used, &k);
            if (k)
                lr_line_again(L, rest, k);
        }
        return NULL;
    }
    dk_rd c = tx(s, n);
    if (lit(&c, "Device programmed")) {
        lr_tool_reset(r, DK_TOOL_DONE);
        lr_tool_text(r, s, n);
        lr_emit_tool(L, -1, false);
        return NULL;
    }
    return ver ? NULL : "not a line of this log format";
}
