#!/bin/sh
# usage.sh DFUDECODE DFUSIM DFUHOST DFUSNIFF [DFUCHECK] - an unknown option or a missing
# argument: every tool prints exactly one line on stderr, in one form, and
# exits 2 with nothing on stdout:
#   TOOL: unknown option '--frob' (see TOOL --help)
#   TOOL: option '--capture' needs an argument (see TOOL --help)
# (dfuhost used to print its whole 22-line usage for an unknown option.)
set -u
DEC=$1 SIM=$2 HOST=$3 SNIFF=$4 CHECK=${5:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/dkusage.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect TOOLPATH LINE ARGS...: exit 2, stderr exactly LINE, stdout empty
expect() {
    tool=$1 want=$2
    shift 2
    timeout 5 "$tool" "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
    name=$(basename "$tool")
    [ $rc -eq 2 ] || fail "$name $*: exit $rc, expected 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$name $*: $(wc -l <"$T/err") lines on stderr, expected 1"
    [ "$(cat "$T/err")" = "$want" ] || fail "$name $*: '$(head -n 1 "$T/err")', expected '$want'"
    [ ! -s "$T/out" ] || fail "$name $*: wrote to stdout"
}

# TOOLPATH OPTION-WITH-ARGUMENT
for spec in "$DEC --scenario" "$SIM --capture" "$HOST --capture" "$SNIFF --port" ${CHECK:+"$CHECK --keep"}; do
    set -- $spec
    tool=$1 withval=$2
    n=$(basename "$tool")
    expect "$tool" "$n: unknown option '--frob' (see $n --help)" --frob
    expect "$tool" "$n: unknown option '--frob' (see $n --help)" --frob=1
    expect "$tool" "$n: unknown option '-Z' (see $n --help)" -Z
    expect "$tool" "$n: option '$withval' needs an argument (see $n --help)" "$withval"
done

# short options: missing argument, and an unknown one inside a cluster
expect "$HOST" "dfuhost: option '-p' needs an argument (see dfuhost --help)" -p
expect "$HOST" "dfuhost: unknown option '-Z' (see dfuhost --help)" -vZq
expect "$SIM" "dfusim: unknown option '-Z' (see dfusim --help)" --verbose -Zv
expect "$DEC" "dfudecode: option '--json' takes no argument (see dfudecode --help)" --json=1

[ $fails -eq 0 ]
