#!/bin/sh
# `flashsize bot` against a recording fake GitHub API on 127.0.0.1
# (tests/tools/fakegithub.c): the comment is created once and then edited
# (found by its marker on page 2), the commit status carries the verdict,
# 5xx/429 are retried, 401 and a foreign Link are refused, nothing goes
# anywhere but loopback and the token never appears in any output or log.
# Ground truth: `xtensa-lx106-elf-size -A` of the samples and the report
# `flashsize diff --format markdown` makes of the same inputs.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
FAKE="$(dirname "$FLASHSIZE")/tools/fakegithub"
if [ ! -x "$FAKE" ]; then
  notok "fake GitHub server is built ($FAKE; make $(dirname "$FLASHSIZE")/tools/fakegithub)"
  finish
  exit 1
fi
TOKEN="ghp_fLaShSiZeTeSt$$SeCrEt"
unset GITHUB_TOKEN FLASHSIZE_GITHUB_TOKEN GITHUB_SERVER_URL GITHUB_RUN_ID GITHUB_REPOSITORY
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
export FLASHSIZE_BOT_BACKOFF_MS=10 FLASHSIZE_BOT_TIMEOUT=10
irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
A=$(irom0 $S/esp8266-fits.elf)
B=$(irom0 $S/esp8266-nearfull.elf)
DELTA=$(echo $((B - A)) | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
SHA=0123456789abcdef0123456789abcdef01234567
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# start_fake NAME [fakegithub options]: a fresh server; sets PORT, LOG, API
start_fake() {
  name=$1; shift
  LOG="$TMP/$name.log"
  : >"$LOG"
  "$FAKE" --port-file "$TMP/$name.port" --log "$LOG" --token "$TOKEN" --idle 60 "$@" 2>"$TMP/$name.fake-err" &
  PIDS="$PIDS $!"
  i=0
  while [ ! -s "$TMP/$name.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  PORT=$(cat "$TMP/$name.port")
  API="http://127.0.0.1:$PORT"
}
# bot NAME WANT_STATUS TEST_NAME ARGS...: run the bot verbosely against $API
bot() {
  tag=$1; shift
  GITHUB_API_URL="$API" GITHUB_TOKEN="$TOKEN" run "$@"
  cp "$OUT" "$TMP/$tag.out"
  cp "$ERR" "$TMP/$tag.err"
}
nreq() { wc -l <"$LOG" | tr -d ' '; }
req() { sed -n "${1}p" "$LOG" | jq -r "$2"; }
reqj() { sed -n "${1}p" "$LOG" | jq -j "$2"; }   # the same, raw, no newline added   # req N JQ-FILTER

# --- the report the bot must post: what `flashsize diff` makes of the same inputs ---
"$FLASHSIZE" diff --board esp8266-2m --format markdown $S/esp8266-fits.elf $S/esp8266-nearfull.elf >"$TMP/want.md"
"$FLASHSIZE" diff --format markdown $S/esp8266-fits.elf $S/esp8266-irom0-overflow.elf >"$TMP/want-fail.md"
PAIR="$S/esp8266-fits.elf $S/esp8266-nearfull.elf"

# --- first run: three other comments (two per page), no report yet: create ---------
start_fake main --filler 3 --page-size 2
bot run1 0 "first run exits 0 (HEAD passes)" bot -v --pr 7 --repo octo/fw --sha $SHA --board esp8266-2m $PAIR
expect_out "says it created the comment" "created comment 4 on octo/fw#7"
expect_eq "requests: two pages, create, status" "$(jq -r '.method + " " + .path' "$LOG" | tr '\n' ';')" \
  "GET /repos/octo/fw/issues/7/comments;GET /repos/octo/fw/issues/7/comments;POST /repos/octo/fw/issues/7/comments;POST /repos/octo/fw/statuses/$SHA;"
expect_eq "page 2 asked for through the Link header" "$(req 2 .query)" "per_page=2&page=2"
reqj 3 .body.body >"$TMP/posted1.md"
check "posted comment = flashsize diff --format markdown" cmp -s "$TMP/posted1.md" "$TMP/want.md"
# ... and its numbers are the toolchain's: irom0 from size -A, the region from ld
xs_irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
IA=$(xs_irom0 $S/esp8266-fits.elf); IB=$(xs_irom0 $S/esp8266-nearfull.elf)
check "posted comment's summary: size -A's delta, ld's region length" \
  grep -qxF -- "$(diff_summary esp8266-2m "$IA" "$IB" "$(memusage esp8266-nearfull irom0_0_seg length)")" "$TMP/posted1.md"
expect_eq "comment starts with the marker" "$(head -n 1 "$TMP/posted1.md")" "<!-- flashsize-report -->"
expect_eq "status state" "$(req 4 .body.state)" "success"
expect_eq "status context" "$(req 4 .body.context)" "flashsize"
expect_eq "status description: the irom0 delta of size -A" "$(req 4 .body.description)" \
  "esp8266-2m: irom0 +$DELTA B, 95.5% used"
expect_eq "every request: Authorization Bearer <token>" "$(jq -r .auth "$LOG" | sort -u)" "bearer-ok"
expect_eq "every request: GitHub's media type" "$(jq -r '.headers.accept' "$LOG" | sort -u)" "application/vnd.github+json"
expect_eq "every request: API version header" "$(jq -r '.headers["x-github-api-version"]' "$LOG" | sort -u)" "2022-11-28"
expect_eq "every request: a User-Agent" "$(jq -r '.headers["user-agent"]' "$LOG" | sort -u)" "flashsize/$("$FLASHSIZE" --version | cut -d' ' -f2)"
expect_eq "bodies are JSON" "$(jq -r 'select(.method != "GET") | .headers["content-type"]' "$LOG" | sort -u)" "application/json"

# --- second run: the report is on page 2 now; edit it, create nothing -------------
bot run2 0 "second run exits 0" bot -v --pr 7 --repo octo/fw --sha $SHA --board esp8266-2m $PAIR
expect_out "says it updated the same comment" "updated comment 4 on octo/fw#7"
expect_eq "requests: two pages, edit comment 4, status" \
  "$(sed -n '5,$p' "$LOG" | jq -r '.method + " " + .path' | tr '\n' ';')" \
  "GET /repos/octo/fw/issues/7/comments;GET /repos/octo/fw/issues/7/comments;PATCH /repos/octo/fw/issues/comments/4;POST /repos/octo/fw/statuses/$SHA;"
expect_eq "no new comment on the second run" "$(sed -n '5,$p' "$LOG" | jq -r 'select(.method == "POST" and (.path | endswith("/comments")))' | wc -l | tr -d ' ')" 0

# --- a failing HEAD: exit 1, status failure, the same comment edited -------------
bot run3 1 "overflowing HEAD exits 1" bot -v --pr 7 --repo octo/fw --sha $SHA \
  $S/esp8266-fits.elf $S/esp8266-irom0-overflow.elf
expect_eq "edits comment 4 again" "$(sed -n '11p' "$LOG" | jq -r '.method + " " + .path')" "PATCH /repos/octo/fw/issues/comments/4"
sed -n '11p' "$LOG" | jq -j .body.body >"$TMP/posted3.md"
check "edited comment = the failing diff's markdown" cmp -s "$TMP/posted3.md" "$TMP/want-fail.md"
OV=$(sed -n "s/.*region \`irom0_0_seg' overflowed by \([0-9]*\) bytes.*/\1/p" $S/esp8266-irom0-overflow.ldlog)
IO=$(xs_irom0 $S/esp8266-irom0-overflow.elf)
check "edited comment: the new error with ld's overflow and size -A's size" \
  grep -qF "new error \`irom0-overflow\` (.irom0.text): .irom0.text is $IO bytes but irom0\\_0\\_seg holds $((IO - OV)): over by $OV bytes" "$TMP/posted3.md"
expect_eq "status failure" "$(sed -n '12p' "$LOG" | jq -r .body.state)" "failure"

# --- budgets: a violated rule fails the status even when the diff passes -----------
printf '[budget]\nboard = esp8266-2m\nmax = %s\n' "$((B - 1))" >"$TMP/tight.ini"
bot run4 1 "violated budget exits 1" bot -v --pr 7 --repo octo/fw --sha $SHA --board esp8266-2m --rules "$TMP/tight.ini" $PAIR
sed -n '15p' "$LOG" | jq -j .body.body >"$TMP/posted4.md"
check "comment lists the failed budget" grep -qF "**Budgets: fail** - 1 rule violated." "$TMP/posted4.md"
expect_eq "status failure from the budget" "$(sed -n '16p' "$LOG" | jq -r .body.state)" "failure"
expect_eq "status says so" "$(sed -n '16p' "$LOG" | jq -r .body.description)" \
  "esp8266-2m: irom0 +$DELTA B, 95.5% used; 1 budget rule violated"
printf '[budget]\nboard = esp8266-2m\nmax = %s\n' "$B" >"$TMP/exact.ini"
bot run5 0 "budget at exactly used passes" bot -v --pr 7 --repo octo/fw --sha $SHA --board esp8266-2m --rules "$TMP/exact.ini" $PAIR

# --- --diff: a saved diff JSON gives the same comment ----------------------------
"$FLASHSIZE" diff --board esp8266-2m --format json $PAIR >"$TMP/d.json"
run 0 "--diff with --dry-run" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/d.json" --dry-run
sed -n '2,/^--- end of comment ---$/p' "$OUT" | sed '$d' >"$TMP/dry.md"
check "comment from the diff JSON = diff --format markdown" cmp -s "$TMP/dry.md" "$TMP/want.md"
expect_out "dry run prints the status" "status success on $SHA: flashsize: esp8266-2m: irom0 +$DELTA B, 95.5% used"
n_before=$(nreq)
GITHUB_API_URL="$API" run 0 "dry run needs no token" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/d.json" --dry-run
expect_eq "dry run sends nothing" "$(nreq)" "$n_before"
head -c 300 "$TMP/d.json" >"$TMP/cut.json"
run 2 "truncated diff JSON" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/cut.json" --dry-run
expect_err "names the file and line" "$TMP/cut.json:"
"$FLASHSIZE" analyze --format json $S/esp8266-fits.elf >"$TMP/analysis.json" 2>/dev/null
run 2 "an analysis is not a diff" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/analysis.json" --dry-run
expect_err "says what it expected" "$TMP/analysis.json: not a flashsize diff"
printf '{"schema":"flashsize-diff","schema_version":1,"boards":[{"label":"x","symbols":{},"findings":{}}]}' >"$TMP/h1.json"
run 2 "a diff without regions" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/h1.json" --dry-run
expect_err "names the file and the field" "$TMP/h1.json: regions is not a list"
jq '.boards[0].symbols.changes[0].change = "bogus"' "$TMP/d.json" >"$TMP/h2.json"
run 2 "a symbol with an unknown change" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/h2.json" --dry-run
expect_err "names the entry" "$TMP/h2.json: symbols entry 0 lacks name, change, before, after or delta"
jq '.schema_version = 2' "$TMP/d.json" >"$TMP/h3.json"
run 2 "a newer diff schema" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/h3.json" --dry-run
expect_err "names the version" "$TMP/h3.json: diff schema version 2, this flashsize reads 1"
jq '.boards[0].verdict = "fail" | .boards[0].errors = 1' "$TMP/d.json" >"$TMP/h4.json"
run 1 "a failing diff JSON exits 1" bot --pr 7 --repo octo/fw --sha $SHA --diff "$TMP/h4.json" --dry-run
expect_out "and says failure" "status failure on $SHA"

# --- retries: a 500, then 429s with Retry-After: 0 ---------------------------------
start_fake retry --fail-first 1
bot retry 0 "a 500 is retried" bot -v --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_eq "500 then the same GET again" "$(jq -r '(.status | tostring) + " " + .method + " " + .path' "$LOG" | head -n 2 | tr '\n' ';')" \
  "500 GET /repos/octo/fw/issues/3/comments;200 GET /repos/octo/fw/issues/3/comments;"
expect_err "the log shows attempt 2" "-> 200 (attempt 2)"
start_fake rate --fail-first 2 --fail-status 429
bot rate 0 "429s are retried" bot -v --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_eq "created after two 429s" "$(jq -r '.status' "$LOG" | tr '\n' ' ')" "429 429 200 201 201 "
start_fake down --fail-first 100
FLASHSIZE_BOT_ATTEMPTS=3 bot down 2 "500s until the attempts run out: exit 2" bot -v --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_err "names the request and the status" "GET $API/repos/octo/fw/issues/3/comments?per_page=100: HTTP 500 Server Error"
expect_eq "exactly three attempts" "$(nreq)" 3

# --- refusals: 401, a wrong token, a foreign Link, no token, no server -------------
start_fake unauth --always 401
bot unauth 2 "401: exit 2" bot -v --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_err "401 explained" "HTTP 401 Bad credentials (the token is missing, wrong or expired)"
expect_eq "401 is not retried" "$(nreq)" 1
start_fake wrong
GITHUB_API_URL="$API" GITHUB_TOKEN="not-the-token" run 2 "wrong token: exit 2" bot -v --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
cp "$ERR" "$TMP/wrong.err"
expect_eq "the server saw a wrong token" "$(jq -r .auth "$LOG")" "wrong"
start_fake evil --filler 3 --page-size 2 --evil-link
bot evil 2 "a Link to another host is refused" bot -v --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_err "says why" "the next page is on another server (http://198.51.100.7:9/"
expect_eq "only the first page was fetched" "$(nreq)" 1
GITHUB_API_URL="$API" run 2 "no token: exit 2" bot --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_err "says the token is not set" "GitHub token: not set"
GITHUB_API_URL="http://127.0.0.1:1" GITHUB_TOKEN="$TOKEN" FLASHSIZE_BOT_ATTEMPTS=2 \
  run 2 "nothing listening: exit 2" bot --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_err "names the request" "GET http://127.0.0.1:1/repos/octo/fw/issues/3/comments?per_page=100: Couldn't connect"
cp "$ERR" "$TMP/noserver.err"
GITHUB_API_URL="ftp://127.0.0.1:1" GITHUB_TOKEN="$TOKEN" run 2 "non-http API URL" bot --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json"

# --- usage -----------------------------------------------------------------------
run 0 "bot --help" bot --help
run 2 "no --pr" bot --repo octo/fw --sha $SHA --diff "$TMP/d.json"
run 2 "bad --pr" bot --pr 0x5 --repo octo/fw --sha $SHA --diff "$TMP/d.json"
expect_err "names --pr" "--pr: '0x5' is not a pull request number"
run 2 "bad --sha" bot --pr 3 --repo octo/fw --sha main --diff "$TMP/d.json"
GITHUB_API_URL="$API" GITHUB_TOKEN="$TOKEN" run 2 "bad --repo" bot --pr 3 --repo "octo/fw/x" --sha $SHA --diff "$TMP/d.json"
expect_err "names the repository" "repository 'octo/fw/x': expected OWNER/NAME"
run 2 "--diff and inputs" bot --pr 3 --repo octo/fw --sha $SHA --diff "$TMP/d.json" $PAIR
run 2 "one input" bot --pr 3 --repo octo/fw --sha $SHA $S/esp8266-fits.elf
run 2 "a missing input" bot --pr 3 --repo octo/fw --sha $SHA --dry-run $S/esp8266-fits.elf "$TMP/none.elf"
expect_err "names the missing file" "$TMP/none.elf"

# --- nothing but loopback, and never the token ------------------------------------
cat "$TMP"/*.err >"$TMP/all-stderr"
expect_eq "every URL the bot requested is on 127.0.0.1" \
  "$(grep -o 'bot: [A-Z]* [^ ]*' "$TMP/all-stderr" | awk '{ print $3 }' | grep -v '^http://127\.0\.0\.1:' | wc -l | tr -d ' ')" 0
expect_eq "the verbose logs saw as many requests as the servers" \
  "$(grep -c 'bot: [A-Z]* http' "$TMP/all-stderr")" "$(cat "$TMP"/*.log | wc -l | tr -d ' ')"
expect_eq "the token appears in no output, error or server log" "$(grep -rlF "$TOKEN" "$TMP" | wc -l | tr -d ' ')" 0
finish
