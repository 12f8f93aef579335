/* dk-genlog - deterministic field logs in every format logread.h reads.
 *
 * One scripted serial DFU session per scenario: the host follows nrfutil
 * 6.1.7's procedure (protocol.md §5.2: PING, RECEIPT_NOTIF_SET, MTU_GET,
 * SELECT/CREATE/WRITE(64 bytes)/CRC_GET/EXECUTE, its resume rules and its
 * exceptions); the target is dfusim's SDK 17.1 bootloader core (sim/bl.h
 * through tests/support/sim_target.h), set up as the scenario's device, with
 * at most one line fault (lost WRITEs, a late answer, a target that goes
 * silent) added here.  The session is rendered as a log of the chosen
 * format: nrfutil -vvvv lines in §5.3's shape, nrfutil without -v (progress
 * bar and traceback), a BLE DFU log, socat -x -v, hexdump -C, plain hex,
 * Saleae Logic 2 CSV; Programmer logs are their own timelines.
 *
 * Time: 115200 baud 8N1 (86.8 us a byte), 85 ms page erase on a data
 * CREATE, settings writes on EXECUTE; starts 2024-05-14 10:00:00.  The same
 * arguments give the same bytes.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/pkg.h"
#include "dfukit/rd.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"
#include "dk_test_cmd.h"
#include "sim_target.h"

#define TOOL "dk-genlog"
#define US_BYTE 87                    /* 10 bits at 115200 baud, rounded */
#define T0_S 1715680800LL             /* 2024-05-14 10:00:00 */
#define OBJ_MAX 4096
#define CMD_MAX 512
#define CHUNK 64                      /* nrfutil's WRITE payload on UART (§4) */

typedef enum { F_NRFUTIL, F_PLAIN, F_BLE, F_SOCAT, F_HEXDUMP, F_HEX, F_SALEAE } out_fmt;

static const char *const fmt_names[] = { "nrfutil", "nrfutil-plain", "ble", "socat",
                                         "hexdump", "hex", "saleae" };

/* ---- output ---- */

typedef struct {
    FILE *f;
    out_fmt fmt;
    int64_t t_us;           /* session clock, from T0 */
    uint64_t sent[3];       /* socat from= counters per direction */
    uint64_t hd_off;        /* hexdump offset */
    unsigned pct_last;
    char bar[4096];         /* progress bar updates (nrfutil-plain) */
    size_t bar_len;
} out;

static void stamp_nrf(out *o, char *buf, size_t cap)
{
    time_t s = (time_t)(T0_S + o->t_us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(o->t_us % 1000000 / 1000));
}

static bool lines_fmt(const out *o) { return o->fmt == F_NRFUTIL || o->fmt == F_BLE; }

/* A DEBUG or INFO line of the tool (shown with -vvvv / in BLE logs). */
static void tool_line(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tool_line(out *o, const char *fmt, ...)
{
    if (!lines_fmt(o))
        return;
    char ts[64];
    stamp_nrf(o, ts, sizeof ts);
    fprintf(o->f, "%s ", ts);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
    fputc('\n', o->f);
}

static void list_dec(FILE *f, const uint8_t *p, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, i ? ", %u" : "%u", p[i]);
    fputc(']', f);
}

static void hex_rows(out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        size_t k = n - i < 16 ? n - i : 16;
        for (size_t j = 0; j < 16; j++) {
            if (j < k)
                fprintf(o->f, " %02x", p[i + j]);
            else
                fputs("   ", o->f);
        }
        fputs("  ", o->f);
        for (size_t j = 0; j < k; j++)
            fputc(p[i + j] >= 0x20 && p[i + j] < 0x7F ? p[i + j] : '.', o->f);
        fputc('\n', o->f);
    }
}

static void hexdump_rows(out *o, const uint8_t *p, size_t n)
{
    /* a merged capture dumped with hexdump -C: rows continue across frames */
    static uint8_t row[16];
    static size_t have;
    for (size_t i = 0; i < n; i++) {
        row[have++] = p[i];
        if (have == 16 || (p == NULL)) {
            fprintf(o->f, "%08" PRIx64 " ", o->hd_off);
            for (size_t j = 0; j < 16; j++)
                fprintf(o->f, "%s %02x", j == 8 ? " " : "", row[j]);
            fputs("  |", o->f);
            for (size_t j = 0; j < 16; j++)
                fputc(row[j] >= 0x20 && row[j] < 0x7F ? row[j] : '.', o->f);
            fputs("|\n", o->f);
            o->hd_off += 16;
            have = 0;
        }
    }
    if (n == 0 && have) { /* flush */
        fprintf(o->f, "%08" PRIx64 " ", o->hd_off);
        for (size_t j = 0; j < 16; j++) {
            if (j < have)
                fprintf(o->f, "%s %02x", j == 8 ? " " : "", row[j]);
            else
                fprintf(o->f, "%s   ", j == 8 ? " " : "");
        }
        fputs("  |", o->f);
        for (size_t j = 0; j < have; j++)
            fputc(row[j] >= 0x20 && row[j] < 0x7F ? row[j] : '.', o->f);
        fputs("|\n", o->f);
        o->hd_off += have;
        have = 0;
    }
    if (n == 0)
        fprintf(o->f, "%08" PRIx64 "\n", o->hd_off);
}

/* One unframed message crossing the line. The clock advances by its
 * transmission time; t is the moment its last byte arrived. */
