#!/bin/sh
# History answers kept ready by `flashsize serve` (docs/server.md, "History
# answers"), checked for staying right:
#   - the same request twice gives the same bytes and the same ETag;
#   - gzip (curl --compressed) holds exactly the identity answer;
#   - If-None-Match with the ETag answers 304 without a body;
#   - a write by another process (flashsize record, the sqlite3 shell) shows
#     in the next answer: the store's generation (schema 4) moved;
#   - a budget file edited shows once the TTL (5 s) has passed;
#   - a v3 file served read-only (no generation) answers correctly, uncached;
#   - other answers (errors, static files) keep their headers.
# Ground truth: the database read with sqlite3, the identity answer, the
# rules file's numbers.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
. tests/e2e/server_lib.sh
S=samples/build
trap 'kill_servers; rm -rf "$TMP"' EXIT

# get NAME [curl args...]: the history of mpy/esp8266-2m; body in $TMP/NAME,
# headers in $TMP/NAME.h (names lower-cased), status in $CODE.
HIST=/api/v1/projects/mpy/boards/esp8266-2m/history
get() {
  n=$1; shift
  : >"$TMP/$n"
  CODE=$(curl -s -D "$TMP/$n.hraw" -o "$TMP/$n" -w '%{http_code}' "$@" "$URL$HIST")
  tr -d '\r' <"$TMP/$n.hraw" | sed 's/^\([^:]*\):/\L\1:/' >"$TMP/$n.h"
}
# hdr NAME HEADER: the value of HEADER (lower case) in $TMP/NAME.h, "" when absent
hdr() { sed -n "s/^$2: //p" "$TMP/$1.h" | head -n 1; }
gen() { sqlite3 "$DB" 'SELECT gen FROM store_generation'; }

DB="$TMP/sizes.db"
cp -r rules "$TMP/rules"
for c in 1111aaaa 2222bbbb 3333cccc; do
  run 0 "record $c" record --db "$DB" -p mpy -b esp8266-2m -c $c --branch main \
    --timestamp $((1767225600 + $(echo $c | cut -c1) * 3600)) $S/esp8266-fits.elf
done
expect_eq "three writes: generation 3" "$(gen)" 3
run 0 "token create" token create --db "$DB" --project mpy
TOK=$(cat "$OUT")
start_server cache --db "$DB" --web web --rules-dir "$TMP/rules"
check "server started" test -n "$PORT"

# --- the same answer, kept ----------------------------------------------------------
get a1
get a2
expect_eq "history 200" "$CODE" 200
expect_eq "three builds, newest first" "$(jq -c '[.builds[].commit]' "$TMP/a1")" '["3333cccc","2222bbbb","1111aaaa"]'
check "twice: the same bytes" cmp "$TMP/a1" "$TMP/a2"
ETAG=$(hdr a1 etag)
expect_eq "twice: the same ETag" "$(hdr a2 etag)" "$ETAG"
expect_eq "ETag: generation 3, then CRC-32s of the key and the body" \
  "$(echo "$ETAG" | grep -cE '^"3-[0-9a-f]{8}-[0-9a-f]{8}"$')" 1
expect_eq "Cache-Control: no-cache (revalidate every time)" "$(hdr a1 cache-control)" "no-cache"
expect_eq "Vary: Accept-Encoding" "$(hdr a1 vary)" "Accept-Encoding"
expect_eq "no Accept-Encoding: identity" "$(hdr a1 content-encoding)" ""
expect_eq "Content-Length = the body" "$(hdr a1 content-length)" "$(wc -c <"$TMP/a1" | tr -d ' ')"
expect_eq "another query is another answer" \
  "$(curl -s "$URL$HIST?limit=1" | jq -c '[.limit, (.builds | length)]')" "[1,1]"
get a3
check "... and the first one is still the same" cmp "$TMP/a1" "$TMP/a3"
expect_eq "since as a date or as seconds: the same answer" \
  "$(curl -s "$URL$HIST?since=2026-01-01" | md5sum)" "$(curl -s "$URL$HIST?since=1767225600" | md5sum)"
expect_eq "limit above 1000 is capped (and says so)" \
  "$(curl -s "$URL$HIST?limit=5000" | jq -c '[.limit, .limit_capped]')" "[1000,true]"
expect_eq "... not the answer of limit=1000" \
  "$(curl -s "$URL$HIST?limit=1000" | jq -c '[.limit, .limit_capped]')" "[1000,false]"

