#!/bin/sh
# bench-pg.sh - record and load times of the store on SQLite and on
# PostgreSQL, for docs/store.md ("PostgreSQL").  Records ROUNDS builds,
# alternating the analysis documents given (so the symbol sets are deltas
# and snapshots as in a real history), into a new SQLite file and into a
# new database of a throwaway cluster (tests/lib/pgcluster.sh), then loads
# every build (`flashsize diff build:N build:N`, two loads), and prints the
# median wall-clock time per record and per load.
#   sh scripts/bench-pg.sh FLASHSIZE ROUNDS ANALYSIS.json [ANALYSIS.json...]
set -u
cd "$(dirname "$0")/.." || exit 2
F=$1 rounds=$2
shift 2
. tests/lib/pgcluster.sh
tmp=$(mktemp -d /tmp/fs-bench.XXXXXX)
chmod 755 "$tmp" # the cluster runs as nobody
trap 'pg_cluster_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
pg_cluster_start "$tmp/pg" || exit 1
ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for db in "$tmp/sizes.db" "$FS_PG_URI"; do
  i=0
  : >"$tmp/rec"
  : >"$tmp/load"
  while [ $i -lt "$rounds" ]; do
    n=$(( i % $# + 1 ))
    eval "doc=\${$n}"
    t0=$(ms)
    "$F" record "$doc" -p bench -b esp8266 -c "$(printf 'b%07d' $i)" --timestamp $((1700000000 + i)) --db "$db" >/dev/null || exit 1
    echo $(( $(ms) - t0 )) >>"$tmp/rec"
    i=$((i + 1))
  done
  i=1
  while [ $i -le "$rounds" ]; do
    t0=$(ms)
    "$F" diff "build:$i" "build:$i" --format json --db "$db" >/dev/null || exit 1
    echo $(( $(ms) - t0 )) >>"$tmp/load"
    i=$((i + 1))
  done
  case "$db" in postgresql:*) name=PostgreSQL ;; *) name=SQLite ;; esac
  echo "$name: record median $(median <"$tmp/rec") ms, diff of a build with itself (two loads) median $(median <"$tmp/load") ms, $rounds builds"
done
