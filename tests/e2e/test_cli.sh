#!/bin/sh
# CLI behaviour of `flashsize analyze` and `flashsize boards`: exit codes,
# formats, options, and bad input (exit 2 with a message naming the file).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build

# --- usage ---------------------------------------------------------------
run 2 "no command is a usage error"
run 0 "--help" --help
expect_out "--help lists analyze" "analyze"
run 0 "--version" --version
run 2 "unknown command" frobnicate
expect_err "unknown command is named" "unknown command 'frobnicate'"
run 0 "analyze --help" analyze --help
run 2 "analyze without a file" analyze
run 2 "analyze with two files" analyze $S/esp8266-fits.elf $S/esp8266-fits.elf
run 2 "unknown format" analyze --format xml $S/esp8266-fits.elf
expect_err "unknown format is named" "unknown format 'xml'"
run 2 "bad --headroom" analyze --headroom 250 $S/esp8266-fits.elf
run 2 "bad --top" analyze --top -3 $S/esp8266-fits.elf
run 2 "unknown board" analyze --board esp8266-9m $S/esp8266-fits.elf
expect_err "unknown board is named" "unknown board 'esp8266-9m'"
run 2 "missing linker script" analyze --ld /nonexistent/x.ld $S/esp8266-fits.elf
expect_err "missing linker script is named" "/nonexistent/x.ld"
run 2 "bad --defsym" analyze --defsym FOO $S/esp8266-fits.elf

# --- bad input files -------------------------------------------------------
: >"$TMP/empty.elf"
run 2 "empty file" analyze "$TMP/empty.elf"
expect_err "empty file: named, with the problem" "$TMP/empty.elf: empty file"
printf 'not an elf at all\n' >"$TMP/text.elf"
run 2 "non-ELF file" analyze "$TMP/text.elf"
expect_err "non-ELF: named, with the problem" "$TMP/text.elf: not an ELF file"
head -c 2000 $S/esp8266-fits.elf >"$TMP/trunc.elf"
run 2 "truncated ELF" analyze "$TMP/trunc.elf"
expect_err "truncated ELF is named" "$TMP/trunc.elf:"
run 2 "missing file" analyze "$TMP/none.elf"
expect_err "missing file is named" "$TMP/none.elf: cannot open"
run 2 "a directory" analyze "$TMP"
expect_err "directory is named" "$TMP"
# many truncations of a real firmware: always exit 2, never a crash
crashed=0
size=$(wc -c <$S/esp8266-fits.elf)
for cut in 1 16 52 100 1000 4096 65536 300000 $((size - 1000)) $((size - 1)); do
  head -c "$cut" $S/esp8266-fits.elf >"$TMP/cut.elf"
  "$FLASHSIZE" analyze "$TMP/cut.elf" >/dev/null 2>&1
  st=$?
  [ "$st" -eq 2 ] || { crashed=1; echo "# cut at $cut: exit $st"; }
done
expect_eq "ten truncations of a firmware all exit 2" "$crashed" 0

# --- output ----------------------------------------------------------------
run 0 "json output" analyze --format json $S/esp8266-fits.elf
check "json parses, schema version 1" jq -e '.schema == "flashsize-analysis" and .schema_version == 1' "$OUT"
cp "$OUT" "$TMP/a.json"
"$FLASHSIZE" analyze --format json $S/esp8266-fits.elf >"$TMP/b.json" 2>/dev/null
check "same input, same output byte for byte" cmp -s "$TMP/a.json" "$TMP/b.json"
run 0 "csv output" analyze --format csv $S/esp8266-fits.elf
expect_eq "csv header" "$(head -n 1 "$OUT")" "record,name,address,load_address,size,used,free,percent,region,severity,message"
expect_eq "csv rows: one per region" "$(grep -c '^region,' "$OUT")" 4
run 0 "--output writes a file" analyze --format json -o "$TMP/report.json" $S/esp8266-fits.elf
check "--output file is the JSON report" cmp -s "$TMP/report.json" "$TMP/a.json"
run 2 "--output on bad input" analyze -o "$TMP/bad-report.json" "$TMP/text.elf"
check "--output leaves no file on failure" test ! -e "$TMP/bad-report.json"
check "--output leaves no temporary file" sh -c "! ls '$TMP' | grep -q tmp"

# --- exit status and verdict per sample (the layouts samples/README.md describes) ---
for pair in esp8266-fits:0 esp8266-nearfull:0 esp8266-romfs:0 esp8266-512k:0 esp8266-irom0-overflow:1 \
            esp8266-window:1 esp8266-boot-overflow:1 esp8266-romfs-overlap:1; do
  name=${pair%:*}
  run "${pair#*:}" "$name exits ${pair#*:}" analyze $S/$name.elf
