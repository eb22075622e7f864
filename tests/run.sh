#!/bin/sh
# Run every unit test program and CLI test script against one build directory
# and print one closing line "flashsize: N passed, N failed".
#   sh tests/run.sh BUILD_DIR
# Unit tests are cmocka programs in TAP mode; CLI tests are shell scripts in
# tests/e2e/ that print TAP lines through tests/e2e/lib.sh.
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
export FLASHSIZE="$PWD/$build/flashsize"
export CMOCKA_MESSAGE_OUTPUT=TAP
passed=0
failed=0
log=$(mktemp)
for t in "$build"/tests/test_* tests/e2e/test_*.sh; do
  [ -e "$t" ] || continue
  case "$t" in *.d) continue ;; esac
  echo "# $t"
  if [ "${t%.sh}" != "$t" ]; then sh "$t" >"$log" 2>&1; else "$t" >"$log" 2>&1; fi
  rc=$?
  cat "$log"
  ok=$(grep -c '^ok ' "$log")
  bad=$(grep -c '^not ok ' "$log")
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "not ok - $t exited with status $rc"
    bad=1
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
done
rm -f "$log"
echo "$build: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
