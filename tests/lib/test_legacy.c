/* test_legacy.c - legacy HCI DFU in lib: HCI packets (hci.h), the legacy DFU
 * packets and init packet (legacy.h), and the legacy tracker, every hci.* and
 * legacy.* anomaly reached (protocol.md §13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/pipeline.h"
#include "dfukit/rd.h"

/* ---- hci.c ------------------------------------------------------------- */

static void hci_ack_bytes(void **state)
{
    (void)state;
    /* §13.3's table */
    static const uint8_t want[8][4] = { { 0x00, 0, 0, 0x00 }, { 0x08, 0, 0, 0xF8 }, { 0x10, 0, 0, 0xF0 },
                                        { 0x18, 0, 0, 0xE8 }, { 0x20, 0, 0, 0xE0 }, { 0x28, 0, 0, 0xD8 },
                                        { 0x30, 0, 0, 0xD0 }, { 0x38, 0, 0, 0xC8 } };
    for (uint8_t n = 0; n < 8; n++) {
        uint8_t a[4], e;
        dk_hci_ack(n, a);
        assert_memory_equal(a, want[n], 4);
        assert_true(dk_hci_is_ack(a, 4, &e));
        assert_int_equal(e, n);
        uint8_t f[8];
        assert_int_equal(dk_hci_frame(a, 4, f), 6);
        assert_int_equal(f[0], 0xC0);
        assert_int_equal(f[5], 0xC0);
    }
    uint8_t bad[4] = { 0x10, 0, 0, 0xF1 };
    assert_false(dk_hci_is_ack(bad, 4, NULL));
    assert_false(dk_hci_is_ack(bad, 3, NULL));
}

static void hci_encode_parse(void **state)
{
    (void)state;
    uint8_t pl[20], p[64];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, 10000, pl);
    size_t n = dk_hci_encode(1, pl, sizeof pl, p);
    assert_int_equal(n, 4 + 20 + 2);
    /* header as adafruit-nrfutil builds it: seq 1, ack 2, integrity, reliable */
    assert_int_equal(p[0], 0xD1);
    assert_int_equal(p[1], 0x4E);
    assert_int_equal(p[2], 0x01);
    assert_int_equal((uint8_t)(p[0] + p[1] + p[2] + p[3]), 0);
    dk_hci_pkt pk;
    assert_int_equal(dk_hci_parse(p, n, &pk), DK_HCI_OK);
    assert_int_equal(pk.hdr.seq, 1);
    assert_int_equal(pk.hdr.ack, 2);
    assert_int_equal(pk.hdr.len, 20);
    assert_false(pk.len_mismatch);
    assert_int_equal(pk.payload_len, 20);
    assert_int_equal(dk_proto_sniff(p, n, DK_DIR_HOST), DK_PROTO_HCI);
    /* each check in the device's order */
    assert_int_equal(dk_hci_parse(p, 4, &pk), DK_HCI_SHORT);
    assert_int_equal(dk_hci_parse(p, 3, &pk), DK_HCI_SHORT);
    uint8_t q[64];
    memcpy(q, p, n);
    q[0] &= (uint8_t)~0x40;
    assert_int_equal(dk_hci_parse(q, n, &pk), DK_HCI_NO_INTEGRITY);
    memcpy(q, p, n);
    q[0] &= 0x7F;
    assert_int_equal(dk_hci_parse(q, n, &pk), DK_HCI_UNRELIABLE);
    memcpy(q, p, n);
    q[1] = (uint8_t)((q[1] & 0xF0) | 3);
    assert_int_equal(dk_hci_parse(q, n, &pk), DK_HCI_BAD_TYPE);
    memcpy(q, p, n);
    q[3] ^= 1;
    assert_int_equal(dk_hci_parse(q, n, &pk), DK_HCI_BAD_CHECKSUM);
    memcpy(q, p, n);
    q[10] ^= 1;
    assert_int_equal(dk_hci_parse(q, n, &pk), DK_HCI_BAD_CRC);
    assert_int_not_equal(pk.crc_sent, pk.crc_calc);
    assert_string_equal(dk_hci_status_name(DK_HCI_BAD_CRC), "bad_crc");
    /* the length field is not checked by the device: a finding only */
    memcpy(q, p, n);
    q[1] = 0x3E, q[3] = (uint8_t)-(q[0] + q[1] + q[2]);
    dk_put_le16(q + n - 2, dk_crc16_ccitt(DK_CRC16_INIT, q, n - 2));
    assert_int_equal(dk_hci_parse(q, n, &pk), DK_HCI_OK);
    assert_true(pk.len_mismatch);
}

