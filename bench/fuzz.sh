#!/bin/sh
# fuzz.sh [SECONDS] [BUILD_DIR] - every libFuzzer target for SECONDS each
# (default 60), from its committed seeds (tests/fuzz/corpus/<target>/).
#
# Per target: the time it ran, inputs executed, executions per second,
# libFuzzer's coverage (cov: edges, ft: features) at the end, the corpus it
# ended with (inputs, bytes: seeds plus what it found) and crashes (crash,
# leak, timeout or out-of-memory inputs written); then a total line.  A
# target stops at its first crash: the input is kept in
# BUILD_DIR/fuzz-bench/artifacts/ and named in the output.
#
# BUILD_DIR (or $DFUKIT_FUZZ_BUILD): a build configured with CC=clang
# -DDFUKIT_FUZZ=ON; without it one is made in build-fuzz/.  JOBS=N runs N
# targets at a time (default 1); TARGETS="logs sim" runs only those.
# Scratch corpora go to $FUZZ_OUT or BUILD_DIR/fuzz-bench/ (emptied first), never to
# the committed seeds.  Not a test; exit 1 when any target crashed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
build=${2:-${DFUKIT_FUZZ_BUILD:-}}
jobs=${JOBS:-1}

if [ -z "$build" ]; then
    build=$root/build-fuzz
    echo "building the fuzz targets (clang) in $build ..."
    CC=clang cmake -S "$root" -B "$build" -DDFUKIT_FUZZ=ON >/dev/null
    cmake --build "$build" -j2 >/dev/null
fi
build=$(cd "$build" && pwd)
targets=${TARGETS:-$(sed -n 's/^set(DK_FUZZ_TARGETS \(.*\))$/\1/p' "$root/tests/fuzz/CMakeLists.txt")}
out=${FUZZ_OUT:-$build/fuzz-bench}
rm -rf "$out"
mkdir -p "$out/artifacts"

one() {
    t=$1
    bin=$build/tests/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "fuzz.sh: $bin missing (build with CC=clang -DDFUKIT_FUZZ=ON)" >&2
        echo "$t missing" >"$out/$t.row"
        return
    fi
    mkdir -p "$out/$t"
    start=$(date +%s)
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
        "$out/$t" "$root/tests/fuzz/corpus/$t" >"$out/$t.log" 2>&1 || true
    end=$(date +%s)
    # the last status line: "#N <KIND> cov: C ft: F corp: K/SIZE ..."
    last=$(grep -E '^#[0-9]+[[:space:]]' "$out/$t.log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
    crashes=$(find "$out/artifacts" -name "$t-*" | wc -l)
    echo "$t $((end - start)) ${execs:-0} ${rate:-0} ${cov:-0} ${ft:-0} ${corp:-0/0b} $crashes" \
        >"$out/$t.row"
}

echo "fuzzing: $targets ($secs s each, $jobs at a time)"
# a pool of JOBS: the next target starts as soon as one ends (a target that
# crashed early leaves its core to the next, not idle)
pids=
for t in $targets; do
    while :; do
        alive=
        for p in $pids; do
            kill -0 "$p" 2>/dev/null && alive="$alive $p"
        done
        pids=$alive
        [ "$(echo $pids | wc -w)" -lt "$jobs" ] && break
        sleep 1
    done
    one "$t" &
    pids="$pids $!"
done
wait

printf '%-10s %6s %12s %8s %7s %8s %14s %8s\n' target time_s execs exec/s cov ft corpus crashes
tt=0 te=0 tc=0 tcr=0
for t in $targets; do
    set -- $(cat "$out/$t.row")
    if [ "$2" = missing ]; then
        printf '%-10s %s\n' "$t" "not built"
        tcr=$((tcr + 1))
        continue
    fi
    printf '%-10s %6s %12s %8s %7s %8s %14s %8s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
    tt=$((tt + $2))
    te=$((te + $3))
    tc=$((tc + $5))
    tcr=$((tcr + $8))
done
rate=0
[ "$tt" -gt 0 ] && rate=$((te / tt))
printf '%-10s %6s %12s %8s %7s %8s %14s %8s\n' total "$tt" "$te" "$rate" "$tc" - - "$tcr"
for f in "$out"/artifacts/*; do
    [ -e "$f" ] && echo "crash input: $f"
done
[ "$tcr" -eq 0 ]
