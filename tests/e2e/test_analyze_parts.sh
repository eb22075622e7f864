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
expect_out "map alone: irom0 overflow has the ELF's id" "ERROR irom0-overflow: .irom0.text is"
expect_out "map alone: the remedy names the frozen content" "Your frozen modules (frozen_content.o, "
run 1 "map alone, JSON" analyze --map $S/esp8266-irom0-overflow.map --format json
check "map alone, JSON: flashsize-map document" jq -e '.schema == "flashsize-map"' "$OUT"
check "map alone, JSON: owners' rows + other = each region's used" \
  jq -e '[.owners[] | ([.rows[].bytes] | add) + .other == .used] | all' "$OUT"
expect_eq "map alone, JSON: frozen_content.o is the frozen owner's row" \
  "$(jq -r '[.owners[] | select(.region == "irom0_0_seg") | .rows[] | select(.owner == "frozen") | .group] | join(",")' "$OUT")" \
  "frozen_content.o"
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
strlen_nm=$(xtensa-lx106-elf-nm -S $F/esp8266-rom.elf | awk '$4 == "strlen" { print $2 }')
expect_eq "rom-duplicate memcpy bytes equal nm -S" \
  "$(jq '.rom.duplicates[] | select(.name == "memcpy") | .size' "$OUT")" "$((0x$memcpy_nm))"
expect_eq "no map: one info finding of unknown origin, memcpy + strlen" \
  "$(jq -c '[.findings[] | select(.id == "rom-duplicate") | [.severity, .numbers.bytes, .numbers.copies]]' "$OUT")" \
  "[[\"info\",$((0x$memcpy_nm + 0x$strlen_nm)),2]]"

# --- rom-duplicate by owner: an SDK-named archive is info, a user C module a
# warning, known from the link's map.  Beside an ESP8266 ELF, firmware.map is
# not parsed (the ELF's linker symbols give the regions): --map is needed.
mkdir -p "$TMP/sdkdup"
cp $F/esp8266-sdkdup.elf "$TMP/sdkdup/firmware.elf"
cp $F/esp8266-sdkdup.map "$TMP/sdkdup/firmware.map"
sd_memcpy=$(xtensa-lx106-elf-nm -S $F/esp8266-sdkdup.elf | awk '$4 == "memcpy" { print $2 }')
sd_strlen=$(xtensa-lx106-elf-nm -S $F/esp8266-sdkdup.elf | awk '$4 == "strlen" { print $2 }')
run 0 "ESP8266 with firmware.map beside: not read" analyze --format json "$TMP/sdkdup/firmware.elf"
expect_eq "the ELF's linker symbols give the regions" "$(jq -r .regions_source.kind "$OUT")" "elf"
expect_eq "without the map: one info finding of unknown origin, memcpy + strlen" \
  "$(jq -c '[.findings[] | select(.id == "rom-duplicate") | [.severity, .subject, .numbers.bytes]]' "$OUT")" \
  "[[\"info\",\"origin unknown\",$((0x$sd_memcpy + 0x$sd_strlen))]]"
run 0 "SDK and user copies of ROM functions, with --map" analyze --format json --map "$TMP/sdkdup/firmware.map" \
  "$TMP/sdkdup/firmware.elf"
expect_eq "--map gives the regions" "$(jq -r .regions_source.kind "$OUT")" "map"
expect_eq "SDK archive libmain.a: one info finding with memcpy's bytes" \
  "$(jq -r '[.findings[] | select(.id == "rom-duplicate" and .severity == "info") | "\(.subject) \(.numbers.bytes) \(.numbers.copies)"] | join(",")' "$OUT")" \
  "build/sdk/libmain.a $((0x$sd_memcpy)) 1"
expect_eq "user C module: a warning with strlen's bytes" \
  "$(jq -r '[.findings[] | select(.id == "rom-duplicate" and .severity == "warning") | "\(.subject) \(.numbers.bytes)"] | join(",")' "$OUT")" \
  "build/obj/esp8266-sdkdup/../usermod/strlen.o $((0x$sd_strlen))"
expect_eq "owners: libmain.a is the SDK's" \
  "$(jq -r '[.owners[] | .rows[] | select(.group == "libmain.a") | .owner] | unique | join(",")' "$OUT")" "sdk"

# --- an ARM image with its map and no board: the map's regions, ld's figures
mkdir -p "$TMP/arm"
cp $S/cortex-m4.elf "$TMP/arm/firmware.elf"
cp $S/cortex-m4.map "$TMP/arm/firmware.map"
run 0 "ARM image, map beside, no board" analyze --format json "$TMP/arm/firmware.elf"
expect_eq "ARM: regions named as in the map's Memory Configuration" "$(jq -r '[.regions[].name] | join(" ")' "$OUT")" \
  "$(awk '/^Memory Configuration/ { on = 1; next } /^Linker script/ { on = 0 } on && $2 ~ /^0x/ && $1 != "*default*" { printf "%s%s", sep, $1; sep = " " }' $S/cortex-m4.map)"
expect_eq "ARM: used bytes = ld --print-memory-usage" "$(jq -r '[.regions[] | "\(.name) \(.used)"] | join(",")' "$OUT")" \
  "$(awk '$1 ~ /:$/ { sub(":", "", $1); printf "%s%s %s", sep, $1, $2; sep = "," }' $S/cortex-m4.memusage)"
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
# --- a frozen module of bytes constants on a ROMFS board (frozen-data-module)
FR=$F/esp8266-frozen-romfs
run 0 "frozen font on a ROMFS board" analyze --format json $FR.elf
fd_data=$(awk '$1 == "data" && $2 == "font.py" { print $3 }' $FR.sizes)
fd_bytes=$(awk '$1 == "module" && $2 == "font.py" { print $3 }' $FR.sizes)
fd_romfs=$(xtensa-lx106-elf-nm $FR.elf | awk '$3 == "_micropy_hw_romfs_part0_size" { print $1 }')
expect_eq "frozen-data-module: font.py only, with the generator's data bytes and the partition's size" \
  "$(jq -c '[.findings[] | select(.id == "frozen-data-module") | [.severity, .subject, .numbers.bytes, .numbers.data, .numbers.irom0_freed, .numbers.window_freed, .numbers.romfs_size]]' "$OUT")" \
  "[[\"info\",\"font.py\",$fd_bytes,$fd_data,$fd_data,0,$((0x$fd_romfs))]]"
