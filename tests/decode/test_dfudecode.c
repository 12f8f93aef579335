/* test_dfudecode.c - dfudecode's command line: exit codes, one-line errors
 * naming file and offset, bad inputs, both raw modes, pcap, --json, --pkg.
 * Every input is built here with the lib encoders (msg, slip, capfile, pkg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "dfukit/capfile.h"
#include "dfukit/crc.h"
#include "dfukit/initpkt.h"
#include "dfukit/msg.h"
#include "dfukit/pkg.h"
#include "dfukit/slip.h"
#include "dk_test.h"

static char dir[512];
static char out_path[600], err_path[600];

/* ---- running dfudecode ---------------------------------------------- */

typedef struct {
    int code;      /* exit status; -1 when killed by a signal */
    char *out;     /* stdout */
    size_t out_len;
    char *err;     /* stderr */
} run_result;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    size_t k;
    while ((k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
    }
    fclose(f);
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

static run_result run(const char *a1, ...)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = DFUDECODE;
    va_list ap;
    va_start(ap, a1);
    for (const char *a = a1; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out_path, "wb", stdout) || !freopen(err_path, "wb", stderr))
            _exit(99);
        execv(DFUDECODE, (char *const *)argv);
        _exit(98);
    }
    int st;
    assert_true(waitpid(pid, &st, 0) == pid);
    run_result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out_path, &r.out_len);
    r.err = slurp(err_path, NULL);
    return r;
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* stderr is exactly one line "dfudecode: FILE: offset N: ..." */
static void assert_one_line_error(const run_result *r, const char *file, bool with_offset)
{
    assert_int_equal(lines(r->err), 1);
    char head[700];
    snprintf(head, sizeof head, "dfudecode: %s: %s", file, with_offset ? "offset " : "");
    if (strncmp(r->err, head, strlen(head)) != 0)
        fail_msg("stderr '%s' does not start with '%s'", r->err, head);
}

