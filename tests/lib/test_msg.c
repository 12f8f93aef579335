/* test_msg.c - every request and response of protocol.md §2.2 parsed from
 * wire bytes written out by hand and encoded back; serial quirks (§2.3, §11);
 * truncated, over-long, unknown and empty frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dfukit/msg.h"

#define B(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Parse, expect st, and when the frame is well formed check it encodes back
 * to the same bytes. */
static dk_msg parse_ok(const uint8_t *p, size_t n, dk_msg_status st)
{
    dk_msg m;
    assert_int_equal(dk_msg_parse(p, n, &m), st);
    assert_ptr_equal(m.raw, p);
    assert_int_equal(m.raw_len, n);
    if (st == DK_MSG_OK) {
        uint8_t out[64];
        size_t k = dk_msg_encode(&m, out, sizeof out);
        assert_int_equal(k, n);
        assert_memory_equal(out, p, n);
        assert_int_equal(dk_msg_encode(&m, out, n - 1), 0); /* cap too small */
        assert_int_equal(m.extra, 0);
    }
    return m;
}

static void test_requests(void **state)
{
    (void)state;
    dk_msg m;
    m = parse_ok(B(0x00), DK_MSG_OK);
    assert_false(m.is_response);
    assert_int_equal(m.op, DK_OP_PROTOCOL_VERSION);

    m = parse_ok(B(0x01, 0x01, 0x8C, 0x00, 0x00, 0x00), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_CREATE);
    assert_int_equal(m.req.create.type, DK_OBJ_COMMAND);
    assert_int_equal(m.req.create.size, 140);
    m = parse_ok(B(0x01, 0x02, 0x00, 0x10, 0x00, 0x00), DK_MSG_OK);
    assert_int_equal(m.req.create.type, DK_OBJ_DATA);
    assert_int_equal(m.req.create.size, 4096);

    /* §2.3: the PRN target is a u16 on serial */
    m = parse_ok(B(0x02, 0x02, 0x01), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_RECEIPT_NOTIF_SET);
    assert_int_equal(m.req.prn.target, 0x0102);

    m = parse_ok(B(0x03), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_CRC_GET);
    m = parse_ok(B(0x04), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_EXECUTE);
    m = parse_ok(B(0x05), DK_MSG_OK); /* nrfutil's READ_ERROR, named, no payload */
    assert_int_equal(m.op, DK_OP_READ_ERROR);

    m = parse_ok(B(0x06, 0x02), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_SELECT);
    assert_int_equal(m.req.select.type, DK_OBJ_DATA);

    m = parse_ok(B(0x07), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_MTU_GET);

    static const uint8_t wr[] = { 0x08, 0xAA, 0xC0, 0xDB, 0x00 };
    m = parse_ok(wr, sizeof wr, DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_WRITE);
    assert_int_equal(m.req.write.len, 4);
    assert_ptr_equal(m.req.write.data, wr + 1); /* points into the frame */
    m = parse_ok(B(0x08), DK_MSG_OK); /* a write of nothing */
    assert_int_equal(m.req.write.len, 0);

    m = parse_ok(B(0x09, 0x07), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_PING);
    assert_int_equal(m.req.ping.id, 7);
    m = parse_ok(B(0x0A), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_HARDWARE_VERSION);
    m = parse_ok(B(0x0B, 0x01), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_FIRMWARE_VERSION);
    assert_int_equal(m.req.fw.image, 1);
    m = parse_ok(B(0x0C), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_ABORT);
}

