/* dfudecode - a Secure DFU serial capture in, an annotated transcript out.
 *
 *   file --capfile--> chunks {t, dir, bytes} --lib pipeline (pipeline.h):
 *        slip --> frames --tracker--> events --printer--> text | JSON Lines
 *                                            --taps--> scenario, plot (SVG)
 *
 * This file is the command line and the input adapters; the rest is lib.
 * Streams: one chunk and one frame in memory at a time.
 * Exit: 0 update completed, 1 decoded but failed/incomplete, 2 usage or input error.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/capfile.h"
#include "dfukit/cli.h"
#include "dfukit/diag.h"
#include "dfukit/err.h"
#include "dfukit/file.h"
#include "dfukit/input.h"
#include "dfukit/logread.h"
#include "dfukit/opterr.h"
#include "dfukit/pipeline.h"
#include "dfukit/pkg.h"
#include "dfukit/plot.h"
#include "dfukit/scenario.h"

#define TOOL "dfudecode"
#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_INPUT 2

/* One raw file of a two-file capture, pulled unit by unit. */
typedef struct {
    const char *path;
    dk_cap_reader *r;
    dk_units *u;
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
    l->u = dk_units_new();
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
    dk_units_free(l->u);
}

/* 1: a unit, 0: the end, -1: read error (l->err; the units before it were
 * delivered, partial frames too). */
static int line_next(line_src *l, dk_unit *out)
{
    for (;;) {
        if (dk_units_next(l->u, out))
            return 1;
        if (l->eof)
            return dk_units_flush(l->u, out) ? 1 : l->failed ? -1 : 0;
        int rc = dk_cap_next(l->r, &l->c, &l->err);
        if (rc <= 0) {
            l->eof = true;
            l->failed = rc < 0;
            continue;
        }
        dk_units_put(l->u, l->c.t_us, l->c.dir, l->c.data, l->c.len, l->c.data_off);
    }
}

/* Protocol order: the host file frame by frame; after each host unit, while
 * the target owes an answer (a request waits, or a PRN is due), the next
 * unit of the target file.  A garbled target unit stands for the answer.
 * Returns the file that failed to read, or NULL. */
static line_src *merge(dk_pipe *d, line_src *host, line_src *target)
{
    dk_unit u;
    int rh, rt = 1;
    bool target_left = true;
    while ((rh = line_next(host, &u)) == 1) {
        dk_pipe_unit(d, &u);
        while (target_left && dk_pipe_awaiting(d)) {
            rt = line_next(target, &u);
            if (rt != 1) {
                target_left = false;
                break;
            }
            dk_pipe_unit(d, &u);
            if (u.ev.kind != DK_SLIP_FRAME)
                break;
        }
    }
    while (target_left && (rt = line_next(target, &u)) == 1)
        dk_pipe_unit(d, &u);
    return rh < 0 ? host : rt < 0 ? target : NULL;
}

/* The command line. */
typedef struct {
    dk_cap_format fmt;
    dk_log_format logfmt;
    const char *file, *host, *target, *pkg_path, *scen_path, *plot_path;
    bool json, verbose;
} opts;

/* What a decode of any input shares. */
typedef struct {
    opts *o;
    dk_pkg pkg;        /* --pkg, loaded once (empty without) */
    dk_pipe *d;
    dk_scen_builder *scen;
    dk_plot *plot;
} run;

static int input_error(const char *file, const dk_err *e)
{
    fflush(stdout);
    dk_err_print(stderr, TOOL, file, e);
    return EXIT_INPUT;
}

/* The pipeline's diagnosis says the update completed (a log without
 * messages may say so through the host's own words). */
static bool completed(const dk_pipe *d)
{
    const dk_diag_row *r = dk_pipe_diag(d);
    return r && strcmp(r->id, "update.completed") == 0;
}

/* The pipeline's tap: the scenario builder and the plot, those asked for. */
static void to_taps(void *ctx, const dk_event *ev)
{
    run *r = ctx;
    if (r->scen)
        dk_scen_builder_event(r->scen, ev);
    if (r->plot)
        dk_plot_event(r->plot, ev);
}

/* The pipeline (printing to stdout, unless the plot goes there), the
 * scenario builder, the plot.  0, or the exit status after a one-line
 * error. */
