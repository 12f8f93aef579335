/* capfile.c - capture readers (raw, classic pcap, pcapng) and the pcap
 * writer (link type RTAC_SERIAL, layout in capfile.h).
 *
 * Classic pcap, as read here:
 *   file header  magic u32 (A1B2C3D4 us / A1B23C4D ns, in the file's byte
 *                order), version u16 u16 (2.x), thiszone i32, sigfigs u32,
 *                snaplen u32, linktype u32 (low 16 bits)
 *   record       ts_sec u32, ts_frac u32 (us or ns), caplen u32, len u32,
 *                caplen bytes
 * pcapng, as read here (each section in its own byte order):
 *   block        type u32, total length u32, body, total length u32 again
 *   SHB 0A0D0D0A byte-order magic 1A2B3C4D, version 1.x, section length
 *   IDB 1        link type u16, reserved u16, snaplen u32, options
 *                (if_tsresol 9: 10^-n or, top bit set, 2^-n s; if_tsoffset 14)
 *   EPB 6        interface u32, ts high u32, ts low u32, caplen u32, len u32, data
 *   SPB 3        len u32, data (no time)        PB 2 (obsolete): as EPB, with
 *                interface u16 and drops u16    other blocks: skipped
 * Both are cut from a 1 MiB buffer filled from a dk_input (input.h), so a
 * capture on a pipe reads as from a file, its offsets included. */
#include "dfukit/capfile.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dfukit/file.h"
#include "dfukit/rd.h"

#define RAW_CHUNK (64 * 1024)
#define SNIFF_LEN 512
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16
#define PCAP_BUF (1024 * 1024)
#define PCAP_MAX_CAPLEN 262144 /* the largest record libpcap accepts */
#define NG_EPB_HDR 28          /* pcapng enhanced packet block, up to its data */
#define NG_IFACES 16           /* interfaces of a section kept */
#define WRITE_SNAPLEN 65535
#define WRITE_MAX_DATA (WRITE_SNAPLEN - DK_CAP_HDR_LEN)

typedef struct {
    uint64_t ups;        /* time units per second (if_tsresol) */
    int64_t offset_s;    /* if_tsoffset */
} ng_iface;

struct dk_cap_reader {
    dk_cap_format fmt;
    dk_dir dir;
    dk_input *in;
    bool ng;             /* pcapng */
    bool done;
    uint64_t pos;        /* raw: offset of the next byte; pcap: of buf[lo] */
    uint64_t index;
    uint8_t *buf;        /* raw chunk, or pcap records / pcapng blocks */
    size_t lo, hi;       /* pcap: unread bytes are buf[lo, hi) */
    bool be, nsec;       /* classic pcap: big-endian file, nanosecond stamps;
                            pcapng: the section's byte order */
    ng_iface ifc[NG_IFACES];
    unsigned n_if;
};

#define REC_HDR_LEN 16 /* classic pcap record header: ts_sec, ts_usec, caplen, len */

struct dk_cap_writer {
    pcap_t *dead;
    pcap_dumper_t *dump; /* writes the file header; records go out with write(2) */
    uint8_t lines;
    uint64_t size;       /* bytes in the file so far */
    uint8_t rec[REC_HDR_LEN + WRITE_SNAPLEN];
};

static bool printable_run(const uint8_t *p, size_t len, size_t *i)
{
    uint8_t b = p[*i];
    if ((b >= 0x20 && b < 0x7f) || b == '\t' || b == '\r' || b == '\n') {
        (*i)++;
        return true;
    }
    /* A valid UTF-8 sequence counts as text (logs may hold non-ASCII). */
    size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0)
        return false;
    if (*i + n > len) { /* cut off by the end of the window: neutral */
        *i = len;
        return true;
    }
    for (size_t k = 1; k < n; k++)
        if ((p[*i + k] & 0xC0) != 0x80)
            return false;
    *i += n;
    return true;
}

