#!/bin/sh
# sim-regen.sh - the captures/sim/ samples, recorded from real runs: dfusim
# (--capture, --clock virtual) on a pty, driven by dfuhost.  The scenarios are
# the sc_* functions below; tests/golden/sim-cases.txt lists them.
#
#   sim-regen.sh [BUILD_DIR] [NAME...]
#       record every scenario (or the NAMEs) into captures/sim/NAME.pcap, then
#       write the expected transcripts of sim-cases.txt's decode lines with
#       dfudecode.  Review the result (git diff captures/sim) against
#       protocol.md before committing: an expected file is right only if the
#       protocol says so, not because dfudecode printed it.
#   sim-regen.sh --transcripts [BUILD_DIR]
#       only rewrite the expected transcripts of the committed samples (after
#       a dfudecode change; review them the same way).
#   sim-regen.sh --check NAME
#       (CTest) record NAME in a scratch directory; it must equal the
#       committed captures/sim/NAME.pcap byte for byte.
#
# Environment: DK_DFUSIM, DK_DFUHOST, DK_DFUDECODE, DK_MKPKG (default: the
# tools under BUILD_DIR, itself default build/), DK_CAPTURES (captures/),
# DK_SIM_CASES (sim-cases.txt), DK_WORK (scratch directory).
#
# Synchronisation is on events, never on time: the pty path line dfusim
# prints, dfusim's log lines, process exits.  Every wait has a generous
# limit so a broken tool fails the run instead of hanging it.
set -u
set -f
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

check=
transcripts=
if [ "${1:-}" = "--transcripts" ]; then
    transcripts=1
    shift
