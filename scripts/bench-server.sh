#!/bin/sh
# `make bench-server`: how much load `flashsize serve` holds (docs/reliability.md).
#   sh scripts/bench-server.sh build/flashsize build/tools/seedstore [SECONDS] [BUILDS] [CONNECTIONS]
#
# 1. Seed a fresh database with BUILDS (default 10000) builds through the
#    store's API (tests/tools/seedstore.c): variants of the analysis of
#    samples/build/esp8266-fits.elf over 4 boards, so board esp8266-2m has
#    BUILDS / 4 history points.
# 2. Start the server on 127.0.0.1 (a free port) with the rules directory,
#    so uploads also get their diff and budget, as a CI job's do.
# 3. wrk, 2 threads, CONNECTIONS (default 32) connections, SECONDS (default
#    20) each:
#    (a) POST /api/v1/builds of that analysis with a token, every request a
#        new commit on branch "pr" whose first symbol has a new size (a real
#        insert with a new symbol-set delta, diffed against main);
#    (b) GET the history of esp8266-2m with limit=1000 (1,000 points),
#        with Accept-Encoding: gzip as the dashboard's browser sends it;
#    (b1) the same with one connection (service time, reported only);
#    (b2) the same as (b) without Accept-Encoding: the identity answer,
#        350 KB per request (reported only).
# 4. Check what was measured: every 2xx upload is in the database (count
#    exact), PRAGMA integrity_check is ok, a history answer has 1000 builds
#    and its gzip form inflates to the same bytes.
# 5. The same on PostgreSQL (a throwaway cluster, tests/lib/pgcluster.sh,
#    when Debian's postgresql is installed; BENCH_PG=0 skips it): one
#    replica, then two replicas on the one database, each taking half of
#    the connections of (a) and (b) (two wrk processes at once; uploads/s
#    summed, history p99 the larger of the two).
# Prints the figures and a table of the three setups; exit 1 when a check
# fails or a SQLite target is missed (>= 500 uploads/s, history p99 < 20
# ms; the PostgreSQL figures are reported only).  Measured here, never in
# the test suite.
set -u
fs=${1:-build/flashsize}
seed=${2:-build/tools/seedstore}
secs=${3:-20}
builds=${4:-10000}
conns=${5:-32}
cd "$(dirname "$0")/.." || exit 2
for t in wrk jq sqlite3 curl; do
  command -v $t >/dev/null 2>&1 || { echo "bench-server: $t is missing (make deps)" >&2; exit 2; }
done
tmp=$(mktemp -d)
pids=""
pgdir=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  [ -n "$pgdir" ] && { pg_cluster_stop "$pgdir" >/dev/null 2>&1; rm -rf "$pgdir"; }
  rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
: >"$tmp/table"

"$fs" analyze --format json samples/build/esp8266-fits.elf >"$tmp/a.json" 2>/dev/null || {
  echo "bench-server: cannot analyze samples/build/esp8266-fits.elf (make samples)" >&2; exit 2; }
jq -c --arg b esp8266-2m '{project: "bench", board: $b, commit: "@COMMIT@", branch: "pr", base: "main",
  analysis: (.symbols[0].size = 987654321)}' "$tmp/a.json" >"$tmp/body.json"
hz=$(getconf CLK_TCK)

# CPU time of a server (utime + stime, clock ticks) and the machine's CPU
# ticks "user nice system idle iowait irq softirq steal" (/proc/stat): the
# server's CPU per upload is the robust figure on a shared virtual machine,
# where the hypervisor may steal a large share of the 2 CPUs.
srv_ticks() { t=0; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
cpu_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9}' /proc/stat; }
to_ms() { # wrk prints 812.00us, 1.52ms, 2.01s
  echo "$1" | awk '/us$/ {sub(/us/, ""); print $1 / 1000; next} /ms$/ {sub(/ms/, ""); print $1 + 0; next}
                   /s$/ {sub(/s/, ""); print $1 * 1000; next} {print 1e9}'
}
# builds in the database, as the first server says (any backend)
count() { curl -s -m 10 "$1/healthz" | jq -r .builds; }

