/* test_pipeline.c - the decoding pipeline (pipeline.h):
 *   - dk_units (its SLIP path) cuts any byte stream, in any chunks, into
 *     exactly the units lib's dk_slip_dec reports when fed one byte at a
 *     time: same kinds, bytes, positions, "first" flags;
 *   - the protocol sniffer tells Secure DFU frames from legacy HCI packets;
 *   - a second tracker plugs in behind dk_tracker_ops: an HCI-looking stream
 *     goes to it (what came before its first packet held and replayed in
 *     order), its events reach the shared printer, the diagnosis comes from
 *     its summary; a Secure DFU stream is printed exactly as without it;
 *   - the diagnosis is picked once, after the session, with the facts;
 *   - the package check is a consumer whose pkg.* anomalies are printed
 *     like any other, and whose report follows the summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/pipeline.h"
#include "dfukit/pkgcheck.h"
#include "dfukit/session.h"
#include "dfukit/slip.h"

#define MAXU 4096

typedef struct {
    dk_slip_kind kind;
    size_t len;
    uint32_t crc; /* of the decoded bytes */
    uint64_t start, end;
    bool first;
} unit;

typedef struct {
    unit *u;
    int n;
} units;

static void add(units *us, const dk_slip_event *ev)
{
    assert_true(us->n < MAXU);
    unit *u = &us->u[us->n++];
    u->kind = ev->kind;
    u->len = ev->kind == DK_SLIP_FRAME ? ev->len : 0;
    u->crc = dk_crc32(0, ev->data, u->len);
    u->start = ev->start;
    u->end = ev->end;
    u->first = ev->first;
}

static void on_ref(void *ctx, const dk_slip_event *ev)
{
    add(ctx, ev);
}

/* The reference: dk_slip_dec, one byte at a time. */
static void reference(const uint8_t *b, size_t n, uint64_t pos0, units *out)
{
    static uint8_t buf[DK_FRAME_CAP];
    dk_slip_dec d;
    dk_slip_dec_init(&d, buf, sizeof buf);
    dk_slip_dec_set_pos(&d, pos0);
    for (size_t i = 0; i < n; i++)
        dk_slip_dec_feed(&d, b + i, 1, on_ref, out);
    dk_slip_dec_flush(&d, on_ref, out);
}

/* dk_units, the stream cut into chunks of random sizes (1..max). */
static void cut(const uint8_t *b, size_t n, uint64_t pos0, size_t max, unsigned *seed, units *out)
{
    dk_units *du = dk_units_new();
    assert_non_null(du);
    dk_unit un;
    size_t at = 0;
    while (at < n) {
        size_t k = 1 + (size_t)rand_r(seed) % max;
        if (k > n - at)
            k = n - at;
        dk_units_put(du, 5, DK_DIR_HOST, b + at, k, pos0 + at);
        while (dk_units_next(du, &un)) {
            assert_int_equal(un.dir, DK_DIR_HOST);
            add(out, &un.ev);
        }
        at += k;
    }
    while (dk_units_flush(du, &un))
        add(out, &un.ev);
    dk_units_free(du);
}

static void same(const units *a, const units *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        const unit *x = &a->u[i], *y = &b->u[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->len, y->len);
        assert_int_equal(x->crc, y->crc);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->first, y->first);
    }
}

/* Frames of random bytes (many escapes), with bad escapes, empty frames,
 * frames just at and over the limit, and garbage without END at the end. */
static size_t make_stream(uint8_t *b, size_t cap, unsigned *seed)
{
    static uint8_t payload[DK_FRAME_CAP + 2];
    size_t n = 0;
    while (n + 2 * sizeof payload + 8 < cap) {
        int kind = rand_r(seed) % 20;
        size_t len;
        if (kind == 0) {
            len = DK_FRAME_CAP - 1 + (size_t)(rand_r(seed) % 3); /* limit -1, at, +1 */
        } else if (kind == 1) {
            b[n++] = DK_SLIP_END; /* empty frame */
            continue;
        } else if (kind == 2) {
            b[n++] = DK_SLIP_ESC; /* bad escape */
            b[n++] = (uint8_t)(rand_r(seed) % 2 ? 0x41 : DK_SLIP_END);
            continue;
        } else {
            len = 1 + (size_t)(rand_r(seed) % 80);
        }
        for (size_t i = 0; i < len; i++) {
            int r = rand_r(seed) % 16;
            payload[i] = r == 0 ? DK_SLIP_END : r == 1 ? DK_SLIP_ESC : (uint8_t)rand_r(seed);
        }
        n += dk_slip_encode(payload, len, b + n);
    }
    for (int i = 0; i < 5; i++) /* unterminated tail */
        b[n++] = (uint8_t)(i == 2 ? DK_SLIP_ESC : i == 3 ? DK_SLIP_ESC_END : 0x33);
    return n;
}

