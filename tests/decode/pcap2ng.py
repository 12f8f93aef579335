#!/usr/bin/python3
"""pcap2ng.py IN.pcap OUT.pcapng [--nsec] [--be]: the same packets as pcapng.

A section header, one interface (the pcap's link type; --nsec: if_tsresol 9,
nanosecond stamps), an interface statistics block before the first packet
and after every third (blocks a reader must skip), one enhanced packet block
per record.  --be writes the section big-endian.  For tests: the pcapng of a
capture must decode as the capture does (times and anomalies; offsets are
the pcapng file's).
"""
import struct
import sys


def main(argv):
    src, dst = argv[1], argv[2]
    nsec = "--nsec" in argv
    e = ">" if "--be" in argv else "<"
    data = open(src, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    pe = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    magic = struct.unpack(pe + "I", data[:4])[0]
    src_nsec = magic == 0xA1B23C4D
    linktype = struct.unpack(pe + "I", data[20:24])[0] & 0xFFFF

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)

    out = block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = b""
    if nsec:
        opts = struct.pack(e + "HH", 9, 1) + b"\x09\0\0\0"
    opts += struct.pack(e + "HH", 0, 0)
    out += block(1, struct.pack(e + "HHI", linktype, 0, 65535) + opts)
    isb = block(5, struct.pack(e + "III", 0, 0, 0))
    out += isb
    off, k = 24, 0
    while off + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack(pe + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ns = frac if src_nsec else frac * 1000
        ts = sec * 10**9 + ns if nsec else sec * 10**6 + ns // 1000
        out += block(6, struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, caplen, length) + pkt)
        k += 1
        if k % 3 == 0:
            out += isb
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main(sys.argv)