static void test_responses(void **state)
{
    (void)state;
    dk_msg m;
    m = parse_ok(B(0x60, 0x00, 0x01, 0x01), DK_MSG_OK);
    assert_true(m.is_response);
    assert_int_equal(m.op, DK_OP_PROTOCOL_VERSION);
    assert_int_equal(m.result, DK_RES_SUCCESS);
    assert_int_equal(m.rsp.proto.version, 1);

    /* §11.3: CREATE answers nothing beyond the result */
    m = parse_ok(B(0x60, 0x01, 0x01), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_CREATE);
    assert_int_equal(m.result, DK_RES_SUCCESS);
    m = parse_ok(B(0x60, 0x02, 0x01), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_RECEIPT_NOTIF_SET);

    m = parse_ok(B(0x60, 0x03, 0x01, 0x8C, 0x00, 0x00, 0x00, 0x75, 0x9E, 0x2B, 0x0D), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_CRC_GET);
    assert_int_equal(m.rsp.crc.offset, 140);
    assert_int_equal(m.rsp.crc.crc, 0x0D2B9E75); /* §4 example */

    m = parse_ok(B(0x60, 0x04, 0x01), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_EXECUTE);

    /* §2.2, §11.3: SELECT answers max_size, offset, crc in this order */
    m = parse_ok(B(0x60, 0x06, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0xEF, 0xBE,
                   0xAD, 0xDE), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_SELECT);
    assert_int_equal(m.rsp.select.max_size, 4096);
    assert_int_equal(m.rsp.select.offset, 0x200);
    assert_int_equal(m.rsp.select.crc, 0xDEADBEEF);

    m = parse_ok(B(0x60, 0x07, 0x01, 0x83, 0x00), DK_MSG_OK);
    assert_int_equal(m.rsp.mtu.mtu, DK_MTU_UART);
    m = parse_ok(B(0x60, 0x07, 0x01, 0x03, 0x08), DK_MSG_OK);
    assert_int_equal(m.rsp.mtu.mtu, DK_MTU_USB);

    m = parse_ok(B(0x60, 0x09, 0x01, 0x07), DK_MSG_OK);
    assert_int_equal(m.rsp.ping.id, 7);

    m = parse_ok(B(0x60, 0x0A, 0x01, 0x32, 0x28, 0x05, 0x00, 0x41, 0x41, 0x42, 0x30, 0x00, 0x00,
                   0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00), DK_MSG_OK);
    assert_int_equal(m.rsp.hw.part, 0x52832);
    assert_int_equal(m.rsp.hw.variant, 0x30424141);
    assert_int_equal(m.rsp.hw.rom_size, 0x80000);
    assert_int_equal(m.rsp.hw.ram_size, 0x10000);
    assert_int_equal(m.rsp.hw.rom_page_size, 4096);

    m = parse_ok(B(0x60, 0x0B, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0x00, 0x34,
                   0x12, 0x00, 0x00), DK_MSG_OK);
    assert_int_equal(m.rsp.fw.type, 1); /* APP in FIRMWARE_VERSION's own numbering */
    assert_int_equal(m.rsp.fw.version, 2);
    assert_int_equal(m.rsp.fw.addr, 0x26000);
    assert_int_equal(m.rsp.fw.len, 0x1234);

    /* an unsupported opcode's answer, §2.2 "other" */
    m = parse_ok(B(0x60, 0x05, 0x02), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_READ_ERROR);
    assert_int_equal(m.result, DK_RES_OP_CODE_NOT_SUPPORTED);
}

