/* logread.c - text log readers: lines -> MSG / RAW / TOOL / UNKNOWN records
 * (formats and record meanings in logread.h). */
#include "dfukit/logread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/rd.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"

#define SALEAE_CHANS 8
#define SALEAE_NAME 32
#define HEXDUMP_REPEAT_MAX 65536 /* rows a "*" may stand for (1 MB) */

/* ---- text cursor on dk_rd ---- */

static dk_rd tx(const char *s, size_t n) { return dk_rd_make((const uint8_t *)s, n); }
static int peekc(const dk_rd *c) { return c->pos < c->len ? c->p[c->pos] : -1; }
static int peekc_at(const dk_rd *c, size_t k) { return c->pos + k < c->len ? c->p[c->pos + k] : -1; }
static bool at_end(const dk_rd *c) { return c->pos >= c->len; }
static const char *tx_here(const dk_rd *c) { return (const char *)c->p + c->pos; }

static bool is_digit(int ch) { return ch >= '0' && ch <= '9'; }
static int lower(int ch) { return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch; }

static bool lit(dk_rd *c, const char *s)
{
    size_t n = strlen(s);
    if (dk_rd_left(c) < n || memcmp(c->p + c->pos, s, n) != 0)
        return false;
    c->pos += n;
    return true;
}

static size_t skip_sp(dk_rd *c)
{
    size_t n = 0;
    while (peekc(c) == ' ' || peekc(c) == '\t') {
        c->pos++;
        n++;
    }
    return n;
}

/* n exactly-digits decimal */
static bool digits(dk_rd *c, unsigned n, unsigned *v)
{
    unsigned x = 0;
    for (unsigned i = 0; i < n; i++) {
        int ch = peekc_at(c, i);
        if (!is_digit(ch))
            return false;
        x = x * 10 + (unsigned)(ch - '0');
    }
    c->pos += n;
    *v = x;
    return true;
}

static bool dec_u64(dk_rd *c, uint64_t *v, uint64_t max)
{
    if (!is_digit(peekc(c)))
        return false;
    uint64_t x = 0;
    while (is_digit(peekc(c))) {
        x = x * 10 + (uint64_t)(peekc(c) - '0');
        if (x > max)
            return false;
        c->pos++;
    }
    *v = x;
    return true;
}

static bool dec_u32(dk_rd *c, uint32_t *v)
{
    uint64_t x;
    if (!dec_u64(c, &x, UINT32_MAX))
        return false;
    *v = (uint32_t)x;
    return true;
}

static bool hex_u32(dk_rd *c, uint32_t *v)
{
    if (dk_hex_digit(peekc(c)) < 0)
        return false;
    uint64_t x = 0;
    unsigned n = 0;
    while (dk_hex_digit(peekc(c)) >= 0) {
        x = x * 16 + (uint64_t)dk_hex_digit(peekc(c));
        if (++n > 8)
            return false;
        c->pos++;
    }
    *v = (uint32_t)x;
    return true;
}

/* "0x1F" or "31" */
static bool num_u32(dk_rd *c, uint32_t *v)
{
    if (peekc(c) == '0' && lower(peekc_at(c, 1)) == 'x') {
        c->pos += 2;
        return hex_u32(c, v);
    }
    return dec_u32(c, v);
}

