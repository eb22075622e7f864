#!/bin/sh
# Hostile input (issue 11): a FIFO or other non-regular file given as any
# input is refused at once (never a blocked open()); linker-script numbers
# that overflow, and scripts without MEMORY, are errors naming file:line;
# the .ini readers' duplicate rule; a closed output pipe exits 2, not by
# SIGPIPE.
. tests/e2e/lib.sh
FULL="$(dirname "$FLASHSIZE")/flashsize-full"
E=samples/build/esp8266-fits.elf
MPY=samples/natmod/build/xtensa-libs.mpy
mkfifo "$TMP/fifo"
FIFO="$TMP/fifo"

# runt WANT NAME ARGS...: run with a 10 s bound (a blocked open() would hang)
runt() {
  want=$1; name=$2; shift 2
  timeout 10 "$FLASHSIZE" "$@" >"$OUT" 2>"$ERR"
  got=$?
  if [ "$got" -eq "$want" ]; then ok "$name"
  else notok "$name" "flashsize $*" "exit $got, wanted $want" "stderr: $(head -c 400 "$ERR")"; fi
}

# ---- 1. a FIFO as every kind of input: exit 2 "FIFO: not a regular file"
fifo_case() { # NAME ARGS... (FIFO among the args)
  what=$1; shift
  runt 2 "FIFO as $what: exit 2" "$@"
  expect_err "FIFO as $what: named, not a regular file" "$FIFO: not a regular file"
}
fifo_case "ELF (analyze)" analyze "$FIFO"
fifo_case "--ld" analyze "$E" --ld "$FIFO"
printf 'MEMORY { a : ORIGIN = 0, LENGTH = 1 }\nINCLUDE %s\n' "$FIFO" >"$TMP/inc.ld"
fifo_case "an INCLUDE" analyze "$E" --ld "$TMP/inc.ld"
expect_err "the INCLUDE's line is named" "$TMP/inc.ld:2:"
fifo_case "--rom" analyze "$E" --rom "$FIFO"
fifo_case "--romfs" analyze "$E" --romfs "$FIFO"
fifo_case "--map (analyze)" analyze "$E" --map "$FIFO"
fifo_case "--board PATH" analyze "$E" --board "$FIFO"
fifo_case "map" map "$FIFO"
fifo_case "romfs IMAGE" romfs "$FIFO"
fifo_case ".mpy (natmod)" natmod "$FIFO"
fifo_case "natmod --obj" natmod "$MPY" --obj "$FIFO"
fifo_case "frozen" frozen "$FIFO"
fifo_case "rom" rom "$FIFO"
fifo_case "top" top "$FIFO" --retained
fifo_case "why" why "$FIFO" main
fifo_case "cut --ld" cut "$E" --to-fit irom0_0_seg --ld "$FIFO"
fifo_case "diff BASE" diff "$FIFO" "$E"
fifo_case "check --rules" check "$E" --rules "$FIFO"
fifo_case "record" record "$FIFO" --project p --board esp8266-2m --commit 1 --db "$TMP/r.db"
fifo_case "bot --diff" bot --pr 1 --repo a/b --sha 1234567 --diff "$FIFO"
mkdir -p "$TMP/imp" && cp "$E" "$TMP/imp/a.elf"
fifo_case "import --csv" import "$TMP/imp" --csv "$FIFO" --db "$TMP/i.db" --project p --board esp8266-2m
cp -r rules "$TMP/rules" && rm "$TMP/rules/boards/esp8266-2m.ini" && mkfifo "$TMP/rules/boards/esp8266-2m.ini"
runt 2 "FIFO as a board file in the rules dir: exit 2" analyze "$E" --board esp8266-2m --rules-dir "$TMP/rules"
expect_err "the board FIFO is named" "esp8266-2m.ini: not a regular file"

# ---- 2. linker-script arithmetic
ld_case() { # NAME SCRIPT-TEXT EXPECTED-STDERR
  printf '%s\n' "$2" >"$TMP/t.ld"
  runt 2 "--ld $1: exit 2" analyze "$E" --ld "$TMP/t.ld"
  expect_err "--ld $1: says so" "$3"
}
ld_case "K suffix overflow" 'MEMORY { a : ORIGIN = 0, LENGTH = 99999999999999999999999999999K }' \
  "$TMP/t.ld:1: bad LENGTH for MEMORY region 'a': number '99999999999999999999999999999K' does not fit in 64 bits"
