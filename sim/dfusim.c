/* dfusim.c - a fake SDK 17.1 Secure DFU bootloader (UART, SLIP) on a pty.
 *
 * The adapter around the pure core (bl.h, flash.h): pty, SLIP, faults
 * (fault.h), control channel, capture, realtime pacing, CLI.  See README.md.
 *
 * Data path:  pty -> inbuf -> deframer -> rxq -> ds_bl_handle -> txq -> pty.
 * Instant mode: everything happens at once.  Realtime: pty -> line model
 * (line.h: the line, the UARTE, the SDK's ISR, RX blocks and scheduler in
 * time) -> ds_bl_handle -> the flash work and the answer back into the
 * model -> txq -> pty, each answer written when the wall clock reaches the
 * time the model gives it (protocol.md §14).
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bl.h"
#include "dfukit/capfile.h"
#include "dfukit/cli.h"
#include "dfukit/crc.h"
#include "dfukit/msg.h"
#include "dfukit/pty.h"
#include "dfukit/scenario.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"
#include "control.h"
#include "fault.h"
#include "legacy_main.h"
#include "flash.h"
#include "line.h"
#include "proc.h"
#include "settings.h"

#define TOOL "dfusim"
#define RXQ_LEN 16
#define TXQ_LEN 16
#define NO_HOST_POLL_MS 20 /* re-check for a host this often while none has the port */
#define RSP_CAP 64
#define VCLOCK_EPOCH_US 1715680800000000LL /* --clock virtual starts 2024-05-14 10:00:00 UTC */

typedef struct {
    ds_bl_config cfg;
    const char *flash_path, *dump_hex, *capture, *link, *control;
    bool show_settings, realtime;
    bool hwfc;     /* --hwfc: NRF_DFU_SERIAL_UART_USES_HWFC */
    ds_link transport; /* --transport uart|usb */
    bool vclock; /* --clock virtual: capture time from the line model, not the wall */
    long baud;
    int verbose; /* -1 quiet, 0 normal, 1 -v, 2 -vv */
    ds_faults faults;
    const char *scenario_path; /* --scenario FILE */
    dk_scenario *scen;         /* its contents, or NULL */
    /* parse time: the first pass's options, and the SoftDevice asked for */
    const char *chip, *time_scale;
    bool sd;
    uint32_t sd_end;
    bool mtu_set, transport_set, app_cli; /* given on the command line */
} options;

typedef struct {
    uint8_t *buf;
    size_t len;
    uint64_t ready_us; /* its last byte has arrived */
} rx_frame;

typedef struct {
    uint8_t buf[DK_SLIP_MAX_ENCODED(RSP_CAP)];
    size_t len;
    uint64_t at_us; /* release time */
    uint64_t start_ns; /* realtime: its first byte leaves the chip (model time) */
    int64_t v_t_us;    /* --clock virtual: its capture time stamp, fixed when queued, */
    uint64_t v_due_ns; /* or, when delayed (-1), when it is sent, not before this */
} tx_frame;

typedef struct {
    options o;
    dk_pty pty;
    ds_flash *flash;
    ds_bl *bl;
    dk_cap_writer *cap;
    uint64_t t0_us;

    /* --clock virtual: nanoseconds since VCLOCK_EPOCH_US, advanced by line
     * time and flash busy time only; host bytes are captured per frame as the
     * chip takes them, so the same conversation gives the same pcap. */
    uint64_t v_ns, vbyte_ns;
    uint8_t vhost[4096];
    size_t vhost_len;

    dk_slip_dec dec;
    uint8_t *dec_buf;
    size_t frame_cap;

    uint8_t inbuf[4096];
    size_t inpos, inlen;

    rx_frame rxq[RXQ_LEN];
    size_t rx_head, rx_n;
    tx_frame txq[TXQ_LEN];
    size_t tx_head, tx_n;

    /* chip state the adapter owns */
    bool in_dfu, stalled, off;
    bool paused; /* a pause fault: input waits (CTS off) until "resume" */
    uint64_t off_until_us;
    uint64_t ignored; /* bytes ignored while stalled / off / app running */

    /* realtime: the line model, in nanoseconds since t0_us */
    ds_line *line;
    uint64_t byte_us;   /* instant mode: 0 */
    uint64_t rt_idle_ns; /* the pty was last seen empty then */
    uint64_t rt_t_ns;    /* the model time of the event being handled (0: now) */
    bool rt_peek;        /* an answer went out: look at the pty at once */
    bool rt_deaf;        /* the model was told the chip does not listen */
    bool rt_handling;    /* a request is being handled: flash ops stop the CPU */
    bool rt_overrun;     /* ... and a byte overran the UARTE meanwhile */
    uint64_t rt_answer_bytes, rt_wait_ns; /* for the prediction logged at exit */

    bool host_open;
    char lineset[64]; /* the host's line settings, as last logged */

    ds_ctl ctl; /* --control */
} sim;

/* ---- small helpers ------------------------------------------------------- */

static uint64_t now_us(const sim *s)
{
    return ds_mono_us() - s->t0_us;
}

static uint64_t now_ns(const sim *s)
{
    return now_us(s) * 1000u;
}

/* When the model's current event happens (a reset after an overrun, after a
 * request's flash work), or now. */
static uint64_t rt_when(const sim *s)
{
    return s->rt_t_ns ? s->rt_t_ns : now_ns(s);
}

static uint64_t now_ms(const sim *s)
{
    return now_us(s) / 1000u;
}

