/* test_master.c - the DFU master against dfusim's bootloader core behind a
 * fake line (fake_target.h): fresh updates, every resume case of protocol.md
 * §5.2/§6.9, lost and late answers, and refusals named with their codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/rd.h"
#include "dfukit/tables.h"
#include "fake_target.h"
#include "master.h"

#define BIN_LEN (3 * 4096 + 1000)

/* bin and its init packet dat; bin2 and dat2 (another package, the same
 * version) */
static uint8_t bin[BIN_LEN], bin2[2 * 4096], dat[256], dat2[256];
static size_t dat_len, dat2_len;
static fake_target T;
static dh_result R;
static char notes[16384];

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void on_event(void *ctx, const dh_event *ev)
{
    (void)ctx;
    if (ev->kind == DH_EV_NOTE && strlen(notes) + strlen(ev->text) + 2 < sizeof notes) {
        strcat(notes, ev->text);
        strcat(notes, "\n");
    }
}

static int setup(void **state)
{
    (void)state;
    fill(bin, sizeof bin, 1);
    fill(bin2, sizeof bin2, 2);
    ft_init(&T);
    dat_len = ft_make_dat(dat, sizeof dat, bin, sizeof bin, 1);
    dat2_len = ft_make_dat(dat2, sizeof dat2, bin2, sizeof bin2, 1);
    memset(&R, 0, sizeof R);
    notes[0] = 0;
    return 0;
}

static dh_opts opts(void)
{
    dh_opts o;
    dh_opts_default(&o);
    o.on_event = on_event;
    return o;
}

static dh_status run_opts(const dh_opts *o)
{
    dh_image img = { "app.bin", "app.dat", bin, sizeof bin, dat, dat_len };
    dh_io io = ft_io(&T);
    return dh_run(o, &io, &img, 1, &R);
}

static dh_status run(void)
{
    dh_opts o = opts();
    return run_opts(&o);
}

static void assert_image_done(void)
{
    assert_int_equal(R.status, DH_OK);
    assert_int_equal(T.done, 1);
    assert_true(ft_app_is(&T, bin, sizeof bin));
}

/* Number of data CREATEs for a whole image: 4 objects. */
#define OBJECTS 4

static void test_fresh_update(void **state)
{
    (void)state;
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), OBJECTS);
    assert_int_equal(ft_data_written(&T), sizeof bin); /* nothing sent twice */
    /* §4: 64 data bytes per WRITE at MTU 131 */
    const ft_entry *w = ft_find(&T, 0, DK_OP_OBJECT_WRITE, DK_OBJ_DATA);
    assert_non_null(w);
    assert_int_equal(w->size, 64);
    /* Sequence start: PING, PRN, MTU, SELECT command. */
    assert_int_equal(T.log[0].op, DK_OP_PING);
    assert_int_equal(T.log[1].op, DK_OP_RECEIPT_NOTIF_SET);
    assert_int_equal(T.log[2].op, DK_OP_MTU_GET);
    assert_int_equal(T.log[3].op, DK_OP_OBJECT_SELECT);
    assert_int_equal(T.log[3].type, DK_OBJ_COMMAND);
    assert_int_equal(ft_count(&T, DK_OP_PING, -1), 1);
}

static void test_usb_mtu_chunks(void **state)
{
    (void)state;
    T.cfg.mtu = DK_MTU_USB; /* §4: (2051 - 1) / 2 - 1 = 1024 */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_find(&T, 0, DK_OP_OBJECT_WRITE, DK_OBJ_DATA)->size, 1024);
}

/* §6.9: the bootloader stayed up; SELECT data points into an object. */
static void test_resume_mid_object(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 5000, 4096);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 0);
    const ft_entry *w = ft_find(&T, 0, DK_OP_OBJECT_WRITE, DK_OBJ_DATA);
    assert_int_equal(w->at, 5000);
    assert_int_equal(ft_data_written(&T), sizeof bin - 5000);
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), 2);
    assert_non_null(strstr(notes, "finishing the object at 4096"));
}

