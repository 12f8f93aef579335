#!/bin/sh
# dk-mkpkg end to end: every image kind and every --break, each judged by
# dk-mkpkg --check (exit 0 good / 1 bad package / 2 unreadable) and its message.
# usage: mkpkg_test.sh PATH/TO/dk-mkpkg
set -u
M=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/dkmkpkg.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
# expect RC PATTERN -- dk-mkpkg args for the package...; then --check it
expect() {
  want_rc=$1 pat=$2; shift 2
  if ! "$M" "$@" "$T/p.zip" >"$T/gen.out" 2>&1; then
    echo "FAIL: could not generate: $*"; cat "$T/gen.out"; fails=$((fails+1)); return
  fi
  "$M" --check "$T/p.zip" --pub "$T/pub.pem" >"$T/out" 2>&1
  rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -q -- "$pat" "$T/out"; then
    echo "FAIL: $* -> rc $rc (want $want_rc), output:"; cat "$T/out"; fails=$((fails+1))
  fi
}

"$M" --keygen "$T/k.pem" "$T/pub.pem" || { echo "FAIL: keygen"; exit 1; }
grep -q 'BEGIN EC PRIVATE KEY' "$T/k.pem" || { echo "FAIL: key form"; fails=$((fails+1)); }

K="--key $T/k.pem"
expect 0 'signatures verify' --app 5000 $K
expect 0 'signatures verify' --sd 3000 --bl 2000 --app 100 $K
expect 0 'sd_size: 1000' --sd-bl --sd-size 1000 --bl-size 500 $K
expect 0 'sd_req: 0x0100, 0x0101' --app 10 --sd-req 0x100,257 $K
expect 0 'sd_req: none' --app 10 --sd-req '' $K
expect 0 'sd_req: 0xfffe' --app 10 $K
expect 0 'hw_version: 53' --app 10 --hw-version 53 $K
expect 0 'fw_version: 7 ' --app 10 --fw-version 7 $K
expect 0 'is_debug: true' --app 10 --debug $K
expect 0 'fw_version: 4294967295' --sd 64 $K
expect 0 'app_size: 0 (0x0)' --app 0 $K
expect 1 'not signed' --app 10
expect 1 'is not the reversed SHA-256 of app.bin' --app 100 $K --break hash
expect 1 'app.dat: not signed' --app 100 $K --break unsigned
expect 1 'signature type ED25519' --app 100 $K --break sigtype
expect 1 'signature does not verify' --app 100 $K --break sig
expect 1 'app_size is 101 but app.bin has 100 bytes' --app 100 $K --break size
expect 1 'both command and signed_command' --app 100 $K --break both
expect 1 'app.dat: offset 0:' --app 100 $K --break dat-trunc
expect 1 'bl.dat: signature type ED25519' --sd 10 --bl 10 --app 10 $K --break sigtype --break-only bl

# images come out of the generator deterministically
"$M" --app 1000 --seed 9 "$T/a.zip" && "$M" --app 1000 --seed 9 "$T/b.zip" &&
  (cd "$T" && mkdir a b && cd a && unzip -q ../a.zip && cd ../b && unzip -q ../b.zip && cd .. &&
   cmp a/app.bin b/app.bin && cmp a/app.dat b/app.dat && cmp a/manifest.json b/manifest.json) ||
  { echo "FAIL: same seed, different package"; fails=$((fails+1)); }

# usage errors exit 2
for bad in "--app x" "--break nope" "--sd-bl --sd-size 5" "--sd-req 1,,x"; do
  # shellcheck disable=SC2086
  "$M" $bad "$T/x.zip" >/dev/null 2>&1
  [ $? = 2 ] || { echo "FAIL: '$bad' should exit 2"; fails=$((fails+1)); }
done
"$M" --check "$T/missing.zip" >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: missing package should exit 2"; fails=$((fails+1)); }

[ $fails = 0 ] && echo "mkpkg_test: all passed"
exit $((fails > 0))
