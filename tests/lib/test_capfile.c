/* test_capfile.c - capture files: pcap writer/reader round trips (link type
 * RTAC serial, layout in capfile.h), a hand-built pcapng, raw chunks,
 * sniffing, truncation at every byte, and a SIGKILLed writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dfukit/capfile.h"
#include "dfukit/rd.h"

static char g_dir[256];

static const char *tmp_path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Whole file into a malloc'd buffer (test files are small). */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int setup_dir(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/dk_capfile_XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define T0 1700000000123456LL

/* The reference capture: a line change, one frame each way, then a
 * 150000-byte burst that must be split into snaplen-sized packets. */
static uint8_t g_big[150000];

static void write_reference(const char *path)
{
    for (size_t i = 0; i < sizeof g_big; i++)
        g_big[i] = (uint8_t)(i * 7 + 3);
    dk_err e = { 0 };
    dk_cap_writer *w = dk_cap_create(path, &e);
    assert_non_null(w);
    static const uint8_t ping[] = { 0x09, 0x01, 0xC0 };
    static const uint8_t pong[] = { 0x60, 0x09, 0x01, 0x01, 0xC0 };
    assert_int_equal(dk_cap_write_lines(w, T0, DK_LINE_DTR | DK_LINE_RTS, &e), DK_OK);
    assert_int_equal(dk_cap_write(w, T0 + 1, DK_DIR_HOST, ping, sizeof ping, &e), DK_OK);
    dk_cap_set_lines(w, DK_LINE_CTS | DK_LINE_DTR);
    assert_int_equal(dk_cap_write(w, T0 + 500000, DK_DIR_TARGET, pong, sizeof pong, &e), DK_OK);
    assert_int_equal(dk_cap_write(w, T0 + 2000000, DK_DIR_HOST, g_big, sizeof g_big, &e), DK_OK);
    assert_int_equal(dk_cap_close_writer(w, &e), DK_OK);
}

static void test_write_read_back(void **state)
{
    (void)state;
    const char *path = tmp_path("ref.pcap");
    write_reference(path);

    dk_err e = { 0 };
    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    assert_int_equal(dk_cap_format_of(r), DK_FMT_PCAP);
    dk_chunk c;

    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.index, 1);
    assert_int_equal(c.file_off, 24);
    assert_int_equal(c.event, DK_CAP_EV_STATUS);
    assert_int_equal(c.dir, DK_DIR_UNKNOWN);
    assert_int_equal(c.lines, DK_LINE_DTR | DK_LINE_RTS);
    assert_int_equal(c.len, 0);
    assert_true(c.t_us == T0);

    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.index, 2);
    assert_int_equal(c.file_off, 24 + 16 + 12);
    assert_int_equal(c.event, DK_CAP_EV_TX);
    assert_int_equal(c.dir, DK_DIR_HOST);
    assert_int_equal(c.lines, DK_LINE_DTR | DK_LINE_RTS);
    assert_true(c.t_us == T0 + 1);
    assert_int_equal(c.len, 3);
    assert_memory_equal(c.data, "\x09\x01\xC0", 3);

    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.file_off, 24 + 2 * (16 + 12) + 3);
    assert_int_equal(c.dir, DK_DIR_TARGET);
    assert_int_equal(c.event, DK_CAP_EV_RX);
    assert_int_equal(c.lines, DK_LINE_CTS | DK_LINE_DTR);
    assert_true(c.t_us == T0 + 500000);
    assert_int_equal(c.len, 5);
    assert_memory_equal(c.data, "\x60\x09\x01\x01\xC0", 5);

    /* the burst: split at 65535 - 12 bytes of data per packet */
    size_t got = 0, packets = 0;
    uint64_t expect_off = 24 + 3 * (16 + 12) + 3 + 5;
    while (got < sizeof g_big) {
        assert_int_equal(dk_cap_next(r, &c, &e), 1);
        packets++;
        assert_int_equal(c.dir, DK_DIR_HOST);
        assert_true(c.t_us == T0 + 2000000);
        assert_int_equal(c.file_off, expect_off);
        assert_true(c.len <= 65535 - DK_CAP_HDR_LEN);
        assert_true(got + c.len <= sizeof g_big);
        assert_memory_equal(c.data, g_big + got, c.len);
        got += c.len;
        expect_off += 16 + 12 + c.len;
    }
    assert_int_equal(packets, 3);
    assert_int_equal(dk_cap_next(r, &c, &e), 0);
    assert_int_equal(dk_cap_next(r, &c, &e), 0);
    dk_cap_close(r);
}

