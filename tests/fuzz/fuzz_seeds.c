/* fuzz_seeds.c - writes the generated part of the fuzz targets' seed
 * corpora, one directory per target, all built with libdfukit's own
 * encoders: wire/ (SLIP streams of a DFU session with every request and
 * response kind and framing anomalies, init packets), pipeline/ (sessions
 * in each input mode and printer, one matching the package the target
 * checks against), capfile/ (pcapng in both byte orders, a two-file
 * capture), sim/ (step scripts of whole updates with resets and power
 * cuts), host/ (target behaviours), opts/ (fault specs, dfusim command
 * lines), scenario/ (scenario JSON) and ctl/ (what a --control client
 * sends).  tests/fuzz/seeds.sh adds the
 * captures, logs, scenarios and packages of the repository.
 *
 *   fuzz_seeds DIR      (the committed corpus is tests/fuzz/corpus/)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dfukit/capfile.h"
#include "dfukit/crc.h"
#include "dfukit/initpkt.h"
#include "dfukit/legacy.h"
#include "dfukit/msg.h"
#include "dfukit/scenario.h"
#include "dfukit/slip.h"
#include "fuzz_pkgimg.h"

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

static const char *top; /* the corpus directory */

/* Write sub/name under the corpus directory (sub created as needed). */
static void put(const char *sub, const char *name, const uint8_t *b, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", top, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", top, sub, name);
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

static void wire_seeds(void)
{
    const char *dir = "wire";
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

    /* the pipeline: the merged stream through each printer */
    static stream p;
    for (int fl = 0; fl < 4; fl++) {
        char name[32];
        p.n = 0;
        p.b[p.n++] = (uint8_t)(fl | 0x40); /* chunks of 75 */
        memcpy(p.b + p.n, s.b, s.n);
        p.n += s.n;
        snprintf(name, sizeof name, "session-%s%s", fl & 1 ? "json" : "text", fl & 2 ? "-v" : "");
        put("pipeline", name, p.b, p.n);
    }
    p.n = 0;
    p.b[p.n++] = 0x01 | 0x20;
    memcpy(p.b + p.n, e.b, e.n);
    p.n += e.n;
    put("pipeline", "errors-json", p.b, p.n);
    p.n = 0;
    p.b[p.n++] = 0x00;
    memcpy(p.b + p.n, a.b, a.n);
    p.n += a.n;
    put("pipeline", "anomalies-text", p.b, p.n);
}

/* ---- pipeline: a session that matches the package fuzz_pipeline checks ---- */

static void pkg_session(stream *s, const dk_image *im, bool with_rsp)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_COMMAND;
    frame(s, &m);
    if (with_rsp) {
        m = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_SUCCESS);
        m.rsp.select.max_size = 512;
        frame(s, &m);
    }
    send_object(s, DK_OBJ_COMMAND, im->dat, im->dat_len, 0, 0);
    m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_DATA;
    frame(s, &m);
    m = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_SUCCESS);
    m.rsp.select.max_size = 4096;
    frame(s, &m);
    send_object(s, DK_OBJ_DATA, im->bin, im->bin_len, 0, 0);
}

/* mode 1/3 records: [ctl = dir][len][bytes], one per frame or message */
static void records(stream *out, const stream *in, bool framed)
{
    size_t i = 0, start = 0;
    while (i < in->n) {
        if (in->b[i++] != DK_SLIP_END)
            continue;
        /* a frame in->b[start..i) */
        uint8_t raw[512];
        size_t n = 0;
        for (size_t k = start; k < i - 1 && n < sizeof raw; k++) {
            uint8_t c = in->b[k];
            if (c == DK_SLIP_ESC && k + 1 < i - 1)
                c = in->b[++k] == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
            raw[n++] = c;
        }
        const uint8_t *p = framed ? in->b + start : raw;
        size_t len = framed ? i - start : n;
        if (len <= 255 && len > 0) {
            out->b[out->n++] = (uint8_t)((raw[0] == 0x60 ? DK_DIR_TARGET : DK_DIR_HOST) | 4);
            out->b[out->n++] = (uint8_t)len;
            memcpy(out->b + out->n, p, len);
            out->n += len;
        }
        start = i;
    }
}

