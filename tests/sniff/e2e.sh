#!/bin/sh
# e2e.sh SNIFF SIM HOST DECODE MKPKG - dfuhost -> dfusniff -> dfusim on ptys.
# A signed 3-object application (PRN 3) goes through dfusniff --live; dfudecode
# must give the same transcript (timestamps, latencies and byte positions
# aside) for dfusniff's capture as for dfusim's own --capture, and call it
# completed; and what --live printed must be dfudecode's transcript of
# dfusniff's capture (byte positions aside: the live stream has no file).
set -u
SNIFF=$1 SIM=$2 HOST=$3 DECODE=$4 MKPKG=$5
T=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# first line a background tool prints (its pty), waiting up to 5 s
first_line() {
    i=0
    while [ $i -lt 100 ]; do
        l=$(head -n 1 "$1" 2>/dev/null)
        case "$l" in /dev/*) echo "$l"; return 0 ;; esac
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

"$MKPKG" --keygen "$T/key.pem" "$T/pub.pem" >/dev/null || fail "dk-mkpkg --keygen"
"$MKPKG" --app 10000 --sd-req 0 --key "$T/key.pem" "$T/app.zip" >/dev/null || fail "dk-mkpkg"

"$SIM" --public-key "$T/pub.pem" --capture "$T/sim.pcap" >"$T/sim.out" 2>"$T/sim.err" &
pids="$pids $!"
SIMPTY=$(first_line "$T/sim.out") || fail "dfusim printed no pty: $(cat "$T/sim.err")"

"$SNIFF" --port "$SIMPTY" --live -w "$T/sniff.pcap" >"$T/sniff.out" 2>"$T/sniff.err" &
SNIFFPID=$!
pids="$pids $SNIFFPID"
HOSTPTY=$(first_line "$T/sniff.out") || fail "dfusniff printed no pty: $(cat "$T/sniff.err")"

"$HOST" -p "$HOSTPTY" --pkg "$T/app.zip" --prn 3 -q >"$T/host.out" 2>&1 ||
    fail "dfuhost failed through dfusniff: $(cat "$T/host.out")"
sleep 0.2 # the last answer reaches both captures
kill "$SNIFFPID"
wait "$SNIFFPID"
rc=$?
[ $rc = 0 ] || fail "dfusniff exited $rc: $(cat "$T/sniff.err")"
for p in $pids; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
pids=""

"$DECODE" "$T/sniff.pcap" >"$T/sniff.txt" 2>&1
rc=$?
[ $rc = 0 ] || fail "dfudecode on dfusniff's capture exited $rc: $(tail -5 "$T/sniff.txt")"
"$DECODE" "$T/sim.pcap" >"$T/sim.txt" 2>&1 || fail "dfudecode on dfusim's capture failed: $(tail -5 "$T/sim.txt")"
grep -q "outcome: *completed" "$T/sniff.txt" || fail "not completed: $(cat "$T/sniff.txt")"

# timestamps, latencies, byte positions and timing totals differ by nature
norm() {
    sed -E -e 's/^ *[0-9]+\.[0-9]{6}  //' -e 's/  \([0-9.]+ ms\)//g' -e 's/ ?\[bytes [0-9]+\.\.[0-9]+\]//g' \
        -e '/^  (duration|throughput):/d' "$1"
}
norm "$T/sniff.txt" >"$T/sniff.norm"
norm "$T/sim.txt" >"$T/sim.norm"
if ! diff -u "$T/sim.norm" "$T/sniff.norm" >"$T/diff"; then
    cat "$T/diff"
    fail "transcripts differ (- dfusim --capture, + dfusniff)"
fi
# --live: everything after the pty line
tail -n +2 "$T/sniff.out" | sed -E -e 's/ ?\[bytes [0-9]+\.\.[0-9]+\]//g' >"$T/live.txt"
sed -E -e 's/ ?\[bytes [0-9]+\.\.[0-9]+\]//g' "$T/sniff.txt" >"$T/sniff.nopos"
if ! diff -u "$T/sniff.nopos" "$T/live.txt" >"$T/diff"; then
    cat "$T/diff"
    fail "--live differs from dfudecode of the capture (- dfudecode, + --live)"
fi
n=$(grep -c . "$T/sniff.norm")
[ "$n" -gt 10 ] || fail "transcript too short ($n lines)"
echo "ok: $n transcript lines identical (dfusim capture, dfusniff capture, dfusniff --live)"