static const char *find(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (!k || k > n)
        return NULL;
    for (const char *p = s; (p = memchr(p, needle[0], n - (size_t)(p - s) - k + 1)) != NULL; p++)
        if (memcmp(p, needle, k) == 0)
            return p;
    return NULL;
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "HH:MM:SS" + optional [.,]fraction: microseconds of the day. */
static bool clock_us(dk_rd *c, int64_t *us)
{
    unsigned h, mi, s;
    if (!digits(c, 2, &h) || !lit(c, ":") || !digits(c, 2, &mi) || !lit(c, ":") ||
        !digits(c, 2, &s) || h > 23 || mi > 59 || s > 60)
        return false;
    int64_t frac = 0;
    if ((peekc(c) == '.' || peekc(c) == ',') && is_digit(peekc_at(c, 1))) {
        c->pos++;
        int64_t scale = 100000;
        while (is_digit(peekc(c))) {
            frac += (peekc(c) - '0') * scale;
            scale /= 10;
            c->pos++;
        }
    }
    *us = ((int64_t)h * 3600 + mi * 60 + s) * 1000000 + frac;
    return true;
}

size_t dk_log_parse_time(const char *s, size_t len, int64_t *t_us)
{
    dk_rd c = tx(s, len);
    unsigned y, mo, d;
    if (!digits(&c, 4, &y))
        return 0;
    int sep = peekc(&c);
    if (sep != '-' && sep != '/')
        return 0;
    c.pos++;
    if (!digits(&c, 2, &mo) || peekc(&c) != sep)
        return 0;
    c.pos++;
    if (!digits(&c, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    if (peekc(&c) != ' ' && peekc(&c) != 'T')
        return 0;
    c.pos++;
    int64_t us;
    if (!clock_us(&c, &us))
        return 0;
    int64_t zone_s = 0;
    if (peekc(&c) == 'Z') {
        c.pos++;
    } else if ((peekc(&c) == '+' || peekc(&c) == '-') && sep == '-' && is_digit(peekc_at(&c, 1))) {
        int sign = peekc(&c) == '-' ? -1 : 1;
        dk_rd save = c;
        c.pos++;
        unsigned zh, zm = 0;
        bool ok = digits(&c, 2, &zh);
        if (ok && lit(&c, ":"))
            ok = digits(&c, 2, &zm);
        else if (ok)
            digits(&c, 2, &zm); /* "+0100" */
        if (ok && zh <= 23 && zm <= 59)
            zone_s = sign * ((int64_t)zh * 3600 + zm * 60);
        else
            c = save;
    }
    *t_us = (days_from_civil(y, mo, d) * 86400 - zone_s) * 1000000 + us;
    return c.pos;
}

/* ---- error code tables ---- */

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

/* ---- names ---- */

static const char *const fmt_names[DK_LOG_FORMAT_COUNT] = {
    "auto", "nrfutil", "ble", "socat", "hexdump", "hex", "saleae", "programmer",
};

const char *dk_log_format_name(dk_log_format f)
{
    return (unsigned)f < DK_LOG_FORMAT_COUNT ? fmt_names[f] : NULL;
}

int dk_log_format_by_name(const char *name)
{
    for (int i = 0; i < DK_LOG_FORMAT_COUNT; i++)
        if (name && strcmp(name, fmt_names[i]) == 0)
            return i;
    return -1;
}

const char *dk_nx_name(dk_nx_kind k)
{
    static const char *const n[] = {
        "other", "no_ping", "ext_error", "result", "unexpected_opcode", "not_a_response", "crc",
        "offset", "init_failed", "firmware_failed", "no_checksum", "port", "write", "timeout",
    };
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "other";
}

const char *dk_lr_kind_name(dk_lr_kind k)
{
    static const char *const n[] = { "msg", "raw", "tool", "unknown", "long", "cut" };
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}

/* ---- the reader ---- */

typedef enum { HOLD_NONE = 0, HOLD_EXC, HOLD_PERR } hold_kind;

struct dk_logrd {
    dk_log_format fmt;
    bool failed;
    dk_logrd_stats st;
    /* line assembly */
    char *line;
    size_t cap, llen;
    uint64_t ltotal, loff, pos;
    /* sniffing (AUTO) */
    uint8_t *sniff;
    size_t sniff_len;
    unsigned sniff_lines;
    /* the record being built */
    uint8_t msg[DK_LOG_MSG_MAX];
    dk_tool_ev tool;
    /* a record held for its continuation line */
    hold_kind hold;
    dk_logrec hrec;
    dk_tool_ev htool;
    /* nrfutil / ble */
    bool in_traceback;
    uint64_t traceback_line;
    bool prev_understood;
    /* socat */
    bool blk;
    dk_dir blk_dir;
    int64_t blk_t;
    uint64_t blk_len, blk_got, blk_line;
    /* hexdump */
    dk_dir hd_dir;
    bool hd_star;
    uint64_t hd_next;
    bool hd_started;
    uint8_t hd_last[64];
    size_t hd_last_len;
    /* hex */
    int hex_framed; /* -1 undecided, 0 messages, 1 SLIP bytes */
    /* saleae */
    int sa_name, sa_time, sa_data;
    char sa_names[SALEAE_CHANS][SALEAE_NAME];
    unsigned sa_count;
};

typedef struct {
    dk_logrd *r;
    dk_logrec_cb cb;
    void *ctx;
    dk_logrec base; /* line, off, text filled in */
} lctx;

static void deliver(dk_logrd *r, dk_logrec_cb cb, void *ctx, const dk_logrec *rec)
{
    r->st.records++;
    if (rec->kind == DK_LR_UNKNOWN) {
        r->st.unknown++;
        if (!r->st.first_unknown)
            r->st.first_unknown = rec->line;
    } else if (rec->kind == DK_LR_LONG) {
        r->st.long_lines++;
    } else if (rec->kind == DK_LR_CUT) {
        r->st.cut = true;
    }
    cb(ctx, rec);
}

static void emit_bytes(lctx *L, dk_lr_kind kind, dk_dir dir, int64_t t, bool abs,
                       const uint8_t *p, size_t n, unsigned chan)
{
    dk_logrec rec = L->base;
    rec.kind = kind;
    rec.dir = dir;
    rec.t_us = t;
    rec.t_abs = abs;
    rec.data = p;
    rec.len = n;
    rec.chan = chan;
    deliver(L->r, L->cb, L->ctx, &rec);
}

static void emit_tool(lctx *L, int64_t t, bool abs)
{
    dk_logrec rec = L->base;
    rec.kind = DK_LR_TOOL;
    rec.t_us = t;
    rec.t_abs = abs;
    rec.tool = &L->r->tool;
    deliver(L->r, L->cb, L->ctx, &rec);
}

static void emit_unknown(lctx *L, const char *why)
{
    dk_logrec rec = L->base;
    rec.kind = DK_LR_UNKNOWN;
    rec.why = why;
    deliver(L->r, L->cb, L->ctx, &rec);
}

static void tool_reset(dk_logrd *r, dk_tool_kind k)
{
    memset(&r->tool, 0, sizeof r->tool);
    r->tool.kind = k;
}

static void tool_text(dk_logrd *r, const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    if (n >= sizeof r->tool.text)
        n = sizeof r->tool.text - 1;
    memcpy(r->tool.text, s, n);
    r->tool.text[n] = 0;
}

/* Hold the tool event just built until the next line says whether it
 * continues it. */
static void hold(lctx *L, hold_kind k, int64_t t, bool abs)
{
    dk_logrd *r = L->r;
    r->hold = k;
    r->hrec = L->base;
    r->hrec.kind = DK_LR_TOOL;
    r->hrec.t_us = t;
    r->hrec.t_abs = abs;
    r->hrec.text = NULL; /* the line buffer is reused */
    r->hrec.text_len = 0;
    r->htool = r->tool;
}

static void release(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    if (r->hold == HOLD_NONE)
        return;
    r->hold = HOLD_NONE;
    r->hrec.tool = &r->htool;
    deliver(r, cb, ctx, &r->hrec);
}

/* ---- nrfutil and BLE ---- */

/* "[9, 1, 2]" (decimal, Python list) into r->msg. 1 ok, else why. */
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
        emit_bytes(L, DK_LR_MSG, dir, t, true, r->msg, len, 0);
        return NULL;
    }
    const char *d = find(s, n, "data([");
    if (d) {
        c.pos = (size_t)(d - s) + 5;
        const char *why = parse_list(&c, r->msg, sizeof r->msg, &len);
        if (why)
            return why;
        dk_dir dir = len && r->msg[0] == DK_OP_RESPONSE ? DK_DIR_TARGET : DK_DIR_HOST;
        emit_bytes(L, DK_LR_MSG, dir, t, true, r->msg, len, 0);
        return NULL;
    }
    bool transport = lit(&c, "Serial: ") || lit(&c, "BLE: ");
    uint32_t a, b, x;
    tool_reset(r, DK_TOOL_TEXT);
    tool_text(r, tx_here(&c), dk_rd_left(&c));
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
        emit_tool(L, t, true);
        return NULL;
    }
    if (lit(&c, "Using board at serial port: ")) {
        r->tool.kind = DK_TOOL_PORT;
        tool_text(r, tx_here(&c), dk_rd_left(&c));
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
    emit_tool(L, t, true);
    return NULL;
}

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

/* An exception line "a.b.SomeException: message" (or without message). */
static bool nrf_exception(lctx *L, const char *s, size_t n)
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
    tool_reset(r, DK_TOOL_EXCEPTION);
    if (clen >= sizeof r->tool.u.exc.cls)
        clen = sizeof r->tool.u.exc.cls - 1;
    memcpy(r->tool.u.exc.cls, cls, clen);
    if (lit(&c, ":"))
        skip_sp(&c);
    const char *m = tx_here(&c);
    size_t mlen = dk_rd_left(&c);
    tool_text(r, m, mlen);
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
    r->in_traceback = false;
    if (two_lines)
        hold(L, HOLD_EXC, -1, false);
    else
        emit_tool(L, -1, false);
    return true;
}

