/* event.h - the event and anomaly model every protocol tracker emits and
 * every consumer (facts, scenario builder, package check, printers) reads.
 *
 *   tracker (session.h: Secure DFU; tracker.h: the seam for others)
 *      --dk_event--> pipeline (pipeline.h) --> facts, scenario, package
 *                                               check, text/JSON printers
 *
 * One anomaly table for all protocols: a stable dotted id, a severity and a
 * one-line meaning per row (DK_ANOMALIES).  A protocol's tracker adds its
 * rows under its own prefix (slip., msg., dfu., initpkt. for Secure DFU;
 * pkg. is the package check's).  The name, text and severity lookups of the
 * table (dk_anomaly_name ...) and the enum names (dk_outcome_name ...) are
 * defined in lib/sdfu/session.c.
 *
 * Event kinds, in the order a consumer sees them: what the tracker finds as
 * it goes (EXCHANGE ... ANOMALY), then SUMMARY, last of the tracker's.  The
 * pipeline adds TOOL and LOG (a text log's host-tool lines and lines it did
 * not understand, in log order) and PACKAGE (the package check's report,
 * after SUMMARY).  A tracker for another protocol emits the kinds that make
 * sense for it (EXCHANGE, WRITE/WRITES, IMAGE, ANOMALY, SUMMARY); where its
 * payload cannot be a Secure DFU one, it adds its own member to the union
 * and the printers a case for it.
 */
#ifndef DFUKIT_EVENT_H
#define DFUKIT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/initpkt.h"
#include "dfukit/logread.h"
#include "dfukit/msg.h"
#include "dfukit/slip.h"

/* obj_type of an event (WRITE, WRITES, PRN, EXCHANGE) and dk_summary.stop_obj
 * when the capture does not show the object's type: it started inside the
 * object, before any SELECT or CREATE named it (protocol.md §6.10).  Not a
 * wire value: the tracker reads a SELECT/CREATE of type 0xFF as invalid. */
#define DK_OBJ_UNSHOWN 0xFF

/* X(ENUM, "dotted.id", SEVERITY, "what it means") - ids are stable: tests,
 * golden transcripts and JSON consumers rely on them. */
