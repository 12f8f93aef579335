#!/bin/sh
# badinput.sh DFUDECODE DKGENLOG CAPDIR - dfudecode given bad input: a clear
# one-line error or a partial decode, never a crash, and memory that does not
# grow with the input (peak RSS from /usr/bin/time -f %M, under LIMIT_KB).
#   1. 1 MB of random bytes as --format log: no known format, exit 2, one line
#   2. the same forced as --log-format nrfutil: every line not understood,
#      the first DD_LOG_NOTES of them shown, "no DFU message found", exit 2
#   3. a 100 MB nrfutil log (complete updates repeated): decoded, exit 0
#   4. an nrfutil log with 1 MB lines in the middle (one a SLIP byte list, one
#      of letters) and one 1 MB line without LF at the end: the long lines are
#      skipped and named, the rest decodes as far as it goes
#   5. captures whose time stamps are out of range (CAPDIR, tests/data/cap/gen.py):
#      microseconds that overflowed a signed 64-bit multiply (a huge pcapng
#      stamp, a pcapng interface counting whole seconds) or a nanosecond pcap
#      fraction of more than a second: the packets before it decode, then one
#      line "FILE: offset N: bad ... record: time stamp ...", exit 2
set -u
DEC=$1 GEN=$2 CAPS=$3
LIMIT_KB=65536
T=$(mktemp -d "${TMPDIR:-/tmp}/dkbad.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Under AddressSanitizer freed memory waits in a quarantine (256 MB by
# default) before it is reused: the peak RSS would be ASan's, not dfudecode's.
# A small quarantine keeps the limit about the program (a log of many runs
# frees each run's tracker, and that is not growth).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
export ASAN_OPTIONS

# run NAME ARGS...: dfudecode with its peak RSS in $T/NAME.rss; exit status in $rc
run() {
    n=$1
    shift
    /usr/bin/time -f %M -o "$T/$n.rss" "$DEC" "$@" >"$T/$n.out" 2>"$T/$n.err"
    rc=$?
    kb=$(tail -n 1 "$T/$n.rss")
    [ "$kb" -lt $LIMIT_KB ] || fail "$n: peak RSS $kb KB (limit $LIMIT_KB)"
    grep -q "Command terminated by signal" "$T/$n.rss" && fail "$n: killed by a signal"
    echo "$n: exit $rc, peak RSS $kb KB"
}

/usr/bin/python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(5).randbytes(1 << 20))" >"$T/garbage.bin"

run garbage --format log "$T/garbage.bin"
[ $rc -eq 2 ] || fail "garbage: exit $rc, expected 2"
[ "$(wc -l <"$T/garbage.err")" -eq 1 ] || fail "garbage: not one line on stderr"
grep -q "garbage.bin: offset 0: not a log dfudecode reads" "$T/garbage.err" || fail "garbage: $(cat "$T/garbage.err")"
[ ! -s "$T/garbage.out" ] || fail "garbage: printed a transcript"

run forced --log-format nrfutil "$T/garbage.bin"
[ $rc -eq 2 ] || fail "forced: exit $rc, expected 2"
grep -q "no DFU message found (nrfutil log" "$T/forced.err" || fail "forced: $(cat "$T/forced.err")"
notes=$(grep -c '?? line' "$T/forced.out")
[ "$notes" -eq 20 ] || fail "forced: $notes notes of lines not understood, expected the first 20"
grep -q "^  log:        nrfutil, .*stopped understanding at line 1" "$T/forced.out" || fail "forced: no log line"

"$GEN" --big 100000000 -o "$T/big.log" || exit 1
run big "$T/big.log"
[ $rc -eq 0 ] || fail "big: exit $rc, expected 0"
grep -q "^  log:        nrfutil, .* understood; all understood" "$T/big.out" || fail "big: not all understood"
grep -q "^  outcome:    completed" "$T/big.out" || fail "big: not completed"

# 1 MB lines: a byte list (still nrfutil's shape) and letters, then a line
# without LF at the end
"$GEN" -s sd-req -f nrfutil -o "$T/sd.log" || exit 1
/usr/bin/python3 - "$T/sd.log" "$T/long.log" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
big = "2024-05-14 10:00:01,010 SLIP: --> [8" + ", 7" * 349525 + "]"
out = lines[:18] + [big, "x" * (1 << 20)] + lines[18:-1]
open(sys.argv[2], "w").write("\n".join(out) + "\n" + "y" * (1 << 20))
EOF
run long "$T/long.log"
[ $rc -eq 1 ] || fail "long: exit $rc, expected 1 (the update failed)"
[ "$(grep -c 'bytes long, skipped' "$T/long.out")" -eq 3 ] || fail "long: the three long lines are not named"
grep -q "^  diagnosis: .*\[init.sd_req\]" "$T/long.out" || fail "long: the decode did not go on past them"
grep -q "3 too long" "$T/long.out" || fail "long: the summary does not count them"

# bad time stamps: name, offset of the record
for c in pcapng-huge-time.pcapng:48 pcapng-ts-overflow.pcapng:96 pcapng-ts-tsresol.pcapng:108 pcap-nsec-frac.pcap:55; do
    f=${c%:*} off=${c#*:}
    run "$f" "$CAPS/$f"
    [ $rc -eq 2 ] || fail "$f: exit $rc, expected 2"
    [ "$(wc -l <"$T/$f.err")" -eq 1 ] || fail "$f: not one line on stderr: $(cat "$T/$f.err")"
    grep -Eq "$f: offset $off: bad pcap.* (record|packet block): time stamp" "$T/$f.err" || fail "$f: $(cat "$T/$f.err")"
    # pcapng-huge-time's first packet is the bad one; the others have one before it
    [ "$f" = pcapng-huge-time.pcapng ] ||
        grep -q -- "--> PING id=1" "$T/$f.out" || fail "$f: the packet before it was not decoded"
done

[ $fails -eq 0 ]
