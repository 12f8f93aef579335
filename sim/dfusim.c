/* dfusim.c - a fake SDK 17.1 Secure DFU bootloader (UART, SLIP) on a pty.
 *
 * The adapter around the pure core (bl.h, flash.h): pty, SLIP, faults
 * (fault.h), control channel, capture, realtime pacing, CLI, in the files
 * dfusim.h names; this one is main and the main loop.  See README.md.
 *
 * Data path:  pty -> inbuf -> deframer -> rxq -> ds_bl_handle -> txq -> pty
 * (sim_serve.c).
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfusim.h"
#include "legacy_main.h"
#include "settings.h"

/* ---- main loop ---------------------------------------------------------------- */

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

void sim_note_host(sim *s, bool open)
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
        sim_log(s, 1, "host opened the port (%s)", s->lineset);
        if (s->line)
            rt_host_fc(s);
    } else {
        if (s->o.vclock) /* a frame the host left unfinished ends its packet */
            sim_vcap_flush(s);
        if (s->dec.raw_in_frame)
            sim_log(s, 0, "host closed the port in the middle of a frame (%zu bytes so far); "
                       "the next frame is appended to them, as on the chip",
                 s->dec.raw_in_frame);
        else
            sim_log(s, 1, "host closed the port");
    }
}

/* One read from the pty into inbuf (realtime: into the line model);
 * base_ns = when its bytes can have begun to arrive. */
int sim_read_pty(sim *s, uint64_t base_ns)
{
    size_t cap = s->line ? ds_line_host_room(s->line) : sizeof s->inbuf;
    if (cap > sizeof s->inbuf)
        cap = sizeof s->inbuf;
    ssize_t got = dk_pty_read(&s->pty, s->inbuf, cap);
    uint64_t t = now_ns(s);
    if (got > 0) {
        sim_note_host(s, true); /* whoever wrote this had the port open */
        if (!s->o.vclock) /* else captured per frame as fed */
            sim_capture(s, DK_DIR_HOST, s->inbuf, (size_t)got);
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
                sim_log(s, 1, "host changed the line settings: %s", line);
                snprintf(s->lineset, sizeof s->lineset, "%s", line);
            }
        }
        return 0;
    }
    s->rt_idle_ns = t;
    if (got == -1)
        sim_note_host(s, false);
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
            sim_boot(s, false, "reset (SIGUSR1)");
        }
        if (ds_sig_cut) {
            ds_sig_cut = 0;
            sim_power_cut(s, 0, "power cut (SIGUSR2)");
        }
        if (ds_sig_dump) {
            ds_sig_dump = 0;
            dk_err err;
            if (s->o.dump_hex)
                sim_dump_hex(s, s->o.dump_hex, &err);
        }
        sim_timers(s);
        if (s->line)
            sim_rt_pump(s);
        else
            sim_pump(s);

        uint64_t now = now_us(s), wake = next_wake(s, now);

        /* While a host has the port, poll reports its leaving (POLLHUP); only
         * without one is there a separate check. */
        bool host = s->host_open || dk_pty_host_open(&s->pty);
        if (host)
            sim_note_host(s, true);
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
            ds_ctl_read(&s->ctl, sim_control, s);
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
            if (sim_read_pty(s, waited ? woke * 1000u : s->rt_idle_ns) < 0)
                return 1;
    }
}

static void log_scenario(sim *s, bool fresh)
{
    const dk_scenario *sc = s->o.scen;
    sim_log(s, 0, "scenario %s: %s (%s), %s, hw %u, %s, app %s, %s", s->o.scenario_path,
         sc->diagnosis[0] ? sc->diagnosis : "no diagnosis", sc->source.file[0] ? sc->source.file : "?",
         s->o.cfg.chip.name, s->o.cfg.hw_version, s->o.cfg.sd_end ? "SoftDevice" : "MBR only",
         s->o.cfg.app_size ? "installed" : "none", s->o.realtime ? "realtime line" : "instant");
    if (!fresh && (sc->start.init || sc->device.app || sc->device.softdevice))
        sim_log(s, 0, "scenario: --flash %s already exists: its state wins over the scenario's",
             s->o.flash_path);
    else if (sc->start.init)
        sim_log(s, 0, "scenario: settings hold an executed init command of %u bytes (crc 0x%08x%s)%s",
             sc->start.init_size, sc->start.init_crc, sc->start.init_bytes_known ? "" : ", stand-in bytes",
             sc->start.data ? ", and data progress" : "");
    for (size_t i = 0; i < sc->n_faults; i++)
        sim_log(s, 0, "scenario: fault %s armed", sc->faults[i]);
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
    sim_log(s, 0, "line model: %llu bytes from the host, %llu answered (%.1f ms on the line), %.1f ms of "
               "flash the host waited for: %.1f ms predicted; %llu overruns, %llu glued frames",
         (unsigned long long)st.host_bytes, (unsigned long long)s->rt_answer_bytes, line_ms,
         (double)s->rt_wait_ns / 1e6, line_ms + (double)s->rt_wait_ns / 1e6, (unsigned long long)st.overruns,
         (unsigned long long)st.glued);
}

int main(int argc, char **argv)
{
    static sim s;
    ds_ctl_init(&s.ctl);
    if (dk_cli_pick(&ds_sim_cli, argc, argv) == &ds_legacy_cli)
        return ds_legacy_main(argc, argv);
    int rc = sim_parse_args(argc, argv, &s.o);
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
    ds_flash_set_hook(s.flash, sim_flash_hook, &s);

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
    sim_boot(&s, true, "power on");

    printf("%s\n", s.pty.slave);
    fflush(stdout);
    rc = run(&s);

    if (s.line)
        log_line_model(&s);
    if (s.o.dump_hex && !sim_dump_hex(&s, s.o.dump_hex, &err))
        rc = 1; /* the flash the run left is lost: say so in the status too */
    if (s.o.vclock) { /* bytes read but not taken yet, and an unfinished frame */
        sim_vcap_host(&s, s.inbuf + s.inpos, s.inlen - s.inpos);
        sim_vcap_flush(&s);
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
