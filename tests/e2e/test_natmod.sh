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
  # words patched per destination: the sidecar's runs summed by kind (kind <
  # 6: text, rodata, bss by kind / 2; 6, 7, 8: qstr, obj and fun tables; 9
  # and up: a fun_table entry; docs/natmod.md)
  expect_eq "$m: reloc_words = the sidecar's run lengths per destination" \
    "$(jq -c '.reloc_words | [.text, .rodata, .bss, .qstr_table, .obj_table, .fun_table, .fun_table_entry]' "$OUT")" \
    "$(awk '$1 == "reloc" { k = $5; d = k < 6 ? int(k / 2) : k < 9 ? k - 3 : 6; w[d] += $4 }
      END { printf "[%d,%d,%d,%d,%d,%d,%d]\n", w[0], w[1], w[2], w[3], w[4], w[5], w[6] }' $S/$m.sidecar)"
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
# --- classification (--objs/--lib) ------------------------------------------
# Ground truth: nm -S of the objects, Berkeley size of archive members, the
# sidecar's ROM words, and the ROM table read with awk.
XL=$(xtensa-lx106-elf-gcc -print-libgcc-file-name)
X=$S/xtensa
romaddr() { awk -v n="$1" '{ s = $0; gsub(/[ \t();]|PROVIDE/, "", s); split(s, a, "="); if (a[1] == n) print a[2] }' rules/rom/esp8266.ld; }
membytes() { xtensa-lx106-elf-size "$1" | awk -v m="$2" '$6 == m { print $1 + $2 }'; }
nmsize() { xtensa-lx106-elf-nm -S "$1" | awk -v n="$2" 'NF == 4 && $4 == n { print $2 }'; }

run 0 "ownmem --objs: exit 0 (warnings only)" natmod --format json $S/xtensa-ownmem.mpy --objs $X/entry.o $X/ownmem.o
expect_eq "ownmem: schema unchanged" "$(jq -r '.schema + " " + (.schema_version|tostring)' "$OUT")" "flashsize-natmod 1"
expect_eq "ownmem: memcpy own, redundant, nm size wasted" \
  "$(jq -r '.classification.symbols[] | select(.name == "memcpy") | "\(.kind) \(.object) \(.redundant) \(.wasted) \(.rom_address)"' "$OUT")" \
  "own $X/ownmem.o true $((0x$(nmsize $X/ownmem.o memcpy))) $(($(romaddr memcpy)))"
expect_eq "ownmem: strlen from ROM at the sidecar's address" \
  "$(jq -r '.classification.symbols[] | select(.name == "strlen") | "\(.kind) \(.rom_address)"' "$OUT")" \
  "rom $(($(awk '$1 == "rom" && $4 == "strlen" { print $3 }' $S/xtensa-ownmem.sidecar)))"
expect_eq "ownmem: one natmod-redundant-copy warning" \
  "$(jq -r '[.findings[] | "\(.id) \(.severity) \(.subject) \(.numbers.wasted)"] | join(",")' "$OUT")" \
  "natmod-redundant-copy warning memcpy $((0x$(nmsize $X/ownmem.o memcpy)))"
expect_eq "ownmem: summary" "$(jq -r '.summary | "\(.errors) \(.warnings) \(.verdict)"' "$OUT")" "0 1 warnings"
expect_eq "ownmem: own bytes = Berkeley text+data of the objects" "$(jq .classification.totals.own_bytes "$OUT")" \
  "$(xtensa-lx106-elf-size $X/entry.o $X/ownmem.o | awk 'NR > 1 { t += $1 + $2 } END { print t }')"
# the objects' ROM names are the packer's ROM words
expect_eq "ownmem: ROM names = sidecar ROM words" \
  "$(jq -r '[.classification.symbols[] | select(.rom_address != null) | .rom_address] | sort | .[]' "$OUT")" \
  "$(awk '$1 == "rom" { printf "%d\n", $3 }' $S/xtensa-ownmem.sidecar | sort -n)"

run 0 "libs --objs --lib: exit 0" natmod --format json $S/xtensa-libs.mpy --objs $X/entry.o $X/libs.o \
  --lib $X/libmini.a --lib "$XL"
expect_eq "libs: __modsi3 from libgcc.a(_modsi3.o) with its size bytes" \
  "$(jq -r '.classification.symbols[] | select(.name == "__modsi3") | "\(.kind) \(.archive)(\(.member)) \(.bytes) \(.redundant)"' "$OUT")" \
  "library $XL(_modsi3.o) $(membytes "$XL" _modsi3.o) false"