/* level 0: anomalies and state changes (-q hides), 1: -v, 2: -vv */
static void logx(const sim *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logx(const sim *s, int level, const char *fmt, ...)
{
    if (s->o.verbose < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    ds_vlog(now_ms(s), fmt, ap);
    va_end(ap);
}

static void describe(const uint8_t *p, size_t n, char *out, size_t cap)
{
    dk_msg m;
    if (n == 0) {
        snprintf(out, cap, "(empty)");
        return;
    }
    dk_msg_parse(p, n, &m);
    dk_msg_describe(&m, out, cap);
}

/* --clock virtual: n more bytes cross the line; the time their last one has. */
static int64_t vclock_line(sim *s, size_t n)
{
    s->v_ns += n * s->vbyte_ns;
    return VCLOCK_EPOCH_US + (int64_t)(s->v_ns / 1000u);
}

/* t_us < 0: now (or, with --clock virtual, after n bytes of line time). */
static void capture_at(sim *s, dk_dir dir, const uint8_t *p, size_t n, int64_t t)
{
    if (!s->cap || n == 0)
        return;
    if (t < 0 && s->o.vclock)
        t = vclock_line(s, n);
    dk_err err;
    if (dk_cap_write(s->cap, t, dir, p, n, &err) != DK_OK) {
        logx(s, -1, "capture %s: %s; capture stopped", s->o.capture, err.msg);
        dk_cap_close_writer(s->cap, NULL);
        s->cap = NULL;
    }
}

static void capture(sim *s, dk_dir dir, const uint8_t *p, size_t n)
{
    capture_at(s, dir, p, n, -1);
}

/* --clock virtual: host bytes go into the capture one frame (up to its END)
 * per packet, whatever pieces the pty delivered them in. */
static void vcap_flush(sim *s)
{
    capture(s, DK_DIR_HOST, s->vhost, s->vhost_len);
    s->vhost_len = 0;
}

static void vcap_host(sim *s, const uint8_t *p, size_t n)
{
    while (n) {
        const uint8_t *e = memchr(p, DK_SLIP_END, n);
        size_t k = e ? (size_t)(e - p) + 1 : n;
        if (k > sizeof s->vhost - s->vhost_len)
            k = sizeof s->vhost - s->vhost_len;
        memcpy(s->vhost + s->vhost_len, p, k);
        s->vhost_len += k;
        if (s->vhost[s->vhost_len - 1] == DK_SLIP_END || s->vhost_len == sizeof s->vhost)
            vcap_flush(s);
        p += k;
        n -= k;
    }
}

static void log_fired(sim *s, const ds_fault_fire *f, const char *where)
{
    for (size_t i = 0; i < f->n_which; i++)
        logx(s, 0, "fault %s fired (%s)", s->o.faults.f[f->which[i]].spec, where);
}

/* ---- chip life cycle ----------------------------------------------------- */

static void drop_rx(sim *s)
{
    s->rx_head = s->rx_n = 0;
    dk_slip_dec_reset(&s->dec);
}

static void power_cut(sim *s, uint32_t off_ms, const char *why);

/* Boot (reset or power-on) until no fault interrupts it. */
static void boot(sim *s, bool power_on, const char *why)
{
    drop_rx(s);
    s->stalled = false;
    s->paused = false;
    s->off = false;
    if (s->line) { /* the UART is off until the boot is done */
        uint64_t t = rt_when(s);
        ds_line_reset(s->line, t);
        /* answers the chip had not begun to send when it reset never leave */
        while (s->tx_n) {
            tx_frame *x = &s->txq[(s->tx_head + s->tx_n - 1) % TXQ_LEN];
            if (x->start_ns <= t)
                break;
            logx(s, 0, "response lost: the chip reset before sending it");
            s->tx_n--;
        }
    }
    for (int guard = 0; guard < 1000; guard++) {
        uint64_t ms = now_ms(s);
        s->in_dfu = power_on ? ds_bl_power_on(s->bl, ms) : ds_bl_boot(s->bl, ms);
        uint64_t busy = ds_flash_take_busy_us(s->flash);
        if (s->line) {
            ds_flash_run runs[DS_FLASH_RUNS];
            size_t before;
            ds_flash_take_runs(s->flash, runs, DS_FLASH_RUNS, &before);
            ds_line_halt(s->line, 1, busy * 1000u);
        }
        s->v_ns += busy * 1000u;
        ds_fault_fire f;
        memset(&f, 0, sizeof f);
        ds_faults_take_deferred(&s->o.faults, &f);
        log_fired(s, &f, "during boot");
        if (f.power_cut) {
            if (f.off_ms) {
                power_cut(s, f.off_ms, "fault during boot");
                return;
            }
            power_on = true;
            continue;
        }
        if (f.reset) {
            power_on = false;
            continue;
        }
        if (f.stall)
            s->stalled = true;
        break;
    }
    if (s->line) {
        ds_line_ready(s->line);
        s->rt_deaf = false;
    }
    s->ignored = 0;
    logx(s, 0, "%s: boot %llu, %s", why, (unsigned long long)ds_bl_boots(s->bl),
         s->in_dfu ? "in DFU mode" : "the app runs (port silent)");
}

static void power_cut(sim *s, uint32_t off_ms, const char *why)
{
    drop_rx(s);
    if (off_ms == 0) {
        boot(s, true, why);
        return;
    }
    logx(s, 0, "%s: power off for %u ms", why, off_ms);
    s->v_ns += (uint64_t)off_ms * 1000000u;
    s->off = true;
    s->in_dfu = false;
    s->off_until_us = now_us(s) + (uint64_t)off_ms * 1000u;
}

static void pause_input(sim *s)
{
    s->paused = true;
    logx(s, 0, "paused (fault): input waits until 'resume' on the control socket");
}

static void apply_fire(sim *s, const ds_fault_fire *f)
{
    if (f->power_cut)
        power_cut(s, f->off_ms, "power cut (fault)");
    else if (f->reset)
        boot(s, false, "reset (fault)");
    if (f->stall) {
        s->stalled = true;
        logx(s, 0, "stalled: no more answers until a reset");
    }
    if (f->pause && !f->power_cut && !f->reset)
        pause_input(s);
}

static int read_pty(sim *s, uint64_t base_ns);
static void rt_busy(sim *s);

static ds_flash_verdict flash_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no)
{
    sim *s = ctx;
    /* Realtime, before the answer: the chip reset (an overrun in the last
     * operation) before it could start this one. */
    bool live = s->line && s->rt_handling && !ds_flash_marked(s->flash);
    if (live && s->rt_overrun)
        return DS_FLASH_STOP;
    ds_fault_verdict v = ds_faults_flash_op(&s->o.faults, op_no);
    if (v != DS_FV_GO || s->o.verbose >= 2)
        logx(s, v == DS_FV_GO ? 2 : 0, "flash op %llu: %s 0x%08X len %u%s", (unsigned long long)op_no,
             is_erase ? "erase" : "write", addr, len,
             v == DS_FV_CUT ? ": POWER CUT (fault)" : v == DS_FV_FAIL ? ": fails (fault)" : "");
    if (live && v == DS_FV_GO) { /* the CPU stops; what arrives meanwhile waits in the UARTE */
        if (is_erase)
            ds_line_halt(s->line, 1, DS_FLASH_ERASE_US * 1000ull);
        else
            ds_line_halt(s->line, (len + 3) / 4, DS_FLASH_WORD_US * 1000ull);
        rt_busy(s);
    }
    return v == DS_FV_CUT ? DS_FLASH_CUT : v == DS_FV_FAIL ? DS_FLASH_FAIL : DS_FLASH_GO;
}

/* ---- responses ------------------------------------------------------------ */

static void queue_tx(sim *s, const uint8_t *rsp, size_t len, uint64_t at_us, uint32_t delay_ms)
{
    if (s->tx_n == TXQ_LEN) {
        logx(s, 0, "tx: %zu responses pending, one dropped", s->tx_n);
        return;
    }
    tx_frame *t = &s->txq[(s->tx_head + s->tx_n) % TXQ_LEN];
    t->len = dk_slip_encode(rsp, len, t->buf);
    t->at_us = at_us; /* realtime: the line model gave the time its last byte arrives */
    /* sent before whatever the chip does next (a reset, a reboot's flash work);
     * a late one after what the host sends meanwhile */
    t->v_t_us = s->o.vclock && !delay_ms ? vclock_line(s, t->len) : -1;
    t->v_due_ns = s->v_ns + (uint64_t)delay_ms * 1000000u;
    s->tx_n++;
}

/* A response the chip sends now (after busy_us of flash work). */
static void respond(sim *s, uint8_t *rsp, size_t len)
{
    char d[160];
    uint32_t delay_ms;
    int64_t corrupt_at;
    if (ds_faults_response(&s->o.faults, &delay_ms, &corrupt_at)) {
        describe(rsp, len, d, sizeof d);
        logx(s, 0, "response dropped (fault): %s", d);
        return;
    }
    if (corrupt_at != -2) {
        ds_fault_corrupt(rsp, len, corrupt_at);
        logx(s, 0, "response corrupted (fault)");
    }
    uint64_t at = now_us(s), start_ns = 0;
    if (s->line) { /* the UART sends it from the moment the main loop does */
        start_ns = ds_line_now(s->line);
        uint8_t enc[DK_SLIP_MAX_ENCODED(RSP_CAP)];
        bool lost;
        size_t elen = dk_slip_encode(rsp, len, enc);
        uint64_t end = ds_line_answer(s->line, elen, &lost);
        s->rt_answer_bytes += elen;
        if (lost) {
            describe(rsp, len, d, sizeof d);
            logx(s, 0, "response lost: %s, produced while the previous answer was still on the line "
                       "(the UARTE was busy, protocol.md §14.5)", d);
            return;
        }
        at = (end + 999) / 1000;
    }
    if (delay_ms) {
        logx(s, 0, "response delayed %u ms (fault)", delay_ms);
        at += (uint64_t)delay_ms * 1000u;
    }
    if (s->o.verbose >= 1) {
        describe(rsp, len, d, sizeof d);
        logx(s, 1, "-> %s", d);
    }
    queue_tx(s, rsp, len, at, delay_ms);
    if (s->tx_n)
        s->txq[(s->tx_head + s->tx_n - 1) % TXQ_LEN].start_ns = start_ns + (uint64_t)delay_ms * 1000000u;
}

static void note_host(sim *s, bool open);

/* Write one answer to the host.  The wait on a full pty ends at a hang-up
 * (the host died: nobody reads what waits) and at SIGTERM/SIGINT; other
 * signals are seen by run() once the answer is out. */
static dk_pty_wr write_host(sim *s, const uint8_t *p, size_t len, size_t *sent)
{
    size_t done = 0, k = 0;
    dk_pty_wr w;
    while ((w = dk_pty_write(&s->pty, p + done, len - done, 1000, ds_sig_fd(), &k)) == DK_PTY_WOKEN &&
           !ds_sig_quit) {
        done += k;
        ds_sig_drain();
    }
    *sent = done + k;
    return w;
}

static void flush_tx(sim *s)
{
    uint64_t now = now_us(s);
    while (s->tx_n && s->txq[s->tx_head].at_us <= now && !ds_sig_quit) {
        tx_frame *t = &s->txq[s->tx_head];
        if (s->o.vclock && t->v_t_us < 0) {
            if (s->v_ns < t->v_due_ns)
                s->v_ns = t->v_due_ns;
            t->v_t_us = vclock_line(s, t->len);
        }
        /* Realtime: a pty still empty as the answer goes out proves the
         * host sent nothing before it; what comes next is dated after it. */
        if (s->line && s->host_open && ds_line_host_pending(s->line) == 0) {
            struct pollfd pp = { .fd = s->pty.master, .events = POLLIN };
            if (poll(&pp, 1, 0) == 0)
                s->rt_idle_ns = now_ns(s);
        }
        /* Nothing is written while no host has the port: a pty would keep
         * it for the next opener, a UART loses it. */
        size_t n = 0;
        dk_pty_wr w = s->host_open ? write_host(s, t->buf, t->len, &n) : DK_PTY_GONE;
        if (n) {
            capture_at(s, DK_DIR_TARGET, t->buf, n, t->v_t_us);
            s->rt_peek = true;
        }
        if (n < t->len)
            logx(s, 0, "response lost: %s (%zu of %zu bytes sent)",
                 !s->host_open                ? "no host has the port open"
                 : w == DK_PTY_STALLED        ? "the host stopped reading"
                 : w == DK_PTY_GONE           ? "the host went away"
                 : w == DK_PTY_WOKEN          ? "exiting"
                                              : strerror(errno),
                 n, t->len);
        if (w == DK_PTY_GONE)
            note_host(s, false); /* and drop what it left unread */
        s->tx_head = (s->tx_head + 1) % TXQ_LEN;
        s->tx_n--;
    }
}

/* ---- requests ------------------------------------------------------------- */

/* Realtime: the CPU stops for each flash operation of these runs. */
static void rt_halts(sim *s, const ds_flash_run *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ds_line_halt(s->line, r[i].n, (uint64_t)r[i].each_us * 1000u);
}

/* payload_len: what the serial layer passes (len - 1, or 0xFFFF for an
 * empty frame in realtime, §14.4). */
static void handle(sim *s, const uint8_t *req, size_t len, uint32_t payload_len)
{
    char d[160] = "";
    if (s->o.verbose >= 1 || s->o.faults.n) { /* the hot path stays lean */
        describe(req, len, d, sizeof d);
        logx(s, 1, "<- %s", d);
    }
    uint8_t op = req[0];
    ds_fault_fire f;
    ds_faults_request(&s->o.faults, op, &f);
    log_fired(s, &f, d);
    bool pause = f.pause; /* after the request is handled */
    if (f.lose && !(f.reset || f.power_cut || f.stall)) {
        logx(s, 0, "request lost on the line (fault): %s", d);
        if (pause)
            pause_input(s);
        return;
    }
    if (f.reset || f.power_cut || f.stall) {
        apply_fire(s, &f);
        return;
    }
    uint8_t rsp[RSP_CAP];
    size_t rl = 0;
    s->rt_handling = s->line != NULL; /* the hook stops the CPU for each op before the answer */
    int flags = ds_bl_handle_claimed(s->bl, req, len, payload_len, now_ms(s), rsp, sizeof rsp, &rl);
    s->rt_handling = false;
    uint64_t busy = ds_flash_take_busy_us(s->flash);
    s->v_ns += busy * 1000u;
    ds_flash_run runs[DS_FLASH_RUNS];
    size_t nruns = 0, before = 0;
    if (s->line) {
        nruns = ds_flash_take_runs(s->flash, runs, DS_FLASH_RUNS, &before);
        /* flash a host that waits for each answer waits for: all of it
         * before an answer, and what a WRITE takes beyond its own frame */
        uint64_t w = 0, frame = (len + 1) * ds_line_byte_ns(s->line);
        for (size_t i = 0; i < before; i++)
            w += (uint64_t)runs[i].n * runs[i].each_us * 1000u;
        s->rt_wait_ns += op != DK_OP_OBJECT_WRITE ? w : w > frame ? w - frame : 0;
    }
    if (s->rt_overrun) { /* the chip reset when the flash operation ended */
        s->rt_overrun = false;
        if (rl) {
            describe(rsp, rl, d, sizeof d);
            logx(s, 0, "response not sent: the chip reset before it (UARTE overrun): %s", d);
        }
        s->rt_t_ns = ds_line_now(s->line);
        boot(s, false, "reset by a UARTE overrun");
        return;
    }
    ds_faults_handled(&s->o.faults, op, ds_bl_image_bytes(s->bl), &f);
    log_fired(s, &f, d);
    bool cut = (flags & DS_BL_CUT) || f.power_cut;
    bool reset = !cut && ((flags & DS_BL_RESET) || f.reset);
    /* A cut in the flash (a flash-op fault) leaves the answer the core kept:
     * the SDK sent it before the settings write that was cut (§6.6). */
    bool fault_cut = f.power_cut && !(flags & DS_BL_CUT);
    if (rl && (fault_cut || f.reset || f.stall)) {
        describe(rsp, rl, d, sizeof d);
        logx(s, 0, "response not sent (fault): %s", d);
    } else if (rl) {
        respond(s, rsp, rl);
    }
    if (s->line) { /* then what the SDK does after the answer */
        rt_halts(s, runs + before, nruns - before);
        ds_line_done(s->line, op != DK_OP_OBJECT_WRITE || ds_bl_last_write_freed(s->bl));
        s->rt_t_ns = ds_line_now(s->line);
    }
    if (cut || reset)
        flush_tx(s); /* the answer leaves before the reset's flash work (bl.h) */
    if (cut)
        power_cut(s, f.off_ms, (flags & DS_BL_CUT) ? "power cut in a flash operation" : "power cut (fault)");
    else if (reset)
        boot(s, false, f.reset ? "reset (fault)" : "reset by the bootloader");
    if (f.stall) {
        s->stalled = true;
        logx(s, 0, "stalled: no more answers until a reset");
    }
    if ((pause || f.pause) && !cut && !reset)
        pause_input(s);
}

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    sim *s = ctx;
    switch (ev->kind) {
    case DK_SLIP_FRAME:
        break;
    case DK_SLIP_EMPTY:
        logx(s, 0, "slip: empty frame (END with nothing before it) at byte %llu: ignored",
             (unsigned long long)ev->start);
        return;
    case DK_SLIP_BAD_ESCAPE:
        logx(s, 0, "slip: bad escape at byte %llu: frame of %llu raw bytes dropped",
             (unsigned long long)ev->bad_at, (unsigned long long)(ev->end - ev->start));
        return;
    case DK_SLIP_TOO_LONG:
        logx(s, 0, "slip: frame at byte %llu longer than %zu bytes: %llu raw bytes dropped",
             (unsigned long long)ev->start, s->frame_cap, (unsigned long long)(ev->end - ev->start));
        return;
    case DK_SLIP_UNTERMINATED:
        return;
    }
    uint64_t ready = now_us(s);
    if (s->rx_n == RXQ_LEN) { /* cannot happen: feed() stops first */
        logx(s, 0, "rx: queue full, frame dropped");
        return;
    }
    rx_frame *r = &s->rxq[(s->rx_head + s->rx_n) % RXQ_LEN];
    memcpy(r->buf, ev->data, ev->len);
    r->len = ev->len;
    r->ready_us = ready;
    s->rx_n++;
}

