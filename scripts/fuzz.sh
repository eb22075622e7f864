#!/bin/sh
# fuzz.sh - run every libFuzzer harness built by `make fuzz` for a while.
#
#   sh scripts/fuzz.sh BUILD_DIR [SECONDS]      (make fuzz FUZZ_SECONDS=N)
#
# For each BUILD_DIR/fuzz_NAME: a fresh working corpus in a temporary
# directory (libFuzzer writes the inputs it finds there; the committed seeds
# in tests/fuzz/corpus/NAME stay untouched), topped up with larger seeds from
# samples/ when they have been built; then SECONDS of fuzzing with ASan,
# UBSan and LeakSanitizer, one input at most max_len bytes, any input that
# runs longer than 1 s a hang, 2 GiB of RSS at most.  A crash, hang or leak
# is left as BUILD_DIR/artifacts/NAME/{crash,timeout,leak,oom}-* (cleared when
# NAME runs again); the inputs under tests/fuzz/regress/NAME are replayed
# first and must pass.  Minimize a finding with
#   BUILD_DIR/fuzz_NAME -minimize_crash=1 -max_total_time=60 \
#     -exact_artifact_path=MIN ARTIFACT
# and keep the result under tests/fuzz/regress/NAME/ (docs/reliability.md).
#
# Prints one line per harness (runs, execs/s, coverage, result) and exits
# 1 if any harness found something, 2 on a usage error.
#
# Environment: FUZZ_ONLY="elf mpy" runs just those harnesses; FUZZ_JOBS=N
# runs N harnesses at a time (default 1); FUZZ_SEED=N starts every harness
# from libFuzzer seed N (.ci/run sets 1, so a clean clone repeats the same
# inputs up to where its time runs out; unset, each run draws a new seed,
# which the log names on its "Seed:" line).
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-}
secs=${2:-60}
if [ -z "$build" ] || [ ! -d "$build" ]; then
  echo "usage: sh scripts/fuzz.sh BUILD_DIR [SECONDS]  (build it with make fuzz)" >&2
  exit 2
fi
case "$secs" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number: '$secs'" >&2; exit 2 ;; esac
case "${FUZZ_SEED:-0}" in *[!0-9]*) echo "fuzz.sh: FUZZ_SEED must be a number: '$FUZZ_SEED'" >&2; exit 2 ;; esac
jobs=${FUZZ_JOBS:-1}
tmp=$(mktemp -d /tmp/flashsize-fuzz-run-XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# Longest input per harness: the seeds' size class, so mutations stay fast.
max_len() {
  case "$1" in
    elf | analyze | frozen | archive | refgraph) echo 65536 ;;
    mapfile | analysis_json) echo 65536 ;;
    romsyms | ldscript) echo 32768 ;;
    romfs) echo 16384 ;;
    mpy | natmod | board | budget) echo 4096 ;;
    request) echo 65536 ;;
    *) echo 4096 ;;
  esac
}

# Seeds too large to commit, copied from samples/ outputs when present.
extra_seeds() {
  case "$1" in
    elf | analyze | frozen | refgraph)
      for f in samples/build/cortex-m4.elf samples/frozen/build/*.elf samples/natmod/build/*.elf \
               samples/natmod/build/*/*.o; do
        [ -f "$f" ] && cp "$f" "$2/x-$(echo "$f" | tr / _)"
      done ;;
    mapfile)
      for f in samples/build/cortex-m4.map samples/build/x86_64.map samples/frozen/build/*.map; do
        [ -f "$f" ] && cp "$f" "$2/x-$(echo "$f" | tr / _)"
      done ;;
    ldscript)
      for f in samples/ld/*.ld tests/data/ld/*/*.ld tests/data/ld/*/*/*.ld; do
        [ -f "$f" ] && cp "$f" "$2/x-$(echo "$f" | tr / _)"
      done ;;
    archive)
      for f in samples/natmod/build/*/*.o samples/natmod/build/*/*.a samples/frozen/build/obj/*/*.o \
               samples/frozen/build/obj/*/*/*.o; do
        [ -f "$f" ] && cp "$f" "$2/x-$(echo "$f" | tr / _)"
      done ;;
    board)
      for f in rules/boards/*.ini; do cp "$f" "$2/x-$(basename "$f")"; done ;;
  esac
  return 0
}

run_one() {
  name=$1
  bin="$build/fuzz_$name"
  corpus="$tmp/corpus-$name"
  art="$build/artifacts/$name"
  rm -rf "$art"  # artifacts of an earlier run are not findings of this one
  mkdir -p "$corpus" "$art"
  extra_seeds "$name" "$corpus"
  log="$build/fuzz_$name.log"
  # the kept regression inputs first, once each, under clang's sanitizers
  # (clang's UBSan checks a few things gcc's does not, e.g. NULL + 0)
  if [ -n "$(ls "tests/fuzz/regress/$name" 2>/dev/null)" ] &&
     ! "$bin" tests/fuzz/regress/"$name"/* >"$log" 2>&1; then
    printf '%-14s regression input fails again, see %s\n' "$name" "$log"
    return 1
  fi
  "$bin" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$secs" -max_len="$(max_len "$name")" -timeout=1 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art/" "$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  found=$(ls "$art" 2>/dev/null | tr '\n' ' ')
  if [ "$rc" -eq 0 ] && [ -z "$found" ]; then result=ok; else result="FOUND (exit $rc): $found see $log"; fi
  printf '%-14s runs %-10s exec/s %-7s cov %-6s ft %-6s %s\n' "$name" "${runs:-?}" "${speed:-?}" \
    "${cov:-?}" "${ft:-?}" "$result"
  [ "$result" = ok ]
}

names=${FUZZ_ONLY:-$(for b in "$build"/fuzz_*; do
  case "$b" in *.d | *.log) continue ;; esac
  [ -x "$b" ] && basename "$b" | sed 's/^fuzz_//'
done)}
[ -n "$names" ] || { echo "fuzz.sh: no harnesses in $build" >&2; exit 2; }

echo "fuzz: $secs s per harness, $jobs at a time, seed ${FUZZ_SEED:-random}, artifacts in $build/artifacts/"
failed=0
running=0
for n in $names; do
  if [ "$jobs" -le 1 ]; then
    run_one "$n" || failed=1
  else
    (run_one "$n") >"$tmp/result-$n" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait; running=0; fi
  fi
done
wait
if [ "$jobs" -gt 1 ]; then
  for n in $names; do
    cat "$tmp/result-$n"
    grep -q ' ok$' "$tmp/result-$n" || failed=1
  done
fi
exit "$failed"