static void random_streams(void **state)
{
    (void)state;
    size_t cap = 1 << 18;
    uint8_t *b = malloc(cap);
    units ref = { calloc(MAXU, sizeof(unit)), 0 }, got = { calloc(MAXU, sizeof(unit)), 0 };
    assert_non_null(b);
    assert_non_null(ref.u);
    assert_non_null(got.u);
    static const size_t maxes[] = { 1, 2, 3, 7, 16, 17, 64, 100, 4096, 1 << 18 };
    for (unsigned s = 1; s <= 6; s++) {
        unsigned seed = s;
        size_t n = make_stream(b, cap, &seed);
        ref.n = 0;
        reference(b, n, 1000, &ref);
        assert_true(ref.n > 100);
        for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
            got.n = 0;
            cut(b, n, 1000, maxes[m], &seed, &got);
            same(&ref, &got);
        }
    }
    free(b);
    free(ref.u);
    free(got.u);
}

/* Capture starting mid-frame: the first unit is "first", later ones not. */
static void first_flag(void **state)
{
    (void)state;
    static const uint8_t b[] = { 0x44, 0x01, DK_SLIP_END, 0x09, 0x01, DK_SLIP_END };
    units ref = { calloc(8, sizeof(unit)), 0 }, got = { calloc(8, sizeof(unit)), 0 };
    reference(b, sizeof b, 0, &ref);
    unsigned seed = 1;
    cut(b, sizeof b, 0, sizeof b, &seed, &got);
    same(&ref, &got);
    assert_int_equal(got.n, 2);
    assert_true(got.u[0].first);
    assert_false(got.u[1].first);
    assert_int_equal(got.u[1].start, 3);
    assert_int_equal(got.u[1].end, 6);
    free(ref.u);
    free(got.u);
}

/* ---- streams built here --------------------------------------------- */

typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} bytes;

static void put_frame(bytes *o, const uint8_t *f, size_t len)
{
    assert_true(o->n + DK_SLIP_MAX_ENCODED(len) <= sizeof o->b);
    o->n += dk_slip_encode(f, len, o->b + o->n);
}

static void put_msg(bytes *o, const dk_msg *m)
{
    uint8_t f[64];
    size_t len = dk_msg_encode(m, f, sizeof f);
    assert_true(len > 0);
    put_frame(o, f, len);
}

/* A legacy HCI packet (protocol.md §9) with its CRC16, no SLIP framing. */
static size_t hci_packet(uint8_t *f, uint8_t seq, uint8_t type, const uint8_t *pl, size_t len)
{
    f[0] = (uint8_t)(seq | ((seq + 1) & 7) << 3 | 0x40 | 0x80);
    f[1] = (uint8_t)(type | (len & 0xF) << 4);
    f[2] = (uint8_t)(len >> 4);
    f[3] = (uint8_t)-(f[0] + f[1] + f[2]);
    memcpy(f + 4, pl, len);
    uint16_t c = dk_crc16_ccitt(DK_CRC16_INIT, f, 4 + len);
    f[4 + len] = (uint8_t)c;
    f[5 + len] = (uint8_t)(c >> 8);
    return 6 + len;
}

