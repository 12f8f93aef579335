/* test_bl_validate.c - init packet prevalidation at command EXECUTE, in the
 * SDK's order with its result and extended error codes (protocol.md §6.7). */
#include "test_bl_util.h"

#include <unistd.h>

static char dir[256], priv[300], pub[300], other[300];

static int setup(void **state)
{
    (void)state;
    if (dk_test_tmpdir(dir, sizeof dir))
        return -1;
    dk_test_path(priv, sizeof priv, dir, "priv.pem");
    dk_test_path(pub, sizeof pub, dir, "pub.pem");
    dk_test_path(other, sizeof other, dir, "other.pem");
    if (dk_ecdsa_keygen_pem(priv, pub, NULL) || dk_ecdsa_keygen_pem(other, NULL, NULL))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dk_test_rmtree(dir);
    return 0;
}

static uint8_t img[1000];

#define EXTC(e) (DK_RES_EXT_ERROR | (DK_EXT_##e) << 8)

/* A signing bootloader (the SDK example: signature required). */
static rig *signed_rig(uint32_t app_version, uint32_t sd_end)
{
    ds_bl_config c;
    ds_bl_config_default(&c, "nrf52832");
    c.pubkey_pem = pub;
    c.enter = DS_BL_ENTER_ALWAYS;
    c.app_version = app_version;
    c.app_size = app_version ? 4096 : 0;
    c.sd_end = sd_end;
    c.sd_fwid = 0x00B7;
    return rig_new(&c);
}

static int exec_pkt(rig *r, const dk_init_cmd *c, const char *key)
{
    uint8_t dat[512];
    size_t n = pkt_make(c, key, dat, sizeof dat);
    return send_init(r, dat, n);
}

/* Send raw .dat bytes and return the EXECUTE code. */
static int exec_raw(rig *r, const uint8_t *dat, size_t n)
{
    return send_init(r, dat, n);
}

/* §6.7 step 1: signature missing 0x08, wrong type 0x0B, length != 64 0x0A,
 * bad 0x05; a good one passes. */
static void test_signature(void **state)
{
    (void)state;
    rig *r = signed_rig(0, 0);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    assert_int_equal(exec_pkt(r, &c, NULL), EXTC(SIGNATURE_MISSING));
    assert_int_equal(exec_pkt(r, &c, other), DK_RES_INVALID_OBJECT);
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);

    /* signature type and length, edited on a signed packet */
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_init = p.has_op_code = p.is_signed = true;
    p.op_code = 1;
    p.init = c;
    uint8_t ib[DK_INITPKT_MAX], dat[512];
    size_t ilen = dk_initpkt_encode_init(&c, ib, sizeof ib);
    assert_int_equal(dk_ecdsa_sign_pem(priv, ib, ilen, p.signature, NULL), DK_OK);
    p.signature_len = 64;
    p.signature_type = DK_SIG_ED25519;
    size_t n = dk_initpkt_encode(&p, dat, sizeof dat);
    assert_int_equal(exec_raw(r, dat, n), EXTC(WRONG_SIGNATURE_TYPE));
    p.signature_type = DK_SIG_ECDSA_P256_SHA256;
    p.signature_len = 63;
    n = dk_initpkt_encode(&p, dat, sizeof dat);
    assert_int_equal(exec_raw(r, dat, n), DK_RES_OPERATION_FAILED);
    /* signature first: an unsigned packet with a bad type still says 0x08 */
    c.type = 9;
    assert_int_equal(exec_pkt(r, &c, NULL), EXTC(SIGNATURE_MISSING));
    rig_free(r);

    /* no key configured: a required signature cannot verify -> 0x05 */
    ds_bl_config cfg;
    ds_bl_config_default(&cfg, "nrf52832");
    r = rig_new(&cfg);
    init_default(&c, img, sizeof img);
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_INVALID_OBJECT);
    rig_free(r);
}