#define DK_ANOMALIES(X)                                                                        \
    X(SLIP_BAD_ESCAPE, "slip.bad_escape", ERROR,                                               \
      "ESC followed by a byte other than DC/DD; the frame was dropped up to the next END")     \
    X(SLIP_TOO_LONG, "slip.too_long", ERROR,                                                   \
      "frame longer than the decoder's limit; dropped up to the next END")                     \
    X(SLIP_EMPTY_FRAME, "slip.empty_frame", WARN,                                              \
      "END with nothing before it (the SDK would parse it as a request)")                      \
    X(SLIP_UNTERMINATED, "slip.unterminated", WARN, "bytes at the end of the capture without END") \
    X(SLIP_BEFORE_FIRST, "slip.bytes_before_first_frame", INFO,                                \
      "bytes before the first frame (capture started mid-frame, or boot output)")              \
    X(SLIP_NOISE, "slip.noise", WARN, "bytes between frames that belong to no message")        \
    X(CAP_DATA_LOST, "cap.data_lost", ERROR, "the capture tool reports lost data")             \
    X(MSG_TRUNCATED, "msg.truncated", ERROR, "message shorter than its opcode defines")        \
    X(MSG_OVERLONG, "msg.overlong", WARN, "message longer than its opcode defines")            \
    X(MSG_UNKNOWN_OPCODE, "msg.unknown_opcode", ERROR, "frame with an opcode the protocol does not define") \
    X(MSG_WRONG_DIRECTION, "msg.wrong_direction", WARN,                                        \
      "a request sent by the target, or a response sent by the host")                          \
    X(DFU_RESPONSE_WITHOUT_REQUEST, "dfu.response_without_request", ERROR,                     \
      "a response no request asked for")                                                       \
    X(DFU_NO_RESPONSE, "dfu.no_response", ERROR,                                               \
      "a request that was never answered, or a PRN notification that never came")              \
    X(DFU_BOOT_CHECK, "dfu.boot_check", INFO,                                                  \
      "a PING after a completed image that was not answered: the target left its bootloader"  \
      " (a host checking that the update took)")                                               \
    X(DFU_LATE_RESPONSE, "dfu.late_response", ERROR,                                           \
      "a response that arrived after the host had sent its next request (desync)")             \
    X(DFU_UNEXPECTED_OPCODE, "dfu.unexpected_opcode", ERROR,                                   \
      "a response whose opcode is not the one of the waiting request")                         \
    X(DFU_CRC_MISMATCH, "dfu.crc_mismatch", ERROR,                                             \
      "the target reports a CRC that differs from the bytes sent")                             \
    X(DFU_OFFSET_MISMATCH, "dfu.offset_mismatch", ERROR,                                       \
      "the target reports more bytes than were sent")                                          \
    X(DFU_OFFSET_BACKWARDS, "dfu.offset_backwards", WARN,                                      \
      "the target reports fewer bytes than were sent (progress lost)")                         \
    X(DFU_WRITE_BEYOND_OBJECT, "dfu.write_beyond_object", ERROR,                               \
      "write past the end of the created object")                                              \
    X(DFU_WRITE_WITHOUT_OBJECT, "dfu.write_without_object", ERROR,                             \
      "write while no valid object type is selected")                                          \
    X(DFU_EXECUTE_INCOMPLETE, "dfu.execute_incomplete", ERROR,                                 \
      "execute while bytes of the object are missing")                                         \
    X(DFU_OBJECT_DISCARDED, "dfu.object_discarded", WARN,                                      \
      "a data CREATE threw away a partly written object")                                      \
    X(DFU_DATA_BEFORE_INIT, "dfu.data_before_init", ERROR,                                     \
      "data object created or written before a valid init packet")                             \
    X(DFU_OBJECT_TYPE_SETTLED, "dfu.object_type_settled", INFO,                                \
      "the capture started inside an object; later evidence shows its type")                   \
    X(DFU_EXT_ERROR, "dfu.ext_error", ERROR, "the target answered with an extended error")     \
    X(DFU_ERROR_RESULT, "dfu.error_result", ERROR, "the target answered with a non-success result") \
    X(INIT_MALFORMED, "initpkt.malformed", ERROR, "the init packet does not decode")           \
    X(INIT_INCOMPLETE, "initpkt.incomplete", INFO,                                             \
      "the init packet bytes were not all in the capture; it cannot be decoded")             \
    X(HCI_BAD_HEADER, "hci.bad_header", ERROR,                                                 \
      "an HCI packet the device drops without an ACK: flags, type or header checksum wrong")  \
    X(HCI_BAD_CRC, "hci.bad_crc", ERROR,                                                       \
      "an HCI packet whose CRC16 is wrong: the device drops it without an ACK")               \
    X(HCI_BAD_LENGTH, "hci.bad_length", WARN,                                                  \
      "the header's length field differs from the packet (the device does not check it)")    \
    X(HCI_NO_ACK, "hci.no_ack", ERROR,                                                         \
      "a packet the device never acknowledged (adafruit-nrfutil gives up after 1 s)")         \
    X(HCI_SEQ_GAP, "hci.seq_gap", WARN,                                                        \
      "the host's sequence number is not the one after its last packet")                      \
    X(HCI_RETRANSMIT, "hci.retransmit", WARN, "the host sent the same packet again")           \
    X(HCI_ACK_NUMBER, "hci.ack_number", WARN,                                                  \
      "an ACK whose number fits neither the packet's acceptance nor its dropping")           \
    X(HCI_UNEXPECTED, "hci.unexpected_frame", WARN,                                            \
      "a frame that is neither a host packet nor the ACK of one")                             \
    X(LEGACY_DROPPED, "legacy.dropped", ERROR,                                                 \
      "the device acknowledged a packet but dropped it: it expected another sequence number") \
    X(LEGACY_STALE_SEQ, "legacy.stale_sequence", ERROR,                                        \
      "a new host run met a device still counting from an interrupted session (§13.12)")      \
    X(LEGACY_DEVICE_RESET, "legacy.device_reset", ERROR,                                       \
      "the device reset during the session (its ACK numbers start again from 1)")             \
    X(LEGACY_START_REFUSED, "legacy.start_refused", ERROR,                                     \
      "a START the bootloader refuses (it resets): sizes, mode, or a session already open")   \
    X(LEGACY_INIT_MALFORMED, "legacy.init_malformed", ERROR,                                   \
      "the legacy init packet is too short or too long: the bootloader resets")               \
    X(LEGACY_INIT_DEVICE_TYPE, "legacy.init_device_type", ERROR,                               \
      "the init packet's device type is not 0x0052: the Adafruit bootloader resets")          \
    X(LEGACY_INIT_DEVICE_REV, "legacy.init_device_rev", ERROR,                                 \
      "an SD/BL init packet for a device revision the bootloader refuses: it resets")         \
    X(LEGACY_INIT_SD_REQ, "legacy.init_sd_req", ERROR,                                         \
      "the init packet's sd_req list is empty: the bootloader resets")                        \
    X(LEGACY_OUT_OF_ORDER, "legacy.out_of_order", ERROR,                                       \
      "a packet the device's state does not take here (INIT not right after START, DATA "     \
      "before the init packet, anything after activation)")                                   \
    X(LEGACY_DATA_OVERFLOW, "legacy.data_overflow", ERROR,                                     \
      "DATA past the image size START announced: dropped, later data is corrupt")             \
    X(LEGACY_PARTIAL_WORD, "legacy.partial_word", WARN,                                        \
      "a body that is not whole words: the device drops the last 1-3 bytes")                  \
    X(LEGACY_UNKNOWN_KIND, "legacy.unknown_kind", WARN,                                        \
      "a packet kind other than START, INIT, DATA, STOP: queued and ignored")                 \
    X(LEGACY_SIZE_MISMATCH, "legacy.size_mismatch", ERROR,                                     \
      "STOP before the whole image arrived: the device does nothing with it")                \
    X(LEGACY_CRC_MISMATCH, "legacy.crc_mismatch", ERROR,                                       \
      "the image's CRC16 differs from the init packet's: validation fails, nothing activated") \
    X(PKG_INIT_MISMATCH, "pkg.init_mismatch", ERROR,                                           \
      "(--pkg) the init packet differs from the package's .dat")                               \
    X(PKG_DATA_MISMATCH, "pkg.data_mismatch", ERROR,                                           \
      "(--pkg) first written byte that differs from the package's .bin")

