/* dfudecode - a Secure DFU serial capture in, an annotated transcript out.
 *
 *   file --capfile--> chunks {t, dir, bytes} --slip--> frames
 *        --session--> events --printer--> text | JSON Lines
 *
 * Streams: one chunk and one frame in memory at a time.
 * Exit: 0 update completed, 1 decoded but failed/incomplete, 2 usage or input error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dfukit/capfile.h"
#include "dfukit/diag.h"
#include "dfukit/err.h"
#include "dfukit/session.h"
#include "dfukit/slip.h"
#include "pkgcheck.h"
#include "print.h"

#define TOOL "dfudecode"
#define FRAME_CAP 8192 /* decoded frame limit: USB writes carry 1024 bytes (§4) */
#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_INPUT 2

/* One capture file turned into a stream of SLIP units (a frame or a framing
 * anomaly), pulled one at a time.  Each line has its own deframer. */
typedef struct {
    const char *path;
    dk_cap_reader *r;
    dk_cap_format fmt;
    dk_chunk ch;
    size_t used;
    bool have;
    bool eof;
    int flushed;         /* deframers flushed at EOF */
    dk_slip_dec dec[3];  /* by dk_dir */
    uint8_t *buf[3];
    uint8_t *fast[3];    /* fast-path unescape buffers */
    /* the unit pulled */
    bool got;
    dk_slip_event ev;
    dk_dir dir;
    int64_t t;
    dk_err err;
    bool failed;
} source;

typedef enum { U_NONE = 0, U_SLIP, U_LOST } unit_kind;

static void on_slip(void *ctx, const dk_slip_event *ev)
{
    source *s = ctx;
    s->ev = *ev;
    s->got = true;
}

static int source_open(source *s, const char *path, dk_cap_format fmt, dk_dir dir)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->r = dk_cap_open(path, fmt, dir, &s->err);
    if (!s->r)
        return -1;
    s->fmt = dk_cap_format_of(s->r);
    for (int i = 0; i < 3; i++) {
        s->buf[i] = malloc(FRAME_CAP);
        s->fast[i] = malloc(FRAME_CAP);
        if (!s->buf[i] || !s->fast[i]) {
            dk_err_set(&s->err, DK_E_NOMEM, -1, "out of memory");
            return -1;
        }
        dk_slip_dec_init(&s->dec[i], s->buf[i], FRAME_CAP);
    }
    return 0;
}

static void source_close(source *s)
{
    if (s->r)
        dk_cap_close(s->r);
    for (int i = 0; i < 3; i++) {
        free(s->buf[i]);
        free(s->fast[i]);
    }
}

/* Header bytes before a packet's data: positions then point into the file. */
static uint64_t data_pos(const source *s, const dk_chunk *c)
{
    if (s->fmt != DK_FMT_PCAP)
        return c->file_off;
    return c->file_off + 16 + DK_CAP_HDR_LEN; /* pcap record header + RTAC header */
}

/* Position of the first END or ESC in p[i, n), or n.  Eight bytes a step:
 * the lowest marked byte of "x ^ pattern has a zero byte" is exact. */
static size_t next_special(const uint8_t *p, size_t i, size_t n)
{
#if defined(__SSE2__)
    const __m128i vend = _mm_set1_epi8((char)DK_SLIP_END), vesc = _mm_set1_epi8((char)DK_SLIP_ESC);
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, vend), _mm_cmpeq_epi8(x, vesc)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t pend = ones * DK_SLIP_END, pesc = ones * DK_SLIP_ESC;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t a = x ^ pend, b = x ^ pesc;
        uint64_t m = (((a - ones) & ~a) | ((b - ones) & ~b)) & highs;
        if (m)
            return i + ((size_t)__builtin_ctzll(m) >> 3);
    }
#endif
    while (i < n && p[i] != DK_SLIP_END && p[i] != DK_SLIP_ESC)
        i++;
    return i;
}

/* Decode the frame at p[0, n) up to its END: the payload (in place when it
 * holds no ESC, else unescaped into out), its length in *len, and the raw
 * bytes used (END included) in *used.  NULL when the deframer must judge:
 * no END in p, a bad escape, an empty or too long frame. */
