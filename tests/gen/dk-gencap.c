/* dk-gencap - deterministic Secure DFU serial captures, both sides played.
 *
 * The host follows nrfutil 6.1.7's serial procedure (protocol.md §5.2): PING,
 * RECEIPT_NOTIF_SET, MTU_GET, SELECT/CREATE/WRITE/CRC_GET/EXECUTE for the
 * command object, then the same per 4096-byte data object, 64 data bytes a
 * WRITE, with its recovery rules on resume.  The target is dfusim's SDK 17.1
 * bootloader core (sim/bl.h through tests/support/sim_target.h): every answer
 * is the simulator's; this tool adds the line, the timing and a scenario's
 * line fault (a corrupted byte, a slow EXECUTE).
 *
 * Time: 115200 baud 8N1 (86.806 us a byte), host and target processing,
 * page erase (85 ms), settings writes.  A packet's timestamp is the moment
 * its last byte has crossed the line, as a sniffer reading the port sees it.
 * Everything derives from --seed: the same arguments give the same bytes.
 *
 * Outputs, any combination: --raw (both lines merged in time order), --host
 * and --target (one raw file per line), --pcap (link type 250, dk_cap_write;
 * port open/close as control-line packets).  --size streams many complete
 * updates back to back for the benchmark.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/capfile.h"
#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/err.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/rd.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"
#include "dk_test_cmd.h"
#include "sim_target.h"

#define TOOL "dk-gencap"

#define NS_PER_US 1000LL
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define BYTE_NS 86806LL             /* 10 bits at 115200 baud */
#define T0_NS (1715680800LL * NS_PER_S) /* 2024-05-14 10:00:00 UTC */
#define READ_TIMEOUT_NS NS_PER_S    /* pyserial timeout nrfutil uses */

#define CMD_MAX 512                 /* INIT_COMMAND_MAX_SIZE, SDK 17.1 */
#define OBJ_MAX 4096                /* DATA_OBJECT_MAX_SIZE (one nRF52 page) */
#define ROOM (800u * 1024u)         /* the largest --image-size (the target has more room) */
#define TGT_HW_VERSION 52
#define TGT_SD_FWID 0x0100          /* S140 7.2.0 installed on the target */
#define TGT_APP_VERSION 1

/* ---- deterministic randomness (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* ---- outputs and the two lines ---- */

#define CHUNK_MAX (DK_SLIP_MAX_ENCODED(DK_MTU_UART) + 16)
#define QUEUE_MAX 64

enum {
    N_FRAME = 0, /* a response */
    N_DROPPED,   /* noise both SLIP decoders drop (invalid escape, END) */
    N_GLUED,     /* noise without END: it becomes the head of the next frame */
};

typedef struct {
    int64_t t;    /* when the first byte goes on the line */
    int noise;    /* N_* */
    bool emitted; /* on the line (and in the outputs) already */
    bool stale;   /* arrived while the host's port was closed: never read */
    size_t len;
    uint8_t wire[CHUNK_MAX];
} tchunk;

typedef struct {
    FILE *raw, *host, *target;
    dk_cap_writer *pcap;
    const char *paths[4];
    size_t split;        /* cut line data into pcap packets of at most this */
    int64_t t;           /* the host's clock */
    int64_t host_free;   /* host line idle from */
    int64_t tgt_free;    /* target line idle from */
    int64_t tgt_busy;    /* target CPU busy until */
    tchunk q[QUEUE_MAX]; /* target bytes the host has not read, by time */
    size_t qn;
    uint64_t written;    /* line bytes emitted */
    bool failed;
    dk_err err;
} gen;

static void io_fail(gen *g, const char *path)
{
    if (!g->failed) {
        dk_err_set(&g->err, DK_E_IO, -1, "%s: %s", path, strerror(errno));
        g->failed = true;
    }
}

static void put_file(gen *g, FILE *f, int idx, const uint8_t *p, size_t n)
{
    if (f && fwrite(p, 1, n, f) != n)
        io_fail(g, g->paths[idx]);
}

/* Bytes that start crossing the line at t. */
static void sink(gen *g, int64_t t, dk_dir dir, const uint8_t *p, size_t n)
{
    put_file(g, g->raw, 0, p, n);
    put_file(g, dir == DK_DIR_HOST ? g->host : g->target, dir == DK_DIR_HOST ? 1 : 2, p, n);
    g->written += n;
    if (!g->pcap || g->failed)
        return;
    size_t step = g->split ? g->split : n;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        int64_t end = t + (int64_t)(i + k) * BYTE_NS;
        if (dk_cap_write(g->pcap, end / NS_PER_US, dir, p + i, k, &g->err) != DK_OK) {
            g->failed = true;
            return;
        }
    }
}