ld_case "literal overflow" 'MEMORY { a : ORIGIN = 0x10000000000000000, LENGTH = 1 }' "does not fit in 64 bits"
ld_case "M suffix overflow" 'MEMORY { a : ORIGIN = 0, LENGTH = 0x100000000000M }' "does not fit in 64 bits"
ld_case "+ overflow" 'MEMORY { a : ORIGIN = 0xFFFFFFFFFFFFFFFF + 1, LENGTH = 1 }' \
  "$TMP/t.ld:1: bad ORIGIN for MEMORY region 'a': 0xffffffffffffffff + 0x1 does not fit in 64 bits"
ld_case "- below zero" 'MEMORY { a : ORIGIN = 0, LENGTH = 1 - 2 }' "0x1 - 0x2 is below zero"
ld_case "* overflow" 'MEMORY { a : ORIGIN = 0, LENGTH = 0x100000000 * 0x100000000 }' "does not fit in 64 bits"
ld_case "<< overflow" 'MEMORY { a : ORIGIN = 0, LENGTH = 1 << 64 }' "0x1 << 0x40 does not fit in 64 bits"
ld_case "division by zero" 'MEMORY { a : ORIGIN = 0, LENGTH = 4 / (1 - 1) }' "division by zero"
ld_case "division by zero in an assignment" '_x = 1 % 0;' "$TMP/t.ld:1:"
ld_case "ORIGIN + LENGTH past 2^64" 'MEMORY { a : ORIGIN = 0xFFFFFFFFFFFFFFFF, LENGTH = 2 }' \
  "$TMP/t.ld:1: MEMORY region 'a' ends past the 64-bit address space (ORIGIN 0xffffffffffffffff + LENGTH 0x2)"
ld_case "a 32-bit target's region past 4 GiB" 'MEMORY { a : ORIGIN = 0xFFFFF000, LENGTH = 0x2000 }' \
  "MEMORY region 'a' ends past the 32-bit address space of $E (ORIGIN 0xfffff000 + LENGTH 0x2000)"
ld_case "no MEMORY block" 'SECTIONS { .text : { *(.text) } }' \
  "$TMP/t.ld: no MEMORY regions: the script (with what it INCLUDEs) has no MEMORY block"
: >"$TMP/empty.ld"
runt 2 "--ld an empty file: exit 2" analyze "$E" --ld "$TMP/empty.ld"
expect_err "--ld an empty file: says so" "$TMP/empty.ld: no MEMORY regions"
runt 2 "cut --ld an empty file: exit 2" cut "$E" --to-fit irom0_0_seg --ld "$TMP/empty.ld"
printf 'MEMORY { a : ORIGIN = 0xFFFFF000, LENGTH = 0x1000 }\n' >"$TMP/edge.ld"
runt 0 "a 32-bit region ending exactly at 4 GiB is fine" analyze "$E" --ld "$TMP/edge.ld"

# ---- 3. one duplicate rule and one line limit for every .ini reader
M4=samples/build/cortex-m4.elf
ini_case() { # NAME TEXT EXPECTED-STDERR (as a board, then the board check)
  printf "$2" >"$TMP/t.ini"
  runt 2 "board .ini $1: exit 2" analyze "$M4" --board "$TMP/t.ini"
  expect_err "board .ini $1: says so" "$3"
}
B='[board]\nname = x\nchip = generic\n'
ini_case "a [region X] given twice" "$B[region a]\norigin = 0\nlength = 4\n[region a]\nlength = 8\n" \
  "$TMP/t.ini:7: section [region a] given twice (first on line 4)"
ini_case "a key given twice" "$B[region a]\norigin = 0\nlength = 4\norigin: 7\n" \
  "$TMP/t.ini:7: 'origin' given twice in [region a] (first on line 5)"
ini_case "[board] given twice" "$B[board]\nheadroom = 5\n" "$TMP/t.ini:4: section [board] given twice (first on line 1)"
ini_case "a key given twice in [board]" "${B}name = y\n" "$TMP/t.ini:4: 'name' given twice in [board] (first on line 2)"
long=$(head -c 100000 /dev/zero | tr '\0' r)
ini_case "a 100,000-character section line" "$B[$long]\n" "$TMP/t.ini:4: line too long (100002 characters; the limit is 198)"
ini_case "a 199-character line" "${B}description = $(head -c 185 /dev/zero | tr '\0' d)\n" \
  "$TMP/t.ini:4: line too long (199 characters; the limit is 198)"
