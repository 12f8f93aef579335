/* test_session.c - the session tracker, fed message sequences built with the
 * lib encoders (msg, slip, initpkt).  Section numbers: protocol.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/diag.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/session.h"
#include "dfukit/slip.h"

/* ---- recorder ------------------------------------------------------- */

#define MAXEV 4096

typedef struct {
    dk_event ev[MAXEV];
    int n;
    dk_summary sum;
    bool have_sum;
    int writes;       /* DK_EV_WRITE seen */
    int prns;
    int runs;
    bool init_ok;
    uint32_t init_app_size;
    dk_session *s;
    uint64_t pos;
    int64_t now;
    /* A twin fed the same frames without WRITE events, so that its writes
     * take session.c's streaming path; rec_free compares its events with
     * the main session's (which always takes on_write). */
    dk_session *twin;
    dk_event *tev;
    int tn;
} rec;

static bool seen_id[DK_AN_COUNT]; /* every anomaly id must be triggered somewhere */

static void on_ev(void *ctx, const dk_event *e)
{
    rec *r = ctx;
    if (e->kind == DK_EV_SUMMARY) {
        assert_null(e->u.sum->diag); /* the pipeline picks it, not the tracker */
        r->sum = *e->u.sum;
        r->sum.diag = dk_diag_pick(&r->sum); /* what the summary alone says */
        r->have_sum = true;
    }
    if (e->kind == DK_EV_WRITE) {
        r->writes++;
        return; /* not stored: there are many */
    }
    if (e->kind == DK_EV_PRN)
        r->prns++;
    if (e->kind == DK_EV_WRITES)
        r->runs++;
    if (e->kind == DK_EV_INIT && e->u.init.ok) {
        r->init_ok = true;
        r->init_app_size = e->u.init.pkt->init.app_size;
    }
    if (e->kind == DK_EV_ANOMALY)
        seen_id[e->u.an.id] = true;
    if (r->n < MAXEV)
        r->ev[r->n++] = *e;
}

static void on_twin(void *ctx, const dk_event *e)
{
    rec *r = ctx;
    assert_int_not_equal(e->kind, DK_EV_WRITE);
    if (r->tn < MAXEV)
        r->tev[r->tn++] = *e;
}

static rec *rec_new(void)
{
    rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->s = dk_session_new(on_ev, r);
    assert_non_null(r->s);
    r->twin = dk_session_new(on_twin, r);
    r->tev = calloc(MAXEV, sizeof *r->tev);
    assert_non_null(r->twin);
    assert_non_null(r->tev);
    dk_session_write_events(r->twin, false);
    r->now = 1000000;
    return r;
}

/* The test feeds r->s directly from here on: no twin comparison. */
static void untwin(rec *r)
{
    dk_session_free(r->twin);
    r->twin = NULL;
}

/* Events of the main session and of its twin agree (WRITE events aside). */
static void same_events(const dk_event *a, const dk_event *b, int i)
{
    if (a->kind != b->kind || a->t_us != b->t_us || a->start != b->start || a->end != b->end ||
        a->dir != b->dir || a->image != b->image)
        fail_msg("event %d: kind %d/%d, t %lld/%lld, span %llu..%llu/%llu..%llu", i, a->kind,
                 b->kind, (long long)a->t_us, (long long)b->t_us, (unsigned long long)a->start,
                 (unsigned long long)a->end, (unsigned long long)b->start,
                 (unsigned long long)b->end);
    switch (a->kind) {
    case DK_EV_WRITES:
        assert_memory_equal(&a->u.run, &b->u.run, sizeof a->u.run);
        break;
    case DK_EV_PRN:
        assert_memory_equal(&a->u.prn, &b->u.prn, sizeof a->u.prn);
        break;
    case DK_EV_IMAGE:
        assert_memory_equal(&a->u.img, &b->u.img, sizeof a->u.img);
        break;
    case DK_EV_RESUME:
        assert_memory_equal(&a->u.resume, &b->u.resume, sizeof a->u.resume);
        break;
    case DK_EV_ANOMALY:
        assert_int_equal(a->u.an.id, b->u.an.id);
        assert_string_equal(a->u.an.text, b->u.an.text);
        break;
    case DK_EV_INIT:
        assert_int_equal(a->u.init.ok, b->u.init.ok);
        assert_int_equal(a->u.init.len, b->u.init.len);
        assert_int_equal(a->u.init.crc, b->u.init.crc);
        break;
    case DK_EV_EXCHANGE: {
        const dk_exchange *x = &a->u.x, *y = &b->u.x;
        assert_int_equal(x->has_req, y->has_req);
        assert_int_equal(x->has_rsp, y->has_rsp);
        assert_int_equal(x->req.op, y->req.op);
        assert_int_equal(x->rsp.op, y->rsp.op);
        assert_int_equal(x->rsp.result, y->rsp.result);
        assert_int_equal(x->check, y->check);
        assert_int_equal(x->exp_offset, y->exp_offset);
        assert_int_equal(x->exp_crc, y->exp_crc);
        assert_int_equal(x->late, y->late);
        assert_true(x->latency_us == y->latency_us);
        break;
    }
    case DK_EV_SUMMARY:
        assert_memory_equal(a->u.sum, b->u.sum, sizeof *a->u.sum);
        break;
    default:
        break;
    }
}

static void rec_free(rec *r)
{
    if (r->twin) {
        dk_session_finish(r->s);
        dk_session_finish(r->twin);
        if (r->n != r->tn)
            fail_msg("twin: %d events, main session %d", r->tn, r->n);
        for (int i = 0; i < r->n; i++) {
            /* the summary pointer is the session's own: compare while both live */
            same_events(&r->ev[i], &r->tev[i], i);
        }
        dk_session_free(r->twin);
    }
    dk_session_free(r->s);
    free(r->tev);
    free(r);
}

static int count_an(const rec *r, dk_anomaly_id id)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_ANOMALY && r->ev[i].u.an.id == id)
            n++;
    return n;
}

static const dk_anomaly *find_an(const rec *r, dk_anomaly_id id)
{
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_ANOMALY && r->ev[i].u.an.id == id)
            return &r->ev[i].u.an;
    return NULL;
}

static const dk_event *find_kind(const rec *r, dk_ev_kind k, int nth)
{
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == k && nth-- == 0)
            return &r->ev[i];
    return NULL;
}

static int total_an(const rec *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += r->ev[i].kind == DK_EV_ANOMALY;
    return n;
}

/* ---- message builders (lib encoders) -------------------------------- */

static void feed(rec *r, const dk_msg *m, dk_dir dir)
{
    uint8_t buf[2048];
    size_t n = dk_msg_encode(m, buf, sizeof buf);
    assert_true(n > 0);
    r->now += 500;
    dk_session_frame(r->s, buf, n, false, r->now, dir, r->pos, r->pos + n + 1);
    if (r->twin)
        dk_session_frame(r->twin, buf, n, false, r->now, dir, r->pos, r->pos + n + 1);
    r->pos += n + 1;
}

static void tx(rec *r, dk_msg m) { feed(r, &m, DK_DIR_HOST); }
static void rx(rec *r, dk_msg m) { feed(r, &m, DK_DIR_TARGET); }

static dk_msg q_ping(uint8_t id) { dk_msg m = dk_msg_request(DK_OP_PING); m.req.ping.id = id; return m; }
static dk_msg q_prn(uint16_t n) { dk_msg m = dk_msg_request(DK_OP_RECEIPT_NOTIF_SET); m.req.prn.target = n; return m; }
static dk_msg q_select(uint8_t t) { dk_msg m = dk_msg_request(DK_OP_OBJECT_SELECT); m.req.select.type = t; return m; }
static dk_msg q_create(uint8_t t, uint32_t size)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = t;
    m.req.create.size = size;
    return m;
}
static dk_msg q_write(const uint8_t *d, size_t n)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_WRITE);
    m.req.write.data = d;
    m.req.write.len = n;
    return m;
}
static dk_msg q(uint8_t op) { return dk_msg_request(op); }

static dk_msg a_ok(uint8_t op) { return dk_msg_response(op, DK_RES_SUCCESS); }
static dk_msg a_ping(uint8_t id) { dk_msg m = a_ok(DK_OP_PING); m.rsp.ping.id = id; return m; }
static dk_msg a_crc(uint32_t off, uint32_t crc)
{
    dk_msg m = a_ok(DK_OP_CRC_GET);
    m.rsp.crc.offset = off;
    m.rsp.crc.crc = crc;
    return m;
}
static dk_msg a_select(uint32_t max, uint32_t off, uint32_t crc)
{
    dk_msg m = a_ok(DK_OP_OBJECT_SELECT);
    m.rsp.select.max_size = max;
    m.rsp.select.offset = off;
    m.rsp.select.crc = crc;
    return m;
}
static dk_msg a_ext(uint8_t op, uint8_t ext)
{
    dk_msg m = dk_msg_response(op, DK_RES_EXT_ERROR);
    m.ext = ext;
    m.has_ext = true;
    return m;
}

/* ---- fixtures: image, init packet, a well-behaved exchange --------- */

static uint8_t image[12000];
static uint8_t dat[256];
static size_t dat_len;