/* The 12-byte RTAC header repeats the timestamp, big-endian. */
static void test_header_bytes(void **state)
{
    (void)state;
    const char *path = tmp_path("hdr.pcap");
    write_reference(path);
    size_t n;
    uint8_t *b = read_file(path, &n);
    dk_rd r = dk_rd_make(b, n);
    assert_int_equal(dk_rd_le32(&r), 0xA1B2C3D4u); /* host-order microsecond pcap */
    r.pos = 20;
    assert_int_equal(dk_rd_le32(&r), DK_LINKTYPE);
    r.pos = 24 + (16 + 12) + 16; /* second packet's RTAC header */
    assert_int_equal(dk_rd_be32(&r), (uint32_t)(T0 / 1000000));
    assert_int_equal(dk_rd_be32(&r), (uint32_t)(T0 % 1000000) + 1);
    assert_int_equal(dk_rd_u8(&r), DK_CAP_EV_TX);
    assert_int_equal(dk_rd_u8(&r), DK_LINE_DTR | DK_LINE_RTS);
    assert_int_equal(dk_rd_le16(&r), 0);
    assert_true(dk_rd_ok(&r));
    free(b);
}

static void test_write_errors_and_now(void **state)
{
    (void)state;
    dk_err e = { 0 };
    assert_null(dk_cap_create(tmp_path("no/such/dir.pcap"), &e));
    assert_int_equal(e.status, DK_E_IO);
    assert_non_null(strstr(e.msg, "No such file"));
    if (access("/dev/full", W_OK) == 0) { /* a full disk: the header write fails */
        memset(&e, 0, sizeof e);
        assert_null(dk_cap_create("/dev/full", &e));
        assert_int_equal(e.status, DK_E_IO);
        assert_non_null(strstr(e.msg, "No space"));
    }

    const char *path = tmp_path("now.pcap");
    dk_cap_writer *w = dk_cap_create(path, &e);
    assert_non_null(w);
    assert_int_equal(dk_cap_write(w, 5, DK_DIR_UNKNOWN, (const uint8_t *)"x", 1, &e), DK_E_USAGE);
    int64_t before = dk_now_us();
    assert_int_equal(dk_cap_write(w, -1, DK_DIR_HOST, (const uint8_t *)"x", 1, &e), DK_OK);
    int64_t after = dk_now_us();
    assert_int_equal(dk_cap_write(w, 7, DK_DIR_TARGET, NULL, 0, &e), DK_OK);
    assert_int_equal(dk_cap_close_writer(w, &e), DK_OK);

    dk_cap_reader *r = dk_cap_open(path, DK_FMT_PCAP, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    assert_int_equal(dk_cap_next(r, &c, &e), 1); /* the UNKNOWN write left nothing */
    assert_int_equal(c.len, 1);
    assert_true(c.t_us >= before && c.t_us <= after);
    assert_int_equal(dk_cap_next(r, &c, &e), 1); /* empty data: one empty packet */
    assert_int_equal(c.len, 0);
    assert_int_equal(c.dir, DK_DIR_TARGET);
    assert_true(c.t_us == 7);
    assert_int_equal(dk_cap_next(r, &c, &e), 0);
    dk_cap_close(r);
}

/* Path "-": the pcap goes to stdout, and stdout stays usable afterwards. */
static void test_write_stdout(void **state)
{
    (void)state;
    const char *path = tmp_path("stdout.pcap");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    dk_err e = { 0 };
    dk_cap_writer *w = dk_cap_create("-", &e);
    dk_status st1 = w ? dk_cap_write(w, T0, DK_DIR_TARGET, (const uint8_t *)"\x60\x01\x01\xC0", 4, &e)
                      : DK_E_IO;
    dk_status st2 = w ? dk_cap_close_writer(w, &e) : DK_E_IO;
    int still = fputs("", stdout) >= 0 && fflush(stdout) == 0;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_non_null(w);
    assert_int_equal(st1, DK_OK);
    assert_int_equal(st2, DK_OK);
    assert_true(still);

    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.dir, DK_DIR_TARGET);
    assert_int_equal(c.len, 4);
    assert_memory_equal(c.data, "\x60\x01\x01\xC0", 4);
    assert_int_equal(dk_cap_next(r, &c, &e), 0);
    dk_cap_close(r);
}

/* ---- pcapng built by hand: SHB, IDB (link type 250), two EPBs ---- */

static uint8_t *put_u16le(uint8_t *p, uint16_t v) { return dk_put_le16(p, v); }

