/* capfile.c - capture readers (raw, classic pcap, pcapng via libpcap) and
 * the pcap writer (link type RTAC_SERIAL, layout in capfile.h).
 *
 * Classic pcap, as read here:
 *   file header  magic u32 (A1B2C3D4 us / A1B23C4D ns, in the file's byte
 *                order), version u16 u16 (2.x), thiszone i32, sigfigs u32,
 *                snaplen u32, linktype u32 (low 16 bits)
 *   record       ts_sec u32, ts_frac u32 (us or ns), caplen u32, len u32,
 *                caplen bytes
 * Records are cut from a 1 MiB buffer (two freads per packet through libpcap
 * cost more than the whole decoder).  pcapng and pipes go through libpcap. */
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
#define WRITE_SNAPLEN 65535
#define WRITE_MAX_DATA (WRITE_SNAPLEN - DK_CAP_HDR_LEN)

struct dk_cap_reader {
    dk_cap_format fmt;
    dk_dir dir;
    FILE *fp;            /* raw, classic pcap: the file; libpcap: owned by it */
    pcap_t *pc;          /* pcapng, pcap on a pipe */
    bool seekable;
    bool ng;             /* pcapng: record offsets come from ftello */
    bool done;
    uint64_t pos;        /* raw: offset of the next byte; pcap: of the next record */
    uint64_t index;
    uint8_t head[SNIFF_LEN]; /* raw from a pipe: sniffed bytes served first */
    size_t head_len, head_used;
    uint8_t *buf;        /* raw chunk, or classic pcap records */
    size_t lo, hi;       /* classic pcap: unread bytes are buf[lo, hi) */
    bool be, nsec;       /* classic pcap: big-endian file, nanosecond stamps */
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
    size_t text = 0, bad = 0, i = 0;
    bool newline = false, nul = false;
    while (i < len) {
        size_t before = i;
        if (head[i] == '\n')
            newline = true;
        if (printable_run(head, len, &i)) {
            text += i == len && head[before] >= 0x80 ? 0 : i - before;
        } else {
            nul |= head[i] == 0;
            bad++;
            i++;
        }
    }
    /* Text lines: at most 1 in 20 bytes odd, no NUL, a line break unless the
     * whole (short) file is one line. */
    if (!nul && bad * 20 <= len && text > 0 && (newline || len < SNIFF_LEN))
        return DK_FMT_LOG;
    return DK_FMT_RAW;
}