/* §2.3: a PRN notification is a CRC_GET response, even for a failed write */
static void test_prn_notification(void **state)
{
    (void)state;
    dk_msg m = parse_ok(B(0x60, 0x03, 0x01, 0x00, 0x04, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
                        DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_CRC_GET);
    assert_int_equal(m.rsp.crc.offset, 1024);
    assert_int_equal(m.rsp.crc.crc, 0x12345678);
    m = parse_ok(B(0x60, 0x03, 0x03), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_CRC_GET);
    assert_int_equal(m.result, DK_RES_INVALID_PARAMETER);
    assert_int_equal(m.rsp.crc.offset, 0);
    assert_false(dk_msg_expects_response(DK_OP_OBJECT_WRITE));
    assert_false(dk_msg_expects_response(DK_OP_ABORT));
    assert_true(dk_msg_expects_response(DK_OP_CRC_GET));
    assert_true(dk_msg_expects_response(DK_OP_OBJECT_CREATE));
}

static void test_errors_and_ext(void **state)
{
    (void)state;
    dk_msg m;
    /* error results carry no payload */
    m = parse_ok(B(0x60, 0x01, 0x04), DK_MSG_OK);
    assert_int_equal(m.result, DK_RES_INSUFFICIENT_RESOURCES);
    assert_false(m.has_ext);
    m = parse_ok(B(0x60, 0x06, 0x05), DK_MSG_OK);
    assert_int_equal(m.result, DK_RES_INVALID_OBJECT);
    assert_int_equal(m.rsp.select.max_size, 0);

    /* §2.1: EXT_ERROR is followed by one code byte */
    m = parse_ok(B(0x60, 0x04, 0x0B, 0x07), DK_MSG_OK);
    assert_int_equal(m.op, DK_OP_OBJECT_EXECUTE);
    assert_int_equal(m.result, DK_RES_EXT_ERROR);
    assert_true(m.has_ext);
    assert_int_equal(m.ext, DK_EXT_SD_VERSION_FAILURE);
    m = parse_ok(B(0x60, 0x04, 0x0B, 0x0E), DK_MSG_OK); /* unknown code: kept as is */
    assert_int_equal(m.ext, 0x0E);

    m = parse_ok(B(0x60, 0x04, 0x0B), DK_MSG_TRUNCATED);
    assert_int_equal(m.result, DK_RES_EXT_ERROR);
    assert_false(m.has_ext);
    m = parse_ok(B(0x60, 0x04, 0x0B, 0x0C, 0x00), DK_MSG_OVERLONG);
    assert_true(m.has_ext);
    assert_int_equal(m.ext, 0x0C);
    assert_int_equal(m.extra, 1);

    /* encoding: the payload only with SUCCESS, the ext byte only with EXT_ERROR */
    uint8_t out[32];
    dk_msg e = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_OPERATION_NOT_PERMITTED);
    e.rsp.select.max_size = 4096;
    e.ext = 0x05;
    assert_int_equal(dk_msg_encode(&e, out, sizeof out), 3);
    assert_memory_equal(out, "\x60\x06\x08", 3);
    e = dk_msg_response(DK_OP_OBJECT_CREATE, DK_RES_EXT_ERROR);
    e.ext = DK_EXT_INIT_COMMAND_INVALID;
    assert_int_equal(dk_msg_encode(&e, out, sizeof out), 4);
    assert_memory_equal(out, "\x60\x01\x0B\x04", 4);
}

static void test_constructors(void **state)
{
    (void)state;
    uint8_t out[32];
    dk_msg m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = DK_OBJ_DATA;
    m.req.create.size = 0x01020304;
    assert_int_equal(dk_msg_encode(&m, out, sizeof out), 6);
    assert_memory_equal(out, "\x01\x02\x04\x03\x02\x01", 6);

    m = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_SUCCESS);
    m.rsp.select.max_size = 4096;
    m.rsp.select.offset = 8;
    m.rsp.select.crc = 0xA1B2C3D4;
    assert_int_equal(dk_msg_encode(&m, out, sizeof out), 15);
    assert_memory_equal(out, "\x60\x06\x01\x00\x10\x00\x00\x08\x00\x00\x00\xD4\xC3\xB2\xA1", 15);

    m = dk_msg_request(DK_OP_RECEIPT_NOTIF_SET);
    m.req.prn.target = 0x1234;
    assert_int_equal(dk_msg_encode(&m, out, sizeof out), 3);
    assert_memory_equal(out, "\x02\x34\x12", 3);

    uint8_t data[64];
    memset(data, 0x5A, sizeof data);
    m = dk_msg_request(DK_OP_OBJECT_WRITE);
    m.req.write.data = data;
    m.req.write.len = sizeof data;
    assert_int_equal(dk_msg_encode(&m, out, sizeof out), 0); /* 65 > 32 */
    uint8_t big[65];
    assert_int_equal(dk_msg_encode(&m, big, sizeof big), 65);
    assert_int_equal(big[0], DK_OP_OBJECT_WRITE);
    assert_memory_equal(big + 1, data, 64);
}

