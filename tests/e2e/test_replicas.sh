#!/bin/sh
# Two `flashsize serve` replicas on one database (docs/deploy.md), first on
# one SQLite file, then on PostgreSQL (tests/lib/pgcluster.sh, when the
# backend is built in and the server is installed):
#   - an upload to one is read through the other: history (also a history
#     the other had cached before), the build, the projects; a token made
#     after both started works on both, and a revocation is refused by both
#     at once (tokens are read per request);
#   - concurrent uploads to both, the same commits sent to both, then kill -9
#     of one in the middle: every upload answered 2xx is there, once, and no
#     commit is stored twice;
#   - the database going away: a write lock held past the busy timeout
#     (SQLite), the PostgreSQL server stopped and restarted (`pg_ctl
#     restart -m fast`): 503 with the JSON error body and Retry-After,
#     /healthz 503 "unreachable" while PostgreSQL is down, then 2xx again on
#     both replicas without restarting them.
# Loopback only, every loop bounded, every server stopped on exit.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
. tests/e2e/server_lib.sh
S=samples/build
PGDIR=""
cleanup() {
  kill_servers
  [ -n "$PGDIR" ] && { pg_cluster_stop "$PGDIR" >/dev/null 2>&1; rm -rf "$PGDIR"; }
  rm -rf "$TMP"
}
trap cleanup EXIT
J='Content-Type: application/json'
H=/api/v1/projects/mpy/boards/esp8266-2m/history

"$FLASHSIZE" analyze --format json $S/esp8266-fits.elf >"$TMP/fits.json" 2>/dev/null
"$FLASHSIZE" analyze --format json $S/esp8266-nearfull.elf >"$TMP/near.json" 2>/dev/null
USED=$(jq '[.regions[] | select(.name == "irom0_0_seg") | .used][0]' "$TMP/near.json")
check "analyses for the uploads" test -n "$USED"