/* §6.5: a finished object is executed again (harmless), then the next one. */
static void test_resume_boundary_match(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 8192, 4096); /* written, not yet executed */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    const ft_entry *sel = ft_find(&T, 0, DK_OP_OBJECT_SELECT, DK_OBJ_DATA);
    const ft_entry *ex = ft_find(&T, ft_index(&T, sel), DK_OP_OBJECT_EXECUTE, -1);
    const ft_entry *cr = ft_find(&T, ft_index(&T, sel), DK_OP_OBJECT_CREATE, -1);
    assert_true(ex < cr);
    assert_int_equal(ex->result, DK_RES_SUCCESS);
    assert_int_equal(cr->at, 8192);
    assert_int_equal(ft_data_written(&T), sizeof bin - 8192);
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 0);
}

static void test_resume_boundary_already_executed(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 8192, 8192);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_data_written(&T), sizeof bin - 8192);
}

/* Killed right after a data CREATE was answered: the target has an empty
 * object open, so EXECUTE at the boundary answers 0x08 (§6.5); the object is
 * created again. */
static void test_resume_boundary_with_open_object(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 8192, 8192);
    ft_preset_create(&T, 4096);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_data_written(&T), sizeof bin - 8192);
    assert_non_null(strstr(notes, "creating the object at 8192 again"));
}

/* The CREATE rolls the target back further than the host asked (its last
 * executed object is earlier): the host carries on from there.  (The target
 * holds 8192 bytes, 4096 executed; the EXECUTE at 8192 is refused, as a
 * bootloader that lost the object's size would.) */
static void test_rollback_further_rewinds(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 8192, 4096);
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 2, FT_ANSWER, DK_RES_OPERATION_NOT_PERMITTED);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_data_written(&T), sizeof bin - 4096);
    assert_non_null(strstr(notes, "rolled back to offset 4096"));
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 0);
}

/* §5.2 weakness / §11.9: the target holds executed objects that differ; it
 * cannot roll them back, so the image starts again with a new CREATE command. */
static void test_resume_boundary_mismatch_restarts(void **state)
{
    (void)state;
    uint8_t other[8192];
    fill(other, sizeof other, 99);
    ft_preset(&T, dat, dat_len, dat_len, true, other, 8192, 8192);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    const ft_entry *sel = ft_find(&T, 0, DK_OP_OBJECT_SELECT, DK_OBJ_DATA);
    const ft_entry *cr = ft_find(&T, ft_index(&T, sel), DK_OP_OBJECT_CREATE, -1);
    assert_non_null(cr);
    assert_int_equal(cr->type, DK_OBJ_COMMAND);
    assert_int_equal(ft_data_written(&T), sizeof bin);
    assert_non_null(strstr(notes, "cannot be rolled back"));
}

/* The target reports an offset past the image size (a bootloader that does
 * not check a CREATE against the init packet): also a restart. */
static void test_resume_offset_beyond_image_restarts(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 8192, 8192); /* would resume */
    uint8_t sel[15] = { DK_OP_RESPONSE, DK_OP_OBJECT_SELECT, DK_RES_SUCCESS };
    dk_put_le32(sel + 3, 4096);
    dk_put_le32(sel + 7, 16384);
    dk_put_le32(sel + 11, 0x12345678);
    ft_fault_reply(&T, DK_OP_OBJECT_SELECT, 2, sel, sizeof sel); /* SELECT data */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
}

/* A partial object that differs is rolled back by CREATE (§6.4): the executed
 * objects stay. */
static void test_resume_mid_object_mismatch_rolls_back(void **state)
{
    (void)state;
    uint8_t mix[5000];
    memcpy(mix, bin, sizeof mix);
    mix[4500] ^= 1;
    ft_preset(&T, dat, dat_len, dat_len, true, mix, 5000, 4096);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 0);
    assert_int_equal(ft_data_written(&T), sizeof bin - 4096);
    assert_int_equal(ft_find(&T, 0, DK_OP_OBJECT_CREATE, DK_OBJ_DATA)->at, 4096);
}

