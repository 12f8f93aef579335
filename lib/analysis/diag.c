/* diag.c - the failure signature table and the facts it reads (see diag.h).
 * Facts: protocol.md (section numbers in the rows). */
#include "dfukit/diag.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/tables.h"

#define ANY DK_DIAG_ANY
#define NX(k) (1u << (k))

/* ---- facts ---------------------------------------------------------------- */

void dk_diag_facts_init(dk_diag_facts *f)
{
    memset(f, 0, sizeof *f);
    f->t_timer = -1;
    f->t_first = -1;
    f->flow_control = -1;
    f->prn = -1;
    f->prog_ext = f->prog_result = f->prog_devlib = -1;
}

static void on_exchange(dk_diag_facts *f, const dk_exchange *x)
{
    bool ok = x->has_rsp && x->rsp.result == DK_RES_SUCCESS;
    if (x->has_req && f->t_first < 0 && x->t_req >= 0)
        f->t_first = x->t_req;
    f->image_sent_last = false;
    if (!x->has_req)
        return;
    uint8_t op = x->req.op;
    /* inactivity: only command CREATE and data EXECUTE restart the timer (§6.8) */
    if (ok && x->t_req >= 0 &&
        ((op == DK_OP_OBJECT_CREATE && x->req.req.create.type == DK_OBJ_COMMAND) ||
         (op == DK_OP_OBJECT_EXECUTE && x->obj_type == DK_OBJ_DATA)))
        f->t_timer = x->t_req;
    if (!x->has_rsp && dk_msg_expects_response(op) && x->t_req >= 0 && !f->idle_silence) {
        int64_t from = f->t_timer >= 0 ? f->t_timer : f->t_first;
        if (from >= 0 && x->t_req - from >= DK_DIAG_INACTIVITY_US) {
            f->idle_silence = true;
            f->idle_us = x->t_req - from;
        }
    }
    if (op == DK_OP_OBJECT_SELECT && ok) {
        if (x->req.req.select.type == DK_OBJ_COMMAND && !f->sel_cmd_seen) {
            f->sel_cmd_seen = true;
            f->sel_cmd_offset = x->rsp.rsp.select.offset;
            f->sel_cmd_crc = x->rsp.rsp.select.crc;
        } else if (x->req.req.select.type == DK_OBJ_DATA && !f->sel_data_seen) {
            f->sel_data_seen = true;
            f->sel_data_max = x->rsp.rsp.select.max_size;
            f->sel_data_offset = x->rsp.rsp.select.offset;
            f->sel_data_crc = x->rsp.rsp.select.crc;
            if (f->sel_data_offset > 0 && f->sel_data_max > 0 &&
                f->sel_data_offset % f->sel_data_max == 0) {
                f->resume_boundary = true;
                f->resume_offset = f->sel_data_offset;
            }
        }
    }
    if (f->resume_boundary && !f->after_resume_seen &&
        (op == DK_OP_OBJECT_CREATE || op == DK_OP_OBJECT_EXECUTE || op == DK_OP_OBJECT_WRITE)) {
        f->after_resume_seen = true;
        f->pullback = op == DK_OP_OBJECT_CREATE && x->req.req.create.type == DK_OBJ_DATA;
    }
    if (f->resume_boundary && op == DK_OP_CRC_GET &&
        (x->check == DK_CHECK_CRC_BAD || x->check == DK_CHECK_OFFSET_BAD))
        f->checks_bad_after_resume++;
}

