#!/usr/bin/python3
"""Writes dfukit's small bad (and odd) capture inputs into DIR.

    /usr/bin/python3 tests/data/cap/gen.py tests/data/cap

Each file and what a capture reader must make of it (tests/lib/test_capfile.c
holds the same list as assertions; dfudecode must exit 2 with a one-line
"FILE: offset N: ..." error for every file marked "error"):

  empty.bin              error at offset 0: empty file
  random.bin             4096 pseudo-random bytes: raw, one chunk
  log.txt                text lines: a log, not a raw or pcap capture
  pcap-header-only.pcap  valid header, no packets: clean end, nothing read
  pcap-cut-header.pcap   13 of the 24 header bytes: error at offset 0
  pcap-cut-rechdr.pcap   one packet, then 7 bytes of a record header: error at 55
  pcap-cut-data.pcap     one packet, then a record cut inside its data: error at 55
  pcap-short-rtac.pcap   one packet, then one shorter than the 12-byte RTAC
                         header: error at 55
  pcap-huge-caplen.pcap  a record claiming 2 GiB: error at 24
  pcap-ethernet.pcap     link type 1: error naming the link type
  pcap-be-nsec.pcap      big-endian nanosecond pcap, two good packets (host
                         then target): read like any other
  pcapng-be-isb.pcapng   big-endian pcapng, two good packets (host then target)
                         with a statistics block between them: packets at
                         offsets 48 and 120
  pcapng-cut.pcapng      SHB, IDB, one EPB, then an EPB cut short: one packet,
                         then an error
  pcapng-ethernet.pcapng pcapng with an Ethernet interface: error naming it
  pcapng-huge-time.pcapng  its first packet stamped 2^64-1 us (a stamp out of
                         range once overflowed under UBSan): error at that
                         packet
  pcapng-ts-overflow.pcapng  a good packet, then one stamped 2^64-1 us (1.8e13 s,
                         whose microseconds overflow 64 bits): error at 96
  pcapng-ts-tsresol.pcapng   an interface counting whole seconds (if_tsresol 0),
                         a good packet, then one stamped 2^63 s: error at 108
  pcap-nsec-frac.pcap    little-endian nanosecond pcap, a good packet, then
                         one whose fraction is 4294967295 ns (more than a
                         second): error at 55
"""
import random
import struct
import sys

LINKTYPE_RTAC_SERIAL = 250
T0 = 1700000000


def rtac(sec, usec, event, lines, data):
    return struct.pack(">IIBBH", sec, usec, event, lines, 0) + data


PING = b"\x09\x01\xc0"
PONG = b"\x60\x09\x01\x01\xc0"


def pcap_header(endian="<", magic=0xA1B2C3D4, linktype=LINKTYPE_RTAC_SERIAL):
    return struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)


def pcap_record(pkt, sec=T0, frac=0, endian="<", caplen=None):
    n = len(pkt) if caplen is None else caplen
    return struct.pack(endian + "IIII", sec, frac, n, n) + pkt


def pcapng_block(btype, body, e="<"):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def pcapng(linktype, packets, e="<", isb_after=None, tsresol=None):
    out = pcapng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)
    opts = b""
    if tsresol is not None:  # if_tsresol (9), then opt_endofopt
        opts = struct.pack(e + "HHB3x", 9, 1, tsresol) + struct.pack(e + "HH", 0, 0)
    out += pcapng_block(1, struct.pack(e + "HHI", linktype, 0, 65535) + opts, e)
    for i, (t_us, pkt) in enumerate(packets):
        out += pcapng_block(6, struct.pack(e + "IIIII", 0, t_us >> 32, t_us & 0xFFFFFFFF,
                                           len(pkt), len(pkt)) + pkt, e)
        if i == isb_after:  # interface statistics: id, timestamp, no options
            out += pcapng_block(5, struct.pack(e + "III", 0, 0, 0), e)
    return out


