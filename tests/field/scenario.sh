#!/bin/sh
# scenario.sh DFUDECODE DFUSIM DFUHOST GENLOG FIELDDIR: dfudecode --scenario
# on the real logs of captures/field.
#   - every log either gets a scenario (a file, exit 0 or 1) or a plain
#     refusal (exit 2, one line on stderr, no file): never both, never a
#     silent nothing;
#   - a log whose failure lies outside the bootloader dfusim models is
#     refused: the "0x41" answer that no DFU bootloader gives, a Zephyr shell
#     answering mcumgr, a port that vanished, a BLE adapter, a Programmer log;
#   - a log whose failure is the bootloader's (ext error 0x07, pasted as one
#     line) reproduces: dfusim with its scenario refuses the init packet of
#     a package made for another SoftDevice, and dfuhost fails the same way.
LC_ALL=C
export LC_ALL
dec=${1:-} sim=${2:-} host=${3:-} gen=${4:-} dir=${5:-}
for x in "$dec" "$sim" "$host" "$gen"; do
  [ -x "$x" ] || { echo "usage: scenario.sh DFUDECODE DFUSIM DFUHOST GENLOG FIELDDIR" >&2; exit 2; }
done
[ -d "$dir" ] || { echo "scenario.sh: $dir: no directory" >&2; exit 2; }
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
dec=$(abs "$dec") sim=$(abs "$sim") host=$(abs "$host") gen=$(abs "$gen")
T=$(mktemp -d) || exit 2
SIMPID=
cleanup() {
  [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# scen LOG -> "wrote" | "refused" | "bad: ..."
scen() {
  rm -f "$T/s.json"
  (cd "$dir" && "$dec" --scenario "$T/s.json" "$1" > /dev/null 2> "$T/err")
  rc=$?
  lines=$(wc -l < "$T/err" | tr -d ' ')
  if [ -s "$T/s.json" ] && [ "$rc" -le 1 ]; then echo wrote
  elif [ ! -e "$T/s.json" ] && [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ]; then echo refused
  else echo "bad: exit $rc, $lines stderr lines, file $([ -e "$T/s.json" ] && echo written || echo absent)"
  fi
}

n=0
for f in "$dir"/*.log; do
  b=$(basename "$f")
  got=$(scen "$b")
  n=$((n + 1))
  case $got in bad*) fail "$b: $got" ;; esac
done

for b in nrfutil-4.0.0-usb-serial-open-bootloader-opcode-0x41-a.log \
         mcumgr-debug-hexdump-nrf52dk-shell-on-uart-cut.log \
         adafruit-nrfutil-verbose-s340-errno6-macos-cut.log \
         nrfconnect-ble-mdk-dongle-open-nrf-error-timeout.log \
         programmer-nrf9160-read-couldnotcallfunction-jlinkarm-dll-error.log; do
  got=$(scen "$b")
  [ "$got" = refused ] || fail "$b: --scenario $got, want a refusal"
  grep -q "reproduce" "$T/err" || fail "$b: the refusal does not say there is nothing to reproduce: $(cat "$T/err")"
done

# ext error 0x07 from a one-line paste: the same failure on dfusim
b=nrfutil-usb-serial-dongle-ext-error-07-one-line.log
got=$(scen "$b")
if [ "$got" != wrote ]; then
  fail "$b: --scenario $got"
else
  "$gen" -s sd-req -f nrfutil -o /dev/null --pkg "$T/app.zip" || { echo "dk-genlog failed"; exit 2; }
  "$sim" --scenario "$T/s.json" --capture "$T/c.pcap" > "$T/sim.out" 2> "$T/sim.err" &
  SIMPID=$!
  i=0
  while [ ! -s "$T/sim.out" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
  pty=$(head -n 1 "$T/sim.out")
  if [ -z "$pty" ]; then
    fail "dfusim did not start: $(cat "$T/sim.err")"
  else
    "$host" -p "$pty" --pkg "$T/app.zip" --timeout 2 > "$T/host.out" 2> "$T/host.err"
    hrc=$?
    kill "$SIMPID"; wait "$SIMPID" 2>/dev/null; SIMPID=
    [ "$hrc" -eq 1 ] || fail "$b: dfuhost exit $hrc against the scenario, want 1"
    "$dec" "$T/c.pcap" > "$T/c.txt" 2>&1
    grep -q '^  diagnosis: .*\[init.sd_req\]$' "$T/c.txt" ||
      fail "$b: the rerun is not diagnosed init.sd_req: $(grep diagnosis "$T/c.txt")"
  fi
fi

[ "$fails" -eq 0 ] || { echo "scenario.sh: $fails failure(s)"; exit 1; }
echo "scenario.sh: $n logs: each a scenario or a plain refusal; the outside failures refused; ext error 0x07 reproduced"