static void line_msg(out *o, dk_dir dir, const uint8_t *m, size_t n)
{
    uint8_t enc[DK_SLIP_MAX_ENCODED(256)];
    size_t en = dk_slip_encode(m, n, enc);
    int64_t t_start = o->t_us;
    o->t_us += (int64_t)en * US_BYTE;
    char ts[64];
    switch (o->fmt) {
    case F_NRFUTIL:
        stamp_nrf(o, ts, sizeof ts);
        fprintf(o->f, "%s SLIP: %s ", ts, dir == DK_DIR_HOST ? "-->" : "<--");
        list_dec(o->f, m, n);
        fputc('\n', o->f);
        break;
    case F_PLAIN:
        break;
    case F_BLE:
        if (dir == DK_DIR_HOST && n && m[0] == DK_OP_OBJECT_WRITE)
            break; /* the data point is not logged */
        stamp_nrf(o, ts, sizeof ts);
        fprintf(o->f, "%s BLE: %s data(", ts,
                dir == DK_DIR_HOST ? "Control point write:" : "Control point notification:");
        list_dec(o->f, m, n);
        fputs(")\n", o->f);
        break;
    case F_SOCAT: {
        time_t s = (time_t)(T0_S + o->t_us / 1000000);
        struct tm tm;
        gmtime_r(&s, &tm);
        fprintf(o->f, "%c %04d/%02d/%02d %02d:%02d:%02d.%06d  length=%zu from=%" PRIu64
                      " to=%" PRIu64 "\n",
                dir == DK_DIR_HOST ? '>' : '<', tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(o->t_us % 1000000), en, o->sent[dir],
                o->sent[dir] + en - 1);
        o->sent[dir] += en;
        hex_rows(o, enc, en);
        fputs("--\n", o->f);
        break;
    }
    case F_HEXDUMP:
        hexdump_rows(o, enc, en);
        break;
    case F_HEX: {
        int64_t sod = (T0_S + o->t_us / 1000000) % 86400;
        fprintf(o->f, "[%02d:%02d:%02d.%03d] %s:", (int)(sod / 3600), (int)(sod / 60 % 60),
                (int)(sod % 60), (int)(o->t_us % 1000000 / 1000), dir == DK_DIR_HOST ? "TX" : "RX");
        for (size_t i = 0; i < en; i++)
            fprintf(o->f, " %02X", enc[i]);
        fputc('\n', o->f);
        break;
    }
    case F_SALEAE:
        for (size_t i = 0; i < en; i++) {
            int64_t tb = t_start + (int64_t)i * US_BYTE;
            fprintf(o->f, "%s,data,%" PRId64 ".%06" PRId64 ",0.0000868,0x%02X\n",
                    dir == DK_DIR_HOST ? "Async Serial [TX]" : "Async Serial [RX]",
                    tb / 1000000, tb % 1000000, enc[i]);
        }
        break;
    }
}

static void progress(out *o, unsigned pct)
{
    if (o->fmt != F_PLAIN)
        return;
    char b[37];
    unsigned fill = pct * 36 / 100;
    for (unsigned i = 0; i < 36; i++)
        b[i] = i < fill ? '#' : '-';
    b[36] = 0;
    int n = snprintf(o->bar + o->bar_len, sizeof o->bar - o->bar_len, "%s  [%s]  %3u%%  00:00:%02u",
                     o->bar_len ? "\r" : "", b, pct, 100 - pct < 60 ? (100 - pct) / 4 : 59);
    if (n > 0 && (size_t)n < sizeof o->bar - o->bar_len)
        o->bar_len += (size_t)n;
    o->pct_last = pct;
}

static const char *cmdline;

static void begin(out *o)
{
    if (cmdline && (o->fmt == F_NRFUTIL || o->fmt == F_PLAIN))
        fprintf(o->f, "%s\n", cmdline);
    if (o->fmt == F_SALEAE)
        fputs("name,type,start_time,duration,data\n", o->f);
    if (o->fmt == F_PLAIN)
        progress(o, 0);
}

/* End: nrfutil's last words (traceback lines, or NULL on success). */
static void finish(out *o, const char *const *exc)
{
    if (o->fmt == F_HEXDUMP)
        hexdump_rows(o, NULL, 0);
    bool nrf = o->fmt == F_NRFUTIL || o->fmt == F_PLAIN || o->fmt == F_BLE;
    if (!nrf)
        return;
    if (o->fmt == F_PLAIN)
        fprintf(o->f, "%.*s\n", (int)o->bar_len, o->bar);
    if (!exc) {
        fputs("Device programmed.\n", o->f);
        return;
    }
    for (size_t i = 0; exc[i]; i++)
        fprintf(o->f, "%s\n", exc[i]);
}

/* ---- the target: the simulator's bootloader core (sim_target.h) ---- */

typedef struct {
    st_chip chip;
    /* line faults */
    int lose_obj;             /* this data object loses WRITE frames lose_from.. (0: none) */
    unsigned lose_from, lose_n;
    unsigned silent_after_crc;/* goes silent at CRC_GET number this + 1 (0: never) */
    int slow_exec_obj;        /* this data object's EXECUTE answer comes > 1 s late (0: none) */
    /* what the line saw */
    bool stalled;
    unsigned executed, crc_gets, obj_writes;
    uint8_t late[8];          /* a late answer to deliver with the next one */
    size_t late_len;
} target;

/* One request at now_us: the core's answer in o (cap 64), its length (0:
 * none), unless a line fault of the scenario takes the request. */
