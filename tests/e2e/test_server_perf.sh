#!/bin/sh
# What `flashsize serve` keeps to answer fast (docs/server.md, "Performance"),
# checked for staying right:
#   - the history rows come from summary columns written at record time
#     (schema v3): their errors and regions equal the analysis recorded;
#   - a v2 file served read-only (not migrated) answers the same history
#     from its regions and findings tables;
#   - the decoded base build kept for upload diffs is not used once the
#     base commit was recorded again in place by another process (the CLI);
#   - the history's budget is the rules file's limits, no build evaluated.
# Ground truth: size -A of the samples for the upload diffs' irom0 numbers;
# `flashsize analyze` of the same ELFs and `flashsize diff` of
# the two analyses; the budget file's numbers.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
. tests/e2e/server_lib.sh
S=samples/build
trap 'kill_servers; rm -rf "$TMP"' EXIT

upload() { # upload ANALYSIS COMMIT BRANCH: answer in $TMP/up.json, status in $CODE
  jq -n --slurpfile a "$1" --arg c "$2" --arg br "$3" \
    '{project: "mpy", board: "esp8266-2m", commit: $c, branch: $br, base: "main", analysis: $a[0]}' >"$TMP/body.json"
  CODE=$(curl -s -o "$TMP/up.json" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: application/json' --data-binary @"$TMP/body.json" "$URL/api/v1/builds")
}

DB="$TMP/sizes.db"
for s in esp8266-fits esp8266-nearfull esp8266-irom0-overflow; do
  "$FLASHSIZE" analyze --format json $S/$s.elf >"$TMP/$s.json" 2>/dev/null
  [ -s "$TMP/$s.json" ] || notok "analyze $s"
done
run 0 "token create" token create --db "$DB" --project mpy
TOK=$(cat "$OUT")
start_server perf --db "$DB" --rules-dir rules
check "server started" test -n "$PORT"

# --- summary columns ---------------------------------------------------------------
upload "$TMP/esp8266-fits.json" 1111aaaa main
expect_eq "upload of the base: 201" "$CODE" 201
upload "$TMP/esp8266-irom0-overflow.json" 2222bbbb pr
expect_eq "upload of a flagged PR build: 201" "$CODE" 201
curl -s "$URL/api/v1/projects/mpy/boards/esp8266-2m/history" >"$TMP/h3.json"
expect_eq "history: two builds, newest first" "$(jq -c '[.builds[].commit]' "$TMP/h3.json")" '["2222bbbb","1111aaaa"]'
expect_eq "history errors of the flagged build = the analysis's error findings" \
  "$(jq -c '.builds[0].errors' "$TMP/h3.json")" \
  "$(jq -c '[.findings[] | select(.severity == "error") | .id]' "$TMP/esp8266-irom0-overflow.json")"
expect_eq "... which is irom0-overflow" "$(jq -c '.builds[0].errors' "$TMP/h3.json")" '["irom0-overflow"]'
expect_eq "history errors of the base: none" "$(jq -c '.builds[1].errors' "$TMP/h3.json")" '[]'
expect_eq "history regions = the analysis's regions (used, length)" \
  "$(jq -cS '.builds[0].regions' "$TMP/h3.json")" \
  "$(jq -cS '[.regions[] | {key: .name, value: {used, length}}] | from_entries' "$TMP/esp8266-irom0-overflow.json")"
expect_eq "history main region used = irom0_0_seg used of the analysis" \
  "$(jq '.builds[1] | [.main_region, .used] | join(" ")' "$TMP/h3.json")" \
  "$(jq '[.regions[] | select(.name == "irom0_0_seg")][0] | ["irom0_0_seg", .used] | join(" ")' "$TMP/esp8266-fits.json")"
expect_eq "history budget: the rules file's limits only, nothing evaluated" \
  "$(jq -c '.budget | keys' "$TMP/h3.json")" '["file","limits"]'
expect_eq "history budget limit (main) = rules/budgets/esp8266-2m.ini (1M - 36K - 32K)" \
  "$(jq '.budget.limits["(main)"]' "$TMP/h3.json")" $((1048576 - 36864 - 32768))
expect_eq "the database has the columns filled" \
  "$(sqlite3 "$DB" "SELECT errors_json FROM builds WHERE commit_sha = '2222bbbb'")" '["irom0-overflow"]'

# --- the kept base build and a re-record in place -------------------------------------
jq -c '.diff' "$TMP/up.json" >"$TMP/diff1.json"
# irom0 before and after as size -A gives .irom0.text of the base and head ELFs
xs_irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
I_FITS=$(xs_irom0 samples/build/esp8266-fits.elf); I_NEAR=$(xs_irom0 samples/build/esp8266-nearfull.elf)
I_OVER=$(xs_irom0 samples/build/esp8266-irom0-overflow.elf)
expect_eq "upload diff: irom0 before, after, delta = size -A's" \
  "$(jq -c '[.. | objects | select(.name? == "irom0_0_seg" and has("delta"))][0] | [.before, .after, .delta]' "$TMP/diff1.json")" \
  "[$I_FITS,$I_OVER,$((I_OVER - I_FITS))]"
upload "$TMP/esp8266-irom0-overflow.json" 3333cccc pr
expect_eq "a second PR upload (base kept decoded): same diff" "$(jq -c '.diff' "$TMP/up.json")" "$(cat "$TMP/diff1.json")"
# Another process records the base commit again, in place, with other sizes.
run 0 "the CLI records the base commit again (nearfull)" record --db "$DB" -p mpy -b esp8266-2m -c 1111aaaa \
  --branch main "$TMP/esp8266-nearfull.json"
upload "$TMP/esp8266-irom0-overflow.json" 4444dddd pr
expect_eq "after the re-record the diff is against the new base (irom0 before, after, delta = size -A's)" \
  "$(jq -c '[.. | objects | select(.name? == "irom0_0_seg" and has("delta"))][0] | [.before, .after, .delta]' "$TMP/up.json")" \
  "[$I_NEAR,$I_OVER,$((I_OVER - I_NEAR))]"
check "... which differs from the first diff's" sh -c "[ \"\$(jq -c .diff '$TMP/up.json')\" != \"\$(cat '$TMP/diff1.json')\" ]"
expect_eq "the base is the same build id" "$(jq .base.id "$TMP/up.json")" 1
stop_server "$PID"

# --- a v2 file, served read-only ------------------------------------------------------
curl -s "$URL/api/v1/projects/mpy/boards/esp8266-2m/history" >/dev/null 2>&1
cp "$DB" "$TMP/v2.db"
sqlite3 "$TMP/v2.db" "DROP TRIGGER projects_gen_update; ALTER TABLE projects DROP COLUMN default_branch; DROP TRIGGER builds_gen_insert; DROP TRIGGER builds_gen_update; DROP TRIGGER builds_gen_delete;
  DROP TABLE store_generation; DROP INDEX builds_branch_time; DROP INDEX builds_history;
  CREATE INDEX builds_board_time ON builds(board_id, timestamp, id);
  ALTER TABLE builds DROP COLUMN errors_json; ALTER TABLE builds DROP COLUMN regions_json;
  PRAGMA user_version = 2; PRAGMA journal_mode = DELETE;" >/dev/null
start_server v3 --db "$DB" --rules-dir rules
curl -s "$URL/api/v1/projects/mpy/boards/esp8266-2m/history" >"$TMP/h3.json"
stop_server "$PID"
chmod 0444 "$TMP/v2.db"
start_server v2 --db "$TMP/v2.db" --rules-dir rules
check "v2 file served read-only" grep -q "read-only" "$TMP/v2.err"
curl -s "$URL/api/v1/projects/mpy/boards/esp8266-2m/history" >"$TMP/h2.json"
expect_eq "v2 history has the four builds" "$(jq '.builds | length' "$TMP/h2.json")" 4
expect_eq "v2 history = v3 history, byte for byte" "$(cat "$TMP/h2.json")" "$(cat "$TMP/h3.json")"
expect_eq "the v2 file was not migrated" "$(sqlite3 "$TMP/v2.db" 'PRAGMA user_version')" 2
stop_server "$PID"
finish