expect_eq "frozen data per module = the generator's" \
  "$(jq -r '[.frozen.modules[] | "\(.name) \(.data)"] | sort | join(",")' "$OUT")" \
  "$(awk '$1 == "data" { print $2, $3 }' $FR.sizes | sort | paste -sd, -)"
run 0 "frozen font: text says where the data could live" analyze $FR.elf
expect_out "text names the ROMFS partition" "could live in this board's ROMFS partition ($((0x$fd_romfs)) bytes"

# --- every byte accounted for: on every sample, with and without its map
bad=""
for elf in $S/*.elf $F/*.elf samples/literals/build/*.elf samples/refgraph/build/*.elf; do
  for withmap in no yes; do
    map=${elf%.elf}.map
    if [ $withmap = yes ]; then [ -f "$map" ] || continue; set -- --map "$map"; else set --; fi
    "$FLASHSIZE" analyze --format json "$@" "$elf" >"$TMP/acct.json" 2>/dev/null
    jq -e '(.accounting | length) == ([.sections[] | select((.flags | contains("A")) and .size > 0 and (.flags | contains("T") | not))] | length)
           and (.accounting | all(.symbols + .literal_pools + .string_literals + .object_data + .padding + .unattributed == .size))
           and (.accounting | all(.literal_shared <= .literal_loaded and .literal_loaded <= .literal_pools))
           and ([.accounting[] | {(.section): .size}] | add // {}) == ([.sections[] | select((.flags | contains("A")) and .size > 0 and (.flags | contains("T") | not)) | {(.name): .size}] | add // {})' \
      "$TMP/acct.json" >/dev/null 2>&1 || bad="$bad $elf($withmap)"
  done
done
expect_eq "accounting: the labels add up to each section's size on every sample" "$bad" ""
# symbols = the union of nm -S's ranges inside .irom0.text (aliases once)
run 0 "accounting of the frozen ROMFS sample" analyze --format json $FR.elf
irom=$(xtensa-lx106-elf-readelf -SW $FR.elf | awk '{ for (i = 1; i <= NF; i++) if ($i == ".irom0.text") print $(i + 2), $(i + 4) }')
lo=$((0x${irom% *})); hi=$((lo + 0x${irom#* }))
union=$(xtensa-lx106-elf-nm -S --defined-only $FR.elf | while read -r a z _t _n; do
  [ -n "$_n" ] || continue
  a=$((0x$a)); e=$((a + 0x$z)); [ $a -lt $lo ] && a=$lo; [ $e -gt $hi ] && e=$hi; [ $a -lt $e ] && echo "$a $e"
done | sort -n | awk '{ if ($1 > cur) cur = $1; if ($2 > cur) { n += $2 - cur; cur = $2 } } END { print n + 0 }')
expect_eq "accounting: .irom0.text symbols = union of nm -S ranges" \
  "$(jq '.accounting[] | select(.section == ".irom0.text") | .symbols' "$OUT")" "$union"
run 0 "accounting with the map: strings from the map's .rodata.str input sections" analyze --format json --map $FR.map $FR.elf
check "with the map nothing in .irom0.text is unattributed" jq -e '.accounting[] | select(.section == ".irom0.text") | .unattributed == 0' "$OUT"

# --- a port's regions from its linker symbols (stm32's _ram_start/_ram_end
# and FLASH_FS bounds, as ports/stm32/boards/stm32f405.ld defines them): no
# map, no board.  Ground truth: ld --print-memory-usage of the same link.
mkdir -p "$TMP/stm"
printf 'int counter;\nint table[64] = {1};\nvoid Reset_Handler(void) { for (;;) counter += table[counter & 63]; }\n' >"$TMP/stm/main.c"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -nostdlib -T samples/ld/cortex_m4.ld \
  -Wl,--defsym,_ram_start=0x20000000 -Wl,--defsym,_ram_end=0x20020000 \
  -Wl,--defsym,_micropy_hw_internal_flash_storage_start=0x08004000 \
  -Wl,--defsym,_micropy_hw_internal_flash_storage_end=0x08020000 \
  -Wl,--print-memory-usage "$TMP/stm/main.c" -o "$TMP/stm/fw.elf" >"$TMP/stm/memusage" 2>&1
run 0 "stm32 symbols, no map, no board" analyze --format json "$TMP/stm/fw.elf"
expect_eq "stm32 symbols: RAM and FLASH_FS, named as stm32f405.ld names them" \
  "$(jq -r '[.regions[] | "\(.name) \(.origin) \(.length)"] | join(",")' "$OUT")" \
  "RAM $((0x20000000)) $((0x20000)),FLASH_FS $((0x08004000)) $((0x1c000))"
expect_eq "stm32 symbols: RAM used = ld --print-memory-usage" \
  "$(jq '.regions[] | select(.name == "RAM") | .used' "$OUT")" \
  "$(awk '$1 == "RAM:" { print $2 }' "$TMP/stm/memusage")"
check "stm32 symbols: no section-unplaced for the flash text (not pinned)" \
  jq -e '[.findings[] | select(.id == "section-unplaced")] | length == 0' "$OUT"

finish
