/* session_int.h - the session tracker's private state and the calls between its files.
 * For lib/sdfu/session*.c only; the API is dfukit/session.h.
 *
 *   session.c        the struct's lifecycle, event emission, the entry points
 *                    and the WRITE hot path
 *   session_frame.c  frames that are not a host's WRITE: parse, resync, notes
 *   session_pair.c   requests, the answers owed, responses paired with them
 *   session_img.c    images (open, done) and resumes
 *   session_obj.c    data objects: writes, CREATE/EXECUTE, reported offset
 *                    and CRC judged against what was sent
 *   session_init.c   the command object and the init packet decoded at EXECUTE
 *   session_prn.c    packet receipt notifications
 *   session_unk.c    an object whose type the capture does not show, until
 *                    evidence settles it
 *   session_sum.c    names, failures, the summary and its outcome
 */
#ifndef DFUKIT_SESSION_INT_H
#define DFUKIT_SESSION_INT_H

#include "dfukit/session.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/initpkt.h"
#include "dfukit/tables.h"

#define CMD_MAX 512     /* INIT_COMMAND_MAX_SIZE, SDK 17.1 (§4) */
#define OUT_Q 64        /* answers owed: requests and PRN notifications */
#define CHECKPOINTS 16  /* (offset, crc) at recent executed data boundaries */
#define REQ_RAW 16      /* requests other than WRITE are at most 6 bytes */
#define STAGE 16384     /* data bytes whose CRC is computed in one call */

/* An answer the target owes, in the order it owes them (§6.1): a request,
 * or a PRN notification due after a WRITE (§2.3). */
typedef struct {
    bool on;
    bool prn;         /* a PRN notification; m is not used */
    dk_msg m;
    uint8_t raw[REQ_RAW];
    uint8_t obj;
    bool final;       /* an EXECUTE that ends the image */
    bool exec_open;   /* a data EXECUTE: the object it executes, if one was open */
    uint32_t exec_start;
    uint32_t exp_off; /* CRC_GET, PRN: the offset of obj when it was sent */
    uint32_t exp_crc; /* PRN: the CRC there */
    bool crc_known;   /* PRN: exp_crc is known */
    int64_t t;
    uint64_t start, end;
} pending;

typedef struct {
    uint8_t obj;
    uint32_t offset, crc;
    bool crc_known;
} snapshot;

/* PRN notifications that will never come, folded into one note. */
typedef struct {
    unsigned n;
    uint8_t obj;
    uint32_t first, last;
    int64_t t;
    uint64_t start, end;
} prn_void;

enum init_state { INIT_UNKNOWN, INIT_NONE, INIT_PENDING, INIT_VALID, INIT_REJECTED };

/* What an answer's offset and CRC say against what was sent. */
typedef struct {
    dk_check check;
    uint32_t exp_off, exp_crc;
    dk_anomaly_id an;  /* DK_AN_COUNT: none */
    char text[160];
} report;

struct dk_session {
    dk_session_cb cb;
    void *ctx;
    dk_summary sum;
    uint8_t sel;            /* selected object type (device rule, §6.1) */
    bool sel_flagged;       /* write_without_object reported for this selection */
    bool stream_ok;         /* write_streaming may skip its slow-changing checks */

    struct {                /* answers owed, and pairing them with responses */
        pending out[OUT_Q]; /* oldest first (ring) */
        unsigned head, n;
        unsigned req;       /* of them, requests */
        prn_void lost;      /* notifications that never came, not yet said */
    } pair;

    struct {                /* packet receipt notifications (§2.3) */
        uint16_t every;     /* expected every `every` WRITEs (0: none) */
        uint16_t set;       /* what the host last set */
        uint64_t set_at;    /* sum.writes when it did */
        bool reset;         /* the target reset since: its PRN is 0 (RAM) */
        uint32_t count;     /* WRITEs since the last notification */
    } prn;