static size_t epb(uint8_t *p, uint64_t t_us, uint8_t ev, uint8_t lines, const uint8_t *d,
                  size_t n, bool comment)
{
    uint8_t pkt[64];
    uint8_t *q = dk_put_be32(pkt, (uint32_t)(t_us / 1000000));
    q = dk_put_be32(q, (uint32_t)(t_us % 1000000));
    *q++ = ev;
    *q++ = lines;
    *q++ = 0;
    *q++ = 0;
    memcpy(q, d, n);
    size_t caplen = DK_CAP_HDR_LEN + n, padded = (caplen + 3) & ~(size_t)3;
    size_t opts = comment ? 4 + 8 + 4 : 0; /* opt_comment "dfukit\0\0", opt_endofopt */
    size_t total = 28 + padded + opts + 4;
    uint8_t *s = p;
    p = dk_put_le32(p, 6);
    p = dk_put_le32(p, (uint32_t)total);
    p = dk_put_le32(p, 0);                     /* interface */
    p = dk_put_le32(p, (uint32_t)(t_us >> 32)); /* default resolution: microseconds */
    p = dk_put_le32(p, (uint32_t)t_us);
    p = dk_put_le32(p, (uint32_t)caplen);
    p = dk_put_le32(p, (uint32_t)caplen);
    memset(p, 0, padded);
    memcpy(p, pkt, caplen);
    p += padded;
    if (comment) {
        p = put_u16le(p, 1);
        p = put_u16le(p, 6);
        memcpy(p, "dfukit\0\0", 8);
        p += 8;
        p = dk_put_le32(p, 0);
    }
    p = dk_put_le32(p, (uint32_t)total);
    assert_int_equal((size_t)(p - s), total);
    return total;
}

static void test_pcapng_by_hand(void **state)
{
    (void)state;
    uint8_t f[512];
    uint8_t *p = f;
    /* SHB: type, len 28, byte-order magic, version 1.0, section length -1 */
    p = dk_put_le32(p, 0x0A0D0D0A);
    p = dk_put_le32(p, 28);
    p = dk_put_le32(p, 0x1A2B3C4D);
    p = put_u16le(p, 1);
    p = put_u16le(p, 0);
    p = dk_put_le32(p, 0xFFFFFFFF);
    p = dk_put_le32(p, 0xFFFFFFFF);
    p = dk_put_le32(p, 28);
    /* IDB: type 1, len 20, link type, reserved, snaplen */
    p = dk_put_le32(p, 1);
    p = dk_put_le32(p, 20);
    p = put_u16le(p, DK_LINKTYPE);
    p = put_u16le(p, 0);
    p = dk_put_le32(p, 65535);
    p = dk_put_le32(p, 20);
    size_t off1 = (size_t)(p - f);
    static const uint8_t req[] = { 0x06, 0x01, 0xC0 };
    static const uint8_t rsp[] = { 0x60, 0x06, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0 };
    p += epb(p, (uint64_t)T0, DK_CAP_EV_TX, DK_LINE_RTS, req, sizeof req, true);
    /* an Interface Statistics Block that libpcap skips */
    p = dk_put_le32(p, 5);
    p = dk_put_le32(p, 24);
    p = dk_put_le32(p, 0);
    p = dk_put_le32(p, 0);
    p = dk_put_le32(p, 0);
    p = dk_put_le32(p, 24);
    size_t off2 = (size_t)(p - f);
    p += epb(p, (uint64_t)T0 + 1234, DK_CAP_EV_RX, DK_LINE_CTS, rsp, sizeof rsp, false);
    const char *path = tmp_path("hand.pcapng");
    write_file(path, f, (size_t)(p - f));

    assert_int_equal(dk_cap_sniff(f, (size_t)(p - f)), DK_FMT_PCAP);
    dk_err e = { 0 };
    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.dir, DK_DIR_HOST);
    assert_int_equal(c.lines, DK_LINE_RTS);
    assert_true(c.t_us == T0);
    assert_int_equal(c.len, sizeof req);
    assert_memory_equal(c.data, req, sizeof req);
    assert_int_equal(c.file_off, off1);
    assert_int_equal(c.index, 1);
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.dir, DK_DIR_TARGET);
    assert_int_equal(c.event, DK_CAP_EV_RX);
    assert_int_equal(c.lines, DK_LINE_CTS);
    assert_true(c.t_us == T0 + 1234);
    assert_int_equal(c.len, sizeof rsp);
    assert_memory_equal(c.data, rsp, sizeof rsp);
    assert_int_equal(c.file_off, off2);
    assert_int_equal(dk_cap_next(r, &c, &e), 0);
    dk_cap_close(r);

    /* the same file with an Ethernet interface: refused, naming the type */
    f[off1 - 12] = 1;
    f[off1 - 11] = 0;
    write_file(path, f, (size_t)(p - f));
    r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_null(r);
    assert_int_equal(e.status, DK_E_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "link type 1 (EN10MB)"));
}