expect_eq "libs: memcpy from libmini.a(memcpy.o), redundant, member bytes wasted" \
  "$(jq -r '.classification.symbols[] | select(.name == "memcpy") | "\(.kind) \(.archive)(\(.member)) \(.redundant) \(.wasted)"' "$OUT")" \
  "library $X/libmini.a(memcpy.o) true $(membytes $X/libmini.a memcpy.o)"
expect_eq "libs: __udivsi3 from ROM" \
  "$(jq -r '.classification.symbols[] | select(.name == "__udivsi3") | "\(.kind) \(.rom_address)"' "$OUT")" \
  "rom $(($(romaddr __udivsi3)))"
expect_eq "libs: mp_type_type via mp_fun_table (sidecar kind - 9)" \
  "$(jq -r '.classification.symbols[] | select(.name == "mp_type_type") | "\(.kind) \(.fun_table_index)"' "$OUT")" \
  "runtime $(($(awk '$1 == "reloc" && $5 >= 9 { print $5 }' $S/xtensa-libs.sidecar) - 9))"
expect_eq "libs: members pulled (dead one marked)" \
  "$(jq -r '.classification.members[] | "\(.member) \(.pulled_for) \(.live) \(.wasted)"' "$OUT" | sort)" \
  "$(printf '%s\n' "_modsi3.o __modsi3 true 0" "memcpy.o memcpy false $(membytes $X/libmini.a memcpy.o)" | sort)"
expect_eq "libs: library bytes" "$(jq .classification.totals.library_bytes "$OUT")" \
  "$(($(membytes "$XL" _modsi3.o) + $(membytes $X/libmini.a memcpy.o)))"
run 0 "libs text" natmod $S/xtensa-libs.mpy --objs $X/entry.o $X/libs.o --lib $X/libmini.a --lib "$XL"
expect_out "text: memcpy line" "memcpy                   library"
expect_out "text: finding" "warning natmod-redundant-copy: memcpy is in ROM at 0x4000df48"
expect_out "text: verdict" "verdict: warnings"
run 0 "--objs before the .mpy, --obj" natmod --objs $X/entry.o --obj $X/libs.o $S/xtensa-libs.mpy --lib "$XL"
expect_out "--objs before the .mpy: memcpy (no libmini) resolves to the ROM" "memcpy                   rom"
run 1 "no ROM, no libgcc: unresolved names exit 1" natmod --no-rom $S/xtensa-libs.mpy --objs $X/entry.o $X/libs.o
expect_out "unresolved finding" "error natmod-unresolved: __modsi3 is referenced by $X/libs.o"
run 0 "without --objs: classification null, findings empty" natmod --format json $S/xtensa-libs.mpy
expect_eq "no classification" "$(jq -c '[.classification, .findings, .summary.verdict]' "$OUT")" '[null,[],"ok"]'

# bad inputs: exit 2 naming the file
run 2 "--lib without --objs" natmod $S/xtensa-libs.mpy --lib "$XL"
run 2 "--objs with nothing after" natmod $S/xtensa-libs.mpy --objs
printf 'GROUP ( libc.a )\n' >"$TMP/text.a"
run 2 "--lib a text file" natmod $S/xtensa-libs.mpy --objs $X/libs.o --lib "$TMP/text.a"
expect_err "text --lib named" "$TMP/text.a: not an ar archive"
head -c 2000 $X/libmini.a >"$TMP/cut.a"
run 2 "--lib a truncated archive" natmod $S/xtensa-libs.mpy --objs $X/libs.o --lib "$TMP/cut.a"
expect_err "truncated --lib named" "$TMP/cut.a: truncated archive: member 'strlen.o' claims 1044 bytes"
printf 'not an object\n' >"$TMP/bad.o"
run 2 "an object that is not ELF" natmod $S/xtensa-libs.mpy --objs "$TMP/bad.o"
expect_err "bad .o named" "$TMP/bad.o: not an ELF file"
run 2 "an object for another arch" natmod $S/xtensa-libs.mpy --objs $S/armv7m/libs.o
expect_err "arch mismatch named" "$S/armv7m/libs.o: machine ARM, but the module is built for Xtensa"
run 2 "duplicate definitions" natmod $S/xtensa-ownmem.mpy --objs $X/ownmem.o $X/ownmem.o
expect_err "duplicate named" "symbol 'memcpy' is also defined in $X/ownmem.o"
run 2 "missing object" natmod $S/xtensa-ownmem.mpy --objs "$TMP/none.o"
expect_err "missing object named" "$TMP/none.o: cannot open"
finish
