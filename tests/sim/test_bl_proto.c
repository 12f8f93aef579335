/* test_bl_proto.c - the bootloader core's answers per opcode (protocol.md
 * §2.2, §2.3, §4, §6.1), driven with encoded requests. */
#include "test_bl_util.h"

/* §2.2 0x09: PING echoes its id. */
static void test_ping_echo(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    RIG_REQ(r, 0x09, 0x7A);
    assert_int_equal(r->rsp_len, 4);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x09, 0x01, 0x7A }), 4);
    /* §2.2 note: payload lengths are not checked; a short PING still answers */
    RIG_REQ(r, 0x09);
    expect_rsp(r, 0x09, DK_RES_SUCCESS);
    /* an empty frame is ignored */
    rig_req(r, (const uint8_t *)"", 0);
    assert_int_equal(r->rsp_len, 0);
    rig_free(r);
}

/* §2.2 0x00: version 1; OP_CODE_NOT_SUPPORTED when the message is off. */
static void test_protocol_version(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    RIG_REQ(r, 0x00);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x00, 0x01, 0x01 }), 4);
    rig_free(r);
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52832");
    c.protocol_version_msg = false;
    c.fw_version_msg = false;
    r = rig_new(&c);
    RIG_REQ(r, 0x00);
    assert_int_equal(r->rsp_len, 3);
    expect_rsp(r, 0x00, DK_RES_OP_CODE_NOT_SUPPORTED);
    RIG_REQ(r, 0x0B, 0x00);
    expect_rsp(r, 0x0B, DK_RES_OP_CODE_NOT_SUPPORTED);
    rig_free(r);
}

/* §2.2 0x07 / §4: MTU 131 on UART, 2051 when configured like USB CDC. */
static void test_mtu(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    RIG_REQ(r, 0x07);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x07, 0x01, 131, 0 }), 5);
    rig_free(r);
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52840");
    c.mtu = DK_MTU_USB;
    r = rig_new(&c);
    RIG_REQ(r, 0x07);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x07, 0x01, 0x03, 0x08 }), 5);
    rig_free(r);
}

/* §2.2: 0x05 and unknown opcodes answer 60 op 02. */
static void test_unknown_opcodes(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    const uint8_t ops[] = { 0x05, 0x0D, 0x42, 0x60, 0xFF };
    for (size_t i = 0; i < sizeof ops; i++) {
        rig_req(r, &ops[i], 1);
        assert_int_equal(r->rsp_len, 3);
        assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, ops[i], 0x02 }), 3);
        assert_int_equal(r->flags, 0);
    }
    rig_free(r);
}

/* §2.2 0x0A: FICR values of the chip profile. */
static void test_hardware_version(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    RIG_REQ(r, 0x0A);
    expect_rsp(r, 0x0A, DK_RES_SUCCESS);
    assert_int_equal(r->rsp_len, 23);
    assert_int_equal(r->m.rsp.hw.part, 0x52832);
    assert_int_equal(r->m.rsp.hw.rom_size, 0x80000);
    assert_int_equal(r->m.rsp.hw.ram_size, 0x10000);
    assert_int_equal(r->m.rsp.hw.rom_page_size, 4096);
    rig_free(r);
}

/* §2.2 0x0B: image 0 = bootloader, 1 = SD if present, next = app if valid,
 * else type 0xFF with zeros. */
static void test_firmware_version(void **state)
{
    (void)state;
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52840");
    c.app_size = 10000;
    c.app_version = 7;
    c.bootloader_version = 3;
    c.enter = DS_BL_ENTER_ALWAYS;
    rig *r = rig_new(&c);
    RIG_REQ(r, 0x0B, 0);
    assert_int_equal(r->m.rsp.fw.type, 0x02);
    assert_int_equal(r->m.rsp.fw.version, 3);
    assert_int_equal(r->m.rsp.fw.addr, 0xF8000);
    assert_int_equal(r->m.rsp.fw.len, 0x6000);
    RIG_REQ(r, 0x0B, 1);
    assert_int_equal(r->m.rsp.fw.type, 0x01);
    assert_int_equal(r->m.rsp.fw.version, 7);
    assert_int_equal(r->m.rsp.fw.addr, 0x1000);
    assert_int_equal(r->m.rsp.fw.len, 10000);
    RIG_REQ(r, 0x0B, 2);
    expect_rsp(r, 0x0B, DK_RES_SUCCESS);
    assert_int_equal(r->m.rsp.fw.type, 0xFF);
    assert_int_equal(r->m.rsp.fw.addr, 0);
    rig_free(r);

    c.sd_end = 0x27000;
    c.sd_version = 7002000;
    r = rig_new(&c);
    RIG_REQ(r, 0x0B, 1);
    assert_int_equal(r->m.rsp.fw.type, 0x00);
    assert_int_equal(r->m.rsp.fw.version, 7002000);
    assert_int_equal(r->m.rsp.fw.addr, 0x1000);
    assert_int_equal(r->m.rsp.fw.len, 0x26000);
    RIG_REQ(r, 0x0B, 2);
    assert_int_equal(r->m.rsp.fw.type, 0x01);
    assert_int_equal(r->m.rsp.fw.addr, 0x27000); /* §7 bank 0 after the SD */
    rig_free(r);
}