/* ...unless the executed part differs too: then a fresh start. */
static void test_resume_mid_object_bad_base_restarts(void **state)
{
    (void)state;
    uint8_t other[5000];
    fill(other, sizeof other, 7);
    ft_preset(&T, dat, dat_len, dat_len, true, other, 5000, 4096);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
    assert_int_equal(ft_data_written(&T), sizeof bin);
}

/* §5.2: a partly sent init packet is completed without CREATE. */
static void test_resume_partial_command(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, 40, false, NULL, 0, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 0);
    const ft_entry *w = ft_find(&T, 0, DK_OP_OBJECT_WRITE, DK_OBJ_COMMAND);
    assert_int_equal(w->at, 40);
}

/* Another package's init packet is on the target: replaced. */
static void test_other_command_replaced(void **state)
{
    (void)state;
    ft_preset(&T, dat2, dat2_len, dat2_len, true, NULL, 0, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
}

static void test_restart_flag_ignores_target_state(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, true, bin, 8192, 8192);
    dh_opts o = opts();
    o.restart = true;
    assert_int_equal(run_opts(&o), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
    assert_int_equal(ft_data_written(&T), sizeof bin);
}

/* Lost answers: the request is re-sent after a PING resync (§6.4-§6.5: all
 * safe to repeat). */
static void test_dropped_create_answer(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_CREATE, 2, FT_DROP, 0); /* first data CREATE */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), OBJECTS + 1);
    assert_int_equal(ft_count(&T, DK_OP_PING, -1), 2);
    assert_int_equal(ft_data_written(&T), sizeof bin);
}

static void test_dropped_answers_everywhere(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_SELECT, 1, FT_DROP, 0);
    ft_fault(&T, DK_OP_CRC_GET, 3, FT_DROP, 0);
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1, FT_DROP, 0); /* command EXECUTE */
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 3, FT_DROP, 0); /* second data object */
    ft_fault(&T, DK_OP_MTU_GET, 1, FT_DROP, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_data_written(&T), sizeof bin);
    /* command EXECUTE re-sent; the data EXECUTE is not re-sent blindly: the
     * attempt starts over from SELECT: the init packet whole, executed in this
     * run, so not executed again (§6.9); then the object */
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_EXECUTE, -1), 1 + OBJECTS + 2);
    assert_non_null(strstr(notes, "executed earlier in this run"));
}

/* The answer to a data EXECUTE is lost and the target resets before the
 * host asks again: its current object is then the command (§6.1), so a blind
 * re-send would "succeed" on that.  The host must find out the truth. */
static void test_lost_execute_answer_then_reset(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 3, FT_DROP, 0);
    ft_fault(&T, DK_OP_PING, 2, FT_RESET, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    /* SAVE_PROGRESS off: the two executed objects are gone; sent again */
    assert_int_equal(ft_data_written(&T), sizeof bin + 8192);
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
}

static void test_lost_request(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_CRC_GET, 2, FT_IGNORE, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
}

/* A late answer arrives after the resync started; it is dropped as stale
 * and the request goes again. */
static void test_delayed_answer(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_CRC_GET, 3, FT_DELAY, 2500);
    ft_fault(&T, DK_OP_OBJECT_CREATE, 3, FT_DELAY, 1500);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_CRC_GET, -1), 1 + OBJECTS + 1);
}

static void test_slow_answer_within_timeout(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_CRC_GET, 2, FT_DELAY, 600); /* rsp_ms is 1000 */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_CRC_GET, -1), 1 + OBJECTS);
    assert_int_equal(ft_count(&T, DK_OP_PING, -1), 1);
}

static void test_stale_answer_dropped(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_SELECT, 2, FT_STALE, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_SELECT, -1), 2);
}

/* PRN notifications are checked; a corrupted write shows there and the object
 * is sent again. */