static void lines(gen *g, uint8_t l)
{
    if (g->pcap && !g->failed && dk_cap_write_lines(g->pcap, g->t / NS_PER_US, l, &g->err) != DK_OK)
        g->failed = true;
    if (g->pcap)
        dk_cap_set_lines(g->pcap, l);
}

/* Put queued target bytes that start before t on the line (they stay
 * queued until the host reads them). */
static void tgt_drain(gen *g, int64_t t)
{
    for (size_t i = 0; i < g->qn && g->q[i].t < t; i++) {
        if (!g->q[i].emitted) {
            sink(g, g->q[i].t, DK_DIR_TARGET, g->q[i].wire, g->q[i].len);
            g->q[i].emitted = true;
        }
    }
}

static void tgt_pop(gen *g)
{
    memmove(g->q, g->q + 1, (g->qn - 1) * sizeof g->q[0]);
    g->qn--;
}

/* The host's port closes: what is on the line by t is lost to it, what
 * comes later is never read (it still crosses the line). */
static void tgt_forget(gen *g, int64_t t)
{
    tgt_drain(g, t);
    for (size_t i = 0; i < g->qn; i++)
        g->q[i].stale = true;
    while (g->qn && g->q[0].emitted)
        tgt_pop(g);
}

/* Queue target bytes for time t (or when the line is free). */
static void tgt_send(gen *g, int64_t t, const uint8_t *wire, size_t len, int noise)
{
    if (t < g->tgt_free)
        t = g->tgt_free;
    if (g->qn == QUEUE_MAX) { /* the host stopped reading: let the oldest go */
        tgt_drain(g, g->q[0].t + 1);
        tgt_pop(g);
    }
    tchunk *c = &g->q[g->qn++];
    c->t = t;
    c->emitted = c->stale = false;
    c->noise = noise;
    c->len = len;
    memcpy(c->wire, wire, len);
    g->tgt_free = t + (int64_t)len * BYTE_NS;
}

/* The host writes wire bytes; returns when the last one has left. */
static int64_t host_send(gen *g, const uint8_t *wire, size_t len)
{
    int64_t t = g->t > g->host_free ? g->t : g->host_free;
    tgt_drain(g, t);
    sink(g, t, DK_DIR_HOST, wire, len);
    g->host_free = t + (int64_t)len * BYTE_NS;
    g->t = g->host_free;
    return g->t;
}

/* Noise: a burst with an invalid escape, closed by END, so that the SDK's and
 * nrfutil's SLIP decoders both drop it (protocol.md §1.3). */
static size_t make_noise(uint8_t *w)
{
    size_t n = 0;
    int pre = (int)rnd_range(1, 4), post = (int)rnd_range(0, 3);
    for (int i = 0; i < pre; i++) {
        uint8_t b;
        do
            b = (uint8_t)rnd();
        while (b == DK_SLIP_END || b == DK_SLIP_ESC);
        w[n++] = b;
    }
    w[n++] = DK_SLIP_ESC;
    uint8_t bad;
    do
        bad = (uint8_t)rnd();
    while (bad == DK_SLIP_ESC_END || bad == DK_SLIP_ESC_ESC || bad == DK_SLIP_END);
    w[n++] = bad;
    for (int i = 0; i < post; i++) {
        uint8_t b;
        do
            b = (uint8_t)rnd();
        while (b == DK_SLIP_END || b == DK_SLIP_ESC);
        w[n++] = b;
    }
    w[n++] = DK_SLIP_END;
    return n;
}

/* ---- the target: the simulator's bootloader core (sim_target.h) ---- */

/* The device of the samples, with the button held: every nrfutil run (the
 * benchmark's back-to-back updates too) finds the bootloader. */
typedef struct {
    st_chip chip;
    /* line faults */
    int64_t flip_at;        /* image offset received with bit 4 flipped; -1 */
    int slow_exec_obj;      /* 1-based data object whose EXECUTE takes 1.25 s; 0 */
    int exec_count;
} tgt;

static void tgt_open(tgt *d)
{
    ds_bl_config cfg;
    st_sample_config(&cfg, TGT_APP_VERSION);
    cfg.enter = DS_BL_ENTER_ALWAYS;
    st_open(&d->chip, &cfg, 0);
    d->flip_at = -1;
}

