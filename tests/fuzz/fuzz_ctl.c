/* fuzz_ctl.c - libFuzzer target for dfusim's --control socket: the line
 * cutter and the command parser (sim/ctlcmd.c), and ds_ctl_read
 * (sim/control.c) reading the same bytes from a socket pair.  The first
 * byte sets the sizes of the pieces the bytes come in (0: all at once); the
 * rest is what a client sends, then it closes its side (to the socket in
 * pieces up to 1500 bytes, to the cutter up to 64).
 *
 * Invariants beyond the sanitizers: the lines cut from the bytes are those
 * of a plain split at LF (a CR before it dropped, a line over
 * DS_CTL_LINE_MAX bytes one "too long" and nothing else, a last line without
 * its end a line), whatever the pieces; a line parses to a request, a blank
 * or one error that is printable text, and the same with blanks added
 * around it; a request written back (ds_ctl_format) parses to the same
 * request; a message cut to a small buffer is still a string.  Through the
 * socket: the same requests in the same order, one "error: ...\n" line (and
 * nothing else) for each line refused, and the client dropped at its end. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control.h"
#include "ctlcmd.h"
#include "fuzz_util.h"

#define MAX_EV 70000

typedef struct {
    int kind; /* DS_CTL_EV_LINE or DS_CTL_EV_TOO_LONG */
    const uint8_t *p;
    size_t n;
} ref_ev;

static ref_ev refs[MAX_EV];
static size_t n_refs;

/* The plain split: a line per LF, the last one without. */
static void ref_segment(const uint8_t *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    CHECK(n_refs < MAX_EV);
    refs[n_refs++] = (ref_ev){ n > DS_CTL_LINE_MAX ? DS_CTL_EV_TOO_LONG : DS_CTL_EV_LINE, p, n };
}

static void ref_split(const uint8_t *p, size_t n)
{
    n_refs = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n') {
            ref_segment(p + start, i - start);
            start = i + 1;
        }
    if (start < n)
        ref_segment(p + start, n - start);
}

/* Piece sizes: 1 to max bytes from a small generator, or all at once. */
typedef struct {
    uint32_t x, max;
    bool whole;
} pieces;

static size_t piece(pieces *g, size_t left)
{
    if (g->whole)
        return left;
    g->x ^= g->x << 13;
    g->x ^= g->x >> 17;
    g->x ^= g->x << 5;
    size_t k = 1 + g->x % g->max;
    return k < left ? k : left;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
            return false;
    return true;
}

static ds_ctl_parsed parse_checked(const char *line, size_t len, ds_ctl_req *req)
{
    char why[400];
    ds_ctl_parsed p = ds_ctl_parse(line, len, req, why, sizeof why);
    CHECK(p == DS_CTL_BAD || p == DS_CTL_BLANK || p == DS_CTL_REQ);
    if (p == DS_CTL_BAD) {
        CHECK(why[0] != 0 && printable(why));
        char small[8];
        memset(small, 'z', sizeof small);
        ds_ctl_req r2;
        CHECK(ds_ctl_parse(line, len, &r2, small, sizeof small) == DS_CTL_BAD);
        CHECK(memchr(small, 0, sizeof small) != NULL);
    }
    if (p != DS_CTL_REQ)
        return p;
    CHECK((unsigned)req->op < DS_CTL_N_OPS);
    CHECK(req->off_ms <= DS_CTL_OFF_MAX_MS);
    CHECK(!req->drop || ds_ctl_op_arg(req->op) == DS_CTL_ARG_DROP);
    CHECK(!req->off_ms || ds_ctl_op_arg(req->op) == DS_CTL_ARG_MS);
    size_t fl = strnlen(req->file, sizeof req->file);
    CHECK(fl < sizeof req->file);
    CHECK(!fl || ds_ctl_op_arg(req->op) == DS_CTL_ARG_FILE);
    CHECK(!fl || (req->file[0] != ' ' && req->file[0] != '\t' && req->file[fl - 1] != ' ' &&
                  req->file[fl - 1] != '\t'));
    for (size_t i = 0; i < fl; i++) /* blanks inside a name are kept, tabs too */
        CHECK(((unsigned char)req->file[i] >= 0x20 || req->file[i] == '\t') && (unsigned char)req->file[i] != 0x7F);
    char back[DS_CTL_LINE_MAX + 64];
    int k = ds_ctl_format(req, back, sizeof back);
    CHECK(k > 0);
    ds_ctl_req again;
    char why2[400];
    CHECK(ds_ctl_parse(back, (size_t)k, &again, why2, sizeof why2) == DS_CTL_REQ);
    CHECK(memcmp(req, &again, sizeof again) == 0);
    return p;
}

