#!/bin/sh
# CLI behaviour of `flashsize why`, `top --retained` and `cut` on the
# samples/refgraph firmwares: chains from chain.c, retained sizes against
# the toolchain's `size -A` of relinks without a feature, exit codes, bad input.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
R=samples/refgraph/build

# Σ sizes of the allocated sections (non-zero address) in a `size -A` listing
alloc() { awk '$1 ~ /^\./ && $3 != 0 { s += $2 } END { print s }' "$R/$1.size"; }

# --- usage -------------------------------------------------------------------
run 0 "why --help" why --help
run 0 "top --help" top --help
run 0 "cut --help" cut --help
run 2 "why without arguments" why
run 2 "why with only a file" why $R/thumb.elf
run 2 "top without a file" top --retained
run 2 "top: unknown format" top --format xml $R/thumb.elf
expect_err "unknown format is named" "unknown format 'xml'"
run 2 "cut without --to-fit" cut $R/thumb.elf
expect_err "cut names the missing option" "--to-fit REGION is required"
run 2 "top: bad --top" top --top -1 $R/thumb.elf

# --- retained sizes = what the relink dropped -----------------------------------
for a in thumb xtensa xtensa-lc x86_64; do
  for v in "" -relocs; do
    run 0 "top --retained $a$v" top $R/$a$v.elf --retained --format json
    got=$(jq '.symbols[] | select(.name == "feature_compress") | .retained' "$OUT")
    expect_eq "$a$v: feature_compress retains what the relink without it drops" "$got" $(( $(alloc $a) - $(alloc $a-nocompress) ))
    got=$(jq '.symbols[] | select(.name == "feature_selftest") | .retained' "$OUT")
    expect_eq "$a$v: feature_selftest retains what the relink without it drops" "$got" $(( $(alloc $a) - $(alloc $a-noselftest) ))
    expect_eq "$a$v: total is the allocated bytes" "$(jq .total "$OUT")" "$(alloc $a)"
  done
done
run 0 "top json of an --emit-relocs link" top $R/xtensa-lc-relocs.elf --format json
expect_eq "methods say how the graph was made: the relocations alone" "$(jq -c .methods "$OUT")" '["relocations"]'
expect_eq "... and that it is exact" "$(jq .exact "$OUT")" true
run 0 "top text of an --emit-relocs link" top $R/thumb-relocs.elf --retained
expect_out "text says the graph is exact" "graph by relocations (exact)"
run 0 "top json of an x86-64 --emit-relocs link" top $R/x86_64-relocs.elf --format json
expect_eq "x86-64: relocations add to the decoder's edges, not exact" "$(jq -c '[.methods, .exact]' "$OUT")" '[["capstone","relocations","data-scan"],false]'
run 0 "top json of a thumb link" top $R/thumb.elf --format json --top 2
expect_eq "capstone and data scan" "$(jq -c .methods "$OUT")" '["capstone","data-scan"]'
expect_eq "--top 2 lists two" "$(jq '.symbols | length' "$OUT")" 2
expect_eq "schema" "$(jq -r '.schema + " " + (.schema_version | tostring)' "$OUT")" "flashsize-refgraph-top 1"
run 0 "top text" top $R/x86_64.elf --retained
expect_out "text names the method" "graph by capstone+data-scan"
expect_out "text lists the entry as a root" "root: entry"

# --- the inferred graph against the relocations of the same link -----------------------
# build/tools/refcheck builds the graph of ARCH.elf and the true graph of
# ARCH-relocs.elf's relocations over the same nodes (symbol to symbol).
REFCHECK=${REFCHECK:-$(dirname "$FLASHSIZE")/tools/refcheck}
for a in thumb xtensa xtensa-lc x86_64 mpy-xtensa mpy-thumb; do
  "$REFCHECK" $R/$a.elf $R/$a-relocs.elf >"$TMP/rc.txt" 2>&1
  expect_eq "$a: refcheck runs" "$?" 0
  kv() { sed -n "s/^$1=//p" "$TMP/rc.txt"; }
  expect_eq "$a: the true graph has the edges chain.c makes" "$( [ "$(kv true_edges)" -ge 19 ] && echo yes)" yes
  expect_eq "$a: >= 99% of the true symbol-to-symbol edges inferred" "$( [ "$(kv recall_ppm)" -ge 990000 ] && echo yes)" yes
  expect_eq "$a: <= 1% of the inferred edges not true" "$( [ "$(kv extra_ppm)" -le 10000 ] && echo yes)" yes
  expect_eq "$a: every symbol the true graph reaches has a chain from the entry or a vector" "$(kv unreached)" 0
  expect_eq "$a: every relocation understood" "$(kv unresolved)" 0
