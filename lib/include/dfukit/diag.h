/* diag.h - known failure signatures: pick the one-sentence diagnosis for a
 * session summary, helped by facts the summary cannot carry.
 *
 * Inputs:
 *   dk_summary      the session tracker's summary (session.h)
 *   dk_diag_facts   what else the input showed, gathered while decoding:
 *                   - from the session's events: the init packet (decoded?
 *                     signed?), the first SELECT answers (what the target held
 *                     when the host came), resumes, the last request that
 *                     restarts the inactivity timer (§6.8) and the first one
 *                     left unanswered;
 *                   - from a host tool's log (logread.h TOOL records): its
 *                     exception (§5.2), "No ping response" tries, the command
 *                     line (flow control, baud, PRN), Programmer failures.
 *
 * One row per signature, tried in table order; the first whose conditions all
 * hold wins.  A row's conditions are fields (outcome, failing stage, opcode,
 * result, extended error, anomaly present) plus an optional predicate for what
 * fields cannot say.  -1 / DK_DIAG_ANY means "any".  The last row matches
 * everything, so dk_diag_pick never returns NULL.
 *
 * The failure fields are matched against the "effective" failure: the
 * summary's own when the target's last word was an error; else, when a host
 * log names the target's error without the messages (nrfutil without -v:
 * "Extended Error 0x07: ..."), the one the exception names.  Extended errors
 * 0x04-0x0B are only produced by the init packet checks at command EXECUTE
 * and 0x0C only by the final EXECUTE (§3.2, §6.6, §6.7), which gives their
 * stage.
 *
 * To add a signature: add a row to the table in diag.c, before the first row
 * that would also match it, a case in tests/lib/test_diag.c (which checks
 * that every row is reached), and where possible a sample log or capture.
 */
#ifndef DFUKIT_DIAG_H
#define DFUKIT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/logread.h"
#include "dfukit/session.h"

#define DK_DIAG_ANY (-1)

/* NRF_BL_DFU_INACTIVITY_TIMEOUT_MS of the SDK examples (§6.8). */
#define DK_DIAG_INACTIVITY_US 120000000LL