static void sniff_frames(void **state)
{
    (void)state;
    uint8_t f[64];
    static const uint8_t start[] = { 3, 0, 0, 0, 4, 0, 0, 0 }; /* START, mode APP */
    size_t n = hci_packet(f, 1, 14, start, sizeof start);
    assert_int_equal(dk_proto_sniff(f, n, DK_DIR_HOST), DK_PROTO_HCI);
    assert_int_equal(dk_proto_sniff(f, n, DK_DIR_UNKNOWN), DK_PROTO_HCI);
    f[n - 1] ^= 1; /* CRC16 off: an unknown opcode, no protocol */
    assert_int_equal(dk_proto_sniff(f, n, DK_DIR_HOST), DK_PROTO_UNKNOWN);
    f[n - 1] ^= 1;
    f[3]++; /* header checksum off */
    assert_int_equal(dk_proto_sniff(f, n, DK_DIR_HOST), DK_PROTO_UNKNOWN);
    /* an ACK (unreliable, type 0, no payload): the target's */
    static const uint8_t ack[] = { 0x10, 0x00, 0x00, 0xF0 };
    assert_int_equal(dk_proto_sniff(ack, sizeof ack, DK_DIR_TARGET), DK_PROTO_HCI);
    /* the same 4 bytes from the host read as a Secure DFU WRITE */
    static const uint8_t w[] = { 0x08, 0x00, 0x00, 0xF8 };
    assert_int_equal(dk_proto_sniff(w, sizeof w, DK_DIR_HOST), DK_PROTO_SDFU);
    /* Secure DFU: a request from the host, a response from the target */
    static const uint8_t ping[] = { 0x09, 0x01 }, pong[] = { 0x60, 0x09, 0x01, 0x01 };
    assert_int_equal(dk_proto_sniff(ping, 2, DK_DIR_HOST), DK_PROTO_SDFU);
    assert_int_equal(dk_proto_sniff(pong, 4, DK_DIR_TARGET), DK_PROTO_SDFU);
    assert_int_equal(dk_proto_sniff(pong, 4, DK_DIR_UNKNOWN), DK_PROTO_SDFU);
    assert_int_equal(dk_proto_sniff(ping, 2, DK_DIR_TARGET), DK_PROTO_UNKNOWN);
    assert_int_equal(dk_proto_sniff(pong, 4, DK_DIR_HOST), DK_PROTO_UNKNOWN);
    static const uint8_t noise[] = { 0x42, 0x42, 0x42 };
    assert_int_equal(dk_proto_sniff(noise, 3, DK_DIR_HOST), DK_PROTO_UNKNOWN);
    assert_string_equal(dk_proto_name(DK_PROTO_HCI), "hci");
}

/* ---- a trivial second tracker ----------------------------------------
 * Counts what it gets; a frame of 6+ bytes is a packet: a WRITES run of
 * its payload; an EMPTY frame is normal between packets; a DATA packet
 * (type 14, kind 4) that is not the first is an anomaly (to show one);
 * finish: an image completed, outcome COMPLETED. */

typedef struct {
    dk_event_cb cb;
    void *ctx;
    dk_summary sum;
    int slips, empties, frames, messages, notes, ports;
    dk_slip_kind first_kind;
    uint64_t first_start;
    uint64_t bytes;
} toy;

static toy *last_toy;

static void *toy_create(const dk_track_opts *o, dk_event_cb cb, void *ctx)
{
    (void)o;
    toy *t = calloc(1, sizeof *t);
    t->cb = cb;
    t->ctx = ctx;
    t->sum.t_first = t->sum.t_last = -1;
    t->sum.duration_s = t->sum.throughput_Bps = -1;
    last_toy = t;
    return t;
}

static void toy_destroy(void *t)
{
    free(t);
}