typedef enum {
#define DK_X(e, id, sev, text) DK_AN_##e,
    DK_ANOMALIES(DK_X)
#undef DK_X
    DK_AN_COUNT
} dk_anomaly_id;

typedef enum { DK_SEV_INFO = 0, DK_SEV_WARN = 1, DK_SEV_ERROR = 2 } dk_severity;

const char *dk_anomaly_name(dk_anomaly_id id);  /* "dfu.crc_mismatch"; NULL if out of range */
const char *dk_anomaly_text(dk_anomaly_id id);  /* one-line meaning */
dk_severity dk_anomaly_severity(dk_anomaly_id id);
const char *dk_severity_name(dk_severity s);    /* "info", "warning", "error" */
/* Look an id up by its dotted name; -1 when unknown. */
int dk_anomaly_by_name(const char *name);

typedef enum {
    DK_EV_EXCHANGE, /* a request and its response, or one of them alone */
    DK_EV_WRITE,    /* every OBJECT_WRITE (hot path: printers fold these) */
    DK_EV_WRITES,   /* a finished run of writes to one object, folded */
    DK_EV_PRN,      /* a PRN notification (CRC_GET-shaped response to a write) */
    DK_EV_INIT,     /* the init packet, decoded when the command object executes */
    DK_EV_IMAGE,    /* a new image starts (command CREATE), or one completes */
    DK_EV_RESUME,   /* how the host used a SELECT that reported offset > 0 */
    DK_EV_PORT,     /* the host closed or (re)opened the port (dk_session_port) */
    DK_EV_ANOMALY,
    DK_EV_HCI,      /* a legacy HCI packet and the ACK that answers it (legacy tracker) */
    DK_EV_SUMMARY,  /* the tracker's last event (dk_session_finish); the
                       pipeline fills its diagnosis */
    /* from the pipeline, not a tracker: */
    DK_EV_TOOL,     /* a host tool's line of a text log (u.rec, kind TOOL) */
    DK_EV_LOG,      /* a log line not understood or too long, or the log cut
                       off (u.rec, kind UNKNOWN / LONG / CUT) */
    DK_EV_PACKAGE,  /* the package check's report (pkgcheck.h), after SUMMARY */
} dk_ev_kind;