static size_t make_dat(uint32_t app_size, uint32_t fw_type, uint8_t *out, size_t cap)
{
    dk_initpkt k;
    memset(&k, 0, sizeof k);
    k.has_init = true;
    k.init.has_fw_version = true;
    k.init.fw_version = 2;
    k.init.has_hw_version = true;
    k.init.hw_version = 52;
    k.init.sd_req_count = 1;
    k.init.sd_req[0] = 0x100;
    k.init.has_type = true;
    k.init.type = fw_type;
    if (fw_type == DK_FW_SOFTDEVICE) {
        k.init.has_sd_size = true;
        k.init.sd_size = app_size;
    } else {
        k.init.has_app_size = true;
        k.init.app_size = app_size;
    }
    k.init.has_hash = true;
    k.init.hash_type = DK_HASH_SHA256;
    k.init.hash_len = 32;
    memset(k.init.hash, 0xab, 32);
    size_t n = dk_initpkt_encode(&k, out, cap);
    assert_true(n > 0);
    return n;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7 + (i >> 8));
    dat_len = make_dat(6000, DK_FW_APPLICATION, dat, sizeof dat);
    return 0;
}

/* PING, PRN, MTU (§5.2 open) */
static void connect_(rec *r, uint16_t prn)
{
    tx(r, q_ping(1));
    rx(r, a_ping(1));
    tx(r, q_prn(prn));
    rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
    tx(r, q(DK_OP_MTU_GET));
    dk_msg m = a_ok(DK_OP_MTU_GET);
    m.rsp.mtu.mtu = 131;
    rx(r, m);
}

/* Writes in 64-byte chunks; answers PRN notifications like the SDK (§2.3). */
static void writes(rec *r, const uint8_t *d, size_t n, uint32_t base, uint32_t *crc, uint16_t prn,
                   unsigned *count)
{
    for (size_t o = 0; o < n; o += 64) {
        size_t k = n - o < 64 ? n - o : 64;
        tx(r, q_write(d + o, k));
        *crc = dk_crc32(*crc, d + o, k);
        if (prn && ++*count == prn) {
            *count = 0;
            rx(r, a_crc(base + (uint32_t)(o + k), *crc));
        }
    }
}

static void send_init(rec *r, const uint8_t *d, size_t n, uint16_t prn)
{
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, 0, 0));
    tx(r, q_create(DK_OBJ_COMMAND, (uint32_t)n));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, d, n, 0, &crc, prn, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc((uint32_t)n, crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
}

static void send_data(rec *r, const uint8_t *img, size_t n, uint16_t prn)
{
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    uint32_t crc = 0;
    for (size_t o = 0; o < n; o += 4096) {
        size_t k = n - o < 4096 ? n - o : 4096;
        tx(r, q_create(DK_OBJ_DATA, (uint32_t)k));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        unsigned cnt = 0;
        writes(r, img + o, k, (uint32_t)o, &crc, prn, &cnt);
        tx(r, q(DK_OP_CRC_GET));
        rx(r, a_crc((uint32_t)(o + k), crc));
        tx(r, q(DK_OP_OBJECT_EXECUTE));
        rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    }
}

static void full_update(rec *r, uint16_t prn)
{
    connect_(r, prn);
    send_init(r, dat, dat_len, prn);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    send_data(r, image, 6000, prn);
}

/* ---- tests ---------------------------------------------------------- */

static void complete_prn0(void **state)
{
    (void)state;
    rec *r = rec_new();
    full_update(r, 0);
    dk_session_finish(r->s);
    assert_true(r->have_sum);
    assert_int_equal(total_an(r), 0);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    assert_int_equal(r->sum.n_images, 1);
    assert_true(r->sum.img[0].completed);
    assert_true(r->sum.img[0].init_ok);
    assert_int_equal(r->sum.img[0].size, 6000);
    assert_int_equal(r->sum.bytes_data, 6000);
    assert_int_equal(r->sum.bytes_cmd, dat_len);
    assert_true(r->init_ok);
    assert_int_equal(r->init_app_size, 6000);
    assert_string_equal(r->sum.diag->id, "update.completed");
    /* every CRC report was checked and matched */
    int checked = 0;
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_EXCHANGE && r->ev[i].u.x.check == DK_CHECK_OK)
            checked++;
    assert_int_equal(checked, 1 + 1 + 2); /* command CRC_GET, SELECT data, 2 data CRC_GETs */
    const dk_event *done = find_kind(r, DK_EV_IMAGE, 1);
    assert_non_null(done);
    assert_true(done->u.img.done);
    assert_int_equal(done->u.img.crc, dk_crc32(0, image, 6000));
    /* writes folded: one run for the command object, one per data object */
    assert_int_equal(r->runs, 3);
    assert_int_equal(r->writes, (int)(dat_len + 63) / 64 + 64 + 30);
    assert_true(r->sum.duration_s > 0);
    rec_free(r);
}

static void complete_prn_every_3(void **state)
{
    (void)state;
    rec *r = rec_new();
    full_update(r, 3);
    assert_true(dk_session_awaiting(r->s) == false);
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 0);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    /* 2 command writes (no PRN), 64 writes -> 21, 30 writes -> 10 (counter reset by CREATE) */
    assert_int_equal(r->prns, 21 + 10);
    const dk_event *run = find_kind(r, DK_EV_WRITES, 1);
    assert_int_equal(run->u.run.prn_ok, 21);
    assert_int_equal(run->u.run.prn_bad, 0);
    rec_free(r);
}

static void prn_mismatch_and_awaiting(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 2);
    send_init(r, dat, dat_len, 2);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    assert_true(dk_session_awaiting(r->s));
    rx(r, a_select(4096, 0, 0));
    assert_false(dk_session_awaiting(r->s));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    tx(r, q_write(image, 64));
    assert_false(dk_session_awaiting(r->s));
    tx(r, q_write(image + 64, 64));
    assert_true(dk_session_awaiting(r->s)); /* a PRN is due (§2.3) */
    rx(r, a_crc(128, 0xdeadbeef));
    assert_false(dk_session_awaiting(r->s));
    const dk_anomaly *a = find_an(r, DK_AN_DFU_CRC_MISMATCH);
    assert_non_null(a);
    assert_non_null(strstr(a->text, "PRN"));
    dk_session_finish(r->s);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_INTERRUPTED);
    assert_string_equal(r->sum.diag->id, "data.crc_mismatch");
    rec_free(r);
}

static void response_without_request(void **state)
{
    (void)state;
    rec *r = rec_new();
    rx(r, a_ping(7));
    const dk_anomaly *a = find_an(r, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST);
    assert_non_null(a);
    assert_int_equal(a->severity, DK_SEV_ERROR);
    assert_int_equal(a->start, 0);
    /* a notification with PRN off is one too */
    rx(r, a_crc(0, 0));
    assert_int_equal(count_an(r, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST), 2);
    rec_free(r);
}

static void no_response_then_ping_again(void **state)
{
    (void)state;
    rec *r = rec_new();
    tx(r, q_ping(1));
    tx(r, q_ping(2)); /* nrfutil pings again after 1 s (§5.2) */
    rx(r, a_ping(2));
    const dk_anomaly *a = find_an(r, DK_AN_DFU_NO_RESPONSE);
    assert_non_null(a);
    assert_int_equal(a->op, DK_OP_PING);
    assert_int_equal(a->start, 0); /* the first PING's span */
    assert_int_equal(count_an(r, DK_AN_DFU_LATE_RESPONSE), 0);
    /* a request left waiting at the end is reported by finish */
    tx(r, q(DK_OP_MTU_GET));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 2);
    rec_free(r);
}

/* A host checking after the update that the target left its bootloader
 * (§14.9): the app does not answer its PINGs.  Information, said once per
 * image; the same PING before anything completed is an unanswered request. */
static void boot_check_after_completed(void **state)
{
    (void)state;
    rec *r = rec_new();
    full_update(r, 0);
    tx(r, q_ping(9));
    tx(r, q_ping(10));
    tx(r, q_ping(11));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_BOOT_CHECK), 1);
    const dk_anomaly *a = find_an(r, DK_AN_DFU_BOOT_CHECK);
    assert_int_equal(a->severity, DK_SEV_INFO);
    assert_int_equal(a->op, DK_OP_PING);
    assert_non_null(strstr(a->text, "image 1 completed"));
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    assert_string_equal(r->sum.diag->id, "update.completed");
    rec_free(r);

    /* interrupted before the end: the PING is owed an answer */
    r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_ping(9));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_BOOT_CHECK), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
    rec_free(r);
}

static void only_pings_no_answer(void **state)
{
    (void)state;
    rec *r = rec_new();
    for (int i = 1; i <= 5; i++)
        tx(r, q_ping((uint8_t)i));
    dk_session_finish(r->s);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_NO_RESPONSE);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 5);
    assert_string_equal(r->sum.diag->id, "link.no_answer");
    rec_free(r);
}

static void empty_session(void **state)
{
    (void)state;
    rec *r = rec_new();
    dk_session_finish(r->s);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_EMPTY);
    assert_string_equal(r->sum.diag->id, "capture.empty");
    rec_free(r);
}

/* §5.2: a missing EXECUTE answer read as the next CREATE's answer. */
static void late_response_desync(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 4096, 0, &crc, 0, &cnt);
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 1904)); /* host gave up waiting */
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_LATE_RESPONSE), 1);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 0);
    /* the EXECUTE happened before the CREATE on the target: nothing thrown away */
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_DISCARDED), 0);
    assert_int_equal(r->sum.stop_offset, 4096);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_INTERRUPTED);
    assert_string_equal(r->sum.diag->id, "link.desync");
    /* The anomaly follows its exchange and carries the exchange's time and
     * position (a transcript in time order), its bytes are the answer's. */
    int i = 0;
    while (i < r->n && !(r->ev[i].kind == DK_EV_ANOMALY &&
                         r->ev[i].u.an.id == DK_AN_DFU_LATE_RESPONSE))
        i++;
    assert_true(i > 0 && i < r->n);
    const dk_event *x = &r->ev[i - 1], *an = &r->ev[i];
    assert_int_equal(x->kind, DK_EV_EXCHANGE);
    assert_true(x->u.x.late);
    assert_true(an->t_us == x->u.x.t_req);
    assert_int_equal(an->start, x->u.x.req_start);
    assert_int_equal(an->dir, DK_DIR_HOST);
    assert_int_equal(an->u.an.dir, DK_DIR_TARGET);
    assert_int_equal(an->u.an.start, x->u.x.rsp_start);
    assert_int_equal(an->u.an.end, x->u.x.rsp_end);
    /* the late EXECUTE closed its own object, not the one created meanwhile */
    assert_true(r->sum.stop_open);
    assert_int_equal(r->sum.stop_open_start, 4096);
    assert_int_equal(r->sum.stop_open_end, 4096 + 1904);
    assert_int_equal(r->sum.stop_check, DK_CHECK_NONE);
    assert_int_equal(r->ev[i + 1].kind, DK_EV_EXCHANGE);
    assert_true(x->u.x.t_rsp > r->ev[i + 1].u.x.t_req); /* the CREATE went out before */
    rec_free(r);
}