static void toy_slip(void *tp, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    toy *t = tp;
    if (t->slips++ == 0) {
        t->first_kind = ev->kind;
        t->first_start = ev->start;
    }
    if (ev->kind == DK_SLIP_EMPTY) {
        t->empties++;
        return;
    }
    if (ev->kind != DK_SLIP_FRAME || ev->len < 6)
        return;
    t->frames++;
    t->sum.frames++;
    dk_event e;
    memset(&e, 0, sizeof e);
    e.t_us = t_us;
    e.start = ev->start;
    e.end = ev->end;
    e.dir = dir;
    e.image = 1;
    if (t->frames > 1 && ev->data[4] == 4) {
        e.kind = DK_EV_ANOMALY;
        e.u.an.id = DK_AN_MSG_OVERLONG;
        e.u.an.severity = DK_SEV_WARN;
        e.u.an.dir = dir;
        e.u.an.start = ev->start;
        e.u.an.end = ev->end;
        snprintf(e.u.an.text, sizeof e.u.an.text, "toy: data packet %d", t->frames);
        t->sum.anomalies++;
        t->sum.an_count[DK_AN_MSG_OVERLONG]++;
        t->cb(t->ctx, &e);
    }
    e.kind = DK_EV_WRITES;
    e.u.run.obj_type = DK_OBJ_DATA;
    e.u.run.count = 1;
    e.u.run.bytes = ev->len - 6;
    e.u.run.off_start = (uint32_t)t->bytes;
    t->bytes += ev->len - 6;
    e.u.run.off_end = (uint32_t)t->bytes;
    e.u.run.t_first = e.u.run.t_last = t_us;
    t->cb(t->ctx, &e);
}

static void toy_frame(void *tp, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    toy_slip(tp, ev, t_us, dir);
}

static void toy_message(void *tp, const uint8_t *m, size_t len, int64_t t_us, dk_dir dir,
                        uint64_t start, uint64_t end)
{
    (void)m, (void)len, (void)t_us, (void)dir, (void)start, (void)end;
    ((toy *)tp)->messages++;
}

static void toy_note(void *tp, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                     uint64_t end, const char *text)
{
    (void)id, (void)t_us, (void)dir, (void)start, (void)end, (void)text;
    ((toy *)tp)->notes++;
}

static void toy_port(void *tp, int64_t t_us, bool open, uint64_t pos)
{
    (void)t_us, (void)open, (void)pos;
    ((toy *)tp)->ports++;
}

static bool toy_awaiting(const void *tp)
{
    (void)tp;
    return false;
}

static void toy_finish(void *tp)
{
    toy *t = tp;
    t->sum.outcome = DK_OUTCOME_COMPLETED;
    t->sum.n_images = 1;
    t->sum.img[0] = (dk_image_sum){ .index = 1, .bytes_sent = t->bytes, .completed = true };
    t->sum.requests = t->sum.responses = (uint64_t)t->frames;
    t->sum.bytes_data = t->bytes;
    dk_event e;
    memset(&e, 0, sizeof e);
    e.kind = DK_EV_SUMMARY;
    e.t_us = -1;
    e.u.sum = &t->sum;
    t->cb(t->ctx, &e);
}

static const dk_summary *toy_summary(const void *tp)
{
    return &((const toy *)tp)->sum;
}

static const dk_tracker_ops toy_ops = {
    .proto = DK_PROTO_HCI, .name = "toy", .create = toy_create, .destroy = toy_destroy,
    .frame = toy_frame, .slip = toy_slip, .message = toy_message, .note = toy_note, .port = toy_port,
    .awaiting = toy_awaiting, .finish = toy_finish, .summary = toy_summary,
};

/* A pipeline printing into memory. */
typedef struct {
    FILE *f;
    char *buf;
    size_t len;
    dk_pipe *p;
    int summaries;
    const dk_diag_row *seen_diag;
    int pkg_anomalies;
} run_t;

static void on_tap(void *ctx, const dk_event *ev)
{
    run_t *r = ctx;
    if (ev->kind == DK_EV_SUMMARY) {
        r->summaries++;
        r->seen_diag = ev->u.sum->diag;
        assert_non_null(ev->u.sum->diag); /* filled before anyone sees it */
    }
    if (ev->kind == DK_EV_ANOMALY && ev->u.an.id >= DK_AN_PKG_INIT_MISMATCH)
        r->pkg_anomalies++; /* never: the package check's go to the printer */
}

static void run_open(run_t *r, const dk_pipe_opts *o, const dk_tracker_ops *second)
{
    memset(r, 0, sizeof *r);
    r->f = open_memstream(&r->buf, &r->len);
    assert_non_null(r->f);
    dk_pipe_opts none = { 0 };
    r->p = dk_pipe_new(r->f, o ? o : &none);
    assert_non_null(r->p);
    if (second)
        dk_pipe_set_tracker(r->p, second->proto, second);
    dk_pipe_tap(r->p, on_tap, r);
}