/* Bytes the chip cannot take (off, stalled, app running): counted, logged. */
static void ignore_input(sim *s, size_t n, const char *why)
{
    if (s->ignored == 0)
        logx(s, 0, "input ignored: %s", why);
    s->ignored += n;
    logx(s, 2, "%zu bytes ignored (%llu so far)", n, (unsigned long long)s->ignored);
}

/* Feed inbuf to the deframer, one frame at a time, as far as the line and
 * the queue allow. */
static void feed(sim *s)
{
    while (s->inpos < s->inlen && !s->paused) {
        size_t left = s->inlen - s->inpos;
        const uint8_t *p = s->inbuf + s->inpos;
        if (s->off || s->stalled || !s->in_dfu) {
            ignore_input(s, left, s->off ? "the chip is off" : s->stalled ? "stalled"
                                                                           : "the app runs");
            if (s->o.vclock)
                vcap_host(s, p, left);
            s->inpos = s->inlen;
            break;
        }
        if (s->rx_n >= RXQ_LEN - 1)
            break;
        /* One request, then its answer: a fixed order.  While a delayed answer
         * is due, what the host sends meanwhile goes before it, as on the line. */
        if (s->o.vclock && s->rx_n && !(s->tx_n && s->txq[s->tx_head].v_t_us < 0))
            break;
        const uint8_t *e = memchr(p, DK_SLIP_END, left);
        size_t n = e ? (size_t)(e - p) + 1 : left;
        s->inpos += n;
        if (s->o.vclock)
            vcap_host(s, p, n);
        dk_slip_dec_feed(&s->dec, p, n, on_slip, s);
    }
}

/* Handle queued frames that have arrived, while the chip is free. */
static void serve(sim *s)
{
    while (s->rx_n && !s->tx_n && !s->off && !s->stalled && !s->paused && s->in_dfu) {
        uint64_t now = now_us(s);
        rx_frame *r = &s->rxq[s->rx_head];
        if (r->ready_us > now)
            break;
        s->rx_head = (s->rx_head + 1) % RXQ_LEN;
        s->rx_n--;
        handle(s, r->buf, r->len, r->len ? (uint32_t)(r->len - 1) : 0);
    }
}

/* Move data along until nothing moves: a chunk of many frames is served in
 * one go, without a poll between its frames. */