static const uint8_t *fast_frame(const uint8_t *p, size_t n, uint8_t *out, size_t *len,
                                 size_t *used)
{
    size_t j = next_special(p, 0, n);
    if (j == n || j > FRAME_CAP)
        return NULL;
    if (p[j] == DK_SLIP_END) {
        if (j == 0)
            return NULL;
        *len = j;
        *used = j + 1;
        return p;
    }
    size_t i = 0, o = 0;
    for (;;) {
        size_t k = j - i;
        if (o + k + 1 > FRAME_CAP)
            return NULL;
        memcpy(out + o, p + i, k);
        o += k;
        if (p[j] == DK_SLIP_END)
            break;
        if (j + 1 >= n)
            return NULL;
        if (p[j + 1] == DK_SLIP_ESC_END)
            out[o++] = DK_SLIP_END;
        else if (p[j + 1] == DK_SLIP_ESC_ESC)
            out[o++] = DK_SLIP_ESC;
        else
            return NULL;
        i = j + 2;
        j = next_special(p, i, n);
        if (j == n)
            return NULL;
    }
    *len = o;
    *used = j + 1;
    return out;
}

/* Pull the next unit: 1 = got one (s->ev, s->dir, s->t), 0 = end, -1 = read
 * error (s->err; units before it were delivered). */
static int source_next(source *s, unit_kind *kind)
{
    for (;;) {
        if (!s->have && !s->eof) {
            int rc = dk_cap_next(s->r, &s->ch, &s->err);
            if (rc < 0) {
                s->failed = true;
                s->eof = true;
                continue;
            }
            if (rc == 0) {
                s->eof = true;
                continue;
            }
            if (s->ch.event == DK_CAP_EV_LOST) {
                s->t = s->ch.t_us;
                s->dir = s->ch.dir;
                s->ev.start = s->ch.file_off;
                s->ev.end = s->ch.file_off;
                *kind = U_LOST;
                return 1;
            }
            if (!s->ch.len)
                continue;
            s->have = true;
            s->used = 0;
            dk_slip_dec_set_pos(&s->dec[s->ch.dir], data_pos(s, &s->ch));
        }
        if (s->have) {
            dk_slip_dec *d = &s->dec[s->ch.dir];
            const uint8_t *p = s->ch.data + s->used;
            size_t left = s->ch.len - s->used;
            /* Fast path: a whole frame while the deframer is between frames
             * is decoded here (in place when it has no ESC).  Anything else
             * (a frame across chunks, bad escapes, empty frames) goes
             * through the deframer. */
            const uint8_t *fr = NULL;
            size_t fl = 0, n = 0;
            if (d->raw_in_frame == 0 && d->seen_end)
                fr = fast_frame(p, left, s->fast[s->ch.dir], &fl, &n);
            if (fr) {
                uint64_t at = data_pos(s, &s->ch) + s->used;
                s->ev.kind = DK_SLIP_FRAME;
                s->ev.data = fr;
                s->ev.len = fl;
                s->ev.first = false;
                s->ev.start = at;
                s->ev.end = at + n;
                s->used += n;
                dk_slip_dec_set_pos(d, at + n);
                if (s->used == s->ch.len)
                    s->have = false;
                s->dir = s->ch.dir;
                s->t = s->ch.t_us;
                *kind = U_SLIP;
                return 1;
            }
            const uint8_t *e = memchr(p, DK_SLIP_END, left);
            n = e ? (size_t)(e - p) + 1 : left;
            s->got = false;
            dk_slip_dec_feed(d, p, n, on_slip, s);
            s->used += n;
            if (s->used == s->ch.len)
                s->have = false;
            if (s->got) {
                s->dir = s->ch.dir;
                s->t = s->ch.t_us;
                *kind = U_SLIP;
                return 1;
            }
            continue;
        }
        /* end of file: report partial frames, one deframer at a time */
        while (s->flushed < 3) {
            int i = s->flushed++;
            s->got = false;
            dk_slip_dec_flush(&s->dec[i], on_slip, s);
            if (s->got) {
                s->dir = (dk_dir)i;
                s->t = -1;
                *kind = U_SLIP;
                return 1;
            }
        }
        return s->failed ? -1 : 0;
    }
}