/* Noise glued to a response is noted after the exchange line (stamped
 * with the request); noise glued to a request before it. */
static void frame_notes_order(void **state)
{
    (void)state;
    rec *r = rec_new();
    uint8_t f[16];
    dk_msg m = q_ping(7);
    size_t n = dk_msg_encode(&m, f + 2, sizeof f - 2);
    f[0] = f[1] = 0xF0;
    r->now += 500;
    dk_session_frame(r->s, f, n + 2, false, r->now, DK_DIR_HOST, 100, 100 + n + 3);
    dk_session_frame(r->twin, f, n + 2, false, r->now, DK_DIR_HOST, 100, 100 + n + 3);
    m = a_ping(7);
    n = dk_msg_encode(&m, f + 2, sizeof f - 2);
    r->now += 500;
    dk_session_frame(r->s, f, n + 2, false, r->now, DK_DIR_TARGET, 200, 200 + n + 3);
    dk_session_frame(r->twin, f, n + 2, false, r->now, DK_DIR_TARGET, 200, 200 + n + 3);
    assert_int_equal(r->n, 3);
    assert_int_equal(r->ev[0].kind, DK_EV_ANOMALY);
    assert_int_equal(r->ev[0].start, 100);
    assert_int_equal(r->ev[1].kind, DK_EV_EXCHANGE);
    assert_int_equal(r->ev[2].kind, DK_EV_ANOMALY);
    assert_int_equal(r->ev[2].u.an.id, DK_AN_SLIP_NOISE);
    assert_int_equal(r->ev[2].start, 200);
    assert_true(r->ev[2].t_us > r->ev[1].u.x.t_req);
    rec_free(r);
}

static void unexpected_opcode(void **state)
{
    (void)state;
    rec *r = rec_new();
    tx(r, q(DK_OP_CRC_GET));
    dk_msg m = a_ok(DK_OP_MTU_GET);
    m.rsp.mtu.mtu = 131;
    rx(r, m);
    const dk_anomaly *a = find_an(r, DK_AN_DFU_UNEXPECTED_OPCODE);
    assert_non_null(a);
    assert_int_equal(a->op, DK_OP_MTU_GET);
    assert_true(dk_session_awaiting(r->s)); /* CRC_GET still waits */
    dk_session_finish(r->s);
    assert_string_equal(r->sum.diag->id, "link.unexpected_response");
    rec_free(r);
}

static void crc_mismatch_on_crc_get(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 4096, 0, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc ^ 0x10));
    dk_session_finish(r->s);
    const dk_anomaly *a = find_an(r, DK_AN_DFU_CRC_MISMATCH);
    assert_non_null(a);
    const dk_event *x = NULL;
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_EXCHANGE && r->ev[i].u.x.req.op == DK_OP_CRC_GET)
            x = &r->ev[i];
    assert_non_null(x);
    assert_int_equal(x->u.x.check, DK_CHECK_CRC_BAD);
    assert_int_equal(x->u.x.exp_crc, crc);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_INTERRUPTED);
    assert_int_equal(r->sum.stop_offset, 4096);
    assert_int_equal(r->sum.stop_size, 6000);
    assert_string_equal(r->sum.diag->id, "data.crc_mismatch");
    /* the host stopped on that answer, with the object not executed */
    assert_int_equal(r->sum.stop_check, DK_CHECK_CRC_BAD);
    assert_true(r->sum.stop_open);
    assert_int_equal(r->sum.stop_open_start, 0);
    assert_int_equal(r->sum.stop_open_end, 4096);
    /* the run shows the CRC of the bytes sent, not the one the target reported */
    const dk_event *run = find_kind(r, DK_EV_WRITES, 1); /* after the command object's */
    assert_non_null(run);
    assert_int_equal(run->u.run.off_end, 4096);
    assert_true(run->u.run.crc_known);
    assert_int_equal(run->u.run.crc_end, crc);
    rec_free(r);
}

static void offset_mismatch_bytes_lost(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 4096, 0, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4032, dk_crc32(0, image, 4032))); /* one write lost */
    dk_session_finish(r->s);
    const dk_anomaly *a = find_an(r, DK_AN_DFU_OFFSET_MISMATCH);
    assert_non_null(a);
    assert_non_null(strstr(a->text, "64 bytes did not arrive"));
    assert_int_equal(count_an(r, DK_AN_DFU_CRC_MISMATCH), 0);
    assert_string_equal(r->sum.diag->id, "data.bytes_lost");
    /* a target reporting more than was sent is a mismatch too */
    rec *r2 = rec_new();
    connect_(r2, 0);
    send_init(r2, dat, dat_len, 0);
    rx(r2, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r2, q(DK_OP_CRC_GET));
    rx(r2, a_crc((uint32_t)dat_len + 10, 0));
    assert_non_null(strstr(find_an(r2, DK_AN_DFU_OFFSET_MISMATCH)->text, "only"));
    rec_free(r2);
    rec_free(r);
}

/* §6.9: after a reset with SAVE_PROGRESS 0 the target reports data offset 0. */
static void offset_backwards_restart_and_resume(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 4096, 0, &crc, 0, &cnt);
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    writes(r, image + 4096, 640, 4096, &crc, 0, &cnt); /* (no CREATE: stray, fine) */
    /* reconnect: the target kept the executed object only */
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 4096, dk_crc32(0, image, 4096)));
    const dk_anomaly *a = find_an(r, DK_AN_DFU_OFFSET_BACKWARDS);
    assert_non_null(a);
    assert_non_null(strstr(a->text, "resumes from 4096"));
    assert_int_equal(count_an(r, DK_AN_DFU_CRC_MISMATCH), 0); /* checkpoint CRC matched */
    /* reconnect again: all progress lost */
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_BACKWARDS), 2);
    const dk_anomaly *b = NULL;
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_ANOMALY && r->ev[i].u.an.id == DK_AN_DFU_OFFSET_BACKWARDS)
            b = &r->ev[i].u.an;
    assert_non_null(strstr(b->text, "must be sent again from 0"));
    /* restarts counts what the host does: nothing resent yet */
    assert_int_equal(dk_session_summary(r->s)->restarts, 0);
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    assert_int_equal(dk_session_summary(r->s)->restarts, 1);
    rec_free(r);
}

/* ---- owed answers: PRN notifications and the order of answers -------- */

/* The anomaly events with id, in order. */
static const dk_event *nth_an(const rec *r, dk_anomaly_id id, int nth)
{
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_ANOMALY && r->ev[i].u.an.id == id && nth-- == 0)
            return &r->ev[i];
    return NULL;
}

/* n 64-byte data writes from image offset *off; the target sends a PRN
 * notification every `prn` writes (counting from *cnt) unless `mute`. */
static void data_writes(rec *r, uint32_t *off, uint32_t *crc, unsigned n, uint16_t prn,
                        unsigned *cnt, bool mute)
{
    for (unsigned i = 0; i < n; i++) {
        tx(r, q_write(image + *off, 64));
        *crc = dk_crc32(*crc, image + *off, 64);
        *off += 64;
        if (prn && ++*cnt == prn) {
            *cnt = 0;
            if (!mute)
                rx(r, a_crc(*off, *crc));
        }
    }
}

/* Up to the data object [4096, 6000) created, with PRN every prn writes. */
static void to_object2(rec *r, uint16_t prn, uint32_t *crc)
{
    connect_(r, prn);
    send_init(r, dat, dat_len, prn);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t off = 0;
    unsigned cnt = 0;
    *crc = 0;
    data_writes(r, &off, crc, 64, prn, &cnt, false);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, *crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 1904));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
}

/* captures/sim/kill-resume: the notification due after the 16th write of
 * object 2 (offset 5120) is lost and the host killed; a second host resumes
 * (PING, RECEIPT_NOTIF_SET 8, ...) at 5120.  The target answers in order
 * (§6.1) and RECEIPT_NOTIF_SET resets its counter (§2.3): the owed
 * notification never comes, and is said once; the later notification and
 * the CRC_GET answer pair with their own requests. */
