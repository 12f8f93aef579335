/* test_diag.c - the failure signature table: integrity and one summary per
 * signature issue 2 names (protocol.md §3.2, §5.2, §6.6, §6.7), the facts from
 * host logs and session events (issue 5: §1.4, §5.2, §6.4, §6.8, §6.9), and a
 * check that every row of the table is reached by some case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/diag.h"
#include "dfukit/session.h"

static dk_summary base(dk_outcome o)
{
    dk_summary s;
    memset(&s, 0, sizeof s);
    s.outcome = o;
    s.t_first = s.t_last = -1;
    s.requests = s.responses = 10;
    s.n_images = 1;
    return s;
}

static dk_summary failed(dk_stage st, uint8_t op, uint8_t res, int ext)
{
    dk_summary s = base(DK_OUTCOME_FAILED);
    s.fail_stage = st;
    s.fail_op = op;
    s.fail_result = res;
    if (ext >= 0) {
        s.fail_has_ext = true;
        s.fail_ext = (uint8_t)ext;
    }
    return s;
}

/* every row some case below picked (the table may not hold unreachable rows) */
static const char *picked[64];
static unsigned n_picked;

static void note_pick(const char *id)
{
    for (unsigned i = 0; i < n_picked; i++)
        if (strcmp(picked[i], id) == 0)
            return;
    assert_true(n_picked < 64);
    picked[n_picked++] = id;
}

static void pick_is(const dk_summary *s, const char *id)
{
    const dk_diag_row *r = dk_diag_pick(s);
    assert_non_null(r);
    assert_string_equal(r->id, id);
    note_pick(r->id);
}

static void pick_f(const dk_summary *s, const dk_diag_facts *f, const char *id)
{
    const dk_diag_row *r = dk_diag_pick_facts(s, f);
    assert_non_null(r);
    assert_string_equal(r->id, id);
    note_pick(r->id);
}

static dk_diag_facts facts(void)
{
    dk_diag_facts f;
    dk_diag_facts_init(&f);
    return f;
}

/* a host exception as logread reports it */
static void exc(dk_diag_facts *f, dk_nx_kind nx, int code)
{
    dk_tool_ev t;
    memset(&t, 0, sizeof t);
    t.kind = DK_TOOL_EXCEPTION;
    t.u.exc.nx = nx;
    if (nx == DK_NX_EXT_ERROR)
        t.u.exc.ext = (uint8_t)code;
    if (nx == DK_NX_RESULT)
        t.u.exc.result = (uint8_t)code;
    snprintf(t.text, sizeof t.text, "exception %d", (int)nx);
    dk_diag_facts_tool(f, &t);
}

static void table_integrity(void **state)
{
    (void)state;
    unsigned n;
    const dk_diag_row *rows = dk_diag_table(&n);
    assert_true(n >= 20);
    for (unsigned i = 0; i < n; i++) {
        assert_non_null(rows[i].id);
        assert_non_null(rows[i].when);
        assert_non_null(rows[i].explain);
        assert_non_null(rows[i].try_);
        /* one sentence each */
        size_t el = strlen(rows[i].explain);
        assert_true(el > 10 && rows[i].explain[el - 1] == '.');
        for (unsigned j = 0; j < i; j++)
            assert_string_not_equal(rows[i].id, rows[j].id);
        assert_ptr_equal(dk_diag_find(rows[i].id), &rows[i]);
    }
    assert_null(dk_diag_find("no.such.row"));
    /* the last row catches everything */
    assert_string_equal(rows[n - 1].id, "unknown");
}

static void completed_and_connect(void **state)
{
    (void)state;
    dk_summary s = base(DK_OUTCOME_COMPLETED);
    s.an_count[DK_AN_DFU_CRC_MISMATCH] = 1; /* recovered: still completed */
    pick_is(&s, "update.completed");
    s = base(DK_OUTCOME_NO_RESPONSE);
    s.responses = 0;
    pick_is(&s, "link.no_answer");
    s = base(DK_OUTCOME_EMPTY);
    pick_is(&s, "capture.empty");
}