/* Cut a 3-packet pcap at every byte: an error with the offset of the cut
 * record, or a clean end on a record boundary; never a crash. */
static void test_truncated_every_byte(void **state)
{
    (void)state;
    const char *full = tmp_path("small.pcap");
    dk_err e = { 0 };
    dk_cap_writer *w = dk_cap_create(full, &e);
    assert_non_null(w);
    assert_int_equal(dk_cap_write(w, T0, DK_DIR_HOST, (const uint8_t *)"\x09\x07\xC0", 3, &e), DK_OK);
    assert_int_equal(dk_cap_write(w, T0 + 9, DK_DIR_TARGET, (const uint8_t *)"\x60\x09\x01\x07\xC0", 5, &e), DK_OK);
    assert_int_equal(dk_cap_write_lines(w, T0 + 10, DK_LINE_DSR, &e), DK_OK);
    assert_int_equal(dk_cap_close_writer(w, &e), DK_OK);
    size_t n;
    uint8_t *b = read_file(full, &n);
    const size_t rec[] = { 24, 24 + 31, 24 + 31 + 33, 24 + 31 + 33 + 28 };
    assert_int_equal(n, rec[3]);

    const char *cut = tmp_path("cut.pcap");
    for (size_t len = 0; len <= n; len++) {
        write_file(cut, b, len);
        for (int pass = 0; pass < 2; pass++) {
            dk_cap_format fmt = pass ? DK_FMT_PCAP : DK_FMT_AUTO;
            memset(&e, 0, sizeof e);
            dk_cap_reader *r = dk_cap_open(cut, fmt, DK_DIR_UNKNOWN, &e);
            if (len == 0) {
                assert_null(r);
                assert_true(e.has_offset && e.offset == 0);
                assert_non_null(strstr(e.msg, "empty"));
                continue;
            }
            if (len < 4 && fmt == DK_FMT_AUTO) { /* magic not visible: raw bytes */
                assert_non_null(r);
                assert_int_equal(dk_cap_format_of(r), DK_FMT_RAW);
                dk_cap_close(r);
                continue;
            }
            if (len < 24) {
                assert_null(r);
                assert_int_equal(e.status, DK_E_FORMAT);
                assert_true(e.has_offset && e.offset == 0);
                assert_non_null(strstr(e.msg, "pcap"));
                continue;
            }
            assert_non_null(r);
            dk_chunk c;
            int rc;
            size_t got = 0;
            while ((rc = dk_cap_next(r, &c, &e)) == 1) {
                assert_int_equal(c.file_off, rec[got]);
                got++;
            }
            size_t whole = 0;
            while (whole < 3 && rec[whole + 1] <= len)
                whole++;
            assert_int_equal(got, whole);
            if (len == rec[whole]) {
                assert_int_equal(rc, 0);
            } else {
                assert_true(rc < 0);
                assert_true(e.has_offset);
                assert_int_equal(e.offset, rec[whole]);
                assert_null(strchr(e.msg, '\n'));
                assert_int_equal(dk_cap_next(r, &c, &e), 0); /* then at its end */
            }
            dk_cap_close(r);
        }
    }
    free(b);
}

/* A packet shorter than the RTAC header is reported, after the good ones. */
static void test_short_rtac_packet(void **state)
{
    (void)state;
    uint8_t f[128];
    uint8_t *p = f;
    p = dk_put_le32(p, 0xA1B2C3D4);
    p = put_u16le(p, 2);
    p = put_u16le(p, 4);
    p = dk_put_le32(p, 0);
    p = dk_put_le32(p, 0);
    p = dk_put_le32(p, 65535);
    p = dk_put_le32(p, DK_LINKTYPE);
    /* good packet: 12-byte header + 1 byte */
    p = dk_put_le32(p, 100);
    p = dk_put_le32(p, 5);
    p = dk_put_le32(p, 13);
    p = dk_put_le32(p, 13);
    memset(p, 0, 13);
    p[8] = DK_CAP_EV_RX;
    p[12] = 0x42;
    p += 13;
    size_t bad_off = (size_t)(p - f);
    p = dk_put_le32(p, 101);
    p = dk_put_le32(p, 0);
    p = dk_put_le32(p, 5);
    p = dk_put_le32(p, 5);
    memset(p, 0, 5);
    p += 5;
    const char *path = tmp_path("short.pcap");
    write_file(path, f, (size_t)(p - f));
    dk_err e = { 0 };
    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_true(c.t_us == 100000005);
    assert_int_equal(c.dir, DK_DIR_TARGET);
    assert_int_equal(c.len, 1);
    assert_int_equal(c.data[0], 0x42);
    assert_true(dk_cap_next(r, &c, &e) < 0);
    assert_int_equal(e.status, DK_E_FORMAT);
    assert_true(e.has_offset);
    assert_int_equal(e.offset, bad_off);
    assert_non_null(strstr(e.msg, "packet 2"));
    dk_cap_close(r);
}

