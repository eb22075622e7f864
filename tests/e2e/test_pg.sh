#!/bin/sh
# The PostgreSQL backend through the CLI: record, re-record, history, diff,
# check, forecast, project, token and import against a PostgreSQL URI give
# byte for byte the output they give on SQLite (the same builds recorded
# into both); the schema on PostgreSQL (version, generation counter);
# several processes recording different and the same commits at once lose
# and duplicate nothing, and every symbol set decodes; messages never show
# the URI's password; an unreachable server is a clear error (exit 2);
# `flashsize serve` on PostgreSQL stores and reads, answers 503 after a
# PostgreSQL restart and then reconnects (its pool of 2, one 503 each at most).
# The cluster is tests/run.sh's (FS_PG_DIR) or one of this test's own
# (tests/lib/pgcluster.sh); ground truth: `xtensa-lx106-elf-size -A` of the
# samples and psql's answers.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
. tests/lib/pgcluster.sh
S=samples/build
export FLASHSIZE_DB_BUSY_MS=20000
unset FLASHSIZE_DB

own=""
if [ -z "${FS_PG_DIR:-}" ]; then
  own=$(mktemp -d /tmp/fs-pgt.XXXXXX)
  if ! pg_cluster_start "$own" 2>"$TMP/pgerr"; then
    skip_capability "PostgreSQL cluster" "$(head -c 200 "$TMP/pgerr")"
    rm -rf "$own"
    echo "1..$TESTS_RUN"
    exit 0
  fi
  trap 'pg_cluster_stop "$own"; rm -rf "$own" "$TMP"' EXIT
fi
DIR=$FS_PG_DIR
dbn=e2e_pg_$$
pg_cluster_createdb "$DIR" $dbn
PG=$(pg_cluster_uri "$DIR" $dbn)
SQ="$TMP/sizes.db"
psql_int() { pg_cluster_psql_db "$DIR" $dbn -tAc "$1"; }
irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }

# both DBS ARGS...: run flashsize on SQLite and on PostgreSQL; the outputs
# (stdout and stderr, the database's name replaced by DB) and statuses must agree
both() {
  name=$1; shift
  "$FLASHSIZE" "$@" --db "$SQ" >"$TMP/sq.out" 2>"$TMP/sq.err"; s1=$?
  "$FLASHSIZE" "$@" --db "$PG" >"$TMP/pg.out" 2>"$TMP/pg.err"; s2=$?
  for f in sq pg; do
    sed -e "s|$SQ|DB|g" -e "s|$PG|DB|g" "$TMP/$f.out" >"$TMP/$f.o"
    sed -e "s|$SQ|DB|g" -e "s|$PG|DB|g" "$TMP/$f.err" >"$TMP/$f.e"
  done
  if [ "$s1" = "$s2" ] && cmp -s "$TMP/sq.o" "$TMP/pg.o" && cmp -s "$TMP/sq.e" "$TMP/pg.e" &&
    { [ -s "$TMP/sq.o" ] || [ -s "$TMP/sq.e" ]; }; then
    ok "$name: same output on SQLite and PostgreSQL (exit $s1)"
  else
    notok "$name: SQLite and PostgreSQL differ" "exit $s1 / $s2" "$(diff "$TMP/sq.o" "$TMP/pg.o" | head -5)" \
      "$(diff "$TMP/sq.e" "$TMP/pg.e" | head -5)"
  fi
  cp "$TMP/pg.out" "$OUT"
}

