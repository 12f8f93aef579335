#!/bin/sh
# run.sh - one golden case from tests/golden/cases.txt.
#
#   run.sh gen NAME      run dk-gencap with NAME's arguments in a scratch
#                        directory; every capture file it writes must equal
#                        the committed one in captures/ byte for byte
#   run.sh decode NAME   run dfudecode in captures/ on the committed capture;
#                        its output must equal the expected file and its exit
#                        status the expected one.  Shows a diff on failure.
#
# Environment: DK_GENCAP, DK_DFUDECODE (programs), DK_CAPTURES (captures/),
# DK_CASES (cases.txt), DK_WORK (scratch directory).
set -u
set -f
[ $# -eq 2 ] || { echo "usage: run.sh gen|decode NAME" >&2; exit 2; }
mode=$1
name=$2
line=$(awk -v m="$mode" -v n="$name" '$1 == m && $2 == n' "$DK_CASES")
[ -n "$line" ] || { echo "run.sh: no '$mode $name' line in $DK_CASES" >&2; exit 2; }
# shellcheck disable=SC2086
set -- $line
shift 2
mkdir -p "$DK_WORK" || exit 2

case $mode in
gen)
    work=$DK_WORK/gen-$name
    rm -rf "$work" && mkdir -p "$work" || exit 2
    if ! (cd "$work" && "$DK_GENCAP" "$@"); then
        echo "FAIL: dk-gencap $* exited with an error"
        exit 1
    fi
    outs=
    prev=
    for a in "$@"; do
        case $prev in --pcap | --raw | --host | --target) outs="$outs $a" ;; esac
        prev=$a
    done
    fail=0
    for f in $outs; do
        if [ ! -f "$DK_CAPTURES/$f" ]; then
            echo "FAIL: captures/$f is missing"
            fail=1
        elif ! cmp "$DK_CAPTURES/$f" "$work/$f"; then
            echo "FAIL: captures/$f differs from what dk-gencap writes now; first differences:"
            cmp -l "$DK_CAPTURES/$f" "$work/$f" 2>&1 | head -5
            fail=1
        else
            echo "ok: captures/$f regenerates byte for byte"
        fi
    done
    if [ $fail -ne 0 ]; then
        echo "If the generator change is intended: tests/gen/regen.sh BUILD_DIR, then review"
        echo "every changed transcript (git diff captures/) before committing."
    fi
    exit $fail
    ;;
decode)
    [ $# -ge 3 ] || { echo "run.sh: decode line for $name needs EXIT EXPECTED ARGS" >&2; exit 2; }
    want_rc=$1
    expected=$2
    shift 2
    out=$DK_WORK/decode-$name.out
    err=$DK_WORK/decode-$name.err
    (cd "$DK_CAPTURES" && "$DK_DFUDECODE" "$@") >"$out" 2>"$err"
    rc=$?
    fail=0
    if [ ! -f "$DK_CAPTURES/$expected" ]; then
        echo "FAIL: captures/$expected is missing; output was:"
        cat "$out"
        fail=1
    elif ! diff -u --label "captures/$expected" --label "dfudecode $*" \
        "$DK_CAPTURES/$expected" "$out"; then
        echo "FAIL: dfudecode $* does not print captures/$expected (diff above)"
        fail=1
    fi
    if [ "$rc" != "$want_rc" ]; then
        echo "FAIL: dfudecode $* exited $rc, expected $want_rc"
        fail=1
    fi
    if [ -s "$err" ]; then
        echo "dfudecode stderr:"
        cat "$err"
    fi
    [ $fail -eq 0 ] && echo "ok: dfudecode $* matches captures/$expected, exit $rc"
    exit $fail
    ;;
*)
    echo "usage: run.sh gen|decode NAME" >&2
    exit 2
    ;;
esac