/* ---- legacy packets and init packet ---------------------------------- */

static void lg_packets(void **state)
{
    (void)state;
    uint8_t pl[32];
    dk_lg_pkt g;
    dk_lg_encode_start(DK_LG_MODE_SD_BL, 4, 8, 0, pl);
    assert_int_equal(dk_lg_parse(pl, DK_LG_START_LEN, &g), DK_LG_OK);
    assert_int_equal(g.kind, DK_LG_START);
    assert_int_equal(g.mode, 3);
    assert_int_equal(g.sd_size, 4);
    assert_int_equal(g.bl_size, 8);
    assert_int_equal(dk_lg_parse(pl, 10, &g), DK_LG_START_SHORT);
    assert_int_equal(dk_lg_parse(pl, 3, &g), DK_LG_SHORT);
    static const uint8_t body[7] = { 1, 2, 3, 4, 5, 6, 7 };
    size_t n = dk_lg_encode(DK_LG_DATA, body, sizeof body, pl);
    assert_int_equal(dk_lg_parse(pl, n, &g), DK_LG_OK);
    assert_int_equal(g.body_len, 7);
    assert_int_equal(g.words_len, 4); /* the device rounds down (§13.5) */
    assert_string_equal(dk_lg_kind_name(DK_LG_STOP), "STOP");
    assert_null(dk_lg_kind_name(2));
    assert_string_equal(dk_lg_mode_name(DK_LG_MODE_APP), "application");
    assert_null(dk_lg_mode_name(9));
}