/* §6.7 step 1: allow_unsigned skips the check for APP; BL still needs it. */
static void test_allow_unsigned(void **state)
{
    (void)state;
    rig *r = rig_new(NULL); /* allow_unsigned */
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    assert_int_equal(exec_pkt(r, &c, NULL), DK_RES_SUCCESS);
    /* a bad signature is not even looked at */
    assert_int_equal(exec_pkt(r, &c, other), DK_RES_SUCCESS);
    c.type = DK_FW_BOOTLOADER;
    c.app_size = 0;
    c.bl_size = sizeof img;
    c.fw_version = 2;
    assert_int_equal(exec_pkt(r, &c, NULL), EXTC(SIGNATURE_MISSING));
    rig_free(r);
}

/* §6.7 step 2: type (EXT 0x04), then hash type (EXT 0x09). */
static void test_type_and_hash(void **state)
{
    (void)state;
    rig *r = signed_rig(0, 0);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    c.has_type = false;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(INIT_COMMAND_INVALID));
    c.has_type = true;
    c.type = 7;
    c.hash_type = DK_HASH_SHA128; /* also wrong, but type is checked first */
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(INIT_COMMAND_INVALID));
    c.type = DK_FW_APPLICATION;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(WRONG_HASH_TYPE));
    c.has_hw_version = false; /* hash type comes before hw_version */
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(WRONG_HASH_TYPE));
    rig_free(r);
}

/* §6.7 step 3: hw_version missing EXT 0x04, wrong EXT 0x06; a debug packet
 * on a debug bootloader skips the version checks. */
static void test_hw_version(void **state)
{
    (void)state;
    rig *r = signed_rig(0, 0);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    c.has_hw_version = false;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(INIT_COMMAND_INVALID));
    c.has_hw_version = true;
    c.hw_version = 51;
    c.sd_req[0] = 0xFFFE; /* also wrong, checked later */
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(HW_VERSION_FAILURE));
    c.has_is_debug = c.is_debug = true;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(HW_VERSION_FAILURE));
    rig_free(r);
    ds_bl_config cfg;
    ds_bl_config_default(&cfg, "nrf52832");
    cfg.pubkey_pem = pub;
    cfg.debug_bootloader = true;
    r = rig_new(&cfg);
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    rig_free(r);
}

/* §6.7 step 3, sd_req: MBR only -> empty or starting with 0 ("none"); with a
 * SoftDevice the list must name it. */
static void test_sd_req(void **state)
{
    (void)state;
    rig *r = signed_rig(0, 0);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    c.sd_req[0] = 0xFFFE; /* nrfutil's default: "any" does not count */
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(SD_VERSION_FAILURE));
    c.sd_req[0] = 0x00B7;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(SD_VERSION_FAILURE));
    c.sd_req_count = 0;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    c.sd_req_count = 1;
    c.sd_req[0] = 0;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    /* no SD + downgrade prevention: fw_version must be there, and this
     * shows as an sd_req failure (it is checked inside that rule) */
    c.has_fw_version = false;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(SD_VERSION_FAILURE));
    rig_free(r);

    r = signed_rig(0, 0x27000); /* SoftDevice FWID 0xB7 */
    init_default(&c, img, sizeof img);
    c.sd_req[0] = 0x00B7;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    assert_int_equal(ds_bl_bank1_start(r->bl), 0x27000); /* §7: bank 0 after the SD */
    c.sd_req[0] = 0x00AF;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(SD_VERSION_FAILURE));
    c.sd_req_count = 0;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(SD_VERSION_FAILURE));
    c.sd_req_count = 2;
    c.sd_req[0] = 0x00AF;
    c.sd_req[1] = 0x00B7;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    /* sd_req[0] == 0 for an app: one entry is fine, more must name the SD */
    c.sd_req_count = 1;
    c.sd_req[0] = 0;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    c.sd_req_count = 2;
    c.sd_req[1] = 0x00AF;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(SD_VERSION_FAILURE));
    c.sd_req[1] = 0x00B7;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    rig_free(r);
}

