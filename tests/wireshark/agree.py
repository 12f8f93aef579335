#!/usr/bin/env python3
"""agree.py DFUDECODE TSHARK LUA WORKDIR PCAP... - the Lua dissector follows
the session as dfudecode does.

For each capture, `dfudecode -v --json` against `tshark -2 -X
lua_script:LUA`:
  - anomalies: the id and the packet that holds the anomaly's last byte,
    against the dfukit expert items (the dotted id that starts each message,
    and its packet); the field dfukit.anomaly against the expert items;
  - the session: each answered request's dfukit.response_in and its
    answer's dfukit.request_in, dfukit.response_time (to the microsecond),
    dfukit.late, dfukit.check with, where dfudecode gives them,
    dfukit.expected_offset / dfukit.expected_crc (reports that differ, and
    every PRN notification), and dfukit.no_response on requests never
    answered; compared as (packet, field, value) multisets.  Besides the given captures, mutations of captures/sim/complete-prn8
and captures/resume made here (a lost answer, a lost write, a lost or
corrupted PRN notification, a duplicated answer, an answer before its
request, a corrupted init packet, an unknown opcode, a short and a long
message, a response from the host, an empty frame, a frame without END, a
capture-data-lost packet, ...) give every anomaly id a session can show a
case.  Prints one table row per capture; exit 1 on any difference that is
not a listed exception."""
import binascii
import collections
import json
import os
import struct
import subprocess
import sys

# Anomalies the dissector does not report, with the reason.  Empty: every
# id of every capture agrees, packet for packet.
EXCEPTIONS = {
    # pkg.* come from dfudecode --pkg (a package to compare with), which a
    # capture alone does not have; they never appear here.
}

# ---- pcap files ------------------------------------------------------------


def read_pcap(path):
    """(header bytes, [(record header, data, file offset of the record)])"""
    b = open(path, "rb").read()
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap")
    recs, pos = [], 24
    while pos + 16 <= len(b):
        hdr = b[pos:pos + 16]
        incl = struct.unpack(e + "IIII", hdr)[2]
        recs.append((hdr, b[pos + 16:pos + 16 + incl], pos))
        pos += 16 + incl
    return b[:24], recs, e


def write_pcap(path, head, recs, e):
    with open(path, "wb") as f:
        f.write(head)
        for hdr, data, _ in recs:
            ts, us, _, _ = struct.unpack(e + "IIII", hdr)
            f.write(struct.pack(e + "IIII", ts, us, len(data), len(data)))
            f.write(data)


def packet_of(recs, byte):
    """1-based number of the packet whose record holds file offset byte."""
    n = 0
    for i, (_, _, off) in enumerate(recs):
        if off <= byte:
            n = i + 1
    return n


# ---- what each side reports --------------------------------------------------


def frame_ends(recs):
    """{file offset of a SLIP unit's first byte: the packet of its END}, per
    line, as dfudecode's deframers see the records (line bytes after the
    16-byte record header and the 12-byte RTAC header)."""
    ends, start = {}, {1: None, 2: None}
    for n, (_, data, off) in enumerate(recs, 1):
        if len(data) < 12 or data[8] not in (1, 2):
            continue
        d = data[8]
        for i, b in enumerate(data[12:]):
            if start[d] is None:
                start[d] = off + 16 + 12 + i
            if b == 0xC0:
                ends[start[d]] = n
                start[d] = None
    return ends