/* "Expected: 0x03 Received: 0xAB" / "Expected: 12 Received: 34." */
static bool expected_line(const char *s, size_t n, uint32_t *e, uint32_t *g)
{
    dk_rd c = tx(s, n);
    skip_sp(&c);
    return lit(&c, "Expected:") && (skip_sp(&c), num_u32(&c, e)) && (skip_sp(&c), true) &&
           lit(&c, "Received:") && (skip_sp(&c), num_u32(&c, g));
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

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static const char *parse_nrfutil(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    if (k && k < n && s[k] == ' ') {
        r->in_traceback = false;
        return nrf_message(L, s + k + 1, n - k - 1, t);
    }
    if (blank(s, n))
        return NULL;
    dk_rd c = tx(s, n);
    if (lit(&c, "Traceback (most recent call last):")) {
        r->in_traceback = true;
        r->traceback_line = L->base.line;
        tool_reset(r, DK_TOOL_TRACEBACK);
        emit_tool(L, -1, false);
        return NULL;
    }
    if (r->in_traceback && (s[0] == ' ' || s[0] == '\t'))
        return NULL; /* frames, source lines, carets */
    uint32_t e, g;
    if (expected_line(s, n, &e, &g)) /* second line of a DEBUG message */
        return NULL;
    if (lit(&c, "During handling of the above exception") ||
        lit(&c, "The above exception was the direct cause"))
        return NULL;
    unsigned pct;
    if (progress_line(s, n, &pct)) {
        tool_reset(r, DK_TOOL_PROGRESS);
        r->tool.u.progress.percent = pct;
        emit_tool(L, -1, false);
        return NULL;
    }
    c = tx(s, n);
    if (lit(&c, "Device programmed")) {
        tool_reset(r, DK_TOOL_DONE);
        tool_text(r, s, n);
        emit_tool(L, -1, false);
        return NULL;
    }
    if (nrf_exception(L, s, n))
        return NULL;
    if (r->in_traceback)
        return "traceback: expected a frame or the exception";
    return "not a line of this log format";
}

/* ---- socat -x ---- */

static void socat_close(lctx *L)
{
    dk_logrd *r = L->r;
    if (r->blk && r->blk_got != r->blk_len) {
        dk_logrec rec = L->base;
        rec.kind = DK_LR_UNKNOWN;
        rec.line = r->blk_line;
        rec.why = r->blk_got < r->blk_len ? "socat block has fewer bytes than its length="
                                          : "socat block has more bytes than its length=";
        rec.text = NULL;
        rec.text_len = 0;
        deliver(r, L->cb, L->ctx, &rec);
    }
    r->blk = false;
}

/* Hex pairs " xx xx ..." up to the ASCII column. */
static size_t hex_row(dk_rd *c, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && peekc(c) == ' ' && dk_hex_digit(peekc_at(c, 1)) >= 0 &&
           dk_hex_digit(peekc_at(c, 2)) >= 0 && (peekc_at(c, 3) == ' ' || peekc_at(c, 3) == -1)) {
        out[n++] = (uint8_t)(dk_hex_digit(peekc_at(c, 1)) * 16 + dk_hex_digit(peekc_at(c, 2)));
        c->pos += 3;
    }
    return n;
}

static bool socat_header(const char *s, size_t n, dk_dir *dir, int64_t *t, uint64_t *len)
{
    dk_rd c = tx(s, n);
    int m = peekc(&c);
    if ((m != '>' && m != '<') || peekc_at(&c, 1) != ' ')
        return false;
    c.pos += 2;
    size_t k = dk_log_parse_time(tx_here(&c), dk_rd_left(&c), t);
    if (!k)
        return false;
    c.pos += k;
    skip_sp(&c);
    if (!lit(&c, "length=") || !dec_u64(&c, len, 1u << 30))
        return false;
    *dir = m == '>' ? DK_DIR_HOST : DK_DIR_TARGET;
    return true;
}

