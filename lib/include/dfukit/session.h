/* session.h - the DFU session tracker: messages in, typed events out.
 *
 * Input, in stream order: decoded SLIP frames or parsed dk_msg, each with its
 * time (microseconds, -1 when the capture has none), direction and stream
 * position (byte span in the input).  Framing anomalies found by the caller
 * (SLIP deframer, capture reader) come in through dk_session_slip() or
 * dk_session_note().
 *
 *   request   host -> target   op u8, payload              (msg.h)
 *   response  target -> host   0x60, op, result, payload
 *
 * What it tracks (protocol.md §2-§6):
 *   - request/response pairing and latency.  The target answers in request
 *     order (§6.1), so the answers owed (requests, and PRN notifications due
 *     after WRITEs) are kept oldest first, up to 64: a response is the oldest
 *     owed answer it can be (same opcode; a PING echo by its id; a
 *     CRC_GET-shaped response is a PRN notification or a CRC_GET's answer,
 *     the first whose offset it reports, else the oldest).  Everything owed
 *     before it will never come: dfu.no_response, once per request and once
 *     per batch of notifications.  An answer that comes after the host sent
 *     a later request is late (dfu.late_response);
 *   - the selected object type (only SELECT and CREATE change it, §6.1);
 *   - the command object: size, offset, running CRC and its first 512 bytes,
 *     decoded with dk_initpkt_decode at EXECUTE (INIT event);
 *   - the data object: created size, start, running offset and CRC of the
 *     whole image (§4), the last executed boundary (where a data CREATE rolls
 *     back to, §6.4);
 *   - PRN: every Nth WRITE (counter reset by CREATE, RECEIPT_NOTIF_SET and each
 *     notification, §2.3) is answered by a CRC_GET-shaped response, checked
 *     against the offset/CRC at that write.  A reset (a SELECT reporting less
 *     than was sent, ABORT, the end of an image) sets the target's PRN to 0
 *     until the next RECEIPT_NOTIF_SET (§6.9; one sent after the last WRITE,
 *     before the SELECT that shows the reset, came after it and holds); a
 *     notification that comes while PRN is taken to be 0 is taken as one
 *     (the target had not reset).  A CRC_GET-shaped response whose offset is
 *     that of both an owed notification and the CRC_GET sent right after
 *     that write is the notification, unless earlier ones never came;
 *   - every offset/CRC the target reports (SELECT, CRC_GET, PRN) is checked;
 *   - images: every command CREATE starts a new image;
 *   - resumes: a SELECT reporting offset > 0 is resolved by the host's next
 *     step into continue / object restart / restart (RESUME event).
 * Anomalies are data (ANOMALY event): a stable dotted id, a severity, a text
 * and the byte span they cover.  Decoding always continues.
 *
 * Memory is fixed: the tracker keeps no per-message allocation; the event
 * pointers it hands out are valid only during the callback.
 */
#ifndef DFUKIT_SESSION_H
#define DFUKIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/slip.h"

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
    X(DFU_EXT_ERROR, "dfu.ext_error", ERROR, "the target answered with an extended error")     \
    X(DFU_ERROR_RESULT, "dfu.error_result", ERROR, "the target answered with a non-success result") \
    X(INIT_MALFORMED, "initpkt.malformed", ERROR, "the init packet does not decode")           \
    X(INIT_INCOMPLETE, "initpkt.incomplete", INFO,                                             \
      "the init packet bytes were not all in the capture; it cannot be decoded")

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
    DK_EV_SUMMARY,  /* last event, from dk_session_finish */
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
    const uint8_t *data; /* the written bytes */
    size_t len;
    uint32_t offset;     /* where they go: image offset (data), command offset */
    uint32_t crc;        /* running CRC after them */
    bool crc_known;
} dk_write;

typedef struct {
    uint8_t obj_type;
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
} dk_image_sum;

typedef struct {
    dk_outcome outcome;
    unsigned n_images;
    dk_image_sum img[DK_SESSION_MAX_IMAGES];
    uint64_t frames, requests, responses, writes;
    uint64_t bytes_data, bytes_cmd; /* payload bytes written */
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
    const struct dk_diag_row *diag;  /* chosen by dk_diag_pick */
} dk_summary;

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
        const dk_summary *sum;
    } u;
} dk_event;

typedef void (*dk_session_cb)(void *ctx, const dk_event *ev);

typedef struct dk_session dk_session;

dk_session *dk_session_new(dk_session_cb cb, void *ctx);
void dk_session_free(dk_session *s);

/* A decoded SLIP frame.  dir is the line it came from, or DK_DIR_UNKNOWN
 * (then a frame starting with 0x60 is a response).  first: no END was seen
 * before it (the capture may have started inside it).  A frame that does not
 * parse is searched for a message at its tail (noise glued to the front of a
 * frame); what cannot be explained becomes an msg.* anomaly. */
void dk_session_frame(dk_session *s, const uint8_t *frame, size_t len, bool first,
                      int64_t t_us, dk_dir dir, uint64_t start, uint64_t end);

/* A SLIP deframer event: frames go to dk_session_frame, the rest become
 * slip.* anomalies. */
void dk_session_slip(dk_session *s, const dk_slip_event *ev, int64_t t_us, dk_dir dir);

/* An already parsed message (status OK or OVERLONG; m->raw may be NULL). */
void dk_session_msg(dk_session *s, const dk_msg *m, int64_t t_us, dk_dir dir, uint64_t start,
                    uint64_t end);

/* An anomaly found outside the tracker (capture reader, deframer). */
void dk_session_note(dk_session *s, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                     uint64_t end, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The host's side of the port as a capture shows it (e.g. DTR of an RTAC
 * serial pcap): open or closed at time t, pos the position in the input.
 * The first call gives the state at the start; each later change is a PORT
 * event, and the gap between the messages before and after a closed port is
 * not counted as transfer time (dk_summary.closed_s). */
void dk_session_port(dk_session *s, int64_t t_us, bool open, uint64_t pos);

/* WRITE events carry the running CRC after each write (w.crc_known).  Off by
 * default: the data CRC is then computed in large blocks, which is several
 * times faster, and w.crc_known is false; runs, PRN and every check still get
 * exact CRCs. */
void dk_session_write_crc(dk_session *s, bool on);

/* Emit a WRITE event per OBJECT_WRITE (default on).  Off, writes still count
 * and fold into WRITES runs; a consumer that needs neither the bytes nor
 * per-write detail saves a callback per frame. */
void dk_session_write_events(dk_session *s, bool on);

/* True while the target owes an answer: a request waits, or a PRN
 * notification is due.  Used to merge two one-line captures. */
bool dk_session_awaiting(const dk_session *s);

/* End of input: flush the write run, flag requests never answered, settle the
 * outcome and diagnosis and emit the SUMMARY event. */
void dk_session_finish(dk_session *s);

/* The summary so far (final after dk_session_finish). */
const dk_summary *dk_session_summary(const dk_session *s);

#endif
