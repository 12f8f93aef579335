#!/bin/sh
# dfucheck end to end (one MODE per CTest test).  Hosts: dfuhost, dk-testhost
# (tests/check/dk-testhost.c, bugs on demand) and, where this machine has
# them on PATH, nrfutil-6, nrfdfu and nrf-update (else exit 77 with why).
# usage: check_test.sh MODE DFUCHECK DFUHOST TESTHOST MKPKG
MODE=$1 CHECK=$2 HOST=$3 TESTHOST=$4 MKPKG=$5
T=$(mktemp -d "${TMPDIR:-/tmp}/dkcheck.XXXXXX") || exit 1
trap '[ -n "$DK_KEEP" ] || rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# run NAME [dfucheck args] -- host...: JSON lines in $T/NAME.json, exit in $rc
run() {
  name=$1; shift
  "$CHECK" --keep "$T/$name" --json "$@" >"$T/$name.json" 2>"$T/$name.err"
  rc=$?
}
# the ids of the cases with result R in NAME.json, sorted, space-separated
ids() {
  grep "\"result\":\"$2\"" "$T/$1.json" | sed 's/^{"case":"\([^"]*\)".*/\1/' | sort | tr '\n' ' ' |
    sed 's/ $//'
}
count() { grep -c "\"result\":\"$2\"" "$T/$1.json"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "$1 not on PATH: skipped"; exit 77; }; }
all=$("$CHECK" --list --json | grep -c '"case"')

case $MODE in
suite_dfuhost) # the reference host passes every case, two boards at a time
  run s -j 2 -- "$HOST" -p {port} --pkg {pkg} --prn {prn}
  [ "$rc" = 0 ] || fail "exit $rc; failing: $(ids s fail) $(cat "$T/s.err")"
  [ "$(count s pass)" = "$all" ] || fail "$(count s pass) of $all passed"
  grep -q "\"summary\":{\"cases\":$all,\"passed\":$all,\"failed\":0" "$T/s.json" || fail "summary: $(tail -n 1 "$T/s.json")"
  for c in complete kill-resume-mid-object reject-hw-version; do # artefacts where they are said to be
    line=$(grep "\"case\":\"$c\"" "$T/s.json")
    cap=$(echo "$line" | sed 's/.*"capture":"\([^"]*\)".*/\1/')
    tr=$(echo "$line" | sed 's/.*"transcript":"\([^"]*\)".*/\1/')
    [ -s "$cap" ] || fail "$c: no capture at $cap"
    grep -q "outcome:" "$tr" || fail "$c: no transcript at $tr"
  done
  grep -q '"reason":"stopped with exit 1: the target answered OBJECT_EXECUTE with EXT_ERROR HW_VERSION_FAILURE' "$T/s.json" ||
    fail "reject-hw-version's reason does not name the refusal" ;;
testhost_ok) # the test host without a bug passes everything: the sets below mean something
  run t -j 2 -- "$TESTHOST" -p {port} --pkg {pkg} --prn {prn}
  [ "$rc" = 0 ] || fail "exit $rc; failing: $(ids t fail)" ;;
testhost_no_unescape) # escapes left in answers: only the escaped answers catch it
  run t -j 2 -- "$TESTHOST" -p {port} --pkg {pkg} --prn {prn} --bug no-unescape
  [ "$rc" = 1 ] || fail "exit $rc, not 1"
  [ "$(ids t fail)" = "escaped-response" ] || fail "failing: '$(ids t fail)', want escaped-response" ;;
testhost_whole_object) # a whole object sent on a resume inside one: only that kill catches it
  run t -j 2 -- "$TESTHOST" -p {port} --pkg {pkg} --prn {prn} --bug whole-object
  [ "$rc" = 1 ] || fail "exit $rc, not 1"
  [ "$(ids t fail)" = "kill-resume-mid-object" ] || fail "failing: '$(ids t fail)', want kill-resume-mid-object" ;;
text) # the text table: one line per case with PASS/FAIL and where its files are, then totals
  "$CHECK" --keep "$T/x" --case complete --case escaped-response -- "$TESTHOST" -p {port} \
    --pkg {pkg} --bug no-unescape >"$T/x.txt" 2>&1
  rc=$?
  [ "$rc" = 1 ] || fail "exit $rc"
  grep -q "^complete  *PASS  activated.*\[complete: capture.pcap, transcript.txt\]$" "$T/x.txt" || fail "complete line: $(cat "$T/x.txt")"
  grep -q "^escaped-response  FAIL  run 1: the host exited 1:" "$T/x.txt" || fail "escaped-response line"
  grep -q "^1 passed, 1 failed of 2 cases in .* s (-j 1); artefacts in $T/x$" "$T/x.txt" || fail "totals"
  [ -s "$T/x/escaped-response/host-1.log" ] || fail "no host log" ;;
