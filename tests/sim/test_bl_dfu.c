/* test_bl_dfu.c - bootloader state across a DFU (protocol.md §6-§7): banks,
 * settings page + backup, when flash is written, progress, EXECUTE rules,
 * postvalidation, reset, activation, DFU-mode decision, inactivity. */
#include "test_bl_util.h"

#include "dfukit/rd.h"
#include "settings.h"

#define PAGE 4096u

static ds_bl_config cfg_52832(uint32_t app_size, ds_bl_enter enter)
{
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52832");
    c.allow_unsigned = true;
    c.app_size = app_size;
    c.enter = enter;
    return c;
}

static const uint8_t *flash_at(rig *r, uint32_t addr) { return ds_flash_mem(r->fl) + addr; }

static ds_settings flash_settings(rig *r, uint32_t addr)
{
    ds_settings s;
    ds_sett_decode(flash_at(r, addr), &s);
    return s;
}

static size_t make_dat(const uint8_t *img, size_t len, uint32_t fw_version, uint8_t *dat)
{
    dk_init_cmd c;
    init_default(&c, img, len);
    c.fw_version = fw_version;
    return pkt_make(&c, NULL, dat, 512);
}

/* §7, §6.3, §6.6: a dual-bank update: image at bank 1 = page-aligned end of
 * the app, init command persisted at command EXECUTE, final EXECUTE answers,
 * then writes settings and resets; the next boot copies bank 1 -> bank 0. */
static void test_dual_bank_update(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(20000, DS_BL_ENTER_FIRST_BOOT);
    rig *r = rig_new(&c);
    assert_true(ds_bl_in_dfu(r->bl));
    assert_true(ds_bl_app_valid(r->bl));
    uint8_t old_app[20000];
    memcpy(old_app, flash_at(r, 0x1000), sizeof old_app);
    size_t len = 3 * PAGE + 1000;
    uint8_t *img = make_image(len, 11);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 2, dat);

    uint64_t ops = ds_flash_ops(r->fl);
    assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
    /* settings page and backup written (erase + write each) */
    assert_int_equal(ds_flash_ops(r->fl) - ops, 4);
    assert_int_equal(ds_bl_bank1_start(r->bl), 0x1000 + 5 * PAGE);
    for (int i = 0; i < 2; i++) {
        uint32_t at = i ? r->cfg.chip.mbr_params : r->cfg.chip.settings;
        assert_true(ds_sett_page_valid(flash_at(r, at)));
        ds_settings s = flash_settings(r, at);
        assert_int_equal(s.progress.command_size, n);
        assert_int_equal(s.progress.command_offset, n);
        assert_int_equal(s.progress.command_crc, dk_crc32(0, dat, n));
        assert_memory_equal(s.init_command, dat, n);
        assert_int_equal(s.bank_0.bank_code, DS_BANK_VALID_APP);
        assert_int_equal(s.bank_layout, DS_BANK_LAYOUT_DUAL);
    }
    assert_true(ds_sett_backup_valid(flash_at(r, r->cfg.chip.mbr_params)));

    int last = send_fw(r, img, len, 0);
    assert_int_equal(last, DK_RES_SUCCESS);
    assert_int_equal(r->flags, DS_BL_RESET);
    assert_int_equal(r->rsp_len, 3);
    assert_int_equal(ds_flash_violations(r->fl), 0);
    /* §6.6 step 3: bank 1 valid, bank 0 invalidated, progress wiped,
     * update_start_address = bank 1 */
    ds_settings s = flash_settings(r, r->cfg.chip.settings);
    assert_int_equal(s.bank_1.bank_code, DS_BANK_VALID_APP);
    assert_int_equal(s.bank_1.image_size, len);
    assert_int_equal(s.bank_1.image_crc, dk_crc32(0, img, len));
    assert_int_equal(s.bank_0.bank_code, DS_BANK_INVALID);
    assert_int_equal(s.progress.command_size, 0);
    assert_int_equal(s.progress.firmware_image_crc, 0x1000 + 5 * PAGE);
    assert_int_equal(s.app_version, 2);
    assert_memory_equal(flash_at(r, 0x1000), old_app, sizeof old_app); /* untouched */

    /* boot: activation, then the new app runs (no DFU: first boot is over) */
    rig_boot(r);
    assert_false(ds_bl_in_dfu(r->bl));
    assert_memory_equal(flash_at(r, 0x1000), img, len);
    s = flash_settings(r, r->cfg.chip.settings);
    assert_int_equal(s.bank_0.bank_code, DS_BANK_VALID_APP);
    assert_int_equal(s.bank_0.image_size, len);
    assert_int_equal(s.bank_1.bank_code, DS_BANK_INVALID);
    assert_int_equal(s.write_offset, 0);
    assert_int_equal(s.bv_app.type, DS_BV_CRC);
    assert_true(ds_bl_app_valid(r->bl));
    assert_int_equal(ds_flash_violations(r->fl), 0);
    free(img);
    rig_free(r);
}