static void feed_unit(dk_session *ss, source *s, unit_kind k)
{
    if (k == U_LOST) {
        dk_session_note(ss, DK_AN_CAP_DATA_LOST, s->t, s->dir, s->ev.start, s->ev.end,
                        "the capture tool lost data here");
        return;
    }
    dk_session_slip(ss, &s->ev, s->t, s->dir);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " TOOL " [options] FILE\n"
            "       " TOOL " [options] --host FILE --target FILE\n"
            "Decode a Nordic Secure DFU serial capture into an annotated transcript.\n"
            "\n"
            "  --format raw|pcap|log  input format (default: detected from the content)\n"
            "  --host FILE            raw capture of the host -> target line\n"
            "  --target FILE          raw capture of the target -> host line\n"
            "  --json                 JSON Lines, one object per event (decode/README.md)\n"
            "  --pkg FILE.zip         check every byte sent against a DFU package\n"
            "  -v, --verbose          every frame (no folding of writes)\n"
            "  --list                 list anomaly ids and diagnosis signatures\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: 0 update completed, 1 decoded but failed or incomplete,\n"
            "2 usage or input error.\n");
}

static void list_tables(void)
{
    printf("anomalies:\n");
    for (int i = 0; i < DK_AN_COUNT; i++)
        printf("  %-32s %-7s %s\n", dk_anomaly_name((dk_anomaly_id)i),
               dk_severity_name(dk_anomaly_severity((dk_anomaly_id)i)),
               dk_anomaly_text((dk_anomaly_id)i));
    unsigned n;
    const dk_diag_row *rows = dk_diag_table(&n);
    printf("diagnoses:\n");
    for (unsigned i = 0; i < n; i++)
        printf("  %-28s %s\n", rows[i].id, rows[i].when);
}

static int input_error(const char *file, const dk_err *e)
{
    fflush(stdout);
    dk_err_print(stderr, TOOL, file, e);
    return EXIT_INPUT;
}