static void prn_owed_across_restart(void **state)
{
    (void)state;
    rec *r = rec_new();
    uint32_t crc, off = 4096;
    unsigned cnt = 0;
    to_object2(r, 8, &crc);
    data_writes(r, &off, &crc, 8, 8, &cnt, false);  /* PRN at 4608 comes */
    uint64_t w16 = r->pos;
    data_writes(r, &off, &crc, 8, 8, &cnt, true);   /* PRN at 5120 lost */
    uint64_t w16_end = r->pos;
    assert_true(dk_session_awaiting(r->s));
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 0);
    /* the second host */
    connect_(r, 8);
    const dk_event *v = nth_an(r, DK_AN_DFU_NO_RESPONSE, 0);
    assert_non_null(v);
    assert_string_equal(v->u.an.text, "the PRN notification due at data offset 5120 never came");
    assert_int_equal(v->u.an.op, DK_OP_OBJECT_WRITE);
    assert_true(v->u.an.start >= w16 - 70 && v->u.an.end == w16_end); /* the 16th write */
    assert_true(v->u.an.start < w16_end);
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, (uint32_t)dat_len, dk_crc32(0, dat, dat_len)));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 5120, crc));
    cnt = 0;
    data_writes(r, &off, &crc, 8, 8, &cnt, false);  /* PRN at 5632 */
    tx(r, q_write(image + off, 6000 - off));
    crc = dk_crc32(crc, image + off, 6000 - off);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(6000, crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 1); /* only the lost notification */
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    assert_int_equal(r->sum.resumes, 1);
    assert_int_equal(r->sum.restarts, 0);
    /* every notification that came matched its own write */
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_PRN)
            assert_int_equal(r->ev[i].u.prn.check, DK_CHECK_OK);
    assert_int_equal(r->prns, 64 / 8 + 1 + 1);
    rec_free(r);
}

/* An owed notification is void once a later request is answered; a
 * notification already on its way when RECEIPT_NOTIF_SET or CREATE is sent
 * arrives before their answers and is still the notification (§6.1). */
static void prn_owed_void_at_answers(void **state)
{
    (void)state;
    /* RECEIPT_NOTIF_SET answered: void */
    rec *r = rec_new();
    uint32_t crc, off = 4096;
    unsigned cnt = 0;
    to_object2(r, 4, &crc);
    data_writes(r, &off, &crc, 4, 4, &cnt, true);
    tx(r, q_prn(4));
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 0);
    rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
    /* counting starts again: 4 writes, a notification, nothing else owed */
    cnt = 0;
    data_writes(r, &off, &crc, 4, 4, &cnt, false);
    assert_false(dk_session_awaiting(r->s));
    /* CREATE answered: void */
    data_writes(r, &off, &crc, 4, 4, &cnt, true);
    tx(r, q_create(DK_OBJ_DATA, 1904));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 2);
    assert_non_null(strstr(nth_an(r, DK_AN_DFU_NO_RESPONSE, 1)->u.an.text, "offset 4864 "));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 2);
    assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_MISMATCH), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST), 0);
    rec_free(r);

    /* in flight: the notification comes after the request, before its answer */
    r = rec_new();
    off = 4096;
    cnt = 0;
    to_object2(r, 4, &crc);
    data_writes(r, &off, &crc, 4, 4, &cnt, true);
    tx(r, q_prn(4));
    rx(r, a_crc(off, crc));
    rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
    tx(r, q_ping(9));
    rx(r, a_ping(9));
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 0);
    assert_int_equal(r->prns, 64 / 4 + 1);
    rec_free(r);

    /* PRN 1 and a target that sends none: more owed than the tracker keeps,
     * still said once */
    r = rec_new();
    connect_(r, 1);
    send_init(r, dat, dat_len, 1);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    crc = 0;
    for (uint32_t o = 0; o < 4096; o += 16) {
        tx(r, q_write(image + o, 16));
        crc = dk_crc32(crc, image + o, 16);
    }
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 1);
    assert_string_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->text,
                        "256 PRN notifications due at data offsets 16 to 4096 never came");
    rec_free(r);

    /* the capture ends while two are owed: said once, with the reason */
    r = rec_new();
    off = 4096;
    cnt = 0;
    to_object2(r, 4, &crc);
    data_writes(r, &off, &crc, 8, 4, &cnt, true);
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
    assert_string_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->text,
                        "2 PRN notifications due at data offsets 4352 to 4608 never came "
                        "(the capture ends)");
    rec_free(r);
}

/* A power cut after the EXECUTE of object 1 (§6.9, SAVE_PROGRESS 0): the
 * target's PRN is 0 again (RAM) and the host does not set it.  SELECT data
 * going back shows the reset: no notification is expected until the next
 * RECEIPT_NOTIF_SET, so each CRC_GET answer is the CRC_GET's.  The data is
 * sent again from 0: a restart. */
static void prn_off_after_reset(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 8);
    send_init(r, dat, dat_len, 8);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t off = 0, crc = 0;
    unsigned cnt = 0;
    data_writes(r, &off, &crc, 64, 8, &cnt, false);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE)); /* power cut: no answer */
    tx(r, q_ping(2));
    rx(r, a_ping(2));
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, (uint32_t)dat_len, dk_crc32(0, dat, dat_len)));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    assert_int_equal(dk_session_summary(r->s)->restarts, 0);
    off = crc = 0;
    for (uint32_t o = 0; o < 6000; o += 4096) {
        uint32_t k = 6000 - o < 4096 ? 6000 - o : 4096;
        tx(r, q_create(DK_OBJ_DATA, k));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        data_writes(r, &off, &crc, k / 64, 0, &cnt, true);
        if (k % 64) {
            tx(r, q_write(image + off, k % 64));
            crc = dk_crc32(crc, image + off, k % 64);
            off += k % 64;
        }
        assert_false(dk_session_awaiting(r->s)); /* no notification owed */
        tx(r, q_ping((uint8_t)(3 + o / 4096)));
        rx(r, a_ping((uint8_t)(3 + o / 4096)));
        tx(r, q(DK_OP_CRC_GET));
        rx(r, a_crc(off, crc));
        tx(r, q(DK_OP_OBJECT_EXECUTE));
        rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    }
    dk_session_finish(r->s);
    /* the true events: the EXECUTE the cut swallowed, the lost progress */
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
    assert_int_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->op, DK_OP_OBJECT_EXECUTE);
    assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_BACKWARDS), 1);
    assert_int_equal(total_an(r), 2);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    assert_int_equal(r->sum.restarts, 1);
    assert_int_equal(r->sum.resumes, 1); /* the init packet was kept */
    int crc_ok = 0;
    for (int i = 0; i < r->n; i++)
        crc_ok += r->ev[i].kind == DK_EV_EXCHANGE && r->ev[i].u.x.req.op == DK_OP_CRC_GET &&
                  r->ev[i].u.x.check == DK_CHECK_OK;
    assert_int_equal(crc_ok, 1 + 1 + 2);
    rec_free(r);
}

/* The host sets PRN again after the reset: notifications are expected and
 * checked again.  A target that did not reset after all (SELECT lower for
 * another reason) and keeps sending them is believed, not flagged. */
static void prn_after_reset_set_again_or_kept(void **state)
{
    (void)state;
    for (int again = 0; again < 2; again++) {
        rec *r = rec_new();
        uint32_t crc, off = 4096;
        unsigned cnt = 0;
        to_object2(r, 8, &crc);
        data_writes(r, &off, &crc, 8, 8, &cnt, false);
        /* reconnect: the target reports the executed boundary only */
        tx(r, q_ping(2));
        rx(r, a_ping(2));
        if (again) {
            tx(r, q_prn(8));
            rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
        }
        tx(r, q_select(DK_OBJ_DATA));
        rx(r, a_select(4096, 4096, dk_crc32(0, image, 4096)));
        if (!again) {
            tx(r, q_prn(0)); /* (the next RECEIPT_NOTIF_SET decides; here: off) */
            rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
            tx(r, q_prn(8));
            rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
        }
        tx(r, q_create(DK_OBJ_DATA, 1904));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        off = 4096;
        crc = dk_crc32(0, image, 4096);
        cnt = 0;
        data_writes(r, &off, &crc, 16, 8, &cnt, false);
        dk_session_finish(r->s);
        assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_BACKWARDS), 1);
        assert_int_equal(total_an(r), 1);
        assert_int_equal(r->prns, 8 + 1 + 2);
        rec_free(r);
    }

    /* The host set PRN when it reconnected, before the SELECT showed the
     * reset: that setting holds, so a notification that does not come is
     * still missed (a true event). */
    {
        rec *r = rec_new();
        uint32_t crc, off = 4096;
        unsigned cnt = 0;
        to_object2(r, 8, &crc);
        data_writes(r, &off, &crc, 8, 8, &cnt, false);
        tx(r, q_ping(2));
        rx(r, a_ping(2));
        tx(r, q_prn(8));
        rx(r, a_ok(DK_OP_RECEIPT_NOTIF_SET));
        tx(r, q_select(DK_OBJ_DATA));
        rx(r, a_select(4096, 4096, dk_crc32(0, image, 4096)));
        tx(r, q_create(DK_OBJ_DATA, 1904));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        off = 4096;
        crc = dk_crc32(0, image, 4096);
        cnt = 0;
        data_writes(r, &off, &crc, 10, 8, &cnt, true);
        tx(r, q(DK_OP_CRC_GET));
        rx(r, a_crc(off, crc));
        dk_session_finish(r->s);
        assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
        assert_string_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->text,
                            "the PRN notification due at data offset 4608 never came");
        rec_free(r);
    }

    /* no RECEIPT_NOTIF_SET after the SELECT, and the notifications still come */
    rec *r = rec_new();
    uint32_t crc, off = 4096;
    unsigned cnt = 0;
    to_object2(r, 8, &crc);
    data_writes(r, &off, &crc, 8, 8, &cnt, false);
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 4096, dk_crc32(0, image, 4096)));
    tx(r, q_create(DK_OBJ_DATA, 1904));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    off = 4096;
    crc = dk_crc32(0, image, 4096);
    cnt = 0;
    data_writes(r, &off, &crc, 24, 8, &cnt, false);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(off, crc));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST), 0);
    assert_int_equal(total_an(r), 1); /* offset_backwards */
    assert_int_equal(r->prns, 8 + 1 + 3);
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_PRN)
            assert_true(r->ev[i].u.prn.check == DK_CHECK_OK);
    rec_free(r);
}