def dfudecode_view(dec, pcap):
    """(anomalies, session): Counters of (id, packet) and (packet, field, value)."""
    out = subprocess.run([dec, "-v", "--json", pcap], capture_output=True, text=True)
    _, recs, _ = read_pcap(pcap)
    ends = frame_ends(recs)
    anoms, sess = collections.Counter(), collections.Counter()
    for line in out.stdout.splitlines():
        o = json.loads(line)
        ev = o.get("event")
        if ev == "anomaly":
            byte = o["end"] - 1 if o["end"] > o["pos"] else o["pos"]
            anoms[(o["id"], packet_of(recs, byte))] += 1
        elif ev == "exchange" and o.get("request") is not None:
            req = ends.get(o["pos"], packet_of(recs, o["pos"]))
            if o.get("response") is None:
                if o["request"]["op"] != "ABORT":
                    sess[(req, "no_response", "1")] += 1
                continue
            rsp = packet_of(recs, o["end"] - 1)
            sess[(req, "response_in", str(rsp))] += 1
            sess[(rsp, "request_in", str(req))] += 1
            sess[(rsp, "response_time", "%.6f" % (o["latency_ms"] / 1000))] += 1
            if o["late"]:
                sess[(rsp, "late", "1")] += 1
            if o["check"] != "none":
                sess[(rsp, "check", o["check"])] += 1
            if "expected_offset" in o:
                sess[(rsp, "expected_offset", str(o["expected_offset"]))] += 1
                sess[(rsp, "expected_crc", o["expected_crc"])] += 1
        elif ev == "hci":  # legacy HCI DFU: a packet and the ACK that answers it
            req = ends.get(o["pos"], packet_of(recs, o["pos"]))
            sess[(req, "verdict", o["verdict"])] += 1
            if o["ack"] is not None:
                ack = packet_of(recs, o["end"] - 1)
                sess[(req, "response_in", str(ack))] += 1
                sess[(ack, "request_in", str(req))] += 1
                sess[(ack, "response_time", "%.6f" % (o["latency_ms"] / 1000))] += 1
        elif ev == "prn" and o["check"] != "none":
            pkt = packet_of(recs, o["end"] - 1)
            sess[(pkt, "check", o["check"])] += 1
            sess[(pkt, "expected_offset", str(o["expected_offset"]))] += 1
            sess[(pkt, "expected_crc", o["expected_crc"])] += 1
    return anoms, sess


SESSION_FIELDS = ["dfukit.response_in", "dfukit.request_in", "dfukit.response_time", "dfukit.late",
                  "dfukit.check", "dfukit.expected_offset", "dfukit.expected_crc", "dfukit.no_response",
                  "dfukit.legacy.verdict"]


def tshark_view(tshark, lua, pcap, ids):
    cmd = [tshark, "-2", "-X", "lua_script:" + lua, "-r", pcap, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=\x1f", "-e", "frame.number",
           "-e", "_ws.expert.message", "-e", "dfukit.anomaly"]
    for f in SESSION_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True)
    experts, fields, sess = collections.Counter(), collections.Counter(), collections.Counter()
    errors = [l for l in out.stderr.splitlines() if "lua" in l.lower() and "error" in l.lower()]
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (3 + len(SESSION_FIELDS) - len(cols))
        frame = int(cols[0])
        for msg in (cols[1].split("\x1f") if cols[1] else []):
            aid = msg.split(":", 1)[0]
            if aid in ids:
                experts[(aid, frame)] += 1
        for aid in (cols[2].split("\x1f") if cols[2] else []):
            fields[(aid, frame)] += 1
        for name, col in zip(SESSION_FIELDS, cols[3:]):
            for v in (col.split("\x1f") if col else []):
                short = name.rsplit(".", 1)[1]
                if short == "response_time":
                    v = "%.6f" % float(v)
                if short in ("late", "no_response"):
                    v = "1" if v in ("1", "True") else "0"
                    if v == "0":
                        continue
                sess[(frame, short, v)] += 1
    return experts, fields, sess, errors, out.returncode


# ---- mutations -----------------------------------------------------------------


def slip_decode(line):
    out, esc = bytearray(), False
    for b in line:
        if esc:
            out.append(0xC0 if b == 0xDC else 0xDB)
            esc = False
        elif b == 0xDB:
            esc = True
        elif b != 0xC0:
            out.append(b)
    return bytes(out)


def slip_encode(msg):
    return msg.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


def msg_of(rec):
    data = rec[1]
    return data[8], slip_decode(data[12:])


def with_msg(rec, msg):
    hdr, data, off = rec
    return (hdr, data[:12] + slip_encode(msg), off)


def find(recs, pred, nth=0):
    hits = [i for i, r in enumerate(recs) if len(r[1]) > 12 and pred(*msg_of(r))]
    return hits[nth]


def is_rsp(op):
    return lambda ev, m: ev == 2 and len(m) >= 2 and m[0] == 0x60 and m[1] == op


def is_req(op):
    return lambda ev, m: ev == 1 and len(m) >= 1 and m[0] == op


