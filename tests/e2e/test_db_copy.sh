#!/bin/sh
# `flashsize db copy SRC DST` (docs/store.md, "Moving a database"):
#   - SQLite -> SQLite is exact: the same build ids, identity columns, stored
#     documents, region/section/finding rows, histories, diffs, default
#     branches and token rows (hashes, revocations), read with sqlite3 and the
#     CLI on both sides; a copied token uploads to a server on DST, a copied
#     revocation still refuses;
#   - a DST with builds is refused unless --merge; --merge maps taken ids and
#     replaces the build of a commit DST already has;
#   - any failure (a token DST cannot take, a missing or corrupt SRC, SRC =
#     DST) is exit 2 naming the database, and DST keeps no build of it;
#   - with PostgreSQL (tests/lib/pgcluster.sh, when the backend is built in
#     and initdb is installed): SQLite -> PG -> SQLite gives the same rows.
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
export FLASHSIZE_DB_BUSY_MS=500
SRC="$TMP/src.db"

rec() { # rec PROJECT BOARD COMMIT ELF TIME [record args]
  p=$1 b=$2 c=$3 e=$4 t=$5; shift 5
  "$FLASHSIZE" record --db "$SRC" -p "$p" -b "$b" -c "$c" --timestamp "$t" "$@" "$S/$e.elf" >/dev/null 2>"$ERR" ||
    notok "record $c" "$(cat "$ERR")"
}
rec mpy esp8266-2m 1111aaaa esp8266-fits 1700000000 --branch main
rec mpy esp8266-2m 2222bbbb esp8266-nearfull 1700000060 --branch main --parent 1111aaaa
rec mpy esp8266-2m 3333cccc esp8266-irom0-overflow 1700000120 --branch feature --parent 2222bbbb --pr 7
rec mpy esp8266-1m 1111aaaa esp8266-fits 1700000000 --branch main
rec other esp8266-2m 4444dddd esp8266-nearfull 1700000200 --branch trunk
rec mpy esp8266-2m 5555eeee esp8266-fits 1700000300
"$FLASHSIZE" project other --default-branch trunk --db "$SRC" >/dev/null 2>&1
"$FLASHSIZE" project empty --default-branch develop --db "$SRC" >/dev/null 2>&1
"$FLASHSIZE" token create --db "$SRC" --project mpy --note ci >"$TMP/tok1" 2>/dev/null
"$FLASHSIZE" token create --db "$SRC" --project other >"$TMP/tok2" 2>/dev/null
"$FLASHSIZE" token revoke 2 --db "$SRC" >/dev/null 2>&1
NB=$(sqlite3 "$SRC" 'SELECT count(*) FROM builds')
expect_eq "source: 6 builds" "$NB" 6

# what must be equal on both sides, read with sqlite3 (not through flashsize)
dump() {
  sqlite3 "$1" "SELECT b.id, p.name, p.default_branch, bo.name, b.commit_sha, b.branch, b.parent_sha, b.pr,
                       b.timestamp, b.tool_version, b.chip, b.main_region, b.main_used, b.main_length,
                       b.errors_json, b.regions_json, b.doc
                FROM builds b JOIN projects p ON p.id = b.project_id JOIN boards bo ON bo.id = b.board_id ORDER BY b.id;
                SELECT 'r', build_id, seq, name, origin, length, used, attrs FROM regions ORDER BY build_id, seq;
                SELECT 's', build_id, seq, name, type, flags, address, lma, size, region, load_region FROM sections ORDER BY build_id, seq;
                SELECT 'f', build_id, seq, fid, severity, subject, message, numbers FROM findings ORDER BY build_id, seq;
                SELECT 'z', build_id, seq, name, size, detail FROM frozen ORDER BY build_id, seq;
                SELECT 'p', name, default_branch FROM projects ORDER BY name;
                SELECT 't', id, project, hex(hash), created, revoked, note FROM server_tokens ORDER BY id;"
}

# --- SQLite -> SQLite -----------------------------------------------------------------------
DST="$TMP/dst.db"
run 0 "copy SQLite -> SQLite" db copy "$SRC" "$DST"
expect_out "says what it copied" "copied 6 builds (0 under another id), 3 projects, 2 tokens (0 already there) from $SRC to $DST; every build verified"
dump "$SRC" >"$TMP/src.dump"
dump "$DST" >"$TMP/dst.dump"
check "same ids, identity, documents, rows, default branches and tokens (sqlite3 dump)" cmp -s "$TMP/src.dump" "$TMP/dst.dump"
expect_eq "the dump is not empty: 6 builds, 3 projects, 2 tokens" \
  "$(grep -c '^[0-9]' "$TMP/dst.dump") $(grep -c '^p|' "$TMP/dst.dump") $(grep -c '^t|' "$TMP/dst.dump")" "6 3 2"