printf "${B}description = $(head -c 184 /dev/zero | tr '\0' d)\n[region a]\norigin = 0\nlength = 4\n  ; indented comment\n" >"$TMP/ok.ini"
runt 0 "a 198-character line and the same key in two sections are fine" analyze "$M4" --board "$TMP/ok.ini"
printf '[budget]\nboard = esp8266-2m\nmax = 5\n[budget region irom0_0_seg]\nmax = 9\n[budget region irom0_0_seg]\nwarn_percent = 3\n' >"$TMP/bu.ini"
runt 2 "budget: a section given twice: exit 2" check "$E" --rules "$TMP/bu.ini"
expect_err "budget: a section given twice: says so" "$TMP/bu.ini:6: section [budget region irom0_0_seg] given twice (first on line 4)"
printf '[budget]\nboard = esp8266-2m\nmax = 5\nmax = 6\n' >"$TMP/bu.ini"
runt 2 "budget: a key given twice: exit 2" check "$E" --rules "$TMP/bu.ini"
expect_err "budget: a key given twice: says so" "$TMP/bu.ini:4: 'max' given twice in [budget] (first on line 3)"

# ---- 8. the reference graph (issue 18): top --retained text on every
# sample (a symbol reached from several roots has no dominator node), and
# an executable NOBITS section claiming 0xfffffff0 bytes under 400 MB
for f in samples/build/*.elf samples/frozen/build/*.elf; do
  timeout 20 "$FULL" top "$f" --retained --top 0 >"$OUT" 2>"$ERR"
  expect_eq "top --retained text on $f: exit 0" "$?" 0
done
timeout 20 "$FULL" top samples/build/arm-be.elf --retained --top 0 >"$OUT" 2>"$ERR"
expect_out "arm-be: a symbol reached from several roots says so" "(several roots)"
NB=tests/fuzz/regress/refgraph/nobits-exec-0xfffffff0.elf
# the memory bound: ulimit -v, or for an ASan build (whose shadow needs
# terabytes of address space) the largest allocation it may make
if (ulimit -v 400000 && "$FULL" --version) >/dev/null 2>&1; then MEM="ulimit -v 400000"
else MEM=":"; export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=400"; fi
for fmt in text json; do
  st=$( ($MEM; timeout 20 "$FULL" top "$NB" --retained -f $fmt >"$OUT" 2>"$ERR"; echo $?) )
  expect_eq "NOBITS .text of 0xfffffff0 bytes, top -f $fmt: exit 0 within 400 MB" "$st" 0
done
expect_out "the NOBITS section is one node, not a billion literals" '"nodes": 72'

# ---- 6. a closed output pipe: exit 2 with one line, never SIGPIPE (141)
st=$( { "$FLASHSIZE" analyze -f json "$E" 2>"$ERR"; echo $? >"$TMP/st"; } | head -c10 >/dev/null; cat "$TMP/st")
expect_eq "analyze -f json | head -c10: exit 2, not a signal" "$st" 2
expect_err "a closed pipe is said once" "write error on standard output: the reader closed the pipe"
expect_eq "said once" "$(grep -c 'write error' "$ERR")" 1
st=$( { "$FULL" top "$E" --retained --top 0 -f json 2>"$ERR"; echo $? >"$TMP/st"; } | head -c1 >/dev/null; cat "$TMP/st")
expect_eq "top -f json | head -c1: exit 2" "$st" 2
runt 2 "-o a full disk (a device is written to, not replaced): exit 2" analyze "$E" -o /dev/full
expect_err "-o a full disk: said" "/dev/full: write error: No space left on device"
check "/dev/full is still a device" test -c /dev/full
runt 0 "-o /dev/null: exit 0" analyze "$E" -o /dev/null
check "/dev/null is still a device" test -c /dev/null
st=$( { "$FLASHSIZE" analyze "$E" 2>"$ERR" >/dev/full; echo $?; } )
expect_eq "stdout on a full disk: exit 2" "$st" 2
expect_err "stdout on a full disk: said" "write error on standard output: No space left on device"

# ---- 9. a map line is read within the line: an OUTPUT( cut short takes no
# name from the lines after it (nor, on a mapped map's last line, from
# bytes past the file; fuzz_mapfile's regress/output-at-end.map under ASan)
printf 'Memory Configuration\n\nLinker script and memory map\n\nOUTPUT(\nLOAD x)\n' >"$TMP/cut.map"
runt 0 "map with 'OUTPUT(' cut short: read" analyze --map "$TMP/cut.map" -f json
expect_eq "its output file: empty, nothing from the next line" "$(jq -r '.output' "$OUT")" ""

finish