def main(d):
    files = {}
    files["empty.bin"] = b""
    rng = random.Random(20240101)
    files["random.bin"] = bytes(rng.randrange(256) for _ in range(4096))
    files["log.txt"] = (b"2024-01-01 12:00:00,001 DEBUG SLIP: --> [9, 1]\n"
                        b"2024-01-01 12:00:00,004 DEBUG SLIP: <-- [96, 9, 1, 1]\n")

    p1 = pcap_record(rtac(T0, 0, 1, 0, PING))  # 16 + 12 + 3 = 31 bytes, at 24
    p2 = pcap_record(rtac(T0, 5, 2, 0, PONG), frac=5)
    files["pcap-header-only.pcap"] = pcap_header()
    files["pcap-cut-header.pcap"] = pcap_header()[:13]
    files["pcap-cut-rechdr.pcap"] = pcap_header() + p1 + p2[:7]
    files["pcap-cut-data.pcap"] = pcap_header() + p1 + p2[:16 + 6]
    files["pcap-short-rtac.pcap"] = pcap_header() + p1 + pcap_record(b"\x00\x01\x02\x03\x04")
    files["pcap-huge-caplen.pcap"] = pcap_header() + pcap_record(b"", caplen=0x80000000)
    files["pcap-ethernet.pcap"] = (pcap_header(linktype=1)
                                   + pcap_record(b"\xff" * 12 + b"\x08\x00" + b"\0" * 46))
    files["pcap-be-nsec.pcap"] = (pcap_header(">", 0xA1B23C4D)
                                  + pcap_record(rtac(T0, 0, 1, 0x18, PING), frac=1000, endian=">")
                                  + pcap_record(rtac(T0, 2, 2, 0x19, PONG), frac=2999, endian=">"))
    ng = pcapng(LINKTYPE_RTAC_SERIAL, [(T0 * 1000000, rtac(T0, 0, 1, 0, PING)),
                                       (T0 * 1000000 + 7, rtac(T0, 7, 2, 0, PONG))])
    files["pcapng-cut.pcapng"] = ng[:-9]
    files["pcapng-be-isb.pcapng"] = pcapng(LINKTYPE_RTAC_SERIAL,
                                           [(T0 * 1000000, rtac(T0, 0, 1, 0, PING)),
                                            (T0 * 1000000 + 5, rtac(T0, 5, 2, 0, PONG))],
                                           ">", isb_after=0)
    files["pcapng-ethernet.pcapng"] = pcapng(1, [(T0 * 1000000, b"\0" * 60)])
    files["pcapng-huge-time.pcapng"] = pcapng(LINKTYPE_RTAC_SERIAL,
                                              [(2**64 - 1, rtac(T0, 0, 1, 0, PING)),
                                               (T0 * 1000000 + 5, rtac(T0, 5, 2, 0, PONG))])
    files["pcapng-ts-overflow.pcapng"] = pcapng(LINKTYPE_RTAC_SERIAL,
                                                [(T0 * 1000000, rtac(T0, 0, 1, 0, PING)),
                                                 ((1 << 64) - 1, rtac(T0, 7, 2, 0, PONG))])
    files["pcapng-ts-tsresol.pcapng"] = pcapng(LINKTYPE_RTAC_SERIAL,
                                               [(T0, rtac(T0, 0, 1, 0, PING)),
                                                (1 << 63, rtac(T0, 7, 2, 0, PONG))], tsresol=0)
    files["pcap-nsec-frac.pcap"] = (pcap_header("<", 0xA1B23C4D)
                                    + pcap_record(rtac(T0, 0, 1, 0, PING), frac=1000)
                                    + pcap_record(rtac(T0, 2, 2, 0, PONG), frac=0xFFFFFFFF))

    for name, data in sorted(files.items()):
        with open(f"{d}/{name}", "wb") as f:
            f.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gen.py DIR")
    main(sys.argv[1])
