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

finish
