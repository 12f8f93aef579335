/* test_diag.c - the failure signature table: integrity and one summary per
 * signature issue 2 names (protocol.md §3.2, §5.2, §6.6, §6.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void pick_is(const dk_summary *s, const char *id)
{
    const dk_diag_row *r = dk_diag_pick(s);
    assert_non_null(r);
    assert_string_equal(r->id, id);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_integrity),
        cmocka_unit_test(completed_and_connect),
        cmocka_unit_test(init_rejected_each_ext),
        cmocka_unit_test(hash_mismatch),
        cmocka_unit_test(crc_desync_and_interrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