/* §7: no valid app -> bank 1 collapses onto bank 0 (written in place); the
 * activation needs no copy. */
static void test_no_app_writes_in_place(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    assert_true(ds_bl_in_dfu(r->bl));
    size_t len = 2 * PAGE + 8;
    uint8_t *img = make_image(len, 12);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
    assert_int_equal(ds_bl_bank1_start(r->bl), 0x1000);
    assert_int_equal(send_fw(r, img, len, 0), DK_RES_SUCCESS);
    assert_memory_equal(flash_at(r, 0x1000), img, len);
    uint64_t erases = ds_flash_erases(r->fl);
    rig_boot(r);
    assert_int_equal(ds_flash_erases(r->fl) - erases, 2); /* final settings only */
    assert_true(ds_bl_app_valid(r->bl));
    assert_false(ds_bl_in_dfu(r->bl));
    free(img);
    rig_free(r);
}

/* §7 / §6.9: single bank (or no room for dual bank) deletes the app at
 * command EXECUTE; a reset then stays in DFU mode. */
static void test_single_bank_invalidates_app(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(20000, DS_BL_ENTER_FIRST_BOOT);
    c.single_bank = true;
    rig *r = rig_new(&c);
    size_t len = PAGE;
    uint8_t *img = make_image(len, 13);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
    assert_int_equal(ds_bl_bank1_start(r->bl), 0x1000);
    ds_settings s = flash_settings(r, r->cfg.chip.settings);
    assert_int_equal(s.bank_0.bank_code, DS_BANK_INVALID);
    assert_int_equal(s.bank_0.image_size, 0);
    assert_int_equal(s.bank_layout, DS_BANK_LAYOUT_SINGLE);
    rig_boot(r); /* not the first boot: only "no valid app" keeps DFU mode */
    assert_true(ds_bl_in_dfu(r->bl));
    free(img);
    rig_free(r);

    /* dual bank where the image does not fit beside the app: app deleted too */
    c.single_bank = false;
    c.app_size = 200 * 1024;
    r = rig_new(&c);
    len = 300 * 1024;
    img = make_image(len, 14);
    n = make_dat(img, len, 1, dat);
    assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
    assert_int_equal(ds_bl_bank1_start(r->bl), 0x1000);
    free(img);
    rig_free(r);
}

/* §6.7 step 4 / §7: no room for the image at all -> 0x04, nothing deleted. */
static void test_insufficient_space(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(20000, DS_BL_ENTER_ALWAYS);
    rig *r = rig_new(&c);
    /* free region: 0x1000 .. 0x78000 - 3 pages */
    uint32_t room = 0x78000 - 3 * PAGE - 0x1000;
    uint8_t img[16] = { 0 };
    dk_init_cmd ic;
    init_default(&ic, img, sizeof img);
    ic.app_size = room + 1;
    uint8_t dat[512];
    size_t n = pkt_make(&ic, NULL, dat, sizeof dat);
    assert_int_equal(send_init(r, dat, n), DK_RES_INSUFFICIENT_RESOURCES);
    assert_true(ds_bl_app_valid(r->bl));
    assert_int_equal(ds_bl_settings(r->bl)->bank_0.bank_code, DS_BANK_VALID_APP);
    ic.app_size = room;
    n = pkt_make(&ic, NULL, dat, sizeof dat);
    assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
    rig_free(r);
}

