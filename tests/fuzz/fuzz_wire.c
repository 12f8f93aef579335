/* fuzz_wire.c - libFuzzer target for everything that parses wire bytes: the
 * SLIP deframer (fed in two pieces, split where the first byte says), the
 * message parser on every frame, and the init packet decoder on the whole
 * input.  Besides the sanitizers it checks invariants: positions stay in the
 * stream, frames stay within the buffer, a well-formed message encodes back
 * to the bytes it came from, a decoded init packet's signed span lies inside
 * the input, and error messages are one line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/slip.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "fuzz_wire: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                           \
        }                                                                      \
    } while (0)

typedef struct {
    size_t cap;
    uint64_t total;
    uint64_t last_end;
} ctx_t;

static void on_msg(const uint8_t *frame, size_t len)
{
    /* exact-size copy: any read past the frame is a heap overflow */
    uint8_t *p = calloc(1, len ? len : 1);
    CHECK(p);
    if (len)
        memcpy(p, frame, len);
    dk_msg m;
    dk_msg_status st = dk_msg_parse(p, len, &m);
    char line[256];
    size_t n = dk_msg_describe(&m, line, sizeof line);
    (void)n;
    CHECK(strlen(line) < sizeof line);
    if (st == DK_MSG_OK) {
        uint8_t out[64];
        uint8_t *big = len > sizeof out ? malloc(len) : NULL;
        uint8_t *o = big ? big : out;
        size_t k = dk_msg_encode(&m, o, big ? len : sizeof out);
        CHECK(k == len);
        CHECK(memcmp(o, p, len) == 0);
        free(big);
    }
    if (st == DK_MSG_OVERLONG)
        CHECK(m.extra > 0 && m.extra < len);
    if (st == DK_MSG_OK && !m.is_response && m.op == DK_OP_OBJECT_WRITE)
        CHECK(m.req.write.len + 1 == len);
    free(p);
}

static void on_event(void *vctx, const dk_slip_event *ev)
{
    ctx_t *c = vctx;
    CHECK(ev->start < ev->end || (ev->kind == DK_SLIP_UNTERMINATED && ev->start <= ev->end));
    CHECK(ev->end <= c->total);
    CHECK(ev->start >= c->last_end);
    CHECK(ev->len <= c->cap);
    c->last_end = ev->end;
    if (ev->kind == DK_SLIP_BAD_ESCAPE)
        CHECK(ev->bad_at >= ev->start && ev->bad_at < ev->end);
    if (ev->kind == DK_SLIP_FRAME || ev->kind == DK_SLIP_UNTERMINATED)
        on_msg(ev->data, ev->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* SLIP with the UART limit (131) and then with a tiny one (7), which makes
     * the too-long path common. */
    static uint8_t buf[DK_MTU_UART];
    const size_t caps[] = { sizeof buf, 7 };
    for (size_t i = 0; i < 2; i++) {
        dk_slip_dec d;
        dk_slip_dec_init(&d, buf, caps[i]);
        ctx_t c = { caps[i], 1000 + (uint64_t)size, 1000 };
        dk_slip_dec_set_pos(&d, 1000);
        size_t cut = size ? data[0] % (size + 1) : 0;
        dk_slip_dec_feed(&d, data, cut, on_event, &c);
        dk_slip_dec_feed(&d, data + cut, size - cut, on_event, &c);
        dk_slip_dec_flush(&d, on_event, &c);
    }

    dk_initpkt pkt;
    dk_err err;
    memset(&err, 0, sizeof err);
    if (dk_initpkt_decode(data, size, &pkt, &err) == DK_OK) {
        if (pkt.is_signed) {
            CHECK(pkt.signed_off <= size && pkt.signed_len <= size - pkt.signed_off);
            CHECK(pkt.signature_len <= sizeof pkt.signature);
        }
        CHECK(pkt.init.sd_req_count <= DK_INIT_SD_REQ_MAX);
        CHECK(pkt.init.bv_count <= DK_INIT_BV_MAX);
        CHECK(pkt.init.hash_len <= sizeof pkt.init.hash);
        static FILE *null_out;
        if (!null_out)
            null_out = fopen("/dev/null", "w");
        if (null_out)
            dk_initpkt_print(&pkt, "  ", null_out);
        uint8_t re[1024];
        (void)dk_initpkt_encode(&pkt, re, sizeof re);
        (void)dk_initpkt_image_size(&pkt);
    } else {
        CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
        CHECK(strchr(err.msg, '\n') == NULL);
        CHECK(!err.has_offset || err.offset <= size);
    }
    return 0;
}
