#!/bin/sh
# realtime.sh [BUILD_DIR] - dfusim --realtime against its own line model.
#
# A complete update of $BENCH_BYTES (default 102400) bytes, dfuhost with its
# defaults -> dfusim --realtime, at 115200 and at 1000000 baud, best of
# $BENCH_RUNS (default 2).  The figure: the update's wall time (starting
# dfuhost to its exit) / the time the line model predicts for it, which
# dfusim logs at exit: every byte both ways at 10 bits a byte, plus the
# flash work a host that waits for each answer waits for (erases and
# settings writes before an answer, and what a WRITE's words take beyond
# its own frame).  The rest is the host's and dfusim's own time, pty
# latency and the poll granularity: target <= 1.05.
#
# BUILD_DIR (or $DFUKIT_BUILD): a build with dfuhost, dfusim and dk-mkpkg.
# Without it, a Release build is made in build-bench/.
# Not a test: CTest does not run it.  Exit 0 when every target is met.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${DFUKIT_BUILD:-}}
runs=${BENCH_RUNS:-2}
bytes=${BENCH_BYTES:-102400}
target=1.05
if [ -z "$build" ]; then
    build=$root/build-bench
    echo "building (Release) in $build ..."
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    make -C "$build" -j2 dfuhost dfusim dk-mkpkg >/dev/null
fi
build=$(cd "$build" && pwd)
host=$build/host/dfuhost
sim=$build/sim/dfusim
mkpkg=$build/tests/support/dk-mkpkg
for p in "$host" "$sim" "$mkpkg"; do
    [ -x "$p" ] || { echo "realtime.sh: $p missing (build dfuhost, dfusim, dk-mkpkg)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/dfukit-rtbench.XXXXXX")
simpid=
cleanup() {
    if [ -n "$simpid" ]; then
        kill "$simpid" 2>/dev/null || true
        wait "$simpid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
"$mkpkg" --app "$bytes" --sd-req 0x00 "$work/app.zip" >/dev/null

now() { date +%s.%N; }
fails=0
for baud in 115200 1000000; do
    best=
    for r in $(seq "$runs"); do
        rm -f "$work/sim.out"
        "$sim" --allow-unsigned --realtime --baud "$baud" >"$work/sim.out" 2>"$work/sim.err" &
        simpid=$!
        i=0
        while [ ! -s "$work/sim.out" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
        pty=$(head -n 1 "$work/sim.out")
        t0=$(now)
        "$host" -q -p "$pty" --pkg "$work/app.zip" -b "$baud" >"$work/host.out" 2>&1 || {
            echo "realtime.sh: dfuhost failed at $baud baud:" >&2; cat "$work/host.out" >&2; exit 2; }
        t1=$(now)
        kill "$simpid"; wait "$simpid" 2>/dev/null || true; simpid=
        pred=$(sed -n 's/.*: \([0-9.]*\) ms predicted.*/\1/p' "$work/sim.err" | tail -n 1)
        [ -n "$pred" ] || { echo "realtime.sh: dfusim logged no prediction" >&2; exit 2; }
        wall=$(echo "($t1 - $t0) * 1000" | bc -l)
        ratio=$(echo "$wall / $pred" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$ratio < $best" | bc -l)" = 1 ]; then
            best=$ratio bwall=$wall bpred=$pred
            bline=$(sed -n 's/.*line model: \(.*\)$/\1/p' "$work/sim.err" | tail -n 1)
        fi
    done
    verdict=PASS
    [ "$(echo "$best <= $target" | bc -l)" = 1 ] || { verdict=FAIL; fails=$((fails+1)); }
    printf '%7s baud: %d bytes in %.0f ms, model %.0f ms: ratio %.3f (target <= %s) %s\n' \
        "$baud" "$bytes" "$bwall" "$bpred" "$best" "$target" "$verdict"
    echo "             model: $bline"
done
[ $fails -eq 0 ]
