#!/bin/sh
# install.sh BUILD WORK CC [CFLAGS...] - cmake --install into WORK/stage
# (DESTDIR), then, as a user of the installed library would, with nothing
# but the staged files and pkg-config (the staged dfukit.pc, its prefix
# rewritten to the staging directory):
#  - the layout: bin/ (every tool), share/man/man1 (a page each), libdfukit
#    .so (versioned SONAME) and .a, include/dfukit/*.h, pkgconfig/dfukit.pc;
#  - every installed header compiles on its own with the pkg-config flags;
#  - crc_user.c builds with `pkg-config --cflags --libs dfukit` against the
#    shared library and against libdfukit.a (-l:libdfukit.a and the
#    Requires.private packages' flags), and both run
#    (CRC-32 of "123456789" = 0xCBF43926, an init packet through nanopb, a
#    capture format guess, the version);
#  - cmake --install --prefix DIR: its dfukit.pc, unchanged, builds and runs
#    crc_user.c.
set -u
BUILD=$1 WORK=$2 CC=$3
shift 3
EXTRA="$*" # sanitizer flags of this build, if any
HERE=$(cd "$(dirname "$0")" && pwd)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config is not installed"; exit 77; }

rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
DESTDIR="$WORK/stage" cmake --install "$BUILD" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; echo "FAIL: cmake --install"; exit 1; }

pcs=$(find "$WORK/stage" -name dfukit.pc)
[ "$(printf '%s\n' "$pcs" | grep -c .)" -eq 1 ] || { echo "FAIL: dfukit.pc installed: '$pcs'"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pcs")
case $pcs in "$WORK/stage$prefix"/*) ;; *) fail "dfukit.pc is not under its prefix $prefix: $pcs" ;; esac
mkdir -p "$WORK/pc"
sed "s|^prefix=.*|prefix=$WORK/stage$prefix|" "$pcs" >"$WORK/pc/dfukit.pc"
export PKG_CONFIG_PATH="$WORK/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists --print-errors dfukit || { echo "FAIL: pkg-config cannot use dfukit.pc"; exit 1; }
libdir=$(pkg-config --variable=libdir dfukit)
incdir=$(pkg-config --variable=includedir dfukit)
root="$WORK/stage$prefix"
[ "$(pkg-config --modversion dfukit)" = "$(sed -n 's/^#define DFUKIT_VERSION "\(.*\)"/\1/p' "$incdir/dfukit/version.h")" ] ||
    fail "dfukit.pc Version and version.h differ"
pkg-config --print-requires-private dfukit | tr -d ' ' | sort >"$WORK/req"
printf '%s\n' jansson libcrypto libpcap libserialport libzip zlib | cmp -s - "$WORK/req" ||
    fail "Requires.private: $(tr '\n' ' ' <"$WORK/req")"

# layout
for t in dfudecode dfusim dfuhost dfusniff dfucheck; do
    [ -x "$root/bin/$t" ] || fail "bin/$t not installed"
    [ -s "$root/share/man/man1/$t.1" ] || fail "share/man/man1/$t.1 not installed"
done
[ -f "$libdir/libdfukit.a" ] || fail "libdfukit.a not installed in $libdir"
soname=$(readelf -d "$libdir/libdfukit.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case $soname in libdfukit.so.[0-9]*) ;; *) fail "libdfukit.so: SONAME '$soname'" ;; esac
[ -L "$libdir/libdfukit.so" ] && [ -e "$libdir/$soname" ] || fail "libdfukit.so -> $soname links"
exports=$(nm -D --defined-only "$libdir/libdfukit.so" | awk '{ print $3 }')
printf '%s\n' "$exports" | grep -q '^dk_crc32$' || fail "libdfukit.so does not export dk_crc32"
others=$(printf '%s\n' "$exports" | grep -v '^dk_' | head -n 3)
[ -z "$others" ] || fail "libdfukit.so exports more than dk_*: $others"
ar t "$libdir/libdfukit.a" | grep -q '^pb_decode' || fail "libdfukit.a does not carry nanopb"

# headers: each alone, with the installed ones and the pkg-config flags only
nh=0
for h in "$incdir"/dfukit/*.h; do
    b=$(basename "$h")
    printf '#include <dfukit/%s>\n#include <dfukit/%s>\nint dk_header_check_only;\n' "$b" "$b" |
        $CC -std=c11 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags dfukit) -fsyntax-only -x c - \
            2>"$WORK/h.err" || fail "dfukit/$b does not compile on its own: $(head -n 3 "$WORK/h.err")"
    nh=$((nh + 1))
done
[ "$nh" -ge 20 ] || fail "only $nh headers installed"

# a user program, shared then static
$CC -std=c11 -Wall -Wextra -Werror $EXTRA "$HERE/crc_user.c" -o "$WORK/user-shared" \
    $(pkg-config --cflags --libs dfukit) 2>"$WORK/cc.err" || fail "shared build: $(head -n 5 "$WORK/cc.err")"
if [ -x "$WORK/user-shared" ]; then
    readelf -d "$WORK/user-shared" | grep -q "NEEDED.*\[$soname\]" || fail "user-shared does not need $soname"
    out=$(LD_LIBRARY_PATH="$libdir" "$WORK/user-shared") || fail "user-shared: $out"
    echo "shared: $out"
fi
# libdfukit.a, its dependencies shared (pkg-config --static would also ask
# for their own private libraries, e.g. libpcap's -lsystemd -ldbus-1, whose
# development files a machine need not have)
libs="-L$libdir -l:libdfukit.a $(pkg-config --libs $(pkg-config --print-requires-private dfukit))"
$CC -std=c11 -Wall -Wextra -Werror $EXTRA "$HERE/crc_user.c" -o "$WORK/user-static" \
    $(pkg-config --cflags dfukit) $libs 2>"$WORK/cc.err" || fail "static build: $(head -n 5 "$WORK/cc.err")"
if [ -x "$WORK/user-static" ]; then
    readelf -d "$WORK/user-static" | grep -q 'NEEDED.*libdfukit' && fail "user-static still needs libdfukit.so"
    out=$("$WORK/user-static") || fail "user-static: $out"
    echo "static: $out"
fi
# cmake --install --prefix DIR, as a user would install into a directory of
# their own: the dfukit.pc it installs names DIR, used as it is
cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install2.log" 2>&1 ||
    { cat "$WORK/install2.log"; fail "cmake --install --prefix"; }
pc2=$(find "$WORK/prefix" -name dfukit.pc)
[ "$(sed -n 's/^prefix=//p' "$pc2")" = "$WORK/prefix" ] || fail "--prefix: dfukit.pc says $(grep '^prefix=' "$pc2")"
pcdir2=$(dirname "$pc2")
if $CC -std=c11 -Wall -Wextra -Werror $EXTRA "$HERE/crc_user.c" -o "$WORK/user-prefix" \
    $(PKG_CONFIG_PATH="$pcdir2" pkg-config --cflags --libs dfukit) 2>"$WORK/cc.err"; then
    out=$(LD_LIBRARY_PATH=$(PKG_CONFIG_PATH="$pcdir2" pkg-config --variable=libdir dfukit) "$WORK/user-prefix") ||
        fail "user-prefix: $out"
    echo "--prefix: $out"
else
    fail "--prefix build: $(head -n 5 "$WORK/cc.err")"
fi
[ $fails -eq 0 ] && echo "install: layout, $nh headers, pkg-config, shared and static users, --prefix: ok"
[ $fails -eq 0 ]