/* A reset the capture cannot see (SAVE_PROGRESS 1, cut at an object
 * boundary): notifications are still expected and none come.  The answer
 * that reports the offset of the CRC_GET just sent, not that of an owed
 * notification, is the CRC_GET's; the notifications are void, said once. */
static void crc_get_answer_not_prn(void **state)
{
    (void)state;
    rec *r = rec_new();
    uint32_t crc, off = 4096;
    unsigned cnt = 0;
    to_object2(r, 8, &crc);
    data_writes(r, &off, &crc, 29, 8, &cnt, true);
    tx(r, q_write(image + off, 48));
    crc = dk_crc32(crc, image + off, 48);
    off += 48;
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(6000, crc));
    const dk_event *x = find_kind(r, DK_EV_EXCHANGE, 0);
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_EXCHANGE && r->ev[i].u.x.req.op == DK_OP_CRC_GET)
            x = &r->ev[i];
    assert_true(x->u.x.has_rsp);
    assert_int_equal(x->u.x.check, DK_CHECK_OK);
    assert_false(x->u.x.late);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
    assert_string_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->text,
                        "3 PRN notifications due at data offsets 4608 to 5632 never came");
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 1);
    assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_MISMATCH), 0);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    rec_free(r);

    /* Notifications arrive: the one due at the object's last write comes
     * before the answer to the CRC_GET sent right after that write, both at
     * 4096; one lost before, with a PING between, changes nothing. */
    for (int lose = 0; lose < 2; lose++) {
        r = rec_new();
        connect_(r, 8);
        send_init(r, dat, dat_len, 8);
        rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
        tx(r, q_create(DK_OBJ_DATA, 4096));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        off = 0;
        crc = 0;
        cnt = 0;
        data_writes(r, &off, &crc, 48, 8, &cnt, false);
        data_writes(r, &off, &crc, 8, 8, &cnt, lose); /* due at 3584 */
        data_writes(r, &off, &crc, 8, 8, &cnt, true); /* due at 4096: below */
        if (lose) { /* dfuhost: a PING when one is missing, then CRC_GET */
            tx(r, q_ping(5));
            rx(r, a_crc(4096, crc)); /* the notification */
            rx(r, a_ping(5));
            tx(r, q(DK_OP_CRC_GET));
        } else {
            tx(r, q(DK_OP_CRC_GET));
            rx(r, a_crc(4096, crc)); /* the notification */
        }
        rx(r, a_crc(4096, crc)); /* the CRC_GET's answer */
        dk_session_finish(r->s);
        assert_int_equal(total_an(r), lose);
        if (lose)
            assert_string_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->text,
                                "the PRN notification due at data offset 3584 never came");
        assert_int_equal(r->prns, 8 - lose);
        rec_free(r);
    }
    /* the same with PING and CRC_GET both sent before the notification came:
     * a CRC_GET after another request is not the one "just sent" */
    r = rec_new();
    connect_(r, 8);
    send_init(r, dat, dat_len, 8);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    off = 0;
    crc = 0;
    cnt = 0;
    data_writes(r, &off, &crc, 48, 8, &cnt, false);
    data_writes(r, &off, &crc, 8, 8, &cnt, true);
    data_writes(r, &off, &crc, 8, 8, &cnt, true);
    tx(r, q_ping(5));
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc));
    rx(r, a_ping(5));
    rx(r, a_crc(4096, crc));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1); /* at 3584 */
    assert_int_equal(count_an(r, DK_AN_DFU_LATE_RESPONSE), 1); /* the PING's, true */
    assert_int_equal(total_an(r), 2);
    assert_int_equal(r->prns, 7);
    rec_free(r);

    /* a notification that reports fewer bytes than its write is still the
     * notification (bytes lost), not the CRC_GET's answer */
    r = rec_new();
    off = 4096;
    cnt = 0;
    to_object2(r, 8, &crc);
    data_writes(r, &off, &crc, 8, 8, &cnt, true);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(off - 64, dk_crc32(0, image, off - 64)));
    assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_MISMATCH), 1);
    assert_true(dk_session_awaiting(r->s)); /* the CRC_GET still waits */
    rx(r, a_crc(off - 64, dk_crc32(0, image, off - 64)));
    assert_false(dk_session_awaiting(r->s));
    rec_free(r);
}

/* dfuhost resyncing while an answer is late: CRC_GET, PING 2, PING 3, then
 * the CRC_GET answer, echo 2, echo 3.  Answers come in request order (§6.1):
 * each pairs with its own request; the late ones are still late. */
static void pipelined_answers_in_order(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 4096, 0, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    tx(r, q_ping(2));
    tx(r, q_ping(3));
    rx(r, a_crc(4096, crc));
    rx(r, a_ping(2));
    rx(r, a_ping(3));
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_UNEXPECTED_OPCODE), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_RESPONSE_WITHOUT_REQUEST), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_LATE_RESPONSE), 2); /* CRC_GET, PING 2 */
    int pings = 0;
    for (int i = 0; i < r->n; i++) {
        const dk_exchange *x = &r->ev[i].u.x;
        if (r->ev[i].kind != DK_EV_EXCHANGE || !x->has_req)
            continue;
        assert_true(x->has_rsp);
        if (x->req.op == DK_OP_CRC_GET)
            assert_int_equal(x->check, DK_CHECK_OK);
        if (x->req.op == DK_OP_PING && x->req.req.ping.id > 1) {
            assert_int_equal(x->rsp.rsp.ping.id, x->req.req.ping.id);
            assert_int_equal(x->late, x->req.req.ping.id == 2);
            pings++;
        }
    }
    assert_int_equal(pings, 2);
    assert_int_equal(r->sum.stop_check, DK_CHECK_NONE);
    rec_free(r);

    /* the answer to the first request is lost: it never comes, the rest pair */
    r = rec_new();
    tx(r, q(DK_OP_MTU_GET));
    tx(r, q_ping(2));
    tx(r, q_ping(3));
    rx(r, a_ping(2));
    rx(r, a_ping(3));
    dk_session_finish(r->s);
    assert_int_equal(count_an(r, DK_AN_DFU_NO_RESPONSE), 1);
    assert_int_equal(find_an(r, DK_AN_DFU_NO_RESPONSE)->op, DK_OP_MTU_GET);
    assert_int_equal(count_an(r, DK_AN_DFU_LATE_RESPONSE), 1);
    assert_int_equal(total_an(r), 2);
    rec_free(r);
}

static void write_beyond_object(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    tx(r, q_create(DK_OBJ_COMMAND, 10));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    tx(r, q_write(dat, 16));
    assert_int_equal(count_an(r, DK_AN_DFU_WRITE_BEYOND_OBJECT), 1);
    rec_free(r);

    r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 100));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    tx(r, q_write(image, 64));
    tx(r, q_write(image + 64, 64)); /* 128 > 100 */
    tx(r, q_write(image + 128, 64)); /* reported once per object */
    const dk_anomaly *a = find_an(r, DK_AN_DFU_WRITE_BEYOND_OBJECT);
    assert_non_null(a);
    assert_non_null(strstr(a->text, "[64, 128)"));
    assert_int_equal(count_an(r, DK_AN_DFU_WRITE_BEYOND_OBJECT), 1);
    rec_free(r);
}

static void execute_incomplete(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    tx(r, q_create(DK_OBJ_COMMAND, (uint32_t)dat_len));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    tx(r, q_write(dat, 20));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, dk_msg_response(DK_OP_OBJECT_EXECUTE, DK_RES_OPERATION_NOT_PERMITTED));
    const dk_anomaly *a = find_an(r, DK_AN_DFU_EXECUTE_INCOMPLETE);
    assert_non_null(a);
    assert_non_null(strstr(a->text, "20 of"));
    const dk_anomaly *e = find_an(r, DK_AN_DFU_ERROR_RESULT);
    assert_non_null(e);
    assert_int_equal(e->result, DK_RES_OPERATION_NOT_PERMITTED);
    dk_session_finish(r->s);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_FAILED);
    assert_int_equal(r->sum.fail_stage, DK_STAGE_INIT);
    rec_free(r);
}

static void data_before_init(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    tx(r, q_create(DK_OBJ_COMMAND, (uint32_t)dat_len));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    tx(r, q_write(dat, dat_len));
    /* no EXECUTE: straight to data (§6.4: answers 0x08) */
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, dk_msg_response(DK_OP_OBJECT_CREATE, DK_RES_OPERATION_NOT_PERMITTED));
    tx(r, q_write(image, 64));
    assert_int_equal(count_an(r, DK_AN_DFU_DATA_BEFORE_INIT), 1); /* once per object */
    dk_session_finish(r->s);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_FAILED);
    assert_string_equal(r->sum.diag->id, "data.before_init");
    rec_free(r);
}

/* §6.7: init packet rejected with EXT 0x07 (sd_req). */
static void ext_error_sd_req(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ext(DK_OP_OBJECT_EXECUTE, DK_EXT_SD_VERSION_FAILURE));
    dk_session_finish(r->s);
    const dk_anomaly *a = find_an(r, DK_AN_DFU_EXT_ERROR);
    assert_non_null(a);
    assert_true(a->has_ext);
    assert_int_equal(a->ext, DK_EXT_SD_VERSION_FAILURE);
    assert_int_equal(a->result, DK_RES_EXT_ERROR);
    assert_non_null(strstr(a->text, "SD_VERSION_FAILURE"));
    assert_true(r->init_ok); /* the fields are shown even when rejected */
    assert_int_equal(r->sum.outcome, DK_OUTCOME_FAILED);
    assert_int_equal(r->sum.fail_stage, DK_STAGE_INIT);
    assert_true(r->sum.fail_has_ext);
    assert_int_equal(r->sum.fail_ext, 0x07);
    assert_true(r->sum.img[0].failed);
    assert_string_equal(r->sum.diag->id, "init.sd_req");
    /* the capture cannot tell whether a SoftDevice is installed (§6.7) */
    assert_non_null(strstr(r->sum.diag->explain, "or none (then sd_req must be 0x00)"));
    rec_free(r);
}