void dk_diag_facts_event(dk_diag_facts *f, const dk_event *ev)
{
    switch (ev->kind) {
    case DK_EV_EXCHANGE:
        on_exchange(f, &ev->u.x);
        break;
    case DK_EV_PRN:
        if (f->resume_boundary &&
            (ev->u.prn.check == DK_CHECK_CRC_BAD || ev->u.prn.check == DK_CHECK_OFFSET_BAD))
            f->checks_bad_after_resume++;
        break;
    case DK_EV_INIT:
        f->init_seen = true;
        f->init_decoded = ev->u.init.ok;
        f->init_signed = ev->u.init.ok && ev->u.init.pkt && ev->u.init.pkt->is_signed;
        f->init_len = (uint32_t)ev->u.init.len;
        f->init_crc = ev->u.init.crc;
        break;
    case DK_EV_RESUME:
        if (ev->u.resume.obj_type == DK_OBJ_COMMAND && ev->u.resume.how == DK_RESUME_RESTART)
            f->held_other_init = true;
        break;
    default:
        break;
    }
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* A generic exception ("Failed to send firmware") after a specific one
 * ("Failed CRC validation") does not replace it. */
static bool generic_nx(dk_nx_kind k)
{
    return k == DK_NX_OTHER || k == DK_NX_INIT_FAILED || k == DK_NX_FW_FAILED;
}

void dk_diag_facts_tool(dk_diag_facts *f, const dk_tool_ev *t)
{
    f->tool = true;
    switch (t->kind) {
    case DK_TOOL_NO_PING:
        f->no_ping++;
        break;
    case DK_TOOL_SET_PRN:
        f->prn = (int)t->u.prn.prn;
        break;
    case DK_TOOL_DONE:
        f->done = true;
        break;
    case DK_TOOL_PROG_STEP:
        if (t->u.step.step == DK_PSTEP_DONE)
            f->done = true;
        break;
    case DK_TOOL_EXCEPTION:
        f->exc_mask |= NX(t->u.exc.nx);
        if (f->has_exc && !generic_nx(f->exc) && generic_nx(t->u.exc.nx))
            break;
        f->has_exc = true;
        f->exc = t->u.exc.nx;
        f->exc_ext = t->u.exc.ext;
        f->exc_result = t->u.exc.result;
        f->exc_values = t->u.exc.has_values;
        f->exc_expected = t->u.exc.expected;
        f->exc_received = t->u.exc.received;
        copy_text(f->exc_class, sizeof f->exc_class, t->u.exc.cls);
        copy_text(f->exc_text, sizeof f->exc_text, t->text);
        break;
    case DK_TOOL_PROG_ERROR:
        f->prog_error = true;
        f->prog_has_code = t->u.perr.has_code;
        f->prog_code = t->u.perr.code;
        f->prog_has_lowlevel = t->u.perr.has_lowlevel;
        f->prog_lowlevel = t->u.perr.lowlevel;
        f->prog_modem = t->u.perr.modem;
        copy_text(f->prog_text, sizeof f->prog_text, t->text);
        break;
    default:
        break;
    }
    dk_diag_facts_host(f, t);
}

/* The next word of s[*i..n) (space separated), or 0 when none. */
static size_t next_word(const char *s, size_t n, size_t *i, const char **w)
{
    while (*i < n && isspace((unsigned char)s[*i]))
        (*i)++;
    size_t b = *i;
    while (*i < n && !isspace((unsigned char)s[*i]))
        (*i)++;
    *w = s + b;
    return *i - b;
}

static bool word_is(const char *w, size_t k, const char *lit)
{
    return strlen(lit) == k && memcmp(w, lit, k) == 0;
}

static bool parse_u32(const char *w, size_t k, uint32_t *v)
{
    char buf[16];
    if (k == 0 || k >= sizeof buf)
        return false;
    memcpy(buf, w, k);
    buf[k] = 0;
    char *end;
    unsigned long long x = strtoull(buf, &end, 0);
    if (*end || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

/* click.BOOL spellings */
static int parse_bool(const char *w, size_t k)
{
    static const char *const yes[] = { "1", "true", "True", "TRUE", "yes", "y", "on" };
    static const char *const no[] = { "0", "false", "False", "FALSE", "no", "n", "off" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (word_is(w, k, yes[i]))
            return 1;
        if (word_is(w, k, no[i]))
            return 0;
    }
    return -1;
}

static const char *find_in(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, lit, k) == 0)
            return s + i;
    return NULL;
}

void dk_diag_facts_text(dk_diag_facts *f, const char *line, size_t len)
{
    const char *p = find_in(line, len, "nrfutil");
    bool nrf = p && (find_in(line, len, "dfu serial") || find_in(line, len, "dfu usb-serial"));
    const char *q = find_in(line, len, "dfuhost");
    if (!nrf && !q)
        return;
    const char *s = nrf ? p : q;
    size_t n = len - (size_t)(s - line), i = 0;
    copy_text(f->host_tool, sizeof f->host_tool, nrf ? "nrfutil" : "dfuhost");
    /* defaults: nrfutil RTS/CTS on (§1.4), dfuhost off */
    f->flow_control = nrf ? 1 : 0;
    const char *w, *v;
    size_t k, kv;
    while ((k = next_word(s, n, &i, &w)) > 0) {
        uint32_t x;
        if (nrf && (word_is(w, k, "-fc") || word_is(w, k, "--flow-control"))) {
            kv = next_word(s, n, &i, &v);
            int b = parse_bool(v, kv);
            if (b >= 0)
                f->flow_control = b;
        } else if (!nrf && word_is(w, k, "--flow-control")) {
            f->flow_control = 1;
        } else if (word_is(w, k, "-b") || word_is(w, k, "--baudrate") || word_is(w, k, "--baud")) {
            kv = next_word(s, n, &i, &v);
            if (parse_u32(v, kv, &x))
                f->baud = x;
        } else if (word_is(w, k, "-prn") || word_is(w, k, "--prn")) {
            kv = next_word(s, n, &i, &v);
            if (parse_u32(v, kv, &x))
                f->prn = (int)x;
        }
    }
}

void dk_diag_effective(const dk_summary *s, const dk_diag_facts *f, dk_diag_failure *o)
{
    memset(o, 0, sizeof *o);
    o->outcome = s->outcome;
    o->op = o->result = o->ext = -1;
    if (s->outcome == DK_OUTCOME_FAILED) {
        o->failed = true;
        o->stage = s->fail_stage;
        o->op = s->fail_op;
        o->result = s->fail_result;
        o->ext = s->fail_has_ext ? s->fail_ext : -1;
        return;
    }
    if (!f || s->outcome == DK_OUTCOME_COMPLETED)
        return;
    if (dk_diag_host_done(s, f) || dk_diag_one_sided(s, f)) {
        o->outcome = dk_diag_host_done(s, f) ? DK_OUTCOME_COMPLETED : DK_OUTCOME_UNKNOWN;
        o->by_host = true;
        return;
    }
    /* the target's error as nrfutil's exception or Programmer's message names it */
    int ext = -1, res = -1;
    if (f->has_exc && f->exc == DK_NX_EXT_ERROR)
        ext = f->exc_ext;
    else if (f->has_exc && f->exc == DK_NX_RESULT && f->exc_result != 0xFF)
        res = f->exc_result;
    else if (!f->has_exc && f->prog_error && f->prog_ext >= 0)
        ext = f->prog_ext;
    else if (!f->has_exc && f->prog_error && f->prog_result >= 0)
        res = f->prog_result;
    if (ext >= 0) {
        o->result = DK_RES_EXT_ERROR;
        o->ext = ext;
        if (ext >= DK_EXT_INIT_COMMAND_INVALID && ext <= DK_EXT_WRONG_SIGNATURE_TYPE) {
            o->stage = DK_STAGE_INIT; /* §3.2, §6.7: prevalidation only */
            o->op = DK_OP_OBJECT_EXECUTE;
        } else if (ext == DK_EXT_VERIFICATION_FAILED) {
            o->stage = DK_STAGE_FINAL; /* §6.6 */
            o->op = DK_OP_OBJECT_EXECUTE;
        }
    } else if (res >= 0) {
        o->result = res;
        /* the request the traceback was in (nrfutil's __execute in send_init_packet) */
        if (strcmp(f->exc_op, "__execute") == 0 && f->exc_stage == DK_HS_INIT) {
            o->stage = DK_STAGE_INIT;
            o->op = DK_OP_OBJECT_EXECUTE;
        } else if (strcmp(f->exc_op, "__execute") == 0 && f->exc_stage == DK_HS_FIRMWARE) {
            o->stage = DK_STAGE_DATA;
            o->op = DK_OP_OBJECT_EXECUTE;
        }
    } else {
        return;
    }
    o->failed = true;
    o->from_tool = o->by_host = true;
    o->outcome = DK_OUTCOME_FAILED;
}

bool dk_diag_host_done(const dk_summary *s, const dk_diag_facts *f)
{
    if (!f || s->outcome == DK_OUTCOME_COMPLETED || s->outcome == DK_OUTCOME_FAILED || f->has_exc)
        return false;
    return (s->outcome == DK_OUTCOME_EMPTY && f->done && !f->prog_error) || f->image_sent_last;
}

bool dk_diag_one_sided(const dk_summary *s, const dk_diag_facts *f)
{
    return f && f->ble_writes_only && s->responses == 0 && !f->has_exc && !f->done;
}

/* ---- predicates ----------------------------------------------------------- */

static bool not_completed(const dk_summary *s, const dk_diag_facts *f)
{
    return s->outcome != DK_OUTCOME_COMPLETED && !f->done;
}

/* Stopped in the firmware (or, below, in the init packet): an image had begun
 * (a session that never got past PING/PRN/MTU matches no signature). */
static bool stopped_in_data(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return s->stop_obj == DK_OBJ_DATA && (s->n_images > 0 || s->stop_offset > 0);
}

static bool stopped_in_init(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return s->stop_obj == DK_OBJ_COMMAND;
}

/* A Programmer failure that names no error of the DFU target (those go to
 * the init.* rows through the effective failure). */
static bool prog_own(const dk_diag_facts *f)
{
    return f->prog_error && f->prog_ext < 0 && f->prog_result < 0;
}

static bool prog_jlink(const dk_summary *s, const dk_diag_facts *f)
{
    (void)s;
    return prog_own(f) && f->prog_has_lowlevel;
}

static bool prog_failed(const dk_summary *s, const dk_diag_facts *f)
{
    (void)s;
    return prog_own(f);
}

static bool nothing_at_all(const dk_summary *s, const dk_diag_facts *f)
{
    (void)s;
    return !f->has_exc && !f->prog_error && f->no_ping == 0;
}

/* The target never answered anything. */
static bool silent(const dk_summary *s, const dk_diag_facts *f)
{
    if (s->responses > 0)
        return false;
    return s->outcome == DK_OUTCOME_NO_RESPONSE || (f->exc_mask & NX(DK_NX_NO_PING)) ||
           f->no_ping > 0;
}

static bool silent_with_fc(const dk_summary *s, const dk_diag_facts *f)
{
    return silent(s, f) && f->flow_control == 1;
}

static bool signed_and_decoded(const dk_summary *s, const dk_diag_facts *f)
{
    (void)s;
    return f->init_decoded && f->init_signed;
}

static bool idle_reset(const dk_summary *s, const dk_diag_facts *f)
{
    return f->idle_silence && not_completed(s, f);
}

static bool desync(const dk_summary *s, const dk_diag_facts *f)
{
    return (s->an_count[DK_AN_DFU_LATE_RESPONSE] || (f->exc_mask & NX(DK_NX_UNEXPECTED_OP))) &&
           not_completed(s, f);
}

static bool crc_trouble(const dk_summary *s, const dk_diag_facts *f)
{
    return s->an_count[DK_AN_DFU_CRC_MISMATCH] || (f->exc_mask & NX(DK_NX_CRC));
}

static bool offset_trouble(const dk_summary *s, const dk_diag_facts *f)
{
    return s->an_count[DK_AN_DFU_OFFSET_MISMATCH] || (f->exc_mask & NX(DK_NX_OFFSET));
}

/* A CRC check failed after a resume at a boundary, or (a capture without
 * the host's words) the host pulled back an object there and stopped. */
static bool resume_crc_boundary(const dk_summary *s, const dk_diag_facts *f)
{
    return f->resume_boundary && not_completed(s, f) &&
           (f->checks_bad_after_resume || (f->exc_mask & (NX(DK_NX_CRC) | NX(DK_NX_OFFSET))) ||
            (f->pullback && s->outcome == DK_OUTCOME_INTERRUPTED));
}

static bool new_init_over_held(const dk_summary *s, const dk_diag_facts *f)
{
    if (!f->held_other_init || !not_completed(s, f))
        return false;
    /* the same packet again is a deliberate restart, not a replacement */
    return !(f->init_seen && f->sel_cmd_offset == f->init_len && f->sel_cmd_crc == f->init_crc);
}

static bool overrun(const dk_summary *s, const dk_diag_facts *f)
{
    return f->flow_control == 0 && not_completed(s, f) && (crc_trouble(s, f) || offset_trouble(s, f));
}

static bool crc_mismatch(const dk_summary *s, const dk_diag_facts *f)
{
    return crc_trouble(s, f) && not_completed(s, f);
}

static bool bytes_lost(const dk_summary *s, const dk_diag_facts *f)
{
    return offset_trouble(s, f) && not_completed(s, f);
}

static bool port_error(const dk_summary *s, const dk_diag_facts *f)
{
    return (f->exc_mask & (NX(DK_NX_PORT) | NX(DK_NX_WRITE))) && not_completed(s, f);
}

static bool host_error(const dk_summary *s, const dk_diag_facts *f)
{
    return f->has_exc && not_completed(s, f);
}

static bool unanswered_cmd(const dk_summary *s, const dk_diag_facts *f)
{
    return stopped_in_init(s, f) && (s->n_images > 0 || s->stop_offset > 0);
}

/* ---- legacy HCI DFU (protocol.md §13) ---- */

static bool lg_has(const dk_summary *s, dk_anomaly_id id)
{
    return s->legacy && s->outcome != DK_OUTCOME_COMPLETED && s->an_count[id];
}

static bool lg_stale(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return lg_has(s, DK_AN_LEGACY_STALE_SEQ);
}

static bool lg_init_rejected(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return s->legacy && s->outcome == DK_OUTCOME_FAILED && s->fail_stage == DK_STAGE_INIT;
}

static bool lg_start_refused(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return lg_has(s, DK_AN_LEGACY_START_REFUSED);
}

static bool lg_validation(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return lg_has(s, DK_AN_LEGACY_CRC_MISMATCH) || lg_has(s, DK_AN_LEGACY_SIZE_MISMATCH);
}

static bool lg_failed(const dk_summary *s, const dk_diag_facts *f)
{
    (void)f;
    return s->legacy && s->outcome != DK_OUTCOME_COMPLETED && s->outcome != DK_OUTCOME_EMPTY;
}

/* Rows are tried in order; keep specific rows above general ones. */
static const dk_diag_row rows[] = {
    /* legacy HCI DFU: above update.completed, for adafruit-nrfutil says
     * "Device programmed." whatever happened (§13.13) */
    { "legacy.stale_sequence",
      "legacy: a new host run met a device still counting from an interrupted session (§13.12)",
      ANY, ANY, ANY, ANY, ANY, ANY, lg_stale,
      "The bootloader still counted packets from an earlier, interrupted session (no reset in "
      "between): it acknowledged and dropped this run's first packets, so the image was not "
      "written (or written at the old session's offsets), whatever the host printed.",
      "Reset the board before updating again (double-tap reset, power cycle, or --touch 1200 "
      "while the app runs), then run adafruit-nrfutil once more." },
    { "legacy.init_device_type", "legacy: the init packet's device type is not 0x0052",
      ANY, ANY, ANY, ANY, ANY, DK_AN_LEGACY_INIT_DEVICE_TYPE, lg_failed,
      "The init packet's device type is not 0x0052, which the Adafruit nRF52 bootloader "
      "requires: it reset at the INIT packet and nothing was written.",
      "Build the package with adafruit-nrfutil dfu genpkg --dev-type 0x0052 (the default "
      "0xFFFF is refused)." },
    { "legacy.init_rejected", "legacy: the bootloader refused the init packet and reset",
      ANY, ANY, ANY, ANY, ANY, ANY, lg_init_rejected,
      "The bootloader refused the init packet and reset: its sd_req list names neither 0xFFFE "
      "nor the installed SoftDevice, an SD/BL update names another device revision, or the "
      "packet is malformed.",
      "Build the package with --sd-req 0xFFFE (or the board's SoftDevice FWID, e.g. 0x00B6 for "
      "S140 6.1.1) and, for SD/BL updates, --dev-revision 52840/52833/0xADAF." },
    { "legacy.start_refused", "legacy: the bootloader refused START and reset",
      ANY, ANY, ANY, ANY, ANY, ANY, lg_start_refused,
      "The bootloader refused the START packet and reset: a session was already open, or the "
      "sizes are not whole words or do not fit.",
      "Reset the board into the bootloader and run again; check the image sizes in the package." },
    { "legacy.validation_failed", "legacy: STOP found the image incomplete or its CRC16 wrong",
      ANY, ANY, ANY, ANY, ANY, ANY, lg_validation,
      "The bootloader did not activate the image: at STOP it was incomplete or its CRC16 "
      "differed from the init packet's; the board stays in DFU mode.",
      "Check the package (.dat CRC16 against the .bin) and the link; update again after a reset." },
    { "update.completed",
      "the last image's final EXECUTE (legacy: STOP) succeeded (or the host's log says so: "
      "\"Image sent\" after the last message, \"Device programmed.\" without messages)",
      DK_OUTCOME_COMPLETED, ANY, ANY, ANY, ANY, ANY, NULL,
      "The update completed: every image was sent and the target accepted it.",
      "Nothing to fix." },
    /* nRF Connect Programmer (debugger) failures: no serial DFU at all */
    { "programmer.jlink", "an nRF Connect Programmer failure with a J-Link/nrfjprog low-level error",
      ANY, ANY, ANY, ANY, ANY, ANY, prog_jlink,
      "Programming through the debugger failed in the J-Link/nrfjprog layer (the low-level "
      "error names the cause), not in the DFU protocol.",
      "Check the board's power and SWD/debug connection, close other programs that use the "
      "J-Link, and update the J-Link software; the hint next to the low-level error says more." },
    { "programmer.failed", "any other nRF Connect Programmer failure",
      ANY, ANY, ANY, ANY, ANY, ANY, prog_failed,
      "nRF Connect Programmer reported a failure (its error code names the step that failed).",
      "See the error code's hint; retry with the device reconnected and nothing else using "
      "it." },
    { "legacy.failed", "legacy: any other update that did not complete",
      ANY, ANY, ANY, ANY, ANY, ANY, lg_failed,
      "The legacy update did not complete; the anomalies above say where it stopped.",
      "Reset the board into the bootloader and update again." },
    { "capture.empty", "no DFU message in the input, and no host error",
      DK_OUTCOME_EMPTY, ANY, ANY, ANY, ANY, ANY, nothing_at_all,
      "The capture holds no DFU message.",
      "Check that the capture was taken on the DFU serial line while the update ran." },
    /* no answer at all (§5.2 PING loop, §1.4) */
    { "link.flow_control", "the target never answered while the host used RTS/CTS flow control",
      ANY, ANY, ANY, ANY, ANY, ANY, silent_with_fc,
      "The target never answered while the host waited for CTS (RTS/CTS on, nrfutil's default): "
      "a bootloader or USB-serial adapter without hardware flow control leaves CTS unasserted, "
      "so nothing is sent (or the target is not in DFU mode).",
      "Run once with flow control off (nrfutil -fc 0); if the target answers then, give the "
      "bootloader and the host the same setting (the SDK UART examples use RTS/CTS)." },
    { "link.no_answer", "requests were sent but the target never answered (§5.2 PING loop)",
      ANY, ANY, ANY, ANY, ANY, ANY, silent,
      "The target never answered: it is not in DFU mode, or the port, baud rate or flow "
      "control does not match.",
      "Put the device into its bootloader (button or pin reset), check the port and 115200 "
      "baud, and match flow control to the bootloader (SDK UART examples use RTS/CTS; "
      "nrfutil -fc 1)." },
    /* init packet rejected at command EXECUTE (§6.7) */
    { "init.invalid", "command EXECUTE answered EXT 0x04 INIT_COMMAND_INVALID",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_INIT_COMMAND_INVALID, ANY, NULL,
      "The bootloader rejected the init packet: a required field (type, hw_version, "
      "fw_version or the image size) is missing.",
      "Regenerate the package with nrfutil pkg generate, giving --hw-version, --sd-req and the "
      "image version." },
    { "init.fw_version", "command EXECUTE answered EXT 0x05 FW_VERSION_FAILURE (downgrade)",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_FW_VERSION_FAILURE, ANY, NULL,
      "The bootloader refused the image as a downgrade: its version is lower than the "
      "installed one (a bootloader's must be higher).",
      "Raise --application-version (or --bootloader-version) above the installed version." },
    { "init.hw_version", "command EXECUTE answered EXT 0x06 HW_VERSION_FAILURE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_HW_VERSION_FAILURE, ANY, NULL,
      "The init packet's hw_version does not match the bootloader's NRF_DFU_HW_VERSION.",
      "Generate the package with --hw-version equal to the bootloader's (52 in the SDK "
      "examples)." },
    { "init.sd_req", "command EXECUTE answered EXT 0x07 SD_VERSION_FAILURE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_SD_VERSION_FAILURE, ANY, NULL,
      "The init packet's sd_req list does not match what the target has installed: a "
      "SoftDevice whose FWID it does not list, or none (then sd_req must be 0x00).",
      "Add the installed SoftDevice's FWID to --sd-req (nrfutil pkg generate --help lists "
      "them); use --sd-req 0x00 for a bootloader without SoftDevice." },
    { "init.signature_missing", "command EXECUTE answered EXT 0x08 SIGNATURE_MISSING",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_SIGNATURE_MISSING, ANY, NULL,
      "The package is unsigned but the bootloader requires a signed init packet.",
      "Sign the package with --key-file, using the key whose public half is built into the "
      "bootloader." },
    { "init.hash_type", "command EXECUTE answered EXT 0x09 WRONG_HASH_TYPE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_WRONG_HASH_TYPE, ANY, NULL,
      "The init packet's hash is not SHA-256, the only type the bootloader accepts.",
      "Regenerate the package with a current nrfutil." },
    { "init.signature_type", "command EXECUTE answered EXT 0x0B WRONG_SIGNATURE_TYPE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_WRONG_SIGNATURE_TYPE, ANY, NULL,
      "The init packet's signature is not ECDSA P-256 SHA-256.",
      "Sign with an ECDSA P-256 key (nrfutil keys generate)." },
    { "init.signature_invalid",
      "command EXECUTE answered 0x05 INVALID_OBJECT to a signed init packet that decodes",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_INVALID_OBJECT, ANY, ANY,
      signed_and_decoded,
      "The init packet is signed, but its signature does not verify with the bootloader's "
      "public key (signed with another key, or the packet was changed after signing).",
      "Sign with the private key whose public half is built into the bootloader (nrfutil keys "
      "display --format code compares them)." },
    { "init.invalid_object", "command EXECUTE answered 0x05 INVALID_OBJECT",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_INVALID_OBJECT, ANY, ANY,
      NULL,
      "The bootloader could not decode the init packet or its signature did not verify.",
      "Sign with the private key matching the bootloader's public key, and check that the "
      ".dat is intact." },
    { "init.no_room", "command EXECUTE answered 0x04 INSUFFICIENT_RESOURCES",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_INSUFFICIENT_RESOURCES, ANY,
      ANY, NULL,
      "The image does not fit in the free flash (or the bootloader is larger than "
      "BOOTLOADER_SIZE).",
      "Shrink the image, or allow single-bank updates in the bootloader." },
    { "init.operation_failed", "command EXECUTE answered 0x0A OPERATION_FAILED",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_OPERATION_FAILED, ANY, ANY,
      NULL,
      "The bootloader failed while accepting the init packet (signature length, hash engine "
      "or settings write).",
      "Check that the signature is 64 bytes, then retry; a repeated failure points at the "
      "bootloader's flash." },
    { "init.rejected", "command EXECUTE answered any other error",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, ANY, ANY, ANY, NULL,
      "The bootloader rejected the init packet.",
      "Compare the package options with the bootloader's configuration." },
    { "image.hash_mismatch", "an EXECUTE answered EXT 0x0C VERIFICATION_FAILED",
      DK_OUTCOME_FAILED, ANY, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR, DK_EXT_VERIFICATION_FAILED,
      ANY, NULL,
      "All bytes arrived but the SHA-256 of the received image does not match the init "
      "packet: the .bin and .dat do not belong together, or bytes were corrupted on the way.",
      "Rebuild the package from one build and retry; run dfudecode --pkg to compare the bytes "
      "sent with the package." },
    /* the link and the host's timing */
    { "link.inactivity",
      "the target went silent 120 s or more after the last command CREATE / data EXECUTE (§6.8)",
      ANY, ANY, ANY, ANY, ANY, ANY, idle_reset,
      "The target stopped answering after two minutes without a command CREATE or data "
      "EXECUTE: its inactivity timer reset it (PINGs and writes do not restart the timer), "
      "and a valid old app then boots.",
      "Keep the host from pausing between objects for two minutes (keep-alive PINGs do not "
      "help); enter DFU mode again and rerun the update with the same package." },
    { "link.desync",
      "a response came after the host's next request (dfu.late_response, nrfutil "
      "'Unexpected Executed OP_CODE')",
      ANY, ANY, ANY, ANY, ANY, ANY, desync,
      "A slow answer arrived after the host had given up on it, so the host read it as the "
      "answer to its next request (response desync).",
      "Raise the host's response timeout, or use flow control so the target keeps up." },
    { "link.unexpected_response", "a response did not match the waiting request",
      ANY, ANY, ANY, ANY, ANY, DK_AN_DFU_UNEXPECTED_OPCODE, not_completed,
      "Responses no longer match requests: the host and the target are out of step "
      "(response desync).",
      "Check for lost frames (noise, missing flow control) and restart the update." },
    /* resuming (§5.2 try_to_recover, §6.4, §6.9, §11.9) */
    { "resume.crc_boundary",
      "the target held executed objects whose CRC is not the image's, at an object boundary "
      "(a CRC check failed after the resume, or the host pulled back an object and stopped)",
      ANY, ANY, ANY, ANY, ANY, ANY, resume_crc_boundary,
      "The target held data up to an object boundary with a CRC that is not this image's; the "
      "host pulled back one object, but an executed object cannot be undone, so the target "
      "appended at its own offset and every later CRC check fails.",
      "Start the image over with a new init packet (dfuhost does this; with nrfutil, send "
      "another package first or erase the settings page), and keep the bootloader and the "
      "package from one build." },
    { "resume.new_init",
      "the target held another init packet's transfer and the host replaced it, then stopped",
      ANY, ANY, ANY, ANY, ANY, ANY, new_init_over_held,
      "The target still held an interrupted transfer of another init packet; the new init "
      "packet threw that progress away (the image starts again from offset 0), and this "
      "transfer stopped too.",
      "Finish an interrupted update with the same package, which resumes it; fix the link "
      "before switching packages, since each new init packet restarts from zero." },
    { "link.overrun", "bytes were lost or changed while the host sent without flow control",
      ANY, ANY, ANY, ANY, ANY, ANY, overrun,
      "The host sent without flow control while the target's CPU was stopped by a flash "
      "operation: a frame that finds no free receive block is glued onto the one before (§1.3, "
      "§14.1) and an overrun of the UART resets the chip (§14.8), so the CRC or offset it "
      "reports differs.",
      "Turn on hardware flow control (nrfutil -fc 1, dfuhost --flow-control) or lower the baud "
      "rate." },
    { "data.crc_mismatch", "the target reported a CRC different from the bytes sent",
      ANY, ANY, ANY, ANY, ANY, ANY, crc_mismatch,
      "The target's CRC differs from the bytes that were sent: data was corrupted on the line "
      "or dropped by the target.",
      "Use hardware flow control (RTS/CTS), check the cable and baud rate, then run the update "
      "again." },
    { "data.bytes_lost", "the target reported fewer or more bytes than were sent",
      ANY, ANY, ANY, ANY, ANY, ANY, bytes_lost,
      "The target's offset differs from the bytes sent: frames were lost between host and "
      "target.",
      "Turn on hardware flow control (RTS/CTS) or lower the speed." },
    { "data.before_init", "a data object was refused before a valid init packet",
      DK_OUTCOME_FAILED, ANY, ANY, DK_RES_OPERATION_NOT_PERMITTED, ANY,
      DK_AN_DFU_DATA_BEFORE_INIT, NULL,
      "Firmware data was sent before the target held a valid init packet.",
      "Send (and execute) the init packet first; check that it was not rejected." },
    { "transfer.failed", "the target's last answer was an error",
      DK_OUTCOME_FAILED, ANY, ANY, ANY, ANY, ANY, NULL,
      "The target refused a request and the update stopped there.",
      "See the error above; its hint says what to check." },
    { "host.port", "the host could not open or write the serial port",
      ANY, ANY, ANY, ANY, ANY, ANY, port_error,
      "The host could not open or write the serial port: wrong name, no permission, another "
      "program holds it, or the USB adapter went away.",
      "Check the port name and permissions (dialout group), close other programs using it, "
      "and reconnect the board." },
    { "transfer.interrupted_init",
      "stopped while sending the init packet (an image had begun), without an error",
      DK_OUTCOME_INTERRUPTED, ANY, ANY, ANY, ANY, ANY, unanswered_cmd,
      "The transfer stopped during the init packet without an error from the target: the host "
      "stopped or the link was lost.",
      "Run the update again with the same package." },
    { "transfer.interrupted", "stopped in the firmware data (an image had begun), without an error",
      DK_OUTCOME_INTERRUPTED, ANY, ANY, ANY, ANY, ANY, stopped_in_data,
      "The transfer stopped in the middle of the firmware without an error from the target: "
      "the host stopped or the link was lost.",
      "Run the update again with the same package; the bootloader keeps the init packet and, "
      "while it stays powered, the progress." },
    { "host.error", "the host tool stopped with an error no other row explains",
      ANY, ANY, ANY, ANY, ANY, ANY, host_error,
      "The host tool stopped with an error that names no target error.",
      "Read the host's last message; rerun with its most detailed logging (nrfutil -vvvv, "
      "adafruit-nrfutil --verbose) or capture the line (dfusniff) to see the messages." },
    { "unknown", "anything else (e.g. a host that stopped after PING, PRN and MTU)",
      ANY, ANY, ANY, ANY, ANY, ANY, NULL,
      "The capture does not match a known failure signature.",
      "Read the anomalies above, oldest first." },
};

/* init.fw_version in the words of the image's type, from its init packet
 * (§3.2 0x05: an application or SoftDevice may not be lower than the
 * installed version, and NRF_DFU_APP_ACCEPT_SAME_VERSION is 1 in the SDK
 * example config; a bootloader must be higher). */
static const dk_diag_row fw_version_typed[2] = {
    { "init.fw_version", "command EXECUTE answered EXT 0x05 (application or SoftDevice)",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_FW_VERSION_FAILURE, ANY, NULL,
      "The bootloader refused the image as a downgrade: its version is lower than the "
      "installed one (the SDK example config accepts an equal version).",
      "Raise --application-version to at least the installed version (above it if the "
      "bootloader sets NRF_DFU_APP_ACCEPT_SAME_VERSION 0)." },
    { "init.fw_version", "command EXECUTE answered EXT 0x05 (bootloader)",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_FW_VERSION_FAILURE, ANY, NULL,
      "The bootloader refused the image as a downgrade: a bootloader's version must be higher "
      "than the installed bootloader's, and this one's is not.",
      "Raise --bootloader-version above the installed bootloader version." },
};

static const dk_diag_row *by_fw_type(const dk_diag_row *r, const dk_summary *s)
{
    if (strcmp(r->id, "init.fw_version") != 0 || s->n_images == 0 ||
        s->n_images > DK_SESSION_MAX_IMAGES || !s->img[s->n_images - 1].has_type)
        return r;
    switch (s->img[s->n_images - 1].fw_type) {
    case DK_FW_APPLICATION:
    case DK_FW_SOFTDEVICE:
        return &fw_version_typed[0];
    case DK_FW_BOOTLOADER:
    case DK_FW_SOFTDEVICE_BOOTLOADER:
        return &fw_version_typed[1];
    default:
        return r;
    }
}

static bool eq(int want, int have) { return want == ANY || want == have; }

static bool row_matches(const dk_diag_row *r, const dk_summary *s, const dk_diag_facts *f,
                        const dk_diag_failure *e)
{
    if (!eq(r->outcome, (int)e->outcome))
        return false;
    if (r->stage != ANY && !(e->failed && r->stage == (int)e->stage))
        return false;
    if (r->op != ANY && !(e->failed && r->op == e->op))
        return false;
    if (r->result != ANY && !(e->failed && r->result == e->result))
        return false;
    if (r->ext != ANY && !(e->failed && r->ext == e->ext))
        return false;
    if (r->anomaly != ANY && ((unsigned)r->anomaly >= DK_AN_COUNT || !s->an_count[r->anomaly]))
        return false;
    return !r->match || r->match(s, f);
}

/* The rows in the order they are tried: the main table, with the host rows
 * (diag_host.c) right after update.completed. */
static size_t host_at(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].id, "update.completed") == 0)
            return i + 1;
    return 0;
}