static void test_prn_checks(void **state)
{
    (void)state;
    dh_opts o = opts();
    o.prn = 4;
    assert_int_equal(run_opts(&o), DH_OK);
    assert_image_done();
    assert_true(T.notifications >= (sizeof bin / 64) / 4);
}

static void test_prn_catches_corrupt_write(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_WRITE, 70, FT_CORRUPT, 0); /* in the second data object */
    dh_opts o = opts();
    o.prn = 4;
    assert_int_equal(run_opts(&o), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), OBJECTS + 1);
    assert_non_null(strstr(notes, "PRN notification: target at offset"));
}

static void test_crc_catches_corrupt_write(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_WRITE, 70, FT_CORRUPT, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), OBJECTS + 1);
    assert_non_null(strstr(notes, "failed its CRC check"));
    assert_non_null(strstr(notes, "lost or changed on the line"));
    assert_non_null(strstr(notes, "--flow-control"));
}

static void test_missing_prn_notification(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_WRITE, 8, FT_DROP, 0);
    dh_opts o = opts();
    o.prn = 4;
    assert_int_equal(run_opts(&o), DH_OK);
    assert_image_done();
    assert_int_equal(ft_data_written(&T), sizeof bin);
}

/* §6.9: power cut mid-transfer; the bootloader comes back in DFU mode. */
static void test_power_cut_without_saved_progress(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_CREATE, 4, FT_RESET, 0); /* before the third data object */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    /* the data went again from 0 under a new init packet */
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 2);
    assert_true(ft_data_written(&T) >= sizeof bin + 8192);
}

static void test_power_cut_with_saved_progress(void **state)
{
    (void)state;
    T.cfg.save_progress_in_flash = true;
    ft_fault(&T, DK_OP_OBJECT_CREATE, 4, FT_RESET, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
    assert_int_equal(ft_data_written(&T), sizeof bin);
}

/* §2.3/§6.9: a reset sets the target's PRN back to 0 (RAM).  The reset
 * right after an answered EXECUTE is silent, so the first notification after
 * it is missed once; from then on the host has set PRN again, and no later
 * object waits for a notification in vain (without that: one note per object). */
static void test_power_cut_resets_prn(void **state)
{
    (void)state;
    dh_opts o = opts();
    o.prn = 4;
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 3, FT_RESET, 0); /* after the 2nd data object */
    assert_int_equal(run_opts(&o), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_RECEIPT_NOTIF_SET, -1), 2);
    unsigned missed = 0;
    for (const char *p = notes; (p = strstr(p, "PRN notification at offset")) != NULL; p++)
        missed++;
    assert_int_equal(missed, 1);
}

/* Refusals are named with code, meaning and hint (tables.h). */
#define X_EXT(v, n, mean, hint) { v, #n, mean, hint },
static const struct { uint8_t v; const char *name, *mean, *hint; } exts[] = { DK_EXT_ERRORS(X_EXT) };

static void test_every_ext_error_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        setup(NULL);
        ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1, FT_ANSWER, DK_RES_EXT_ERROR | exts[i].v << 8);
        assert_int_equal(run(), DH_FAILED);
        assert_true(R.has_rsp && R.has_ext);
        assert_int_equal(R.ext, exts[i].v);
        char code[16];
        snprintf(code, sizeof code, "(0x%02X)", exts[i].v);
        assert_non_null(strstr(R.msg, "app.dat rejected"));
        assert_non_null(strstr(R.msg, "EXT_ERROR"));
        assert_non_null(strstr(R.msg, exts[i].name));
        assert_non_null(strstr(R.msg, code));
        assert_non_null(strstr(R.msg, exts[i].mean));
        assert_non_null(strstr(R.msg, exts[i].hint));
        assert_int_equal(T.done, 0);
        assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), 0);
    }
}

static void test_unknown_ext_error(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1, FT_ANSWER, DK_RES_EXT_ERROR | 0x0E << 8);
    assert_int_equal(run(), DH_FAILED);
    assert_non_null(strstr(R.msg, "EXT_ERROR (0x0E): extended error code unknown to SDK 17.1"));
}

