#!/bin/sh
# Install what dfukit needs on Debian 12, skipping what is already there.
# Run as root (or with sudo). Exits 0 when everything is present.
set -eu

PKGS="gcc make cmake pkg-config python3 zlib1g-dev libpcap-dev libserialport-dev
libcmocka-dev libzip-dev libjansson-dev libssl-dev nanopb libnanopb-dev
protobuf-compiler python3-protobuf tshark chromium"
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
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
