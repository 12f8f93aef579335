#!/bin/sh
# outputs.sh DFUDECODE DFUSIM DFUHOST DFUSNIFF DKMKPKG LOGDIR - every file a
# tool creates goes through dk_file_create (lib/include/dfukit/file.h):
#   - a symlink planted at the path is refused with one line naming the path,
#     and its target is left as it was (dfusim --capture, --flash,
#     --dump-hex, control dump-hex; dfuhost --capture; dfusniff -w;
#     dfudecode --scenario and --plot; dk-mkpkg's package and keys);
#   - under umask 000 every new file is mode 0600 (the same list);
#   - an existing regular file is overwritten and keeps its mode;
#   - a capture may go to a FIFO (its reader gets the pcap), a HEX dump may not.
set -u
DEC=$1 SIM=$2 HOST=$3 SNIFF=$4 MKPKG=$5 LOGS=$6
T=$(mktemp -d "${TMPDIR:-/tmp}/dkout.XXXXXX") || exit 1
pids=
cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
umask 000

# plant: $T/link, a symlink to $T/victim (mode 644, "precious")
plant() {
    rm -f "$T/link" "$T/victim"
    printf 'precious' >"$T/victim"
    chmod 644 "$T/victim"
    ln -s "$T/victim" "$T/link"
}
plant

# victim_intact WHAT: the symlink's target still holds what it held
victim_intact() {
    [ "$(cat "$T/victim")" = precious ] || fail "$1: the symlink's target was written"
    [ "$(stat -c %a "$T/victim")" = 644 ] || fail "$1: the symlink's target changed mode"
    [ -L "$T/link" ] || fail "$1: the symlink was replaced"
}

# refused WHAT ERRFILE: one line on stderr saying the link path is a symlink
refused() {
    grep -q "$T/link: .*is a symbolic link: not writing through it" "$2" ||
        fail "$1: no refusal naming the link: $(cat "$2")"
    victim_intact "$1"
    plant # for the next case, whatever this one did
}

# mode_is WHAT FILE: a new file, 0600
mode_is() {
    [ -f "$2" ] || { fail "$1: $2 not created"; return; }
    m=$(stat -c %a "$2")
    [ "$m" = 600 ] || fail "$1: $2 created with mode $m under umask 000, expected 600"
}

# start_sim ARGS...: dfusim in the background; $SIMPID, $PTY
start_sim() {
    rm -f "$T/sim.out" # else the last run's line may be read before this one truncates it
    "$SIM" "$@" >"$T/sim.out" 2>"$T/sim.err" &
    SIMPID=$!
    pids="$pids $SIMPID"
    i=0
    while [ $i -lt 100 ] && ! [ -s "$T/sim.out" ]; do sleep 0.05; i=$((i + 1)); done
    PTY=$(head -n 1 "$T/sim.out")
}
# stop_sim: SIGTERM; $SIMRC its exit status (KILLed after 5 s: 137)
stop_sim() {
    kill -TERM "$SIMPID"
    i=0
    while [ $i -lt 100 ] && kill -0 "$SIMPID" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    kill -KILL "$SIMPID" 2>/dev/null
    wait "$SIMPID"
    SIMRC=$?
}

# ctl SOCKET COMMAND: the control channel's reply
ctl() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.settimeout(5)
out = b""
while not (out.endswith(b"ok\n") or (b"error:" in out and out.endswith(b"\n"))):
    d = s.recv(4096)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
EOF
}

# ---- dfusim ----
for opt in --capture --flash; do
    timeout 5 "$SIM" $opt "$T/link" >/dev/null 2>"$T/err" # a tool that takes the link runs on
    rc=$?
    [ $rc -ne 0 ] || fail "dfusim $opt symlink: exit 0"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "dfusim $opt symlink: not one line: $(cat "$T/err")"
    refused "dfusim $opt" "$T/err"
done
start_sim --dump-hex "$T/link" --control "$T/ctl.sock"
[ -n "$PTY" ] || fail "dfusim --dump-hex symlink: did not start: $(cat "$T/sim.err")"
ctl "$T/ctl.sock" "dump-hex $T/link" >"$T/reply"
grep -q "^error: $T/link: is a symbolic link" "$T/reply" || fail "control dump-hex symlink: $(cat "$T/reply")"
stop_sim
[ $SIMRC -eq 1 ] || fail "dfusim --dump-hex symlink: exit $SIMRC at SIGTERM, expected 1 (the dump is lost)"
refused "dfusim --dump-hex" "$T/sim.err"

start_sim --capture "$T/sim.pcap" --flash "$T/sim.flash" --dump-hex "$T/sim.hex" --control "$T/ctl.sock"
ctl "$T/ctl.sock" "dump-hex $T/ctl.hex" | grep -q '^ok' || fail "control dump-hex: no ok"
stop_sim
[ $SIMRC -eq 0 ] || fail "dfusim: exit $SIMRC: $(cat "$T/sim.err")"
for f in sim.pcap sim.flash sim.hex ctl.hex; do mode_is "dfusim" "$T/$f"; done
# the flash file is opened as it is, not truncated
cp "$T/sim.flash" "$T/flash.before"
start_sim --flash "$T/sim.flash"
stop_sim
cmp -s "$T/sim.flash" "$T/flash.before" || fail "dfusim --flash: an existing flash file changed on a run with no traffic"