static int run_start(run *r, bool split)
{
    const opts *o = r->o;
    dk_pipe_opts po = { .json = o->json, .verbose = o->verbose, .split = split,
                        .pkg = o->pkg_path ? &r->pkg : NULL, .pkg_name = o->pkg_path };
    bool plot_out = o->plot_path && strcmp(o->plot_path, "-") == 0;
    r->d = dk_pipe_new(plot_out ? NULL : stdout, &po);
    if (o->scen_path)
        r->scen = dk_scen_builder_new();
    if (o->plot_path) {
        dk_plot_opts pl = { .title = split ? o->host : o->file, .split = split };
        r->plot = dk_plot_new(&pl);
    }
    if (!r->d || (o->scen_path && !r->scen) || (o->plot_path && !r->plot)) {
        fprintf(stderr, TOOL ": out of memory\n");
        return EXIT_INPUT;
    }
    if (r->scen || r->plot)
        dk_pipe_tap(r->d, to_taps, r);
    return 0;
}

/* --plot: the SVG to its file, or to stdout ("-").  The file is created as
 * --scenario's is (file.h: never through a symlink, 0600, a FIFO allowed).
 * 0, or the exit status after a one-line error. */
static int write_plot(run *r)
{
    const char *path = r->o->plot_path;
    bool out = strcmp(path, "-") == 0;
    dk_err e = { 0 };
    FILE *f = out ? stdout : dk_file_fopen(path, DK_FILE_STREAM, &e);
    if (!f)
        return input_error(path, &e);
    bool ok = dk_plot_write(r->plot, f) == 0;
    ok = (out ? fflush(f) == 0 : fclose(f) == 0) && ok;
    if (!ok) {
        dk_err_set(&e, DK_E_IO, -1, "write error: %s", strerror(errno));
        return input_error(out ? "standard output" : path, &e);
    }
    return 0;
}

/* --scenario: build it from what the pipeline saw and write it.  0, or the
 * exit status after a one-line error. */
static int write_scenario(run *r, const char *src, const char *format)
{
    const dk_summary *sum = dk_pipe_summary(r->d);
    const dk_diag_facts *f = dk_pipe_facts(r->d);
    dk_err e = { 0 };
    char why[240];
    if (!dk_scen_reproducible(sum, f, dk_pipe_diag(r->d), why, sizeof why)) {
        dk_err_set(&e, DK_E_UNSUPPORTED, -1, "%s", why);
        return input_error(src, &e);
    }
    const uint8_t *dat = NULL;
    size_t dlen = 0;
    if (r->pkg.n) {
        /* the image the session stopped in (images go in package order) */
        size_t i = sum->n_images ? sum->n_images - 1 : 0;
        if (i >= r->pkg.n)
            i = r->pkg.n - 1;
        dat = r->pkg.img[i].dat;
        dlen = r->pkg.img[i].dat_len;
    }
    static dk_scenario s;
    dk_scen_builder_finish(r->scen, sum, f, dk_pipe_diag(r->d), dat, dlen, src, format, &s);
    if (dk_scen_write(&s, r->o->scen_path, &e) != DK_OK)
        return input_error(r->o->scen_path, &e);
    return 0;
}

/* After dk_pipe_finish: 0 the update completed (and matches the package),
 * 1 it did not; 2 after one error line: stdout could not be written, the
 * input could not be read to its end (failed, ferr), it held no DFU message
 * (nomsg set), or the scenario or the plot could not be written.  The plot
 * is written when the input held messages, also when its end could not be
 * read: it shows what was. */
static int conclude(run *r, const char *src, const char *failed, const dk_err *ferr,
                    const dk_err *nomsg, const char *format)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, TOOL ": write error: %s\n", strerror(errno));
        return EXIT_INPUT;
    }
    if (r->plot && !nomsg) {
        int rc = write_plot(r);
        if (rc)
            return rc;
    }
    if (failed)
        return input_error(failed, ferr);
    if (nomsg)
        return input_error(src, nomsg);
    if (r->o->scen_path) {
        int rc = write_scenario(r, src, format);
        if (rc)
            return rc;
    }
    return completed(r->d) && dk_pipe_pkg_ok(r->d) ? EXIT_DONE : EXIT_FAILED;
}

static void on_record(void *ctx, const dk_logrec *rec)
{
    dk_pipe_record(ctx, rec);
}