static void init_rejected_each_ext(void **state)
{
    (void)state;
    static const struct { int ext; const char *id; } cases[] = {
        { 0x04, "init.invalid" },          { 0x05, "init.fw_version" },
        { 0x06, "init.hw_version" },       { 0x07, "init.sd_req" },
        { 0x08, "init.signature_missing" }, { 0x09, "init.hash_type" },
        { 0x0B, "init.signature_type" },   { 0x02, "init.rejected" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_summary s = failed(DK_STAGE_INIT, 0x04, 0x0B, cases[i].ext);
        pick_is(&s, cases[i].id);
    }
    dk_summary s = failed(DK_STAGE_INIT, 0x04, 0x05, -1);
    pick_is(&s, "init.invalid_object");
    s = failed(DK_STAGE_INIT, 0x04, 0x04, -1);
    pick_is(&s, "init.no_room");
    s = failed(DK_STAGE_INIT, 0x04, 0x0A, -1);
    pick_is(&s, "init.operation_failed");
    /* the same ext code on another request is not an init rejection */
    s = failed(DK_STAGE_DATA, 0x01, 0x0B, 0x07);
    pick_is(&s, "transfer.failed");
}

static void hash_mismatch(void **state)
{
    (void)state;
    dk_summary s = failed(DK_STAGE_FINAL, 0x04, 0x0B, 0x0C);
    pick_is(&s, "image.hash_mismatch");
}

static void crc_desync_and_interrupted(void **state)
{
    (void)state;
    dk_summary s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_CRC_MISMATCH] = 1;
    pick_is(&s, "data.crc_mismatch");
    s.an_count[DK_AN_DFU_LATE_RESPONSE] = 1; /* desync explains the rest */
    pick_is(&s, "link.desync");
    s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_UNEXPECTED_OPCODE] = 2;
    pick_is(&s, "link.unexpected_response");
    s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_OFFSET_MISMATCH] = 1;
    pick_is(&s, "data.bytes_lost");
    s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.stop_offset = 4100;
    pick_is(&s, "transfer.interrupted");
    s.stop_obj = 1;
    pick_is(&s, "transfer.interrupted_init");
    s = failed(DK_STAGE_DATA, 0x01, 0x08, -1);
    s.an_count[DK_AN_DFU_DATA_BEFORE_INIT] = 1;
    pick_is(&s, "data.before_init");
}

/* Host logs without messages (nrfutil without -v): the exception names the
 * target's error; ext 0x04-0x0B only come from command EXECUTE (§3.2, §6.7),
 * 0x0C from the final EXECUTE (§6.6). */
static void from_host_exception(void **state)
{
    (void)state;
    dk_summary s = base(DK_OUTCOME_EMPTY);
    s.requests = s.responses = 0;
    dk_diag_facts f = facts();
    exc(&f, DK_NX_EXT_ERROR, 0x07);
    pick_f(&s, &f, "init.sd_req");
    dk_diag_failure e;
    dk_diag_effective(&s, &f, &e);
    assert_true(e.failed && e.from_tool);
    assert_int_equal(e.stage, DK_STAGE_INIT);
    assert_int_equal(e.op, 0x04);
    f = facts();
    exc(&f, DK_NX_EXT_ERROR, 0x0C);
    pick_f(&s, &f, "image.hash_mismatch");
    /* a result without a stage: only the general row */
    f = facts();
    exc(&f, DK_NX_RESULT, 0x05);
    pick_f(&s, &f, "transfer.failed");
    /* a generic second exception does not hide the specific first one */
    f = facts();
    exc(&f, DK_NX_CRC, 0);
    exc(&f, DK_NX_FW_FAILED, 0);
    assert_int_equal(f.exc, DK_NX_CRC);
    s = base(DK_OUTCOME_EMPTY);
    s.requests = s.responses = 0;
    pick_f(&s, &f, "data.crc_mismatch");
    f = facts();
    exc(&f, DK_NX_OFFSET, 0);
    pick_f(&s, &f, "data.bytes_lost");
    f = facts();
    exc(&f, DK_NX_UNEXPECTED_OP, 0);
    pick_f(&s, &f, "link.desync");
    f = facts();
    exc(&f, DK_NX_PORT, 0);
    pick_f(&s, &f, "host.port");
    f = facts();
    exc(&f, DK_NX_OTHER, 0);
    pick_f(&s, &f, "host.error");
    /* a plain log of a complete update */
    f = facts();
    dk_tool_ev t;
    memset(&t, 0, sizeof t);
    t.kind = DK_TOOL_DONE;
    dk_diag_facts_tool(&f, &t);
    pick_f(&s, &f, "update.completed");
    /* nothing at all */
    pick_is(&s, "capture.empty");
}

