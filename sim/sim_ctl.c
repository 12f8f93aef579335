/* sim_ctl.c - what dfusim's --control commands do (dfusim.h); the socket
 * and its lines are control.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfusim.h"

/* ---- control channel -------------------------------------------------------- */

bool sim_dump_hex(sim *s, const char *path, dk_err *err)
{
    if (ds_bl_dump_hex(s->bl, path, err) != DK_OK) {
        sim_log(s, -1, "--dump-hex %s: %s", path, err->msg);
        return false;
    }
    sim_log(s, 1, "flash written to %s", path);
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
        sim_drop_rx(s);
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
    sim_log(s, 0, "resumed (control)%s", drop ? "; what waited was dropped" : "");
    if (drop)
        sim_log(s, 1, "%zu waiting bytes and frames dropped", n);
    s->paused = false;
}

void sim_ctl_command(void *ctx, char *line)
{
    sim *s = ctx;
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    if (!strcmp(line, "reset")) {
        sim_boot(s, false, "reset (control)");
    } else if (!strcmp(line, "power-cut")) {
        long ms = arg ? strtol(arg, NULL, 0) : 0;
        sim_power_cut(s, ms > 0 && ms < 3600000 ? (uint32_t)ms : 0, "power cut (control)");
    } else if (!strcmp(line, "enter-dfu")) {
        ds_bl_request_dfu(s->bl);
        sim_boot(s, false, "buttonless DFU request (control)");
    } else if (!strcmp(line, "resume")) {
        if (arg && strcmp(arg, "drop")) {
            ds_ctl_reply(&s->ctl, "error: resume takes nothing or 'drop'\n");
            return;
        }
        resume_input(s, arg != NULL);
    } else if (!strcmp(line, "stall")) {
        s->stalled = true;
        sim_log(s, 0, "stalled (control)");
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
        if (!sim_dump_hex(s, p, &err)) {
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