static void path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void write_file(const char *p, const void *d, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

/* ---- captures built with the lib ------------------------------------ */

typedef struct {
    uint8_t *merged, *host, *target;
    size_t ml, hl, tl, cap;
    dk_cap_writer *w;
    int64_t t;
} capture;

static void cap_init(capture *c, const char *pcap)
{
    memset(c, 0, sizeof *c);
    c->cap = 1 << 20;
    c->merged = malloc(c->cap);
    c->host = malloc(c->cap);
    c->target = malloc(c->cap);
    c->t = 1715680800000000;
    if (pcap) {
        dk_err e;
        c->w = dk_cap_create(pcap, &e);
        assert_non_null(c->w);
    }
}

static void cap_done(capture *c)
{
    if (c->w)
        assert_int_equal(dk_cap_close_writer(c->w, NULL), DK_OK);
    free(c->merged);
    free(c->host);
    free(c->target);
}

static void put(capture *c, dk_dir d, const dk_msg *m)
{
    uint8_t f[2100], e[4300];
    size_t n = dk_msg_encode(m, f, sizeof f);
    assert_true(n > 0);
    size_t k = dk_slip_encode(f, n, e);
    assert_true(c->ml + k <= c->cap);
    memcpy(c->merged + c->ml, e, k);
    c->ml += k;
    if (d == DK_DIR_HOST) {
        memcpy(c->host + c->hl, e, k);
        c->hl += k;
    } else {
        memcpy(c->target + c->tl, e, k);
        c->tl += k;
    }
    if (c->w)
        assert_int_equal(dk_cap_write(c->w, c->t, d, e, k, NULL), DK_OK);
    c->t += 700;
}

static void req(capture *c, dk_msg m) { put(c, DK_DIR_HOST, &m); }
static void rsp(capture *c, dk_msg m) { put(c, DK_DIR_TARGET, &m); }

static dk_msg ok(uint8_t op) { return dk_msg_response(op, DK_RES_SUCCESS); }

enum { COMPLETE, INTERRUPT, BAD_INIT };

static uint8_t image[10000];
static uint8_t *dat;
static size_t dat_len;

/* An nrfutil-like host and an SDK-like target (protocol.md §5.2, §6). */
static void session(capture *c, const uint8_t *d, size_t dl, uint16_t prn, int mode)
{
    dk_msg m = dk_msg_request(DK_OP_PING);
    m.req.ping.id = 1;
    req(c, m);
    m = ok(DK_OP_PING);
    m.rsp.ping.id = 1;
    rsp(c, m);
    m = dk_msg_request(DK_OP_RECEIPT_NOTIF_SET);
    m.req.prn.target = prn;
    req(c, m);
    rsp(c, ok(DK_OP_RECEIPT_NOTIF_SET));
    m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_COMMAND;
    req(c, m);
    m = ok(DK_OP_OBJECT_SELECT);
    m.rsp.select.max_size = 512;
    rsp(c, m);
    m = dk_msg_request(DK_OP_OBJECT_CREATE);
    m.req.create.type = DK_OBJ_COMMAND;
    m.req.create.size = (uint32_t)dl;
    req(c, m);
    rsp(c, ok(DK_OP_OBJECT_CREATE));
    uint32_t crc = 0;
    unsigned cnt = 0;
    for (size_t o = 0; o < dl; o += 64) {
        size_t k = dl - o < 64 ? dl - o : 64;
        m = dk_msg_request(DK_OP_OBJECT_WRITE);
        m.req.write.data = d + o;
        m.req.write.len = k;
        req(c, m);
        crc = dk_crc32(crc, d + o, k);
        if (prn && ++cnt == prn) {
            cnt = 0;
            m = ok(DK_OP_CRC_GET);
            m.rsp.crc.offset = (uint32_t)(o + k);
            m.rsp.crc.crc = crc;
            rsp(c, m);
        }
    }
    req(c, dk_msg_request(DK_OP_OBJECT_EXECUTE));
    if (mode == BAD_INIT) {
        rsp(c, dk_msg_response(DK_OP_OBJECT_EXECUTE, DK_RES_INVALID_OBJECT));
        return;
    }
    rsp(c, ok(DK_OP_OBJECT_EXECUTE));
    m = dk_msg_request(DK_OP_OBJECT_SELECT);
    m.req.select.type = DK_OBJ_DATA;
    req(c, m);
    m = ok(DK_OP_OBJECT_SELECT);
    m.rsp.select.max_size = 4096;
    rsp(c, m);
    crc = 0;
    for (size_t o = 0; o < sizeof image; o += 4096) {
        size_t k = sizeof image - o < 4096 ? sizeof image - o : 4096;
        m = dk_msg_request(DK_OP_OBJECT_CREATE);
        m.req.create.type = DK_OBJ_DATA;
        m.req.create.size = (uint32_t)k;
        req(c, m);
        rsp(c, ok(DK_OP_OBJECT_CREATE));
        cnt = 0;
        for (size_t w = 0; w < k; w += 64) {
            if (mode == INTERRUPT && o + w >= 5000)
                return;
            size_t n = k - w < 64 ? k - w : 64;
            m = dk_msg_request(DK_OP_OBJECT_WRITE);
            m.req.write.data = image + o + w;
            m.req.write.len = n;
            req(c, m);
            crc = dk_crc32(crc, image + o + w, n);
            if (prn && ++cnt == prn) {
                cnt = 0;
                m = ok(DK_OP_CRC_GET);
                m.rsp.crc.offset = (uint32_t)(o + w + n);
                m.rsp.crc.crc = crc;
                rsp(c, m);
            }
        }
        req(c, dk_msg_request(DK_OP_CRC_GET));
        m = ok(DK_OP_CRC_GET);
        m.rsp.crc.offset = (uint32_t)(o + k);
        m.rsp.crc.crc = crc;
        rsp(c, m);
        req(c, dk_msg_request(DK_OP_OBJECT_EXECUTE));
        rsp(c, ok(DK_OP_OBJECT_EXECUTE));
    }
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(dk_test_tmpdir(dir, sizeof dir), 0);
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    dk_test_fill(image, sizeof image, 42);
    dk_init_cmd tmpl;
    memset(&tmpl, 0, sizeof tmpl);
    tmpl.has_fw_version = true;
    tmpl.fw_version = 2;
    tmpl.has_hw_version = true;
    tmpl.hw_version = 52;
    tmpl.sd_req_count = 1;
    tmpl.sd_req[0] = 0x100;
    dk_err e;
    assert_int_equal(dk_pkg_make_dat(&tmpl, DK_FW_APPLICATION, image, sizeof image, 0, 0, NULL,
                                     &dat, &dat_len, &e),
                     DK_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(dat);
    dk_test_rmtree(dir);
    return 0;
}

static void write_pkg(const char *p, const uint8_t *bin)
{
    dk_pkg pkg;
    memset(&pkg, 0, sizeof pkg);
    pkg.n = 1;
    dk_image *im = &pkg.img[0];
    im->kind = DK_IMG_APPLICATION;
    im->key = "application";
    snprintf(im->bin_name, sizeof im->bin_name, "app.bin");
    snprintf(im->dat_name, sizeof im->dat_name, "app.dat");
    im->bin = (uint8_t *)bin;
    im->bin_len = sizeof image;
    im->dat = dat;
    im->dat_len = dat_len;
    dk_err e;
    assert_int_equal(dk_pkg_write(p, &pkg, &e), DK_OK);
}

/* ---- tests ---------------------------------------------------------- */

static void usage_errors(void **state)
{
    (void)state;
    run_result r = run(NULL);
    assert_int_equal(r.code, 2);
    assert_int_equal(lines(r.err), 1);
    run_free(&r);
    r = run("--bogus", "x", NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.err, "dfudecode: unknown option '--bogus' (see dfudecode --help)\n");
    assert_int_equal(r.out_len, 0);
    run_free(&r);
    r = run("-q", "x", NULL);
    assert_int_equal(r.code, 2);
    assert_int_equal(lines(r.err), 1);
    run_free(&r);
    r = run("--format", "xml", "x", NULL);
    assert_int_equal(r.code, 2);
    assert_int_equal(lines(r.err), 1);
    run_free(&r);
    r = run("--host", "a", NULL);
    assert_int_equal(r.code, 2);
    assert_int_equal(lines(r.err), 1);
    run_free(&r);
    r = run("--pkg", NULL);
    assert_int_equal(r.code, 2);
    assert_int_equal(lines(r.err), 1);
    run_free(&r);
    r = run("--help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: dfudecode"));
    run_free(&r);
    r = run("--list", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "dfu.crc_mismatch"));
    assert_non_null(strstr(r.out, "init.sd_req"));
    run_free(&r);
}

