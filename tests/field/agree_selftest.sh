#!/bin/sh
# agree_selftest.sh AGREE_SH: agree.sh passes a transcript whose summary and
# diagnosis agree, and fails, naming the contradiction, on transcripts that
# each break one of its rules (a fake dfudecode prints them).
LC_ALL=C
export LC_ALL
check=${1:-}
[ -f "$check" ] || { echo "usage: agree_selftest.sh AGREE_SH" >&2; exit 2; }
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/d"
printf 'file\tsource\n' > "$work/d/index.tsv"
printf 'a.log\tx\n' >> "$work/d/index.tsv"
: > "$work/d/a.log"
fails=0
# case NAME STATUS IMAGE OUTCOME DIAG WANT_RC PATTERN
case_() {
  cat > "$work/dec" <<END
#!/bin/sh
printf 'summary:\n  images:     1\n    1: APPLICATION, sent 4, reached 4, %s\n  outcome:    %s\n  diagnosis:  Something. [%s]\n' '$3' '$4' '$5'
exit $2
END
  chmod +x "$work/dec"
  out=$(sh "$check" "$work/dec" "$work/d" 2>&1); rc=$?
  if [ "$rc" -ne "$6" ] || ! printf '%s\n' "$out" | grep -q -- "$7"; then
    echo "agree_selftest: $1: exit $rc (want $6), want a line matching '$7' in:"
    printf '%s\n' "$out" | sed 's/^/  /'
    fails=$((fails + 1))
  else
    echo "agree_selftest: $1: ok"
  fi
}
case_ agreeing 0 completed completed update.completed 0 'every summary agrees'
case_ interrupted-but-completed 0 'not completed' 'interrupted at data offset 0' update.completed 1 'outcome "interrupted'
case_ no-messages-but-completed 0 'not completed' 'no DFU messages' update.completed 1 'outcome "no DFU messages" but diagnosis'
case_ completed-but-failure 1 completed completed data.crc_mismatch 1 'but diagnosis data.crc_mismatch'
case_ completed-image-open 0 'not completed' completed update.completed 1 'an image is not completed'
case_ init-but-data 1 failed 'failed with error INVALID_OBJECT on OBJECT_EXECUTE (data) at data offset 4' init.invalid_object 1 '(init packet) but outcome'
case_ data-but-init 1 failed 'failed with error OPERATION_FAILED on OBJECT_EXECUTE (init) at command offset 0' data.crc_mismatch 1 '(firmware) but outcome'
case_ one-sided-never-answered 1 'not completed' 'failed: the target never answered' log.one_sided 1 'log.one_sided but outcome'
case_ exit-0-failed 0 'not completed' 'interrupted at data offset 0' transfer.interrupted 1 'exit status 0 but'
[ "$fails" -eq 0 ] || { echo "agree_selftest: $fails case(s) failed"; exit 1; }