/* Finish and close: the printed text (the caller frees it). */
static char *run_close(run_t *r)
{
    dk_pipe_finish(r->p);
    assert_int_equal(r->summaries, 1);
    assert_ptr_equal(r->seen_diag, dk_pipe_diag(r->p));
    assert_ptr_equal(dk_pipe_summary(r->p)->diag, dk_pipe_diag(r->p));
    dk_pipe_free(r->p);
    fclose(r->f);
    return r->buf;
}

/* A legacy-looking stream: C0, packets, C0 between them (the host line),
 * ACKs (the target line). */
static void second_tracker(void **state)
{
    (void)state;
    bytes host, target;
    host.n = target.n = 0;
    uint8_t f[600], pl[512];
    host.b[host.n++] = DK_SLIP_END; /* legacy frames start with an END */
    static const uint8_t start[] = { 3, 0, 0, 0, 4, 0, 0, 0 };
    put_frame(&host, f, hci_packet(f, 1, 14, start, sizeof start));
    for (int i = 0; i < 3; i++) {
        host.b[host.n++] = DK_SLIP_END;
        memset(pl, 0, sizeof pl);
        pl[0] = 4; /* DATA */
        for (int k = 4; k < 100; k++)
            pl[k] = (uint8_t)(k * 7 + i);
        put_frame(&host, f, hci_packet(f, (uint8_t)(2 + i), 14, pl, 100));
    }
    static const uint8_t ack[] = { 0x10, 0x00, 0x00, 0xF0 };
    target.b[target.n++] = DK_SLIP_END;
    put_frame(&target, ack, sizeof ack);

    run_t r;
    run_open(&r, NULL, &toy_ops);
    assert_int_equal(dk_pipe_proto(r.p), DK_PROTO_UNKNOWN);
    assert_false(dk_pipe_awaiting(r.p));
    dk_pipe_bytes(r.p, 1000, DK_DIR_HOST, host.b, 1, 0); /* the END alone: held */
    assert_int_equal(dk_pipe_proto(r.p), DK_PROTO_UNKNOWN);
    dk_pipe_bytes(r.p, 2000, DK_DIR_HOST, host.b + 1, host.n - 1, 1);
    assert_int_equal(dk_pipe_proto(r.p), DK_PROTO_HCI);
    dk_pipe_bytes(r.p, 3000, DK_DIR_TARGET, target.b, target.n, host.n);
    toy *t = last_toy;
    assert_non_null(t);
    /* the held END came first, then everything in order */
    assert_int_equal(t->first_kind, DK_SLIP_EMPTY);
    assert_int_equal(t->first_start, 0);
    assert_int_equal(t->frames, 4);
    assert_int_equal(t->empties, 4 + 1);
    char *out = run_close(&r);
    /* the toy's events, through the shared printer; no Secure DFU reading */
    assert_non_null(strstr(out, "--> OBJECT_WRITE x1: 8 bytes data [0, 8)"));
    assert_non_null(strstr(out, "--> OBJECT_WRITE x1: 100 bytes data [8, 108)"));
    assert_non_null(strstr(out, "!! warning msg.overlong: toy: data packet 2 [bytes "));
    assert_null(strstr(out, "msg.unknown_opcode"));
    assert_null(strstr(out, "slip.empty_frame"));
    /* the diagnosis, picked by the pipeline from the toy's summary */
    assert_non_null(strstr(out, "  outcome:    completed\n"));
    assert_non_null(strstr(out, "[update.completed]"));
    free(out);
}