# a capture into a FIFO reaches its reader; a HEX dump is refused there
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fifo.out" &
catpid=$!
start_sim --capture "$T/fifo"
stop_sim
kill $catpid 2>/dev/null
wait $catpid
[ "$(head -c 4 "$T/fifo.out" | od -An -tx1 | tr -d ' ')" = d4c3b2a1 ] || fail "dfusim --capture FIFO: no pcap came out"
start_sim --dump-hex "$T/fifo"
stop_sim
[ $SIMRC -eq 1 ] && grep -q "fifo: is a FIFO, not a regular file" "$T/sim.err" ||
    fail "dfusim --dump-hex FIFO: exit $SIMRC, $(cat "$T/sim.err")"

# ---- dk-mkpkg (test tool: package and keys) ----
"$MKPKG" --keygen "$T/k.pem" "$T/pub.pem" || fail "dk-mkpkg --keygen"
mode_is "dk-mkpkg --keygen" "$T/k.pem"
mode_is "dk-mkpkg --keygen" "$T/pub.pem"
"$MKPKG" --app 4000 --sd-req 0 "$T/app.zip" >/dev/null || fail "dk-mkpkg"
mode_is "dk-mkpkg" "$T/app.zip"
"$MKPKG" --app 4000 --sd-req 0 "$T/link" >/dev/null 2>"$T/err" && fail "dk-mkpkg to a symlink: exit 0"
refused "dk-mkpkg" "$T/err"
"$MKPKG" --keygen "$T/link" >/dev/null 2>"$T/err" && fail "dk-mkpkg --keygen to a symlink: exit 0"
refused "dk-mkpkg --keygen" "$T/err"

# ---- dfuhost --capture ----
timeout 5 "$HOST" -p /dev/null --pkg "$T/app.zip" --capture "$T/link" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "dfuhost --capture symlink: exit $rc, expected 2"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "dfuhost --capture symlink: not one line: $(cat "$T/err")"
refused "dfuhost --capture" "$T/err"
start_sim --allow-unsigned
timeout 30 "$HOST" -q -p "$PTY" --pkg "$T/app.zip" --capture "$T/host.pcap" || fail "dfuhost: update failed"
stop_sim
mode_is "dfuhost --capture" "$T/host.pcap"

# ---- dfusniff -w ----
start_sim
timeout 5 "$SNIFF" --port "$PTY" -w "$T/link" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "dfusniff -w symlink: exit $rc, expected 2"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "dfusniff -w symlink: not one line: $(cat "$T/err")"
refused "dfusniff -w" "$T/err"
printf 'an older capture, longer than the header' >"$T/old.pcap"
chmod 640 "$T/old.pcap"
for out in sniff.pcap old.pcap; do
    rm -f "$T/sniff.out"
    "$SNIFF" --port "$PTY" -w "$T/$out" >"$T/sniff.out" 2>"$T/sniff.err" &
    sp=$!
    pids="$pids $sp"
    i=0
    while [ $i -lt 100 ] && ! [ -s "$T/sniff.out" ]; do sleep 0.05; i=$((i + 1)); done
    kill -TERM $sp
    wait $sp || fail "dfusniff -w $out: $(cat "$T/sniff.err")"
done
stop_sim
mode_is "dfusniff -w" "$T/sniff.pcap"
[ "$(stat -c %a "$T/old.pcap")" = 640 ] || fail "dfusniff -w over an existing file: its mode changed"
[ "$(stat -c %s "$T/old.pcap")" -eq 24 ] || fail "dfusniff -w over an existing file: not truncated to the pcap header"

# ---- dfudecode --scenario ----
"$DEC" --scenario "$T/link" "$LOGS/nrfutil-sd-req.log" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "dfudecode --scenario symlink: exit $rc, expected 2"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "dfudecode --scenario symlink: not one line: $(cat "$T/err")"
refused "dfudecode --scenario" "$T/err"
"$DEC" --scenario "$T/s.json" "$LOGS/nrfutil-sd-req.log" >/dev/null 2>&1
mode_is "dfudecode --scenario" "$T/s.json"

# ---- dfudecode --plot ----
CAPS=$(dirname "$LOGS")
"$DEC" --plot "$T/link" "$CAPS/resume.pcap" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "dfudecode --plot symlink: exit $rc, expected 2"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "dfudecode --plot symlink: not one line: $(cat "$T/err")"
refused "dfudecode --plot" "$T/err"
"$DEC" --plot "$T/p.svg" "$CAPS/resume.pcap" >/dev/null 2>&1
mode_is "dfudecode --plot" "$T/p.svg"
rm -f "$T/plot.fifo"
mkfifo "$T/plot.fifo"
cat "$T/plot.fifo" >"$T/fifo.svg" &
"$DEC" --plot "$T/plot.fifo" "$CAPS/resume.pcap" >/dev/null 2>"$T/err" ||
    fail "dfudecode --plot to a FIFO: $(cat "$T/err")"
wait $!
tail -n 1 "$T/fifo.svg" | grep -q "</svg>" || fail "dfudecode --plot to a FIFO: the reader got no whole SVG"

[ $fails -eq 0 ]
