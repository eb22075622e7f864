#!/bin/sh
# CLI behaviour of `flashsize map`: exit codes (0 fits, 1 a region overflowed,
# 2 bad input or usage), the overflow ld reported, text and JSON output, and
# bad input files (exit 2 with a message naming the file).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build

# --- usage -----------------------------------------------------------------
run 0 "map --help" map --help
expect_out "--help names the command" "flashsize map"
run 2 "map without a file" map
run 2 "map with two files" map $S/esp8266-fits.map $S/esp8266-fits.map
run 2 "map: unknown format" map --format csv $S/esp8266-fits.map
expect_err "map: unknown format is named" "unknown format 'csv'"
run 2 "map: bad --top" map --top x $S/esp8266-fits.map

# --- a link that fits, a link that failed ------------------------------------
run 0 "fitting link exits 0" map $S/esp8266-fits.map
expect_out "text lists the IRAM objects" "Objects in region iram1_0_seg"
run 1 "failed link exits 1" map $S/esp8266-irom0-overflow.map
ld_over=$(sed -n "s/.*region \`irom0_0_seg' overflowed by \([0-9]*\) bytes.*/\1/p" $S/esp8266-irom0-overflow.ldlog)
expect_eq "ld reported the overflow" "${ld_over:-none}" 28672
expect_out "text gives ld's overflow" "OVERFLOW: region irom0_0_seg overflowed by $ld_over bytes"
run 1 "json of the failed link" map --format json $S/esp8266-irom0-overflow.map
check "json: schema flashsize-map v1" jq -e '.schema == "flashsize-map" and .schema_version == 1' "$OUT"
expect_eq "json: overflow equals ld's" "$(jq '.overflows[0].over' "$OUT")" "$ld_over"
expect_eq "json: largest contributor to irom0" \
  "$(jq -r '.regions[] | select(.name == "irom0_0_seg") | .objects[0].name' "$OUT")" \
  "build/obj/xtensa/esp8266-irom0-overflow/frozen/frozen_content.o"
expect_eq "json: every section adds up (inputs + fill + unattributed == size)" \
  "$(jq '[.sections[] | select(.input_bytes + .fill + .unattributed != .size)] | length' "$OUT")" 0
expect_eq "json: .irom0.text size equals size -A" \
  "$(jq '.sections[] | select(.name == ".irom0.text") | .size' "$OUT")" \
  "$(xtensa-lx106-elf-size -A $S/esp8266-irom0-overflow.elf | awk '$1 == ".irom0.text" { print $2 }')"
run 1 "--top 2 limits the lists" map --format json --top 2 $S/esp8266-irom0-overflow.map
expect_eq "json: two objects listed" "$(jq '.sections[0].objects | length' "$OUT")" 2
run 0 "-o writes the report" map --format json -o "$TMP/map.json" $S/cortex-m4.map
check "-o file is JSON" jq -e '.regions | length == 2' "$TMP/map.json"
expect_eq "cortex-m4 FLASH used equals ld's (cortex-m4.memusage)" "$(jq '.regions[0].used' "$TMP/map.json")" \
  "$(memusage cortex-m4 FLASH used)"

# --- bad input -----------------------------------------------------------------
: >"$TMP/empty.map"
run 2 "empty map" map "$TMP/empty.map"
expect_err "empty map: named, with the problem" "$TMP/empty.map: empty file"
printf 'just some text\n' >"$TMP/text.map"
run 2 "not a map" map "$TMP/text.map"
expect_err "not a map: named" "$TMP/text.map: not a GNU ld map file"
head -c 30000 $S/cortex-m4.map >"$TMP/cut.map"
run 2 "truncated mid-line" map "$TMP/cut.map"
expect_err "truncated: named" "$TMP/cut.map:"
head -c 4096 $S/esp8266-fits.elf >"$TMP/bin.map"
run 2 "binary file" map "$TMP/bin.map"
expect_err "binary: named" "$TMP/bin.map:"
head -c 1048576 /dev/zero | tr '\0' 'x' >"$TMP/long.map"
echo >>"$TMP/long.map"
run 2 "a 1 MB line" map "$TMP/long.map"
expect_err "long line: named" "$TMP/long.map:1: line longer than"
run 2 "missing map" map "$TMP/none.map"
expect_err "missing map: named" "$TMP/none.map: cannot open"
run 2 "-o on bad input" map -o "$TMP/bad.txt" "$TMP/text.map"
check "-o leaves no file on failure" test ! -e "$TMP/bad.txt"
# every truncation of a real map: exit 0, 1 or 2, never a crash
crashed=0
size=$(wc -c <$S/esp8266-irom0-overflow.map)
for cut in 1 100 20000 80000 90000 200000 300000 $((size - 100)) $((size - 1)); do
  head -c "$cut" $S/esp8266-irom0-overflow.map >"$TMP/c.map"
  "$FLASHSIZE" map "$TMP/c.map" >/dev/null 2>&1
  st=$?
  [ "$st" -le 2 ] || { crashed=1; echo "# cut at $cut: exit $st"; }
done
expect_eq "nine truncations of a map never crash" "$crashed" 0
finish