dk_cap_format dk_cap_sniff(const uint8_t *head, size_t len)
{
    if (len >= 4) {
        dk_rd r = dk_rd_make(head, len);
        uint32_t m = dk_rd_be32(&r);
        if (m == 0xA1B2C3D4u || m == 0xD4C3B2A1u || m == 0xA1B23C4Du || m == 0x4D3CB2A1u ||
            m == 0x0A0D0D0Au)
            return DK_FMT_PCAP;
    }
    if (len == 0)
        return DK_FMT_RAW;
    size_t text = 0, bad = 0, i = 0, spaces = 0;
    bool newline = false, nul = false;
    while (i < len) {
        size_t before = i;
        if (head[i] == '\n')
            newline = true;
        spaces += head[i] == ' ';
        if (printable_run(head, len, &i)) {
            text += i == len && head[before] >= 0x80 ? 0 : i - before;
        } else {
            nul |= head[i] == 0;
            bad++;
            i++;
        }
    }
    /* Text lines: at most 1 in 20 bytes odd, no NUL, a line break unless the
     * whole (short) file is one line or it reads as words (a log a web page
     * ran into one line: a space every 40 bytes or more often). */
    if (!nul && bad * 20 <= len && text > 0 && (newline || len < SNIFF_LEN || spaces * 40 >= len))
        return DK_FMT_LOG;
    return DK_FMT_RAW;
}

static void reader_free(dk_cap_reader *r)
{
    if (!r)
        return;
    dk_input_close(r->in);
    free(r->buf);
    free(r);
}

/* Seconds and a fraction of a second (frac_per_s to the second) as
 * microseconds since the epoch.  False when that is out of range: before
 * the epoch (t_us < 0 means "unknown" to every reader of a chunk), past
 * INT64_MAX microseconds, or a fraction of a whole second or more. */
static bool ts_us(int64_t sec, uint64_t frac, uint64_t frac_per_s, int64_t *out)
{
    if (sec < 0 || frac >= frac_per_s || sec > (INT64_MAX - 999999) / 1000000)
        return false;
    *out = sec * 1000000 + (int64_t)(frac_per_s == 1000000 ? frac : frac / (frac_per_s / 1000000));
    return true;
}

/* ---- classic pcap, parsed here ---- */

static bool classic_magic(const uint8_t *head, size_t len)
{
    if (len < 4)
        return false;
    dk_rd rd = dk_rd_make(head, len);
    uint32_t m = dk_rd_be32(&rd);
    return m == 0xA1B2C3D4u || m == 0xD4C3B2A1u || m == 0xA1B23C4Du || m == 0x4D3CB2A1u;
}

static uint32_t rd32(dk_rd *rd, bool be)
{
    return be ? dk_rd_be32(rd) : dk_rd_le32(rd);
}

static uint16_t rd16(dk_rd *rd, bool be)
{
    if (!be)
        return dk_rd_le16(rd);
    uint16_t hi = dk_rd_u8(rd);
    return (uint16_t)(hi << 8 | dk_rd_u8(rd));
}

/* Make at least `need` (<= PCAP_BUF) unread bytes available if the input
 * has them; returns how many there are. */
__attribute__((noinline)) static size_t refill(dk_cap_reader *r, size_t need)
{
    memmove(r->buf, r->buf + r->lo, r->hi - r->lo);
    r->hi -= r->lo;
    r->lo = 0;
    while (r->hi < need) {
        size_t n = dk_input_read(r->in, r->buf + r->hi, PCAP_BUF - r->hi);
        if (n == 0)
            break;
        r->hi += n;
    }
    return r->hi;
}

static inline size_t fill(dk_cap_reader *r, size_t need)
{
    return r->hi - r->lo >= need ? r->hi - r->lo : refill(r, need);
}

static int read_error(dk_cap_reader *r, uint64_t at, dk_err *err)
{
    r->done = true;
    return dk_err_set(err, DK_E_IO, (int64_t)at, "read error: %s", strerror(dk_input_errno(r->in)));
}

/* A link type other than RTAC serial: the error (true), at offset at. */
static bool link_error(int lt, int64_t at, dk_err *err)
{
    if (lt == DK_LINKTYPE)
        return false;
    const char *name = pcap_datalink_val_to_name(lt);
    dk_err_set(err, DK_E_UNSUPPORTED, at,
               "pcap link type %d (%s) is not RTAC serial (%d), the link type dfukit uses", lt,
               name ? name : "unknown", DK_LINKTYPE);
    return true;
}

