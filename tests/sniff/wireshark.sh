#!/bin/sh
# wireshark.sh MKCAP LUA CAPTURES_DIR - the Lua dissector under tshark.
#   1. its value tables agree with lib/include/dfukit/tables.h, and its
#      anomaly ids and severities with event.h (the session: tests/wireshark);
#   2. a generated capture (every message shape, frames split across packets,
#      escapes, errors) decodes to the expected fields, in -V and -T fields;
#   3. every bundled pcap in CAPTURES_DIR decodes without a Lua error and
#      shows DFU opcodes.
# Exit 77 (skipped) only when tshark is not installed.
set -u
MKCAP=$1 LUA=$2 CAPS=$3

TSHARK=$(command -v tshark || true)
if [ -z "$TSHARK" ]; then
    echo "skipped: tshark not found (apt-get install tshark)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# A private profile: no user preferences or Decode As entries interfere.
export WIRESHARK_CONFIG_DIR="$T/wsconf"
mkdir -p "$WIRESHARK_CONFIG_DIR"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ts() { "$TSHARK" -X "lua_script:$LUA" "$@" 2>"$T/stderr"; }
lua_errors() {
    # tshark reports Lua errors on stderr or in the tree
    grep -iE "lua.*error|dissector error|\[Malformed Packet: dfukit" "$T/stderr" "$1" >/dev/null 2>&1
}

# 1. tables
"$MKCAP" --tables >"$T/tables" || bad "sniff_mkcap --tables failed"
while IFS= read -r line; do
    case "$line" in --*) continue ;; esac
    grep -qF "    $line" "$LUA" || bad "dfukit.lua lacks table entry: $line"
done <"$T/tables"

# 2. generated capture
"$MKCAP" "$T/gen.pcap" || bad "sniff_mkcap failed"
ts -r "$T/gen.pcap" -V >"$T/gen.txt" || bad "tshark -V failed: $(cat "$T/stderr")"
lua_errors "$T/gen.txt" && bad "Lua errors on the generated capture: $(cat "$T/stderr")"
grep -q "Nordic Secure DFU (serial), host -> target" "$T/gen.txt" ||
    bad "dissector not applied (is Lua disabled for this user? see init.lua run_user_scripts_when_superuser)"
for want in \
    "Direction: host -> target (1)" \
    "Direction: target -> host (2)" \
    "DFU message: PING id=1" \
    "Frame started in packet: 1" \
    "Partial frame bytes so far (continues in a later packet): 6" \
    "Receipt notification interval: 192" \
    "MTU: 131" \
    "Maximum object size: 512" \
    "Object type: COMMAND (0x01)" \
    "Object size: 140" \
    "Object data: 1122db44556677" \
    "Offset: 7" \
    "CRC-32: 0xdeadbeef" \
    "Request opcode: OBJECT_EXECUTE (0x04)" \
    "Result: EXT_ERROR (0x0b)" \
    "Extended error: SIGNATURE_MISSING (0x08)" \
    "Extended error SIGNATURE_MISSING: init packet is unsigned but the bootloader requires a signature" \
    "Part: 0x00050840" \
    "ROM page size: 4096" \
    "SLIP frame dropped (bad escape)" \
    "DFU message: CRC_GET -> SUCCESS [truncated]" \
    "Result: OP_CODE_NOT_SUPPORTED (0x02)" \
    "Image version: 3" \
    "DFU message: PROTOCOL_VERSION -> SUCCESS version=1 [+1 bytes]" \
    "Opcode: Unknown (0x77)"; do
    grep -qF "$want" "$T/gen.txt" || bad "-V output lacks: $want"
done
ts -r "$T/gen.pcap" -T fields -E separator='|' -E occurrence=a -E aggregator=, \
    -e frame.number -e dfukit.direction -e dfukit.opcode -e dfukit.request_opcode \
    -e dfukit.result -e dfukit.ext_error -e dfukit.obj_type -e dfukit.size \
    -e dfukit.offset -e dfukit.crc -e dfukit.frame_start -e dfukit.pending >"$T/fields.txt" ||
    bad "tshark -T fields failed"
cat >"$T/fields.want" <<'WANT'
1|1||||||||||1
2|1|0x09||||||||1|
3|2||0x09|0x01|||||||
4|1|0x02|||||||||
5|2||0x02|0x01|||||||
6|1|0x07|||||||||
7|2||0x07|0x01|||||||
8|1|0x06||||0x01|||||
9|2||0x06|0x01||||0|0x00000000||
10|1|0x01||||0x01|140||||
11|2||0x01|0x01|||||||
12|1||||||||||6
13|1|0x08||||||||12|
14|1|0x03|||||||||
15|2||0x03|0x01||||7|0xdeadbeef||
16|1|0x04|||||||||
17|2||0x04|0x0b|0x08||||||
18|||||||||||
19|1|0x0a|||||||||
20|2||0x0a|0x01|||||||
21|1|||||||||21|
22|2||0x03|0x01|||||||
23|2||0x0c|0x02|||||||
24|1|0x0b|||||||||
25|2||0x0b|0x01|||||||
26|1|0x09,0x09|||||||||
27|1|0x00,0x77|||||||||
28|2||0x00|0x01|||||||
WANT
diff -u "$T/fields.want" "$T/fields.txt" >"$T/fields.diff" || bad "fields differ: $(cat "$T/fields.diff")"

# 3. bundled captures
n=0
for cap in "$CAPS"/*.pcap "$CAPS"/*.pcapng; do
    [ -f "$cap" ] || continue
    # the Lua dissector reads Secure DFU only; legacy HCI captures are dfudecode's
    case ${cap##*/} in legacy-*) continue ;; esac
    n=$((n + 1))
    ts -r "$cap" -V >"$T/b.txt" || { bad "$cap: tshark failed: $(cat "$T/stderr")"; continue; }
    lua_errors "$T/b.txt" && bad "$cap: Lua errors: $(head -c 300 "$T/stderr")"
    if ! grep -q "^Nordic Secure DFU (serial)" "$T/b.txt"; then
        # not link type 250: nothing for dfukit to decode
        grep -q "Encapsulation type: RTAC serial-line" "$T/b.txt" && bad "$cap: RTAC capture not decoded"
        continue
    fi
    grep -qE "^        (Opcode|Request opcode): [A-Z_]+ \(0x" "$T/b.txt" || bad "$cap: no DFU opcode decoded"
    grep -q "Opcode: Unknown" "$T/b.txt" && echo "note: $cap has unknown opcodes"
done
echo "generated capture checked; $n bundled capture(s) checked"
[ "$fail" = 0 ] && echo ok
exit "$fail"
