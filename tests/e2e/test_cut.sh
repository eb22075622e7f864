#!/bin/sh
# `flashsize cut` with frozen modules and map-file objects as candidates:
# module sizes against the generator's .sizes sidecar and nm, object bytes
# against the map's own per-object breakdown (`flashsize map`) and against
# the map file's input-section lines summed here (map_object_bytes), the
# overlap rule, roots never proposed, bad --map input.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
FZ=samples/frozen/build/esp8266-frozen.elf
FS=samples/frozen/build/esp8266-frozen.sizes
ELF=samples/build/esp8266-fits.elf
MAP=samples/build/esp8266-fits.map

# --- frozen modules ------------------------------------------------------------------
run 0 "cut: frozen sample, all candidates" cut $FZ --to-fit irom0_0_seg --rank 0 --format json
cp "$OUT" "$TMP/fz.json"
used=$(jq .used "$TMP/fz.json")
expect_eq "irom0 used = .irom0.text size (readelf)" "$used" \
  $((0x$(xtensa-lx106-elf-readelf -SW $FZ | awk '{ for (i = 1; i < NF; i++) if ($i == ".irom0.text") print $(i + 4) }')))
expect_eq "six frozen-module candidates (sidecar: 4 mpy + 2 str)" "$(jq '.candidates["frozen-module"]' "$TMP/fz.json")" \
  "$(awk '$1 == "module" || $1 == "str"' $FS | wc -l | tr -d ' ')"