static void test_raw_chunks(void **state)
{
    (void)state;
    static uint8_t data[150000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)((i * 2654435761u) >> 13); /* binary noise, NULs included */
    const char *path = tmp_path("raw.bin");
    write_file(path, data, sizeof data);

    for (int d = 0; d < 3; d++) {
        dk_dir dir = d == 0 ? DK_DIR_UNKNOWN : d == 1 ? DK_DIR_HOST : DK_DIR_TARGET;
        dk_err e = { 0 };
        dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, dir, &e);
        assert_non_null(r);
        assert_int_equal(dk_cap_format_of(r), DK_FMT_RAW);
        dk_chunk c;
        size_t got = 0;
        uint64_t idx = 0;
        while (dk_cap_next(r, &c, &e) == 1) {
            assert_int_equal(c.index, ++idx);
            assert_int_equal(c.file_off, got);
            assert_int_equal(c.dir, dir);
            assert_int_equal(c.event, dir == DK_DIR_TARGET ? DK_CAP_EV_RX : DK_CAP_EV_TX);
            assert_true(c.t_us == -1);
            assert_true(c.len > 0 && c.len <= 64 * 1024);
            assert_true(got + c.len <= sizeof data);
            assert_memory_equal(c.data, data + got, c.len);
            got += c.len;
        }
        assert_int_equal(got, sizeof data);
        assert_int_equal(idx, 3); /* 64 KiB chunks */
        dk_cap_close(r);
    }
}

static void test_open_errors(void **state)
{
    (void)state;
    dk_err e = { 0 };
    assert_null(dk_cap_open(tmp_path("missing"), DK_FMT_AUTO, DK_DIR_UNKNOWN, &e));
    assert_int_equal(e.status, DK_E_IO);
    assert_null(dk_cap_open(g_dir, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e)); /* a directory */
    assert_int_equal(e.status, DK_E_IO);

    const char *empty = tmp_path("empty");
    write_file(empty, "", 0);
    for (int f = DK_FMT_AUTO; f <= DK_FMT_PCAP; f++) {
        memset(&e, 0, sizeof e);
        assert_null(dk_cap_open(empty, (dk_cap_format)f, DK_DIR_UNKNOWN, &e));
        assert_true(e.has_offset && e.offset == 0);
        assert_non_null(strstr(e.msg, "empty file"));
    }

    const char *log = tmp_path("log.txt");
    const char *txt = "2024-01-01 12:00:00 DEBUG SLIP: --> [9, 1]\n"
                      "2024-01-01 12:00:00 DEBUG SLIP: <-- [96, 9, 1, 1]\n";
    write_file(log, txt, strlen(txt));
    assert_null(dk_cap_open(log, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e));
    assert_int_equal(e.status, DK_E_UNSUPPORTED);
    assert_null(dk_cap_open(log, DK_FMT_LOG, DK_DIR_UNKNOWN, &e));
    assert_int_equal(e.status, DK_E_UNSUPPORTED);
    /* forced raw: a text file is just bytes */
    dk_cap_reader *r = dk_cap_open(log, DK_FMT_RAW, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.len, strlen(txt));
    dk_cap_close(r);
    /* forced pcap on something else: a header error at offset 0 */
    memset(&e, 0, sizeof e);
    assert_null(dk_cap_open(log, DK_FMT_PCAP, DK_DIR_UNKNOWN, &e));
    assert_int_equal(e.status, DK_E_FORMAT);
    assert_true(e.has_offset && e.offset == 0);
}

