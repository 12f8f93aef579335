#!/bin/sh
# badinput.sh DFUDECODE DFUSIM DFUHOST DFUSNIFF DFUCHECK DKMKPKG SRCDIR - the
# bad-input table: every tool, every kind of input it takes, given something
# wrong.  Each row runs one command (at most 30 s, no stdin) and wants:
#   - the exit status of the row (2 for bad input or options; the tool's
#     documented status where it differs: see the exceptions below);
#   - exactly one line on stderr matching the row's pattern, which names the
#     file (and the offset, where the input has one); "-" = nothing on stderr
#     (the input decoded, its faults are in the transcript);
#   - never a signal, a hang, or a sanitizer report (in the ASan/UBSan build
#     the suite runs these same rows).
# Documented statuses other than 2 (exceptions):
#   dfudecode  exit 1: the input decoded and the update failed (a package that
#              does not match what was sent, a log cut short): not an error
#   dfusim     exit 1: the --flash file cannot be used (it is opened after the
#              options, like the pty; sim/README.md)
#   dfuhost    exit 1: the port cannot be opened (the update failed; its
#              bad options and bad packages are 2)
# Inputs come from captures/, tests/data/cap/ (gen.py's bad captures),
# captures/logs/, tests/fuzz/regress/ (inputs that once broke a fuzz
# target) and tests/fuzz/corpus/pkg/ (broken packages, seeds.sh).
set -u
DEC=$1 SIM=$2 HOST=$3 SNIFF=$4 CHECK=$5 MKPKG=$6 SRC=$7
T=$(mktemp -d "${TMPDIR:-/tmp}/dkbadin.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0 rows=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
CAP=$SRC/tests/data/cap LOGS=$SRC/captures/logs PKG=$SRC/tests/fuzz/corpus/pkg
cd "$T" || exit 1

# row RC PATTERN TOOL ARGS... (RC: a status, or alternatives as in '0|1')
row() {
    want=$1 pat=$2
    shift 2
    rows=$((rows + 1))
    name="$(basename "$1") $(shift; echo "$*")"
    timeout 30 "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 124 ]; then
        fail "$name: hung (killed after 30 s)"
        return
    fi
    [ $rc -lt 128 ] || fail "$name: killed by signal $((rc - 128))"
    echo "$rc" | grep -Eqx "$want" || fail "$name: exit $rc, expected $want: $(head -n 3 "$T/err")"
    if grep -Eq 'Sanitizer|runtime error:' "$T/err"; then
        fail "$name: sanitizer report: $(grep -E -m1 'Sanitizer|runtime error:' "$T/err")"
    elif [ "$pat" = - ]; then
        [ ! -s "$T/err" ] || fail "$name: stderr not empty: $(head -n 2 "$T/err")"
    else
        [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$name: $(wc -l <"$T/err") lines on stderr: $(head -n 3 "$T/err")"
        grep -Eq -- "$pat" "$T/err" || fail "$name: '$(head -n 1 "$T/err")' does not match '$pat'"
    fi
}

# ---- inputs -------------------------------------------------------------------
/usr/bin/python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes(70000))" >garbage.bin
: >empty.bin
mkdir dir.d
C=$SRC/captures/complete-prn0.pcap
head -c 1000 "$C" >trunc.pcap
head -c 30 "$C" >trunc-rec.pcap
printf '\n\r\r\n\034\000\000\000' >ng-short.pcapng
/usr/bin/python3 - <<'PY'
import struct
# a section header that claims a 2 GiB block, and one with a bad byte-order magic
open("ng-huge.pcapng", "wb").write(struct.pack("<III", 0x0A0D0D0A, 0x7FFFFFF0, 0x1A2B3C4D) + bytes(16))
open("ng-bom.pcapng", "wb").write(struct.pack("<III", 0x0A0D0D0A, 28, 0x11223344) + bytes(16))
# a classic pcap whose snaplen and link type are fine but the record length is 0xFFFFFFFF
hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 250)
open("rec-huge.pcap", "wb").write(hdr + struct.pack("<IIII", 1, 0, 0xFFFFFFFF, 12) + bytes(12))
PY
head -c 3000 "$SRC/captures/complete-prn0.host.raw" >host-part.raw

