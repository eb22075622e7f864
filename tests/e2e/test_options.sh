#!/bin/sh
# test_options.sh - the commands' option tables (analyzer/cli/parseopt.c):
# every option a command's --help lists is one it accepts, with an argument
# exactly when the help shows one; the shared kinds (whole number, number
# with a range, repeatable list with its most, enum) give the messages and
# exit status 2 they always gave; unknown options print the usage.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh

ELF=samples/build/esp8266-fits.elf
[ -f "$ELF" ] || ELF=$(ls samples/build/esp8266*.elf | head -n 1)

# The commands, from the tool's own list.
cmds=$("$FLASHSIZE" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
expect_eq "the tool lists one command per analyzer/cli/cmd_NAME.c" "$(echo "$cmds" | tr ' ' '\n' | sort | tr '\n' ' ')" \
  "$(ls analyzer/cli/cmd_*.c | sed 's|.*/cmd_||; s|\.c$||' | sort | tr '\n' ' ')"

for c in $cmds; do
  run 0 "$c --help exits 0" "$c" --help
  if head -n 1 "$OUT" | grep -q "^usage: flashsize $c"; then ok "$c --help opens with its usage"
  else notok "$c --help opens with its usage" "$(head -n 1 "$OUT")"; fi
  expect_out "$c --help lists -h, --help" "-h, --help"
  [ "$c" = boards ] && continue # its bad options say "unknown argument" (below)
  # Every listed long option: with an argument in the help ("--top N"),
  # given last without one it is "requires an argument"; without one
  # ("--retained"), "--NAME=x" is "doesn't allow an argument".
  # (run sets $name: these are $o and $a; no pipe, so that the count stays)
  sed -n 's/^  \(-., \|    \)--\([a-z][a-z-]*\)\( [^ ]\)\{0,1\}.*/\2\3/p' "$OUT" >"$TMP/opts"
  while read -r o a; do
    { [ "$o" = help ] || [ "$o" = objs ]; } && continue # --objs: natmod reads it from argv itself
    if [ -n "$a" ]; then
      run 2 "$c --$o without its argument" "$c" "--$o"
      expect_err "$c --$o takes an argument" "option '--$o' requires an argument"
    else
      run 2 "$c --$o=x" "$c" "--$o=x"
      expect_err "$c --$o is a flag" "option '--$o' doesn't allow an argument"
    fi
  done <"$TMP/opts"
  run 2 "$c: an unknown option" "$c" --no-such-option
  expect_err "$c: getopt names it" "unrecognized option '--no-such-option'"
  expect_err "$c: and the usage follows" "usage: flashsize $c"
done

run 2 "boards: an unknown option" boards --no-such-option
expect_err "boards: unknown argument" "boards: unknown argument '--no-such-option'"
run 0 "boards --rules-dir DIR" boards --rules-dir "$FLASHSIZE_RULES"
expect_out "boards lists esp8266" "esp8266"

# Whole numbers, ranges, enums (checked after every option), lists.
run 2 "--top x" analyze "$ELF" --top x
expect_err "--top: not a whole number" "--top: 'x' is not a whole number"
run 2 "--top -1" analyze "$ELF" --top -1
expect_err "--top: a negative number is not whole" "--top: '-1' is not a whole number"
run 2 "--headroom 101" analyze "$ELF" --headroom 101
expect_err "--headroom: out of its range" "--headroom: '101' is not a number from 1 to 100"
run 2 "history --limit 0" history --board b --limit 0
expect_err "--limit: out of its range" "--limit: '0' is not from 1 to 100000"
max_window=$(sed -n 's/^#define FS_FORECAST_MAX_WINDOW *\([0-9]*\).*/\1/p' analyzer/analyze/forecast.h)
run 2 "forecast -n over the most" forecast --board b -n $((max_window + 1))
expect_err "--builds: out of its range" "--builds: '$((max_window + 1))' is not from 2 to $max_window"
run 2 "--format xml" analyze "$ELF" -f xml
expect_err "--format: the choices" "--format: unknown format 'xml' (text, json or csv)"
run 2 "diff --format csv" diff a b --format csv
expect_err "--format: diff's choices" "--format: unknown format 'csv' (text, json or markdown)"
run 2 "a bad --top before a bad --format" analyze "$ELF" -f xml --top x
expect_err "the options are read first" "--top: 'x' is not a whole number"
run 0 "the last --format wins" analyze "$ELF" -f xml --format=json
expect_out "--format=json: JSON" '"version"'
run 2 "serve --threads 0" serve --threads 0
expect_err "serve: its own range message" "--threads: 0 is out of range (1 to 256)"
run 2 "bot --pr 0" bot --pr 0
expect_err "bot: its own --pr check" "--pr: '0' is not a pull request number"

max_roots=$(sed -n 's/^#define FS_REFGRAPH_MAX_ROOT_NAMES *\([0-9]*\).*/\1/p' analyzer/analyze/refgraph.h)
roots=""
i=0
while [ $i -le "$max_roots" ]; do roots="$roots --root r$i"; i=$((i + 1)); done
# shellcheck disable=SC2086
run 2 "one --root over the most" top "$ELF" $roots
expect_err "--root: the most" "--root: more than $max_roots given"
max_list=$(sed -n 's/^#define CLI_MAX_LIST_OPTS *\([0-9]*\).*/\1/p' analyzer/cli/cli.h)
dirs=""
i=0
while [ $i -le "$max_list" ]; do dirs="$dirs -L d$i"; i=$((i + 1)); done
# shellcheck disable=SC2086
run 2 "one -L over the most" analyze "$ELF" $dirs
expect_err "-L: the most" "-L: more than $max_list given"
run 2 "--defsym without =" analyze "$ELF" --defsym X
expect_err "--defsym: NAME=EXPR" "--defsym: expected NAME=EXPR, got 'X'"

# Operands.
run 2 "no operand" frozen
expect_err "frozen: none given" "frozen: no firmware ELF given"
expect_err "frozen: the usage follows" "usage: flashsize frozen FIRMWARE.elf"
run 2 "two operands" frozen "$ELF" "$ELF"
expect_err "frozen: more than one" "frozen: more than one firmware ELF given"
run 0 "options after the operand" frozen "$ELF" -f json
expect_out "frozen -f json after the ELF: JSON" '"modules"'

echo "1..$TESTS_RUN"