bad=0
for m in $(awk '$1 == "module" || $1 == "str" { print $2 "=" $3 }' $FS); do
  name=${m%=*} bytes=${m#*=}
  got=$(jq --arg n "$name" '.ranked[] | select(.kind == "frozen-module" and .name == $n) | .retained' "$TMP/fz.json")
  [ "$got" = "$bytes" ] || { bad=1; echo "# $name: retained $got, sidecar $bytes"; }
done
expect_eq "every module's retained size = its bytes in the .sizes sidecar" "$bad" 0
# fun_data_pkg_sensor_util_read is the one frozen object in IRAM (.text): its
# nm size is what the generator was told (sidecar "iram pkg/sensor_util.py")
iram=$((0x$(xtensa-lx106-elf-nm -S $FZ | awk '$4 == "fun_data_pkg_sensor_util_read" { print $2 }')))
expect_eq "nm: the IRAM object's size = the sidecar's iram bytes" "$iram" "$(sidecar iram pkg/sensor_util.py $FS)"
su=$(sidecar module pkg/sensor_util.py $FS)
wifi=$(sidecar module net/wifi.py $FS)
got=$(jq '.ranked[] | select(.name == "pkg/sensor_util.py") | .saved' "$TMP/fz.json")
expect_eq "pkg/sensor_util.py saves its bytes less the IRAM part in irom0" "$got" $((su - iram))
got=$(jq '.ranked[] | select(.name == "net/wifi.py") | .saved' "$TMP/fz.json")
expect_eq "net/wifi.py saves all its sidecar bytes in irom0" "$got" "$wifi"
run 0 "cut: frozen sample, 440 bytes over" cut $FZ --to-fit irom0_0_seg --limit $((used - 440)) --format json
expect_eq "the smallest candidate covering 440 bytes is a frozen module" \
  "$(jq -c '[.proposals[] | [.kind, .name, .saved, .retained]]' "$OUT")" "[[\"frozen-module\",\"pkg/sensor_util.py\",$((su - iram)),$su]]"
run 0 "cut: text output names the kind" cut $FZ --to-fit irom0_0_seg --limit $((used - 440))
expect_out "text: kind column" "$((su - iram))        $su  frozen-module pkg/sensor_util.py"
expect_out "text: candidate counts" "candidates: $(jq .candidates.symbol "$TMP/fz.json") symbols, 6 frozen modules, 0 objects, 0 MicroPython modules"
# The table all .mpy modules hang off (mp_frozen_mpy_content) and each
# module's own objects (frozen_module_*, its bytecode) are never symbol
# candidates: the modules are.
expect_eq "no frozen module's objects or their table among the symbol candidates" \
  "$(jq '[.ranked[] | select(.kind == "symbol" and (.name | test("^frozen_module_|^mp_frozen_mpy_content$|^mp_frozen_str_content$|^fun_data_|^proto_fun_|^children_")))] | length' "$TMP/fz.json")" 0
# 1000 bytes over: no single candidate covers it (net/wifi.py, 553, is the
# largest), then the smallest that covers the rest.
run 0 "cut: frozen sample, 1000 bytes over" cut $FZ --to-fit irom0_0_seg --limit $((used - 1000)) --format json
expect_eq "first the largest, a module, then the smallest cover, a module" \
  "$(jq -c '[.proposals[0:2][] | [.kind, .name, .retained]]' "$OUT")" \
  "[[\"frozen-module\",\"net/wifi.py\",$(awk '$1 == "module" && $2 == "net/wifi.py" { print $3 }' $FS)],[\"frozen-module\",\"pkg/sensor_util.py\",$(awk '$1 == "module" && $2 == "pkg/sensor_util.py" { print $3 }' $FS)]]"
expect_eq "it fits" "$(jq .fits "$OUT")" true

# --- objects of a map file --------------------------------------------------------------
run 0 "map breakdown of the same link" map $MAP --format json
jq -c '.regions[] | select(.name == "irom0_0_seg") | .objects[] | [.name, .bytes]' "$OUT" | sort >"$TMP/map.txt"
run 0 "cut --map: all candidates" cut $ELF --board esp8266-2m --to-fit irom0_0_seg --map $MAP --rank 0 --format json
cp "$OUT" "$TMP/obj.json"
jq -c '.ranked[] | select(.kind == "object") | [.name, .own]' "$TMP/obj.json" | sort >"$TMP/own.txt"
# objects everything calls (referred to by 8 or more other objects, as the
# runtime's py/obj.o, py/qstr.o, py/runtime.o, py/compile.o are here) are not
# candidates; the rest of the map's objects with bytes are
expect_eq "21 object candidates" "$(wc -l <"$TMP/own.txt" | tr -d ' ')" 21
expect_eq "no archive member (a library's) is a candidate" \
  "$(jq '[.ranked[] | select(.kind == "object" and (.name | test("[(]")))] | length' "$TMP/obj.json")" 0
bad=0
while read -r row; do
  grep -qxF "$row" "$TMP/map.txt" || { [ "$(echo "$row" | cut -d, -f2 | tr -d ']')" = 0 ] || { bad=1; echo "# $row"; }; }
done <"$TMP/own.txt"
expect_eq "each object's own bytes = its irom0 row in the map breakdown (or no row: 0)" "$bad" 0
expect_eq "the runtime everything calls is not a candidate (obj.o, qstr.o, runtime.o, compile.o)" \
  "$(jq '[.ranked[] | select(.name | test("/py/(obj|qstr|runtime|compile)[.]o$"))] | length' "$TMP/obj.json")" 0
expect_eq "... though the map has them" "$(grep -cE '/py/(obj|qstr|runtime|compile)[.]o$' $MAP | awk '{ print ($1 > 0) }')" 1
got=$(jq '.ranked[] | select(.name == "build/obj/xtensa/esp8266-fits/ports/esp8266/modregistry.o") | [.saved, .own] | @csv' -r "$TMP/obj.json")
sym=$(jq '.ranked[] | select(.kind == "symbol" and .name == "fw_module_table") | .saved' "$TMP/obj.json")
expect_eq "modregistry.o has no irom0 bytes but alone keeps fw_module_table's $sym" "$got" "$sym,0"
expect_eq "an object holding a root (vectors.o, main.o) is never a candidate" \
  "$(jq '[.ranked[] | select(.name | test("vectors.o$|/main.o$"))] | length' "$TMP/obj.json")" 0
irom=$(xtensa-lx106-elf-size -A $ELF | awk '$1 == ".irom0.text" { print $2 }')
run 0 "cut --map: 14400 bytes over" cut $ELF --board esp8266-2m --to-fit irom0_0_seg --map $MAP --limit 600000 --format json
expect_eq "need = size -A's .irom0.text - the limit" "$(jq .need "$OUT")" $((irom - 600000))
# the smallest cover: the frozen blob fw_frozen_net_spi_flash_py, alone under the frozen table (its nm size)
spi=$((0x$(xtensa-lx106-elf-nm -S $ELF | awk '$4 == "fw_frozen_net_spi_flash_py" { print $2 }')))
expect_eq "one proposal covering it" "$(jq -c '[.proposals[] | [.kind, .name, .saved]]' "$OUT")" "[[\"symbol\",\"fw_frozen_net_spi_flash_py\",$spi]]"
fc=$(map_object_bytes $MAP build/obj/xtensa/esp8266-fits/frozen/frozen_content.o 0x40209000 0x40300000)
run 0 "cut --map: 400000 bytes over" cut $ELF --board esp8266-2m --to-fit irom0_0_seg --map $MAP --limit 214400 --format json
expect_eq "the frozen content object first (its irom0 bytes in the map), then the smallest cover outside it: fw_module_table" \
  "$(jq -c '[.proposals[] | [.kind, .saved]]' "$OUT")" "[[\"object\",$fc],[\"symbol\",$sym]]"

# --- MicroPython modules by their module objects ---------------------------------------------
R=samples/refgraph/build
run 1 "cut: MicroPython-shaped sample (1 byte: never fits)" cut $R/mpy-xtensa.elf --to-fit irom --ld samples/refgraph/mpyshape_xtensa.ld --limit 1 --rank 0 --format json
expect_eq "one mp-module candidate per mp_module_* object (nm)" "$(jq '.candidates["mp-module"]' "$OUT")" \
  "$(xtensa-lx106-elf-nm $R/mpy-xtensa.elf | awk '$3 ~ /^mp_module_/ && $3 !~ /_globals/' | wc -l | tr -d ' ')"
expect_eq "listed by module name" "$(jq -c '[.ranked[] | select(.kind == "mp-module") | .name] | sort' "$OUT")" '["array","machine"]'
expect_eq "the module objects are not also symbol candidates" \
  "$(jq '[.ranked[] | select(.kind == "symbol" and (.name | startswith("mp_module_")))] | length' "$OUT")" 0
expect_eq "never the table all modules hang off, nor what holds it" \
  "$(jq '[.ranked[] | select(.name == "mp_builtin_module_table" or .name == "mp_import" or .name == "mp_main")] | length' "$OUT")" 0
run 1 "cut: mp-module in text" cut $R/mpy-xtensa.elf --to-fit irom --ld samples/refgraph/mpyshape_xtensa.ld --limit 1 --rank 0
expect_out "text: the kind column names mp-module" "mp-module     machine"

# --- bad --map input -------------------------------------------------------------------------
run 2 "cut: --map missing" cut $ELF --to-fit irom0_0_seg --board esp8266-2m --map "$TMP/none.map"
expect_err "missing map named" "$TMP/none.map: cannot open"
printf 'hello\nworld\n' >"$TMP/text.map"
run 2 "cut: --map not a map" cut $ELF --to-fit irom0_0_seg --board esp8266-2m --map "$TMP/text.map"
expect_err "non-map named" "$TMP/text.map:"
head -c 3000 $MAP >"$TMP/trunc.map"
"$FLASHSIZE" cut $ELF --to-fit irom0_0_seg --board esp8266-2m --map "$TMP/trunc.map" >/dev/null 2>"$TMP/trunc.err"
st=$?
check "cut: truncated map exits 0, 1 or 2 without a crash" [ "$st" -le 2 ]
run 2 "cut: bad --rank" cut $ELF --to-fit irom0_0_seg --rank many
# --- -L and --defsym: the analysis pipeline of `analyze` (fs_analysis_run) ----------------
# A script whose irom0 length is a --defsym symbol and whose INCLUDE is only
# found through -L: the limit is the symbol's value.
sed 's/len = 1M - 36K/len = IROM_LEN/' samples/ld/esp8266_2MiB.ld >"$TMP/defsym.ld"
run 0 "cut --ld -L --defsym (a proposal fits in 320 KiB)" cut $ELF --ld "$TMP/defsym.ld" -L samples/ld --defsym IROM_LEN=0x50000 \
  --to-fit irom0_0_seg --format json
expect_eq "cut: --defsym IROM_LEN=0x50000 is the limit" "$(jq -r .limit "$OUT")" 327680
expect_eq "cut: used is size -A's .irom0.text" "$(jq -r .used "$OUT")" \
  "$(xtensa-lx106-elf-size -A $ELF | awk '$1 == ".irom0.text" {print $2}')"
run 2 "cut --ld without -L: the INCLUDE is not found" cut $ELF --ld "$TMP/defsym.ld" --defsym IROM_LEN=0x50000 \
  --to-fit irom0_0_seg
expect_err "missing INCLUDE named" "cannot find INCLUDE file 'esp8266_common.ld'"
run 2 "cut: bad --defsym" cut $ELF --to-fit irom0_0_seg --defsym IROM_LEN
expect_err "bad --defsym named" "--defsym: expected NAME=EXPR, got 'IROM_LEN'"
finish
