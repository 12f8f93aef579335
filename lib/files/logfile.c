/* logfile.c - a whole log file ("-" = stdin) through a log reader (logread.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/logread.h"

dk_status dk_logrd_file(const char *path, dk_log_format fmt, size_t line_max, dk_logrec_cb cb,
                        void *ctx, dk_logrd_stats *stats, dk_err *err)
{
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    if (!f)
        return dk_err_set(err, DK_E_IO, -1, "cannot open: %s", strerror(errno));
    dk_logrd *r = dk_logrd_new(fmt, line_max);
    uint8_t *buf = malloc(65536);
    if (!r || !buf) {
        dk_logrd_free(r);
        free(buf);
        if (!std)
            fclose(f);
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    }
    dk_status st = DK_OK;
    size_t n;
    while ((n = fread(buf, 1, 65536, f)) > 0)
        dk_logrd_feed(r, buf, n, cb, ctx);
    if (ferror(f))
        st = dk_err_set(err, DK_E_IO, (int64_t)dk_logrd_stats_get(r)->bytes, "read error: %s", strerror(errno));
    else if (dk_logrd_stats_get(r)->bytes == 0)
        st = dk_err_set(err, DK_E_FORMAT, 0, "empty log");
    else
        st = dk_logrd_finish(r, cb, ctx, err);
    if (stats)
        *stats = *dk_logrd_stats_get(r);
    dk_logrd_free(r);
    free(buf);
    if (!std)
        fclose(f);
    return st;
}
