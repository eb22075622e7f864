#!/bin/sh
# A project's default branch over the API (issue 15): CI-style uploads of
# main builds and of a failing pull request, then
#   - the board's state (GET .../boards: latest, its errors and regions) is
#     main's newest build, not the newer failing PR;
#   - the PR upload's base is its parent's build, with the diff;
#   - history rows: prev/delta per branch, base for the PR;
#   - the default branch set over PUT (token of the project) and by the CLI;
#   - `flashsize history` gives the same per-branch deltas;
#   - drill-down: symbol search, a symbol's and a frozen module's history.
# Ground truth: size -A and nm -S of the samples, the analysis JSON.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
. tests/e2e/server_lib.sh
S=samples/build
F=samples/frozen/build
trap 'kill_servers; rm -rf "$TMP"' EXIT
irom() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" {print $2}'; }
FITS=$(irom $S/esp8266-fits.elf)
NEAR=$(irom $S/esp8266-nearfull.elf)
BOOT=$(irom $S/esp8266-boot-overflow.elf)
T0=1767225600
commas() { awk -v n="$1" 'BEGIN { s = ""; while (n >= 1000) { s = sprintf(",%03d", n % 1000) s; n = int(n / 1000) } print n s }'; }

DB="$TMP/sizes.db"
run 0 "project set before the first build" project mpy --default-branch main --db "$DB"
expect_out "says the branch" "mpy: default branch main"
run 0 "token create" token create --db "$DB" --project mpy
TOK=$(cat "$OUT")
run 0 "token for another project" token create --db "$DB" --project other
TOK2=$(cat "$OUT")
start_server trunk --db "$DB" --web web --rules-dir rules
check "server started" test -n "$PORT"

# upload NAME ELF COMMIT BRANCH DAY [PR [PARENT]]: the analysis as JSON
upload() {
  "$FLASHSIZE" analyze --board esp8266-2m --rules-dir rules --format json "$2" >"$TMP/an.json" 2>/dev/null
  jq -n --slurpfile a "$TMP/an.json" --arg c "$3" --arg br "$4" --argjson ts $((T0 + $5 * 86400)) \
    --argjson pr "${6:-0}" --arg parent "${7:-}" \
    '{project: "mpy", board: "esp8266-2m", commit: $c, branch: $br, timestamp: $ts, pr: $pr, analysis: $a[0]}
     + (if $parent == "" then {} else {parent: $parent} end)' >"$TMP/up.json"
  CODE=$(curl -s -o "$TMP/$1" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
    --data-binary @"$TMP/up.json" "$URL/api/v1/builds")
}
upload m1 $S/esp8266-fits.elf 1111aaaa main 0
expect_eq "main 1: 201" "$CODE" 201
upload m2 $S/esp8266-nearfull.elf 2222bbbb main 1
expect_eq "main 2: 201, base main 1" "$CODE $(jq -c '[.base.commit, .base_branch]' "$TMP/m2")" '201 ["1111aaaa","main"]'
M2=$(jq .id "$TMP/m2")
upload p1 $S/esp8266-boot-overflow.elf 9999eeee pr-5 2 5 1111aaaa
expect_eq "failing PR: 201, verdict fail" "$CODE $(jq -r .verdict "$TMP/p1")" "201 fail"
P1=$(jq .id "$TMP/p1")
expect_eq "PR's base is its parent's build (not main's newest)" "$(jq -r .base.commit "$TMP/p1")" 1111aaaa
expect_eq "PR diff: irom0 delta against the parent (size -A)" \
  "$(jq '.diff.boards[0].regions[] | select(.name == "irom0_0_seg") | .delta' "$TMP/p1")" "$((BOOT - FITS))"

# --- the board's state is main's ----------------------------------------------------
curl -s "$URL/api/v1/projects/mpy/boards" >"$TMP/boards"
expect_eq "boards: default branch main" "$(jq -r .default_branch "$TMP/boards")" main
expect_eq "board state = main's newest build, on the default branch" \
  "$(jq -c '.boards[0].latest | [.id, .commit, .branch, .on_default_branch]' "$TMP/boards")" "[$M2,\"2222bbbb\",\"main\",true]"
expect_eq "board state: main's errors, not the PR's boot-segments-overflow" "$(jq -c '.boards[0].latest.errors' "$TMP/boards")" \
  "$(sqlite3 "$DB" "SELECT errors_json FROM builds WHERE id = $M2")"
expect_eq "board state: main's irom0 used (size -A)" "$(jq '.boards[0].latest.regions.irom0_0_seg.used' "$TMP/boards")" "$NEAR"
expect_eq "the PR build itself is flagged" "$(sqlite3 "$DB" "SELECT errors_json FROM builds WHERE id = $P1")" '["boot-segments-overflow"]'

