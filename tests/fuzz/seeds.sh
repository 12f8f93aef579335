#!/bin/sh
# seeds.sh OUT FUZZ_SEEDS DK_MKPKG - write every fuzz target's seed corpus
# into OUT/<target>/: the generated seeds (fuzz_seeds), then the
# repository's own inputs: captures and test captures (capfile), the legacy
# raw capture (hci), the logs
# of captures/logs, captures/field and tests/data (logs; a few also for the
# pipeline, after its mode byte), scenario files (scenario), and packages
# made by dk-mkpkg plus broken archives (pkg).  Deterministic: the committed
# tests/fuzz/corpus/ is exactly its output (test fuzz_seeds_current).
# Inputs that once broke a target live in tests/fuzz/regress/<target>/ and
# are copied in as they are.
# Seeds are cut at 64 KiB (logs at 16 KiB): the fuzzers' -max_len.
set -eu
out=$1
gen=$2
mkpkg=$3
root=$(cd "$(dirname "$0")/../.." && pwd)

"$gen" "$out"
mkdir -p "$out/logs" "$out/capfile" "$out/pipeline" "$out/scenario" "$out/pkg" "$out/hci"

# copy FILE DIR [LIMIT [NAME]]
copy() {
    head -c "${3:-65536}" "$1" >"$out/$2/${4:-$(basename "$1")}"
}

for f in "$root"/captures/*.pcap "$root"/captures/*.raw "$root"/captures/sim/*.pcap \
         "$root"/tests/data/cap/*.pcap; do
    copy "$f" capfile
done
# a legacy update's line bytes (fuzz_hci)
copy "$root/captures/legacy-complete.raw" hci
# the two-file capture of captures/: the host file's length (2 bytes, LE) first
host="$root/captures/complete-prn0.host.raw"
n=$(wc -c <"$host")
{
    printf "$(printf '\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)))"
    cat "$host" "$root/captures/complete-prn0.target.raw"
} >"$out/capfile/complete-prn0.two"

for f in "$root"/captures/logs/* "$root"/captures/field/*.log "$root"/tests/data/cap/log.txt; do
    case $f in
    *.expected.txt | *.records | *.json | */README.md) continue ;;
    esac
    copy "$f" logs 16384
done
# the pipeline reads a log after its first byte: 0x10 text, 0x11 JSON
for f in nrfutil-complete.log ble-complete.log socat-complete.txt hexdump-complete.txt \
         hex-complete.txt saleae-sd-req.csv programmer-modem.log plain-hash.log nrfutil-cut.log; do
    for m in 20 21; do
        { printf "\\0$m"; head -c 16384 "$root/captures/logs/$f"; } >"$out/pipeline/log$m-$f"
    done
done

# the legacy update's line bytes as one SLIP stream (mode byte 0x00 text,
# 0x01 JSON)
for m in 00 01; do
    { printf "\\0$m"; cat "$root/captures/legacy-complete.raw"; } >"$out/pipeline/legacy$m-complete.raw"
done

# seeds written by hand (tests/fuzz/handmade/<target>/): shapes the
# repository's own files do not show
for d in "$root"/tests/fuzz/handmade/*/; do
    t=$(basename "$d")
    mkdir -p "$out/$t"
    for f in "$d"*; do
        cp "$f" "$out/$t/hand-$(basename "$f")"
    done
done

# inputs that once broke a target (tests/fuzz/regress/<target>/): kept whole
for d in "$root"/tests/fuzz/regress/*/; do
    t=$(basename "$d")
    mkdir -p "$out/$t"
    for f in "$d"*; do
        cp "$f" "$out/$t/regress-$(basename "$f")"
    done
done

