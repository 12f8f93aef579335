#!/bin/sh
# session.sh DFUDECODE MKCAP LUA CAPTURES [PYTHON3] - the Lua dissector
# follows the session as dfudecode does: agree.py compares, for every
# bundled pcap (CAPTURES and CAPTURES/sim), sniff_mkcap's generated capture
# and mutations of two bundled captures, the anomalies (id and packet) of
# `dfudecode -v --json` with the dfukit expert items and dfukit.anomaly
# fields of `tshark -2`, and the request/response links, response times,
# CRC/offset checks and unanswered requests of both.  Fails on any
# difference (deliberate exceptions are listed in agree.py: none today).
# Exit 77 (skipped) only where tshark or python3 is missing.
set -u
DEC=$1 MKCAP=$2 LUA=$3 CAPS=$4 PY=${5:-$(command -v python3 || true)}
HERE=$(cd "$(dirname "$0")" && pwd)
TSHARK=$(command -v tshark || true)
[ -n "$TSHARK" ] || { echo "skipped: tshark not found (apt-get install tshark)"; exit 77; }
[ -n "$PY" ] || { echo "skipped: python3 not found"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# A private profile: no user preferences or Decode As entries interfere.
export WIRESHARK_CONFIG_DIR="$T/wsconf"
mkdir -p "$WIRESHARK_CONFIG_DIR"
"$MKCAP" "$T/generated.pcap" || { echo "FAIL: sniff_mkcap"; exit 1; }
set --
for cap in "$CAPS"/*.pcap "$CAPS"/*.pcapng "$CAPS"/sim/*.pcap "$CAPS"/sim/*.pcapng; do
    [ -f "$cap" ] && set -- "$@" "$cap"
done
[ "$#" -ge 20 ] || { echo "FAIL: only $# bundled captures in $CAPS"; exit 1; }
"$PY" "$HERE/agree.py" "$DEC" "$TSHARK" "$LUA" "$T" "$@" "$T/generated.pcap"