# logs of each format: the sample cut in the middle of a line, binary bytes
# spliced in, and a format forced on a log of another
for f in nrfutil-complete.log ble-complete.log socat-complete.txt hexdump-complete.txt \
         hex-complete.txt saleae-sd-req.csv programmer-jlink.log; do
    n=$(wc -c <"$LOGS/$f")
    head -c $((n / 2)) "$LOGS/$f" >"cut-$f"
    { head -c $((n / 3)) "$LOGS/$f"; head -c 2000 garbage.bin; tail -c $((n / 3)) "$LOGS/$f"; } >"spliced-$f"
done

# ---- dfudecode: captures --------------------------------------------------------
/usr/bin/python3 -c "import random,sys; sys.stdout.buffer.write(bytes(b for b in random.Random(8).randbytes(5000) if b != 0xC0))" >noframe.bin
row 2 'noframe.bin: offset 0: no DFU message found' "$DEC" noframe.bin
# 70000 random bytes hold frames that parse as DFU messages: a (failed) decode
row 1 - "$DEC" garbage.bin
row 2 'empty.bin: offset 0: empty file' "$DEC" empty.bin
row 2 'dir.d: offset 0: read error: Is a directory' "$DEC" dir.d
row 2 'nonexistent.pcap: cannot open: No such file' "$DEC" nonexistent.pcap
row 2 'trunc.pcap: offset 977: truncated pcap record' "$DEC" trunc.pcap
row 2 'trunc-rec.pcap: offset 24: truncated pcap record' "$DEC" trunc-rec.pcap
row 2 'rec-huge.pcap: offset 24: ' "$DEC" rec-huge.pcap
row 2 'ng-short.pcapng: offset 0: truncated pcapng block' "$DEC" ng-short.pcapng
row 2 'ng-huge.pcapng: offset 0: ' "$DEC" ng-huge.pcapng
row 2 'ng-bom.pcapng: offset [0-9]+: ' "$DEC" ng-bom.pcapng
row 2 'garbage.bin: offset 0: bad pcap file header' "$DEC" --format pcap garbage.bin
row 2 'empty.bin: offset 0: empty file' "$DEC" --format raw empty.bin
for c in pcap-cut-header.pcap:0 pcap-cut-rechdr.pcap:55 pcap-cut-data.pcap:55 \
         pcap-short-rtac.pcap:55 pcap-huge-caplen.pcap:24 pcap-ethernet.pcap:0 \
         pcapng-ethernet.pcapng:[0-9]+ pcapng-cut.pcapng:[0-9]+ pcap-nsec-frac.pcap:55 \
         pcapng-huge-time.pcapng:48 pcapng-ts-overflow.pcapng:96 pcapng-ts-tsresol.pcapng:108; do
    f=${c%%:*} off=${c#*:}
    row 2 "$f: offset $off: " "$DEC" "$CAP/$f"
done
row 1 - "$DEC" "$CAP/log.txt"
row 2 'pcap-header-only.pcap: offset 0: no DFU message found' "$DEC" "$CAP/pcap-header-only.pcap"
# two files
row 2 'empty.bin: offset 0: empty file' "$DEC" --host host-part.raw --target empty.bin
row 2 'empty.bin: offset 0: empty file' "$DEC" --host empty.bin --target host-part.raw
row 2 'nonexistent: cannot open' "$DEC" --host host-part.raw --target nonexistent
row 2 'noframe.bin: offset 0: no DFU message found' "$DEC" --host noframe.bin --target noframe.bin
row 1 - "$DEC" --host host-part.raw --target "$SRC/captures/complete-prn0.target.raw"
row 2 'host FILE and --target FILE|--target' "$DEC" --host host-part.raw
row 2 '--host/--target take raw captures' "$DEC" --host host-part.raw --target empty.bin --format pcap

# ---- dfudecode: logs ----------------------------------------------------------------
row 2 'garbage.bin: offset 0: not a log dfudecode reads' "$DEC" --format log garbage.bin
row 2 'empty.bin: ' "$DEC" --format log empty.bin
# cut: decoded as far as it goes; spliced (binary bytes after its first
# third): when they come within the 200 lines the format is detected on, no
# text log (a NUL there), one line saying so, or a raw capture without
# messages; after them (the socat sample), the log is detected and decoded
# around them, each binary line reported; forced with --log-format it decodes
# around them (0 when what is left shows a completed update)
for f in nrfutil-complete.log:nrfutil ble-complete.log:ble socat-complete.txt:socat \
         hexdump-complete.txt:hexdump hex-complete.txt:hex saleae-sd-req.csv:saleae \
         programmer-jlink.log:programmer; do
    fmt=${f#*:} f=${f%:*}
    row 1 - "$DEC" "cut-$f"
    n=$(wc -c <"$LOGS/$f")
    if [ "$(head -c $((n / 3)) "$LOGS/$f" | wc -l)" -lt 200 ]; then
        row 2 "spliced-$f: offset 0: (not a log dfudecode reads|no DFU message found)" "$DEC" "spliced-$f"
    else
        row '0|1' - "$DEC" "spliced-$f"
        grep -q "?? line [0-9]*: not understood" "$T/out" || fail "spliced-$f: the binary lines are not reported"
    fi
    row '0|1' - "$DEC" --log-format "$fmt" "spliced-$f"
done
for fmt in nrfutil ble socat hexdump hex saleae programmer; do
    row 2 "garbage.bin: .*no DFU message found \\($fmt log" "$DEC" --log-format "$fmt" garbage.bin
done
row 2 "unknown log format 'bogus'" "$DEC" --log-format bogus garbage.bin
row 2 "unknown format 'bogus'" "$DEC" --format bogus garbage.bin
# once broke the log fuzzer (a short socat block reported out of order)
row 1 - "$DEC" --log-format socat "$SRC/tests/fuzz/regress/logs/socat-short-block.txt"
grep -q "?? .*line 3: not understood (the socat block before this line has fewer bytes" "$T/out" ||
    fail "socat-short-block: the short block is not reported at line 3"
# once broke the log fuzzer: control bytes after line 200 made a log fed whole
# "binary" while the same log fed in pieces was socat
row 1 - "$DEC" "$SRC/tests/fuzz/regress/logs/sniff-late-junk.txt"
grep -q "log:        socat, 212 lines" "$T/out" || fail "sniff-late-junk: not read as a socat log"

# ---- dfudecode: --pkg and --scenario ------------------------------------------------
row 2 'not-a-zip.txt: not a zip archive' "$DEC" --pkg "$PKG/not-a-zip.txt" "$C"
row 2 'truncated.zip: not a zip archive' "$DEC" --pkg "$PKG/truncated.zip" "$C"
row 2 'empty.bin: not a zip archive' "$DEC" --pkg empty.bin "$C"
row 2 'dir.d: ' "$DEC" --pkg dir.d "$C"
row 2 'nonexistent.zip: cannot open' "$DEC" --pkg nonexistent.zip "$C"
row 2 'no-manifest.zip: manifest.json: missing from the package' "$DEC" --pkg "$PKG/no-manifest.zip" "$C"
row 2 'missing-member.zip: app.bin: missing from the package' "$DEC" --pkg "$PKG/missing-member.zip" "$C"
row 2 'bad-json.zip: manifest.json: line 1: column [0-9]+: ' "$DEC" --pkg "$PKG/bad-json.zip" "$C"
row 2 'wrong-types.zip: manifest.json: ' "$DEC" --pkg "$PKG/wrong-types.zip" "$C"
row 2 'metadata.zip: manifest.json: .*not a 32-bit size' "$DEC" --pkg "$PKG/metadata.zip" "$C"
row 2 'huge.zip: app.bin: [0-9]+ bytes, more than the 16 MiB limit' "$DEC" --pkg "$PKG/huge.zip" "$C"
row 1 - "$DEC" --pkg "$PKG/break-hash.zip" "$C"
row 1 - "$DEC" --pkg "$PKG/break-dat-trunc.zip" "$C"
row 2 'nodir/x.json: cannot create' "$DEC" --scenario nodir/x.json "$SRC/captures/sd-reject.pcap"
row 2 'dir.d: is a directory' "$DEC" --scenario dir.d "$SRC/captures/sd-reject.pcap"
ln -s "$T/victim" link.json
row 2 'link.json: is a symbolic link' "$DEC" --scenario link.json "$SRC/captures/sd-reject.pcap"

# ---- dfusim -------------------------------------------------------------------------
printf '{"version": 1, "device": ' >cut.json
printf '[1, 2]' >array.json
printf '{"dfukit_scenario": 1, "device": {"mtu": "big"}}' >types.json
row 2 'scenario cut.json: offset [0-9]+: not JSON' "$SIM" --scenario cut.json
row 2 'scenario array.json: .*expected an object' "$SIM" --scenario array.json
row 2 'scenario types.json: ' "$SIM" --scenario types.json
row 2 'scenario garbage.bin: offset [0-9]+: not JSON' "$SIM" --scenario garbage.bin
row 2 'scenario empty.bin: ' "$SIM" --scenario empty.bin
row 2 'scenario nonexistent.json: cannot open' "$SIM" --scenario nonexistent.json
row 2 'scenario dir.d: ' "$SIM" --scenario dir.d
for s in bogus 'op=write' 'op=0x1ff:reset' 'after-ms=99999999999999999999:reset' \
         'flash-op=0:reset' 'op=write:lose-request=1' 'after-bytes=1:delay-response' \
         'after-bytes=1:power-cut=3600001' 'op=write#0:reset' 'after-op=ping:lose-request' ':' '=:'; do
    row 2 "dfusim: --fault '.*': " "$SIM" --fault "$s"
done
head -c 1000 /dev/zero >small.flash
row 1 'small.flash: flash file is 1000 bytes, the chip has 1048576' "$SIM" --flash small.flash
row 1 'dir.d: is a directory' "$SIM" --flash dir.d
row 1 'nodir/f: cannot create' "$SIM" --flash nodir/f
row 1 'nonexistent.flash' "$SIM" --show-settings --flash nonexistent.flash
row 2 '--mtu 5: expected' "$SIM" --mtu 5
row 2 '--mtu abc: expected' "$SIM" --mtu abc
row 2 '--chip nrf51: unknown chip' "$SIM" --chip nrf51
row 2 '--sd-end 0x1000: expected' "$SIM" --sd-fwid 0x100 --sd-end 0x1000
row 2 '--sd-end needs --sd-fwid' "$SIM" --sd-end 0x30000
row 2 '--baud 0: expected' "$SIM" --baud 0
# --protocol legacy: one line per error, as without it (once the usage
# followed); an app that cannot be installed is refused (once it was left
# out in silence, found by fuzz_opts)
row 2 "dfusim: unknown option '--bogus' \\(see dfusim --help\\)" "$SIM" --protocol legacy --bogus
row 2 "dfusim: option '--chip' needs an argument" "$SIM" --protocol legacy --chip
row 2 "--app-size: bad size 'xyz'" "$SIM" --protocol legacy --app-size xyz
row 2 '--app-size 1048576: more than the app area above the SoftDevice holds \(802816 bytes\)' \
    "$SIM" --protocol legacy --app-size 0x100000 --show-settings
row 2 '--app-size 2: not a whole number of 4-byte words' "$SIM" --protocol legacy --app-size 2 --show-settings
row 0 - "$SIM" --protocol legacy --sd-fwid none --app-size 0xE9000 --show-settings
grep -q "^bank_0: 0x0001" "$T/out" || fail "legacy --app-size 0xE9000: the app is not installed"
row 2 '--public-key nonexistent.pem: ' "$SIM" --public-key nonexistent.pem
row 2 '--clock bogus: expected' "$SIM" --clock bogus
row 2 '--time-scale 2: expected' "$SIM" --time-scale 2
row 2 '--app-size 99999999: expected' "$SIM" --app-size 99999999
row 2 '--app-size 1040000: more than' "$SIM" --app-size 1040000
row 2 '--inactivity-ms 5: expected' "$SIM" --inactivity-ms 5
row 2 '--enter-dfu never: expected' "$SIM" --enter-dfu never
row 2 "unexpected argument 'extra'" "$SIM" extra

# ---- dfuhost -----------------------------------------------------------------------
for z in not-a-zip.txt truncated.zip no-manifest.zip missing-member.zip bad-json.zip \
         wrong-types.zip metadata.zip huge.zip; do
    row 2 "$z: " "$HOST" -p /dev/null --pkg "$PKG/$z"
done
row 2 'break-hash.zip: app.dat: hash .* is not the reversed SHA-256' "$HOST" -p /dev/null --pkg "$PKG/break-hash.zip"
row 2 'break-dat-trunc.zip: app.dat: offset [0-9]+: ' "$HOST" -p /dev/null --pkg "$PKG/break-dat-trunc.zip"
row 2 'break-size.zip: app.dat: app_size' "$HOST" -p /dev/null --pkg "$PKG/break-size.zip"
row 2 'break-both.zip: app.dat: both command and signed_command' "$HOST" -p /dev/null --pkg "$PKG/break-both.zip"
row 2 'empty.bin: not a zip archive' "$HOST" -p /dev/null --pkg empty.bin
row 2 'nonexistent.zip: cannot open' "$HOST" -p /dev/null --pkg nonexistent.zip
row 1 '/dev/null: not a serial port' "$HOST" -p /dev/null --pkg "$PKG/app.zip"
row 1 'nonexistent: cannot open port' "$HOST" -p nonexistent --pkg "$PKG/app.zip"
row 2 '-p PORT is required' "$HOST" --pkg "$PKG/app.zip"
row 2 '--pkg FILE is required' "$HOST" -p /dev/null
row 2 "--prn wants 0..65535, not 'abc'" "$HOST" -p /dev/null --pkg "$PKG/app.zip" --prn abc
row 2 "--prn wants 0..65535, not '70000'" "$HOST" -p /dev/null --pkg "$PKG/app.zip" --prn 70000
row 2 "bad baud rate '0'" "$HOST" -p /dev/null --pkg "$PKG/app.zip" --baud 0
row 2 "--timeout wants seconds" "$HOST" -p /dev/null --pkg "$PKG/app.zip" --timeout -1
row 2 "--response-timeout wants milliseconds" "$HOST" -p /dev/null --pkg "$PKG/app.zip" --response-timeout 0
row 2 "--retries wants 0..100, not 'x'" "$HOST" -p /dev/null --pkg "$PKG/app.zip" --retries x
row 2 "unexpected argument 'extra'" "$HOST" -p /dev/null --pkg "$PKG/app.zip" extra

# ---- dfusniff ----------------------------------------------------------------------
row 2 'nothing to listen to' "$SNIFF"
row 2 'nothing to do' "$SNIFF" --port /dev/null
row 2 '/nonexistent: cannot open port' "$SNIFF" --port /nonexistent -w out.pcap
row 2 'dir.d: not a serial port' "$SNIFF" --port dir.d -w out.pcap
row 2 '/dev/null: not a serial port' "$SNIFF" --port /dev/null -w out.pcap
row 2 '/nonexistent: cannot open port' "$SNIFF" --tap-host /nonexistent --tap-target /dev/null -w out.pcap
row 2 '--tap-host needs --tap-target' "$SNIFF" --tap-host /dev/null -w out.pcap
row 2 'exclude each other' "$SNIFF" --port /dev/null --tap-host /dev/null -w out.pcap
row 2 'unsupported baud rate 0' "$SNIFF" --port /dev/null -b 0 -w out.pcap
row 2 'unsupported baud rate abc' "$SNIFF" --port /dev/null -b abc -w out.pcap
row 2 "unexpected argument 'extra'" "$SNIFF" --port /dev/null -w out.pcap extra

# ---- dfucheck ----------------------------------------------------------------------
row 2 'no host command' "$CHECK"
row 2 '--case bogus: no such case' "$CHECK" --case bogus -- true
row 2 '-j 0: expected' "$CHECK" -j 0 -- true
row 2 '--size abc: expected' "$CHECK" --size abc -- true
row 2 '--timeout x: expected' "$CHECK" --timeout x -- true
row 2 '--sweep bogus: expected' "$CHECK" --sweep bogus -- true
row 2 '--sim nonexistent: ' "$CHECK" --sim nonexistent -- true
row 2 '--public-key goes with --pkg' "$CHECK" --public-key garbage.bin -- true
row 2 '--pkg nonexistent.zip: No such file' "$CHECK" --pkg nonexistent.zip -- true
for z in not-a-zip.txt truncated.zip no-manifest.zip missing-member.zip bad-json.zip huge.zip; do
    row 2 "--pkg .*$z: " "$CHECK" --pkg "$PKG/$z" -- true
done
row 2 'break-dat-trunc.zip: app.dat: ' "$CHECK" --pkg "$PKG/break-dat-trunc.zip" -- true
row 2 'sd-bl-app.zip: dfucheck grades application packages' "$CHECK" --pkg "$PKG/sd-bl-app.zip" -- true
row 2 '--public-key nonexistent.pem: ' "$CHECK" --pkg "$PKG/app.zip" --public-key nonexistent.pem -- true
row 2 'app.zip: not signed by --public-key garbage.bin: app.dat: not signed' \
    "$CHECK" --pkg "$PKG/app.zip" --public-key garbage.bin -- true
"$MKPKG" --keygen key.pem pub.pem >/dev/null && "$MKPKG" --app 9000 --key key.pem signed.zip >/dev/null ||
    fail "dk-mkpkg could not make a signed package"
row 2 'signed.zip: not signed by --public-key garbage.bin: .*garbage.bin: not a PEM' \
    "$CHECK" --pkg signed.zip --public-key garbage.bin -- true

echo "$rows rows, $fails failed"
[ $fails -eq 0 ]