static void test_sniff(void **state)
{
    (void)state;
    static const uint8_t le_us[] = { 0xD4, 0xC3, 0xB2, 0xA1, 2, 0 };
    static const uint8_t be_us[] = { 0xA1, 0xB2, 0xC3, 0xD4, 0, 2 };
    static const uint8_t le_ns[] = { 0x4D, 0x3C, 0xB2, 0xA1 };
    static const uint8_t be_ns[] = { 0xA1, 0xB2, 0x3C, 0x4D };
    static const uint8_t ng[] = { 0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0 };
    assert_int_equal(dk_cap_sniff(le_us, sizeof le_us), DK_FMT_PCAP);
    assert_int_equal(dk_cap_sniff(be_us, sizeof be_us), DK_FMT_PCAP);
    assert_int_equal(dk_cap_sniff(le_ns, sizeof le_ns), DK_FMT_PCAP);
    assert_int_equal(dk_cap_sniff(be_ns, sizeof be_ns), DK_FMT_PCAP);
    assert_int_equal(dk_cap_sniff(ng, sizeof ng), DK_FMT_PCAP);
    assert_int_equal(dk_cap_sniff(le_us, 3), DK_FMT_RAW);
    assert_int_equal(dk_cap_sniff(NULL, 0), DK_FMT_RAW);

    /* SLIP traffic: the request and response of a SELECT, escapes and all */
    static const uint8_t dfu[] = { 0x06, 0x02, 0xC0, 0x60, 0x06, 0x01, 0x00, 0x10, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0xDB, 0xDC, 0x00, 0x00, 0x00, 0xC0 };
    assert_int_equal(dk_cap_sniff(dfu, sizeof dfu), DK_FMT_RAW);

    const char *log = "I 12:00:00.001 PING id=1\nI 12:00:00.002 <- 60 09 01 01\n";
    assert_int_equal(dk_cap_sniff((const uint8_t *)log, strlen(log)), DK_FMT_LOG);
    const char *utf8 = "t=0.1 \xe2\x96\xb6 sent 09 01\r\n";
    assert_int_equal(dk_cap_sniff((const uint8_t *)utf8, strlen(utf8)), DK_FMT_LOG);

    /* 512 bytes of letters with no line break are not a log */
    uint8_t blob[512];
    memset(blob, 'A', sizeof blob);
    assert_int_equal(dk_cap_sniff(blob, sizeof blob), DK_FMT_RAW);
    blob[100] = '\n';
    assert_int_equal(dk_cap_sniff(blob, sizeof blob), DK_FMT_LOG);
    /* words without a line break: a log a web page ran into one line */
    uint8_t words[600];
    for (size_t i = 0; i < sizeof words; i++)
        words[i] = i % 8 == 7 ? ' ' : 'a' + (uint8_t)(i % 7);
    assert_int_equal(dk_cap_sniff(words, sizeof words), DK_FMT_LOG);
    for (size_t i = 0; i < sizeof words; i++) /* a space every 60 bytes: not words */
        words[i] = i % 60 == 59 ? ' ' : 'a';
    assert_int_equal(dk_cap_sniff(words, sizeof words), DK_FMT_RAW);
    blob[200] = 0; /* a NUL is never text */
    assert_int_equal(dk_cap_sniff(blob, sizeof blob), DK_FMT_RAW);
    blob[200] = 'A';
    for (int i = 300; i < 330; i++) /* 30 binary bytes of 512: over 1 in 20 */
        blob[i] = 0x81;
    assert_int_equal(dk_cap_sniff(blob, sizeof blob), DK_FMT_RAW);
}

/* tests/data/cap/: the small bad inputs gen.py writes, each with what the
 * reader must make of it (the same list as gen.py's comment). */