static void lg_init_versions(void **state)
{
    (void)state;
    /* §13.14's example .dat: 10000-byte app, --dev-type 0x0052 */
    static const uint8_t dat[] = { 0x52, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0xfe, 0xff, 0xa6, 0xb4, 0, 0 };
    dk_lg_init in;
    dk_err err;
    assert_int_equal(dk_lg_init_parse(dat, sizeof dat, &in, &err), DK_OK);
    assert_int_equal(in.version, 5);
    assert_int_equal(in.device_type, 0x52);
    assert_int_equal(in.n_sd_req, 1);
    assert_int_equal(in.sd_req[0], 0xFFFE);
    assert_int_equal(in.crc16, 0xB4A6);
    assert_int_equal(in.len, 14);
    assert_int_equal(in.pad, 2);
    uint16_t crc;
    assert_int_equal(dk_lg_init_check(dat, 16, DK_LG_MODE_APP, 0xB6, &crc), DK_LG_INIT_ACCEPT);
    assert_int_equal(crc, 0xB4A6);
    /* every version round trips */
    for (unsigned v = 5; v <= 8; v++) {
        dk_lg_init a = { .device_type = 0x52, .device_rev = 52840, .app_version = 7, .n_sd_req = 2,
                         .sd_req = { 0xB6, 0xFFFE }, .version = v, .crc16 = 0x1234, .fw_len = 99 };
        memset(a.hash, 0xAB, 32);
        memset(a.sig, 0xCD, 64);
        uint8_t b[200];
        size_t n = dk_lg_init_encode(&a, b, sizeof b);
        assert_int_equal(n, 14 + (v == 6 ? 6 : v == 7 ? 40 : v == 8 ? 104 : 2));
        dk_lg_init o;
        assert_int_equal(dk_lg_init_parse(b, n, &o, &err), DK_OK);
        assert_int_equal(o.version, v);
        assert_int_equal(o.len, n);
        assert_int_equal(o.has_hash, v >= 7);
        assert_int_equal(o.has_sig, v == 8);
        assert_int_equal(dk_lg_init_encode(&a, b, 10), 0);
    }
    /* the device's checks (§13.7) */
    uint8_t d[16];
    memcpy(d, dat, 16);
    d[0] = 0xFF, d[1] = 0xFF;
    assert_int_equal(dk_lg_init_check(d, 16, DK_LG_MODE_APP, -1, NULL), DK_LG_INIT_DEVICE_TYPE);
    assert_int_equal(dk_lg_init_check(dat, 16, DK_LG_MODE_SD, -1, NULL), DK_LG_INIT_DEVICE_REV);
    assert_int_equal(dk_lg_init_check(dat, 11, DK_LG_MODE_APP, -1, NULL), DK_LG_INIT_LENGTH);
    memcpy(d, dat, 16);
    d[10] = 0x01, d[11] = 0x00;
    assert_int_equal(dk_lg_init_check(d, 16, DK_LG_MODE_APP, 0xB6, NULL), DK_LG_INIT_SD_REQ);
    assert_int_equal(dk_lg_init_check(d, 16, DK_LG_MODE_APP, 0x01, NULL), DK_LG_INIT_ACCEPT);
    assert_int_equal(dk_lg_init_check(d, 16, DK_LG_MODE_APP, -1, NULL), DK_LG_INIT_ACCEPT);
    d[8] = 0; /* an empty list always fails */
    assert_int_equal(dk_lg_init_check(d, 16, DK_LG_MODE_APP, -1, NULL), DK_LG_INIT_SD_REQ);
    /* bad input: one clear error each */
    assert_int_equal(dk_lg_init_parse(dat, 9, &in, &err), DK_E_TRUNCATED);
    d[8] = 9;
    assert_int_equal(dk_lg_init_parse(d, 16, &in, &err), DK_E_TRUNCATED);
    assert_non_null(strstr(err.msg, "sd_req"));
    assert_int_equal(dk_lg_init_parse(dat, 12, &in, &err), DK_E_TRUNCATED);
    assert_string_equal(dk_lg_verdict_text(DK_LG_INIT_DEVICE_TYPE), "device type is not 0x0052");
}

/* ---- the tracker -------------------------------------------------------- */

static unsigned seen[DK_AN_COUNT];

typedef struct {
    void *t;
    uint64_t pos;
    int64_t t_us;
    unsigned an[DK_AN_COUNT];
    unsigned hci, runs, writes, inits, images_done;
    dk_hci_ev last;
    dk_summary sum;
} tk;

static void on_ev(void *ctx, const dk_event *ev)
{
    tk *k = ctx;
    switch (ev->kind) {
    case DK_EV_ANOMALY:
        k->an[ev->u.an.id]++;
        seen[ev->u.an.id]++;
        break;
    case DK_EV_HCI: k->hci++; k->last = ev->u.hci; break;
    case DK_EV_WRITES: k->runs++; break;
    case DK_EV_WRITE: k->writes++; break;
    case DK_EV_INIT: k->inits++; break;
    case DK_EV_IMAGE: k->images_done += ev->u.img.done; break;
    case DK_EV_SUMMARY: k->sum = *ev->u.sum; break;
    default: break;
    }
}

static void tk_open(tk *k, bool verbose)
{
    memset(k, 0, sizeof *k);
    dk_track_opts o = { .write_crc = verbose, .write_events = true };
    k->t = dk_legacy_tracker.create(&o, on_ev, k);
    assert_non_null(k->t);
}

static void frame(tk *k, dk_dir dir, const uint8_t *p, size_t n)
{
    dk_slip_event ev = { .kind = DK_SLIP_FRAME, .data = p, .len = n, .start = k->pos, .end = k->pos + n };
    k->pos += n + 2;
    k->t_us += 1000;
    dk_legacy_tracker.frame(k->t, &ev, k->t_us, dir);
}

