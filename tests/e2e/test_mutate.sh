#!/bin/sh
# The CLI mutation test (issue 11): every command that reads a file, over
# damaged copies of the samples (build/tools/mutate: truncations, bit
# flips, overwritten, deleted and repeated spans, ELF header and section
# header fields), from a fixed seed, so every run tries the same inputs.
# The contract for each run: exit 0 or 1, or exit 2 with the damaged
# file's name on stderr; never a signal, a sanitizer report, a hang (10 s,
# `timeout`) or more memory than 1 GB (`ulimit -v`; under ASan, whose
# shadow memory needs more address space, its max_allocation_size_mb).
# A failure names the command, the input and what was done to it, and the
# input is kept under BUILD/mutate-failures/.
#   MUTATE_SEED (default 11) and MUTATE_N (copies per sample) change the set.
. tests/e2e/lib.sh
BIN=$(dirname "$FLASHSIZE")
FULL="$BIN/flashsize-full"
MUT="$BIN/tools/mutate"
SEED=${MUTATE_SEED:-11}
N=${MUTATE_N:-6}
KEEP="$BIN/mutate-failures"
rm -rf "$KEEP"
if [ ! -x "$MUT" ]; then notok "the mutator is built" "missing $MUT"; finish; exit 0; fi
E=samples/build/esp8266-fits.elf
M4=samples/build/cortex-m4.elf
X=samples/natmod/build/xtensa

# The memory bound: ulimit -v where the binary runs under it (plain build).
if (ulimit -v 1000000 && "$FULL" --version) >/dev/null 2>&1; then
  LIMIT="ulimit -v 1000000;"
else
  LIMIT=""
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=1024:allocator_may_return_null=1"
fi

total=0
bad=0
# try NAME SAMPLE ARGS...: for each damaged copy of SAMPLE, run flashsize-full
# with ARGS, where the word MUT stands for the copy; check the contract.
try() {
  what=$1; sample=$2; shift 2
  dir="$TMP/m-$(echo "$what" | tr -c 'A-Za-z0-9\n' _)"
  mkdir -p "$dir"
  "$MUT" "$SEED" "$N" "$sample" "$dir" >"$dir/list" || { notok "$what: mutate $sample"; return; }
  # the command itself works on the undamaged sample (exit 0 or 1), so the
  # damaged copies go as deep as the sample does
  args=""
  for a in "$@"; do [ "$a" = MUT ] && a=$sample; args="$args '$a'"; done
  sh -c "exec '$FULL' $args" >/dev/null 2>"$dir/err" </dev/null
  st=$?
  if [ "$st" -gt 1 ]; then notok "$what: works on the undamaged $sample" "flashsize-full$args: exit $st" \
    "stderr: $(head -c 300 "$dir/err")"; return; fi
  fails=0
  while IFS="$(printf '\t')" read -r m how; do
    args=""
    for a in "$@"; do [ "$a" = MUT ] && a=$m; args="$args '$a'"; done
    sh -c "$LIMIT exec timeout 10 '$FULL' $args" >/dev/null 2>"$dir/err" </dev/null
    st=$?
    total=$((total + 1))
    why=""
    case $st in
      0 | 1) ;;
      2) grep -qF -- "$m" "$dir/err" || why="exit 2 without naming the input" ;;
      124) why="timed out (10 s)" ;;
      *) why="exit status $st" ;;
    esac
    if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error:" "$dir/err"; then why="sanitizer report (exit $st)"; fi
    if [ -n "$why" ]; then
      fails=$((fails + 1))
      mkdir -p "$KEEP" && cp "$m" "$KEEP/"
      echo "# FAIL $what: flashsize-full$args: $why; input $m ($how), kept in $KEEP/; stderr: $(head -c 300 "$dir/err")"
    fi
  done <"$dir/list"
  bad=$((bad + fails))
  if [ "$fails" -eq 0 ]; then ok "$what: $N damaged copies of $sample keep the contract"
  else notok "$what: $fails of $N damaged copies of $sample broke the contract (see # FAIL lines)"; fi
}

