#!/bin/sh
# Run every unit test program and CLI test script against one build directory
# and print one closing line "BUILD: N passed, N failed, N skipped".
#   sh tests/run.sh BUILD_DIR
# Unit tests are cmocka programs in TAP mode; CLI tests are shell scripts in
# tests/e2e/ that print TAP lines through tests/e2e/lib.sh.  A TAP line
# "ok ... # SKIP ..." is a skip, counted apart from the passes.  With
# FLASHSIZE_CI=1 (.ci/run) a missing capability the CI machine must have
# (root, script(1), Chromium: tests/e2e/lib.sh skip_capability) is a failure.
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
export FLASHSIZE="$PWD/$build/flashsize"
export CMOCKA_MESSAGE_OUTPUT=TAP
passed=0
failed=0
skipped=0
log=$(mktemp)
for t in "$build"/tests/test_* tests/e2e/test_*.sh; do
  [ -e "$t" ] || continue
  case "$t" in *.sh) ;; *.*) continue ;; esac  # .d, and gcov's .gcno/.gcda (make coverage)
  [ "${t%.sh}" != "$t" ] || [ -x "$t" ] || continue
  echo "# $t"
  if [ "${t%.sh}" != "$t" ]; then sh "$t" >"$log" 2>&1; else "$t" >"$log" 2>&1; fi
  rc=$?
  cat "$log"
  # (cmocka writes a skip as "not ok N # SKIP name", lib.sh as "ok N - name # SKIP why")
  sk=$(grep -Ec '^(not )?ok .*# *SKIP' "$log")
  ok=$(grep '^ok ' "$log" | grep -Evc '# *SKIP')
  bad=$(grep '^not ok ' "$log" | grep -Evc '# *SKIP')
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "not ok - $t exited with status $rc"
    bad=1
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  skipped=$((skipped + sk))
done
rm -f "$log"
echo "$build: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
