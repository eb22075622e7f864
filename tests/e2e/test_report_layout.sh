#!/bin/sh
# The PR comment's layout (flashsize bot --dry-run, = flashsize diff --format
# markdown plus budgets), modelled on MicroPython's code-size report: one line
# per board with its findings nested under it; a headroom warning replaced by
# an overflow is an escalation, not "cleared"; an unchanged board is one line
# and no table; only violated and warned budget rules are listed (the passing
# ones counted); the status names the worst board; a report over GitHub's
# 65,536-character limit loses its details before its summary.
# Ground truth: `xtensa-lx106-elf-size -A` of the samples.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
SHA=0123456789abcdef0123456789abcdef01234567
irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
comment() { sed -n '2,/^--- end of comment ---$/p' "$OUT" | sed '$d' >"$TMP/$1.md"; }
status() { sed -n 's/^status [a-z]* on [0-9a-f]*: flashsize: //p' "$OUT"; }
FITS=$(irom0 $S/esp8266-fits.elf); NEAR=$(irom0 $S/esp8266-nearfull.elf); WIN=$(irom0 $S/esp8266-window.elf)
LEN=$((0xF7000))

# --- an escalation: nearfull's headroom warning becomes the window's overflow -----------
run 1 "nearfull -> window: exit 1" bot --dry-run --pr 1 --repo o/r --sha $SHA --board esp8266-2m \
  $S/esp8266-nearfull.elf $S/esp8266-window.elf
comment esc
D=$(commas $((WIN - NEAR)))
P=$(awk -v w="$WIN" 'BEGIN { printf "%.1f%%", w * 100 / 1011712 }')
expect_eq "the board line: irom0 +$D B (size -A), fail" "$(sed -n 4p "$TMP/esc.md" | sed 's/ (+[0-9.]*%)//')" \
  "- esp8266-2m: irom0 +$D B $P used - **fail**"
expect_eq "under it: the escalation" "$(sed -n 5p "$TMP/esc.md" | cut -c1-82)" \
  "  - **escalated: warning \`region-headroom\` -> error \`irom0-overflow\` (.irom0.text)"
check "it says by how much (size -A: $((WIN - LEN)) bytes over)" grep -qF "over by $((WIN - LEN)) bytes" "$TMP/esc.md"
check "then the new window error, under the board" grep -q '^  - \*\*new error `window-exhausted`' "$TMP/esc.md"
check "the headroom warning is not reported cleared" sh -c "! grep -q 'cleared warning' '$TMP/esc.md'"

# --- two boards: findings under their own board, the status names the failing one -------
run 1 "a passing and a failing board: exit 1" bot --dry-run --pr 1 --repo o/r --sha $SHA --board esp8266-2m \
  $S/esp8266-fits.elf $S/esp8266-nearfull.elf $S/esp8266-nearfull.elf $S/esp8266-window.elf
comment two
NP=$(awk -v n="$NEAR" -v f="$FITS" 'BEGIN { printf "%+.2f%%) %.1f%%", (n - f) * 100 / f, n * 100 / 1011712 }')
expect_eq "line 4: the first board (size -A)" "$(sed -n 4p "$TMP/two.md")" "- esp8266-2m: irom0 +$(commas $((NEAR - FITS))) B ($NP used"
check "line 5: its warning under it" sh -c "sed -n 5p '$TMP/two.md' | grep -q '^  - \*\*new warning \`region-headroom\` (irom0\\\\_0\\\\_seg)'"
expect_eq "line 6: the second board, failing, its escalation under it" \
  "$(sed -n 6p "$TMP/two.md" | sed 's/ (+[0-9.]*%)//')" "- esp8266-2m: irom0 +$D B $P used - **fail**"
check "line 7: the escalation" sh -c "sed -n 7p '$TMP/two.md' | grep -q '^  - \*\*escalated: '"
# the first board grew more (size -A), the status still names the failing one
expect_eq "the status names the failing board, not the largest change" "$(status)" \
  "esp8266-2m: irom0 +$D B, $P used; 2 error findings"

# --- an unchanged board: one line, no table ------------------------------------------------
run 0 "an unchanged board and a changed one: exit 0" bot --dry-run --pr 1 --repo o/r --sha $SHA --board esp8266-2m \
  $S/esp8266-fits.elf $S/esp8266-fits.elf $S/esp8266-fits.elf $S/esp8266-nearfull.elf
comment same
FP=$(awk -v f="$FITS" 'BEGIN { printf "%.1f%%", f * 100 / 1011712 }')
expect_eq "the unchanged board is one line" "$(sed -n 4p "$TMP/same.md")" "- esp8266-2m: irom0 +0 B (+0.00%) $FP used, no change"
expect_eq "one table only (the changed board's)" "$(grep -c '^<details>' "$TMP/same.md")" 1
expect_eq "the table is the changed board's" "$(grep '^<details>' "$TMP/same.md" | sed 's/: .*//')" "<details><summary>esp8266-2m"

# --- budgets: only violated and warned rules, the passing ones counted ---------------------
printf '[budget]\nboard = esp8266-2m\nmax = %s\nwarn_percent = 90\n[budget region iram1_0_seg]\nmax = 32K\n[budget region dram0_0_seg]\nmax = 80K\n' \
  "$((NEAR - 1))" >"$TMP/b.ini"
run 1 "a violated budget: exit 1" bot --dry-run --pr 1 --repo o/r --sha $SHA --board esp8266-2m --rules "$TMP/b.ini" \
  $S/esp8266-fits.elf $S/esp8266-nearfull.elf
comment bud
expect_eq "the budget section: the failed max, the warning, the two passing rules counted" \
  "$(sed -n '/^#### Budgets/,$p' "$TMP/bud.md" | grep -v '^$' | cut -c1-51 | tr '\n' '|')" \
  "#### Budgets (b.ini)|- **FAIL** region irom0_0_seg max: used $(commas "$NEAR") B >|- WARN region irom0_0_seg warn_percent: 95.50% used|2 rules pass.|**Budgets: fail** - 1 rule violated.|"
check "no passing rule is listed" sh -c "! grep -q '^- pass ' '$TMP/bud.md'"

# --- over GitHub's limit: the details go, the board lines and the result stay --------------
"$FLASHSIZE" diff --board esp8266-2m --format json $S/esp8266-fits.elf $S/esp8266-nearfull.elf >"$TMP/d.json"
MSG=$(printf '%0400d' 0 | tr 0 x)
jq --arg m "$MSG" '.boards[0].findings.appeared += [range(0; 200) | {id: "big", severity: "warning", subject: ("s" + tostring), message: $m}]' \
  "$TMP/d.json" >"$TMP/big.json"
run 0 "a report of ~90,000 characters: exit 0" bot --dry-run --pr 1 --repo o/r --sha $SHA --diff "$TMP/big.json"
comment big
SIZE=$(wc -c <"$TMP/big.md" | tr -d ' ')
check "the comment fits GitHub's limit ($SIZE <= 65536)" test "$SIZE" -le 65536
check "it starts with the board line" sh -c "sed -n 4p '$TMP/big.md' | grep -q '^- esp8266-2m: irom0 +'"
check "the details were cut first" grep -q "^_Details cut: the report is larger than GitHub's 65,536-character comment limit._" "$TMP/big.md"
check "no table is left" sh -c "! grep -q '<details>' '$TMP/big.md'"
expect_eq "the result line is the last" "$(tail -n 1 "$TMP/big.md")" "**Result: pass** - no error findings."
finish
