#!/bin/sh
# CLI behaviour of the size history: `flashsize record`, `diff`, `check` and
# `history` - exit codes, idempotent re-recording, and a corrupted, locked or
# read-only database (exit 2, a message naming the file, no build lost).
# Ground truth for numbers: `xtensa-lx106-elf-size -A` of the samples.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
DB="$TMP/sizes.db"
export FLASHSIZE_DB_BUSY_MS=200
irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
commas() { awk -v n="$1" 'BEGIN { s = ""; while (n >= 1000) { s = sprintf(",%03d", n % 1000) s; n = int(n / 1000) } print n s }'; }
A=$(irom0 $S/esp8266-fits.elf)
B=$(irom0 $S/esp8266-nearfull.elf)

# --- record -------------------------------------------------------------------
run 2 "record without --commit" record --db "$DB" -p mpy -b esp8266-2m $S/esp8266-fits.elf
expect_err "names the missing options" "--project, --board and --commit are required"
run 0 "record an ELF" record --db "$DB" -p mpy -b esp8266-2m -c 1111aaaa --branch main --timestamp 1700000000 $S/esp8266-fits.elf
expect_out "build 1" "recorded build 1"
"$FLASHSIZE" analyze --board esp8266-2m --format json $S/esp8266-nearfull.elf >"$TMP/near.json" 2>/dev/null
run 0 "record a second ELF" record --db "$DB" -p mpy -b esp8266-2m -c 2222bbbb --branch main --timestamp 1700000060 $S/esp8266-nearfull.elf
expect_out "build 2" "recorded build 2"
run 0 "re-record the same commit" record --db "$DB" -p mpy -b esp8266-2m -c 2222bbbb --branch main --timestamp 1700000060 $S/esp8266-nearfull.elf
expect_out "same build id" "recorded build 2"
expect_eq "still two builds" "$(sqlite3 "$DB" 'SELECT count(*) FROM builds')" 2
# a JSON analysis, kept in a database of its own
run 0 "record a JSON analysis" record --db "$TMP/json.db" -p mpy -b esp8266-2m -c 2222bbbb "$TMP/near.json"
run 0 "it reads back as recorded" diff --db "$TMP/json.db" --format json "$TMP/near.json" build:1
expect_eq "no change against its own file" "$(jq -c '.boards[0] | [.symbols.changed, (.sections | length), (.findings.appeared | length)]' "$OUT")" "[0,0,0]"
FLASHSIZE_DB="$DB" "$FLASHSIZE" record -p mpy -b esp8266-2m -c 1111aaaa --branch main --timestamp 1700000000 $S/esp8266-fits.elf >/dev/null 2>&1
expect_eq "\$FLASHSIZE_DB is used" "$(sqlite3 "$DB" 'SELECT count(*) FROM builds')" 2

# --- history ----------------------------------------------------------------
run 0 "history" history --db "$DB" --board esp8266-2m
expect_eq "newest first, delta = irom0 difference" "$(awk 'NR == 3 { print $1, $8 }' "$OUT")" "2 +$(commas $((B - A)))"
run 0 "history json" history --db "$DB" --board esp8266-2m --format json
expect_eq "json delta" "$(jq '.builds[0].delta' "$OUT")" "$((B - A))"
expect_eq "json used" "$(jq '.builds[1].used' "$OUT")" "$A"
run 2 "history without --board" history --db "$DB"
run 2 "history of a missing database" history --db "$TMP/none.db" --board x
expect_err "names the file" "$TMP/none.db: cannot open"

# --- diff ---------------------------------------------------------------------
run 0 "diff two stored builds" diff --db "$DB" --format json build:1 commit:2222bbbb
expect_eq "irom0 delta = size -A difference" \
  "$(jq '.boards[0].regions[] | select(.name == "irom0_0_seg") | .delta' "$OUT")" "$((B - A))"
cp "$OUT" "$TMP/stored.json"
run 0 "diff two ELFs" diff --board esp8266-2m --format json $S/esp8266-fits.elf $S/esp8266-nearfull.elf
check "ELFs and stored builds give the same diff" cmp -s "$OUT" "$TMP/stored.json"
run 0 "markdown" diff --db "$DB" --format markdown build:1 build:2
expect_eq "marker first" "$(head -n 1 "$OUT")" "<!-- flashsize-report -->"
# the summary's numbers from size -A (A, B) and ld's irom0_0_seg length
L=$(memusage esp8266-nearfull irom0_0_seg length)
want=$(diff_summary esp8266-2m "$A" "$B" "$L")
expect_out "summary line: delta, percent and use from size -A and ld" "$want"
run 1 "diff to an overflowing build exits 1" diff $S/esp8266-fits.elf $S/esp8266-irom0-overflow.elf
run 2 "diff with one input" diff $S/esp8266-fits.elf
run 2 "unknown build" diff --db "$DB" build:1 build:9
expect_err "names the build" "no build 9"