# start_server NAME DB: sets srv_url, appends the pid to $pids and $run_pids
start_server() {
  : >"$tmp/$1.err"
  "$fs" serve --db "$2" --listen 127.0.0.1:0 --rules-dir rules --log "$tmp/$1.log" 2>"$tmp/$1.err" &
  p=$!
  pids="$pids $p"
  run_pids="$run_pids $p"
  port=""
  i=0
  while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/$1.err")
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
  done
  [ -n "$port" ] || { echo "bench-server: the server did not start: $(cat "$tmp/$1.err")" >&2; exit 2; }
  srv_url="http://127.0.0.1:$port"
}

# bench LABEL DB REPLICAS: seed DB, serve it from REPLICAS servers, measure.
bench() {
  label=$1 db=$2 nrep=$3
  run_pids=""
  rm -f "$tmp"/up*.txt "$tmp"/hist*.txt
  start=$(date +%s%N)
  # BENCH_SEED_CACHE=FILE: keep the seeded SQLite database there and reuse it next time.
  how=seeded
  if [ "$label" = sqlite ] && [ -n "${BENCH_SEED_CACHE:-}" ] && [ -f "$BENCH_SEED_CACHE" ] && [ -f "$BENCH_SEED_CACHE.out" ]; then
    how="copied from $BENCH_SEED_CACHE"
    cp "$BENCH_SEED_CACHE" "$db" && cp "$BENCH_SEED_CACHE.out" "$tmp/seed.out" || exit 2
  else
    "$seed" "$db" "$tmp/a.json" "$builds" esp8266-2m esp8266-4m esp32 rp2040 >"$tmp/seed.out" || exit 2
    [ "$label" != sqlite ] || [ -z "${BENCH_SEED_CACHE:-}" ] || { cp "$db" "$BENCH_SEED_CACHE" && cp "$tmp/seed.out" "$BENCH_SEED_CACHE.out"; }
  fi
  seed_ms=$((($(date +%s%N) - start) / 1000000))
  points=$(awk '$1 == "board" && $2 == "esp8266-2m" {print $3}' "$tmp/seed.out")
  echo "bench-server: [$label] $how $builds builds in $seed_ms ms ($((seed_ms * 1000 / builds)) us each);" \
       "esp8266-2m has $points history points"
  token=$("$fs" token create --db "$db" --project bench --note bench) || exit 2
  urls=""
  r=1
  while [ $r -le "$nrep" ]; do start_server "$label-$r" "$db"; urls="$urls $srv_url"; r=$((r + 1)); done
  url=${urls# }; url=${url%% *}
  threads=$(ps -o nlwp= -p "${run_pids##* }" | tr -d ' ')
  per=$((conns / nrep))

  # (a) uploads, each replica its share of the connections
  before=$(count "$url")
  t0=$(srv_ticks "$run_pids"); c0=$(cpu_ticks)
  r=1
  for u in $urls; do
    BENCH_BODY="$tmp/body.json" BENCH_TOKEN="$token" BENCH_RUN="a$label$r" \
      wrk -t2 -c"$per" -d"${secs}s" --timeout 10s -s tests/tools/wrk-upload.lua "$u" >"$tmp/up$r.txt" 2>&1 &
    wpids="$wpids $!"
    r=$((r + 1))
  done
  wait_wrk
  up_rate=$(cat "$tmp"/up*.txt | awk '/^Requests\/sec:/ {s += $2} END {printf "%d", s}')
  up_ok=$(cat "$tmp"/up*.txt | awk '/^answers:/ {s += $2} END {print s + 0}')
  up_bad=$(cat "$tmp"/up*.txt | awk '/^answers:/ {s += $4} END {print s + 0}')
  up_lat=$(awk '/^    Latency/ {print $2 " mean, " $3 " stdev, " $4 " max"}' "$tmp/up1.txt")
  t1=$(srv_ticks "$run_pids"); c1=$(cpu_ticks)
  # Uploads wrk cut off may still be committing: wait until the count settles
  # (at most 10 s), so the checks and (b) see a database nobody writes.
  after=$(count "$url")
  i=0
  while [ $i -lt 20 ]; do
    sleep 0.5
    now=$(count "$url")
    [ "$now" = "$after" ] && break
    after=$now
    i=$((i + 1))
  done
  echo "bench-server: [$label] (a) uploads: ${up_rate:-?} uploads/s over ${secs} s, $conns connections on $nrep" \
       "replica(s) ($up_ok answered 2xx, $up_bad other); latency (replica 1) $up_lat"
  cpu=$(echo "$t0 $t1 $hz ${up_ok:-0}" | awk '{ printf "%.2f", ($2 - $1) * 1000 / $3 / ($4 > 0 ? $4 : 1) }')
  steal=$(echo "$c0 $c1" | awk '{ printf "%.0f", ($4 - $2) * 100 / (($3 - $1) > 0 ? $3 - $1 : 1) }')
  echo "bench-server: [$label] (a) server CPU $cpu ms per upload (all replicas; PostgreSQL's own CPU not counted);" \
       "CPU stolen by the hypervisor during the run: $steal%"
  # Every 2xx is stored; a request cut off when wrk stops may be stored unanswered
  # (at most one per connection).
  added=$((after - before))
  if [ "${up_ok:-0}" -gt "$added" ] || [ "$added" -gt $((${up_ok:-0} + conns)) ]; then
    echo "bench-server: FAIL: [$label] $up_ok uploads answered 2xx but the database has $added more builds"; fail=1
  fi
  [ "${up_bad:-1}" = 0 ] || { echo "bench-server: FAIL: [$label] $up_bad uploads were not answered 2xx"; fail=1; }

  # (b) history of 1,000 points, gzip as a browser asks for it
  path="/api/v1/projects/bench/boards/esp8266-2m/history?limit=1000"
  gz="Accept-Encoding: gzip, deflate, br"
  curl -s "$url$path" >"$tmp/hist.json"
  n=$(jq '.builds | length' "$tmp/hist.json")
  curl -s --compressed "$url$path" >"$tmp/hist.gunzip.json"
  cmp -s "$tmp/hist.json" "$tmp/hist.gunzip.json" || { echo "bench-server: FAIL: [$label] the gzip history is not the identity one"; fail=1; }
  for u in $urls; do
    curl -s "$u$path" | cmp -s - "$tmp/hist.json" || { echo "bench-server: FAIL: [$label] replicas answer different histories"; fail=1; }
  done
  gz_size=$(curl -s -o /dev/null -w '%{size_download}' -H "$gz" "$url$path")
  r=1
  for u in $urls; do
    wrk -t2 -c"$per" -d"${secs}s" --timeout 10s --latency -H "$gz" "$u$path" >"$tmp/hist$r.txt" 2>&1 &
    wpids="$wpids $!"
    r=$((r + 1))
  done
  wait_wrk
  h_rate=$(cat "$tmp"/hist[0-9].txt | awk '/^Requests\/sec:/ {s += $2} END {printf "%d", s}')
  p50=$(cat "$tmp"/hist[0-9].txt | awk '$1 == "50%" {print $2}' | while read -r v; do echo "$(to_ms "$v") $v"; done | sort -n | tail -n 1 | cut -d' ' -f2)
  p99=$(cat "$tmp"/hist[0-9].txt | awk '$1 == "99%" {print $2}' | while read -r v; do echo "$(to_ms "$v") $v"; done | sort -n | tail -n 1 | cut -d' ' -f2)
  h_non2xx=$(cat "$tmp"/hist[0-9].txt | awk '/Non-2xx/ {print $NF}')
  echo "bench-server: [$label] (b) history of $n builds, gzip ($gz_size bytes, $(wc -c <"$tmp/hist.json" | tr -d ' ') inflated):" \
       "p50 $p50, p99 $p99 (the larger of the replicas), ${h_rate:-?} requests/s, $conns connections"
  # The same answer for one client at a time: its service time, without the
  # queueing of 32 connections on 2 cores (reported, not a target).
  wrk -t1 -c1 -d"$((secs / 2 + 1))s" --timeout 10s --latency -H "$gz" "$url$path" >"$tmp/hist1c.txt" 2>&1
  echo "bench-server: [$label] (b1) history, gzip, one connection: p50 $(awk '$1 == "50%" {print $2}' "$tmp/hist1c.txt")," \
       "p99 $(awk '$1 == "99%" {print $2}' "$tmp/hist1c.txt"), $(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/hist1c.txt") requests/s"
  # The identity answer, as a client without gzip gets it (reported, not a target).
  wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency "$url$path" >"$tmp/histid.txt" 2>&1
  h2_non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/histid.txt")
  echo "bench-server: [$label] (b2) history, identity ($(wc -c <"$tmp/hist.json" | tr -d ' ') bytes), replica 1:" \
       "p50 $(awk '$1 == "50%" {print $2}' "$tmp/histid.txt"), p99 $(awk '$1 == "99%" {print $2}' "$tmp/histid.txt")," \
       "$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/histid.txt") requests/s, $conns connections"
  [ "$n" = 1000 ] || { echo "bench-server: FAIL: [$label] the history answer has $n builds, not 1000"; fail=1; }
  [ -z "$h_non2xx$h2_non2xx" ] || { echo "bench-server: FAIL: [$label] ${h_non2xx:-0} + ${h2_non2xx:-0} history answers were not 2xx"; fail=1; }

  for p in $run_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  run_pids=""
  if [ "$label" = sqlite ]; then
    ic=$(sqlite3 "$db" 'PRAGMA integrity_check')
    echo "bench-server: [$label] database: $after builds, $(($(wc -c <"$db") / 1048576)) MiB, integrity_check $ic;" \
         "server threads $threads; $(nproc) CPUs"
    [ "$ic" = ok ] || fail=1
  else
    echo "bench-server: [$label] database: $after builds; server threads $threads; $(nproc) CPUs"
  fi
  printf '%-22s %10s %12s %12s %12s\n' "$label" "${up_rate:-?}" "$cpu ms" "$p50" "$p99" >>"$tmp/table"
}
# wait for the wrk processes started in the background (not the servers)
wpids=""
wait_wrk() {
  for w in $wpids; do wait "$w"; done
  wpids=""
}

