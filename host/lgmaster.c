/* lgmaster.c - the legacy HCI DFU master (see lgmaster.h; protocol.md §13). */
#include "lgmaster.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/pkg.h"
#include "dfukit/rd.h"

#define PKT_MAX DK_HCI_MAX_PACKET(4 + 512)
#define DH_LG_REOPEN_MS 5000 /* a USB CDC board re-enumerates after its reset */

typedef enum { P_OK, P_DROPPED, P_GONE, P_SILENT } pstat;

typedef struct {
    const dh_lg_opts *o;
    const dh_io *io;
    dh_result *res;
    size_t image;
    const char *name;
    uint8_t seq;          /* the number of the next packet */
    uint8_t got;          /* the last ACK's number */
    unsigned owed;        /* ACKs of re-sent packets that may still come */
    uint32_t last_kind;   /* the last packet the device took */
    uint8_t pl[4 + DK_LG_INIT_MAX + 512];
    uint8_t pkt[PKT_MAX];
} lgm;

void dh_lg_opts_default(dh_lg_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ack_ms = 1000;
    o->retries = 3;
    o->max_restarts = 4;
    o->erase_ms_per_page_x10 = 897;
    o->page_pause_ms = 102;
    o->boot_ms = 1500;
}

size_t dh_lg_images(const dk_pkg *pkg, dh_lg_image *out)
{
    static const uint32_t modes[] = { [DK_IMG_SOFTDEVICE_BOOTLOADER] = DK_LG_MODE_SD_BL,
                                      [DK_IMG_SOFTDEVICE] = DK_LG_MODE_SD,
                                      [DK_IMG_BOOTLOADER] = DK_LG_MODE_BL,
                                      [DK_IMG_APPLICATION] = DK_LG_MODE_APP };
    for (size_t i = 0; i < pkg->n; i++) {
        const dk_image *im = &pkg->img[i];
        out[i] = (dh_lg_image){ .bin_name = im->bin_name, .bin = im->bin, .bin_len = im->bin_len,
                                .dat = im->dat, .dat_len = im->dat_len, .mode = modes[im->kind],
                                .sd_size = im->sd_size, .bl_size = im->bl_size };
    }
    return pkg->n;
}

static void emit(lgm *m, dh_ev_kind k, uint64_t done, uint64_t total, const char *text)
{
    if (!m->o->on_event)
        return;
    dh_event ev = { .kind = k, .image = m->image, .name = m->name, .done = done, .total = total,
                    .text = text };
    m->o->on_event(m->o->ev_ctx, &ev);
}

