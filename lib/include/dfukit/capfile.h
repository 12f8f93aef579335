/* capfile.h - capture files in and out.
 *
 * dfukit's one pcap link type is LINKTYPE_RTAC_SERIAL (250), which
 * tshark/Wireshark open as "RTAC Serial" and which keeps the direction and the
 * control lines of every packet.  Each packet is a 12-byte header and the
 * bytes as they crossed the line (still SLIP-framed):
 *
 *   off  size  field
 *   0    4     timestamp seconds, big-endian
 *   4    4     timestamp microseconds, big-endian
 *   8    1     event: 0x01 DATA_TX_START = host -> target,
 *                     0x02 DATA_RX_START = target -> host,
 *                     0x00 STATUS_CHANGE = control lines changed (no data),
 *                     0x05 CAPTURE_DATA_LOST
 *   9    1     control lines: CTS 0x01, DCD 0x02, DSR 0x04, RTS 0x08,
 *                             DTR 0x10, RING 0x20
 *   10   2     footer, 0
 *   12   ...   data
 *
 * Readers produce chunks {time, direction, bytes, file offset} from:
 *   raw     one line or both merged (direction left DK_DIR_UNKNOWN: the
 *           decoder infers it per frame, a response starts with 0x60)
 *   pcap    classic pcap (either byte order, micro- or nanosecond stamps)
 *           and pcapng (its sections' byte orders, if_tsresol, if_tsoffset;
 *           blocks other than interfaces and packets skipped), both parsed
 *           here from a 1 MiB buffer.  Link type RTAC_SERIAL.
 * Any input reads the same: a file, standard input, a pipe or a FIFO
 * (input.h: the head that was sniffed is read again, nothing is rewound),
 * with the same file offsets.  Memory is bounded: one read buffer, one
 * chunk at a time.
 */
#ifndef DFUKIT_CAPFILE_H
#define DFUKIT_CAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/err.h"
#include "dfukit/input.h"
#include "dfukit/msg.h"

#define DK_LINKTYPE 250 /* LINKTYPE_RTAC_SERIAL */
#define DK_CAP_HDR_LEN 12

enum {
    DK_CAP_EV_STATUS = 0x00,
    DK_CAP_EV_TX = 0x01, /* host -> target */
    DK_CAP_EV_RX = 0x02, /* target -> host */
    DK_CAP_EV_LOST = 0x05,
};

enum {
    DK_LINE_CTS = 0x01,
    DK_LINE_DCD = 0x02,
    DK_LINE_DSR = 0x04,
    DK_LINE_RTS = 0x08,
    DK_LINE_DTR = 0x10,
    DK_LINE_RING = 0x20,
};

typedef enum {
    DK_FMT_AUTO = 0,
    DK_FMT_RAW,
    DK_FMT_PCAP,   /* pcap or pcapng: libpcap tells them apart */
    DK_FMT_LOG,    /* text logs: handled by the decoder's log readers */
} dk_cap_format;

typedef struct {
    int64_t t_us;        /* microseconds since the epoch; -1 when unknown */
    dk_dir dir;
    uint8_t event;       /* DK_CAP_EV_* (raw files: TX/RX from dir, or TX) */
    uint8_t lines;       /* control lines, when the capture has them */
    const uint8_t *data; /* valid until the next dk_cap_next */
    size_t len;
    uint64_t file_off;   /* offset of data[0] in the file (raw), or of the
                            packet record (pcap) */
    uint64_t data_off;   /* offset of data[0] in the file (all formats) */
    uint64_t index;      /* packet number, from 1 (raw: chunk number) */
} dk_chunk;

typedef struct dk_cap_reader dk_cap_reader;

/* Guess a file's format from its first bytes (pcap/pcapng magic, text that
 * looks like a log, else raw). */
dk_cap_format dk_cap_sniff(const uint8_t *head, size_t len);

/* Open a capture. fmt AUTO sniffs the first DK_INPUT_HEAD bytes. dir applies
 * to raw files: the line they hold (DK_DIR_UNKNOWN for both lines merged).
 * DK_FMT_LOG is not handled here (DK_E_UNSUPPORTED). An empty file is an
 * error (offset 0). Path "-" reads standard input. */
dk_cap_reader *dk_cap_open(const char *path, dk_cap_format fmt, dk_dir dir, dk_err *err);

/* The same on an input already open, whose head may have been peeked
 * (dk_input_peek) but not read.  The reader owns in from here, also when
 * it returns NULL. */
dk_cap_reader *dk_cap_open_input(dk_input *in, dk_cap_format fmt, dk_dir dir, dk_err *err);

/* 1: a chunk, 0: end of file, <0: error (err says where; chunks read so far
 * stay valid, the reader is then at its end).
 * A record whose time stamp has no microsecond value in 0..INT64_MAX (a
 * pcapng stamp, scaled by its interface's if_tsresol and if_tsoffset, of
 * 2^63 us or more or before 1970; a pcap fraction of a second or more) is
 * an error, DK_E_FORMAT at the record's offset: "bad pcapng record: time
 * stamp S.U s is out of range", "bad pcap record: time stamp S.F: the
 * fraction is a second or more".  Not clamped: a made-up time would
 * reorder the transcript and its latencies without a word, and t_us < 0
 * already means "no time" to every reader.  (libpcap reads classic pcap on
 * a pipe and truncates such a fraction itself: that path cannot tell.) */
int dk_cap_next(dk_cap_reader *r, dk_chunk *out, dk_err *err);

dk_cap_format dk_cap_format_of(const dk_cap_reader *r);
void dk_cap_close(dk_cap_reader *r);

typedef struct dk_cap_writer dk_cap_writer;

/* Create a pcap file (path "-" = stdout) with dk_file_create (file.h): never
 * through a symlink, a new file 0600, an existing one overwritten, a FIFO
 * allowed (the open waits for its reader).  Every packet is flushed at
 * once, so a writer killed at any moment leaves a readable file. */
dk_cap_writer *dk_cap_create(const char *path, dk_err *err);

/* One chunk of line data. t_us < 0: now. */
dk_status dk_cap_write(dk_cap_writer *w, int64_t t_us, dk_dir dir, const uint8_t *data,
                       size_t len, dk_err *err);

/* A control-line change (STATUS_CHANGE packet with no data). */
dk_status dk_cap_write_lines(dk_cap_writer *w, int64_t t_us, uint8_t lines, dk_err *err);

/* Current control lines stamped on later data packets. */
void dk_cap_set_lines(dk_cap_writer *w, uint8_t lines);

dk_status dk_cap_close_writer(dk_cap_writer *w, dk_err *err);

/* Microseconds since the epoch (CLOCK_REALTIME): for adapters, not cores. */
int64_t dk_now_us(void);

#endif
