#!/bin/sh
# agree.sh DFUDECODE FIELDDIR   every field log's summary agrees with its diagnosis
#
# dfudecode's transcript of each log of FIELDDIR/index.tsv, run by run (a
# "summary:" block each), must not say one thing in its outcome line and
# another in its diagnosis:
#   - the diagnosis is update.completed exactly when the outcome line says
#     "completed" (not "interrupted", "no DFU messages", "failed ...");
#   - an outcome "completed" leaves no image "not completed" or "failed";
#   - a diagnosis of the init packet (init.*) never comes with an outcome
#     that failed in another stage, nor one of the data (data.*, resume.*,
#     image.*) with an outcome that stopped on the command object or
#     failed in the init stage;
#   - log.one_sided (the log lists the host's writes alone) never comes with
#     an outcome that says the target never answered;
#   - the exit status is 0 exactly when the last run's diagnosis is
#     update.completed.
# Prints one line per contradiction; exit 1 when there is one, 2 on a usage
# error.  tests/field/agree_selftest.sh shows that each rule can fail.
LC_ALL=C
export LC_ALL
dec=${1:-}
dir=${2:-}
[ -x "$dec" ] && [ -f "$dir/index.tsv" ] || { echo "usage: agree.sh DFUDECODE FIELDDIR" >&2; exit 2; }
dec=$(cd "$(dirname "$dec")" && pwd)/$(basename "$dec")
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
bad=0
n=0
for f in $(awk -F'\t' 'NR > 1 { print $1 }' "$dir/index.tsv"); do
  n=$((n + 1))
  (cd "$dir" && "$dec" "$f" > "$work/out.txt" 2>&1)
  st=$?
  awk -v f="$f" -v st="$st" '
    function check() {
      if (!insum) return
      done = outc ~ /^completed/
      if ((diag == "update.completed") != done)
        say("outcome \"" outc "\" but diagnosis " diag)
      if (done && notdone)
        say("outcome \"" outc "\" but an image is not completed: " notdone)
      if (diag ~ /^init\./ && outc ~ /\((connect|data|final)\)/)
        say("diagnosis " diag " (init packet) but outcome \"" outc "\"")
      if (diag ~ /^(data|resume|image)\./ && (outc ~ /\(init\)/ || outc ~ /at command offset/))
        say("diagnosis " diag " (firmware) but outcome \"" outc "\"")
      if (diag == "log.one_sided" && outc ~ /never answered/)
        say("diagnosis " diag " but outcome \"" outc "\"")
      last = diag
      insum = 0
    }
    function say(m) { printf "agree.sh: %s: %s\n", f, m; bad = 1 }
    /^summary:/ { check(); insum = 1; outc = ""; diag = "none"; notdone = ""; next }
    insum && /^    [0-9]+: / && /(not completed|failed)/ { notdone = $0; sub(/^ +/, "", notdone) }
    insum && /^  outcome: / { outc = $0; sub(/^  outcome: +/, "", outc) }
    insum && /^  diagnosis: .*\[[a-z_.]+\]$/ { diag = $NF; gsub(/[][]/, "", diag) }
    END {
      check()
      if ((st == 0) != (last == "update.completed"))
        say("exit status " st " but the last diagnosis is " last)
      exit bad
    }' "$work/out.txt" || bad=1
done
[ "$n" -gt 0 ] || { echo "agree.sh: $dir/index.tsv lists no log" >&2; exit 2; }
[ "$bad" -eq 0 ] && echo "agree.sh: $n logs: every summary agrees with its diagnosis"
exit "$bad"