static void notef(lgm *m, dh_ev_kind k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void notef(lgm *m, dh_ev_kind k, const char *fmt, ...)
{
    if (!m->o->on_event || ((k == DH_EV_TX || k == DH_EV_RX) && !m->o->trace))
        return;
    char t[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    emit(m, k, 0, 0, t);
}

/* Wait ms, throwing away whatever arrives (late ACKs).  <0: port gone. */
static int pause_ms(lgm *m, uint32_t ms)
{
    uint64_t end = m->io->now_ms(m->io->ctx) + ms;
    uint8_t b[64];
    for (;;) {
        uint64_t now = m->io->now_ms(m->io->ctx);
        if (now >= end)
            return 0;
        size_t n;
        int rc = m->io->recv(m->io->ctx, b, sizeof b, &n, (uint32_t)(end - now));
        if (rc < 0)
            return rc;
        if (rc > 0)
            m->owed = 0; /* the late ones came */
    }
}

/* Wait for the ACK of packet seq.  1 with *a, 0 timeout, <0 port gone. */
static int wait_ack(lgm *m, uint8_t seq, uint8_t *a)
{
    uint64_t end = m->io->now_ms(m->io->ctx) + m->o->ack_ms;
    uint8_t b[64];
    for (;;) {
        uint64_t now = m->io->now_ms(m->io->ctx);
        if (now >= end)
            return 0;
        size_t n;
        int rc = m->io->recv(m->io->ctx, b, sizeof b, &n, (uint32_t)(end - now));
        if (rc <= 0)
            return rc;
        if (!dk_hci_is_ack(b, n, a)) {
            notef(m, DH_EV_DEBUG, "ignored a %zu-byte frame that is not an ACK", n);
            continue;
        }
        notef(m, DH_EV_RX, "ACK %u", *a);
        if (*a == seq && m->owed) { /* the late ACK of a re-sent packet */
            m->owed--;
            continue;
        }
        return 1;
    }
}

/* One packet: kind + body, numbered m->seq, until its ACK. */
static pstat send_packet(lgm *m, uint32_t kind, const uint8_t *body, size_t len)
{
    size_t pl = dk_lg_encode(kind, body, len, m->pl);
    size_t n = dk_hci_encode(m->seq, m->pl, pl, m->pkt);
    const char *kn = dk_lg_kind_name(kind);
    for (unsigned t = 0; t <= m->o->retries; t++) {
        notef(m, DH_EV_TX, "#%u %s %zu bytes%s", m->seq, kn ? kn : "?", len, t ? " (again)" : "");
        /* a leading END: the device drops bytes until one (§13.2) */
        if (m->io->send(m->io->ctx, NULL, 0) < 0 || m->io->send(m->io->ctx, m->pkt, n) < 0)
            return P_GONE;
        uint8_t a;
        int rc = wait_ack(m, m->seq, &a);
        if (rc < 0)
            return P_GONE;
        if (rc == 0) {
            notef(m, DH_EV_NOTE, "no ACK for %s #%u within %u ms: sending it again", kn, m->seq,
                  m->o->ack_ms);
            m->owed++;
            continue;
        }
        m->got = a;
        if (a == ((m->seq + 1) & 7)) {
            m->seq = a;
            m->last_kind = kind;
            return P_OK;
        }
        notef(m, DH_EV_NOTE, "%s #%u acknowledged with %u: the device dropped it (it expects %u)",
              kn, m->seq, a, a);
        m->seq = a;
        return P_DROPPED;
    }
    return P_SILENT;
}

static dh_status failf(lgm *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static dh_status failf(lgm *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->res->msg, sizeof m->res->msg, fmt, ap);
    va_end(ap);
    m->res->status = DH_FAILED;
    m->res->image = m->image;
    return DH_FAILED;
}

typedef enum { A_DONE, A_RESTART, A_FAIL } attempt;

/* DATA packets and STOP. */
static attempt send_data(lgm *m, const dh_lg_image *im, pstat *ps)
{
    size_t chunks = (im->bin_len + 511) / 512;
    for (size_t i = 0; i < chunks; i++) {
        size_t off = i * 512, k = im->bin_len - off < 512 ? im->bin_len - off : 512;
        if ((*ps = send_packet(m, DK_LG_DATA, im->bin + off, k)) != P_OK)
            return *ps == P_DROPPED ? A_RESTART : A_FAIL;
        emit(m, DH_EV_PROGRESS, off + k, im->bin_len, NULL);
        if ((i % 8 == 0 || i + 1 == chunks) && m->o->page_pause_ms &&
            pause_ms(m, m->o->page_pause_ms) < 0) {
            *ps = P_GONE;
            return A_FAIL;
        }
    }
    *ps = send_packet(m, DK_LG_STOP, NULL, 0);
    return *ps == P_OK ? A_DONE : *ps == P_DROPPED ? A_RESTART : A_FAIL;
}

/* One try at an image from START. */
static attempt try_image(lgm *m, const dh_lg_image *im, pstat *ps)
{
    uint8_t start[DK_LG_START_LEN];
    uint32_t app = im->mode == DK_LG_MODE_APP ? (uint32_t)im->bin_len : 0;
    uint32_t sd = im->mode == DK_LG_MODE_SD ? (uint32_t)im->bin_len : im->sd_size;
    uint32_t bl = im->mode == DK_LG_MODE_BL ? (uint32_t)im->bin_len : im->bl_size;
    dk_lg_encode_start(im->mode, sd, bl, app, start);
    /* What number does the device expect?  A no-op packet (kind 0: the
     * bootloader acknowledges it, then frees it, §13.5) tells: its ACK
     * carries the expected number whether the no-op was taken or dropped.
     * A START numbered so is taken.  It may reset a device that had a
     * session open (§13.6), which then expects 1: the packet after START
     * must not be #0 (accepted: ACK 1, like the reset's drop) nor #1 (taken
     * by the reset device in the wrong state), so the count is moved on from
     * 7 and 0 with more no-ops. */
    if ((*ps = send_packet(m, DK_LG_NOP, NULL, 0)) == P_DROPPED)
        *ps = P_OK; /* dropped or taken: m->seq is what the device expects */
    while (*ps == P_OK && (m->seq == 7 || m->seq == 0))
        if ((*ps = send_packet(m, DK_LG_NOP, NULL, 0)) == P_DROPPED)
            *ps = P_OK;
    if (*ps != P_OK)
        return A_FAIL;
    if ((*ps = send_packet(m, DK_LG_START, start + 4, DK_LG_START_LEN - 4)) != P_OK)
        return *ps == P_DROPPED ? A_RESTART : A_FAIL;
    uint64_t pages = ((uint64_t)sd + bl + app) / 4096 + 1;
    uint64_t wait = pages * m->o->erase_ms_per_page_x10 / 10;
    if (pause_ms(m, (uint32_t)(wait < 500 ? 500 : wait)) < 0) {
        *ps = P_GONE;
        return A_FAIL;
    }
    uint8_t dat[DK_LG_INIT_MAX];
    memcpy(dat, im->dat, im->dat_len);
    memset(dat + im->dat_len, 0, 2); /* whole words for the device (§13.5) */
    if ((*ps = send_packet(m, DK_LG_INIT, dat, im->dat_len + 2)) != P_OK)
        return *ps == P_DROPPED ? A_RESTART : A_FAIL;
    return send_data(m, im, ps);
}

static dh_status run_image(lgm *m, const dh_lg_image *im)
{
    if (im->dat_len + 2 > DK_LG_INIT_MAX)
        return failf(m, "%s: the init packet has %zu bytes; the bootloader takes at most %u",
                     im->bin_name, im->dat_len, DK_LG_INIT_MAX - 2);
    emit(m, DH_EV_IMAGE, 0, im->bin_len, NULL);
    for (unsigned r = 0; r <= m->o->max_restarts; r++) {
        pstat ps;
        attempt a = try_image(m, im, &ps);
        if (a == A_DONE) {
            emit(m, DH_EV_DONE, im->bin_len, im->bin_len, NULL);
            return DH_OK;
        }
        if (a == A_RESTART && m->last_kind == DK_LG_INIT && m->got == 1)
            return failf(m, "%s: the device reset right after the init packet: it refused it "
                         "(device type must be 0x0052, sd_req must list 0xFFFE or the installed "
                         "SoftDevice)", im->bin_name);
        if (a == A_RESTART) {
            notef(m, DH_EV_NOTE, "starting the image again with sequence number %u", m->seq);
            m->last_kind = 0;
            continue;
        }
        if (ps == P_GONE && m->io->reopen && m->io->reopen(m->io->ctx, DH_LG_REOPEN_MS) == 0) {
            notef(m, DH_EV_NOTE, "the port went away (the device reset?): reopened");
            if (pause_ms(m, m->o->boot_ms) < 0)
                return failf(m, "the port went away again after reopening");
            m->seq = 1; /* a reset device counts from 1 */
            continue;
        }
        if (ps == P_GONE)
            return failf(m, "the port went away");
        return failf(m, "%s: no ACK from the device after %u tries: it is not in its "
                     "bootloader's serial DFU mode (touch at 1200 baud, or double reset) or this "
                     "is not its port", im->bin_name, m->o->retries + 1);
    }
    return failf(m, "%s: gave up after %u restarts: the device keeps dropping packets",
                 im->bin_name, m->o->max_restarts);
}

dh_status dh_lg_run(const dh_lg_opts *o, const dh_io *io, const dh_lg_image *imgs, size_t n,
                    dh_result *res)
{
    static lgm m; /* big buffers; the master runs once at a time */
    memset(&m, 0, sizeof m);
    memset(res, 0, sizeof *res);
    m.o = o;
    m.io = io;
    m.res = res;
    m.seq = 1;
    for (size_t i = 0; i < n; i++) {
        m.image = i;
        m.name = imgs[i].bin_name;
        if (i && io->reopen) { /* the device reset after an SD/BL image */
            if (io->reopen(io->ctx, DH_LG_REOPEN_MS) < 0 || pause_ms(&m, o->boot_ms) < 0)
                return failf(&m, "could not reopen the port for image %zu", i + 1);
            m.seq = 1;
        }
        if (run_image(&m, &imgs[i]) != DH_OK)
            return DH_FAILED;
    }
    res->status = DH_OK;
    return DH_OK;
}
