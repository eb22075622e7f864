#!/bin/sh
# The forecast where users see it: the trailing block of `flashsize history`
# (text and JSON) and the "#### Forecast" block of the PR comment, the same
# bytes from `flashsize diff --forecast --format markdown` and from
# `flashsize bot --forecast`; plus the schema v2 store from the CLI (a v1
# database read as it is and migrated by a write, a damaged symbol set).
# Ground truth: a history made here from one analysis of esp8266-fits.elf
# with irom0_0_seg's used bytes set on a straight line, +100 B a build and
# a build a day, 500 B below the region's length at the newest build: it
# runs out in 5 builds, on the 5th day after the newest.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
DB="$TMP/h.db"
T0=1700000000
commas() { awk -v n="$1" 'BEGIN { s = ""; while (n >= 1000) { s = sprintf(",%03d", n % 1000) s; n = int(n / 1000) } print n s }'; }

"$FLASHSIZE" analyze --board esp8266-2m --format json $S/esp8266-fits.elf >"$TMP/fits.json" 2>/dev/null
L=$(jq '.regions[] | select(.name == "irom0_0_seg") | .length' "$TMP/fits.json")
# build i (0..4): used = L - 500 - 100 * (4 - i)
i=0
while [ $i -le 4 ]; do
  jq --argjson u $((L - 500 - 100 * (4 - i))) '(.regions[] | select(.name == "irom0_0_seg") | .used) = $u' \
    "$TMP/fits.json" >"$TMP/b$i.json"
  "$FLASHSIZE" record --db "$DB" -p mpy -b esp8266-2m -c "abcd000$i" --timestamp $((T0 + i * 86400)) "$TMP/b$i.json" >/dev/null
  i=$((i + 1))
done
USED=$((L - 500))
FULL_DATE=$(date -u -d @$((T0 + 9 * 86400)) +%F)
LINE="- forecast esp8266-2m: irom0_0_seg $(commas $USED) of $(commas "$L") B; +100.0 B per build over 5 builds; at this trend it runs out in 5 builds, around $FULL_DATE"

# --- history: the trailing forecast block --------------------------------------------
run 0 "history" history --db "$DB" --board esp8266-2m
expect_out "forecast block after the builds" "forecast - esp8266-2m: trend over the last 5 builds"
expect_eq "irom0 line: slope per build and per day, when, near" \
  "$(awk '$1 == "irom0_0_seg" && NF > 8 { $1 = $1; print }' "$OUT")" \
  "irom0_0_seg $(commas $USED) $(commas "$L") $(awk -v u=$USED -v l="$L" 'BEGIN { printf "%.1f%%", u * 100 / l }') +100.0 +100.0 in 5 builds, around $FULL_DATE <- near"
expect_eq "table rows unchanged: newest first, delta +100" "$(awk 'NR == 3 { print $1, $8 }' "$OUT")" "5 +100"
run 0 "history json" history --db "$DB" --board esp8266-2m --format json
expect_eq "json forecast of irom0" \
  "$(jq -c '.forecast.regions[] | select(.name == "irom0_0_seg") | [.bytes_per_build, .bytes_per_day, .builds_left, .days_left, .full_date, .near, .trend]' "$OUT")" \
  "[100,100,5,5,\"$FULL_DATE\",true,\"growing\"]"
expect_eq "json forecast window = the builds shown" "$(jq -c '[.forecast.builds, .forecast.window, (.builds | length)]' "$OUT")" "[5,20,5]"
expect_eq "other regions steady" "$(jq -c '[.forecast.regions[] | select(.name != "irom0_0_seg") | .trend] | unique' "$OUT")" '["steady"]'
run 0 "history --limit 3: forecast over the 3 shown" history --db "$DB" --board esp8266-2m --limit 3 --format json
expect_eq "three builds, still +100 a build" \
  "$(jq -c '[.forecast.builds, (.forecast.regions[] | select(.name == "irom0_0_seg") | .bytes_per_build)]' "$OUT")" "[3,100]"
run 0 "history of an unknown board: no forecast block" history --db "$DB" --board nope
check "no block for no builds" sh -c "! grep -q forecast '$OUT'"