static void test_result_codes_named(void **state)
{
    (void)state;
    static const struct { uint8_t res; const char *want; } cases[] = {
        { DK_RES_INSUFFICIENT_RESOURCES, "INSUFFICIENT_RESOURCES (0x04)" },
        { DK_RES_INVALID_OBJECT, "INVALID_OBJECT (0x05)" },
        { DK_RES_OPERATION_FAILED, "OPERATION_FAILED (0x0A)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setup(NULL);
        ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1, FT_ANSWER, cases[i].res);
        assert_int_equal(run(), DH_FAILED);
        assert_non_null(strstr(R.msg, cases[i].want));
        assert_non_null(strstr(R.msg, dk_result_meaning(cases[i].res)));
        assert_false(R.has_ext);
        assert_int_equal(R.result, cases[i].res);
    }
    setup(NULL);
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1, FT_ANSWER, DK_RES_INSUFFICIENT_RESOURCES);
    run();
    assert_non_null(strstr(R.msg, "does not fit"));
}

static void test_final_hash_mismatch_named(void **state)
{
    (void)state;
    static uint8_t other[BIN_LEN];
    memcpy(other, bin, sizeof other);
    other[100] ^= 1;
    dat_len = ft_make_dat(dat, sizeof dat, other, sizeof other, 1); /* another build's .dat */
    assert_int_equal(run(), DH_FAILED);
    assert_non_null(strstr(R.msg, "app.bin rejected"));
    assert_non_null(strstr(R.msg, "VERIFICATION_FAILED (0x0C)"));
    assert_int_equal(R.ext, DK_EXT_VERIFICATION_FAILED);
}

static void test_data_create_refused(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_CREATE, 2, FT_ANSWER, DK_RES_INSUFFICIENT_RESOURCES);
    assert_int_equal(run(), DH_FAILED);
    assert_non_null(strstr(R.msg, "app.bin rejected (OBJECT_CREATE): INSUFFICIENT_RESOURCES (0x04)"));
}

static void test_silent_target(void **state)
{
    (void)state;
    T.silent = true;
    dh_opts o = opts();
    o.connect_ms = 3000;
    assert_int_equal(run_opts(&o), DH_FAILED);
    assert_non_null(strstr(R.msg, "no answer to PING within 3.0 s"));
    assert_int_equal(T.now, 3000);
}

/* The final answer is lost and the target has booted the app: no way to
 * know, so no success claimed. */
static void test_final_answer_lost(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS, FT_DROP, 0);
    assert_int_equal(run(), DH_FAILED);
    assert_int_equal(T.done, 1);
    assert_non_null(strstr(R.msg, "unconfirmed"));
}

static void test_final_answer_lost_target_in_dfu(void **state)
{
    (void)state;
    T.cfg.enter = DS_BL_ENTER_ALWAYS; /* DFU mode again after the final EXECUTE */
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS, FT_DROP, 0);
    assert_int_equal(run(), DH_FAILED);
    assert_non_null(strstr(R.msg, "reset without confirming"));
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_EXECUTE, -1), 1 + OBJECTS);
}

/* The final EXECUTE itself never arrived: the target still holds the whole
 * image, so it is sent again. */
static void test_final_request_lost(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS, FT_IGNORE, 0);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_non_null(strstr(notes, "final EXECUTE got lost"));
}

static void test_final_answer_late(void **state)
{
    (void)state;
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS, FT_DELAY, 12000); /* final_ms is 10000 */
    T.cfg.enter = DS_BL_ENTER_ALWAYS; /* DFU mode again after the final EXECUTE */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    setup(NULL); /* target boots the app after answering: silent */
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS, FT_DELAY, 12000);
    assert_int_equal(run(), DH_OK);
    assert_image_done();
}

