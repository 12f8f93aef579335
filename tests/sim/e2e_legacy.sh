#!/bin/sh
# Legacy HCI DFU end to end on ptys: dfusim --protocol legacy (the Adafruit
# nRF52 bootloader, protocol.md §13) against a real host.
#
#   e2e_legacy.sh nrfutil DFUSIM DFUDECODE
#     adafruit-nrfutil 0.5.3 (on PATH, or $DFUKIT_ADAFRUIT_NRFUTIL; skipped
#     (77) without it), genpkg --dev-type 0x0052, dfu serial --touch 1200:
#     1. a complete update: the image lands in bank 0 byte for byte, the app
#        is valid, the capture decodes as a completed legacy update;
#     2. killed halfway, the board power-cycled (unplugged: the touch then
#        reaches its app), run again: completes;
#     3. killed halfway and run again WITHOUT a reset (§13.12): the host says
#        "Device programmed." and exits 0, but bank 0 holds a mix and no app
#        is valid; dfudecode names it legacy.stale_sequence;
#     4. the same with --legacy-seq-fix: completes.
#   e2e_legacy.sh dfuhost DFUSIM DFUDECODE DFUHOST
#     dfuhost --protocol legacy: a complete update, then killed halfway and
#     run again without a reset: it steps over the stale sequence number and
#     completes.
MODE=$1
SIM=$2
DEC=$3
HOSTTOOL=$4
T=$(mktemp -d "${TMPDIR:-/tmp}/dklegacy.XXXXXX") || exit 1
SIMPID=
HPID=
cleanup() {
  [ -n "$HPID" ] && kill -9 "$HPID" 2>/dev/null
  [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null
  wait 2>/dev/null
  [ -n "$DK_KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

case $MODE in
nrfutil)
  . "$(dirname "$0")/../support/dk_tools.sh"
  NU=$(dk_find_adafruit_nrfutil) || { echo "adafruit-nrfutil not found: skipped"; exit 77; }
  ;;
dfuhost) [ -x "$HOSTTOOL" ] || { echo "usage: e2e_legacy.sh dfuhost DFUSIM DFUDECODE DFUHOST"; exit 2; } ;;
*) echo "usage: e2e_legacy.sh nrfutil|dfuhost DFUSIM DFUDECODE [DFUHOST]"; exit 2 ;;
esac

# an application: 60000 bytes of a fixed pattern
/usr/bin/python3 -c '
import sys
sys.stdout.buffer.write(bytes((i * 2654435761 >> 13) & 0xFF for i in range(60000)))' >app.bin || exit 1
if [ "$MODE" = nrfutil ]; then
  "$NU" dfu genpkg --dev-type 0x0052 --application app.bin app.zip >/dev/null || exit 1
else # the package genpkg makes (§13.14), written here: .dat 0.5 and its manifest
  /usr/bin/python3 - <<'EOF' || exit 1
import binascii, json, struct, zipfile
b = open("app.bin", "rb").read()
crc = binascii.crc_hqx(b, 0xFFFF)
dat = struct.pack("<HHIHH", 0x52, 0xFFFF, 0xFFFFFFFF, 1, 0xFFFE) + struct.pack("<H", crc)
man = {"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat",
       "init_packet_data": {"application_version": 0xFFFFFFFF, "device_revision": 0xFFFF,
       "device_type": 0x52, "firmware_crc16": crc, "softdevice_req": [0xFFFE]}},
       "dfu_version": 0.5}}
with zipfile.ZipFile("app.zip", "w") as z:
    z.writestr("manifest.json", json.dumps(man))
    z.writestr("app.dat", dat)
    z.writestr("app.bin", b)
EOF
fi

# start_sim NAME ARGS...: dfusim --protocol legacy in the background, its pty in $PTY
start_sim() {
  name=$1; shift
  "$SIM" --protocol legacy -v --flash "$name.flash" --capture "$name.pcap" "$@" \
    >"$name.out" 2>"$name.err" &
  SIMPID=$!
  i=0
  while [ ! -s "$name.out" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i+1)); done
  PTY=$(head -n 1 "$name.out")
  [ -n "$PTY" ] || { echo "dfusim did not start"; cat "$name.err"; exit 1; }
}
stop_sim() { kill "$SIMPID"; wait "$SIMPID" 2>/dev/null; SIMPID=; }

