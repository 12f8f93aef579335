#!/usr/bin/env python3
"""pngstat.py PNG [#rrggbb ...] - what a screenshot shows, without PIL:
prints "WIDTH HEIGHT NONWHITE COLOURS" (pixels that are not white, distinct
colours) and, for each colour asked for, "#rrggbb N" (pixels of exactly
that colour).  Reads 8-bit RGB/RGBA/grey PNGs, not interlaced (what
Chromium writes); exit 2 on anything else."""
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    chans = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or chans is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, type {ctype}, interlace {interlace})")
    raw = zlib.decompress(b"".join(idat))
    stride = w * chans
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - chans] if i >= chans else 0
            b = prev[i]
            c = prev[i - chans] if i >= chans else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, chans, rows


def main(argv):
    try:
        w, h, chans, rows = read_png(argv[1])
    except (OSError, ValueError, zlib.error, struct.error, TypeError) as e:
        print(f"pngstat: {argv[1]}: {e}", file=sys.stderr)
        return 2
    counts = {}
    for row in rows:
        for i in range(0, len(row), chans):
            px = row[i:i + 3] if chans >= 3 else bytes([row[i]] * 3)
            counts[px] = counts.get(px, 0) + 1
    nonwhite = w * h - counts.get(b"\xff\xff\xff", 0)
    print(w, h, nonwhite, len(counts))
    for c in argv[2:]:
        print(c, counts.get(bytes.fromhex(c.lstrip("#")), 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