static void pipeline_seeds(const dk_pkg *pkg)
{
    static stream s, p;
    s.n = 0;
    req(&s, DK_OP_PROTOCOL_VERSION);
    dk_msg m = dk_msg_response(DK_OP_PROTOCOL_VERSION, DK_RES_SUCCESS);
    m.rsp.proto.version = 1;
    frame(&s, &m);
    pkg_session(&s, &pkg->img[0], true);
    const struct { const char *name; uint8_t flags; } v[] = {
        { "pkg-text", 0x04 | 0x60 }, { "pkg-json", 0x05 | 0x60 }, { "pkg-json-v", 0x07 },
    };
    for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
        p.n = 0;
        p.b[p.n++] = v[k].flags;
        memcpy(p.b + p.n, s.b, s.n);
        p.n += s.n;
        put("pipeline", v[k].name, p.b, p.n);
    }
    p.n = 0;
    p.b[p.n++] = 0x08 | 0x05; /* messages, JSON, package */
    records(&p, &s, false);
    put("pipeline", "pkg-messages-json", p.b, p.n);
    p.n = 0;
    p.b[p.n++] = 0x18 | 0x04 | 0x20; /* framed per line, split positions, package */
    records(&p, &s, true);
    put("pipeline", "pkg-lines-text", p.b, p.n);
}

/* ---- capfile: pcapng in both byte orders, a two-file capture ---- */

static void put32(stream *s, uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++)
        s->b[s->n++] = (uint8_t)(be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void put16(stream *s, uint16_t v, bool be)
{
    s->b[s->n++] = (uint8_t)(be ? v >> 8 : v);
    s->b[s->n++] = (uint8_t)(be ? v : v >> 8);
}

/* An enhanced packet block of one RTAC serial packet of n bytes. */
static void ng_packet(stream *s, bool be, uint64_t ts, uint8_t ev, const uint8_t *d, size_t n)
{
    size_t cap = DK_CAP_HDR_LEN + n, pad = (4 - cap % 4) % 4;
    uint32_t total = (uint32_t)(28 + cap + pad + 4);
    put32(s, 6, be);
    put32(s, total, be);
    put32(s, 0, be); /* interface 0 */
    put32(s, (uint32_t)(ts >> 32), be);
    put32(s, (uint32_t)ts, be);
    put32(s, (uint32_t)cap, be);
    put32(s, (uint32_t)cap, be);
    uint64_t sec = ts / 1000000, us = ts % 1000000;
    put32(s, (uint32_t)sec, true);
    put32(s, (uint32_t)us, true);
    s->b[s->n++] = ev;
    s->b[s->n++] = DK_LINE_DTR | DK_LINE_RTS;
    s->b[s->n++] = 0;
    s->b[s->n++] = 0;
    memcpy(s->b + s->n, d, n);
    s->n += n;
    for (size_t i = 0; i < pad; i++)
        s->b[s->n++] = 0;
    put32(s, total, be);
}

static void pcapng(const char *name, bool be, const stream *host, const stream *target)
{
    static stream s;
    s.n = 0;
    put32(&s, 0x0A0D0D0A, be); /* section header */
    put32(&s, 28, be);
    put32(&s, 0x1A2B3C4D, be);
    put16(&s, 1, be);
    put16(&s, 0, be);
    put32(&s, 0xFFFFFFFF, be);
    put32(&s, 0xFFFFFFFF, be);
    put32(&s, 28, be);
    put32(&s, 1, be); /* interface: RTAC serial, if_tsresol 6 */
    put32(&s, 32, be);
    put16(&s, DK_LINKTYPE, be);
    put16(&s, 0, be);
    put32(&s, 0, be);
    put16(&s, 9, be);
    put16(&s, 1, be);
    s.b[s.n++] = 6;
    s.b[s.n++] = 0;
    s.b[s.n++] = 0;
    s.b[s.n++] = 0;
    put16(&s, 0, be);
    put16(&s, 0, be);
    put32(&s, 32, be);
    uint64_t ts = 1700000000000000ull;
    for (size_t off = 0; off < host->n; off += 200, ts += 2000)
        ng_packet(&s, be, ts, DK_CAP_EV_TX, host->b + off, host->n - off < 200 ? host->n - off : 200);
    ng_packet(&s, be, ts + 500, DK_CAP_EV_RX, target->b, target->n);
    put("capfile", name, s.b, s.n);
}

static void capfile_seeds(const dk_pkg *pkg)
{
    static stream h, t, two;
    h.n = t.n = two.n = 0;
    /* the host's side of an update, and the target's answers */
    req(&h, DK_OP_PING);
    dk_msg m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_COMMAND;
    frame(&h, &m);
    m = dk_msg_response(DK_OP_PING, DK_RES_SUCCESS);
    frame(&t, &m);
    m = dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_SUCCESS);
    m.rsp.select.max_size = 512;
    frame(&t, &m);
    m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = DK_OBJ_COMMAND;
    m.req.create.size = (uint32_t)pkg->img[0].dat_len;
    frame(&h, &m);
    ok(&t, DK_OP_OBJECT_CREATE);
    m = dk_msg_request(DK_OP_OBJECT_WRITE);
    m.req.write.data = pkg->img[0].dat;
    m.req.write.len = pkg->img[0].dat_len;
    frame(&h, &m);
    req(&h, DK_OP_CRC_GET);
    m = dk_msg_response(DK_OP_CRC_GET, DK_RES_SUCCESS);
    m.rsp.crc.offset = (uint32_t)pkg->img[0].dat_len;
    m.rsp.crc.crc = dk_crc32(0, pkg->img[0].dat, pkg->img[0].dat_len);
    frame(&t, &m);
    req(&h, DK_OP_OBJECT_EXECUTE);
    ok(&t, DK_OP_OBJECT_EXECUTE);
    pcapng("session-le.pcapng", false, &h, &t);
    pcapng("session-be.pcapng", true, &h, &t);
    /* two files: two bytes of the host file's length, then both */
    two.b[two.n++] = (uint8_t)h.n;
    two.b[two.n++] = (uint8_t)(h.n >> 8);
    memcpy(two.b + two.n, h.b, h.n);
    two.n += h.n;
    memcpy(two.b + two.n, t.b, t.n);
    two.n += t.n;
    put("capfile", "two-files.raw", two.b, two.n);
}