static const char *parse_socat(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    dk_dir dir;
    int64_t t;
    uint64_t len;
    if (socat_header(s, n, &dir, &t, &len)) {
        socat_close(L);
        r->blk = true;
        r->blk_dir = dir;
        r->blk_t = t;
        r->blk_len = len;
        r->blk_got = 0;
        r->blk_line = L->base.line;
        return NULL;
    }
    if (n == 2 && s[0] == '-' && s[1] == '-') {
        socat_close(L);
        return NULL;
    }
    if (blank(s, n))
        return NULL;
    if (find(s, n, " socat[")) /* socat -d diagnostics */
        return NULL;
    if (s[0] == ' ') {
        dk_rd c = tx(s, n);
        size_t got = hex_row(&c, r->msg, sizeof r->msg);
        if (got) {
            if (!r->blk)
                return "hex row outside a socat block";
            r->blk_got += got;
            emit_bytes(L, DK_LR_RAW, r->blk_dir, r->blk_t, true, r->msg, got, 0);
            return NULL;
        }
    }
    return "not a socat -x line";
}

/* ---- hexdump -C / xxd ---- */

static bool dir_line(const char *s, size_t n, dk_dir *dir)
{
    dk_rd c = tx(s, n);
    skip_sp(&c);
    static const struct { const char *w; dk_dir d; } t[] = {
        { ">", DK_DIR_HOST },   { "<", DK_DIR_TARGET }, { "TX", DK_DIR_HOST },
        { "RX", DK_DIR_TARGET }, { "tx", DK_DIR_HOST },  { "rx", DK_DIR_TARGET },
        { "host", DK_DIR_HOST }, { "target", DK_DIR_TARGET },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dk_rd k = c;
        if (lit(&k, t[i].w)) {
            lit(&k, ":");
            skip_sp(&k);
            if (at_end(&k) || peekc(&k) == '\r') {
                *dir = t[i].d;
                return true;
            }
        }
    }
    return false;
}

static const char *parse_hexdump(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    dk_dir dir;
    if (dir_line(s, n, &dir)) {
        r->hd_dir = dir;
        r->hd_started = false;
        r->hd_star = false;
        return NULL;
    }
    if (blank(s, n))
        return NULL;
    if (n >= 1 && s[0] == '*' && blank(s + 1, n - 1)) {
        if (!r->hd_started)
            return "'*' before any row";
        r->hd_star = true;
        return NULL;
    }
    dk_rd c = tx(s, n);
    uint32_t off;
    size_t start = c.pos;
    if (!hex_u32(&c, &off) || c.pos - start < 7)
        return "not a hexdump row";
    bool xxd = lit(&c, ":");
    size_t got = 0;
    if (xxd) {
        /* groups of hex digits separated by one space, then two spaces */
        for (;;) {
            if (peekc(&c) != ' ' || dk_hex_digit(peekc_at(&c, 1)) < 0)
                break;
            c.pos++;
            while (dk_hex_digit(peekc(&c)) >= 0 && dk_hex_digit(peekc_at(&c, 1)) >= 0 && got < 64) {
                r->msg[got++] = (uint8_t)(dk_hex_digit(peekc(&c)) * 16 + dk_hex_digit(peekc_at(&c, 1)));
                c.pos += 2;
            }
            if (dk_hex_digit(peekc(&c)) >= 0)
                return "xxd row: odd number of hex digits";
        }
    } else {
        if (at_end(&c)) {
            /* the closing offset line */
            r->hd_next = off;
            return NULL;
        }
        for (;;) {
            size_t before = got;
            dk_rd k = c;
            lit(&k, " "); /* the extra space after 8 bytes */
            got += hex_row(&k, r->msg + got, 64 - got);
            if (got == before)
                break;
            c = k;
        }
        if (!got)
            return "hexdump row without bytes";
    }
    if (r->hd_started && off != r->hd_next) {
        if (r->hd_star && off > r->hd_next && r->hd_last_len) {
            uint64_t rows = (off - r->hd_next) / r->hd_last_len;
            if ((off - r->hd_next) % r->hd_last_len || rows > HEXDUMP_REPEAT_MAX) {
                emit_unknown(L, "'*' stands for a run that does not fit the offsets");
            } else {
                for (uint64_t i = 0; i < rows; i++)
                    emit_bytes(L, DK_LR_RAW, r->hd_dir, -1, false, r->hd_last, r->hd_last_len, 0);
            }
        } else if (off != 0) {
            emit_unknown(L, "hexdump offset jumps: rows are missing");
        }
    }
    r->hd_star = false;
    r->hd_started = true;
    r->hd_next = off + got;
    memcpy(r->hd_last, r->msg, got);
    r->hd_last_len = got;
    emit_bytes(L, DK_LR_RAW, r->hd_dir, -1, false, r->msg, got, 0);
    return NULL;
}

/* ---- plain hex with direction markers ---- */

/* Optional leading time: absolute stamp, "[HH:MM:SS.fff]", or seconds. */
static void hex_time(dk_rd *c, int64_t *t, bool *abs)
{
    *t = -1;
    *abs = false;
    size_t k = dk_log_parse_time(tx_here(c), dk_rd_left(c), t);
    if (k) {
        c->pos += k;
        *abs = true;
        skip_sp(c);
        return;
    }
    dk_rd s = *c;
    bool br = lit(&s, "[");
    int64_t us;
    if (clock_us(&s, &us) && (!br || lit(&s, "]")) && (peekc(&s) == ' ' || peekc(&s) == '\t')) {
        *c = s;
        *t = us;
        skip_sp(c);
        return;
    }
    s = *c;
    br = lit(&s, "[");
    uint64_t sec;
    if (dec_u64(&s, &sec, 1ull << 40) && lit(&s, ".") && is_digit(peekc(&s))) {
        int64_t frac = 0, scale = 100000;
        while (is_digit(peekc(&s))) {
            frac += (peekc(&s) - '0') * scale;
            scale /= 10;
            s.pos++;
        }
        if ((!br || lit(&s, "]")) && (peekc(&s) == ' ' || peekc(&s) == '\t')) {
            *c = s;
            *t = (int64_t)sec * 1000000 + frac;
            skip_sp(c);
        }
    }
}

