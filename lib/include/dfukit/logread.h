/* logread.h - field logs (text) in, typed records out: the log readers.
 *
 * A pure streaming core: feed it the log's bytes in any chunks, it cuts them
 * into lines (LF or CRLF; a line longer than the limit is skipped, reported,
 * and never held whole) and turns each line into zero or more records:
 *
 *   MSG    an unframed DFU message and its direction: enters the session at
 *          the message layer (dk_msg_parse + dk_session_msg, or
 *          dk_session_frame).  From nrfutil's "SLIP: --> [..]" lines and BLE
 *          "data([..])" notifications.
 *   RAW    bytes as they crossed one line, still SLIP-framed: enter at the
 *          SLIP layer (one dk_slip_dec per direction, then dk_session_slip).
 *          From socat -x dumps, hexdump -C, plain hex and Saleae CSV.
 *   TOOL   what the host tool says it did or got (dk_tool_ev): DEBUG/INFO
 *          lines, the progress bar, exceptions, Programmer steps and errors.
 *   UNKNOWN a line not understood (line number, offset, why): the log is
 *          interleaved with other text, or garbled there.
 *   LONG   a line longer than the limit: skipped, never parsed.
 *   CUT    at the end: the log stops inside something (a socat block shorter
 *          than its length=, a traceback without its exception, no final LF).
 *
 * Formats, and what their lines look like (DK_LOG_*):
 *   nrfutil     pc-nrfutil 6.x, format '%(asctime)s %(message)s' (protocol.md
 *               §5.1, §5.3): "2024-05-14 10:00:00,123 SLIP: --> [9, 1]",
 *               "... SLIP: <-- [96, 9, 1, 1]", "... Serial: Object selected:
 *               max_size:512 offset:0 crc:0", "Serial: Streaming Data: len:N
 *               offset:N crc:0xXXXXXXXX", "Serial: Set Packet Receipt
 *               Notification N", INFO lines; without -v the progress bar
 *               "  [####----]   25%  00:00:12" and a traceback ending in
 *               "pkg.NordicSemiException: MESSAGE" (§5.2 messages; two-line
 *               ones continue with "Expected: X Received: Y").
 *   ble         nrfutil dfu ble: the same shape with "BLE:" lines, and control
 *               point traffic as "data([96, 6, 1, ...])" (first byte 0x60: a
 *               notification from the target, else a write by the host).
 *   socat       socat -x [-v]: "> 2016/07/05 15:00:27.776812  length=28 from=0
 *               to=27" ('>' = first address to second: host -> target) then
 *               rows " 09 01 c0 ...  [ascii]" and "--".
 *   hexdump     hexdump -C rows "00000000  09 01 c0 60 ...  |...`|" ("*"
 *               repeats the row before); xxd rows "00000000: 0901 c060  ..."
 *               too.  A line ">", "<", "TX", "RX" (":" allowed) before a dump
 *               sets its direction, else DK_DIR_UNKNOWN.
 *   hex         plain hex with a direction marker per line: "> 09 01 c0",
 *               "TX: 09 01 C0", "RX 60-09-01-01", "<- 0x60 0x09", optionally
 *               after a timestamp.  If the first data line carries no 0xC0
 *               and parses as a DFU message, the file holds unframed messages
 *               (MSG records), else SLIP bytes (RAW).
 *   saleae      Logic 2 async-serial CSV export "name,type,start_time,
 *               duration,data", one byte per row ("0x09", decimal or a quoted
 *               character); the analyzer name is the line: a name containing
 *               TX/host gives HOST, RX/target gives TARGET, else chan tells
 *               the analyzers apart (0 = first name seen).
 *   programmer  nRF Connect Programmer "2024-01-04T13:59:14.654Z INFO ...":
 *               steps ("Programming file 1 of 2 files", "Programming 1 of 32
 *               segments", modem DFU start/finish) and failures ("Errorcode:
 *               CouldNotCallFunction (0x9)", "Lowlevel error:
 *               JLINKARM_DLL_ERROR (ffffff9a)", possibly on the next line).
 *
 * Timestamps: nrfutil "YYYY-MM-DD HH:MM:SS,mmm" (local time of the machine
 * that wrote it, read as UTC), socat "YYYY/MM/DD HH:MM:SS.ffffff" (1-9
 * fraction digits), ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" (and +hh:mm), plain
 * hex logs any of these or "[HH:MM:SS.mmm]" (t_abs false) or a number of
 * seconds, Saleae seconds since the capture start (t_abs false).
 *
 * Detection: dk_log_sniff scores every format on the first lines; the reader
 * with DK_LOG_AUTO keeps the first DK_LOG_SNIFF_LINES lines (at most
 * DK_LOG_SNIFF_MAX bytes), decides, then replays them: the same head, so the
 * same decision, however the log is fed.  Memory is fixed at dk_logrd_new: the line buffer
 * (line_max), one message buffer and the sniff buffer; nothing grows with
 * the log.
 */
