#!/bin/sh
# `make bench` (store part): record BUILDS builds of SYMS symbols each into a
# fresh size database through `flashsize record`, and report the database's
# bytes per build and the mean time per recorded build.
#   sh scripts/bench-store.sh build/flashsize [BUILDS] [SYMS]
# The analyses are generated here with awk: build i is build i-1 with one
# more symbol grown by 4 bytes, so every later symbol moves (as when a
# function grows), the common case for a CI history.  Measured here, never
# in the test suite.
set -u
fs=${1:-build/flashsize}
builds=${2:-1000}
syms=${3:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db="$tmp/bench.db"

gen() { # gen I: the analysis document of build I
  awk -v build="$1" -v n="$syms" 'BEGIN {
    printf "{\"schema\":\"flashsize-analysis\",\"schema_version\":1,"
    printf "\"tool\":{\"name\":\"flashsize\",\"version\":\"bench\"},\"board\":null,\"chip\":\"generic\","
    addr = 1075875840; total = 0
    for (j = 0; j < n; j++) { size[j] = 16 + (j * 7919) % 600 + (j < build ? 4 : 0); total += size[j] }
    printf "\"regions\":[{\"name\":\"FLASH\",\"origin\":%d,\"length\":16777216,\"used\":%d,\"attrs\":\"rx\"}],", addr, total
    printf "\"sections\":[{\"name\":\".text\",\"type\":\"PROGBITS\",\"flags\":\"AX\",\"address\":%d,\"lma\":%d,\"size\":%d,\"region\":\"FLASH\",\"load_region\":null}],", addr, addr, total
    printf "\"symbols\":["
    for (j = 0; j < n; j++) {
      printf "%s{\"name\":\"mp_bench_function_%05d\",\"address\":%d,\"size\":%d,\"type\":\"FUNC\",\"bind\":\"GLOBAL\",\"section\":\".text\"}", j ? "," : "", j, addr, size[j]
      addr += size[j]
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
bytes=$(($(wc -c <"$db") + $( [ -f "$db-wal" ] && wc -c <"$db-wal" || echo 0)))
echo "store: $builds builds x $syms symbols: database $bytes bytes, $((bytes / builds)) bytes per build," \
     "$((spent / builds / 1000)) us per 'flashsize record' (JSON parse + insert)"
if command -v sqlite3 >/dev/null 2>&1; then
  sqlite3 "$db" "SELECT 'store: symbol sets ' || count(*) || ', ' || (sum(length(data)) / count(*)) || ' bytes each on average' FROM symsets;
                 SELECT 'store: documents without symbols, ' || (sum(length(doc)) / count(*)) || ' bytes each on average' FROM builds;
                 SELECT 'store: distinct strings ' || count(*) FROM strings;"
fi