static int64_t jitter(int64_t ns)
{
    return ns + rnd_range(-ns / 5, ns / 5);
}

/* What the core's state is before a request: what its time depends on. */
typedef struct {
    uint8_t obj;            /* current object */
    bool valid;             /* an init command is valid */
    uint64_t bytes;         /* image bytes accepted this boot */
    uint32_t off;           /* image offset (data EXECUTE: the image size when final) */
} tgt_before;

/* Time the target works on a request beyond its handler: a page erase for a
 * data CREATE, word writes, the settings (page + backup) after a command
 * EXECUTE validates, a refusal's checks, SHA-256 of the image at the final
 * EXECUTE (~2 MB/s), and the scripted slow EXECUTE. */
static int64_t tgt_work(tgt *d, const uint8_t *rq, size_t len, const tgt_before *b,
                        const uint8_t *rsp, size_t rl, int flags)
{
    uint8_t res = rl >= 3 ? rsp[2] : DK_RES_SUCCESS;
    if (rq[0] == DK_OP_OBJECT_WRITE)
        return (int64_t)((ds_bl_image_bytes(d->chip.bl) - b->bytes) / 4) * 41 * NS_PER_US;
    if (rl == 0)
        return 0;
    if (rq[0] == DK_OP_OBJECT_CREATE)
        return len > 1 && rq[1] == DK_OBJ_DATA && res == DK_RES_SUCCESS ? jitter(85 * NS_PER_MS) : 0;
    if (rq[0] != DK_OP_OBJECT_EXECUTE || res == DK_RES_OPERATION_NOT_PERMITTED)
        return 0;
    if (b->obj == DK_OBJ_COMMAND && !b->valid)
        return res == DK_RES_SUCCESS ? jitter(2 * 86 * NS_PER_MS) : jitter(3 * NS_PER_MS);
    if (b->obj != DK_OBJ_DATA)
        return 0;
    int64_t w = ++d->exec_count == d->slow_exec_obj ? 1250 * NS_PER_MS : 0;
    if (flags & DS_BL_RESET) /* the final EXECUTE: hash, answer, reset */
        w += jitter((int64_t)b->off * 500);
    return w;
}

/* A decoded request frame arrived at t_rx: the core answers it; the answer
 * (if any) is queued once the target's work is done. */
static void tgt_request(gen *g, tgt *d, const uint8_t *frame, size_t len, int64_t t_rx)
{
    int64_t start = t_rx > g->tgt_busy ? t_rx : g->tgt_busy;
    int64_t work = jitter(90 * NS_PER_US); /* scheduler + handler */
    ds_bl *bl = d->chip.bl;
    tgt_before b = { ds_bl_current_obj(bl), ds_bl_init_cmd_valid(bl), ds_bl_image_bytes(bl), 0 };
    uint8_t rq[DK_MTU_UART];
    if (len == 0 || len > sizeof rq)
        return;
    memcpy(rq, frame, len);
    if ((rq[0] == DK_OP_OBJECT_EXECUTE || d->flip_at >= 0) && b.obj == DK_OBJ_DATA)
        b.off = ds_bl_settings(bl)->progress.firmware_image_offset;
    if (rq[0] == DK_OP_OBJECT_WRITE && b.obj == DK_OBJ_DATA && d->flip_at >= b.off &&
        d->flip_at < (int64_t)b.off + (int64_t)len - 1)
        rq[1 + d->flip_at - b.off] ^= 0x10;
    uint8_t rsp[64], wire[DK_SLIP_MAX_ENCODED(64)];
    size_t rl = 0;
    int flags = st_request(&d->chip, rq, len, (uint64_t)((start - T0_NS) / NS_PER_MS), rsp,
                           sizeof rsp, &rl);
    work += tgt_work(d, rq, len, &b, rsp, rl, flags);
    g->tgt_busy = start + work;
    if (!rl)
        return;
    size_t w = dk_slip_encode(rsp, rl, wire);
    tgt_send(g, g->tgt_busy, wire, w, N_FRAME);
    g->tgt_busy = g->tgt_free;
}

/* ---- the host: nrfutil 6.1.7 dfu serial ---- */

enum { H_OK = 0, H_FAIL, H_KILLED };
enum { R_OK = 0, R_NONE, R_ERR };

