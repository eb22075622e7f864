#!/bin/sh
# outputs-snapshot.sh - run every flashsize command on every sample, in every
# format, and store each run's standard output, standard error and exit
# status, so that a refactoring can be shown to change no output at all:
#
#   sh scripts/outputs-snapshot.sh build /tmp/before     # on the old commit
#   sh scripts/outputs-snapshot.sh build /tmp/after      # on the new one
#   diff -r /tmp/before /tmp/after                       # nothing: byte-identical
#
# Needs the samples (make samples) and the test tools (make test-plain builds
# build/tools/mkromfs).  BUILD_DIR may be another checkout's build (the old
# commit's).  Temporary paths are replaced by @TMP@ in the stored outputs,
# dates by @DATE@ in the token lists (tokens are made at run time), and the
# server's answers are fetched with curl, so two runs of the same binary give
# the same files.  The count of runs is printed at the end.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:?usage: outputs-snapshot.sh BUILD_DIR OUTDIR}
OUT=${2:?usage: outputs-snapshot.sh BUILD_DIR OUTDIR}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
FS="$BUILD/flashsize"
FULL="$BUILD/flashsize-full"
MK="$BUILD/tools/mkromfs"
S=samples/build
F=samples/frozen/build
R=samples/refgraph/build
N=samples/natmod/build
rm -rf "$OUT"
mkdir -p "$OUT"
TMP=$(mktemp -d)
SRV=""
trap '[ -n "$SRV" ] && kill -9 $SRV 2>/dev/null; rm -rf "$TMP"' EXIT
export FLASHSIZE_RULES="$PWD/rules"
export FLASHSIZE_DB="$TMP/none.db"
count=0

# snap NAME CMD ARGS...: run flashsize CMD ARGS, keep out, err and status.
snap() {
  name=$1; shift
  "$FS" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  echo $? >"$OUT/$name.rc"
  sed -i "s|$TMP|@TMP@|g" "$OUT/$name.out" "$OUT/$name.err"
  case "$name" in token-*) sed -i 's/20[0-9][0-9]-[01][0-9]-[0-3][0-9]\( [0-2][0-9]:[0-5][0-9]:[0-5][0-9]\)\{0,1\}/@DATE@/g' "$OUT/$name.out" ;; esac
  count=$((count + 1))
}

