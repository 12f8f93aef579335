#!/bin/sh
# cli.sh VERSION MANDIR TOOL... - every tool's command line against its own
# help and man page:
#  - --help: stdout only, exit 0, "usage: TOOL", an exit status list;
#  - --version: "TOOL (dfukit) VERSION";
#  - --man: the page built into MANDIR, with NAME, SYNOPSIS, DESCRIPTION,
#    OPTIONS, EXIT STATUS, EXAMPLES (one at least) and SEE ALSO;
#  - every option getopt_long accepts (--cli-table: the arrays it is given)
#    is accepted when tried, and, unless hidden, is listed in --help and in
#    the page's OPTIONS; hidden ones are in neither;
#  - every option --help or the page lists is one getopt_long accepts;
#  - a mode (dfusim --protocol legacy: a table of its own) passes the same
#    checks with its own --help and its own section of the tool's one page.
set -u
VERSION=$1 MANDIR=$2
shift 2
T=$(mktemp -d "${TMPDIR:-/tmp}/dkcli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tab=$(printf '\t')

# The options the help's option lines name, one a line: "  -p, --port PORT",
# "      --pkg FILE", "  -j N" (help text continues further right).
help_options() {
    awk '/^  -[A-Za-z0-9], --/ { sub(",", "", $1); print $1; print $2; next }
         /^      --[a-z0-9]/  { print $1; next }
         /^  -[A-Za-z0-9]( |$)/ { print $1 }' "$T/help"
}

# The options a page lists in section $2 (OPTIONS, or a mode's), one a line
# (the .TP tags).
page_options() {
    sed -n "/^\.SH \"\{0,1\}$2\"\{0,1\}\$/,/^\.SH /p" "$1" | sed -n '/^\.TP$/{n;p;}' |
        sed 's/\\fI[^\\]*\\fR//g; s/\\fB//g; s/\\fR//g; s/\\-/-/g; s/,//g' | tr ' ' '\n' | grep -- '^-'
}

# The --help, the getopt table and the page's section $3 of tool $1 with the
# leading arguments $2 ("" or a mode's "--protocol legacy") agree.
check_table() {
    tool=$1 lead=$2 sec=$3
    n=$(basename "$tool")
    what="$n${lead:+ $lead}"
    # shellcheck disable=SC2086 # $lead: words
    "$tool" $lead --help >"$T/help" 2>"$T/err"
    rc=$?
    [ $rc -eq 0 ] || fail "$what --help: exit $rc"
    [ ! -s "$T/err" ] || fail "$what --help: wrote to stderr"
    head -n 1 "$T/help" | grep -q "^usage: $n ${lead:+$lead }" || fail "$what --help: first line '$(head -n 1 "$T/help")'"
    grep -q '^Exit status:$' "$T/help" && grep -q '^  0  ' "$T/help" && grep -q '^  2  ' "$T/help" ||
        fail "$what --help: no exit status list with 0 and 2"
    awk 'length > 79 { exit 1 }' "$T/help" || fail "$what --help: a line over 79 columns"
    # shellcheck disable=SC2086
    v=$("$tool" $lead --version 2>&1)
    [ "$v" = "$n (dfukit) $VERSION" ] || fail "$what --version: '$v'"
    grep -qx "\.SH \"\{0,1\}$sec\"\{0,1\}" "$T/page" || fail "$n.1: no section $sec"
    page_options "$T/page" "$sec" >"$T/page-opts"
    help_options >"$T/help-opts"

    # shellcheck disable=SC2086
    "$tool" $lead --cli-table >"$T/table" 2>"$T/err" || fail "$what --cli-table: exit $?"
    grep -q "^optstring$tab" "$T/table" || fail "$what --cli-table: no optstring line"
    [ "$(grep -c '^-' "$T/table")" -ge 3 ] || fail "$what --cli-table: fewer than 3 options"
    grep '^-' "$T/table" >"$T/opts"
    while IFS="$tab" read -r opt arg hidden; do
        # getopt_long takes it (whatever it does next, it is not unknown)
        # shellcheck disable=SC2086
        if [ "$arg" = 1 ]; then
            timeout 10 "$tool" $lead "$opt" 1 --zz-not-an-option </dev/null >/dev/null 2>"$T/perr"
        else
            timeout 10 "$tool" $lead "$opt" --zz-not-an-option </dev/null >/dev/null 2>"$T/perr"
        fi
        grep -q "unknown option '$opt'" "$T/perr" && fail "$what: $opt is in the table but refused"
        if [ "$hidden" = hidden ]; then
            grep -q -- "$opt" "$T/help" && fail "$what: hidden $opt is in --help"
            grep -qx -- "$opt" "$T/page-opts" && fail "$what: hidden $opt is in the page"
            continue
        fi
        grep -qx -- "$opt" "$T/help-opts" || fail "$what: $opt is not in --help"
        grep -qx -- "$opt" "$T/page-opts" || fail "$what: $opt is not in the page's $sec"
    done <"$T/opts"
    # and the other way: nothing listed that getopt_long refuses
    cut -f 1 "$T/opts" >"$T/accepted"
    while read -r opt; do
        grep -qx -- "$opt" "$T/accepted" || fail "$what: the page's $sec lists $opt, getopt_long does not take it"
    done <"$T/page-opts"
    while read -r opt; do
        grep -qx -- "$opt" "$T/accepted" || echo "$opt"
    done <"$T/help-opts" >"$T/extra"
    [ ! -s "$T/extra" ] || fail "$what --help lists options getopt_long does not take: $(cat "$T/extra")"
    # an option that is in no table is refused
    # shellcheck disable=SC2086
    "$tool" $lead --zz-not-an-option >/dev/null 2>"$T/err"
    [ $? -eq 2 ] && grep -qx "$n: unknown option '--zz-not-an-option' (see $n --help)" "$T/err" ||
        fail "$what: an unknown option: $(cat "$T/err")"
}

check_tool() {
    tool=$1
    n=$(basename "$tool")
    "$tool" --man >"$T/page" 2>"$T/err" || fail "$n --man: exit $?"
    [ ! -s "$T/err" ] || fail "$n --man: wrote to stderr"
    cmp -s "$T/page" "$MANDIR/$n.1" || fail "$n --man differs from the built $MANDIR/$n.1"
    for sec in NAME SYNOPSIS DESCRIPTION OPTIONS '"EXIT STATUS"' EXAMPLES '"SEE ALSO"'; do
        grep -qx ".SH $sec" "$T/page" || fail "$n.1: no section $sec"
    done
    sed -n '/^\.SH EXAMPLES$/,/^\.SH /p' "$T/page" | grep -qx '\.nf' || fail "$n.1: no example"
    sed -n '/^\.SH NAME$/{n;p;}' "$T/page" | grep -q "^$n \\\\- ." || fail "$n.1: NAME line"
    check_table "$tool" "" OPTIONS
    # Modes ("mode<TAB>--protocol<TAB>legacy<TAB>legacy protocol"): the same
    # checks of their own table against their --help and their section of
    # the one page, which also shows them in its synopsis.
    "$tool" --cli-table | grep "^mode$tab" >"$T/modes"
    while IFS="$tab" read -r _ mopt mval mtitle; do
        msec=$(echo "$mtitle" | tr '[:lower:]' '[:upper:]')
        sed -n '/^\.SH SYNOPSIS$/,/^\.SH /p' "$T/page" | grep -q -- "^$(echo "$mopt $mval" | sed 's/-/\\\\-/g')" ||
            fail "$n.1: the synopsis does not show $mopt $mval"
        check_table "$tool" "$mopt $mval" "$msec"
        modes=$((modes + 1))
    done <"$T/modes"
}

modes=0
[ $# -ge 1 ] || { echo "usage: cli.sh VERSION MANDIR TOOL..." >&2; exit 2; }
for tool in "$@"; do
    check_tool "$tool"
done
[ $fails -eq 0 ] && echo "cli: $# tools, $modes modes: help, version, page and getopt tables agree"
[ $fails -eq 0 ]
