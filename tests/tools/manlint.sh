#!/bin/sh
# manlint.sh PAGE... - each man page renders through man-db and groff
# (man -l, every groff warning on) without a single warning, and the text
# it renders holds its sections.  Skips (77) without man or groff.
set -u
for prog in man groff; do
    command -v "$prog" >/dev/null 2>&1 ||
        { echo "SKIP: $prog is not installed (man-db, groff-base: contrib/debian-deps.sh)"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/dkman.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
for page in "$@"; do
    n=$(basename "$page" .1)
    [ -s "$page" ] || { fail "$page: missing or empty"; continue; }
    # troff output (-Z) keeps the formatter's own diagnostics on stderr
    LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings=w -E UTF-8 -l -Tutf8 -Z "$page" >/dev/null 2>"$T/warn"
    [ ! -s "$T/warn" ] || fail "$n.1: man --warnings=w: $(head -n 3 "$T/warn")"
    groff -man -ww -z -Tutf8 "$page" 2>"$T/warn"
    [ ! -s "$T/warn" ] || fail "$n.1: groff -ww: $(head -n 3 "$T/warn")"
    LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l "$page" 2>"$T/err" | col -b >"$T/text"
    for sec in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
        grep -qx "$sec" "$T/text" || fail "$n.1: rendered without a $sec heading"
    done
    grep -q -- "--help" "$T/text" || fail "$n.1: rendered without --help"
done
[ $fails -eq 0 ] && echo "manlint: $# pages render without warnings"
[ $fails -eq 0 ]