done
# the MicroPython-shaped samples (mpyshape.c): module tables, function
# objects and type slots in const data inside the code section
run 0 "why dht_readinto (mpy-xtensa: .rodata in .irom0.text, the function in IRAM)" why $R/mpy-xtensa.elf dht_readinto --format json
expect_eq "mpy-xtensa: through the module table and the function object" \
  "$(jq -r '[.paths[0].chain[].name] | .[-6:] | join(" ")' "$OUT")" \
  "mp_builtin_module_table mp_module_machine machine_module_globals machine_module_globals_table dht_readinto_obj dht_readinto"
expect_eq "mpy-xtensa: from the entry" "$(jq -r '.paths[0].root_kind + " " + .paths[0].chain[0].name' "$OUT")" "entry _start"
expect_eq "mpy-xtensa: the SDK's stripped static code is reached" \
  "$(jq -r '[.paths[0].chain[].name] | (.[1:3] | join(" ")) + " " + (.[3] | startswith("[.irom0.text+") | tostring)' "$OUT")" \
  "call_user_start sdk_start true"
run 0 "why array_subscr (mpy-thumb: .rodata in .text)" why $R/mpy-thumb.elf array_subscr --format json
expect_eq "mpy-thumb: through mp_type_bytearray's slots" \
  "$(jq -r '[.paths[0].chain[].name] | .[-3:] | join(" ")' "$OUT")" "array_module_globals_table mp_type_bytearray array_subscr"
for a in mpy-xtensa mpy-thumb; do
  run 0 "top $a" top $R/$a.elf --format json
  expect_eq "$a: total is the allocated bytes" "$(jq .total "$OUT")" "$(alloc $a)"
  expect_eq "$a: nothing unreferenced" "$(jq .roots.unreferenced "$OUT")" 0
  run 0 "top $a (text)" top $R/$a.elf --retained
done
# a relocations file of another link is refused
"$REFCHECK" $R/thumb.elf $R/xtensa-relocs.elf >/dev/null 2>"$TMP/rc.err"
expect_eq "refcheck: another link's relocations exit 2" "$?" 2

# --- why ------------------------------------------------------------------------------
for a in thumb:Reset_Handler xtensa:_start xtensa-lc:_start x86_64:_start; do
  run 0 "why digit_value (${a%%:*})" why $R/${a%%:*}.elf digit_value --format json
  expect_eq "${a%%:*}: the chain chain.c defines" "$(jq -r '[.paths[0].chain[].name] | join(" ")' "$OUT")" \
    "${a#*:} fw_main fw_dispatch fw_handlers handler_parse parse_number digit_value"
done
run 0 "why tick_hook (thumb)" why $R/thumb.elf tick_hook --format json
expect_eq "thumb: through the vector table" "$(jq -r '.paths[0].root_kind + ": " + ([.paths[0].chain[].name] | join(" "))' "$OUT")" \
  "vector: vectors tick_handler tick_hook"
expect_eq "dominator of tick_hook" "$(jq -r .symbol.dominator "$OUT")" "tick_handler"
run 0 "why by address" why $R/thumb.elf 0x8000054
expect_out "an address names its symbol" "digit_value: 12 bytes at 0x8000054"
run 0 "why --paths 1" why $R/thumb.elf digit_value --paths 1 --format json
expect_eq "one path" "$(jq '.paths | length' "$OUT")" 1
run 2 "why an unknown symbol" why $R/thumb.elf no_such_function
expect_err "the unknown symbol is named" "no function or object 'no_such_function'"
run 2 "an unknown --root" top $R/thumb.elf --root nothing_here
expect_err "the unknown root is named" "root 'nothing_here': no such symbol"
run 0 "--root makes crc8 a root" why $R/thumb.elf crc8 --root crc8 --format json
expect_eq "crc8 is its own root" "$(jq -r '.paths[0].root_kind + " " + (.paths[0].length | tostring)' "$OUT")" "named 0"

# board roots: DIR/roots/BOARD.txt
mkdir -p "$TMP/rules/boards" "$TMP/rules/roots"
printf '[board]\nname = rgboard\n\n[region FLASH]\norigin = 0x08000000\nlength = 64K\n\n[region RAM]\norigin = 0x20000000\nlength = 16K\n' >"$TMP/rules/boards/rgboard.ini"
printf '# kept by the ROM\ncrc8\nnot_in_this_build\n' >"$TMP/rules/roots/rgboard.txt"
run 0 "--board adds its roots file" why $R/thumb.elf crc8 --board rgboard --rules-dir "$TMP/rules" --format json
expect_eq "crc8 is a named root" "$(jq -r '.symbol.root' "$OUT")" "named"
printf 'crc8 extra\n' >"$TMP/rules/roots/rgboard.txt"
run 2 "a bad roots file" why $R/thumb.elf crc8 --board rgboard --rules-dir "$TMP/rules"
expect_err "names file and line" "rgboard.txt:1: one symbol name per line"
printf 'crc8\n' >"$TMP/rules/roots/rgboard.txt"

# --- cut ----------------------------------------------------------------------------------
used=$(( $(alloc thumb) - 196 ))   # FLASH: all but .bss (compress_window 128, io_buf 64, fw_ticks 4)
run 0 "cut: already fits" cut $R/thumb.elf --to-fit FLASH --ld samples/refgraph/thumb.ld --format json
expect_eq "used as ld places it" "$(jq .used "$OUT")" "$used"
expect_eq "nothing proposed" "$(jq '.proposals | length' "$OUT")" 0
run 0 "cut: 100 bytes over" cut $R/thumb.elf --to-fit FLASH --ld samples/refgraph/thumb.ld --limit $((used - 100)) --format json
expect_eq "the smallest cover" "$(jq -c '[.proposals[] | [.name, .saved, .retained]]' "$OUT")" '[["compress_block",124,252]]'
run 0 "cut with --board" cut $R/thumb.elf --to-fit FLASH --board rgboard --rules-dir "$TMP/rules" --limit $((used - 100))
expect_out "text proposal" "compress_block"
run 1 "cut: an impossible budget" cut $R/thumb.elf --to-fit FLASH --ld samples/refgraph/thumb.ld --limit 10
expect_out "says it does not fit" "does not fit"
run 2 "cut: unknown region" cut $R/thumb.elf --to-fit IROM --ld samples/refgraph/thumb.ld
expect_err "lists the regions" "no region 'IROM' (regions: FLASH, RAM)"
run 2 "cut: bad --limit" cut $R/thumb.elf --to-fit FLASH --limit lots

# --- bad input ---------------------------------------------------------------------------------
: >"$TMP/empty.elf"
run 2 "empty file" why "$TMP/empty.elf" main
expect_err "empty file named" "$TMP/empty.elf: empty file"
printf 'not an elf\n' >"$TMP/text.elf"
run 2 "not an ELF" top "$TMP/text.elf"
expect_err "non-ELF named" "$TMP/text.elf: not an ELF file"
run 2 "missing file" cut "$TMP/none.elf" --to-fit FLASH
expect_err "missing file named" "$TMP/none.elf: cannot open"
bad=0
size=$(wc -c <$R/thumb-relocs.elf)
for cut in 1 52 200 1000 2000 4000 6000 $((size - 200)) $((size - 1)); do
  head -c "$cut" $R/thumb-relocs.elf >"$TMP/cut.elf"
  "$FLASHSIZE" top "$TMP/cut.elf" >/dev/null 2>"$TMP/cut.err"
  st=$?
  [ "$st" -eq 2 ] && grep -qF "$TMP/cut.elf" "$TMP/cut.err" || { bad=1; echo "# cut at $cut: exit $st"; }
done
expect_eq "truncated ELFs all exit 2 naming the file" "$bad" 0
# code bytes overwritten with noise: a graph, no crash
cp $R/x86_64-relocs.elf "$TMP/noise.elf"
off=$(readelf -SW $R/x86_64-relocs.elf | awk '{ for (i = 1; i < NF; i++) if ($i == ".text") print $(i + 3) }')
head -c 400 /dev/zero | tr '\0' '\377' | dd of="$TMP/noise.elf" bs=1 seek=$((0x$off)) conv=notrunc 2>/dev/null
run 0 "garbage code still analyses" top "$TMP/noise.elf"
# --root is repeatable up to 256 times (FS_REFGRAPH_MAX_ROOT_NAMES), in top, why and cut alike
roots=$(i=0; while [ $i -le 256 ]; do printf -- '--root r%d ' $i; i=$((i + 1)); done)
for cmd in top "why" cut; do
  extra=""; [ "$cmd" = why ] && extra=main
  # shellcheck disable=SC2086
  run 2 "$cmd: 257 --root options are refused" $cmd $roots $R/thumb.elf $extra
  expect_err "$cmd: says how many --root are allowed" "--root: more than 256 given"
done
finish
