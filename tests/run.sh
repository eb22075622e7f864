#!/bin/sh
# Run every unit test program and CLI test script against one build directory
# and print one closing line "BUILD: N passed, N failed, N skipped".
#   sh tests/run.sh BUILD_DIR
# Unit tests are cmocka programs in TAP mode; CLI tests are shell scripts in
# tests/e2e/ that print TAP lines through tests/e2e/lib.sh.  A TAP line
# "ok ... # SKIP ..." is a skip, counted apart from the passes.  With
# FLASHSIZE_CI=1 (.ci/run) a missing capability the CI machine must have
# (root, script(1), Chromium: tests/e2e/lib.sh skip_capability) is a failure.
#
# PostgreSQL: a throwaway cluster (tests/lib/pgcluster.sh) runs for the
# whole suite; its URI is FS_PG_URI (and FS_PG_DIR its directory) for the
# e2e tests of that backend (tests/e2e/test_pg*.sh), and the store's unit
# tests (PG_UNIT below) run a second time against it with
# FLASHSIZE_TEST_PG set, each test in databases of its own.  Without the
# postgresql package those runs are skips (failures with FLASHSIZE_CI=1).
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
export FLASHSIZE="$PWD/$build/flashsize"
export CMOCKA_MESSAGE_OUTPUT=TAP
passed=0
failed=0
skipped=0
log=$(mktemp)
PG_UNIT="test_store test_storecache"
. tests/lib/pgcluster.sh
pgdir=$(mktemp -d /tmp/fs-pg.XXXXXX)
pg_started=0
pg_t0=$(date +%s)
if pg_cluster_start "$pgdir" 2>"$log"; then
  pg_started=1
else
  cat "$log"
  unset FS_PG_URI FS_PG_DIR
fi
# run_one TEST [PG_URI]: run a unit test program or an e2e script, count its TAP lines
run_one() {
  t=$1
  if [ $# -gt 1 ]; then
    echo "# $t (PostgreSQL)"
    FLASHSIZE_TEST_PG=$2 "$t" >"$log" 2>&1
  elif [ "${t%.sh}" != "$t" ]; then
    echo "# $t"
    sh "$t" >"$log" 2>&1
  else
    echo "# $t"
    "$t" >"$log" 2>&1
  fi
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
}
for t in "$build"/tests/test_* tests/e2e/test_*.sh; do
  [ -e "$t" ] || continue
  case "$t" in *.sh) ;; *.*) continue ;; esac  # .d, and gcov's .gcno/.gcda (make coverage)
  [ "${t%.sh}" != "$t" ] || [ -x "$t" ] || continue
  run_one "$t"
done
# The store's unit tests again, on PostgreSQL.
for u in $PG_UNIT; do
  if [ "$pg_started" -eq 1 ]; then
    run_one "$build/tests/$u" "$FS_PG_URI"
  elif [ -n "${FLASHSIZE_CI:-}" ]; then
    echo "not ok - $u on PostgreSQL: no cluster (install the postgresql package)"
    failed=$((failed + 1))
  else
    echo "ok - $u on PostgreSQL # SKIP no PostgreSQL cluster (the postgresql package)"
    skipped=$((skipped + 1))
  fi
done
if [ "$pg_started" -eq 1 ]; then
  pg_cluster_stop "$pgdir"
  echo "# PostgreSQL cluster: up for $(($(date +%s) - pg_t0)) s"
fi
rm -rf "$pgdir"
rm -f "$log"
echo "$build: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
