#!/bin/sh
# `flashsize check` is a gate a non-booting image cannot pass: each sample
# that will not boot fails (exit 1) with a budget that its sizes satisfy,
# naming the error finding first; and a budget file with a negative value, a
# number that overflows 64 bits or a percentage outside 0-100 is refused with
# FILE:LINE and exit 2.  Ground truth: `xtensa-lx106-elf-size -A` of the
# samples and the overflow ld itself printed (samples/build/*.ldlog).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
# end of .irom0.text (address + size, decimal) of a sample, from size -A
irom0_end() { xtensa-lx106-elf-size -A -d "$1" | awk '$1 == ".irom0.text" { print $3 + $2 }'; }

# gate SAMPLE BOARD FINDING OVER: a budget of max = 2M passes the sizes; the finding fails it
gate() {
  printf '[budget]\nboard = %s\nmax = 2M\nwarn_percent = 100\n' "$2" >"$TMP/$1.ini"
  run 1 "$1: check exits 1 with a budget its sizes satisfy" check $S/$1.elf --rules "$TMP/$1.ini"
  expect_out "$1: the budget rule itself passes" "ok    region irom0_0_seg max:"
  expect_eq "$1: error findings are listed first, $3 among them" \
    "$(sed -n '2,/^  ok /p' "$OUT" | sed '$d' | grep -v '^  ERROR ' | wc -l | tr -d ' ')$(sed -n '2,/^  ok /p' "$OUT" | grep -c "^  ERROR $3: ")" "01"
  expect_out "$1: $3 names the bytes over ($4)" "$4"
  expect_out "$1: the result says FAIL" "Result: FAIL - will not boot or does not fit"
}

WIN=$(($(irom0_end $S/esp8266-window.elf) - 0x40300000))
gate esp8266-window esp8266-2m window-exhausted "$WIN bytes past the end of the 1 MiB flash window"

OVER=$(sed -n "s/.*region \`irom0_0_seg' overflowed by \([0-9]*\) bytes.*/\1/p" $S/esp8266-irom0-overflow.ldlog | head -n 1)
gate esp8266-irom0-overflow esp8266-1m irom0-overflow "over by $OVER bytes"

ROMFS=$(($(irom0_end $S/esp8266-romfs-overlap.elf) - 0x402b0000))
gate esp8266-romfs-overlap esp8266-2m-romfs irom0-overflow "over by $ROMFS bytes"
expect_out "esp8266-romfs-overlap: romfs-overlap listed too" "ERROR romfs-overlap: .irom0.text ends at"
expect_out "esp8266-romfs-overlap: by the bytes into the partition" "$ROMFS bytes into the ROMFS partition at 0x402b0000"

# the boot image (esptool's v1 format): an 8-byte header, per loaded segment outside the
# flash window an 8-byte header and its bytes padded to 4, then padding to the last byte
# of a 16-byte block and the checksum byte; the segments are ld's PT_LOAD headers
BOOT=8
for seg in $(xtensa-lx106-elf-readelf -lW $S/esp8266-boot-overflow.elf | awk '$1 == "LOAD" { print $3 ":" $5 }'); do
  va=$((${seg%%:*})); fs=$((${seg#*:}))
  if [ "$fs" -gt 0 ] && ! { [ "$va" -ge $((0x40200000)) ] && [ "$va" -lt $((0x40300000)) ]; }; then
    BOOT=$((BOOT + 8 + (fs + 3) / 4 * 4))
  fi
done
BOOT=$((BOOT + 15 - BOOT % 16 + 1))
gate esp8266-boot-overflow esp8266-2m boot-segments-overflow "is $BOOT bytes but only 36860 fit"

# a firmware that fits and boots still passes
printf '[budget]\nboard = esp8266-2m\nmax = 2M\n' >"$TMP/fits.ini"
run 0 "esp8266-fits passes the same budget" check $S/esp8266-fits.elf --rules "$TMP/fits.ini"
expect_eq "no ERROR line for a firmware that boots" "$(grep -c ERROR "$OUT")" 0

# --- bad budget values: exit 2, FILE:LINE ------------------------------------------------
# bad NAME LINE-TEXT WORDS: the value is on line 4 of the file
bad() {
  printf '[budget]\nboard = esp8266-2m\n; the value under test\n%s\n' "$2" >"$TMP/$1.ini"
  run 2 "budget $1 ($2): exit 2" check $S/esp8266-fits.elf --rules "$TMP/$1.ini"
  expect_err "budget $1: names file and line" "$TMP/$1.ini:4: bad value for"
  expect_err "budget $1: says why" "$3"
}
bad negative "max = -1" "is negative"
bad negative-expr "max = 1M - 2M" "0x100000 - 0x200000 is below zero"
bad overflow-dec "max = 99999999999999999999" "does not fit in 64 bits"
bad overflow-hex "max = 0x10000000000000000" "does not fit in 64 bits"
bad overflow-mul "max = 16G * 4G" "does not fit in 64 bits"
bad overflow-shift "max = 1 << 64" "does not fit in 64 bits"
bad growth-negative "max_growth_bytes = -4K" "is negative"
bad warn-over "warn_percent = 101" "is not a percentage from 0 to 100"
bad warn-negative "warn_percent = -5" "is not a percentage from 0 to 100"
bad growth-pct-over "max_growth_percent = 150" "is not a percentage from 0 to 100"
bad nan "warn_percent = nan" "is not a percentage from 0 to 100"
printf '[budget]\nboard = esp8266-2m\n[budget region dram0_0_seg]\nmax = 80K\n[budget frozen]\nmodule.x.py = -1\n' >"$TMP/mod.ini"
run 2 "a negative frozen module max" check $S/esp8266-fits.elf --rules "$TMP/mod.ini"
expect_err "names file and line 6" "$TMP/mod.ini:6: bad value for 'module.x.py'"
printf '[budget]\nboard = esp8266-2m\n[budget symbols]\nnew_symbol_max = 1 - 2\n' >"$TMP/sym.ini"
run 2 "a negative new_symbol_max" check $S/esp8266-fits.elf --rules "$TMP/sym.ini"
expect_err "names file and line 4" "$TMP/sym.ini:4: bad value for 'new_symbol_max'"
# the edges that are fine
printf '[budget]\nboard = esp8266-2m\nmax = 0xffffffffffffffff\nwarn_percent = 100\nmax_growth_percent = 0\n' >"$TMP/edge.ini"
run 0 "2^64-1, 100 %% and 0 %% are accepted" check $S/esp8266-fits.elf --rules "$TMP/edge.ini"
finish
