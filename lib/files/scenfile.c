/* scenfile.c - scenario files: dk_scen_write, dk_scen_read (scenario.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/file.h"
#include "dfukit/scenario.h"

dk_status dk_scen_write(const dk_scenario *s, const char *path, dk_err *err)
{
    char *text = dk_scen_to_json(s);
    if (!text)
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    bool out = strcmp(path, "-") == 0;
    /* never through a symlink, 0600, a FIFO allowed (file.h) */
    dk_err e = { 0 };
    FILE *f = out ? stdout : dk_file_fopen(path, DK_FILE_STREAM, &e);
    if (!f) {
        free(text);
        if (err)
            *err = e;
        return e.status;
    }
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    ok = (out ? fflush(f) == 0 : fclose(f) == 0) && ok;
    free(text);
    return ok ? DK_OK : dk_err_set(err, DK_E_IO, -1, "write error: %s", strerror(errno));
}

dk_status dk_scen_read(const char *path, dk_scenario *s, dk_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return dk_err_set(err, DK_E_IO, -1, "cannot open: %s", strerror(errno));
    /* a scenario is small; refuse anything large */
    enum { CAP = 1 << 20 };
    char *buf = malloc(CAP);
    if (!buf) {
        fclose(f);
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    }
    size_t n = fread(buf, 1, CAP, f);
    bool more = n == CAP && fgetc(f) != EOF;
    bool rerr = ferror(f);
    fclose(f);
    dk_status st;
    if (rerr)
        st = dk_err_set(err, DK_E_IO, -1, "read error");
    else if (more)
        st = dk_err_set(err, DK_E_RANGE, CAP, "larger than 1 MiB: not a scenario");
    else
        st = dk_scen_from_json(buf, n, s, err);
    free(buf);
    return st;
}