static void reader_free(dk_cap_reader *r)
{
    if (!r)
        return;
    if (r->pc)
        pcap_close(r->pc); /* closes r->fp too */
    else if (r->fp && r->fp != stdin)
        fclose(r->fp);
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

/* Make at least `need` (<= PCAP_BUF) unread bytes available if the file has
 * them; returns how many there are. */
__attribute__((noinline)) static size_t refill(dk_cap_reader *r, size_t need)
{
    memmove(r->buf, r->buf + r->lo, r->hi - r->lo);
    r->hi -= r->lo;
    r->lo = 0;
    while (r->hi < need) {
        size_t n = fread(r->buf + r->hi, 1, PCAP_BUF - r->hi, r->fp);
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

static dk_cap_reader *open_classic(dk_cap_reader *r, dk_err *err)
{
    r->buf = malloc(PCAP_BUF);
    if (!r->buf) {
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        reader_free(r);
        return NULL;
    }
    size_t n = fill(r, PCAP_FILE_HDR);
    if (n < PCAP_FILE_HDR) {
        if (ferror(r->fp))
            dk_err_set(err, DK_E_IO, 0, "read error: %s", strerror(errno));
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
    if (major != 2) {
        dk_err_set(err, DK_E_FORMAT, 0, "bad pcap file header: version %u.%u, not 2.x",
                   (unsigned)major, (unsigned)minor);
        reader_free(r);
        return NULL;
    }
    if (lt != DK_LINKTYPE) {
        const char *name = pcap_datalink_val_to_name(lt);
        dk_err_set(err, DK_E_UNSUPPORTED, 0,
                   "pcap link type %d (%s) is not RTAC serial (%d), the link type dfukit uses",
                   lt, name ? name : "unknown", DK_LINKTYPE);
        reader_free(r);
        return NULL;
    }
    r->lo = PCAP_FILE_HDR;
    r->pos = PCAP_FILE_HDR;
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
        r->done = true;
        if (ferror(r->fp))
            return dk_err_set(err, DK_E_IO, (int64_t)at, "read error: %s", strerror(errno));
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
        r->done = true;
        if (ferror(r->fp))
            return dk_err_set(err, DK_E_IO, (int64_t)at, "read error: %s", strerror(errno));
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

/* ---- pcap and pcapng through libpcap ---- */

static dk_cap_reader *open_pcap(dk_cap_reader *r, dk_err *err)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    if (r->fp == stdin) {
        /* libpcap closes the stream it is given: give it one of its own. */
        int fd = dup(fileno(stdin));
        FILE *fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
        if (!fp) {
            if (fd >= 0)
                close(fd);
            dk_err_set(err, DK_E_IO, -1, "cannot reopen standard input: %s", strerror(errno));
            reader_free(r);
            return NULL;
        }
        r->fp = fp;
        /* stdin's buffer may have moved the shared offset past the head */
        if (r->seekable && lseek(fd, 0, SEEK_SET) != 0) {
            dk_err_set(err, DK_E_IO, 0, "cannot rewind standard input: %s", strerror(errno));
            reader_free(r);
            return NULL;
        }
    }
    r->pc = pcap_fopen_offline(r->fp, eb);
    if (!r->pc) {
        dk_err_set(err, DK_E_FORMAT, 0, "bad pcap file header: %s", eb);
        reader_free(r);
        return NULL;
    }
    int lt = pcap_datalink(r->pc);
    if (lt != DK_LINKTYPE) {
        const char *name = pcap_datalink_val_to_name(lt);
        dk_err_set(err, DK_E_UNSUPPORTED, 0,
                   "pcap link type %d (%s) is not RTAC serial (%d), the link type dfukit uses",
                   lt, name ? name : "unknown", DK_LINKTYPE);
        reader_free(r);
        return NULL;
    }
    r->ng = pcap_major_version(r->pc) == 1; /* libpcap reports pcapng as 1.0 */
    r->pos = PCAP_FILE_HDR;
    return r;
}

dk_cap_reader *dk_cap_open(const char *path, dk_cap_format fmt, dk_dir dir, dk_err *err)
{
    if (fmt == DK_FMT_LOG) {
        dk_err_set(err, DK_E_UNSUPPORTED, -1, "text logs are read by the decoder, not capfile");
        return NULL;
    }
    dk_cap_reader *r = calloc(1, sizeof *r);
    if (!r) {
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    r->dir = dir;
    r->fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!r->fp) {
        dk_err_set(err, DK_E_IO, -1, "cannot open: %s", strerror(errno));
        reader_free(r);
        return NULL;
    }
    bool seekable = r->seekable = fseeko(r->fp, 0, SEEK_SET) == 0;
    size_t head_n = 0;
    /* Peek at the head to sniff and to call an empty file an error.  A pipe
     * cannot be rewound: raw data serves the peeked bytes first, and pcap on a
     * pipe is only possible when the format is given (no peek). */
    if (seekable || fmt != DK_FMT_PCAP) {
        size_t n = fread(r->head, 1, sizeof r->head, r->fp);
        if (ferror(r->fp)) {
            dk_err_set(err, DK_E_IO, 0, "read error: %s", strerror(errno));
            reader_free(r);
            return NULL;
        }
        if (n == 0) {
            dk_err_set(err, DK_E_TRUNCATED, 0, "empty file");
            reader_free(r);
            return NULL;
        }
        head_n = n;
        if (fmt == DK_FMT_AUTO)
            fmt = dk_cap_sniff(r->head, n);
        if (seekable) {
            if (fseeko(r->fp, 0, SEEK_SET) != 0) {
                dk_err_set(err, DK_E_IO, 0, "cannot rewind: %s", strerror(errno));
                reader_free(r);
                return NULL;
            }
        } else {
            r->head_len = n;
        }
    }
    r->fmt = fmt;
    if (fmt == DK_FMT_PCAP && seekable && classic_magic(r->head, head_n))
        return open_classic(r, err);
    if (fmt == DK_FMT_LOG) {
        dk_err_set(err, DK_E_UNSUPPORTED, 0, "looks like a text log, not a raw or pcap capture");
        reader_free(r);
        return NULL;
    }
    if (fmt == DK_FMT_PCAP) {
        if (r->head_len) {
            dk_err_set(err, DK_E_UNSUPPORTED, 0,
                       "pcap on a pipe: give the format explicitly so it is not sniffed");
            reader_free(r);
            return NULL;
        }
        return open_pcap(r, err);
    }
    r->buf = malloc(RAW_CHUNK);
    if (!r->buf) {
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        reader_free(r);
        return NULL;
    }
    return r;
}

static int next_raw(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    size_t n = 0;
    if (r->head_used < r->head_len) {
        n = r->head_len - r->head_used;
        memcpy(r->buf, r->head + r->head_used, n);
        r->head_used = r->head_len;
    }
    n += fread(r->buf + n, 1, RAW_CHUNK - n, r->fp);
    if (n == 0) {
        r->done = true;
        if (ferror(r->fp))
            return dk_err_set(err, DK_E_IO, (int64_t)r->pos, "read error: %s", strerror(errno));
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

/* pcapng: libpcap may skip blocks (statistics, names) before a packet, so
 * the packet block is found from its end, the stream position after the read:
 * a block repeats its total length in its last 4 bytes.  `at` when unknown;
 * *hdr gets the length of the block's header up to the packet data. */
static int64_t ng_block_start(dk_cap_reader *r, FILE *fp, int64_t at, uint64_t *hdr)
{
    *hdr = NG_EPB_HDR;
    off_t end = fp ? ftello(fp) : -1;
    uint8_t b[4];
    if (at < 0 || end < 12 || pread(fileno(fp), b, 4, end - 4) != 4)
        return at;
    uint32_t len;
    memcpy(&len, b, 4);
    if (pcap_is_swapped(r->pc))
        len = __builtin_bswap32(len);
    if (len < 12 || len % 4 || (off_t)len > end - at)
        return at;
    uint32_t type;
    if (pread(fileno(fp), &type, 4, end - (off_t)len) != 4)
        return at;
    if (pcap_is_swapped(r->pc))
        type = __builtin_bswap32(type);
    if (type != 2 && type != 3 && type != 6)
        return at;
    *hdr = type == 3 ? 12 : NG_EPB_HDR; /* simple packet block: type, len, orig len */
    return (int64_t)(end - (off_t)len);
}

static int next_pcap(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    FILE *fp = pcap_file(r->pc);
    int64_t at = (int64_t)r->pos;
    if (r->ng) {
        off_t o = fp ? ftello(fp) : -1;
        at = o >= 0 ? (int64_t)o : -1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(r->pc, &h, &d);
    if (rc == PCAP_ERROR_BREAK) {
        r->done = true;
        return 0;
    }
    if (rc != 1) {
        r->done = true;
        const char *why = pcap_geterr(r->pc);
        bool cut = strstr(why, "truncated") != NULL;
        return dk_err_set(err, cut ? DK_E_TRUNCATED : DK_E_FORMAT, at, "%s %s record: %s",
                          cut ? "truncated" : "bad", r->ng ? "pcapng" : "pcap", why);
    }
    r->index++;
    r->pos += PCAP_REC_HDR + h->caplen;
    uint64_t hdr = PCAP_REC_HDR;
    if (r->ng)
        at = ng_block_start(r, fp, at, &hdr);
    int64_t t;
    if (h->ts.tv_usec < 0 || !ts_us((int64_t)h->ts.tv_sec, (uint64_t)h->ts.tv_usec, 1000000u, &t)) {
        r->done = true;
        return dk_err_set(err, DK_E_FORMAT, at, "bad %s record: time stamp %lld.%06lld s is out of range",
                          r->ng ? "pcapng" : "pcap", (long long)h->ts.tv_sec, (long long)h->ts.tv_usec);
    }
    return rtac_chunk(r, d, h->caplen, t, at >= 0 ? (uint64_t)at : 0, hdr, out, err);
}

int dk_cap_next(dk_cap_reader *r, dk_chunk *out, dk_err *err)
{
    if (r->done)
        return 0;
    if (r->fmt != DK_FMT_PCAP)
        return next_raw(r, out, err);
    return r->pc ? next_pcap(r, out, err) : next_classic(r, out, err);
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

/* One record, written with a single write(2) so that a writer killed at any
 * moment leaves whole records only (stdio would split a record into as many
 * writes as its buffer boundaries fall). The record header is in host byte
 * order, as libpcap writes the file header. */
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
