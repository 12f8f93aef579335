#!/bin/sh
# score.sh [--max-missed N] DFUDECODE FIELDDIR CAUSES
#
# The scoreboard of dfudecode on the field logs (captures/field): one line a
# log with its exit status, its diagnosis id, the cause its thread states
# (index.tsv's `cause` column) and the verdict, then the totals.  Verdicts:
#   match     the diagnosis names the stated cause (CAUSES, tests/field/causes.txt)
#   cut       it does not, but the log stops before it shows the failure (the
#             row's cut note) and the diagnosis says the log stops early
#   MISS      it does not, and the log is not cut short of it
#   -         the thread states no cause
# and, whatever the cause:
#   UNREAD    dfudecode did not read it (exit 2): every field log holds DFU text
#   FALSE-OK  exit 0 although the run did not complete (index.tsv's outcome)
# Exit 1 when a log is UNREAD or FALSE-OK, or more than N logs (default 0)
# are MISS; 2 on a usage error.
LC_ALL=C
export LC_ALL
max=0
if [ "${1:-}" = --max-missed ]; then max=${2:-x}; shift 2; fi
dec=${1:-}
dir=${2:-}
causes=${3:-}
case $max in '' | *[!0-9]*) echo "score.sh: --max-missed wants a number" >&2; exit 2 ;; esac
[ -x "$dec" ] && [ -d "$dir" ] && [ -f "$causes" ] ||
  { echo "usage: score.sh [--max-missed N] DFUDECODE FIELDDIR CAUSES" >&2; exit 2; }
dec=$(cd "$(dirname "$dec")" && pwd)/$(basename "$dec")
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
CUT='[text cut where the stored copy ends]'
EARLY=' log.incomplete host.traceback log.no_transfer programmer.device_unknown log.one_sided '

printf '%-72s %-4s %-26s %-22s %s\n' log exit diagnosis "stated cause" verdict
tab=$(printf '\t')
tail -n +2 "$dir/index.tsv" > "$work/rows"
while IFS="$tab" read -r file src tool kind what stated cause outcome; do
  (cd "$dir" && "$dec" "$file" > "$work/out.txt" 2>&1)
  st=$?
  id=$(sed -n 's/^  diagnosis:.*\[\([a-z_.]*\)\]$/\1/p' "$work/out.txt" | tail -1)
  id=${id:-none}
  ok=$(awk -v c="$cause" -v f="$file" '
         ($1 == "cause" && $2 == c) || ($1 == "file" && $2 == f) {
           for (i = 3; i <= NF; i++) print $i }' "$causes")
  verdict=-
  if [ "$cause" != unknown ]; then
    if printf '%s\n' "$ok" | grep -qx -- "$id"; then
      verdict=match
    else
      case "$what" in
      *"$CUT") case "$EARLY" in *" $id "*) verdict=cut ;; *) verdict=MISS ;; esac ;;
      *) verdict=MISS ;;
      esac
    fi
  fi
  [ "$st" -eq 2 ] && verdict="$verdict UNREAD"
  [ "$st" -eq 0 ] && [ "$outcome" != completed ] && [ "$outcome" != failed-then-completed ] &&
    verdict="$verdict FALSE-OK"
  printf '%-72s %-4s %-26s %-22s %s\n' "$file" "$st" "$id" "$cause" "$verdict"
done < "$work/rows" | tee "$work/board"

total=$(wc -l < "$work/rows" | tr -d ' ')
count() { awk -v v="$1" '{ for (i = 5; i <= NF; i++) if ($i == v) n++ } END { print n + 0 }' "$work/board"; }
stated=$(awk '$4 != "unknown"' "$work/board" | wc -l | tr -d ' ')
match=$(count match)
cut=$(count cut)
miss=$(count MISS)
unread=$(count UNREAD)
falseok=$(count FALSE-OK)
ok0=$(awk '$2 == 0' "$work/board" | wc -l | tr -d ' ')
echo "score: $total logs; stated cause: $stated ($match named, $cut cut before the failure shows, $miss missed);" \
     "unread: $unread; exit 0: $ok0 ($falseok without a completed run)"
[ "$unread" -eq 0 ] && [ "$falseok" -eq 0 ] && [ "$miss" -le "$max" ] && exit 0
echo "score: below target (unread $unread, false ok $falseok, missed $miss of at most $max)"
exit 1