typedef struct {
    gen *g;
    tgt *d;
    uint16_t prn;
    uint8_t ping_id;
    uint16_t mtu;
    int64_t kill_at;       /* stop when a data write reaches this offset; -1 */
    const char *why;       /* what nrfutil would have said */
    bool noise_at_open;    /* noise on both lines right after the port opens */
    unsigned noise_host_write, noise_tgt_write; /* noise around data write #N */
    unsigned writes;       /* data writes so far */
    uint8_t rx[256];       /* last response frame */
    dk_msg rsp;
} host;

static void host_think(host *h, int64_t ns)
{
    h->g->t += jitter(ns);
}

static void host_msg(host *h, const dk_msg *m)
{
    uint8_t frame[DK_MTU_UART], wire[DK_SLIP_MAX_ENCODED(DK_MTU_UART)];
    size_t n = dk_msg_encode(m, frame, sizeof frame);
    size_t w = dk_slip_encode(frame, n, wire);
    int64_t end = host_send(h->g, wire, w);
    tgt_request(h->g, h->d, frame, n, end);
}

/* One message from the target within the read timeout (nrfutil's
 * get_message: bad-escape frames are skipped). */
static bool host_read(host *h)
{
    gen *g = h->g;
    bool glued = false;
    for (;;) {
        while (g->qn && g->q[0].stale) {
            tgt_drain(g, g->q[0].t + 1);
            tgt_pop(g);
        }
        if (g->qn == 0 || g->q[0].t > g->t + READ_TIMEOUT_NS) {
            g->t += READ_TIMEOUT_NS;
            return false;
        }
        tgt_drain(g, g->q[0].t + 1);
        tchunk c = g->q[0];
        tgt_pop(g);
        int64_t end = c.t + (int64_t)c.len * BYTE_NS;
        if (end > g->t)
            g->t = end;
        if (c.noise == N_GLUED)
            glued = true;
        if (c.noise != N_FRAME)
            continue;
        /* Undo SLIP: our own frames, so escapes are well formed. */
        size_t n = 0;
        for (size_t i = 0; i + 1 < c.len && n < sizeof h->rx; i++) {
            uint8_t b = c.wire[i];
            if (b == DK_SLIP_ESC)
                b = c.wire[++i] == DK_SLIP_ESC_END ? DK_SLIP_END : DK_SLIP_ESC;
            h->rx[n++] = b;
        }
        dk_msg_parse(h->rx, n, &h->rsp);
        if (glued)
            h->rsp.is_response = false; /* starts with the glitch, not 0x60 */
        return true;
    }
}

/* __get_response: R_NONE on a timeout, R_ERR when nrfutil raises. */
static int host_response(host *h, uint8_t op)
{
    if (!host_read(h))
        return R_NONE;
    if (!h->rsp.is_response) {
        h->why = "No Response";
        return R_ERR;
    }
    if (h->rsp.op != op) {
        h->why = "Unexpected Executed OP_CODE";
        return R_ERR;
    }
    if (h->rsp.result != DK_RES_SUCCESS) {
        h->why = h->rsp.result == DK_RES_EXT_ERROR ? "Extended Error" : "Response Code";
        return R_ERR;
    }
    host_think(h, 150 * NS_PER_US);
    return R_OK;
}

static int host_simple(host *h, dk_msg m, bool need_answer)
{
    host_msg(h, &m);
    int r = host_response(h, m.op);
    if (r == R_ERR || (r == R_NONE && need_answer)) {
        if (r == R_NONE)
            h->why = "no answer";
        return H_FAIL;
    }
    return H_OK;
}

/* __stream_data: 64-byte WRITEs, PRN checks, final CRC_GET.  data_obj: the
 * data being sent is image data (the kill switch applies). */
