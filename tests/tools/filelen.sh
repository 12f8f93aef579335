#!/bin/sh
# filelen.sh MAX ROOT DIR... - no C source under ROOT/DIR... is longer than
# MAX lines.  Prints each one over as FILE: N lines and exits 1; 0 when none.
# filelen.sh --selftest: a planted file of MAX+1 lines is found, one of MAX
# passes.
set -u
over() { # MAX FILE...
    max=$1
    shift
    awk -v max="$max" 'FNR == 1 && NR > 1 && n > max { printf "%s: %d lines\n", f, n; bad = 1 }
        FNR == 1 { f = FILENAME } { n = FNR }
        END { if (n > max) { printf "%s: %d lines\n", f, n; bad = 1 } exit bad }' "$@"
}

if [ "${1:-}" = --selftest ]; then
    T=$(mktemp -d "${TMPDIR:-/tmp}/dkfl.XXXXXX") || exit 2
    trap 'rm -rf "$T"' EXIT
    seq 1 11 >"$T/a.c"
    seq 1 10 >"$T/b.c"
    seq 1 12 >"$T/c.c"
    out=$(over 10 "$T/a.c" "$T/b.c" "$T/c.c")
    rc=$?
    exp="$T/a.c: 11 lines
$T/c.c: 12 lines"
    if [ $rc -eq 1 ] && [ "$out" = "$exp" ] && over 10 "$T/b.c" >/dev/null; then
        echo "filelen selftest: files of 11 and 12 lines found, one of 10 passed"
        exit 0
    fi
    echo "FAIL: filelen selftest: exit $rc, '$out'"
    exit 1
fi

[ $# -ge 3 ] || { echo "usage: filelen.sh MAX ROOT DIR... | --selftest" >&2; exit 2; }
MAX=$1 ROOT=$2
shift 2
files=$(cd "$ROOT" && find "$@" -name '*.c' | sort)
[ -n "$files" ] || { echo "filelen: no C sources under $*" >&2; exit 2; }
# shellcheck disable=SC2086 # file names without spaces (ours)
(cd "$ROOT" && over "$MAX" $files) || { echo "FAIL: C sources over $MAX lines (above)"; exit 1; }
echo "filelen: $(echo "$files" | wc -l) files under $*: none over $MAX lines"