/* A Secure DFU session, with an empty frame and noise in front. */
static size_t sdfu_stream(bytes *o, dk_dir *dirs, size_t *cuts)
{
    size_t k = 0;
    o->n = 0;
    o->b[o->n++] = DK_SLIP_END; /* some hosts start with an END */
    static const uint8_t noise[] = { 0x42, 0x43, DK_SLIP_END };
    memcpy(o->b + o->n, noise, sizeof noise);
    o->n += sizeof noise;
    dirs[k] = DK_DIR_HOST;
    cuts[k++] = o->n;
    for (uint8_t id = 1; id <= 3; id++) {
        dk_msg q = dk_msg_request(DK_OP_PING);
        q.req.ping.id = id;
        put_msg(o, &q);
        dirs[k] = DK_DIR_HOST;
        cuts[k++] = o->n;
        dk_msg a = dk_msg_response(DK_OP_PING, DK_RES_SUCCESS);
        a.rsp.ping.id = id;
        put_msg(o, &a);
        dirs[k] = DK_DIR_TARGET;
        cuts[k++] = o->n;
    }
    dk_msg q = dk_msg_request(DK_OP_OBJECT_SELECT);
    q.req.select.type = DK_OBJ_COMMAND;
    put_msg(o, &q); /* never answered */
    dirs[k] = DK_DIR_HOST;
    cuts[k++] = o->n;
    return k;
}

static char *decode_sdfu(const dk_tracker_ops *second, bool json)
{
    bytes s;
    dk_dir dirs[16];
    size_t cuts[16];
    size_t n = sdfu_stream(&s, dirs, cuts);
    run_t r;
    dk_pipe_opts o = { .json = json };
    run_open(&r, &o, second);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        dk_pipe_bytes(r.p, 1000000 + (int64_t)i * 1000, dirs[i], s.b + at, cuts[i] - at, at);
        at = cuts[i];
    }
    assert_int_equal(dk_pipe_proto(r.p), DK_PROTO_SDFU);
    return run_close(&r);
}

/* With a second tracker registered, a Secure DFU stream prints exactly as
 * without it: what was held (an empty frame, noise) is replayed in order. */
static void sdfu_with_second_tracker(void **state)
{
    (void)state;
    for (int json = 0; json < 2; json++) {
        last_toy = NULL;
        char *a = decode_sdfu(NULL, json), *b = decode_sdfu(&toy_ops, json);
        assert_null(last_toy); /* never made */
        assert_string_equal(a, b);
        assert_non_null(strstr(a, json ? "slip.empty_frame" : "!! warning slip.empty_frame"));
        assert_non_null(strstr(a, "PING"));
        free(a);
        free(b);
    }
}

/* Nothing decisive within DK_PIPE_HOLD events: Secure DFU, in order. */
static void hold_overflow(void **state)
{
    (void)state;
    uint8_t ends[DK_PIPE_HOLD + 8];
    memset(ends, DK_SLIP_END, sizeof ends);
    run_t a, b;
    run_open(&a, NULL, NULL);
    run_open(&b, NULL, &toy_ops);
    dk_pipe_bytes(a.p, -1, DK_DIR_HOST, ends, sizeof ends, 0);
    dk_pipe_bytes(b.p, -1, DK_DIR_HOST, ends, sizeof ends, 0);
    assert_int_equal(dk_pipe_proto(b.p), DK_PROTO_SDFU);
    char *x = run_close(&a), *y = run_close(&b);
    assert_string_equal(x, y);
    assert_non_null(strstr(x, "slip.empty_frame x40"));
    free(x);
    free(y);
}

static void ignore(void *ctx, const dk_event *ev)
{
    (void)ctx, (void)ev;
}

/* The diagnosis needs the facts: a log without messages whose host says
 * "Device programmed." is a completed update (the summary alone: an empty
 * capture).  The session itself leaves diag NULL. */
static void diagnosis_once(void **state)
{
    (void)state;
    dk_tool_ev tv;
    memset(&tv, 0, sizeof tv);
    tv.kind = DK_TOOL_DONE;
    snprintf(tv.text, sizeof tv.text, "Device programmed.");
    dk_logrec rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = DK_LR_TOOL;
    rec.fmt = DK_LOG_NRFUTIL;
    rec.line = 7;
    rec.off = 300;
    rec.t_us = -1;
    rec.tool = &tv;
    run_t r;
    run_open(&r, NULL, NULL);
    dk_pipe_record(r.p, &rec);
    assert_null(dk_pipe_diag(r.p));
    char *out = run_close(&r);
    assert_non_null(strstr(out, "@300         ## nrfutil: Device programmed.\n"));
    assert_non_null(strstr(out, "[update.completed]"));
    free(out);
    dk_summary empty;
    memset(&empty, 0, sizeof empty);
    assert_string_equal(dk_diag_pick(&empty)->id, "capture.empty");
    /* the tracker's own summary has no diagnosis */
    dk_session *s = dk_session_new(ignore, NULL);
    assert_non_null(s);
    dk_session_finish(s);
    assert_null(dk_session_summary(s)->diag);
    dk_session_free(s);
}