def crc_answers_after(recs, req_op):
    """Indexes of the target's CRC_GET-shaped answers (60 03) whose latest
    host frame before them is req_op: 0x08 gives PRN notifications, 0x03
    CRC_GET answers."""
    out, last = [], None
    for i, r in enumerate(recs):
        if len(r[1]) <= 12:
            continue
        ev, m = msg_of(r)
        if ev == 1 and m:
            last = m[0]
        elif is_rsp(0x03)(ev, m) and last == req_op:
            out.append(i)
    return out


# ---- legacy HCI packets ------------------------------------------------------


def hci_build(seq, payload, len_field=None, bad_checksum=False, bad_crc=False):
    n = len(payload) if len_field is None else len_field
    b0 = seq | ((seq + 1) & 7) << 3 | 0x40 | 0x80
    b1, b2 = 14 | (n & 0xF) << 4, (n >> 4) & 0xFF
    b3 = (-(b0 + b1 + b2) + (1 if bad_checksum else 0)) & 0xFF
    pkt = bytes([b0, b1, b2, b3]) + payload
    crc = binascii.crc_hqx(pkt, 0xFFFF) ^ (0x0101 if bad_crc else 0)
    return pkt + struct.pack("<H", crc)


def hci_of(rec):
    """(seq, payload) of a host record holding one HCI packet."""
    pkt = slip_decode(rec[1][12:])
    return pkt[0] & 7, pkt[4:-2]


def with_hci(rec, pkt):
    hdr, data, off = rec
    return (hdr, data[:12] + b"\xc0" + slip_encode(pkt), off)


def lg_kind(n):
    """Is a host record a legacy packet of kind n?"""
    return lambda ev, m: ev == 1 and len(m) >= 10 and struct.unpack("<I", m[4:8])[0] == n


def is_ack(ev, m):
    return ev == 2 and len(m) == 4 and m[1] == 0 and m[2] == 0


def lg_mutations(legacy):
    def edit(idx_fn, fn, **opts):
        def go(r):
            i = idx_fn(r)
            seq, payload = hci_of(r[i])
            return r[:i] + [with_hci(r[i], hci_build(seq, fn(payload), **opts))] + r[i + 1:]
        return go

    def dup(idx_fn):
        return lambda r: r[:idx_fn(r) + 1] + [r[idx_fn(r)]] + r[idx_fn(r) + 1:]

    def ack_as(idx_fn, delta):
        def go(r):
            i = idx_fn(r)
            n = ((msg_of(r[i])[1][0] >> 3) + delta) & 7
            b0 = n << 3
            return r[:i] + [with_hci(r[i], bytes([b0, 0, 0, -b0 & 0xFF]))] + r[i + 1:]
        return go

    data = lambda k: (lambda r: find(r, lg_kind(4), k))
    same = lambda p: p
    init_body = lambda body: lambda p: p[:4] + body
    return {
        "legacy-bad-crc": (legacy, edit(data(0), same, bad_crc=True)),
        "legacy-bad-header": (legacy, edit(data(0), same, bad_checksum=True)),
        "legacy-bad-length": (legacy, edit(data(1), same, len_field=100)),
        "legacy-retransmit": (legacy, dup(data(2))),
        "legacy-ack-number": (legacy, ack_as(lambda r: find(r, is_ack, 5), 3)),
        "legacy-ack-twice": (legacy, dup(lambda r: find(r, is_ack, 4))),
        "legacy-init-sd-req": (legacy, edit(lambda r: find(r, lg_kind(1), 0),
                                            init_body(bytes.fromhex("5200ffffffffffff00008aca")))),
        "legacy-init-short": (legacy, edit(lambda r: find(r, lg_kind(1), 0), init_body(bytes(8)))),
        "legacy-init-rev": (legacy, edit(lambda r: find(r, lg_kind(3), 0),
                                         lambda p: p[:4] + struct.pack("<IIII", 1, struct.unpack("<I", p[16:20])[0],
                                                                       0, 0))),
        "legacy-partial-word": (legacy, edit(data(0), lambda p: p[:-1])),
        "legacy-unknown-kind": (legacy, edit(data(0), lambda p: struct.pack("<I", 9) + p[4:])),
    }


