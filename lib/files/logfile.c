/* logfile.c - a whole log through a log reader (logread.h): a file ("-" =
 * stdin) or an input whose head was peeked (input.h). */
#include <stdlib.h>
#include <string.h>

#include "dfukit/input.h"
#include "dfukit/logread.h"

dk_status dk_logrd_input(dk_input *in, dk_log_format fmt, size_t line_max, dk_logrec_cb cb,
                         void *ctx, dk_logrd_stats *stats, dk_err *err)
{
    dk_logrd *r = dk_logrd_new(fmt, line_max);
    uint8_t *buf = malloc(65536);
    if (!r || !buf) {
        dk_logrd_free(r);
        free(buf);
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    }
    dk_status st = DK_OK;
    size_t n;
    while ((n = dk_input_read(in, buf, 65536)) > 0)
        dk_logrd_feed(r, buf, n, cb, ctx);
    if (dk_input_failed(in))
        st = dk_err_set(err, DK_E_IO, (int64_t)dk_logrd_stats_get(r)->bytes, "read error: %s",
                        strerror(dk_input_errno(in)));
    else if (dk_logrd_stats_get(r)->bytes == 0)
        st = dk_err_set(err, DK_E_FORMAT, 0, "empty log");
    else
        st = dk_logrd_finish(r, cb, ctx, err);
    if (stats)
        *stats = *dk_logrd_stats_get(r);
    dk_logrd_free(r);
    free(buf);
    return st;
}

dk_status dk_logrd_file(const char *path, dk_log_format fmt, size_t line_max, dk_logrec_cb cb,
                        void *ctx, dk_logrd_stats *stats, dk_err *err)
{
    dk_err e = { 0 };
    dk_input *in = dk_input_open(path, &e);
    if (!in) {
        if (err)
            *err = e;
        return e.status;
    }
    dk_status st = dk_logrd_input(in, fmt, line_max, cb, ctx, stats, err);
    dk_input_close(in);
    return st;
}