/* ---- sim: step scripts (fuzz_sim.c) ---- */

static void step_msg(stream *s, const dk_msg *m)
{
    uint8_t raw[DK_MTU_USB];
    size_t n = dk_msg_encode(m, raw, sizeof raw);
    if (n == 0 || n > 255 || s->n + n + 2 > sizeof s->b) {
        fprintf(stderr, "fuzz_seeds: sim script too long\n");
        exit(1);
    }
    s->b[s->n++] = 0x00;
    s->b[s->n++] = (uint8_t)n;
    memcpy(s->b + s->n, raw, n);
    s->n += n;
}

static void step_req(stream *s, uint8_t op)
{
    dk_msg m = dk_msg_request(op);
    step_msg(s, &m);
}

static void sim_object(stream *s, uint8_t type, const uint8_t *d, size_t n, bool cut_midway)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = type;
    step_msg(s, &m);
    m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = type;
    m.req.create.size = (uint32_t)n;
    step_msg(s, &m);
    for (size_t off = 0; off < n; off += 64) {
        if (cut_midway && off == 128) {
            s->b[s->n++] = 0x05; /* a power cut at the next flash operation */
            s->b[s->n++] = 0;
        }
        m = dk_msg_request(DK_OP_OBJECT_WRITE);
        m.req.write.data = d + off;
        m.req.write.len = n - off < 64 ? n - off : 64;
        step_msg(s, &m);
    }
    step_req(s, DK_OP_CRC_GET);
    step_req(s, DK_OP_OBJECT_EXECUTE);
}

static void sim_update(stream *s, const dk_image *im, bool cut)
{
    dk_msg m = dk_msg_request(DK_OP_PING);
    m.req.ping.id = 1;
    step_msg(s, &m);
    m = dk_msg_request(DK_OP_RECEIPT_NOTIF_SET);
    step_msg(s, &m);
    step_req(s, DK_OP_MTU_GET);
    sim_object(s, DK_OBJ_COMMAND, im->dat, im->dat_len, false);
    sim_object(s, DK_OBJ_DATA, im->bin, im->bin_len, cut);
}

static void sim_seeds(const dk_pkg *pkg)
{
    static stream s;
    const dk_image *im = &pkg->img[0];
    const struct { const char *name; uint8_t a, b; bool cut, again; } v[] = {
        { "update", 0x00, 0x00, false, false },
        { "update-sd-app-always", 0x46, 0x00, false, false },
        { "update-save-cut", 0x08, 0x00, true, true },
        { "update-single-bank-52832", 0x11, 0x00, false, false },
        { "update-usb-always", 0x40, 0x04, false, true },
        { "update-signed-only", 0x20, 0x00, false, false },
    };
    for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
        s.n = 0;
        s.b[s.n++] = v[k].a;
        s.b[s.n++] = v[k].b;
        step_req(&s, DK_OP_PROTOCOL_VERSION);
        step_req(&s, DK_OP_HARDWARE_VERSION);
        dk_msg m = dk_msg_request(DK_OP_FIRMWARE_VERSION);
        m.req.fw.image = 1;
        step_msg(&s, &m);
        sim_update(&s, im, v[k].cut);
        if (v[k].again) { /* reset, then the whole update once more */
            s.b[s.n++] = 0x02;
            sim_update(&s, im, false);
        }
        s.b[s.n++] = 0x04; /* a tick past the inactivity timeout */
        s.b[s.n++] = 0x40;
        s.b[s.n++] = 0x00;
        s.b[s.n++] = 0x07; /* buttonless DFU request, then a reset */
        s.b[s.n++] = 0x02;
        put("sim", v[k].name, s.b, s.n);
    }
}

