/* scenario.h - a reproduction scenario: the device a field log (or capture)
 * shows, and the faults that make dfusim fail the same way.  dfudecode
 * --scenario writes it, dfusim --scenario reads it.  JSON via jansson.
 *
 * JSON layout (version 1; every key is always written, null where unknown;
 * a reader takes missing optional keys as their default):
 *
 * {
 *   "dfukit_scenario": 1,                      format version (required)
 *   "source": {
 *     "file": "nrfutil-sd-req.log",            the input as dfudecode got it
 *     "format": "nrfutil",                     log format (logread.h names), "pcap" or "raw"
 *     "host": "nrfutil"                        the host tool the input shows: "nrfutil",
 *   },                                         "nrfutil-ble", "dfuhost", or "" unknown
 *   "diagnosis": "init.sd_req",                the signature dfudecode chose (diag.h)
 *   "failure": {                               how the session ended:
 *     "outcome": "failed",                     completed | interrupted | failed | no_response | empty
 *     "stage": "init",                         connect | init | data | final | "" (none)
 *     "request": "OBJECT_EXECUTE",             the refused or unanswered request, or null
 *     "opcode": 4,                             its opcode, or null
 *     "result": 11, "result_name": "EXT_ERROR",  the target's answer, or null
 *     "ext": 7, "ext_name": "SD_VERSION_FAILURE",  its extended error, or null
 *     "image": 1,                              image (from 1) it happened in, 0 unknown
 *     "object": "data",                        command | data | "" : progress at the failure:
 *     "offset": 4096, "size": 6000,            offset reached in that object / the image
 *                                              size (command: init packet length), 0 unknown
 *     "host_error": "Extended Error 0x07: ...",   the host's last exception text, or ""
 *     "host_error_kind": "ext_error"           dk_nx_name() of it, or ""
 *   },
 *   "init_packet": null | {                    the init packet the input shows
 *     "len": 69, "crc": "0x66e4aa56",          length and CRC-32 of the command object
 *     "accepted": false,                       its EXECUTE succeeded
 *     "hex": "0a43..." | null,                 its bytes, when they are known
 *     "from": "log" | "package",               where the bytes came from (--pkg)
 *     "signed": false, "fw_version": 2, "hw_version": 52, "sd_req": [257],
 *     "type": "APPLICATION", "image_size": 6000   decoded, for the reader (ignored on read)
 *   },
 *   "device": {                                what dfusim is configured as (sim/README.md)
 *     "chip": "nrf52840",                      nrf52840 | nrf52832
 *     "hw_version": 52,                        NRF_DFU_HW_VERSION
 *     "softdevice": null | {"fwid": 256, "end": 159744},   null: MBR only; fwid
 *                                              0x0001-0xFFFD, end page-aligned, below
 *                                              the page under the bootloader
 *     "app": null | {"size": 16384, "version": 2},         an installed, valid app;
 *                                              size 1 to the app area (from the end of
 *                                              the SoftDevice or MBR to the 3 app data
 *                                              pages below the bootloader)
 *     "bootloader_version": 1,
 *     "save_progress_in_flash": false,         NRF_DFU_SAVE_PROGRESS_IN_FLASH
 *     "single_bank": false,                    NRF_DFU_SINGLE_BANK_APP_UPDATES
 *     "require_signature": false,              signed app/SD updates required (no key is
 *                                              given: every signature then fails, 0x05;
 *                                              dfusim --public-key adds one)
 *     "enter_dfu": "no-valid-app",             no-valid-app | always | first-boot
 *     "mtu": 131,
 *     "inactivity_ms": 120000
 *   },
 *   "start": {                                 what the settings page holds when the host
 *     "init": null | {                         comes: an executed init command
 *       "size": 69, "crc": "0x...",            as SELECT command reported it
 *       "hex": "..." | null                    its bytes (null: unknown, dfusim stores a
 *     },                                       stand-in of that size that does not decode)
 *     "data": null | {"offset": 8192, "crc": "0x..."}   data progress as SELECT data
 *   },                                         reported it (executed objects)
 *   "host": {                                  the host as the input shows it
 *     "prn": 0 | null, "flow_control": true | false | null, "baud": 115200 | null,
 *     "dfuhost_args": ["--no-check"]           options that make dfuhost act like the
 *   },                                         host of the log for a rerun
 *   "line": {"realtime": false, "baud": 115200},   dfusim --realtime [--baud]
 *   "faults": ["op=0x04#2:delay-response=1500"],   dfusim --fault SPECs (sim/README.md)
 *   "notes": ["..."]                           why each inferred value was chosen
 * }
 *
 * Numbers are JSON integers; CRCs are strings "0x%08x"; hex is lowercase
 * without separators.  The struct below holds exactly these fields.
 */
#ifndef DFUKIT_SCENARIO_H
#define DFUKIT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/diag.h"
#include "dfukit/err.h"
#include "dfukit/session.h"

#define DK_SCEN_VERSION 1
#define DK_SCEN_INIT_MAX 512 /* INIT_COMMAND_MAX_SIZE (§4) */
#define DK_SCEN_FAULTS_MAX 8
#define DK_SCEN_FAULT_LEN 64
#define DK_SCEN_NOTES_MAX 16
#define DK_SCEN_NOTE_LEN 240
#define DK_SCEN_ARGS_MAX 4