/* §2.2 0x06 / §11.3: SELECT answers max_size, offset, crc in that order. */
static void test_select_field_order(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    uint8_t img[100];
    dk_test_fill(img, sizeof img, 3);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    uint8_t dat[512];
    size_t n = pkt_make(&c, NULL, dat, sizeof dat);
    rq_create(r, 1, (uint32_t)n);
    rq_write(r, dat, 10);
    rq_select(r, 1);
    uint32_t crc = dk_crc32(0, dat, 10);
    const uint8_t want[] = { 0x60, 0x06, 0x01, 0x00, 0x02, 0, 0, 10, 0, 0, 0, (uint8_t)crc,
                             (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24) };
    assert_int_equal(r->rsp_len, sizeof want);
    assert_memory_equal(r->rsp, want, sizeof want);
    rq_select(r, 2);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x06, 0x01, 0x00, 0x10, 0, 0 }), 7);
    rig_free(r);
}

/* §2.2 0x01 / §11.3: CREATE answers 60 01 01 and nothing more. */
static void test_create_empty_answer(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    rq_create(r, 1, 100);
    assert_int_equal(r->rsp_len, 3);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x01, 0x01 }), 3);
    rig_free(r);
}

/* §2.3: WRITE is silent; with PRN n every n-th write (command or data) gets
 * a CRC_GET-shaped answer; the counter restarts on PRN set, CREATE and each
 * notification. */
static void test_prn(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    uint8_t d[64];
    dk_test_fill(d, sizeof d, 9);
    rq_create(r, 1, 512);
    for (int i = 0; i < 3; i++) {
        rq_write(r, d, 16);
        assert_int_equal(r->rsp_len, 0);
    }
    rq_prn(r, 2);
    expect_rsp(r, 0x02, DK_RES_SUCCESS);
    rq_write(r, d, 16);
    assert_int_equal(r->rsp_len, 0);
    rq_write(r, d, 16);
    expect_rsp(r, 0x03, DK_RES_SUCCESS); /* relabelled as CRC_GET */
    assert_int_equal(r->rsp_len, 11);
    assert_int_equal(r->m.rsp.crc.offset, 80);
    uint32_t crc = 0;
    for (int i = 0; i < 5; i++)
        crc = dk_crc32(crc, d, 16);
    assert_int_equal(r->m.rsp.crc.crc, crc);
    /* counter reset by the notification: one more write is silent */
    rq_write(r, d, 16);
    assert_int_equal(r->rsp_len, 0);
    /* reset by CREATE */
    rq_create(r, 1, 512);
    rq_write(r, d, 16);
    assert_int_equal(r->rsp_len, 0);
    /* reset by PRN set */
    rq_prn(r, 2);
    rq_write(r, d, 16);
    assert_int_equal(r->rsp_len, 0);
    rq_write(r, d, 16);
    assert_int_equal(r->m.rsp.crc.offset, 48);
    /* PRN 0 turns notifications off */
    rq_prn(r, 0);
    for (int i = 0; i < 4; i++) {
        rq_write(r, d, 4);
        assert_int_equal(r->rsp_len, 0);
    }
    rig_free(r);
}

/* §2.3: a failed write is silent unless it falls on a PRN boundary, where it
 * shows as 60 03 <error>. */
static void test_prn_failed_write(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    uint8_t d[64] = { 0 };
    rq_create(r, 1, 20);
    rq_write(r, d, 32); /* beyond the object: INVALID_PARAMETER, silent */
    assert_int_equal(r->rsp_len, 0);
    rq_prn(r, 1);
    rq_write(r, d, 32);
    assert_int_equal(r->rsp_len, 3);
    assert_memory_equal(r->rsp, ((uint8_t[]){ 0x60, 0x03, 0x03 }), 3);
    rq_crc(r);
    assert_int_equal(r->m.rsp.crc.offset, 0);
    rig_free(r);
}