/* §6.3: settings are written exactly at command EXECUTE, at data EXECUTE
 * only with save-progress (after the response), and at the final EXECUTE. */
static void test_settings_written_when_sdk_does(void **state)
{
    (void)state;
    for (int save = 0; save < 2; save++) {
        ds_bl_config c = cfg_52832(0, DS_BL_ENTER_ALWAYS);
        c.save_progress_in_flash = save;
        rig *r = rig_new(&c);
        size_t len = 2 * PAGE;
        uint8_t *img = make_image(len, 15);
        uint8_t dat[512];
        size_t n = make_dat(img, len, 1, dat);
        uint64_t ops = ds_flash_ops(r->fl);
        rq_create(r, 1, (uint32_t)n);
        rq_stream(r, dat, n);
        rq_crc(r);
        assert_int_equal(ds_flash_ops(r->fl), ops); /* RAM only */
        rq_execute(r);
        assert_int_equal(ds_flash_ops(r->fl) - ops, 4);
        ops = ds_flash_ops(r->fl);
        rq_create(r, 2, PAGE);
        assert_int_equal(ds_flash_ops(r->fl) - ops, 1); /* one page erased */
        rq_stream(r, img, PAGE);
        assert_int_equal(ds_flash_ops(r->fl) - ops, 1 + PAGE / 64);
        ops = ds_flash_ops(r->fl);
        rq_execute(r);
        expect_rsp(r, 0x04, DK_RES_SUCCESS);
        assert_int_equal(r->flags, 0);
        assert_int_equal(ds_flash_ops(r->fl) - ops, save ? 4 : 0);
        ds_settings s = flash_settings(r, r->cfg.chip.settings);
        assert_int_equal(s.progress.firmware_image_offset, save ? PAGE : 0);
        /* an already executed object: EXECUTE again passes (§6.5) */
        rq_execute(r);
        expect_rsp(r, 0x04, DK_RES_SUCCESS);
        free(img);
        rig_free(r);
    }
}

/* §6.9: after a reset the init command comes back from flash (SELECT command
 * gives len/CRC, EXECUTE alone suffices); data progress is 0/0 without
 * save-progress, the last executed object with it. */
static void test_reset_recovery(void **state)
{
    (void)state;
    for (int save = 0; save < 2; save++) {
        ds_bl_config c = cfg_52832(0, DS_BL_ENTER_ALWAYS);
        c.save_progress_in_flash = save;
        rig *r = rig_new(&c);
        size_t len = 3 * PAGE;
        uint8_t *img = make_image(len, 16);
        uint8_t dat[512];
        size_t n = make_dat(img, len, 1, dat);
        assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
        rq_select(r, 2);
        for (uint32_t o = 0; o < 2 * PAGE; o += PAGE) {
            rq_create(r, 2, PAGE);
            rq_stream(r, img + o, PAGE);
            rq_execute(r);
        }
        rq_create(r, 2, PAGE);
        rq_stream(r, img + 2 * PAGE, 640); /* part of the third object */
        rig_boot(r);                        /* reset: RAM lost */
        assert_true(ds_bl_in_dfu(r->bl));
        assert_true(ds_bl_init_cmd_valid(r->bl));
        rq_select(r, 1);
        assert_int_equal(r->m.rsp.select.offset, n);
        assert_int_equal(r->m.rsp.select.crc, dk_crc32(0, dat, n));
        uint64_t ops = ds_flash_ops(r->fl);
        rq_execute(r);
        expect_rsp(r, 0x04, DK_RES_SUCCESS);
        assert_int_equal(ds_flash_ops(r->fl), ops); /* no-op: nothing rewritten */
        rq_select(r, 2);
        uint32_t off = save ? 2 * PAGE : 0;
        assert_int_equal(r->m.rsp.select.offset, off);
        assert_int_equal(r->m.rsp.select.crc, off ? dk_crc32(0, img, off) : 0);
        assert_int_equal(send_fw(r, img, len, off), DK_RES_SUCCESS);
        rig_boot(r);
        assert_true(ds_bl_app_valid(r->bl));
        assert_memory_equal(flash_at(r, 0x1000), img, len);
        free(img);
        rig_free(r);
    }
}

