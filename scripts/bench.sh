#!/bin/sh
# `make bench`: time flashsize against binutils on the same firmware, side
# by side in the same hyperfine rounds, and print the ratios.
#   sh scripts/bench.sh build/flashsize [RUNS]
#
# 1. The samples (samples/build): analyze (text, JSON) against `size -A` and
#    `nm -S --size-sort`.
# 2. Real MicroPython firmware, when MPY_BUILDS names the output of
#    ../shared/tools/micropython-builds.sh (ESP8266_GENERIC, stm32 PYBV10):
#    analyze (text, JSON, --map JSON, --retained), frozen, against size -A,
#    nm and, if installed, bloaty; peak memory of each; instructions
#    (callgrind, which does not depend on what else the machine is doing).
# 3. Growth: synthetic ESP8266 images of 6.9k, 27.5k and 110k symbols
#    (scripts/bench-synth.sh): analyze's time per 1,000 symbols.
# Medians of RUNS runs (default 100) in BENCH_ROUNDS rounds (default 5; see
# bench() below), measured here, never in the tests.
set -u
fs=${1:-build/flashsize}
runs=${2:-100}
rounds=${BENCH_ROUNDS:-5}
[ "$rounds" -ge 1 ] && [ "$rounds" -le "$runs" ] || { echo "bench: BENCH_ROUNDS must be 1..RUNS" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2
export FLASHSIZE_RULES="$PWD/rules"
fs=$(cd "$(dirname "$fs")" && pwd)/$(basename "$fs")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bench LABEL NAME CMD [NAME CMD]...: every command timed in ROUNDS
# hyperfine runs (BENCH_ROUNDS, default 5) of RUNS/ROUNDS runs each, one
# after another.  A shared virtual CPU's speed drifts by tens of percent
# over seconds; within a round every command meets about the same machine,
# so a command's ratio to the first is the median of the rounds' ratios
# (their range beside it).  Prints each command's median over all its runs,
# that ratio, and each one's peak memory.  Commands are split at blanks (no
# paths with blanks).
bench() {
  label=$1
  shift
  : >"$tmp/cmds"
  n=$#
  i=0
  while [ $i -lt "$n" ]; do
    echo "$2" >>"$tmp/cmds"
    name=$1 cmd=$2
    shift 2
    set -- "$@" -n "$name" "$cmd"
    i=$((i + 2))
  done
  r=0
  while [ $r -lt "$rounds" ]; do
    if ! hyperfine -N -i --style none --warmup 3 --runs "$((runs / rounds))" --export-json "$tmp/h$r.json" "$@" \
      >/dev/null 2>"$tmp/h.err"; then
      echo "$label: hyperfine failed: $(tail -n 2 "$tmp/h.err")"
      return
    fi
    r=$((r + 1))
  done
  echo "$label (median of $((runs / rounds * rounds)) runs in $rounds rounds, wall time; ratio to the first line: median of the rounds', range):"
  r=0
  while [ $r -lt "$rounds" ]; do cat "$tmp/h$r.json"; r=$((r + 1)); done | jq -rs '
    def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def ms: . * 1000 | . * 100 | round / 100 | tostring;
    . as $rounds | [range($rounds[0].results | length)] | .[] as $i |
    ([$rounds[] | .results[$i].times[]] | med) as $m |
    [$rounds[] | .results[$i].median / .results[0].median] as $q |
    "  \($rounds[0].results[$i].command | .[0:44] | . + (" " * (44 - length)))\($m | ms | (" " * (7 - length)) + .) ms  \($q | med | . * 100 | round / 100)x (\($q | min | . * 100 | round / 100)-\($q | max | . * 100 | round / 100))"'
  if [ -x /usr/bin/time ]; then
    printf '  peak memory (KB):'
    while read -r cmd; do
      # shellcheck disable=SC2086
      printf ' %s' "$(/usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -n 1)"
    done <"$tmp/cmds"
    echo " (same order)"
  fi
}

# ir CMD...: instructions executed (callgrind), dynamic loading included.
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}

if ! command -v hyperfine >/dev/null 2>&1; then
  echo "bench: hyperfine is missing (Debian package hyperfine; make deps installs it)" >&2
  exit 2
