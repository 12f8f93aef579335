/* live.c - dfusniff --live: the chunks dfusniff captures, through lib's
 * pipeline (pipeline.h) as dfudecode reads a capture file. */
#include "live.h"

#include <stdlib.h>

#include "dfukit/pipeline.h"

struct sn_live {
    dk_pipe *d;
    FILE *out;
    uint64_t pos; /* bytes fed so far, both lines: the stream position */
};

sn_live *sn_live_new(FILE *out, int verbose, char *err, size_t cap)
{
    sn_live *l = calloc(1, sizeof *l);
    dk_pipe_opts o = { .verbose = verbose > 1 };
    if (l)
        l->d = dk_pipe_new(out, &o);
    if (!l || !l->d) {
        free(l);
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    l->out = out;
    return l;
}

void sn_live_feed(sn_live *l, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len)
{
    if (dir != DK_DIR_HOST && dir != DK_DIR_TARGET)
        return;
    dk_pipe_bytes(l->d, t_us, dir, data, len, l->pos);
    l->pos += len;
    fflush(l->out);
}

void sn_live_finish(sn_live *l)
{
    dk_pipe_finish(l->d);
    fflush(l->out);
}

void sn_live_free(sn_live *l)
{
    if (!l)
        return;
    dk_pipe_free(l->d);
    free(l);
}