static void pump(sim *s)
{
    while (!ds_sig_quit) {
        size_t before[5] = { s->inpos, s->rx_head, s->rx_n, s->tx_head, s->tx_n };
        flush_tx(s);
        serve(s);
        flush_tx(s);
        feed(s);
        size_t after[5] = { s->inpos, s->rx_head, s->rx_n, s->tx_head, s->tx_n };
        if (!memcmp(before, after, sizeof before))
            return;
    }
}

/* Realtime, while the main loop waits on the flash: the UART goes on up to
 * the end of the operation (bytes from the pty too, should the host have
 * written more). */
static void rt_busy(sim *s)
{
    if (s->host_open && ds_line_host_pending(s->line) == 0 && !s->paused)
        read_pty(s, s->rt_idle_ns);
    ds_line_ev ev;
    ds_lev k;
    while ((k = ds_line_next(s->line, ds_line_now(s->line), &ev)) != DS_LEV_NONE) {
        if (k == DS_LEV_NOTE) {
            logx(s, 0, "%s", ev.text);
        } else if (k == DS_LEV_OVERRUN) {
            logx(s, 0, "rx: UARTE overrun: a byte arrived with the RX FIFO full while the CPU waited on "
                       "the flash; the SDK resets the chip on any UARTE error (protocol.md §14.8)");
            s->rt_overrun = true;
            break;
        }
    }
}

/* Realtime: tell the model what the adapter knows (the chip off, stalled or
 * running its app does not listen; a pause holds the host's bytes). */
static void rt_sync(sim *s)
{
    bool deaf = s->off || s->stalled || !s->in_dfu;
    if (deaf && !s->rt_deaf) {
        ds_line_deaf(s->line, now_ns(s));
        logx(s, 0, "input ignored: %s", s->off ? "the chip is off" : s->stalled ? "stalled" : "the app runs");
    }
    s->rt_deaf = deaf;
    ds_line_hold(s->line, s->paused);
}

static void rt_event(sim *s, const ds_line_ev *ev)
{
    if (ev->kind == DS_LEV_NOTE) {
        logx(s, 0, "%s", ev->text);
        return;
    }
    s->rt_t_ns = ev->t;
    if (ev->kind == DS_LEV_OVERRUN) {
        logx(s, 0, "rx: UARTE overrun: a byte arrived with the RX FIFO full while the CPU waited on "
                   "the flash; the SDK resets the chip on any UARTE error (protocol.md §14.8)");
        boot(s, false, "reset by a UARTE overrun");
    } else {
        if (ev->empty)
            logx(s, 0, "rx: empty SLIP frame: the SDK passes its block's stale opcode 0x%02X with payload "
                       "length 0xFFFF (protocol.md §14.4)", ev->req[0]);
        if (ev->glued)
            logx(s, 0, "rx: glued frames handled as one request 0x%02X of %zu bytes (protocol.md §14.1)",
                 ev->req[0], ev->req_len);
        handle(s, ev->req, ev->req_len, ev->payload_len);
        ds_line_done(s->line, true); /* a request lost or cut short by a fault */
    }
    s->rt_t_ns = 0;
}

/* Realtime: run the model up to now, answers out as they fall due. */
static void rt_pump(sim *s)
{
    while (!ds_sig_quit) {
        flush_tx(s);
        rt_sync(s);
        ds_line_ev ev;
        if (ds_line_next(s->line, now_ns(s), &ev) == DS_LEV_NONE)
            break;
        rt_event(s, &ev);
    }
    flush_tx(s);
}

/* ---- control channel -------------------------------------------------------- */

static bool dump_hex(sim *s, const char *path, dk_err *err)
{
    if (ds_bl_dump_hex(s->bl, path, err) != DK_OK) {
        logx(s, -1, "--dump-hex %s: %s", path, err->msg);
        return false;
    }
    logx(s, 1, "flash written to %s", path);
    return true;
}

/* "resume [drop]": input flows again; with drop, what waited (in the pty,
 * read but not taken, decoded but not handled) is thrown away, as the tty of
 * a host killed while CTS was off discards what it could not send. */
static void resume_input(sim *s, bool drop)
{
    size_t n = 0;
    if (drop) {
        n = s->inlen - s->inpos + s->rx_n;
        s->inpos = s->inlen;
        drop_rx(s);
        if (s->line) {
            n += ds_line_host_pending(s->line);
            ds_line_host_drop(s->line);
        }
        s->vhost_len = 0;
        uint8_t junk[4096];
        ssize_t got;
        while ((got = dk_pty_read(&s->pty, junk, sizeof junk)) > 0)
            n += (size_t)got;
    }
    logx(s, 0, "resumed (control)%s", drop ? "; what waited was dropped" : "");
    if (drop)
        logx(s, 1, "%zu waiting bytes and frames dropped", n);
    s->paused = false;
}

static void ctl_command(void *ctx, char *line)
{
    sim *s = ctx;
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    if (!strcmp(line, "reset")) {
        boot(s, false, "reset (control)");
    } else if (!strcmp(line, "power-cut")) {
        long ms = arg ? strtol(arg, NULL, 0) : 0;
        power_cut(s, ms > 0 && ms < 3600000 ? (uint32_t)ms : 0, "power cut (control)");
    } else if (!strcmp(line, "enter-dfu")) {
        ds_bl_request_dfu(s->bl);
        boot(s, false, "buttonless DFU request (control)");
    } else if (!strcmp(line, "resume")) {
        if (arg && strcmp(arg, "drop")) {
            ds_ctl_reply(&s->ctl, "error: resume takes nothing or 'drop'\n");
            return;
        }
        resume_input(s, arg != NULL);
    } else if (!strcmp(line, "stall")) {
        s->stalled = true;
        logx(s, 0, "stalled (control)");
    } else if (!strcmp(line, "show-settings")) {
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (m) {
            ds_bl_print_settings(s->bl, m);
            fclose(m);
            ds_ctl_write(&s->ctl, text, len);
            free(text);
        }
    } else if (!strcmp(line, "dump-hex")) {
        const char *p = arg && *arg ? arg : s->o.dump_hex;
        if (!p) {
            ds_ctl_reply(&s->ctl, "error: dump-hex needs a file (no --dump-hex given)\n");
            return;
        }
        dk_err err;
        if (!dump_hex(s, p, &err)) {
            ds_ctl_reply(&s->ctl, "error: %s: %s\n", p, err.msg);
            return;
        }
    } else if (!strcmp(line, "status")) {
        ds_ctl_reply(&s->ctl, "state: %s\nboots: %llu\nflash-ops: %llu\nimage-bytes: %llu\n",
                  s->off ? "off" : s->stalled ? "stalled" : s->paused ? "paused" : s->in_dfu ? "dfu" : "app",
                  (unsigned long long)ds_bl_boots(s->bl), (unsigned long long)ds_flash_ops(s->flash),
                  (unsigned long long)ds_bl_image_bytes(s->bl));
    } else {
        ds_ctl_reply(&s->ctl, "error: unknown command '%s' (reset, power-cut [MS], enter-dfu, stall, "
                     "resume [drop], show-settings, dump-hex [FILE], status)\n", line);
        return;
    }
    ds_ctl_reply(&s->ctl, "ok\n");
}

/* ---- main loop ---------------------------------------------------------------- */