static void missing_and_empty(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "nope.bin");
    run_result r = run(p, NULL);
    assert_int_equal(r.code, 2);
    assert_one_line_error(&r, p, false);
    run_free(&r);
    path(p, sizeof p, "empty.bin");
    write_file(p, "", 0);
    r = run(p, NULL);
    assert_int_equal(r.code, 2);
    assert_one_line_error(&r, p, true);
    assert_non_null(strstr(r.err, "offset 0: empty file"));
    run_free(&r);
}

static void random_bytes(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "random.bin");
    size_t n = 1 << 20;
    uint8_t *b = malloc(n);
    dk_test_fill(b, n, 7);
    write_file(p, b, n);
    free(b);
    run_result r = run(p, NULL);
    /* garbage may hold a few message-shaped frames: decoded (1) or not (2) */
    assert_true(r.code == 1 || r.code == 2);
    if (r.code == 2)
        assert_one_line_error(&r, p, true);
    else
        assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "summary:"));
    run_free(&r);
    r = run("--json", p, NULL);
    assert_true(r.code == 1 || r.code == 2);
    run_free(&r);
}

static void megabyte_frame_without_end(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "noend.bin");
    size_t n = 1 << 20;
    uint8_t *b = malloc(n);
    memset(b, 0x08, n);
    write_file(p, b, n);
    free(b);
    run_result r = run(p, NULL);
    assert_int_equal(r.code, 2);
    assert_one_line_error(&r, p, true);
    assert_non_null(strstr(r.err, "no DFU message found"));
    assert_non_null(strstr(r.out, "slip.unterminated"));
    run_free(&r);
}

