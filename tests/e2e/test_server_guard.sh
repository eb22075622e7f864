#!/bin/sh
# The server against slow and malformed clients (issue 11): a per-address
# connection limit, a deadline for a complete request head (slowloris above
# the connection limit), and a JSON {"error", "status"} body for the errors
# libmicrohttpd answers itself (431, 414, 400, 413, 505).
. tests/e2e/lib.sh
. tests/e2e/server_lib.sh
trap 'kill_servers; rm -rf "$TMP"' EXIT
FLASHSIZE="$(dirname "$FLASHSIZE")/flashsize-full"
SLOW="$(dirname "$FLASHSIZE")/tools/slowloris"
DB="$TMP/g.db"

# timed ARGS...: one GET with curl; prints "CODE SECONDS"
timed() { curl -s -o /dev/null -w '%{http_code} %{time_total}' "$@"; }
# within CODE_SECONDS LIMIT: the answer was 200 within LIMIT seconds
within() { echo "$1" | awk -v l="$2" '$1 == 200 && $2 < l { ok = 1 } END { exit !ok }'; }

# ---- 1. 300 slow clients from one address, default limits: another
# address is answered at once; the slow ones past 32 are refused
start_server perip --db "$DB"
"$SLOW" 127.0.0.1 "$PORT" 300 2000 8 >"$TMP/slow1.out" &
SLOWPID=$!
sleep 2
worst=0
for i in 1 2 3 4 5; do
  t=$(timed -m 5 --interface 127.0.0.2 "$URL/healthz")
  echo "# per-address limit: a client of 127.0.0.2 beside 300 slow ones of 127.0.0.1: $t"
  within "$t" 1 || worst=99
  sleep 0.5
done
expect_eq "300 slow clients of one address: another address answered within 1 s, 5 times" "$worst" 0
t=$(timed -m 3 "$URL/healthz")
expect_eq "the 33rd connection of the slow address is refused (per-address limit 32)" "${t%% *}" 000
wait "$SLOWPID"
cat "$TMP/slow1.out" | sed 's/^/# /'
check "the slow clients were refused or closed" awk '{ exit !($4 > 200) }' "$TMP/slow1.out"
check "the server survived" kill -0 "$PID"
stop_server "$PID"

# ---- 2. above the connection limit: 300 slow clients (a header line every
# 2 s, reconnecting when closed), limit 64, no per-address limit, head
# deadline 2 s: a normal client of the same address waits for slots the
# deadline frees, never for the slow clients to leave
start_server limit --db "$DB" --max-connections 64 --max-connections-per-ip 0 --header-timeout 2
"$SLOW" 127.0.0.1 "$PORT" 300 2000 16 >"$TMP/slow2.out" &
SLOWPID=$!
sleep 3
worst=0
for i in 1 2 3; do
  t=$(timed -m 15 "$URL/healthz")
  echo "# above the limit: a normal client beside 300 slow ones: $t"
  within "$t" 12 || worst=99
done
expect_eq "300 slow clients above a limit of 64: a normal client answered within 12 s, 3 times" "$worst" 0
wait "$SLOWPID"
cat "$TMP/slow2.out" | sed 's/^/# /'
check "the head deadline closed slow clients" awk '{ exit !($4 > 300) }' "$TMP/slow2.out"
stop_server "$PID"

# ---- 3. libmicrohttpd's own errors answer JSON
start_server errors --db "$DB"
# raw REQUEST-TEXT: send it as is; the answer's status line and body in $TMP/raw.*
raw() {
  printf "$1" | curl -s -m 3 "telnet://127.0.0.1:$PORT" >"$TMP/raw" 2>/dev/null
  head -1 "$TMP/raw" | tr -d '\r' >"$TMP/raw.status"
  # the body is the last line (for a bad Content-Length libmicrohttpd
  # 0.9.75 sends its status line and headers twice before it)
  sed -n '$p' "$TMP/raw" >"$TMP/raw.body"
}
json_error() { # NAME STATUS: the last raw answer is STATUS with a JSON error body of that status
  check "$1: HTTP $2" grep -q "^HTTP/1.1 $2 " "$TMP/raw.status"
  check "$1: JSON body {error, status: $2}" jq -e ".status == $2 and (.error | type == \"string\" and length > 0)" "$TMP/raw.body"
  check "$1: Content-Type application/json" grep -qi '^Content-Type: application/json' "$TMP/raw"
}
big=$(head -c 100000 /dev/zero | tr '\0' a)
curl -s -m 5 -o "$TMP/raw.body" -w '%{http_code}' -H "X-Big: $big" "$URL/healthz" >"$TMP/code"
expect_eq "a 100 KB header: 431" "$(cat "$TMP/code")" 431
check "a 100 KB header: JSON {error, status: 431}" jq -e '.status == 431 and (.error | test("header fields too large"))' "$TMP/raw.body"
curl -s -m 5 -o "$TMP/raw.body" -w '%{http_code}' "$URL/$big" >"$TMP/code"
expect_eq "a 100 KB request line: 414" "$(cat "$TMP/code")" 414
check "a 100 KB request line: JSON {error, status: 414}" jq -e '.status == 414' "$TMP/raw.body"
raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n'
json_error "a header line without a colon" 400
raw 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'
json_error "HTTP/9.9" 505
raw 'POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n'
json_error "a Content-Length past 2^64" 413
raw 'POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'
json_error "a Content-Length that is not a number" 400
raw 'POST /api/v1/builds HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n'
json_error "bad chunked encoding" 400
raw 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
check "a normal request after them: 200" grep -q "^HTTP/1.1 200 " "$TMP/raw.status"
stop_server "$PID"

if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP"/*.err >/dev/null 2>&1; then
  notok "no sanitizer report from any server" "$(grep -h -A5 "Sanitizer\|runtime error:" "$TMP"/*.err | head -20)"
else
  ok "no sanitizer report from any server"
fi
finish