static dk_cap_reader *open_classic(dk_cap_reader *r, dk_err *err)
{
    size_t n = fill(r, PCAP_FILE_HDR);
    if (n < PCAP_FILE_HDR) {
        if (dk_input_failed(r->in))
            dk_err_set(err, DK_E_IO, 0, "read error: %s", strerror(dk_input_errno(r->in)));
        else
            dk_err_set(err, DK_E_FORMAT, 0,
                       "bad pcap file header: the file ends after %zu of its %d bytes", n,
                       PCAP_FILE_HDR);
        reader_free(r);
        return NULL;
    }
    dk_rd rd = dk_rd_make(r->buf, PCAP_FILE_HDR);
    uint32_t magic = dk_rd_be32(&rd);
    r->be = magic == 0xA1B2C3D4u || magic == 0xA1B23C4Du;
    r->nsec = magic == 0xA1B23C4Du || magic == 0x4D3CB2A1u;
    uint16_t major = rd16(&rd, r->be), minor = rd16(&rd, r->be);
    rd32(&rd, r->be); /* thiszone */
    rd32(&rd, r->be); /* sigfigs */
    rd32(&rd, r->be); /* snaplen: records are checked against PCAP_MAX_CAPLEN */
    int lt = (int)(rd32(&rd, r->be) & 0xFFFF);
    r->lo = PCAP_FILE_HDR;
    r->pos = PCAP_FILE_HDR;
    if (major != 2) {
        dk_err_set(err, DK_E_FORMAT, 0, "bad pcap file header: version %u.%u, not 2.x",
                   (unsigned)major, (unsigned)minor);
        reader_free(r);
        return NULL;
    }
    if (link_error(lt, 0, err)) {
        reader_free(r);
        return NULL;
    }
    return r;
}

/* The RTAC serial header in front of a packet's line bytes -> out. */
static int rtac_chunk(dk_cap_reader *r, const uint8_t *d, uint32_t caplen, int64_t t_us,
                      uint64_t at, uint64_t data_hdr, dk_chunk *out, dk_err *err)
{
    dk_rd rd = dk_rd_make(d, caplen);
    dk_rd_be32(&rd); /* the header's own timestamp: the record's wins */
    dk_rd_be32(&rd);
    uint8_t ev = dk_rd_u8(&rd);
    uint8_t lines = dk_rd_u8(&rd);
    dk_rd_le16(&rd);
    if (!dk_rd_ok(&rd)) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                          "packet %llu: %u bytes, shorter than the %d-byte RTAC serial header",
                          (unsigned long long)r->index, (unsigned)caplen, DK_CAP_HDR_LEN);
    }
    size_t len = dk_rd_left(&rd);
    *out = (dk_chunk){
        .t_us = t_us,
        .dir = ev == DK_CAP_EV_TX ? DK_DIR_HOST : ev == DK_CAP_EV_RX ? DK_DIR_TARGET : DK_DIR_UNKNOWN,
        .event = ev,
        .lines = lines,
        .data = dk_rd_bytes(&rd, len),
        .len = len,
        .file_off = at,
        .data_off = at + data_hdr + DK_CAP_HDR_LEN,
        .index = r->index,
    };
    return 1;
}

static int next_classic(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    uint64_t at = r->pos;
    size_t have = fill(r, PCAP_REC_HDR);
    if (have < PCAP_REC_HDR) {
        if (dk_input_failed(r->in))
            return read_error(r, at, err);
        r->done = true;
        if (have == 0)
            return 0;
        return dk_err_set(err, DK_E_TRUNCATED, (int64_t)at,
                          "truncated pcap record: the file ends %zu bytes into its %d-byte header",
                          have, PCAP_REC_HDR);
    }
    dk_rd rd = dk_rd_make(r->buf + r->lo, PCAP_REC_HDR);
    uint32_t sec = rd32(&rd, r->be), frac = rd32(&rd, r->be);
    uint32_t caplen = rd32(&rd, r->be);
    if (caplen > PCAP_MAX_CAPLEN) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                          "bad pcap record: capture length %u is larger than %u",
                          (unsigned)caplen, (unsigned)PCAP_MAX_CAPLEN);
    }
    have = fill(r, PCAP_REC_HDR + (size_t)caplen);
    if (have < PCAP_REC_HDR + (size_t)caplen) {
        if (dk_input_failed(r->in))
            return read_error(r, at, err);
        r->done = true;
        return dk_err_set(err, DK_E_TRUNCATED, (int64_t)at,
                          "truncated pcap record: %u bytes announced, the file holds %zu",
                          (unsigned)caplen, have - PCAP_REC_HDR);
    }
    const uint8_t *d = r->buf + r->lo + PCAP_REC_HDR;
    r->lo += PCAP_REC_HDR + (size_t)caplen;
    r->pos += PCAP_REC_HDR + (uint64_t)caplen;
    r->index++;
    int64_t t;
    if (!ts_us(sec, frac, r->nsec ? 1000000000u : 1000000u, &t)) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                          "bad pcap record: time stamp %u.%0*u: the fraction is a second or more",
                          (unsigned)sec, r->nsec ? 9 : 6, (unsigned)frac);
    }
    return rtac_chunk(r, d, caplen, t, at, PCAP_REC_HDR, out, err);
}