# --- gzip ---------------------------------------------------------------------------------
get z1 --compressed
expect_eq "curl --compressed: Content-Encoding gzip" "$(hdr z1 content-encoding)" gzip
check "the gzip answer inflates to the identity answer, byte for byte" cmp "$TMP/a1" "$TMP/z1"
expect_eq "the gzip answer's ETag ends in -gz" "$(hdr z1 etag)" "${ETAG%\"}-gz\""
expect_eq "... Vary: Accept-Encoding" "$(hdr z1 vary)" "Accept-Encoding"
get z2 -H 'Accept-Encoding: gzip'
check "raw: a gzip member" sh -c "gzip -dc '$TMP/z2' | cmp - '$TMP/a1'"
check "raw: smaller than the identity answer" test "$(wc -c <"$TMP/z2")" -lt "$(wc -c <"$TMP/a1")"
get z3 -H 'Accept-Encoding: gzip'
check "gzip twice: the same bytes" cmp "$TMP/z2" "$TMP/z3"
get z4 -H 'Accept-Encoding: gzip;q=0, deflate'
expect_eq "gzip;q=0: identity" "$(hdr z4 content-encoding)" ""
check "... the identity bytes" cmp "$TMP/a1" "$TMP/z4"
get z5 -H 'Accept-Encoding: br;q=1, *;q=0.5'
expect_eq "*;q=0.5: gzip" "$(hdr z5 content-encoding)" gzip
get z6 -H 'Accept-Encoding: gzip;q=nonsense'
expect_eq "a malformed weight: identity" "$(hdr z6 content-encoding)" ""

# --- If-None-Match ---------------------------------------------------------------------------
get n1 -H "If-None-Match: $ETAG"
expect_eq "If-None-Match with the ETag: 304" "$CODE" 304
expect_eq "... no body" "$(wc -c <"$TMP/n1" | tr -d ' ')" 0
expect_eq "... the ETag again" "$(hdr n1 etag)" "$ETAG"
expect_eq "... Cache-Control and Vary again" "$(hdr n1 cache-control)/$(hdr n1 vary)" "no-cache/Accept-Encoding"
expect_eq "... Content-Length of the answer it stands for" "$(hdr n1 content-length)" "$(hdr a1 content-length)"
get n2 -H "If-None-Match: \"x\", W/$ETAG"
expect_eq "in a list, weak: 304" "$CODE" 304
get n3 -H 'If-None-Match: *'
expect_eq "If-None-Match: * -> 304" "$CODE" 304
get n4 -H 'If-None-Match: "3-00000000-00000000"'
expect_eq "another ETag: 200" "$CODE" 200
check "... the whole answer" cmp "$TMP/a1" "$TMP/n4"
get n5 -H "If-None-Match: $ETAG" -H 'Accept-Encoding: gzip'
expect_eq "the identity ETag when gzip is sent: 200 (another representation)" "$CODE" 200
get n6 -H "If-None-Match: $(hdr z1 etag)" -H 'Accept-Encoding: gzip'
expect_eq "the gzip ETag with gzip: 304" "$CODE" 304
expect_eq "... no Content-Encoding on a 304" "$(hdr n6 content-encoding)" ""
expect_eq "... Content-Length of the gzip answer" "$(hdr n6 content-length)" "$(wc -c <"$TMP/z2" | tr -d ' ')"
expect_eq "the access log: 304, 0 bytes" \
  "$(grep '"status":304' "$TMP/cache.log" | head -n 1 | jq -c '[.path, .bytes]')" "[\"$HIST\",0]"

# --- writes by another process ------------------------------------------------------------------
run 0 "the CLI records a fourth build while the server runs" record --db "$DB" -p mpy -b esp8266-2m -c 4444dddd \
  --branch main --timestamp $((1767225600 + 5 * 3600)) $S/esp8266-nearfull.elf
expect_eq "generation 4" "$(gen)" 4
get w1 -H "If-None-Match: $ETAG"
expect_eq "the old ETag: 200 now" "$CODE" 200
expect_eq "the next answer has the new build first" "$(jq -c '[.builds[].commit]' "$TMP/w1")" \
  '["4444dddd","3333cccc","2222bbbb","1111aaaa"]'
expect_eq "... with its size" "$(jq '.builds[0].used' "$TMP/w1")" \
  "$(sqlite3 "$DB" "SELECT main_used FROM builds WHERE commit_sha = '4444dddd'")"
expect_eq "... and an ETag of generation 4" "$(hdr w1 etag | cut -d- -f1)" '"4'
get w2 --compressed
check "the gzip answer is the new one too" cmp "$TMP/w1" "$TMP/w2"
sqlite3 "$DB" "UPDATE builds SET pr = 77 WHERE commit_sha = '2222bbbb'"
get w3
expect_eq "an UPDATE in the sqlite3 shell shows" "$(jq '.builds[2].pr' "$TMP/w3")" 77
sqlite3 "$DB" "DELETE FROM builds WHERE commit_sha = '1111aaaa'"
get w4
expect_eq "a DELETE shows" "$(jq -c '[.builds[].commit]' "$TMP/w4")" '["4444dddd","3333cccc","2222bbbb"]'
expect_eq "generation 6" "$(gen)" 6
"$FLASHSIZE" analyze --format json $S/esp8266-fits.elf >"$TMP/fits.json" 2>/dev/null
jq -n --slurpfile a "$TMP/fits.json" '{project: "mpy", board: "esp8266-2m", commit: "5555eeee", branch: "main",
  timestamp: 1767250000, analysis: $a[0]}' >"$TMP/up.json"
