#!/bin/sh
# decode.sh [BUILD_DIR] - dfudecode throughput against a read+crc32 baseline.
#
# Generates at least $BENCH_MB (default 200) MB of realistic serial DFU
# traffic with dk-gencap (complete nrfutil updates of 64-256 KiB images back
# to back, PRN off/8/12), then, in the same run and on the same file:
#   baseline   read the file and run zlib crc32 over it (bench/benchtool.c)
#   dfudecode  default transcript to /dev/null
# Each is run $BENCH_RUNS times (default 3) after a warm-up; the best wall
# time counts.  Prints dfudecode's MB/s, the ratio dfudecode/baseline and
# dfudecode's peak RSS, with PASS/FAIL against the targets (ratio <= 3.0,
# RSS <= 16 MiB).  Formats measured: $BENCH_FORMATS (default "raw pcap").
#
# BUILD_DIR (or $DFUKIT_BUILD): an existing build with dk-gencap and
# dfudecode.  Without it, a Release build is made in build-bench/.
# Not a test: CTest does not run it.  Exit 0 when every target is met.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${DFUKIT_BUILD:-}}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-3}
formats=${BENCH_FORMATS:-raw pcap}
max_ratio=3.0
max_rss_kib=16384

if [ -z "$build" ]; then
    build=$root/build-bench
    echo "building (Release) in $build ..."
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    make -C "$build" -j"$(nproc 2>/dev/null || echo 2)" dfudecode dk-gencap >/dev/null
fi
build=$(cd "$build" && pwd)
gencap=$build/tests/gen/dk-gencap
decode=${DK_DFUDECODE:-$build/decode/dfudecode}
for p in "$gencap" "$decode"; do
    [ -x "$p" ] || { echo "decode.sh: $p missing (build dk-gencap and dfudecode)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dfukit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
tool=$work/benchtool
cc -O2 -o "$tool" "$root/bench/benchtool.c" -lz

# best_of N CMD...: run N times; wall = the fastest, rss = the largest peak
# RSS (KiB), code = the last exit status.
best_of() {
    n=$1
    shift
    wall=
    rss=0
    code=0
    i=0
    while [ "$i" -lt "$n" ]; do
        out=$("$tool" run "$@" 2>&1 >/dev/null | tail -n 1)
        w=$(echo "$out" | cut -d' ' -f1)
        r=$(echo "$out" | cut -d' ' -f2)
        code=$(echo "$out" | cut -d' ' -f3)
        if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN { exit !(a < b) }'; then
            wall=$w
        fi
        [ "$r" -gt "$rss" ] && rss=$r
        i=$((i + 1))
    done
}

status=0
verdict() { # verdict 1|0 -> PASS|FAIL
    if [ "$1" = 1 ]; then echo PASS; else echo FAIL; fi
}

for fmt in $formats; do
    cap=$work/traffic.$fmt
    case $fmt in
    raw) "$gencap" --size "${mb}M" --raw "$cap" ;;
    pcap) "$gencap" --size "${mb}M" --pcap "$cap" ;;
    *) echo "decode.sh: unknown format $fmt" >&2; exit 2 ;;
    esac
    bytes=$(wc -c <"$cap")
    echo
    echo "== $fmt capture: $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB)"

    "$tool" run "$tool" crc "$cap" 2>/dev/null # warm the page cache
    best_of "$runs" "$tool" crc "$cap"
    base=$wall
    [ "$code" = 0 ] || { echo "decode.sh: baseline failed (exit $code)" >&2; exit 2; }

    best_of "$runs" "$decode" "$cap"
    dec=$wall
    dec_rss=$rss
    if [ "$code" != 0 ] && [ "$code" != 1 ]; then
        echo "decode.sh: dfudecode failed on the capture (exit $code)" >&2
        "$decode" "$cap" 2>&1 >/dev/null | head -5 >&2
        exit 2
    fi

    awk -v b="$bytes" -v t="$base" 'BEGIN { printf "baseline (read + zlib crc32):      %8.3f s  %8.1f MB/s\n", t, b / t / 1e6 }'
    awk -v b="$bytes" -v t="$dec" -v c="$code" 'BEGIN { printf "dfudecode (transcript, /dev/null): %8.3f s  %8.1f MB/s  (exit %d)\n", t, b / t / 1e6, c }'
    ratio=$(awk -v a="$dec" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
    ok=$(awk -v r="$ratio" -v m="$max_ratio" 'BEGIN { print (r <= m) ? 1 : 0 }')
    [ "$ok" = 1 ] || status=1
    echo "ratio dfudecode/baseline:          $ratio (target <= $max_ratio)  $(verdict "$ok")"
    ok=$([ "$dec_rss" -le "$max_rss_kib" ] && echo 1 || echo 0)
    [ "$ok" = 1 ] || status=1
    echo "dfudecode peak RSS:                $(awk -v k="$dec_rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB (target <= 16 MiB)  $(verdict "$ok")"
    rm -f "$cap"
done
exit $status
