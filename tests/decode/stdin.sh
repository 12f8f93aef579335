#!/bin/sh
# stdin.sh DFUDECODE CAPTURES - dfudecode reads a stream as it reads the file:
# standard input ("-"), a FIFO and a process substitution (<(...), bash)
# give the same transcript, JSON and exit status as the file itself, for a
# pcap, a pcapng (made here by pcap2ng.py, little- and big-endian), a raw
# capture and text logs.  The format is told from the stream's first bytes,
# which the reader then gets again: none is lost (a FIFO once lost its first
# 4096 bytes) and a pcap on a pipe needs no --format (it once did).
set -u
DEC=$1
CAPS=$2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dkstdin.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# a reader that blocks (a FIFO opened twice) must not hang the test
DK_TO=
command -v timeout >/dev/null 2>&1 && DK_TO="timeout 10"

/usr/bin/python3 "$HERE/pcap2ng.py" "$CAPS/resume.pcap" "$T/resume.pcapng" || exit 2
/usr/bin/python3 "$HERE/pcap2ng.py" "$CAPS/crc-mismatch.pcap" "$T/crc-be.pcapng" --nsec --be || exit 2

# same WHAT REF-OUT REF-RC OUT RC
same() {
    if [ "$3" != "$5" ]; then
        bad "$1: exit $5, the file gives $3"
    elif ! cmp -s "$2" "$4"; then
        bad "$1: output differs from the file's:"
        diff "$2" "$4" | head -5
    fi
}

for f in "$CAPS/resume.pcap" "$T/resume.pcapng" "$T/crc-be.pcapng" "$CAPS/noise.raw" \
         "$CAPS/logs/nrfutil-desync.log" "$CAPS/logs/socat-hash.txt" "$CAPS/logs/saleae-sd-req.csv"; do
    name=$(basename "$f")
    for opt in "" "--json -v"; do
        # shellcheck disable=SC2086
        "$DEC" $opt "$f" >"$T/file.out" 2>&1
        rf=$?
        [ -s "$T/file.out" ] || bad "$name: nothing decoded from the file"
        # shellcheck disable=SC2086
        "$DEC" $opt - <"$f" >"$T/redir.out" 2>&1 # a regular file as stdin
        same "$name $opt as stdin" "$T/file.out" $rf "$T/redir.out" $?
        # shellcheck disable=SC2086
        cat "$f" | $DK_TO "$DEC" $opt - >"$T/pipe.out" 2>&1
        same "$name $opt on a pipe as stdin" "$T/file.out" $rf "$T/pipe.out" $?
        rm -f "$T/fifo"
        mkfifo "$T/fifo" || exit 2
        cat "$f" >"$T/fifo" 2>/dev/null &
        writer=$!
        # shellcheck disable=SC2086
        $DK_TO "$DEC" $opt "$T/fifo" >"$T/fifo.out" 2>&1
        same "$name $opt from a FIFO" "$T/file.out" $rf "$T/fifo.out" $?
        kill $writer 2>/dev/null
        wait $writer 2>/dev/null
        if command -v bash >/dev/null 2>&1; then
            $DK_TO bash -c "\"\$0\" $opt <(cat \"\$1\")" "$DEC" "$f" >"$T/subst.out" 2>&1
            same "$name $opt from <(cat ...)" "$T/file.out" $rf "$T/subst.out" $?
        fi
    done
done

# the format given explicitly on a pipe still works
cat "$CAPS/resume.pcap" | "$DEC" --format pcap - >"$T/fmt.out" 2>&1
"$DEC" "$CAPS/resume.pcap" >"$T/file.out" 2>&1
same "--format pcap on a pipe" "$T/file.out" 0 "$T/fmt.out" $?
cat "$CAPS/logs/nrfutil-desync.log" | "$DEC" --format log - >"$T/fmt.out" 2>&1
"$DEC" "$CAPS/logs/nrfutil-desync.log" >"$T/file.out" 2>&1
same "--format log on a pipe" "$T/file.out" 1 "$T/fmt.out" $?

# an empty pipe: one line, exit 2
printf '' | "$DEC" - >"$T/e.out" 2>"$T/e.err"
rc=$?
[ $rc = 2 ] || bad "empty pipe: exit $rc"
[ "$(wc -l <"$T/e.err")" = 1 ] && grep -q "^dfudecode: -: offset 0: empty file" "$T/e.err" ||
    bad "empty pipe: $(cat "$T/e.err")"

[ $fail = 0 ] && echo "ok: stdin, FIFOs and <(...) decode as the files do"
exit $fail