bench sqlite "$tmp/bench.db" 1
sqlite_rate=$up_rate sqlite_p99=$p99

# --- PostgreSQL: one replica, then two ------------------------------------------------------
if [ "${BENCH_PG:-1}" != 0 ]; then
  . tests/lib/pgcluster.sh
  pgdir=$(mktemp -d /tmp/fs-pgbench.XXXXXX)
  if pg_cluster_start "$pgdir" >"$tmp/pg.out" 2>&1; then
    pg_cluster_createdb "$pgdir" bench1 && pg_cluster_createdb "$pgdir" bench2 || exit 2
    bench "postgresql, 1 replica" "$(pg_cluster_uri "$pgdir" bench1)" 1
    bench "postgresql, 2 replicas" "$(pg_cluster_uri "$pgdir" bench2)" 2
  else
    echo "bench-server: PostgreSQL figures skipped: $(tail -n 1 "$tmp/pg.out")"
    rm -rf "$pgdir"; pgdir=""
  fi
fi

echo "bench-server: summary ($builds builds seeded, $conns connections, ${secs} s each, $(nproc) CPUs shared by wrk, the servers and PostgreSQL):"
printf 'bench-server: %-22s %10s %12s %12s %12s\n' setup uploads/s "CPU/upload" "history p50" "history p99"
sed 's/^/bench-server: /' "$tmp/table"

# Targets (issue 6 item 7), on SQLite: >= 500 uploads/s, history p99 < 20 ms.
p99ms=$(to_ms "${sqlite_p99:-x}")
if [ "${sqlite_rate:-0}" -lt 500 ]; then echo "bench-server: target missed: ${sqlite_rate:-0} < 500 uploads/s"; fail=1; fi
if awk -v p="$p99ms" 'BEGIN { exit !(p >= 20) }'; then echo "bench-server: target missed: history p99 $sqlite_p99 >= 20 ms"; fail=1; fi
[ $fail = 0 ] && echo "bench-server: targets met on SQLite (>= 500 uploads/s, history p99 < 20 ms)"
exit $fail