static int host_stream(host *h, const uint8_t *p, size_t len, uint32_t *crc, uint32_t *off,
                       bool data_obj)
{
    size_t chunk = (size_t)(h->mtu - 1) / 2 - 1;
    unsigned pnr = 0;
    for (size_t i = 0; i < len; i += chunk) {
        size_t k = len - i < chunk ? len - i : chunk;
        dk_msg m = dk_msg_request(DK_OP_OBJECT_WRITE);
        m.req.write.data = p + i;
        m.req.write.len = k;
        uint8_t w[16];
        if (data_obj && ++h->writes == h->noise_host_write)
            host_send(h->g, w, make_noise(w));
        host_msg(h, &m);
        if (data_obj && h->writes == h->noise_tgt_write)
            tgt_send(h->g, h->g->t - 2 * NS_PER_MS, w, make_noise(w), N_DROPPED);
        host_think(h, 60 * NS_PER_US);
        *crc = dk_crc32(*crc, p + i, k);
        *off += (uint32_t)k;
        if (data_obj && h->kill_at >= 0 && *off >= h->kill_at)
            return H_KILLED;
        if (h->prn && ++pnr == h->prn) {
            pnr = 0;
            int r = host_response(h, DK_OP_CRC_GET);
            if (r != R_OK) {
                if (r == R_NONE)
                    h->why = "no PRN notification";
                return H_FAIL;
            }
            if (h->rsp.rsp.crc.crc != *crc || h->rsp.rsp.crc.offset != *off) {
                h->why = "Failed CRC validation";
                return H_FAIL;
            }
        }
    }
    host_msg(h, &(dk_msg){ .op = DK_OP_CRC_GET });
    int r = host_response(h, DK_OP_CRC_GET);
    if (r != R_OK) {
        if (r == R_NONE)
            h->why = "Did not receive checksum response";
        return H_FAIL;
    }
    if (h->rsp.rsp.crc.crc != *crc || h->rsp.rsp.crc.offset != *off) {
        h->why = "Failed CRC validation";
        return H_FAIL;
    }
    return H_OK;
}

static int host_select(host *h, uint8_t type)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = type;
    return host_simple(h, m, true);
}

static int host_create(host *h, uint8_t type, uint32_t size)
{
    dk_msg m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = type;
    m.req.create.size = size;
    return host_simple(h, m, false);
}

static int host_execute(host *h)
{
    return host_simple(h, dk_msg_request(DK_OP_OBJECT_EXECUTE), false);
}

static int host_open(host *h)
{
    lines(h->g, DK_LINE_DTR | DK_LINE_RTS | DK_LINE_CTS | DK_LINE_DSR);
    host_think(h, 2 * NS_PER_MS);
    if (h->noise_at_open) {
        uint8_t w[16];
        host_send(h->g, w, make_noise(w));
        /* A glitch on the target's TX as the port opens: it glues onto the
         * first answer, nrfutil's first PING fails and it pings again. */
        static const uint8_t glitch[] = { 0x00, 0xF0 };
        tgt_send(h->g, h->g->t + 300 * NS_PER_US, glitch, sizeof glitch, N_GLUED);
        host_think(h, 5 * NS_PER_MS);
    }
    for (int tries = 0;; tries++) {
        h->ping_id = (uint8_t)(h->ping_id + 1);
        dk_msg m = dk_msg_request(DK_OP_PING);
        m.req.ping.id = h->ping_id;
        host_msg(h, &m);
        if (host_read(h) && h->rsp.is_response && h->rsp.op == DK_OP_PING)
            break;
        if (tries == 30) {
            h->why = "No ping response after opening COM port";
            return H_FAIL;
        }
    }
    host_think(h, 200 * NS_PER_US);
    dk_msg m = dk_msg_request(DK_OP_RECEIPT_NOTIF_SET);
    m.req.prn.target = h->prn;
    if (host_simple(h, m, false) != H_OK)
        return H_FAIL;
    if (host_simple(h, dk_msg_request(DK_OP_MTU_GET), true) != H_OK)
        return H_FAIL;
    h->mtu = h->rsp.rsp.mtu.mtu;
    return H_OK;
}

static void host_close(host *h)
{
    host_think(h, 3 * NS_PER_MS);
    tgt_forget(h->g, h->g->t);
    lines(h->g, 0);
}

static int host_init_packet(host *h, const uint8_t *dat, size_t len)
{
    if (host_select(h, DK_OBJ_COMMAND) != H_OK)
        return H_FAIL;
    uint32_t off = h->rsp.rsp.select.offset, crc = h->rsp.rsp.select.crc;
    if (len > h->rsp.rsp.select.max_size) {
        h->why = "Init command is too long";
        return H_FAIL;
    }
    if (off != 0 && off <= len && dk_crc32(0, dat, off) == crc) {
        if (off < len && host_stream(h, dat + off, len - off, &crc, &off, false) != H_OK)
            goto fresh;
        return host_execute(h);
    }
fresh:
    if (host_create(h, DK_OBJ_COMMAND, (uint32_t)len) != H_OK)
        return H_FAIL;
    crc = off = 0;
    if (host_stream(h, dat, len, &crc, &off, false) != H_OK)
        return H_FAIL;
    return host_execute(h);
}