static size_t tgt_answer(target *d, const uint8_t *m, size_t n, int64_t now_us, uint8_t *o)
{
    if (!n)
        return 0;
    if (m[0] == DK_OP_CRC_GET && d->silent_after_crc && ++d->crc_gets > d->silent_after_crc)
        d->stalled = true;
    if (d->stalled || !ds_bl_in_dfu(d->chip.bl))
        return 0;
    uint8_t obj = ds_bl_current_obj(d->chip.bl);
    if (m[0] == DK_OP_OBJECT_CREATE)
        d->obj_writes = 0;
    if (m[0] == DK_OP_OBJECT_WRITE && obj == DK_OBJ_DATA) {
        d->obj_writes++;
        if ((int)d->executed + 1 == d->lose_obj && d->obj_writes >= d->lose_from &&
            d->obj_writes < d->lose_from + d->lose_n)
            return 0; /* lost on the line (an overrun, a glued frame: §14.6) */
    }
    if (m[0] == DK_OP_OBJECT_EXECUTE && obj == DK_OBJ_DATA)
        d->executed++;
    size_t an = 0;
    st_request(&d->chip, m, n, (uint64_t)now_us / 1000, o, 64, &an);
    return an;
}

/* ---- the host (nrfutil 6.1.7 dfu serial, §5.2) ---- */

typedef struct {
    out *o;
    target *d;
    unsigned prn;
    uint8_t ping_id;
    const char *const *fail; /* traceback when the run fails */
    bool ble;
    int pause_after_obj;     /* the host waits 130 s after this data object (0: never) */
    uint64_t total, done;
} host;

#define TB_HEAD "Traceback (most recent call last):"
#define TB_MAIN                                                                                     \
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/__main__.py\", line 988, in do_serial",    \
        "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu.py\", line 127, in dfu_send_images"
#define NSE "pc_ble_driver_py.exceptions.NordicSemiException: "

static const char *const tb_no_ping[] = {
    TB_HEAD, TB_MAIN,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu.py\", line 88, in _dfu_send_image",
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 214, in open",
    NSE "No ping response after opening COM port", NULL,
};

static char ext_line[160];
static const char *tb_ext[] = {
    TB_HEAD, TB_MAIN,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu.py\", line 93, in _dfu_send_image",
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 483, in __get_response",
    ext_line, NULL,
};

static const char *const tb_desync[] = {
    TB_HEAD, TB_MAIN,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu.py\", line 98, in _dfu_send_image",
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 491, in __get_response",
    NSE "Unexpected Executed OP_CODE.", "Expected: 0x01 Received: 0x04", NULL,
};

static char crc_line[120];
static const char *tb_crc[] = {
    TB_HEAD,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 300, in send_firmware",
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 451, in validate_crc",
    "nordicsemi.dfu.dfu_transport_serial.ValidationException: Failed CRC validation.",
    crc_line,
    "",
    "During handling of the above exception, another exception occurred:",
    "",
    TB_HEAD, TB_MAIN,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 304, in send_firmware",
    NSE "Failed to send firmware", NULL,
};

static char res_line[120];
static const char *tb_result[] = {
    TB_HEAD, TB_MAIN,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu.py\", line 93, in _dfu_send_image",
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 487, in __get_response",
    res_line, NULL,
};

static const char *const tb_no_checksum[] = {
    TB_HEAD, TB_MAIN,
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu.py\", line 98, in _dfu_send_image",
    "  File \"/usr/lib/python3/dist-packages/nordicsemi/dfu/dfu_transport_serial.py\", line 431, in __get_checksum_response",
    NSE "Did not receive checksum response from DFU target.", NULL,
};

/* nrfutil's names of the result codes (§3.1) */
static const char *nrf_result_name(uint8_t r)
{
    static const char *const n[] = { "InvalidCode", "Success", "NotSupported", "InvalidParameter",
                                     "InsufficientResources", "InvalidObject", "InvalidSignature",
                                     "UnsupportedType", "OperationNotPermitted", "?", "OperationFailed",
                                     "ExtendedError" };
    return r < sizeof n / sizeof n[0] ? n[r] : "?";
}

/* Request, and the answer if the target gives one within nrfutil's 1 s. */
static size_t xfer(host *h, const uint8_t *m, size_t n, uint8_t *ans)
{
    line_msg(h->o, DK_DIR_HOST, m, n);
    h->o->t_us += 150;
    uint8_t a[64];
    /* the object the request is about, for the target's time */
    uint8_t obj = m[0] == DK_OP_OBJECT_CREATE && n > 1 ? m[1] : ds_bl_current_obj(h->d->chip.bl);
    size_t an = tgt_answer(h->d, m, n, h->o->t_us, a);
    if (h->d->late_len) {
        /* the late answer is what nrfutil reads now */
        uint8_t late[8];
        size_t ln = h->d->late_len;
        memcpy(late, h->d->late, ln);
        h->d->late_len = 0;
        h->o->t_us += 300;
        line_msg(h->o, DK_DIR_TARGET, late, ln);
        memcpy(ans, late, ln);
        if (an && !lines_fmt(h->o) && h->o->fmt != F_PLAIN) {
            /* on the wire its own answer follows; nrfutil never reads it */
            h->o->t_us += 85000;
            line_msg(h->o, DK_DIR_TARGET, a, an);
        }
        return ln;
    }
    if (m[0] == DK_OP_OBJECT_EXECUTE && obj == DK_OBJ_DATA &&
        (int)h->d->executed == h->d->slow_exec_obj && an) {
        memcpy(h->d->late, a, an);
        h->d->late_len = an;
        h->o->t_us += 1000000; /* read timeout: nothing */
        return 0;
    }
    if (!an) {
        if (dk_msg_expects_response(m[0]) && m[0] != DK_OP_OBJECT_WRITE)
            h->o->t_us += 1000000;
        return 0;
    }
    if (m[0] == DK_OP_OBJECT_EXECUTE)
        h->o->t_us += obj == DK_OBJ_COMMAND ? 170000 : 3000;
    if (m[0] == DK_OP_OBJECT_CREATE && obj == DK_OBJ_DATA)
        h->o->t_us += 85000;
    line_msg(h->o, DK_DIR_TARGET, a, an);
    memcpy(ans, a, an);
    h->o->t_us += 200;
    return an;
}