static void no_answer_and_flow_control(void **state)
{
    (void)state;
    dk_summary s = base(DK_OUTCOME_EMPTY);
    s.requests = s.responses = 0;
    dk_diag_facts f = facts();
    exc(&f, DK_NX_NO_PING, 0);
    pick_f(&s, &f, "link.no_answer");
    /* nrfutil's command line: RTS/CTS on unless -fc 0 (§1.4) */
    const char *on = "dev@bench:~$ nrfutil -vvvv dfu serial -pkg app.zip -p /dev/ttyUSB0";
    dk_diag_facts_text(&f, on, strlen(on));
    assert_int_equal(f.flow_control, 1);
    assert_string_equal(f.host_tool, "nrfutil");
    pick_f(&s, &f, "link.flow_control");
    const char *off = "$ nrfutil dfu serial -pkg a.zip -p /dev/ttyUSB0 -fc 0 -b 1000000 -prn 8";
    dk_diag_facts_text(&f, off, strlen(off));
    assert_int_equal(f.flow_control, 0);
    assert_int_equal(f.baud, 1000000);
    assert_int_equal(f.prn, 8);
    pick_f(&s, &f, "link.no_answer");
    const char *dh = "$ dfuhost -p /dev/ttyACM0 --pkg app.zip --flow-control";
    dk_diag_facts_text(&f, dh, strlen(dh));
    assert_int_equal(f.flow_control, 1);
    assert_string_equal(f.host_tool, "dfuhost");
    const char *other = "Linux bench 6.1.0 #1 SMP x86_64";
    dk_diag_facts_text(&f, other, strlen(other));
    assert_int_equal(f.flow_control, 1);
}

static void programmer_errors(void **state)
{
    (void)state;
    dk_summary s = base(DK_OUTCOME_EMPTY);
    s.requests = s.responses = 0;
    dk_diag_facts f = facts();
    dk_tool_ev t;
    memset(&t, 0, sizeof t);
    t.kind = DK_TOOL_PROG_ERROR;
    t.u.perr.has_code = true;
    t.u.perr.code = 4; /* CouldNotOpenDevice (9 with -102 is programmer.jlink_busy) */
    t.u.perr.has_lowlevel = true;
    t.u.perr.lowlevel = -11;
    dk_diag_facts_tool(&f, &t);
    pick_f(&s, &f, "programmer.jlink");
    f = facts();
    t.u.perr.has_lowlevel = false;
    dk_diag_facts_tool(&f, &t);
    pick_f(&s, &f, "programmer.failed");
}

static dk_event exchange(uint8_t op, uint8_t obj, int64_t t, bool answered)
{
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_EXCHANGE;
    ev.u.x.has_req = true;
    ev.u.x.req = dk_msg_request(op);
    ev.u.x.obj_type = obj;
    if (op == DK_OP_OBJECT_CREATE || op == DK_OP_OBJECT_SELECT)
        ev.u.x.req.req.create.type = obj; /* select.type shares the offset */
    if (op == DK_OP_OBJECT_SELECT)
        ev.u.x.req.req.select.type = obj;
    ev.u.x.t_req = t;
    ev.u.x.has_rsp = answered;
    ev.u.x.rsp = dk_msg_response(op, DK_RES_SUCCESS);
    return ev;
}

/* §6.8: only command CREATE and data EXECUTE restart the 120 s timer. */
static void inactivity(void **state)
{
    (void)state;
    dk_diag_facts f = facts();
    dk_event ev = exchange(DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND, 1000000, true);
    dk_diag_facts_event(&f, &ev);
    ev = exchange(DK_OP_OBJECT_EXECUTE, DK_OBJ_DATA, 2000000, true);
    dk_diag_facts_event(&f, &ev);
    assert_int_equal(f.t_timer, 2000000);
    /* answered PINGs 100 s later do not restart it */
    ev = exchange(DK_OP_PING, DK_OBJ_DATA, 102000000, true);
    dk_diag_facts_event(&f, &ev);
    assert_int_equal(f.t_timer, 2000000);
    /* a PING unanswered 119 s after: not yet */
    ev = exchange(DK_OP_PING, DK_OBJ_DATA, 121000000, false);
    dk_diag_facts_event(&f, &ev);
    assert_false(f.idle_silence);
    ev = exchange(DK_OP_PING, DK_OBJ_DATA, 122000000, false);
    dk_diag_facts_event(&f, &ev);
    assert_true(f.idle_silence);
    assert_int_equal(f.idle_us, 120000000);
    dk_summary s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_NO_RESPONSE] = 1;
    pick_f(&s, &f, "link.inactivity");
    s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    pick_is(&s, "transfer.interrupted");
}

