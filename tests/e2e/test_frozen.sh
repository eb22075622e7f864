#!/bin/sh
# CLI behaviour of `flashsize frozen` and `flashsize rom`: per-module bytes
# against the generator's sidecar (samples/frozen/build/NAME.sizes), ROM
# duplicates against the toolchain's `nm -S`, exit codes and bad input.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
F=samples/frozen/build

# --- frozen: bytes per module equal the generator's -------------------------
for s in esp8266-frozen esp8266-frozen-v122 cortex-m4-frozen; do
  run 0 "$s: json" frozen --format json $F/$s.elf
  got=$(jq -r '.modules[] | "\(.kind) \(.name) \(.bytes)"' "$OUT" | sed 's/^mpy /module /' | sort)
  want=$(grep -E '^(module|str) ' $F/$s.sizes | sort)
  expect_eq "$s: every module's bytes equal the sidecar" "$got" "$want"
  got=$(jq -r '.shared[] | select(.name != "mp_frozen_mpy_content") | "shared \(.name) \(.bytes)"' "$OUT" | sort)
  want=$(grep '^shared ' $F/$s.sizes | sort)
  expect_eq "$s: every shared part equals the sidecar" "$got" "$want"
  expect_eq "$s: total equals the sidecar" "$(jq .total "$OUT")" "$(awk '$1 == "total" { print $2 }' $F/$s.sizes)"
  expect_eq "$s: modules + shared + unattributed = total" \
    "$(jq '.modules_bytes + .shared_bytes + .unattributed' "$OUT")" "$(jq .total "$OUT")"
  expect_eq "$s: pointer walk" "$(jq -r .method "$OUT")" "walk"
done
run 0 "v1.19-v1.22 naming recognised" frozen --format json $F/esp8266-frozen-v122.elf
expect_eq "naming raw_code" "$(jq -r .naming "$OUT")" "raw_code"

# --- frozen-in-iram: the native function's size from nm -S ------------------
native=$(xtensa-lx106-elf-nm -S $F/esp8266-frozen.elf | awk '$4 == "fun_data_pkg_sensor_util_read" { print $2 }')
run 0 "IRAM warning does not fail the run" frozen --format json $F/esp8266-frozen.elf
expect_eq "frozen-in-iram bytes = nm -S size" "$(jq '.findings[] | select(.id == "frozen-in-iram") | .bytes' "$OUT")" \
  "$((0x$native))"
irom=$(xtensa-lx106-elf-readelf -SW $F/esp8266-frozen.elf | awk '{ for (i = 1; i < NF; i++) if ($i == ".irom0.text") print $(i + 4) }')
expect_eq "irom0 size = readelf" "$(jq .irom0_size "$OUT")" "$((0x$irom))"
run 0 "text output" frozen $F/esp8266-frozen.elf
expect_out "text names the module in IRAM" "warning [frozen-in-iram] pkg/sensor_util.py: $((0x$native)) bytes"
expect_out "text prints the invariant" "unattributed 0 (0 symbols) = total"
run 0 "no IRAM on Cortex-M" frozen --format json $F/cortex-m4-frozen.elf
expect_eq "no findings on Cortex-M" "$(jq '.findings | length' "$OUT")" "0"

# --- -o, usage, bad input -----------------------------------------------------
run 0 "-o writes the file" frozen --format json -o "$TMP/fz.json" $F/esp8266-frozen.elf
check "-o file is the JSON document" jq -e '.schema == "flashsize-frozen" and .schema_version == 1' "$TMP/fz.json"
run 0 "frozen --help" frozen --help
run 2 "frozen without a file" frozen
run 2 "frozen unknown format" frozen --format csv $F/esp8266-frozen.elf
expect_err "unknown format is named" "unknown format 'csv'"
run 2 "frozen missing file" frozen "$TMP/none.elf"
expect_err "missing file is named" "$TMP/none.elf: cannot open"
xtensa-lx106-elf-strip -o "$TMP/stripped.elf" $F/esp8266-frozen.elf
run 2 "stripped firmware" frozen "$TMP/stripped.elf"
expect_err "stripped: named, with the problem" "$TMP/stripped.elf: no symbol table"
crashed=0
size=$(wc -c <$F/esp8266-frozen.elf)
for cut in 1 52 100 4096 8192 9000 $((size - 500)) $((size - 1)); do
  head -c "$cut" $F/esp8266-frozen.elf >"$TMP/cut.elf"
  "$FLASHSIZE" frozen "$TMP/cut.elf" >/dev/null 2>"$TMP/cut.err"
  st=$?
  [ "$st" -eq 2 ] && grep -qF "$TMP/cut.elf" "$TMP/cut.err" || { crashed=1; echo "# cut at $cut: exit $st"; }