/* §6.9: without a reset the live RAM offset is reported, mid-object, and the
 * host may simply continue. */
static void test_resume_without_reset(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    size_t len = 2 * PAGE;
    uint8_t *img = make_image(len, 17);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    send_init(r, dat, n);
    rq_select(r, 2);
    rq_create(r, 2, PAGE);
    rq_stream(r, img, 1280);
    rq_select(r, 1);
    rq_select(r, 2);
    assert_int_equal(r->m.rsp.select.offset, 1280);
    assert_int_equal(r->m.rsp.select.crc, dk_crc32(0, img, 1280));
    rq_stream(r, img + 1280, PAGE - 1280);
    rq_execute(r);
    expect_rsp(r, 0x04, DK_RES_SUCCESS);
    assert_int_equal(send_fw(r, img, len, PAGE), DK_RES_SUCCESS);
    free(img);
    rig_free(r);
}

/* §6.4: data CREATE checks in order, and rolls a partial object back to
 * *_last, erasing its page again. */
static void test_data_create(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    rq_create(r, 2, PAGE);
    expect_rsp(r, 0x01, DK_RES_OPERATION_NOT_PERMITTED); /* no init command */
    size_t len = 2 * PAGE + 100;
    uint8_t *img = make_image(len, 18);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    send_init(r, dat, n);
    rq_create(r, 2, 0);
    expect_rsp(r, 0x01, DK_RES_INVALID_PARAMETER);
    rq_create(r, 2, 1000);
    expect_rsp(r, 0x01, DK_RES_INVALID_PARAMETER); /* not aligned, not last */
    rq_create(r, 2, 2 * PAGE);
    expect_rsp(r, 0x01, DK_RES_INSUFFICIENT_RESOURCES);
    rq_create(r, 2, PAGE);
    rq_stream(r, img, PAGE);
    rq_execute(r);
    rq_create(r, 2, PAGE);
    rq_stream(r, img + PAGE, PAGE);
    rq_execute(r);
    rq_create(r, 2, 200);
    expect_rsp(r, 0x01, DK_RES_INVALID_PARAMETER); /* unaligned and overruns */
    rq_create(r, 2, PAGE);
    expect_rsp(r, 0x01, DK_RES_OPERATION_NOT_PERMITTED); /* past the image */
    rq_create(r, 2, 100);
    expect_rsp(r, 0x01, DK_RES_SUCCESS); /* the short last object */
    /* rollback: write some, CREATE again -> offset back, page erased */
    uint8_t junk[64];
    memset(junk, 0, sizeof junk);
    rq_write(r, junk, 64);
    rq_crc(r);
    assert_int_equal(r->m.rsp.crc.offset, 2 * PAGE + 64);
    rq_create(r, 2, 100);
    rq_crc(r);
    assert_int_equal(r->m.rsp.crc.offset, 2 * PAGE);
    assert_int_equal(r->m.rsp.crc.crc, dk_crc32(0, img, 2 * PAGE));
    assert_true(ds_flash_is_erased(r->fl, 0x1000 + 2 * PAGE, PAGE));
    /* writes beyond the object: 0x03 (visible with PRN 1) */
    rq_prn(r, 1);
    rq_write(r, img + 2 * PAGE, 64);
    expect_rsp(r, 0x03, DK_RES_SUCCESS);
    rq_write(r, junk, 40);
    expect_rsp(r, 0x03, DK_RES_INVALID_PARAMETER); /* 64 + 40 > 100 */
    rq_write(r, img + 2 * PAGE + 64, 36);
    expect_rsp(r, 0x03, DK_RES_SUCCESS);
    assert_int_equal(r->m.rsp.crc.offset, len);
    rq_prn(r, 0);
    rq_execute(r);
    expect_rsp(r, 0x04, DK_RES_SUCCESS);
    assert_int_equal(r->flags, DS_BL_RESET);
    free(img);
    rig_free(r);
}