static void pkt(tk *k, uint8_t seq, uint32_t kind, const uint8_t *body, size_t len)
{
    uint8_t pl[2200], p[2220];
    size_t n = dk_lg_encode(kind, body, len, pl);
    n = dk_hci_encode(seq, pl, n, p);
    frame(k, DK_DIR_HOST, p, n);
}

static void ack(tk *k, uint8_t n)
{
    uint8_t a[4];
    dk_hci_ack(n, a);
    frame(k, DK_DIR_TARGET, a, 4);
}

static void start(tk *k, uint8_t seq, uint32_t app)
{
    uint8_t s[DK_LG_START_LEN];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, app, s);
    pkt(k, seq, DK_LG_START, s + 4, 16);
}

static uint8_t img[2048];

static void init(tk *k, uint8_t seq, uint16_t type, uint16_t sd, size_t size, int crc_delta)
{
    dk_lg_init in = { .device_type = type, .device_rev = 0xFFFF, .app_version = 1, .n_sd_req = 1,
                      .sd_req = { sd }, .version = 5,
                      .crc16 = (uint16_t)(dk_crc16_ccitt(DK_CRC16_INIT, img, size) + crc_delta) };
    uint8_t d[32];
    size_t n = dk_lg_init_encode(&in, d, sizeof d);
    d[n] = d[n + 1] = 0;
    pkt(k, seq, DK_LG_INIT, d, n + 2);
}

static void tk_close(tk *k)
{
    dk_legacy_tracker.finish(k->t);
    assert_ptr_equal(dk_legacy_tracker.summary(k->t)->legacy, true);
    dk_legacy_tracker.destroy(k->t);
}

/* A whole update: START, INIT, 4 DATA, STOP, each acknowledged. */
static void tracker_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 13 + 5);
    for (int v = 0; v < 2; v++) {
        tk k;
        tk_open(&k, v);
        start(&k, 1, 2048);
        ack(&k, 2);
        init(&k, 2, 0x52, 0xFFFE, 2048, 0);
        ack(&k, 3);
        for (int i = 0; i < 4; i++) {
            pkt(&k, (uint8_t)(3 + i), DK_LG_DATA, img + 512 * i, 512);
            assert_true(dk_legacy_tracker.awaiting(k.t));
            ack(&k, (uint8_t)((4 + i) & 7));
        }
        pkt(&k, 7, DK_LG_STOP, NULL, 0);
        ack(&k, 0);
        tk_close(&k);
        assert_int_equal(k.sum.outcome, DK_OUTCOME_COMPLETED);
        assert_int_equal(k.sum.anomalies, 0);
        assert_int_equal(k.sum.bytes_data, 2048);
        assert_int_equal(k.sum.hci.packets, 7);
        assert_int_equal(k.sum.hci.acks, 7);
        assert_int_equal(k.images_done, 1);
        assert_int_equal(k.inits, 1);
        assert_int_equal(k.writes, 4);
        assert_int_equal(k.runs, v ? 0 : 1); /* folded without -v */
        assert_int_equal(k.sum.img[0].fw_type, DK_FW_APPLICATION);
        assert_int_equal(k.last.kind, DK_LG_STOP);
        assert_int_equal(k.last.verdict, DK_HCI_ACCEPTED);
    }
}

/* §13.12: the device counts from an earlier session (expects 5): START,
 * INIT, DATA 0 and 1 are dropped, DATA 2 lands at the old offset. */