static int host_firmware(host *h, const uint8_t *bin, size_t len)
{
    if (host_select(h, DK_OBJ_DATA) != H_OK)
        return H_FAIL;
    uint32_t max = h->rsp.rsp.select.max_size;
    uint32_t off = h->rsp.rsp.select.offset, crc = h->rsp.rsp.select.crc;
    if (max == 0) {
        h->why = "max_size 0";
        return H_FAIL;
    }
    if (off > 0) { /* try_to_recover */
        uint32_t rem = off % max;
        if (off > len || dk_crc32(0, bin, off) != crc) {
            off -= rem ? rem : max;
            crc = dk_crc32(0, bin, off);
        } else {
            if (rem && off != len) {
                uint32_t o = off, c = crc;
                int r = host_stream(h, bin + off, max - rem, &c, &o, true);
                if (r == H_KILLED)
                    return r;
                if (r != H_OK) {
                    off -= rem;
                    crc = dk_crc32(0, bin, off);
                    goto loop;
                }
                off = o;
                crc = c;
            }
            if (host_execute(h) != H_OK)
                return H_FAIL;
        }
    }
loop:
    for (uint32_t i = off; i < len; i += max) {
        uint32_t k = len - i < max ? (uint32_t)(len - i) : max;
        if (host_create(h, DK_OBJ_DATA, k) != H_OK)
            return H_FAIL;
        uint32_t o = i;
        int r = host_stream(h, bin + i, k, &crc, &o, true);
        if (r != H_OK)
            return r;
        if (host_execute(h) != H_OK)
            return H_FAIL;
        host_think(h, 400 * NS_PER_US); /* progress bar */
    }
    return H_OK;
}

/* One nrfutil run for one image: open, init packet, firmware, close. */
static int host_run(host *h, const uint8_t *dat, size_t dat_len, const uint8_t *bin,
                    size_t bin_len)
{
    h->ping_id = 0;
    int r = host_open(h);
    if (r == H_OK)
        r = host_init_packet(h, dat, dat_len);
    if (r == H_OK)
        r = host_firmware(h, bin, bin_len);
    host_close(h);
    return r;
}

/* ---- images and init packets ---- */

/* A firmware-like image: vector table, then code-like bytes and padding. */
static void make_image(uint8_t *p, size_t len)
{
    static const uint32_t vt[] = { 0x20040000, 0x000271f9, 0x00027221, 0x00027223 };
    size_t i = 0;
    for (size_t k = 0; k < 4 && i + 4 <= len; k++, i += 4)
        dk_put_le32(p + i, vt[k]);
    while (i < len) {
        uint64_t r = rnd();
        size_t run = (size_t)(r >> 56) % 48 + 1;
        bool pad = (r & 0xF) == 0;
        for (size_t k = 0; k < run && i < len; k++, i++)
            p[i] = pad ? 0xFF : (uint8_t)(rnd() >> 24);
    }
}

/* An unsigned application init packet as nrfutil pkg generate writes it
 * (§8.2): every size field present, GENERATED_CRC boot validation. */
static size_t make_dat(const uint8_t *bin, size_t len, uint32_t sd_req, uint8_t *out, size_t cap)
{
    dk_initpkt p;
    memset(&p, 0, sizeof p);
    p.has_plain = true;
    p.has_op_code = true;
    p.op_code = 1;
    p.has_init = true;
    dk_test_app_cmd(&p.init, bin, len, 2, TGT_HW_VERSION, sd_req);
    p.init.has_is_debug = true;
    return dk_initpkt_encode(&p, out, cap);
}

/* ---- scenarios ---- */

typedef struct {
    const char *name;
    const char *what;
    size_t image;
    void (*run)(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len);
} scenario;

static uint8_t g_dat[CMD_MAX];

static void gap(gen *g, int64_t ns)
{
    g->t += jitter(ns);
}

static void sc_complete(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)g;
    (void)d;
    size_t n = make_dat(bin, len, TGT_SD_FWID, g_dat, sizeof g_dat);
    host_run(h, g_dat, n, bin, len);
}

static void sc_resume(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)d;
    size_t n = make_dat(bin, len, TGT_SD_FWID, g_dat, sizeof g_dat);
    h->kill_at = OBJ_MAX + 35 * 64; /* mid second object */
    host_run(h, g_dat, n, bin, len);
    gap(g, 41 * NS_PER_S);          /* user re-runs nrfutil (3 s delay + 30 s wait) */
    h->kill_at = -1;
    host_run(h, g_dat, n, bin, len);
}

static void sc_sd_reject(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)g;
    (void)d;
    size_t n = make_dat(bin, len, 0x0101, g_dat, sizeof g_dat); /* built for S132 7.2.0 */
    host_run(h, g_dat, n, bin, len);
}

