/* sim_chip.c - dfusim's chip life (dfusim.h): boot, reset and power cut, the
 * faults that fire outside a request, the flash hook, the timers; and the
 * log lines and capture records every part of the adapter writes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/msg.h"
#include "dfusim.h"

/* ---- logging and the capture ---------------------------------------------- */

/* level 0: anomalies and state changes (-q hides), 1: -v, 2: -vv */
void sim_log(const sim *s, int level, const char *fmt, ...)
{
    if (s->o.verbose < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    ds_vlog(now_ms(s), fmt, ap);
    va_end(ap);
}

void sim_describe(const uint8_t *p, size_t n, char *out, size_t cap)
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
int64_t sim_vclock_line(sim *s, size_t n)
{
    s->v_ns += n * s->vbyte_ns;
    return VCLOCK_EPOCH_US + (int64_t)(s->v_ns / 1000u);
}

/* t_us < 0: now (or, with --clock virtual, after n bytes of line time). */
void sim_capture_at(sim *s, dk_dir dir, const uint8_t *p, size_t n, int64_t t)
{
    if (!s->cap || n == 0)
        return;
    if (t < 0 && s->o.vclock)
        t = sim_vclock_line(s, n);
    dk_err err;
    if (dk_cap_write(s->cap, t, dir, p, n, &err) != DK_OK) {
        sim_log(s, -1, "capture %s: %s; capture stopped", s->o.capture, err.msg);
        dk_cap_close_writer(s->cap, NULL);
        s->cap = NULL;
    }
}

void sim_capture(sim *s, dk_dir dir, const uint8_t *p, size_t n)
{
    sim_capture_at(s, dir, p, n, -1);
}

/* --clock virtual: host bytes go into the capture one frame (up to its END)
 * per packet, whatever pieces the pty delivered them in. */
void sim_vcap_flush(sim *s)
{
    sim_capture(s, DK_DIR_HOST, s->vhost, s->vhost_len);
    s->vhost_len = 0;
}

void sim_vcap_host(sim *s, const uint8_t *p, size_t n)
{
    while (n) {
        const uint8_t *e = memchr(p, DK_SLIP_END, n);
        size_t k = e ? (size_t)(e - p) + 1 : n;
        if (k > sizeof s->vhost - s->vhost_len)
            k = sizeof s->vhost - s->vhost_len;
        memcpy(s->vhost + s->vhost_len, p, k);
        s->vhost_len += k;
        if (s->vhost[s->vhost_len - 1] == DK_SLIP_END || s->vhost_len == sizeof s->vhost)
            sim_vcap_flush(s);
        p += k;
        n -= k;
    }
}

void sim_log_fired(sim *s, const ds_fault_fire *f, const char *where)
{
    for (size_t i = 0; i < f->n_which; i++)
        sim_log(s, 0, "fault %s fired (%s)", s->o.faults.f[f->which[i]].spec, where);
}


/* ---- chip life cycle ----------------------------------------------------- */

void sim_drop_rx(sim *s)
{
    s->rx_head = s->rx_n = 0;
    dk_slip_dec_reset(&s->dec);
}


/* Boot (reset or power-on) until no fault interrupts it. */
void sim_boot(sim *s, bool power_on, const char *why)
{
    sim_drop_rx(s);
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
            sim_log(s, 0, "response lost: the chip reset before sending it");
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
        sim_log_fired(s, &f, "during boot");
        if (f.power_cut) {
            if (f.off_ms) {
                sim_power_cut(s, f.off_ms, "fault during boot");
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
    sim_log(s, 0, "%s: boot %llu, %s", why, (unsigned long long)ds_bl_boots(s->bl),
         s->in_dfu ? "in DFU mode" : "the app runs (port silent)");
}

void sim_power_cut(sim *s, uint32_t off_ms, const char *why)
{
    sim_drop_rx(s);
    if (off_ms == 0) {
        sim_boot(s, true, why);
        return;
    }
    sim_log(s, 0, "%s: power off for %u ms", why, off_ms);
    s->v_ns += (uint64_t)off_ms * 1000000u;
    s->off = true;
    s->in_dfu = false;
    s->off_until_us = now_us(s) + (uint64_t)off_ms * 1000u;
}

void sim_pause_input(sim *s)
{
    s->paused = true;
    sim_log(s, 0, "paused (fault): input waits until 'resume' on the control socket");
}

void sim_apply_fire(sim *s, const ds_fault_fire *f)
{
    if (f->power_cut)
        sim_power_cut(s, f->off_ms, "power cut (fault)");
    else if (f->reset)
        sim_boot(s, false, "reset (fault)");
    if (f->stall) {
        s->stalled = true;
        sim_log(s, 0, "stalled: no more answers until a reset");
    }
    if (f->pause && !f->power_cut && !f->reset)
        sim_pause_input(s);
}


ds_flash_verdict sim_flash_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no)
{
    sim *s = ctx;
    /* Realtime, before the answer: the chip reset (an overrun in the last
     * operation) before it could start this one. */
    bool live = s->line && s->rt_handling && !ds_flash_marked(s->flash);
    if (live && s->rt_overrun)
        return DS_FLASH_STOP;
    ds_fault_verdict v = ds_faults_flash_op(&s->o.faults, op_no);
    if (v != DS_FV_GO || s->o.verbose >= 2)
        sim_log(s, v == DS_FV_GO ? 2 : 0, "flash op %llu: %s 0x%08X len %u%s", (unsigned long long)op_no,
             is_erase ? "erase" : "write", addr, len,
             v == DS_FV_CUT ? ": POWER CUT (fault)" : v == DS_FV_FAIL ? ": fails (fault)" : "");
    if (live && v == DS_FV_GO) { /* the CPU stops; what arrives meanwhile waits in the UARTE */
        if (is_erase)
            ds_line_halt(s->line, 1, DS_FLASH_ERASE_US * 1000ull);
        else
            ds_line_halt(s->line, (len + 3) / 4, DS_FLASH_WORD_US * 1000ull);
        sim_rt_busy(s);
    }
    return v == DS_FV_CUT ? DS_FLASH_CUT : v == DS_FV_FAIL ? DS_FLASH_FAIL : DS_FLASH_GO;
}


/* ---- timers --------------------------------------------------------------- */

void sim_timers(sim *s)
{
    uint64_t ms = now_ms(s);
    if (s->off && now_us(s) >= s->off_until_us)
        sim_boot(s, true, "power back on");
    ds_fault_fire f;
    ds_faults_tick(&s->o.faults, ms, &f);
    if (f.n_which) {
        sim_log_fired(s, &f, "timer");
        sim_apply_fire(s, &f);
    }
    if (!s->off && !s->stalled && ms >= ds_bl_deadline(s->bl)) {
        int flags = ds_bl_tick(s->bl, ms);
        if (flags & DS_BL_CUT)
            sim_power_cut(s, 0, "power cut in the inactivity reset");
        else if (flags & DS_BL_RESET)
            sim_boot(s, false, "inactivity timeout");
    }
}

