#!/bin/sh
# `flashsize serve` and `flashsize token` over HTTP on loopback: uploads with
# and without valid tokens, the diff an upload returns, reads, limits,
# hostile paths and fields, concurrency, kill -9 and a read-only database.
# Servers listen on 127.0.0.1 port 0 (a free port the kernel picks); every
# loop is bounded and every server is killed on exit.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
. tests/e2e/server_lib.sh
S=samples/build
XSIZE=xtensa-lx106-elf-size
trap 'kill_servers; rm -rf "$TMP"' EXIT

# http METHOD PATH [curl args...]: body in $TMP/body, status in $CODE
http() {
  m=$1; p=$2; shift 2
  CODE=$(curl -s --path-as-is -o "$TMP/body" -w '%{http_code}' -X "$m" "$@" "$URL$p")
}
builds() { curl -s "$URL/healthz" | jq -r .builds; }
dbcount() { sqlite3 "$1" 'SELECT count(*) FROM builds'; }

# upload_doc ANALYSIS.json PROJECT BOARD COMMIT [BRANCH]: an upload body
upload_doc() {
  jq -n --slurpfile a "$1" --arg p "$2" --arg b "$3" --arg c "$4" --arg br "${5:-main}" \
    '{project: $p, board: $b, commit: $c, branch: $br, analysis: $a[0]}'
}

DB="$TMP/sizes.db"
cp -r web "$TMP/web"
ln -s /etc "$TMP/web/escape"          # a symlink leading out of the web directory
ln -s /etc/passwd "$TMP/web/passwd.txt"

# --- tokens ---------------------------------------------------------------------
run 0 "token create" token create --db "$DB" --project mpy --note ci
TOK=$(cat "$OUT")
expect_eq "token: fst_<id>_<64 hex>" "$(echo "$TOK" | grep -cE '^fst_1_[0-9a-f]{64}$')" 1
run 0 "token create for another project" token create --db "$DB" --project other
TOK_OTHER=$(cat "$OUT")
run 0 "token create (to revoke)" token create --db "$DB" --project mpy
TOK_REVOKED=$(cat "$OUT")
run 0 "token revoke" token revoke --db "$DB" 3
run 2 "token revoke of an unknown id" token revoke --db "$DB" 99
expect_err "unknown token id is named" "no token with id 99"
run 2 "token create without --project" token create --db "$DB"
run 0 "token list" token list --db "$DB"
expect_eq "list: three tokens, one revoked" "$(grep -c 'revoked' "$OUT")/$(grep -c 'active' "$OUT")" "1/2"
check "list never shows a token" sh -c "! grep -q fst_ '$OUT'"
check "the database holds no token in clear" sh -c "! sqlite3 '$DB' .dump | grep -q '${TOK#fst_1_}'"
expect_eq "the database holds the token's SHA-256" \
  "$(sqlite3 "$DB" 'SELECT lower(hex(hash)) FROM server_tokens WHERE id = 1')" \
  "$(printf '%s' "$TOK" | sha256sum | cut -d' ' -f1)"

# --- serve --------------------------------------------------------------------------
run 2 "serve: bad --listen" serve --listen localhost:80 --db "$DB"
expect_err "bad --listen is named" "not a numeric IPv4 or IPv6 address"
start_server main --db "$DB" --web "$TMP/web" --rules-dir rules --max-elf 2000000
check "server started" test -n "$PORT"
http GET /healthz
expect_eq "healthz 200" "$CODE" 200
check "healthz: ok, read-write, 0 builds" jq -e '.status == "ok" and .database == "read-write" and .builds == 0' "$TMP/body"

"$FLASHSIZE" analyze --format json --board esp8266-2m $S/esp8266-fits.elf >"$TMP/fits.json" 2>/dev/null
"$FLASHSIZE" analyze --format json --board esp8266-2m $S/esp8266-nearfull.elf >"$TMP/near.json" 2>/dev/null
upload_doc "$TMP/fits.json" mpy esp8266-2m c0ffee01 >"$TMP/up1.json"
upload_doc "$TMP/near.json" mpy esp8266-2m c0ffee02 feature >"$TMP/up2.json"
J='Content-Type: application/json'