expect_eq "an upload to the server: 201" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
  -H 'Content-Type: application/json' --data-binary @"$TMP/up.json" "$URL/api/v1/builds")" 201
get w5
expect_eq "... shows at once" "$(jq -r '.builds[0].commit' "$TMP/w5")" 5555eeee

# --- the budget file, after the TTL ---------------------------------------------------------------
get b1
max1=$(budget_max "$TMP/rules/budgets/esp8266-2m.ini")
expect_eq "budget limit (main) from the rules file" "$(jq '.budget.limits["(main)"]' "$TMP/b1")" "$max1"
sed -i 's/^max = 1M - 36K - 32K$/max = 1M - 36K - 64K/' "$TMP/rules/budgets/esp8266-2m.ini"
max2=$(budget_max "$TMP/rules/budgets/esp8266-2m.ini")
check "the edit changed the file's max" test "$max2" -ne "$max1"
get b2
expect_eq "the budget file edited: the kept answer for up to 5 s" "$(jq '.budget.limits["(main)"]' "$TMP/b2")" "$max1"
sleep 5.2
get b3
expect_eq "... then the new limit" "$(jq '.budget.limits["(main)"]' "$TMP/b3")" "$max2"
expect_eq "... and a new ETag" "$([ "$(hdr b3 etag)" != "$(hdr b1 etag)" ] && echo changed)" changed

# --- other answers are as before ----------------------------------------------------------------------
CODE=$(curl -s -D "$TMP/e.hraw" -o "$TMP/e" -w '%{http_code}' -H 'Accept-Encoding: gzip' "$URL$HIST?limit=0")
expect_eq "a bad limit: 400" "$CODE" 400
check "... JSON error, no-store, no ETag, not compressed" sh -c "jq -e '.status == 400' '$TMP/e' &&
  grep -qi '^cache-control: no-store' '$TMP/e.hraw' && ! grep -qi '^etag:' '$TMP/e.hraw' &&
  ! grep -qi '^content-encoding:' '$TMP/e.hraw'"
CODE=$(curl -s -D "$TMP/s.hraw" -o "$TMP/s" -w '%{http_code}' -H 'Accept-Encoding: gzip' "$URL/index.html")
expect_eq "a static file: 200" "$CODE" 200
check "... as it is on disk, no-cache, no ETag, not compressed" sh -c "cmp '$TMP/s' web/index.html &&
  grep -qi '^cache-control: no-cache' '$TMP/s.hraw' && ! grep -qi '^etag:' '$TMP/s.hraw' &&
  ! grep -qi '^content-encoding:' '$TMP/s.hraw'"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: *' "$URL/api/v1/projects")
expect_eq "If-None-Match on another endpoint: 200 as before" "$CODE" 200
stop_server "$PID"

# --- a v3 file served read-only: no generation, nothing kept --------------------------------------------
cp "$DB" "$TMP/v3.db"
sqlite3 "$TMP/v3.db" "DROP TRIGGER builds_gen_insert; DROP TRIGGER builds_gen_update; DROP TRIGGER builds_gen_delete;
  DROP TABLE store_generation; PRAGMA user_version = 3; PRAGMA journal_mode = DELETE;" >/dev/null
chmod 0444 "$TMP/v3.db"
start_server v3 --db "$TMP/v3.db" --rules-dir "$TMP/rules"
check "v3 file served read-only" grep -q "read-only" "$TMP/v3.err"
get r1
get r2 --compressed
expect_eq "v3: 200" "$CODE" 200
check "v3: the same answer as the v4 file" cmp "$TMP/b3" "$TMP/r1"
check "v3: gzip holds it too" cmp "$TMP/r1" "$TMP/r2"
expect_eq "v3: an ETag without a generation" "$(hdr r1 etag | grep -cE '^"n-[0-9a-f]{8}-[0-9a-f]{8}"$')" 1
get r3 -H "If-None-Match: $(hdr r1 etag)"
expect_eq "v3: If-None-Match -> 304" "$CODE" 304
expect_eq "v3: not migrated" "$(sqlite3 "$TMP/v3.db" 'PRAGMA user_version')" 3
stop_server "$PID"
finish
