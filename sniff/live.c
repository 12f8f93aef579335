/* live.c - chunks -> lib SLIP deframer (one per line) -> lib session tracker
 * -> dfudecode's text printer, as dfudecode does for a capture file. */
#include "live.h"

#include <stdlib.h>
#include <string.h>

#include "dfukit/session.h"
#include "dfukit/slip.h"
#include "print.h"

#define FRAME_CAP 8192 /* as dfudecode: USB writes carry 1024 bytes */

struct sn_live {
    printer pr;
    dk_session *s;
    dk_slip_dec dec[3]; /* by dk_dir */
    uint8_t buf[3][FRAME_CAP];
    uint64_t pos;       /* bytes fed so far, both lines: the stream position */
    int64_t t;
    dk_dir dir;
    bool finished;
};

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    sn_live *l = ctx;
    dk_session_slip(l->s, ev, l->t, l->dir);
}

sn_live *sn_live_new(FILE *out, int verbose, char *err, size_t cap)
{
    sn_live *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    printer_init(&l->pr, out, false, verbose > 1);
    l->s = dk_session_new(printer_event, &l->pr);
    if (!l->s) {
        free(l);
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    for (int i = 0; i < 3; i++)
        dk_slip_dec_init(&l->dec[i], l->buf[i], FRAME_CAP);
    return l;
}

void sn_live_feed(sn_live *l, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len)
{
    if (dir != DK_DIR_HOST && dir != DK_DIR_TARGET)
        return;
    l->t = t_us;
    l->dir = dir;
    dk_slip_dec_set_pos(&l->dec[dir], l->pos);
    dk_slip_dec_feed(&l->dec[dir], data, len, on_slip, l);
    l->pos += len;
    fflush(l->pr.f);
}

void sn_live_finish(sn_live *l)
{
    if (l->finished)
        return;
    l->finished = true;
    l->t = -1;
    for (int i = DK_DIR_HOST; i <= DK_DIR_TARGET; i++) {
        l->dir = (dk_dir)i;
        dk_slip_dec_flush(&l->dec[i], on_slip, l);
    }
    dk_session_finish(l->s);
    fflush(l->pr.f);
}

void sn_live_free(sn_live *l)
{
    if (!l)
        return;
    dk_session_free(l->s);
    free(l);
}