ELFS=""
for e in $S/*.elf $F/*.elf $R/*.elf; do ELFS="$ELFS $e"; done

# --- analyze: every ELF, every format, with and without the extras ----------
for e in $ELFS; do
  b=$(basename "$e" .elf); d=$(basename "$(dirname "$(dirname "$e")")")
  k="$d-$b"
  for fmt in text json csv; do
    snap "analyze-$k-$fmt" analyze --format "$fmt" "$e"
  done
  m="${e%.elf}.map"
  if [ -f "$m" ]; then
    snap "analyze-$k-map-text" analyze --map "$m" "$e"
    snap "analyze-$k-map-json" analyze --format json --map "$m" "$e"
    snap "map-$k-text" map "$m"
    snap "map-$k-json" map --format json "$m"
    snap "map-$k-top3" map --top 3 "$m"
    snap "analyze-$k-maponly" analyze --map "$m"
    snap "analyze-$k-maponly-json" analyze --format json --map "$m"
  fi
  snap "analyze-$k-retained" analyze --retained "$e"
  snap "analyze-$k-retained-json" analyze --retained --format json --top 5 "$e"
  snap "analyze-$k-headroom" analyze --headroom 50 --top 3 "$e"
  snap "frozen-$k-text" frozen "$e"
  snap "frozen-$k-json" frozen --format json "$e"
  snap "rom-$k-text" rom "$e"
  snap "rom-$k-json" rom --format json "$e"
  snap "top-$k-text" top --retained "$e"
  snap "top-$k-json" top --retained --format json --top 10 "$e"
  snap "why-$k-main" why "$e" main
  snap "why-$k-main-json" why --format json "$e" main
  snap "cut-$k-text" cut --to-fit "$(case $b in esp8266*) echo irom0_0_seg ;; *) echo FLASH ;; esac)" "$e"
done

# --- analyze with boards and linker scripts ---------------------------------
while read -r name prefix ld board; do
  case "$name" in '#'*|'') continue ;; esac
  e=$S/$name.elf
  [ -f "$e" ] || continue
  if [ "$ld" != "-" ]; then
    snap "analyze-ld-$name" analyze --ld "$ld" "$e"
    snap "analyze-ld-$name-json" analyze --format json --ld "$ld" -L samples/ld "$e"
    snap "cut-ld-$name" cut --ld "$ld" --to-fit "$(case $name in esp8266*) echo irom0_0_seg ;; *) echo FLASH ;; esac)" --limit 4096 --rank 3 "$e"
  fi
  if [ "$board" != "-" ]; then
    for fmt in text json csv; do snap "analyze-board-$name-$fmt" analyze --board "$board" --format "$fmt" "$e"; done
    [ -f "$S/$name.map" ] && snap "analyze-board-$name-map-retained" analyze --board "$board" --map "$S/$name.map" --retained --format json "$e"
    snap "cut-board-$name" cut --board "$board" --to-fit irom0_0_seg --format json "$e"
    snap "why-board-$name" why --board "$board" --format json "$e" main
    snap "top-board-$name" top --board "$board" --retained --top 5 "$e"
    snap "rom-map-$name" rom --map "$S/$name.map" "$e"
  fi
done <samples/samples.txt
snap analyze-defsym analyze --ld samples/ld/esp8266_2MiB.ld --defsym FOO=1 $S/esp8266-fits.elf
snap analyze-romfs analyze --board esp8266-2m-romfs --romfs /dev/null $S/esp8266-romfs.elf
snap frozen-rom-map rom --map $F/esp8266-rom.map $F/esp8266-rom.elf
snap cut-map cut --map $F/esp8266-frozen.map --to-fit irom0_0_seg --limit 100000 $F/esp8266-frozen.elf

# --- bad input and usage ------------------------------------------------------
printf 'not an elf' >"$TMP/junk.elf"
for c in analyze frozen rom map romfs natmod why top cut boards diff history check forecast record import token bot serve; do
  snap "help-$c" "$c" --help
  snap "badopt-$c" "$c" --no-such-option
  [ "$c" = serve ] && continue # without arguments it serves
  snap "noargs-$c" "$c"
  snap "junk-$c" "$c" "$TMP/junk.elf"
done
snap help-top --help
snap version --version
snap unknown-cmd frobnicate
snap analyze-badformat analyze --format xml $S/x86_64.elf
snap analyze-missing analyze /nonexistent.elf
snap analyze-badboard analyze --board nosuch $S/x86_64.elf

# --- boards -------------------------------------------------------------------
snap boards boards
snap boards-rules boards --rules-dir rules

# --- romfs ------------------------------------------------------------------------
if [ -x "$MK" ]; then
  printf 'file a.txt 9\ndir lib\n  file b.dat 4\n  mpy xt.mpy 0x27 300\nend\n' >"$TMP/t.spec"
  "$MK" "$TMP/t.spec" "$TMP/t.img" >/dev/null
  snap romfs-text romfs "$TMP/t.img"
  snap romfs-json romfs --format json "$TMP/t.img"
  snap romfs-part romfs --partition-size 65536 "$TMP/t.img"
  snap romfs-board romfs --board esp8266-2m-romfs "$TMP/t.img"
  snap romfs-firmware romfs --firmware $S/esp8266-romfs.elf --format json "$TMP/t.img"
  snap analyze-romfs-img analyze --board esp8266-2m-romfs --romfs "$TMP/t.img" --format json $S/esp8266-romfs.elf
fi

# --- natmod ------------------------------------------------------------------------
for m in $N/*.mpy; do
  b=$(basename "$m" .mpy)
  snap "natmod-$b-text" natmod "$m"
  snap "natmod-$b-json" natmod --format json "$m"
  snap "natmod-$b-norom" natmod --no-rom "$m"
done
X=$N/xtensa
XL=$(xtensa-lx106-elf-gcc -print-libgcc-file-name 2>/dev/null)
snap natmod-ownmem-objs natmod --format json $N/xtensa-ownmem.mpy --objs $X/entry.o $X/ownmem.o
snap natmod-ownmem-objs-text natmod $N/xtensa-ownmem.mpy --objs $X/entry.o $X/ownmem.o
snap natmod-libs-objs natmod --format json $N/xtensa-libs.mpy --objs $X/entry.o $X/libs.o --lib $X/libmini.a --lib "$XL"
snap natmod-libs-objs-text natmod $N/xtensa-libs.mpy --objs $X/entry.o $X/libs.o --lib $X/libmini.a --lib "$XL"
A=$N/armv7m
snap natmod-arm-objs natmod $N/armv7m-libs.mpy --obj $A/entry.o --obj $A/libs.o --lib $A/libmini.a

# --- diff, check -----------------------------------------------------------------
"$FS" analyze --format json --board esp8266-2m $S/esp8266-fits.elf >"$TMP/fits.json"
"$FS" analyze --format json --board esp8266-2m $S/esp8266-nearfull.elf >"$TMP/near.json"
for fmt in text json markdown; do
  snap "diff-elf-$fmt" diff --format "$fmt" $S/esp8266-fits.elf $S/esp8266-nearfull.elf
  snap "diff-json-$fmt" diff --format "$fmt" "$TMP/fits.json" "$TMP/near.json"
  snap "diff-2pairs-$fmt" diff --format "$fmt" --top 3 $S/esp8266-fits.elf $S/esp8266-nearfull.elf $S/cortex-m4.elf $S/cortex-m4.elf
done
snap diff-board diff --board esp8266-2m $S/esp8266-fits.elf $S/esp8266-window.elf
snap diff-frozen diff --format json $F/esp8266-frozen-v122.elf $F/esp8266-frozen.elf
snap diff-onearg diff $S/esp8266-fits.elf
snap check-elf check --rules rules/budgets/esp8266-2m.ini $S/esp8266-nearfull.elf
snap check-base check --rules rules/budgets/esp8266-2m.ini --base $S/esp8266-fits.elf $S/esp8266-nearfull.elf
snap check-json check --rules rules/budgets/esp8266-2m.ini --base "$TMP/fits.json" "$TMP/near.json"
snap check-fits check --rules rules/budgets/esp8266-2m.ini $S/esp8266-fits.elf

# --- the store: record, import, history, forecast, stored diffs ---------------------
DB="$TMP/s.db"
t=1700000000
i=0
for e in esp8266-fits esp8266-window esp8266-nearfull esp8266-fits esp8266-nearfull; do
  i=$((i + 1)); t=$((t + 86400))
  snap "record-$i" record $S/$e.elf --db "$DB" --project mpy --board esp8266-2m --commit "c$i" --parent "c$((i - 1))" --branch main --timestamp $t
done
snap record-json record "$TMP/fits.json" --db "$DB" --project mpy --board esp8266-2m --commit cj --branch feat --timestamp $((t + 10))
snap record-cm4 record $S/cortex-m4.elf --db "$DB" --project other --board cm4 --commit k1 --timestamp $t
snap analyze-db analyze --board esp8266-2m --db "$DB" --project mpy --commit c9 --timestamp $((t + 99)) $S/esp8266-fits.elf
snap record-nocommit record $S/esp8266-fits.elf --db "$DB" --project mpy --board esp8266-2m
for fmt in text json; do
  snap "history-$fmt" history --db "$DB" --board esp8266-2m --format "$fmt"
  snap "history-branch-$fmt" history --db "$DB" --board esp8266-2m --branch main -n 3 --format "$fmt"
  snap "history-proj-$fmt" history --db "$DB" --board cm4 --project other --format "$fmt"
done
snap history-none history --db "$DB" --board nosuch
for fmt in text json markdown; do
  snap "forecast-$fmt" forecast --db "$DB" --board esp8266-2m --format "$fmt"
  snap "forecast-rules-$fmt" forecast --db "$DB" --board esp8266-2m --rules rules/budgets/esp8266-2m.ini --near-builds 1000 --format "$fmt"
  snap "diff-stored-$fmt" diff --db "$DB" --format "$fmt" build:1 build:3
  snap "diff-commit-$fmt" diff --db "$DB" --format "$fmt" commit:c1 commit:c3@esp8266-2m
done
snap diff-forecast diff --db "$DB" --format markdown --forecast --board esp8266-2m build:1 build:3
snap diff-nosuch diff --db "$DB" build:1 build:99
snap check-stored check --db "$DB" --rules rules/budgets/esp8266-2m.ini --base build:1 build:3
mkdir -p "$TMP/imp"
cp $S/esp8266-fits.elf "$TMP/imp/a1.elf"
cp "$TMP/near.json" "$TMP/imp/a2.json"
printf 'file,commit,branch,date,board,project,parent,pr\na1.elf,a1,main,2024-01-02,esp8266-2m,imp,,\na2.json,a2,main,2024-01-03T10:00:00Z,esp8266-2m,imp,a1,7\n' >"$TMP/imp/meta.csv"
snap import-csv import "$TMP/imp" --csv "$TMP/imp/meta.csv" --db "$DB" -q
snap import-again import "$TMP/imp" --csv "$TMP/imp/meta.csv" --db "$DB" -q
snap history-imp history --db "$DB" --board esp8266-2m --project imp --format json
snap token-list-empty token list --db "$DB"
snap token-revoke-none token revoke 5 --db "$DB"

# --- the bot (dry run: the Markdown and the status) --------------------------------
snap bot-dry bot --dry-run --pr 7 --repo o/r --sha abc $S/esp8266-fits.elf $S/esp8266-nearfull.elf
snap bot-dry-rules bot --dry-run --pr 7 --repo o/r --sha abc --rules rules/budgets/esp8266-2m.ini $S/esp8266-fits.elf $S/esp8266-nearfull.elf
"$FS" diff --format json "$TMP/fits.json" "$TMP/near.json" >"$TMP/d.json"
snap bot-dry-diff bot --dry-run --pr 7 --repo o/r --sha abc --diff "$TMP/d.json"
snap bot-dry-forecast bot --dry-run --pr 7 --repo o/r --sha abc --db "$DB" --forecast --board esp8266-2m build:1 build:3

# --- the server: API answers ----------------------------------------------------------
SDB="$TMP/srv.db"
cp "$DB" "$SDB"
TOK=$("$FS" token create --db "$SDB" --project mpy --note snap)
"$FS" token create --db "$SDB" --project other >/dev/null
snap token-list token list --db "$SDB"
snap token-revoke token revoke 2 --db "$SDB"
snap token-list2 token list --db "$SDB"
"$FULL" serve --listen 127.0.0.1:0 --db "$SDB" --web web --rules-dir rules --log /dev/null 2>"$TMP/srv.err" &
SRV=$!
PORT=""
n=0
while [ $n -lt 100 ] && [ -z "$PORT" ]; do
  PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$TMP/srv.err")
  [ -n "$PORT" ] || sleep 0.05
  n=$((n + 1))
done
U="http://127.0.0.1:$PORT"
# api NAME METHOD PATH [curl args]: body and status
api() {
  name=$1; m=$2; p=$3; shift 3
  curl -s --path-as-is -o "$OUT/api-$name.out" -w '%{http_code}\n' -X "$m" "$@" "$U$p" >"$OUT/api-$name.rc"
  count=$((count + 1))
}
api healthz GET /healthz
api projects GET /api/v1/projects
api boards GET /api/v1/projects/mpy/boards
api boards-none GET /api/v1/projects/nosuch/boards
api history GET /api/v1/projects/mpy/boards/esp8266-2m/history
api history-branch GET '/api/v1/projects/mpy/boards/esp8266-2m/history?branch=main&limit=2'
api history-since GET "/api/v1/projects/mpy/boards/esp8266-2m/history?since=1700200000"
api history-bad GET '/api/v1/projects/mpy/boards/esp8266-2m/history?limit=x'
api build1 GET /api/v1/builds/1
api build3 GET /api/v1/builds/3
api build99 GET /api/v1/builds/99
api buildx GET /api/v1/builds/x
api diff GET '/api/v1/diff?a=1&b=3'
api diff-bad GET '/api/v1/diff?a=1&b=99'
api diff-noarg GET '/api/v1/diff?a=1'
api noendpoint GET /api/v1/nosuch
api root GET /api/
jq -n --slurpfile a "$TMP/near.json" '{project: "mpy", board: "esp8266-2m", commit: "u1", parent: "c5", branch: "main", timestamp: 1800000000, analysis: $a[0]}' >"$TMP/up.json"
api upload-noauth POST /api/v1/builds -H 'Content-Type: application/json' --data-binary @"$TMP/up.json"
api upload-badtok POST /api/v1/builds -H 'Content-Type: application/json' -H 'Authorization: Bearer fst_1_00' --data-binary @"$TMP/up.json"
api upload POST /api/v1/builds -H 'Content-Type: application/json' -H "Authorization: Bearer $TOK" --data-binary @"$TMP/up.json"
api upload-again POST /api/v1/builds -H 'Content-Type: application/json' -H "Authorization: Bearer $TOK" --data-binary @"$TMP/up.json"
api upload-junk POST /api/v1/builds -H 'Content-Type: application/json' -H "Authorization: Bearer $TOK" --data-binary '{"project":"mpy"}'
api upload-notjson POST /api/v1/builds -H 'Content-Type: application/json' -H "Authorization: Bearer $TOK" --data-binary 'nope'
api upload-otherproj POST /api/v1/builds -H 'Content-Type: application/json' -H "Authorization: Bearer $TOK" --data-binary "$(jq -c '.project = "other"' "$TMP/up.json")"
api upload-badanalysis POST /api/v1/builds -H 'Content-Type: application/json' -H "Authorization: Bearer $TOK" --data-binary "$(jq -c '.analysis.regions = 5' "$TMP/up.json")"
api history-after GET /api/v1/projects/mpy/boards/esp8266-2m/history
api projects-after GET /api/v1/projects
api boards-after GET /api/v1/projects/mpy/boards
kill $SRV 2>/dev/null
wait $SRV 2>/dev/null
SRV=""
sed -i "s|$TMP|@TMP@|g" "$OUT"/api-*.out
echo "$count outputs in $OUT"