/* The line, and the line with blanks around it: the same answer. */
static ds_ctl_parsed parse_line(const char *line, size_t len, ds_ctl_req *req)
{
    ds_ctl_parsed p = parse_checked(line, len, req);
    static char padded[DS_CTL_LINE_MAX + 8];
    if (len + 3 <= sizeof padded) {
        padded[0] = ' ';
        memcpy(padded + 1, line, len);
        padded[len + 1] = '\t';
        padded[len + 2] = ' ';
        ds_ctl_req r2;
        char w1[400], w2[400];
        ds_ctl_parsed p2 = ds_ctl_parse(padded, len + 3, &r2, w2, sizeof w2);
        CHECK(p2 == p);
        if (p == DS_CTL_REQ)
            CHECK(memcmp(req, &r2, sizeof r2) == 0);
        if (p == DS_CTL_BAD) {
            ds_ctl_req r1;
            ds_ctl_parse(line, len, &r1, w1, sizeof w1);
            /* a control byte's column moves by the blank put before it */
            CHECK(!strncmp(w1, "control byte", 12) || strcmp(w1, w2) == 0);
        }
    }
    return p;
}

/* The pure cutter, in pieces: the reference's events, lines parsed.  The
 * requests, written back, go to reqs (a line each); *bad counts refusals. */
static void cutter(const uint8_t *p, size_t n, pieces g, char *reqs, size_t cap, size_t *bad)
{
    ds_ctl_lines l;
    ds_ctl_lines_init(&l);
    size_t at = 0, k = 0, used = 0;
    *bad = 0;
    reqs[0] = 0;
    for (bool end = false; !end;) {
        const char *line = NULL;
        size_t len = 0;
        ds_ctl_ev ev;
        if (at < n) {
            size_t want = piece(&g, n - at);
            size_t took = ds_ctl_lines_take(&l, p + at, want, &ev, &line, &len);
            CHECK(took >= 1 && took <= want);
            CHECK(ev != DS_CTL_EV_NONE || took == want);
            at += took;
        } else {
            ev = ds_ctl_lines_end(&l, &line, &len);
            end = true;
        }
        if (ev == DS_CTL_EV_NONE)
            continue;
        CHECK(k < n_refs);
        CHECK((int)ev == refs[k].kind);
        if (ev == DS_CTL_EV_TOO_LONG) {
            ++*bad;
            k++;
            continue;
        }
        CHECK(len == refs[k].n && memcmp(line, refs[k].p, len) == 0 && line[len] == 0);
        k++;
        ds_ctl_req req;
        ds_ctl_parsed r = parse_line(line, len, &req);
        if (r == DS_CTL_BAD)
            ++*bad;
        if (r == DS_CTL_REQ) {
            int w = ds_ctl_format(&req, reqs + used, cap - used - 1);
            CHECK(w > 0);
            used += (size_t)w;
            reqs[used++] = '\n';
            reqs[used] = 0;
        }
    }
    CHECK(k == n_refs);
    CHECK(ds_ctl_lines_end(&l, NULL, NULL) == DS_CTL_EV_NONE); /* said once */
}

/* ---- through the socket ---- */

