#!/bin/sh
# golden.sh DFUDECODE FIELDDIR GOLDENDIR NAME   check one field log
# golden.sh DFUDECODE FIELDDIR GOLDENDIR --regen rewrite every golden file
#
# For each log NAME.log of captures/field (FIELDDIR), GOLDENDIR holds
# NAME.txt: dfudecode's transcript of it (run in FIELDDIR), and
# GOLDENDIR/expected.tsv one row "file<TAB>status<TAB>diagnosis": the exit
# status and the diagnosis id the log must keep.  A check prints what
# changed and exits 1; read every diff of a regen before committing it.
LC_ALL=C
export LC_ALL
dec=${1:-}
dir=${2:-}
gold=${3:-}
name=${4:-}
[ -x "$dec" ] && [ -d "$dir" ] && [ -d "$gold" ] && [ -n "$name" ] ||
  { echo "usage: golden.sh DFUDECODE FIELDDIR GOLDENDIR NAME|--regen" >&2; exit 2; }
dec=$(cd "$(dirname "$dec")" && pwd)/$(basename "$dec")
gold=$(cd "$gold" && pwd)
tsv=$gold/expected.tsv

# decode NAME OUT -> "status id"
decode() {
  (cd "$dir" && "$dec" "$1" > "$2" 2>&1)
  st=$?
  id=$(sed -n 's/^  diagnosis:.*\[\([a-z_.]*\)\]$/\1/p' "$2" | tail -1)
  echo "$st ${id:-none}"
}

if [ "$name" = --regen ]; then
  printf 'file\tstatus\tdiagnosis\n' > "$tsv.new"
  awk -F'\t' 'NR > 1 { print $1 }' "$dir/index.tsv" | while IFS= read -r f; do
    set -- $(decode "$f" "$gold/${f%.log}.txt")
    printf '%s\t%s\t%s\n' "$f" "$1" "$2" >> "$tsv.new"
  done
  mv "$tsv.new" "$tsv"
  echo "golden.sh: $(($(wc -l < "$tsv") - 1)) logs written to $gold"
  exit 0
fi

row=$(awk -F'\t' -v f="$name" '$1 == f { print $2 " " $3 }' "$tsv")
[ -n "$row" ] || { echo "golden.sh: $name: no row in $tsv (golden.sh ... --regen)"; exit 1; }
[ -f "$dir/$name" ] || { echo "golden.sh: $dir/$name: missing"; exit 1; }
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
got=$(decode "$name" "$work/out.txt")
fail=0
if [ "$got" != "$row" ]; then
  echo "golden.sh: $name: exit status and diagnosis '$got', expected '$row'"
  fail=1
fi
if ! cmp -s "$gold/${name%.log}.txt" "$work/out.txt"; then
  echo "golden.sh: $name: transcript differs from ${name%.log}.txt:"
  diff "$gold/${name%.log}.txt" "$work/out.txt" | head -40
  fail=1
fi
[ "$fail" -eq 0 ] && echo "golden.sh: $name: $got"
exit "$fail"