/* §6.4: command CREATE resets all progress (init command no longer valid). */
static void test_command_create_resets(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    size_t len = 2 * PAGE;
    uint8_t *img = make_image(len, 19);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    send_init(r, dat, n);
    send_fw(r, img, PAGE, 0);
    rq_create(r, 1, (uint32_t)n);
    rq_select(r, 2);
    assert_int_equal(r->m.rsp.select.offset, 0);
    assert_int_equal(r->m.rsp.select.crc, 0);
    rq_create(r, 2, PAGE);
    expect_rsp(r, 0x01, DK_RES_OPERATION_NOT_PERMITTED);
    free(img);
    rig_free(r);
}

/* §6.5: EXECUTE rules. */
static void test_execute_rules(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    size_t len = PAGE;
    uint8_t *img = make_image(len, 20);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    rq_create(r, 1, (uint32_t)n);
    rq_write(r, dat, 10);
    rq_execute(r);
    expect_rsp(r, 0x04, DK_RES_OPERATION_NOT_PERMITTED); /* offset != size */
    rq_select(r, 1);
    assert_int_equal(r->m.rsp.select.offset, 0); /* the failure reset progress */
    assert_int_equal(send_init(r, dat, n), DK_RES_SUCCESS);
    uint64_t ops = ds_flash_ops(r->fl);
    rq_execute(r); /* already valid: no-op success */
    expect_rsp(r, 0x04, DK_RES_SUCCESS);
    assert_int_equal(ds_flash_ops(r->fl), ops);
    rq_select(r, 2);
    rq_create(r, 2, PAGE);
    rq_stream(r, img, 2048);
    rq_execute(r);
    expect_rsp(r, 0x04, DK_RES_OPERATION_NOT_PERMITTED); /* object incomplete */
    free(img);
    rig_free(r);
}

/* Hook: fail the flash write at one address (an NVMC error). */
static uint32_t fail_addr;
static ds_flash_verdict fail_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op)
{
    (void)ctx, (void)len, (void)op;
    return !is_erase && addr == fail_addr ? DS_FLASH_FAIL : DS_FLASH_GO;
}

/* §6.6 / §11.5: a hash mismatch answers 60 04 0B 0C, still wipes the init
 * command and resets; in dual bank the old app survives and boots. */
static void test_hash_mismatch(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(8000, DS_BL_ENTER_FIRST_BOOT);
    rig *r = rig_new(&c);
    size_t len = 2 * PAGE;
    uint8_t *img = make_image(len, 21);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 2, dat);
    send_init(r, dat, n);
    fail_addr = ds_bl_bank1_start(r->bl) + 4096 + 128;
    ds_flash_set_hook(r->fl, fail_hook, NULL);
    assert_int_equal(send_fw(r, img, len, 0), DK_RES_EXT_ERROR | DK_EXT_VERIFICATION_FAILED << 8);
    assert_int_equal(r->rsp_len, 4);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x04, 0x0B, 0x0C }), 4);
    assert_int_equal(r->flags, DS_BL_RESET);
    ds_flash_set_hook(r->fl, NULL, NULL);
    ds_settings s = flash_settings(r, r->cfg.chip.settings);
    assert_int_equal(s.bank_1.bank_code, DS_BANK_INVALID);
    assert_int_equal(s.progress.command_size, 0);
    assert_int_equal(s.app_version, 0);
    rig_boot(r);
    assert_false(ds_bl_in_dfu(r->bl)); /* old app boots */
    assert_true(ds_bl_app_valid(r->bl));
    assert_int_equal(ds_bl_settings(r->bl)->bank_0.image_size, 8000);
    free(img);
    rig_free(r);
}

