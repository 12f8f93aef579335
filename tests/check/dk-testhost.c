/* dk-testhost.c - a small Secure DFU host for dfucheck's tests, with bugs on
 * demand.  Without --bug it passes every dfucheck case; each bug is one that
 * real hosts have and that one case is there to catch.
 *
 *   dk-testhost -p PORT --pkg PKG [--prn N] [--bug BUG]
 *
 *   no-unescape   answers are cut at 0xC0 but their escapes are left in
 *                 (a CRC holding 0xC0 or 0xDB is then read wrongly)
 *   whole-object  resuming inside an object, sends a whole object's worth
 *                 of bytes from the offset, then trusts its own count
 *   no-resume     refuses to go on when the target holds data (SELECT data
 *                 offset > 0): "cannot resume"
 *
 * Per attempt (up to 8 in a run; any timeout or mismatch starts a new one):
 * PRN set, SELECT command (same length and CRC: EXECUTE again; a matching
 * prefix: the rest; else CREATE), SELECT data (matching and inside an object:
 * the rest; matching at a boundary: EXECUTE again; not matching inside an
 * object: CREATE it again; not matching at a boundary: start over with the
 * init packet), then CREATE / WRITE / CRC_GET / EXECUTE per object.  A target
 * that refuses (result != SUCCESS) ends the run: exit 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfukit/crc.h"
#include "dfukit/pkg.h"
#include "dfukit/rd.h"
#include "dfukit/serial.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"

#define OBJ 4096u
#define CHUNK 64u
#define RSP_MS 2000

enum { RETRY = -2, FATAL = -1 }; /* negative: a length is never one */

static dk_serial *port;
static bool no_unescape, whole_object, no_resume;
static unsigned prn;
static const uint8_t *dat, *img;
static size_t dat_len, img_len;
static bool force_create;

