/* ctlcmd.c - the --control socket's commands and lines (ctlcmd.h). */
#include "ctlcmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    ds_ctl_arg arg;
    const char *usage;
} cmds[DS_CTL_N_OPS] = {
#define DS_CTL_X_ROW(id, n, a, u) [DS_CTL_##id] = { n, a, u },
    DS_CTL_COMMANDS(DS_CTL_X_ROW)
#undef DS_CTL_X_ROW
};

const char *ds_ctl_op_name(ds_ctl_op op)
{
    return (unsigned)op < DS_CTL_N_OPS ? cmds[op].name : "?";
}

ds_ctl_arg ds_ctl_op_arg(ds_ctl_op op)
{
    return (unsigned)op < DS_CTL_N_OPS ? cmds[op].arg : DS_CTL_ARG_NONE;
}

const char *ds_ctl_op_usage(ds_ctl_op op)
{
    return (unsigned)op < DS_CTL_N_OPS ? cmds[op].usage : "";
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool control_byte(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7F;
}

/* A client's text quoted in an answer: at most 40 bytes, printable ASCII
 * ('?' for the rest), "..." when cut. */
static void quote(char *out, size_t cap, const char *p, size_t n)
{
    size_t k = 0, max = n > 40 ? 37 : n;
    for (size_t i = 0; i < max && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        out[k++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    if (max < n)
        for (int i = 0; i < 3 && k + 1 < cap; i++)
            out[k++] = '.';
    if (cap)
        out[k] = 0;
}

static ds_ctl_parsed bad(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static ds_ctl_parsed bad(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return DS_CTL_BAD;
}

/* MS: decimal or 0x-hex digits only, at most DS_CTL_OFF_MAX_MS. */
static bool millis(const char *p, size_t n, uint32_t *out)
{
    unsigned base = 10;
    if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        n -= 2;
    }
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'                 ? (unsigned)(c - '0')
                     : base == 16 && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : base == 16 && c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                          : 99;
        if (d >= base)
            return false;
        v = v * base + d;
        if (v > DS_CTL_OFF_MAX_MS)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static ds_ctl_parsed argument(ds_ctl_op op, const char *a, size_t n, ds_ctl_req *req, char *why, size_t cap)
{
    char q[48];
    quote(q, sizeof q, a, n);
    const char *name = cmds[op].name;
    switch (cmds[op].arg) {
    case DS_CTL_ARG_NONE:
        if (n)
            return bad(why, cap, "%s takes no argument (got '%s')", name, q);
        break;
    case DS_CTL_ARG_MS:
        if (n && !millis(a, n, &req->off_ms))
            return bad(why, cap, "%s: '%s' is not a time in ms (a whole number from 0 to %u, decimal or 0x-hex)",
                       name, q, DS_CTL_OFF_MAX_MS);
        break;
    case DS_CTL_ARG_DROP:
        if (n && !(n == 4 && !memcmp(a, "drop", 4)))
            return bad(why, cap, "%s takes nothing or 'drop' (got '%s')", name, q);
        req->drop = n != 0;
        break;
    case DS_CTL_ARG_FILE:
        if (n >= sizeof req->file)
            return bad(why, cap, "%s: a file name of more than %zu bytes", name, sizeof req->file - 1);
        memcpy(req->file, a, n);
        req->file[n] = 0;
        break;
    }
    return DS_CTL_REQ;
}

ds_ctl_parsed ds_ctl_parse(const char *line, size_t len, ds_ctl_req *req, char *why, size_t cap)
{
    memset(req, 0, sizeof *req);
    if (why && cap)
        why[0] = 0;
    for (size_t i = 0; i < len; i++)
        if (control_byte((unsigned char)line[i]))
            return bad(why, cap, "control byte 0x%02X at column %zu (commands are text)",
                       (unsigned char)line[i], i + 1);
    size_t b = 0, e = len;
    while (b < e && blank(line[b]))
        b++;
    while (e > b && blank(line[e - 1]))
        e--;
    if (b == e)
        return DS_CTL_BLANK;
    size_t w = b;
    while (w < e && !blank(line[w]))
        w++;
    size_t a = w;
    while (a < e && blank(line[a]))
        a++;
    for (int op = 0; op < DS_CTL_N_OPS; op++) {
        if (strlen(cmds[op].name) == w - b && !memcmp(line + b, cmds[op].name, w - b)) {
            req->op = (ds_ctl_op)op;
            return argument(req->op, line + a, e - a, req, why, cap);
        }
    }
    char q[48];
    quote(q, sizeof q, line + b, w - b);
    return bad(why, cap, "unknown command '%s' (%s)", q, DS_CTL_USAGE);
}

int ds_ctl_format(const ds_ctl_req *req, char *out, size_t cap)
{
    if ((unsigned)req->op >= DS_CTL_N_OPS)
        return -1;
    const char *name = cmds[req->op].name;
    int n;
    switch (cmds[req->op].arg) {
    case DS_CTL_ARG_MS:
        n = snprintf(out, cap, "%s %u", name, (unsigned)req->off_ms);
        break;
    case DS_CTL_ARG_DROP:
        n = snprintf(out, cap, "%s%s", name, req->drop ? " drop" : "");
        break;
    case DS_CTL_ARG_FILE:
        n = snprintf(out, cap, "%s%s%s", name, req->file[0] ? " " : "", req->file);
        break;
    default:
        n = snprintf(out, cap, "%s", name);
    }
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* ---- lines ---------------------------------------------------------------- */

void ds_ctl_lines_init(ds_ctl_lines *l)
{
    memset(l, 0, sizeof *l);
}

/* The line in buf is complete: without its CR, a line or too long. */
static ds_ctl_ev finish(ds_ctl_lines *l, const char **line, size_t *len)
{
    if (l->len && l->buf[l->len - 1] == '\r')
        l->len--;
    if (l->len > DS_CTL_LINE_MAX) {
        l->len = 0;
        return DS_CTL_EV_TOO_LONG;
    }
    l->buf[l->len] = 0;
    l->ready = true;
    *line = l->buf;
    *len = l->len;
    return DS_CTL_EV_LINE;
}

size_t ds_ctl_lines_take(ds_ctl_lines *l, const uint8_t *p, size_t n, ds_ctl_ev *ev, const char **line,
                         size_t *len)
{
    if (l->ready) {
        l->ready = false;
        l->len = 0;
    }
    *ev = DS_CTL_EV_NONE;
    size_t i = 0;
    while (i < n) {
        if (l->skipping) { /* the rest of a line already refused */
            const uint8_t *nl = memchr(p + i, '\n', n - i);
            if (!nl)
                return n;
            i = (size_t)(nl - p) + 1;
            l->skipping = false;
            continue;
        }
        uint8_t c = p[i++];
        if (c == '\n') {
            *ev = finish(l, line, len);
            return i;
        }
        if (l->len == DS_CTL_LINE_MAX + 1) { /* a line and its CR, and more */
            l->len = 0;
            l->skipping = true;
            *ev = DS_CTL_EV_TOO_LONG;
            return i;
        }
        l->buf[l->len++] = (char)c;
    }
    return n;
}

ds_ctl_ev ds_ctl_lines_end(ds_ctl_lines *l, const char **line, size_t *len)
{
    if (l->ready) {
        l->ready = false;
        l->len = 0;
    }
    bool skipping = l->skipping;
    l->skipping = false;
    if (skipping || l->len == 0)
        return DS_CTL_EV_NONE;
    return finish(l, line, len);
}