static void test_dat_too_large(void **state)
{
    (void)state;
    static uint8_t big[600]; /* never sent: the host checks SELECT's max_size first */
    fill(big, sizeof big, 3);
    dh_image img = { "app.bin", "app.dat", bin, sizeof bin, big, sizeof big };
    dh_opts o = opts();
    dh_io io = ft_io(&T);
    assert_int_equal(dh_run(&o, &io, &img, 1, &R), DH_FAILED);
    assert_non_null(strstr(R.msg, "app.dat is 600 bytes; the target accepts init packets of at most 512"));
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, -1), 0);
}

/* A target that keeps refusing in the data phase: bounded attempts. */
static void test_gives_up_when_nothing_moves(void **state)
{
    (void)state;
    for (unsigned i = 1; i <= 64; i++)
        ft_fault(&T, DK_OP_OBJECT_CREATE, i + 1, FT_ANSWER, DK_RES_OPERATION_NOT_PERMITTED);
    assert_int_equal(run(), DH_FAILED);
    assert_non_null(strstr(R.msg, "giving up on app.bin"));
    assert_non_null(strstr(R.msg, "OPERATION_NOT_PERMITTED (0x08)"));
    assert_true(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA) <= 8);
}

/* Images in order; the port is reopened for the second (the target reset). */
static void test_two_images(void **state)
{
    (void)state;
    T.cfg.enter = DS_BL_ENTER_ALWAYS; /* DFU mode again after the final EXECUTE */
    dh_image img[2] = {
        { "app.bin", "app.dat", bin, sizeof bin, dat, dat_len },
        { "app2.bin", "app2.dat", bin2, sizeof bin2, dat2, dat2_len },
    };
    dh_opts o = opts();
    dh_io io = ft_io(&T);
    assert_int_equal(dh_run(&o, &io, img, 2, &R), DH_OK);
    assert_int_equal(T.done, 2);
    assert_int_equal(T.reopens, 1);
    assert_true(ft_app_is(&T, bin2, sizeof bin2));
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 2);
    /* one PING per image, one for the check after the last: the bootloader
     * answers (button held) but no longer holds app2.dat */
    assert_int_equal(ft_count(&T, DK_OP_PING, -1), 3);
    assert_int_equal(R.after, DH_AF_STORED);
    assert_non_null(strstr(notes, "no longer holds app2.dat"));
}

/* ---- after the final EXECUTE: did the update take (§14.9)? ---------------- */

/* The pure decision: silence counts as gone; a bootloader that still holds
 * this init packet whole, or will not say, has not taken the update. */
static void test_after_final_decision(void **state)
{
    (void)state;
    uint32_t c = dk_crc32(0, dat, dat_len);
    assert_int_equal(dh_after_final(false, false, 0, 0, dat, dat_len), DH_AF_LEFT);
    assert_int_equal(dh_after_final(true, true, (uint32_t)dat_len, c, dat, dat_len), DH_AF_NOT_TAKEN);
    assert_int_equal(dh_after_final(true, false, 0, 0, dat, dat_len), DH_AF_NOT_TAKEN);
    assert_int_equal(dh_after_final(true, true, 0, 0, dat, dat_len), DH_AF_STORED);
    assert_int_equal(dh_after_final(true, true, (uint32_t)dat_len, c ^ 1, dat, dat_len), DH_AF_STORED);
    assert_int_equal(dh_after_final(true, true, (uint32_t)dat_len - 1, dk_crc32(0, dat, dat_len - 1),
                                    dat, dat_len),
                     DH_AF_STORED);
}

/* Power lost at flash operation `op` after the final EXECUTE's answer (1, 2:
 * the settings page's erase and write; 3, 4: the backup's). */
static void cut_after_final(uint32_t op)
{
    ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS, FT_CUT_FLASH, op);
}

/* Page lost: the bootloader boots from the backup of the command EXECUTE,
 * init packet re-armed, image not activated, no app: DFU mode.  The host
 * sees it, says so, and sends the image again without the init packet. */