typedef struct {
    int version;
    struct {
        char file[256];
        char format[16];
        char host[16];
    } source;
    char diagnosis[40];
    struct {
        char outcome[16];
        char stage[12];
        int op, result, ext;      /* -1 null */
        unsigned image;
        char object[12];
        uint32_t offset, size;
        char host_error[160];
        char host_error_kind[24];
    } failure;
    struct {
        bool present;
        uint32_t len, crc;
        bool accepted;
        bool bytes_known;
        bool from_package;
        uint8_t bytes[DK_SCEN_INIT_MAX];
    } init;
    struct {
        char chip[16];
        uint32_t hw_version;
        bool softdevice;
        uint16_t sd_fwid;
        uint32_t sd_end;
        bool app;
        uint32_t app_size, app_version;
        uint32_t bootloader_version;
        bool save_progress_in_flash, single_bank, require_signature;
        char enter_dfu[16];
        uint16_t mtu;
        uint32_t inactivity_ms;
    } device;
    struct {
        bool init;
        uint32_t init_size, init_crc;
        bool init_bytes_known;
        uint8_t init_bytes[DK_SCEN_INIT_MAX];
        bool data;
        uint32_t data_offset, data_crc;
    } start;
    struct {
        int prn;           /* -1 null */
        int flow_control;  /* -1 null */
        uint32_t baud;     /* 0 null */
        char dfuhost_args[DK_SCEN_ARGS_MAX][24];
        size_t n_dfuhost_args;
    } host;
    struct {
        bool realtime;
        uint32_t baud;
    } line;
    char faults[DK_SCEN_FAULTS_MAX][DK_SCEN_FAULT_LEN];
    size_t n_faults;
    char notes[DK_SCEN_NOTES_MAX][DK_SCEN_NOTE_LEN];
    size_t n_notes;
} dk_scenario;

/* Defaults: version 1, nrf52840, hw 52, MBR only, no app, bootloader 1,
 * SDK example settings, MTU 131, 120000 ms, nothing held, no faults. */
void dk_scen_init(dk_scenario *s);

/* Add a note / fault / dfuhost argument (silently dropped when full). */
void dk_scen_note(dk_scenario *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dk_scen_fault(dk_scenario *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dk_scen_host_arg(dk_scenario *s, const char *arg);

/* Check the fields: version, chip, enter_dfu, MTU, sizes, hex lengths, the
 * SoftDevice's end and the app's size against the chip's flash, data
 * progress without an init command, fault syntax (TRIGGER:ACTION with known
 * names; dfusim parses the values).  err names the field. */
dk_status dk_scen_validate(const dk_scenario *s, dk_err *err);

/* The JSON text (malloc'ed, NUL-terminated, ends with a newline), or NULL
 * when out of memory. */
char *dk_scen_to_json(const dk_scenario *s);

/* Parse and validate.  err offset: the byte where the JSON broke, else none. */
dk_status dk_scen_from_json(const char *text, size_t len, dk_scenario *s, dk_err *err);

/* Files ("-" = stdout for write).  Write creates the file with
 * dk_file_create (file.h): never through a symlink, a new file 0600, an
 * existing one overwritten, a FIFO allowed. */
dk_status dk_scen_write(const dk_scenario *s, const char *path, dk_err *err);
dk_status dk_scen_read(const char *path, dk_scenario *s, dk_err *err);

/* ---- building a scenario from a decoded session --------------------------
 *
 * Feed the builder every session event (dk_scen_builder_event), then finish
 * with the summary, the facts (diag.h), the chosen row and, when the input
 * itself does not hold the init packet's bytes (a log without -v, a resume
 * that did not resend it), the package's .dat.  What it derives, in short:
 *   - chip from HARDWARE_VERSION, MTU from MTU_GET, the installed app's
 *     version from FIRMWARE_VERSION, the SoftDevice from the init packet's
 *     sd_req (an error 0x07 picks a device that refuses it);
 *   - hw_version, app version (downgrade 0x05: one above the packet's),
 *     signature requirement from the init packet and the error;
 *   - a target that never answered: an installed app that runs (not in DFU
 *     mode); an app present otherwise: enter_dfu first-boot;
 *   - start state from the first SELECT command / data answers (when no
 *     command CREATE came before), save_progress_in_flash when data progress
 *     was held;
 *   - faults: a late answer -> delay-response on that request (the Kth of its
 *     opcode); a target that went silent at a request -> stall there;
 *     bytes lost without flow control -> the realtime line; an idle reset ->
 *     a delay as long as the host's pause.
 * Every inferred choice adds a note. */
typedef struct dk_scen_builder dk_scen_builder;

dk_scen_builder *dk_scen_builder_new(void); /* NULL: out of memory */
void dk_scen_builder_free(dk_scen_builder *b);
void dk_scen_builder_event(dk_scen_builder *b, const dk_event *ev);
/* Whether the decoded input shows something dfusim can be set up to repeat:
 * a serial Secure DFU session (or a host that got no answer at all) whose
 * diagnosis lies in the bootloader's protocol.  False, with one sentence in
 * why (cap bytes), for a Programmer or other debugger log, an input with no
 * session and no host error, and a diagnosis outside the protocol dfusim
 * models: the serial port, the BLE adapter, the host tool itself, something
 * other than the bootloader answering, a legacy (HCI) bootloader, mcumgr, a
 * log that stops before anything failed. */
bool dk_scen_reproducible(const dk_summary *sum, const dk_diag_facts *f, const dk_diag_row *diag,
                          char *why, size_t cap);
/* pkg_dat may be NULL.  source/format/host name the input (may be NULL). */
void dk_scen_builder_finish(dk_scen_builder *b, const dk_summary *sum, const dk_diag_facts *f,
                            const dk_diag_row *diag, const uint8_t *pkg_dat, size_t pkg_dat_len,
                            const char *source, const char *format, dk_scenario *out);

#endif
