#!/bin/sh
# ESP32: the app image against the app partitions of an ESP-IDF partition
# table (`analyze --partitions/--app-image/--app-partition`, docs/esp32.md).
# Ground truth from the test writers: build/tools/mkespimg writes the app
# image esptool elf2image writes for samples/build/esp32-app.elf (its size
# is what flashsize must compute from the ELF), build/tools/mkesppart
# writes the binary table for a CSV and prints each partition's offset and
# size.  Hostile tables and images: exit 2 with FILE:LINE / FILE: entry N.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
FW=$S/esp32-app.elf
D=tests/data/esp32
TOOLS="$(dirname "$FLASHSIZE")/tools"
for t in mkespimg mkesppart; do
  if [ ! -x "$TOOLS/$t" ]; then
    notok "$t test writer is built" "missing $TOOLS/$t (make $TOOLS/$t)"
    case "$(basename "$FLASHSIZE")" in
  flashsize) check "the light binary does not link libcrypto (hands ESP32 checks to flashsize-full)" \
    sh -c "! ldd '$FLASHSIZE' | grep -q libcrypto" ;;
esac
finish
    exit 1
  fi
done
js() { jq -r "$1" "$OUT"; }
fsize() { wc -c <"$1" | tr -d ' '; }

# --- the app image the writer makes ---------------------------------------------
"$TOOLS/mkespimg" "$FW" "$TMP/app.bin" >"$TMP/app.manifest"
N=$(awk '$1 == "size" { print $2 }' "$TMP/app.manifest")
SEGS=$(awk '$1 == "segments" { print $2 }' "$TMP/app.manifest")
expect_eq "writer's size is its file's size" "$N" "$(fsize "$TMP/app.bin")"

# --- computed from the ELF, against MicroPython's 4MiBplus layout ----------------------
"$TOOLS/mkesppart" $D/partitions-4MiBplus.csv "$TMP/plus.bin" >"$TMP/plus.manifest"
P=$(awk '$1 == "factory" { print $3 }' "$TMP/plus.manifest")
run 0 "fits the 4MiBplus factory partition" analyze "$FW" --partitions $D/partitions-4MiBplus.csv --format json
expect_eq "size computed from the ELF = the image the writer wrote" "$(js .esp32_app.image.size)" "$N"
expect_eq "segments as the writer wrote them" "$(js .esp32_app.image.segments)" "$SEGS"
expect_eq "source is the ELF" "$(js .esp32_app.image.source)" "elf"
expect_eq "target is factory" "$(js .esp32_app.app_partition.name)" "factory"
expect_eq "target size from the table" "$(js .esp32_app.app_partition.size)" "$P"
expect_eq "free = partition - image" "$(js .esp32_app.free)" "$((P - N))"
expect_eq "three partitions" "$(js '.esp32_app.partitions | length')" "3"
expect_eq "no app-partition findings" "$(js '[.findings[] | select(.id | startswith("app-partition"))] | length')" "0"
expect_eq "verdict ok" "$(js .summary.verdict)" "ok"
check "JSON is valid" jq -e '.esp32_app.table_format == "csv"' "$OUT"
run 0 "text report" analyze "$FW" --partitions $D/partitions-4MiBplus.csv
expect_out "text gives the image size" "app image      $N bytes"
expect_out "text says where it came from" "computed from the ELF as esptool elf2image writes it"
expect_out "text gives the free bytes" "app partition 'factory': $P bytes, $((P - N)) free"
expect_out "verdict counts the partition" "Verdict: fits (0 errors"

# --- read from the image file; the binary table ----------------------------------------
run 0 "--app-image and a binary table" analyze "$FW" --partitions "$TMP/plus.bin" --app-image "$TMP/app.bin" --format json
cp "$OUT" "$TMP/bin.json"
expect_eq "size read from the image" "$(js .esp32_app.image.size)" "$(fsize "$TMP/app.bin")"
expect_eq "source is the image" "$(js .esp32_app.image.source)" "image"
expect_eq "digest present" "$(js .esp32_app.image.digest)" "true"
expect_eq "table format binary" "$(js .esp32_app.table_format)" "binary"
run 0 "the CSV again" analyze "$FW" --partitions $D/partitions-4MiBplus.csv --format json
expect_eq "binary table = CSV, partition by partition" "$(jq -c .esp32_app.partitions "$TMP/bin.json")" \
  "$(jq -c .esp32_app.partitions "$OUT")"

