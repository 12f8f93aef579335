#!/bin/sh
# check.sh [BUILD_DIR] - dfucheck's speed against dfuhost.
#
# Measured in one run:
#   baseline  one plain `complete` case (dfucheck --case complete): one
#             board, one host run, the verdict: the unit everything else
#             is made of
#   suite     every case, -j 2 (two boards at a time)       target < 30 s
#   sweep     --sweep flash-ops of a 65536-byte update, -j 2: a power cut
#             at every flash operation, the host run again  target < 60 s
# Each is printed as wall time, cases (or cut points) per second, and the
# ratio of its time per case to the baseline's.  The host is dfuhost with
# --response-timeout 300 in the sweep (its default 1000 ms would be waited
# out at every cut that loses an answer; the sweep measures dfucheck).
# The sweep's CPU time (all processes) is printed too: unlike wall time it
# hardly depends on what else the machine runs.
# The sweep's own verdict (points dfuhost does not recover from) is printed
# for information; it does not decide the benchmark.
#
# BUILD_DIR (or $DFUKIT_BUILD): a build with dfucheck, dfusim, dfuhost,
# dfudecode.  Without it, a Release build is made in build-bench/.
# Not a test: CTest does not run it.  Exit 0 when both targets are met.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${DFUKIT_BUILD:-}}
max_suite=30
max_sweep=60

if [ -z "$build" ]; then
    build=$root/build-bench
    echo "building (Release) in $build ..."
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    make -C "$build" -j2 dfucheck dfusim dfuhost dfudecode >/dev/null
fi
build=$(cd "$build" && pwd)
check=$build/check/dfucheck
host=$build/host/dfuhost
for p in "$check" "$host" "$build/sim/dfusim"; do
    [ -x "$p" ] || { echo "check.sh: $p missing (build dfucheck, dfusim, dfuhost)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/dfukit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }
# timed NAME ARGS...: dfucheck ARGS, wall seconds in $secs, output in $work/NAME.json
timed() {
    name=$1; shift
    t0=$(now)
    set +e
    /usr/bin/time -f "%U %S" -o "$work/$name.cpu" "$check" --keep "$work/$name" --json "$@" \
        >"$work/$name.json" 2>"$work/$name.err"
    rc=$?
    set -e
    secs=$(echo "$(now) - $t0" | bc -l)
    cpu=$(tail -n 1 "$work/$name.cpu" | awk '{print $1 + $2}')
    [ "$rc" -le 1 ] || { echo "check.sh: $name: dfucheck exit $rc: $(cat "$work/$name.err")" >&2; exit 2; }
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
timed base --case complete -- "$host" -p {port} --pkg {pkg}
base=$secs
timed suite -j 2 -- "$host" -p {port} --pkg {pkg} --prn {prn}
suite=$secs
n_suite=$(grep -c '"case"' "$work/suite.json")
pass_suite=$(grep -c '"result":"pass"' "$work/suite.json")
timed sweep -j 2 --size 65536 --sweep flash-ops -- "$host" -p {port} --pkg {pkg} --response-timeout 300
sweep=$secs
sweep_cpu=$cpu
n_sweep=$(grep -c '"cut"' "$work/sweep.json")
fail_sweep=$(grep -c '"result":"fail"' "$work/sweep.json" || true)

load1=$(cut -d' ' -f1-3 /proc/loadavg)
verdict() { # VALUE MAX
    if [ "$(echo "$1 < $2" | bc -l)" = 1 ]; then echo PASS; else echo FAIL; fi
}
echo "load average before: $load0, after: $load1 (2 cores; other work on the machine slows every figure)"
printf 'baseline  one complete case                  %6.2f s\n' "$base"
printf 'suite     %2d cases, -j 2                      %6.2f s  %5.2f cases/s  %5.2f x baseline per case  (%d passed)  target < %d s: %s\n' \
    "$n_suite" "$suite" "$(echo "$n_suite / $suite" | bc -l)" "$(echo "$suite / $n_suite / $base" | bc -l)" \
    "$pass_suite" "$max_suite" "$(verdict "$suite" "$max_suite")"
printf 'sweep     %4d flash-op cut points, -j 2      %6.2f s  %5.2f points/s  %5.2f x baseline per point  target < %d s: %s\n' \
    "$n_sweep" "$sweep" "$(echo "$n_sweep / $sweep" | bc -l)" "$(echo "$sweep / $n_sweep / $base" | bc -l)" \
    "$max_sweep" "$(verdict "$sweep" "$max_sweep")"
printf '          CPU (every process, user+sys): %.1f s, %.1f ms a point; on two otherwise idle cores at least %.1f s\n' \
    "$sweep_cpu" "$(echo "$sweep_cpu * 1000 / $n_sweep" | bc -l)" "$(echo "$sweep_cpu / 2" | bc -l)"
if [ "$fail_sweep" = 0 ]; then
    echo "          (dfuhost recovered from every cut point)"
else
    echo "          (dfuhost did not recover from $fail_sweep of the cut points:"
    grep '"result":"fail"' "$work/sweep.json" | sed 's/^{"cut":\([0-9]*\),"what":"\([^"]*\)".*/           op \1: \2/' || true
    echo "          )"
fi
[ "$(verdict "$suite" "$max_suite")" = PASS ] && [ "$(verdict "$sweep" "$max_sweep")" = PASS ]