/* Result of checking an offset/CRC the target reported. */
typedef enum {
    DK_CHECK_NONE = 0,   /* nothing to check (no report, or nothing known) */
    DK_CHECK_OK,
    DK_CHECK_CRC_BAD,    /* offsets agree, CRCs differ */
    DK_CHECK_OFFSET_BAD, /* offsets differ */
    DK_CHECK_ADOPTED,    /* nothing seen yet: the target's values were taken */
} dk_check;

typedef enum {
    DK_RESUME_CONTINUE = 1,       /* host goes on from the reported offset */
    DK_RESUME_OBJECT_RESTART = 2, /* data CREATE: the partial object is resent */
    DK_RESUME_RESTART = 3,        /* command CREATE: the image starts over */
} dk_resume_how;

typedef enum {
    DK_OUTCOME_EMPTY = 0,    /* no DFU message at all */
    DK_OUTCOME_COMPLETED,    /* the last image's final EXECUTE succeeded */
    DK_OUTCOME_INTERRUPTED,  /* stopped without an error from the target */
    DK_OUTCOME_FAILED,       /* the target's last word was an error */
    DK_OUTCOME_NO_RESPONSE,  /* requests, but not one response */
    DK_OUTCOME_UNKNOWN,      /* settled only (dk_summary.settled): the input holds
                                the host's side alone, so how it ended is not in it */
} dk_outcome;

const char *dk_outcome_name(dk_outcome o); /* "completed", "interrupted", ... */
const char *dk_resume_name(dk_resume_how h); /* "continue", "object_restart", "restart" */
const char *dk_check_name(dk_check c);       /* "none", "ok", "crc_mismatch", ... */

/* Where in an update a request belongs (diagnosis input). */
typedef enum {
    DK_STAGE_NONE = 0,
    DK_STAGE_CONNECT, /* PING, PRN, MTU, versions */
    DK_STAGE_INIT,    /* anything on the command object */
    DK_STAGE_DATA,    /* anything on the data object but the final EXECUTE */
    DK_STAGE_FINAL,   /* the EXECUTE of the object that ends the image */
} dk_stage;

const char *dk_stage_name(dk_stage s);

typedef struct {
    dk_anomaly_id id;
    dk_severity severity;
    dk_dir dir;
    uint64_t start, end; /* byte span in the input */
    char text[200];      /* the particular case, e.g. "CRC_GET reports ..." */
    bool has_ext;        /* DFU_EXT_ERROR: code for dk_ext_meaning/hint */
    uint8_t ext;
    uint8_t result;      /* DFU_EXT_ERROR, DFU_ERROR_RESULT */
    uint8_t op;          /* opcode concerned, when there is one */
} dk_anomaly;

typedef struct {
    bool has_req, has_rsp;
    dk_msg req;         /* raw points into tracker memory (short requests) */
    dk_msg rsp;
    uint8_t obj_type;   /* object type the request acted on */
    int64_t t_req, t_rsp;
    uint64_t req_start, req_end, rsp_start, rsp_end;
    int64_t latency_us; /* -1 unknown */
    bool late;          /* answered after a later request (dfu.late_response) */
    dk_check check;     /* for SELECT/CRC_GET: the reported offset/CRC */
    uint32_t exp_offset, exp_crc; /* what the tracker expected */
} dk_exchange;

typedef struct {
    uint8_t obj_type;
    bool legacy;         /* a legacy DATA packet (the HCI event shows it) */
    const uint8_t *data; /* the written bytes */
    size_t len;
    uint32_t offset;     /* where they go: image offset (data), command offset */
    uint32_t crc;        /* running CRC after them */
    bool crc_known;
} dk_write;

