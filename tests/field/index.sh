#!/bin/sh
# index.sh DIR: the field-log directory (captures/field) and its two indexes
# agree.  Checks, each reported as one "FILE:LINE: problem" line:
#   - index.tsv has the documented header and eight non-empty fields a row,
#     rows in file-name order, no file named twice;
#   - every *.log has a row and every row names an existing *.log; nothing
#     else lives in the directory besides INDEX.md and index.tsv;
#   - kind, cause and outcome come from their fixed lists, and those lists
#     are exactly the ones INDEX.md documents;
#   - a "[text cut ...]" note, when present, closes the what-happened field;
#   - INDEX.md holds the same rows as index.tsv, in the same order, and its
#     intro gives the number of logs.
# Exit 0 when all agree, 1 with the problems listed, 2 on a usage error.
LC_ALL=C
export LC_ALL
dir=${1:-}
[ -n "$dir" ] && [ -d "$dir" ] || { echo "usage: index.sh DIR (got '$dir')" >&2; exit 2; }
tsv=$dir/index.tsv
md=$dir/INDEX.md
for f in "$tsv" "$md"; do
  [ -f "$f" ] || { echo "index.sh: $f: missing" >&2; exit 2; }
done

KINDS='nrfutil-verbose nrfutil-plain traceback adafruit-nrfutil programmer nrfutil-device ble hexdump socat mcumgr mixed'
CAUSES='completed not-in-bootloader wrong-port port-busy port-permission port-vanished no-response-timeout flow-control baud-mismatch sd-req-mismatch hw-version fw-version-downgrade signature-missing signature-invalid hash-mismatch init-rejected-other insufficient-space crc-mismatch-resume desync-late-response ble-connectivity-fw ble-mtu ble-timeout jlink-busy jlink-other package-invalid tool-bug usb-driver power-or-reset other unknown'
OUTCOMES='completed failed failed-then-completed unknown'
HEADER='file	source	tool	kind	what happened	stated cause / fix	cause	outcome'
CUTNOTE='[text cut where the stored copy ends]'

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
problems=$work/problems
: > "$problems"