/* §2.2 0x0C / §6.8: ABORT answers nothing and resets; RAM progress is lost. */
static void test_abort(void **state)
{
    (void)state;
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52832");
    c.allow_unsigned = true;
    c.enter = DS_BL_ENTER_ALWAYS;
    rig *r = rig_new(&c);
    uint8_t d[16] = { 1, 2, 3 };
    rq_create(r, 1, 100);
    rq_write(r, d, 16);
    RIG_REQ(r, 0x0C);
    assert_int_equal(r->rsp_len, 0);
    assert_int_equal(r->flags, DS_BL_RESET);
    assert_false(ds_bl_in_dfu(r->bl));
    uint64_t ops = ds_flash_ops(r->fl);
    rig_boot(r);
    assert_int_equal(ds_flash_ops(r->fl), ops); /* settings unchanged: nothing written */
    rq_select(r, 1);
    assert_int_equal(r->m.rsp.select.offset, 0);
    rig_free(r);
}

/* §6.1: the current object type: COMMAND after boot, set by SELECT/CREATE,
 * INVALID after a bad type until a good SELECT or CREATE. */
static void test_current_object_type(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    assert_int_equal(ds_bl_current_obj(r->bl), DK_OBJ_COMMAND);
    rq_create(r, 1, 40);
    uint8_t d[8] = { 0 };
    rq_write(r, d, 8);
    rq_crc(r);
    expect_rsp(r, 0x03, DK_RES_SUCCESS);
    assert_int_equal(r->m.rsp.crc.offset, 8);
    rq_select(r, 7);
    expect_rsp(r, 0x06, DK_RES_INVALID_OBJECT);
    assert_int_equal(ds_bl_current_obj(r->bl), DK_OBJ_INVALID);
    rq_crc(r);
    expect_rsp(r, 0x03, DK_RES_INVALID_OBJECT);
    rq_execute(r);
    expect_rsp(r, 0x04, DK_RES_INVALID_OBJECT);
    rq_prn(r, 1);
    rq_write(r, d, 8);
    expect_rsp(r, 0x03, DK_RES_INVALID_OBJECT);
    rq_prn(r, 0);
    rq_select(r, 1);
    rq_crc(r);
    assert_int_equal(r->m.rsp.crc.offset, 8); /* command progress untouched */
    rq_create(r, 0, 40);
    expect_rsp(r, 0x01, DK_RES_INVALID_OBJECT);
    rq_crc(r);
    expect_rsp(r, 0x03, DK_RES_INVALID_OBJECT);
    rq_select(r, 2);
    rq_crc(r);
    expect_rsp(r, 0x03, DK_RES_SUCCESS);
    assert_int_equal(ds_bl_current_obj(r->bl), DK_OBJ_DATA);
    rig_free(r);
}

/* §6.9: with a valid app and the SDK's entry rule the "app" runs: silent. */
static void test_app_running_is_silent(void **state)
{
    (void)state;
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52832");
    c.app_size = 5000;
    rig *r = rig_new(&c);
    assert_false(ds_bl_in_dfu(r->bl));
    RIG_REQ(r, 0x09, 1);
    assert_int_equal(r->rsp_len, 0);
    assert_int_equal(ds_bl_deadline(r->bl), UINT64_MAX);
    /* a buttonless request (GPREGRET) enters DFU at the next reset only */
    ds_bl_request_dfu(r->bl);
    rig_boot(r);
    assert_true(ds_bl_in_dfu(r->bl));
    rig_boot(r);
    assert_false(ds_bl_in_dfu(r->bl));
    rig_free(r);
    c.enter = DS_BL_ENTER_FIRST_BOOT;
    r = rig_new(&c);
    assert_true(ds_bl_in_dfu(r->bl));
    rig_boot(r);
    assert_false(ds_bl_in_dfu(r->bl));
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_echo),
        cmocka_unit_test(test_protocol_version),
        cmocka_unit_test(test_mtu),
        cmocka_unit_test(test_unknown_opcodes),
        cmocka_unit_test(test_hardware_version),
        cmocka_unit_test(test_firmware_version),
        cmocka_unit_test(test_select_field_order),
        cmocka_unit_test(test_create_empty_answer),
        cmocka_unit_test(test_prn),
        cmocka_unit_test(test_prn_failed_write),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_current_object_type),
        cmocka_unit_test(test_app_running_is_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