/* ---- pcapng ---- */

static uint32_t ng32(const dk_cap_reader *r, const uint8_t *p)
{
    dk_rd rd = dk_rd_make(p, 4);
    return rd32(&rd, r->be);
}

/* The next whole block into buf[lo, lo + *len), its type in *type.  1: a
 * block, 0: the end, <0: error (err).  A section header sets the byte
 * order. */
static int ng_block(dk_cap_reader *r, uint32_t *type, uint32_t *len, dk_err *err)
{
    uint64_t at = r->pos;
    size_t have = fill(r, 12);
    if (have < 12) {
        if (dk_input_failed(r->in))
            return read_error(r, at, err);
        r->done = true;
        if (have == 0)
            return 0;
        return dk_err_set(err, DK_E_TRUNCATED, (int64_t)at,
                          "truncated pcapng block: the file ends %zu bytes into its header", have);
    }
    const uint8_t *b = r->buf + r->lo;
    *type = ng32(r, b);
    if (*type == 0x0A0D0D0Au) { /* the byte-order magic says the section's order */
        dk_rd rd = dk_rd_make(b + 8, 4);
        uint32_t bom = dk_rd_le32(&rd);
        if (bom != 0x1A2B3C4Du && bom != 0x4D3C2B1Au) {
            r->done = true;
            return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                              "bad pcapng section header: byte-order magic 0x%08x", (unsigned)bom);
        }
        r->be = bom == 0x4D3C2B1Au;
        r->n_if = 0;
    }
    *len = ng32(r, b + 4);
    if (*len < 12 || *len % 4 || *len > PCAP_BUF) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at, "bad pcapng block: length %u",
                          (unsigned)*len);
    }
    have = fill(r, *len);
    if (have < *len) {
        if (dk_input_failed(r->in))
            return read_error(r, at, err);
        r->done = true;
        return dk_err_set(err, DK_E_TRUNCATED, (int64_t)at,
                          "truncated pcapng block: %u bytes announced, the file holds %zu",
                          (unsigned)*len, have);
    }
    if (ng32(r, r->buf + r->lo + *len - 4) != *len) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                          "bad pcapng block: its lengths differ (%u at its start)", (unsigned)*len);
    }
    return 1;
}

/* An interface description: its link type must be RTAC serial; its time
 * resolution and offset are kept. */
static int ng_iface_block(dk_cap_reader *r, const uint8_t *b, uint32_t len, dk_err *err)
{
    uint64_t at = r->pos;
    if (len < 20) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at, "bad pcapng interface block: %u bytes",
                          (unsigned)len);
    }
    dk_rd rd = dk_rd_make(b + 8, 2);
    int lt = r->be ? (b[8] << 8 | b[9]) : dk_rd_le16(&rd);
    if (link_error(lt, r->index == 0 && r->n_if == 0 ? 0 : (int64_t)at, err)) {
        r->done = true;
        return -1;
    }
    ng_iface f = { .ups = 1000000, .offset_s = 0 };
    for (size_t o = 16; o + 4 <= len - 4;) { /* options: code u16, len u16, value */
        dk_rd h = dk_rd_make(b + o, 4);
        unsigned code = r->be ? (unsigned)(b[o] << 8 | b[o + 1]) : dk_rd_le16(&h);
        unsigned ol = r->be ? (unsigned)(b[o + 2] << 8 | b[o + 3]) : dk_rd_le16(&h);
        if (code == 0 || o + 4 + ol > len - 4)
            break;
        const uint8_t *v = b + o + 4;
        if (code == 9 && ol == 1) {
            unsigned e = v[0] & 0x7F;
            uint64_t u = 1;
            for (unsigned i = 0; i < e && u < (1ull << 62) / 10; i++)
                u *= v[0] & 0x80 ? 2 : 10;
            f.ups = u;
        } else if (code == 14 && ol == 8) {
            dk_rd vr = dk_rd_make(v, 8);
            uint64_t hi = rd32(&vr, r->be), lo = rd32(&vr, r->be);
            f.offset_s = (int64_t)(r->be ? hi << 32 | lo : lo << 32 | hi);
        }
        o += 4 + ((ol + 3) & ~3u);
    }
    if (r->n_if < NG_IFACES)
        r->ifc[r->n_if] = f;
    r->n_if++;
    return 1;
}

