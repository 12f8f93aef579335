/* sim_serve.c - dfusim's requests and answers (dfusim.h): the host's bytes
 * through the SLIP deframer and the fault matcher to ds_bl_handle, and the
 * answers queued and written when due.  Instant mode: everything happens at
 * once.  Realtime: pty -> line model (line.h: the line, the UARTE, the
 * SDK's ISR, RX blocks and scheduler in time) -> ds_bl_handle -> the flash
 * work and the answer back into the model -> txq -> pty, each answer written
 * when the wall clock reaches the time the model gives it (protocol.md §14).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "dfukit/msg.h"
#include "dfukit/tables.h"
#include "dfusim.h"

/* ---- responses ------------------------------------------------------------ */

static void queue_tx(sim *s, const uint8_t *rsp, size_t len, uint64_t at_us, uint32_t delay_ms)
{
    if (s->tx_n == TXQ_LEN) {
        sim_log(s, 0, "tx: %zu responses pending, one dropped", s->tx_n);
        return;
    }
    tx_frame *t = &s->txq[(s->tx_head + s->tx_n) % TXQ_LEN];
    t->len = dk_slip_encode(rsp, len, t->buf);
    t->at_us = at_us; /* realtime: the line model gave the time its last byte arrives */
    /* sent before whatever the chip does next (a reset, a reboot's flash work);
     * a late one after what the host sends meanwhile */
    t->v_t_us = s->o.vclock && !delay_ms ? sim_vclock_line(s, t->len) : -1;
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
        sim_describe(rsp, len, d, sizeof d);
        sim_log(s, 0, "response dropped (fault): %s", d);
        return;
    }
    if (corrupt_at != -2) {
        ds_fault_corrupt(rsp, len, corrupt_at);
        sim_log(s, 0, "response corrupted (fault)");
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
            sim_describe(rsp, len, d, sizeof d);
            sim_log(s, 0, "response lost: %s, produced while the previous answer was still on the line "
                       "(the UARTE was busy, protocol.md §14.5)", d);
            return;
        }
        at = (end + 999) / 1000;
    }
    if (delay_ms) {
        sim_log(s, 0, "response delayed %u ms (fault)", delay_ms);
        at += (uint64_t)delay_ms * 1000u;
    }
    if (s->o.verbose >= 1) {
        sim_describe(rsp, len, d, sizeof d);
        sim_log(s, 1, "-> %s", d);
    }
    queue_tx(s, rsp, len, at, delay_ms);
    if (s->tx_n)
        s->txq[(s->tx_head + s->tx_n - 1) % TXQ_LEN].start_ns = start_ns + (uint64_t)delay_ms * 1000000u;
}


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

