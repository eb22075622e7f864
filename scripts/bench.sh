#!/bin/sh
# `make bench`: time `flashsize analyze` against `size -A` and `nm -S
# --size-sort` on the same firmware, and print the ratios.
#   sh scripts/bench.sh build/flashsize [RUNS]
# Wall-clock means over RUNS runs each (default 200), measured here, never in
# the test suite.
set -u
fs=${1:-build/flashsize}
runs=${2:-200}
cd "$(dirname "$0")/.." || exit 2
export FLASHSIZE_RULES="$PWD/rules"

now() { date +%s%N; }
mean_us() { # mean_us CMD...: mean wall time of RUNS runs, in microseconds
  start=$(now)
  i=0
  while [ $i -lt "$runs" ]; do "$@" >/dev/null 2>&1; i=$((i + 1)); done
  echo $(( ($(now) - start) / runs / 1000 ))
}

for name in esp8266-window esp8266-fits cortex-m4; do
  elf=samples/build/$name.elf
  [ -f "$elf" ] || continue
  prefix=$(awk -v n="$name" '$1 == n { print $2 }' samples/samples.txt)
  [ "$prefix" = "-" ] && prefix=""
  bytes=$(wc -c <"$elf")
  t_size=$(mean_us "${prefix}size" -A "$elf")
  t_nm=$(mean_us "${prefix}nm" -S --size-sort "$elf")
  t_text=$(mean_us "$fs" analyze "$elf")
  t_json=$(mean_us "$fs" analyze --format json "$elf")
  echo "$name ($bytes bytes ELF, $runs runs each, mean wall time):"
  printf '  %-32s %8s us\n' "${prefix}size -A" "$t_size" "${prefix}nm -S --size-sort" "$t_nm" \
    "flashsize analyze" "$t_text" "flashsize analyze --format json" "$t_json"
  awk -v a="$t_text" -v s="$t_size" -v n="$t_nm" -v j="$t_json" 'BEGIN {
    printf "  ratio analyze/size -A: %.2fx   analyze/nm -S: %.2fx   json/size -A: %.2fx\n", a / s, a / n, j / s }'
  # Instruction counts do not depend on what else the machine is doing.
  if command -v valgrind >/dev/null 2>&1; then
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
           sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'; }
    i_size=$(ir "${prefix}size" -A "$elf")
    i_text=$(ir "$fs" analyze "$elf")
    i_json=$(ir "$fs" analyze --format json "$elf")
    awk -v s="$i_size" -v a="$i_text" -v j="$i_json" 'BEGIN {
      printf "  instructions (callgrind): size -A %d, analyze %d (%.2fx), analyze --format json %d (%.2fx)\n",
             s, a, a / s, j, j / s }'
  fi
done

# The reference graph (flashsize top --retained, analyze --retained): on the
# 1 MB sample, and on a real ESP8266_GENERIC build when MPY_BUILDS names the
# directory of the real builds (MPY_BUILDS/esp8266/ESP8266_GENERIC/firmware.elf).
full=$(dirname "$fs")/flashsize-full
[ -x "$full" ] || full=$fs
graph_runs=$(( runs / 10 > 5 ? runs / 10 : 5 ))
bench_graph() { # bench_graph NAME ELF
  [ -f "$2" ] || { echo "$1: $2 not found, graph not timed"; return; }
  r=$runs; runs=$graph_runs
  t_top=$(mean_us "$full" top --retained --format json "$2")
  t_ret=$(mean_us "$fs" analyze --retained "$2")
  t_plain=$(mean_us "$fs" analyze "$2")
  runs=$r
  echo "$1 reference graph ($graph_runs runs each, mean wall time):"
  printf '  %-32s %8s us\n' "flashsize top --retained" "$t_top" "flashsize analyze --retained" "$t_ret" \
    "flashsize analyze" "$t_plain"
  "$full" top --retained --top 1 "$2" | head -1 | sed 's/^[^:]*: /  /'
}
bench_graph "1 MB sample" samples/build/esp8266-window.elf
if [ -n "${MPY_BUILDS:-}" ] && [ -f "$MPY_BUILDS/esp8266/ESP8266_GENERIC/firmware.elf" ]; then
  bench_graph "real ESP8266_GENERIC" "$MPY_BUILDS/esp8266/ESP8266_GENERIC/firmware.elf"
else
  echo "real ESP8266_GENERIC: MPY_BUILDS not set or without esp8266/ESP8266_GENERIC/firmware.elf, not timed"
fi
