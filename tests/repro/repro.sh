#!/bin/sh
# repro.sh MODE NAME DFUDECODE DFUSIM DFUHOST DKGENLOG LOGDIR
#   A sample log of captures/logs/ (tests/repro/cases.txt says what it shows):
#   decode   dfudecode turns it into NAME.expected.txt (byte for byte), exit 0
#            only for a completed update, the diagnosis of cases.txt (text and
#            JSON), and --scenario into NAME.scenario.json;
#   dfuhost  dfusim --scenario runs dfuhost again: the rerun's capture fails the
#            same way (or, where dfuhost recovers what the log's host could
#            not, shows the same symptom);
#   nrfutil  the same with Nordic's nrfutil -vvvv (skipped, 77, when it is not
#            installed or the log is not nrfutil's): its own log decodes to the
#            same diagnosis and the same failure.  pc-nrfutil 6 is found as
#            tests/support/dk_tools.sh says ($DFUKIT_NRFUTIL, else nrfutil-6).
# The package each log sent is rebuilt by dk-genlog --pkg.  DK_KEEP=1 keeps
# the work directory.
set -u
mode=$1 name=$2 DEC=$3 SIM=$4 HOST=$5 GEN=$6 LOGS=$7
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CHECK="$PY $HERE/check.py"
. "$HERE/../support/dk_tools.sh"

row=$(grep "^$name " "$HERE/cases.txt") || { echo "$name: not in cases.txt"; exit 1; }
base=${name%.*} # golden files: BASE.expected.txt, BASE.scenario.json
field() { echo "$row" | cut -d'|' -f"$1" | sed 's/^ *//; s/ *$//'; }
scen=$(field 2) diag=$(field 3) expect=$(field 4) extra=$(field 5)
[ "$extra" = "$row" ] && extra=

if [ "$mode" = nrfutil ]; then
    case $name in nrfutil-* | plain-*) ;; *) echo "not an nrfutil log: skipped"; exit 77 ;; esac
    N=$(dk_find_nrfutil) || { echo "skipped: pc-nrfutil 6 is not installed"; exit 77; }
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/dkrepro.XXXXXX") || exit 1
SIMPID=
cleanup() {
    [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
    [ -n "${DK_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $name: $*"; fails=$((fails + 1)); }

# the package the log sent, and the scenario (from the log's own directory,
# so that the file name in it is the bare name)
pkg_and_scenario() {
    "$GEN" -s "$scen" -f nrfutil -o /dev/null --pkg "$T/app.zip" || { echo "dk-genlog failed"; exit 1; }
    (cd "$LOGS" && "$DEC" --scenario "$T/s.json" --pkg "$T/app.zip" "$name" >/dev/null)
    [ -s "$T/s.json" ] || { echo "FAIL: $name: no scenario written"; exit 1; }
}

# start_sim [ARGS]: dfusim --scenario in the background, its pty in $PTY
start_sim() {
    scale=
    case $extra in scale=*) scale="--time-scale ${extra#scale=}" ;; esac
    # shellcheck disable=SC2086
    "$SIM" -v --scenario "$T/s.json" $scale "$@" >"$T/sim.out" 2>"$T/sim.err" &
    SIMPID=$!
    i=0
    while [ ! -s "$T/sim.out" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
    PTY=$(head -n 1 "$T/sim.out")
    [ -n "$PTY" ] || { echo "dfusim did not start"; cat "$T/sim.err"; exit 1; }
}

stop_sim() {
    kill "$SIMPID"
    wait "$SIMPID" || fail "dfusim exit status $? after SIGTERM"
    SIMPID=
}

case $mode in
decode)
    cd "$LOGS" || exit 1
    "$DEC" "$name" >"$T/out.txt" 2>"$T/err.txt"
    rc=$?
    want=1
    [ "$diag" = update.completed ] && want=0
    [ $rc -eq $want ] || fail "exit status $rc, expected $want ($(head -c 200 "$T/err.txt"))"
    if ! cmp -s "$T/out.txt" "$base.expected.txt"; then
        fail "transcript differs from $base.expected.txt (tests/repro/regen.sh BUILD_DIR)"
        diff "$base.expected.txt" "$T/out.txt" | head -20
    fi
    grep -q "^  diagnosis: .*\[$diag\]\$" "$T/out.txt" || fail "the transcript's diagnosis is not [$diag]"
    "$DEC" --json "$name" >"$T/out.jsonl" 2>/dev/null
    $CHECK diag "$T/out.jsonl" "$diag" || fail "JSON diagnosis"
    if [ "$expect" != - ]; then
        pkg_and_scenario
        if ! cmp -s "$T/s.json" "$base.scenario.json"; then
            fail "scenario differs from $base.scenario.json (tests/repro/regen.sh BUILD_DIR)"
            diff "$base.scenario.json" "$T/s.json" | head -20
        fi
        "$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(s['diagnosis'] != sys.argv[2])" \
            "$T/s.json" "$diag" || fail "the scenario's diagnosis is not $diag"
    else
        # nothing to reproduce: a session that completed or was cut still
        # gives a scenario; a Programmer (debugger) log has no serial session
        (cd "$LOGS" && "$DEC" --scenario "$T/s.json" "$name" >/dev/null 2>"$T/err.txt")
        src=$?
        case $name in
        programmer-*)
            [ $src -eq 2 ] && grep -q "no serial DFU session to reproduce" "$T/err.txt" ||
                fail "--scenario of a Programmer log: exit $src, $(cat "$T/err.txt")"
            [ ! -e "$T/s.json" ] || fail "--scenario of a Programmer log wrote a file"
            ;;
        ble-driver.*) # the BLE adapter's failure: outside the bootloader dfusim models
            [ $src -eq 2 ] && grep -q "nothing for dfusim to reproduce" "$T/err.txt" ||
                fail "--scenario of a BLE adapter failure: exit $src, $(cat "$T/err.txt")"
            [ ! -e "$T/s.json" ] || fail "--scenario of a BLE adapter failure wrote a file"
            ;;
        *) [ -s "$T/s.json" ] || fail "--scenario wrote nothing: $(cat "$T/err.txt")" ;;
        esac
    fi
    ;;