# --- offsets that follow the previous partition --------------------------------------------
"$TOOLS/mkesppart" $D/partitions-follow.csv "$TMP/follow.bin" >"$TMP/follow.manifest"
run 0 "follow-on offsets" analyze "$FW" --partitions $D/partitions-follow.csv --format json
got=$(jq -r '.esp32_app.partitions[] | "\(.name) \(.offset) \(.size)"' "$OUT")
expect_eq "offsets and sizes as the writer computed them" "$got" "$(cat "$TMP/follow.manifest")"
expect_eq "factory at 0x10000 (64 KiB after phy_init)" "$(js '.esp32_app.partitions[2].offset')" "65536"
expect_eq "coredump aligned to 4 KiB past vfs" "$(js '.esp32_app.partitions[5].offset')" "$((0x285000))"
expect_eq "encrypted flag" "$(js '.esp32_app.partitions[5].encrypted')" "true"
expect_eq "smallest app slot is ota_0" "$(js .esp32_app.app_partition.name)" "ota_0"
expect_eq "two candidates" "$(js .esp32_app.app_partition.candidates)" "2"
run 0 "follow-on binary" analyze "$FW" --partitions "$TMP/follow.bin" --format json
expect_eq "binary of follow-on table reads the same" \
  "$(jq -r '.esp32_app.partitions[] | "\(.name) \(.offset) \(.size)"' "$OUT")" "$(cat "$TMP/follow.manifest")"

# --- OTA: the smallest slot counts; --app-partition picks one ------------------------------------
cat >"$TMP/ota-uneven.csv" <<EOF
nvs,      data, nvs,     0x9000,  0x4000,
otadata,  data, ota,     0xd000,  0x2000,
ota_0,    app,  ota_0,   0x10000, 0x100000,
ota_1,    app,  ota_1,   ,        0x40000,
EOF
run 1 "the smaller OTA slot overflows" analyze "$FW" --partitions "$TMP/ota-uneven.csv" --format json
expect_eq "overflow id" "$(js '[.findings[] | select(.id == "app-partition-overflow")] | length')" "1"
expect_eq "over by image - 0x40000" "$(js '.findings[] | select(.id == "app-partition-overflow") | .numbers.over')" \
  "$((N - 0x40000))"
expect_eq "partition size in the numbers" \
  "$(js '.findings[] | select(.id == "app-partition-overflow") | .numbers.partition')" "$((0x40000))"
expect_eq "image size in the numbers" "$(js '.findings[] | select(.id == "app-partition-overflow") | .numbers.size')" "$N"
expect_eq "subject is ota_1" "$(js '.findings[] | select(.id == "app-partition-overflow") | .subject')" "ota_1"
expect_eq "verdict fail" "$(js .summary.verdict)" "fail"
run 1 "text: does not fit" analyze "$FW" --partitions "$TMP/ota-uneven.csv"
expect_out "text verdict" "Verdict: DOES NOT FIT (1 error"
expect_out "text names the partition" "larger than app partition 'ota_1' (262144 bytes, the smallest of 2) by $((N - 0x40000)) bytes"
run 0 "--app-partition ota_0 fits" analyze "$FW" --partitions "$TMP/ota-uneven.csv" --app-partition ota_0 --format json
expect_eq "chosen by option" "$(js .esp32_app.app_partition.chosen_by)" "option"
expect_eq "free in ota_0" "$(js .esp32_app.free)" "$((0x100000 - N))"
run 2 "--app-partition of a data partition" analyze "$FW" --partitions "$TMP/ota-uneven.csv" --app-partition nvs
expect_err "names it" "not an app partition: 'nvs'; its app partitions: ota_0, ota_1"
run 2 "--app-partition unknown" analyze "$FW" --partitions "$TMP/ota-uneven.csv" --app-partition ota_7
expect_err "says no such partition" "no partition named 'ota_7'"
run 2 "--app-image without a table" analyze "$FW" --app-image "$TMP/app.bin"
expect_err "needs --partitions" "need a partition table (--partitions FILE)"

