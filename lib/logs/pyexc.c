/* pyexc.c - Python exception lines of nrfutil-like hosts (§5.2).
 * "pkg.NordicSemiException: MESSAGE" (the last line of a traceback), what the
 * message says, and the "Expected: X Received: Y" line some continue on. */
#include "logread_int.h"

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
    while (n && (s[n - 1] == ' ' || s[n - 1] == '.'))
        n--;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0)
            return t[i].v;
    return 0xFF;
}

bool lr_py_exception(lctx *L, const char *s, size_t n)
{
    dk_rd c = tx(s, n);
    int ch = peekc(&c);
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_'))
        return false;
    while (!at_end(&c)) {
        ch = peekc(&c);
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '_' ||
            ch == '.')
            c.pos++;
        else
            break;
    }
    size_t name_end = c.pos;
    if (!(at_end(&c) || peekc(&c) == ':'))
        return false;
    const char *name = s;
    size_t nlen = name_end;
    bool exc = (nlen >= 9 && memcmp(name + nlen - 9, "Exception", 9) == 0) ||
               (nlen >= 5 && memcmp(name + nlen - 5, "Error", 5) == 0);
    if (!exc)
        return false;
    const char *dot = NULL;
    for (size_t i = 0; i < nlen; i++)
        if (name[i] == '.')
            dot = name + i;
    const char *cls = dot ? dot + 1 : name;
    size_t clen = nlen - (size_t)(cls - name);
    dk_logrd *r = L->r;
    lr_tool_reset(r, DK_TOOL_EXCEPTION);
    if (clen >= sizeof r->tool.u.exc.cls)
        clen = sizeof r->tool.u.exc.cls - 1;
    memcpy(r->tool.u.exc.cls, cls, clen);
    if (lit(&c, ":"))
        skip_sp(&c);
    const char *m = tx_here(&c);
    size_t mlen = dk_rd_left(&c);
    lr_tool_text(r, m, mlen);
    dk_rd k = tx(m, mlen);
    uint32_t v;
    bool two_lines = false;
    dk_nx_kind nx = DK_NX_OTHER;
    if (lit(&k, "No ping response")) {
        nx = DK_NX_NO_PING;
    } else if (lit(&k, "Extended Error 0x") && hex_u32(&k, &v) && v <= 0xFF) {
        nx = DK_NX_EXT_ERROR;
        r->tool.u.exc.ext = (uint8_t)v;
    } else if ((k = tx(m, mlen), lit(&k, "Response Code "))) {
        nx = DK_NX_RESULT;
        r->tool.u.exc.result = result_by_nrfutil_name(tx_here(&k), dk_rd_left(&k));
    } else if ((k = tx(m, mlen), lit(&k, "Unexpected Executed OP_CODE"))) {
        nx = DK_NX_UNEXPECTED_OP;
        two_lines = true;
    } else if ((k = tx(m, mlen), lit(&k, "No Response: 0x")) && hex_u32(&k, &v)) {
        nx = DK_NX_NOT_RESPONSE;
        r->tool.u.exc.received = v;
        r->tool.u.exc.has_values = true;
    } else if ((k = tx(m, mlen), lit(&k, "Failed CRC validation"))) {
        nx = DK_NX_CRC;
        two_lines = true;
    } else if ((k = tx(m, mlen), lit(&k, "Failed offset validation"))) {
        nx = DK_NX_OFFSET;
        two_lines = true;
    } else if ((k = tx(m, mlen), lit(&k, "Failed to send init packet"))) {
        nx = DK_NX_INIT_FAILED;
    } else if ((k = tx(m, mlen), lit(&k, "Failed to send firmware"))) {
        nx = DK_NX_FW_FAILED;
    } else if ((k = tx(m, mlen), lit(&k, "Did not receive checksum response"))) {
        nx = DK_NX_NO_CHECKSUM;
    } else if ((k = tx(m, mlen), lit(&k, "Serial port could not be opened"))) {
        nx = DK_NX_PORT;
    } else if ((k = tx(m, mlen), lit(&k, "Writing to serial port failed"))) {
        nx = DK_NX_WRITE;
    } else if ((k = tx(m, mlen), lit(&k, "Timeout"))) {
        nx = DK_NX_TIMEOUT;
    }
    r->tool.u.exc.nx = nx;
    if (two_lines)
        lr_hold(L, "the exception's second line (Expected/Received) is missing", -1, false);
    else
        lr_emit_tool(L, -1, false);
    return true;
}

bool lr_py_expected(const char *s, size_t n, uint32_t *e, uint32_t *g)
{
    dk_rd c = tx(s, n);
    skip_sp(&c);
    return lit(&c, "Expected:") && (skip_sp(&c), num_u32(&c, e)) && (skip_sp(&c), true) &&
           lit(&c, "Received:") && (skip_sp(&c), num_u32(&c, g));
}