"$FLASHSIZE" analyze --board esp8266-2m --format json $S/esp8266-nearfull.elf >"$TMP/near.json" 2>/dev/null
T=1700000000
# --- the same history on both backends -------------------------------------------------
both "record a build" record $S/esp8266-fits.elf -p mpy -b esp8266-2m -c aaaa0001 --branch main --timestamp $T
both "record its child" record "$TMP/near.json" -p mpy -b esp8266-2m -c aaaa0002 --parent aaaa0001 --branch main --timestamp $((T + 60))
both "record a pull request" record $S/esp8266-irom0-overflow.elf -p mpy -b esp8266-2m -c bbbb0001 --parent aaaa0002 --branch feature --pr 7 --timestamp $((T + 120))
both "record another board" record $S/cortex-m4.elf -p mpy -b pyboard -c aaaa0002 --branch main --timestamp $((T + 60))
both "re-record a commit in place" record $S/esp8266-fits.elf -p mpy -b esp8266-2m -c aaaa0002 --parent aaaa0001 --branch main --timestamp $((T + 90))
both "history (text)" history --board esp8266-2m
both "history (json)" history --board esp8266-2m --format json
both "history of a branch" history --board esp8266-2m --branch main --format json
both "diff of two stored builds" diff commit:aaaa0001@esp8266-2m commit:bbbb0001
both "diff as markdown" diff commit:aaaa0001@esp8266-2m commit:bbbb0001 --format markdown
both "diff of a stored build and an ELF" diff build:2 $S/esp8266-nearfull.elf --format json
both "a short upper-case commit" diff commit:AAAA0001@esp8266-2m build:3
both "an ambiguous commit" diff commit:aaaa0002 build:1
both "an unknown build" diff build:99 build:1
both "check a stored build" check commit:bbbb0001 --budget rules/esp8266-2m.ini
both "forecast" forecast --board esp8266-2m
both "set a default branch" project mpy --default-branch main
both "read it" project mpy
both "a token list without tokens" token list
both "import a folder that is not there" import "$TMP/imp" --project mpy --board esp8266-2m --branch main
mkdir -p "$TMP/imp"
cp $S/esp8266-fits.elf "$TMP/imp/cccc0001.elf"
cp "$TMP/near.json" "$TMP/imp/cccc0002.json"
touch -d @$((T + 300)) "$TMP/imp/cccc0001.elf"
touch -d @$((T + 360)) "$TMP/imp/cccc0002.json"
both "import two builds" import "$TMP/imp" --project mpy --board esp8266-2m --branch main
both "import them again: skipped" import "$TMP/imp" --project mpy --board esp8266-2m --branch main
both "history after the import" history --board esp8266-2m --limit 10 --format json
cp "$OUT" "$TMP/hist.json"
FLASHSIZE_DB=$PG "$FLASHSIZE" history --board esp8266-2m --limit 10 --format json >"$TMP/env.json" 2>&1
expect_eq "FLASHSIZE_DB=postgresql://... names the same database" "$(cmp -s "$TMP/env.json" "$TMP/hist.json" && echo same)" same
expect_eq "the re-recorded build kept its id and took the new size" \
  "$(jq -c '[.builds[] | select(.commit == "aaaa0002") | .id, .used]' "$OUT")" "[2,$(irom0 $S/esp8266-fits.elf)]"

# --- tokens (random: compared by what list shows) ---------------------------------------
run 0 "a token on PostgreSQL" token create --project mpy --note ci --db "$PG"
tok=$(cat "$OUT")
run 0 "revoke it" token revoke 1 --db "$PG"
run 0 "list" token list --db "$PG"
expect_out "listed revoked" "revoked"
expect_eq "the token's hash is 32 bytes" "$(psql_int 'SELECT length(hash) FROM server_tokens WHERE id = 1')" 32
expect_eq "token format" "$(echo "$tok" | grep -c '^fst_1_[0-9a-f]\{64\}$')" 1

# --- the schema on PostgreSQL -----------------------------------------------------------
expect_eq "schema version in store_meta" "$(psql_int 'SELECT schema_version FROM store_meta')" 5
expect_eq "generation: one per build row written (5 records, 2 imports, 1 re-record) + the project's row" \
  "$(psql_int 'SELECT gen FROM store_generation')" \
  "$(($(psql_int 'SELECT count(*) FROM builds') + 1 + 0))"
expect_eq "the same builds as SQLite" "$(psql_int 'SELECT count(*) FROM builds')" "$(sqlite3 "$SQ" 'SELECT count(*) FROM builds')"
expect_eq "the same symbol sets as SQLite (snapshots and deltas)" \
  "$(psql_int "SELECT string_agg(coalesce(base_id, 0) || ':' || depth || ':' || length(data), ',' ORDER BY id) FROM symsets")" \
  "$(sqlite3 "$SQ" "SELECT group_concat(coalesce(base_id, 0) || ':' || depth || ':' || length(data), ',') FROM (SELECT * FROM symsets ORDER BY id)")"

# --- the password never shows -------------------------------------------------------------
run 2 "a wrong password" history --board b --db "postgresql://flashsize:s3cret@/nosuchdb?host=$DIR&password=s3cret2"
expect_err "a clear message" "cannot connect to the database"
expect_eq "no password in the message" "$(grep -c s3cret "$ERR")" 0
run 2 "a server that is not there" history --board b --db "postgresql:///x?host=$TMP/none"
expect_err "names the database" "postgresql:///x?host=$TMP/none: cannot connect to the database"
run 2 "a keyword string" history --board b --db "host=$TMP/none dbname=x password=s3cret"
expect_eq "no password in a keyword string's message" "$(grep -c s3cret "$ERR")" 0
expect_err "names it without the password" "host=$TMP/none dbname=x: cannot connect"

