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
#include "dfukit/logread.h"
#include "dfukit/pkg.h"
#include "dfukit/opterr.h"
#include "dfukit/scenario.h"
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

static int input_error(const char *file, const dk_err *e);

/* The decoder's diagnosis says the update completed (a log without
 * messages may say so through the host's own words). */
static bool completed(const dd_decoder *d)
{
    const dk_diag_row *r = dd_decoder_diag(d);
    return r && strcmp(r->id, "update.completed") == 0;
}

/* A regular file whose first bytes look like text (capfile's sniffer):
 * read as a log.  Pipes keep today's behaviour (--format log for them). */
static bool sniff_log(const char *path)
{
    if (strcmp(path, "-") == 0)
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false; /* the reader reports it */
    uint8_t head[4096];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n > 0 && dk_cap_sniff(head, n) == DK_FMT_LOG;
}

/* --scenario: build it from what the decoder saw and write it.  0, or the
 * exit status after a one-line error. */
static int write_scenario(dd_decoder *d, dk_scen_builder *b, const char *out, const char *pkg_path,
                          const char *src, const char *format)
{
    const dk_summary *sum = dd_decoder_summary(d);
    const dk_diag_facts *f = dd_decoder_facts(d);
    dk_err e = { 0 };
    if (f->prog_error || (sum->requests + sum->responses == 0 && !f->no_ping && !f->has_exc)) {
        dk_err_set(&e, DK_E_UNSUPPORTED, -1, "no serial DFU session to reproduce%s",
                   f->prog_error || f->done ? " (a Programmer/debugger log)" : "");
        return input_error(src, &e);
    }
    dk_pkg pkg;
    memset(&pkg, 0, sizeof pkg);
    const uint8_t *dat = NULL;
    size_t dlen = 0;
    if (pkg_path && dk_pkg_open(pkg_path, &pkg, &e) == DK_OK && pkg.n) {
        /* the image the session stopped in (images go in package order) */
        size_t i = sum->n_images ? sum->n_images - 1 : 0;
        if (i >= pkg.n)
            i = pkg.n - 1;
        dat = pkg.img[i].dat;
        dlen = pkg.img[i].dat_len;
    }
    static dk_scenario s;
    dk_scen_builder_finish(b, sum, f, dd_decoder_diag(d), dat, dlen, src, format, &s);
    dk_pkg_free(&pkg);
    if (dk_scen_write(&s, out, &e) != DK_OK)
        return input_error(out, &e);
    return 0;
}

typedef struct {
    dd_decoder *d;
} log_ctx;

static void on_record(void *ctx, const dk_logrec *rec)
{
    dd_decoder_record(((log_ctx *)ctx)->d, rec);
}

/* A text log: records -> decoder.  Exit status as for captures. */
static int decode_log(const char *path, dk_log_format lf, bool json, bool verbose, pkgcheck *pc,
                      const char *scen_path, const char *pkg_path)
{
    dd_opts o = { .json = json, .verbose = verbose, .pkg = pc };
    dd_decoder *d = dd_decoder_new(stdout, &o);
    dk_scen_builder *b = scen_path ? dk_scen_builder_new() : NULL;
    if (!d || (scen_path && !b)) {
        dd_decoder_free(d);
        dk_scen_builder_free(b);
        fprintf(stderr, TOOL ": out of memory\n");
        return EXIT_INPUT;
    }
    dd_decoder_scenario(d, b);
    log_ctx c = { d };
    dk_logrd_stats st;
    memset(&st, 0, sizeof st);
    dk_err e = { 0 };
    dk_status ls = dk_logrd_file(path, lf, 0, on_record, &c, &st, &e);
    int rc;
    if (ls == DK_E_FORMAT && st.records == 0) {
        /* AUTO found no log format it knows: nothing was printed */
        dk_err_set(&e, DK_E_FORMAT, 0, "not a log dfudecode reads (no line of a known format in the "
                                       "first %u lines; --log-format forces one)",
                   DK_LOG_SNIFF_LINES);
        rc = input_error(path, &e);
        goto out;
    }
    if (ls == DK_E_IO && st.bytes == 0 && st.records == 0) {
        rc = input_error(path, &e);
        goto out;
    }
    dd_decoder_log_done(d, &st);
    dd_decoder_finish(d);
    const dk_summary *sum = dd_decoder_summary(d);
    const dk_diag_facts *f = dd_decoder_facts(d);
    rc = completed(d) && (!pc || pkgcheck_ok(pc)) ? EXIT_DONE : EXIT_FAILED;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, TOOL ": write error: %s\n", strerror(errno));
        rc = EXIT_INPUT;
    } else if (ls != DK_OK) {
        rc = input_error(path, &e);
    } else if (sum->requests + sum->responses == 0 && !f->tool) {
        dk_err_set(&e, DK_E_FORMAT, -1, "no DFU message found (%s log: %llu lines, %llu understood)",
                   dk_log_format_name(st.fmt), (unsigned long long)st.lines,
                   (unsigned long long)st.understood);
        rc = input_error(path, &e);
    } else if (scen_path) {
        int src = write_scenario(d, b, scen_path, pkg_path, path, dk_log_format_name(st.fmt));
        if (src)
            rc = src;
    }
