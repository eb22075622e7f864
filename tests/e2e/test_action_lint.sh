#!/bin/sh
# action.yml and every workflow validated offline: the pinned npm validator
# (@action-validator/cli in package.json/package-lock.json, installed into
# node_modules/ by scripts/install-deps.sh) on each file, shellcheck (Debian)
# on the scripts they run; and the one package list: the Makefile, the
# Dockerfile, the action and the workflows install from scripts/deps.txt, and
# a missing library stops the build with one line naming its Debian package.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
AV=node_modules/.bin/action-validator
if [ ! -x "$AV" ] || ! command -v shellcheck >/dev/null; then
  notok "validator and shellcheck installed (sh scripts/install-deps.sh test)"
  finish
  exit 1
fi
for f in action.yml .github/workflows/*.yml; do
  if "$AV" "$f" >"$OUT" 2>&1; then ok "action-validator: $f"; else notok "action-validator: $f" "$(head -c 600 "$OUT")"; fi
done
# the validator can fail: a workflow with a misspelt key is refused
printf 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n' >"$TMP/bad.yml"
if "$AV" "$TMP/bad.yml" >"$OUT" 2>&1; then notok "the validator refuses a misspelt key"; else ok "the validator refuses a misspelt key"; fi
check "the refusal names the key" grep -q "stepz" "$OUT"
for s in scripts/action/run.sh scripts/install-deps.sh; do
  if shellcheck -s sh "$s" >"$OUT" 2>&1; then ok "shellcheck: $s"; else notok "shellcheck: $s" "$(head -c 600 "$OUT")"; fi
done
check "action.yml runs scripts/action/run.sh" grep -q 'scripts/action/run.sh' action.yml
check "action.yml installs with scripts/install-deps.sh" grep -q 'scripts/install-deps.sh" build' action.yml
check "action.yml caches the build by version" grep -q 'uses: actions/cache@v4' action.yml
check "the Dockerfile installs with scripts/install-deps.sh" grep -q 'install-deps.sh build' Dockerfile
expect_eq "no apt-get install outside scripts/install-deps.sh" \
  "$(grep -l 'apt-get install' Dockerfile action.yml .github/workflows/*.yml Makefile | wc -l | tr -d ' ')" 0
check "the pull_request workflow holds no secret" sh -c '! grep -q "secrets\." .github/workflows/flashsize.yml || ! sed -n "/Analyze the pull request/,/^      - name/p" .github/workflows/flashsize.yml | grep -q secrets'
check "the pull_request workflow cannot write" sh -c '! grep -qE "(pull-requests|statuses): write" .github/workflows/flashsize.yml'
check "the workflow_run workflow posts" grep -q "workflow_run:" .github/workflows/flashsize-report.yml
# every library the Makefile links is a pkg-config name of scripts/deps.txt, and a missing one
# stops the build in one line naming its Debian package
expect_eq "Makefile libraries = deps.txt's pkg-config names" \
  "$(make -s --no-print-directory -f Makefile -f - print-pkgs <<'MK'
print-pkgs: ; @echo $(PKGS)
MK
)" "$(awk '!/^#/ && NF >= 3 && $3 !~ /^cmd:/ { printf "%s%s", s, $3; s = " " }' scripts/deps.txt)"
make -s --no-print-directory libcheck PKG_DEBS="flashsize-no-such-lib:libflashsize-no-such-lib-dev jansson:libjansson-dev" >"$OUT" 2>"$ERR"
rc=$?
expect_eq "a missing library stops the build" "$rc" 2
expect_eq "in one line of ours (then make's own Error line)" "$(grep -c '^flashsize: ' "$ERR")" 1
expect_err "naming the library and its Debian package" "library flashsize-no-such-lib is missing (no flashsize-no-such-lib.pc for pkg-config): install the Debian package libflashsize-no-such-lib-dev"
expect_eq "install-deps --list build names the -dev packages of deps.txt" \
  "$(sh scripts/install-deps.sh --list build | tr ' ' '\n' | grep -c -- '-dev$')" "$(awk '$2 ~ /build/ && $1 ~ /-dev$/' scripts/deps.txt | wc -l | tr -d ' ')"
finish