/* §6.8: the inactivity timer restarts only on command CREATE and data
 * EXECUTE; on expiry the chip resets. */
static void test_inactivity(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    assert_int_equal(ds_bl_deadline(r->bl), 120000);
    r->now = 100000;
    RIG_REQ(r, 0x09, 1);
    rq_select(r, 1);
    rq_crc(r);
    assert_int_equal(ds_bl_deadline(r->bl), 120000);
    size_t len = 2 * PAGE;
    uint8_t *img = make_image(len, 22);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    send_init(r, dat, n);
    assert_int_equal(ds_bl_deadline(r->bl), 220000);
    r->now = 150000;
    rq_select(r, 2);
    rq_create(r, 2, PAGE);
    rq_stream(r, img, PAGE);
    assert_int_equal(ds_bl_deadline(r->bl), 220000); /* data CREATE/WRITE: no */
    rq_execute(r);
    assert_int_equal(ds_bl_deadline(r->bl), 270000);
    assert_int_equal(ds_bl_tick(r->bl, 269999), 0);
    r->now = 270000;
    RIG_REQ(r, 0x09, 2);
    assert_int_equal(r->rsp_len, 0);
    assert_int_equal(r->flags, DS_BL_RESET);
    rig_boot(r);
    assert_true(ds_bl_in_dfu(r->bl)); /* no app: DFU again */
    assert_int_equal(ds_bl_deadline(r->bl), 390000);
    assert_int_equal(ds_bl_tick(r->bl, 390000), DS_BL_RESET);
    free(img);
    rig_free(r);

    ds_bl_config c = cfg_52832(0, DS_BL_ENTER_ALWAYS);
    c.inactivity_ms = 0;
    r = rig_new(&c);
    assert_int_equal(ds_bl_deadline(r->bl), UINT64_MAX);
    rig_free(r);
}

/* §6.2: the settings page layout and CRC; boot recovery from the backup. */
static void test_settings_layout_and_recovery(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(5000, DS_BL_ENTER_ALWAYS);
    c.app_version = 9;
    rig *r = rig_new(&c);
    const uint8_t *p = flash_at(r, c.chip.settings);
    dk_rd rd = dk_rd_make(p, DS_SETT_SIZE);
    uint32_t crc = dk_rd_le32(&rd);
    assert_int_equal(crc, dk_crc32(0, p + 4, 0x58)); /* bytes 0x04..0x5B */
    assert_int_equal(dk_rd_le32(&rd), 2);              /* settings_version */
    assert_int_equal(dk_rd_le32(&rd), 9);              /* app_version @0x08 */
    rd.pos = 0x18;
    assert_int_equal(dk_rd_le32(&rd), 5000); /* bank_0.image_size */
    rd.pos = 0x20;
    assert_int_equal(dk_rd_le32(&rd), DS_BANK_VALID_APP);
    assert_int_equal(p[0x2A1], DS_BV_CRC); /* boot_validation_app.type */
    rd.pos = 0x25C;
    assert_int_equal(dk_rd_le32(&rd), dk_crc32(0, p + 0x260, 3 * 65));

    /* page broken -> backup used and the page rewritten */
    uint8_t zero[4] = { 0 };
    ds_flash_write(r->fl, c.chip.settings + 0x18, zero, 4);
    assert_false(ds_sett_page_valid(p));
    rig_boot(r);
    assert_true(ds_sett_page_valid(p));
    assert_int_equal(ds_bl_settings(r->bl)->bank_0.image_size, 5000);
    assert_true(ds_bl_app_valid(r->bl));

    /* both broken -> zeroed settings, version 2; the app is no longer valid */
    ds_flash_write(r->fl, c.chip.settings + 0x18, zero, 4);
    ds_flash_write(r->fl, c.chip.mbr_params + 0x18, zero, 4);
    rig_boot(r);
    assert_int_equal(ds_bl_settings(r->bl)->settings_version, 2);
    assert_int_equal(ds_bl_settings(r->bl)->bank_0.bank_code, 0);
    assert_false(ds_bl_app_valid(r->bl));
    assert_true(ds_sett_backup_valid(flash_at(r, c.chip.mbr_params)));
    rig_free(r);
}

