#!/bin/sh
# `flashsize analyze` with its optional parts: frozen modules (automatic),
# --map (with an ELF, and alone for a failed link) and --romfs.  Ground
# truth: ld's own overflow message (.ldlog), the frozen generator's sidecar
# (.sizes), and the test ROMFS writer's manifest.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
F=samples/frozen/build

# --- a failed link: the map alone --------------------------------------------
run 1 "map of a failed link: exit 1" analyze --map $S/esp8266-irom0-overflow.map
over=$(sed -n 's/.*overflowed by \([0-9]*\) bytes.*/\1/p' $S/esp8266-irom0-overflow.ldlog)
expect_out "map alone: ld's overflow figure ($over)" "overflowed by $over bytes"
expect_out "map alone: largest contributor named" "frozen_content.o"
run 1 "map alone, JSON" analyze --map $S/esp8266-irom0-overflow.map --format json
check "map alone, JSON: flashsize-map document" jq -e '.schema == "flashsize-map"' "$OUT"
run 0 "map of a good link alone: exit 0" analyze --map $S/esp8266-fits.map
run 2 "map alone with --romfs is a usage error" analyze --map $S/esp8266-fits.map --romfs x.img
run 2 "missing map" analyze --map "$TMP/none.map"
expect_err "missing map is named" "$TMP/none.map"

# --- ELF + map: the map's sections reconcile with the ELF ---------------------
run 0 "ELF with its map" analyze --format json --map $S/esp8266-fits.map $S/esp8266-fits.elf
check "no map-elf-mismatch" jq -e '[.findings[] | select(.id == "map-elf-mismatch")] | length == 0' "$OUT"
irom_map=$(jq '.map.sections[] | select(.name == ".irom0.text") | .size' "$OUT")
irom_elf=$(jq '.sections[] | select(.name == ".irom0.text") | .size' "$OUT")
expect_eq "map and ELF agree on .irom0.text" "$irom_map" "$irom_elf"
run 0 "ELF with map, text" analyze --map $S/esp8266-fits.map $S/esp8266-fits.elf
expect_out "text shows objects in IRAM" "Objects in region iram1_0_seg"

# --- frozen modules, automatically --------------------------------------------
run 0 "frozen firmware" analyze --format json $F/esp8266-frozen.elf
check "frozen section present" jq -e '.frozen.schema == "flashsize-frozen"' "$OUT"
check "frozen rows reconcile" jq -e '.frozen.totals.modules + .frozen.totals.shared + .frozen.totals.unattributed == .frozen.totals.total' "$OUT"
run 0 "no frozen content: frozen is null" analyze --format json $S/cortex-m4.elf
check "frozen null without frozen content" jq -e '.frozen == null' "$OUT"

# --- ROM functions: the chip's table by default ------------------------------
run 0 "ROM use on an ESP8266 firmware" analyze --format json $F/esp8266-rom.elf
check "rom section uses the project's ESP8266 table" jq -e '.rom.schema == "flashsize-rom"' "$OUT"
memcpy_nm=$(xtensa-lx106-elf-nm -S $F/esp8266-rom.elf | awk '$4 == "memcpy" { print $2 }')
expect_eq "rom-duplicate memcpy bytes equal nm -S" \
  "$(jq '[.findings[] | select(.id == "rom-duplicate" and .subject == "memcpy") | .numbers.bytes] | .[0]' "$OUT")" \
  "$((0x$memcpy_nm))"
run 0 "no ROM table for Cortex-M without --rom" analyze --format json --ld samples/ld/cortex_m4.ld $S/cortex-m4.elf
check "rom null without a table" jq -e '.rom == null' "$OUT"
run 2 "--rom with a missing table" analyze --rom "$TMP/none.ld" $S/esp8266-fits.elf
expect_err "missing ROM table is named" "$TMP/none.ld"

# --- ROMFS image against the firmware's partition ------------------------------
MK="$(dirname "$FLASHSIZE")/tools/mkromfs"
cat >"$TMP/small.spec" <<'SPEC'
file boot.py 1000
dir lib
  file big.bin 40000
end
SPEC
"$MK" "$TMP/small.spec" "$TMP/small.img" >"$TMP/small.manifest"
img=$(awk '$1 == "image" { print $2 }' "$TMP/small.manifest")
run 0 "--romfs that fits" analyze --format json --romfs "$TMP/small.img" $S/esp8266-romfs.elf
expect_eq "romfs image size from the writer" "$(jq '.romfs.image_size' "$OUT")" "$img"
check "romfs partition from the ELF symbols" jq -e '.romfs.partition.source == "firmware" and .romfs.partition.start == 1076559872 and .romfs.partition.size == 327680' "$OUT"
expect_eq "romfs free = partition - image" "$(jq '.romfs.partition.free' "$OUT")" "$((327680 - img))"
cat >"$TMP/huge.spec" <<'SPEC'
file huge.bin 400000
SPEC
"$MK" "$TMP/huge.spec" "$TMP/huge.img" >/dev/null
run 1 "--romfs larger than the partition: exit 1" analyze --romfs "$TMP/huge.img" $S/esp8266-romfs.elf
expect_out "romfs-full reported" "romfs-full"
printf 'garbage' >"$TMP/bad.img"
run 2 "--romfs with a bad image" analyze --romfs "$TMP/bad.img" $S/esp8266-romfs.elf
expect_err "bad image is named" "$TMP/bad.img"
# --- analyze --db: record the build as it is analyzed --------------------------
DB="$TMP/sizes.db"
run 0 "analyze --db records" analyze --db "$DB" --project mpy --board esp8266-2m --commit aaa1 --branch main $S/esp8266-fits.elf
expect_err "the recorded build is named" "recorded build 1"
run 0 "a second build" analyze --db "$DB" --project mpy --board esp8266-2m --commit aaa2 --parent aaa1 --branch main $S/esp8266-nearfull.elf
run 0 "re-recording the same commit is idempotent" analyze --db "$DB" --project mpy --board esp8266-2m --commit aaa2 --branch main $S/esp8266-nearfull.elf
expect_eq "two builds stored" "$(sqlite3 "$DB" 'SELECT count(*) FROM builds')" 2
run 0 "history of the recorded builds" history --db "$DB" --board esp8266-2m --format json
a=$(xtensa-lx106-elf-size -A $S/esp8266-fits.elf | awk '$1 == ".irom0.text" { print $2 }')
b=$(xtensa-lx106-elf-size -A $S/esp8266-nearfull.elf | awk '$1 == ".irom0.text" { print $2 }')
run 0 "diff of the stored builds" diff commit:aaa1 commit:aaa2 --db "$DB" --format json
check "stored diff: irom0 delta equals size -A" jq -e --argjson d "$((b - a))" '[.. | objects | select(.name? == "irom0_0_seg") | .delta?] | index($d) != null' "$OUT"
run 2 "--db without --commit" analyze --db "$DB" --project mpy --board esp8266-2m $S/esp8266-fits.elf
expect_err "says what recording needs" "needs --project, --commit and --board"
expect_eq "nothing stored by the refused run" "$(sqlite3 "$DB" 'SELECT count(*) FROM builds')" 2
finish
