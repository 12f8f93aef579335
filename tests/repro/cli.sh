#!/bin/sh
# cli.sh DFUDECODE DFUSIM LOGDIR - the log and scenario options of dfudecode
# and dfusim: one-line errors and their exit status, --log-format forcing a
# reader, --scenario to stdout, JSON Lines of a log (tool and log events,
# the summary's host_error and log), a capture's scenario.
set -u
DEC=$1 SIM=$2 LOGS=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/dkcli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cd "$LOGS" || exit 1

# expect_err RC WORDS ARGS...: exit RC, one line on stderr holding WORDS, no stdout
expect_err() {
    want=$1 words=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq "$want" ] || fail "$*: exit $rc, expected $want"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$T/err")"
    grep -q -- "$words" "$T/err" || fail "$*: '$(cat "$T/err")' does not say '$words'"
}

expect_err 2 "unknown log format 'syslog'" "$DEC" --log-format syslog nrfutil-sd-req.log
expect_err 2 "take raw captures, not text logs" "$DEC" --format log --host a --target b
expect_err 2 "needs an argument" "$DEC" nrfutil-sd-req.log --scenario
expect_err 2 "no serial DFU session to reproduce" "$DEC" --scenario "$T/p.json" programmer-jlink.log
[ ! -e "$T/p.json" ] || fail "a Programmer log's scenario was written"
"$DEC" --scenario /nonexistent/dir/s.json nrfutil-sd-req.log >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "s.json: cannot create" "$T/err" || fail "unwritable scenario: $(cat "$T/err")"

# a scenario whose app cannot fit the chip's flash: refused, naming the
# field, before dfusim starts (it used to log "app installed" and install none)
printf '{"dfukit_scenario": 1, "device": {"app": {"size": 4294967295, "version": 1}}}\n' >"$T/big-app.json"
expect_err 2 "device.app.size: 4294967295" "$SIM" --scenario "$T/big-app.json" --show-settings
expect_err 2 "device.app.size: 4294967295" timeout 10 "$SIM" --scenario "$T/big-app.json"
printf '{"dfukit_scenario": 1, "device": {"softdevice": {"fwid": 256, "end": 1011712}}}\n' >"$T/big-sd.json"
expect_err 2 "device.softdevice.end: 0xF7000" "$SIM" --scenario "$T/big-sd.json" --show-settings

# a log forced through another reader: nothing it knows, lines named
"$DEC" --log-format socat nrfutil-sd-req.log >"$T/out" 2>"$T/err"
[ $? -eq 2 ] || fail "socat reader on an nrfutil log: not exit 2"
grep -q "no DFU message found (socat log" "$T/err" || fail "forced reader: $(cat "$T/err")"
# and the right one named explicitly reads it as detection does
"$DEC" --log-format nrfutil nrfutil-sd-req.log >"$T/forced.txt"
cmp -s "$T/forced.txt" nrfutil-sd-req.expected.txt || fail "--log-format nrfutil differs from detection"

# --scenario - : the transcript, then the scenario
"$DEC" --scenario - nrfutil-sd-req.log >"$T/both" 2>/dev/null
head -n "$(wc -l <nrfutil-sd-req.expected.txt)" "$T/both" | cmp -s - nrfutil-sd-req.expected.txt ||
    fail "--scenario -: the transcript comes first"
tail -n +"$(($(wc -l <nrfutil-sd-req.expected.txt) + 1))" "$T/both" >"$T/s.json"
"$SIM" --scenario "$T/s.json" --show-settings >/dev/null || fail "--scenario -: dfusim does not read it"

# JSON Lines of a log
"$DEC" --json nrfutil-desync.log >"$T/d.jsonl"
/usr/bin/python3 - "$T/d.jsonl" <<'EOF' || fail "JSON Lines of a log"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
tools = [e for e in ev if e["event"] == "tool"]
exc = [e for e in tools if e["kind"] == "exception"]
assert exc and exc[-1]["what"] == "unexpected_opcode", exc
assert exc[-1]["expected"] == 1 and exc[-1]["received"] == 4, exc[-1]
assert all(isinstance(e["line"], int) for e in tools)
s = ev[-1]
assert s["event"] == "summary", s
assert s["diagnosis"]["id"] == "link.desync", s["diagnosis"]
assert s["host_error"]["kind"] == "unexpected_opcode", s["host_error"]
assert s["log"]["format"] == "nrfutil" and s["log"]["unknown"] == 0, s["log"]
EOF
"$DEC" --json nrfutil-garbled.log >"$T/g.jsonl"
/usr/bin/python3 - "$T/g.jsonl" <<'EOF' || fail "JSON Lines of a garbled log"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
notes = [e for e in ev if e["event"] == "log"]
assert len(notes) == 4 and all(e["kind"] == "unknown" for e in notes), notes
assert notes[0]["line"] == 21 and "cdc_acm" in notes[0]["text"], notes[0]
cmd = [e for e in ev if e["event"] == "tool" and e.get("kind") == "command"]
assert len(cmd) == 1 and cmd[0]["text"].startswith("nrfutil -vvvv dfu serial"), cmd
s = ev[-1]
assert s["log"]["unknown"] == 4 and s["log"]["first_unknown"] == 21, s["log"]
assert s["diagnosis"]["id"] == "update.completed"
EOF
# a plain log: the failure comes from the host's words
"$DEC" --json plain-sd-req.log >"$T/p.jsonl"
/usr/bin/python3 - "$T/p.jsonl" <<'EOF' || fail "JSON Lines of a plain log"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
f = s["failure"]
assert f["from_host_log"] and f["ext"] == 7 and f["stage"] == "init" and f["op"] == "OBJECT_EXECUTE", f
assert s["outcome"] == "failed" and s["outcome_by_host"] and s["session_outcome"] == "empty", s
assert s["diagnosis"]["id"] == "init.sd_req", s
EOF

# a capture's scenario
"$DEC" --scenario "$T/c.json" ../sd-reject.pcap >/dev/null 2>&1
[ $? -eq 1 ] || fail "capture --scenario: exit status"
/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); \
assert s['source']['format']=='pcap' and s['diagnosis']=='init.sd_req' and s['init_packet']['hex'], s" \
    "$T/c.json" || fail "capture scenario"
"$SIM" --scenario "$T/c.json" --show-settings >/dev/null || fail "dfusim does not read a capture's scenario"

[ $fails -eq 0 ]
