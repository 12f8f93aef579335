/* dfudecode - a Secure DFU serial capture in, an annotated transcript out.
 *
 *   file --capfile--> chunks {t, dir, bytes} --decoder (decoder.h): slip -->
 *        frames --session--> events --printer--> text | JSON Lines
 *
 * This file is the command line and the inputs; the rest is dfudecode_core.
 * Streams: one chunk and one frame in memory at a time.
 * Exit: 0 update completed, 1 decoded but failed/incomplete, 2 usage or input error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "dfukit/capfile.h"
#include "dfukit/diag.h"
#include "dfukit/err.h"
#include "dfukit/session.h"
#include "pkgcheck.h"

#define TOOL "dfudecode"
#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_INPUT 2

/* One raw file of a two-file capture, pulled unit by unit. */
typedef struct {
    const char *path;
    dk_cap_reader *r;
    dd_units *u;
    dk_chunk c;
    bool eof, failed;
    dk_err err;
} line_src;

static int line_open(line_src *l, const char *path, dk_dir dir)
{
    memset(l, 0, sizeof *l);
    l->path = path;
    l->r = dk_cap_open(path, DK_FMT_RAW, dir, &l->err);
    if (!l->r)
        return -1;
    l->u = dd_units_new();
    if (!l->u) {
        dk_err_set(&l->err, DK_E_NOMEM, -1, "out of memory");
        return -1;
    }
    return 0;
}

static void line_close(line_src *l)
{
    if (l->r)
        dk_cap_close(l->r);
    dd_units_free(l->u);
}

/* 1: a unit, 0: the end, -1: read error (l->err; the units before it were
 * delivered, partial frames too). */
static int line_next(line_src *l, dd_unit *out)
{
    for (;;) {
        if (dd_units_next(l->u, out))
            return 1;
        if (l->eof)
            return dd_units_flush(l->u, out) ? 1 : l->failed ? -1 : 0;
        int rc = dk_cap_next(l->r, &l->c, &l->err);
        if (rc <= 0) {
            l->eof = true;
            l->failed = rc < 0;
            continue;
        }
        dd_units_put(l->u, l->c.t_us, l->c.dir, l->c.data, l->c.len, l->c.data_off);
    }
}

/* Protocol order: the host file frame by frame; after each host unit, while
 * the target owes an answer (a request waits, or a PRN is due), the next
 * unit of the target file.  A garbled target unit stands for the answer.
 * Returns the file that failed to read, or NULL. */
static line_src *merge(dd_decoder *d, line_src *host, line_src *target)
{
    dk_session *s = dd_decoder_session(d);
    dd_unit u;
    int rh, rt = 1;
    bool target_left = true;
    while ((rh = line_next(host, &u)) == 1) {
        dd_decoder_unit(d, &u);
        while (target_left && dk_session_awaiting(s)) {
            rt = line_next(target, &u);
            if (rt != 1) {
                target_left = false;
                break;
            }
            dd_decoder_unit(d, &u);
            if (u.ev.kind != DK_SLIP_FRAME)
                break;
        }
    }
    while (target_left && (rt = line_next(target, &u)) == 1)
        dd_decoder_unit(d, &u);
    return rh < 0 ? host : rt < 0 ? target : NULL;
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
    __fsetlocking(stdout, FSETLOCKING_BYCALLER); /* one thread: no lock per line */

    pkgcheck *pc = NULL;
    if (pkg_path) {
        dk_err e = { 0 };
        pc = pkgcheck_open(pkg_path, &e);
        if (!pc)
            return input_error(pkg_path, &e);
    }
    const char *fa = two ? host : argv[optind];
    dk_cap_reader *r = NULL;
    line_src lh, lt;
    memset(&lh, 0, sizeof lh);
    memset(&lt, 0, sizeof lt);
    dd_decoder *d = NULL;
    int rc = EXIT_INPUT;
    dk_err e = { 0 };
    if (!two) {
        r = dk_cap_open(fa, fmt, DK_DIR_UNKNOWN, &e);
        if (!r) {
            rc = input_error(fa, &e);
            goto out;
        }
    } else if (line_open(&lh, host, DK_DIR_HOST) != 0) {
        rc = input_error(host, &lh.err);
        goto out;
    } else if (line_open(&lt, target, DK_DIR_TARGET) != 0) {
        rc = input_error(target, &lt.err);
        goto out;
    }

    dd_opts o = { .json = json, .verbose = verbose, .split = two, .pkg = pc };
    d = dd_decoder_new(stdout, &o);
    if (!d) {
        fprintf(stderr, TOOL ": out of memory\n");
        goto out;
    }
    const char *failed = NULL; /* the file that could not be read to its end */
    const dk_err *ferr = NULL;
    if (!two) {
        dk_chunk ch;
        int n;
        while ((n = dk_cap_next(r, &ch, &e)) == 1)
            dd_decoder_chunk(d, &ch);
        if (n < 0) {
            failed = fa;
            ferr = &e;
        }
    } else {
        line_src *bad = merge(d, &lh, &lt);
        if (bad) {
            failed = bad->path;
            ferr = &bad->err;
        }
    }
    dd_decoder_finish(d);

    const dk_summary *sum = dd_decoder_summary(d);
    rc = EXIT_FAILED;
    if (sum->outcome == DK_OUTCOME_COMPLETED && (!pc || pkgcheck_ok(pc)))
        rc = EXIT_DONE;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, TOOL ": write error: %s\n", strerror(errno));
        rc = EXIT_INPUT;
    }
    if (failed) {
        rc = input_error(failed, ferr);
    } else if (sum->requests + sum->responses == 0) {
        dk_err_set(&e, DK_E_FORMAT, 0, "no DFU message found (%llu frames, %u anomalies)",
                   (unsigned long long)sum->frames, sum->anomalies);
        rc = input_error(fa, &e);
    }
out:
    dd_decoder_free(d);
    if (r)
        dk_cap_close(r);
    line_close(&lh);
    line_close(&lt);
    pkgcheck_free(pc);
    return rc;
}