    struct {                /* the current image */
        unsigned index;     /* 0: none yet */
        dk_image_sum *sum;  /* summary slot: sum.img[] or over */
        dk_image_sum over;  /* images past DK_SESSION_MAX_IMAGES */
        bool active;        /* something was written or executed */
        bool done;          /* completed or failed at the end: the target reset */
        bool completed;     /* done, and completed */
        bool boot_checked;  /* an unanswered PING after it was said */
        bool restart_counted;
        uint32_t size;      /* from the init packet, 0 unknown */
        uint32_t prev_cmd_crc, prev_cmd_len; /* previous image's init packet */
        bool prev_done;
    } img;

    struct {                /* the init packet (§4) */
        enum init_state state;
        dk_initpkt pkt;
        bool ev_due;        /* emit INIT after the EXECUTE exchange */
        dk_event ev;
    } init;

    struct {                /* the command object */
        bool created;
        bool grounded;      /* off/crc are known (CREATE or a report) */
        uint32_t size, off, crc;
        bool known;         /* buf holds bytes [0, off) */
        bool beyond_flagged;
        uint64_t pos0, pos1; /* where its bytes lie in the input */
        uint8_t buf[CMD_MAX];
    } cmd;

    struct {                /* the object the capture started in, type not shown */
        bool on;            /* its type is not settled yet */
        bool grounded;      /* off/crc are the target's (a report) */
        bool executed;      /* an EXECUTE of it was answered with success */
        uint32_t bytes;     /* bytes written to it in the capture */
        uint32_t off, crc;  /* offset in the object (relative until grounded) */
        uint64_t pos0, pos1; /* where its bytes lie in the input */
    } unk;

    struct {                /* data objects and the image's progress */
        uint32_t max_size;  /* object size from SELECT (default 4096) */
        bool open;          /* an object created, not executed */
        uint32_t start, size;
        bool flagged;       /* one write_beyond / data_before_init per object */
        uint32_t off, crc;  /* crc covers [0, off - stage_len) */
        bool crc_known;
        size_t stage_len;
        uint8_t stage[STAGE]; /* written data not yet in crc */
        bool seen;          /* off/crc are grounded (from 0 or a report) */
        uint32_t last_off, last_crc; /* last executed boundary */
        bool last_crc_known;
        snapshot cp[CHECKPOINTS];
        unsigned cp_head, cp_n;
        bool lost;          /* the target reported offset 0 after a reset:
                               the next data CREATE restarts the image */
    } data;

    struct {                /* a SELECT that reported progress, until the host uses it */
        bool on;
        uint8_t obj;
        uint32_t off, crc;
        bool open;          /* counted; cleared by fresh progress */
    } resume;

    struct {                /* WRITE requests */
        bool crc;           /* WRITE events carry the running CRC */
        bool events;        /* emit WRITE events */
        bool run_on;        /* run holds the writes folded so far */
        dk_event run;
    } wr;

    struct {                /* the port (dk_session_port) */
        dk_event held[4];   /* PORT events held while a request waits, so its */
        unsigned n;         /* line (printed at the answer) comes first */
        int state;          /* -1 unknown, 0 closed, 1 open */
        int64_t t_closed;   /* when it closed, -1 unknown */
        bool gap;           /* closed since the last message */
        int64_t closed_us;  /* message gaps across a closed port */
    } port;

    struct {                /* what the summary's outcome rests on */
        bool err_open;      /* the target's last word so far was an error */
        dk_check bad_check; /* the last CRC/offset mismatch an answer reported, */
        uint64_t bad_check_req; /* ... and the request count then */
        bool finished;
    } verdict;

    struct {                /* the message being handled: where notes about */
        int64_t t;          /* what it settles go */
        uint64_t start, end;
    } at;

    struct {                /* result/ext for the next anomaly (set by error_anomaly) */
        bool set, has_ext;
        uint8_t result, ext;
    } an;
};

