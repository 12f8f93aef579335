/* programmer.c - the nRF Connect Programmer reader, with its error code tables.
 * "2024-01-04T13:59:14.654Z INFO ...": steps and failures, the codes of its
 * nrfjprog bindings and of the nrfjprog DLL (logread.h). */
#include "logread_int.h"

/* ---- error code tables ------------------------------------------------------ */

/* X(code, NAME, hint): nrfjprog DLL (nrfjprogdll_err_t) values. */
#define DK_JPROG_ERRORS(X)                                                                         \
    X(0, SUCCESS, "no error")                                                                      \
    X(-1, OUT_OF_MEMORY, "the PC ran out of memory")                                               \
    X(-2, INVALID_OPERATION, "the library was called in the wrong state; restart the tool")        \
    X(-3, INVALID_PARAMETER, "an argument was refused (wrong file, address or device family)")     \
    X(-4, INVALID_DEVICE_FOR_OPERATION, "the operation does not apply to this device")             \
    X(-5, WRONG_FAMILY_FOR_DEVICE, "the device is not of the family the tool expected")            \
    X(-6, UNKNOWN_DEVICE, "the device was not recognised; update nrfjprog / the tools")            \
    X(-7, INVALID_SESSION, "the debug session is no longer valid; reconnect")                      \
    X(-10, EMULATOR_NOT_CONNECTED, "no J-Link connection; check the USB cable and debugger")       \
    X(-11, CANNOT_CONNECT, "the J-Link cannot reach the chip; check power, SWD wiring, protection") \
    X(-12, LOW_VOLTAGE, "the target voltage is too low; check the board supply")                   \
    X(-13, NO_EMULATOR_CONNECTED, "no J-Link found; check the USB cable and drivers")              \
    X(-20, NVMC_ERROR, "flash write or erase failed on the chip")                                  \
    X(-21, RECOVER_FAILED, "recover (erase all + unlock) failed; check power and SWD")             \
    X(-90, NOT_AVAILABLE_BECAUSE_PROTECTION, "readback/access port protection is on: recover the chip first") \
    X(-91, NOT_AVAILABLE_BECAUSE_MPU_CONFIG, "the memory protection configuration blocks this")    \
    X(-92, NOT_AVAILABLE_BECAUSE_COPROCESSOR_DISABLED, "the coprocessor is disabled")              \
    X(-93, NOT_AVAILABLE_BECAUSE_TRUST_ZONE, "TrustZone settings block this access")               \
    X(-94, NOT_AVAILABLE_BECAUSE_BPROT, "block protection (BPROT) blocks this flash region")       \
    X(-100, JLINKARM_DLL_NOT_FOUND, "SEGGER J-Link software is not installed or not found")        \
    X(-101, JLINKARM_DLL_COULD_NOT_BE_OPENED, "the J-Link library could not be loaded; reinstall J-Link") \
    X(-102, JLINKARM_DLL_ERROR, "the J-Link library reported an error talking to the chip; check power, SWD wiring, the debug switch, and the J-Link version") \
    X(-103, JLINKARM_DLL_TOO_OLD, "the J-Link software is too old; update it")                     \
    X(-104, JLINKARM_DLL_READ_ERROR, "a read through the J-Link failed (often protection or power)") \
    X(-105, JLINKARM_DLL_TIME_OUT_ERROR, "the J-Link timed out; check the connection and power")   \
    X(-110, SERIAL_PORT_NOT_FOUND, "the serial port does not exist")                               \
    X(-111, SERIAL_PORT_PERMISSION_ERROR, "no permission to open the serial port")                 \
    X(-112, SERIAL_PORT_WRITE_ERROR, "writing to the serial port failed")                          \
    X(-113, SERIAL_PORT_READ_ERROR, "reading from the serial port failed")                         \
    X(-114, SERIAL_PORT_RESOURCE_ERROR, "the serial port is busy or was removed")                  \
    X(-115, SERIAL_PORT_NOT_OPEN_ERROR, "the serial port is not open")                             \
    X(-150, NRFJPROG_SUB_DLL_NOT_FOUND, "an nrfjprog library is missing; reinstall the command line tools") \
    X(-151, NRFJPROG_SUB_DLL_COULD_NOT_BE_OPENED, "an nrfjprog library could not be loaded")       \
    X(-152, NRFJPROG_SUB_DLL_COULD_NOT_LOAD_FUNCTIONS, "an nrfjprog library is of the wrong version") \
    X(-153, NRFJPROG_HOST_EXE_NOT_FOUND, "an nrfjprog helper program is missing")                  \
    X(-160, VERIFY_ERROR, "read-back after programming differs from the image")                    \
    X(-161, RAM_IS_OFF_ERROR, "the RAM block needed is powered off")                               \
    X(-162, FILE_OPERATION_FAILED, "a file could not be read or written")                          \
    X(-170, FILE_PARSING_ERROR, "the image file does not parse")                                   \
    X(-171, FILE_UNKNOWN_FORMAT_ERROR, "the image file is of an unknown format")                   \
    X(-172, FILE_INVALID_ERROR, "the image file is invalid")                                       \
    X(-173, UNKNOWN_MEMORY_ERROR, "the image addresses memory the device does not have")           \
    X(-220, TIME_OUT, "a DFU operation timed out (modem DFU: is the device in the right mode?)")    \
    X(-221, DFU_ERROR, "the DFU target reported an error")                                         \
    X(-254, INTERNAL_ERROR, "internal error of the programming library")                           \
    X(-255, NOT_IMPLEMENTED_ERROR, "the operation is not implemented for this device")