# --- the server on PostgreSQL, and a PostgreSQL restart under it --------------------------
. tests/e2e/server_lib.sh
trap 'kill_servers; [ -n "$own" ] && { pg_cluster_stop "$own"; rm -rf "$own"; }; rm -rf "$TMP"' EXIT
start_server pg --db "$PG" --threads 2
tok2=$("$FLASHSIZE" token create --project mpy --db "$PG" 2>/dev/null)
jq -n --slurpfile a "$TMP/near.json" '{project: "mpy", board: "srv", commit: "5e5e0001", branch: "main", timestamp: 1700001000, analysis: $a[0]}' >"$TMP/up.json"
up() { curl -s -o "$TMP/up.out" -w '%{http_code}' -H "Authorization: Bearer $tok2" -H 'Content-Type: application/json' --data-binary @"$TMP/up.json" "$URL/api/v1/builds"; }
expect_eq "serve on PostgreSQL: an upload is stored (201)" "$(up)" 201
expect_eq "and read back through the API" "$(curl -s "$URL/api/v1/projects/mpy/boards/srv/history" | jq '.builds | length')" 1
pg_cluster_restart "$DIR" >/dev/null 2>&1
codes=""
for k in 1 2 3 4; do codes="$codes $(curl -s -o "$TMP/get$k" -w '%{http_code}' "$URL/api/v1/projects")"; done
expect_eq "after a PostgreSQL restart: the first request is a 503" "$(echo $codes | cut -d' ' -f1)" 503
expect_eq "whose message says the database server is unavailable" \
  "$(jq -r '.error' "$TMP/get1" | grep -c 'the database server is unavailable')" 1
expect_eq "then each pool connection reconnects: 200s (codes:$codes)" "$(echo $codes | cut -d' ' -f3-4)" "200 200"
sed -i 's/5e5e0001/5e5e0002/' "$TMP/up.json"
expect_eq "an upload after the restart is stored" "$(up)" 201
expect_eq "both uploads there" "$(psql_int "SELECT count(*) FROM builds b JOIN boards o ON o.id = b.board_id WHERE o.name = 'srv'")" 2
stop_server "$PID"

# --- concurrent writers ------------------------------------------------------------------
cdb=e2e_pgc_$$
pg_cluster_createdb "$DIR" $cdb
C=$(pg_cluster_uri "$DIR" $cdb)
"$FLASHSIZE" analyze --format json $S/esp8266-fits.elf >"$TMP/fits.json" 2>/dev/null
N=6
i=0
while [ $i -lt $N ]; do
  (
    for k in 1 2 3 4; do
      # each process its own commits, and all of them the same shared ones
      "$FLASHSIZE" record "$TMP/near.json" -p mpy -b esp8266-2m -c "dd${i}000${k}" --branch main --timestamp $((T + i * 10 + k)) --db "$C" >/dev/null 2>>"$TMP/cerr" || echo "fail $i $k" >>"$TMP/cfail"
      "$FLASHSIZE" record "$TMP/fits.json" -p mpy -b esp8266-2m -c "ee00000${k}" --branch main --timestamp $((T + k)) --db "$C" >/dev/null 2>>"$TMP/cerr" || echo "fail $i shared $k" >>"$TMP/cfail"
    done
  ) &
  i=$((i + 1))
done
wait
expect_eq "every concurrent record succeeded" "$(cat "$TMP/cfail" 2>/dev/null | wc -l | tr -d ' ')" 0
expect_eq "no lost or duplicated build: $N x 4 own + 4 shared" "$(pg_cluster_psql_db "$DIR" $cdb -tAc 'SELECT count(*) FROM builds')" $((N * 4 + 4))
expect_eq "one row per commit" "$(pg_cluster_psql_db "$DIR" $cdb -tAc 'SELECT count(DISTINCT commit_sha) FROM builds')" $((N * 4 + 4))
bad=0
for id in $(pg_cluster_psql_db "$DIR" $cdb -tAc 'SELECT id FROM builds ORDER BY id'); do
  "$FLASHSIZE" diff "build:$id" "build:$id" --db "$C" --format json >"$TMP/d.json" 2>"$TMP/d.err" || { bad=$((bad + 1)); continue; }
done
expect_eq "every build's symbol set decodes" "$bad" 0
expect_eq "a shared commit reads back as recorded" \
  "$("$FLASHSIZE" diff commit:ee000001 "$TMP/fits.json" --db "$C" --format json | jq -c '.boards[0].symbols | [.changed, .added, .removed]')" "[0,0,0]"
expect_eq "generation counted every write" "$(pg_cluster_psql_db "$DIR" $cdb -tAc 'SELECT gen FROM store_generation')" \
  "$((N * 4 + N * 4))"

[ -s "$TMP/cerr" ] && sed "s/^/# /" "$TMP/cerr"
pg_cluster_psql_db "$DIR" postgres -c "DROP DATABASE $dbn WITH (FORCE)" -c "DROP DATABASE $cdb WITH (FORCE)" >/dev/null
echo "1..$TESTS_RUN"