# --- history: per-branch deltas, the PR's base -----------------------------------------
upload m3 $S/esp8266-fits.elf 3333cccc main 3
M3=$(jq .id "$TMP/m3")
upload p2 $S/esp8266-nearfull.elf 9999ffff pr-5 4 5
curl -s "$URL/api/v1/projects/mpy/boards/esp8266-2m/history" >"$TMP/h"
expect_eq "history rows: [commit, prev commit, delta, base commit]" \
  "$(jq -c '(.builds | map({key: (.id | tostring), value: .commit}) | from_entries) as $c
            | [.builds[] | [.commit, $c[(.prev // 0) | tostring], .delta, $c[(.base // 0) | tostring]]]' "$TMP/h")" \
  "[[\"9999ffff\",\"9999eeee\",$((NEAR - BOOT)),\"3333cccc\"],[\"3333cccc\",\"2222bbbb\",$((FITS - NEAR)),null],[\"9999eeee\",null,null,\"1111aaaa\"],[\"2222bbbb\",\"1111aaaa\",$((NEAR - FITS)),null],[\"1111aaaa\",null,null,null]]"
expect_eq "history: default branch" "$(jq -r .default_branch "$TMP/h")" main
run 0 "flashsize history" history --db "$DB" --board esp8266-2m --format json
expect_eq "CLI history: the same per-branch deltas" "$(jq -c '[.builds[].delta]' "$OUT")" \
  "[$((NEAR - BOOT)),$((FITS - NEAR)),null,$((NEAR - FITS)),null]"
run 0 "flashsize history text" history --db "$DB" --board esp8266-2m
expect_eq "text: 3333cccc's delta is against main's 2222bbbb" "$(awk '$2 == "3333cccc" {print $8}' "$OUT")" "-$(commas $((NEAR - FITS)))"

# --- the default branch, changed over the API ----------------------------------------
put() { CODE=$(curl -s -o "$TMP/put" -w '%{http_code}' -X PUT -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
  --data-binary "$2" "$URL/api/v1/projects/mpy"); }
put "$TOK" '{"default_branch": "pr-5"}'
expect_eq "PUT default branch: 200" "$CODE $(jq -c . "$TMP/put")" '200 {"project":"mpy","default_branch":"pr-5"}'
expect_eq "the board's state follows it" "$(curl -s "$URL/api/v1/projects/mpy/boards" | jq -r '.boards[0].latest.commit')" 9999ffff
put "$TOK2" '{"default_branch": "main"}'
expect_eq "another project's token: 403" "$CODE" 403
put "" '{"default_branch": "main"}'
expect_eq "no token: 401" "$CODE" 401
put "$TOK" '{"default_branch": ""}'
expect_eq "empty branch: 400" "$CODE" 400
put "$TOK" '[1'
expect_eq "bad JSON: 400" "$CODE" 400
run 0 "CLI sets it back" project mpy --default-branch main --db "$DB"
expect_eq "and the state is main's again" "$(curl -s "$URL/api/v1/projects/mpy/boards" | jq -c '.boards[0].latest.id')" "$M3"
run 0 "CLI shows it" project mpy --db "$DB"
expect_out "shown" "mpy: default branch main"
run 2 "CLI without a name" project --db "$DB"

# --- drill-down ------------------------------------------------------------------------
big=$(xtensa-lx106-elf-nm -S --size-sort $S/esp8266-fits.elf | tail -n 1)
bigname=$(echo "$big" | awk '{print $4}')
bigsize=$(printf '%d' "0x$(echo "$big" | awk '{print $2}')")
part=$(echo "$bigname" | cut -c2-6)
curl -s "$URL/api/v1/builds/$M3/symbols?q=$part&limit=1000" >"$TMP/sym"
expect_eq "symbol search: every match contains the text" "$(jq --arg p "$part" '[.symbols[] | select(.name | ascii_downcase | contains($p | ascii_downcase) | not)] | length' "$TMP/sym")" 0
expect_eq "symbol search: the largest symbol is found with its size (nm -S)" \
  "$(jq -c --arg n "$bigname" '[.symbols[] | select(.name == $n) | .size]' "$TMP/sym")" "[$bigsize]"
expect_eq "symbol search: as many as nm lists" "$(jq .matches "$TMP/sym")" \
  "$(xtensa-lx106-elf-nm -S $S/esp8266-fits.elf | awk -v p="$part" 'NF == 4 && index(tolower($4), tolower(p)) {n++} END {print n + 0}')"
expect_eq "unknown build: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/builds/999/symbols?q=x")" 404
curl -s "$URL/api/v1/projects/mpy/boards/esp8266-2m/symbol-history?name=$bigname" >"$TMP/sh"
expect_eq "symbol history along main (nm -S of each build)" "$(jq -c '[.branch, [.builds[] | [.commit, .size]]]' "$TMP/sh")" \
  "[\"main\",[[\"3333cccc\",$bigsize],[\"2222bbbb\",$(xtensa-lx106-elf-nm -S $S/esp8266-nearfull.elf | awk -v n="$bigname" '$4 == n {printf "%d", "0x" $2}' | xargs printf '%d')],[\"1111aaaa\",$bigsize]]]"
expect_eq "symbol history without a name: 400" \
  "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/projects/mpy/boards/esp8266-2m/symbol-history")" 400
# frozen modules: a board of its own
"$FLASHSIZE" analyze --format json $F/esp8266-frozen.elf >"$TMP/fz.json" 2>/dev/null
mod=$(awk '$1 == "module" {print $2; exit}' $F/esp8266-frozen.sizes)
modsize=$(awk -v m="$mod" '$1 == "module" && $2 == m {print $3; exit}' $F/esp8266-frozen.sizes)
jq -n --slurpfile a "$TMP/fz.json" '{project: "mpy", board: "frozen", commit: "f0f0f0f0", branch: "main", analysis: $a[0]}' >"$TMP/up.json"
expect_eq "frozen build uploaded" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
  -H 'Content-Type: application/json' --data-binary @"$TMP/up.json" "$URL/api/v1/builds")" 201
expect_eq "frozen module history = the generator's .sizes" \
  "$(curl -s "$URL/api/v1/projects/mpy/boards/frozen/frozen-history?module=$mod" | jq -c '[.builds[] | [.commit, .size]]')" "[[\"f0f0f0f0\",$modsize]]"
expect_eq "a module that is not there: null" \
  "$(curl -s "$URL/api/v1/projects/mpy/boards/frozen/frozen-history?module=nope" | jq -c '[.builds[].size]')" "[null]"
finish