typedef struct {
    ds_ctl *ctl;
    char *reqs;
    size_t used, cap;
} sock_seen;

static void on_req(void *ctx, const ds_ctl_req *req)
{
    sock_seen *s = ctx;
    int w = ds_ctl_format(req, s->reqs + s->used, s->cap - s->used - 1);
    CHECK(w > 0);
    s->used += (size_t)w;
    s->reqs[s->used++] = '\n';
    s->reqs[s->used] = 0;
    ds_ctl_reply(s->ctl, "ok\n");
}

static char ans[1 << 16]; /* what the server answered, not yet a whole line */
static size_t ans_len;

/* Read what the server answered; count its lines, each "ok" or an error. */
static void answers(int fd, size_t *oks, size_t *errors)
{
    char *buf = ans;
    size_t have = ans_len;
    for (;;) {
        ssize_t r = recv(fd, buf + have, sizeof ans - have, MSG_DONTWAIT);
        if (r <= 0)
            break;
        have += (size_t)r;
        char *nl;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            *nl = 0;
            if (!strcmp(buf, "ok"))
                ++*oks;
            else {
                CHECK(!strncmp(buf, "error: ", 7) && printable(buf));
                ++*errors;
            }
            size_t used = (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have - used);
            have -= used;
        }
        CHECK(have < sizeof ans);
    }
    ans_len = have;
}

static void through_socket(const uint8_t *p, size_t n, pieces g, char *reqs, size_t cap, size_t *oks,
                           size_t *errors)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    ds_ctl c;
    ds_ctl_init(&c);
    c.conn = sv[0];
    sock_seen s = { &c, reqs, 0, cap };
    reqs[0] = 0;
    ans_len = 0;
    *oks = *errors = 0;
    size_t at = 0;
    while (at < n) {
        size_t k = piece(&g, n - at);
        ssize_t w = send(sv[1], p + at, k, MSG_NOSIGNAL);
        CHECK(w > 0);
        at += (size_t)w;
        struct pollfd pf = { .fd = sv[0], .events = POLLIN };
        while (c.conn >= 0 && poll(&pf, 1, 0) > 0) {
            ds_ctl_read(&c, on_req, &s);
            answers(sv[1], oks, errors);
        }
        CHECK(c.conn >= 0); /* answers read as they come: never dropped */
    }
    CHECK(shutdown(sv[1], SHUT_WR) == 0);
    for (int i = 0; i < 1000 && c.conn >= 0; i++) {
        ds_ctl_read(&c, on_req, &s);
        answers(sv[1], oks, errors);
    }
    CHECK(c.conn < 0); /* the client's end: dropped */
    answers(sv[1], oks, errors);
    CHECK(ans_len == 0); /* every answer a whole line */
    ds_ctl_close(&c);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    static char reqs_pure[1 << 20], reqs_sock[1 << 20];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    ref_split(p, n);
    pieces g = { data[0] * 2654435761u | 1u, 64, data[0] == 0 };
    size_t bad, oks, errors;
    cutter(p, n, g, reqs_pure, sizeof reqs_pure, &bad);
    pieces whole = { 1, 1, true };
    char *again = reqs_sock; /* the same bytes at once: the same requests */
    size_t bad2;
    cutter(p, n, whole, again, sizeof reqs_sock, &bad2);
    CHECK(bad2 == bad && strcmp(again, reqs_pure) == 0);

    g.max = 1500; /* the socket in larger pieces: the cutter's were tried above */
    through_socket(p, n, g, reqs_sock, sizeof reqs_sock, &oks, &errors);
    if (strcmp(reqs_sock, reqs_pure) != 0) {
        fprintf(stderr, "socket:\n%s\npure:\n%s\n", reqs_sock, reqs_pure);
        CHECK(0);
    }
    size_t n_req = 0;
    for (const char *q = reqs_pure; *q; q++)
        n_req += *q == '\n';
    CHECK(oks == n_req);
    CHECK(errors == bad);
    return 0;
}
