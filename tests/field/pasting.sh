#!/bin/sh
# pasting.sh DFUDECODE LOGDIR: the sample logs of captures/logs, bent the way
# pasting bends a log, still get the diagnosis and exit status the unbent log
# gets.  Each bend is one "sed"/"tr"/"fold" of the whole file:
#   indent    every line indented by 6 blanks (a Markdown code block, a page)
#   tab       every line indented by a tab
#   crlf      CRLF line ends (a Windows paste)
#   quote     every line quoted "> " (a mail or issue reply)
#   collapse  every newline turned into a blank (a page ran the lines together)
#   nostamp   nrfutil's and Programmer's timestamps taken off (-v without them)
#   fold80    lines broken at 80 columns (a cmd.exe window)
#   fold120   lines broken at 120 columns
#   foldlose  lines broken at 120 columns losing the character at the break
#             (PowerShell)
# and two runs in one log: a failed run and then a completed one exit 0 with
# both runs reported, the other way round exit 1.
# Exit 0 when all hold, 1 with the ones that do not listed.
LC_ALL=C
export LC_ALL
dec=${1:-}
dir=${2:-}
[ -x "$dec" ] && [ -d "$dir" ] || { echo "usage: pasting.sh DFUDECODE LOGDIR" >&2; exit 2; }
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
fails=0
checks=0

diag() { # FILE -> "ID STATUS"
  "$dec" --json "$1" > "$work/out.json" 2>/dev/null
  rc=$?
  id=$(tail -1 "$work/out.json" | sed -n 's/.*"diagnosis":{"id":"\([^"]*\)".*/\1/p')
  echo "${id:-none} $rc"
}

bend() { # HOW FILE
  case $1 in
  indent) sed 's/^/      /' "$2" ;;
  tab) sed 's/^/	/' "$2" ;;
  crlf) sed 's/$/\r/' "$2" ;;
  quote) sed 's/^/> /' "$2" ;;
  collapse) tr '\n' ' ' < "$2" ;;
  nostamp) sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.,]+Z? //' "$2" ;;
  fold80) fold -w 80 "$2" ;;
  fold120) fold -w 120 "$2" ;;
  foldlose) fold -w 121 "$2" | awk 'length($0) == 121 { print substr($0, 1, 120); next } { print }' ;;
  esac
}

for name in nrfutil-complete.log nrfutil-sd-req.log nrfutil-no-ping.log nrfutil-desync.log \
            nrfutil-hash.log plain-sd-req.log plain-hash.log plain-no-ping.log ble-sd-req.log \
            programmer-jlink.log programmer-modem.log; do
  f=$dir/$name
  [ -f "$f" ] || { echo "pasting: $f: missing"; fails=$((fails + 1)); continue; }
  want=$(diag "$f")
  case $want in none*) echo "pasting: $name: no diagnosis unbent"; fails=$((fails + 1)); continue ;; esac
  for how in indent tab crlf quote collapse nostamp fold80 fold120 foldlose; do
    bend "$how" "$f" > "$work/bent.log"
    got=$(diag "$work/bent.log")
    checks=$((checks + 1))
    if [ "$got" != "$want" ]; then
      echo "pasting: $name $how: diagnosis and status '$got', unbent '$want'"
      fails=$((fails + 1))
    fi
  done
done

# runs: the last one decides, every one is reported
runs() { # NAME FIRST SECOND WANT_STATUS WANT_ID
  cat "$dir/$2" "$dir/$3" > "$work/runs.log"
  got=$(diag "$work/runs.log")
  n=$("$dec" "$work/runs.log" 2>/dev/null | grep -c '^  diagnosis:')
  r=$("$dec" "$work/runs.log" 2>/dev/null | grep -c '^== run 2, from line ')
  checks=$((checks + 1))
  if [ "$got" != "$5 $4" ] || [ "$n" -ne 2 ] || [ "$r" -ne 1 ]; then
    echo "pasting: $1: '$got' with $n diagnoses and $r run-2 lines, want '$5 $4', 2 and 1"
    fails=$((fails + 1))
  fi
}
runs fail-then-ok programmer-jlink.log programmer-modem.log 0 update.completed
runs ok-then-fail programmer-modem.log programmer-jlink.log 1 programmer.jlink_busy
runs nrfutil-fail-then-ok nrfutil-sd-req.log nrfutil-complete.log 0 update.completed
runs nrfutil-ok-then-fail nrfutil-complete.log nrfutil-no-ping.log 1 link.no_answer

[ "$fails" -eq 0 ] || { echo "pasting: $fails of $checks checks failed"; exit 1; }
echo "pasting: all $checks checks hold"