static bool hex_marker(dk_rd *c, dk_dir *dir)
{
    static const struct { const char *w; dk_dir d; } t[] = {
        { "->", DK_DIR_HOST },   { "<-", DK_DIR_TARGET }, { ">>", DK_DIR_HOST },
        { "<<", DK_DIR_TARGET }, { ">", DK_DIR_HOST },    { "<", DK_DIR_TARGET },
        { "TX", DK_DIR_HOST },   { "RX", DK_DIR_TARGET }, { "Tx", DK_DIR_HOST },
        { "Rx", DK_DIR_TARGET }, { "tx", DK_DIR_HOST },   { "rx", DK_DIR_TARGET },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dk_rd k = *c;
        if (lit(&k, t[i].w)) {
            lit(&k, ":");
            if (peekc(&k) != ' ' && peekc(&k) != '\t')
                continue;
            skip_sp(&k);
            *c = k;
            *dir = t[i].d;
            return true;
        }
    }
    return false;
}

/* "09 01 C0", "0x09,0x01", "09-01-c0", "0901c0". */
static const char *hex_bytes(dk_rd *c, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    while (!at_end(c)) {
        skip_sp(c);
        if (at_end(c) || peekc(c) == '\r')
            break;
        if (peekc(c) == '0' && lower(peekc_at(c, 1)) == 'x')
            c->pos += 2;
        if (dk_hex_digit(peekc(c)) < 0 || dk_hex_digit(peekc_at(c, 1)) < 0)
            return "expected hex bytes";
        while (dk_hex_digit(peekc(c)) >= 0 && dk_hex_digit(peekc_at(c, 1)) >= 0) {
            if (*n >= cap)
                return "hex row longer than 4096 bytes";
            out[(*n)++] = (uint8_t)(dk_hex_digit(peekc(c)) * 16 + dk_hex_digit(peekc_at(c, 1)));
            c->pos += 2;
        }
        if (dk_hex_digit(peekc(c)) >= 0)
            return "odd number of hex digits";
        if (peekc(c) == ',' || peekc(c) == '-' || peekc(c) == ':')
            c->pos++;
    }
    return *n ? NULL : "no hex bytes after the marker";
}

static const char *parse_hex(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    if (blank(s, n) || s[0] == '#')
        return NULL;
    dk_rd c = tx(s, n);
    int64_t t;
    bool abs;
    hex_time(&c, &t, &abs);
    dk_dir dir;
    if (!hex_marker(&c, &dir))
        return "no direction marker (>, <, TX, RX)";
    size_t len;
    const char *why = hex_bytes(&c, r->msg, sizeof r->msg, &len);
    if (why)
        return why;
    if (r->hex_framed < 0) {
        dk_msg m;
        bool c0 = memchr(r->msg, DK_SLIP_END, len) != NULL;
        dk_msg_status st = dk_msg_parse(r->msg, len, &m);
        r->hex_framed = (!c0 && (st == DK_MSG_OK || st == DK_MSG_OVERLONG)) ? 0 : 1;
    }
    emit_bytes(L, r->hex_framed ? DK_LR_RAW : DK_LR_MSG, dir, t, abs, r->msg, len, 0);
    return NULL;
}

/* ---- Saleae Logic 2 CSV ---- */

/* Next CSV field into [*f, *fl); quotes removed (doubled quotes kept as is). */
static bool csv_field(dk_rd *c, const char **f, size_t *fl)
{
    if (at_end(c))
        return false;
    if (peekc(c) == '"') {
        c->pos++;
        *f = tx_here(c);
        size_t st = c->pos;
        while (!at_end(c)) {
            if (peekc(c) == '"' && peekc_at(c, 1) == '"') {
                c->pos += 2;
                continue;
            }
            if (peekc(c) == '"')
                break;
            c->pos++;
        }
        if (at_end(c))
            return false; /* unterminated quote */
        *fl = c->pos - st;
        c->pos++;
    } else {
        *f = tx_here(c);
        size_t st = c->pos;
        while (!at_end(c) && peekc(c) != ',' && peekc(c) != '\r')
            c->pos++;
        *fl = c->pos - st;
    }
    if (peekc(c) == ',')
        c->pos++;
    else
        c->pos = c->len;
    return true;
}

static bool fieq(const char *f, size_t fl, const char *s)
{
    return strlen(s) == fl && memcmp(f, s, fl) == 0;
}

static bool saleae_byte(const char *f, size_t fl, uint8_t *b)
{
    dk_rd c = tx(f, fl);
    uint32_t v;
    if (fl >= 3 && f[0] == '0' && lower(f[1]) == 'b') {
        v = 0;
        for (size_t i = 2; i < fl; i++) {
            if (f[i] != '0' && f[i] != '1')
                return false;
            v = v * 2 + (uint32_t)(f[i] - '0');
        }
        if (fl - 2 > 8)
            return false;
        *b = (uint8_t)v;
        return true;
    }
    if (fl >= 2 && is_digit(f[0]) && num_u32(&c, &v) && at_end(&c) && v <= 255) {
        *b = (uint8_t)v;
        return true;
    }
    if (fl == 1 && is_digit(f[0])) {
        *b = (uint8_t)(f[0] - '0');
        return true;
    }
    if (fl >= 3 && f[0] == '\'' && f[fl - 1] == '\'') {
        f++;
        fl -= 2;
    }
    if (fl == 1) {
        *b = (uint8_t)f[0];
        return true;
    }
    if (fl == 2 && f[0] == '\\') {
        switch (f[1]) {
        case 'n': *b = '\n'; return true;
        case 'r': *b = '\r'; return true;
        case 't': *b = '\t'; return true;
        case '0': *b = 0; return true;
        case '\\': *b = '\\'; return true;
        default: return false;
        }
    }
    if (fl == 4 && f[0] == '\\' && f[1] == 'x' && dk_hex_digit(f[2]) >= 0 && dk_hex_digit(f[3]) >= 0) {
        *b = (uint8_t)(dk_hex_digit(f[2]) * 16 + dk_hex_digit(f[3]));
        return true;
    }
    return false;
}