static inline const char *obj_word(uint8_t t)
{
    return t == DK_OBJ_COMMAND  ? "command"
           : t == DK_OBJ_DATA   ? "data"
           : t == DK_OBJ_UNSHOWN ? "unknown-type"
                                : "invalid";
}

static inline const char *op_word(uint8_t op, char buf[DK_NAME_BUFSZ])
{
    return dk_op_str(op, buf);
}

/* ---- session.c: emission ---- */

/* Bring data.crc up to data.off (fold the staged bytes in). */
void sess_sync_crc(dk_session *s);
/* CRC current and the open write run's CRC filled in: before any state
 * change outside the write path. */
void sess_settle(dk_session *s);
/* Emit the write run being folded, if any. */
void sess_flush_run(dk_session *s);
/* Hand ev to the callback (stamped with the image); any other event than a
 * WRITE or PRN ends the write run first. */
void sess_emit(dk_session *s, dk_event *ev);
/* A zeroed event with its header filled in. */
void sess_event_head(dk_event *ev, dk_ev_kind kind, int64_t t, uint64_t start, uint64_t end,
                     dk_dir dir);
/* An anomaly about bytes [start, end) of line dir at time t, sorted where
 * it was found. */
void sess_note_op(dk_session *s, dk_anomaly_id id, int64_t t, dk_dir dir, uint64_t start,
                  uint64_t end, uint8_t op, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* An anomaly in a response that explains the exchange of request p (sorted
 * with p's line). */
void sess_note_in(dk_session *s, const pending *p, dk_anomaly_id id, int64_t t, uint64_t start,
                  uint64_t end, uint8_t op, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Emit the first n PORT events held while a request waited. */
void sess_port_flush(dk_session *s, unsigned n);
/* One parsed message: the request or response path, then held PORT events. */
void sess_process(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end);

/* ---- session_frame.c ---- */

/* Every frame but a host's WRITE: parse, resync past noise, note. */
void sess_frame_parse(dk_session *s, const uint8_t *frame, size_t len, bool first, int64_t t_us,
                      dk_dir dir, uint64_t start, uint64_t end);

/* ---- session_pair.c ---- */

/* The i-th oldest owed answer (i < pair.n). */
pending *sess_out_at(dk_session *s, unsigned i);
/* The k oldest owed answers will never come: say so (notifications fold
 * into one note; quiet: kept for the next note). */
void sess_out_close(dk_session *s, unsigned k, const char *why, bool quiet);
/* A slot for one more owed answer (the oldest gives way when full). */
pending *sess_out_push(dk_session *s, bool prn);
void sess_on_request(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end);
void sess_on_response(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end);

/* ---- session_img.c ---- */

/* A new image (a command CREATE, or object traffic whose image began
 * before the capture): summary slot, state reset, IMAGE event. */
void sess_open_image(dk_session *s, bool created, uint32_t cmd_size, int64_t t, uint64_t start,
                     uint64_t end);
/* Open an image if object traffic comes with none open. */
void sess_ensure_image(dk_session *s, int64_t t, uint64_t start, uint64_t end);
/* The image completed: summary and IMAGE done event. */
void sess_image_done(dk_session *s, int64_t t, uint64_t start, uint64_t end);
/* After a SELECT that reported progress: how the host's request m uses it. */
void sess_resume_resolve(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end);

/* ---- session_obj.c ---- */

/* Data progress back to zero (grounded: known to be zero). */
void sess_reset_data(dk_session *s, bool grounded);
/* One OBJECT_WRITE of the selected object. */
void sess_on_write(dk_session *s, const uint8_t *data, size_t len, int64_t t, uint64_t start,
                   uint64_t end);
/* A data CREATE request; resolving: it answered a pending resume. */
void sess_data_create(dk_session *s, const dk_msg *m, bool resolving, int64_t t, uint64_t start,
                      uint64_t end);
/* A data EXECUTE request: fills p's final/exec_open/exec_start. */
void sess_data_execute(dk_session *s, pending *p, int64_t t, uint64_t start, uint64_t end);
/* A data EXECUTE answered with success.  Returns true when it completed
 * the image. */
bool sess_data_executed(dk_session *s, const pending *p);
/* Judge what the target reports for obj (offset off, crc) against what was
 * sent, into r; then take the target's values so one fault is reported
 * once.  is_select: a SELECT (a lower offset means progress was lost). */
void sess_check_report(dk_session *s, uint8_t obj, uint32_t off, uint32_t crc, bool is_select,
                       const char *what, report *r);

/* ---- session_init.c ---- */

/* The command bytes of a WRITE.  Returns their offset in the object. */
uint32_t sess_write_cmd(dk_session *s, const uint8_t *data, size_t len, int64_t t, uint64_t start,
                        uint64_t end);
/* A command EXECUTE request: the init packet decoded now, its INIT event
 * due after the exchange. */
void sess_init_execute(dk_session *s, uint8_t op, int64_t t, uint64_t start, uint64_t end);
/* A command EXECUTE answered with success. */
void sess_init_executed(dk_session *s);
/* Emit the INIT event the last command EXECUTE left due, if any. */
void sess_init_emit_due(dk_session *s);

/* ---- session_prn.c ---- */

/* The target reset: its PRN target is 0 (RAM) until the host sets it. */
void sess_target_reset(dk_session *s, bool seen_late);
/* RECEIPT_NOTIF_SET: notifications every n WRITEs from now. */
void sess_prn_set(dk_session *s, uint16_t n);
/* After a WRITE of obj that ended at off_end: owe a notification if one
 * falls due. */
void sess_prn_count(dk_session *s, uint8_t obj, uint32_t off_end, uint32_t crc, bool crc_known,
                    int64_t t, uint64_t start, uint64_t end);
/* A notification, checked against the write q that made it due. */
void sess_on_prn(dk_session *s, const pending *q, const dk_msg *m, int64_t t, uint64_t start,
                 uint64_t end);
/* A notification while the tracker takes the target's PRN to be 0 after a
 * reset: it was not reset after all.  Checked against the present offset. */
void sess_stray_prn(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end);

/* ---- session_unk.c ---- */

/* Why an unknown object's type is settled (the note's text). */
typedef enum {
    UNK_BY_SIZE,      /* an offset past the command object's maximum */
    UNK_BY_SELECT,    /* a SELECT reporting the object's offset and CRC */
    UNK_BY_NEXT,      /* the object executed, then a command CREATE */
    UNK_BY_HOST,      /* the host's log */
} unk_why;

/* A WRITE while no object type is shown.  Returns its offset. */
uint32_t sess_write_unk(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                        uint64_t start, uint64_t end);
/* The target reports (off, crc) for the unknown object (CRC_GET, PRN). */
void sess_unk_report(dk_session *s, uint32_t off, uint32_t crc, const char *what, report *r);
/* The unknown object is of type obj: its bytes move to that object's
 * counts and state, and a dfu.object_type_settled note says why. */
void sess_unk_settle(dk_session *s, uint8_t obj, unk_why why);

/* ---- session_sum.c ---- */

/* A CRC or offset mismatch the target reported (dk_summary.stop_check). */
void sess_mismatch_seen(dk_session *s, dk_anomaly_id an);
/* The target refused request p (NULL: not known) with m: the failure. */
void sess_fail_note(dk_session *s, const pending *p, const dk_msg *m, uint64_t start);
/* The anomaly of an error answer; p: the exchange it explains, or NULL;
 * ctx prefixes the text. */
void sess_error_anomaly(dk_session *s, const pending *p, const dk_msg *m, const char *ctx,
                        int64_t t, uint64_t start, uint64_t end);

#endif