doc() { # doc ANALYSIS COMMIT BRANCH > body
  jq -c -n --slurpfile a "$1" --arg c "$2" --arg br "$3" \
    '{project: "mpy", board: "esp8266-2m", commit: $c, branch: $br, analysis: $a[0]}'
}
post() { # post URL FILE [TOKEN]: body in $TMP/body, status printed
  curl -s -m 30 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' -H "$J" \
    -H "Authorization: Bearer ${3:-$TOK}" --data-binary @"$2" "$1/api/v1/builds"
}
get() { # get URL PATH: body in $TMP/body, status printed
  curl -s -m 30 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$1$2"
}
# every commit of the board's history as read through URL, one a line, sorted
commits() { curl -s -m 30 "$1$H?limit=1000" | jq -r '.builds[].commit' | sort; }
wait_lines() { # wait_lines GLOB N: at most 60 s
  i=0
  while [ $i -lt 600 ] && [ "$(cat $1 2>/dev/null | wc -l)" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
}

# replicas LABEL DB: the whole suite on database DB
replicas() {
  L=$1 DB=$2
  TOK=$("$FLASHSIZE" token create --db "$DB" --project mpy 2>"$ERR")
  check "$L: token" test -n "$TOK"
  start_server "$L-a" --db "$DB" --max-connections-per-ip 0; A=$URL; PA=$PID
  start_server "$L-b" --db "$DB" --max-connections-per-ip 0; B=$URL; PB=$PID
  check "$L: two replicas started" test -n "${A#http://127.0.0.1:}" -a -n "${B#http://127.0.0.1:}"

  # --- an upload to one, read through the other ----------------------------------------------
  doc "$TMP/fits.json" r1 main >"$TMP/r1.json"
  expect_eq "$L: upload r1 to A: 201" "$(post "$A" "$TMP/r1.json")" 201
  id1=$(jq .id "$TMP/body")
  expect_eq "$L: B's history has r1" "$(commits "$B" | tr '\n' ' ')" "r1 "
  expect_eq "$L: B serves build $id1" "$(get "$B" "/api/v1/builds/$id1")" 200
  jq -S . "$TMP/body" >"$TMP/b1"
  get "$A" "/api/v1/builds/$id1" >/dev/null; jq -S . "$TMP/body" >"$TMP/a1"
  check "$L: the same build on A and B" cmp -s "$TMP/a1" "$TMP/b1"
  get "$B" /api/v1/projects >/dev/null
  expect_eq "$L: B's projects count it" "$(jq -c '[.projects[] | select(.name == "mpy") | .builds]' "$TMP/body")" "[1]"
  # B has the history cached now; an upload to A must show through B at once
  doc "$TMP/near.json" r2 main >"$TMP/r2.json"
  expect_eq "$L: upload r2 to A" "$(post "$A" "$TMP/r2.json")" 201
  get "$B" "$H" >/dev/null
  expect_eq "$L: B's cached history follows (generation): r2 first, its used bytes" \
    "$(jq -c '[.builds[0].commit, .builds[0].used, (.builds | length)]' "$TMP/body")" "[\"r2\",$USED,2]"

  # --- tokens: made and revoked beside the running replicas ----------------------------------
  TOK2=$("$FLASHSIZE" token create --db "$DB" --project mpy 2>/dev/null)
  tid=$(echo "$TOK2" | sed -n 's/^fst_\([0-9]*\)_.*/\1/p')
  doc "$TMP/fits.json" t1 main >"$TMP/t1.json"
  doc "$TMP/fits.json" t2 main >"$TMP/t2.json"
  expect_eq "$L: a new token works on A" "$(post "$A" "$TMP/t1.json" "$TOK2")" 201
  expect_eq "$L: and on B" "$(post "$B" "$TMP/t2.json" "$TOK2")" 201
  "$FLASHSIZE" token revoke "$tid" --db "$DB" >/dev/null 2>&1
  expect_eq "$L: revoked: A refuses at once" "$(post "$A" "$TMP/t1.json" "$TOK2")" 401
  expect_eq "$L: revoked: B refuses at once" "$(post "$B" "$TMP/t2.json" "$TOK2")" 401
  expect_out_body() { if grep -qF -- "$2" "$TMP/body"; then ok "$1"; else notok "$1" "body: $(head -c 300 "$TMP/body")"; fi; }
  expect_out_body "$L: says revoked" "the token has been revoked"

  # --- concurrent uploads to both, kill -9 of A in the middle --------------------------------
  # 30 commits to A, 30 to B, and 10 commits sent to both at once
  i=0
  while [ $i -lt 30 ]; do
    doc "$TMP/fits.json" "ca$i" conc >"$TMP/ca$i.json"
    doc "$TMP/near.json" "cb$i" conc >"$TMP/cb$i.json"
    i=$((i + 1))
  done
  i=0
  while [ $i -lt 10 ]; do doc "$TMP/near.json" "both$i" conc >"$TMP/both$i.json"; i=$((i + 1)); done
  rm -f "$TMP"/*.code
  send() { # send URL FILE NAME: "status name" into $TMP/NAME.code, in the background
    ( c=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "$J" -H "Authorization: Bearer $TOK" \
        --data-binary @"$2" "$1/api/v1/builds"); echo "$c $3" >"$TMP/$3.code" ) &
  }
  i=0
  while [ $i -lt 30 ]; do
    send "$A" "$TMP/ca$i.json" "ca$i"
    send "$B" "$TMP/cb$i.json" "cb$i"
    [ $i -lt 10 ] && { send "$A" "$TMP/both$i.json" "bothA$i"; send "$B" "$TMP/both$i.json" "bothB$i"; }
    i=$((i + 1))
  done
  n=0
  while [ $n -lt 500 ] && [ "$(cat "$TMP"/ca*.code 2>/dev/null | grep -c '^2')" -lt 3 ]; do sleep 0.01; n=$((n + 1)); done
  kill -9 "$PA"
  wait "$PA" 2>/dev/null
  wait_lines "$TMP/*.code" 80
  cat "$TMP"/*.code >"$TMP/codes"
  expect_eq "$L: 80 uploads answered or cut off" "$(wc -l <"$TMP/codes")" 80
  sed -e 's/ bothA/ both/' -e 's/ bothB/ both/' "$TMP/codes" | awk '$1 ~ /^2/ { print $2 }' | sort -u >"$TMP/want"
  bad=$(awk '$1 !~ /^(2..|000|503)$/' "$TMP/codes" | head -n 3 | tr '\n' ' ')
  expect_eq "$L: every answer is 2xx, 503 or a connection cut by the kill" "$bad" ""
  nB=$(grep -c ' cb' "$TMP/codes"); okB=$(awk '$1 ~ /^2/ && $2 ~ /^cb/' "$TMP/codes" | wc -l)
  expect_eq "$L: B (not killed) answered its 30 uploads 2xx" "$okB/$nB" "30/30"
  echo "# $L: kill -9: $(awk '$1 ~ /^2/ && $2 ~ /^ca/' "$TMP/codes" | wc -l) of 30 uploads to A answered 2xx"
  commits "$B" >"$TMP/have"
  missing=$(comm -23 "$TMP/want" "$TMP/have" | head -n 5 | tr '\n' ' ')
  expect_eq "$L: every commit answered 2xx is in the database (read through B)" "$missing" ""
  expect_eq "$L: no commit stored twice" "$(uniq -d "$TMP/have" | wc -l)" 0
  check "$L: the check above had 2xx answers from A (else it is vacuous)" \
    test "$(awk '$1 ~ /^2/ && $2 ~ /^ca/' "$TMP/codes" | wc -l)" -gt 0
  # the same commit sent to both: one build whatever the order
  expect_eq "$L: both0..both9 stored once each" "$(grep -c '^both' "$TMP/have")" \
    "$(grep -c '^both' "$TMP/want")"
  start_server "$L-a2" --db "$DB"; A=$URL; PA=$PID
  expect_eq "$L: A restarted, sees the same builds" "$(commits "$A" | md5sum)" "$(md5sum <"$TMP/have")"
}

# --- one SQLite file ---------------------------------------------------------------------------
export FLASHSIZE_DB_BUSY_MS=5000
replicas sqlite "$TMP/sizes.db"
check "sqlite: integrity_check" test "$(sqlite3 "$TMP/sizes.db" 'PRAGMA integrity_check')" = ok
# a write lock held past the busy timeout: 503, JSON, Retry-After; then 201 again
stop_server "$PA"; stop_server "$PB"
FLASHSIZE_DB_BUSY_MS=300 start_server lock-a --db "$TMP/sizes.db"; A=$URL; PA=$PID
FLASHSIZE_DB_BUSY_MS=300 start_server lock-b --db "$TMP/sizes.db"; B=$URL; PB=$PID
(echo "BEGIN IMMEDIATE; UPDATE server_tokens SET note = note WHERE id = 0;"; sleep 3; echo "COMMIT;") |
  sqlite3 "$TMP/sizes.db" &
LOCKER=$!
sleep 0.5
doc "$TMP/fits.json" locked1 main >"$TMP/l1.json"
expect_eq "sqlite: write lock held: upload to A is 503" "$(post "$A" "$TMP/l1.json")" 503
check "with the JSON error body" jq -e '.status == 503 and (.error | test("locked"))' "$TMP/body"
check "and Retry-After" grep -qi '^Retry-After: 2' "$TMP/hdr"
expect_eq "sqlite: and to B" "$(post "$B" "$TMP/l1.json")" 503
expect_eq "sqlite: reads still answer (WAL): B's /healthz" "$(get "$B" /healthz)" 200
wait "$LOCKER"
expect_eq "sqlite: lock released: the same upload to A is 201" "$(post "$A" "$TMP/l1.json")" 201
expect_eq "sqlite: B reads it" "$(commits "$B" | grep -c '^locked1$')" 1
stop_server "$PA"; stop_server "$PB"

# --- PostgreSQL ----------------------------------------------------------------------------------
# A cluster of this test's own (it is stopped and restarted here, so never the suite's).
. tests/lib/pgcluster.sh
pg_down() { pg_cluster_as "$FS_PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1; }
pg_up() { pg_cluster_start "$PGDIR" >/dev/null 2>&1; }
PGDIR=$(mktemp -d /tmp/fs-pgr.XXXXXX)
if ! pg_cluster_start "$PGDIR" >"$TMP/pg.out" 2>&1; then
  skip_capability "replicas on PostgreSQL" "cannot start a PostgreSQL cluster: $(tail -n 2 "$TMP/pg.out")"
  rm -rf "$PGDIR"; PGDIR=""
else
    replicas pg "$FS_PG_URI"
    # the PostgreSQL server stopped: clear 503s; started again: 2xx, no replica restarted
    pg_down
    doc "$TMP/fits.json" down1 main >"$TMP/d1.json"
    expect_eq "pg down: upload to A is 503" "$(post "$A" "$TMP/d1.json")" 503
    check "pg down: with the JSON error body" jq -e '.status == 503 and (.error | length > 0)' "$TMP/body"
    check "pg down: and Retry-After" grep -qi '^Retry-After: 2' "$TMP/hdr"
    expect_eq "pg down: history through B is 503" "$(get "$B" "$H")" 503
    expect_eq "pg down: B's /healthz is 503" "$(get "$B" /healthz)" 503
    check "pg down: it says unreachable" jq -e '.database == "unreachable" and .status == 503' "$TMP/body"
    pg_up
    n=0
    while [ $n -lt 100 ] && [ "$(get "$B" /healthz)" != 200 ]; do sleep 0.1; n=$((n + 1)); done
    expect_eq "pg up again: B's /healthz is 200" "$(get "$B" /healthz)" 200
    expect_eq "pg up again: A's /healthz is 200" "$(get "$A" /healthz)" 200
    expect_eq "pg up again: the upload to A is 201" "$(post "$A" "$TMP/d1.json")" 201
    expect_eq "pg up again: B reads it" "$(commits "$B" | grep -c '^down1$')" 1
    # pg_ctl restart -m fast while both replicas take uploads: 2xx or 503, then 2xx
    rm -f "$TMP"/rs*.code
    i=0
    while [ $i -lt 40 ]; do
      doc "$TMP/fits.json" "rs$i" main >"$TMP/rs$i.json"
      if [ $((i % 2)) = 0 ]; then u=$A; else u=$B; fi
      ( c=$(curl -s -m 30 -o "$TMP/rs$i.body" -w '%{http_code}' -H "$J" -H "Authorization: Bearer $TOK" \
          --data-binary @"$TMP/rs$i.json" "$u/api/v1/builds"); echo "$c rs$i" >"$TMP/rs$i.code" ) &
      [ $i = 10 ] && { pg_cluster_restart "$PGDIR" >/dev/null 2>&1 & }
      sleep 0.05
      i=$((i + 1))
    done
    wait_lines "$TMP/rs*.code" 40
    cat "$TMP"/rs*.code >"$TMP/rcodes"
    odd=$(awk '$1 !~ /^(2..|503)$/ { print $2 }' "$TMP/rcodes" | head -n 3)
    expect_eq "pg restart: every answer 2xx or 503" "$(for r in $odd; do grep "$r\$" "$TMP/rcodes"; head -c 300 "$TMP/$r.body"; done)" ""
    echo "# pg restart: $(grep -c '^503' "$TMP/rcodes") of 40 uploads answered 503"
    awk '$1 ~ /^2/ { print $2 }' "$TMP/rcodes" | sort >"$TMP/want"
    commits "$B" | grep '^rs' >"$TMP/have"
    expect_eq "pg restart: every 2xx upload is there" "$(comm -23 "$TMP/want" "$TMP/have" | wc -l)" 0
    doc "$TMP/fits.json" after main >"$TMP/after.json"
    expect_eq "pg restart: then 201 on A" "$(post "$A" "$TMP/after.json")" 201
    expect_eq "pg restart: and 200 reads on B" "$(get "$B" "$H")" 200
fi
echo "1..$TESTS_RUN"