static bool ci_has(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++) {
        size_t k = 0;
        while (k < wl && lower(s[i + k]) == w[k])
            k++;
        if (k == wl)
            return true;
    }
    return false;
}

static const char *parse_saleae(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    if (blank(s, n))
        return NULL;
    const char *f[16];
    size_t fl[16];
    unsigned nf = 0;
    dk_rd c = tx(s, n);
    while (nf < 16 && csv_field(&c, &f[nf], &fl[nf]))
        nf++;
    if (!at_end(&c) && nf == 16)
        return "CSV row with too many columns";
    /* the header names the columns */
    for (unsigned i = 0; i < nf; i++) {
        if (fieq(f[i], fl[i], "start_time") || fieq(f[i], fl[i], "Time [s]")) {
            r->sa_name = r->sa_time = r->sa_data = -1;
            for (unsigned k = 0; k < nf; k++) {
                if (fieq(f[k], fl[k], "name"))
                    r->sa_name = (int)k;
                else if (fieq(f[k], fl[k], "start_time") || fieq(f[k], fl[k], "Time [s]"))
                    r->sa_time = (int)k;
                else if (fieq(f[k], fl[k], "data") || fieq(f[k], fl[k], "Value"))
                    r->sa_data = (int)k;
            }
            return r->sa_time >= 0 && r->sa_data >= 0 ? NULL : "CSV header without time/data";
        }
    }
    if (r->sa_time < 0 || r->sa_data < 0 || (unsigned)r->sa_time >= nf ||
        (unsigned)r->sa_data >= nf)
        return "not a CSV row of the export";
    /* time */
    dk_rd tc = tx(f[r->sa_time], fl[r->sa_time]);
    uint64_t sec = 0;
    int64_t frac = 0;
    bool neg = lit(&tc, "-");
    if (!dec_u64(&tc, &sec, 1ull << 40))
        return "CSV row: bad start_time";
    if (lit(&tc, ".")) {
        int64_t scale = 100000;
        while (is_digit(peekc(&tc))) {
            frac += (peekc(&tc) - '0') * scale;
            scale /= 10;
            tc.pos++;
        }
    }
    if (!at_end(&tc))
        return "CSV row: bad start_time";
    int64_t t = (int64_t)sec * 1000000 + frac;
    if (neg)
        t = -t;
    uint8_t b;
    if (!saleae_byte(f[r->sa_data], fl[r->sa_data], &b))
        return "CSV row: data is not one byte";
    unsigned chan = 0;
    dk_dir dir = DK_DIR_UNKNOWN;
    if (r->sa_name >= 0 && (unsigned)r->sa_name < nf) {
        const char *nm = f[r->sa_name];
        size_t nl = fl[r->sa_name] < SALEAE_NAME - 1 ? fl[r->sa_name] : SALEAE_NAME - 1;
        unsigned i;
        for (i = 0; i < r->sa_count; i++)
            if (strlen(r->sa_names[i]) == nl && memcmp(r->sa_names[i], nm, nl) == 0)
                break;
        if (i == r->sa_count && r->sa_count < SALEAE_CHANS) {
            memcpy(r->sa_names[i], nm, nl);
            r->sa_names[i][nl] = 0;
            r->sa_count++;
        }
        chan = i;
        if (ci_has(nm, nl, "tx") || ci_has(nm, nl, "host"))
            dir = DK_DIR_HOST;
        else if (ci_has(nm, nl, "rx") || ci_has(nm, nl, "target") || ci_has(nm, nl, "device"))
            dir = DK_DIR_TARGET;
    }
    r->msg[0] = b;
    emit_bytes(L, DK_LR_RAW, dir, t, false, r->msg, 1, chan);
    return NULL;
}

/* ---- nRF Connect Programmer ---- */

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
    tool_reset(r, DK_TOOL_PROG_STEP);
    tool_text(r, m, ml);
    bool failure = err || find(m, ml, "failed with error") || find(m, ml, "Errorcode:");
    if (failure) {
        ev->kind = DK_TOOL_PROG_ERROR;
        ev->u.perr.modem = find(m, ml, "Modem DFU") != NULL;
        prog_codes(ev, m, ml);
        if (ev->u.perr.has_code && !ev->u.perr.has_lowlevel)
            hold(L, HOLD_PERR, t, true);
        else
            emit_tool(L, t, true);
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
    emit_tool(L, t, true);
    return NULL;
}

/* ---- per line ---- */

typedef const char *(*line_parser)(lctx *L, const char *s, size_t n);

static line_parser parser_of(dk_log_format f)
{
    switch (f) {
    case DK_LOG_NRFUTIL:
    case DK_LOG_BLE: return parse_nrfutil;
    case DK_LOG_SOCAT: return parse_socat;
    case DK_LOG_HEXDUMP: return parse_hexdump;
    case DK_LOG_HEX: return parse_hex;
    case DK_LOG_SALEAE: return parse_saleae;
    case DK_LOG_PROGRAMMER: return parse_programmer;
    default: return NULL;
    }
}