# --- check --------------------------------------------------------------------
printf '[budget]\nboard = esp8266-2m\nmax = %s\n' "$A" >"$TMP/at.ini"
printf '[budget]\nboard = esp8266-2m\nmax = %s\n' "$((A - 1))" >"$TMP/under.ini"
run 0 "check passes at max = used" check $S/esp8266-fits.elf --rules "$TMP/at.ini"
run 1 "check fails at max = used - 1" check $S/esp8266-fits.elf --rules "$TMP/under.ini"
expect_out "prints the rule with its numbers" "FAIL  region irom0_0_seg max: used"
expect_out "over by one byte" "(over by 1 B)"
run 1 "stored build, growth over the limit" check --db "$DB" build:2 --rules rules/budgets/esp8266-2m.ini --base build:1
expect_out "growth rule named" "region irom0_0_seg max_growth_bytes"
printf '[budget]\nboard = esp8266-2m\nmax = 1M\nbogus = 3\n' >"$TMP/bad.ini"
run 2 "unknown key" check $S/esp8266-fits.elf --rules "$TMP/bad.ini"
expect_err "file:line" "$TMP/bad.ini:4: unknown key 'bogus'"
printf '[budget]\nmax = 1M\n' >"$TMP/noboard.ini"
run 2 "missing board" check $S/esp8266-fits.elf --rules "$TMP/noboard.ini"
expect_err "file:line" "$TMP/noboard.ini:1: missing 'board = NAME'"
printf '[budget]\nboard = esp8266-1m\nmax = 1M\n' >"$TMP/other.ini"
run 2 "rules for another board" check "$TMP/near.json" --rules "$TMP/other.ini"
expect_err "names both boards" "is for board 'esp8266-2m', the rules in $TMP/other.ini for 'esp8266-1m'"

# --- hostile JSON: exit 2, nothing stored --------------------------------------
jq '.schema_version = 7' "$TMP/near.json" >"$TMP/v7.json"
run 2 "future schema version" record --db "$DB" -p mpy -b esp8266-2m -c 3333 "$TMP/v7.json"
expect_err "names file and problem" "$TMP/v7.json: schema_version 7 is not supported"
jq '.symbols[0].size = "big"' "$TMP/near.json" >"$TMP/type.json"
run 2 "wrong type" record --db "$DB" -p mpy -b esp8266-2m -c 3333 "$TMP/type.json"
expect_err "names the field" "symbols[0].size: expected a non-negative integer"
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "["; for (i = 0; i < 5000; i++) printf "]" }' >"$TMP/deep.json"
run 2 "deep nesting" record --db "$DB" -p mpy -b esp8266-2m -c 3333 "$TMP/deep.json"
expect_err "depth" "maximum parsing depth"
expect_eq "nothing stored" "$(sqlite3 "$DB" 'SELECT count(*) FROM builds')" 2

# --- damaged databases ----------------------------------------------------------
cp "$DB" "$TMP/good.db"
head -c 40000 /dev/urandom >"$DB"
run 2 "corrupted database" record --db "$DB" -p mpy -b esp8266-2m -c 3333cccc $S/esp8266-fits.elf
expect_err "names the file" "$DB: not a flashsize database or corrupted"
run 2 "history on a corrupted database" history --db "$DB" --board esp8266-2m
cp "$TMP/good.db" "$DB"
run 0 "restored: both builds read back" history --db "$DB" --board esp8266-2m --format json
expect_eq "two builds" "$(jq '.builds | length' "$OUT")" 2

chmod 444 "$DB"
run 2 "read-only database" record --db "$DB" -p mpy -b esp8266-2m -c 3333cccc $S/esp8266-fits.elf
expect_err "names the file" "$DB: cannot write the database: the file is read-only"
run 0 "a read-only database can still be read" diff --db "$DB" build:1 build:2
chmod 644 "$DB"

(echo "BEGIN IMMEDIATE; INSERT INTO projects(name) VALUES('lock');"; sleep 2; echo "ROLLBACK;") | sqlite3 "$DB" &
lock=$!
sleep 0.5
run 2 "locked database" record --db "$DB" -p mpy -b esp8266-2m -c 3333cccc $S/esp8266-fits.elf
expect_err "names the file and the lock" "$DB: database is locked by another writer (waited 200 ms)"
wait $lock
run 0 "lock released: the third build goes in" record --db "$DB" -p mpy -b esp8266-2m -c 3333cccc --timestamp 1700000120 $S/esp8266-fits.elf
expect_out "build 3" "recorded build 3"
run 0 "all three read back" history --db "$DB" --board esp8266-2m --format json
expect_eq "three builds, first two intact" "$(jq -c '[.builds[] | .used]' "$OUT")" "[$A,$B,$A]"
finish
