"""check.py - JSON checks for tests/repro/repro.sh (run by /usr/bin/python3).

  check.py diag JSONL ID            the summary's diagnosis is ID
  check.py same LOG.json RERUN.json the rerun failed the same way: outcome,
                                    stage, request, result, extended error,
                                    diagnosis, the host's exception kind
  check.py symptom WHAT SCEN.json CAPTURE.jsonl
                                    the rerun's capture shows the symptom:
                                    late=OP, held=OFFSET, crc=OP, silent=OP
Exit 0 when it holds, 1 with one line per difference.
"""
import json
import sys

# What a rerun on a pty cannot show, so the rerun's diagnosis is the general
# row: the host's RTS/CTS waiting on CTS (no modem lines on a pty).
RERUN_SAME = {"link.flow_control": {"link.no_answer"}}


def load(path):
    with open(path) as f:
        return json.load(f)


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summary(events):
    s = [e for e in events if e.get("event") == "summary"]
    if not s:
        sys.exit("no summary in the decoder's output")
    return s[-1]


def num(v):
    return int(v, 0) if isinstance(v, str) else v


def diag(args):
    path, want = args
    got = summary(jsonl(path)).get("diagnosis", {}).get("id")
    if got != want:
        print(f"diagnosis {got}, expected {want}")
        return 1
    return 0


def same(args):
    a, b = load(args[0]), load(args[1])
    bad = []
    da, db = a["diagnosis"], b["diagnosis"]
    if da != db and db not in RERUN_SAME.get(da, ()):
        bad.append(f"diagnosis {db}, the log's {da}")
    fa, fb = a["failure"], b["failure"]
    # a log without the messages (nrfutil without -v) knows only what the
    # host's exception says: the result and extended error it names
    keys = ("result", "ext") if fa["outcome"] == "empty" else ("outcome", "stage", "opcode", "result", "ext")
    for k in keys:
        if fa[k] != fb[k]:
            bad.append(f"failure.{k} {fb[k]!r}, the log's {fa[k]!r}")
    if fa["host_error_kind"] and fb["host_error_kind"] and fa["host_error_kind"] != fb["host_error_kind"]:
        bad.append(f"host error {fb['host_error_kind']!r}, the log's {fa['host_error_kind']!r}")
    for line in bad:
        print(line)
    return 1 if bad else 0


def symptom(args):
    what, scen, ev = args[0], load(args[1]), jsonl(args[2])
    kind, _, val = what.partition("=")
    xs = [e for e in ev if e.get("event") == "exchange" and e.get("request")]
    if kind == "late":
        op = num(val)
        if not any(e["late"] and e["request"]["opcode"] == op for e in xs):
            print(f"no late answer to request 0x{op:02x} in the rerun")
            return 1
        return 0
    if kind == "held":
        sel = [e for e in xs if e["request"]["op"] == "OBJECT_SELECT" and e["request"].get("type") == "DATA"]
        if not sel or not sel[0]["response"]:
            print("no SELECT data answered in the rerun")
            return 1
        r, st = sel[0]["response"], scen["start"]["data"]
        if r.get("offset") != num(val) or num(r.get("crc")) != num(st["crc"]):
            print(f"SELECT data reported {r.get('offset')}/{r.get('crc')}, the log's {val}/{st['crc']}")
            return 1
        return 0
    if kind == "crc":
        op = num(val)
        if not any(e["check"] in ("crc_mismatch", "offset_mismatch") and e["request"]["opcode"] == op for e in xs):
            print(f"no answer to 0x{op:02x} that failed its check in the rerun")
            return 1
        return 0
    if kind == "silent":
        op = num(val)
        if not any(e["request"]["opcode"] == op and not e["response"] for e in xs):
            print(f"no unanswered request 0x{op:02x} in the rerun")
            return 1
        return 0
    print(f"unknown symptom {what}")
    return 1


def main():
    cmds = {"diag": diag, "same": same, "symptom": symptom}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))


if __name__ == "__main__":
    main()