/* §6.7 step 3, fw_version: downgrade EXT 0x05, same version accepted, absent
 * but required EXT 0x04; bootloader must go up. */
static void test_fw_version(void **state)
{
    (void)state;
    rig *r = signed_rig(5, 0x27000);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    c.sd_req[0] = 0x00B7;
    c.fw_version = 4;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(FW_VERSION_FAILURE));
    c.fw_version = 5;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    c.has_fw_version = false;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(INIT_COMMAND_INVALID));
    c.has_fw_version = true;
    c.type = DK_FW_BOOTLOADER;
    c.app_size = 0;
    c.bl_size = sizeof img;
    c.fw_version = 1; /* installed bootloader_version 1 */
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(FW_VERSION_FAILURE));
    c.fw_version = 2;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    rig_free(r);
}

/* §6.7 step 4: zero size EXT 0x04, bootloader too big 0x04, no room 0x04. */
static void test_size_and_room(void **state)
{
    (void)state;
    rig *r = signed_rig(0, 0);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    c.app_size = 0;
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(INIT_COMMAND_INVALID));
    c.app_size = 0x80000;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_INSUFFICIENT_RESOURCES);
    c.type = DK_FW_BOOTLOADER;
    c.app_size = 0;
    c.fw_version = 2;
    c.bl_size = 0x6000 + 4;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_INSUFFICIENT_RESOURCES);
    c.bl_size = 0x6000;
    assert_int_equal(exec_pkt(r, &c, priv), DK_RES_SUCCESS);
    rig_free(r);
}

/* §6.5 / §3.1: an undecodable packet, or one with both command and
 * signed_command, is INVALID_OBJECT; command CREATE > 512 is 0x04, 0 is 0x03. */
static void test_undecodable(void **state)
{
    (void)state;
    rig *r = rig_new(NULL);
    const uint8_t junk[] = { 0x0A, 0x50, 0x08, 0x01 };
    assert_int_equal(exec_raw(r, junk, sizeof junk), DK_RES_INVALID_OBJECT);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_init = p.has_op_code = p.is_signed = p.has_plain = true;
    p.op_code = 1;
    p.init = c;
    p.signature_len = 64;
    uint8_t dat[512];
    size_t n = dk_initpkt_encode(&p, dat, sizeof dat);
    assert_int_equal(exec_raw(r, dat, n), DK_RES_INVALID_OBJECT);
    rq_create(r, 1, 513);
    expect_rsp(r, 0x01, DK_RES_INSUFFICIENT_RESOURCES);
    rq_create(r, 1, 0);
    expect_rsp(r, 0x01, DK_RES_INVALID_PARAMETER);
    rig_free(r);
}

/* §6.5: a failed validation resets progress: SELECT command shows 0/0 and
 * nothing reached flash. */
static void test_failure_resets_progress(void **state)
{
    (void)state;
    rig *r = signed_rig(0, 0);
    dk_init_cmd c;
    init_default(&c, img, sizeof img);
    c.hw_version = 1;
    uint64_t ops = ds_flash_ops(r->fl);
    assert_int_equal(exec_pkt(r, &c, priv), EXTC(HW_VERSION_FAILURE));
    assert_int_equal(ds_flash_ops(r->fl), ops);
    rq_select(r, 1);
    assert_int_equal(r->m.rsp.select.offset, 0);
    assert_int_equal(r->m.rsp.select.crc, 0);
    assert_false(ds_bl_init_cmd_valid(r->bl));
    rig_free(r);
}

int main(void)
{
    dk_test_fill(img, sizeof img, 5);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_allow_unsigned),
        cmocka_unit_test(test_type_and_hash),
        cmocka_unit_test(test_hw_version),
        cmocka_unit_test(test_sd_req),
        cmocka_unit_test(test_fw_version),
        cmocka_unit_test(test_size_and_room),
        cmocka_unit_test(test_undecodable),
        cmocka_unit_test(test_failure_resets_progress),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