/* A text log: records -> pipeline. */
static int decode_log(run *r, const char *path, dk_input *in)
{
    dk_logrd_stats st;
    memset(&st, 0, sizeof st);
    dk_err e = { 0 };
    dk_status ls = dk_logrd_input(in, r->o->logfmt, 0, on_record, r->d, &st, &e);
    if (ls == DK_E_FORMAT && st.records == 0) {
        /* AUTO found no log format it knows: nothing was printed */
        dk_err_set(&e, DK_E_FORMAT, 0, "not a log dfudecode reads (no line of a known format in the "
                                       "first %u lines; --log-format forces one)",
                   DK_LOG_SNIFF_LINES);
        return input_error(path, &e);
    }
    if (ls == DK_E_IO && st.bytes == 0 && st.records == 0)
        return input_error(path, &e);
    dk_pipe_log_done(r->d, &st);
    dk_pipe_finish(r->d);
    const dk_summary *sum = dk_pipe_summary(r->d);
    dk_err nm = { 0 };
    const dk_diag_facts *fa = dk_pipe_facts(r->d);
    bool nomsg = ls == DK_OK && sum->requests + sum->responses == 0 && !fa->tool && !fa->hci_out &&
                 !fa->hci_in;
    if (nomsg)
        dk_err_set(&nm, DK_E_FORMAT, -1, "no DFU message found (%s log: %llu lines, %llu understood)",
                   dk_log_format_name(st.fmt), (unsigned long long)st.lines,
                   (unsigned long long)st.understood);
    return conclude(r, path, ls != DK_OK ? path : NULL, &e, nomsg ? &nm : NULL,
                    dk_log_format_name(st.fmt));
}

/* One capture file: chunks -> pipeline. */
static int decode_capture(run *r, const char *path, dk_input *in)
{
    dk_err e = { 0 };
    dk_cap_reader *cr = dk_cap_open_input(in, r->o->fmt, DK_DIR_UNKNOWN, &e);
    if (!cr)
        return input_error(path, &e);
    dk_chunk ch;
    int n;
    while ((n = dk_cap_next(cr, &ch, &e)) == 1)
        dk_pipe_chunk(r->d, &ch);
    dk_pipe_finish(r->d);
    const dk_summary *sum = dk_pipe_summary(r->d);
    dk_err nm = { 0 };
    if (sum->requests + sum->responses == 0)
        dk_err_set(&nm, DK_E_FORMAT, 0, "no DFU message found (%llu frames, %u anomalies)",
                   (unsigned long long)sum->frames, sum->anomalies);
    int rc = conclude(r, path, n < 0 ? path : NULL, &e,
                      sum->requests + sum->responses == 0 ? &nm : NULL,
                      dk_cap_format_of(cr) == DK_FMT_PCAP ? "pcap" : "raw");
    dk_cap_close(cr);
    return rc;
}

/* Two raw files, one per line, merged in protocol order. */
static int decode_two(run *r)
{
    line_src lh, lt;
    memset(&lt, 0, sizeof lt);
    int rc = EXIT_INPUT;
    if (line_open(&lh, r->o->host, DK_DIR_HOST) != 0) {
        rc = input_error(r->o->host, &lh.err);
    } else if (line_open(&lt, r->o->target, DK_DIR_TARGET) != 0) {
        rc = input_error(r->o->target, &lt.err);
    } else {
        line_src *bad = merge(r->d, &lh, &lt);
        dk_pipe_finish(r->d);
        const dk_summary *sum = dk_pipe_summary(r->d);
        dk_err nm = { 0 };
        if (sum->requests + sum->responses == 0)
            dk_err_set(&nm, DK_E_FORMAT, 0, "no DFU message found (%llu frames, %u anomalies)",
                       (unsigned long long)sum->frames, sum->anomalies);
        rc = conclude(r, r->o->host, bad ? bad->path : NULL, bad ? &bad->err : NULL,
                      sum->requests + sum->responses == 0 ? &nm : NULL, "raw");
    }
    line_close(&lh);
    line_close(&lt);
    return rc;
}

static void list_tables(void)
{
    printf("anomalies:\n");
    for (int i = 0; i < DK_AN_COUNT; i++)
        printf("  %-32s %-7s %s\n", dk_anomaly_name((dk_anomaly_id)i),
               dk_severity_name(dk_anomaly_severity((dk_anomaly_id)i)),
               dk_anomaly_text((dk_anomaly_id)i));
    unsigned n = dk_diag_count();
    printf("diagnoses:\n");
    for (unsigned i = 0; i < n; i++)
        printf("  %-28s %s\n", dk_diag_row_at(i)->id, dk_diag_row_at(i)->when);
}

/* ---- the command line: one table (cli.h) gives getopt, --help and the page */