#ifndef DFUKIT_LOGREAD_H
#define DFUKIT_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/err.h"
#include "dfukit/msg.h"

#define DK_LOG_LINE_MAX_DEFAULT 65536 /* longest line parsed (socat -x rows of 8 KB chunks) */
#define DK_LOG_SNIFF_MAX 65536        /* bytes looked at to detect the format */
#define DK_LOG_SNIFF_LINES 200        /* lines looked at to detect the format */
#define DK_LOG_MSG_MAX 4096           /* longest message or byte row in one record */

typedef enum {
    DK_LOG_AUTO = 0,
    DK_LOG_NRFUTIL,
    DK_LOG_BLE,
    DK_LOG_SOCAT,
    DK_LOG_HEXDUMP,
    DK_LOG_HEX,
    DK_LOG_SALEAE,
    DK_LOG_PROGRAMMER,
    DK_LOG_ADAFRUIT,
    DK_LOG_MCUMGR,
    DK_LOG_FORMAT_COUNT
} dk_log_format;

/* "nrfutil", "ble", "socat", "hexdump", "hex", "saleae", "programmer",
 * "adafruit", "mcumgr" ("auto" for DK_LOG_AUTO); NULL out of range. */
const char *dk_log_format_name(dk_log_format f);
/* By name (the names above); -1 when unknown. */
int dk_log_format_by_name(const char *name);

/* Score every format on the first lines of head (at most DK_LOG_SNIFF_LINES
 * complete lines; a last line without LF counts only if it is the whole
 * head).  Returns the best, or DK_LOG_AUTO when no line of any format was
 * recognised (binary data, unrelated text).  score (may be NULL) gets the
 * winner's count of recognised lines. */
dk_log_format dk_log_sniff(const uint8_t *head, size_t len, unsigned *score);

/* ---- tool events ---- */

typedef enum {
    DK_TOOL_TEXT,        /* any other line of the tool, kept as text (INFO lines) */
    DK_TOOL_PORT,        /* "Using board at serial port: X" (text = X) */
    DK_TOOL_IMAGE,       /* "Sending Application image." (u.image) */
    DK_TOOL_SEND_INIT,   /* "Sending init packet..." */
    DK_TOOL_SEND_FW,     /* "Sending firmware file..." */
    DK_TOOL_IMAGE_SENT,  /* "Image sent in 3.52s" (u.sent) */
    DK_TOOL_SET_PRN,     /* "Serial: Set Packet Receipt Notification N" (u.prn) */
    DK_TOOL_SELECTING,   /* "Serial: Selecting Object: type:N" (u.select) */
    DK_TOOL_SELECTED,    /* "Serial: Object selected:  max_size:.." (u.selected) */
    DK_TOOL_STREAMING,   /* "Serial: Streaming Data: len:.. offset:.. crc:.." (u.stream) */
    DK_TOOL_NO_PING,     /* "Serial: No ping response" (one PING try unanswered) */
    DK_TOOL_PROGRESS,    /* progress bar (u.progress) */
    DK_TOOL_TRACEBACK,   /* "Traceback (most recent call last):" */
    DK_TOOL_EXCEPTION,   /* "x.y.NordicSemiException: MESSAGE" (u.exc, text = MESSAGE) */
    DK_TOOL_DONE,        /* "Device programmed." */
    DK_TOOL_PROG_STEP,   /* Programmer step (u.step, text = the message) */
    DK_TOOL_PROG_ERROR,  /* Programmer failure (u.perr, text = the message) */
    DK_TOOL_COMMAND,     /* the host's command line (u.cmd; text = the command from
                            the tool's name on) */
    DK_TOOL_VERSION,     /* a version the log states (u.ver; text = "nrfutil 6.1.7") */
    DK_TOOL_LEGACY,      /* adafruit-nrfutil / legacy nrfutil and the IDE around it (u.lg) */
    DK_TOOL_BLE,         /* a BLE adapter or connection line (u.ble) */
    DK_TOOL_MCUMGR,      /* an mcumgr line (u.mcu) */
} dk_tool_kind;