static void sc_crc_mismatch(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)g;
    size_t n = make_dat(bin, len, TGT_SD_FWID, g_dat, sizeof g_dat);
    d->flip_at = OBJ_MAX + 904; /* second object */
    host_run(h, g_dat, n, bin, len);
}

static void sc_noise(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)g;
    (void)d;
    size_t n = make_dat(bin, len, TGT_SD_FWID, g_dat, sizeof g_dat);
    h->noise_at_open = true; /* before the first frame, on both lines */
    h->noise_tgt_write = 20; /* target line, while the host streams object 1 */
    h->noise_host_write = 70; /* host line, between two writes of object 2 */
    host_run(h, g_dat, n, bin, len);
}

static void sc_hash_mismatch(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)g;
    (void)d;
    /* The .dat of a rebuild that differs in one byte from the .bin sent. */
    uint8_t *other = malloc(len);
    if (!other)
        abort();
    memcpy(other, bin, len);
    other[len / 2] ^= 0x01;
    size_t n = make_dat(other, len, TGT_SD_FWID, g_dat, sizeof g_dat);
    free(other);
    host_run(h, g_dat, n, bin, len);
}

static void sc_slow_execute(gen *g, tgt *d, host *h, const uint8_t *bin, size_t len)
{
    (void)g;
    size_t n = make_dat(bin, len, TGT_SD_FWID, g_dat, sizeof g_dat);
    d->slow_exec_obj = 1;
    host_run(h, g_dat, n, bin, len);
}

static const scenario scenarios[] = {
    { "complete", "one complete update", 6000, sc_complete },
    { "resume", "nrfutil killed mid-object, re-run 41 s later: resumes mid-object", 10000,
      sc_resume },
    { "sd-reject", "init packet built for another SoftDevice: EXECUTE -> EXT_ERROR 0x07", 6000,
      sc_sd_reject },
    { "crc-mismatch", "target receives one image byte corrupted: CRC_GET differs, nrfutil stops",
      6000, sc_crc_mismatch },
    { "noise", "complete update with line noise (invalid escapes) between frames", 6000,
      sc_noise },
    { "hash-mismatch", ".dat hash of another build: final EXECUTE -> EXT_ERROR 0x0C", 6000,
      sc_hash_mismatch },
    { "slow-execute",
      "EXECUTE of object 1 answered after 1.25 s: nrfutil reads it as the CREATE answer and stops",
      10000, sc_slow_execute },
};

/* Many complete updates back to back until `size` line bytes are out. */
static void bench_run(gen *g, host *h, uint64_t size)
{
    static const uint16_t prns[] = { 0, 0, 8, 0, 12 };
    uint8_t *bin = malloc(256 * 1024);
    if (!bin)
        abort();
    for (unsigned i = 0; g->written < size && !g->failed; i++) {
        /* whole words, as linked images are: the SDK stores WRITEs of whole
         * words only (a short last one would be dropped) */
        size_t len = (size_t)rnd_range(64 * 1024, 256 * 1024) & ~(size_t)3;
        make_image(bin, len);
        size_t n = make_dat(bin, len, TGT_SD_FWID, g_dat, sizeof g_dat);
        h->prn = prns[i % (sizeof prns / sizeof prns[0])];
        host_run(h, g_dat, n, bin, len);
        gap(g, 4 * NS_PER_S);
    }
    free(bin);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " TOOL " --scenario NAME [--prn N] [--seed N] [--image-size N] [--split N]\n"
            "                 [--raw FILE] [--host FILE] [--target FILE] [--pcap FILE]\n"
            "       " TOOL " --size BYTES [--seed N] [--raw FILE] [--pcap FILE] ...\n"
            "       " TOOL " --list\n"
            "Plays nrfutil and an SDK 17.1 UART bootloader; writes what the lines carried.\n"
            "  --raw FILE     both lines merged in time order\n"
            "  --host FILE    host -> target line; --target FILE: target -> host line\n"
            "  --pcap FILE    pcap, link type 250 (RTAC serial)\n"
            "  --split N      cut line data into pcap packets of at most N bytes\n"
            "  --image-size N the image's size, a multiple of 4 up to 800 KiB\n"
            "  --size BYTES   many complete updates until BYTES of line data (benchmark)\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return false;
    if (*end == 'k' || *end == 'K')
        v *= 1024, end++;
    else if (*end == 'M')
        v *= 1024 * 1024, end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f)
        setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