out:
    dk_scen_builder_free(b);
    dd_decoder_free(d);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " TOOL " [options] FILE\n"
            "       " TOOL " [options] --host FILE --target FILE\n"
            "Decode a Nordic Secure DFU serial capture or a host tool's log into an\n"
            "annotated transcript.\n"
            "\n"
            "  --format raw|pcap|log  input format (default: detected from the content)\n"
            "  --log-format NAME      read a text log as NAME: nrfutil, ble, socat, hexdump,\n"
            "                         hex, saleae, programmer (default: detected)\n"
            "  --host FILE            raw capture of the host -> target line\n"
            "  --target FILE          raw capture of the target -> host line\n"
            "  --json                 JSON Lines, one object per event (decode/README.md)\n"
            "  --pkg FILE.zip         check every byte sent against a DFU package\n"
            "  --scenario OUT.json    write a dfusim scenario that fails the same way\n"
            "                         (with --pkg: the init packet from the package\n"
            "                         when the input does not show it); - = stdout; an\n"
            "                         existing file is overwritten, a new one is mode\n"
            "                         0600, a symlink is refused\n"
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
    enum { O_FORMAT = 256, O_HOST, O_TARGET, O_JSON, O_PKG, O_LIST, O_LOGFMT, O_SCENARIO };
    static const struct option opts[] = {
        { "format", required_argument, NULL, O_FORMAT },
        { "host", required_argument, NULL, O_HOST },
        { "target", required_argument, NULL, O_TARGET },
        { "json", no_argument, NULL, O_JSON },
        { "pkg", required_argument, NULL, O_PKG },
        { "list", no_argument, NULL, O_LIST },
        { "log-format", required_argument, NULL, O_LOGFMT },
        { "scenario", required_argument, NULL, O_SCENARIO },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    dk_cap_format fmt = DK_FMT_AUTO;
    const char *host = NULL, *target = NULL, *pkg_path = NULL, *scen_path = NULL;
    dk_log_format logfmt = DK_LOG_AUTO;
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
        case O_LOGFMT: {
            int lf = dk_log_format_by_name(optarg);
            if (lf < 0) {
                fprintf(stderr, TOOL ": unknown log format '%s' (nrfutil, ble, socat, hexdump, hex, "
                                "saleae, programmer, auto)\n", optarg);
                return EXIT_INPUT;
            }
            logfmt = (dk_log_format)lf;
            if (logfmt != DK_LOG_AUTO)
                fmt = DK_FMT_LOG;
            break;
        }
        case O_SCENARIO: scen_path = optarg; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        default:
            return dk_opt_complain(stderr, TOOL, c, argv, optind, optopt);
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
    if (two && fmt == DK_FMT_LOG) {
        fprintf(stderr, TOOL ": --host/--target take raw captures, not text logs\n");
        return EXIT_INPUT;
    }
    if (!two && fmt == DK_FMT_AUTO && sniff_log(argv[optind]))
        fmt = DK_FMT_LOG;
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
    if (fmt == DK_FMT_LOG) {
        int lrc = decode_log(argv[optind], logfmt, json, verbose, pc, scen_path, pkg_path);
        pkgcheck_free(pc);
        return lrc;
    }
    const char *fa = two ? host : argv[optind];
    dk_cap_reader *r = NULL;
    line_src lh, lt;
    memset(&lh, 0, sizeof lh);
    memset(&lt, 0, sizeof lt);
    dd_decoder *d = NULL;
    dk_scen_builder *scen = NULL;
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
    if (scen_path && !(scen = dk_scen_builder_new())) {
        fprintf(stderr, TOOL ": out of memory\n");
        goto out;
    }
    dd_decoder_scenario(d, scen);
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
    rc = completed(d) && (!pc || pkgcheck_ok(pc)) ? EXIT_DONE : EXIT_FAILED;
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
    } else if (scen_path) {
        bool pcap = r ? dk_cap_format_of(r) == DK_FMT_PCAP : fmt == DK_FMT_PCAP;
        int src = write_scenario(d, scen, scen_path, pkg_path, fa, pcap ? "pcap" : "raw");
        if (src)
            rc = src;
    }
out:
    dk_scen_builder_free(scen);
    dd_decoder_free(d);
    if (r)
        dk_cap_close(r);
    line_close(&lh);
    line_close(&lt);
    pkgcheck_free(pc);
    return rc;
}
