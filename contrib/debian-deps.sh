#!/bin/sh
# Install what dfukit needs on Debian 12, skipping what is already there:
# everything the README's two commands use, to build, to decode a capture and
# to run every test.  Run as root (or with sudo).  Exits 0 when everything is
# present.  .ci/fresh-root runs the README's commands on a debootstrap
# --variant=minbase root, so a package missing here fails CI.
set -eu

# build: compiler, CMake, and the libraries the tools link
PKGS="gcc make cmake pkg-config zlib1g-dev libpcap-dev libserialport-dev
libzip-dev libjansson-dev libssl-dev"
# the init packet's protobuf code is generated with nanopb's Python generator
PKGS="$PKGS nanopb libnanopb-dev protobuf-compiler python3 python3-protobuf"
# tests: CMocka; unzip (dk-mkpkg's packages against the zip tool's view);
# time (/usr/bin/time -f %M: dfudecode's peak memory on bad input);
# tshark (the Wireshark Lua dissector on generated and bundled captures);
# chromium (dfudecode --plot's SVG rendered headless, tests/plot/render.sh);
# groff-base and man-db (the generated man pages through groff and man)
PKGS="$PKGS libcmocka-dev unzip time tshark chromium groff-base man-db"
# Optional: clang + its runtimes for the fuzz smoke test.
[ "${DFUKIT_NO_CLANG:-}" = 1 ] || PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "debian-deps: installing:$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