/* §3.2 0x05: an application or SoftDevice may not be lower than the
 * installed version (equal is accepted with the SDK example config); a
 * bootloader must be higher.  The diagnosis says the rule of the image's
 * type, read from its init packet. */
static void ext_error_fw_version_by_type(void **state)
{
    (void)state;
    static const struct { uint32_t type; const char *says; } cases[] = {
        { DK_FW_APPLICATION, "accepts an equal version" },
        { DK_FW_SOFTDEVICE, "accepts an equal version" },
        { DK_FW_BOOTLOADER, "must be higher than the installed bootloader's" },
        { DK_FW_SOFTDEVICE_BOOTLOADER, "must be higher than the installed bootloader's" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec *r = rec_new();
        uint8_t d[256];
        size_t n = make_dat(4096, cases[i].type, d, sizeof d);
        connect_(r, 0);
        send_init(r, d, n, 0);
        rx(r, a_ext(DK_OP_OBJECT_EXECUTE, DK_EXT_FW_VERSION_FAILURE));
        dk_session_finish(r->s);
        assert_string_equal(r->sum.diag->id, "init.fw_version");
        if (!strstr(r->sum.diag->explain, cases[i].says))
            fail_msg("type %u: %s", (unsigned)cases[i].type, r->sum.diag->explain);
        assert_null(strstr(r->sum.diag->explain, "or equal"));
        rec_free(r);
    }
    /* the type unknown (the init packet not in the capture): both rules */
    rec *r = rec_new();
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, 69, 0x11111111));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ext(DK_OP_OBJECT_EXECUTE, DK_EXT_FW_VERSION_FAILURE));
    dk_session_finish(r->s);
    assert_string_equal(r->sum.diag->id, "init.fw_version");
    assert_non_null(strstr(r->sum.diag->explain, "a bootloader's must be higher"));
    rec_free(r);
}

static void error_result_create(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    tx(r, q_create(DK_OBJ_COMMAND, 600));
    rx(r, dk_msg_response(DK_OP_OBJECT_CREATE, DK_RES_INSUFFICIENT_RESOURCES));
    dk_session_finish(r->s);
    const dk_anomaly *a = find_an(r, DK_AN_DFU_ERROR_RESULT);
    assert_non_null(a);
    assert_int_equal(a->result, DK_RES_INSUFFICIENT_RESOURCES);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_FAILED);
    assert_string_equal(r->sum.diag->id, "transfer.failed");
    rec_free(r);
}

/* §6.6: the final EXECUTE's hash check fails. */
static void final_hash_mismatch(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    uint32_t crc = 0;
    for (uint32_t o = 0; o < 6000; o += 4096) {
        uint32_t k = 6000 - o < 4096 ? 6000 - o : 4096;
        tx(r, q_create(DK_OBJ_DATA, k));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        unsigned cnt = 0;
        writes(r, image + o, k, o, &crc, 0, &cnt);
        tx(r, q(DK_OP_OBJECT_EXECUTE));
        if (o + k < 6000)
            rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
        else
            rx(r, a_ext(DK_OP_OBJECT_EXECUTE, DK_EXT_VERIFICATION_FAILED));
    }
    dk_session_finish(r->s);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_FAILED);
    assert_int_equal(r->sum.fail_stage, DK_STAGE_FINAL);
    assert_string_equal(r->sum.diag->id, "image.hash_mismatch");
    assert_false(r->sum.img[0].completed);
    rec_free(r);
}

static void multi_image(void **state)
{
    (void)state;
    rec *r = rec_new();
    uint8_t dat2[256];
    size_t n2 = make_dat(4096, DK_FW_SOFTDEVICE, dat2, sizeof dat2);
    connect_(r, 0);
    send_init(r, dat2, n2, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    send_data(r, image, 4096, 0);
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    send_data(r, image, 6000, 0);
    dk_session_finish(r->s);
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_ANOMALY)
            print_message("%s: %s\n", dk_anomaly_name(r->ev[i].u.an.id), r->ev[i].u.an.text);
    assert_int_equal(total_an(r), 0);
    assert_int_equal(r->sum.n_images, 2);
    assert_true(r->sum.img[0].completed);
    assert_true(r->sum.img[1].completed);
    assert_int_equal(r->sum.img[0].fw_type, DK_FW_SOFTDEVICE);
    assert_int_equal(r->sum.img[1].fw_type, DK_FW_APPLICATION);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    assert_int_equal(r->sum.restarts, 0);
    rec_free(r);
}

/* §5.2 recovery: command continue (EXECUTE only), data continue mid-object. */
static void resume_continue(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 1024, 0, &crc, 0, &cnt); /* host killed here */
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, (uint32_t)dat_len, dk_crc32(0, dat, dat_len)));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 1024, crc));
    writes(r, image + 1024, 3072, 1024, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 1904));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    writes(r, image + 4096, 1904, 4096, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(6000, crc));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 0);
    const dk_event *e1 = find_kind(r, DK_EV_RESUME, 0);
    const dk_event *e2 = find_kind(r, DK_EV_RESUME, 1);
    assert_non_null(e1);
    assert_non_null(e2);
    assert_int_equal(e1->u.resume.obj_type, DK_OBJ_COMMAND);
    assert_int_equal(e1->u.resume.how, DK_RESUME_CONTINUE);
    assert_int_equal(e2->u.resume.obj_type, DK_OBJ_DATA);
    assert_int_equal(e2->u.resume.how, DK_RESUME_CONTINUE);
    assert_int_equal(e2->u.resume.from, 1024);
    assert_int_equal(r->sum.resumes, 1); /* one host session resumed */
    assert_int_equal(r->sum.n_images, 1);
    assert_true(r->init_ok);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    rec_free(r);
}

static void resume_object_restart(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image, 1024, 0, &crc, 0, &cnt);
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 1024, crc));
    tx(r, q_create(DK_OBJ_DATA, 4096)); /* the partial object is thrown away (§6.4) */
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    crc = 0;
    writes(r, image, 4096, 0, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096, crc));
    const dk_event *e = find_kind(r, DK_EV_RESUME, 0);
    assert_non_null(e);
    assert_int_equal(e->u.resume.how, DK_RESUME_OBJECT_RESTART);
    assert_int_equal(e->u.resume.from, 0);
    assert_int_equal(count_an(r, DK_AN_DFU_CRC_MISMATCH), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_OFFSET_MISMATCH), 0);
    rec_free(r);
}

static void resume_restart_same_image(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, (uint32_t)dat_len, 0x1234)); /* another init packet: CRC differs */
    assert_int_equal(count_an(r, DK_AN_DFU_CRC_MISMATCH), 1);
    send_init(r, dat, dat_len, 0); /* SELECT again + CREATE */
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    int restarts = 0;
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == DK_EV_RESUME && r->ev[i].u.resume.how == DK_RESUME_RESTART)
            restarts++;
    assert_int_equal(restarts, 1);
    assert_int_equal(r->sum.restarts, 1);
    assert_int_equal(r->sum.n_images, 2);
    rec_free(r);
}

static void object_discarded_and_no_object(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    tx(r, q_write(image, 64));
    tx(r, q_create(DK_OBJ_DATA, 4096));
    rx(r, a_ok(DK_OP_OBJECT_CREATE));
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_DISCARDED), 1);
    tx(r, q_select(7)); /* not a valid object type (§6.1) */
    rx(r, dk_msg_response(DK_OP_OBJECT_SELECT, DK_RES_INVALID_OBJECT));
    tx(r, q_write(image, 64));
    tx(r, q_write(image, 64));
    assert_int_equal(count_an(r, DK_AN_DFU_WRITE_WITHOUT_OBJECT), 1);
    rec_free(r);
}

static void init_malformed_and_incomplete(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    uint8_t junk[40];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xff;
    send_init(r, junk, sizeof junk, 0);
    rx(r, dk_msg_response(DK_OP_OBJECT_EXECUTE, DK_RES_INVALID_OBJECT));
    const dk_anomaly *a = find_an(r, DK_AN_INIT_MALFORMED);
    assert_non_null(a);
    assert_non_null(strstr(a->text, "init packet byte"));
    dk_session_finish(r->s);
    assert_string_equal(r->sum.diag->id, "init.invalid_object");
    rec_free(r);

    /* capture starts after the init packet was sent */
    r = rec_new();
    connect_(r, 0);
    tx(r, q_select(DK_OBJ_COMMAND));
    rx(r, a_select(512, 69, 0x11111111));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    assert_int_equal(count_an(r, DK_AN_INIT_INCOMPLETE), 1);
    assert_int_equal(find_an(r, DK_AN_INIT_INCOMPLETE)->severity, DK_SEV_INFO);
    const dk_event *e = find_kind(r, DK_EV_RESUME, 0);
    assert_non_null(e);
    assert_int_equal(e->u.resume.how, DK_RESUME_CONTINUE);
    rec_free(r);
}

/* ---- a capture that starts inside an object (protocol.md §6.10) ---- */

static void host_says(rec *r, uint8_t obj)
{
    dk_session_host_obj(r->s, obj, r->now, r->pos);
    if (r->twin)
        dk_session_host_obj(r->twin, obj, r->now, r->pos);
}