/* ---- the package check ---------------------------------------------- */

static uint8_t bin[3000], dat[40];

static void make_pkg(dk_pkg *pkg)
{
    memset(pkg, 0, sizeof *pkg);
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 13 + 5);
    for (size_t i = 0; i < sizeof dat; i++)
        dat[i] = (uint8_t)(0x80 | i);
    pkg->n = 1;
    dk_image *im = &pkg->img[0];
    im->kind = DK_IMG_APPLICATION;
    snprintf(im->bin_name, sizeof im->bin_name, "app.bin");
    snprintf(im->dat_name, sizeof im->dat_name, "app.dat");
    im->bin = bin;
    im->bin_len = sizeof bin;
    im->dat = dat;
    im->dat_len = sizeof dat;
}

typedef struct {
    dk_event ev[8];
    int n;
} caught;

static void catch_ev(void *ctx, const dk_event *ev)
{
    caught *c = ctx;
    assert_true(c->n < 8);
    c->ev[c->n++] = *ev;
}

static dk_event write_ev(uint32_t off, const uint8_t *d, size_t len, uint64_t start)
{
    dk_event e;
    memset(&e, 0, sizeof e);
    e.kind = DK_EV_WRITE;
    e.t_us = 5000;
    e.start = start;
    e.end = start + len + 2;
    e.dir = DK_DIR_HOST;
    e.image = 1;
    e.u.w.obj_type = DK_OBJ_DATA;
    e.u.w.data = d;
    e.u.w.len = len;
    e.u.w.offset = off;
    return e;
}

static void pkg_consumer(void **state)
{
    (void)state;
    dk_pkg pkg;
    make_pkg(&pkg);
    assert_null(dk_pkgcheck_new(&(dk_pkg){ .n = 0 }, "x.zip"));
    dk_pkgcheck *c = dk_pkgcheck_new(&pkg, "app.zip");
    assert_non_null(c);
    caught k = { .n = 0 };
    /* the init packet as sent: the .dat exactly */
    dk_event e;
    memset(&e, 0, sizeof e);
    e.kind = DK_EV_INIT;
    e.image = 1;
    e.u.init.bytes = dat;
    e.u.init.len = sizeof dat;
    dk_pkgcheck_event(c, &e, catch_ev, &k);
    /* two writes that match, one with a byte changed at 1100 */
    dk_event w = write_ev(0, bin, 1000, 100);
    dk_pkgcheck_event(c, &w, catch_ev, &k);
    uint8_t bad[1000];
    memcpy(bad, bin + 1000, sizeof bad);
    bad[100] ^= 0xFF;
    w = write_ev(1000, bad, sizeof bad, 1200);
    dk_pkgcheck_event(c, &w, catch_ev, &k);
    w = write_ev(2000, bin + 2000, 1000, 2300); /* checked, no second anomaly */
    dk_pkgcheck_event(c, &w, catch_ev, &k);
    assert_int_equal(k.n, 1);
    const dk_event *a = &k.ev[0];
    assert_int_equal(a->kind, DK_EV_ANOMALY);
    assert_int_equal(a->u.an.id, DK_AN_PKG_DATA_MISMATCH);
    assert_string_equal(dk_anomaly_name(a->u.an.id), "pkg.data_mismatch");
    assert_int_equal(a->u.an.severity, DK_SEV_ERROR);
    assert_int_equal(a->u.an.dir, DK_DIR_HOST);
    assert_int_equal(a->u.an.start, 1200);
    assert_int_equal(a->u.an.end, 2202);
    assert_int_equal(a->t_us, 5000);
    assert_int_equal(a->image, 1);
    assert_non_null(strstr(a->u.an.text, "first difference from app.bin at offset 1100"));
    assert_false(dk_pkgcheck_ok(c));
    const dk_pkg_report *rep = dk_pkgcheck_report(c);
    assert_string_equal(rep->file, "app.zip");
    assert_false(rep->ok);
    assert_int_equal(rep->n, 1);
    assert_true(rep->img[0].init_seen);
    assert_false(rep->img[0].init_diff);
    assert_int_equal(rep->img[0].checked, 3000);
    assert_true(rep->img[0].diff);
    assert_int_equal(rep->img[0].first, 1100);
    /* a write past the .bin's end is a difference too (a fresh check) */
    dk_pkgcheck_free(c);
    c = dk_pkgcheck_new(&pkg, "app.zip");
    k.n = 0;
    w = write_ev(2900, bin + 2900, 100, 10);
    dk_pkgcheck_event(c, &w, catch_ev, &k);
    assert_int_equal(k.n, 0);
    uint8_t more[200];
    memset(more, 0, sizeof more);
    w = write_ev(3000, more, sizeof more, 20);
    dk_pkgcheck_event(c, &w, catch_ev, &k);
    assert_int_equal(k.n, 1);
    assert_non_null(strstr(k.ev[0].u.an.text, "goes past the end of app.bin (3000 bytes)"));
    /* an init packet that differs */
    uint8_t d2[sizeof dat];
    memcpy(d2, dat, sizeof d2);
    d2[7] = 0;
    e.u.init.bytes = d2;
    dk_pkgcheck_event(c, &e, catch_ev, &k);
    assert_int_equal(k.n, 2);
    assert_int_equal(k.ev[1].u.an.id, DK_AN_PKG_INIT_MISMATCH);
    assert_non_null(strstr(k.ev[1].u.an.text, "differs from app.dat at byte 7"));
    dk_pkgcheck_free(c);
}