/* §5.2 try_to_recover at an object boundary; §6.4, §6.9 a new init packet. */
static void resumes(void **state)
{
    (void)state;
    dk_diag_facts f = facts();
    dk_event ev = exchange(DK_OP_OBJECT_SELECT, DK_OBJ_DATA, 1000, true);
    ev.u.x.rsp.rsp.select.max_size = 4096;
    ev.u.x.rsp.rsp.select.offset = 8192;
    ev.u.x.rsp.rsp.select.crc = 0x1234;
    dk_diag_facts_event(&f, &ev);
    assert_true(f.resume_boundary);
    assert_int_equal(f.resume_offset, 8192);
    ev = exchange(DK_OP_CRC_GET, DK_OBJ_DATA, 2000, true);
    ev.u.x.check = DK_CHECK_CRC_BAD;
    dk_diag_facts_event(&f, &ev);
    assert_int_equal(f.checks_bad_after_resume, 1);
    dk_summary s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_CRC_MISMATCH] = 1;
    pick_f(&s, &f, "resume.crc_boundary");
    /* a capture without the host's words: the pull-back (data CREATE right
     * after the boundary SELECT, no EXECUTE) and a stop */
    dk_diag_facts g = facts();
    ev = exchange(DK_OP_OBJECT_SELECT, DK_OBJ_DATA, 1000, true);
    ev.u.x.rsp.rsp.select.max_size = 4096;
    ev.u.x.rsp.rsp.select.offset = 8192;
    dk_diag_facts_event(&g, &ev);
    ev = exchange(DK_OP_OBJECT_CREATE, DK_OBJ_DATA, 2000, true);
    dk_diag_facts_event(&g, &ev);
    assert_true(g.pullback);
    dk_summary s2 = base(DK_OUTCOME_INTERRUPTED);
    s2.stop_obj = 2;
    pick_f(&s2, &g, "resume.crc_boundary");
    /* EXECUTE first: the CRC matched, nrfutil goes on (§5.2) */
    g = facts();
    ev = exchange(DK_OP_OBJECT_SELECT, DK_OBJ_DATA, 1000, true);
    ev.u.x.rsp.rsp.select.max_size = 4096;
    ev.u.x.rsp.rsp.select.offset = 8192;
    dk_diag_facts_event(&g, &ev);
    ev = exchange(DK_OP_OBJECT_EXECUTE, DK_OBJ_DATA, 2000, true);
    dk_diag_facts_event(&g, &ev);
    ev = exchange(DK_OP_OBJECT_CREATE, DK_OBJ_DATA, 3000, true);
    dk_diag_facts_event(&g, &ev);
    assert_false(g.pullback);
    pick_f(&s2, &g, "transfer.interrupted");
    /* inside an object the pull-back works: no boundary resume */
    f = facts();
    ev = exchange(DK_OP_OBJECT_SELECT, DK_OBJ_DATA, 1000, true);
    ev.u.x.rsp.rsp.select.max_size = 4096;
    ev.u.x.rsp.rsp.select.offset = 8000;
    dk_diag_facts_event(&f, &ev);
    assert_false(f.resume_boundary);
    pick_f(&s, &f, "data.crc_mismatch");

    f = facts();
    ev = exchange(DK_OP_OBJECT_SELECT, DK_OBJ_COMMAND, 1000, true);
    ev.u.x.rsp.rsp.select.offset = 69;
    ev.u.x.rsp.rsp.select.crc = 0xAAAA;
    dk_diag_facts_event(&f, &ev);
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_RESUME;
    ev.u.resume.obj_type = DK_OBJ_COMMAND;
    ev.u.resume.how = DK_RESUME_RESTART;
    dk_diag_facts_event(&f, &ev);
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_INIT;
    ev.u.init.len = 69;
    ev.u.init.crc = 0xBBBB;
    dk_diag_facts_event(&f, &ev);
    s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_NO_RESPONSE] = 1;
    pick_f(&s, &f, "resume.new_init");
    /* the same packet again is a restart on purpose */
    f.init_crc = 0xAAAA;
    pick_f(&s, &f, "transfer.interrupted");
    /* completed: nothing to explain */
    s = base(DK_OUTCOME_COMPLETED);
    f.init_crc = 0xBBBB;
    pick_f(&s, &f, "update.completed");
}

