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
# Prints the figures; exit 1 when a check fails or a target is missed
# (>= 500 uploads/s, history p99 < 20 ms).  Measured here, never in the
# test suite.
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
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
db="$tmp/bench.db"
fail=0

"$fs" analyze --format json samples/build/esp8266-fits.elf >"$tmp/a.json" 2>/dev/null || {
  echo "bench-server: cannot analyze samples/build/esp8266-fits.elf (make samples)" >&2; exit 2; }
start=$(date +%s%N)
# BENCH_SEED_CACHE=FILE: keep the seeded database there and reuse it next time.
how=seeded
if [ -n "${BENCH_SEED_CACHE:-}" ] && [ -f "$BENCH_SEED_CACHE" ] && [ -f "$BENCH_SEED_CACHE.out" ]; then
  how="copied from $BENCH_SEED_CACHE"
  cp "$BENCH_SEED_CACHE" "$db" && cp "$BENCH_SEED_CACHE.out" "$tmp/seed.out" || exit 2
else
  "$seed" "$db" "$tmp/a.json" "$builds" esp8266-2m esp8266-4m esp32 rp2040 >"$tmp/seed.out" || exit 2
  [ -z "${BENCH_SEED_CACHE:-}" ] || { cp "$db" "$BENCH_SEED_CACHE" && cp "$tmp/seed.out" "$BENCH_SEED_CACHE.out"; }
fi
seed_ms=$((($(date +%s%N) - start) / 1000000))
points=$(awk '$1 == "board" && $2 == "esp8266-2m" {print $3}' "$tmp/seed.out")
echo "bench-server: $how $builds builds in $seed_ms ms ($((seed_ms * 1000 / builds)) us each);" \
     "esp8266-2m has $points history points"
token=$("$fs" token create --db "$db" --project bench --note bench) || exit 2
jq -c --arg b esp8266-2m '{project: "bench", board: $b, commit: "@COMMIT@", branch: "pr", base: "main",
  analysis: (.symbols[0].size = 987654321)}' "$tmp/a.json" >"$tmp/body.json"

: >"$tmp/serve.err"
"$fs" serve --db "$db" --listen 127.0.0.1:0 --rules-dir rules --log "$tmp/access.log" 2>"$tmp/serve.err" &
pid=$!
port=""
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/serve.err")
  [ -n "$port" ] || sleep 0.1
  i=$((i + 1))
done
[ -n "$port" ] || { echo "bench-server: the server did not start: $(cat "$tmp/serve.err")" >&2; exit 2; }
url="http://127.0.0.1:$port"
threads=$(ps -o nlwp= -p "$pid" | tr -d ' ')

# CPU time of the server (utime + stime, clock ticks) and the machine's CPU
# ticks "user nice system idle iowait irq softirq steal" (/proc/stat): the
# server's CPU per upload is the robust figure on a shared virtual machine,
# where the hypervisor may steal a large share of the 2 CPUs.
srv_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
cpu_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9}' /proc/stat; }

# (a) uploads
before=$(sqlite3 "$db" 'SELECT count(*) FROM builds')
t0=$(srv_ticks); c0=$(cpu_ticks)
BENCH_BODY="$tmp/body.json" BENCH_TOKEN="$token" BENCH_RUN=a \
  wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s -s tests/tools/wrk-upload.lua "$url" >"$tmp/up.txt" 2>&1
up_rate=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/up.txt")
up_ok=$(awk '/^answers:/ {print $2}' "$tmp/up.txt")
up_bad=$(awk '/^answers:/ {print $4}' "$tmp/up.txt")
up_lat=$(awk '/^    Latency/ {print $2 " mean, " $3 " stdev, " $4 " max"}' "$tmp/up.txt")
t1=$(srv_ticks); c1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
# Uploads wrk cut off may still be committing: wait until the count settles
# (at most 10 s), so the checks and (b) see a database nobody writes.
after=$(sqlite3 "$db" 'SELECT count(*) FROM builds')
i=0
while [ $i -lt 20 ]; do
  sleep 0.5
  now=$(sqlite3 "$db" 'SELECT count(*) FROM builds')
  [ "$now" = "$after" ] && break
  after=$now
  i=$((i + 1))
done
echo "bench-server: (a) uploads: ${up_rate:-?} uploads/s over ${secs} s, $conns connections ($up_ok answered 2xx," \
     "$up_bad other); latency $up_lat"
echo "$t0 $t1 $c0 $c1 $hz ${up_ok:-0} $(nproc)" | awk '{
  cpu_ms = ($2 - $1) * 1000 / $7 / ($8 > 0 ? $8 : 1); steal = ($6 - $4) * 100 / (($5 - $3) > 0 ? $5 - $3 : 1)
  printf "bench-server: (a) server CPU %.2f ms per upload (%d uploads/s on %d CPUs nobody else uses); CPU stolen by the hypervisor during the run: %.0f%%\n", cpu_ms, $9 * 1000 / (cpu_ms > 0 ? cpu_ms : 1), $9, steal }'
