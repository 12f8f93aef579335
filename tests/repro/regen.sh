#!/bin/sh
# regen.sh BUILD_DIR - rewrite the golden files of captures/logs/: for every
# log of tests/repro/cases.txt its transcript (BASE.expected.txt, BASE: the name without its extension) and, for the
# failures, its scenario (BASE.scenario.json, made with the package dk-genlog
# rebuilds).  Read every diff before committing: a golden file changes only
# with a deliberate change of dfudecode's output.
set -eu
B=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
LOGS=$(cd "$HERE/../../captures/logs" && pwd)
DEC=$B/decode/dfudecode
GEN=$B/tests/logs/dk-genlog
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
grep -v '^#' "$HERE/cases.txt" | while IFS='|' read -r name scen diag expect extra; do
    name=$(echo "$name" | tr -d ' ') scen=$(echo "$scen" | tr -d ' ') expect=$(echo "$expect" | tr -d ' ')
    [ -n "$name" ] || continue
    base=${name%.*}
    (cd "$LOGS" && "$DEC" "$name" >"$base.expected.txt") || true
    if [ "$expect" != - ]; then
        "$GEN" -s "$scen" -f nrfutil -o /dev/null --pkg "$T/app.zip"
        (cd "$LOGS" && "$DEC" --scenario "$base.scenario.json" --pkg "$T/app.zip" "$name" >/dev/null) || true
    fi
done
