/* fuzz_seeds.c - writes fuzz_wire's seed corpus: SLIP streams of a DFU
 * session (every request and response kind, with framing anomalies) and init
 * packets, all built with libdfukit's own encoders.
 *
 *   fuzz_seeds DIR      (the committed corpus is tests/fuzz/corpus/)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/slip.h"

typedef struct {
    uint8_t b[16384];
    size_t n;
} stream;

static void frame(stream *s, const dk_msg *m)
{
    uint8_t raw[DK_MTU_USB];
    size_t n = dk_msg_encode(m, raw, sizeof raw);
    if (n == 0 || s->n + DK_SLIP_MAX_ENCODED(n) > sizeof s->b) {
        fprintf(stderr, "fuzz_seeds: stream too long\n");
        exit(1);
    }
    s->n += dk_slip_encode(raw, n, s->b + s->n);
}

static void req(stream *s, uint8_t op)
{
    dk_msg m = dk_msg_request(op);
    frame(s, &m);
}

static void ok(stream *s, uint8_t op)
{
    dk_msg m = dk_msg_response(op, DK_RES_SUCCESS);
    frame(s, &m);
}

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static size_t init_packet(bool is_signed, uint8_t *out, size_t cap)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    dk_init_cmd *c = &p.init;
    p.has_init = true;
    c->has_fw_version = true;
    c->fw_version = 1;
    c->has_hw_version = true;
    c->hw_version = 52;
    c->sd_req_count = 2;
    c->sd_req[0] = 0x0101;
    c->sd_req[1] = 0xFFFE;
    c->has_type = true;
    c->type = DK_FW_APPLICATION;
    c->has_app_size = true;
    c->app_size = 300;
    c->has_hash = true;
    c->hash_type = DK_HASH_SHA256;
    c->hash_len = 32;
    for (size_t i = 0; i < 32; i++)
        c->hash[i] = (uint8_t)(0xC0 + i); /* crosses SLIP's special bytes */
    c->has_is_debug = true;
    c->bv_count = 1;
    c->bv[0].type = DK_VAL_VALIDATE_GENERATED_CRC;
    c->bv[0].len = 4;
    memcpy(c->bv[0].bytes, "\x01\x02\x03\x04", 4);
    if (is_signed) {
        p.is_signed = true;
        p.signature_type = DK_SIG_ECDSA_P256_SHA256;
        p.signature_len = 64;
        for (size_t i = 0; i < 64; i++)
            p.signature[i] = (uint8_t)(i * 37 + 11);
    }
    size_t n = dk_initpkt_encode(&p, out, cap);
    if (n == 0) {
        fprintf(stderr, "fuzz_seeds: init packet does not encode\n");
        exit(1);
    }
    return n;
}

/* One object's worth of WRITEs (64 bytes each, as nrfutil sends on UART),
 * then CRC_GET and EXECUTE with their answers. */