static void overrun_and_signature(void **state)
{
    (void)state;
    dk_diag_facts f = facts();
    f.flow_control = 0;
    dk_summary s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 2;
    s.an_count[DK_AN_DFU_OFFSET_MISMATCH] = 1;
    pick_f(&s, &f, "link.overrun");
    f.flow_control = 1;
    pick_f(&s, &f, "data.bytes_lost");

    f = facts();
    dk_initpkt pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.is_signed = true;
    dk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = DK_EV_INIT;
    ev.u.init.ok = true;
    ev.u.init.pkt = &pkt;
    dk_diag_facts_event(&f, &ev);
    assert_true(f.init_signed);
    s = failed(DK_STAGE_INIT, 0x04, 0x05, -1);
    pick_f(&s, &f, "init.signature_invalid");
    pkt.is_signed = false;
    f = facts();
    dk_diag_facts_event(&f, &ev);
    pick_f(&s, &f, "init.invalid_object");
}

static void rejected_and_failed(void **state)
{
    (void)state;
    dk_summary s = failed(DK_STAGE_DATA, 0x01, 0x04, -1);
    pick_is(&s, "transfer.failed");
    s = failed(DK_STAGE_INIT, 0x04, 0x08, -1);
    pick_is(&s, "init.rejected");
    s = base(DK_OUTCOME_NO_RESPONSE);
    s.responses = 0;
    pick_is(&s, "link.no_answer");
    /* not one known signature */
    s = base(DK_OUTCOME_INTERRUPTED);
    s.stop_obj = 0;
    pick_is(&s, "unknown");
}

/* Legacy HCI DFU summaries (protocol.md §13): each legacy row, and the
 * host's "Device programmed." does not make a failed legacy session a
 * completed one. */
static void legacy_rows(void **state)
{
    (void)state;
    dk_summary s = base(DK_OUTCOME_FAILED);
    s.legacy = true;
    s.an_count[DK_AN_LEGACY_STALE_SEQ] = 1;
    s.fail_stage = DK_STAGE_CONNECT;
    pick_is(&s, "legacy.stale_sequence");
    dk_diag_facts f;
    dk_diag_facts_init(&f);
    f.done = true; /* adafruit-nrfutil: "Device programmed." all the same */
    assert_string_equal(dk_diag_pick_facts(&s, &f)->id, "legacy.stale_sequence");
    s = base(DK_OUTCOME_FAILED);
    s.legacy = true;
    s.fail_stage = DK_STAGE_INIT;
    s.an_count[DK_AN_LEGACY_INIT_DEVICE_TYPE] = 1;
    pick_is(&s, "legacy.init_device_type");
    s.an_count[DK_AN_LEGACY_INIT_DEVICE_TYPE] = 0;
    s.an_count[DK_AN_LEGACY_DEVICE_RESET] = 1;
    pick_is(&s, "legacy.init_rejected");
    s = base(DK_OUTCOME_FAILED);
    s.legacy = true;
    s.fail_stage = DK_STAGE_CONNECT;
    s.an_count[DK_AN_LEGACY_START_REFUSED] = 1;
    pick_is(&s, "legacy.start_refused");
    s = base(DK_OUTCOME_NO_RESPONSE);
    s.legacy = true;
    s.responses = 0;
    pick_is(&s, "legacy.no_ack_start");
    s = base(DK_OUTCOME_FAILED);
    s.legacy = true;
    s.fail_stage = DK_STAGE_FINAL;
    s.an_count[DK_AN_LEGACY_CRC_MISMATCH] = 1;
    pick_is(&s, "legacy.validation_failed");
    s = base(DK_OUTCOME_INTERRUPTED);
    s.legacy = true;
    s.an_count[DK_AN_HCI_NO_ACK] = 1;
    pick_is(&s, "legacy.no_ack_data");
    s.an_count[DK_AN_HCI_NO_ACK] = 0;
    pick_is(&s, "legacy.failed");
    s = base(DK_OUTCOME_COMPLETED);
    s.legacy = true;
    s.an_count[DK_AN_LEGACY_DROPPED] = 1; /* a later image completed */
    pick_is(&s, "update.completed");
}

