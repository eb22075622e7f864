#!/bin/sh
# CLI behaviour of `flashsize romfs`: the walk against what the test writer
# (build/tools/mkromfs, tests/tools/romfs_writer.h) says it wrote, free space
# against the firmware's _micropy_hw_romfs_part0_* symbols (readelf -s of
# samples/build/esp8266-romfs.elf: start 0x402b0000, size 0x50000), the board
# file and --partition-size, findings and exit codes, and corrupt images
# (exit 2 with the file named and the problem).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
FW=$S/esp8266-romfs.elf
MK="$(dirname "$FLASHSIZE")/tools/mkromfs"
if [ ! -x "$MK" ]; then
  notok "mkromfs test writer is built" "missing $MK (make $(dirname "$FLASHSIZE")/tools/mkromfs)"
  finish
  exit 1
fi

# --- usage ---------------------------------------------------------------
run 0 "romfs --help" romfs --help
expect_out "--help names --partition-size" "--partition-size"
run 2 "romfs without an image" romfs
expect_err "no image is named" "romfs: no image given"
run 2 "romfs with two images" romfs a b
run 2 "unknown format" romfs --format csv x.img
expect_err "unknown format is named" "unknown format 'csv'"
run 2 "--partition-size 0" romfs --partition-size 0 x.img
run 2 "--partition-size junk" romfs --partition-size 12Q x.img
expect_err "--partition-size junk is named" "--partition-size: '12Q'"
run 2 "--headroom out of range" romfs --headroom 0 x.img
run 0 "top-level help lists romfs" --help
expect_out "help lists romfs" "romfs"

# --- a tree the writer knows --------------------------------------------------
cat >"$TMP/tree.spec" <<'EOF'
file a.txt 9
pad 7
nodata empty
file zero.bin 0
dir lib
  file b.dat 4
  mpy xt.mpy 0x27 300
  mpy bc.mpy 0x03 50
  dir deep
    lenpad 1
    file big.bin 204800
    unknown 9 5
  end
  link alias.bin 1000 /lib/deep/big.bin
end
EOF
"$MK" "$TMP/tree.spec" "$TMP/tree.img" >"$TMP/tree.manifest"
check "mkromfs writes the tree" test -s "$TMP/tree.img"
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/tree.manifest"; }
IMG=$(m image)
expect_eq "manifest image size is the file size" "$IMG" "$(wc -c <"$TMP/tree.img" | tr -d ' ')"

run 0 "json walk of the tree" romfs --format json "$TMP/tree.img"
cp "$OUT" "$TMP/tree.json"
check "schema flashsize-romfs version 1" jq -e '.schema == "flashsize-romfs" and .schema_version == 1' "$TMP/tree.json"
for k in header payload data overhead padding skipped vuint_pad; do
  case $k in
    payload) got=$(jq -r '.romfs.payload_size' "$TMP/tree.json") ;;
    *) got=$(jq -r ".romfs.totals.$k" "$TMP/tree.json") ;;
  esac
  expect_eq "total $k as written" "$got" "$(m $k)"
done
expect_eq "image size as written" "$(jq -r '.romfs.image_size' "$TMP/tree.json")" "$IMG"
expect_eq "files and dirs as written" "$(jq -r '"\(.romfs.totals.files) \(.romfs.totals.dirs)"' "$TMP/tree.json")" "$(m files) $(m dirs)"
expect_eq "header+data+overhead+padding+skipped+vuint_pad == image size" \
  "$(jq -r '.romfs.totals | .header + .data + .overhead + .padding + .skipped + .vuint_pad' "$TMP/tree.json")" "$IMG"