/* A packet block: type 6 (enhanced), 3 (simple) or 2 (obsolete). */
/* A pcapng stamp (units of 1/ups s, plus the interface's offset in whole
 * seconds) as microseconds since the epoch; false out of range, as ts_us. */
static bool ng_ts_us(uint64_t ts, const ng_iface *f, int64_t *out)
{
    __int128 sec = (__int128)(ts / f->ups) + f->offset_s;
    if (sec < 0 || sec > (INT64_MAX - 999999) / 1000000)
        return false;
    *out = (int64_t)sec * 1000000 +
           (int64_t)((unsigned __int128)(ts % f->ups) * 1000000u / f->ups);
    return true;
}

static int ng_packet(dk_cap_reader *r, uint32_t type, const uint8_t *b, uint32_t len,
                     dk_chunk *out, dk_err *err)
{
    uint64_t at = r->pos;
    uint32_t hdr = type == 3 ? 12 : NG_EPB_HDR;
    if (len < hdr + 4 || r->n_if == 0) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at, "bad pcapng packet block: %s",
                          r->n_if == 0 ? "no interface described before it" : "too short");
    }
    uint32_t iface = 0, caplen = len - 16, th = 0, tl = 0;
    if (type != 3) {
        iface = type == 2 ? ng32(r, b + 8) >> (r->be ? 16 : 0) & 0xFFFF : ng32(r, b + 8);
        th = ng32(r, b + 12);
        tl = ng32(r, b + 16);
        caplen = ng32(r, b + 20);
    } else if (ng32(r, b + 8) < caplen) {
        caplen = ng32(r, b + 8);
    }
    if (caplen > len - hdr - 4 || caplen > PCAP_MAX_CAPLEN || iface >= r->n_if) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                          "bad pcapng packet block: capture length %u, interface %u",
                          (unsigned)caplen, (unsigned)iface);
    }
    const ng_iface *f = &r->ifc[iface < NG_IFACES ? iface : NG_IFACES - 1];
    int64_t t = 0; /* a simple packet block has no time: as libpcap reads it */
    if (type != 3 && !ng_ts_us((uint64_t)th << 32 | tl, f, &t)) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, (int64_t)at,
                          "bad pcapng packet block: time stamp %llu (%llu units a second) "
                          "is out of range", (unsigned long long)((uint64_t)th << 32 | tl),
                          (unsigned long long)f->ups);
    }
    r->index++;
    return rtac_chunk(r, b + hdr, caplen, t, at, hdr, out, err);
}

static int next_ng(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    for (;;) {
        uint32_t type, len;
        int rc = ng_block(r, &type, &len, err);
        if (rc <= 0)
            return rc;
        const uint8_t *b = r->buf + r->lo;
        if (type == 1)
            rc = ng_iface_block(r, b, len, err);
        else if (type == 6 || type == 3 || type == 2)
            rc = ng_packet(r, type, b, len, out, err);
        else
            rc = 0; /* section header, statistics, names, ...: skipped */
        r->lo += len;
        r->pos += len;
        if (rc != 0)
            return rc;
    }
}

/* The section header and the first interface description (its link type
 * decides whether the file is ours). */
static dk_cap_reader *open_ng(dk_cap_reader *r, dk_err *err)
{
    r->ng = true;
    for (;;) {
        uint32_t type, len;
        int rc = ng_block(r, &type, &len, err);
        if (rc == 0)
            dk_err_set(err, DK_E_FORMAT, 0, "bad pcapng file: no interface description block");
        if (rc <= 0)
            break;
        if (type == 6 || type == 3 || type == 2) {
            dk_err_set(err, DK_E_FORMAT, (int64_t)r->pos,
                       "bad pcapng file: a packet block before any interface description");
            break;
        }
        rc = type == 1 ? ng_iface_block(r, r->buf + r->lo, len, err) : 0;
        r->lo += len;
        r->pos += len;
        if (rc < 0)
            break;
        if (rc > 0)
            return r;
    }
    reader_free(r);
    return NULL;
}