/* Where the host was, from its own words or from the innermost frame of a
 * traceback (send_start_dfu, send_init_packet, send_firmware, open, ...). */
typedef enum {
    DK_HS_NONE = 0,
    DK_HS_OPEN,      /* opening the port / the adapter, PING, PRN, MTU */
    DK_HS_START,     /* legacy START packet */
    DK_HS_INIT,      /* the init packet */
    DK_HS_FIRMWARE,  /* the firmware */
    DK_HS_ACTIVATE,  /* legacy STOP / activation */
} dk_host_stage;

const char *dk_host_stage_name(dk_host_stage s); /* "", "open", "start", "init", "firmware", "activate" */

/* What a legacy host (adafruit-nrfutil, nrfutil <= 0.5) and the Arduino /
 * PlatformIO upload around it say (protocol.md §13.13). */
typedef enum {
    DK_LG_UPGRADING,   /* "Upgrading target on PORT with DFU package PKG. Flow control is
                          disabled, Single bank, Touch 1200" (text = PORT) */
    DK_LG_TOUCHED,     /* "Touched serial port PORT" */
    DK_LG_OPENED,      /* "Opened serial port PORT" */
    DK_LG_STARTING,    /* "Starting DFU upgrade of type T, SoftDevice size: S, ..." */
    DK_LG_SEND_START,  /* "Sending DFU start packet" */
    DK_LG_SEND_INIT,   /* "Sending DFU init packet" */
    DK_LG_SEND_FW,     /* "Sending firmware file" */
    DK_LG_MARKS,       /* progress marks "####" (marks: on this line) */
    DK_LG_NO_ACK,      /* "Timed out waiting for acknowledgement from device." */
    DK_LG_ACTIVATING,  /* "Activating new firmware" */
    DK_LG_TOOK,        /* "DFU upgrade took 20.7s" */
    DK_LG_NO_NEW_PORT, /* IDE: "No new serial port detected." */
    DK_LG_IDE_TOUCH,   /* IDE: "Forcing reset using 1200bps open/close on port X" */
    DK_LG_ZIP,         /* "Zip created at X" (genpkg) */
} dk_lg_what;

/* BLE adapter and connection (nrfutil dfu ble, pc-ble-driver, the nRF
 * Connect BLE app). */
typedef enum {
    DK_BLE_CONN_FW,        /* connectivity firmware version (text; api = SoftDevice API) */
    DK_BLE_OPENING,        /* opening the adapter (text = port) */
    DK_BLE_OPENED,         /* the adapter opened */
    DK_BLE_NO_RESPONSE,    /* "No response from device. Tried to send packet N times" (value = N) */
    DK_BLE_ATT_MTU,        /* "ble_enable with local ATT MTU: 247" (value) */
    DK_BLE_SCANNING,       /* scanning for the target */
    DK_BLE_CONNECTING,     /* connecting to the target */
    DK_BLE_CONNECTED,      /* connected */
    DK_BLE_PORT_CLOSED,    /* the adapter's serial port closed */
    DK_BLE_FLASHED,        /* "Board already flashed with connectivity firmware.",
                              "Connectivity firmware flashed." */
    DK_BLE_NO_PORTS,       /* "enum_serial_ports: 0 serial ports found" */
    DK_BLE_WRITE_LIST,     /* "handle, uuid, data": a listing of the host's writes alone */
    DK_BLE_FLASHING,       /* "Flashing connectivity firmware..." (nrfutil dfu ble -f) */
} dk_ble_what;

typedef enum {
    DK_MCU_PROGRESS,    /* "8.24 KiB / 276.19 KiB [===>---]  2.98% 314 B/s" (done, total bytes) */
    DK_MCU_NMP_TIMEOUT, /* "Error: NMP timeout" */
    DK_MCU_PANIC,       /* "panic: ..." (the CLI crashed) */
    DK_MCU_ERROR,       /* another "Error: ..." */
    DK_MCU_TX,          /* a debug "Tx serial" dump follows */
    DK_MCU_RX,          /* a debug "Rx serial" dump follows */
    DK_MCU_RX_TEXT,     /* what came back is text (a shell prompt, ANSI escapes), not SMP */
} dk_mcu_what;