static void timers(sim *s)
{
    uint64_t ms = now_ms(s);
    if (s->off && now_us(s) >= s->off_until_us)
        boot(s, true, "power back on");
    ds_fault_fire f;
    ds_faults_tick(&s->o.faults, ms, &f);
    if (f.n_which) {
        log_fired(s, &f, "timer");
        apply_fire(s, &f);
    }
    if (!s->off && !s->stalled && ms >= ds_bl_deadline(s->bl)) {
        int flags = ds_bl_tick(s->bl, ms);
        if (flags & DS_BL_CUT)
            power_cut(s, 0, "power cut in the inactivity reset");
        else if (flags & DS_BL_RESET)
            boot(s, false, "inactivity timeout");
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Realtime: the host's CRTSCTS, read from the pty (Linux gives the slave's
 * termios on the master). */
static void rt_host_fc(sim *s)
{
    dk_serial_cfg c;
    if (dk_pty_cfg(&s->pty, &c))
        ds_line_set_host_rtscts(s->line, (c.flow & DK_SERIAL_FLOW_RTSCTS) != 0);
}

static void note_host(sim *s, bool open)
{
    if (open == s->host_open)
        return;
    s->host_open = open;
    dk_pty_drop_unread(&s->pty); /* nothing stale for this host, or the next */
    if (open) {
        /* Nothing was on the line before the host opened it: bytes found
         * waiting later arrived after this moment, not after an older look. */
        s->rt_idle_ns = now_ns(s);
        dk_pty_describe(&s->pty, s->lineset, sizeof s->lineset);
        logx(s, 1, "host opened the port (%s)", s->lineset);
        if (s->line)
            rt_host_fc(s);
    } else {
        if (s->o.vclock) /* a frame the host left unfinished ends its packet */
            vcap_flush(s);
        if (s->dec.raw_in_frame)
            logx(s, 0, "host closed the port in the middle of a frame (%zu bytes so far); "
                       "the next frame is appended to them, as on the chip",
                 s->dec.raw_in_frame);
        else
            logx(s, 1, "host closed the port");
    }
}

/* One read from the pty into inbuf (realtime: into the line model);
 * base_ns = when its bytes can have begun to arrive. */
static int read_pty(sim *s, uint64_t base_ns)
{
    size_t cap = s->line ? ds_line_host_room(s->line) : sizeof s->inbuf;
    if (cap > sizeof s->inbuf)
        cap = sizeof s->inbuf;
    ssize_t got = dk_pty_read(&s->pty, s->inbuf, cap);
    uint64_t t = now_ns(s);
    if (got > 0) {
        note_host(s, true); /* whoever wrote this had the port open */
        if (!s->o.vclock) /* else captured per frame as fed */
            capture(s, DK_DIR_HOST, s->inbuf, (size_t)got);
        if (s->line) {
            rt_host_fc(s);
            ds_line_host_write(s->line, s->inbuf, (size_t)got, base_ns);
        } else {
            s->inpos = 0;
            s->inlen = (size_t)got;
        }
        if ((size_t)got < cap) /* the read emptied the pty */
            s->rt_idle_ns = t;
        if (s->o.verbose >= 1) {
            char line[64];
            dk_pty_describe(&s->pty, line, sizeof line);
            if (strcmp(line, s->lineset)) {
                logx(s, 1, "host changed the line settings: %s", line);
                snprintf(s->lineset, sizeof s->lineset, "%s", line);
            }
        }
        return 0;
    }
    s->rt_idle_ns = t;
    if (got == -1)
        note_host(s, false);
    if (got == -2) {
        fprintf(stderr, TOOL ": read %s: %s\n", s->pty.slave, strerror(errno));
        return -1;
    }
    return 0;
}

/* What to wait for, and until when (UINT64_MAX: nothing but input). */
static uint64_t next_wake(const sim *s, uint64_t now)
{
    uint64_t wake = UINT64_MAX;
    if (s->tx_n)
        wake = min_u64(wake, s->txq[s->tx_head].at_us);
    if (s->rx_n && !s->tx_n && !s->paused)
        wake = min_u64(wake, s->rxq[s->rx_head].ready_us);
    if (s->inpos < s->inlen && s->rx_n < RXQ_LEN - 1 && !s->paused) /* feed() can go on */
        wake = min_u64(wake, now);
    if (s->line) {
        uint64_t t = ds_line_next_time(s->line);
        if (t != UINT64_MAX)
            wake = min_u64(wake, (t + 999) / 1000);
    }
    if (s->off)
        wake = min_u64(wake, s->off_until_us);
    uint64_t d = ds_bl_deadline(s->bl), fm = ds_faults_next_ms(&s->o.faults);
    if (d != UINT64_MAX && !s->off && !s->stalled)
        wake = min_u64(wake, d * 1000u);
    if (fm != UINT64_MAX)
        wake = min_u64(wake, fm * 1000u);
    return wake;
}

static int run(sim *s)
{
    for (;;) {
        if (ds_sig_quit)
            return 0;
        if (ds_sig_reset) {
            ds_sig_reset = 0;
            boot(s, false, "reset (SIGUSR1)");
        }
        if (ds_sig_cut) {
            ds_sig_cut = 0;
            power_cut(s, 0, "power cut (SIGUSR2)");
        }
        if (ds_sig_dump) {
            ds_sig_dump = 0;
            dk_err err;
            if (s->o.dump_hex)
                dump_hex(s, s->o.dump_hex, &err);
        }
        timers(s);
        if (s->line)
            rt_pump(s);
        else
            pump(s);

        uint64_t now = now_us(s), wake = next_wake(s, now);

        /* While a host has the port, poll reports its leaving (POLLHUP); only
         * without one is there a separate check. */
        bool host = s->host_open || dk_pty_host_open(&s->pty);
        if (host)
            note_host(s, true);
        /* paused: it waits in the pty; realtime: read when the line has
         * taken what was read before, so the host's writes wait in the
         * kernel as they would behind a UART (and behind RTS) */
        bool want_read = s->inpos >= s->inlen && !s->paused &&
                         (!s->line || ds_line_host_pending(s->line) == 0);
        struct pollfd pf[5];
        int n = 0;
        pf[n++] = (struct pollfd){ .fd = ds_sig_fd(), .events = POLLIN };
        int pty_i = -1, open_i = -1, lis_i = -1, con_i = -1;
        if (want_read && host) { /* a hung-up master polls HUP at once: left out */
            pty_i = n;
            pf[n++] = (struct pollfd){ .fd = s->pty.master, .events = POLLIN };
        } else if (want_read && s->pty.opened >= 0) { /* wake as a host opens the port */
            open_i = n;
            pf[n++] = (struct pollfd){ .fd = s->pty.opened, .events = POLLIN };
        }
        if (s->ctl.fd >= 0) {
            lis_i = n;
            pf[n++] = (struct pollfd){ .fd = s->ctl.fd, .events = POLLIN };
        }
        if (s->ctl.conn >= 0) {
            con_i = n;
            pf[n++] = (struct pollfd){ .fd = s->ctl.conn, .events = POLLIN };
        }
        int timeout = -1;
        if (wake != UINT64_MAX)
            timeout = wake <= now ? 0 : (int)min_u64((wake - now + 999) / 1000, INT_MAX);
        if (want_read && !host) /* look again for a host (and leftover bytes) soon */
            timeout = timeout < 0 || timeout > NO_HOST_POLL_MS ? NO_HOST_POLL_MS : timeout;
        if (s->rt_peek && pty_i >= 0) /* an answer went out: is the pty empty now? */
            timeout = 0;
        s->rt_peek = false;
        /* realtime: to the microsecond, so answers leave when the model says */
        uint64_t us = timeout < 0 ? 0 : (uint64_t)timeout * 1000u;
        if (s->line && timeout > 0 && wake != UINT64_MAX && wake > now && wake - now < us)
            us = wake - now;
        struct timespec ts = { .tv_sec = (time_t)(us / 1000000u), .tv_nsec = (long)(us % 1000000u) * 1000 };
        int r = ppoll(pf, (nfds_t)n, timeout < 0 ? NULL : &ts, NULL);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, TOOL ": poll: %s\n", strerror(errno));
            return 1;
        }
        uint64_t woke = now_us(s);
        if (r > 0 && pf[0].revents)
            ds_sig_drain();
        if (r > 0 && lis_i >= 0 && (pf[lis_i].revents & POLLIN))
            ds_ctl_accept(&s->ctl);
        if (r > 0 && con_i >= 0 && s->ctl.conn >= 0 && pf[con_i].revents)
            ds_ctl_read(&s->ctl, ctl_command, s);
        if (r > 0 && open_i >= 0 && pf[open_i].revents) {
            dk_pty_opened_drain(&s->pty);
            s->rt_idle_ns = woke * 1000u; /* a host opened the port just now: nothing came before */
        }
        /* Bytes that came while poll watched the pty arrived when it woke;
         * bytes found waiting came right after the pty was last seen empty. */
        bool waited = pty_i >= 0 && woke >= now + 1000;
        bool readable = r > 0 && pty_i >= 0 && pf[pty_i].revents;
        if (pty_i >= 0 && !readable) /* the host had sent nothing until now */
            s->rt_idle_ns = woke * 1000u;
        if (want_read && (!host || readable))
            if (read_pty(s, waited ? woke * 1000u : s->rt_idle_ns) < 0)
                return 1;
    }
}

static void log_scenario(sim *s, bool fresh)
{
    const dk_scenario *sc = s->o.scen;
    logx(s, 0, "scenario %s: %s (%s), %s, hw %u, %s, app %s, %s", s->o.scenario_path,
         sc->diagnosis[0] ? sc->diagnosis : "no diagnosis", sc->source.file[0] ? sc->source.file : "?",
         s->o.cfg.chip.name, s->o.cfg.hw_version, s->o.cfg.sd_end ? "SoftDevice" : "MBR only",
         s->o.cfg.app_size ? "installed" : "none", s->o.realtime ? "realtime line" : "instant");
    if (!fresh && (sc->start.init || sc->device.app || sc->device.softdevice))
        logx(s, 0, "scenario: --flash %s already exists: its state wins over the scenario's",
             s->o.flash_path);
    else if (sc->start.init)
        logx(s, 0, "scenario: settings hold an executed init command of %u bytes (crc 0x%08x%s)%s",
             sc->start.init_size, sc->start.init_crc, sc->start.init_bytes_known ? "" : ", stand-in bytes",
             sc->start.data ? ", and data progress" : "");
    for (size_t i = 0; i < sc->n_faults; i++)
        logx(s, 0, "scenario: fault %s armed", sc->faults[i]);
}