def mutations(prn8, resume):
    """name -> (source, function(recs) -> recs)"""
    def drop(idx_fn):
        return lambda r: r[:idx_fn(r)] + r[idx_fn(r) + 1:]

    def edit(idx_fn, fn):
        def go(r):
            i = idx_fn(r)
            return r[:i] + [with_msg(r[i], fn(msg_of(r[i])[1]))] + r[i + 1:]
        return go

    def flip_last(m):
        return m[:-1] + bytes([m[-1] ^ 0xFF])

    def dup(idx_fn):
        return lambda r: r[:idx_fn(r) + 1] + [r[idx_fn(r)]] + r[idx_fn(r) + 1:]

    def raw(idx_fn, fn):
        def go(r):
            i = idx_fn(r)
            hdr, data, off = r[i]
            return r[:i] + [(hdr, fn(data), off)] + r[i + 1:]
        return go

    def insert_after(idx_fn, fn):
        def go(r):
            i = idx_fn(r)
            hdr, data, off = r[i]
            return r[:i + 1] + [(hdr, fn(data), off)] + r[i + 1:]
        return go

    first_prn = lambda r: crc_answers_after(r, 0x08)[0]
    crc_answer = lambda r: crc_answers_after(r, 0x03)[1]  # object 1's
    m = {
        "lost-execute-answer": (prn8, drop(lambda r: find(r, is_rsp(0x04), 1))),
        "lost-crc-answer": (prn8, drop(crc_answer)),
        "lost-prn": (prn8, drop(first_prn)),
        "lost-3-prns": (prn8, lambda r: [x for i, x in enumerate(r) if i not in crc_answers_after(r, 0x08)[1:4]]),
        "prn-crc-corrupt": (prn8, edit(first_prn, flip_last)),
        "prn-offset-wrong": (prn8, edit(first_prn, lambda m: m[:3] + bytes([m[3] ^ 0x40]) + m[4:])),
        "crc-answer-corrupt": (prn8, edit(crc_answer, flip_last)),
        "lost-write": (prn8, drop(lambda r: find(r, is_req(0x08), 80))),
        "dup-answer": (prn8, dup(lambda r: find(r, is_rsp(0x01), 1))),
        "ping-answer-dup": (prn8, dup(lambda r: find(r, is_rsp(0x09), 0))),
        "select-reports-more": (prn8, edit(lambda r: find(r, is_rsp(0x06), 1),
                                           lambda m: m[:7] + bytes([m[7] + 1]) + m[8:])),
        "create-refused": (prn8, edit(lambda r: find(r, is_rsp(0x01), 1), lambda m: m[:2] + b"\x04")),
        "init-corrupt": (prn8, edit(lambda r: find(r, is_req(0x08), 0), lambda m: m[:1] + b"\xff\xff" + m[3:])),
        "unknown-opcode": (prn8, edit(lambda r: find(r, is_req(0x07), 0), lambda m: b"\x77")),
        "short-answer": (prn8, edit(lambda r: find(r, is_rsp(0x07), 0), lambda m: m[:4])),
        "long-request": (prn8, edit(lambda r: find(r, is_req(0x07), 0), lambda m: m + b"\x00")),
        "host-sends-response": (prn8, insert_after(lambda r: find(r, is_req(0x09), 0),
                                                   lambda d: d[:12] + slip_encode(b"\x60\x09\x01\x01"))),
        "empty-frame": (prn8, insert_after(lambda r: find(r, is_req(0x09), 0), lambda d: d[:12] + b"\xc0")),
        "bad-escape": (prn8, insert_after(lambda r: find(r, is_req(0x09), 0), lambda d: d[:12] + b"\x09\xdb\x01\xc0")),
        "noise-before-request": (prn8, edit(lambda r: find(r, is_req(0x07), 0), lambda m: b"\x0d" + m)),
        "no-end-at-the-end": (prn8, lambda r: r[:-2] + [(r[-2][0], r[-2][1][:-1], r[-2][2])]),
        "data-lost": (prn8, insert_after(lambda r: find(r, is_req(0x08), 30), lambda d: d[:8] + b"\x05" + d[9:12])),
        "execute-early": (prn8, lambda r: r[:find(r, is_req(0x08), 60)] + [r[find(r, is_req(0x04), 1)]] +
                          r[find(r, is_req(0x08), 60):]),
        "init-rejected": (prn8, edit(lambda r: find(r, is_rsp(0x04), 0), lambda m: b"\x60\x04\x0b\x07")),
        "init-not-executed": (prn8, lambda r: [x for i, x in enumerate(r)
                                               if i not in (find(r, is_req(0x04), 0), find(r, is_rsp(0x04), 0))]),
        "answer-for-another": (prn8, edit(lambda r: find(r, is_rsp(0x07), 0), lambda m: b"\x60\x09\x01\x01")),
        "object-smaller": (prn8, edit(lambda r: find(r, is_req(0x01), 1),
                                      lambda m: m[:2] + struct.pack("<I", 1024))),
        "object-type-invalid": (prn8, edit(lambda r: find(r, is_req(0x01), 2), lambda m: m[:1] + b"\x05" + m[2:])),
        "init-not-created": (prn8, lambda r: [x for i, x in enumerate(r)
                                              if i not in (find(r, is_req(0x01), 0), find(r, is_rsp(0x01), 0))]),
        "frame-too-long": (prn8, insert_after(lambda r: find(r, is_req(0x09), 0),
                                              lambda d: d[:12] + b"\x08" * 9000 + b"\xc0")),
        "resume-lost-answer": (resume, drop(lambda r: find(r, is_rsp(0x06), 2))),
        "resume-select-less": (resume, edit(lambda r: find(r, is_rsp(0x06), 3),
                                            lambda m: m[:7] + bytes([m[7] - 1]) + m[8:])),
    }
    return m