/* Check an answer like __get_response: false (and h->fail set) on error. */
static bool answer_ok(host *h, uint8_t op, const uint8_t *a, size_t an)
{
    if (!an)
        return true; /* a missing answer is ignored (except where it is not) */
    if (a[1] != op) {
        h->fail = tb_desync;
        return false;
    }
    if (a[2] == DK_RES_EXT_ERROR && an >= 4) {
        snprintf(ext_line, sizeof ext_line, NSE "Extended Error 0x%02X: %s", a[3],
                 a[3] == 0x05 ? "the new firmware's version is lower than the installed one"
                 : a[3] == 0x06 ? "the init packet's hardware version is not this device's"
                 : a[3] == 0x07 ? "none of the SoftDevices the update accepts is installed"
                 : a[3] == 0x08 ? "the bootloader wants a signed init packet and this one has no signature"
                 : a[3] == 0x0C ? "the image received does not hash to the init packet's hash"
                                : "Unsupported extended error type");
        h->fail = tb_ext;
        return false;
    }
    if (a[2] != DK_RES_SUCCESS) {
        snprintf(res_line, sizeof res_line, NSE "Response Code %s", nrf_result_name(a[2]));
        h->fail = tb_result;
        return false;
    }
    return true;
}

static bool req(host *h, const uint8_t *m, size_t n, uint8_t *a, size_t *an)
{
    *an = xfer(h, m, n, a);
    return answer_ok(h, m[0], a, *an);
}

/* __stream_data: writes, then CRC_GET and the comparison. */
static bool stream(host *h, const uint8_t *p, size_t n, uint32_t *crc, uint32_t off)
{
    tool_line(h->o, "%s: Streaming Data: len:%zu offset:%u crc:0x%08X", h->ble ? "BLE" : "Serial",
              n, off, *crc);
    uint8_t m[1 + CHUNK], a[32];
    size_t an;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        m[0] = DK_OP_OBJECT_WRITE;
        memcpy(m + 1, p + i, k);
        xfer(h, m, k + 1, a);
        *crc = dk_crc32(*crc, p + i, k);
        off += (uint32_t)k;
        h->o->t_us += 40;
    }
    m[0] = DK_OP_CRC_GET;
    if (!req(h, m, 1, a, &an))
        return false;
    if (!an) {
        h->fail = tb_no_checksum;
        return false;
    }
    dk_rd r = dk_rd_make(a + 3, an > 3 ? an - 3 : 0);
    uint32_t roff = dk_rd_le32(&r), rcrc = dk_rd_le32(&r);
    if (rcrc != *crc) {
        snprintf(crc_line, sizeof crc_line, "Expected: %u Received: %u.", *crc, rcrc);
        h->fail = tb_crc;
        return false;
    }
    return roff == off;
}

static bool select_obj(host *h, uint8_t type, uint32_t *max, uint32_t *off, uint32_t *crc)
{
    tool_line(h->o, "%s: Selecting Object: type:%u", h->ble ? "BLE" : "Serial", type);
    uint8_t m[2] = { DK_OP_OBJECT_SELECT, type }, a[32];
    size_t an;
    if (!req(h, m, 2, a, &an))
        return false;
    dk_rd r = dk_rd_make(a + 3, an > 3 ? an - 3 : 0);
    *max = dk_rd_le32(&r);
    *off = dk_rd_le32(&r);
    *crc = dk_rd_le32(&r);
    tool_line(h->o, h->ble ? "BLE: Object selected: max_size:%u offset:%u crc:%u"
                           : "Serial: Object selected:  max_size:%u offset:%u crc:%u",
              *max, *off, *crc);
    return true;
}

static bool create(host *h, uint8_t type, uint32_t size)
{
    uint8_t m[6] = { DK_OP_OBJECT_CREATE, type }, a[32];
    dk_put_le32(m + 2, size);
    size_t an;
    return req(h, m, 6, a, &an);
}

static bool execute(host *h)
{
    uint8_t m[1] = { DK_OP_OBJECT_EXECUTE }, a[32];
    size_t an;
    return req(h, m, 1, a, &an);
}

static void prog(host *h, uint32_t add)
{
    h->done += add;
    progress(h->o, (unsigned)(h->done * 100 / h->total));
}

