#!/bin/sh
# render.sh DFUDECODE CAPTURES [PYTHON3] - plots rendered by a real browser: headless
# Chromium turns the SVG of a few bundled captures into a PNG, and the PNG
# (read by pngstat.py: zlib, no PIL) must not be blank: enough non-white
# pixels and distinct colours, and pixels of exactly the colours of what the
# capture is about (the image's line, the port-gap shading, the resume
# triangle, error and warning marks).
# Chromium: $DFUKIT_CHROMIUM, else chromium on PATH.  Exit 77 (skipped)
# where it or python3 is missing.
set -u
DEC=$1 CAPS=$2 PY=${3:-$(command -v python3 || true)}
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${DFUKIT_CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] ||
    { echo "skipped: chromium not found (apt-get install chromium, or set DFUKIT_CHROMIUM)"; exit 77; }
[ -n "$PY" ] || { echo "skipped: python3 not found"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# render NAME INPUT COLOURS...: SVG -> PNG -> the colours must be there
render() {
    name=$1 input=$2
    shift 2
    "$DEC" --plot "$T/$name.svg" "$input" >/dev/null 2>&1
    [ -s "$T/$name.svg" ] || { bad "$name: no SVG"; return; }
    mkdir -p "$T/profile-$name"
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$T/profile-$name" --screenshot="$T/$name.png" --window-size=1200,720 \
        "file://$T/$name.svg" >"$T/$name.log" 2>&1
    [ -s "$T/$name.png" ] || { bad "$name: Chromium wrote no PNG: $(tail -n 3 "$T/$name.log")"; return; }
    "$PY" "$HERE/pngstat.py" "$T/$name.png" "$@" >"$T/$name.stat" || { bad "$name: unreadable PNG"; return; }
    read -r w h nonwhite colours <"$T/$name.stat"
    [ "$w" = 1200 ] && [ "$h" = 720 ] || bad "$name: PNG is ${w}x$h, want 1200x720"
    # a blank page is 0 / 1; the axes, text and one line alone pass 1%
    [ "$nonwhite" -ge 20000 ] || bad "$name: only $nonwhite non-white pixels"
    [ "$colours" -ge 50 ] || bad "$name: only $colours distinct colours"
    tail -n +2 "$T/$name.stat" | while read -r c k; do
        [ "$k" -ge 20 ] || echo "FAIL: $name: colour $c on $k pixels (what it draws is missing)"
    done >"$T/$name.miss"
    [ -s "$T/$name.miss" ] && { cat "$T/$name.miss"; fail=1; }
    echo "$name: $nonwhite non-white pixels, $colours colours"
}

# image 1's blue line; resume: the gap's grey, the green resume triangle
render resume "$CAPS/resume.pcap" '#1f77b4' '#e4e4e4' '#1a7f37'
# crc-corrupt: the red crc_mismatch mark, the orange object_discarded one
render crc-corrupt "$CAPS/sim/crc-corrupt.pcap" '#1f77b4' '#d62728' '#ff7f0e'
# cut-nosave: the purple restart triangle, the red no_response mark
render cut-nosave "$CAPS/sim/cut-nosave.pcap" '#1f77b4' '#8e44ad' '#d62728'
# a raw file: against byte positions
render noise-raw "$CAPS/noise.raw" '#1f77b4' '#d62728'
[ "$fail" = 0 ] && echo ok
exit "$fail"