# --- authentication: nothing stored without a valid token of the project -------------
http POST /api/v1/builds -H "$J" --data-binary @"$TMP/up1.json"
expect_eq "no token: 401" "$CODE" 401
check "401 body is {error, status}" jq -e '.status == 401 and (.error | test("bearer token"))' "$TMP/body"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer nonsense" --data-binary @"$TMP/up1.json"
expect_eq "malformed token: 401" "$CODE" 401
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer fst_1_$(printf '%064d' 0)" --data-binary @"$TMP/up1.json"
expect_eq "wrong secret for a real id: 401" "$CODE" 401
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer xyz_${TOK#fst_}" --data-binary @"$TMP/up1.json"
expect_eq "the real token with another prefix than fst_: 401" "$CODE" 401
expect_eq "... as a malformed token" "$(jq -r .error "$TMP/body")" "invalid token (malformed)"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK_REVOKED" --data-binary @"$TMP/up1.json"
expect_eq "revoked token: 401" "$CODE" 401
check "revoked token: says so" jq -e '.error | test("revoked")' "$TMP/body"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK_OTHER" --data-binary @"$TMP/up1.json"
expect_eq "token of project other cannot write mpy: 403" "$CODE" 403
expect_eq "nothing stored by refused uploads" "$(dbcount "$DB")" 0

# --- uploads, the diff and the budget ---------------------------------------------------
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/up1.json"
expect_eq "upload with a valid token: 201" "$CODE" 201
check "first upload: id 1, no base, no diff" jq -e '.id == 1 and .base == null and .diff == null' "$TMP/body"
check "first upload: budget rules/budgets/esp8266-2m.ini passes" jq -e '.budget.pass == true and .budget.failed == 0' "$TMP/body"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/up2.json"
expect_eq "second upload (branch feature): 201" "$CODE" 201
cp "$TMP/body" "$TMP/up2.answer"
check "second upload: diffed against main's build 1" jq -e '.id == 2 and .base.id == 1 and .base.commit == "c0ffee01"' "$TMP/up2.answer"
# ground truth: the toolchain's size -A of .irom0.text in both ELFs
irom_a=$($XSIZE -A $S/esp8266-fits.elf | awk '$1 == ".irom0.text" {print $2}')
irom_b=$($XSIZE -A $S/esp8266-nearfull.elf | awk '$1 == ".irom0.text" {print $2}')
expect_eq "diff: irom0_0_seg delta = size -A .irom0.text difference ($((irom_b - irom_a)))" \
  "$(jq '.diff.boards[0].regions[] | select(.name == "irom0_0_seg") | .delta' "$TMP/up2.answer")" "$((irom_b - irom_a))"
expect_eq "diff: .irom0.text section delta" \
  "$(jq '.diff.boards[0].sections[] | select(.name == ".irom0.text") | .delta' "$TMP/up2.answer")" "$((irom_b - irom_a))"
check "answer carries the PR Markdown" jq -e '.markdown | startswith("<!-- flashsize-report -->")' "$TMP/up2.answer"
check "budget: growth rule fails (max_growth_bytes = 4K)" \
  jq -e '.budget.pass == false and ([.budget.rules[] | select(.rule == "region irom0_0_seg max_growth_bytes") | .status] == ["fail"])' "$TMP/up2.answer"
expect_eq "two builds stored" "$(dbcount "$DB")" 2

# raw ELF upload, analyzed by the server with the board's layout
http POST "/api/v1/builds?project=mpy&board=esp8266-2m&commit=e1f00003&branch=main" \
  -H 'Content-Type: application/octet-stream' -H "Authorization: Bearer $TOK" --data-binary @$S/esp8266-window.elf
expect_eq "ELF upload: 201" "$CODE" 201
ELF_ID=$(jq .id "$TMP/body")
http GET "/api/v1/builds/$ELF_ID"
expect_eq "GET the ELF build: 200" "$CODE" 200
expect_eq "ELF build: .irom0.text size = size -A" \
  "$(jq '.analysis.sections[] | select(.name == ".irom0.text") | .size' "$TMP/body")" \
  "$($XSIZE -A $S/esp8266-window.elf | awk '$1 == ".irom0.text" {print $2}')"
check "ELF build: window-exhausted finding" jq -e '[.analysis.findings[].id] | index("window-exhausted") != null' "$TMP/body"
top_nm=$(xtensa-lx106-elf-nm -S --size-sort $S/esp8266-window.elf | tail -n 1)
expect_eq "ELF build: largest symbol = nm -S --size-sort's last" \
  "$(jq -r '.top_symbols[0] | "\(.name) \(.size)"' "$TMP/body")" \
  "$(echo "$top_nm" | awk '{print $4}') $(printf '%d' "0x$(echo "$top_nm" | awk '{print $2}')")"
: >"$TMP/empty"
http POST "/api/v1/builds?project=mpy&board=esp8266-2m&commit=e1f00004" -H 'Content-Type: application/octet-stream' \
  -H "Authorization: Bearer $TOK" --data-binary @"$TMP/empty"
expect_eq "empty ELF body: 400" "$CODE" 400
head -c 3000 $S/esp8266-fits.elf >"$TMP/trunc.elf"
http POST "/api/v1/builds?project=mpy&board=esp8266-2m&commit=e1f00005" -H 'Content-Type: application/octet-stream' \
  -H "Authorization: Bearer $TOK" --data-binary @"$TMP/trunc.elf"
expect_eq "truncated ELF: 400" "$CODE" 400
check "truncated ELF: error names the upload" jq -e '.error | startswith("uploaded ELF:")' "$TMP/body"

# --- reads --------------------------------------------------------------------------
http GET /api/v1/projects
check "projects: mpy with 3 builds on 1 board" jq -e '.projects == [.projects[] | select(.name == "mpy" and .builds == 3 and .boards == 1)]' "$TMP/body"
http GET /api/v1/projects/mpy/boards
check "boards: esp8266-2m, latest = the window build with its flag" \
  jq -e --argjson id "$ELF_ID" '.boards[0].name == "esp8266-2m" and .boards[0].latest.id == $id and (.boards[0].latest.errors | index("window-exhausted") != null)' "$TMP/body"
http GET /api/v1/projects/nope/boards
expect_eq "unknown project: 404" "$CODE" 404
http GET "/api/v1/projects/mpy/boards/esp8266-2m/history?branch=main"
check "history branch=main: builds 3 and 1, newest first" jq -e --argjson id "$ELF_ID" '[.builds[].id] == [$id, 1]' "$TMP/body"
expect_eq "history: irom0 used of build 1 = size -A" \
  "$(jq '.builds[] | select(.id == 1) | .regions.irom0_0_seg.used' "$TMP/body")" "$irom_a"
expect_eq "history: budget limits for the chart = the budget file's max" \
  "$(jq '.budget.limits["(main)"]' "$TMP/body")" "$(budget_max rules/budgets/esp8266-2m.ini)"
http GET "/api/v1/projects/mpy/boards/esp8266-2m/history?limit=1"
check "history limit=1: one build" jq -e '.builds | length == 1' "$TMP/body"
http GET "/api/v1/projects/mpy/boards/esp8266-2m/history?limit=5000"
check "history limit=5000 capped at 1000" jq -e '.limit == 1000 and .limit_capped == true' "$TMP/body"
http GET "/api/v1/projects/mpy/boards/esp8266-2m/history?limit=abc"
expect_eq "history limit=abc: 400" "$CODE" 400
http GET "/api/v1/projects/mpy/boards/esp8266-2m/history?since=2999-01-01"
check "history since the future: empty" jq -e '.builds == []' "$TMP/body"
http GET "/api/v1/diff?a=1&b=2"
expect_eq "diff of builds 1 and 2: 200" "$CODE" 200
expect_eq "diff endpoint: same delta as the upload answer" \
  "$(jq '.diff.boards[0].regions[] | select(.name == "irom0_0_seg") | .delta' "$TMP/body")" "$((irom_b - irom_a))"
http GET "/api/v1/diff?a=1&b=999"
expect_eq "diff with an unknown build: 404" "$CODE" 404
http GET /api/v1/builds/999
expect_eq "unknown build: 404" "$CODE" 404
http GET /api/v1/builds/abc
expect_eq "build id not a number: 400" "$CODE" 400
http GET /api/v1/nothing
expect_eq "unknown endpoint: 404 JSON" "$CODE/$(jq .status "$TMP/body")" "404/404"
http DELETE /api/v1/builds/1
expect_eq "DELETE: 405" "$CODE" 405

# --- limits -----------------------------------------------------------------------------
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TMP/big.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/big.json"
expect_eq "17 MiB JSON body: 413" "$CODE" 413
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" -H "Transfer-Encoding: chunked" --data-binary @"$TMP/big.json"
expect_eq "17 MiB chunked body (no Content-Length): 413" "$CODE" 413
head -c 2100000 /dev/zero >"$TMP/big.elf"
http POST "/api/v1/builds?project=mpy&board=b&commit=c" -H 'Content-Type: application/octet-stream' \
  -H "Authorization: Bearer $TOK" --data-binary @"$TMP/big.elf"
expect_eq "ELF over --max-elf 2000000: 413" "$CODE" 413
awk 'BEGIN { for (i = 0; i < 100; i++) printf "["; for (i = 0; i < 100; i++) printf "]" }' >"$TMP/deep.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/deep.json"
expect_eq "JSON nested 100 deep: 400" "$CODE" 400
check "deep JSON: says why" jq -e '.error | test("nested deeper than 64")' "$TMP/body"
jq '.analysis.extra = ([range(70)] | reduce .[] as $i (1; [.]))' "$TMP/up1.json" >"$TMP/deep2.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/deep2.json"
expect_eq "valid upload with a 70-deep extra key: 400" "$CODE" 400
printf '{"project": "mpy", "board": ' >"$TMP/bad.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/bad.json"
expect_eq "truncated JSON: 400" "$CODE" 400
check "truncated JSON: line and column" jq -e '.error | test("invalid JSON at line 1 column")' "$TMP/body"
jq '.analysis.schema = "other"' "$TMP/up1.json" >"$TMP/bad2.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/bad2.json"
expect_eq "analysis of another schema: 400" "$CODE" 400
jq 'del(.commit)' "$TMP/up1.json" >"$TMP/bad3.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/bad3.json"
expect_eq "no commit: 400" "$CODE/$(jq -r .error "$TMP/body")" "400/'commit' is required (a string)"
jq '.pr = "7"' "$TMP/up1.json" >"$TMP/bad4.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/bad4.json"
expect_eq "pr as a string: 400" "$CODE" 400
jq '.branch = "a\u0001b"' "$TMP/up1.json" >"$TMP/bad5.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/bad5.json"
expect_eq "control character in a field: 400" "$CODE" 400
printf '{"project":"mpy","board":"b\377","commit":"c","analysis":{}}' >"$TMP/bad6.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/bad6.json"
expect_eq "non-UTF-8 bytes in a JSON string: 400" "$CODE" 400
http POST "/api/v1/builds?project=mpy&board=%ff&commit=c" -H 'Content-Type: application/octet-stream' \
  -H "Authorization: Bearer $TOK" --data-binary @$S/esp8266-fits.elf
expect_eq "non-UTF-8 query parameter: 400" "$CODE" 400
http POST /api/v1/builds -H 'Content-Type: text/plain' -H "Authorization: Bearer $TOK" --data-binary @"$TMP/up1.json"
expect_eq "text/plain body: 415" "$CODE" 415
expect_eq "nothing stored by bad uploads" "$(dbcount "$DB")" 3

# --- non-UTF-8 symbol names (a firmware whose largest symbol is renamed to bad\xffname) ----
big=$(echo "$top_nm" | awk '{print $4}')
xtensa-lx106-elf-objcopy --redefine-sym "$big=$(printf 'bad\377name')" $S/esp8266-window.elf "$TMP/badname.elf"
http POST "/api/v1/builds?project=mpy&board=esp8266-2m&commit=badname1&branch=odd" \
  -H 'Content-Type: application/octet-stream' -H "Authorization: Bearer $TOK" --data-binary @"$TMP/badname.elf"
expect_eq "ELF with a non-UTF-8 symbol name: 201" "$CODE" 201
http GET "/api/v1/builds/$(jq .id "$TMP/body")"
expect_eq "the name comes back escaped as text (bad\\xffname)" "$(jq -r '.top_symbols[0].name' "$TMP/body")" 'bad\xffname'

# --- SQL metacharacters in every string field, stored and returned verbatim -------------
EVIL_P="p'; DROP TABLE builds; --"
run 0 "token for a project with SQL in its name" token create --db "$DB" --project "$EVIL_P"
TOK_EVIL=$(cat "$OUT")
jq -n --slurpfile a "$TMP/fits.json" --arg p "$EVIL_P" \
  '{project: $p, board: "b\" OR \"1\"=\"1", commit: "c%_\\*?[x]", branch: "main'"'"' --",
    parent: "x\u0027); DELETE FROM builds; --", pr: 42, analysis: $a[0]}' >"$TMP/evil.json"
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK_EVIL" --data-binary @"$TMP/evil.json"
expect_eq "upload with SQL metacharacters: 201" "$CODE" 201
EVIL_ID=$(jq .id "$TMP/body")
http GET "/api/v1/builds/$EVIL_ID"
check "every field returned verbatim" jq -e --slurpfile e "$TMP/evil.json" \
  '.build.project == $e[0].project and .build.board == $e[0].board and .build.commit == $e[0].commit
   and .build.branch == $e[0].branch and .build.parent == $e[0].parent and .build.pr == 42' "$TMP/body"