static void tracker_stale(void **state)
{
    (void)state;
    tk k;
    tk_open(&k, false);
    start(&k, 1, 2048);
    ack(&k, 5);
    init(&k, 2, 0x52, 0xFFFE, 2048, 0);
    ack(&k, 5);
    pkt(&k, 3, DK_LG_DATA, img, 512);
    ack(&k, 5);
    pkt(&k, 4, DK_LG_DATA, img + 512, 512);
    ack(&k, 5);
    pkt(&k, 5, DK_LG_DATA, img + 1024, 512);
    ack(&k, 6);
    tk_close(&k);
    assert_int_equal(k.an[DK_AN_LEGACY_STALE_SEQ], 1);
    assert_int_equal(k.an[DK_AN_LEGACY_DROPPED], 0); /* told once, as stale */
    assert_int_equal(k.an[DK_AN_LEGACY_OUT_OF_ORDER], 1); /* its state is unknown */
    assert_int_equal(k.sum.hci.dropped, 4);
    assert_true(k.sum.hci.stale);
    assert_int_equal(k.sum.outcome, DK_OUTCOME_FAILED);
    assert_int_equal(k.sum.hci.first_expect, 5);
}

/* Init packet refusals, each predicting the device's reset. */
static void tracker_init_refused(void **state)
{
    (void)state;
    struct { uint16_t type, sd; dk_anomaly_id id; } c[] = {
        { 0xFFFF, 0xFFFE, DK_AN_LEGACY_INIT_DEVICE_TYPE },
        { 0x52, 0xFFFE, DK_AN_LEGACY_INIT_DEVICE_REV },
    };
    for (int i = 0; i < 2; i++) {
        tk k;
        tk_open(&k, false);
        uint8_t s[DK_LG_START_LEN];
        dk_lg_encode_start(i ? DK_LG_MODE_SD : DK_LG_MODE_APP, i ? 2048 : 0, 0, i ? 0 : 2048, s);
        pkt(&k, 1, DK_LG_START, s + 4, 16);
        ack(&k, 2);
        init(&k, 2, c[i].type, c[i].sd, 2048, 0);
        ack(&k, 3);
        pkt(&k, 3, DK_LG_DATA, img, 512);
        ack(&k, 1); /* the reset device expects 1: predicted, no device_reset */
        tk_close(&k);
        assert_int_equal(k.an[c[i].id], 1);
        assert_int_equal(k.an[DK_AN_LEGACY_DEVICE_RESET], 0);
        assert_int_equal(k.an[DK_AN_LEGACY_DROPPED], 1);
        assert_int_equal(k.sum.outcome, DK_OUTCOME_FAILED);
        assert_int_equal(k.sum.fail_stage, DK_STAGE_INIT);
    }
    /* an empty sd_req list; a malformed (short) init packet */
    tk k;
    tk_open(&k, false);
    start(&k, 1, 2048);
    ack(&k, 2);
    static const uint8_t empty[] = { 0x52, 0, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0x11, 0x22, 0, 0, 0, 0 };
    pkt(&k, 2, DK_LG_INIT, empty, sizeof empty);
    ack(&k, 3);
    start(&k, 3, 2048);
    ack(&k, 4); /* the device had reset: it expects 1, so this is no reset */
    tk_close(&k);
    assert_int_equal(k.an[DK_AN_LEGACY_INIT_SD_REQ], 1);
    assert_int_equal(k.an[DK_AN_HCI_ACK_NUMBER], 1);
    tk_open(&k, false);
    start(&k, 1, 2048);
    ack(&k, 2);
    static const uint8_t shortinit[] = { 0x52, 0, 0xff, 0xff, 1, 0, 0, 0 };
    pkt(&k, 2, DK_LG_INIT, shortinit, sizeof shortinit);
    ack(&k, 3);
    tk_close(&k);
    assert_int_equal(k.an[DK_AN_LEGACY_INIT_MALFORMED], 1);
}

/* The device resets after an INIT it took (sd_req it knows): ACKs restart at 1. */
static void tracker_reset_after_init(void **state)
{
    (void)state;
    tk k;
    tk_open(&k, false);
    start(&k, 1, 2048);
    ack(&k, 2);
    init(&k, 2, 0x52, 0x0001, 2048, 0);
    ack(&k, 3);
    pkt(&k, 3, DK_LG_DATA, img, 512);
    ack(&k, 1);
    tk_close(&k);
    assert_int_equal(k.an[DK_AN_LEGACY_DEVICE_RESET], 1);
    assert_int_equal(k.sum.outcome, DK_OUTCOME_FAILED);
    assert_int_equal(k.sum.fail_stage, DK_STAGE_INIT);
    assert_int_equal(k.sum.hci.resets, 1);
}