/* ---- host: target behaviours (fuzz_host.c) ---- */

static void host_seeds(void)
{
    const struct { const char *name; const char *b; size_t n; } v[] = {
        /* a, bin_len u16 be, dat_len u8 [, second image], then recv controls */
        { "truthful", "\x00\x01\x2c\x64", 4 },
        { "two-images-prn", "\x25\x0b\xb8\x80\x00\x10\x20", 7 },
        { "restart-small-objects", "\x38\x04\x00\x40", 4 },
        { "timeouts", "\x00\x02\x00\x50\x06\x00\x00\x06\x06\x00\x06\x00\x00\x00\x06", 15 },
        { "corrupt-select", "\x00\x01\x00\x30\x00\x00\x00\x05\x07\x01", 10 },
        { "garbage-frames", "\x02\x00\x80\x20\x07\x05\x60\x09\x01\x01\x00\x07\x03\x60\x04\x01", 16 },
        { "port-gone", "\x00\x00\x10\x10\x00\x00\xff", 7 },
    };
    for (size_t k = 0; k < sizeof v / sizeof *v; k++)
        put("host", v[k].name, (const uint8_t *)v[k].b, v[k].n);
}

/* ---- opts: fault specs and dfusim command lines (fuzz_opts.c) ---- */

static void opts_seeds(void)
{
    static const char faults[] =
        "\x00"
        "after-bytes=4096:reset\0op=write#3+:drop-response\0flash-op=7:power-cut=500\0"
        "after-op=EXECUTE#2:corrupt-byte=1\0after-ms=0x100:stall\0op=0x04:lose-request\0"
        "op=select:delay-response=1500\0after-op=crc:pause\0"
        "\x00\x04\x01\x04\x02\x00\x03\x10\x04\x01\x05\x00\x00\x08\x01\x08";
    put("opts", "faults", (const uint8_t *)faults, sizeof faults - 1);
    static const char bad[] = "\x00op=#:reset\0flash-op=0:reset\0after-ms=1:delay-response\0"
                              "op=write:lose-request=1\0x:y\0";
    put("opts", "faults-bad", (const uint8_t *)bad, sizeof bad - 1);
    static const char argv1[] =
        "\x01--chip\0nrf52832\0--mtu\0131\0--sd-fwid\0000x0101\0--sd-end\0000x26000\0"
        "--app-size\0004096\0--app-version\0003\0--fault\0op=execute#2:reset\0"
        "--save-progress-in-flash\0--enter-dfu\0first-boot\0--inactivity-ms\0005000\0-vv";
    put("opts", "argv-device", (const uint8_t *)argv1, sizeof argv1 - 1);
    static const char argv2[] = "\x01--realtime\0--baud=9600\0--clock\0real\0--single-bank\0"
                                "--allow-unsigned\0-q\0--hw-version\00052";
    put("opts", "argv-line", (const uint8_t *)argv2, sizeof argv2 - 1);
    static const char argv3[] = "\x01--scenario\0missing.json\0--time-scale\0000.5\0--help";
    put("opts", "argv-scenario", (const uint8_t *)argv3, sizeof argv3 - 1);
    static const char argv4[] = "\x01--mtu\00022\0--bogus\0--sd-end\0000x4000\0extra";
    put("opts", "argv-bad", (const uint8_t *)argv4, sizeof argv4 - 1);
    static const char argv5[] =
        "\x01--protocol\0legacy\0--chip\0nrf52832\0--app-size\0004096\0--dual-bank\0--sd-fwid\0"
        "none\0--fault\0op=start#1:reset\0--fault\0after-op=data#3+:drop-response\0"
        "--legacy-seq-fix\0--dfu-timeout-ms\0005000\0--no-touch\0--double-reset\0-v";
    put("opts", "argv-legacy", (const uint8_t *)argv5, sizeof argv5 - 1);
    static const char argv6[] = "\x01--protocol=legacy\0--chip\0nrf52833\0--app-size\0-1\0--mtu\00064";
    put("opts", "argv-legacy-bad", (const uint8_t *)argv6, sizeof argv6 - 1);
}