enc() { jq -rn --arg s "$1" '$s | @uri'; }
http GET "/api/v1/projects/$(enc "$EVIL_P")/boards/$(enc 'b" OR "1"="1')/history?branch=$(enc "main' --")"
check "history by the hostile names finds exactly that build" jq -e --argjson id "$EVIL_ID" '[.builds[].id] == [$id]' "$TMP/body"
expect_eq "builds table intact: 5 builds" "$(dbcount "$DB")" 5

# --- static files and traversal ------------------------------------------------------
http GET /
expect_eq "dashboard index: 200" "$CODE" 200
curl -s -D "$TMP/headers" -o /dev/null "$URL/"
check "index: text/html" grep -qi '^content-type: text/html; charset=utf-8' "$TMP/headers"
check "CSP without inline scripts" grep -qi "^content-security-policy: default-src 'self'; script-src 'self';" "$TMP/headers"
check "CSP frame-ancestors 'none'" grep -qi "frame-ancestors 'none'" "$TMP/headers"
check "X-Content-Type-Options: nosniff" grep -qi '^x-content-type-options: nosniff' "$TMP/headers"
check "X-Frame-Options: DENY" grep -qi '^x-frame-options: DENY' "$TMP/headers"
check "Referrer-Policy" grep -qi '^referrer-policy: no-referrer' "$TMP/headers"
curl -s -D "$TMP/headers" -o /dev/null "$URL/app.js"
check "app.js: text/javascript" grep -qi '^content-type: text/javascript' "$TMP/headers"
curl -s -D "$TMP/headers" -o /dev/null "$URL/style.css"
check "style.css: text/css" grep -qi '^content-type: text/css' "$TMP/headers"
for p in /../../../etc/passwd /..%2f..%2fetc%2fpasswd /%2e%2e/%2e%2e/etc/passwd /%2E%2E/server.c \
         /vendor/..%5c..%5cetc/passwd /escape/passwd /passwd.txt /.hidden "/index.html%00.js" //etc/passwd \
         /vendor/../../Makefile; do
  http GET "$p"
  case "$CODE" in 400|404) ok "traversal $p: $CODE" ;; *) notok "traversal $p: $CODE" ;; esac
  if grep -q 'root:' "$TMP/body"; then notok "traversal $p leaked /etc/passwd"; fi