typedef struct {
    /* ---- from the session's events (dk_diag_facts_event) ---- */
    bool init_seen;           /* an INIT event (the command object executed) */
    bool init_decoded;        /* ... and the init packet decoded */
    bool init_signed;         /* ... and it is signed */
    uint32_t init_len, init_crc; /* the command object as sent */
    bool sel_cmd_seen;        /* the first SELECT command was answered */
    uint32_t sel_cmd_offset, sel_cmd_crc;   /* what it reported */
    bool sel_data_seen;       /* the first SELECT data was answered */
    uint32_t sel_data_max, sel_data_offset, sel_data_crc;
    bool held_other_init;     /* the target held an init packet (SELECT command
                                 offset > 0) and the host replaced it with a
                                 command CREATE (resume "restart") */
    bool resume_boundary;     /* a SELECT data reported offset > 0 on an object
                                 boundary (offset % max_size == 0) */
    uint32_t resume_offset;
    unsigned checks_bad_after_resume; /* CRC/offset checks that failed after it */
    bool pullback;            /* ... and the host's next object request was a data
                                 CREATE without an EXECUTE first: nrfutil pulling
                                 back one object after a CRC mismatch (§5.2) */
    bool after_resume_seen;   /* that next request was seen */
    int64_t t_timer;          /* last command CREATE / data EXECUTE request
                                 (restarts the inactivity timer), -1 none */
    int64_t t_first;          /* first message, -1 unknown */
    bool idle_silence;        /* a request went unanswered at least
                                 DK_DIAG_INACTIVITY_US after t_timer (or after
                                 the first message when no restart was seen) */
    int64_t idle_us;          /* that gap */
    /* ---- from a host tool's log (dk_diag_facts_tool / _text) ---- */
    bool tool;                /* the input had host-tool lines */
    unsigned exc_mask;        /* bit (1u << dk_nx_kind) per exception seen */
    bool has_exc;             /* the last exception: */
    dk_nx_kind exc;
    uint8_t exc_ext, exc_result;
    bool exc_values;
    uint32_t exc_expected, exc_received;
    char exc_class[64];       /* "NordicSemiException" */
    char exc_text[160];
    unsigned no_ping;         /* "No ping response" tries */
    bool done;                /* "Device programmed." / Programmer completed */
    int flow_control;         /* host RTS/CTS from its command line: -1 unknown, 0, 1 */
    uint32_t baud;            /* host baud from its command line, 0 unknown */
    int prn;                  /* -1 unknown */
    char host_tool[24];       /* "nrfutil", "nrfutil-ble", "adafruit-nrfutil", "dfuhost", "" */
    bool prog_error;          /* an nRF Connect Programmer failure: */
    bool prog_has_code;
    int prog_code;            /* "Errorcode: NAME (0xN)" */
    bool prog_has_lowlevel;
    int32_t prog_lowlevel;    /* nrfjprog DLL error, e.g. -102 */
    bool prog_modem;          /* modem DFU */
    char prog_text[160];
    /* ---- more from a host tool's log (diag_host.c) ---- */
    unsigned run;             /* which run of the log these facts are of (1: the first) */
    bool run_started;         /* a transfer began: a DFU command, "Upgrading target",
                                 a Programmer write, an mcumgr upload */
    bool cmd_seen;            /* a host command line */
    char cmd_tool[20];        /* its tool ("nrfutil", "adafruit-nrfutil", "mcumgr", ...) */
    char cmd_sub[16];         /* its subcommand ("serial", "usb-serial", "ble", "genpkg") */
    bool cmd_transfer;        /* the subcommand talks to a device */
    bool has_port;            /* it named the port (or the device) */
    char port[40];
    uint32_t touch;           /* adafruit-nrfutil --touch BAUD (or "Touch 1200"), 0 none */
    unsigned host_ver;        /* the host tool's version, major << 16 | minor << 8 | patch */
    bool erased;              /* "nrfjprog --eraseall" earlier in the log */
    bool traceback;           /* a Python traceback was seen */
    dk_host_stage exc_stage;  /* the last exception's stage, from its traceback */
    char exc_func[32];        /* and its innermost function */
    char exc_op[24];          /* and the DFU request it was in ("__execute") */
    dk_host_stage tb_stage;   /* a traceback cut before its exception: where it got */
    char tb_func[32];
    bool image_sent_last;     /* nrfutil "Image sent", and nothing after it */
    /* legacy hosts (adafruit-nrfutil, nrfutil <= 0.5), protocol.md §13.13 */
    bool legacy;
    dk_host_stage lg_stage;   /* the last step it announced */
    unsigned lg_marks;        /* progress marks ("#") */
    bool lg_no_ack;           /* "Timed out waiting for acknowledgement" */
    dk_host_stage lg_no_ack_stage; /* the step it was in then */
    unsigned lg_no_ack_marks; /* the marks before it */
    bool lg_touched;          /* "Touched serial port" */
    bool lg_activating;       /* "Activating new firmware" */
    bool lg_no_new_port;      /* the IDE saw no new port after its touch */
    /* BLE adapters */
    unsigned att_mtu;         /* "ATT MTU: 247", 0 unknown */
    bool conn_fw;             /* a connectivity firmware version was named */
    char conn_fw_text[48];
    unsigned conn_api;        /* its SoftDevice API version, 0 unknown */
    bool ble_opened;          /* the adapter opened */
    bool ble_no_response;     /* "No response from device" (the adapter) */
    bool ble_no_ports;        /* pc-ble-driver found no serial port */
    bool ble_flashed;         /* "Board already flashed with connectivity firmware" */
    bool ble_writes_only;     /* a listing of the host's writes, answers left out */
    /* Programmer, nrfutil device */
    int prog_ext;             /* the DFU target's extended error it names, -1 */
    int prog_result;          /* the DFU target's result code it names, -1 */
    int prog_devlib;          /* nrf-device-lib error code, -1 */
    bool prog_mcuboot, prog_usb_probe, prog_unknown_device, prog_writing;
    /* legacy HCI packets in a log's line bytes while no Secure DFU answer came
     * (the pipeline counts them; the legacy tracker decodes them) */
    unsigned hci_out, hci_in;
    /* mcumgr */
    bool mcu_nmp_timeout, mcu_panic, mcu_rx_text;
    uint64_t mcu_done;        /* bytes uploaded by its last progress line */
} dk_diag_facts;

