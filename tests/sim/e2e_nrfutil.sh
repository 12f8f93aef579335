#!/bin/sh
# Nordic's own host, unmodified pc-nrfutil 6.1.7, against dfusim (§5.2, §6.9):
# - a complete update (nrfutil says "Device programmed.", the flash file holds
#   the image in bank 0 after activation);
# - nrfutil killed halfway, at an object boundary (PRN off) and in the middle
#   of an object (PRN 8), then run again: it resumes from the RAM state the
#   bootloader kept (no second init packet, no object created twice) and the
#   update completes.
# Skips (77) when pc-nrfutil 6 is not installed ($DFUKIT_NRFUTIL, else
# nrfutil-6 on PATH: tests/support/dk_tools.sh).  Nothing nrfutil makes is kept.
# usage: e2e_nrfutil.sh PATH/TO/dfusim PATH/TO/dk-mkpkg
SIM=$1
MKPKG=$2
. "$(dirname "$0")/../support/dk_tools.sh"
N=$(dk_find_nrfutil) || { echo "skipped: pc-nrfutil 6 is not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dksimnu.XXXXXX") || exit 1
SIMPID=
NUPID=
cleanup() {
  [ -n "$NUPID" ] && kill -9 "$NUPID" 2>/dev/null
  [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null
  [ -n "$DK_KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

"$MKPKG" --app 100000 --sd-req 0 app.zip >/dev/null || exit 1
/usr/bin/python3 -m zipfile -e app.zip img || exit 1

# start_sim NAME ARGS...: dfusim in the background, its pty in $PTY
start_sim() {
  name=$1; shift
  "$SIM" -v --allow-unsigned --flash "$name.flash" --control "$name.sock" "$@" \
    >"$name.out" 2>"$name.err" &
  SIMPID=$!
  i=0
  while [ ! -s "$name.out" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i+1)); done
  PTY=$(head -n 1 "$name.out")
  [ -n "$PTY" ] || { echo "dfusim did not start"; cat "$name.err"; exit 1; }
}

stop_sim() {
  kill "$SIMPID"; wait "$SIMPID" || fail "dfusim exit status $? after SIGTERM"
  SIMPID=
}

nrfutil() { # nrfutil dfu serial on $PTY with extra args; output in $1.log
  log=$1; shift
  "$N" dfu serial -pkg app.zip -p "$PTY" -fc 0 -t 2 -cd 0 "$@" >"$log.log" 2>&1
}

# the flash file holds app.bin in bank 0 (0x1000, MBR only) after activation
check_flash() {
  cmp -s -n 100000 -i 4096:0 "$1.flash" img/app.bin || fail "$1: bank 0 does not hold app.bin"
}

count() { grep -c "$2" "$1.err"; }

# 1. complete update
start_sim full
nrfutil full || fail "full: nrfutil failed: $(tail -n 3 full.log)"
grep -q "Device programmed" full.log || fail "full: no 'Device programmed.'"
stop_sim
check_flash full
grep -q "reset by the bootloader: boot [0-9]*, the app runs" full.err || fail "full: the app did not boot"

# 2. killed halfway, run again
# resume NAME FAULT [nrfutil args]: the fault delays the answer nrfutil waits
# for after about half the image; nrfutil is killed while it waits.
resume() {
  name=$1; fault=$2; shift 2
  start_sim "$name" --fault "$fault"
  "$N" dfu serial -pkg app.zip -p "$PTY" -fc 0 -t 2 -cd 0 "$@" >"$name.1.log" 2>&1 &
  NUPID=$!
  i=0
  until grep -q "response delayed" "$name.err"; do
    sleep 0.05; i=$((i+1))
    [ $i -lt 400 ] || { fail "$name: the fault never fired"; kill -9 "$NUPID"; NUPID=; stop_sim; return; }
  done
  sleep 0.2
  kill -9 "$NUPID"; wait "$NUPID" 2>/dev/null; NUPID=
  grep -q "Device programmed" "$name.1.log" && fail "$name: the first run was not cut short"
  creates_before=$(count "$name" "<- OBJECT_CREATE type=DATA")
  # nrfutil waits -t seconds before it opens the port: the late answer is gone
  nrfutil "$name.2" "$@" || fail "$name: second run failed: $(tail -n 3 "$name.2.log")"
  grep -q "Device programmed" "$name.2.log" || fail "$name: no 'Device programmed.' the second time"
  stop_sim
  check_flash "$name"
  [ "$(count "$name" "<- OBJECT_CREATE type=COMMAND")" = 1 ] ||
    fail "$name: the init packet was created again"
  [ "$(count "$name" "<- OBJECT_CREATE type=DATA")" = 25 ] ||
    fail "$name: $(count "$name" "<- OBJECT_CREATE type=DATA") data CREATEs for 25 objects"
  [ "$creates_before" -ge 10 ] && [ "$creates_before" -le 15 ] ||
    fail "$name: cut after $creates_before objects, not halfway"
  grep -q "response lost" "$name.err" || fail "$name: the late answer was not lost with its host"
}

# at an object boundary: the CRC_GET after object 13 answers late; the second
# run finds offset 53248 with a matching CRC and executes it again (§5.2)
resume boundary "after-bytes=50000:delay-response=1500"
grep -q "<- OBJECT_SELECT type=DATA" boundary.err || fail "boundary: no SELECT data"
# in the middle of an object: a PRN answer is late; the second run sends the
# rest of that object (the §5.2 example)
resume middle "after-bytes=50000:delay-response=1500" -prn 8

[ $fails -eq 0 ] || { echo "$fails failure(s); logs in $T (DK_KEEP=1 keeps them)"; exit 1; }
echo "nrfutil: complete update and two resumed updates against dfusim"
exit 0