/* The tail of an init packet, its CRC_GET and EXECUTE: the type stays
 * unknown (no init packet anomaly) until the host's log says it sent the
 * init packet; then the bytes are init packet bytes. */
static void mid_command_object(void **state)
{
    (void)state;
    rec *r = rec_new();
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, dat + 20, dat_len - 20, 20, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc((uint32_t)dat_len, dk_crc32(0, dat, dat_len)));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    assert_int_equal(count_an(r, DK_AN_INIT_INCOMPLETE), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 0);
    const dk_event *w = find_kind(r, DK_EV_WRITES, 0);
    assert_non_null(w);
    assert_int_equal(w->u.run.obj_type, DK_OBJ_UNSHOWN);
    assert_int_equal(dk_session_summary(r->s)->bytes_unknown, dat_len - 20);
    host_says(r, DK_OBJ_COMMAND);
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 1);
    assert_non_null(strstr(find_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED)->text, "command object"));
    assert_int_equal(count_an(r, DK_AN_INIT_INCOMPLETE), 1);
    send_data(r, image, 6000, 0);
    dk_session_finish(r->s);
    assert_int_equal(r->sum.bytes_unknown, 0);
    assert_int_equal(r->sum.bytes_cmd, dat_len - 20);
    assert_int_equal(r->sum.bytes_data, 6000);
    assert_int_equal(count_an(r, DK_AN_DFU_DATA_BEFORE_INIT), 0);
    rec_free(r);

    /* Without the host's word: EXECUTE then SELECT/CREATE data could follow
     * an init packet or a data object; the bytes stay of an unknown object. */
    r = rec_new();
    crc = 0;
    writes(r, dat + 20, dat_len - 20, 20, &crc, 0, &cnt);
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    send_data(r, image, 6000, 0);
    dk_session_finish(r->s);
    assert_int_equal(r->sum.bytes_unknown, dat_len - 20);
    assert_int_equal(r->sum.bytes_cmd, 0);
    assert_int_equal(count_an(r, DK_AN_INIT_INCOMPLETE), 0);
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 0);
    rec_free(r);
}

/* The tail of a data object: settled by an offset past 512, by a SELECT
 * reporting its offset and CRC, or by a command CREATE after its EXECUTE. */
static void mid_data_object(void **state)
{
    (void)state;
    /* a CRC_GET reporting an offset no command object reaches */
    rec *r = rec_new();
    uint32_t crc = 0;
    unsigned cnt = 0;
    writes(r, image + 4096, 256, 4096, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4096 + 256, dk_crc32(0, image, 4096 + 256)));
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 1);
    assert_non_null(strstr(find_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED)->text, "offset past 512"));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    assert_int_equal(r->sum.bytes_data, 256);
    assert_int_equal(r->sum.bytes_unknown, 0);
    assert_int_equal(r->sum.img[0].offset, 4096 + 256);
    assert_int_equal(count_an(r, DK_AN_INIT_INCOMPLETE), 0);
    rec_free(r);

    /* more than 512 bytes written: data, from the write that passes 512 */
    r = rec_new();
    crc = 0;
    writes(r, image, 640, 0, &crc, 0, &cnt);
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 1);
    dk_session_finish(r->s);
    assert_int_equal(r->sum.bytes_data, 640);
    assert_int_equal(r->sum.stop_obj, DK_OBJ_DATA);
    rec_free(r);

    /* a SELECT of data reporting where the object stands */
    r = rec_new();
    crc = 0;
    writes(r, image + 100, 100, 100, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(200, dk_crc32(0, image, 200)));
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 0);
    writes(r, image + 200, 10, 200, &crc, 0, &cnt);
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 210, dk_crc32(0, image, 210)));
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 1);
    assert_non_null(strstr(find_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED)->text, "data object"));
    const dk_event *x = find_kind(r, DK_EV_EXCHANGE, 1);
    assert_int_equal(x->u.x.check, DK_CHECK_OK);
    dk_session_finish(r->s);
    assert_int_equal(r->sum.bytes_data, 110);
    rec_free(r);

    /* executed, then a command CREATE: the next image follows data */
    r = rec_new();
    crc = 0;
    writes(r, image + 100, 100, 100, &crc, 0, &cnt);
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(200, dk_crc32(0, image, 200)));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    assert_int_equal(count_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED), 1);
    assert_non_null(strstr(find_an(r, DK_AN_DFU_OBJECT_TYPE_SETTLED)->text, "next image"));
    send_data(r, image, 6000, 0);
    dk_session_finish(r->s);
    assert_int_equal(r->sum.n_images, 2);
    assert_int_equal(r->sum.bytes_data, 6100);
    assert_int_equal(r->sum.img[0].bytes_sent, 100);
    assert_true(r->sum.img[1].completed);
    rec_free(r);
}

/* Nothing ever shows the type: the bytes stay of an unknown object. */
static void object_type_never_shown(void **state)
{
    (void)state;
    rec *r = rec_new();
    const uint8_t four[] = { 1, 2, 3, 255 };
    tx(r, q_write(four, sizeof four));
    tx(r, q(DK_OP_CRC_GET));
    rx(r, a_crc(4, dk_crc32(0, four, 4)));
    tx(r, q(DK_OP_OBJECT_EXECUTE));
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    dk_session_finish(r->s);
    assert_int_equal(r->sum.bytes_unknown, 4);
    assert_int_equal(r->sum.bytes_cmd + r->sum.bytes_data, 0);
    assert_int_equal(r->sum.stop_obj, DK_OBJ_UNSHOWN);
    assert_int_equal(r->sum.stop_offset, 4);
    assert_int_equal(total_an(r), 0);
    rec_free(r);
}

/* msg.* anomalies from dk_session_frame */
static void message_anomalies(void **state)
{
    (void)state;
    rec *r = rec_new();
    untwin(r);
    const uint8_t trunc[] = { 0x60, 0x03, 0x01, 0x00 };          /* CRC_GET answer, 1 of 8 bytes */
    const uint8_t over[] = { 0x09, 0x01, 0x02, 0x03 };           /* PING with 2 extra bytes */
    const uint8_t unk[] = { 0x42, 0x42, 0x42, 0x42, 0x42, 0x42 }; /* no message at its tail */
    dk_session_frame(r->s, trunc, sizeof trunc, false, -1, DK_DIR_UNKNOWN, 0, 5);
    dk_session_frame(r->s, over, sizeof over, false, -1, DK_DIR_UNKNOWN, 5, 10);
    dk_session_frame(r->s, unk, sizeof unk, false, -1, DK_DIR_UNKNOWN, 10, 17);
    assert_int_equal(count_an(r, DK_AN_MSG_TRUNCATED), 1);
    assert_int_equal(count_an(r, DK_AN_MSG_OVERLONG), 1);
    assert_int_equal(count_an(r, DK_AN_MSG_UNKNOWN_OPCODE), 1);
    assert_int_equal(find_an(r, DK_AN_MSG_UNKNOWN_OPCODE)->start, 10);
    /* the overlong PING still counts as a request */
    assert_true(dk_session_awaiting(r->s));
    /* a request on the target's line */
    dk_msg m = q(DK_OP_MTU_GET);
    feed(r, &m, DK_DIR_TARGET);
    assert_int_equal(count_an(r, DK_AN_MSG_WRONG_DIRECTION), 1);
    dk_session_note(r->s, DK_AN_CAP_DATA_LOST, -1, DK_DIR_HOST, 100, 100, "lost");
    assert_int_equal(count_an(r, DK_AN_CAP_DATA_LOST), 1);
    rec_free(r);
}

/* slip.* anomalies: deframer events through dk_session_slip */
static rec *slip_rec;
static void to_session(void *ctx, const dk_slip_event *ev)
{
    (void)ctx;
    dk_session_slip(slip_rec->s, ev, -1, DK_DIR_UNKNOWN);
}