done
# ... and each condition's numbers, from the toolchain: size -A's .irom0.text,
# ld's overflow message (NAME.ldlog) and memory usage (NAME.memusage), nm's
# linker symbols; 0x40300000 is the end of the 1 MiB window the ESP8266 maps
# and 0x8FFC the boot image's limit (docs/esp8266.md: facts of the chip)
XS=xtensa-lx106-elf-size
irom0_end() { $XS -A -d "$1" | awk '$1 == ".irom0.text" { print $3 + $2 }'; }
irom0_size() { $XS -A -d "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
fnum() { jq -c "[.findings[] | select(.id == \"$1\") | .numbers]" "$OUT"; }
run 1 "irom0-overflow sample (json)" analyze --format json $S/esp8266-irom0-overflow.elf
over=$(sed -n "s/.*region \`irom0_0_seg' overflowed by \([0-9]*\) bytes.*/\1/p" $S/esp8266-irom0-overflow.ldlog)
check "ld says irom0_0_seg overflowed" test -n "$over"
sz=$(irom0_size $S/esp8266-irom0-overflow.elf)
expect_eq "irom0-overflow: size, limit and over as ld and size -A say" "$(fnum irom0-overflow)" \
  "[{\"size\":$sz,\"limit\":$((sz - over)),\"over\":$over}]"
run 1 "window sample (json)" analyze --format json $S/esp8266-window.elf
end=$(irom0_end $S/esp8266-window.elf)
expect_eq "window-exhausted: .irom0.text's end (size -A) past 0x40300000" \
  "$(jq -c '[.findings[] | select(.id == "window-exhausted") | .numbers | [.end, .window_end, .over]]' "$OUT")" \
  "[[$end,$((0x40300000)),$((end - 0x40300000))]]"
run 1 "romfs-overlap sample (json)" analyze --format json $S/esp8266-romfs-overlap.elf
end=$(irom0_end $S/esp8266-romfs-overlap.elf)
rstart=$((0x$(xtensa-lx106-elf-nm $S/esp8266-romfs-overlap.elf | awk '$3 == "_micropy_hw_romfs_part0_start" { print $1 }')))
expect_eq "romfs-overlap: .irom0.text's end (size -A) past _micropy_hw_romfs_part0_start (nm)" \
  "$(jq -c '[.findings[] | select(.id == "romfs-overlap") | .numbers | [.irom0_end, .romfs_start, .overlap]]' "$OUT")" \
  "[[$end,$rstart,$((end - rstart))]]"
run 1 "boot-overflow sample (json)" analyze --format json $S/esp8266-boot-overflow.elf
expect_eq "boot-segments-overflow: limit 0x8FFC, over = size - limit > 0" \
  "$(jq -c '[.findings[] | select(.id == "boot-segments-overflow") | .numbers | [.limit, .over == .size - .limit, .over > 0]]' "$OUT")" \
  "[[$((0x8FFC)),true,true]]"
run 0 "nearfull sample (json)" analyze --format json $S/esp8266-nearfull.elf
expect_eq "region-headroom: used and length as ld printed them (nearfull.memusage)" \
  "$(jq -c '[.findings[] | select(.id == "region-headroom") | .numbers | [.used, .length]]' "$OUT")" \
  "[[$(memusage esp8266-nearfull irom0_0_seg used),$(memusage esp8266-nearfull irom0_0_seg length)]]"
for name in esp8266-fits esp8266-romfs esp8266-512k; do
  run 0 "$name (json)" analyze --format json $S/$name.elf
  expect_eq "$name: no error and no region finding" \
    "$(jq -c '[.findings[] | select(.severity == "error" or (.id | startswith("region")))]' "$OUT")" "[]"
done
run 1 "window sample" analyze $S/esp8266-window.elf
expect_out "window sample: will not boot" "Verdict: WILL NOT BOOT"
expect_out "window sample: bytes past the window" "12288 bytes past the end of the 1 MiB flash window"
run 0 "fits sample" analyze $S/esp8266-fits.elf
expect_out "fits sample: boots" "Verdict: fits and boots"

# --- the three sources of regions agree on an unedited layout ---
"$FLASHSIZE" analyze --format json $S/esp8266-romfs.elf | jq -c '[.regions[] | [.name,.origin,.length,.used]]' >"$TMP/elf.r"
"$FLASHSIZE" analyze --format json --board esp8266-2m-romfs $S/esp8266-romfs.elf | jq -c '[.regions[] | [.name,.origin,.length,.used]]' >"$TMP/board.r"
"$FLASHSIZE" analyze --format json --ld samples/ld/esp8266_2MiB_ROMFS.ld -L samples/ld $S/esp8266-romfs.elf | jq -c '[.regions[] | [.name,.origin,.length,.used]]' >"$TMP/ld.r"
check "regions from the ELF equal the board's" cmp -s "$TMP/elf.r" "$TMP/board.r"
check "regions from --ld equal the board's" cmp -s "$TMP/ld.r" "$TMP/board.r"
run 0 "--board and --ld together" analyze --board esp8266-2m-romfs --ld samples/ld/esp8266_2MiB_ROMFS.ld $S/esp8266-romfs.elf
expect_out "--ld names its source" "Memory regions (ld: samples/ld/esp8266_2MiB_ROMFS.ld)"
run 1 "--board 1m on a 2m image: irom0 overflows" analyze --board esp8266-1m $S/esp8266-fits.elf
expect_out "--board 1m: irom0-overflow" "irom0-overflow"
run 0 "cortex-m with its script" analyze --ld samples/ld/cortex_m4.ld $S/cortex-m4.elf
expect_out "cortex-m: .data loaded from FLASH" "(loaded from FLASH)"
run 0 "stripped image" analyze $S/esp8266-fits-stripped.elf
expect_out "stripped image says so" "(stripped)"

# --- the light binary and flashsize-full ----------------------------------------
check "flashsize links neither SQLite, Capstone, libcurl nor libmicrohttpd" \
  sh -c "! ldd '$FLASHSIZE' | grep -E -q 'sqlite|capstone|curl|microhttpd'"
run 0 "retained sizes are not computed by default" analyze --format json $S/esp8266-fits.elf
check "plain analyze: retained is null" jq -e '.retained == null' "$OUT"
run 0 "--retained hands over to flashsize-full" analyze --retained --format json $S/esp8266-fits.elf
check "--retained: the largest retained sizes" jq -e '(.retained.symbols | length) > 0 and (.retained.method | type) == "string"' "$OUT"
run 0 "a full-only command through the light binary" history --help

# --- boards ---------------------------------------------------------------
run 0 "boards" boards
expect_eq "boards: one line per rules/boards/*.ini" "$(wc -l <"$OUT" | tr -d ' ')" "$(ls rules/boards/*.ini | wc -l | tr -d ' ')"
expect_eq "boards: their names, in order" "$(awk '{ print $1 }' "$OUT" | tr '\n' ' ')" \
  "$(ls rules/boards/*.ini | sed 's|.*/||; s|\.ini$||' | sort | tr '\n' ' ')"
expect_out "boards lists esp8266-2m-romfs" "esp8266-2m-romfs"

# --- one operand: none or two is a usage error (cli_operand) -------------
for spec in "analyze|firmware ELF|" "check|firmware|--rules x" "frozen|firmware ELF|" "import|folder|" \
            "map|map file|" "natmod|.mpy file|" "record|firmware|-p p -b b -c c" "rom|firmware ELF|" \
            "romfs|image|"; do
  cmd=${spec%%|*}; rest=${spec#*|}; what=${rest%%|*}; opts=${rest#*|}
  # shellcheck disable=SC2086 # opts are words
  run 2 "$cmd without an operand" $cmd $opts
  check "$cmd: says none was given" test "$(head -n 1 "$ERR")" = "flashsize: $cmd: no $what given"
  check "$cmd: then its usage" test "$(sed -n '2s/ .*//p;2q' "$ERR") $(sed -n '2{s/^usage: flashsize //;s/ .*//;p;q}' "$ERR")" = "usage: $cmd"
  run 2 "$cmd with two operands" $cmd $opts a b
  check "$cmd: says more than one was given" test "$(head -n 1 "$ERR")" = "flashsize: $cmd: more than one $what given"
done

# --- --format: an unknown one names the known ones (cli_check_format) -----
for spec in "analyze|text, json or csv" "forecast|text, json or markdown" "frozen|text or json" \
            "map|text or json" "natmod|text or json" "rom|text or json" "romfs|text or json"; do
  cmd=${spec%%|*}; known=${spec#*|}
  run 2 "$cmd --format xml" $cmd --format xml x
  check "$cmd --format xml: names the known formats" \
    test "$(cat "$ERR")" = "flashsize: --format: unknown format 'xml' ($known)"
done
# A mapped input that shrinks under flashsize raises SIGBUS: exit 2 with a
# message, not a crash (main.c).  Delivered by kill to a process that waits.
"$FLASHSIZE" serve --db "$TMP/sigbus.db" --listen 127.0.0.1:0 >"$OUT" 2>"$ERR" &
spid=$!
i=0
while [ $i -lt 50 ] && ! grep -q listening "$ERR"; do sleep 0.1; i=$((i + 1)); done
kill -BUS "$spid"
wait "$spid"
expect_eq "SIGBUS (an input shrank while mapped): exit 2" "$?" 2
expect_err "SIGBUS: says an input file shrank" "an input file shrank while it was being read"
finish