static uint32_t send_object(stream *s, uint8_t type, const uint8_t *d, size_t n, uint32_t crc,
                            uint32_t base)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = type;
    m.req.create.size = (uint32_t)n;
    frame(s, &m);
    ok(s, DK_OP_OBJECT_CREATE);
    for (size_t off = 0; off < n; off += 64) {
        m = dk_msg_request(DK_OP_OBJECT_WRITE);
        m.req.write.data = d + off;
        m.req.write.len = n - off < 64 ? n - off : 64;
        frame(s, &m);
    }
    crc = dk_crc32(crc, d, n);
    req(s, DK_OP_CRC_GET);
    m = dk_msg_response(DK_OP_CRC_GET, DK_RES_SUCCESS);
    m.rsp.crc.offset = base + (uint32_t)n;
    m.rsp.crc.crc = crc;
    frame(s, &m);
    req(s, DK_OP_OBJECT_EXECUTE);
    ok(s, DK_OP_OBJECT_EXECUTE);
    return crc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    uint8_t dat[512];
    size_t dat_len = init_packet(false, dat, sizeof dat);
    put(dir, "init_plain.dat", dat, dat_len);
    uint8_t sdat[512];
    size_t sdat_len = init_packet(true, sdat, sizeof sdat);
    put(dir, "init_signed.dat", sdat, sdat_len);

    /* a whole update: handshake, init packet, two data objects */
    static stream s;
    dk_msg m;
    req(&s, DK_OP_PROTOCOL_VERSION);
    m = dk_msg_response(DK_OP_PROTOCOL_VERSION, DK_RES_SUCCESS);
    m.rsp.proto.version = 1;
    frame(&s, &m);
    m = dk_msg_request(DK_OP_PING);
    m.req.ping.id = 1;
    frame(&s, &m);
    m = dk_msg_response(DK_OP_PING, DK_RES_SUCCESS);
    m.rsp.ping.id = 1;
    frame(&s, &m);
    m = dk_msg_request(DK_OP_RECEIPT_NOTIF_SET);
    m.req.prn.target = 0;
    frame(&s, &m);
    ok(&s, DK_OP_RECEIPT_NOTIF_SET);
    req(&s, DK_OP_MTU_GET);
    m = dk_msg_response(DK_OP_MTU_GET, DK_RES_SUCCESS);
    m.rsp.mtu.mtu = DK_MTU_UART;
    frame(&s, &m);
    m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_COMMAND;
    frame(&s, &m);
    m = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_SUCCESS);
    m.rsp.select.max_size = 512;
    frame(&s, &m);
    send_object(&s, DK_OBJ_COMMAND, sdat, sdat_len, 0, 0);
    m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_DATA;
    frame(&s, &m);
    m = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_SUCCESS);
    m.rsp.select.max_size = 4096;
    frame(&s, &m);
    uint8_t img[300];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 13 + 0xBB);
    uint32_t crc = send_object(&s, DK_OBJ_DATA, img, 200, 0, 0);
    send_object(&s, DK_OBJ_DATA, img + 200, 100, crc, 200);
    put(dir, "session.bin", s.b, s.n);

    /* versions, errors, PRN notification, ABORT, unknown opcodes */
    static stream e;
    req(&e, DK_OP_HARDWARE_VERSION);
    m = dk_msg_response(DK_OP_HARDWARE_VERSION, DK_RES_SUCCESS);
    m.rsp.hw.part = 0x52832;
    m.rsp.hw.rom_size = 0x80000;
    m.rsp.hw.ram_size = 0x10000;
    m.rsp.hw.rom_page_size = 4096;
    frame(&e, &m);
    m = dk_msg_request(DK_OP_FIRMWARE_VERSION);
    m.req.fw.image = 1;
    frame(&e, &m);
    m = dk_msg_response(DK_OP_FIRMWARE_VERSION, DK_RES_SUCCESS);
    m.rsp.fw.type = 1;
    m.rsp.fw.version = 3;
    m.rsp.fw.addr = 0x26000;
    m.rsp.fw.len = 0x1000;
    frame(&e, &m);
    m = dk_msg_response(DK_OP_CRC_GET, DK_RES_SUCCESS); /* a PRN notification */
    m.rsp.crc.offset = 0x400;
    m.rsp.crc.crc = 0xC0DBC0DB;
    frame(&e, &m);
    m = dk_msg_response(DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR);
    m.ext = DK_EXT_SD_VERSION_FAILURE;
    frame(&e, &m);
    m = dk_msg_response(DK_OP_OBJECT_CREATE, DK_RES_INSUFFICIENT_RESOURCES);
    frame(&e, &m);
    req(&e, DK_OP_READ_ERROR);
    m = dk_msg_response(DK_OP_READ_ERROR, DK_RES_OP_CODE_NOT_SUPPORTED);
    frame(&e, &m);
    req(&e, 0x0D);
    req(&e, DK_OP_ABORT);
    put(dir, "versions_errors.bin", e.b, e.n);

    /* framing anomalies around good frames: an empty frame, a bad escape, a
     * frame over the UART limit, and a frame left open at the end */
    static stream a;
    a.b[a.n++] = DK_SLIP_END;
    req(&a, DK_OP_CRC_GET);
    req(&a, DK_OP_OBJECT_EXECUTE);
    a.b[a.n - 1] = DK_SLIP_ESC; /* EXECUTE's END becomes an ESC ... */
    a.b[a.n++] = 0x41;          /* ... followed by a byte that is no escape */
    a.b[a.n++] = DK_SLIP_END;
    m = dk_msg_request(DK_OP_OBJECT_WRITE);
    m.req.write.data = img;
    m.req.write.len = 200;
    frame(&a, &m);
    req(&a, DK_OP_PING);
    a.n--; /* drop PING's END */
    put(dir, "anomalies.bin", a.b, a.n);
    return 0;
}