static void complete_raw_merged_and_two_files(void **state)
{
    (void)state;
    char pm[700], ph[700], pt[700];
    path(pm, sizeof pm, "ok.raw");
    path(ph, sizeof ph, "ok.host.raw");
    path(pt, sizeof pt, "ok.target.raw");
    capture c;
    cap_init(&c, NULL);
    session(&c, dat, dat_len, 4, COMPLETE);
    write_file(pm, c.merged, c.ml);
    write_file(ph, c.host, c.hl);
    write_file(pt, c.target, c.tl);
    cap_done(&c);
    run_result r = run(pm, NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "outcome:    completed"));
    assert_non_null(strstr(r.out, "anomalies:  0\n"));
    assert_non_null(strstr(r.out, "init packet: "));
    /* no time in a raw file: byte offsets */
    assert_true(r.out[0] == '@');
    run_free(&r);
    /* the two lines apart, merged in protocol order (PRN 4 included) */
    r = run("--host", ph, "--target", pt, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "outcome:    completed"));
    assert_non_null(strstr(r.out, "anomalies:  0\n"));
    /* positions name their file: the host's PING at 0, the image completed
     * by the target's answer to the final EXECUTE (the last 4 bytes) */
    const char *ping = "@h0          --> PING id=1";
    assert_true(strncmp(r.out, ping, strlen(ping)) == 0);
    char at[32], done[64];
    snprintf(at, sizeof at, "@t%zu", c.tl - 4);
    snprintf(done, sizeof done, "\n%-11s  == image 1 complete", at);
    if (!strstr(r.out, done))
        fail_msg("no '%s' in\n%s", done + 1, r.out);
    run_free(&r);
    /* -v: every write has its own line */
    r = run("-v", pm, NULL);
    assert_int_equal(r.code, 0);
    int writes = 0;
    for (const char *s = r.out; (s = strstr(s, "--> OBJECT_WRITE len=")); s++)
        writes++;
    /* objects of 4096, 4096 and 1808 bytes, 64 bytes a write */
    assert_int_equal(writes, (int)(dat_len + 63) / 64 + 64 + 64 + (1808 + 63) / 64);
    run_free(&r);
}

static void complete_pcap_json(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "ok.pcap");
    capture c;
    cap_init(&c, p);
    session(&c, dat, dat_len, 0, COMPLETE);
    cap_done(&c);
    run_result r = run("--json", p, NULL);
    assert_int_equal(r.code, 0);
    char *save = NULL;
    json_t *last = NULL;
    int n = 0;
    for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o)
            fail_msg("line %d is not JSON: %s", n + 1, line);
        assert_true(json_is_object(o));
        assert_non_null(json_string_value(json_object_get(o, "event")));
        if (last)
            json_decref(last);
        last = o;
        n++;
    }
    assert_true(n > 10);
    assert_string_equal(json_string_value(json_object_get(last, "event")), "summary");
    assert_string_equal(json_string_value(json_object_get(last, "outcome")), "completed");
    json_t *d = json_object_get(last, "diagnosis");
    assert_string_equal(json_string_value(json_object_get(d, "id")), "update.completed");
    json_decref(last);
    run_free(&r);
    /* the text transcript of a pcap has times */
    r = run(p, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "   0.000000  --> PING id=1"));
    run_free(&r);
}

/* dfudecode with stdin from a pipe that gets the file's bytes. */
static run_result run_piped(const char *in, const char *a1, ...)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = DFUDECODE;
    va_list ap;
    va_start(ap, a1);
    for (const char *a = a1; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    size_t len;
    char *data = slurp(in, &len);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        if (dup2(fds[0], 0) < 0 || !freopen(out_path, "wb", stdout) ||
            !freopen(err_path, "wb", stderr))
            _exit(99);
        execv(DFUDECODE, (char *const *)argv);
        _exit(98);
    }
    close(fds[0]);
    for (size_t off = 0; off < len;) {
        ssize_t k = write(fds[1], data + off, len - off);
        assert_true(k > 0);
        off += (size_t)k;
    }
    close(fds[1]);
    free(data);
    int st;
    assert_true(waitpid(pid, &st, 0) == pid);
    run_result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out_path, &r.out_len);
    r.err = slurp(err_path, NULL);
    return r;
}

/* A pcap read from a file and from a pipe gives the same transcript, times
 * and offsets included (tests/decode/stdin.sh: without --format too). */
static void pcap_file_and_pipe(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "same.pcap");
    capture c;
    cap_init(&c, p);
    session(&c, dat, dat_len, 8, COMPLETE);
    cap_done(&c);
    run_result a = run("-v", p, NULL);
    run_result b = run_piped(p, "-v", "--format", "pcap", "-", NULL);
    assert_int_equal(a.code, 0);
    assert_int_equal(b.code, 0);
    assert_string_equal(b.err, "");
    assert_true(lines(a.out) > 100);
    assert_string_equal(a.out, b.out);
    run_free(&a);
    run_free(&b);
}