/* ---- opening, raw ---- */

dk_cap_reader *dk_cap_open(const char *path, dk_cap_format fmt, dk_dir dir, dk_err *err)
{
    dk_input *in = dk_input_open(path, err);
    return in ? dk_cap_open_input(in, fmt, dir, err) : NULL;
}

dk_cap_reader *dk_cap_open_input(dk_input *in, dk_cap_format fmt, dk_dir dir, dk_err *err)
{
    dk_cap_reader *r = calloc(1, sizeof *r);
    if (!r) {
        dk_input_close(in);
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    r->in = in;
    r->dir = dir;
    if (fmt == DK_FMT_LOG) {
        dk_err_set(err, DK_E_UNSUPPORTED, -1, "text logs are read by the decoder, not capfile");
        reader_free(r);
        return NULL;
    }
    /* The head: to sniff, to tell classic pcap from pcapng, and to call an
     * empty file an error.  The readers get it again. */
    const uint8_t *head;
    size_t n;
    if (dk_input_peek(in, fmt == DK_FMT_AUTO ? DK_INPUT_HEAD : 4, &head, &n, err) != DK_OK) {
        reader_free(r);
        return NULL;
    }
    if (n == 0) {
        dk_err_set(err, DK_E_TRUNCATED, 0, "empty file");
        reader_free(r);
        return NULL;
    }
    if (fmt == DK_FMT_AUTO)
        fmt = dk_cap_sniff(head, n);
    r->fmt = fmt;
    if (fmt == DK_FMT_LOG) {
        dk_err_set(err, DK_E_UNSUPPORTED, 0, "looks like a text log, not a raw or pcap capture");
        reader_free(r);
        return NULL;
    }
    r->buf = malloc(fmt == DK_FMT_PCAP ? PCAP_BUF : RAW_CHUNK);
    if (!r->buf) {
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        reader_free(r);
        return NULL;
    }
    if (fmt != DK_FMT_PCAP)
        return r;
    if (classic_magic(head, n))
        return open_classic(r, err);
    if (n < 4 || head[0] != 0x0A || head[1] != 0x0D || head[2] != 0x0D || head[3] != 0x0A) {
        dk_err_set(err, DK_E_FORMAT, 0, "bad pcap file header: no pcap or pcapng magic");
        reader_free(r);
        return NULL;
    }
    return open_ng(r, err);
}

static int next_raw(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    size_t n = dk_input_read(r->in, r->buf, RAW_CHUNK);
    if (n == 0) {
        if (dk_input_failed(r->in))
            return read_error(r, r->pos, err);
        r->done = true;
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->t_us = -1;
    out->dir = r->dir;
    out->event = r->dir == DK_DIR_TARGET ? DK_CAP_EV_RX : DK_CAP_EV_TX;
    out->data = r->buf;
    out->len = n;
    out->file_off = r->pos;
    out->data_off = r->pos;
    out->index = ++r->index;
    r->pos += n;
    return 1;
}

int dk_cap_next(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    if (r->done)
        return 0;
    if (r->fmt != DK_FMT_PCAP)
        return next_raw(r, out, err);
    return r->ng ? next_ng(r, out, err) : next_classic(r, out, err);
}

dk_cap_format dk_cap_format_of(const dk_cap_reader *r)
{
    return r->fmt;
}

void dk_cap_close(dk_cap_reader *r)
{
    reader_free(r);
}

/* ---- writer ---- */

dk_cap_writer *dk_cap_create(const char *path, dk_err *err)
{
    dk_cap_writer *w = calloc(1, sizeof *w);
    if (!w) {
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    w->dead = pcap_open_dead(DK_LINKTYPE, WRITE_SNAPLEN);
    if (!w->dead) {
        dk_err_set(err, DK_E_NOMEM, -1, "pcap_open_dead failed");
        free(w);
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        /* A private stream on stdout's descriptor: closing it leaves stdout. */
        fflush(stdout);
        int fd = dup(STDOUT_FILENO);
        FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (!fp) {
            if (fd >= 0)
                close(fd);
            dk_err_set(err, DK_E_IO, -1, "cannot write to standard output: %s", strerror(errno));
            pcap_close(w->dead);
            free(w);
            return NULL;
        }
        w->dump = pcap_dump_fopen(w->dead, fp);
        if (!w->dump)
            fclose(fp);
    } else {
        /* never through a symlink, 0600, a FIFO allowed (file.h) */
        FILE *fp = dk_file_fopen(path, DK_FILE_STREAM, err);
        if (!fp) {
            pcap_close(w->dead);
            free(w);
            return NULL;
        }
        w->dump = pcap_dump_fopen(w->dead, fp);
        if (!w->dump)
            fclose(fp);
    }
    bool flushed = w->dump && pcap_dump_flush(w->dump) == 0;
    if (flushed) {
        long at = pcap_dump_ftell(w->dump);
        w->size = at > 0 ? (uint64_t)at : 24;
    }
    if (!flushed) {
        if (w->dump) {
            dk_err_set(err, DK_E_IO, 0, "cannot write the pcap header: %s", strerror(errno));
            pcap_dump_close(w->dump);
        } else {
            dk_err_set(err, DK_E_IO, -1, "cannot create pcap: %s", pcap_geterr(w->dead));
        }
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

/* One record, written with a single write(2) and never through stdio (which
 * would split it at each of its buffer boundaries). A writer killed at any
 * moment leaves every earlier record whole; the record being written can
 * still be cut, because Linux stops a regular-file write at a page boundary
 * when a fatal signal is pending, and readers report that as a truncated last
 * record. The record header is in host byte order, as libpcap writes the
 * file header. */
static dk_status put_packet(dk_cap_writer *w, int64_t t_us, uint8_t ev, uint8_t lines,
                            const uint8_t *data, size_t len, dk_err *err)
{
    uint32_t sec = (uint32_t)(t_us / 1000000), usec = (uint32_t)(t_us % 1000000);
    uint32_t caplen = (uint32_t)(DK_CAP_HDR_LEN + len);
    uint32_t rh[4] = { sec, usec, caplen, caplen };
    memcpy(w->rec, rh, sizeof rh);
    uint8_t *p = dk_put_be32(w->rec + REC_HDR_LEN, sec);
    p = dk_put_be32(p, usec);
    *p++ = ev;
    *p++ = lines;
    *p++ = 0;
    *p++ = 0;
    if (len)
        memcpy(p, data, len);
    size_t total = REC_HDR_LEN + caplen, done = 0;
    int fd = fileno(pcap_dump_file(w->dump));
    while (done < total) {
        ssize_t k = write(fd, w->rec + done, total - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return dk_err_set(err, DK_E_IO, (int64_t)(w->size + done), "cannot write pcap: %s",
                              k < 0 ? strerror(errno) : "nothing written");
        done += (size_t)k;
    }
    w->size += total;
    return DK_OK;
}

dk_status dk_cap_write(dk_cap_writer *w, int64_t t_us, dk_dir dir, const uint8_t *data,
                       size_t len, dk_err *err)
{
    if (dir != DK_DIR_HOST && dir != DK_DIR_TARGET)
        return dk_err_set(err, DK_E_USAGE, -1, "a captured chunk needs a direction");
    if (t_us < 0)
        t_us = dk_now_us();
    uint8_t ev = dir == DK_DIR_HOST ? DK_CAP_EV_TX : DK_CAP_EV_RX;
    do {
        size_t n = len > WRITE_MAX_DATA ? WRITE_MAX_DATA : len;
        dk_status st = put_packet(w, t_us, ev, w->lines, data, n, err);
        if (st != DK_OK)
            return st;
        data += n;
        len -= n;
    } while (len > 0);
    return DK_OK;
}

dk_status dk_cap_write_lines(dk_cap_writer *w, int64_t t_us, uint8_t lines, dk_err *err)
{
    if (t_us < 0)
        t_us = dk_now_us();
    w->lines = lines;
    return put_packet(w, t_us, DK_CAP_EV_STATUS, lines, NULL, 0, err);
}

void dk_cap_set_lines(dk_cap_writer *w, uint8_t lines)
{
    w->lines = lines;
}

dk_status dk_cap_close_writer(dk_cap_writer *w, dk_err *err)
{
    if (!w)
        return DK_OK;
    dk_status st = DK_OK;
    FILE *fp = pcap_dump_file(w->dump);
    if (pcap_dump_flush(w->dump) != 0 || ferror(fp))
        st = dk_err_set(err, DK_E_IO, -1, "cannot write pcap: %s", strerror(errno));
    pcap_dump_close(w->dump);
    pcap_close(w->dead);
    free(w);
    return st;
}
