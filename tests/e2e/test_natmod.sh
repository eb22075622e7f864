#!/bin/sh
# CLI behaviour of `flashsize natmod`: figures against the packer's sidecar
# (samples/natmod/build/NAME.sidecar), ROM inference, JSON, bad input (exit 2).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/natmod/build
side() { awk -v k="$2" '$1==k{print $2}' "$S/$1.sidecar"; }

run 0 "natmod --help" natmod --help
run 2 "natmod without a file" natmod
run 2 "natmod unknown format" natmod --format csv $S/xtensa-ownmem.mpy

for m in xtensa-ownmem xtensa-libs armv7m-libs; do
  run 0 "$m: json" natmod --format json $S/$m.mpy
  expect_eq "$m: schema" "$(jq -r '.schema + " " + (.schema_version|tostring)' "$OUT")" "flashsize-natmod 1"
  expect_eq "$m: text_size = sidecar" "$(jq .text_size "$OUT")" "$(side $m text_size)"
  expect_eq "$m: bss_size = sidecar" "$(jq .bss_size "$OUT")" "$(side $m bss_size)"
  expect_eq "$m: file_size = sidecar" "$(jq .file_size "$OUT")" "$(side $m file_size)"
  expect_eq "$m: relocations = sidecar" "$(jq -r '.relocations[] | "reloc 0 \(.word) \(.count) \(.kind)"' "$OUT")" \
    "$(grep '^reloc' $S/$m.sidecar)"
  expect_eq "$m: ROM references = sidecar" \
    "$(jq -r '.rom_references.items[] | "rom \(.word) \(.address) \(.name)"' "$OUT")" \
    "$(grep '^rom ' $S/$m.sidecar | while read -r r w a n; do printf 'rom %s %d %s\n' "$w" "$a" "$n"; done)"
done
expect_eq "xtensa-ownmem: strlen at 0x4000bf4c" \
  "$("$FLASHSIZE" natmod --format json $S/xtensa-ownmem.mpy | jq -r '.rom_references.items[0] | "\(.name) \(.address)"')" \
  "strlen $((0x4000bf4c))"
run 0 "text output" natmod $S/xtensa-libs.mpy
expect_out "text names memcpy in ROM" "0x4000df48 memcpy"
expect_out "text says inferred" "inferred"
run 0 "--no-rom" natmod --no-rom --format json $S/xtensa-libs.mpy
expect_eq "--no-rom: nothing inferred" "$(jq '.rom_references.inferred' "$OUT")" "false"
run 2 "missing --rom file" natmod --rom /nonexistent/rom.ld $S/xtensa-libs.mpy
expect_err "missing ROM table is named" "/nonexistent/rom.ld: cannot open"

# --- bad input ---------------------------------------------------------------
run 2 "missing file" natmod "$TMP/none.mpy"
expect_err "missing file is named" "$TMP/none.mpy: cannot open"
printf 'C\006\047\037' >"$TMP/magic.mpy"
run 2 "bad magic" natmod "$TMP/magic.mpy"
expect_err "bad magic: named" "$TMP/magic.mpy: not a .mpy file (bad magic 0x43)"
printf 'M\005\047\037\001\000' >"$TMP/v5.mpy"
run 2 "version 5" natmod "$TMP/v5.mpy"
expect_err "version 5: named" "$TMP/v5.mpy: offset 0x1: unsupported .mpy version 5"
printf 'M\006\000\037\000\000\000' >"$TMP/bc.mpy"
run 2 "bytecode only" natmod "$TMP/bc.mpy"
expect_err "bytecode only: no native module" "$TMP/bc.mpy: no native module inside"
bad=0
size=$(wc -c <$S/xtensa-ownmem.mpy)
i=0
while [ $i -lt "$size" ]; do
  head -c $i $S/xtensa-ownmem.mpy >"$TMP/cut.mpy"
  "$FLASHSIZE" natmod "$TMP/cut.mpy" >/dev/null 2>"$TMP/cut.err"
  st=$?
  if [ $st -ne 2 ] || ! grep -q "$TMP/cut.mpy" "$TMP/cut.err"; then bad=$((bad + 1)); echo "# cut $i: exit $st"; fi
  i=$((i + 1))
done
expect_eq "every truncation of a natmod exits 2 naming the file" "$bad" 0
finish