/* What an exception message says (§5.2). */
typedef enum {
    DK_NX_OTHER = 0,        /* not one of the below (text has the message) */
    DK_NX_NO_PING,          /* "No ping response after opening COM port" */
    DK_NX_EXT_ERROR,        /* "Extended Error 0x07: ..." (ext) */
    DK_NX_RESULT,           /* "Response Code InvalidObject" (result; 0xFF unknown name) */
    DK_NX_UNEXPECTED_OP,    /* "Unexpected Executed OP_CODE." + "Expected: 0x03 Received: 0xAB" */
    DK_NX_NOT_RESPONSE,     /* "No Response: 0x09" (received: the first byte) */
    DK_NX_CRC,              /* "Failed CRC validation." + "Expected: N Received: N." */
    DK_NX_OFFSET,           /* "Failed offset validation." + "Expected: N Received: N." */
    DK_NX_INIT_FAILED,      /* "Failed to send init packet" */
    DK_NX_FW_FAILED,        /* "Failed to send firmware" */
    DK_NX_NO_CHECKSUM,      /* "Did not receive checksum response from DFU target..." */
    DK_NX_PORT,             /* "Serial port could not be opened on ..." */
    DK_NX_WRITE,            /* "Writing to serial port failed: ..." */
    DK_NX_TIMEOUT,          /* BLE "Timeout: operation - X", "Timeout. Target device not found." */
    DK_NX_NO_DATA,          /* legacy "No data received on serial port. Not able to proceed." */
    DK_NX_PORT_NOT_OPEN,    /* "Attempting to use a port that is not open" */
    DK_NX_WRITE_TIMEOUT,    /* "Write timeout" (SerialTimeoutException) */
    DK_NX_PORT_GONE,        /* the port went away while open: Errno 6/5/19, Windows error
                               22 or 31 on a write or read, "readiness to read but
                               returned no data" */
    DK_NX_PORT_NOT_FOUND,   /* no such port: Errno 2, "cannot find the file specified" */
    DK_NX_PORT_DENIED,      /* opening it was not permitted: Errno 13 / 1 */
    DK_NX_PORT_BUSY,        /* another program holds it: Windows "Access is denied",
                               Errno 16, "could not exclusively lock" */
    DK_NX_BLE_OPEN,         /* the BLE adapter did not open: NRF_ERROR_TIMEOUT on open */
    DK_NX_BLE_RPC,          /* the BLE adapter stopped answering: NRF_ERROR_SD_RPC_* */
    DK_NX_TOOL_BUG,         /* a programming error inside the host tool: AttributeError,
                               TypeError, IndexError, KeyError, NameError */
    DK_NX_PACKAGE,          /* the file given is not a DFU package (manifest.json
                               missing, not a zip) */
    DK_NX_BOARD_NOT_FOUND,  /* pc-ble-driver "Board not found" */
    DK_NX_INTERRUPTED,      /* KeyboardInterrupt (Ctrl-C) */
} dk_nx_kind;

const char *dk_nx_name(dk_nx_kind k); /* "no_ping", "ext_error", ... */
const char *dk_lg_name(dk_lg_what w);  /* "upgrading", "touched", ... */
const char *dk_ble_name(dk_ble_what w); /* "conn_fw", "opening", ... */
const char *dk_mcu_name(dk_mcu_what w); /* "progress", "nmp_timeout", ... */

typedef enum {
    DK_PSTEP_OTHER = 0,  /* an INFO line of the timeline */
    DK_PSTEP_FILE,       /* "Programming file I of N files" */
    DK_PSTEP_SEGMENT,    /* "Programming I of N segments" */
    DK_PSTEP_MODEM,      /* a modem DFU step ("Modem DFU starts to write...") */
    DK_PSTEP_DONE,       /* "... completed" / "... successfully" */
    DK_PSTEP_START,      /* the app starts ("Application data folder: ...") */
    DK_PSTEP_UNKNOWN_DEVICE, /* "Device type is unknown" (nrfjprog does not know the chip) */
} dk_pstep;

