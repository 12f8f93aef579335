/* fuzz_hci.c - libFuzzer target for the legacy HCI DFU parsers and tracker:
 * every frame of the input (SLIP, as the device cuts it with a leading END)
 * through dk_hci_parse, dk_hci_is_ack, dk_lg_parse, dk_lg_init_parse and
 * dk_lg_init_check; then the whole input through the pipeline as two lines
 * (byte 0 says where the target's part starts), so the sniffer hands it to
 * the legacy tracker and the text printer writes the transcript.  Besides
 * the sanitizers: payloads stay inside their frame, an init packet's parsed
 * length stays inside its bytes, error messages are one line, the summary's
 * counts add up. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/pipeline.h"
#include "dfukit/slip.h"

#define CHECK(c)                                                                           \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "fuzz_hci: invariant failed: %s (line %d)\n", #c, __LINE__);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static void one_frame(const uint8_t *frame, size_t len)
{
    uint8_t *p = malloc(len ? len : 1); /* exact size: a read past it is caught */
    CHECK(p);
    if (len)
        memcpy(p, frame, len);
    dk_hci_pkt pk;
    dk_hci_status st = dk_hci_parse(p, len, &pk);
    CHECK(dk_hci_status_name(st) != NULL);
    if (st != DK_HCI_SHORT) {
        CHECK(pk.payload >= p && pk.payload + pk.payload_len <= p + len);
        dk_lg_pkt g;
        if (dk_lg_parse(pk.payload, pk.payload_len, &g) == DK_LG_OK) {
            CHECK(g.body + g.body_len == pk.payload + pk.payload_len);
            CHECK(g.words_len <= g.body_len && g.words_len % 4 == 0);
        }
    }
    uint8_t e;
    if (dk_hci_is_ack(p, len, &e))
        CHECK(e < 8 && len == 4);
    dk_lg_init in;
    dk_err err;
    memset(&err, 0, sizeof err);
    if (dk_lg_init_parse(p, len, &in, &err) == DK_OK) {
        CHECK(in.len + in.pad + in.extra == len);
        uint8_t back[256];
        size_t n = dk_lg_init_encode(&in, back, sizeof back);
        CHECK(n == 0 || in.n_sd_req > DK_LG_SD_REQ_MAX || (n == in.len && !memcmp(back, p, n)));
    } else {
        CHECK(!strchr(err.msg, '\n'));
    }
    uint16_t crc;
    for (uint32_t mode = 1; mode <= 4; mode++)
        CHECK(dk_lg_init_check(p, len, mode, (int)(len % 3) - 1, &crc) <= DK_LG_INIT_SD_REQ);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[8192];
    dk_slip_dec d;
    dk_slip_dec_init(&d, buf, sizeof buf);
    size_t off = 0;
    while (off < size) {
        size_t used;
        dk_slip_event ev;
        bool got = dk_slip_dec_next(&d, data + off, size - off, &used, &ev);
        off += used;
        if (got && ev.kind == DK_SLIP_FRAME)
            one_frame(ev.data, ev.len);
        if (!got && !used)
            break;
    }
    FILE *out = fopen("/dev/null", "w");
    CHECK(out);
    dk_pipe_opts o = { .verbose = size && (data[0] & 1) };
    dk_pipe *p = dk_pipe_new(out, &o);
    CHECK(p);
    size_t cut = size ? (size_t)data[0] * size / 256 : 0;
    dk_pipe_bytes(p, 1000, DK_DIR_HOST, data, cut, 0);
    dk_pipe_bytes(p, 2000, DK_DIR_TARGET, data + cut, size - cut, cut);
    dk_pipe_finish(p);
    const dk_summary *s = dk_pipe_summary(p);
    if (s->legacy) {
        CHECK(s->hci.dropped + s->hci.no_ack + s->hci.invalid <= s->hci.packets);
        CHECK(s->hci.acks <= s->frames);
    }
    dk_pipe_free(p);
    fclose(out);
    return 0;
}