unsigned dk_diag_count(void)
{
    unsigned nh;
    dk_diag_host_table(&nh);
    return (unsigned)(sizeof rows / sizeof rows[0]) + nh;
}

const dk_diag_row *dk_diag_row_at(unsigned i)
{
    unsigned nh;
    const dk_diag_row *h = dk_diag_host_table(&nh);
    size_t at = host_at();
    if (i < at)
        return &rows[i];
    if (i < at + nh)
        return &h[i - at];
    i -= nh;
    return i < sizeof rows / sizeof rows[0] ? &rows[i] : NULL;
}

const dk_diag_row *dk_diag_pick_facts(const dk_summary *s, const dk_diag_facts *f)
{
    dk_diag_facts none;
    if (!f) {
        dk_diag_facts_init(&none);
        f = &none;
    }
    dk_diag_failure e;
    dk_diag_effective(s, f, &e);
    unsigned n = dk_diag_count();
    for (unsigned i = 0; i < n; i++) {
        const dk_diag_row *r = dk_diag_row_at(i);
        if (row_matches(r, s, f, &e))
            return by_fw_type(r, s);
    }
    return &rows[sizeof rows / sizeof rows[0] - 1];
}

const dk_diag_row *dk_diag_pick(const dk_summary *s) { return dk_diag_pick_facts(s, NULL); }

const dk_diag_row *dk_diag_settle(dk_summary *s, const dk_diag_facts *f)
{
    dk_diag_failure e;
    dk_diag_effective(s, f, &e);
    s->settled = e.outcome;
    s->settled_by_host = e.by_host;
    return s->diag = dk_diag_pick_facts(s, f);
}

const dk_diag_row *dk_diag_table(unsigned *n)
{
    if (n)
        *n = (unsigned)(sizeof rows / sizeof rows[0]);
    return rows;
}

const dk_diag_row *dk_diag_find(const char *id)
{
    unsigned n = dk_diag_count();
    for (unsigned i = 0; i < n; i++)
        if (strcmp(dk_diag_row_at(i)->id, id) == 0)
            return dk_diag_row_at(i);
    return NULL;
}
