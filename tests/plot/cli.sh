#!/bin/sh
# cli.sh DFUDECODE CAPTURES [PYTHON3] - dfudecode --plot from the command line:
#   1. every bundled pcap, a raw file, two raw files and a few logs give an
#      SVG that python3's xml.etree parses, whose image lines go forward in
#      x, with one mark per anomaly of the --json summary (svgcheck.py), and
#      the transcript and exit status are those without --plot;
#   2. --plot - writes the SVG alone to stdout (no transcript);
#   3. an output that cannot be created is one line naming it, exit 2; so is
#      --plot - with --scenario -;
#   4. a raw file is drawn against byte positions, a pcap against time.
# Exit 77 (skipped) where python3 is missing.
set -u
DEC=$1 CAPS=$2 PY=${3:-$(command -v python3 || true)}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -n "$PY" ] || { echo "skipped: python3 not found"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# check NAME ARGS...: --plot beside the transcript, against --json
check() {
    name=$1
    shift
    "$DEC" "$@" >"$T/plain.txt" 2>"$T/plain.err"
    want=$?
    "$DEC" --plot "$T/$name.svg" "$@" >"$T/with.txt" 2>"$T/with.err"
    got=$?
    [ "$got" = "$want" ] || bad "$name: exit $got with --plot, $want without"
    cmp -s "$T/plain.txt" "$T/with.txt" || bad "$name: --plot changed the transcript"
    [ -s "$T/$name.svg" ] || { bad "$name: no SVG written"; return; }
    "$DEC" --json "$@" >"$T/$name.jsonl" 2>/dev/null
    "$PY" "$HERE/svgcheck.py" "$T/$name.svg" "$T/$name.jsonl" || bad "$name: svgcheck"
}

n=0
for cap in "$CAPS"/*.pcap "$CAPS"/sim/*.pcap; do
    [ -f "$cap" ] || continue
    n=$((n + 1))
    check "$(basename "$(dirname "$cap")")-$(basename "$cap" .pcap)" "$cap"
done
[ "$n" -ge 20 ] || bad "only $n bundled pcaps found in $CAPS"
check noise-raw "$CAPS/noise.raw"
check split --host "$CAPS/complete-prn0.host.raw" --target "$CAPS/complete-prn0.target.raw"
for log in nrfutil-resume-crc.log nrfutil-desync.log hex-complete.txt socat-hash.txt; do
    check "log-$log" "$CAPS/logs/$log"
done

grep -q "position in the input (bytes; the input has no time stamps)" "$T/noise-raw.svg" ||
    bad "raw: the x axis does not say byte position"
grep -q "position in the host file" "$T/split.svg" || bad "two raw files: the x axis does not say host file"
grep -q "time since the first event (s)" "$T/captures-resume.svg" || bad "pcap: the x axis is not time"

# 2. --plot - : the SVG alone on stdout
"$DEC" --plot - "$CAPS/resume.pcap" >"$T/out.svg" 2>"$T/err"
[ $? = 0 ] || bad "--plot -: exit $? ($(cat "$T/err"))"
head -c 5 "$T/out.svg" | grep -q "<?xml" || bad "--plot -: stdout does not start with the SVG"
grep -q "summary:" "$T/out.svg" && bad "--plot -: the transcript went to stdout too"
cmp -s "$T/out.svg" "$T/captures-resume.svg" || bad "--plot - differs from --plot FILE"

# 3. errors
"$DEC" --plot "$T/no/such/dir/x.svg" "$CAPS/resume.pcap" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 2 ] || bad "unwritable --plot: exit $rc, want 2"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q "^dfudecode: $T/no/such/dir/x.svg: cannot create" "$T/err" ||
    bad "unwritable --plot: error line is '$(cat "$T/err")'"
"$DEC" --plot - --scenario - "$CAPS/resume.pcap" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] || bad "--plot - --scenario -: exit $rc, '$(cat "$T/err")'"
"$DEC" --plot >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "needs an argument" "$T/err" || bad "--plot without its argument: '$(cat "$T/err")'"

echo "$n pcaps, a raw file, two raw files, 4 logs plotted"
[ "$fail" = 0 ] && echo ok
exit "$fail"