fi
if [ "${1:-}" = "--check" ]; then
    [ $# -eq 2 ] || { echo "usage: sim-regen.sh --check NAME" >&2; exit 2; }
    check=$2
    shift 2
    build=$root/build
else
    build=$root/build
    if [ $# -gt 0 ] && [ -d "$1" ]; then
        build=$(cd "$1" && pwd)
        shift
    fi
fi
DFUSIM=${DK_DFUSIM:-$build/sim/dfusim}
DFUHOST=${DK_DFUHOST:-$build/host/dfuhost}
DFUDECODE=${DK_DFUDECODE:-$build/decode/dfudecode}
MKPKG=${DK_MKPKG:-$build/tests/support/dk-mkpkg}
captures=${DK_CAPTURES:-$root/captures}
cases=${DK_SIM_CASES:-$here/sim-cases.txt}
if [ -n "$transcripts" ]; then
    tools=$DFUDECODE
else
    tools="$DFUSIM $DFUHOST $MKPKG"
fi
for t in $tools; do
    [ -x "$t" ] || { echo "sim-regen.sh: no $t (build first, or set DK_*)" >&2; exit 2; }
done

# The application image: two data objects, 4096 + 1904 bytes (64 + 30 WRITEs
# of 64 bytes on a UART, MTU 131); the unsigned init packet is 68 bytes (two
# WRITEs).  So WRITE #67 is the first one of object 2.
APP=6000

SIM=
HOST=
w=
cap=

cleanup() {
    # only the processes this script started, by their ids
    [ -n "$HOST" ] && kill -KILL "$HOST" 2>/dev/null
    [ -n "$SIM" ] && kill -KILL "$SIM" 2>/dev/null
    HOST=
    SIM=
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP

fail() {
    echo "FAIL: $scenario: $*"
    for f in "$w"/*.err; do
        [ -s "$f" ] || continue
        echo "--- ${f##*/}:"
        tail -n 30 "$f"
    done
    cleanup
    exit 1
}

# wait_for SECONDS CMD...: run CMD every 10 ms until it succeeds; 1 after
# SECONDS.  (The pause only spaces the polls; the event decides.)
wait_for() {
    polls=$(($1 * 100))
    shift
    while ! "$@"; do
        polls=$((polls - 1))
        [ $polls -gt 0 ] || return 1
        sleep 0.01
    done
}

has_line() { [ -s "$1" ] && [ "$(wc -l <"$1")" -ge 1 ]; }
log_has() { grep -qF -- "$2" "$1"; }

expect() { # FILE TEXT: a tool must have said TEXT
    log_has "$w/$1" "$2" || fail "${1%.err} did not say \"$2\""
}

# dk-mkpkg ZIP options...: an MBR-only target needs sd_req 0 (protocol.md
# §6.7); later options override it.
pkg() {
    out=$1
    shift
    "$MKPKG" --sd-req 0 "$@" "$w/$out" >"$w/mkpkg.out" 2>"$w/mkpkg.err" || fail "dk-mkpkg $* failed"
}

# sim_start options...: dfusim recording $cap; sets SIM and PTY.  Unsigned
# packages are allowed throughout (the samples are about the transfer).
sim_start() {
    "$DFUSIM" --clock virtual --capture "$cap" --allow-unsigned "$@" >"$w/sim.out" 2>"$w/sim.err" &
    SIM=$!
    if ! wait_for 30 sim_ready; then
        fail "dfusim printed no pty path"
    fi
    PTY=$(head -n 1 "$w/sim.out")
}
sim_ready() {
    has_line "$w/sim.out" && return 0
    kill -0 "$SIM" 2>/dev/null || fail "dfusim exited at start"
    return 1
}

sim_stop() {
    kill -TERM "$SIM"
    wait "$SIM"
    rc=$?
    SIM=
    [ $rc -eq 0 ] || fail "dfusim exited $rc after SIGTERM"
}

# host WANT LABEL dfuhost options...: run dfuhost to its end; its exit status
# must be WANT.  Output in LABEL.out / LABEL.err.  --no-verify: the samples
# end with the update; the PINGs of dfuhost's check after it meet a running
# app, which dfudecode would list as unanswered.
host() {
    want=$1
    label=$2
    shift 2
    "$DFUHOST" -p "$PTY" --timeout 10 --no-verify "$@" >"$w/$label.out" 2>"$w/$label.err"
    rc=$?
    [ $rc -eq "$want" ] || fail "dfuhost $* exited $rc, expected $want"
}

# ---- scenarios ------------------------------------------------------------

# A complete update, PRN off (the default of nrfutil and dfuhost).
sc_complete_prn0() {
    pkg app.zip --app $APP
    sim_start
    host 0 host --pkg "$w/app.zip"
    expect host.err "accepted by the target ($APP image bytes sent"
    sim_stop
}

# The same with a PRN notification every 8 WRITEs (§2.3).
sc_complete_prn8() {
    pkg app.zip --app $APP
    sim_start
    host 0 host --pkg "$w/app.zip" --prn 8
    expect host.err "accepted by the target ($APP image bytes sent"
    sim_stop
}

# A complete update with dfuhost's check after it (§14.9): one PING after the
# final EXECUTE (a window of 200 ms holds exactly one: the PING waits up to
# 250 ms), which the app the bootloader reset into never answers.  dfudecode
# says so as dfu.boot_check, not as an unanswered request.
sc_boot_check() {
    pkg app.zip --app $APP
    sim_start
    "$DFUHOST" -p "$PTY" --timeout 10 --verify-window 200 --pkg "$w/app.zip" >"$w/host.out" 2>"$w/host.err"
    rc=$?
    [ $rc -eq 0 ] || fail "dfuhost with its check exited $rc, expected 0"
    expect host.err "left its bootloader"
    sim_stop
}

# dfuhost killed in the middle of object 2, then run again (§6.9: no reset,
# the RAM state survives): the PRN notification after WRITE #82 (the 16th of
# object 2, image offset 5120) is lost, the host waits for it and is killed;
# the second run finds the init packet and 5120 bytes on the target and
# finishes the object without a CREATE.
sc_kill_resume() {
    pkg app.zip --app $APP
    sim_start --fault after-op=write#82:drop-response
    "$DFUHOST" -p "$PTY" --pkg "$w/app.zip" --prn 8 --response-timeout 60000 \
        >"$w/first.out" 2>"$w/first.err" &
    HOST=$!
    wait_for 60 log_has "$w/sim.err" "response dropped (fault)" || fail "the fault did not fire"
    kill -0 "$HOST" 2>/dev/null || fail "the first dfuhost ended before it was killed"
    kill -KILL "$HOST"
    wait "$HOST" 2>/dev/null
    HOST=
    host 0 second --pkg "$w/app.zip" --prn 8
    expect second.err "app.dat is already on the target"
    expect second.err "holds 5120 of $APP bytes of app.bin (CRC ok): finishing the object at 4096"
    expect second.err "accepted by the target (880 image bytes sent"
    sim_stop
}

# Power cut right after the EXECUTE of object 1 (its answer never goes out),
# SAVE_PROGRESS_IN_FLASH off (the SDK default): after the reboot the init
# packet is still valid but the data starts again from 0 (§6.3, §6.9).
sc_cut_nosave() {
    pkg app.zip --app $APP
    sim_start --fault after-op=execute#2:power-cut
    host 0 host --pkg "$w/app.zip" --response-timeout 500
    expect sim.err "power cut (fault)"
    expect host.err "app.dat is still on the target, executed earlier in this run"
    expect host.err "accepted by the target ($((APP + 4096)) image bytes sent"
    sim_stop
}

# The same with SAVE_PROGRESS_IN_FLASH on: the settings write after the
# answer finished, so the target resumes at 4096 (§6.3, §6.9).
sc_cut_save() {
    pkg app.zip --app $APP
    sim_start --save-progress-in-flash --fault after-op=execute#2:power-cut
    host 0 host --pkg "$w/app.zip" --response-timeout 500
    expect sim.err "power cut (fault)"
    expect host.err "holds 4096 of $APP bytes of app.bin (CRC ok): executing its last object again"
    expect host.err "accepted by the target ($APP image bytes sent"
    sim_stop
}

# Init packet refused at its EXECUTE (§6.7, §3.2).
sc_reject_sdreq() { # requires SoftDevice 0x0100; the target has only the MBR
    pkg app.zip --app $APP --sd-req 0x0100
    sim_start
    host 1 host --pkg "$w/app.zip"
    expect host.err "EXT_ERROR SD_VERSION_FAILURE (0x07)"
    sim_stop
}

sc_reject_hw() { # built for hw_version 51; the bootloader is 52
    pkg app.zip --app $APP --hw-version 51
    sim_start
    host 1 host --pkg "$w/app.zip"
    expect host.err "EXT_ERROR HW_VERSION_FAILURE (0x06)"
    sim_stop
}

sc_reject_downgrade() { # version 3 over an installed version 5
    pkg app.zip --app $APP --fw-version 3
    sim_start --app-version 5
    host 1 host --pkg "$w/app.zip"
    expect host.err "EXT_ERROR FW_VERSION_FAILURE (0x05)"
    sim_stop
}

# The answer to the CRC_GET of object 1 arrives with its last byte (the top
# byte of the CRC) inverted: dfuhost sees a CRC that differs from what it
# sent, CREATEs the object again (the target rolls back to offset 0, §6.4),
# sends it whole, and completes.
sc_crc_corrupt() {
    pkg app.zip --app $APP
    sim_start --fault op=crc#2:corrupt-byte
    host 0 host --pkg "$w/app.zip"
    expect sim.err "response corrupted (fault)"
    expect host.err "object 0..4096 of app.bin failed its CRC check"
    expect host.err "accepted by the target ($((APP + 4096)) image bytes sent"
    sim_stop
}

# The answer to the CRC_GET of object 1 is lost: dfuhost waits 500 ms,
# resyncs with a PING, asks again (a read, safe to repeat) and completes.
sc_dropped() {
    pkg app.zip --app $APP
    sim_start --fault op=crc#2:drop-response
    host 0 host --pkg "$w/app.zip" --response-timeout 500
    expect sim.err "response dropped (fault)"
    expect host.err "no answer to CRC_GET within 500 ms: resyncing and sending it again"
    expect host.err "accepted by the target ($APP image bytes sent"
    sim_stop
}

# The answer to the CRC_GET of object 1 comes 750 ms late: dfuhost waits
# 500 ms, resyncs with a PING, drops the late answer as stale, takes the PING
# echo, asks again and completes.  (250 ms either side of the host's timeout:
# the only wall-clock margin in these scenarios.)
sc_late() {
    pkg app.zip --app $APP
    sim_start --fault op=crc#2:delay-response=750
    host 0 host --pkg "$w/app.zip" --response-timeout 500 -v
    expect sim.err "response delayed 750 ms (fault)"
    expect host.err "no answer to CRC_GET within 500 ms: resyncing and sending it again"
    expect host.err "dropped a stale CRC_GET answer"
    expect host.err "accepted by the target ($APP image bytes sent"
    sim_stop
}

# The .dat holds the hash of an image that differs in its first byte: every
# CRC matches, the final EXECUTE answers EXT 0x0C and the target resets (§6.6).
sc_hash_mismatch() {
    pkg app.zip --app $APP --break hash
    sim_start
    host 1 host --pkg "$w/app.zip" --no-check
    expect host.err "EXT_ERROR VERIFICATION_FAILED (0x0C)"
    sim_stop
}

# ---- driver ---------------------------------------------------------------

# record NAME DIR: run scenario NAME in DIR, leaving DIR/NAME.pcap.
record() {
    scenario=$1
    w=$2
    rm -rf "$w" && mkdir -p "$w" || exit 2
    cap=$w/$scenario.pcap
    fn=sc_$(echo "$scenario" | tr - _)
    command -v "$fn" >/dev/null 2>&1 || { echo "sim-regen.sh: no scenario $scenario" >&2; exit 2; }
    "$fn"
    [ -s "$cap" ] || fail "dfusim wrote no capture"
}

names=$(awk '$1 == "sim" { print $2 }' "$cases")

if [ -n "$check" ]; then
    echo "$names" | grep -qx -- "$check" || { echo "sim-regen.sh: $check is not in $cases" >&2; exit 2; }
    work=${DK_WORK:-${TMPDIR:-/tmp}/dk-sim-regen.$$}/sim-$check
    record "$check" "$work"
    want=$captures/sim/$check.pcap
    if [ ! -f "$want" ]; then
        echo "FAIL: captures/sim/$check.pcap is missing"
        exit 1
    fi
    if cmp -s "$want" "$cap"; then
        echo "ok: captures/sim/$check.pcap is recorded again byte for byte"
        exit 0
    fi
    echo "FAIL: captures/sim/$check.pcap differs from the new recording ($cap); first differences:"
    cmp -l "$want" "$cap" 2>&1 | head -5
    if [ -x "$DFUDECODE" ]; then
        "$DFUDECODE" "$want" >"$work/committed.txt" 2>&1
        "$DFUDECODE" "$cap" >"$work/recorded.txt" 2>&1
        diff -u --label "committed" --label "recorded now" "$work/committed.txt" "$work/recorded.txt" | head -40
    fi
    echo "If a tool change is intended: tests/golden/sim-regen.sh BUILD_DIR $check, then"
    echo "review the changed transcript (git diff captures/sim) before committing."
    exit 1
fi

[ $# -gt 0 ] && names=$*
if [ -z "$transcripts" ]; then
    mkdir -p "$captures/sim" || exit 2
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/dk-sim-regen.XXXXXX") || exit 2
    for sample in $names; do
        record "$sample" "$tmp/$sample"
        mv "$cap" "$captures/sim/$sample.pcap" || exit 2
        echo "captures/sim: $sample.pcap"
    done
    rm -rf "$tmp"
fi

if [ ! -x "$DFUDECODE" ]; then
    echo "sim-regen.sh: no $DFUDECODE: expected transcripts left as they are" >&2
    exit 0
fi
cd "$captures" || exit 2
grep '^decode[[:space:]]' "$cases" | while read -r _ name want expected args; do
    for sample in $names; do
        case " $args " in *" sim/$sample.pcap "*) ;; *) continue ;; esac
        # shellcheck disable=SC2086
        "$DFUDECODE" $args >"$expected.tmp"
        rc=$?
        mv "$expected.tmp" "$expected"
        [ "$rc" = "$want" ] || echo "sim-regen.sh: $name: dfudecode exited $rc, sim-cases.txt expects $want" >&2
        echo "expected: $expected"
    done
done
echo "Now review: git diff --stat captures/sim && git diff captures/sim"
