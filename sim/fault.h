/* fault.h - dfusim's fault injection: a parser for --fault SPEC and a pure
 * matcher that turns events (requests, flash operations, time) into actions.
 *
 *   SPEC    = TRIGGER ":" ACTION
 *   TRIGGER = "after-bytes=" N         image bytes accepted in this boot >= N,
 *                                      checked after each request is handled
 *           | "flash-op=" N            flash operation N (1-based, erases and
 *                                      writes, counted since dfusim started)
 *           | "op=" OPC ["#" K ["+"]]  the Kth request with opcode OPC (default
 *                                      1), before it is handled; "+" = the Kth
 *                                      and every later one
 *           | "after-op=" OPC ["#" K ["+"]]   the same, after it is handled
 *           | "after-ms=" T            T ms after dfusim started
 *   OPC     = a number (0x04, 4) or a name: create prn crc execute select mtu
 *             write ping hw fw abort version, or the full table name
 *             (OBJECT_EXECUTE); case does not matter
 *   ACTION  = "reset"                  the chip resets (RAM lost, boot path again)
 *           | "power-cut" ["=" MS]     power lost; at a flash-op trigger the op is
 *                                      left half done; the chip stays off MS ms
 *           | "drop-response"          the next response is not sent
 *           | "delay-response=" MS     the next response is sent MS ms late
 *           | "stall"                  no more answers until a reset
 *           | "corrupt-byte" ["=" I]   byte I of the next response (unframed;
 *                                      default, or past the end: the last) is inverted
 *           | "flash-error"            the flash op fails like an NVMC error (op
 *                                      N itself at a flash-op trigger, else the
 *                                      next one)
 *           | "lose-request"           (op= only) the request is lost on the line:
 *                                      never handled, as a frame the UART dropped
 *           | "pause"                  after the triggering request (handled and
 *                                      answered), the chip takes no more input,
 *                                      as a UART holding CTS off: it waits until
 *                                      the adapter resumes (control "resume")
 *   N, K, T, MS, I: decimal or 0x-hex.  Each fault fires once unless "#K+".
 *
 * "Next response" means the response of the triggering request when it has
 * one, else the next one the target sends.  Reset and power cut at an "op="
 * trigger lose the request; at "after-op=" its effects stay but its response
 * is not sent.
 */
#ifndef DFUSIM_FAULT_H
#define DFUSIM_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    DS_FT_BYTES,     /* after-bytes=N */
    DS_FT_FLASH_OP,  /* flash-op=N */
    DS_FT_OP,        /* op=X#K */
    DS_FT_AFTER_OP,  /* after-op=X#K */
    DS_FT_MS,        /* after-ms=T */
} ds_fault_trig;

typedef enum {
    DS_FA_RESET,
    DS_FA_POWER_CUT,
    DS_FA_DROP,
    DS_FA_DELAY,
    DS_FA_STALL,
    DS_FA_CORRUPT,
    DS_FA_FLASH_ERROR,
    DS_FA_LOSE,
    DS_FA_PAUSE,
} ds_fault_act;

typedef struct {
    ds_fault_trig trig;
    uint64_t n;         /* bytes, flash op number, K, or ms */
    uint8_t opcode;     /* op / after-op */
    bool repeat;        /* "#K+" */
    ds_fault_act act;
    int64_t arg;        /* delay/off ms; corrupt index (-1 = last byte) */
    unsigned fired;     /* times it fired */
    char spec[64];      /* as given, for log lines */
} ds_fault;

/* Parse one SPEC.  0 on success; -1 with a one-line reason in why. */
int ds_fault_parse(const char *spec, ds_fault *f, char *why, size_t why_cap);

/* Name of a trigger/action as SPEC spells it. */
const char *ds_fault_trig_name(ds_fault_trig t);
const char *ds_fault_act_name(ds_fault_act a);

#define DS_FAULTS_MAX 32

/* What fired, for the adapter to carry out. */
typedef struct {
    bool reset;
    bool power_cut;
    uint32_t off_ms;    /* power_cut: how long the chip stays off */
    bool stall;
    bool lose;          /* the request is lost: do not handle it */
    bool pause;         /* take no more input once the request is handled */
    unsigned which[DS_FAULTS_MAX]; /* indexes of the faults that fired */
    size_t n_which;
} ds_fault_fire;

typedef struct {
    ds_fault f[DS_FAULTS_MAX];
    size_t n;
    uint64_t op_count[256];  /* requests seen per opcode */
    /* armed response actions (consumed by ds_faults_response) */
    unsigned drop;
    bool delay;
    uint32_t delay_ms;
    bool corrupt;
    int64_t corrupt_at;
    unsigned flash_error;    /* armed for the next flash op */
    /* chip actions armed by a flash-op trigger, carried out after the request */
    ds_fault_fire deferred;
} ds_faults;

void ds_faults_init(ds_faults *fs);

/* Add a parsed fault. -1 when the table is full. */
int ds_faults_add(ds_faults *fs, const ds_fault *f);

/* A request with this opcode arrived (before it is handled): counts it and
 * fires "op=" faults.  If out->reset/power_cut/stall/lose, do not handle it. */
void ds_faults_request(ds_faults *fs, uint8_t opcode, ds_fault_fire *out);

/* The request was handled; image_bytes = ds_bl_image_bytes().  Fires
 * "after-op=" and "after-bytes=" faults and hands over chip actions that a
 * flash-op trigger armed while it was handled. */
void ds_faults_handled(ds_faults *fs, uint8_t opcode, uint64_t image_bytes, ds_fault_fire *out);

typedef enum { DS_FV_GO, DS_FV_FAIL, DS_FV_CUT } ds_fault_verdict;

/* Flash operation op_no is about to run: GO, FAIL (flash-error, at this
 * trigger or armed by another) or CUT (power-cut).  Other actions at a
 * flash-op trigger are armed: response actions for the next response; reset,
 * stall and the power cut itself (with its off time) are handed out by the next
 * ds_faults_handled or ds_faults_take_deferred. */
ds_fault_verdict ds_faults_flash_op(ds_faults *fs, uint64_t op_no);

/* Chip actions a flash-op trigger armed outside a request (at boot). */
void ds_faults_take_deferred(ds_faults *fs, ds_fault_fire *out);

/* Time: ms since dfusim started.  Fires "after-ms=" faults that are due. */
void ds_faults_tick(ds_faults *fs, uint64_t now_ms, ds_fault_fire *out);

/* Earliest pending "after-ms=" time, or UINT64_MAX. */
uint64_t ds_faults_next_ms(const ds_faults *fs);

/* A response is about to go out: consume armed response actions.
 * Returns true when it must be dropped; *delay_ms (0 = none) and
 * *corrupt_at (-2 = none, -1 = last byte, else an index) otherwise. */
bool ds_faults_response(ds_faults *fs, uint32_t *delay_ms, int64_t *corrupt_at);

/* Apply a corrupt index to a response of len bytes (inverts one byte). */
void ds_fault_corrupt(uint8_t *rsp, size_t len, int64_t at);

/* A reset or power cut keeps armed actions and counters: they belong to the
 * next response / flash op whatever happens in between. */

#endif
