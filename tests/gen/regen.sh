#!/bin/sh
# regen.sh [BUILD_DIR] - rewrite captures/ from tests/golden/cases.txt: every
# capture with dk-gencap, then every expected transcript with dfudecode.
# Review the result (git diff captures/) before committing: an expected file
# is only right if it is right per shared protocol facts, not because
# dfudecode printed it.
set -eu
set -f
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
gencap=${DK_GENCAP:-$build/tests/gen/dk-gencap}
decode=${DK_DFUDECODE:-$build/decode/dfudecode}
cases=$root/tests/golden/cases.txt
[ -x "$gencap" ] || { echo "regen.sh: no $gencap (build first)" >&2; exit 2; }
cd "$root/captures"

grep '^gen[[:space:]]' "$cases" | while read -r _ name args; do
    # shellcheck disable=SC2086
    "$gencap" $args
    echo "captures: $name"
done

if [ ! -x "$decode" ]; then
    echo "regen.sh: no $decode: expected transcripts left as they are" >&2
    exit 0
fi
grep '^decode[[:space:]]' "$cases" | while read -r _ name want expected args; do
    # shellcheck disable=SC2086
    if "$decode" $args >"$expected.tmp"; then rc=0; else rc=$?; fi
    mv "$expected.tmp" "$expected"
    if [ "$rc" != "$want" ]; then
        echo "regen.sh: $name: dfudecode exited $rc, cases.txt expects $want" >&2
    fi
    echo "expected: $expected"
done
echo "Now review: git diff --stat captures/ && git diff captures/"