/* §6.2: when both copies are valid the backup's protected parts win (the
 * state of a cut between the page write and the backup write). */
static void test_settings_backup_wins(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(5000, DS_BL_ENTER_ALWAYS);
    rig *r = rig_new(&c);
    ds_settings s = flash_settings(r, c.chip.settings);
    s.app_version = 77;
    s.progress.command_size = 3;
    ds_sett_seal(&s);
    uint8_t img[DS_SETT_SIZE];
    ds_sett_encode(&s, img);
    ds_flash_erase_page(r->fl, c.chip.settings);
    ds_flash_write(r->fl, c.chip.settings, img, DS_SETT_SIZE);
    rig_boot(r);
    assert_int_equal(ds_bl_settings(r->bl)->app_version, 0);
    assert_int_equal(flash_settings(r, c.chip.settings).app_version, 0);
    rig_free(r);
}

/* §6.6 step 5: activation copies in 8-page steps and saves write_offset
 * after each; a cut in the middle resumes from the saved offset. */
static uint64_t cut_at;
static uint32_t wo_at_cut; /* write_offset in the settings page at the cut */
static ds_flash_verdict cut_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op)
{
    (void)is_erase, (void)addr, (void)len;
    if (op != cut_at)
        return DS_FLASH_GO;
    rig *r = ctx;
    wo_at_cut = flash_settings(r, r->cfg.chip.settings).write_offset;
    return DS_FLASH_CUT;
}

static void test_activation_resumes(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(12 * PAGE, DS_BL_ENTER_FIRST_BOOT);
    rig *r = rig_new(&c);
    size_t len = 20 * PAGE;
    uint8_t *img = make_image(len, 23);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 2, dat);
    send_init(r, dat, n);
    assert_int_equal(send_fw(r, img, len, 0), DK_RES_SUCCESS);
    /* activation of step 1: 8 erases + 1 write + settings (4); cut in step 2 */
    cut_at = ds_flash_ops(r->fl) + 13 + 5;
    wo_at_cut = 0;
    ds_flash_set_hook(r->fl, cut_hook, r);
    uint64_t erases = ds_flash_erases(r->fl);
    rig_boot(r);
    assert_int_equal(wo_at_cut, 8 * PAGE); /* step 1 saved before the cut */
    /* resumed, not restarted: step 1 (8) + cut step (5) + steps 2-3 (8 + 4)
     * + settings page/backup writes (2 per step, 3 steps, + final 2) */
    assert_int_equal(ds_flash_erases(r->fl) - erases, 8 + 5 + 8 + 4 + 2 * 3 + 2);
    ds_flash_set_hook(r->fl, NULL, NULL);
    assert_true(ds_bl_app_valid(r->bl));
    assert_memory_equal(flash_at(r, 0x1000), img, len);
    assert_int_equal(ds_bl_settings(r->bl)->bank_1.bank_code, DS_BANK_INVALID);
    assert_int_equal(ds_flash_violations(r->fl), 0);
    free(img);
    rig_free(r);
}

/* §6.5 / §2.3: an odd-length data write is dropped by fstorage: no error,
 * offset unchanged, a PRN on it reads offset 0 / CRC 0 (inference). */
static void test_unaligned_write_dropped(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    size_t len = PAGE;
    uint8_t *img = make_image(len, 24);
    uint8_t dat[512];
    size_t n = make_dat(img, len, 1, dat);
    send_init(r, dat, n);
    rq_select(r, 2);
    rq_create(r, 2, PAGE);
    rq_prn(r, 1);
    rq_write(r, img, 63);
    expect_rsp(r, 0x03, DK_RES_SUCCESS);
    assert_int_equal(r->m.rsp.crc.offset, 0);
    assert_int_equal(r->m.rsp.crc.crc, 0);
    rq_crc(r);
    assert_int_equal(r->m.rsp.crc.offset, 0);
    free(img);
    rig_free(r);
}

