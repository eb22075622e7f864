#!/bin/sh
# scripts/coverage.sh - `make coverage` (docs/testing.md): line coverage of
# analyzer/ and server/ by the plain suite, and the finding ids.
#
#   sh scripts/coverage.sh
#
# Builds the tool and the tests with --coverage (-O0) into build-cov/, runs
# the plain suite on it (tests/run.sh build-cov), then prints gcovr's lines
# per file and total (also written to build-cov/coverage.txt).
#
# Finding ids: every id the code can emit is found by grep (the string
# literal that opens an fs_report_add call in analyzer/ and server/); for
# each call site, gcov's count of its line says whether the suite executed
# it, and the tests that name the id (grep of tests/) are listed.  An id
# with a call site the suite never executed is reported, and the script
# exits 1.  Exits 1 too if the suite fails.
set -u
cd "$(dirname "$0")/.." || exit 2
B=build-cov
command -v gcovr >/dev/null || { echo "coverage: gcovr is missing (sh scripts/install-deps.sh)" >&2; exit 2; }
find "$B" -name '*.gcda' -delete 2>/dev/null
# (-fprofile-update=atomic: the server's threads and the tests' parallel
# processes update the counters at once)
make --no-print-directory -j2 BUILD=$B OPT=-O0 SAN="--coverage -fprofile-update=atomic" test-build >/dev/null || { echo "coverage: build failed" >&2; exit 2; }
sh tests/run.sh $B >$B/suite.log 2>&1
suite=$?
tail -n 1 $B/suite.log
gcovr -r . --filter 'analyzer/' --filter 'server/' --gcov-ignore-parse-errors --json $B/coverage.json $B >$B/gcovr.log 2>&1 ||
  { cat $B/gcovr.log; exit 2; }
gcovr -r . --filter 'analyzer/' --filter 'server/' -a $B/coverage.json -o $B/coverage.txt 2>>$B/gcovr.log ||
  { cat $B/gcovr.log; exit 2; }
cat $B/coverage.txt

# The finding ids and their call sites: FILE LINE ID (the line of the call).
echo
echo "Finding ids: call sites executed by the suite, and the tests that name them"
missing=0
for f in analyzer/*/*.c server/*.c; do
  awk -v file="$f" '
    /fs_report_add\(/ { call = FNR; look = 3 }
    look > 0 {
      if (match($0, /"[a-z0-9]+(-[a-z0-9]+)+"/)) { print file, call, substr($0, RSTART + 1, RLENGTH - 2); look = 0 }
      else look--
    }' "$f"
done | sort -k3,3 -k1,1 -k2,2n >$B/finding-sites.txt
ids=$(awk '{ print $3 }' $B/finding-sites.txt | sort -u)
for id in $ids; do
  sites=""; bad=""
  while read -r file line fid; do
    [ "$fid" = "$id" ] || continue
    n=$(jq --arg f "$file" --argjson l "$line" \
      '[.files[] | select(.file == $f) | .lines[] | select(.line_number == $l) | .count] | max // 0' $B/coverage.json)
    sites="$sites $file:$line=$n"
    [ "$n" -gt 0 ] || bad="$bad $file:$line"
  done <$B/finding-sites.txt
  tests=$(grep -rlF -- "$id" tests/unit tests/e2e tests/browser 2>/dev/null | sed 's|.*/||' | sort -u | tr '\n' ' ')
  if [ -n "$bad" ]; then
    missing=$((missing + 1))
    printf '  %-28s NOT PRODUCED at%s  (tests naming it: %s)\n' "$id" "$bad" "${tests:-none}"
  else
    printf '  %-28s %s  tests: %s\n' "$id" "$sites" "${tests:-none}"
  fi
done
echo "coverage: $(echo $ids | wc -w) finding ids, $missing with a call site no test executes"
[ "$suite" -eq 0 ] && [ "$missing" -eq 0 ]