static void final_cut_in_page(uint32_t op)
{
    setup(NULL);
    cut_after_final(op);
    assert_int_equal(run(), DH_OK);
    assert_image_done(); /* the second transfer's final EXECUTE, kept */
    assert_int_equal(R.untaken, 1);
    assert_int_equal(R.after, DH_AF_LEFT);
    assert_non_null(strstr(notes, "came back in its bootloader still holding its init packet: the "
                                  "update did not take"));
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 1);
    /* the command EXECUTE once: after the reboot SELECT shows it whole and
     * this run saw it executed */
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_EXECUTE, DK_OBJ_COMMAND), 1);
    assert_non_null(strstr(notes, "executed earlier in this run"));
    assert_int_equal(ft_data_written(&T), 2 * sizeof bin);
}

static void test_final_cut_page_erase(void **state)
{
    (void)state;
    final_cut_in_page(1);
}

static void test_final_cut_page_write(void **state)
{
    (void)state;
    final_cut_in_page(2);
}

/* Backup lost: the page holds the new settings, the image is activated and
 * the app runs: no bootloader answers the check. */
static void test_final_cut_in_backup(void **state)
{
    (void)state;
    for (uint32_t op = 3; op <= 4; op++) {
        setup(NULL);
        cut_after_final(op);
        assert_int_equal(run(), DH_OK);
        assert_true(ft_app_is(&T, bin, sizeof bin));
        assert_int_equal(R.untaken, 0);
        assert_int_equal(R.after, DH_AF_LEFT);
        assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_DATA), OBJECTS);
    }
}

/* Without the check the lost update is reported as done: what the check is for. */
static void test_final_cut_unchecked(void **state)
{
    (void)state;
    cut_after_final(1);
    dh_opts o = opts();
    o.verify = false;
    assert_int_equal(run_opts(&o), DH_OK);
    assert_int_equal(R.after, DH_AF_UNCHECKED);
    assert_false(ft_app_is(&T, bin, sizeof bin));
    assert_int_equal(ft_count(&T, DK_OP_PING, -1), 1);
}

/* A target that loses every update: --retries more transfers, then a clear error. */
static void test_final_cut_every_time(void **state)
{
    (void)state;
    /* EXECUTEs per transfer: the command once, then OBJECTS data objects */
    for (unsigned k = 0; k < 8; k++)
        ft_fault(&T, DK_OP_OBJECT_EXECUTE, 1 + OBJECTS + k * OBJECTS, FT_CUT_FLASH, 1);
    dh_opts o = opts();
    o.retries = 2;
    assert_int_equal(run_opts(&o), DH_FAILED);
    assert_int_equal(R.untaken, 3);
    assert_non_null(strstr(R.msg, "did not take"));
    assert_non_null(strstr(R.msg, "gave up after 3 complete transfers"));
    assert_false(ft_app_is(&T, bin, sizeof bin));
}

/* The first of two images lost the same way: found when the second one
 * starts (SELECT shows the first's init packet), and sent again. */
static void test_first_image_lost(void **state)
{
    (void)state;
    T.cfg.enter = DS_BL_ENTER_ALWAYS;
    cut_after_final(1);
    dh_image img[2] = {
        { "app.bin", "app.dat", bin, sizeof bin, dat, dat_len },
        { "app2.bin", "app2.dat", bin2, sizeof bin2, dat2, dat2_len },
    };
    dh_opts o = opts();
    dh_io io = ft_io(&T);
    assert_int_equal(dh_run(&o, &io, img, 2, &R), DH_OK);
    assert_int_equal(R.untaken, 1);
    assert_non_null(strstr(notes, "still holding app.dat: app.bin did not take"));
    assert_int_equal(T.done, 2);
    assert_true(ft_app_is(&T, bin2, sizeof bin2));
    assert_int_equal(R.after, DH_AF_STORED);
}

/* A fresh run finds the init packet whole: SELECT cannot tell executed from
 * written-only, so it executes it (as nrfutil 6.1.7 does). */