/* ---- command line ------------------------------------------------------------- */

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(TOOL ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* --scenario: the device, line and faults of a dk_scenario (scenario.h) as
 * defaults; 0, or -1 after a one-line error. */
static uint32_t scaled(uint64_t ms, double scale, uint32_t min)
{
    double v = (double)ms * scale + 0.5;
    return v < min ? min : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int scenario_config(options *o, bool *sd, uint32_t *sd_end, double scale)
{
    const dk_scenario *sc = o->scen;
    ds_bl_config *c = &o->cfg;
    c->hw_version = sc->device.hw_version;
    if (sc->device.softdevice) {
        *sd = true;
        c->sd_fwid = sc->device.sd_fwid;
        *sd_end = sc->device.sd_end;
    }
    if (sc->device.app) {
        c->app_size = sc->device.app_size;
        c->app_version = sc->device.app_version;
    }
    c->bootloader_version = sc->device.bootloader_version;
    c->save_progress_in_flash = sc->device.save_progress_in_flash;
    c->single_bank = sc->device.single_bank;
    c->allow_unsigned = !sc->device.require_signature;
    c->enter = !strcmp(sc->device.enter_dfu, "always")       ? DS_BL_ENTER_ALWAYS
               : !strcmp(sc->device.enter_dfu, "first-boot") ? DS_BL_ENTER_FIRST_BOOT
                                                             : DS_BL_ENTER_NO_VALID_APP;
    c->mtu = sc->device.mtu;
    c->inactivity_ms = sc->device.inactivity_ms ? scaled(sc->device.inactivity_ms, scale, 100) : 0;
    if (sc->line.realtime) {
        o->realtime = true;
        o->baud = sc->line.baud;
    }
    for (size_t i = 0; i < sc->n_faults; i++) {
        ds_fault f;
        char why[200];
        if (ds_fault_parse(sc->faults[i], &f, why, sizeof why) < 0) {
            fprintf(stderr, TOOL ": --scenario %s: faults[%zu]: %s\n", o->scenario_path, i, why);
            return -1;
        }
        if (scale < 1) { /* times in ms: delays, off times, after-ms triggers */
            if ((f.act == DS_FA_DELAY || f.act == DS_FA_POWER_CUT) && f.arg > 0)
                f.arg = scaled((uint64_t)f.arg, scale, 1);
            if (f.trig == DS_FT_MS)
                f.n = scaled(f.n, scale, 0);
        }
        if (ds_faults_add(&o->faults, &f) < 0) {
            fprintf(stderr, TOOL ": --scenario %s: faults[%zu]: too many faults\n", o->scenario_path, i);
            return -1;
        }
    }
    return 0;
}

/* --scenario on a blank chip: provision it (app, SoftDevice), then store the
 * init command and progress the scenario says the target held, as the
 * settings page and its backup would hold them after the command EXECUTE
 * (and, with saved progress, after the last data EXECUTE): §6.2, §6.3.
 * Bytes of an init command that are not known are a stand-in of its size
 * that does not decode (0xFF), so SELECT reports the scenario's size and CRC
 * but EXECUTE cannot accept it. */
static int scenario_flash(sim *s)
{
    const dk_scenario *sc = s->o.scen;
    ds_bl_config cfg = s->o.cfg;
    cfg.enter = DS_BL_ENTER_ALWAYS;
    ds_bl *tmp = ds_bl_new(&cfg, s->flash);
    if (!tmp)
        return -1;
    ds_bl_power_on(tmp, 0);
    ds_bl_free(tmp);
    if (!sc->start.init)
        return 0;
    const ds_chip *c = &s->o.cfg.chip;
    ds_settings st;
    ds_sett_decode(ds_flash_mem(s->flash) + c->settings, &st);
    ds_sett_progress_reset(&st);
    st.progress.command_size = st.progress.command_offset = sc->start.init_size;
    st.progress.command_crc = sc->start.init_crc;
    if (sc->start.init_bytes_known)
        memcpy(st.init_command, sc->start.init_bytes, sc->start.init_size);
    if (sc->start.data) {
        st.progress.firmware_image_offset = st.progress.firmware_image_offset_last = sc->start.data_offset;
        st.progress.firmware_image_crc = st.progress.firmware_image_crc_last = sc->start.data_crc;
    }
    ds_sett_seal(&st);
    uint8_t img[DS_SETT_SIZE];
    ds_sett_encode(&st, img);
    if (ds_flash_program(s->flash, c->settings, img, DS_SETT_SIZE) != 0 ||
        ds_flash_program(s->flash, c->mbr_params, img, DS_SETT_SIZE) != 0)
        return -1;
    return 0;
}

/* ---- the option table (cli.h): getopt, --help and the man page ------------- */

static int opt_mtu(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, 8192, &v) || v < 23)
        return bad("--mtu %s: expected a number from 23 to 8192 (131 UART, 2051 USB)", arg);
    ((options *)ctx)->cfg.mtu = (uint16_t)v;
    ((options *)ctx)->mtu_set = true;
    return DK_CLI_GO;
}

static int opt_hw(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v))
        return bad("--hw-version %s: expected a number", arg);
    ((options *)ctx)->cfg.hw_version = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_sd_fwid(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    uint64_t v;
    if (!strcmp(arg, "none")) {
        o->sd = false;
    } else if (dk_cli_uint(arg, 0xFFFD, &v) && v != 0) {
        o->sd = true;
        o->cfg.sd_fwid = (uint16_t)v;
    } else {
        return bad("--sd-fwid %s: expected none or a FWID from 0x0001 to 0xFFFD", arg);
    }
    return DK_CLI_GO;
}

static int opt_sd_end(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v) || v % o->cfg.chip.page_size || v <= DS_SD_INFO_ADDR + 0x1000)
        return bad("--sd-end %s: expected a page-aligned address above 0x4000", arg);
    o->sd_end = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_app_size(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    uint64_t v;
    if (!dk_cli_uint(arg, o->cfg.chip.flash_size, &v))
        return bad("--app-size %s: expected a byte count", arg);
    o->cfg.app_size = (uint32_t)v;
    o->app_cli = true;
    return DK_CLI_GO;
}

static int opt_app_version(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v))
        return bad("--app-version %s: expected a number", arg);
    ((options *)ctx)->cfg.app_version = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_public_key(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (access(arg, R_OK) != 0)
        return bad("--public-key %s: %s", arg, strerror(errno));
    ((options *)ctx)->cfg.pubkey_pem = arg;
    return DK_CLI_GO;
}

static int opt_enter(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ds_bl_config *c = &((options *)ctx)->cfg;
    if (!strcmp(arg, "no-valid-app"))
        c->enter = DS_BL_ENTER_NO_VALID_APP;
    else if (!strcmp(arg, "always"))
        c->enter = DS_BL_ENTER_ALWAYS;
    else if (!strcmp(arg, "first-boot"))
        c->enter = DS_BL_ENTER_FIRST_BOOT;
    else
        return bad("--enter-dfu %s: expected no-valid-app, always or first-boot", arg);
    return DK_CLI_GO;
}

static int opt_inactivity(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, UINT32_MAX, &v) || (v > 0 && v < 100))
        return bad("--inactivity-ms %s: expected 0 (off) or at least 100", arg);
    ((options *)ctx)->cfg.inactivity_ms = (uint32_t)v;
    return DK_CLI_GO;
}

static int opt_fault(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    ds_fault f;
    char why[200];
    if (ds_fault_parse(arg, &f, why, sizeof why) < 0)
        return bad("--%s", why);
    if (ds_faults_add(&((options *)ctx)->faults, &f) < 0)
        return bad("--fault: at most %d faults", DS_FAULTS_MAX);
    return DK_CLI_GO;
}

static int opt_baud(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    uint64_t v;
    if (!dk_cli_uint(arg, 12000000, &v) || v < 300)
        return bad("--baud %s: expected a rate from 300 to 12000000", arg);
    ((options *)ctx)->baud = (long)v;
    return DK_CLI_GO;
}

static int opt_hwfc(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "on") && strcmp(arg, "off"))
        return bad("--hwfc %s: expected on or off", arg);
    ((options *)ctx)->hwfc = !strcmp(arg, "on");
    return DK_CLI_GO;
}

static int opt_transport(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    options *o = ctx;
    if (strcmp(arg, "uart") && strcmp(arg, "usb"))
        return bad("--transport %s: expected uart or usb", arg);
    o->transport = !strcmp(arg, "usb") ? DS_LINK_USB : DS_LINK_UART;
    o->transport_set = true;
    return DK_CLI_GO;
}

static int opt_clock(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    if (strcmp(arg, "real") && strcmp(arg, "virtual"))
        return bad("--clock %s: expected real or virtual", arg);
    ((options *)ctx)->vclock = !strcmp(arg, "virtual");
    return DK_CLI_GO;
}