done
expect_eq "truncated firmwares exit 2 naming the file" "$crashed" 0
run 0 "firmware without frozen content" frozen --format json samples/frozen/build/esp8266-rom.elf
expect_eq "present false" "$(jq .present "$OUT")" "false"

# --- rom: used and duplicated ROM functions, sizes from nm -S -----------------
run 0 "rom: ESP8266 default table" rom --format json $F/esp8266-rom.elf
expect_eq "rom: default table is rules/rom/esp8266.ld" "$(jq -r .rom_table "$OUT")" "$FLASHSIZE_RULES/rom/esp8266.ld"
expect_eq "rom: used = the ABS symbols the code calls" "$(jq -r '[.used[].name] | join(" ")' "$OUT")" \
  "$(xtensa-lx106-elf-nm $F/esp8266-rom.elf | awk '$2 == "A" && ($3 == "memset" || $3 ~ /^__u(div|mod)si3$/) { print $3 }' | sort | tr '\n' ' ' | sed 's/ $//')"
want=$(xtensa-lx106-elf-nm -S $F/esp8266-rom.elf | awk '$4 == "memcpy" || $4 == "strlen" { print $4, $2 }' | sort |
       while read -r n s; do echo "$n $((0x$s))"; done)
expect_eq "rom-duplicate sizes = nm -S" "$(jq -r '.duplicates[] | "\(.name) \(.size)"' "$OUT" | sort)" "$want"
run 2 "rom: no table known for ARM" rom samples/frozen/build/cortex-m0-romdup.elf
expect_err "rom: asks for --rom" "give one with --rom FILE"
run 0 "rom: --rom and --map on a Cortex-M0" rom --format json --rom rules/rom/esp8266.ld --map $F/cortex-m0-romdup.map $F/cortex-m0-romdup.elf
udiv=$(arm-none-eabi-nm -S $F/cortex-m0-romdup.elf | awk '$4 == "__udivsi3" { print $2 }')
expect_eq "libgcc __udivsi3 size = nm -S" "$(jq '.duplicates[] | select(.name == "__udivsi3") | .size' "$OUT")" "$((0x$udiv))"
expect_eq "libgcc __udivsi3 object from the map" \
  "$(jq -r '.duplicates[] | select(.name == "__udivsi3") | .object' "$OUT" | sed 's|.*/||')" "libgcc.a(_udivsi3.o)"
run 0 "rom: text output" rom $F/esp8266-rom.elf
expect_out "rom text shows the duplicate (origin unknown: info)" "info [rom-duplicate] memcpy"
run 2 "rom: missing table" rom --rom "$TMP/none.ld" $F/esp8266-rom.elf
expect_err "rom: missing table is named" "$TMP/none.ld"
printf 'PROVIDE ( memcpy = 0x4000df48 );\nthis is not ld\n' >"$TMP/bad.ld"
run 2 "rom: malformed table" rom --rom "$TMP/bad.ld" $F/esp8266-rom.elf
expect_err "rom: malformed table names file:line" "$TMP/bad.ld:2"
run 2 "rom: missing map" rom --map "$TMP/none.map" $F/esp8266-rom.elf
expect_err "rom: missing map is named" "$TMP/none.map"
head -c 3000 $F/esp8266-rom.elf >"$TMP/rcut.elf"
run 2 "rom: truncated firmware" rom "$TMP/rcut.elf"
expect_err "rom: truncated firmware is named" "$TMP/rcut.elf"
run 2 "rom: stripped firmware" rom "$TMP/stripped.elf"
expect_err "rom: stripped named" "$TMP/stripped.elf: no symbol table"
run 2 "rom without a file" rom

finish