static int opt_format(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    opts *o = ctx;
    if (strcmp(arg, "raw") == 0)
        o->fmt = DK_FMT_RAW;
    else if (strcmp(arg, "pcap") == 0 || strcmp(arg, "pcapng") == 0)
        o->fmt = DK_FMT_PCAP;
    else if (strcmp(arg, "log") == 0)
        o->fmt = DK_FMT_LOG;
    else {
        fprintf(stderr, TOOL ": unknown format '%s' (raw, pcap or log)\n", arg);
        return EXIT_INPUT;
    }
    return DK_CLI_GO;
}

static int opt_log_format(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)opt;
    opts *o = ctx;
    int lf = dk_log_format_by_name(arg);
    if (lf < 0) {
        fprintf(stderr, TOOL ": unknown log format '%s' (nrfutil, ble, socat, hexdump, hex, "
                        "saleae, programmer, auto)\n", arg);
        return EXIT_INPUT;
    }
    o->logfmt = (dk_log_format)lf;
    if (o->logfmt != DK_LOG_AUTO)
        o->fmt = DK_FMT_LOG;
    return DK_CLI_GO;
}

static int opt_list(void *ctx, const dk_cli_opt *opt, const char *arg)
{
    (void)ctx, (void)opt, (void)arg;
    list_tables();
    return EXIT_DONE;
}

#define O(field) offsetof(opts, field)
static const dk_cli_opt cli_opts[] = {
    { "format", 0, "raw|pcap|log", "input format (default: detected from the content)", NULL, opt_format },
    { "log-format", 0, "NAME",
      "read a text log as NAME: nrfutil, ble, socat, hexdump, hex, saleae, programmer (default: detected)",
      NULL, opt_log_format },
    { "host", 0, "FILE", "raw capture of the host -> target line", NULL, dk_cli_str, O(host) },
    { "target", 0, "FILE", "raw capture of the target -> host line", NULL, dk_cli_str, O(target) },
    { "json", 0, NULL, "JSON Lines, one object per event (decode/README.md)", NULL, dk_cli_true, O(json) },
    { "pkg", 0, "FILE.zip", "check every byte sent against a DFU package", NULL, dk_cli_str, O(pkg_path) },
    { "scenario", 0, "OUT.json",
      "write a dfusim scenario that fails the same way (with --pkg: the init packet from the package when "
      "the input does not show it); - = stdout; an existing file is overwritten, a new one is mode 0600, "
      "a symlink is refused",
      NULL, dk_cli_str, O(scen_path) },
    { "plot", 0, "OUT.svg",
      "draw offset against time per image, with EXECUTEs, resumes, restarts, anomalies and port gaps (- : the "
      "SVG to stdout, instead of the transcript); the file is created as --scenario's is",
      NULL, dk_cli_str, O(plot_path) },
    { "verbose", 'v', NULL, "every frame (no folding of writes)", NULL, dk_cli_true, O(verbose) },
    { "list", 0, NULL, "list anomaly ids and diagnosis signatures", NULL, opt_list },
};
#undef O

static const char *const cli_usage[] = { "[options] FILE", "[options] --host FILE --target FILE", NULL };
static const dk_cli_exit cli_exits[] = {
    { EXIT_DONE, "update completed" },
    { EXIT_FAILED, "decoded but failed or incomplete" },
    { EXIT_INPUT, "usage or input error" },
};
static const dk_cli_example cli_examples[] = {
    { "dfudecode captures/resume.pcap", "The transcript and diagnosis of a capture:" },
    { "dfudecode --json link.pcap | head", "The same as JSON Lines, one object per event:" },
    { "dfudecode --host host.raw --target target.raw", "Two raw captures, one per line:" },
    { "dfudecode --scenario field.json nrfutil.log && dfusim --scenario field.json",
      "A field log into a dfusim scenario that puts the simulator where the device was:" },
    { "dfusniff --port /dev/ttyACM0 -w - | dfudecode -", "A live link through dfusniff, on a pipe:" },
    { "dfudecode --plot resume.svg captures/resume.pcap", "The same update drawn as an SVG a browser shows:" },
};
static const char *const cli_see_also[] = { "dfusim(1)", "dfuhost(1)", "dfusniff(1)", "dfucheck(1)", "tshark(1)",
                                            NULL };