void sim_flush_tx(sim *s)
{
    uint64_t now = now_us(s);
    while (s->tx_n && s->txq[s->tx_head].at_us <= now && !ds_sig_quit) {
        tx_frame *t = &s->txq[s->tx_head];
        if (s->o.vclock && t->v_t_us < 0) {
            if (s->v_ns < t->v_due_ns)
                s->v_ns = t->v_due_ns;
            t->v_t_us = sim_vclock_line(s, t->len);
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
            sim_capture_at(s, DK_DIR_TARGET, t->buf, n, t->v_t_us);
            s->rt_peek = true;
        }
        if (n < t->len)
            sim_log(s, 0, "response lost: %s (%zu of %zu bytes sent)",
                 !s->host_open                ? "no host has the port open"
                 : w == DK_PTY_STALLED        ? "the host stopped reading"
                 : w == DK_PTY_GONE           ? "the host went away"
                 : w == DK_PTY_WOKEN          ? "exiting"
                                              : strerror(errno),
                 n, t->len);
        if (w == DK_PTY_GONE)
            sim_note_host(s, false); /* and drop what it left unread */
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
        sim_describe(req, len, d, sizeof d);
        sim_log(s, 1, "<- %s", d);
    }
    uint8_t op = req[0];
    ds_fault_fire f;
    ds_faults_request(&s->o.faults, op, &f);
    sim_log_fired(s, &f, d);
    bool pause = f.pause; /* after the request is handled */
    if (f.lose && !(f.reset || f.power_cut || f.stall)) {
        sim_log(s, 0, "request lost on the line (fault): %s", d);
        if (pause)
            sim_pause_input(s);
        return;
    }
    if (f.reset || f.power_cut || f.stall) {
        sim_apply_fire(s, &f);
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
            sim_describe(rsp, rl, d, sizeof d);
            sim_log(s, 0, "response not sent: the chip reset before it (UARTE overrun): %s", d);
        }
        s->rt_t_ns = ds_line_now(s->line);
        sim_boot(s, false, "reset by a UARTE overrun");
        return;
    }
    ds_faults_handled(&s->o.faults, op, ds_bl_image_bytes(s->bl), &f);
    sim_log_fired(s, &f, d);
    bool cut = (flags & DS_BL_CUT) || f.power_cut;
    bool reset = !cut && ((flags & DS_BL_RESET) || f.reset);
    /* A cut in the flash (a flash-op fault) leaves the answer the core kept:
     * the SDK sent it before the settings write that was cut (§6.6). */
    bool fault_cut = f.power_cut && !(flags & DS_BL_CUT);
    if (rl && (fault_cut || f.reset || f.stall)) {
        sim_describe(rsp, rl, d, sizeof d);
        sim_log(s, 0, "response not sent (fault): %s", d);
    } else if (rl) {
        respond(s, rsp, rl);
    }
    if (s->line) { /* then what the SDK does after the answer */
        rt_halts(s, runs + before, nruns - before);
        ds_line_done(s->line, op != DK_OP_OBJECT_WRITE || ds_bl_last_write_freed(s->bl));
        s->rt_t_ns = ds_line_now(s->line);
    }
    if (cut || reset)
        sim_flush_tx(s); /* the answer leaves before the reset's flash work (bl.h) */
    if (cut)
        sim_power_cut(s, f.off_ms, (flags & DS_BL_CUT) ? "power cut in a flash operation" : "power cut (fault)");
    else if (reset)
        sim_boot(s, false, f.reset ? "reset (fault)" : "reset by the bootloader");
    if (f.stall) {
        s->stalled = true;
        sim_log(s, 0, "stalled: no more answers until a reset");
    }
    if ((pause || f.pause) && !cut && !reset)
        sim_pause_input(s);
}

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    sim *s = ctx;
    switch (ev->kind) {
    case DK_SLIP_FRAME:
        break;
    case DK_SLIP_EMPTY:
        sim_log(s, 0, "slip: empty frame (END with nothing before it) at byte %llu: ignored",
             (unsigned long long)ev->start);
        return;
    case DK_SLIP_BAD_ESCAPE:
        sim_log(s, 0, "slip: bad escape at byte %llu: frame of %llu raw bytes dropped",
             (unsigned long long)ev->bad_at, (unsigned long long)(ev->end - ev->start));
        return;
    case DK_SLIP_TOO_LONG:
        sim_log(s, 0, "slip: frame at byte %llu longer than %zu bytes: %llu raw bytes dropped",
             (unsigned long long)ev->start, s->frame_cap, (unsigned long long)(ev->end - ev->start));
        return;
    case DK_SLIP_UNTERMINATED:
        return;
    }
    uint64_t ready = now_us(s);
    if (s->rx_n == RXQ_LEN) { /* cannot happen: feed() stops first */
        sim_log(s, 0, "rx: queue full, frame dropped");
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
        sim_log(s, 0, "input ignored: %s", why);
    s->ignored += n;
    sim_log(s, 2, "%zu bytes ignored (%llu so far)", n, (unsigned long long)s->ignored);
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
                sim_vcap_host(s, p, left);
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
            sim_vcap_host(s, p, n);
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
void sim_pump(sim *s)
{
    while (!ds_sig_quit) {
        size_t before[5] = { s->inpos, s->rx_head, s->rx_n, s->tx_head, s->tx_n };
        sim_flush_tx(s);
        serve(s);
        sim_flush_tx(s);
        feed(s);
        size_t after[5] = { s->inpos, s->rx_head, s->rx_n, s->tx_head, s->tx_n };
        if (!memcmp(before, after, sizeof before))
            return;
    }
}

/* Realtime, while the main loop waits on the flash: the UART goes on up to
 * the end of the operation (bytes from the pty too, should the host have
 * written more). */
void sim_rt_busy(sim *s)
{
    if (s->host_open && ds_line_host_pending(s->line) == 0 && !s->paused)
        sim_read_pty(s, s->rt_idle_ns);
    ds_line_ev ev;
    ds_lev k;
    while ((k = ds_line_next(s->line, ds_line_now(s->line), &ev)) != DS_LEV_NONE) {
        if (k == DS_LEV_NOTE) {
            sim_log(s, 0, "%s", ev.text);
        } else if (k == DS_LEV_OVERRUN) {
            sim_log(s, 0, "rx: UARTE overrun: a byte arrived with the RX FIFO full while the CPU waited on "
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
        sim_log(s, 0, "input ignored: %s", s->off ? "the chip is off" : s->stalled ? "stalled" : "the app runs");
    }
    s->rt_deaf = deaf;
    ds_line_hold(s->line, s->paused);
}

static void rt_event(sim *s, const ds_line_ev *ev)
{
    if (ev->kind == DS_LEV_NOTE) {
        sim_log(s, 0, "%s", ev->text);
        return;
    }
    s->rt_t_ns = ev->t;
    if (ev->kind == DS_LEV_OVERRUN) {
        sim_log(s, 0, "rx: UARTE overrun: a byte arrived with the RX FIFO full while the CPU waited on "
                   "the flash; the SDK resets the chip on any UARTE error (protocol.md §14.8)");
        sim_boot(s, false, "reset by a UARTE overrun");
    } else {
        if (ev->empty)
            sim_log(s, 0, "rx: empty SLIP frame: the SDK passes its block's stale opcode 0x%02X with payload "
                       "length 0xFFFF (protocol.md §14.4)", ev->req[0]);
        if (ev->glued)
            sim_log(s, 0, "rx: glued frames handled as one request 0x%02X of %zu bytes (protocol.md §14.1)",
                 ev->req[0], ev->req_len);
        handle(s, ev->req, ev->req_len, ev->payload_len);
        ds_line_done(s->line, true); /* a request lost or cut short by a fault */
    }
    s->rt_t_ns = 0;
}

/* Realtime: run the model up to now, answers out as they fall due. */
void sim_rt_pump(sim *s)
{
    while (!ds_sig_quit) {
        sim_flush_tx(s);
        rt_sync(s);
        ds_line_ev ev;
        if (ds_line_next(s->line, now_ns(s), &ev) == DS_LEV_NONE)
            break;
        rt_event(s, &ev);
    }
    sim_flush_tx(s);
}