/* Line troubles: bad header, bad CRC, length field, no ACK, gaps, resends,
 * stray frames. */
static void tracker_line(void **state)
{
    (void)state;
    tk k;
    tk_open(&k, false);
    uint8_t pl[24], p[40];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, 2048, pl);
    size_t n = dk_hci_encode(1, pl, DK_LG_START_LEN, p);
    p[3] ^= 1;
    frame(&k, DK_DIR_HOST, p, n); /* header checksum */
    p[3] ^= 1;
    p[8] ^= 1;
    frame(&k, DK_DIR_HOST, p, n); /* CRC16 */
    p[8] ^= 1;
    ack(&k, 1);                    /* an ACK for a packet the device dropped */
    p[1] = 0x3E, p[3] = (uint8_t)-(p[0] + p[1] + p[2]);
    dk_put_le16(p + n - 2, dk_crc16_ccitt(DK_CRC16_INIT, p, n - 2));
    frame(&k, DK_DIR_HOST, p, n);  /* the length field says 19 */
    ack(&k, 2);
    init(&k, 2, 0x52, 0xFFFE, 2048, 0);
    /* no ACK: the next packet comes */
    init(&k, 2, 0x52, 0xFFFE, 2048, 0); /* sent again */
    ack(&k, 3);
    pkt(&k, 5, DK_LG_DATA, img, 512); /* a gap: 5 after 2; the device expects 3 */
    ack(&k, 3);
    ack(&k, 3);                       /* an ACK nothing waits for */
    static const uint8_t junk[] = { 1, 2, 3, 4, 5, 6, 7 };
    frame(&k, DK_DIR_TARGET, junk, sizeof junk);
    pkt(&k, 3, DK_LG_DATA, img, 510); /* not whole words */
    ack(&k, 4);
    pkt(&k, 4, 9, NULL, 0);           /* an unknown kind */
    ack(&k, 5);
    pkt(&k, 5, DK_LG_DATA, img, 2048); /* past the image: 508 + 2048 > 2048 */
    ack(&k, 6);
    pkt(&k, 6, DK_LG_STOP, NULL, 0);   /* the image is not complete */
    ack(&k, 7);
    pkt(&k, 7, DK_LG_DATA, img, 8);    /* no ACK at the end */
    tk_close(&k);
    static const dk_anomaly_id want[] = { DK_AN_HCI_BAD_HEADER, DK_AN_HCI_BAD_CRC, DK_AN_HCI_BAD_LENGTH,
                                          DK_AN_HCI_NO_ACK, DK_AN_HCI_RETRANSMIT, DK_AN_HCI_SEQ_GAP,
                                          DK_AN_LEGACY_DROPPED, DK_AN_HCI_UNEXPECTED,
                                          DK_AN_LEGACY_PARTIAL_WORD, DK_AN_LEGACY_UNKNOWN_KIND,
                                          DK_AN_LEGACY_DATA_OVERFLOW, DK_AN_LEGACY_SIZE_MISMATCH };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!k.an[want[i]])
            fail_msg("%s not reported", dk_anomaly_name(want[i]));
    assert_int_equal(k.an[DK_AN_HCI_UNEXPECTED], 3);
    assert_int_equal(k.sum.hci.invalid, 2);
    assert_int_equal(k.sum.outcome, DK_OUTCOME_FAILED);
}

/* START refused (a session open), the CRC16 check at STOP, a device that
 * never answers. */
