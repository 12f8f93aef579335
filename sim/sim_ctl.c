/* sim_ctl.c - what dfusim's --control commands do (dfusim.h); the socket
 * and its lines are control.c, the commands' parser ctlcmd.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfusim.h"

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

static void show_settings(sim *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        ds_ctl_reply(&s->ctl, "error: out of memory\n");
        return;
    }
    ds_bl_print_settings(s->bl, m);
    fclose(m);
    ds_ctl_write(&s->ctl, text, len);
    free(text);
    ds_ctl_reply(&s->ctl, "ok\n");
}

static void dump_hex(sim *s, const char *file)
{
    const char *p = file[0] ? file : s->o.dump_hex;
    if (!p) {
        ds_ctl_reply(&s->ctl, "error: dump-hex needs a file (no --dump-hex given)\n");
        return;
    }
    dk_err err;
    if (!sim_dump_hex(s, p, &err)) {
        ds_ctl_reply(&s->ctl, "error: %s: %s\n", p, err.msg);
        return;
    }
    ds_ctl_reply(&s->ctl, "ok\n");
}

void sim_control(void *ctx, const ds_ctl_req *req)
{
    sim *s = ctx;
    switch (req->op) {
    case DS_CTL_RESET:
        sim_boot(s, false, "reset (control)");
        break;
    case DS_CTL_POWER_CUT:
        sim_power_cut(s, req->off_ms, "power cut (control)");
        break;
    case DS_CTL_ENTER_DFU:
        ds_bl_request_dfu(s->bl);
        sim_boot(s, false, "buttonless DFU request (control)");
        break;
    case DS_CTL_RESUME:
        resume_input(s, req->drop);
        break;
    case DS_CTL_STALL:
        s->stalled = true;
        sim_log(s, 0, "stalled (control)");
        break;
    case DS_CTL_SHOW_SETTINGS:
        show_settings(s);
        return;
    case DS_CTL_DUMP_HEX:
        dump_hex(s, req->file);
        return;
    case DS_CTL_STATUS:
        ds_ctl_reply(&s->ctl, "state: %s\nboots: %llu\nflash-ops: %llu\nimage-bytes: %llu\n",
                     s->off           ? "off"
                     : s->stalled     ? "stalled"
                     : s->paused      ? "paused"
                     : s->in_dfu      ? "dfu"
                                      : "app",
                     (unsigned long long)ds_bl_boots(s->bl), (unsigned long long)ds_flash_ops(s->flash),
                     (unsigned long long)ds_bl_image_bytes(s->bl));
        break;
    case DS_CTL_N_OPS:
        return; /* not a request */
    }
    ds_ctl_reply(&s->ctl, "ok\n");
}
