/* test_bl_util.h - a bootloader core on RAM flash driven with encoded
 * requests, plus init packet builders, for the sim core tests.  Header-only. */
#ifndef DFUKIT_TEST_BL_UTIL_H
#define DFUKIT_TEST_BL_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/tables.h"
#include "dk_test.h"
#include "dk_test_cmd.h"

typedef struct {
    ds_bl_config cfg;
    ds_flash *fl;
    ds_bl *bl;
    uint64_t now;
    uint8_t rsp[64];
    size_t rsp_len;
    int flags;
    int sticky; /* DS_BL_RESET/CUT seen: the chip is down until rig_boot */
    dk_msg m; /* parsed response (valid when rsp_len > 0) */
} rig;

static inline void rig_boot(rig *r)
{
    r->sticky = 0;
    ds_bl_boot(r->bl, r->now);
}

/* cfg NULL: nrf52832 defaults (smaller flash, faster tests), unsigned OK. */
static inline rig *rig_new(const ds_bl_config *cfg)
{
    rig *r = calloc(1, sizeof *r);
    if (cfg) {
        r->cfg = *cfg;
    } else {
        ds_bl_config_default(&r->cfg, "nrf52832");
        r->cfg.allow_unsigned = true;
    }
    r->fl = ds_flash_new(r->cfg.chip.flash_size, r->cfg.chip.page_size);
    r->bl = ds_bl_new(&r->cfg, r->fl);
    assert_non_null(r->bl);
    rig_boot(r);
    return r;
}

static inline void rig_free(rig *r)
{
    ds_bl_free(r->bl);
    ds_flash_free(r->fl);
    free(r);
}

/* Send one request; returns the flags.  A response is parsed into r->m. */
static inline int rig_req(rig *r, const uint8_t *req, size_t len)
{
    memset(&r->m, 0, sizeof r->m);
    if (r->sticky) { /* a chip that reset or lost power hears nothing */
        r->rsp_len = 0;
        return r->flags = r->sticky;
    }
    r->flags = ds_bl_handle(r->bl, req, len, r->now, r->rsp, sizeof r->rsp, &r->rsp_len);
    r->sticky = r->flags;
    if (r->rsp_len) {
        dk_msg_status st = dk_msg_parse(r->rsp, r->rsp_len, &r->m);
        assert_true(st == DK_MSG_OK || st == DK_MSG_UNKNOWN_OP);
    }
    return r->flags;
}

#define RIG_REQ(r, ...)                                                                  \
    do {                                                                                 \
        const uint8_t q_[] = { __VA_ARGS__ };                                            \
        rig_req((r), q_, sizeof q_);                                                     \
    } while (0)

/* Expect "60 op result" (+ext). */
static inline void expect_rsp(rig *r, uint8_t op, uint8_t result)
{
    assert_true(r->rsp_len >= 3);
    assert_int_equal(r->m.op, op);
    assert_int_equal(r->m.result, result);
}

static inline void expect_ext(rig *r, uint8_t op, uint8_t ext)
{
    expect_rsp(r, op, DK_RES_EXT_ERROR);
    assert_true(r->m.has_ext);
    assert_int_equal(r->m.ext, ext);
}

static inline void rq_select(rig *r, uint8_t type) { RIG_REQ(r, 0x06, type); }
static inline void rq_create(rig *r, uint8_t type, uint32_t size)
{
    RIG_REQ(r, 0x01, type, (uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16),
            (uint8_t)(size >> 24));
}
static inline void rq_prn(rig *r, uint16_t n) { RIG_REQ(r, 0x02, (uint8_t)n, (uint8_t)(n >> 8)); }
static inline void rq_execute(rig *r) { RIG_REQ(r, 0x04); }
static inline void rq_crc(rig *r) { RIG_REQ(r, 0x03); }
static inline void rq_write(rig *r, const uint8_t *d, size_t n)
{
    uint8_t q[1 + 1024];
    assert_true(n <= 1024);
    q[0] = 0x08;
    memcpy(q + 1, d, n);
    rig_req(r, q, n + 1);
}

/* Write an object in 64-byte chunks (nrfutil's UART size), as nrfutil does. */
static inline void rq_stream(rig *r, const uint8_t *d, size_t n)
{
    for (size_t o = 0; o < n; o += 64)
        rq_write(r, d + o, n - o < 64 ? n - o : 64);
}

/* ---- init packets ---- */

/* fw 1, hw 52, sd_req 0 (an MBR-only target), no is_debug. */
static inline void init_default(dk_init_cmd *c, const uint8_t *img, size_t len)
{
    dk_test_app_cmd(c, img, len, 1, 52, 0);
}

/* Encode a packet; key NULL -> plain command, else signed with the PEM. */
static inline size_t pkt_make(const dk_init_cmd *c, const char *key, uint8_t *out, size_t cap)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_init = true;
    p.init = *c;
    p.has_op_code = true;
    p.op_code = 1;
    if (key) {
        uint8_t ib[DK_INITPKT_MAX];
        size_t n = dk_initpkt_encode_init(c, ib, sizeof ib);
        assert_true(n > 0);
        assert_int_equal(dk_ecdsa_sign_pem(key, ib, n, p.signature, NULL), DK_OK);
        p.is_signed = true;
        p.signature_type = DK_SIG_ECDSA_P256_SHA256;
        p.signature_len = 64;
    } else {
        p.has_plain = true;
    }
    size_t n = dk_initpkt_encode(&p, out, cap);
    assert_true(n > 0);
    return n;
}

/* Send the init packet as nrfutil does (CREATE, writes, CRC, EXECUTE);
 * returns the EXECUTE response (result | ext << 8), or -1 if none. */
static inline int send_init(rig *r, const uint8_t *dat, size_t n)
{
    rq_select(r, 1);
    rq_create(r, 1, (uint32_t)n);
    expect_rsp(r, 0x01, DK_RES_SUCCESS);
    rq_stream(r, dat, n);
    rq_crc(r);
    expect_rsp(r, 0x03, DK_RES_SUCCESS);
    assert_int_equal(r->m.rsp.crc.offset, n);
    assert_int_equal(r->m.rsp.crc.crc, dk_crc32(0, dat, n));
    rq_execute(r);
    if (!r->rsp_len)
        return -1;
    return r->m.result | (r->m.has_ext ? r->m.ext << 8 : 0);
}

/* Send the firmware object by object from offset `from` (page-aligned).
 * Stops early when an EXECUTE fails or the core asks for a reset/cut;
 * returns the last EXECUTE response code (or -1 without one). */
static inline int send_fw(rig *r, const uint8_t *img, size_t len, size_t from)
{
    int last = -1;
    rq_select(r, 2);
    for (size_t o = from; o < len; o += 4096) {
        size_t n = len - o < 4096 ? len - o : 4096;
        rq_create(r, 2, (uint32_t)n);
        if (r->flags)
            return -1;
        expect_rsp(r, 0x01, DK_RES_SUCCESS);
        rq_stream(r, img + o, n);
        if (r->flags)
            return -1;
        rq_crc(r);
        if (r->flags)
            return -1;
        assert_int_equal(r->m.rsp.crc.offset, o + n);
        assert_int_equal(r->m.rsp.crc.crc, dk_crc32(0, img, o + n));
        rq_execute(r);
        last = r->rsp_len ? (r->m.result | (r->m.has_ext ? r->m.ext << 8 : 0)) : -1;
        if (r->flags || last != DK_RES_SUCCESS)
            return last;
    }
    return last;
}

static inline uint8_t *make_image(size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len);
    dk_test_fill(p, len, seed);
    return p;
}

#endif