static void tracker_refusals(void **state)
{
    (void)state;
    tk k;
    tk_open(&k, false);
    start(&k, 1, 1024);
    ack(&k, 2);
    init(&k, 2, 0x52, 0xFFFE, 1024, 1);
    ack(&k, 3);
    pkt(&k, 3, DK_LG_DATA, img, 512);
    ack(&k, 4);
    pkt(&k, 4, DK_LG_DATA, img + 512, 512);
    ack(&k, 5);
    pkt(&k, 5, DK_LG_STOP, NULL, 0);
    ack(&k, 6);
    tk_close(&k);
    assert_int_equal(k.an[DK_AN_LEGACY_CRC_MISMATCH], 1);
    assert_int_equal(k.sum.fail_stage, DK_STAGE_FINAL);
    tk_open(&k, false);
    start(&k, 1, 1024);
    ack(&k, 2);
    start(&k, 2, 1024);
    ack(&k, 3);
    uint8_t s[DK_LG_START_LEN];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, 1022, s); /* not whole words */
    pkt(&k, 1, DK_LG_START, s + 4, 16);
    ack(&k, 2);
    tk_close(&k);
    assert_int_equal(k.an[DK_AN_LEGACY_START_REFUSED], 2);
    assert_int_equal(k.sum.outcome, DK_OUTCOME_FAILED);
    assert_int_equal(k.sum.restarts, 1);
    tk_open(&k, false);
    start(&k, 1, 1024);
    start(&k, 1, 1024);
    tk_close(&k);
    assert_int_equal(k.sum.outcome, DK_OUTCOME_NO_RESPONSE);
    assert_int_equal(k.an[DK_AN_HCI_NO_ACK], 2);
}

/* Through the pipeline: the legacy tracker is registered by default; one
 * raw stream (both lines merged) and the RAW records of a log. */
static void pipeline_default(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t n = 0;
    uint8_t pl[64], p[80];
    size_t k = dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, 512, pl);
    k = dk_hci_encode(1, pl, k, p);
    n += dk_hci_frame(p, k, buf + n);
    uint8_t a[4];
    dk_hci_ack(2, a);
    n += dk_hci_frame(a, 4, buf + n);
    char *out = NULL;
    size_t ol = 0;
    FILE *f = open_memstream(&out, &ol);
    dk_pipe_opts o = { 0 };
    dk_pipe *pp = dk_pipe_new(f, &o);
    dk_logrec rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = DK_LR_RAW;
    rec.dir = DK_DIR_UNKNOWN;
    rec.data = buf;
    rec.len = n;
    rec.t_us = -1;
    dk_pipe_record(pp, &rec);
    assert_int_equal(dk_pipe_proto(pp), DK_PROTO_HCI);
    dk_pipe_finish(pp);
    assert_true(dk_pipe_summary(pp)->legacy);
    assert_int_equal(dk_pipe_summary(pp)->hci.acks, 1);
    dk_pipe_free(pp);
    fclose(f);
    assert_non_null(strstr(out, "--> #1 START application sd=0 bl=0 app=512  <-- ACK 2"));
    assert_null(strstr(out, "unknown opcode"));
    free(out);
}

/* Runs last: every hci.* and legacy.* anomaly was reached above. */
static void every_legacy_anomaly(void **state)
{
    (void)state;
    for (int i = 0; i < DK_AN_COUNT; i++) {
        const char *n = dk_anomaly_name((dk_anomaly_id)i);
        if ((!strncmp(n, "hci.", 4) || !strncmp(n, "legacy.", 7)) && !seen[i])
            fail_msg("anomaly %s was never triggered", n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hci_ack_bytes),        cmocka_unit_test(hci_encode_parse),
        cmocka_unit_test(lg_packets),           cmocka_unit_test(lg_init_versions),
        cmocka_unit_test(tracker_complete),     cmocka_unit_test(tracker_stale),
        cmocka_unit_test(tracker_init_refused), cmocka_unit_test(tracker_reset_after_init),
        cmocka_unit_test(tracker_line),         cmocka_unit_test(tracker_refusals),
        cmocka_unit_test(pipeline_default),     cmocka_unit_test(every_legacy_anomaly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