/* A held record takes this line as its continuation, or is released first. */
static bool continue_held(lctx *L, const char *s, size_t n)
{
    dk_logrd *r = L->r;
    if (r->hold == HOLD_EXC) {
        uint32_t e, g;
        if (expected_line(s, n, &e, &g)) {
            r->htool.u.exc.has_values = true;
            r->htool.u.exc.expected = e;
            r->htool.u.exc.received = g;
            release(r, L->cb, L->ctx);
            return true;
        }
    } else if (r->hold == HOLD_PERR) {
        int64_t t;
        if (!dk_log_parse_time(s, n, &t) && find(s, n, "Lowlevel error:")) {
            prog_codes(&r->htool, s, n);
            release(r, L->cb, L->ctx);
            return true;
        }
    }
    release(r, L->cb, L->ctx);
    return false;
}

static void process_line(dk_logrd *r, const char *s, size_t n, dk_logrec_cb cb, void *ctx)
{
    lctx L = { r, cb, ctx, { 0 } };
    L.base.fmt = r->fmt;
    L.base.line = r->st.lines;
    L.base.off = r->loff;
    L.base.line_len = r->ltotal;
    L.base.t_us = -1;
    L.base.text = s;
    L.base.text_len = n;
    if (r->hold && continue_held(&L, s, n)) {
        r->st.understood++;
        r->st.last_understood = L.base.line;
        r->prev_understood = true;
        return;
    }
    line_parser p = parser_of(r->fmt);
    const char *why = p ? p(&L, s, n) : "no format";
    if (why) {
        emit_unknown(&L, why);
        r->prev_understood = false;
    } else {
        r->st.understood++;
        r->st.last_understood = L.base.line;
        r->prev_understood = true;
    }
}

/* ---- sniffing ---- */

static bool is_text(const uint8_t *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (b == 0)
            return false;
        if (b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != 0x1B)
            bad++;
        if (b == 0x7F)
            bad++;
    }
    return bad * 20 <= n;
}

/* Scores of one line, per format. */
static void score_line(const char *s, size_t n, unsigned *sc)
{
    int64_t t;
    size_t k = dk_log_parse_time(s, n, &t);
    dk_rd c = tx(s, n);
    if (k && k < n && s[k] == ' ') {
        dk_rd m = tx(s + k + 1, n - k - 1);
        bool prog_like = k > 10 && s[10] == 'T';
        bool lv;
        if (prog_like && prog_level(&m, &lv)) {
            sc[DK_LOG_PROGRAMMER] += 2;
            return;
        }
        m = tx(s + k + 1, n - k - 1);
        if (k >= 23 && s[19] == ',') {
            sc[DK_LOG_NRFUTIL] += 1;
            if (lit(&m, "SLIP: ") || lit(&m, "Serial: "))
                sc[DK_LOG_NRFUTIL] += 2;
            m = tx(s + k + 1, n - k - 1);
            if (lit(&m, "BLE: ") || find(s, n, "data(["))
                sc[DK_LOG_BLE] += 3;
        }
    }
    dk_dir d;
    int64_t ts;
    uint64_t len;
    if (socat_header(s, n, &d, &ts, &len))
        sc[DK_LOG_SOCAT] += 3;
    c = tx(s, n);
    if (lit(&c, "Traceback (most recent call last)")) {
        sc[DK_LOG_NRFUTIL] += 1;
    }
    unsigned pct;
    if (progress_line(s, n, &pct))
        sc[DK_LOG_NRFUTIL] += 1;
    /* hexdump -C / xxd row */
    c = tx(s, n);
    uint32_t off;
    if (hex_u32(&c, &off) && c.pos >= 7) {
        if ((lit(&c, "  ") && dk_hex_digit(peekc(&c)) >= 0 && dk_hex_digit(peekc_at(&c, 1)) >= 0) ||
            (lit(&c, ": ") && dk_hex_digit(peekc(&c)) >= 0))
            sc[DK_LOG_HEXDUMP] += 1;
    }
    /* marker + hex */
    c = tx(s, n);
    bool abs;
    hex_time(&c, &ts, &abs);
    if (hex_marker(&c, &d)) {
        uint8_t tmp[DK_LOG_MSG_MAX];
        size_t hn;
        if (!hex_bytes(&c, tmp, sizeof tmp, &hn))
            sc[DK_LOG_HEX] += 1;
    }
    /* Saleae */
    if (find(s, n, "start_time") && find(s, n, "name,") && find(s, n, "data"))
        sc[DK_LOG_SALEAE] += 5;
    else if (find(s, n, ",data,") && find(s, n, ",0x"))
        sc[DK_LOG_SALEAE] += 1;
}

dk_log_format dk_log_sniff(const uint8_t *head, size_t len, unsigned *score)
{
    if (score)
        *score = 0;
    if (!len || !is_text(head, len))
        return DK_LOG_AUTO;
    unsigned sc[DK_LOG_FORMAT_COUNT] = { 0 };
    size_t i = 0;
    unsigned lines = 0;
    while (i < len && lines < DK_LOG_SNIFF_LINES) {
        const uint8_t *nl = memchr(head + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - head) : len;
        if (!nl && i > 0)
            break; /* a partial last line */
        size_t n = e - i;
        if (n && head[i + n - 1] == '\r')
            n--;
        score_line((const char *)head + i, n, sc);
        lines++;
        i = e + 1;
    }
    /* BLE lines are nrfutil lines too */
    if (sc[DK_LOG_BLE])
        sc[DK_LOG_BLE] += sc[DK_LOG_NRFUTIL];
    dk_log_format best = DK_LOG_AUTO;
    unsigned bs = 0;
    for (int f = 1; f < DK_LOG_FORMAT_COUNT; f++)
        if (sc[f] > bs) {
            bs = sc[f];
            best = (dk_log_format)f;
        }
    if (score)
        *score = bs;
    return best;
}

/* ---- streaming ---- */