/* --show-settings prints every field of both pages. */
static void test_print_settings(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(5000, DS_BL_ENTER_ALWAYS);
    rig *r = rig_new(&c);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ds_bl_print_settings(r->bl, out);
    fclose(out);
    const char *want[] = { "settings page @ 0x0007f000: valid",
                           "backup page @ 0x0007e000: valid",
                           "  settings_version: 0x00000002 (2)",
                           "  bank_0.image_size: 5000",
                           "  bank_0.bank_code: 0x01 VALID_APP",
                           "  bank_1.bank_code: 0x00 INVALID",
                           "  write_offset:",
                           "  progress.firmware_image_offset_last:",
                           "  enter_buttonless_dfu:",
                           "  init_command: 0 bytes",
                           "  boot_validation_app: VALIDATE_CRC",
                           "  boot_validation_softdevice: NO_VALIDATION",
                           "  peer_data:",
                           "  adv_name:",
                           "bank1_start: 0x00003000",
                           "app valid: yes" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i]))
            fail_msg("missing \"%s\" in:\n%s", want[i], buf);
    free(buf);
    rig_free(r);
}

/* --dump-hex: loading the file onto an erased chip gives the same flash. */
static void test_dump_hex_roundtrip(void **state)
{
    (void)state;
    ds_bl_config c = cfg_52832(5000, DS_BL_ENTER_ALWAYS);
    rig *r = rig_new(&c);
    char dir[256], path[300];
    assert_int_equal(dk_test_tmpdir(dir, sizeof dir), 0);
    dk_test_path(path, sizeof path, dir, "chip.hex");
    assert_int_equal(ds_bl_dump_hex(r->bl, path, NULL), DK_OK);
    size_t len;
    char *text = (char *)dk_test_read_file(path, &len);
    assert_non_null(text);
    uint8_t *mem = malloc(c.chip.flash_size);
    memset(mem, 0xFF, c.chip.flash_size);
    uint32_t upper = 0;
    bool eof = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned cnt, addr, type;
        assert_int_equal(sscanf(line, ":%2x%4x%2x", &cnt, &addr, &type), 3);
        uint8_t sum = (uint8_t)(cnt + (addr >> 8) + addr + type), b[256];
        for (unsigned i = 0; i <= cnt; i++) {
            unsigned v;
            assert_int_equal(sscanf(line + 9 + 2 * i, "%2x", &v), 1);
            b[i] = (uint8_t)v;
            sum = (uint8_t)(sum + v);
        }
        assert_int_equal(sum, 0);
        if (type == 4)
            upper = (uint32_t)(b[0] << 8 | b[1]) << 16;
        else if (type == 0)
            memcpy(mem + upper + addr, b, cnt);
        else if (type == 1)
            eof = true;
    }
    assert_true(eof);
    assert_memory_equal(mem, ds_flash_mem(r->fl), c.chip.flash_size);
    free(mem);
    free(text);
    dk_test_rmtree(dir);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dual_bank_update),
        cmocka_unit_test(test_no_app_writes_in_place),
        cmocka_unit_test(test_single_bank_invalidates_app),
        cmocka_unit_test(test_insufficient_space),
        cmocka_unit_test(test_settings_written_when_sdk_does),
        cmocka_unit_test(test_reset_recovery),
        cmocka_unit_test(test_resume_without_reset),
        cmocka_unit_test(test_data_create),
        cmocka_unit_test(test_command_create_resets),
        cmocka_unit_test(test_execute_rules),
        cmocka_unit_test(test_hash_mismatch),
        cmocka_unit_test(test_inactivity),
        cmocka_unit_test(test_settings_layout_and_recovery),
        cmocka_unit_test(test_settings_backup_wins),
        cmocka_unit_test(test_activation_resumes),
        cmocka_unit_test(test_unaligned_write_dropped),
        cmocka_unit_test(test_print_settings),
        cmocka_unit_test(test_dump_hex_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