static void test_fresh_run_executes_whole_init(void **state)
{
    (void)state;
    ft_preset(&T, dat, dat_len, dat_len, false, NULL, 0, 0); /* written, never executed */
    assert_int_equal(run(), DH_OK);
    assert_image_done();
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_EXECUTE, DK_OBJ_COMMAND), 1);
    assert_int_equal(ft_count(&T, DK_OP_OBJECT_CREATE, DK_OBJ_COMMAND), 0);
    assert_non_null(strstr(notes, "executing it again"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fresh_update, setup),
        cmocka_unit_test_setup(test_after_final_decision, setup),
        cmocka_unit_test_setup(test_final_cut_page_erase, setup),
        cmocka_unit_test_setup(test_final_cut_page_write, setup),
        cmocka_unit_test_setup(test_final_cut_in_backup, setup),
        cmocka_unit_test_setup(test_final_cut_unchecked, setup),
        cmocka_unit_test_setup(test_final_cut_every_time, setup),
        cmocka_unit_test_setup(test_first_image_lost, setup),
        cmocka_unit_test_setup(test_fresh_run_executes_whole_init, setup),
        cmocka_unit_test_setup(test_usb_mtu_chunks, setup),
        cmocka_unit_test_setup(test_resume_mid_object, setup),
        cmocka_unit_test_setup(test_resume_boundary_match, setup),
        cmocka_unit_test_setup(test_resume_boundary_already_executed, setup),
        cmocka_unit_test_setup(test_resume_boundary_with_open_object, setup),
        cmocka_unit_test_setup(test_rollback_further_rewinds, setup),
        cmocka_unit_test_setup(test_resume_boundary_mismatch_restarts, setup),
        cmocka_unit_test_setup(test_resume_offset_beyond_image_restarts, setup),
        cmocka_unit_test_setup(test_resume_mid_object_mismatch_rolls_back, setup),
        cmocka_unit_test_setup(test_resume_mid_object_bad_base_restarts, setup),
        cmocka_unit_test_setup(test_resume_partial_command, setup),
        cmocka_unit_test_setup(test_other_command_replaced, setup),
        cmocka_unit_test_setup(test_restart_flag_ignores_target_state, setup),
        cmocka_unit_test_setup(test_dropped_create_answer, setup),
        cmocka_unit_test_setup(test_dropped_answers_everywhere, setup),
        cmocka_unit_test_setup(test_lost_execute_answer_then_reset, setup),
        cmocka_unit_test_setup(test_lost_request, setup),
        cmocka_unit_test_setup(test_delayed_answer, setup),
        cmocka_unit_test_setup(test_slow_answer_within_timeout, setup),
        cmocka_unit_test_setup(test_stale_answer_dropped, setup),
        cmocka_unit_test_setup(test_prn_checks, setup),
        cmocka_unit_test_setup(test_prn_catches_corrupt_write, setup),
        cmocka_unit_test_setup(test_crc_catches_corrupt_write, setup),
        cmocka_unit_test_setup(test_missing_prn_notification, setup),
        cmocka_unit_test_setup(test_power_cut_without_saved_progress, setup),
        cmocka_unit_test_setup(test_power_cut_with_saved_progress, setup),
        cmocka_unit_test_setup(test_power_cut_resets_prn, setup),
        cmocka_unit_test_setup(test_every_ext_error_named, setup),
        cmocka_unit_test_setup(test_unknown_ext_error, setup),
        cmocka_unit_test_setup(test_result_codes_named, setup),
        cmocka_unit_test_setup(test_final_hash_mismatch_named, setup),
        cmocka_unit_test_setup(test_data_create_refused, setup),
        cmocka_unit_test_setup(test_silent_target, setup),
        cmocka_unit_test_setup(test_final_answer_lost, setup),
        cmocka_unit_test_setup(test_final_answer_lost_target_in_dfu, setup),
        cmocka_unit_test_setup(test_final_request_lost, setup),
        cmocka_unit_test_setup(test_final_answer_late, setup),
        cmocka_unit_test_setup(test_dat_too_large, setup),
        cmocka_unit_test_setup(test_gives_up_when_nothing_moves, setup),
        cmocka_unit_test_setup(test_two_images, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ft_free(&T);
    return rc;
}