/* runs last: every row of the table was picked by some case above */
static void every_row_reached(void **state)
{
    (void)state;
    unsigned n;
    const dk_diag_row *rows = dk_diag_table(&n);
    for (unsigned i = 0; i < n; i++) {
        bool seen = false;
        for (unsigned j = 0; j < n_picked; j++)
            seen |= strcmp(picked[j], rows[i].id) == 0;
        if (!seen)
            fail_msg("row %s is never picked by a test case", rows[i].id);
    }
}

/* The settled outcome is the one fact the summary line and the diagnosis
 * read: the host's words settle it where the messages do not (dk_diag_settle). */
static void settled_outcome(void **state)
{
    (void)state;
    dk_diag_facts f;
    /* an excerpt that starts mid-image: nrfutil's "Image sent" after the last EXECUTE */
    dk_summary s = base(DK_OUTCOME_INTERRUPTED);
    dk_diag_facts_init(&f);
    f.tool = f.image_sent_last = true;
    assert_string_equal(dk_diag_settle(&s, &f)->id, "update.completed");
    assert_int_equal(s.settled, DK_OUTCOME_COMPLETED);
    assert_true(s.settled_by_host);
    assert_ptr_equal(s.diag, dk_diag_find("update.completed"));
    /* ... but not with an exception after it, nor after the target's error */
    s = base(DK_OUTCOME_INTERRUPTED);
    f.has_exc = true;
    f.exc = DK_NX_OTHER;
    assert_string_not_equal(dk_diag_settle(&s, &f)->id, "update.completed");
    assert_int_equal(s.settled, DK_OUTCOME_INTERRUPTED);
    assert_false(s.settled_by_host);
    s = failed(DK_STAGE_DATA, DK_OP_OBJECT_EXECUTE, DK_RES_OPERATION_FAILED, -1);
    dk_diag_facts_init(&f);
    f.image_sent_last = true;
    assert_string_not_equal(dk_diag_settle(&s, &f)->id, "update.completed");
    assert_int_equal(s.settled, DK_OUTCOME_FAILED);
    /* "Device programmed." in a log without messages */
    s = base(DK_OUTCOME_EMPTY);
    s.requests = s.responses = 0;
    dk_diag_facts_init(&f);
    f.tool = f.done = true;
    assert_string_equal(dk_diag_settle(&s, &f)->id, "update.completed");
    assert_int_equal(s.settled, DK_OUTCOME_COMPLETED);
    assert_true(s.settled_by_host);
    /* a listing of the host's writes alone: how it ended is unknown */
    s = base(DK_OUTCOME_NO_RESPONSE);
    s.responses = 0;
    dk_diag_facts_init(&f);
    f.tool = f.ble_writes_only = true;
    assert_string_equal(dk_diag_settle(&s, &f)->id, "log.one_sided");
    assert_int_equal(s.settled, DK_OUTCOME_UNKNOWN);
    assert_string_equal(dk_outcome_name(s.settled), "unknown");
    /* the messages alone: settled is the session's outcome */
    s = base(DK_OUTCOME_COMPLETED);
    assert_string_equal(dk_diag_settle(&s, NULL)->id, "update.completed");
    assert_int_equal(s.settled, DK_OUTCOME_COMPLETED);
    assert_false(s.settled_by_host);
    s = base(DK_OUTCOME_INTERRUPTED);
    dk_diag_settle(&s, NULL);
    assert_int_equal(s.settled, DK_OUTCOME_INTERRUPTED);
    assert_string_not_equal(s.diag->id, "update.completed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_integrity),
        cmocka_unit_test(completed_and_connect),
        cmocka_unit_test(init_rejected_each_ext),
        cmocka_unit_test(hash_mismatch),
        cmocka_unit_test(crc_desync_and_interrupted),
        cmocka_unit_test(from_host_exception),
        cmocka_unit_test(no_answer_and_flow_control),
        cmocka_unit_test(programmer_errors),
        cmocka_unit_test(inactivity),
        cmocka_unit_test(resumes),
        cmocka_unit_test(overrun_and_signature),
        cmocka_unit_test(rejected_and_failed),
        cmocka_unit_test(legacy_rows),
        cmocka_unit_test(settled_outcome),
        cmocka_unit_test(every_row_reached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