dfuhost)
    [ "$expect" != - ] || { echo "nothing to reproduce"; exit 0; }
    pkg_and_scenario
    start_sim --capture "$T/c.pcap"
    # shellcheck disable=SC2046
    "$HOST" -p "$PTY" --pkg "$T/app.zip" --timeout 2 $("$PY" -c \
        "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['host']['dfuhost_args']))" "$T/s.json") \
        >"$T/host.out" 2>"$T/host.err"
    hrc=$?
    stop_sim
    "$DEC" --json "$T/c.pcap" >"$T/c.jsonl" 2>/dev/null
    "$DEC" --scenario "$T/r.json" --pkg "$T/app.zip" "$T/c.pcap" >"$T/c.txt" 2>&1
    case $expect in
    same)
        [ $hrc -eq 1 ] || fail "dfuhost exit $hrc, expected 1"
        $CHECK same "$T/s.json" "$T/r.json" || fail "the rerun failed another way"
        ;;
    silent)
        [ $hrc -eq 1 ] || fail "dfuhost exit $hrc, expected 1"
        grep -q "no answer to PING" "$T/host.err" || fail "dfuhost did not report a silent target"
        $CHECK diag "$T/c.jsonl" link.no_answer || fail "the rerun capture"
        ;;
    symptom)
        case $extra in
        lost)
            grep -q "lost" "$T/sim.err" || fail "dfusim lost no frame"
            grep -q "crc_mismatch\|offset_mismatch" "$T/c.jsonl" || fail "no check failed in the rerun"
            ;;
        scale=*)
            grep -q "inactivity timeout\|reset by the bootloader: .*the app runs" "$T/sim.err" ||
                fail "dfusim did not reset for inactivity"
            [ $hrc -eq 1 ] || fail "dfuhost exit $hrc, expected 1 (the target's app runs)"
            ;;
        *)
            [ $hrc -eq 0 ] || fail "dfuhost exit $hrc, expected 0 (it recovers)"
            $CHECK symptom "$extra" "$T/s.json" "$T/c.jsonl" || fail "the symptom"
            ;;
        esac
        ;;
    esac
    case $extra in silent=*)
        $CHECK symptom "$extra" "$T/s.json" "$T/c.jsonl" || fail "the symptom" ;;
    esac
    [ $fails -eq 0 ] || { echo "--- dfuhost:"; cat "$T/host.err"; echo "--- dfusim:"; tail -20 "$T/sim.err"; }
    ;;
nrfutil)
    [ "$expect" != - ] || { echo "nothing to reproduce"; exit 0; }
    pkg_and_scenario
    start_sim
    prn=$("$PY" -c "import json,sys; p=json.load(open(sys.argv[1]))['host']['prn']; print(p or 0)" "$T/s.json")
    set -- dfu serial -pkg app.zip -p "$PTY" -fc 0 -t 1 -cd 0 -prn "$prn"
    # The rerun's log: nrfutil -vvvv, after the command line as a terminal
    # shows it when the log had one (flow control off, a baud): a pty needs
    # -fc 0 whatever the log said, so no command line otherwise.
    "$PY" -c "import json,sys; h=json.load(open(sys.argv[1]))['host']
if h['flow_control'] is False: print('\$ nrfutil -vvvv dfu serial -pkg app.zip -p /dev/ttyUSB0 -fc 0' + (' -b %d' % h['baud'] if h['baud'] else ''))" \
        "$T/s.json" >"$T/n.log"
    (cd "$T" && "$N" -vvvv "$@" >>"$T/n.log" 2>&1)
    nrc=$?
    stop_sim
    [ $nrc -ne 0 ] || fail "nrfutil succeeded"
    "$DEC" --scenario "$T/r.json" --pkg "$T/app.zip" "$T/n.log" >"$T/n.txt" 2>&1
    $CHECK same "$T/s.json" "$T/r.json" || fail "the rerun failed another way"
    [ $fails -eq 0 ] || { echo "--- nrfutil:"; tail -5 "$T/n.log"; echo "--- dfusim:"; tail -20 "$T/sim.err"; }
    ;;
*)
    echo "usage: repro.sh decode|dfuhost|nrfutil NAME DFUDECODE DFUSIM DFUHOST DKGENLOG LOGDIR"
    exit 2
    ;;
esac
[ $fails -eq 0 ]