typedef struct {
    uint8_t obj_type;
    bool legacy;         /* legacy DATA packets: crc_end is the running CRC16 */
    uint8_t seq_first, seq_last; /* legacy: their sequence numbers */
    uint32_t count;      /* writes in the run */
    uint64_t bytes;
    uint32_t off_start, off_end; /* [start, end) */
    uint32_t crc_end;
    bool crc_known;
    uint32_t prn_ok, prn_bad;    /* PRN notifications inside the run */
    int64_t t_first, t_last;
} dk_writes;

typedef struct {
    uint8_t obj_type;
    uint32_t offset, crc;      /* as the target reported */
    dk_check check;
    uint32_t exp_offset, exp_crc;
    uint8_t result;            /* SUCCESS, or the error a failed write got */
} dk_prn;

typedef struct {
    bool ok;                   /* decoded; else err says why */
    const dk_initpkt *pkt;     /* valid when ok */
    const uint8_t *bytes;      /* the command object as sent */
    size_t len;
    uint32_t crc;
    dk_err err;                /* offset is within the init packet */
    const struct dk_lg_init *legacy;  /* a legacy init packet (legacy.h), else NULL */
} dk_init_ev;

typedef struct {
    bool done;                 /* false: starts; true: completed */
    unsigned index;            /* from 1 */
    uint32_t cmd_size;         /* starting: size of the command object */
    bool has_type;
    uint32_t fw_type;          /* done: from the init packet when known */
    uint32_t size;             /* done: image size */
    uint32_t crc;              /* done: CRC of the whole image */
} dk_image_ev;

typedef struct {
    uint8_t obj_type;
    uint32_t offset, crc;      /* reported by SELECT */
    dk_resume_how how;
    uint32_t from;             /* where the host really goes on from */
} dk_resume_ev;

typedef struct {
    bool open;                 /* opened (again), or closed */
    int64_t closed_us;         /* opened: how long it was closed; -1 not seen closed */
} dk_port_ev;

#define DK_SESSION_MAX_IMAGES 8

/* Per-image facts for the summary (the first DK_SESSION_MAX_IMAGES images;
 * later ones are counted in n_images only). */
typedef struct {
    unsigned index;
    bool has_type;
    uint32_t fw_type;
    uint32_t size;        /* from the init packet; 0 unknown */
    uint32_t cmd_size;
    uint64_t bytes_sent;  /* data bytes written, resends included */
    uint32_t offset;      /* data offset reached */
    bool init_ok;         /* command EXECUTE succeeded */
    bool completed;
    bool failed;
    bool restart;         /* same init packet as the image before: a restart */
    uint8_t result, ext;  /* failed: the target's answer */
    uint32_t legacy_mode; /* legacy: the START mode (legacy.h), 0 else */
} dk_image_sum;

/* A legacy HCI packet and its ACK (DK_EV_HCI; protocol.md §13.3-§13.6). */
typedef enum {
    DK_HCI_ACCEPTED = 0, /* acknowledged with its sequence number + 1 */
    DK_HCI_DROPPED,      /* acknowledged with the number the device still expects */
    DK_HCI_NO_ACK,       /* never acknowledged */
    DK_HCI_INVALID,      /* header or CRC16 wrong: the device drops it silently */
} dk_hci_verdict;

const char *dk_hci_verdict_name(dk_hci_verdict v); /* "accepted", ... */

typedef struct {
    uint8_t seq;
    bool has_ack;
    uint8_t ack;            /* the ACK's number: what the device expects next */
    dk_hci_verdict verdict;
    bool has_kind;
    uint32_t kind;          /* legacy.h DK_LG_* */
    uint32_t mode, sd_size, bl_size, app_size; /* START */
    uint32_t body_len;
    uint32_t offset;        /* DATA: where the device writes it (image offset) */
    bool retransmit;
    int64_t t_pkt, t_ack, latency_us; /* -1 unknown */
    uint64_t pkt_start, pkt_end, ack_start, ack_end;
    char effect[96];        /* what the device does with it, "" nothing to say */
} dk_hci_ev;

/* The legacy tracker's counts, in the summary. */
typedef struct {
    uint64_t packets, acks, dropped, no_ack, invalid, retransmits;
    unsigned runs;          /* host runs: STARTs numbered 1 */
    unsigned resets;        /* device resets seen or predicted */
    bool stale;             /* a run met a stale sequence number (§13.12) */
    int first_expect;       /* the first ACK's number, -1 none */
} dk_hci_stats;