static void truncated_pcap(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "trunc.pcap");
    capture c;
    cap_init(&c, p);
    session(&c, dat, dat_len, 0, COMPLETE);
    cap_done(&c);
    size_t n;
    char *b = slurp(p, &n);
    write_file(p, b, n / 2 + 5); /* cut inside a record */
    free(b);
    run_result r = run(p, NULL);
    assert_int_equal(r.code, 2);
    assert_one_line_error(&r, p, true);
    assert_null(strstr(r.err, "offset 0:"));
    assert_non_null(strstr(r.out, "OBJECT_CREATE")); /* decoded up to the cut */
    run_free(&r);
}

static void interrupted_and_bad_init(void **state)
{
    (void)state;
    char p[700];
    path(p, sizeof p, "cut.raw");
    capture c;
    cap_init(&c, NULL);
    session(&c, dat, dat_len, 0, INTERRUPT);
    write_file(p, c.merged, c.ml);
    cap_done(&c);
    run_result r = run(p, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "interrupted at data offset 5056 of 10000"));
    assert_non_null(strstr(r.out, "[transfer.interrupted]"));
    run_free(&r);

    /* a malformed init packet: decoded with an anomaly, exit 1 */
    uint8_t junk[48];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(0xF8 + (i & 7));
    path(p, sizeof p, "badinit.raw");
    cap_init(&c, NULL);
    session(&c, junk, sizeof junk, 0, BAD_INIT);
    write_file(p, c.merged, c.ml);
    cap_done(&c);
    r = run(p, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "initpkt.malformed: init packet byte"));
    assert_non_null(strstr(r.out, "[init.invalid_object]"));
    assert_string_equal(r.err, "");
    run_free(&r);
}

static void pkg_checks(void **state)
{
    (void)state;
    char pc[700], pk[700], pbad[700], pz[700];
    path(pc, sizeof pc, "pkgcap.raw");
    path(pk, sizeof pk, "good.zip");
    path(pbad, sizeof pbad, "other.zip");
    path(pz, sizeof pz, "broken.zip");
    capture c;
    cap_init(&c, NULL);
    session(&c, dat, dat_len, 0, COMPLETE);
    write_file(pc, c.merged, c.ml);
    cap_done(&c);
    write_pkg(pk, image);
    run_result r = run("--pkg", pk, pc, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "every byte sent matches"));
    assert_non_null(strstr(r.out, "init packet matches; 10000 data bytes checked, all match"));
    run_free(&r);
    /* a package whose image differs at byte 5000 */
    uint8_t *other = malloc(sizeof image);
    memcpy(other, image, sizeof image);
    other[5000] ^= 0x10;
    write_pkg(pbad, other);
    free(other);
    r = run("--pkg", pbad, pc, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "pkg.data_mismatch"));
    assert_non_null(strstr(r.out, "first difference at offset 5000"));
    run_free(&r);
    r = run("--json", "--pkg", pbad, pc, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "\"event\":\"package\""));
    assert_non_null(strstr(r.out, "\"first_diff\":5000"));
    run_free(&r);
    /* not a zip at all */
    static const char notzip[] = "PK\3\4 this is not a zip";
    write_file(pz, notzip, sizeof notzip - 1);
    r = run("--pkg", pz, pc, NULL);
    assert_int_equal(r.code, 2);
    assert_int_equal(lines(r.err), 1);
    assert_true(strncmp(r.err, "dfudecode: ", 11) == 0);
    assert_non_null(strstr(r.err, pz));
    assert_int_equal(r.out_len, 0);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(missing_and_empty),
        cmocka_unit_test(random_bytes),
        cmocka_unit_test(megabyte_frame_without_end),
        cmocka_unit_test(complete_raw_merged_and_two_files),
        cmocka_unit_test(complete_pcap_json),
        cmocka_unit_test(truncated_pcap),
        cmocka_unit_test(pcap_file_and_pipe),
        cmocka_unit_test(interrupted_and_bad_init),
        cmocka_unit_test(pkg_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