# --- under 5% free: the warning idf.py prints ---------------------------------------------------
TIGHT=$(( (N + 4095) / 4096 * 4096 ))
printf 'nvs, data, nvs, 0x9000, 0x6000,\nfactory, app, factory, 0x10000, %d,\n' "$TIGHT" >"$TMP/tight.csv"
run 0 "nearly full: exit 0" analyze "$FW" --partitions "$TMP/tight.csv" --format json
expect_eq "headroom warning" "$(js '[.findings[] | select(.id == "app-partition-headroom" and .severity == "warning")] | length')" "1"
expect_eq "free bytes in the warning" "$(js '.findings[] | select(.id == "app-partition-headroom") | .numbers.free')" \
  "$((TIGHT - N))"
expect_eq "verdict warnings" "$(js .summary.verdict)" "warnings"
printf 'factory, app, factory, 0x10000, %d,\n' "$(( (N * 100 / 94 + 4095) / 4096 * 4096 ))" >"$TMP/roomy.csv"
run 0 "over 5% free: no warning" analyze "$FW" --partitions "$TMP/roomy.csv" --format json
expect_eq "no headroom warning at 6% free" "$(js '[.findings[] | select(.id == "app-partition-headroom")] | length')" "0"

# --- an ESP-IDF build directory: found beside the ELF ----------------------------------------------
mkdir -p "$TMP/build/partition_table"
cp "$FW" "$TMP/build/micropython.elf"
cp "$TMP/plus.bin" "$TMP/build/partition_table/partition-table.bin"
run 0 "build dir without micropython.bin: computed" analyze "$TMP/build/micropython.elf" --format json
expect_eq "table found beside the ELF" "$(js .esp32_app.table)" "$TMP/build/partition_table/partition-table.bin"
expect_eq "no image beside it: from the ELF" "$(js .esp32_app.image.source)" "elf"
cp "$TMP/app.bin" "$TMP/build/micropython.bin"
run 0 "build dir with micropython.bin: read" analyze "$TMP/build/micropython.elf" --format json
expect_eq "image beside the ELF" "$(js .esp32_app.image.path)" "$TMP/build/micropython.bin"
expect_eq "image size" "$(js .esp32_app.image.size)" "$N"
run 0 "no table anywhere: no ESP32 part" analyze "$FW" --format json
expect_eq "esp32_app is null" "$(js .esp32_app)" "null"

# --- hostile tables ---------------------------------------------------------------------------------
bad() { # bad NAME WANT_ERR CSV-LINES...
  bname=$1; bwant=$2; shift 2
  printf '%s\n' "$@" >"$TMP/bad.csv"
  run 2 "$bname" analyze "$FW" --partitions "$TMP/bad.csv"
  expect_err "$bname: message" "$bwant"
}
bad "overlap" "$TMP/bad.csv:3: partition 'b' at 0x20000 overlaps the previous partition ending at 0x210000" \
  "# two apps" "a, app, factory, 0x10000, 2M" "b, app, ota_0, 0x20000, 1M"
bad "misaligned app" "$TMP/bad.csv:1: partition 'a' offset 0x18000 is not aligned to 0x10000" "a, app, factory, 0x18000, 1M"
bad "misaligned data" "$TMP/bad.csv:1: partition 'd' offset 0x9100 is not aligned to 0x1000" \
  "d, data, nvs, 0x9100, 0x1000" "a, app, factory, 0x10000, 1M"
