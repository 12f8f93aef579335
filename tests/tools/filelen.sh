#!/bin/sh
# filelen.sh MAX ROOT [--allow FILE=N]... DIR... - no C source under
# ROOT/DIR... is longer than MAX lines; a file named with --allow (its path
# under ROOT) may have up to N, its length when it was let off, so it cannot
# grow either, and an allowance the file no longer needs (N or fewer lines
# would pass MAX) is an error too, so it is dropped once the file is split.
# Prints each one over as FILE: N lines and exits 1; 0 when none.
# filelen.sh --selftest: a planted file of MAX+1 lines is found, one of MAX
# passes, an allowed file passes up to its allowance and not one line more,
# and a needless allowance is refused.
set -u
over() { # MAX "FILE=N ..." FILE...
    max=$1 allow=$2
    shift 2
    awk -v max="$max" -v allow="$allow" '
        BEGIN { n = split(allow, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); cap[kv[1]] = kv[2] } }
        function done(f, n) {
            lim = (f in cap) ? cap[f] : max
            if (n > lim) { printf "%s: %d lines\n", f, n; bad = 1 }
            if ((f in cap) && n <= max) { printf "%s: %d lines, no longer needs its allowance of %d\n", f, n, cap[f]; bad = 1 }
            seen[f] = 1
        }
        FNR == 1 && NR > 1 { done(f, n) }
        FNR == 1 { f = FILENAME } { n = FNR }
        END {
            if (NR > 0) done(f, n)
            for (k in cap) if (!(k in seen)) { printf "%s: allowed but not found\n", k; bad = 1 }
            exit bad
        }' "$@"
}

if [ "${1:-}" = --selftest ]; then
    T=$(mktemp -d "${TMPDIR:-/tmp}/dkfl.XXXXXX") || exit 2
    trap 'rm -rf "$T"' EXIT
    seq 1 11 >"$T/a.c"
    seq 1 10 >"$T/b.c"
    seq 1 12 >"$T/c.c"
    out=$(over 10 "" "$T/a.c" "$T/b.c" "$T/c.c")
    rc=$?
    exp="$T/a.c: 11 lines
$T/c.c: 12 lines"
    ok=1
    [ $rc -eq 1 ] && [ "$out" = "$exp" ] && over 10 "" "$T/b.c" >/dev/null || ok=0
    # an allowance: up to its number, not one more; not when the file is short
    over 10 "$T/c.c=12" "$T/b.c" "$T/c.c" >/dev/null || ok=0
    out2=$(over 10 "$T/c.c=11" "$T/b.c" "$T/c.c")
    [ $? -eq 1 ] && [ "$out2" = "$T/c.c: 12 lines" ] || ok=0
    out3=$(over 10 "$T/b.c=12" "$T/b.c")
    [ $? -eq 1 ] && [ "$out3" = "$T/b.c: 10 lines, no longer needs its allowance of 12" ] || ok=0
    if [ $ok -eq 1 ]; then
        echo "filelen selftest: files of 11 and 12 lines found, one of 10 passed; an allowance of 12 held at 12"
        exit 0
    fi
    echo "FAIL: filelen selftest: exit $rc, '$out' / '${out2:-}' / '${out3:-}'"
    exit 1
fi

[ $# -ge 3 ] || { echo "usage: filelen.sh MAX ROOT [--allow FILE=N]... DIR... | --selftest" >&2; exit 2; }
MAX=$1 ROOT=$2
shift 2
allow=
while [ "${1:-}" = --allow ]; do
    [ $# -ge 2 ] || { echo "filelen: --allow needs FILE=N" >&2; exit 2; }
    allow="$allow $2"
    shift 2
done
[ $# -ge 1 ] || { echo "usage: filelen.sh MAX ROOT [--allow FILE=N]... DIR... | --selftest" >&2; exit 2; }
files=$(cd "$ROOT" && find "$@" -name '*.c' | sort)
[ -n "$files" ] || { echo "filelen: no C sources under $*" >&2; exit 2; }
# shellcheck disable=SC2086 # file names without spaces (ours)
(cd "$ROOT" && over "$MAX" "$allow" $files) || { echo "FAIL: C sources over $MAX lines (above)"; exit 1; }
echo "filelen: $(echo "$files" | wc -l) files under $*: none over $MAX lines${allow:+ (allowed:$allow)}"
