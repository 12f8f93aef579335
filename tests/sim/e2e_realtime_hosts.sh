#!/bin/sh
# Real hosts against dfusim --realtime (the line model, sim/line.h): each one
# must complete where a DK would serve it, with nothing lost on the line
# (no overrun, no glued frame, no lost answer in dfusim's log).
#   nrfutil: unmodified pc-nrfutil 6.1.7 (`nrfutil-6` on PATH, or
#            $DFUKIT_NRFUTIL: tests/support/dk_tools.sh), -fc 0 with PRN 0, 1, 8, 64 and -fc 1, at
#            115200; at 1 Mbaud -fc 0 with PRN 0 and 8: a WRITE frame takes
#            670 us on the wire there and its 16 words 656 us of flash, so
#            the model keeps every frame of a host that waits for each answer
#            (which nrfutil does).  Skipped (77) without nrfutil.
#   dfuhost: its defaults at 115200 and 1 Mbaud.
# usage: e2e_realtime_hosts.sh nrfutil|dfuhost DFUSIM DK-MKPKG [DFUHOST]
MODE=$1 SIM=$2 MKPKG=$3 HOST=$4
if [ "$MODE" = nrfutil ]; then
  . "$(dirname "$0")/../support/dk_tools.sh"
  N=$(dk_find_nrfutil) || { echo "pc-nrfutil 6 not found: skipped"; exit 77; }
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dkrt.XXXXXX") || exit 1
SIMPID=
cleanup() {
  [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null
  [ -n "$DK_KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
"$MKPKG" --app 24000 --sd-req 0 app.zip >/dev/null || exit 1
fails=0 runs=0

# one NAME BAUD HOST-ARGS...: a fresh realtime dfusim, the host, the checks
one() {
  name=$1 baud=$2; shift 2
  "$SIM" --allow-unsigned --realtime --baud "$baud" >"$name.out" 2>"$name.err" &
  SIMPID=$!
  i=0
  while [ ! -s "$name.out" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i+1)); done
  PTY=$(head -n 1 "$name.out")
  if [ "$MODE" = nrfutil ]; then
    timeout 120 "$N" dfu serial -pkg app.zip -p "$PTY" -t 1 -cd 0 -b "$baud" "$@" >"$name.host" 2>&1
  else
    timeout 120 "$HOST" -p "$PTY" --pkg app.zip -b "$baud" "$@" >"$name.host" 2>&1
  fi
  rc=$?
  kill "$SIMPID"; wait "$SIMPID" 2>/dev/null; SIMPID=
  runs=$((runs+1))
  bad=$(grep -v "line model:" "$name.err" |
        grep -c "overrun\|glued\|response lost\|decoder full\|scheduler queue full\|empty SLIP")
  if [ $rc -ne 0 ] || [ "$bad" -ne 0 ]; then
    echo "FAIL: $name: $MODE exit $rc, $bad line events in dfusim's log"
    tail -n 3 "$name.host"; grep "overrun\|glued\|lost\|full\|empty" "$name.err" | head -n 3
    fails=$((fails+1))
  else
    echo "ok: $name"
  fi
}

if [ "$MODE" = nrfutil ]; then
  for prn in 0 1 8 64; do one "fc0-prn$prn-115200" 115200 -fc 0 -prn $prn; done
  one "fc1-prn0-115200" 115200 -fc 1 -prn 0
  for prn in 0 8; do one "fc0-prn$prn-1M" 1000000 -fc 0 -prn $prn; done
else
  one "defaults-115200" 115200
  one "defaults-1M" 1000000
fi
echo "$((runs-fails)) passed, $fails failed"
[ $fails -eq 0 ]