bad "app size not 4K" "$TMP/bad.csv:1: app partition 'a' size 0x100100 is not a multiple of 0x1000" "a, app, factory, 0x10000, 0x100100"
bad "below the table" "$TMP/bad.csv:1: partition 'n' at 0x8000 overlaps the partition table ending at 0x9000" "n, data, nvs, 0x8000, 0x1000" "a, app, factory, 0x10000, 1M"
bad "no app" "$TMP/bad.csv: no app partition (factory or ota_N)" "n, data, nvs, 0x9000, 0x6000"
bad "only a test app" "$TMP/bad.csv: no app partition (factory or ota_N)" "t, app, test, 0x10000, 1M"
bad "bad number" "$TMP/bad.csv:1: size '12Q' is not a number" "a, app, factory, 0x10000, 12Q"
bad "unknown subtype" "$TMP/bad.csv:1: subtype 'fast' is not known for type app" "a, app, fast, 0x10000, 1M"
bad "unknown type" "$TMP/bad.csv:1: type 'code' is not app, data" "a, code, factory, 0x10000, 1M"
bad "unknown flag" "$TMP/bad.csv:1: unknown flag 'secret'" "a, app, factory, 0x10000, 1M, secret"
bad "empty size" "$TMP/bad.csv:1: the size field is empty" "a, app, factory, 0x10000"
bad "duplicate name" "$TMP/bad.csv:2: partition name 'a' used twice (first at $TMP/bad.csv:1)" \
  "a, app, factory, 0x10000, 1M" "a, app, ota_0, 0x110000, 1M"
bad "two otadata" "$TMP/bad.csv:3: a second otadata partition" \
  "o1, data, ota, 0x9000, 0x2000" "a, app, ota_0, 0x10000, 1M" "o2, data, ota, 0x110000, 0x2000"
bad "otadata size" "$TMP/bad.csv:1: otadata partition 'o' is 0x1000 bytes; it must be 0x2000" \
  "o, data, ota, 0x9000, 0x1000" "a, app, ota_0, 0x10000, 1M"
bad "long name" "$TMP/bad.csv:1: partition name 'abcdefghijklmnopq' is longer than 16 bytes" "abcdefghijklmnopq, app, factory, 0x10000, 1M"
bad "past 4 GiB" "$TMP/bad.csv:1: partition 'a' ends past 4 GiB" "a, app, factory, 0xFFFF0000, 1M"
bad "variables" "$TMP/bad.csv:1: environment variables" "a, app, factory, \$OFFSET, 1M"
bad "end before start" "$TMP/bad.csv:1: partition 'a' ends (0x8000) before it starts (0x10000)" "a, app, factory, 0x10000, -0x8000"
printf 'f, app, factory, 0x10000, 0x400000,\n' >"$TMP/big.csv"
run 2 "past the board's flash size" analyze "$FW" --partitions "$TMP/big.csv" --board esp32-romfs
expect_err "names the flash size" "$TMP/big.csv:1: partition 'f' 0x10000-0x410000 ends past the 4194304-byte flash"
run 2 "not a file" analyze "$FW" --partitions "$TMP"
expect_err "names it" "not a regular file"