/* One image, as Dfu._dfu_send_image + the serial transport do it. */
static bool host_run(host *h, const uint8_t *dat, size_t dlen, const uint8_t *bin, size_t blen)
{
    out *o = h->o;
    uint8_t m[8], a[32];
    size_t an;
    h->total = blen;
    tool_line(o, "Using board at serial port: %s", h->ble ? "/dev/ttyACM1" : "/dev/ttyACM0");
    tool_line(o, "Sending Application image.");
    o->t_us += 1000000; /* the -t wait before the first PING (§5.2) */
    if (!h->ble) {
        bool alive = false;
        for (int tries = 0; tries < 2 && !alive; tries++) {
            m[0] = DK_OP_PING;
            m[1] = ++h->ping_id;
            an = xfer(h, m, 2, a);
            if (!an)
                tool_line(o, "Serial: No ping response");
            alive = an > 0;
        }
        if (!alive) {
            h->fail = tb_no_ping;
            return false;
        }
    }
    tool_line(o, "%s: Set Packet Receipt Notification %u", h->ble ? "BLE" : "Serial", h->prn);
    m[0] = DK_OP_RECEIPT_NOTIF_SET;
    dk_put_le16(m + 1, (uint16_t)h->prn);
    xfer(h, m, 3, a);
    if (!h->ble) {
        m[0] = DK_OP_MTU_GET;
        xfer(h, m, 1, a);
    }
    tool_line(o, "Sending init packet...");
    uint32_t max, off, crc;
    if (!select_obj(h, DK_OBJ_COMMAND, &max, &off, &crc))
        return false;
    bool recovered = off > 0 && off <= dlen && dk_crc32(0, dat, off) == crc;
    if (recovered) {
        if (!execute(h))
            return false;
    } else {
        uint32_t c = 0;
        if (!create(h, DK_OBJ_COMMAND, (uint32_t)dlen) || !stream(h, dat, dlen, &c, 0))
            return false;
        if (!execute(h))
            return false;
    }
    tool_line(o, "Sending firmware file...");
    int64_t t_img = o->t_us;
    if (!select_obj(h, DK_OBJ_DATA, &max, &off, &crc))
        return false;
    if (off) {
        uint32_t exp = dk_crc32(0, bin, off), rem = off % max;
        if (exp != crc) {
            off -= rem ? rem : max; /* pull back, send nothing (§5.2) */
            crc = dk_crc32(0, bin, off);
        } else {
            if (rem && off != blen) {
                uint32_t k = max - rem;
                if (!stream(h, bin + off, k, &crc, off))
                    return false;
                off += k;
            }
            if (!execute(h))
                return false;
            prog(h, off);
        }
    }
    for (uint32_t i = off; i < blen; i += max) {
        uint32_t k = blen - i < max ? (uint32_t)blen - i : max;
        if (!create(h, DK_OBJ_DATA, k) || !stream(h, bin + i, k, &crc, i) || !execute(h))
            return false;
        prog(h, k);
        if (h->pause_after_obj && i / max + 1 == (uint32_t)h->pause_after_obj)
            o->t_us += 130000000; /* waiting for the user, say */
    }
    int64_t ms = (o->t_us - t_img) / 1000;
    tool_line(o, "Image sent in %" PRId64 ".%03" PRId64 "s", ms / 1000, ms % 1000);
    return true;
}

/* ---- images ---- */

static uint64_t rng = 1;
static uint32_t rnd(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

static void make_image(uint8_t *p, size_t n)
{
    static const uint32_t vt[] = { 0x20040000, 0x000271f9, 0x00027221, 0x00027223 };
    size_t i = 0;
    for (; i < 16 && i + 4 <= n; i += 4)
        dk_put_le32(p + i, vt[i / 4]);
    for (; i < n; i++)
        p[i] = (rnd() & 7) == 0 ? 0xFF : (uint8_t)rnd();
}

/* sig: 0 unsigned, 1 ECDSA type with a signature no key verifies, 2 ED25519
 * type (the SDK only takes ECDSA P-256).  other_build: the hash is of an
 * image one byte different (a .dat of another build). */
static size_t make_dat(const uint8_t *bin, size_t n, uint32_t fw, uint32_t hw, uint32_t sd,
                       int sig, bool other_build, uint8_t *dst, size_t cap)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_op_code = p.has_init = true;
    p.has_plain = sig == 0;
    p.is_signed = sig != 0;
    p.op_code = 1;
    dk_init_cmd *c = &p.init;
    dk_test_app_cmd(c, bin, n, fw, hw, sd);
    static uint8_t other[16000];
    if (other_build && n <= sizeof other) {
        memcpy(other, bin, n);
        other[100] ^= 0x01;
        dk_sha256_le(other, n, c->hash);
    }
    c->has_is_debug = true;
    if (sig) {
        p.signature_type = sig == 2 ? DK_SIG_ED25519 : DK_SIG_ECDSA_P256_SHA256;
        p.signature_len = 64;
        for (int i = 0; i < 64; i++)
            p.signature[i] = (uint8_t)(0x5A ^ (i * 7));
    }
    return dk_initpkt_encode(&p, dst, cap);
}

/* ---- scenarios ---- */

typedef struct {
    const char *name;
    const char *what;
} scen;

static const scen scens[] = {
    { "complete", "a complete update (6000-byte app, PRN 0)" },
    { "no-ping", "the target never answers: PING retried, 'No ping response after opening COM port'" },
    { "sd-req", "init packet for SoftDevice 0x0101, target runs 0x0100: EXECUTE -> EXT 0x07" },
    { "downgrade", "app version 1 while version 2 is installed: EXECUTE -> EXT 0x05" },
    { "hw-version", "init packet for hw_version 51 on a 52 target: EXECUTE -> EXT 0x06" },
    { "unsigned", "unsigned init packet, bootloader requires a signature: EXECUTE -> EXT 0x08" },
    { "hash", ".dat hash of another build: final EXECUTE -> EXT 0x0C" },
    { "desync", "EXECUTE of data object 1 answered after 1 s: 'Unexpected Executed OP_CODE'" },
    { "resume-crc", "re-run after an interrupted update: SELECT data reports offset 8192 with a "
                    "CRC that differs; nrfutil pulls back one object, 'Failed CRC validation'" },
    { "flow-control", "no-ping, with the shell line showing nrfutil's default RTS/CTS flow control" },
    { "sigtype", "init packet signed with signature type ED25519: EXECUTE -> EXT 0x0B" },
    { "badsig", "init packet signed with a key the bootloader does not have: EXECUTE -> 0x05" },
    { "new-init", "the target holds another init packet and 8 KiB of its data; nrfutil sends its "
                  "own, which restarts the image; the target goes silent at the 3rd CRC_GET" },
    { "overrun", "nrfutil -fc 0 -b 1000000: two WRITEs of object 1 are lost, 'Failed CRC validation'" },
    { "inactivity", "the host waits 130 s after data object 1; the target has reset (§6.8) and "
                    "never answers again" },
};

/* The image and init packet of the last run, for --pkg. */
static uint8_t g_bin[16000], g_dat[CMD_MAX];
static size_t g_blen, g_dlen;