dk_logrd *dk_logrd_new(dk_log_format fmt, size_t line_max)
{
    if ((unsigned)fmt >= DK_LOG_FORMAT_COUNT)
        return NULL;
    if (line_max == 0)
        line_max = DK_LOG_LINE_MAX_DEFAULT;
    if (line_max < 256)
        line_max = 256;
    dk_logrd *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->line = malloc(line_max);
    if (fmt == DK_LOG_AUTO)
        r->sniff = malloc(DK_LOG_SNIFF_MAX);
    if (!r->line || (fmt == DK_LOG_AUTO && !r->sniff)) {
        dk_logrd_free(r);
        return NULL;
    }
    r->cap = line_max;
    r->fmt = fmt;
    r->st.fmt = fmt;
    r->hex_framed = -1;
    r->sa_name = 0;
    r->sa_time = 2;
    r->sa_data = 4;
    return r;
}

void dk_logrd_free(dk_logrd *r)
{
    if (!r)
        return;
    free(r->line);
    free(r->sniff);
    free(r);
}

dk_log_format dk_logrd_format(const dk_logrd *r) { return r->fmt; }
bool dk_logrd_failed(const dk_logrd *r) { return r->failed; }
const dk_logrd_stats *dk_logrd_stats_get(const dk_logrd *r) { return &r->st; }

static void end_line(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    r->st.lines++;
    if (r->ltotal > r->cap) {
        release(r, cb, ctx);
        dk_logrec rec = { 0 };
        rec.kind = DK_LR_LONG;
        rec.fmt = r->fmt;
        rec.line = r->st.lines;
        rec.off = r->loff;
        rec.line_len = r->ltotal;
        rec.t_us = -1;
        rec.text = r->line;
        rec.text_len = r->llen;
        rec.why = "line longer than the reader's limit: skipped";
        r->prev_understood = false;
        deliver(r, cb, ctx, &rec);
    } else {
        size_t n = r->llen;
        if (n && r->line[n - 1] == '\r')
            n--;
        process_line(r, r->line, n, cb, ctx);
    }
    r->llen = 0;
    r->ltotal = 0;
}

/* Cut bytes into lines. */
static void split(dk_logrd *r, const uint8_t *p, size_t n, dk_logrec_cb cb, void *ctx)
{
    while (n) {
        if (r->ltotal == 0 && r->llen == 0)
            r->loff = r->pos;
        const uint8_t *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        size_t room = r->cap - r->llen;
        size_t take = k < room ? k : room;
        memcpy(r->line + r->llen, p, take);
        r->llen += take;
        r->ltotal += k;
        r->pos += k;
        p += k;
        n -= k;
        if (nl) {
            r->pos++;
            p++;
            n--;
            end_line(r, cb, ctx);
        }
    }
}

static void decide(dk_logrd *r, dk_logrec_cb cb, void *ctx)
{
    unsigned score;
    dk_log_format f = dk_log_sniff(r->sniff, r->sniff_len, &score);
    r->st.sniff_score = score;
    if (f == DK_LOG_AUTO) {
        r->failed = true;
    } else {
        r->fmt = f;
        r->st.fmt = f;
        split(r, r->sniff, r->sniff_len, cb, ctx);
    }
    free(r->sniff);
    r->sniff = NULL;
    r->sniff_len = 0;
}

void dk_logrd_feed(dk_logrd *r, const uint8_t *data, size_t len, dk_logrec_cb cb, void *ctx)
{
    r->st.bytes += len;
    if (r->failed)
        return;
    if (r->fmt == DK_LOG_AUTO) {
        size_t take = DK_LOG_SNIFF_MAX - r->sniff_len;
        if (take > len)
            take = len;
        memcpy(r->sniff + r->sniff_len, data, take);
        for (size_t i = 0; i < take; i++)
            r->sniff_lines += data[i] == '\n';
        r->sniff_len += take;
        data += take;
        len -= take;
        if (r->sniff_len < DK_LOG_SNIFF_MAX && r->sniff_lines < DK_LOG_SNIFF_LINES)
            return;
        decide(r, cb, ctx);
        if (r->failed)
            return;
    }
    split(r, data, len, cb, ctx);
}

static void cut(dk_logrd *r, dk_logrec_cb cb, void *ctx, uint64_t line, const char *why)
{
    dk_logrec rec = { 0 };
    rec.kind = DK_LR_CUT;
    rec.fmt = r->fmt;
    rec.line = line;
    rec.off = r->pos;
    rec.t_us = -1;
    rec.why = why;
    deliver(r, cb, ctx, &rec);
}

dk_status dk_logrd_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx, dk_err *err)
{
    if (r->fmt == DK_LOG_AUTO && !r->failed)
        decide(r, cb, ctx);
    if (r->failed)
        return dk_err_set(err, DK_E_FORMAT, 0,
                          "not a log this reader knows (binary data, or no line of nrfutil, "
                          "BLE, socat, hexdump, hex, Saleae or Programmer format)");
    bool partial = r->llen || r->ltotal;
    uint64_t before = r->st.unknown;
    if (partial)
        end_line(r, cb, ctx);
    bool held = r->hold != HOLD_NONE;
    bool held_exc = r->hold == HOLD_EXC;
    release(r, cb, ctx);
    if (held_exc)
        cut(r, cb, ctx, r->st.lines, "the exception's second line (Expected/Received) is missing");
    (void)held;
    if ((r->fmt == DK_LOG_NRFUTIL || r->fmt == DK_LOG_BLE) && r->in_traceback)
        cut(r, cb, ctx, r->traceback_line, "the traceback ends without its exception line");
    if (r->fmt == DK_LOG_SOCAT && r->blk && r->blk_got < r->blk_len) {
        r->blk = false;
        cut(r, cb, ctx, r->blk_line, "the last socat block ends before its length=");
    }
    if (partial && r->st.unknown > before)
        cut(r, cb, ctx, r->st.lines, "the last line is cut off");
    return DK_OK;
}