# host NAME: the host in the background ($HPID), output in NAME.host
host() {
  if [ "$MODE" = nrfutil ]; then
    "$NU" --verbose dfu serial -pkg app.zip -p "$PTY" -b 115200 --touch 1200 >"$1.host" 2>&1 &
  else
    "$HOSTTOOL" --protocol legacy -p "$PTY" --pkg app.zip -v >"$1.host" 2>&1 &
  fi
  HPID=$!
}
host_wait() { # NAME: wait for the host (up to 60 s); its status in $HRC
  i=0
  while kill -0 "$HPID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
  wait "$HPID"; HRC=$?; HPID=
}
# kill the host once the simulator has taken N DATA packets
kill_after_data() { # NAME N
  i=0
  while [ "$(grep -c '<- DATA' "$1.err")" -lt "$2" ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done
  kill -9 "$HPID"; wait "$HPID" 2>/dev/null; HPID=
  sleep 0.3
}
flash_ok() { # NAME: bank 0 (0x26000 with S140) holds app.bin
  cmp -s -n 60000 app.bin "$1.flash.app"
}
bank0() { dd if="$1.flash" of="$1.flash.app" bs=4096 skip=38 count=15 2>/dev/null; }
app_valid() { "$SIM" --protocol legacy --flash "$1.flash" --show-settings | grep -q '^app_valid: yes'; }
decode_diag() { "$DEC" "$1.pcap" | sed -n 's/.*diagnosis:.*\[\(.*\)\]$/\1/p'; }

# 1. complete
start_sim one
host one; host_wait one
stop_sim
bank0 one
flash_ok one || fail "1: bank 0 does not hold the image"
app_valid one || fail "1: no valid app after the update"
[ "$HRC" = 0 ] || fail "1: host exited $HRC"
[ "$(decode_diag one)" = update.completed ] || fail "1: dfudecode: $(decode_diag one)"
"$DEC" --pkg app.zip one.pcap | grep -q "package: *app.zip: every byte sent matches" ||
  fail "1: dfudecode --pkg app.zip does not find every byte matching"
[ "$MODE" = nrfutil ] && { grep -q "Device programmed." one.host || fail "1: no 'Device programmed.'"; }
echo "1. complete: $(grep -c '<- DATA' one.err) DATA packets; $(grep -c 'dropped' one.err) dropped"

if [ "$MODE" = nrfutil ]; then
  # 2. killed, power-cycled, run again
  start_sim two --app-size 8192 --dual-bank
  host two; kill_after_data two 40
  kill -USR2 "$SIMPID"; sleep 0.3 # unplugged and plugged in: the old app boots
  grep -q 'the app runs' two.err || fail "2: the old app did not boot after the power cycle"
  host two2; host_wait two2
  stop_sim
  bank0 two
  flash_ok two || fail "2: bank 0 does not hold the image after the rerun"
  app_valid two || fail "2: no valid app after the rerun"
  grep -q 'app resets into serial DFU' two.err || fail "2: the touch did not reset the app"
  echo "2. killed after 40 DATA, power cycle, rerun: completed"

  # 3. killed, run again without a reset: §13.12
  start_sim three
  host three; kill_after_data three 40
  host three2; host_wait three2
  stop_sim
  bank0 three
  grep -q "Device programmed." three2.host || fail "3: expected adafruit-nrfutil to say 'Device programmed.'"
  [ "$HRC" = 0 ] || fail "3: adafruit-nrfutil exited $HRC (it exits 0 whatever happens)"
  flash_ok three && fail "3: the image is in bank 0: the stale sequence did not bite"
  app_valid three && fail "3: an app is valid after the stale run"
  [ "$(decode_diag three)" = legacy.stale_sequence ] || fail "3: dfudecode: $(decode_diag three)"
  first=$(cmp app.bin three.flash.app 2>/dev/null | sed -n 's/.*byte \([0-9]*\).*/\1/p')
  echo "3. killed after 40 DATA, rerun without reset: 'Device programmed.', exit 0;" \
       "$(grep -c 'dropped, ACK' three.err) packets dropped; bank 0 differs from byte $first;" \
       "app valid: no"

  # 4. the same with the fixed transport
  start_sim four --legacy-seq-fix
  host four; kill_after_data four 40
  host four2; host_wait four2
  stop_sim
  bank0 four
  flash_ok four || fail "4: --legacy-seq-fix: bank 0 does not hold the image"
  app_valid four || fail "4: --legacy-seq-fix: no valid app"
  echo "4. the same with --legacy-seq-fix: completed"
else
  # 2. dfuhost killed halfway, run again without a reset
  start_sim two
  host two; kill_after_data two 40
  host two2; host_wait two2
  stop_sim
  bank0 two
  [ "$HRC" = 0 ] || fail "2: dfuhost exited $HRC: $(tail -1 two2.host)"
  flash_ok two || fail "2: bank 0 does not hold the image after the rerun"
  app_valid two || fail "2: no valid app after the rerun"
  grep -q 'dropped it' two2.host || fail "2: dfuhost did not report the stale sequence"
  echo "2. dfuhost killed after 40 DATA, rerun without reset: completed"
fi
[ $fails -eq 0 ] && echo ok
exit $fails