/* data[0..n) with its last word changed so that its CRC-32 is want: the
 * CRC of data of one length is affine in its bits, so the 32 bits of the
 * last word are solved for over GF(2). */
static void crc_force(uint8_t *data, size_t n, uint32_t want)
{
    uint32_t base = dk_crc32(0, data, n), basis[32] = { 0 }, comb[32] = { 0 };
    uint8_t *w = data + n - 4;
    for (unsigned i = 0; i < 32; i++) {
        w[i / 8] ^= (uint8_t)(1u << (i % 8));
        uint32_t v = dk_crc32(0, data, n) ^ base, c = 1u << i;
        w[i / 8] ^= (uint8_t)(1u << (i % 8));
        for (int bit = 31; bit >= 0 && v; bit--) {
            if (!(v >> bit & 1))
                continue;
            if (!basis[bit]) {
                basis[bit] = v;
                comb[bit] = c;
                break;
            }
            v ^= basis[bit];
            c ^= comb[bit];
        }
    }
    uint32_t t = base ^ want, flips = 0;
    for (int bit = 31; bit >= 0; bit--)
        if (t >> bit & 1) {
            t ^= basis[bit];
            flips ^= comb[bit];
        }
    for (unsigned i = 0; i < 32; i++)
        if (flips >> i & 1)
            w[i / 8] ^= (uint8_t)(1u << (i % 8));
}

/* The target of a scenario: the sample device with the bootloader entered
 * at power-on (the button held), version 2 of the app installed. */
static void target_open(target *d, const char *name, uint32_t app_version, uint64_t now_ms)
{
    ds_bl_config cfg;
    st_sample_config(&cfg, app_version);
    cfg.enter = DS_BL_ENTER_FIRST_BOOT;
    if (strcmp(name, "no-ping") == 0 || strcmp(name, "flow-control") == 0)
        cfg.enter = DS_BL_ENTER_NO_VALID_APP; /* its app runs: the port is silent */
    if (strcmp(name, "unsigned") == 0 || strcmp(name, "sigtype") == 0 || strcmp(name, "badsig") == 0)
        cfg.allow_unsigned = false; /* and it holds no key that verifies our signature */
    st_open(&d->chip, &cfg, now_ms);
}

/* What a first run left on the target: an init packet (dat) executed and
 * two data objects executed, whose bytes are the image's but for the last
 * word, so their CRC differs from the image's (by 0x00400000). */
static void target_held(target *d, const uint8_t *dat, size_t dlen, const uint8_t *bin,
                        uint64_t now_ms)
{
    static uint8_t first[2 * OBJ_MAX];
    memcpy(first, bin, sizeof first);
    crc_force(first, sizeof first, dk_crc32(0, bin, sizeof first) ^ 0x00400000);
    if (!st_preset(&d->chip, dat, dlen, dlen, true, first, sizeof first, sizeof first, now_ms)) {
        fprintf(stderr, TOOL ": the first run's state was refused by the target\n");
        exit(2);
    }
}

/* One scenario.  keep (may be NULL): the device of the runs before, to use
 * again (it is put in DFU mode the buttonless way when its app runs) and
 * to keep for the next run; else a fresh one. */
static void run(out *o, const char *name, st_chip *keep)
{
    uint8_t *bin = g_bin, *dat = g_dat;
    size_t blen = 6000;
    uint32_t fw = 2, hw = 52, sd = 0x0100, app_version = 2;
    int sig = 0;
    bool other_build = false, held = false, held_other = false;
    target d;
    memset(&d, 0, sizeof d);
    host h;
    memset(&h, 0, sizeof h);
    h.o = o;
    h.d = &d;
    h.ble = o->fmt == F_BLE;
    cmdline = NULL;
    if (strcmp(name, "flow-control") == 0)
        cmdline = "dev@bench:~/fw$ nrfutil -vvvv dfu serial -pkg app.zip -p /dev/ttyUSB0";
    else if (strcmp(name, "sd-req") == 0)
        sd = 0x0101;
    else if (strcmp(name, "downgrade") == 0)
        fw = 1;
    else if (strcmp(name, "hw-version") == 0)
        hw = 51;
    else if (strcmp(name, "sigtype") == 0)
        sig = 2;
    else if (strcmp(name, "badsig") == 0)
        sig = 1;
    else if (strcmp(name, "hash") == 0)
        other_build = true;
    else if (strcmp(name, "desync") == 0)
        blen = 10000, d.slow_exec_obj = 1;
    else if (strcmp(name, "resume-crc") == 0)
        blen = 16000, held = true;
    else if (strcmp(name, "new-init") == 0) /* held: another package, version 1 */
        blen = 16000, held = held_other = true, app_version = 1, d.silent_after_crc = 2;
    else if (strcmp(name, "overrun") == 0)
        d.lose_obj = 1, d.lose_from = 20, d.lose_n = 2,
        cmdline = "dev@bench:~/fw$ nrfutil -vvvv dfu serial -pkg app.zip -p /dev/ttyUSB0 -fc 0 -b 1000000";
    else if (strcmp(name, "inactivity") == 0)
        blen = 10000, h.pause_after_obj = 1;
    make_image(bin, blen);
    size_t dlen = make_dat(bin, blen, fw, hw, sd, sig, other_build, dat, CMD_MAX);
    g_blen = blen;
    g_dlen = dlen;
    uint64_t now_ms = (uint64_t)o->t_us / 1000;
    if (keep && keep->bl) {
        d.chip = *keep;
        if (!ds_bl_in_dfu(d.chip.bl)) {
            ds_bl_request_dfu(d.chip.bl);
            ds_bl_boot(d.chip.bl, now_ms);
        }
    } else {
        target_open(&d, name, app_version, now_ms);
    }
    if (held) {
        uint8_t a[CMD_MAX];
        size_t alen = held_other ? make_dat(bin, blen, 1, hw, sd, 0, false, a, sizeof a) : dlen;
        target_held(&d, held_other ? a : dat, alen, bin, now_ms);
    }
    begin(o);
    bool ok = host_run(&h, dat, dlen, bin, blen);
    if (!ok && !h.fail)
        h.fail = tb_desync;
    finish(o, ok ? NULL : h.fail);
    if (keep)
        *keep = d.chip;
    else
        st_close(&d.chip);
}