/* X(code, Name, hint): Programmer's nrfjprog binding error codes. */
#define DK_PROGJS_ERRORS(X)                                                                        \
    X(0, Success, "no error")                                                                      \
    X(1, CouldNotFindJlinkDLL, "SEGGER J-Link software is not installed or not found")             \
    X(2, CouldNotFindJprogDLL, "the nrfjprog library is not installed or not found")               \
    X(3, CouldNotLoadDLL, "a programming library could not be loaded")                             \
    X(4, CouldNotOpenDevice, "the device could not be opened through the debugger; see the low-level error") \
    X(5, CouldNotResetDevice, "the device could not be reset")                                     \
    X(6, CouldNotCloseDevice, "the debugger connection could not be closed")                       \
    X(7, CouldNotOpenDLL, "a programming library could not be opened")                             \
    X(8, CouldNotConnectToDevice, "the debugger could not connect to the chip")                    \
    X(9, CouldNotCallFunction, "a programming library call failed; the low-level error says why")  \
    X(10, CouldNotErase, "erasing failed")                                                         \
    X(11, CouldNotProgram, "programming failed")                                                   \
    X(12, CouldNotRead, "reading failed")                                                          \
    X(13, CouldNotOpenHexFile, "the hex file could not be opened")                                 \
    X(14, WrongMagicNumber, "the file is not of the expected kind")

typedef struct {
    int32_t code;
    const char *name;
    const char *hint;
} code_row;

#define DK_X_ROW(c, n, h) { c, #n, h },
static const code_row jprog_rows[] = { DK_JPROG_ERRORS(DK_X_ROW) };
static const code_row progjs_rows[] = { DK_PROGJS_ERRORS(DK_X_ROW) };
#undef DK_X_ROW

static const code_row *row_by_code(const code_row *t, size_t n, int32_t code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return &t[i];
    return NULL;
}

static const code_row *row_by_name(const code_row *t, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0)
            return &t[i];
    return NULL;
}

#define NROWS(t) (sizeof t / sizeof t[0])

const char *dk_jprog_err_name(int32_t code)
{
    const code_row *r = row_by_code(jprog_rows, NROWS(jprog_rows), code);
    return r ? r->name : NULL;
}
const char *dk_jprog_err_hint(int32_t code)
{
    const code_row *r = row_by_code(jprog_rows, NROWS(jprog_rows), code);
    return r ? r->hint : NULL;
}
const char *dk_progjs_err_name(int code)
{
    const code_row *r = row_by_code(progjs_rows, NROWS(progjs_rows), code);
    return r ? r->name : NULL;
}
const char *dk_progjs_err_hint(int code)
{
    const code_row *r = row_by_code(progjs_rows, NROWS(progjs_rows), code);
    return r ? r->hint : NULL;
}
int32_t dk_jprog_err_by_name(const char *name, size_t len)
{
    const code_row *r = row_by_name(jprog_rows, NROWS(jprog_rows), name, len);
    return r ? r->code : -1000;
}
int dk_progjs_err_by_name(const char *name, size_t len)
{
    const code_row *r = row_by_name(progjs_rows, NROWS(progjs_rows), name, len);
    return r ? (int)r->code : -1;
}
/* ---- the log ------------------------------------------------------------------ */

static bool prog_level(dk_rd *c, bool *err)
{
    static const char *const lv[] = { "INFO ", "DEBUG ", "VERBOSE ", "ERROR ", "WARN ",
                                      "WARNING ", "SILLY " };
    for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++)
        if (lit(c, lv[i])) {
            *err = i == 3;
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

static const char *parse_programmer(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    if (!k || k >= n || s[k] != ' ') {
        if (blank(s, n))
            return NULL;
        /* a continuation line of a multi-line message */
        if (r->prev_understood)
            return NULL;
        return "not a Programmer log line";
    }
    dk_rd c = tx(s + k + 1, n - k - 1);
    bool err;
    if (!prog_level(&c, &err))
        return "Programmer line without a log level";
    const char *m = tx_here(&c);
    size_t ml = dk_rd_left(&c);
    dk_tool_ev *ev = &r->tool;
    lr_tool_reset(r, DK_TOOL_PROG_STEP);
    lr_tool_text(r, m, ml);
    bool failure = err || find(m, ml, "failed with error") || find(m, ml, "Errorcode:");
    if (failure) {
        ev->kind = DK_TOOL_PROG_ERROR;
        ev->u.perr.modem = find(m, ml, "Modem DFU") != NULL;
        prog_codes(ev, m, ml);
        if (ev->u.perr.has_code && !ev->u.perr.has_lowlevel)
            lr_hold(L, NULL, t, true); /* a low-level code may follow */
        else
            lr_emit_tool(L, t, true);
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
    } else if (find(m, ml, "completed") || find(m, ml, "successfully") ||
               find(m, ml, "Completed")) {
        ev->u.step.step = DK_PSTEP_DONE;
    } else if (find(m, ml, "Modem DFU") || find(m, ml, "modem DFU") || find(m, ml, "Modem")) {
        ev->u.step.step = DK_PSTEP_MODEM;
    } else {
        ev->u.step.step = DK_PSTEP_OTHER;
    }
    lr_emit_tool(L, t, true);
    return NULL;
}


/* A timestamp of ISO 8601 shape, then a log level. */
static unsigned sniff_programmer(const lr_line *ln)
{
    size_t k = ln->stamp;
    if (!(k > 10 && ln->s[10] == 'T'))
        return 0;
    dk_rd m = tx(ln->s + k + 1, ln->n - k - 1);
    bool lv;
    return prog_level(&m, &lv) ? 2 : 0;
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
};