for f in "$root"/captures/logs/*.scenario.json; do
    copy "$f" scenario
done

p=$out/pkg
"$mkpkg" --app 300 "$p/app.zip" >/dev/null
"$mkpkg" --app 1000 --sd 2000 --bl 500 "$p/sd-bl-app.zip" >/dev/null
"$mkpkg" --sd-bl --sd-size 3000 --bl-size 1000 "$p/sd_bl.zip" >/dev/null
"$mkpkg" --app 200 --no-boot-validation --debug "$p/app-sdk15.zip" >/dev/null
"$mkpkg" --app 200 --break hash "$p/break-hash.zip" >/dev/null
"$mkpkg" --app 200 --break dat-trunc "$p/break-dat-trunc.zip" >/dev/null
"$mkpkg" --app 200 --break size "$p/break-size.zip" >/dev/null
"$mkpkg" --app 200 --break both "$p/break-both.zip" >/dev/null
# archives dk-mkpkg does not write: stored members with a fixed date
python3 - "$p" <<'PY'
import struct, sys, zipfile
d = sys.argv[1]
def z(name, members):
    with zipfile.ZipFile(f"{d}/{name}", "w", zipfile.ZIP_STORED) as f:
        for n, b in members:
            f.writestr(zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0)), b)
# dk-mkpkg's archives stamp the time: the same members again, dated 2020
import glob, os
for path in sorted(glob.glob(f"{d}/*.zip")):
    with zipfile.ZipFile(path) as f:
        members = [(i.filename, f.read(i.filename)) for i in f.infolist()]
    os.unlink(path)
    z(os.path.basename(path), members)
man = b'{"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat"}}}'
z("no-manifest.zip", [("app.bin", b"\x00" * 16), ("app.dat", b"\x0a\x00")])
z("missing-member.zip", [("manifest.json", man), ("app.dat", b"\x0a\x00")])
z("bad-json.zip", [("manifest.json", b'{"manifest": {"application": {"bin_file": '),
                   ("app.bin", b"x"), ("app.dat", b"y")])
z("wrong-types.zip", [("manifest.json", b'{"manifest": {"application": {"bin_file": 3, '
                       b'"dat_file": ["a"]}, "softdevice": 7}}')])
z("metadata.zip", [("manifest.json", b'{"manifest": {"softdevice_bootloader": {"bin_file": "a", '
                    b'"dat_file": "b", "info_read_only_metadata": {"sd_size": -1, "bl_size": '
                    b'4294967296}}}}'), ("a", b"1"), ("b", b"2")])
# a member whose directory entry claims more than the 16 MiB limit
z("huge.zip", [("manifest.json", man), ("app.bin", b"\x00" * 16), ("app.dat", b"\x0a\x00")])
b = bytearray(open(f"{d}/huge.zip", "rb").read())
i = b.find(b"app.bin", b.find(b"PK\x01\x02"))
hdr = b.rfind(b"PK\x01\x02", 0, i)
struct.pack_into("<I", b, hdr + 24, 17 << 20)
open(f"{d}/huge.zip", "wb").write(bytes(b))
# legacy packages as adafruit-nrfutil genpkg makes them (.dat 0.5: device
# type, revision, app version, sd_req, CRC16 of the image)
import binascii
def legacy(name, key, bin_name, b, sd_req, extra=None):
    dat = struct.pack("<HHIH", 0x52, 0xFFFF, 0xFFFFFFFF, len(sd_req))
    dat += b"".join(struct.pack("<H", r) for r in sd_req) + struct.pack("<H", binascii.crc_hqx(b, 0xFFFF))
    img = {"bin_file": bin_name, "dat_file": bin_name[:-4] + ".dat",
           "init_packet_data": {"device_type": 0x52, "softdevice_req": sd_req}}
    img.update(extra or {})
    man = json.dumps({"manifest": {key: img, "dfu_version": 0.5}}, sort_keys=True).encode()
    z(name, [("manifest.json", man), (bin_name[:-4] + ".dat", dat), (bin_name, b)])
import json
legacy("legacy-app.zip", "application", "app.bin", bytes((i * 7 + 1) & 0xFF for i in range(1500)), [0xFFFE])
legacy("legacy-sd-bl.zip", "softdevice_bootloader", "sd_bl.bin", bytes(range(256)) * 12, [0xB6, 0xB7],
       {"sd_size": 2048, "bl_size": 1024})
# the members of the well-formed ones, as fuzz_pkg builds its own archive
# from them: name length u8, name, length u16 BE, bytes
for path in sorted(glob.glob(f"{d}/*.zip")):
    if os.path.basename(path) in ("huge.zip",):
        continue
    with zipfile.ZipFile(path) as f:
        out = b""
        for i in f.infolist()[:8]:
            n, b = i.filename.encode()[:255], f.read(i.filename)[:65535]
            out += bytes([len(n)]) + n + struct.pack(">H", len(b)) + b
    open(path[:-4] + ".members", "wb").write(out)
open(f"{d}/truncated.zip", "wb").write(open(f"{d}/app.zip", "rb").read()[:300])
open(f"{d}/not-a-zip.txt", "wb").write(b"PK but not a zip\n")
PY