/* The package the logged session sent (app.bin + app.dat). */
static int write_pkg(const char *path)
{
    dk_pkg pkg;
    memset(&pkg, 0, sizeof pkg);
    pkg.n = 1;
    dk_image *im = &pkg.img[0];
    im->kind = DK_IMG_APPLICATION;
    im->key = dk_img_key(DK_IMG_APPLICATION);
    snprintf(im->bin_name, sizeof im->bin_name, "app.bin");
    snprintf(im->dat_name, sizeof im->dat_name, "app.dat");
    im->bin = g_bin;
    im->bin_len = g_blen;
    im->dat = g_dat;
    im->dat_len = g_dlen;
    dk_err e;
    if (dk_pkg_write(path, &pkg, &e) != DK_OK) {
        dk_err_print(stderr, TOOL, path, &e);
        return 2;
    }
    return 0;
}

/* nRF Connect Programmer timelines (written to the shape of its logs).
 * jlink-then-ok: the failing run, then Programmer started again after its
 * update, the same modem DFU completing (one log, two runs). */
static void programmer(FILE *f, bool fail);

static void programmer_then_ok(FILE *f)
{
    programmer(f, true);
    static const char *const again[] = {
        "2024-01-04T14:20:03.011Z INFO Application data folder: /home/dev/.config/nrfconnect/pc-nrfconnect-programmer",
        "2024-01-04T14:20:03.140Z DEBUG App pc-nrfconnect-programmer v4.2.0 official",
        "2024-01-04T14:20:04.562Z INFO Using nrf-device-lib to communicate with target",
        "2024-01-04T14:20:05.020Z INFO Device connected: serial number 000960056967",
        "2024-01-04T14:20:05.021Z INFO Model: NRF9160_xxAA_REV2",
        "2024-01-04T14:20:11.930Z INFO Modem DFU starts to write...",
        "2024-01-04T14:20:11.931Z INFO Writing /home/dev/mfw_nrf9160_1.3.5.zip to device",
        "2024-01-04T14:20:14.002Z INFO Programming file 1 of 2 files",
        "2024-01-04T14:20:26.815Z INFO Programming file 2 of 2 files",
        "2024-01-04T14:20:32.377Z INFO Modem DFU completed successfully!",
    };
    for (size_t i = 0; i < sizeof again / sizeof again[0]; i++)
        fprintf(f, "%s\n", again[i]);
}

/* nrfutil dfu ble through a J-Link board as connectivity adapter (written to
 * the shape of nrfutil 6's output, paths and line numbers ours): the first
 * run cannot open the adapter (NRF_ERROR_TIMEOUT), the second flashes the
 * connectivity firmware with -f and then gets no result from pc-ble-driver
 * for its first write request (TypeError on None in write_req). */
static void ble_driver(FILE *f)
{
    static const char *const frames[] = {
        "Traceback (most recent call last):",
        "  File \"/home/dev/.local/bin/nrfutil\", line 8, in <module>",
        "    sys.exit(cli())",
        "  File \"/home/dev/.local/lib/python3.8/site-packages/click/core.py\", line 829, in __call__",
        "    return self.main(*args, **kwargs)",
        "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/__main__.py\", line 1215, in ble",
        "    dfu.dfu_send_images()",
        "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu.py\", line 127, in dfu_send_images",
        "    self._dfu_send_image(self.manifest.application)",
    };
    const char *cmd = "dev@bench:~/fw$ nrfutil dfu ble -ic NRF52 -pkg app_dfu.zip -p /dev/ttyACM0 -n DfuTarg";
    fprintf(f, "%s\n", cmd);
    fputs("  [------------------------------------]    0%\n", f);
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
        fprintf(f, "%s\n", frames[i]);
    fputs("  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu.py\", line 88, in _dfu_send_image\n"
          "    self.dfu_transport.open()\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu_transport_ble.py\", line 474, in open\n"
          "    self.dfu_adapter.open()\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu_transport_ble.py\", line 103, in open\n"
          "    self.adapter.driver.open()\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/pc_ble_driver_py/ble_driver.py\", line 106, in wrapper\n"
          "    raise NordicSemiException(err)\n"
          "pc_ble_driver_py.exceptions.NordicSemiException: Failed to open. Error code: NRF_ERROR_TIMEOUT\n",
          f);
    fprintf(f, "%s -f\n", cmd);
    fputs("Flashing connectivity firmware...\nConnectivity firmware flashed.\n"
          "  [------------------------------------]    0%\n", f);
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
        fprintf(f, "%s\n", frames[i]);
    fputs("  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu.py\", line 91, in _dfu_send_image\n"
          "    self.dfu_transport.send_init_packet(data)\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu_transport_ble.py\", line 516, in send_init_packet\n"
          "    self.__select_command()\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu_transport_ble.py\", line 602, in __select_command\n"
          "    return self.__select_object(0x01)\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu_transport_ble.py\", line 613, in __select_object\n"
          "    self.dfu_adapter.write_control_point([0x06, object_type])\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/nordicsemi/dfu/dfu_transport_ble.py\", line 348, in write_control_point\n"
          "    self.adapter.write_req(self.conn_handle, DFUAdapter.CP_UUID, data)\n"
          "  File \"/home/dev/.local/lib/python3.8/site-packages/pc_ble_driver_py/ble_adapter.py\", line 566, in write_req\n"
          "    return result[\"status\"]\n"
          "TypeError: 'NoneType' object is not subscriptable\n",
          f);
}