user_pkg) # --pkg: the user's package goes through the cases that can take it, signed
  "$MKPKG" --keygen "$T/k.pem" "$T/pub.pem" >/dev/null && "$MKPKG" --app 30000 --sd-req 0 --fw-version 3 \
    --key "$T/k.pem" "$T/u.zip" >/dev/null || { fail "dk-mkpkg"; exit 1; }
  run u --pkg "$T/u.zip" --public-key "$T/pub.pem" --case complete --case power-cut-boundary-saved \
    --case reject-unsigned -- "$HOST" -p {port} --pkg {pkg}
  [ "$rc" = 0 ] || fail "exit $rc; $(cat "$T/u.json" "$T/u.err")"
  /usr/bin/python3 -m zipfile -e "$T/u.zip" "$T/uz" || fail "unzip"
  cmp -s "$T/uz/app.bin" "$T/u/complete/app.bin" || fail "complete did not use --pkg"
  [ -e "$T/u/complete/app.zip" ] && fail "complete made a package of its own"
  [ -e "$T/u/reject-unsigned/app.zip" ] || fail "reject-unsigned should make its own package"
  # the same, signed packages of its own
  run g --signed --case complete --case reject-signature -- "$HOST" -p {port} --pkg {pkg}
  [ "$rc" = 0 ] || fail "--signed: exit $rc; $(cat "$T/g.json")" ;;
sweep) # a power cut at every EXECUTE: dfuhost recovers from all; a host that cannot resume does not
  run o --sweep objects -j 2 -- "$HOST" -p {port} --pkg {pkg} --response-timeout 300
  [ "$rc" = 0 ] || fail "dfuhost: exit $rc: $(cat "$T/o.json" "$T/o.err")"
  grep -q '"summary":{"sweep":"objects","points":8,"failed":0' "$T/o.json" || fail "summary: $(tail -n 1 "$T/o.json")"
  [ "$(count o pass)" = 8 ] || fail "$(count o pass) points passed, not 8"
  run n --sweep objects --save-progress -j 2 -- "$TESTHOST" -p {port} --pkg {pkg} --bug no-resume
  [ "$rc" = 1 ] || fail "no-resume: exit $rc"
  got=$(grep '"result":"fail"' "$T/n.json" | sed 's/^{"cut":\([0-9]*\),.*/\1/' | tr '\n' ' ')
  [ "$got" = "2 3 4 5 6 7 " ] || fail "no-resume: failing points '$got', want 2..7"
  grep -q '"cut":4,"what":"EXECUTE of object 3 (offset 12288)","result":"fail","reason":"run 2: the host exited 1: dk-testhost: the target holds 12288 bytes; cannot resume' "$T/n.json" ||
    fail "point 4's row: $(grep '"cut":4' "$T/n.json")"
  [ -d "$T/n/sweep-objects/execute-0004" ] && [ ! -d "$T/n/sweep-objects/execute-0001" ] ||
    fail "failures keep their artefacts, passes leave none"
  # flash operations: the reference run counts them; every one is a point
  run f --sweep flash-ops --size 8196 -j 2 -- "$HOST" -p {port} --pkg {pkg} --response-timeout 300
  pts=$(tail -n 1 "$T/f.json" | sed 's/.*"points":\([0-9]*\).*/\1/')
  ops=$(grep -c "flash op [0-9]*:" "$T/f/sweep-flash-ops/reference/dfusim.log")
  [ "$pts" = "$ops" ] && [ "$pts" -gt 100 ] || fail "flash-ops: $pts points for $ops operations"
  [ "$(grep -c '"cut":' "$T/f.json")" = "$pts" ] || fail "flash-ops: not one row per point"
  grep -q '"what":"erase 0xFF000 len 4096 (settings page)"' "$T/f.json" || fail "flash-ops: rows do not say what was cut" ;;
