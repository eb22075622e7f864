#!/bin/sh
# `make bench` (store part): record BUILDS builds of SYMS symbols each into a
# fresh size database through `flashsize record`, then report the database's
# bytes per build, the mean time per recorded build and per loaded build.
#   sh scripts/bench-store.sh build/flashsize [BUILDS] [SYMS]
# The analyses are generated here with awk, as a CI history looks: every
# build changes 1 to 20 symbols of the build before (a fixed pseudo-random
# sequence): most grow or shrink by 4 to 64 bytes, so every later symbol
# moves; some appear (in one of the free slots, every 50th) and a few
# disappear.  Measured here, never in the test suite.
set -u
fs=${1:-build/flashsize}
builds=${2:-1000}
syms=${3:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db="$tmp/bench.db"

gen() { # gen I: the analysis document of build I (replays the changes of builds 1..I)
  awk -v build="$1" -v n="$syms" 'BEGIN {
    slots = n + int(n / 49)
    for (j = 0; j < slots; j++) { size[j] = 16 + (j * 7919) % 600; alive[j] = (j % 50 != 0) }
    for (b = 1; b <= build; b++) {
      srand(b)
      k = 1 + int(rand() * 20)
      for (c = 0; c < k; c++) {
        j = int(rand() * slots); what = rand(); d = 4 * (1 + int(rand() * 16))
        if (what < 0.7) { if (rand() < 0.6) size[j] += d; else if (size[j] > d + 4) size[j] -= d }
        else if (what < 0.9) alive[j] = 1
        else alive[j] = 0
      }
    }
    printf "{\"schema\":\"flashsize-analysis\",\"schema_version\":1,"
    printf "\"tool\":{\"name\":\"flashsize\",\"version\":\"bench\"},\"board\":null,\"chip\":\"generic\","
    addr = 1075875840; total = 0
    for (j = 0; j < slots; j++) if (alive[j]) total += size[j]
    printf "\"regions\":[{\"name\":\"FLASH\",\"origin\":%d,\"length\":16777216,\"used\":%d,\"attrs\":\"rx\"}],", addr, total
    printf "\"sections\":[{\"name\":\".text\",\"type\":\"PROGBITS\",\"flags\":\"AX\",\"address\":%d,\"lma\":%d,\"size\":%d,\"region\":\"FLASH\",\"load_region\":null}],", addr, addr, total
    printf "\"symbols\":["
    first = 1
    for (j = 0; j < slots; j++) {
      if (!alive[j]) continue
      printf "%s{\"name\":\"mp_bench_function_%05d\",\"address\":%d,\"size\":%d,\"type\":\"FUNC\",\"bind\":\"GLOBAL\",\"section\":\".text\"}", first ? "" : ",", j, addr, size[j]
      addr += size[j]; first = 0
    }
    printf "],\"findings\":[]}\n"
  }'
}

now() { date +%s%N; }
spent=0
i=0
while [ "$i" -lt "$builds" ]; do
  gen "$i" >"$tmp/a.json"
  start=$(now)
  "$fs" record --db "$db" -p bench -b bench -c "$(printf '%040x' "$i")" --timestamp $((1700000000 + i)) "$tmp/a.json" >/dev/null || exit 1
  spent=$((spent + $(now) - start))
  i=$((i + 1))
done
# loading: `diff` of a build against itself reads it twice; 20 builds spread over the history
loads=0
lspent=0
step=$(( builds / 20 > 0 ? builds / 20 : 1 ))
i=1
while [ "$i" -le "$builds" ]; do
  start=$(now)
  "$fs" diff --db "$db" --format json "build:$i" "build:$i" >/dev/null || exit 1
  lspent=$((lspent + $(now) - start))
  loads=$((loads + 2))
  i=$((i + step))
done
bytes=$(($(wc -c <"$db") + $( [ -f "$db-wal" ] && wc -c <"$db-wal" || echo 0)))
echo "store: $builds builds x $syms symbols: database $bytes bytes, $((bytes / builds)) bytes per build," \
     "$((spent / builds / 1000)) us per 'flashsize record' (JSON parse + insert)," \
     "at most $((lspent / loads / 1000)) us per loaded build (half a 'diff' of a build with itself)"
if command -v sqlite3 >/dev/null 2>&1; then
  sqlite3 "$db" "SELECT 'store: symbol sets ' || count(*) || ', ' || sum(length(data)) || ' bytes, ' || (sum(length(data)) / count(*)) || ' bytes each on average' FROM symsets;
                 SELECT 'store: documents without symbols, ' || (sum(length(doc)) / count(*)) || ' bytes each on average' FROM builds;
                 SELECT 'store: distinct strings ' || count(*) FROM strings;"
  if [ "$(sqlite3 "$db" "SELECT count(*) FROM pragma_table_info('symsets') WHERE name = 'base_id'")" = 1 ]; then
    sqlite3 "$db" "SELECT 'store: ' || count(*) || ' full snapshots, ' || coalesce(sum(length(data)) / count(*), 0) || ' bytes each' FROM symsets WHERE base_id IS NULL;
                   SELECT 'store: ' || count(*) || ' deltas, ' || coalesce(sum(length(data)) / count(*), 0) || ' bytes each, longest chain ' || coalesce(max(depth), 0) FROM symsets WHERE base_id IS NOT NULL;"
  fi
fi