done

# --- concurrency: 10 uploads at once all land ---------------------------------------------
before=$(dbcount "$DB")
i=0
while [ $i -lt 10 ]; do
  upload_doc "$TMP/fits.json" mpy esp8266-2m "conc$i" conc >"$TMP/conc$i.json"
  curl -s -o /dev/null -w '%{http_code}\n' -H "$J" -H "Authorization: Bearer $TOK" \
    --data-binary @"$TMP/conc$i.json" "$URL/api/v1/builds" >"$TMP/conc$i.code" &
  i=$((i + 1))
done
wait_curls() { i=0; while [ $i -lt 600 ] && [ "$(cat "$TMP"/$1*.code 2>/dev/null | wc -l)" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done; }
wait_curls conc 10
expect_eq "10 concurrent uploads: all 201" "$(cat "$TMP"/conc*.code | sort | uniq -c | awk '{print $1 "x" $2}')" "10x201"
expect_eq "10 concurrent uploads: 10 more rows" "$(dbcount "$DB")" $((before + 10))
expect_eq "integrity_check after concurrent uploads" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
check "access log: one JSON line per request, no token" sh -c \
  "jq -e 'has(\"time\") and has(\"method\") and has(\"path\") and has(\"status\") and has(\"bytes\") and has(\"duration_ms\") and has(\"remote\")' '$TMP/main.log' >/dev/null && ! grep -q '${TOK#fst_1_}' '$TMP/main.log'"

# --- kill -9 during uploads, restart: every 2xx is there ---------------------------------
i=0
while [ $i -lt 40 ]; do upload_doc "$TMP/near.json" mpy esp8266-2m "kill$i" kill >"$TMP/kill$i.json"; i=$((i + 1)); done
i=0
while [ $i -lt 40 ]; do
  ( code=$(curl -s -o /dev/null -w '%{http_code}' -m 20 -H "$J" -H "Authorization: Bearer $TOK" \
      --data-binary @"$TMP/kill$i.json" "$URL/api/v1/builds"); echo "$code kill$i" >"$TMP/kill$i.code" ) &
  i=$((i + 1))
done
# kill once a few have been answered 2xx, while the others are in flight
n=0
while [ $n -lt 500 ] && [ "$(cat "$TMP"/kill*.code 2>/dev/null | grep -c '^2')" -lt 3 ]; do sleep 0.01; n=$((n + 1)); done
kill -9 "$PID"
wait "$PID" 2>/dev/null
wait_curls kill 40
ok2xx=$(cat "$TMP"/kill*.code | awk '$1 ~ /^2/ {print $2}' | sort)
n2xx=$(echo "$ok2xx" | grep -c kill)
echo "# kill -9: $n2xx of 40 uploads answered 2xx before the kill"
check "kill -9: some uploads were answered 2xx before the kill (else the next check is vacuous)" test "$n2xx" -gt 0
start_server restarted --db "$DB" --web "$TMP/web" --rules-dir rules
check "restarted on the same database" test -n "$PORT"
expect_eq "integrity_check after kill -9" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
stored=$(sqlite3 "$DB" "SELECT commit_sha FROM builds WHERE commit_sha LIKE 'kill%' ORDER BY 1")
missing=0
for c in $ok2xx; do echo "$stored" | grep -qx "$c" || missing=$((missing + 1)); done
expect_eq "every upload answered 2xx before kill -9 is stored" "$missing" 0
half=$(sqlite3 "$DB" "SELECT count(*) FROM builds b WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.build_id = b.id)")
expect_eq "no half-written build (each has its regions)" "$half" 0
http GET /api/v1/projects/mpy/boards/esp8266-2m/history?branch=kill
expect_eq "history after restart lists the stored ones" "$(jq '.builds | length' "$TMP/body")" "$(echo "$stored" | grep -c kill)"
stop_server "$PID"

# --- private reads -----------------------------------------------------------------------
start_server private --db "$DB" --web "$TMP/web" --private
http GET /api/v1/projects
expect_eq "--private: reads need a token (401)" "$CODE" 401
http GET /api/v1/projects -H "Authorization: Bearer $TOK"
expect_eq "--private: with a token 200" "$CODE" 200
expect_eq "--private: the projects are only the token's (mpy)" "$(jq -c '[.projects[].name]' "$TMP/body")" '["mpy"]'
check "--private: other projects exist in the database" test "$(sqlite3 "$DB" 'SELECT count(*) FROM projects')" -gt 1
http GET /api/v1/projects/mpy/boards/esp8266-2m/history -H "Authorization: Bearer $TOK"
expect_eq "--private: the token's own history 200" "$CODE" 200
B1=$(sqlite3 "$DB" "SELECT min(b.id) FROM builds b JOIN projects p ON p.id = b.project_id WHERE p.name = 'mpy'")
B2=$(sqlite3 "$DB" "SELECT max(b.id) FROM builds b JOIN projects p ON p.id = b.project_id WHERE p.name = 'mpy'")
http GET "/api/v1/builds/$B1" -H "Authorization: Bearer $TOK"
expect_eq "--private: the token's own build 200" "$CODE" 200
for path in /api/v1/projects/mpy/boards /api/v1/projects/mpy/boards/esp8266-2m/history "/api/v1/builds/$B1" \
            "/api/v1/diff?a=$B1&b=$B2"; do
  http GET "$path" -H "Authorization: Bearer $TOK_OTHER"
  expect_eq "--private: another project's token may not read $path (403)" "$CODE" 403
  check "--private: $path names the project the token may read" \
    jq -e '.error == "this token may only read project '"'other'"'"' "$TMP/body"
done
http GET /api/v1/projects -H "Authorization: Bearer $TOK_OTHER"
expect_eq "--private: another project's token lists none of mpy's" "$(jq '[.projects[] | select(.name == "mpy")] | length' "$TMP/body")" 0
http GET /healthz
expect_eq "--private: /healthz stays public" "$CODE" 200
stop_server "$PID"

# --- a read-only database: reads work, uploads 503 ------------------------------------------
cp "$DB" "$TMP/ro.db"
chmod 444 "$TMP/ro.db"
start_server ro --db "$TMP/ro.db"
check "read-only database: server starts" test -n "$PORT"
http GET /healthz
check "healthz says read-only" jq -e '.database == "read-only"' "$TMP/body"
http GET /api/v1/builds/1
expect_eq "read-only: reads 200" "$CODE" 200
http POST /api/v1/builds -H "$J" -H "Authorization: Bearer $TOK" --data-binary @"$TMP/up1.json"
expect_eq "read-only: upload 503" "$CODE" 503
check "read-only: clear message" jq -e '.error | test("read-only")' "$TMP/body"
stop_server "$PID"

# --- slow clients: idle connections are closed, the limit holds -----------------------------
start_server slow --db "$DB" --max-connections 4 --timeout 3
j=0
while [ $j -lt 4 ]; do (sleep 6 | curl -s -m 8 "telnet://127.0.0.1:$PORT") >/dev/null 2>&1 & j=$((j + 1)); done
sleep 0.3
code=$(curl -s -o /dev/null -m 1.5 -w '%{http_code}' "$URL/healthz")
expect_eq "4 idle connections fill a limit of 4: 5th refused" "$code" 000
sleep 2.5
code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$URL/healthz")
expect_eq "after the 3 s idle timeout the idle ones are gone: 200" "$code" 200
stop_server "$PID"
# --- under ASan/UBSan builds: no server reported anything --------------------------------------
if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP"/*.err >/dev/null 2>&1; then
  notok "no sanitizer report from any server" "$(grep -h -A5 "Sanitizer\|runtime error:" "$TMP"/*.err | head -20)"
else
  ok "no sanitizer report from any server"
fi
finish