typedef struct {
    dk_outcome outcome;
    unsigned n_images;
    dk_image_sum img[DK_SESSION_MAX_IMAGES];
    uint64_t frames, requests, responses, writes;
    uint64_t bytes_data, bytes_cmd; /* payload bytes written */
    uint64_t bytes_unknown;         /* ... to an object whose type the capture
                                       never shows (it starts inside it) */
    int64_t t_first, t_last;        /* -1 unknown */
    double duration_s;              /* -1 unknown */
    double closed_s;                /* of the duration: gaps between messages while
                                       the port was closed (dk_session_port) */
    double throughput_Bps;          /* data+command bytes / (duration - closed_s);
                                       -1 unknown */
    /* resumes: the times the host picked up the target's progress (a SELECT
     * reporting offset > 0 that it continued from).  The SELECTs of command
     * and data object after one reconnection count once.  restarts: the
     * times the host sent an image again from its start: a command CREATE
     * after a SELECT reported progress (RESUME how RESTART), the same init
     * packet created again after an image that did not complete, or a data
     * CREATE at offset 0 after the target lost its data progress (a SELECT
     * data reporting 0 after bytes were sent, dfu.offset_backwards). */
    unsigned resumes, restarts;
    unsigned anomalies;             /* all of them */
    unsigned an_count[DK_AN_COUNT];
    /* The failure (outcome FAILED): the request the target refused. */
    dk_stage fail_stage;
    uint8_t fail_op, fail_result, fail_ext;
    bool fail_has_ext;
    uint64_t fail_pos;
    /* Where it stopped (INTERRUPTED/FAILED): the object and offsets. */
    uint8_t stop_obj;
    uint32_t stop_offset, stop_size; /* stop_size 0: unknown */
    /* The answer to the host's last request reported a CRC (DK_CHECK_CRC_BAD)
     * or an offset (DK_CHECK_OFFSET_BAD) that differs from the bytes sent:
     * likely why the host stopped.  DK_CHECK_NONE otherwise. */
    dk_check stop_check;
    bool stop_open;                  /* a data object created and not executed: */
    uint32_t stop_open_start, stop_open_end; /* its range [start, end) */
    /* The diagnosis (diag.h): NULL from the tracker; the pipeline picks it
     * once the session is over, from this summary and the facts, and hands
     * the SUMMARY event on with it filled. */
    const struct dk_diag_row *diag;
    /* The outcome every reader shows: the summary line, the JSON, the plot
     * and the diagnosis.  The tracker sets it to `outcome`; the pipeline
     * settles it with what the host's log says (diag.h dk_diag_effective: a
     * failure the host names, "Image sent" after the last message, "Device
     * programmed." with no message, a listing of the host's writes alone)
     * before it picks the diagnosis from the same value.  settled_by_host:
     * the host's log, not the messages, decided it. */
    dk_outcome settled;
    bool settled_by_host;
    /* Legacy HCI DFU (legacy tracker): fail_op is a packet kind (legacy.h),
     * fail_text says what the device did. */
    bool legacy;
    dk_hci_stats hci;
    char fail_text[160];
} dk_summary;

struct dk_pkg_report;  /* pkgcheck.h */

typedef struct {
    dk_ev_kind kind;
    int64_t t_us;         /* -1 unknown */
    uint64_t start, end;  /* byte span in the input */
    dk_dir dir;
    unsigned image;       /* current image index (0: none yet) */
    union {
        dk_exchange x;
        dk_write w;
        dk_writes run;
        dk_prn prn;
        dk_init_ev init;
        dk_image_ev img;
        dk_resume_ev resume;
        dk_port_ev port;
        dk_anomaly an;
        dk_hci_ev hci;
        const dk_summary *sum;
        const dk_logrec *rec;               /* TOOL, LOG */
        const struct dk_pkg_report *pkg;   /* PACKAGE */
    } u;
} dk_event;

/* Where every event goes: a consumer.  Pointers in ev are valid only during
 * the call. */
typedef void (*dk_event_cb)(void *ctx, const dk_event *ev);

#endif