for b in esp8266-2m esp8266-1m; do
  "$FLASHSIZE" history --db "$SRC" --board "$b" --format json >"$TMP/h1" 2>&1
  "$FLASHSIZE" history --db "$DST" --board "$b" --format json >"$TMP/h2" 2>&1
  check "history of $b is the same" cmp -s "$TMP/h1" "$TMP/h2"
done
# symbols: the diff of two stored builds lists symbol changes, read from each side
"$FLASHSIZE" diff --db "$SRC" --format json --top 0 build:1 build:2 >"$TMP/d1" 2>&1
"$FLASHSIZE" diff --db "$DST" --format json --top 0 build:1 build:2 >"$TMP/d2" 2>&1
check "diff build:1 build:2 (every symbol) is the same" cmp -s "$TMP/d1" "$TMP/d2"
check "that diff has symbol changes (else the check above is vacuous)" jq -e '.boards[0].symbols.changed > 0' "$TMP/d2"
run 0 "default branch of an empty project" project empty --db "$DST"
expect_out "develop" "develop"
"$FLASHSIZE" token list --db "$SRC" >"$TMP/t1" 2>&1
"$FLASHSIZE" token list --db "$DST" >"$TMP/t2" 2>&1
check "token list is the same" cmp -s "$TMP/t1" "$TMP/t2"

# the copied tokens work on a server of DST; the revoked one does not
"$FLASHSIZE" analyze --format json $S/esp8266-fits.elf >"$TMP/fits.json" 2>/dev/null
jq -c -n --slurpfile a "$TMP/fits.json" '{project: "mpy", board: "esp8266-2m", commit: "6666ffff", branch: "main", analysis: $a[0]}' >"$TMP/up.json"
jq -c -n --slurpfile a "$TMP/fits.json" '{project: "other", board: "esp8266-2m", commit: "7777aaaa", branch: "main", analysis: $a[0]}' >"$TMP/up2.json"
start_server dst --db "$DST"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$TMP/tok1")" --data-binary @"$TMP/up.json" "$URL/api/v1/builds")
expect_eq "a copied token uploads to DST: 201" "$code" 201
expect_eq "as build 7 (after the copied ids)" "$(jq .id "$TMP/body")" 7
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$TMP/tok2")" --data-binary @"$TMP/up2.json" "$URL/api/v1/builds")
expect_eq "a copied revocation still refuses: 401" "$code" 401
stop_server "$PID"

# --- a DST with builds ----------------------------------------------------------------------
before=$(sqlite3 "$DST" 'SELECT count(*) FROM builds')
run 2 "DST with builds is refused" db copy "$SRC" "$DST"
expect_err "names DST and --merge" "$DST: the destination already has 7 builds (give --merge to copy into it)"
expect_eq "DST unchanged" "$(sqlite3 "$DST" 'SELECT count(*) FROM builds')" "$before"

M="$TMP/merge.db"
"$FLASHSIZE" record --db "$M" -p mpy -b esp8266-2m -c 9999abcd --timestamp 1690000000 $S/esp8266-nearfull.elf >/dev/null 2>&1
"$FLASHSIZE" record --db "$M" -p mpy -b esp8266-2m -c 2222bbbb --timestamp 1690000000 $S/esp8266-fits.elf >/dev/null 2>&1
run 0 "--merge into a DST with builds" db copy --merge --no-tokens "$SRC" "$M"
# SRC's builds 3-6 keep their ids (free in DST); 2222bbbb is DST's build 2: replaced in place,
# same id; SRC's build 1 (id taken by 9999abcd) comes last and gets the next free id, 7
expect_eq "mapping printed" "$(grep '^build' "$OUT" | tr '\n' ' ')" "build 1 -> 7 "
expect_out "summary" "copied 6 builds (1 under another id), 3 projects, 0 tokens (0 already there)"
expect_eq "7 builds: DST's own 9999abcd and SRC's 6" "$(sqlite3 "$M" 'SELECT count(*) FROM builds')" 7
expect_eq "2222bbbb replaced by SRC's build (nearfull, time 1700000060)" \
  "$(sqlite3 "$M" "SELECT id, timestamp, main_used FROM builds WHERE commit_sha = '2222bbbb'")" \
  "2|1700000060|$(sqlite3 "$SRC" "SELECT main_used FROM builds WHERE commit_sha = '2222bbbb'")"
expect_eq "no token copied with --no-tokens" "$(sqlite3 "$M" 'SELECT count(*) FROM server_tokens' 2>/dev/null || echo 0)" 0