# The lists INDEX.md documents: the backticked words of the "- `NAME`:"
# bullet, which may run over several lines, leaving out the bullet's own
# name and option spellings such as `-v` quoted in its explanations.
doclist() {
  awk -v name="$1" '
    function grab() {
      while (match($0, /`[^`]*`/)) {
        w = substr($0, RSTART + 1, RLENGTH - 2)
        if (w !~ /^-/) print w
        $0 = substr($0, RSTART + RLENGTH)
      }
    }
    !on && index($0, "- `" name "`:") == 1 { on = 1; $0 = substr($0, length(name) + 6); grab(); next }
    on && (/^- / || /^$/ || /^#/) { exit }
    on { grab() }' "$md" | sort -u
}
words() { printf '%s\n' $1 | sort; }
for pair in "kind:$KINDS" "cause:$CAUSES" "outcome:$OUTCOMES"; do
  name=${pair%%:*}
  doclist "$name" > "$work/doc"
  words "${pair#*:}" > "$work/want"
  if ! cmp -s "$work/doc" "$work/want"; then
    echo "$md: the documented $name list differs from the checked one:" \
         "$(diff "$work/want" "$work/doc" | grep '^[<>]' | tr '\n' ' ')" >> "$problems"
  fi
done

# index.tsv row by row.
awk -F'\t' -v hdr="$HEADER" -v kinds="$KINDS" -v causes="$CAUSES" \
    -v outcomes="$OUTCOMES" -v cut="$CUTNOTE" -v f="$tsv" '
  BEGIN { n = split(kinds, a, " ");    for (i = 1; i <= n; i++) K[a[i]] = 1
          n = split(causes, a, " ");   for (i = 1; i <= n; i++) C[a[i]] = 1
          n = split(outcomes, a, " "); for (i = 1; i <= n; i++) O[a[i]] = 1 }
  /\r/ { print f ":" NR ": carriage return in the row"; sub(/\r+$/, "") }
  NR == 1 { if ($0 != hdr) print f ":1: header is not \"" hdr "\""; next }
  NF != 8 { print f ":" NR ": " NF " fields, want 8"; next }
  { for (i = 1; i <= 8; i++) if ($i == "") print f ":" NR ": field " i " is empty"
    if (!($4 in K)) print f ":" NR ": kind \"" $4 "\" is not one of the kinds"
    if (!($7 in C)) print f ":" NR ": cause \"" $7 "\" is not in the cause vocabulary"
    if (!($8 in O)) print f ":" NR ": outcome \"" $8 "\" is not one of the outcomes"
    p = index($5, cut)
    if (p && p + length(cut) - 1 != length($5))
      print f ":" NR ": the cut note is not at the end of the what-happened field"
    if ($1 in seen) print f ":" NR ": " $1 " already has a row (line " seen[$1] ")"
    else seen[$1] = NR
    if (prev != "" && $1 < prev) print f ":" NR ": " $1 " is out of file-name order (after " prev ")"
    prev = $1 }' "$tsv" >> "$problems"

# Rows against files.
awk -F'\t' 'NR > 1 { print $1 }' "$tsv" | sort -u > "$work/rows"
(cd "$dir" && ls -A) | sort > "$work/all"
grep '\.log$' "$work/all" > "$work/logs"
comm -23 "$work/logs" "$work/rows" | sed "s|^|$tsv: |; s|$|: log has no row|" >> "$problems"
comm -13 "$work/logs" "$work/rows" |
  while IFS= read -r r; do
    line=$(awk -F'\t' -v r="$r" '$1 == r { print NR; exit }' "$tsv")
    echo "$tsv:$line: $r: row names no such log"
  done >> "$problems"
grep -v -x -e 'INDEX.md' -e 'index.tsv' -e '.*\.log' "$work/all" |
  sed "s|^|$dir/|; s|$|: not a log, INDEX.md or index.tsv|" >> "$problems"
for l in $(cat "$work/logs"); do
  [ -f "$dir/$l" ] || echo "$dir/$l: not a regular file" >> "$problems"
done

# INDEX.md: its table rows are index.tsv's rows, one for one.
awk -F'\t' 'NR > 1 { printf "| [`%s`](%s) | %s | %s | %s | %s | %s | %s | %s |\n",
                            $1, $1, $2, $3, $4, $5, $6, $7, $8 }' "$tsv" > "$work/want.md"
grep -n '^|' "$md" | grep -v -e '^[0-9]*:| file |' -e '^[0-9]*:|---' > "$work/got.n"
cut -d: -f2- "$work/got.n" > "$work/got.md"
if ! cmp -s "$work/want.md" "$work/got.md"; then
  nw=$(wc -l < "$work/want.md"); ng=$(wc -l < "$work/got.md")
  [ "$nw" -eq "$ng" ] ||
    echo "$md: $ng table rows, index.tsv has $nw" >> "$problems"
  # The first row that differs, by its line in INDEX.md.
  awk -v md="$md" 'NR == FNR { want[FNR] = $0; nw = FNR; next }
                   { ln = $0; sub(/:.*/, "", ln); got = $0; sub(/^[0-9]*:/, "", got)
                     if (got != want[FNR]) {
                       print md ":" ln ": row differs from index.tsv line " FNR + 1
                       exit } }' "$work/want.md" "$work/got.n" >> "$problems"
fi
nlogs=$(wc -l < "$work/logs" | tr -d ' ')
said=$(grep -o '[0-9][0-9]* logs\.' "$md" | head -1 | cut -d' ' -f1)
[ "$said" = "$nlogs" ] ||
  echo "$md: the intro says \"${said:-no} logs.\", the directory holds $nlogs" >> "$problems"

if [ -s "$problems" ]; then
  cat "$problems"
  echo "index.sh: $(wc -l < "$problems" | tr -d ' ') problem(s) in $dir"
  exit 1
fi
echo "index.sh: $dir: $nlogs logs, index.tsv and INDEX.md agree"