fi

# ---- 1. the samples ----------------------------------------------------------
for name in esp8266-window esp8266-fits cortex-m4; do
  elf=$PWD/samples/build/$name.elf
  [ -f "$elf" ] || continue
  prefix=$(awk -v n="$name" '$1 == n { print $2 }' samples/samples.txt)
  [ "$prefix" = "-" ] && prefix=""
  bench "sample $name ($(wc -c <"$elf") bytes)" \
    "${prefix}size -A" "${prefix}size -A $elf" \
    "${prefix}nm -S --size-sort" "${prefix}nm -S --size-sort $elf" \
    "flashsize analyze" "$fs analyze $elf" \
    "flashsize analyze --format json" "$fs analyze --format json $elf"
done

# ---- 2. real firmware ----------------------------------------------------------
real() { # real LABEL PREFIX DIR
  label=$1 prefix=$2 dir=$3
  elf=$dir/firmware.elf
  map=$dir/firmware.map
  [ -f "$elf" ] || { echo "real firmware: $elf not built"; return; }
  nsyms=$("${prefix}nm" "$elf" | wc -l)
  set -- "${prefix}size -A" "${prefix}size -A $elf" \
    "${prefix}nm -S --size-sort" "${prefix}nm -S --size-sort $elf"
  command -v bloaty >/dev/null 2>&1 &&
    set -- "$@" "bloaty (sections)" "bloaty $elf" "bloaty -d symbols -n 0" "bloaty -d symbols -n 0 $elf"
  set -- "$@" "flashsize analyze" "$fs analyze $elf" \
    "flashsize analyze --format json" "$fs analyze --format json $elf" \
    "flashsize analyze --map --format json" "$fs analyze --map $map --format json $elf" \
    "flashsize analyze --retained" "$fs analyze --retained $elf" \
    "flashsize frozen" "$fs frozen $elf"
  bench "$label ($nsyms symbols)" "$@"
  if command -v valgrind >/dev/null 2>&1; then
    base=$(ir "${prefix}size" -A "$elf")
    printf '  instructions: size -A %s' "$base"
    for args in "analyze" "analyze --format json" "analyze --map $map --format json" "frozen"; do
      # shellcheck disable=SC2086
      n=$(ir "$fs" $args "$elf")
      printf '; %s %s (%sx)' "${args%% /*}" "$n" "$(awk -v a="$n" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
    done
    echo
  fi
}
# server_cpu ELF BOARD: the server's CPU time per upload of ELF's analysis
# (JSON) and of the ELF itself, on a fresh database, serial uploads (each a
# new commit on main, so each is also diffed against the one before).
server_cpu() {
  elf=$1 board=$2 full=${fs%/*}/flashsize-full
  [ -x "$full" ] || return
  "$fs" analyze --format json "$elf" >"$tmp/a.json" || return
  jq -c '{project: "bench", board: "'"$board"'", branch: "main", analysis: .}' "$tmp/a.json" >"$tmp/up.json"
  token=$("$full" token create --db "$tmp/s.db" --project bench 2>/dev/null) || return
  "$full" serve --db "$tmp/s.db" --listen 127.0.0.1:0 --rules-dir rules 2>"$tmp/serve.err" &
  spid=$!
  port=""
  i=0
  while [ -z "$port" ] && [ $i -lt 100 ]; do
    sleep 0.05
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/serve.err")
    i=$((i + 1))
  done
  cpu() { awk '{ print $14 + $15 }' "/proc/$spid/stat"; } # utime + stime, in clock ticks
  hz=$(getconf CLK_TCK)
  for kind in json elf; do
    n=$([ $kind = json ] && echo 100 || echo 30)
    c0=$(cpu)
    i=0
    while [ $i -lt "$n" ]; do
      if [ $kind = json ]; then
        jq -c --arg c "j$i" '.commit = $c' "$tmp/up.json" |
          curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            --data-binary @- "http://127.0.0.1:$port/api/v1/builds" || echo "  upload $i failed"
      else
        curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' \
          --data-binary @"$elf" "http://127.0.0.1:$port/api/v1/builds?project=bench&board=$board&commit=e$i&branch=main" ||
          echo "  upload $i failed"
      fi
      i=$((i + 1))
    done
    c1=$(cpu)
    awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$hz" -v k="$kind" -v sz="$(wc -c <"$([ $kind = json ] && echo "$tmp/up.json" || echo "$elf")")" \
      'BEGIN { printf "  server CPU per upload of the %s (%d bytes): %.2f ms (%d serial uploads)\n", k == "json" ? "analysis" : "ELF", sz, (b - a) * 1000 / hz / n, n }'
  done
  kill "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
}

if [ -n "${MPY_BUILDS:-}" ] && [ -d "$MPY_BUILDS/esp8266" ]; then
  real "real ESP8266_GENERIC (MicroPython v1.28.0)" xtensa-lx106-elf- "$MPY_BUILDS/esp8266/ESP8266_GENERIC"
  server_cpu "$MPY_BUILDS/esp8266/ESP8266_GENERIC/firmware.elf" esp8266-2m
  pyb=$(find "$MPY_BUILDS" -path '*PYBV10*' -name firmware.elf 2>/dev/null | head -n 1)
  [ -n "$pyb" ] && real "real stm32 PYBV10 (MicroPython v1.28.0)" arm-none-eabi- "$(dirname "$pyb")"
else
  echo "real firmware: MPY_BUILDS is not set (or has no esp8266/): build it with"
  echo "  ../shared/tools/micropython-builds.sh and run MPY_BUILDS=... make bench; samples only"
fi

# ---- the reference graph (top --retained, analyze --retained) -----------------
full=$(dirname "$fs")/flashsize-full
graph() { # graph LABEL ELF
  [ -f "$2" ] || { echo "$1: $2 not found, graph not timed"; return; }
  bench "$1: the reference graph" \
    "flashsize analyze" "$fs analyze $2" \
    "flashsize analyze --retained" "$fs analyze --retained $2" \
    "flashsize top --retained --format json" "$full top --retained --format json $2"
  "$full" top --retained --top 1 "$2" | head -n 1 | sed 's/^[^:]*: /  /'
}
graph "1 MB sample" "$PWD/samples/build/esp8266-window.elf"
if [ -n "${MPY_BUILDS:-}" ] && [ -f "$MPY_BUILDS/esp8266/ESP8266_GENERIC/firmware.elf" ]; then
  graph "real ESP8266_GENERIC" "$MPY_BUILDS/esp8266/ESP8266_GENERIC/firmware.elf"
fi

# ---- 3. growth -------------------------------------------------------------------
if command -v xtensa-lx106-elf-gcc >/dev/null 2>&1; then
  echo "growth (synthetic ESP8266 images, scripts/bench-synth.sh; medians):"
  prev=""
  for n in 6900 27500 110000; do
    sh scripts/bench-synth.sh "$n" "$tmp/s$n.elf" 2>/dev/null || { echo "  cannot make the $n-symbol image"; break; }
    hyperfine -N -i --style none --warmup 3 --runs "$runs" --export-json "$tmp/g.json" \
      "xtensa-lx106-elf-size -A $tmp/s$n.elf" "$fs analyze $tmp/s$n.elf" \
      "$fs analyze --format json $tmp/s$n.elf" >/dev/null 2>&1 || continue
    line=$(jq -r '[.results[].median * 1000] | map(. * 100 | round / 100) | @tsv' "$tmp/g.json")
    set -- $line
    printf '  %6d symbols: size -A %s ms, analyze %s ms, --format json %s ms' "$n" "$1" "$2" "$3"
    if [ -n "$prev" ]; then
      # shellcheck disable=SC2086
      awk -v p="$prev" -v n="$n" -v t="$2" -v j="$3" 'BEGIN { split(p, a, " ");
        printf "; per 1,000 more symbols: text %.3f ms, json %.3f ms", (t - a[2]) / ((n - a[1]) / 1000), (j - a[3]) / ((n - a[1]) / 1000) }'
    fi
    echo
    [ -z "$prev" ] && prev="$n $2 $3"
  done
fi