static void slip_anomalies(void **state)
{
    (void)state;
    rec *r = slip_rec = rec_new();
    untwin(r);
    static uint8_t fbuf[256];
    dk_slip_dec d;
    dk_slip_dec_init(&d, fbuf, sizeof fbuf);
    uint8_t wire[4096];
    size_t n = 0;
    uint8_t msg[64];
    /* bytes before the first frame: boot text glued to a PING */
    memcpy(wire + n, "boot\r\n", 6);
    n += 6;
    dk_msg ping = q_ping(1);
    size_t ml = dk_msg_encode(&ping, msg, sizeof msg);
    n += dk_slip_encode(msg, ml, wire + n);
    /* the answer, then noise glued to the next request */
    dk_msg pong = a_ping(1);
    ml = dk_msg_encode(&pong, msg, sizeof msg);
    n += dk_slip_encode(msg, ml, wire + n);
    wire[n++] = 0xF0;
    wire[n++] = 0xF1;
    dk_msg mtu = q(DK_OP_MTU_GET);
    ml = dk_msg_encode(&mtu, msg, sizeof msg);
    n += dk_slip_encode(msg, ml, wire + n);
    /* empty frame, bad escape, too long */
    wire[n++] = DK_SLIP_END;
    wire[n++] = 0x09;
    wire[n++] = DK_SLIP_ESC;
    wire[n++] = 0x00;
    wire[n++] = DK_SLIP_END;
    memset(wire + n, 0x08, 300);
    n += 300;
    wire[n++] = DK_SLIP_END;
    /* and an unterminated tail */
    wire[n++] = 0x09;
    wire[n++] = 0x05;
    dk_slip_dec_feed(&d, wire, n, to_session, NULL);
    dk_slip_dec_flush(&d, to_session, NULL);
    dk_session_finish(r->s);
    const dk_anomaly *bf = find_an(r, DK_AN_SLIP_BEFORE_FIRST);
    assert_non_null(bf);
    assert_int_equal(bf->start, 0);
    assert_int_equal(bf->end, 6);
    const dk_anomaly *nz = find_an(r, DK_AN_SLIP_NOISE);
    assert_non_null(nz);
    assert_int_equal(nz->end - nz->start, 2);
    assert_int_equal(count_an(r, DK_AN_SLIP_EMPTY_FRAME), 1);
    assert_int_equal(count_an(r, DK_AN_SLIP_BAD_ESCAPE), 1);
    assert_int_equal(count_an(r, DK_AN_SLIP_TOO_LONG), 1);
    assert_int_equal(count_an(r, DK_AN_SLIP_UNTERMINATED), 1);
    /* the PING and the MTU request were recovered from the noise */
    assert_int_equal(r->sum.requests, 2);
    assert_int_equal(r->sum.responses, 1);
    /* dropped bytes are line bytes: a unit whose span also covers a pcap
     * record header (8 line bytes in 36 file bytes) */
    dk_slip_event be = { .kind = DK_SLIP_BAD_ESCAPE, .start = 8268, .end = 8304,
                         .bad_at = 8272, .raw_len = 8 };
    dk_session_slip(r->s, &be, -1, DK_DIR_HOST);
    const dk_event *last = &r->ev[r->n - 1];
    assert_int_equal(last->u.an.id, DK_AN_SLIP_BAD_ESCAPE);
    assert_string_equal(last->u.an.text, "ESC at 8271 not followed by DC/DD: 8 bytes dropped");
    assert_int_equal(last->u.an.start, 8268);
    assert_int_equal(last->u.an.end, 8304);
    rec_free(r);
}

/* Memory stays fixed: a long session emits one run per object and keeps
 * nothing per message (the events it hands out are the only output). */
static void long_session_folds(void **state)
{
    (void)state;
    rec *r = rec_new();
    connect_(r, 0);
    uint8_t big_dat[256];
    size_t bn = make_dat(4096 * 200, DK_FW_APPLICATION, big_dat, sizeof big_dat);
    send_init(r, big_dat, bn, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    tx(r, q_select(DK_OBJ_DATA));
    rx(r, a_select(4096, 0, 0));
    uint32_t crc = 0;
    for (uint32_t o = 0; o < 4096u * 200; o += 4096) {
        tx(r, q_create(DK_OBJ_DATA, 4096));
        rx(r, a_ok(DK_OP_OBJECT_CREATE));
        unsigned cnt = 0;
        writes(r, image, 4096, o, &crc, 0, &cnt);
        tx(r, q(DK_OP_CRC_GET));
        rx(r, a_crc(o + 4096, crc));
        tx(r, q(DK_OP_OBJECT_EXECUTE));
        rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    }
    dk_session_finish(r->s);
    assert_int_equal(total_an(r), 0);
    assert_int_equal(r->runs, 1 + 200);
    assert_int_equal(r->sum.outcome, DK_OUTCOME_COMPLETED);
    rec_free(r);
}

/* The host closes the port and opens it again (RTAC DTR): PORT events in
 * time order, and the closed gap is not transfer time. */
static void port_closed_and_reopened(void **state)
{
    (void)state;
    rec *r = rec_new();
    dk_session_port(r->s, r->now, true, 0); /* the state at the start: no event */
    dk_session_port(r->twin, r->now, true, 0);
    connect_(r, 0);
    send_init(r, dat, dat_len, 0);
    rx(r, a_ok(DK_OP_OBJECT_EXECUTE));
    int64_t t_last = r->now;
    dk_session_port(r->s, r->now + 1000, false, 500);
    dk_session_port(r->twin, r->now + 1000, false, 500);
    dk_session_port(r->s, r->now + 30000000, true, 510);
    dk_session_port(r->twin, r->now + 30000000, true, 510);
    r->now += 30000000;
    tx(r, q_ping(2)); /* 500 us after the reopen */
    /* a close while a request waits: its event follows the exchange */
    dk_session_port(r->s, r->now + 100, false, 600);
    dk_session_port(r->twin, r->now + 100, false, 600);
    rx(r, a_ping(2));
    dk_session_finish(r->s);
    const dk_event *c = find_kind(r, DK_EV_PORT, 0), *o = find_kind(r, DK_EV_PORT, 1),
                   *c2 = find_kind(r, DK_EV_PORT, 2);
    assert_non_null(c);
    assert_non_null(o);
    assert_non_null(c2);
    assert_null(find_kind(r, DK_EV_PORT, 3));
    assert_false(c->u.port.open);
    assert_true(c->t_us == t_last + 1000);
    assert_int_equal(c->start, 500);
    assert_true(o->u.port.open);
    assert_true(o->u.port.closed_us == 30000000 - 1000);
    assert_false(c2->u.port.open);
    assert_true(c2[-1].kind == DK_EV_EXCHANGE && c2[-1].u.x.req.op == DK_OP_PING);
    /* closed: from the last message before each close to the first after it
     * (30.0005 s to the PING, 0.0005 s from the PING to its answer) */
    if (!(r->sum.closed_s > 30.0009 && r->sum.closed_s < 30.0011))
        fail_msg("closed_s %f duration %f", r->sum.closed_s, r->sum.duration_s);
    double active = r->sum.duration_s - r->sum.closed_s;
    assert_true(active > 0 && active < 1);
    double want = (double)(r->sum.bytes_data + r->sum.bytes_cmd) / active;
    assert_true(r->sum.throughput_Bps > want * 0.999 && r->sum.throughput_Bps < want * 1.001);
    rec_free(r);
}

static void names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(dk_anomaly_name(DK_AN_SLIP_BEFORE_FIRST), "slip.bytes_before_first_frame");
    assert_string_equal(dk_anomaly_name(DK_AN_DFU_CRC_MISMATCH), "dfu.crc_mismatch");
    assert_int_equal(dk_anomaly_by_name("dfu.offset_backwards"), DK_AN_DFU_OFFSET_BACKWARDS);
    assert_int_equal(dk_anomaly_by_name("nope"), -1);
    assert_null(dk_anomaly_name(DK_AN_COUNT));
    for (int i = 0; i < DK_AN_COUNT; i++) {
        const char *n = dk_anomaly_name((dk_anomaly_id)i);
        assert_non_null(strchr(n, '.'));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, dk_anomaly_name((dk_anomaly_id)j));
    }
    assert_string_equal(dk_outcome_name(DK_OUTCOME_INTERRUPTED), "interrupted");
    assert_string_equal(dk_resume_name(DK_RESUME_OBJECT_RESTART), "object_restart");
}

/* Runs last: every anomaly id was produced by some test above (but pkg.*,
 * the package check's: tests/lib/test_pipeline.c; hci.* and legacy.*, the
 * legacy tracker's: tests/lib/test_legacy.c). */
static void every_anomaly_triggered(void **state)
{
    (void)state;
    for (int i = 0; i < DK_AN_COUNT; i++) {
        const char *n = dk_anomaly_name((dk_anomaly_id)i);
        if (!seen_id[i] && strncmp(n, "pkg.", 4) != 0 && strncmp(n, "hci.", 4) != 0 &&
            strncmp(n, "legacy.", 7) != 0)
            fail_msg("anomaly %s was never triggered", dk_anomaly_name((dk_anomaly_id)i));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete_prn0),
        cmocka_unit_test(complete_prn_every_3),
        cmocka_unit_test(prn_mismatch_and_awaiting),
        cmocka_unit_test(response_without_request),
        cmocka_unit_test(no_response_then_ping_again),
        cmocka_unit_test(boot_check_after_completed),
        cmocka_unit_test(only_pings_no_answer),
        cmocka_unit_test(empty_session),
        cmocka_unit_test(late_response_desync),
        cmocka_unit_test(frame_notes_order),
        cmocka_unit_test_setup(port_closed_and_reopened, setup),
        cmocka_unit_test(unexpected_opcode),
        cmocka_unit_test(crc_mismatch_on_crc_get),
        cmocka_unit_test(offset_mismatch_bytes_lost),
        cmocka_unit_test(offset_backwards_restart_and_resume),
        cmocka_unit_test(prn_owed_across_restart),
        cmocka_unit_test(prn_owed_void_at_answers),
        cmocka_unit_test(prn_off_after_reset),
        cmocka_unit_test(prn_after_reset_set_again_or_kept),
        cmocka_unit_test(crc_get_answer_not_prn),
        cmocka_unit_test(pipelined_answers_in_order),
        cmocka_unit_test(write_beyond_object),
        cmocka_unit_test(execute_incomplete),
        cmocka_unit_test(data_before_init),
        cmocka_unit_test(ext_error_sd_req),
        cmocka_unit_test(ext_error_fw_version_by_type),
        cmocka_unit_test(error_result_create),
        cmocka_unit_test(final_hash_mismatch),
        cmocka_unit_test(multi_image),
        cmocka_unit_test(resume_continue),
        cmocka_unit_test(resume_object_restart),
        cmocka_unit_test(resume_restart_same_image),
        cmocka_unit_test(object_discarded_and_no_object),
        cmocka_unit_test(init_malformed_and_incomplete),
        cmocka_unit_test(mid_command_object),
        cmocka_unit_test(mid_data_object),
        cmocka_unit_test(object_type_never_shown),
        cmocka_unit_test(message_anomalies),
        cmocka_unit_test(slip_anomalies),
        cmocka_unit_test(long_session_folds),
        cmocka_unit_test(names_are_stable),
        cmocka_unit_test(every_anomaly_triggered),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