static void programmer(FILE *f, bool fail)
{
    static const char *const head[] = {
        "2024-01-04T13:58:51.201Z INFO Application data folder: /home/dev/.config/nrfconnect/pc-nrfconnect-programmer",
        "2024-01-04T13:58:51.318Z DEBUG App pc-nrfconnect-programmer v4.1.0 official",
        "2024-01-04T13:58:51.318Z DEBUG App path: /home/dev/.nrfconnect-apps/node_modules/pc-nrfconnect-programmer",
        "2024-01-04T13:58:52.902Z INFO Using nrf-device-lib to communicate with target",
        "2024-01-04T13:58:53.440Z INFO Device connected: serial number 000960056967",
        "2024-01-04T13:58:53.441Z INFO Model: NRF9160_xxAA_REV2",
        "2024-01-04T13:59:02.117Z INFO Modem DFU starts to write...",
        "2024-01-04T13:59:02.118Z INFO Writing /home/dev/mfw_nrf9160_1.3.5.zip to device",
        "2024-01-04T13:59:04.350Z INFO Programming file 1 of 2 files",
    };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        fprintf(f, "%s\n", head[i]);
    unsigned segs = 32;
    for (unsigned s = 1; s <= (fail ? 7 : segs); s++)
        fprintf(f, "2024-01-04T13:59:%02u.%03uZ INFO Programming %u of %u segments\n", 5 + s / 4,
                (s * 237) % 1000, s, segs);
    if (fail) {
        fputs("2024-01-04T13:59:14.654Z ERROR Modem DFU failed with error: Error: Error occured "
              "when program. Errorcode: CouldNotCallFunction (0x9)\n"
              "Lowlevel error: JLINKARM_DLL_ERROR (ffffff9a)\n",
              f);
        return;
    }
    fputs("2024-01-04T13:59:17.020Z INFO Programming file 2 of 2 files\n", f);
    fputs("2024-01-04T13:59:22.511Z INFO Modem DFU completed successfully!\n", f);
}

/* A big nrfutil -vvvv log for the bad-input tests: complete updates
 * repeated until `size` bytes are out. */
static void big(FILE *f, uint64_t size)
{
    out o;
    memset(&o, 0, sizeof o);
    o.f = f;
    o.fmt = F_NRFUTIL;
    st_chip dev = { NULL, NULL }; /* one device, updated again and again */
    while ((uint64_t)ftello(f) < size) {
        run(&o, "complete", &dev);
        o.t_us += 5000000;
    }
    st_close(&dev);
}

int main(int argc, char **argv)
{
    const char *scenario = NULL, *format = "nrfutil", *path = NULL, *pkg_path = NULL;
    uint64_t big_size = 0;
    static const struct option opts[] = {
        { "scenario", required_argument, NULL, 's' }, { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },   { "big", required_argument, NULL, 'b' },
        { "list", no_argument, NULL, 'l' },           { "pkg", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "s:f:o:", opts, NULL)) != -1) {
        switch (c) {
        case 's': scenario = optarg; break;
        case 'f': format = optarg; break;
        case 'o': path = optarg; break;
        case 'b': big_size = strtoull(optarg, NULL, 0); break;
        case 'p': pkg_path = optarg; break;
        case 'l':
            for (size_t i = 0; i < sizeof scens / sizeof scens[0]; i++)
                printf("%-12s %s\n", scens[i].name, scens[i].what);
            printf("%-12s %s\n", "programmer", "--format programmer: modem DFU that completes");
            printf("%-12s %s\n", "jlink", "--format programmer: modem DFU failing with JLINKARM_DLL_ERROR");
            printf("%-12s %s\n", "jlink-then-ok", "--format programmer: the failing run, then Programmer updated and the same DFU completing");
            printf("%-12s %s\n", "driver", "--format nrfutil-ble-text: dfu ble: NRF_ERROR_TIMEOUT on open, then TypeError in write_req");
            return 0;
        default:
            fprintf(stderr, "usage: " TOOL " --scenario NAME --format FMT [-o FILE] [--pkg FILE.zip] | --big BYTES -o FILE | --list\n");
            return 2;
        }
    }
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        perror(TOOL);
        return 2;
    }
    if (big_size) {
        big(f, big_size);
    } else if (strcmp(format, "programmer") == 0 && scenario && strcmp(scenario, "jlink-then-ok") == 0) {
        programmer_then_ok(f);
    } else if (strcmp(format, "programmer") == 0) {
        programmer(f, scenario && strcmp(scenario, "jlink") == 0);
    } else if (strcmp(format, "nrfutil-ble-text") == 0) {
        ble_driver(f);
    } else {
        out o;
        memset(&o, 0, sizeof o);
        o.f = f;
        size_t k;
        for (k = 0; k < sizeof fmt_names / sizeof fmt_names[0]; k++)
            if (strcmp(fmt_names[k], format) == 0)
                break;
        bool known = false;
        for (size_t i = 0; scenario && i < sizeof scens / sizeof scens[0]; i++)
            known |= strcmp(scens[i].name, scenario) == 0;
        if (k == sizeof fmt_names / sizeof fmt_names[0] || !known) {
            fprintf(stderr, TOOL ": unknown format or scenario (see --list)\n");
            return 2;
        }
        o.fmt = (out_fmt)k;
        run(&o, scenario, NULL);
    }
    if (path && fclose(f) != 0) {
        perror(TOOL);
        return 2;
    }
    if (pkg_path && g_dlen)
        return write_pkg(pkg_path);
    return 0;
}