cli) # usage and set-up errors: exit 2, one line on stderr
  bad() { # expect exit 2 and NEEDLE on one stderr line
    needle=$1; shift
    "$CHECK" "$@" >"$T/o" 2>"$T/e"; r=$?
    [ "$r" = 2 ] || fail "$*: exit $r, not 2"
    [ "$(wc -l <"$T/e")" = 1 ] || fail "$*: $(wc -l <"$T/e") stderr lines"
    grep -q -- "$needle" "$T/e" || fail "$*: '$(cat "$T/e")' lacks '$needle'"
  }
  bad "no host command"
  bad "no such case" --case nope -- true
  bad "expected 1 to 64" -j 0 -- true
  bad "expected seconds" --timeout x -- true
  bad "multiple of 4" --size 30001 -- true
  bad "flash-ops or objects" --sweep everything -- true
  bad "goes with --pkg" --public-key /dev/null -- true
  bad "goes with --sweep" --save-progress -- true
  bad "^dfucheck: unknown option '--frob' (see dfucheck --help)\$" --frob -- true
  bad "^dfucheck: option '--keep' needs an argument (see dfucheck --help)\$" --keep
  bad "--sim /nonexistent" --sim /nonexistent -- true
  bad "--pkg $T/none.zip" --keep "$T/k" --pkg "$T/none.zip" -- true
  printf 'not a zip' >"$T/bad.zip"
  bad "not a zip archive" --keep "$T/k" --pkg "$T/bad.zip" --case complete -- true
  bad "cannot run /nonexistent/host: No such file" --keep "$T/k" --case complete -- /nonexistent/host
  bad "unknown placeholder {device}" --keep "$T/k" --case complete -- echo {device}
  "$MKPKG" --app 5000 --sd-req 0 "$T/small.zip" >/dev/null
  bad "fewer than 3 objects" --keep "$T/k" --pkg "$T/small.zip" --case kill-resume-mid-object -- true
  "$CHECK" --list >"$T/l" || fail "--list"
  [ "$(grep -c '^    relies on: .*§' "$T/l")" = "$all" ] || fail "--list: every case cites a section"
  [ "$all" -ge 22 ] || fail "$all cases"
  "$CHECK" --help | grep -q "^usage: dfucheck" || fail "--help"
  # a host that exits at once fails, with its exit status and its words
  "$CHECK" --keep "$T/h" --case complete -- sh -c 'echo "cannot open port"; exit 3' >"$T/h.txt"
  [ $? = 1 ] || fail "a failing host: exit not 1"
  grep -q "the host exited 3: cannot open port" "$T/h.txt" || fail "reason: $(cat "$T/h.txt")"
  # a host that hangs is killed at --timeout
  "$CHECK" --keep "$T/t" --timeout 1 --case complete -- sleep 30 >"$T/t.txt"
  grep -q "did not end within 1 s (killed)" "$T/t.txt" || fail "timeout: $(cat "$T/t.txt")"
  # a host that loops on a refusal: killed at --timeout, graded as such
  "$CHECK" --keep "$T/r" --timeout 2 --case reject-hw-version -- sh -c \
    "while :; do $HOST -p {port} --pkg {pkg} -q; done" >"$T/r.txt"
  grep -q "did not stop within 2 s (killed): it retries a refused update" "$T/r.txt" || fail "loop: $(cat "$T/r.txt")"
  # a host that claims success without sending anything
  "$CHECK" --keep "$T/z" --case complete --case reject-sd-req -- true >"$T/z.txt"
  grep -q "^complete .*FAIL.*the host exited 0 but bank 0 is not the image" "$T/z.txt" || fail "lying host: $(cat "$T/z.txt")"
  grep -q "^reject-sd-req .*FAIL.*the host exited 0 although the update never happened" "$T/z.txt" ||
    fail "lying host, rejection: $(cat "$T/z.txt")" ;;
nrfutil) # Nordic's nrfutil 6.1.7: a complete update and both kill-resume cases
  need nrfutil-6
  run n -j 2 --case complete --case kill-resume-mid-object --case kill-resume-boundary --timeout 60 -- \
    nrfutil-6 dfu serial -pkg {pkg} -p {port} -fc 0 -t 1 -cd 0
  [ "$rc" = 0 ] || fail "exit $rc; $(cat "$T/n.json")" ;;
nrfdfu) # infsoft-locaware/nrfdfu: sends a whole object when resuming inside one
  need nrfdfu
  run n -j 2 --case complete --case kill-resume-mid-object --case kill-resume-boundary -- \
    nrfdfu serial -p {port} {pkg}
  [ "$(ids n fail)" = "kill-resume-mid-object" ] || fail "failing: '$(ids n fail)'; $(cat "$T/n.json")" ;;
nrfupdate) # hexagon-geo-surv/libnrfu: never removes SLIP escapes from answers
  need nrf-update
  run n -j 2 --case complete --case escaped-response --case lost-frame --case reject-hw-version -- \
    nrf-update -d {port} -i {dat} -f {bin}
  [ "$(ids n fail)" = "escaped-response lost-frame" ] || fail "failing: '$(ids n fail)'; $(cat "$T/n.json")"
  grep '"case":"escaped-response"' "$T/n.json" | grep -q "CRC validation failed" ||
    fail "escaped-response: the reason does not quote nrf-update's CRC error" ;;
*) echo "unknown mode $MODE"; exit 2 ;;
esac
[ $fails -eq 0 ] || { echo "$fails failure(s) (DK_KEEP=1 keeps $T)"; exit 1; }
echo "ok: $MODE"