# every entry: offset, record size, overhead (and size, content offset)
want=$(awk '$1 == "dir" { print "dir", $2, $3, $4, $5 } $1 == "file" { print "file", $2, $3, $4, $5, $6, ($6 == 0 && $7 == 0 ? "null" : $7) }' "$TMP/tree.manifest")
got=$(jq -r '.romfs.entries[] | if .type == "dir" then "dir \(.path) \(.offset) \(.record_size) \(.overhead)"
  else "file \(.path) \(.offset) \(.record_size) \(.overhead) \(.size) \(.data_offset)" end' "$TMP/tree.json")
expect_eq "every entry's offset, record size, overhead, size, content offset as written" "$got" "$want"
expect_eq "xt.mpy is xtensa 6.3" "$(jq -r '.romfs.entries[] | select(.path == "/lib/xt.mpy") | "\(.mpy.arch) \(.mpy.version).\(.mpy.sub_version)"' "$TMP/tree.json")" "xtensa 6.3"
expect_eq "alias.bin is indirect into big.bin" \
  "$(jq -r '[.romfs.entries[] | select(.path == "/lib/alias.bin" or .path == "/lib/deep/big.bin") | .data_offset] | unique | length' "$TMP/tree.json")" 1
expect_eq "no findings without a partition" "$(jq -r '.findings | length' "$TMP/tree.json")" 0
expect_eq "partition unknown" "$(jq -r '.romfs.partition' "$TMP/tree.json")" null

run 0 "text walk of the tree" romfs "$TMP/tree.img"
expect_eq "text lists big.bin with its bytes" "$(awk '$1 == "big.bin" { print $2 }' "$OUT")" 204800
expect_out "text names the .mpy arch" ".mpy v6.3 xtensa"
expect_out "text shows the image total" "image        $(printf '%10s' "$IMG")"
"$FLASHSIZE" romfs --format json "$TMP/tree.img" >"$TMP/again.json" 2>/dev/null
check "same input, same output byte for byte" cmp -s "$TMP/tree.json" "$TMP/again.json"

# --- partitions -------------------------------------------------------------------
FREE=$((0x50000 - IMG))
run 0 "--firmware esp8266-romfs.elf" romfs --format json --firmware $FW "$TMP/tree.img"
expect_eq "firmware partition: start, size, free" \
  "$(jq -r '.romfs.partition | "\(.source) \(.start) \(.size) \(.free)"' "$OUT")" "firmware $((0x402b0000)) $((0x50000)) $FREE"
run 0 "--board esp8266-2m-romfs" romfs --format json --board esp8266-2m-romfs "$TMP/tree.img"
expect_eq "board partition: start, size, free" \
  "$(jq -r '.romfs.partition | "\(.source) \(.start) \(.size) \(.free)"' "$OUT")" "board $((0x402b0000)) $((320 * 1024)) $FREE"
run 0 "--partition-size 320K" romfs --format json --partition-size 320K "$TMP/tree.img"
expect_eq "explicit partition: size, free" "$(jq -r '.romfs.partition | "\(.source) \(.size) \(.free)"' "$OUT")" "option 327680 $FREE"
run 0 "text shows the free bytes" romfs --firmware $FW "$TMP/tree.img"
expect_out "text free line" "free         $(printf '%10s' $FREE)"
run 0 "stm32-pybd-sf2 board" romfs --format json --board stm32-pybd-sf2 "$TMP/tree.img"
expect_eq "pybd partition 0x90100000 + 1024K" "$(jq -r '.romfs.partition | "\(.start) \(.size) \(.free)"' "$OUT")" \
  "$((0x90100000)) 1048576 $((1048576 - IMG))"

run 1 "image larger than the partition exits 1" romfs --partition-size 100000 "$TMP/tree.img"
expect_out "romfs-full with the excess" "romfs-full: ROMFS image is $IMG bytes, larger than its 100000-byte partition (from option) by $((IMG - 100000)) bytes"
run 0 "headroom warning exits 0" romfs --format json --partition-size $((IMG + 10)) "$TMP/tree.img"
expect_eq "romfs-headroom warning" "$(jq -r '[.findings[].id] | join(",")' "$OUT")" "romfs-headroom"
run 0 "--headroom 100 silences it" romfs --format json --headroom 100 --partition-size $((IMG + 10)) "$TMP/tree.img"
expect_eq "no findings" "$(jq -r '.findings | length' "$OUT")" 0

# ESP8266: a partition outside the 1 MiB window
printf '[board]\nname = t\nchip = esp8266\n[romfs]\nstart = 0x402F0000\nsize = 0x20000\n' >"$TMP/esp-out.ini"
run 1 "ROMFS outside the ESP8266 window exits 1" romfs --board "$TMP/esp-out.ini" "$TMP/tree.img"
expect_out "romfs-unmapped names the range" "romfs-unmapped: ROMFS partition 0x402f0000-0x40310000 lies outside"

# .mpy built for another architecture
printf 'mpy ok.mpy 0x27 64\nmpy arm.mpy 0x17 64\nmpy bc.mpy 0x00 64\n' >"$TMP/arch.spec"
"$MK" "$TMP/arch.spec" "$TMP/arch.img" >/dev/null
run 1 "armv7m .mpy with ESP8266 firmware exits 1" romfs --format json --firmware $FW "$TMP/arch.img"
expect_eq "one romfs-arch-mismatch, for arm.mpy" "$(jq -r '[.findings[] | "\(.id) \(.subject)"] | join(",")' "$OUT")" "romfs-arch-mismatch /arm.mpy"
run 0 "no firmware: no arch check" romfs "$TMP/arch.img"

# trailing erased flash is fine, other bytes are reported
cp "$TMP/arch.img" "$TMP/trail.img"
"$MK" --trail 4096 0xff "$TMP/arch.spec" "$TMP/trail.img" >/dev/null
run 0 "0xFF fill after the image" romfs --format json "$TMP/trail.img"
expect_eq "trailing 4096 bytes of 0xFF, image size unchanged" \
  "$(jq -r '"\(.romfs.trailing.bytes) \(.romfs.trailing.ff) \(.romfs.image_size) \(.findings | length)"' "$OUT")" "4096 4096 $(wc -c <"$TMP/arch.img" | tr -d ' ') 0"
"$MK" --trail 3 0x41 "$TMP/arch.spec" "$TMP/trail2.img" >/dev/null
run 0 "other bytes after the image: warning" romfs --format json "$TMP/trail2.img"
expect_eq "romfs-trailing-data" "$(jq -r '[.findings[].id] | join(",")' "$OUT")" "romfs-trailing-data"

# --output
run 0 "--output writes the file" romfs --format json -o "$TMP/report.json" "$TMP/tree.img"
check "--output file is the JSON report" cmp -s "$TMP/report.json" "$TMP/tree.json"

# --- bad images: exit 2, the file named, the problem said ----------------------------
bad() { # bad NAME FILE MESSAGE
  run 2 "$1 exits 2" romfs "$2"
  expect_err "$1: file and problem named" "$2: $3"
}
HDR='\322\315\061\200\047'
A='\005\021\005a.txt\002\011012345678'
LIB='\004\022\003lib\005\014\005b.dat\002\004abcd'
printf "$HDR$A$LIB" >"$TMP/good44.img"
run 0 "the 44-byte mpremote example reads" romfs --format json "$TMP/good44.img"
expect_eq "44-byte example: size, payload, data, overhead" \
  "$(jq -r '.romfs | "\(.image_size) \(.payload_size) \(.totals.data) \(.totals.overhead)"' "$OUT")" "44 39 13 26"

: >"$TMP/empty.img"
bad "empty file" "$TMP/empty.img" "empty file"
printf '\322\315\062\200\047' >"$TMP/magic.img"
bad "bad magic" "$TMP/magic.img" "not a ROMFS image (starts with D2 CD 32, expected the magic D2 CD 31)"
printf '\322\315\061\200' >"$TMP/trunclen.img"
bad "truncated length varint" "$TMP/trunclen.img" "filesystem length varint after the magic is truncated"
head -c 30 "$TMP/good44.img" >"$TMP/short.img"
bad "payload past the end" "$TMP/short.img" "filesystem payload of 39 bytes runs past the end of the file (25 bytes after the 5-byte header)"
printf "$HDR$A"'\004\022\003lib\005\024\005b.dat\002\004abcd' >"$TMP/parent.img"
bad "record past its parent" "$TMP/parent.img" "record at offset 0x1e (kind 5): length 20 runs past the end of its directory record (12 bytes left)"
printf "$HDR"'\005\021\077a.txt\002\011012345678'"$LIB" >"$TMP/name.img"
bad "name past the record" "$TMP/name.img" "record at offset 0x5: name of 63 bytes runs past the end of the record (16 bytes left)"
printf '\322\315\061\016\005\014\001l\003\010\200\200\200\004\377\377\377\177' >"$TMP/indirect.img"
bad "indirect offset past the payload" "$TMP/indirect.img" "indirect data record at offset 0x8 (file /l): 4 bytes at payload offset 268435455 lie past the filesystem payload (14 bytes)"
printf '\322\315\061\016\005\014\001l\003\010\200\200\200\004\200\200\200\000' >"$TMP/indirect-ok.img"
run 0 "indirect offset inside the payload reads" romfs --format json "$TMP/indirect-ok.img"
expect_eq "indirect file: size 4 at image offset 4" "$(jq -r '.romfs.entries[0] | "\(.storage) \(.size) \(.data_offset)"' "$OUT")" "indirect 4 4"
printf "$HDR"'\000\021\005a.txt\002\011012345678'"$LIB" >"$TMP/kind0.img"
bad "kind 0 record" "$TMP/kind0.img" "record at offset 0x5 has kind 0 (unused): the image is corrupt"
i=0; : >"$TMP/deep.spec"
while [ $i -lt 100 ]; do echo "dir d" >>"$TMP/deep.spec"; i=$((i + 1)); done
echo "file f 1" >>"$TMP/deep.spec"
i=0; while [ $i -lt 100 ]; do echo "end" >>"$TMP/deep.spec"; i=$((i + 1)); done
"$MK" "$TMP/deep.spec" "$TMP/deep.img" >"$TMP/deep.manifest"
d65=$(awk '$1 == "dir" { n++; if (n == 65) printf "0x%x", $3 }' "$TMP/deep.manifest")
bad "100-deep nesting" "$TMP/deep.img" "directory at offset $d65 is nested more than 64 levels deep (limit)"
head -c 5000 "$FLASHSIZE" >"$TMP/random.img"
bad "arbitrary bytes (an ELF)" "$TMP/random.img" "not a ROMFS image (starts with 7F 45 4C"
bad "missing file" "$TMP/none.img" "cannot open"
run 2 "--output on a bad image" romfs -o "$TMP/bad.json" "$TMP/kind0.img"
check "--output leaves no file on failure" test ! -e "$TMP/bad.json"
run 2 "bad firmware ELF is named" romfs --firmware "$TMP/good44.img" "$TMP/tree.img"
expect_err "bad firmware: file named" "$TMP/good44.img:"

# every prefix of a valid image: exit 2, never a crash
crashed=0
n=$(wc -c <"$TMP/good44.img")
cut=0
while [ $cut -lt "$n" ]; do
  head -c $cut "$TMP/good44.img" >"$TMP/cut.img"
  "$FLASHSIZE" romfs "$TMP/cut.img" >/dev/null 2>&1
  st=$?
  [ "$st" -eq 2 ] || { crashed=1; echo "# cut at $cut: exit $st"; }
  cut=$((cut + 1))
done
expect_eq "all 44 proper prefixes of the example exit 2" "$crashed" 0
finish