def main(argv):
    dec, tshark, lua, work = argv[1:5]
    caps = argv[5:]
    listing = subprocess.run([dec, "--list"], capture_output=True, text=True).stdout
    section = listing.split("diagnoses:")[0]  # the anomaly ids, one a line
    ids = {l.split()[0] for l in section.splitlines() if l.startswith("  ")}
    prn8 = next(c for c in caps if c.endswith("sim/complete-prn8.pcap"))
    resume = next(c for c in caps if c.endswith("/resume.pcap"))
    legacy = next((c for c in caps if c.endswith("/legacy-complete.pcap")), None)
    top = os.path.dirname(os.path.dirname(os.path.abspath(prn8)))  # captures/
    todo = [(os.path.relpath(os.path.abspath(c), top) if os.path.abspath(c).startswith(top + os.sep)
             else "generated/" + os.path.basename(c), c) for c in caps]
    muts = mutations(prn8, resume)
    if legacy:
        muts.update(lg_mutations(legacy))
    for name, (src, fn) in muts.items():
        head, recs, e = read_pcap(src)
        path = os.path.join(work, name + ".pcap")
        write_pcap(path, head, fn(recs), e)
        todo.append(("mutated/" + name, path))
    bad = 0
    seen_ids = collections.Counter()
    links = 0
    print(f"{'capture':34} {'dfudecode':>9} {'tshark':>6} {'links':>6}  anomaly ids (count)")
    for name, path in todo:
        want, want_sess = dfudecode_view(dec, path)
        got, fields, got_sess, errors, rc = tshark_view(tshark, lua, path, ids)
        problems = []
        if rc != 0 or errors:
            problems.append(f"tshark exit {rc}: {' / '.join(errors[:3])}")
        if fields != got:
            problems.append(f"dfukit.anomaly fields {dict(fields - got)} / experts {dict(got - fields)} differ")
        for key in sorted(set(want) | set(got)):
            if want[key] != got[key] and key[0] not in EXCEPTIONS:
                problems.append(f"{key[0]} in packet {key[1]}: dfudecode {want[key]}, tshark {got[key]}")
        for key in sorted(set(want_sess) | set(got_sess)):
            if want_sess[key] != got_sess[key]:
                problems.append(f"packet {key[0]} {key[1]}={key[2]}: dfudecode {want_sess[key]}, "
                                f"tshark {got_sess[key]}")
        n_links = sum(k for (_, f, _), k in want_sess.items() if f == "request_in")
        links += n_links
        per_id = collections.Counter()
        for (aid, _), k in want.items():
            per_id[aid] += k
        seen_ids.update(per_id.keys())
        ids_text = ", ".join(f"{a} ({k})" for a, k in sorted(per_id.items())) or "-"
        print(f"{name:34} {sum(want.values()):>9} {sum(got.values()):>6} {n_links:>6}  {ids_text}"
              f"{'  AGREE' if not problems else '  DIFFER'}")
        for p in problems[:12]:
            print(f"    FAIL: {p}")
        bad += bool(problems)
    never = sorted(i for i in ids if i not in seen_ids and not i.startswith("pkg."))
    print(f"{len(todo)} captures, {len(todo) - bad} agree ({links} request/response links); "
          f"ids never exercised: {', '.join(never) or 'none'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