# --- the PR comment ---------------------------------------------------------------------
run 0 "diff --forecast" diff --db "$DB" --format markdown --forecast build:4 build:5
cp "$OUT" "$TMP/diff.md"
expect_eq "the forecast block, before the details" \
  "$(sed -n '/^#### Forecast$/,/^<details>/p' "$TMP/diff.md")" \
  "$(printf '#### Forecast\n\n%s\n\n<details><summary>esp8266-2m: 0 symbols changed (0 added, 0 removed, 0 grown, 0 shrunk; net +0 B)</summary>' "$LINE")"
run 0 "diff without --forecast" diff --db "$DB" --format markdown build:4 build:5
expect_eq "same comment without the block" "$(grep -v -e '^#### Forecast$' -e '^- forecast ' "$TMP/diff.md" | uniq)" "$(uniq "$OUT")"
run 0 "bot --forecast (dry run)" bot --pr 1 --repo o/r --sha abcdef0 --dry-run --forecast --db "$DB" build:4 build:5
sed -n '2,/^--- end of comment ---$/p' "$OUT" | sed '$d' >"$TMP/bot.md"
check "bot comment = diff --forecast, byte for byte" cmp -s "$TMP/bot.md" "$TMP/diff.md"
check "bot comment: the forecast line made from the history written here" grep -qxF -- "$LINE" "$TMP/bot.md"
run 0 "bot --forecast --board" bot --pr 1 --repo o/r --sha abcdef0 --dry-run --forecast --board esp8266-2m --db "$DB" build:4 build:5
sed -n '2,/^--- end of comment ---$/p' "$OUT" | sed '$d' >"$TMP/bot2.md"
run 0 "diff --forecast --board" diff --db "$DB" --format markdown --forecast --board esp8266-2m build:4 build:5
check "the same with --board" cmp -s "$TMP/bot2.md" "$OUT"

# a flat history: nothing is near, the comment is the plain one
for i in 0 1 2; do
  "$FLASHSIZE" record --db "$TMP/flat.db" -p mpy -b esp8266-2m -c "feed000$i" --timestamp $((T0 + i * 86400)) "$TMP/fits.json" >/dev/null
done
run 0 "flat history: diff --forecast" diff --db "$TMP/flat.db" --format markdown --forecast build:1 build:3
cp "$OUT" "$TMP/flat-f.md"
run 0 "flat history: diff" diff --db "$TMP/flat.db" --format markdown build:1 build:3
check "no block when nothing is near" cmp -s "$OUT" "$TMP/flat-f.md"

run 2 "--forecast needs markdown" diff --db "$DB" --format json --forecast build:4 build:5
expect_err "says so" "--forecast: only with --format markdown"
run 2 "--forecast with a missing database" diff --forecast --format markdown "$TMP/b0.json" "$TMP/b1.json" --db "$TMP/none.db"
expect_err "names the database" "$TMP/none.db: cannot open"

# --- the store, schema v2, from the CLI ------------------------------------------------
cp tests/data/store/v1.db "$TMP/v1.db"
run 0 "a v1 database reads as it is" history --db "$TMP/v1.db" --board board --format json
expect_eq "three v1 builds, used bytes" "$(jq -c '[.builds[] | .used]' "$OUT")" "[2100,2004,2000]"
expect_eq "not migrated by reading" "$(sqlite3 "$TMP/v1.db" 'PRAGMA user_version')" 1
run 0 "v1 builds diff" diff --db "$TMP/v1.db" --format json build:1 build:2
expect_eq "sym_07 grew by 4" "$(jq -c '.boards[0].symbols.changes | map([.name, .delta])' "$OUT")" '[["sym_07",4]]'
run 0 "recording migrates it" record --db "$TMP/v1.db" -p fixture -b board -c 00000004 --timestamp $((T0 + 5 * 86400)) tests/data/store/v1-2.json
expect_eq "schema version 5 (the current one)" "$(sqlite3 "$TMP/v1.db" 'PRAGMA user_version')" 5
expect_eq "the new build shares build 2's symbols" "$(sqlite3 "$TMP/v1.db" 'SELECT count(DISTINCT symset_id) FROM builds')" 2

sqlite3 "$DB" "UPDATE symsets SET data = x'ff' WHERE id = (SELECT symset_id FROM builds WHERE id = 5)"
run 2 "a damaged symbol set" diff --db "$DB" --format json build:4 build:5
expect_err "names the file and the set" "$DB: corrupted symbol set"
run 0 "history does not need the symbols" history --db "$DB" --board esp8266-2m
finish