void dk_diag_facts_init(dk_diag_facts *f);
/* Feed every session event (any order the session emits them). */
void dk_diag_facts_event(dk_diag_facts *f, const dk_event *ev);
/* Feed every TOOL record of a log. */
void dk_diag_facts_tool(dk_diag_facts *f, const dk_tool_ev *t);
/* Feed a log line that no reader understood: a shell prompt line with the
 * host's command ("nrfutil ... dfu serial ... -fc 0 -b 1000000 -prn 8",
 * "dfuhost ... --flow-control") gives flow control, baud and PRN. */
void dk_diag_facts_text(dk_diag_facts *f, const char *line, size_t len);
/* The part of dk_diag_facts_tool for the host's context (diag_host.c). */
void dk_diag_facts_host(dk_diag_facts *f, const dk_tool_ev *t);
/* One line on where the host was and with what (tool and version, port,
 * options, the stage it stopped in, progress, the BLE adapter): for the
 * summary.  Empty when the log says nothing of it. */
void dk_diag_where(const dk_diag_facts *f, char *buf, size_t cap);

/* The outcome settled with the host's words, and the failure the rows match
 * against (see above).  The one place that decides how a session ended: the
 * pipeline stores `outcome` and `by_host` in the summary (settled,
 * settled_by_host) and picks the diagnosis from the same value, so the
 * summary line and the diagnosis cannot disagree. */
typedef struct {
    dk_outcome outcome;       /* the summary's, unless the host's log settles it:
                                 COMPLETED (dk_diag_host_done), UNKNOWN
                                 (dk_diag_one_sided), FAILED (the host names
                                 the target's error) */
    bool by_host;             /* the host's log, not the messages, decided it */
    bool failed;
    dk_stage stage;
    int op, result, ext;      /* -1 unknown */
    bool from_tool;           /* the failure taken from the host's exception */
} dk_diag_failure;

void dk_diag_effective(const dk_summary *s, const dk_diag_facts *f, dk_diag_failure *out);

/* The host's log says the update completed where the messages do not show
 * it: nrfutil's "Image sent" after the last message (the excerpt starts
 * after the image's first messages, or its final EXECUTE was not decoded),
 * or "Device programmed." / a Programmer success in a log without messages;
 * no exception, no Programmer error, no failure from the target. */
bool dk_diag_host_done(const dk_summary *s, const dk_diag_facts *f);

/* The log lists the host's writes alone (a BLE write listing) and no answer
 * is in it: "the target never answered" is not what the log shows. */
bool dk_diag_one_sided(const dk_summary *s, const dk_diag_facts *f);


typedef struct dk_diag_row {
    const char *id;      /* stable dotted id, e.g. "init.sd_req" */
    const char *when;    /* the condition in words (for docs and --list) */
    int outcome;         /* dk_outcome or DK_DIAG_ANY */
    int stage;           /* dk_stage of the failing request, or DK_DIAG_ANY */
    int op;              /* failing opcode, or DK_DIAG_ANY */
    int result;          /* failing result code, or DK_DIAG_ANY */
    int ext;             /* failing extended error, or DK_DIAG_ANY */
    int anomaly;         /* dk_anomaly_id that must have occurred, or DK_DIAG_ANY */
    bool (*match)(const dk_summary *s, const dk_diag_facts *f); /* extra, or NULL */
    const char *explain; /* one sentence: what happened */
    const char *try_;    /* one sentence: what to try */
} dk_diag_row;

/* The first matching row (never NULL), from the summary alone. */
const dk_diag_row *dk_diag_pick(const dk_summary *s);

/* The same with facts (f may be NULL). */
const dk_diag_row *dk_diag_pick_facts(const dk_summary *s, const dk_diag_facts *f);

/* Settle s->settled and s->settled_by_host from the summary and the facts
 * (f may be NULL) and pick the diagnosis from that same settlement; returns
 * the row (also stored in s->diag). */
const dk_diag_row *dk_diag_settle(dk_summary *s, const dk_diag_facts *f);

/* The main table (for listing and tests); the host rows (diag_host.c) are
 * tried right after its update.completed row: dk_diag_row_at lists all rows
 * in the order they are tried. */
const dk_diag_row *dk_diag_table(unsigned *n);
const dk_diag_row *dk_diag_host_table(unsigned *n);
unsigned dk_diag_count(void);
const dk_diag_row *dk_diag_row_at(unsigned i);

/* A row by id, or NULL. */
const dk_diag_row *dk_diag_find(const char *id);

#endif