static int opt_protocol(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)ctx, (void)opt;
    if (strcmp(arg, "sdfu")) /* legacy was picked before the parse (main) */
        return bad("--protocol: '%s' is not sdfu or legacy", arg);
    return DK_CLI_GO;
}

static int opt_quiet(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    ((options *)ctx)->verbose = -1;
    return DK_CLI_GO;
}

static int opt_verbose(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt, (void)arg;
    options *o = ctx;
    if (o->verbose < 0)
        o->verbose = 0;
    o->verbose++;
    return DK_CLI_GO;
}

#define O(field) offsetof(options, field)
#define CHIP "chip and bootloader"
#define RUN "run time"
static const dk_cli_opt cli_opts[] = {
    { "protocol", 0, "sdfu|legacy",
      "sdfu: Secure DFU (the default); legacy: the Adafruit nRF52 bootloader's HCI DFU, which takes options "
      "of its own (dfusim --protocol legacy --help)",
      NULL, opt_protocol },
    /* the first pass: they decide the defaults of the rest */
    { "scenario", 0, "FILE",
      "start as a dfudecode --scenario file says (device, held init command and progress, faults); "
      "options given with it override it",
      NULL, dk_cli_str, O(scenario_path), DK_CLI_EARLY },
    { "time-scale", 0, "F",
      "run the scenario's times (inactivity timeout, fault delays and off times, after-ms) F times as long",
      NULL, dk_cli_str, O(time_scale), DK_CLI_EARLY },
    { "chip", 0, "nrf52840|nrf52832", "chip profile (default nrf52840)", CHIP, dk_cli_str, O(chip),
      DK_CLI_EARLY },
    /* the second */
    { "mtu", 0, "N", "MTU_GET answer and frame limit (131 UART, 2051 USB)", CHIP, opt_mtu },
    { "hw-version", 0, "N", "NRF_DFU_HW_VERSION (52)", CHIP, opt_hw },
    { "sd-fwid", 0, "none|ID", "SoftDevice FWID; none = MBR only (default)", CHIP, opt_sd_fwid },
    { "sd-end", 0, "ADDR", "end of the SoftDevice (default 0x27000)", CHIP, opt_sd_end },
    { "app-size", 0, "N", "install an app of N bytes on a blank chip", CHIP, opt_app_size },
    { "app-version", 0, "N", "the installed app's version (downgrade check)", CHIP, opt_app_version },
    { "public-key", 0, "FILE", "PEM key for signature checks", CHIP, opt_public_key },
    { "allow-unsigned", 0, NULL, "do not require signed app/SD updates", CHIP, dk_cli_true,
      O(cfg.allow_unsigned) },
    { "save-progress-in-flash", 0, NULL, "NRF_DFU_SAVE_PROGRESS_IN_FLASH = 1", CHIP, dk_cli_true,
      O(cfg.save_progress_in_flash) },
    { "single-bank", 0, NULL, "NRF_DFU_SINGLE_BANK_APP_UPDATES = 1", CHIP, dk_cli_true, O(cfg.single_bank) },
    { "enter-dfu", 0, "WHEN", "no-valid-app (default), always, first-boot", CHIP, opt_enter },
    { "inactivity-ms", 0, "N", "inactivity reset (120000; 0 = off)", CHIP, opt_inactivity },
    { "flash", 0, "FILE", "keep the chip's flash in FILE (survives kill -9)", "flash", dk_cli_str,
      O(flash_path) },
    { "dump-hex", 0, "FILE",
      "write the flash as Intel HEX at exit and on SIGHUP (exit 1 when it cannot be written)", "flash",
      dk_cli_str, O(dump_hex) },
    { "show-settings", 0, NULL, "print the settings page (of --flash FILE) and exit", "flash", dk_cli_true,
      O(show_settings) },
    { "link", 0, "PATH", "symlink PATH to the pty", RUN, dk_cli_str, O(link) },
    { "capture", 0, "FILE", "record all traffic (pcap, link type 250)", RUN, dk_cli_str, O(capture) },
    { "control", 0, "PATH",
      "unix socket: reset, power-cut [MS], enter-dfu, stall, resume [drop], show-settings, dump-hex [FILE], "
      "status",
      RUN, dk_cli_str, O(control) },
    { "fault", 0, "SPEC", "inject a fault (repeatable; see sim/README.md)", RUN, opt_fault },
    { "realtime", 0, NULL, "pace bytes at --baud, spend flash time, lose overruns", RUN, dk_cli_true,
      O(realtime) },
    { "baud", 0, "N", "line speed for --realtime and --clock virtual (115200)", RUN, opt_baud },
    { "hwfc", 0, "on|off", "the bootloader's UART flow control, RTS/CTS (on)", RUN, opt_hwfc },
    { "transport", 0, "uart|usb", "UART (default) or USB CDC (no baud pacing, MTU 2051; --mtu 2051 implies it)",
      RUN, opt_transport },
    { "clock", 0, "real|virtual",
      "capture time stamps: the wall clock (default), or a virtual clock from 2024-05-14 10:00:00 UTC that "
      "only counts line time and flash time (same run, same pcap)",
      RUN, opt_clock },
    { "quiet", 'q', NULL, "quieter: no state changes or anomalies on stderr", RUN, opt_quiet },
    { "verbose", 'v', NULL, "more verbose (-vv: flash operations)", RUN, opt_verbose },
};
#undef O
#undef CHIP
#undef RUN

static const char *const cli_usage[] = { "[options]", NULL };
static const dk_cli_note cli_notes[] = {
    { "signals", "SIGUSR1 reset, SIGUSR2 power cut, SIGHUP dump HEX, SIGTERM/SIGINT exit" },
    { "files",
      "--capture, --dump-hex, dump-hex FILE, --flash: never written through a symlink; a new one is mode "
      "0600 (they hold the firmware); an existing capture or HEX file is overwritten, an existing --flash "
      "file used as it is; --capture may be a FIFO; the --control socket is mode 0600" },
};
static const dk_cli_exit cli_exits[] = {
    { 0, "ended by SIGTERM/SIGINT, or --show-settings done" },
    { 1, "could not open the pty, the flash file, the capture or the control socket; --link refused; "
         "--dump-hex could not be written; --show-settings of a missing --flash file" },
    { 2, "bad options or values, or a --scenario file that does not read or check" },
};
static const dk_cli_example cli_examples[] = {
    { "dfusim --allow-unsigned --link /tmp/dk0 &\ndfuhost -p /tmp/dk0 --pkg app.zip",
      "A board that takes unsigned packages, on a pty also reachable as /tmp/dk0:" },
    { "dfusim --capture sim.pcap --fault after-bytes=8192:power-cut",
      "Cut the power once 8192 bytes have arrived, and keep the traffic:" },
    { "dfusim --flash board.bin --show-settings", "The settings page a previous run left in board.bin:" },
};
static const char *const cli_see_also[] = { "dfuhost(1)", "dfudecode(1)", "dfucheck(1)", "dfusniff(1)", NULL };
static const dk_cli_mode cli_modes[] = {
    { "protocol", "legacy", "legacy protocol", &ds_legacy_cli },
};
static const dk_cli_tool cli = {
    .name = TOOL,
    .summary = "a fake nRF5 SDK 17.1 Secure DFU bootloader on a pseudo-terminal",
    .usage = cli_usage,
    .description = "A fake nRF5 SDK 17.1 Secure DFU bootloader (serial, SLIP) on a pseudo-terminal, or with "
                   "--protocol legacy the Adafruit nRF52 bootloader's legacy HCI DFU.  Prints the pty path as "
                   "the first line of stdout and serves until SIGTERM.",
    .details = "It plays an nRF52 running the SDK's UART Secure DFU bootloader: banks, the settings page "
               "and its backup, progress in RAM or flash, init packet validation, activation, resets, the "
               "app booting.  Faults come on demand (--fault, the --control socket, signals): a power cut "
               "at a byte or a flash operation, lost or late responses, stalls, flash errors.",
    .opts = cli_opts,
    .n_opts = DK_CLI_N(cli_opts),
    .notes = cli_notes,
    .n_notes = DK_CLI_N(cli_notes),
    .exits = cli_exits,
    .n_exits = DK_CLI_N(cli_exits),
    .examples = cli_examples,
    .n_examples = DK_CLI_N(cli_examples),
    .see_also = cli_see_also,
    .modes = cli_modes,
    .n_modes = DK_CLI_N(cli_modes),
};

/* Between the passes: the scenario, the chip's defaults, the time scale; 0
 * or 2 after one line. */
