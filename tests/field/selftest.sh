#!/bin/sh
# selftest.sh INDEX_SH DIR: index.sh passes on a copy of DIR and fails, with
# the expected complaint, on copies that each carry one defect: a log
# without a row, a row without a log, a word outside the kind, cause or
# outcome lists, INDEX.md and index.tsv out of step, and the rest of what
# index.sh promises to catch.
LC_ALL=C
export LC_ALL
check=${1:-}
src=${2:-}
[ -f "$check" ] && [ -d "$src" ] || { echo "usage: selftest.sh INDEX_SH DIR" >&2; exit 2; }
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
fails=0
first=$(awk -F'\t' 'NR == 2 { print $1 }' "$src/index.tsv")
second=$(awk -F'\t' 'NR == 3 { print $1 }' "$src/index.tsv")
[ -n "$first" ] && [ -n "$second" ] || { echo "selftest: $src/index.tsv has fewer than two rows" >&2; exit 2; }

fresh() { rm -rf "$work/d"; cp -R "$src" "$work/d"; }
# edit FILE LINE AWKPROGRAM: rewrite one line of FILE in place.
edit() { awk -v n="$2" "$3" "$1" > "$work/tmp" && mv "$work/tmp" "$1"; }

# expect NAME STATUS PATTERN: run index.sh on the prepared copy.
expect() {
  out=$(sh "$check" "$work/d" 2>&1); rc=$?
  if [ "$rc" -ne "$2" ]; then
    echo "selftest: $1: exit $rc, want $2"; printf '%s\n' "$out" | sed 's/^/  /'
    fails=$((fails + 1)); return
  fi
  if [ -n "$3" ] && ! printf '%s\n' "$out" | grep -q -- "$3"; then
    echo "selftest: $1: no line matching '$3' in:"; printf '%s\n' "$out" | sed 's/^/  /'
    fails=$((fails + 1)); return
  fi
  echo "selftest: $1: ok"
}

fresh
expect pristine 0 'agree'

fresh; printf 'x\n' > "$work/d/zz-unlisted.log"
expect log-without-row 1 'zz-unlisted.log: log has no row'

fresh; rm "$work/d/$first"
expect row-without-log 1 "$first: row names no such log"

fresh
edit "$work/d/index.tsv" 2 'BEGIN { FS = OFS = "\t" } NR == n { $7 = "cosmic-rays" } { print }'
expect cause-outside-vocabulary 1 'cause "cosmic-rays" is not in the cause vocabulary'

fresh
edit "$work/d/index.tsv" 2 'BEGIN { FS = OFS = "\t" } NR == n { $4 = "carrier-pigeon" } { print }'
expect kind-outside-list 1 'kind "carrier-pigeon" is not one of the kinds'

fresh
edit "$work/d/index.tsv" 2 'BEGIN { FS = OFS = "\t" } NR == n { $8 = "maybe" } { print }'
expect outcome-outside-list 1 'outcome "maybe" is not one of the outcomes'

fresh
edit "$work/d/INDEX.md" 0 '/^\| \[`/ && !done { sub(/ \| failed \|$| \| completed \|$| \| unknown \|$/, " | failed-then-completed |"); done = 1 } { print }'
expect md-row-differs 1 'row differs from index.tsv line 2'

fresh
edit "$work/d/INDEX.md" 0 '/^\| \[`/ && !done { done = 1; next } { print }'
expect md-row-missing 1 'table rows, index.tsv has'

fresh
edit "$work/d/INDEX.md" 0 '{ sub(/[0-9]+ logs\./, "7 logs.") } { print }'
expect intro-count 1 'the intro says "7 logs."'

fresh
awk 'NR == 2 { hold = $0; next } NR == 3 { print; print hold; next } { print }' \
    "$src/index.tsv" > "$work/d/index.tsv"
expect out-of-order 1 "out of file-name order"

fresh
awk 'NR == 3 { print; print; next } { print }' "$src/index.tsv" > "$work/d/index.tsv"
expect duplicate-row 1 "$second already has a row"

fresh
edit "$work/d/INDEX.md" 0 '{ sub(/`power-or-reset`, /, "") } { print }'
expect documented-list-drift 1 'documented cause list differs'

fresh; printf 'x\n' > "$work/d/notes.txt"
expect stray-file 1 'notes.txt: not a log, INDEX.md or index.tsv'

fresh
edit "$work/d/index.tsv" 2 'NR == n { sub(/\t/, " ") } { print }'
expect field-count 1 'index.tsv:2: 7 fields, want 8'

fresh
edit "$work/d/index.tsv" 2 'BEGIN { FS = OFS = "\t" } NR == n { $5 = "[text cut where the stored copy ends] and more" } { print }'
expect cut-note-not-last 1 'cut note is not at the end'

fresh
edit "$work/d/index.tsv" 1 'NR == n { sub(/outcome/, "result") } { print }'
expect header 1 'index.tsv:1: header is not'

[ "$fails" -eq 0 ] || { echo "selftest: $fails case(s) failed"; exit 1; }
echo "selftest: all cases behave"
