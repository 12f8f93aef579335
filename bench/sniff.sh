#!/bin/sh
# bench/sniff.sh [BUILD_DIR] [MB] [ROUNDS] [REPS] - what dfusniff costs,
# measured in one run against baselines on the same machine:
#   throughput ratio  = MB/s through dfusniff (capture on) / MB/s through one pty pair
#   latency ratio     = (round trip through dfusniff - direct round trip) / direct round trip
# plus the same against a bare relay (two pty pairs and a read/write loop, no
# capture), which isolates what capturing costs.  Throughput: MB each way, both
# directions at once.  Round trips: 20-byte request, 16-byte answer, median of
# ROUNDS.  The three paths are measured in turn REPS times; each figure is the
# median over the repetitions (a busy machine skews single runs).
set -eu
B=${1:-build}
MB=${2:-32}
ROUNDS=${3:-2000}
REPS=${4:-3}
for f in "$B/sniff/dfusniff" "$B/tests/sniff/sniff_bench"; do
    [ -x "$f" ] || { echo "bench/sniff.sh: $f missing: build first (cmake -S . -B $B && make -C $B)" >&2; exit 2; }
done
i=0
while [ "$i" -lt "$REPS" ]; do
    "$B/tests/sniff/sniff_bench" "$B/sniff/dfusniff" "$MB" "$ROUNDS"
    i=$((i + 1))
done | awk -v mb="$MB" -v reps="$REPS" '
    function median(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { n[$1]++; tp[$1, n[$1]] = $2; rt[$1, n[$1]] = $3 }
    END {
        split("direct relay sniff", k, " ")
        printf "%-8s %10s %12s   (%s MB each way at once; median of %s runs)\n", "path", "MB/s", "RTT us", mb, reps
        for (i = 1; i <= 3; i++) {
            p = k[i]
            for (j = 1; j <= n[p]; j++) { a[j] = tp[p, j]; b[j] = rt[p, j] }
            T[p] = median(a, n[p]); R[p] = median(b, n[p])
            printf "%-8s %10.1f %12.1f\n", p, T[p], R[p]
        }
        printf "throughput ratio dfusniff/direct: %.3f\n", T["sniff"] / T["direct"]
        printf "throughput ratio dfusniff/relay:  %.3f\n", T["sniff"] / T["relay"]
        printf "added latency ratio (dfusniff - direct)/direct: %.3f\n", (R["sniff"] - R["direct"]) / R["direct"]
        printf "added latency ratio (dfusniff - relay)/relay:   %.3f\n", (R["sniff"] - R["relay"]) / R["relay"]
    }'