static int apply_first(options *o)
{
    static dk_scenario scen;
    if (o->scenario_path) {
        dk_err e;
        if (dk_scen_read(o->scenario_path, &scen, &e) != DK_OK) {
            fprintf(stderr, TOOL ": --scenario ");
            dk_err_print(stderr, NULL, o->scenario_path, &e);
            return 2;
        }
        o->scen = &scen;
        if (!o->chip)
            o->chip = scen.device.chip;
    }
    if (!o->chip)
        o->chip = "nrf52840";
    if (!ds_chip_find(o->chip))
        return bad("--chip %s: unknown chip (nrf52840, nrf52832)", o->chip);
    ds_bl_config_default(&o->cfg, o->chip);
    o->baud = 115200;
    o->hwfc = true;
    o->transport = DS_LINK_UART;
    ds_faults_init(&o->faults);
    double scale = 1.0;
    if (o->time_scale) {
        char *end;
        scale = strtod(o->time_scale, &end);
        if (*end || !(scale > 0 && scale <= 1))
            return bad("--time-scale %s: expected a factor above 0, at most 1", o->time_scale);
        if (!o->scen)
            return bad("--time-scale goes with --scenario");
    }
    if (o->scen && scenario_config(o, &o->sd, &o->sd_end, scale) != 0)
        return 2;
    return 0;
}

/* After the second pass: operands and what goes together. */
static int check_args(int argc, char **argv, int next, options *o)
{
    if (next < argc)
        return bad("unexpected argument '%s' (see dfusim --help)", argv[next]);
    if (o->vclock && o->realtime)
        return bad("--clock virtual is for instant mode: --realtime paces by the wall clock");
    /* --mtu 2051 is the USB bootloader, --transport usb has its MTU */
    if (!o->transport_set && o->mtu_set && o->cfg.mtu == DK_MTU_USB)
        o->transport = DS_LINK_USB;
    if (o->transport_set && !o->mtu_set && o->transport == DS_LINK_USB)
        o->cfg.mtu = DK_MTU_USB;
    if (o->sd) {
        o->cfg.sd_end = o->sd_end ? o->sd_end : 0x27000;
        if (o->cfg.sd_end + o->cfg.chip.page_size >= o->cfg.chip.bl_start)
            return bad("--sd-end 0x%X: leaves no room for an app", o->cfg.sd_end);
    } else if (o->sd_end) {
        return bad("--sd-end needs --sd-fwid");
    }
    /* An app that does not fit would not be installed while the log said it
     * was (a scenario's own size was checked when it was read). */
    uint32_t room = ds_bl_config_app_room(&o->cfg);
    if (o->cfg.app_size > room)
        return bad("%s %u: more than the %s's app area above the %s holds (%u bytes)",
                   o->app_cli ? "--app-size" : "device.app.size", o->cfg.app_size,
                   o->cfg.chip.name, o->sd ? "SoftDevice" : "MBR", room);
    return DK_CLI_GO;
}

/* DK_CLI_GO: serve; else the exit status.  Two passes: the chip and a
 * scenario give the defaults the other options then override. */
static int parse_args(int argc, char **argv, options *o)
{
    int next;
    int rc = dk_cli_run(&cli, argc, argv, o, DK_CLI_FIRST, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    if ((rc = apply_first(o)) != 0)
        return rc;
    rc = dk_cli_run(&cli, argc, argv, o, DK_CLI_REST, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    return check_args(argc, argv, next, o);
}

/* ---- main ----------------------------------------------------------------------- */

static int show_settings(sim *s)
{
    if (s->o.flash_path && access(s->o.flash_path, F_OK) != 0) {
        fprintf(stderr, TOOL ": --flash %s: %s\n", s->o.flash_path, strerror(errno));
        return 1;
    }
    if (!s->o.flash_path) /* a fresh chip: show what it provisions */
        ds_bl_power_on(s->bl, 0);
    ds_bl_print_settings(s->bl, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* The frame buffers, the SLIP decoder and, with --realtime, the line model;
 * -1 after one line. */
static int setup_line(sim *s)
{
    s->frame_cap = s->o.cfg.mtu - 2; /* the SDK's buffer really holds MTU - 2 (§1.3) */
    s->dec_buf = malloc(s->frame_cap);
    for (int i = 0; i < RXQ_LEN; i++)
        s->rxq[i].buf = malloc(s->frame_cap);
    if (!s->dec_buf || !s->rxq[RXQ_LEN - 1].buf) {
        fprintf(stderr, TOOL ": out of memory\n");
        return -1;
    }
    dk_slip_dec_init(&s->dec, s->dec_buf, s->frame_cap);
    dk_slip_dec_device_mode(&s->dec, true);
    s->byte_us = 0; /* instant mode; realtime: the line model */
    if (s->o.realtime) {
        ds_line_cfg lc;
        ds_line_cfg_default(&lc, s->o.transport, (uint32_t)s->o.baud);
        lc.chip_hwfc = s->o.hwfc;
        lc.mtu = s->o.cfg.mtu;
        if (!(s->line = ds_line_new(&lc))) {
            fprintf(stderr, TOOL ": cannot set up the line model\n");
            return -1;
        }
    }
    s->vbyte_ns = (uint64_t)(10000000000ULL / (uint64_t)s->o.baud); /* 8N1: 10 bits a byte */
    return 0;
}

/* At exit: what the line model says the conversation cost. */
static void log_line_model(sim *s)
{
    ds_line_stats st;
    ds_line_get_stats(s->line, &st);
    double line_ms = (double)(st.host_bytes + s->rt_answer_bytes) * (double)ds_line_byte_ns(s->line) / 1e6;
    logx(s, 0, "line model: %llu bytes from the host, %llu answered (%.1f ms on the line), %.1f ms of "
               "flash the host waited for: %.1f ms predicted; %llu overruns, %llu glued frames",
         (unsigned long long)st.host_bytes, (unsigned long long)s->rt_answer_bytes, line_ms,
         (double)s->rt_wait_ns / 1e6, line_ms + (double)s->rt_wait_ns / 1e6, (unsigned long long)st.overruns,
         (unsigned long long)st.glued);
}

int main(int argc, char **argv)
{
    static sim s;
    ds_ctl_init(&s.ctl);
    if (dk_cli_pick(&cli, argc, argv) == &ds_legacy_cli)
        return ds_legacy_main(argc, argv);
    int rc = parse_args(argc, argv, &s.o);
    if (rc != DK_CLI_GO)
        return rc;
    const ds_chip *c = &s.o.cfg.chip;
    dk_err err;

    bool fresh; /* a blank chip: a scenario prepares it */
    if (ds_flash_setup(s.o.flash_path, c, s.o.show_settings, &s.flash, &fresh) < 0)
        return 1;
    if (s.flash && s.o.scen && fresh && scenario_flash(&s) != 0) {
        fprintf(stderr, TOOL ": --scenario %s: cannot prepare the %s model\n", s.o.scenario_path, c->name);
        return 1;
    }
    if (!s.flash || !(s.bl = ds_bl_new(&s.o.cfg, s.flash))) {
        fprintf(stderr, TOOL ": cannot set up the %s model\n", c->name);
        return 1;
    }
    if (s.o.show_settings) {
        rc = show_settings(&s);
        ds_bl_free(s.bl);
        ds_flash_free(s.flash);
        return rc;
    }
    ds_flash_set_hook(s.flash, flash_hook, &s);

    if (setup_line(&s) < 0)
        return 1;

    if (ds_sig_setup(true) < 0) {
        fprintf(stderr, TOOL ": pipe: %s\n", strerror(errno));
        return 1;
    }
    if (ds_port_open(&s.pty, s.o.link, s.o.capture, &s.cap) < 0)
        return 1;
    if (s.o.control && ds_ctl_open(&s.ctl, s.o.control) < 0) {
        if (s.cap)
            dk_cap_close_writer(s.cap, NULL);
        dk_pty_close(&s.pty);
        return 1;
    }
    s.t0_us = ds_mono_us();
    if (s.o.scen)
        log_scenario(&s, fresh);
    boot(&s, true, "power on");

    printf("%s\n", s.pty.slave);
    fflush(stdout);
    rc = run(&s);

    if (s.line)
        log_line_model(&s);
    if (s.o.dump_hex && !dump_hex(&s, s.o.dump_hex, &err))
        rc = 1; /* the flash the run left is lost: say so in the status too */
    if (s.o.vclock) { /* bytes read but not taken yet, and an unfinished frame */
        vcap_host(&s, s.inbuf + s.inpos, s.inlen - s.inpos);
        vcap_flush(&s);
    }
    if (s.cap)
        dk_cap_close_writer(s.cap, NULL);
    ds_ctl_close(&s.ctl);
    dk_pty_close(&s.pty);
    ds_bl_free(s.bl);
    ds_flash_free(s.flash);
    ds_line_free(s.line);
    free(s.dec_buf);
    for (int i = 0; i < RXQ_LEN; i++)
        free(s.rxq[i].buf);
    return rc;
}
