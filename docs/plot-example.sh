#!/bin/sh
# plot-example.sh [BUILD_DIR] - renders docs/plot-resume.png, the picture in
# README.md's tour: dfudecode --plot of captures/resume.pcap, turned into a
# PNG by headless Chromium (apt-get install chromium; or set
# DFUKIT_CHROMIUM).  BUILD_DIR (default build/) holds dfudecode.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
chromium=${DFUKIT_CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || { echo "plot-example.sh: chromium not found" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the capture's name as the README's tour gives it
(cd "$root" && "$build/decode/dfudecode" --plot "$work/resume.svg" captures/resume.pcap >/dev/null)
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$work/profile" --screenshot="$work/plot.png" \
    --window-size=1200,720 "file://$work/resume.svg" >/dev/null 2>&1
[ -s "$work/plot.png" ] || { echo "plot-example.sh: Chromium wrote no PNG" >&2; exit 2; }
cp "$work/plot.png" "$root/docs/plot-resume.png"
echo "docs/plot-resume.png: $(wc -c <"$root/docs/plot-resume.png") bytes"
