#!/bin/sh
# midstart.sh DFUDECODE LOG - a log that starts in the middle of a transfer,
# made by cutting the head off a complete nrfutil -vvvv log (what a user
# pasting its tail gives): dfudecode must not take the first object for an
# init packet (protocol.md §6.10).
#   from line 18 (inside the init packet): "Sending firmware file..." shows
#     the bytes were the init packet;
#   from line 60 (inside the first data object): the CRC_GET reports an
#     offset past 512, so the bytes were firmware.
set -u
dec=$1
log=$2
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
fail=0
check() { # NAME FIRST_LINE WANT_REGEX...
    name=$1 from=$2
    shift 2
    tail -n +"$from" "$log" > "$work/$name.log"
    "$dec" "$work/$name.log" > "$work/$name.out" 2>&1
    for want in "$@"; do
        if ! grep -Eq "$want" "$work/$name.out"; then
            echo "midstart: $name: no line matching '$want' in:"
            cat "$work/$name.out"
            fail=1
        fi
    done
    if grep -q "initpkt.incomplete" "$work/$name.out" && [ "$name" = data ]; then
        echo "midstart: $name: the firmware taken for an init packet"
        fail=1
    fi
}
check cmd 18 "OBJECT_WRITE x[0-9]+: [0-9]+ bytes unknown-type" \
    "dfu.object_type_settled: .* is the command object: the host's log" \
    "bytes: +6069 written \\(6000 firmware, 69 init packet\\)"
check data 60 "dfu.object_type_settled: .* is the data object: an offset past 512" \
    "bytes: +[0-9]+ written \\([0-9]+ firmware, 0 init packet\\)" \
    "outcome: +completed"
[ "$fail" -eq 0 ] && echo "midstart: both cuts decoded"
exit "$fail"