typedef struct {
    dk_tool_kind kind;
    union {
        struct { int fw_type; } image;           /* enum dk_fw_type, -1 unknown */
        struct { uint32_t ms; } sent;
        struct { uint32_t prn; } prn;
        struct { uint32_t type; } select;
        struct { uint32_t max_size, offset, crc; } selected;
        struct { uint32_t len, offset, crc; } stream;
        struct { unsigned percent; } progress;
        struct {
            dk_nx_kind nx;
            char cls[64];        /* "NordicSemiException", "ValidationException" */
            uint8_t ext;         /* EXT_ERROR */
            uint8_t result;      /* RESULT */
            bool has_values;     /* UNEXPECTED_OP, CRC, OFFSET: the second line was read */
            uint32_t expected, received; /* opcodes (UNEXPECTED_OP) or values */
            dk_host_stage stage; /* from the traceback's frames (NONE: none seen) */
            char func[32];       /* the innermost frame's function ("get_ack_nr") */
            char op[24];         /* the innermost frame of a DFU request ("__execute",
                                    "__select_command", ...), "" none */
        } exc;
        struct {
            char tool[20];       /* "nrfutil", "adafruit-nrfutil", "mcumgr", "dfuhost", ... */
            char sub[16];        /* "serial", "usb-serial", "ble", "genpkg", "upload", ... */
            bool transfer;       /* talks to a device (not genpkg, keys, version) */
            bool has_port;
            char port[40];
            uint32_t baud;       /* 0: not given */
            int fc;              /* -1 not given, 0, 1 */
            uint32_t touch;      /* --touch BAUD, 0 none */
            bool singlebank;
            int prn;             /* -1 not given */
        } cmd;
        struct {
            char what[24];       /* "nrfutil", "adafruit-nrfutil", "programmer", "nrfjprog",
                                    "jlink", "nrfconnect", "nrfutil-device", "connectivity" */
            unsigned major, minor, patch;
        } ver;
        struct {
            dk_lg_what what;
            unsigned type;       /* STARTING: 1 SD, 2 BL, 3 SD+BL, 4 APP */
            uint32_t sd, bl, app;/* STARTING: sizes */
            unsigned marks;      /* MARKS */
            int fc;              /* UPGRADING: -1 not said, 0, 1 */
            int singlebank;      /* UPGRADING: -1 not said, 0 dual, 1 single */
            uint32_t touch;      /* UPGRADING: 0 disabled */
        } lg;
        struct {
            dk_ble_what what;
            unsigned value;      /* NO_RESPONSE: tries; ATT_MTU: bytes */
            unsigned api;        /* CONN_FW: SoftDevice API version, 0 unknown */
        } ble;
        struct {
            dk_mcu_what what;
            uint64_t done, total; /* PROGRESS */
        } mcu;
        struct { dk_pstep step; unsigned i, n; } step;
        struct {
            bool has_code;       /* "Errorcode: NAME (0xN)" */
            int code;            /* Programmer / nrfjprog-js error code */
            bool has_lowlevel;   /* "Lowlevel error: NAME (hex)" */
            int32_t lowlevel;    /* nrfjprog DLL error, e.g. -102 */
            bool modem;          /* "Modem DFU failed" */
            int ext;             /* the DFU target's extended error the message names
                                    (its sentence, or "SdfuExt..."); 0 or -1 none */
            int result;          /* the DFU target's result code it names; 0 or -1 none */
            int devlib;          /* nrf-device-lib "Error code: 603 (Timeout)"; 0 or -1 none */
            bool mcuboot;        /* programming through MCUboot */
            bool usb_probe;      /* the USB device could not be probed / is unsupported */
        } perr;
    } u;
    char text[256];              /* message text, NUL-terminated, cut to fit */
} dk_tool_ev;

/* ---- records ---- */

typedef enum {
    DK_LR_MSG,
    DK_LR_RAW,
    DK_LR_TOOL,
    DK_LR_UNKNOWN,
    DK_LR_LONG,
    DK_LR_CUT,
} dk_lr_kind;

const char *dk_lr_kind_name(dk_lr_kind k); /* "msg", "raw", "tool", "unknown", "long", "cut" */

typedef struct {
    dk_lr_kind kind;
    dk_log_format fmt;    /* the format the line was read as */
    uint64_t line;        /* 1-based line number (CUT: the last line) */
    uint64_t off;         /* byte offset of the line's first byte in the log */
    uint64_t line_len;    /* the line's full length without its EOL */
    int64_t t_us;         /* -1 unknown */
    bool t_abs;           /* t_us counts from the epoch (else from the log's own zero) */
    dk_dir dir;
    unsigned chan;        /* saleae: analyzer index; hex/hexdump: 0 */
    const uint8_t *data;  /* MSG, RAW: the bytes (valid during the callback) */
    size_t len;
    const dk_tool_ev *tool; /* TOOL (valid during the callback) */
    const char *text;     /* the line (not NUL-terminated; LONG: its start) */
    size_t text_len;
    const char *why;      /* UNKNOWN, LONG, CUT: what was not understood */
} dk_logrec;

