#!/bin/sh
# samples.sh regen|check GENLOG LOGDUMP DIR - the sample logs of captures/logs.
#   regen: write every sample and its record listing (NAME.records) into DIR;
#   check: make them again in a temporary directory and compare byte for byte.
# Every sample comes from dk-genlog (tests/logs/dk-genlog.c); the cut and
# garbled ones are the complete nrfutil log cut / mixed with other text by the
# fixed commands below.  Review a regen with git diff before committing.
set -eu
mode=$1 genlog=$2 logdump=$3 dir=$4
case $mode in
regen) out=$dir ;;
check) out=$(mktemp -d); trap 'rm -rf "$out"' EXIT ;;
*) echo "usage: samples.sh regen|check GENLOG LOGDUMP DIR" >&2; exit 2 ;;
esac
mkdir -p "$out"

# name | dk-genlog arguments
cases='
nrfutil-complete.log|-s complete -f nrfutil
nrfutil-no-ping.log|-s no-ping -f nrfutil
nrfutil-sd-req.log|-s sd-req -f nrfutil
nrfutil-downgrade.log|-s downgrade -f nrfutil
nrfutil-hw-version.log|-s hw-version -f nrfutil
nrfutil-unsigned.log|-s unsigned -f nrfutil
nrfutil-hash.log|-s hash -f nrfutil
nrfutil-desync.log|-s desync -f nrfutil
nrfutil-resume-crc.log|-s resume-crc -f nrfutil
nrfutil-flow-control.log|-s flow-control -f nrfutil
nrfutil-sigtype.log|-s sigtype -f nrfutil
nrfutil-badsig.log|-s badsig -f nrfutil
nrfutil-new-init.log|-s new-init -f nrfutil
nrfutil-overrun.log|-s overrun -f nrfutil
plain-no-ping.log|-s no-ping -f nrfutil-plain
plain-sd-req.log|-s sd-req -f nrfutil-plain
plain-hash.log|-s hash -f nrfutil-plain
plain-desync.log|-s desync -f nrfutil-plain
plain-resume-crc.log|-s resume-crc -f nrfutil-plain
ble-complete.log|-s complete -f ble
ble-sd-req.log|-s sd-req -f ble
socat-complete.txt|-s complete -f socat
socat-hash.txt|-s hash -f socat
hexdump-complete.txt|-s complete -f hexdump
hex-complete.txt|-s complete -f hex
hex-desync.txt|-s desync -f hex
hex-inactivity.txt|-s inactivity -f hex
saleae-sd-req.csv|-s sd-req -f saleae
saleae-no-ping.csv|-s no-ping -f saleae
programmer-modem.log|-s programmer -f programmer
programmer-jlink.log|-s jlink -f programmer
programmer-jlink-then-ok.log|-s jlink-then-ok -f programmer
ble-driver.log|-s driver -f nrfutil-ble-text
'
echo "$cases" | while IFS='|' read -r name args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    "$genlog" $args -o "$out/$name"
done

# Cut off: the complete log stopped in the middle of a SLIP line.
head -c 3500 "$out/nrfutil-complete.log" >"$out/nrfutil-cut.log"
# Garbled: a shell session around the log, kernel messages in between, one
# SLIP line broken in the middle, one line of bytes that are not text.
awk 'NR == 1 { print "dev@bench:~/fw$ nrfutil -vvvv dfu serial -pkg app.zip -p /dev/ttyACM0" }
     NR == 20 { print "[ 8123.441207] cdc_acm 1-1.4:1.0: ttyACM0: USB ACM device" }
     NR == 40 { print substr($0, 1, 70) "#@!~" substr($0, 90); next }
     NR == 60 { printf "%c%c%c%c garbage %c%c\n", 1, 2, 3, 4, 5, 6 }
     { print }
     END { print "dev@bench:~/fw$ " }' "$out/nrfutil-complete.log" >"$out/nrfutil-garbled.log"

for f in "$out"/*.log "$out"/*.txt "$out"/*.csv; do
    case $f in *.expected.txt) continue ;; esac # goldens of tests/repro
    base=${f%.*}
    "$logdump" "$f" >"$base.records" || true
done

if [ "$mode" = check ]; then
    bad=0
    for f in "$out"/*; do
        n=$(basename "$f")
        if ! cmp -s "$f" "$dir/$n"; then
            echo "samples.sh: $n differs from captures/logs/$n (tests/logs/samples.sh regen)" >&2
            diff "$dir/$n" "$f" | head -20 >&2 || true
            bad=1
        fi
    done
    for f in "$dir"/*; do
        n=$(basename "$f")
        case $n in README.md | *.expected.* | *.scenario.json) continue ;; esac # goldens (tests/repro)
        [ -e "$out/$n" ] || { echo "samples.sh: $n is not generated" >&2; bad=1; }
    done
    exit $bad
fi
