#!/bin/sh
# plot.sh [BUILD_DIR] - what --plot costs on a long capture.
#
# Generates $BENCH_MB (default 200) MB of dk-gencap traffic (pcap: complete
# updates back to back, the port closed between them), then, in the same
# run and on the same file, best of $BENCH_RUNS (default 3):
#   baseline  dfudecode FILE (transcript to /dev/null)
#   plot      dfudecode --plot OUT.svg FILE
# Prints the ratio plot/baseline, both peak RSS, and the SVG's size, with
# PASS/FAIL against the targets: ratio <= 1.3, SVG <= 1 MiB, peak RSS with
# --plot <= baseline + 4 MiB.
# BUILD_DIR (or $DFUKIT_BUILD): a build with dk-gencap and dfudecode.
# Not a test: CTest does not run it.  Exit 0 when every target is met.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${DFUKIT_BUILD:-$root/build}}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-3}
build=$(cd "$build" && pwd)
gencap=$build/tests/gen/dk-gencap
decode=$build/decode/dfudecode
for p in "$gencap" "$decode"; do
    [ -x "$p" ] || { echo "plot.sh: $p missing (build dk-gencap and dfudecode)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/dfukit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
tool=$work/benchtool
cc -O2 -o "$tool" "$root/bench/benchtool.c" -lz

# best_of N CMD...: wall = the fastest, rss = the largest peak RSS (KiB)
best_of() {
    n=$1
    shift
    wall= rss=0 i=0
    while [ "$i" -lt "$n" ]; do
        out=$("$tool" run "$@" 2>&1 >/dev/null | tail -n 1)
        w=$(echo "$out" | cut -d' ' -f1)
        r=$(echo "$out" | cut -d' ' -f2)
        if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN { exit !(a < b) }'; then wall=$w; fi
        [ "$r" -gt "$rss" ] && rss=$r
        i=$((i + 1))
    done
}

cap=$work/traffic.pcap
"$gencap" --size "${mb}M" --pcap "$cap"
echo "== pcap capture: $(wc -c <"$cap") bytes"
"$tool" run "$decode" "$cap" 2>/dev/null # warm the page cache
best_of "$runs" "$decode" "$cap"
base=$wall base_rss=$rss
best_of "$runs" "$decode" --plot "$work/out.svg" "$cap"
plot=$wall plot_rss=$rss
svg=$(wc -c <"$work/out.svg")
ratio=$(awk -v a="$plot" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
status=0
ok() { if [ "$1" = 1 ]; then echo PASS; else status=1; echo FAIL; fi; }
echo "dfudecode:          $base s, peak RSS $base_rss KiB"
echo "dfudecode --plot:   $plot s, peak RSS $plot_rss KiB"
echo "ratio plot/plain:   $ratio (target <= 1.3)  $(ok "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.3) }')")"
echo "SVG:                $svg bytes (target <= 1048576)  $(ok "$([ "$svg" -le 1048576 ] && echo 1 || echo 0)")"
echo "RSS added:          $((plot_rss - base_rss)) KiB (target <= 4096)  $(ok "$([ $((plot_rss - base_rss)) -le 4096 ] && echo 1 || echo 0)")"
exit $status