# --- failures leave DST as it was -------------------------------------------------------------
F="$TMP/fail.db"
"$FLASHSIZE" token create --db "$F" --project someone-else >/dev/null 2>&1
run 2 "a token DST cannot take fails the copy" db copy "$SRC" "$F"
expect_err "names DST and the token" "$F: token 1 is already there, another token (project 'someone-else'): it cannot be copied"
expect_eq "no build of SRC kept in DST" "$(sqlite3 "$F" 'SELECT count(*) FROM builds')" 0
expect_eq "no project either" "$(sqlite3 "$F" 'SELECT count(*) FROM projects')" 0
run 2 "missing SRC" db copy "$TMP/none.db" "$TMP/new.db"
expect_err "names SRC" "$TMP/none.db: cannot open"
head -c 8192 /dev/urandom >"$TMP/junk.db"
run 2 "corrupt SRC" db copy "$TMP/junk.db" "$TMP/new2.db"
expect_err "names SRC" "$TMP/junk.db"
expect_eq "DST made for it has no build" "$(sqlite3 "$TMP/new2.db" 'SELECT count(*) FROM builds' 2>/dev/null || echo 0)" 0
run 2 "SRC = DST" db copy "$SRC" "$SRC"
expect_err "is refused" "SRC and DST are the same database"
run 2 "unknown action" db move "$SRC" "$DST"
run 2 "one argument" db copy "$SRC"
run 0 "--help" db --help
expect_out "help names copy" "flashsize db copy SRC DST"

# --- PostgreSQL, both ways ------------------------------------------------------------------
# The suite's cluster (tests/run.sh: FS_PG_DIR) or one of this test's own; a database of its own.
. tests/lib/pgcluster.sh
PGD=${FS_PG_DIR:-}
if [ -z "$PGD" ]; then
  PGDIR=$(mktemp -d /tmp/fs-pgc.XXXXXX)
  if pg_cluster_start "$PGDIR" >"$TMP/pg.out" 2>&1; then PGD=$PGDIR; else
    skip_capability "PostgreSQL copies" "cannot start a PostgreSQL cluster: $(tail -n 2 "$TMP/pg.out")"
    rm -rf "$PGDIR"; PGDIR=""
  fi
fi
if [ -n "$PGD" ]; then
  dbn=e2e_copy_$$
  pg_cluster_createdb "$PGD" $dbn
  PGU=$(pg_cluster_uri "$PGD" $dbn)
  run 0 "copy SQLite -> PostgreSQL" db copy "$SRC" "$PGU"
  expect_out "6 builds" "copied 6 builds (0 under another id), 3 projects, 2 tokens"
  run 2 "PostgreSQL DST with builds is refused" db copy "$SRC" "$PGU"
  expect_err "names the database" "already has 6 builds"
  # a URI's password is never shown (trust authentication ignores it)
  PGPW="postgresql://flashsize:sekrit-pw@/$dbn?host=$PGD"
  run 2 "refused again, URI with a password" db copy "$SRC" "$PGPW"
  check "the message names the database without the password" sh -c "grep -q 'already has 6 builds' '$ERR' && ! grep -q sekrit '$ERR'"
  pg_cluster_createdb "$PGD" ${dbn}_pw
  run 0 "copy to a URI with a password" db copy "$SRC" "postgresql://flashsize:sekrit-pw@/${dbn}_pw?host=$PGD"
  check "the summary names it without the password" sh -c "grep -q 'copied 6 builds' '$OUT' && ! grep -q sekrit '$OUT'"
  expect_eq "PostgreSQL: the same ids, commits and times (psql)" \
    "$(pg_cluster_psql_db "$PGD" $dbn -tA -F'|' -c 'SELECT id, commit_sha, timestamp FROM builds ORDER BY id')" \
    "$(sqlite3 "$SRC" 'SELECT id, commit_sha, timestamp FROM builds ORDER BY id')"
  "$FLASHSIZE" diff --db "$PGU" --format json --top 0 build:1 build:2 >"$TMP/d3" 2>&1
  check "diff build:1 build:2 read from PostgreSQL is the same" cmp -s "$TMP/d1" "$TMP/d3"
  # a new build and a new token on PostgreSQL go on after the copied ids
  run 0 "record on PostgreSQL after the copy" record --db "$PGU" -p mpy -b esp8266-2m -c 8888abcd $S/esp8266-fits.elf
  expect_out "as build 7" "recorded build 7"
  run 0 "token on PostgreSQL after the copy" token create --db "$PGU" --project mpy
  expect_eq "as token 3" "$(sed -n 's/^fst_\([0-9]*\)_.*/\1/p' "$OUT")" 3
  BACK="$TMP/back.db"
  run 0 "copy PostgreSQL -> SQLite" db copy "$PGU" "$BACK"
  expect_out "7 builds back" "copied 7 builds (0 under another id), 3 projects, 3 tokens"
  dump "$BACK" | grep -v '^7|' | grep -v '^[rsfz]|7|' | grep -v '^t|3|' >"$TMP/back.dump"
  check "SQLite -> PostgreSQL -> SQLite: the same rows (sqlite3 dump, less build 7 and token 3)" \
    cmp -s "$TMP/src.dump" "$TMP/back.dump"
  "$FLASHSIZE" token list --db "$BACK" | head -n 3 >"$TMP/t3"
  check "token list after the round trip (tokens 1 and 2)" cmp -s "$TMP/t1" "$TMP/t3"
fi
echo "1..$TESTS_RUN"