int dk_gen_legacy(const char *name, const char *pcap, const char *raw); /* gen_legacy.c */

int main(int argc, char **argv)
{
    /* --legacy SCENARIO --pcap FILE [--raw FILE]: the legacy HCI DFU samples */
    if ((argc == 5 || (argc == 7 && !strcmp(argv[5], "--raw"))) && !strcmp(argv[1], "--legacy") &&
        !strcmp(argv[3], "--pcap"))
        return dk_gen_legacy(argv[2], argv[4], argc == 7 ? argv[6] : NULL);
    enum { O_RAW = 256, O_HOST, O_TARGET, O_PCAP, O_SIZE, O_SPLIT, O_LIST, O_IMG };
    static const struct option opts[] = {
        { "scenario", required_argument, NULL, 's' },
        { "prn", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 'S' },
        { "image-size", required_argument, NULL, O_IMG },
        { "raw", required_argument, NULL, O_RAW },
        { "host", required_argument, NULL, O_HOST },
        { "target", required_argument, NULL, O_TARGET },
        { "pcap", required_argument, NULL, O_PCAP },
        { "size", required_argument, NULL, O_SIZE },
        { "split", required_argument, NULL, O_SPLIT },
        { "list", no_argument, NULL, O_LIST },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = NULL, *paths[4] = { NULL, NULL, NULL, NULL };
    uint64_t prn = 0, seed = 1, size = 0, split = 0, img = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        uint64_t *dst = NULL;
        switch (c) {
        case 's': name = optarg; break;
        case 'p': dst = &prn; break;
        case 'S': dst = &seed; break;
        case O_IMG: dst = &img; break;
        case O_SIZE: dst = &size; break;
        case O_SPLIT: dst = &split; break;
        case O_RAW: paths[0] = optarg; break;
        case O_HOST: paths[1] = optarg; break;
        case O_TARGET: paths[2] = optarg; break;
        case O_PCAP: paths[3] = optarg; break;
        case O_LIST:
            for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
                printf("%-14s %s\n", scenarios[i].name, scenarios[i].what);
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (dst && !parse_u64(optarg, dst)) {
            fprintf(stderr, TOOL ": bad number: %s\n", optarg);
            return 2;
        }
    }
    const scenario *sc = NULL;
    for (size_t i = 0; name && i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            sc = &scenarios[i];
    if (optind != argc || (!sc && !size) || (sc && size) || (name && !sc) || prn > 0xFFFF ||
        img > ROOM || img % 4 || (!paths[0] && !paths[1] && !paths[2] && !paths[3])) {
        if (name && !sc)
            fprintf(stderr, TOOL ": unknown scenario '%s' (see --list)\n", name);
        usage(stderr);
        return 2;
    }

    static gen g;
    static tgt d;
    memcpy(g.paths, paths, sizeof paths);
    g.split = (size_t)split;
    g.t = g.host_free = g.tgt_free = g.tgt_busy = T0_NS;
    for (int i = 0; i < 3; i++) {
        FILE **f = i == 0 ? &g.raw : i == 1 ? &g.host : &g.target;
        if (paths[i] && !(*f = open_out(paths[i]))) {
            fprintf(stderr, TOOL ": %s: %s\n", paths[i], strerror(errno));
            return 2;
        }
    }
    if (paths[3] && !(g.pcap = dk_cap_create(paths[3], &g.err))) {
        dk_err_print(stderr, TOOL, NULL, &g.err);
        return 2;
    }
    rng_state = seed;
    tgt_open(&d);
    host h = { .g = &g, .d = &d, .prn = (uint16_t)prn, .kill_at = -1 };

    if (sc) {
        size_t len = img ? (size_t)img : sc->image;
        uint8_t *bin = malloc(len ? len : 1);
        if (!bin)
            abort();
        make_image(bin, len);
        sc->run(&g, &d, &h, bin, len);
        free(bin);
    } else {
        bench_run(&g, &h, size);
    }
    tgt_drain(&g, INT64_MAX);

    int rc = 0;
    for (int i = 0; i < 3; i++) {
        FILE *f = i == 0 ? g.raw : i == 1 ? g.host : g.target;
        if (f && fclose(f) != 0)
            io_fail(&g, paths[i]);
    }
    if (g.pcap && dk_cap_close_writer(g.pcap, g.failed ? NULL : &g.err) != DK_OK)
        g.failed = true;
    if (g.failed) {
        dk_err_print(stderr, TOOL, NULL, &g.err);
        rc = 2;
    }
    st_close(&d.chip);
    return rc;
}