static const dk_cli_tool cli = {
    .name = TOOL,
    .summary = "decode a Nordic DFU serial capture or host log into an annotated transcript",
    .usage = cli_usage,
    .description = "Decode a Nordic Secure DFU serial capture or a host tool's log into an annotated "
                   "transcript.",
    .details = "FILE is a pcap or pcapng capture (link type 250, as dfusniff, dfusim and dfuhost write "
               "them), raw bytes of both lines, or a text log (nrfutil -vvvv or plain, BLE, socat -x -v, "
               "hexdump -C, plain hex, nRF Connect Programmer, Saleae CSV); - reads standard input, and a "
               "FIFO works like a file.  The format is told from the first bytes.\n\n"
               "Requests are paired with their responses; objects, offsets and the running CRC-32 are "
               "followed and checked against what the target reported; init packet fields and extended "
               "errors are explained; resumes and anomalies are flagged with stable dotted ids (--list); "
               "the last line is a diagnosis.  Errors in the input are one line on stderr naming the file "
               "and the byte offset.",
    .opts = cli_opts,
    .n_opts = DK_CLI_N(cli_opts),
    .exits = cli_exits,
    .n_exits = DK_CLI_N(cli_exits),
    .examples = cli_examples,
    .n_examples = DK_CLI_N(cli_examples),
    .see_also = cli_see_also,
};

/* The command line into o.  -1: go on; else the exit status. */
static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    int next;
    int rc = dk_cli_run(&cli, argc, argv, o, DK_CLI_ALL, &next, stdout, stderr);
    if (rc != DK_CLI_GO)
        return rc;
    bool two = o->host || o->target;
    if (two && (!o->host || !o->target || next != argc)) {
        fprintf(stderr, TOOL ": --host and --target go together, without another FILE\n");
        return EXIT_INPUT;
    }
    if (!two && next != argc - 1) {
        fprintf(stderr, TOOL ": %s (see --help)\n",
                next >= argc ? "no capture file given" : "more than one capture file given");
        return EXIT_INPUT;
    }
    if (two && o->fmt == DK_FMT_LOG) {
        fprintf(stderr, TOOL ": --host/--target take raw captures, not text logs\n");
        return EXIT_INPUT;
    }
    if (two && o->fmt == DK_FMT_PCAP) {
        fprintf(stderr, TOOL ": --host/--target take raw captures (a pcap holds both lines)\n");
        return EXIT_INPUT;
    }
    if (o->plot_path && o->scen_path && strcmp(o->plot_path, "-") == 0 &&
        strcmp(o->scen_path, "-") == 0) {
        fprintf(stderr, TOOL ": --plot - and --scenario - cannot both write to stdout\n");
        return EXIT_INPUT;
    }
    o->file = two ? NULL : argv[next];
    return -1;
}

/* One input, FILE or "-": its head read once tells the format (pcap or
 * pcapng magic, text: a log, else raw) and goes to the reader with the rest,
 * so a pipe, a FIFO or <(...) reads like the file. */
static int decode_one(run *r)
{
    opts *o = r->o;
    dk_err e = { 0 };
    dk_input *in = dk_input_open(o->file, &e);
    if (!in)
        return input_error(o->file, &e);
    if (o->fmt == DK_FMT_AUTO) {
        const uint8_t *head;
        size_t n;
        if (dk_input_peek(in, DK_INPUT_HEAD, &head, &n, &e) != DK_OK) {
            dk_input_close(in);
            return input_error(o->file, &e);
        }
        if (n > 0 && dk_cap_sniff(head, n) == DK_FMT_LOG)
            o->fmt = DK_FMT_LOG;
    }
    if (o->fmt != DK_FMT_LOG)
        return decode_capture(r, o->file, in); /* the reader owns in */
    int rc = decode_log(r, o->file, in);
    dk_input_close(in);
    return rc;
}

int main(int argc, char **argv)
{
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;

    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    __fsetlocking(stdout, FSETLOCKING_BYCALLER); /* one thread: no lock per line */

    run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    if (o.pkg_path) {
        dk_err e = { 0 };
        if (dk_pkg_open(o.pkg_path, &r.pkg, &e) != DK_OK)
            return input_error(o.pkg_path, &e);
        if (r.pkg.n == 0) {
            dk_pkg_free(&r.pkg);
            dk_err_set(&e, DK_E_FORMAT, -1, "the package holds no image");
            return input_error(o.pkg_path, &e);
        }
    }
    rc = run_start(&r, o.file == NULL);
    if (rc == 0)
        rc = o.file ? decode_one(&r) : decode_two(&r);
    dk_scen_builder_free(r.scen);
    dk_plot_free(r.plot);
    dk_pipe_free(r.d);
    dk_pkg_free(&r.pkg);
    return rc;
}