static void test_bad_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        dk_status open_st;   /* DK_OK: opens */
        dk_cap_format fmt;
        int packets;
        dk_status end_st;    /* DK_OK: clean end */
        int64_t err_off;     /* -1: any */
        const char *needle;  /* in the error message */
    } cases[] = {
        { "empty.bin", DK_E_TRUNCATED, 0, 0, 0, 0, "empty file" },
        { "random.bin", DK_OK, DK_FMT_RAW, 1, DK_OK, 0, NULL },
        { "log.txt", DK_E_UNSUPPORTED, 0, 0, 0, 0, "log" },
        { "pcap-header-only.pcap", DK_OK, DK_FMT_PCAP, 0, DK_OK, 0, NULL },
        { "pcap-cut-header.pcap", DK_E_FORMAT, 0, 0, 0, 0, "header" },
        { "pcap-cut-rechdr.pcap", DK_OK, DK_FMT_PCAP, 1, DK_E_TRUNCATED, 55, "truncated" },
        { "pcap-cut-data.pcap", DK_OK, DK_FMT_PCAP, 1, DK_E_TRUNCATED, 55, "truncated" },
        { "pcap-short-rtac.pcap", DK_OK, DK_FMT_PCAP, 1, DK_E_FORMAT, 55, "RTAC" },
        { "pcap-huge-caplen.pcap", DK_OK, DK_FMT_PCAP, 0, DK_E_FORMAT, 24, "bad pcap record" },
        { "pcap-ethernet.pcap", DK_E_UNSUPPORTED, 0, 0, 0, 0, "link type 1" },
        { "pcap-be-nsec.pcap", DK_OK, DK_FMT_PCAP, 2, DK_OK, 0, NULL },
        { "pcapng-be-isb.pcapng", DK_OK, DK_FMT_PCAP, 2, DK_OK, 0, NULL },
        { "pcapng-cut.pcapng", DK_OK, DK_FMT_PCAP, 1, DK_E_TRUNCATED, -1, "pcapng" },
        { "pcapng-ethernet.pcapng", DK_E_UNSUPPORTED, 0, 0, 0, 0, "link type 1" },
        { "pcapng-huge-time.pcapng", DK_OK, DK_FMT_PCAP, 0, DK_E_FORMAT, 48, "time stamp" },
        /* time stamps whose microseconds do not fit (they overflowed a signed
         * multiply) or whose fraction is a second or more */
        { "pcapng-ts-overflow.pcapng", DK_OK, DK_FMT_PCAP, 1, DK_E_FORMAT, 96, "time stamp" },
        { "pcapng-ts-tsresol.pcapng", DK_OK, DK_FMT_PCAP, 1, DK_E_FORMAT, 108, "time stamp" },
        { "pcap-nsec-frac.pcap", DK_OK, DK_FMT_PCAP, 1, DK_E_FORMAT, 55, "time stamp" },
    };
    const char *data = getenv("DK_TEST_DATA");
    if (!data)
        skip();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/cap/%s", data, cases[i].name);
        dk_err e;
        memset(&e, 0, sizeof e);
        dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
        if (cases[i].open_st != DK_OK) {
            if (r)
                fail_msg("%s: opened", cases[i].name);
            assert_int_equal(e.status, cases[i].open_st);
            assert_true(e.has_offset && e.offset == 0);
            if (!strstr(e.msg, cases[i].needle))
                fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].name, e.msg, cases[i].needle);
            continue;
        }
        if (!r)
            fail_msg("%s: %s", cases[i].name, e.msg);
        assert_int_equal(dk_cap_format_of(r), cases[i].fmt);
        dk_chunk c;
        int n = 0, rc;
        while ((rc = dk_cap_next(r, &c, &e)) == 1) {
            if (cases[i].fmt == DK_FMT_PCAP) /* host first, then target */
                assert_int_equal(c.dir, n == 0 ? DK_DIR_HOST : DK_DIR_TARGET);
            n++;
        }
        if (n != cases[i].packets)
            fail_msg("%s: %d packets, want %d", cases[i].name, n, cases[i].packets);
        if (cases[i].end_st == DK_OK) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, cases[i].end_st);
            assert_int_equal(e.status, cases[i].end_st);
            assert_true(e.has_offset);
            if (cases[i].err_off >= 0)
                assert_int_equal(e.offset, cases[i].err_off);
            if (!strstr(e.msg, cases[i].needle))
                fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].name, e.msg, cases[i].needle);
        }
        dk_cap_close(r);
    }
    /* nanosecond timestamps come out in microseconds */
    char path[1024];
    snprintf(path, sizeof path, "%s/cap/pcap-be-nsec.pcap", data);
    dk_err e;
    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_true(c.t_us == 1700000000000001LL);
    assert_int_equal(c.lines, 0x18);
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_true(c.t_us == 1700000000000002LL);
    assert_int_equal(c.len, 5);
    dk_cap_close(r);
    /* a big-endian pcapng: packet blocks found around a statistics block */
    snprintf(path, sizeof path, "%s/cap/pcapng-be-isb.pcapng", data);
    r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.file_off, 48);
    assert_true(c.t_us == 1700000000000000LL);
    assert_int_equal(dk_cap_next(r, &c, &e), 1);
    assert_int_equal(c.file_off, 120);
    assert_true(c.t_us == 1700000000000005LL);
    assert_int_equal(c.len, 5);
    assert_int_equal(dk_cap_next(r, &c, &e), 0);
    dk_cap_close(r);
}