/* Through the pipeline: the printer prints the pkg anomaly like any other,
 * the report after the summary; the summary counts only the session's. */
static void pkg_in_pipeline(void **state)
{
    (void)state;
    dk_pkg pkg;
    make_pkg(&pkg);
    bytes s;
    s.n = 0;
    dk_msg m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = DK_OBJ_DATA;
    m.req.create.size = 3000;
    put_msg(&s, &m);
    uint8_t f[80];
    f[0] = DK_OP_OBJECT_WRITE;
    memcpy(f + 1, bin, 64);
    f[1 + 10] ^= 1;
    put_frame(&s, f, 65);
    run_t r;
    dk_pipe_opts o = { .pkg = &pkg, .pkg_name = "app.zip", .split = true };
    run_open(&r, &o, NULL);
    dk_pipe_bytes(r.p, -1, DK_DIR_HOST, s.b, s.n, 0);
    assert_false(dk_pipe_pkg_ok(r.p));
    dk_pipe_finish(r.p);
    assert_int_equal(dk_pipe_summary(r.p)->an_count[DK_AN_PKG_DATA_MISMATCH], 0);
    char *out = run_close(&r);
    assert_int_equal(r.pkg_anomalies, 0);
    const char *an = strstr(out, "!! error pkg.data_mismatch: image 1: first difference from "
                                 "app.bin at offset 10: sent ");
    assert_non_null(strstr(out, "package has 0x87 [host bytes ")); /* the file it is in */
    const char *sum = strstr(out, "summary:\n");
    const char *rep = strstr(out, "package:     app.zip: DIFFERS\n"
                                  "    image 1 = app.bin/app.dat: init packet not in the capture; "
                                  "64 data bytes checked, first difference at offset 10\n");
    assert_non_null(an);
    assert_non_null(sum);
    assert_non_null(rep);
    assert_true(an < sum && sum < rep);
    assert_null(strstr(sum, "pkg.data_mismatch x")); /* the session's counts only */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_streams),
        cmocka_unit_test(first_flag),
        cmocka_unit_test(sniff_frames),
        cmocka_unit_test(second_tracker),
        cmocka_unit_test(sdfu_with_second_tracker),
        cmocka_unit_test(hold_overflow),
        cmocka_unit_test(diagnosis_once),
        cmocka_unit_test(pkg_consumer),
        cmocka_unit_test(pkg_in_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
