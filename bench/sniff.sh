#!/bin/sh
# bench/sniff.sh [BUILD_DIR] [MB] [ROUNDS] - what dfusniff costs, measured in
# one run against baselines on the same machine:
#   throughput ratio  = MB/s through dfusniff (capture on) / MB/s through one pty pair
#   latency ratio     = (round trip through dfusniff - direct round trip) / direct round trip
# plus the same against a bare relay (two pty pairs and a read/write loop, no
# capture), which isolates what capturing costs.  Round trips: 20-byte request,
# 16-byte answer; median of ROUNDS.
set -eu
B=${1:-build}
MB=${2:-64}
ROUNDS=${3:-2000}
for f in "$B/sniff/dfusniff" "$B/tests/sniff/sniff_bench"; do
    [ -x "$f" ] || { echo "bench/sniff.sh: $f missing: build first (cmake -S . -B $B && make -C $B)" >&2; exit 2; }
done
"$B/tests/sniff/sniff_bench" "$B/sniff/dfusniff" "$MB" "$ROUNDS" | awk -v mb="$MB" '
    { tp[$1] = $2; rt[$1] = $3 }
    END {
        printf "%-8s %10s %12s   (%s MB each way, both at once)\n", "path", "MB/s", "RTT us", mb
        split("direct relay sniff", k, " ")
        for (i = 1; i <= 3; i++) printf "%-8s %10.1f %12.1f\n", k[i], tp[k[i]], rt[k[i]]
        printf "throughput ratio dfusniff/direct: %.3f\n", tp["sniff"] / tp["direct"]
        printf "throughput ratio dfusniff/relay:  %.3f\n", tp["sniff"] / tp["relay"]
        printf "added latency ratio (dfusniff - direct)/direct: %.3f\n", (rt["sniff"] - rt["direct"]) / rt["direct"]
        printf "added latency ratio (dfusniff - relay)/relay:   %.3f\n", (rt["sniff"] - rt["relay"]) / rt["relay"]
    }'
