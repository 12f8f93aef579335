/* err.c - one-line error reports. */
#include "dfukit/err.h"

#include <stdarg.h>

dk_status dk_err_set(dk_err *err, dk_status status, int64_t offset, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    err->has_offset = offset >= 0;
    err->offset = offset >= 0 ? (uint64_t)offset : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* one line whatever the input quoted in it holds (a name, a spec) */
    for (char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = '?';
    return status;
}

void dk_err_print(FILE *out, const char *tool, const char *file, const dk_err *err)
{
    if (tool)
        fprintf(out, "%s: ", tool);
    if (file)
        fprintf(out, "%s: ", file);
    if (err->has_offset)
        fprintf(out, "offset %llu: ", (unsigned long long)err->offset);
    fprintf(out, "%s\n", err->msg[0] ? err->msg : "error");
}