typedef void (*dk_logrec_cb)(void *ctx, const dk_logrec *rec);

/* Where understanding stopped, for the transcript's last word. */
typedef struct {
    dk_log_format fmt;        /* the format in use (after detection) */
    unsigned sniff_score;     /* recognised lines in the sniffed head (AUTO) */
    uint64_t lines;           /* lines seen */
    uint64_t bytes;           /* bytes fed */
    uint64_t understood;      /* lines that gave records or were known noise */
    uint64_t unknown;         /* UNKNOWN records */
    uint64_t long_lines;      /* LONG records */
    uint64_t first_unknown;   /* line number, 0 none */
    uint64_t last_understood; /* line number, 0 none */
    uint64_t records;         /* records delivered */
    bool cut;                 /* a CUT record was delivered */
} dk_logrd_stats;

typedef struct dk_logrd dk_logrd;

/* fmt DK_LOG_AUTO detects the format; line_max 0 = DK_LOG_LINE_MAX_DEFAULT
 * (at least 256).  NULL when out of memory. */
dk_logrd *dk_logrd_new(dk_log_format fmt, size_t line_max);
void dk_logrd_free(dk_logrd *r);

/* Feed the next bytes of the log; records come out through cb, in order. */
void dk_logrd_feed(dk_logrd *r, const uint8_t *data, size_t len, dk_logrec_cb cb, void *ctx);

/* End of log: decide the format if still undecided, parse the last line,
 * deliver held records (an exception waiting for its second line, a
 * Programmer error waiting for its low-level line) and CUT when the log
 * stops inside something.  Returns DK_OK, or DK_E_FORMAT (err filled, offset
 * 0) when AUTO found no known format: then no record was delivered. */
dk_status dk_logrd_finish(dk_logrd *r, dk_logrec_cb cb, void *ctx, dk_err *err);

/* The format in use: DK_LOG_AUTO while undecided. */
dk_log_format dk_logrd_format(const dk_logrd *r);
/* True once AUTO has looked and found nothing: feed() then drops input and
 * finish() reports DK_E_FORMAT. */
bool dk_logrd_failed(const dk_logrd *r);
const dk_logrd_stats *dk_logrd_stats_get(const dk_logrd *r);

/* Adapter (the only I/O here): read a whole file ("-" = stdin) through a new
 * reader in 64 KB chunks.  DK_OK, DK_E_IO, or what finish() returned;
 * stats (may be NULL) gets the final statistics. */
dk_status dk_logrd_file(const char *path, dk_log_format fmt, size_t line_max, dk_logrec_cb cb,
                        void *ctx, dk_logrd_stats *stats, dk_err *err);

/* The same on an input already open (input.h, lib/files), the head it
 * peeked included; in stays the caller's. */
struct dk_input;
dk_status dk_logrd_input(struct dk_input *in, dk_log_format fmt, size_t line_max, dk_logrec_cb cb,
                         void *ctx, dk_logrd_stats *stats, dk_err *err);

/* ---- text parsers, exposed for tests and other readers ---- */

/* "2024-05-14 10:00:00,123" (nrfutil), "2016/07/05 15:00:27.776812" (socat),
 * "2024-01-04T13:59:14.654Z" / "...+01:00" (ISO 8601): microseconds since
 * the epoch (the wall clock read as UTC when no zone is given).  Returns the
 * characters used, 0 when s does not start with one of these. */
size_t dk_log_parse_time(const char *s, size_t len, int64_t *t_us);

/* ---- error code tables (Programmer failures) ---- */

/* nrfjprog DLL error codes (the "Lowlevel error" of Programmer logs), e.g.
 * -102 "JLINKARM_DLL_ERROR".  NULL when unknown. */
const char *dk_jprog_err_name(int32_t code);
/* One line: what the code means and what to try; NULL when unknown. */
const char *dk_jprog_err_hint(int32_t code);
/* Programmer's own error codes ("Errorcode: NAME (0xN)" from its nrfjprog
 * bindings), e.g. 9 "CouldNotCallFunction".  NULL when unknown. */
const char *dk_progjs_err_name(int code);
const char *dk_progjs_err_hint(int code);
/* By name, for logs that print only the name; -1000 / -1 when unknown. */
int32_t dk_jprog_err_by_name(const char *name, size_t len);
int dk_progjs_err_by_name(const char *name, size_t len);

#endif
