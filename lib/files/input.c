/* input.c - an input read once, front to back, its head peeked (input.h). */
#include "dfukit/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dk_input {
    int fd;
    bool own;           /* close fd at the end (not standard input) */
    bool failed, eof;
    int err;
    bool reading;       /* dk_input_read was called: no more peeking */
    uint64_t pos;
    size_t head_len, head_used;
    uint8_t head[DK_INPUT_HEAD];
};

dk_input *dk_input_open(const char *path, dk_err *err)
{
    bool std = strcmp(path, "-") == 0;
    int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dk_err_set(err, DK_E_IO, -1, "cannot open: %s", strerror(errno));
        return NULL;
    }
    dk_input *in = calloc(1, sizeof *in);
    if (!in) {
        if (!std)
            close(fd);
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    in->fd = fd;
    in->own = !std;
    return in;
}

void dk_input_close(dk_input *in)
{
    if (!in)
        return;
    if (in->own)
        close(in->fd);
    free(in);
}

/* One read(2): > 0 bytes, 0 the end, -1 an error (kept). */
static ssize_t read_some(dk_input *in, uint8_t *buf, size_t cap)
{
    if (in->eof || in->failed)
        return in->failed ? -1 : 0;
    for (;;) {
        ssize_t k = read(in->fd, buf, cap);
        if (k > 0)
            return k;
        if (k == 0) {
            in->eof = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        in->failed = true;
        in->err = errno;
        return -1;
    }
}

dk_status dk_input_peek(dk_input *in, size_t n, const uint8_t **head, size_t *len, dk_err *err)
{
    if (in->reading)
        return dk_err_set(err, DK_E_USAGE, -1, "the input is being read: too late to peek");
    if (n > DK_INPUT_HEAD)
        n = DK_INPUT_HEAD;
    while (in->head_len < n) {
        ssize_t k = read_some(in, in->head + in->head_len, n - in->head_len);
        if (k < 0)
            return dk_err_set(err, DK_E_IO, 0, "read error: %s", strerror(in->err));
        if (k == 0)
            break;
        in->head_len += (size_t)k;
    }
    *head = in->head;
    *len = in->head_len < n ? in->head_len : n;
    return DK_OK;
}

size_t dk_input_read(dk_input *in, uint8_t *buf, size_t cap)
{
    in->reading = true;
    if (cap == 0)
        return 0;
    size_t n = 0;
    if (in->head_used < in->head_len) {
        n = in->head_len - in->head_used;
        if (n > cap)
            n = cap;
        memcpy(buf, in->head + in->head_used, n);
        in->head_used += n;
    }
    if (n < cap) { /* one read(2) for the rest: what the input has now */
        ssize_t k = read_some(in, buf + n, cap - n);
        n += k > 0 ? (size_t)k : 0;
    }
    in->pos += n;
    return n;
}

bool dk_input_failed(const dk_input *in)
{
    return in->failed;
}

int dk_input_errno(const dk_input *in)
{
    return in->err;
}

uint64_t dk_input_pos(const dk_input *in)
{
    return in->pos;
}
