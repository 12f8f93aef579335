#!/bin/sh
# funclen.sh MAX ROOT DIR... - no function in the C sources under ROOT/DIR...
# is longer than MAX lines (the line before its opening brace, the body, the
# closing brace).  The sources are clang-formatted: a function body opens
# with "{" alone at column 0 and closes with the first "}" at column 0; a
# definition written "f(void) {" on one line is caught too.  Prints each
# function over MAX as FILE:LINE: NAME: N lines and exits 1; 0 when none.
# funclen.sh --selftest: the counter finds a planted long function, passes
# a short one, and does not take a table ("= {" ... "};") for a function.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

count() { # MAX FILE...
    max=$1
    shift
    awk -v max="$max" '
    FNR == 1 { inside = 0; prev = ""; prev2 = "" }
    !inside && ($0 == "{" || $0 ~ /^[A-Za-z_][^;=]*\)[ \t]*\{[ \t]*$/) {
        inside = 1; start = FNR - ($0 == "{")
        name = $0 == "{" ? (prev ~ /\(/ ? prev : prev2 " " prev) : $0
        sub(/\(.*/, "", name); n = split(name, w, /[ \t*]+/); name = w[n]
        next
    }
    inside && /^}/ {
        inside = 0
        if (FNR - start + 1 > max) { printf "%s:%d: %s: %d lines\n", FILENAME, start, name, FNR - start + 1; bad = 1 }
        next
    }
    { prev2 = prev; prev = $0 }
    END { exit bad }' "$@"
}

if [ "${1:-}" = --selftest ]; then
    T=$(mktemp -d "${TMPDIR:-/tmp}/dkfl.XXXXXX") || exit 2
    trap 'rm -rf "$T"' EXIT
    {
        echo 'static const int table[] = {'
        i=0; while [ $i -lt 200 ]; do echo "    $i,"; i=$((i + 1)); done
        echo '};'
        echo 'static int short_one(int a,'
        echo '                     int b)'
        echo '{'
        echo '    return a + b;'
        echo '}'
        echo 'int long_one(void) {'
        i=0; while [ $i -lt 119 ]; do echo "    x();"; i=$((i + 1)); done
        echo '}'
        echo 'static void'
        echo 'exactly(void)'
        echo '{'
        i=0; while [ $i -lt 117 ]; do echo "    x();"; i=$((i + 1)); done
        echo '}'
    } >"$T/t.c"
    out=$(count 120 "$T/t.c")
    rc=$?
    exp="$T/t.c:208: long_one: 121 lines"
    if [ $rc -eq 1 ] && [ "$out" = "$exp" ]; then
        echo "funclen selftest: a 121-line function found, a 120-line one and a table passed"
        exit 0
    fi
    echo "FAIL: funclen selftest: exit $rc, '$out' (expected '$exp')"
    exit 1
fi

[ $# -ge 3 ] || { echo "usage: funclen.sh MAX ROOT DIR... | --selftest" >&2; exit 2; }
MAX=$1 ROOT=$2
shift 2
files=$(cd "$ROOT" && find "$@" -name '*.c' | sort)
[ -n "$files" ] || { echo "funclen: no C sources under $*" >&2; exit 2; }
# shellcheck disable=SC2086 # file names without spaces (ours)
(cd "$ROOT" && count "$MAX" $files) || { echo "FAIL: functions over $MAX lines (above)"; exit 1; }
echo "funclen: $(echo "$files" | wc -l) files under $*: no function over $MAX lines"