static void test_truncated(void **state)
{
    (void)state;
    dk_msg m;
    m = parse_ok(B(0x01, 0x01, 0x8C, 0x00), DK_MSG_TRUNCATED);
    assert_int_equal(m.op, DK_OP_OBJECT_CREATE);
    assert_int_equal(m.req.create.type, 0); /* fields zero */
    assert_int_equal(m.req.create.size, 0);
    parse_ok(B(0x02, 0x05), DK_MSG_TRUNCATED);
    parse_ok(B(0x06), DK_MSG_TRUNCATED);
    parse_ok(B(0x09), DK_MSG_TRUNCATED);
    parse_ok(B(0x0B), DK_MSG_TRUNCATED);

    m = parse_ok(B(0x60), DK_MSG_TRUNCATED);
    assert_true(m.is_response);
    m = parse_ok(B(0x60, 0x06), DK_MSG_TRUNCATED);
    assert_int_equal(m.op, DK_OP_OBJECT_SELECT);
    m = parse_ok(B(0x60, 0x06, 0x01, 0x00, 0x10, 0x00, 0x00, 0x08), DK_MSG_TRUNCATED);
    assert_int_equal(m.result, DK_RES_SUCCESS); /* kept */
    assert_int_equal(m.rsp.select.max_size, 0); /* payload zeroed */
    assert_int_equal(m.rsp.select.offset, 0);
    parse_ok(B(0x60, 0x03, 0x01, 1, 2, 3, 4, 5, 6, 7), DK_MSG_TRUNCATED);
    parse_ok(B(0x60, 0x07, 0x01, 0x83), DK_MSG_TRUNCATED);
    parse_ok(B(0x60, 0x00, 0x01), DK_MSG_TRUNCATED);

    /* every cut of every well-formed response is reported, never read past:
     * the frames are copied to exact-size heap buffers for the sanitizers */
    static const uint8_t hw[] = { 0x60, 0x0A, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
    for (size_t n = 0; n < sizeof hw; n++) {
        uint8_t *p = test_malloc(n ? n : 1);
        memcpy(p, hw, n);
        dk_msg_status st = dk_msg_parse(p, n, &m);
        assert_int_equal(st, n == 0 ? DK_MSG_EMPTY : DK_MSG_TRUNCATED);
        test_free(p);
    }
}

static void test_overlong_unknown_empty(void **state)
{
    (void)state;
    dk_msg m;
    m = parse_ok(B(0x09, 0x07, 0x08), DK_MSG_OVERLONG);
    assert_int_equal(m.req.ping.id, 7); /* fields valid */
    assert_int_equal(m.extra, 1);
    m = parse_ok(B(0x60, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), DK_MSG_OVERLONG);
    assert_int_equal(m.extra, 8); /* a CREATE answer with SDK-struct fields */
    m = parse_ok(B(0x04, 0x00), DK_MSG_OVERLONG);
    assert_int_equal(m.extra, 1);
    m = parse_ok(B(0x60, 0x02, 0x03, 0xFF, 0xFF), DK_MSG_OVERLONG);
    assert_int_equal(m.result, DK_RES_INVALID_PARAMETER);
    assert_int_equal(m.extra, 2);

    parse_ok(B(0x0D), DK_MSG_UNKNOWN_OP);
    m = parse_ok(B(0xFF, 0x01, 0x02), DK_MSG_UNKNOWN_OP);
    assert_int_equal(m.op, 0xFF);
    m = parse_ok(B(0x60, 0x0D, 0x01), DK_MSG_UNKNOWN_OP);
    assert_true(m.is_response);
    assert_int_equal(m.op, 0x0D);
    assert_int_equal(m.result, DK_RES_SUCCESS);
    /* §2.2: the answer to an unknown request keeps its result code */
    m = parse_ok(B(0x60, 0x42, 0x02), DK_MSG_UNKNOWN_OP);
    assert_int_equal(m.result, DK_RES_OP_CODE_NOT_SUPPORTED);
    char desc[80];
    dk_msg_describe(&m, desc, sizeof desc);
    assert_string_equal(desc, "unknown(0x42) -> OP_CODE_NOT_SUPPORTED");
    m = parse_ok(B(0x60, 0x42, 0x0B, 0x03, 0x77), DK_MSG_UNKNOWN_OP);
    assert_true(m.has_ext);
    assert_int_equal(m.ext, 0x03);
    assert_int_equal(m.extra, 1);
    parse_ok(B(0x60, 0x60, 0x01), DK_MSG_UNKNOWN_OP);

    assert_int_equal(dk_msg_parse((const uint8_t *)"", 0, &m), DK_MSG_EMPTY);
    assert_int_equal(m.raw_len, 0);
}

static void test_payload_len(void **state)
{
    (void)state;
    /* §2.2 table, requests */
    assert_int_equal(dk_msg_payload_len(false, 0x00), 0);
    assert_int_equal(dk_msg_payload_len(false, 0x01), 5);
    assert_int_equal(dk_msg_payload_len(false, 0x02), 2);
    assert_int_equal(dk_msg_payload_len(false, 0x03), 0);
    assert_int_equal(dk_msg_payload_len(false, 0x06), 1);
    assert_int_equal(dk_msg_payload_len(false, 0x08), -2);
    assert_int_equal(dk_msg_payload_len(false, 0x09), 1);
    assert_int_equal(dk_msg_payload_len(false, 0x0B), 1);
    assert_int_equal(dk_msg_payload_len(false, 0x0C), 0);
    /* success responses */
    assert_int_equal(dk_msg_payload_len(true, 0x00), 1);
    assert_int_equal(dk_msg_payload_len(true, 0x01), 0);
    assert_int_equal(dk_msg_payload_len(true, 0x03), 8);
    assert_int_equal(dk_msg_payload_len(true, 0x06), 12);
    assert_int_equal(dk_msg_payload_len(true, 0x07), 2);
    assert_int_equal(dk_msg_payload_len(true, 0x09), 1);
    assert_int_equal(dk_msg_payload_len(true, 0x0A), 20);
    assert_int_equal(dk_msg_payload_len(true, 0x0B), 13);
    /* unknown */
    assert_int_equal(dk_msg_payload_len(false, 0x0D), -1);
    assert_int_equal(dk_msg_payload_len(true, 0x60), -1);
    assert_int_equal(dk_msg_payload_len(false, 0x60), -1);
}

static void test_describe(void **state)
{
    (void)state;
    char out[160];
    dk_msg m;
    dk_msg_parse(B(0x06, 0x02), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "OBJECT_SELECT type=DATA");
    dk_msg_parse(B(0x60, 0x06, 0x01, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "OBJECT_SELECT -> SUCCESS max_size=4096 offset=0 crc=0x00000000");
    dk_msg_parse(B(0x60, 0x01, 0x0B, 0x07), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "OBJECT_CREATE -> EXT_ERROR SD_VERSION_FAILURE");
    dk_msg_parse(B(0x60, 0x01, 0x0B, 0x2A), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "OBJECT_CREATE -> EXT_ERROR unknown(0x2a)");
    dk_msg_parse(B(0x60, 0x03, 0x08), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "CRC_GET -> OPERATION_NOT_PERMITTED");
    dk_msg_parse(B(0x01, 0x07, 0x10, 0, 0, 0), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "OBJECT_CREATE type=unknown(0x07) size=16");
    dk_msg_parse(B(0x0D), &m);
    dk_msg_describe(&m, out, sizeof out);
    assert_string_equal(out, "unknown(0x0d)");
    /* a short buffer is cut, never overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    dk_msg_parse(B(0x06, 0x02), &m);
    size_t n = dk_msg_describe(&m, tiny, 5);
    assert_true(n >= 4);
    assert_string_equal(tiny, "OBJE");
    assert_int_equal(tiny[5], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_prn_notification),
        cmocka_unit_test(test_errors_and_ext),
        cmocka_unit_test(test_constructors),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_overlong_unknown_empty),
        cmocka_unit_test(test_payload_len),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