int main(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_HOST, O_TARGET, O_JSON, O_PKG, O_LIST };
    static const struct option opts[] = {
        { "format", required_argument, NULL, O_FORMAT },
        { "host", required_argument, NULL, O_HOST },
        { "target", required_argument, NULL, O_TARGET },
        { "json", no_argument, NULL, O_JSON },
        { "pkg", required_argument, NULL, O_PKG },
        { "list", no_argument, NULL, O_LIST },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    dk_cap_format fmt = DK_FMT_AUTO;
    const char *host = NULL, *target = NULL, *pkg_path = NULL;
    bool json = false, verbose = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            if (strcmp(optarg, "raw") == 0)
                fmt = DK_FMT_RAW;
            else if (strcmp(optarg, "pcap") == 0 || strcmp(optarg, "pcapng") == 0)
                fmt = DK_FMT_PCAP;
            else if (strcmp(optarg, "log") == 0)
                fmt = DK_FMT_LOG;
            else {
                fprintf(stderr, TOOL ": unknown format '%s' (raw, pcap or log)\n", optarg);
                return EXIT_INPUT;
            }
            break;
        case O_HOST: host = optarg; break;
        case O_TARGET: target = optarg; break;
        case O_JSON: json = true; break;
        case O_PKG: pkg_path = optarg; break;
        case O_LIST: list_tables(); return 0;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        case ':':
            fprintf(stderr, TOOL ": option '%s' needs an argument (see --help)\n", argv[optind - 1]);
            return EXIT_INPUT;
        default:
            fprintf(stderr, TOOL ": unknown option '%s' (see --help)\n", argv[optind - 1]);
            return EXIT_INPUT;
        }
    }
    bool two = host || target;
    if (two && (!host || !target || optind != argc)) {
        fprintf(stderr, TOOL ": --host and --target go together, without another FILE\n");
        return EXIT_INPUT;
    }
    if (!two && optind != argc - 1) {
        fprintf(stderr, TOOL ": %s (see --help)\n",
                optind >= argc ? "no capture file given" : "more than one capture file given");
        return EXIT_INPUT;
    }
    if (fmt == DK_FMT_LOG) {
        fprintf(stderr, TOOL ": %s: text logs are not supported yet\n", two ? host : argv[optind]);
        return EXIT_INPUT;
    }
    if (two && fmt == DK_FMT_PCAP) {
        fprintf(stderr, TOOL ": --host/--target take raw captures (a pcap holds both lines)\n");
        return EXIT_INPUT;
    }

    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);

    printer pr;
    printer_init(&pr, stdout, json, verbose);
    pkgcheck *pc = NULL;
    if (pkg_path) {
        dk_err e = { 0 };
        pc = pkgcheck_open(pkg_path, &e);
        if (!pc)
            return input_error(pkg_path, &e);
        pr.pkg = pc;
    }

    source a, b;
    memset(&b, 0, sizeof b);
    const char *fa = two ? host : argv[optind];
    if (source_open(&a, fa, two ? DK_FMT_RAW : fmt, two ? DK_DIR_HOST : DK_DIR_UNKNOWN) != 0) {
        int rc = input_error(fa, &a.err);
        source_close(&a);
        pkgcheck_free(pc);
        return rc;
    }
    if (a.fmt == DK_FMT_LOG) {
        fprintf(stderr, TOOL ": %s: offset 0: looks like a text log; text logs are not supported yet\n", fa);
        source_close(&a);
        pkgcheck_free(pc);
        return EXIT_INPUT;
    }
    if (two && source_open(&b, target, DK_FMT_RAW, DK_DIR_TARGET) != 0) {
        int rc = input_error(target, &b.err);
        source_close(&a);
        source_close(&b);
        pkgcheck_free(pc);
        return rc;
    }

    dk_session *ss = dk_session_new(printer_event, &pr);
    if (!ss) {
        fprintf(stderr, TOOL ": out of memory\n");
        return EXIT_INPUT;
    }
    dk_session_write_crc(ss, verbose);
    dk_session_write_events(ss, verbose || pc);
    unit_kind k;
    int rc_a, rc_b = 0;
    if (!two) {
        while ((rc_a = source_next(&a, &k)) == 1)
            feed_unit(ss, &a, k);
    } else {
        /* Protocol order: each request that expects an answer (or a write
         * that falls due for a PRN notification) takes the next target unit. */
        while ((rc_a = source_next(&a, &k)) == 1) {
            feed_unit(ss, &a, k);
            while (rc_b == 0 && dk_session_awaiting(ss)) {
                unit_kind kb;
                int r = source_next(&b, &kb);
                if (r != 1) {
                    rc_b = r < 0 ? -1 : 1;
                    break;
                }
                feed_unit(ss, &b, kb);
                if (kb != U_SLIP || b.ev.kind != DK_SLIP_FRAME)
                    break; /* a garbled unit stands for the answer */
            }
        }
        if (rc_b == 0) {
            unit_kind kb;
            int r;
            while ((r = source_next(&b, &kb)) == 1)
                feed_unit(ss, &b, kb);
            rc_b = r < 0 ? -1 : 1;
        }
    }
    dk_session_finish(ss);
    if (pc)
        pkgcheck_report(pc, &pr);
    const dk_summary *sum = dk_session_summary(ss);
    int rc = EXIT_FAILED;
    if (sum->outcome == DK_OUTCOME_COMPLETED && (!pc || pkgcheck_ok(pc)))
        rc = EXIT_DONE;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, TOOL ": write error: %s\n", strerror(errno));
        rc = EXIT_INPUT;
    }
    if (rc_a < 0)
        rc = input_error(a.path, &a.err);
    else if (rc_b < 0)
        rc = input_error(b.path, &b.err);
    else if (sum->requests + sum->responses == 0) {
        dk_err e;
        dk_err_set(&e, DK_E_FORMAT, 0, "no DFU message found (%llu frames, %u anomalies)",
                   (unsigned long long)sum->frames, sum->anomalies);
        rc = input_error(fa, &e);
    }
    dk_session_free(ss);
    source_close(&a);
    if (two)
        source_close(&b);
    pkgcheck_free(pc);
    return rc;
}