/* p holds at least 4 bytes (the callers check the answer's length). */
static uint32_t le32(const uint8_t *p)
{
    dk_rd r = dk_rd_make(p, 4);
    return dk_rd_le32(&r);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_msg(const uint8_t *m, size_t n)
{
    uint8_t buf[DK_SLIP_MAX_ENCODED(CHUNK + 8)];
    size_t len = dk_slip_encode(m, n, buf);
    dk_err err;
    if (dk_serial_write(port, buf, len, &err) != DK_OK) {
        fprintf(stderr, "dk-testhost: write: %s\n", err.msg);
        exit(1);
    }
}

/* The next frame within ms; its length, or -1. */
static int next_frame(uint8_t *out, size_t cap, int ms)
{
    static uint8_t in[4096], raw[512], dbuf[512];
    static size_t in_pos, in_len, raw_len;
    static dk_slip_dec dec;
    static bool init;
    if (!init) {
        dk_slip_dec_init(&dec, dbuf, sizeof dbuf);
        init = true;
    }
    int64_t end = now_ms() + ms;
    for (;;) {
        while (in_pos < in_len) {
            if (no_unescape) { /* the bug: split at END, keep the escapes */
                uint8_t b = in[in_pos++];
                if (b != DK_SLIP_END) {
                    if (raw_len < sizeof raw)
                        raw[raw_len++] = b;
                    continue;
                }
                size_t n = raw_len < cap ? raw_len : cap;
                memcpy(out, raw, n);
                raw_len = 0;
                if (n)
                    return (int)n;
                continue;
            }
            size_t used;
            dk_slip_event ev;
            bool got = dk_slip_dec_next(&dec, in + in_pos, in_len - in_pos, &used, &ev);
            in_pos += used;
            if (got && ev.kind == DK_SLIP_FRAME && ev.len <= cap) {
                memcpy(out, ev.data, ev.len);
                return (int)ev.len;
            }
        }
        int64_t left = end - now_ms();
        if (left <= 0)
            return -1;
        dk_err err;
        long r = dk_serial_read(port, in, sizeof in, (int)left, &err);
        if (r < 0) {
            fprintf(stderr, "dk-testhost: read: %s\n", err.msg);
            exit(1);
        }
        in_pos = 0;
        in_len = (size_t)r;
    }
}

/* The answer to op: its payload in p (len returned), RETRY on timeout,
 * FATAL on a refusal (printed). */
static int answer(uint8_t op, uint8_t *p, size_t cap, int ms)
{
    uint8_t f[256];
    int64_t end = now_ms() + ms;
    for (;;) {
        int64_t left = end - now_ms();
        int n = left > 0 ? next_frame(f, sizeof f, (int)left) : -1;
        if (n < 0)
            return RETRY;
        if (n < 3 || f[0] != 0x60 || f[1] != op)
            continue; /* stale or unasked */
        if (f[2] != DK_RES_SUCCESS) {
            if (f[2] == DK_RES_EXT_ERROR && n >= 4)
                fprintf(stderr, "dk-testhost: %s refused: EXT_ERROR %s\n", dk_op_name(op),
                        dk_ext_name(f[3]) ? dk_ext_name(f[3]) : "?");
            else
                fprintf(stderr, "dk-testhost: %s refused: %s\n", dk_op_name(op),
                        dk_result_name(f[2]) ? dk_result_name(f[2]) : "?");
            return FATAL;
        }
        size_t k = (size_t)n - 3 < cap ? (size_t)n - 3 : cap;
        memcpy(p, f + 3, k);
        return (int)k;
    }
}

static int request(const uint8_t *m, size_t n, uint8_t *p, size_t cap)
{
    send_msg(m, n);
    return answer(m[0], p, cap, RSP_MS);
}

static int simple(uint8_t op)
{
    uint8_t m[1] = { op }, p[32];
    int r = request(m, 1, p, sizeof p);
    return r < 0 ? r : 0;
}

static int select_obj(uint8_t type, uint32_t *off, uint32_t *crc)
{
    uint8_t m[2] = { 0x06, type }, p[32];
    int r = request(m, 2, p, sizeof p);
    if (r < 0)
        return r;
    if (r < 12)
        return RETRY;
    *off = le32(p + 4);
    *crc = le32(p + 8);
    return 0;
}

static int create(uint8_t type, uint32_t size)
{
    uint8_t m[6] = { 0x01, type };
    dk_put_le32(m + 2, size);
    uint8_t p[8];
    int r = request(m, 6, p, sizeof p);
    return r < 0 ? r : 0;
}

/* Writes of data[from, to) (offsets within data), PRN checked. */
static int write_range(const uint8_t *data, uint32_t from, uint32_t to, unsigned *count)
{
    for (uint32_t off = from; off < to; off += CHUNK) {
        uint8_t m[CHUNK + 1] = { 0x08 };
        uint32_t n = to - off < CHUNK ? to - off : CHUNK;
        memcpy(m + 1, data + off, n);
        send_msg(m, n + 1);
        if (prn && ++*count == prn) {
            *count = 0;
            uint8_t p[16];
            int r = answer(0x03, p, sizeof p, RSP_MS);
            if (r < 0)
                return r;
            if (r < 8 || le32(p) != off + n || le32(p + 4) != dk_crc32(0, data, off + n))
                return RETRY;
        }
    }
    return 0;
}

/* CRC_GET must report (want_off, CRC of data up to it). */
static int check_crc(const uint8_t *data, uint32_t want_off)
{
    uint8_t m[1] = { 0x03 }, p[16];
    int r = request(m, 1, p, sizeof p);
    if (r < 0)
        return r;
    if (r < 8 || le32(p) != want_off || le32(p + 4) != dk_crc32(0, data, want_off)) {
        fprintf(stderr, "dk-testhost: CRC_GET: offset %u crc 0x%08x, expected %u crc 0x%08x\n",
                r >= 8 ? le32(p) : 0, r >= 8 ? le32(p + 4) : 0, want_off,
                dk_crc32(0, data, want_off));
        return RETRY;
    }
    return 0;
}

static int send_init(void)
{
    uint32_t off, crc;
    unsigned count = 0;
    int r = select_obj(0x01, &off, &crc);
    if (r)
        return r;
    bool prefix = !force_create && off && off <= dat_len && crc == dk_crc32(0, dat, off);
    if (!prefix) {
        if ((r = create(0x01, (uint32_t)dat_len)) != 0)
            return r;
        off = 0;
    }
    if ((r = write_range(dat, off, (uint32_t)dat_len, &count)) || (r = check_crc(dat, (uint32_t)dat_len)))
        return r;
    force_create = false;
    return simple(0x04);
}

/* One object [start, end), from `from` on (no CREATE when resuming inside it). */
static int send_object(uint32_t start, uint32_t end, uint32_t from)
{
    unsigned count = 0;
    int r;
    if (from == start && (r = create(0x02, end - start)) != 0)
        return r;
    if ((r = write_range(img, from, end, &count)) || (r = check_crc(img, end)))
        return r;
    return simple(0x04);
}

/* Where the data goes on from, after SELECT data (see the header). */
static int resume_data(uint32_t *pos)
{
    uint32_t off, crc;
    int r = select_obj(0x02, &off, &crc);
    if (r)
        return r;
    if (off && no_resume) {
        fprintf(stderr, "dk-testhost: the target holds %u bytes; cannot resume\n", off);
        return FATAL;
    }
    bool match = off <= img_len && crc == dk_crc32(0, img, off);
    uint32_t start = off - off % OBJ;
    *pos = off;
    if (off == 0)
        return 0;
    uint32_t end = start + OBJ < img_len ? start + OBJ : (uint32_t)img_len;
    if (!match && off % OBJ && off <= img_len) {
        *pos = end; /* CREATE rolls the target back to the object's start (§6.4) */
        return send_object(start, end, start);
    }
    if (!match) {
        force_create = true; /* an executed object cannot be undone */
        return RETRY;
    }
    if (off % OBJ == 0)
        return simple(0x04); /* executed already, or all in: EXECUTE (again) */
    if (whole_object) { /* the bug: a whole object from the offset */
        unsigned count = 0;
        uint32_t to = off + OBJ < img_len ? off + OBJ : (uint32_t)img_len;
        if ((r = write_range(img, off, to, &count)) != 0)
            return r;
        if (check_crc(img, to) != 0)
            return FATAL;
        *pos = to;
        return simple(0x04);
    }
    r = send_object(start, end, off);
    *pos = end;
    return r;
}

static int attempt(void)
{
    uint8_t m[3] = { 0x02, (uint8_t)prn, (uint8_t)(prn >> 8) }, p[8];
    int r = request(m, 3, p, sizeof p);
    if (r < 0 || (r = send_init()) != 0)
        return r;
    uint32_t pos;
    if ((r = resume_data(&pos)) != 0)
        return r;
    for (; pos < img_len; pos += OBJ) {
        uint32_t end = pos + OBJ < img_len ? pos + OBJ : (uint32_t)img_len;
        if ((r = send_object(pos, end, pos)) != 0)
            return r;
    }
    return 0;
}

static bool ping(void)
{
    int64_t end = now_ms() + 5000;
    for (uint8_t id = 1; now_ms() < end; id = id % 100 + 1) {
        uint8_t m[2] = { 0x09, id }, p[4];
        send_msg(m, 2);
        if (answer(0x09, p, sizeof p, 200) >= 1 && p[0] == id)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        { "pkg", required_argument, 0, 'k' }, { "prn", required_argument, 0, 'n' },
        { "bug", required_argument, 0, 'b' }, { 0, 0, 0, 0 },
    };
    const char *path = NULL, *pkgp = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "p:", longs, NULL)) != -1) {
        if (c == 'p')
            path = optarg;
        else if (c == 'k')
            pkgp = optarg;
        else if (c == 'n')
            prn = (unsigned)atoi(optarg);
        else if (c == 'b' && !strcmp(optarg, "no-unescape"))
            no_unescape = true;
        else if (c == 'b' && !strcmp(optarg, "whole-object"))
            whole_object = true;
        else if (c == 'b' && !strcmp(optarg, "no-resume"))
            no_resume = true;
        else
            return fprintf(stderr, "usage: dk-testhost -p PORT --pkg PKG [--prn N] [--bug no-unescape|"
                                   "whole-object|no-resume]\n"), 2;
    }
    dk_pkg pkg;
    dk_err err;
    if (!path || !pkgp)
        return fprintf(stderr, "dk-testhost: -p and --pkg are needed\n"), 2;
    if (dk_pkg_open(pkgp, &pkg, &err) != DK_OK || pkg.n != 1)
        return fprintf(stderr, "dk-testhost: %s: %s\n", pkgp, pkg.n != 1 ? "one image only" : err.msg), 2;
    dat = pkg.img[0].dat;
    dat_len = pkg.img[0].dat_len;
    img = pkg.img[0].bin;
    img_len = pkg.img[0].bin_len;
    dk_serial_cfg cfg = dk_serial_cfg_default(115200);
    if (!(port = dk_serial_open(path, &cfg, DK_SERIAL_FLUSH_INPUT, &err)))
        return fprintf(stderr, "dk-testhost: %s: %s\n", path, err.msg), 1;
    if (!ping())
        return fprintf(stderr, "dk-testhost: no answer to PING\n"), 1;
    for (int i = 0; i < 8; i++) {
        int r = attempt();
        if (r == 0) {
            printf("dk-testhost: done\n");
            return 0;
        }
        if (r == FATAL)
            return 1;
        uint8_t junk[64];
        while (next_frame(junk, sizeof junk, 50) >= 0) /* stale answers */
            ;
    }
    fprintf(stderr, "dk-testhost: gave up after 8 attempts\n");
    return 1;
}