/* ---- the --control socket's lines (fuzz_ctl.c): piece-size byte, then
 * what a client sends ---- */

static void ctl_put(const char *name, uint8_t pieces, const char *text, size_t n)
{
    uint8_t b[2048];
    if (n + 1 > sizeof b) {
        fprintf(stderr, "fuzz_seeds: ctl seed too long\n");
        exit(1);
    }
    b[0] = pieces;
    memcpy(b + 1, text, n);
    put("ctl", name, b, n + 1);
}

#define CTL(name, pieces, text) ctl_put(name, pieces, text, sizeof text - 1)

static void ctl_seeds(void)
{
    CTL("every-command", 0,
        "reset\npower-cut\npower-cut 250\npower-cut 0x64\nenter-dfu\nstall\nresume\nresume drop\n"
        "show-settings\ndump-hex\ndump-hex /tmp/a b.hex\nstatus\n");
    CTL("crlf-pieces", 7, "status\r\n\r\n  reset \t\r\npower-cut\t100\r\nstat");
    CTL("bad-arguments", 3,
        "power-cut abc\npower-cut 12x\npower-cut -1\npower-cut 3600001\npower-cut 1 2\nreset now\n"
        "resume dropped\nstatus all\nRESET\nexplode\n");
    CTL("control-bytes", 1, "res\0et\nsta\rtus\n\x1b[A\nreset\x7f\n\tstall\t\n");
    CTL("unended", 0, "reset\nstatus");
    char big[1400];
    memset(big, 'x', 600);
    memcpy(big + 590, "reset\r\nstatus\n", 15);
    ctl_put("long-line", 0, big, 605);
    ctl_put("long-line-pieces", 42, big, 605);
    memset(big, 'a', 511);
    memcpy(big + 511, "\r\n", 2);
    memset(big + 513, 'b', 512);
    memcpy(big + 1025, "\nstall\n", 7);
    ctl_put("line-max", 0, big, 1032);
}

/* ---- legacy: the bootloader core's steps (fuzz_lgsim.c), the master's
 * image and line (fuzz_lghost.c) ---- */

/* A well-formed packet step: op 1 | seq << 3, kind index, length u16 BE, body */
static void lg_step(stream *s, uint8_t seq, uint8_t kind_ix, const uint8_t *b, size_t n)
{
    s->b[s->n++] = (uint8_t)(1 | seq << 3);
    s->b[s->n++] = kind_ix;
    s->b[s->n++] = (uint8_t)(n >> 8);
    s->b[s->n++] = (uint8_t)n;
    memcpy(s->b + s->n, b, n);
    s->n += n;
}

static void lg_update(stream *s, uint8_t *seq, const uint8_t *app, size_t n, bool cut)
{
    uint8_t start[DK_LG_START_LEN], body[DK_LG_INIT_MAX];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, (uint32_t)n, start);
    lg_step(s, *seq, 2, start + 4, DK_LG_START_LEN - 4);
    *seq = (*seq + 1) & 7;
    dk_lg_init in;
    memset(&in, 0, sizeof in);
    in.device_type = DK_LG_DEVICE_TYPE;
    in.device_rev = 52840;
    in.app_version = 0xFFFFFFFFu;
    in.n_sd_req = 1;
    in.sd_req[0] = DK_LG_SD_ANY;
    in.version = 5;
    in.crc16 = dk_crc16_ccitt(DK_CRC16_INIT, app, n);
    size_t k = dk_lg_init_encode(&in, body, sizeof body);
    body[k] = body[k + 1] = 0;
    lg_step(s, *seq, 1, body, k + 2);
    *seq = (*seq + 1) & 7;
    for (size_t off = 0; off < n; off += DK_LG_DATA_MAX) {
        lg_step(s, *seq, 3, app + off, n - off < DK_LG_DATA_MAX ? n - off : DK_LG_DATA_MAX);
        *seq = (*seq + 1) & 7;
        if (cut && off == DK_LG_DATA_MAX) {
            s->b[s->n++] = 6; /* a power cut at the next flash operation */
            s->b[s->n++] = 0;
        }
    }
    lg_step(s, *seq, 4, NULL, 0);
    *seq = (*seq + 1) & 7;
}