# Every 2xx is stored; a request cut off when wrk stops may be stored unanswered
# (at most one per connection).
added=$((after - before))
if [ "${up_ok:-0}" -gt "$added" ] || [ "$added" -gt $((${up_ok:-0} + conns)) ]; then
  echo "bench-server: FAIL: $up_ok uploads answered 2xx but the database has $added more builds"; fail=1
fi
[ "${up_bad:-1}" = 0 ] || { echo "bench-server: FAIL: $up_bad uploads were not answered 2xx"; fail=1; }

# (b) history of 1,000 points, gzip as a browser asks for it
hist="$url/api/v1/projects/bench/boards/esp8266-2m/history?limit=1000"
gz="Accept-Encoding: gzip, deflate, br"
curl -s "$hist" >"$tmp/hist.json"
n=$(jq '.builds | length' "$tmp/hist.json")
curl -s --compressed "$hist" >"$tmp/hist.gunzip.json"
cmp -s "$tmp/hist.json" "$tmp/hist.gunzip.json" || { echo "bench-server: FAIL: the gzip history is not the identity one"; fail=1; }
gz_size=$(curl -s -o /dev/null -w '%{size_download}' -H "$gz" "$hist")
wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency -H "$gz" "$hist" >"$tmp/hist.txt" 2>&1
h_rate=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/hist.txt")
p50=$(awk '$1 == "50%" {print $2}' "$tmp/hist.txt")
p99=$(awk '$1 == "99%" {print $2}' "$tmp/hist.txt")
h_non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/hist.txt")
echo "bench-server: (b) history of $n builds, gzip ($gz_size bytes, $(wc -c <"$tmp/hist.json" | tr -d ' ') inflated):" \
     "p50 $p50, p99 $p99, ${h_rate:-?} requests/s, $conns connections"
# The same answer for one client at a time: its service time, without the
# queueing of 32 connections on 2 cores (reported, not a target).
wrk -t1 -c1 -d"$((secs / 2 + 1))s" --timeout 10s --latency -H "$gz" "$hist" >"$tmp/hist1.txt" 2>&1
echo "bench-server: (b1) history, gzip, one connection: p50 $(awk '$1 == "50%" {print $2}' "$tmp/hist1.txt")," \
     "p99 $(awk '$1 == "99%" {print $2}' "$tmp/hist1.txt"), $(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/hist1.txt") requests/s"
# The identity answer, as a client without gzip gets it (reported, not a target).
wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency "$hist" >"$tmp/hist2.txt" 2>&1
h2_non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/hist2.txt")
echo "bench-server: (b2) history, identity ($(wc -c <"$tmp/hist.json" | tr -d ' ') bytes):" \
     "p50 $(awk '$1 == "50%" {print $2}' "$tmp/hist2.txt"), p99 $(awk '$1 == "99%" {print $2}' "$tmp/hist2.txt")," \
     "$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/hist2.txt") requests/s, $conns connections"
[ "$n" = 1000 ] || { echo "bench-server: FAIL: the history answer has $n builds, not 1000"; fail=1; }
[ -z "$h_non2xx$h2_non2xx" ] || { echo "bench-server: FAIL: ${h_non2xx:-0} + ${h2_non2xx:-0} history answers were not 2xx"; fail=1; }

kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=""
ic=$(sqlite3 "$db" 'PRAGMA integrity_check')
echo "bench-server: database: $after builds, $(($(wc -c <"$db") / 1048576)) MiB, integrity_check $ic;" \
     "server threads $threads; $(nproc) CPUs"
[ "$ic" = ok ] || fail=1

# Targets (issue 6 item 7): >= 500 uploads/s, history p99 < 20 ms.
to_ms() { # wrk prints 812.00us, 1.52ms, 2.01s
  echo "$1" | awk '/us$/ {sub(/us/, ""); print $1 / 1000; next} /ms$/ {sub(/ms/, ""); print $1 + 0; next}
                   /s$/ {sub(/s/, ""); print $1 * 1000; next} {print 1e9}'
}
p99ms=$(to_ms "${p99:-x}")
if [ "${up_rate:-0}" -lt 500 ]; then echo "bench-server: target missed: ${up_rate:-0} < 500 uploads/s"; fail=1; fi
if awk -v p="$p99ms" 'BEGIN { exit !(p >= 20) }'; then echo "bench-server: target missed: history p99 $p99 >= 20 ms"; fail=1; fi
[ $fail = 0 ] && echo "bench-server: targets met (>= 500 uploads/s, history p99 < 20 ms)"
exit $fail