# ELF readers, on every sample firmware (analyze, frozen, rom, top, why, cut,
# diff, check, record) and on native-module ELFs
for s in samples/build/*.elf samples/frozen/build/*.elf samples/natmod/build/*.elf; do
  try "analyze" "$s" analyze MUT
done
for s in "$E" "$M4" samples/build/riscv32.elf samples/build/arm-be.elf samples/build/x86_64.elf \
         samples/frozen/build/esp8266-frozen.elf samples/frozen/build/cortex-m4-frozen.elf; do
  try "analyze -f json" "$s" analyze -f json MUT
  try "frozen" "$s" frozen MUT
  try "top --retained" "$s" top MUT --retained
  try "top --retained -f json" "$s" top MUT --retained -f json
  sym=$(nm "$s" 2>/dev/null | awk '$2 == "T" && $3 !~ /^_/ { print $3; exit }')
  try "why" "$s" why MUT "$sym"
  try "why -f json" "$s" why MUT "$sym" -f json
  try "diff" "$s" diff "$s" MUT
done
for s in "$E" samples/frozen/build/esp8266-frozen.elf samples/frozen/build/esp8266-rom.elf; do
  try "rom" "$s" rom MUT
done
try "cut" "$E" cut MUT --to-fit irom0_0_seg --limit 100000
try "cut --ld -f json" "$M4" cut MUT --ld samples/ld/cortex_m4.ld --to-fit FLASH --limit 1000 -f json
try "check" "$E" check MUT --rules rules/budgets/esp8266-2m.ini
try "record" "$M4" record MUT --project p --board b --commit 1234567 --db "$TMP/rec.db"
# map files
for s in samples/build/cortex-m4.map samples/build/riscv32.map samples/frozen/build/esp8266-frozen.map; do
  try "map" "$s" map MUT
done
try "analyze --map" samples/build/esp8266-fits.map analyze "$E" --map MUT
# linker scripts, board and budget .ini files, ROM tables
for s in samples/ld/esp8266_2MiB.ld samples/ld/cortex_m4.ld samples/ld/riscv32.ld; do
  try "analyze --ld" "$s" analyze "$E" --ld MUT
done
for s in rules/boards/esp8266-2m.ini rules/boards/esp8266-2m-romfs.ini rules/boards/stm32-pybv10.ini; do
  try "analyze --board" "$s" analyze "$E" --board MUT
done
try "check --rules" rules/budgets/esp8266-2m.ini check "$E" --rules MUT
try "analyze --rom" rules/rom/esp8266.ld analyze "$E" --rom MUT
try "rom --rom" rules/rom/esp8266.ld rom "$E" --rom MUT
# native modules and their objects
for s in samples/natmod/build/*.mpy; do
  try "natmod" "$s" natmod MUT
done
try "natmod --objs" "$X/libs.o" natmod samples/natmod/build/xtensa-libs.mpy --objs "$X/entry.o" MUT --lib "$X/libmini.a"
try "natmod --lib" "$X/libmini.a" natmod samples/natmod/build/xtensa-libs.mpy --objs "$X/entry.o" "$X/libs.o" --lib MUT
# analysis JSON documents (diff's inputs)
"$FULL" analyze -f json "$M4" >"$TMP/m4.json"
try "diff JSON" "$TMP/m4.json" diff "$TMP/m4.json" MUT
# a ROMFS image
if [ -x "$BIN/tools/mkromfs" ]; then
  printf 'file a.txt 9\ndir lib\n  file b.dat 40\n  mpy xt.mpy 0x27 300\nend\n' >"$TMP/r.spec"
  "$BIN/tools/mkromfs" "$TMP/r.spec" "$TMP/r.img" >/dev/null
  try "romfs" "$TMP/r.img" romfs MUT
  try "analyze --romfs" "$TMP/r.img" analyze samples/build/esp8266-romfs.elf --romfs MUT
fi

echo "# mutation test: seed $SEED, $total runs, $bad broke the contract"
finish