static void legacy_seeds(void)
{
    static uint8_t app[2048];
    for (size_t i = 0; i < sizeof app; i++)
        app[i] = (uint8_t)(i * 7 + 1);
    static stream s;
    uint8_t seq = 1;
    s.n = 0;
    s.b[s.n++] = 0; /* nrf52840, S140, no app: DFU mode */
    lg_update(&s, &seq, app, sizeof app, false);
    put("lgsim", "complete", s.b, s.n);
    s.n = 0;
    seq = 1;
    s.b[s.n++] = 0x02 | 0x20; /* dual bank, --legacy-seq-fix */
    lg_update(&s, &seq, app, 1000, true);
    s.b[s.n++] = 3; /* power on, then a new host run from #1 */
    seq = 1;
    lg_update(&s, &seq, app, sizeof app, false);
    put("lgsim", "dual-cut-rerun", s.b, s.n);
    s.n = 0;
    seq = 1;
    s.b[s.n++] = 0x01 | 0x08; /* nrf52832 with an app: the 1 s window, then a touch */
    s.b[s.n++] = 4;
    s.b[s.n++] = 0;
    s.b[s.n++] = 200;
    s.b[s.n++] = 5;
    lg_update(&s, &seq, app, 512, false);
    put("lgsim", "touch-832", s.b, s.n);

    /* fuzz_lghost: a, image size u16 BE, then line controls (none: the truth) */
    static const struct { const char *name; const char *b; size_t n; } v[] = {
        { "honest-2k", "\x00\x08\x00", 3 },
        { "dual-seqfix-5k", "\x60\x14\x00", 3 },
        { "sd-odd", "\x05\x01\x23", 3 },
        { "lost-acks", "\x00\x04\x00\x00\x04\x00\x00\x04\x04\x00\x05\x01\x08", 13 },
        { "reset-midway", "\x00\x10\x00\x00\x00\x00\x00\x00\x00\x0f\x00\x00\x07", 13 },
    };
    for (size_t k = 0; k < sizeof v / sizeof *v; k++)
        put("lghost", v[k].name, (const uint8_t *)v[k].b, v[k].n);
}

/* ---- scenario JSON (fuzz_scenario.c) ---- */

static void scenario_seeds(const dk_pkg *pkg)
{
    static dk_scenario sc;
    dk_scen_init(&sc);
    char *j = dk_scen_to_json(&sc);
    if (!j)
        exit(1);
    put("scenario", "default.json", (const uint8_t *)j, strlen(j));
    free(j);
    dk_scen_init(&sc);
    snprintf(sc.device.chip, sizeof sc.device.chip, "nrf52832");
    sc.device.softdevice = true;
    sc.device.sd_fwid = 0x0101;
    sc.device.sd_end = 0x26000;
    sc.device.app = true;
    sc.device.app_size = 0x4000;
    sc.device.app_version = 2;
    snprintf(sc.device.enter_dfu, sizeof sc.device.enter_dfu, "always");
    sc.start.init = true;
    sc.start.init_size = (uint32_t)pkg->img[0].dat_len;
    sc.start.init_crc = dk_crc32(0, pkg->img[0].dat, pkg->img[0].dat_len);
    sc.start.init_bytes_known = true;
    memcpy(sc.start.init_bytes, pkg->img[0].dat, pkg->img[0].dat_len);
    sc.start.data = true;
    sc.start.data_offset = 4096;
    sc.start.data_crc = 0x12345678;
    sc.line.realtime = true;
    sc.line.baud = 115200;
    dk_scen_fault(&sc, "op=0x04#2:delay-response=1500");
    dk_scen_fault(&sc, "flash-op=3:power-cut");
    dk_scen_note(&sc, "a note with \"quotes\" and a \\ backslash");
    dk_scen_host_arg(&sc, "--no-check");
    j = dk_scen_to_json(&sc);
    if (!j)
        exit(1);
    put("scenario", "full.json", (const uint8_t *)j, strlen(j));
    free(j);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    top = argv[1];
    static dk_pkg pkg;
    if (fz_pkg_app(&pkg) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot make the package's init packet\n");
        return 1;
    }
    wire_seeds();
    pipeline_seeds(&pkg);
    capfile_seeds(&pkg);
    sim_seeds(&pkg);
    host_seeds();
    opts_seeds();
    scenario_seeds(&pkg);
    legacy_seeds();
    ctl_seeds();
    dk_pkg_free(&pkg);
    return 0;
}