/* Run fn in a child with fd 0 replaced; the child's exit code is the result. */
static int in_child_with_stdin(int fd, int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, STDIN_FILENO);
        close(fd);
        _exit(fn());
    }
    close(fd);
    int st = -1;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int count_stdin(dk_cap_format fmt)
{
    dk_err e = { 0 };
    dk_cap_reader *r = dk_cap_open("-", fmt, DK_DIR_UNKNOWN, &e);
    if (!r)
        return e.status == DK_E_UNSUPPORTED ? 90 : 91;
    dk_chunk c;
    int n = 0;
    size_t bytes = 0;
    int rc;
    while ((rc = dk_cap_next(r, &c, &e)) == 1) {
        n++;
        bytes += c.len;
    }
    int fm = dk_cap_format_of(r);
    dk_cap_close(r);
    if (rc < 0)
        return 92;
    return fm == DK_FMT_PCAP ? 10 + n : (int)(bytes % 50) + 40;
}
static int stdin_auto(void) { return count_stdin(DK_FMT_AUTO); }
static int stdin_pcap(void) { return count_stdin(DK_FMT_PCAP); }

static int pipe_of(const void *data, size_t len)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_true(len < 60000); /* fits the pipe buffer */
    assert_int_equal(write(fds[1], data, len), (ssize_t)len);
    close(fds[1]);
    return fds[0];
}

/* "-" reads stdin: a file or a pipe, sniffed from the same head either way
 * (a pcap on a pipe used to need --format pcap). */
static void test_stdin(void **state)
{
    (void)state;
    const char *path = tmp_path("in.pcap");
    write_reference(path); /* 6 packets */
    assert_int_equal(in_child_with_stdin(open(path, O_RDONLY), stdin_auto), 16);
    size_t n;
    uint8_t *b = read_file(path, &n);
    uint8_t small[200];
    memcpy(small, b, 24 + 2 * 28 + 3); /* header and the first two packets */
    assert_int_equal(in_child_with_stdin(pipe_of(small, 83), stdin_pcap), 12);
    assert_int_equal(in_child_with_stdin(pipe_of(small, 83), stdin_auto), 12);
    free(b);
    static const uint8_t raw[] = { 0x09, 0x01, 0xC0, 0x60, 0x09, 0x01, 0x01, 0xC0, 0x00 };
    assert_int_equal(in_child_with_stdin(pipe_of(raw, sizeof raw), stdin_auto), 40 + 9);
}

/* SIGKILL durability: a writer killed after K packets (and one killed while
 * writing as fast as it can) leaves a file that reads to a clean end. */
static void killed_writer(const char *path, int k, bool keep_writing)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dk_err e;
        dk_cap_writer *w = dk_cap_create(path, &e);
        if (!w)
            _exit(1);
        uint8_t d[100];
        for (int i = 0;; i++) {
            memset(d, i & 0xFF, sizeof d);
            if (dk_cap_write(w, T0 + i, (i & 1) ? DK_DIR_TARGET : DK_DIR_HOST, d,
                             (size_t)(i % 100) + 1, &e) != DK_OK)
                _exit(2);
            if (i + 1 == k) {
                if (write(fds[1], "k", 1) != 1)
                    _exit(3);
                if (!keep_writing)
                    for (;;)
                        pause();
            }
        }
    }
    close(fds[1]);
    char ch;
    assert_int_equal(read(fds[0], &ch, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    dk_err e = { 0 };
    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    assert_non_null(r);
    dk_chunk c;
    int n = 0, rc;
    while ((rc = dk_cap_next(r, &c, &e)) == 1) {
        assert_int_equal(c.len, (size_t)(n % 100) + 1);
        assert_int_equal(c.data[0], n & 0xFF);
        assert_int_equal(c.dir, (n & 1) ? DK_DIR_TARGET : DK_DIR_HOST);
        n++;
    }
    assert_int_equal(rc, 0);
    if (keep_writing)
        assert_true(n >= k);
    else
        assert_int_equal(n, k);
    dk_cap_close(r);
}

static void test_sigkill(void **state)
{
    (void)state;
    killed_writer(tmp_path("killed1.pcap"), 37, false);
    killed_writer(tmp_path("killed2.pcap"), 500, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read_back),
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_write_errors_and_now),
        cmocka_unit_test(test_write_stdout),
        cmocka_unit_test(test_pcapng_by_hand),
        cmocka_unit_test(test_truncated_every_byte),
        cmocka_unit_test(test_short_rtac_packet),
        cmocka_unit_test(test_raw_chunks),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_sigkill),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