# binary tables
cp "$TMP/plus.bin" "$TMP/b.bin"
printf '\022\064' | dd of="$TMP/b.bin" bs=1 seek=32 conv=notrunc 2>/dev/null
run 2 "binary: bad magic" analyze "$FW" --partitions "$TMP/b.bin"
expect_err "entry 2 named" "$TMP/b.bin: entry 2: magic 12 34, not AA 50"
cp "$TMP/plus.bin" "$TMP/b.bin"
printf '\001' | dd of="$TMP/b.bin" bs=1 seek=5 conv=notrunc 2>/dev/null
run 2 "binary: MD5 mismatch" analyze "$FW" --partitions "$TMP/b.bin"
expect_err "MD5 entry named" "$TMP/b.bin: entry 4: the MD5 of the 3 entries before it does not match"
head -c 96 "$TMP/plus.bin" >"$TMP/b.bin"
run 2 "binary: no end marker" analyze "$FW" --partitions "$TMP/b.bin"
expect_err "end marker missing" "$TMP/b.bin: entry 4: the table ends without its end marker"
head -c 50 "$TMP/plus.bin" >"$TMP/b.bin"
run 2 "binary: truncated entry" analyze "$FW" --partitions "$TMP/b.bin"
expect_err "in the middle of an entry" "in the middle of an entry"
"$TOOLS/mkesppart" $D/partitions-ota.csv "$TMP/b.bin" --no-md5 >/dev/null
run 0 "binary without MD5 entry" analyze "$FW" --partitions "$TMP/b.bin" --format json
expect_eq "five partitions" "$(js '.esp32_app.partitions | length')" "5"
printf 'n, data, nvs, 0x9000, 0x6000\nx, data, nvs, 0x10000, 0x1000\na, app, factory, 0x10000, 1M\n' >"$TMP/ov.csv"
"$TOOLS/mkesppart" "$TMP/ov.csv" "$TMP/b.bin" >/dev/null
run 2 "binary: overlap" analyze "$FW" --partitions "$TMP/b.bin"
expect_err "entries named" "$TMP/b.bin: entry 3: partition 'a' at 0x10000 overlaps 'x' 0x10000-0x10fff ($TMP/b.bin: entry 2)"
head -c 5000 /dev/zero | tr '\0' '\377' >"$TMP/b.bin"; printf '\252\120' | dd of="$TMP/b.bin" conv=notrunc 2>/dev/null
run 2 "binary: larger than a sector" analyze "$FW" --partitions "$TMP/b.bin"
expect_err "sector limit" "a partition table is at most 0x1000 bytes"

# hostile images
"$TOOLS/mkespimg" "$FW" "$TMP/badsum.bin" --corrupt-checksum >/dev/null
run 2 "image: bad checksum" analyze "$FW" --partitions $D/partitions-ota.csv --app-image "$TMP/badsum.bin"
expect_err "checksum named" "$TMP/badsum.bin: offset 0x"
expect_err "says damaged" "(damaged image)"
cp "$TMP/app.bin" "$TMP/badsha.bin"
last=$(tail -c 1 "$TMP/app.bin" | od -An -tu1 | tr -d ' ')
if [ "$last" = 0 ]; then printf '\001'; else printf '\000'; fi | dd of="$TMP/badsha.bin" bs=1 seek=$((N - 1)) conv=notrunc 2>/dev/null
run 2 "image: bad digest" analyze "$FW" --partitions $D/partitions-ota.csv --app-image "$TMP/badsha.bin"
expect_err "digest named" "the SHA-256 digest does not match"
head -c 1000 "$TMP/app.bin" >"$TMP/short.bin"
run 2 "image: truncated" analyze "$FW" --partitions $D/partitions-ota.csv --app-image "$TMP/short.bin"
expect_err "segment runs past the end" "runs past the end of the file"
{ cat "$TMP/app.bin"; printf 'merged'; } >"$TMP/merged.bin"
run 2 "image: more after the image" analyze "$FW" --partitions $D/partitions-ota.csv --app-image "$TMP/merged.bin"
expect_err "says where it ends" "more bytes after the image ends at 0x$(printf %x "$N")"
{ cat "$TMP/app.bin"; head -c 4096 /dev/zero | tr '\0' '\377'; } >"$TMP/padded.bin"
run 0 "image padded with 0xFF (--pad-to-size)" analyze "$FW" --partitions $D/partitions-ota.csv --app-image "$TMP/padded.bin" --format json
expect_eq "file size counts, as check_sizes.py counts it" "$(js .esp32_app.image.size)" "$((N + 4096))"
run 2 "image: not an image" analyze "$FW" --partitions $D/partitions-ota.csv --app-image $D/partitions-ota.csv
expect_err "no magic" "not an ESP app image"
run 2 "computed from a non-Xtensa ELF" analyze $S/cortex-m4.elf --partitions $D/partitions-ota.csv
expect_err "needs --app-image" "not a 32-bit Xtensa ELF"
case "$(basename "$FLASHSIZE")" in
  flashsize) check "the light binary does not link libcrypto (hands ESP32 checks to flashsize-full)" \
    sh -c "! ldd '$FLASHSIZE' | grep -q libcrypto" ;;
esac
finish
