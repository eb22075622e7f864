#!/bin/sh
# Install the Debian packages flashsize needs, from the one list in
# scripts/deps.txt, and (for the tests) the pinned npm workflow validator
# into the project's own node_modules (package.json, package-lock.json).
#   sh scripts/install-deps.sh              build, test and bench (what make test/demo/bench need)
#   sh scripts/install-deps.sh build        only what compiling flashsize needs (CI, the Action)
#   sh scripts/install-deps.sh build action the same and what the Action's entry script runs
#   sh scripts/install-deps.sh run          only the shared libraries (Docker's runtime stage)
#   sh scripts/install-deps.sh --list GROUP print the packages of GROUP, install nothing
# Idempotent: packages already present are skipped, so `make demo`/`make test`
# can call it on every run at the cost of one dpkg query.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
list_only=0
if [ "${1:-}" = "--list" ]; then list_only=1; shift; fi
groups=${*:-build test bench}

# the packages of the groups asked for (a package whose check is cmd:NAME
# only when the command NAME is missing)
want=""
for g in $groups; do
  case "$g" in build|run|test|action|bench) ;; *) echo "install-deps: unknown group '$g' (build, run, test, action, bench)" >&2; exit 2 ;; esac
done
while read -r pkg grp check; do
  case "$pkg" in ''|'#'*) continue ;; esac
  hit=0
  for g in $groups; do
    case ",$grp," in *",$g,"*) hit=1 ;; esac
  done
  [ "$hit" -eq 1 ] || continue
  case "${check:-}" in cmd:*) command -v "${check#cmd:}" >/dev/null 2>&1 && continue ;; esac
  case " $want " in *" $pkg "*) ;; *) want="$want $pkg" ;; esac
done <"$here/deps.txt"

if [ "$list_only" -eq 1 ]; then
  echo "${want# }"
  exit 0
fi

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# the workflow validator of the tests (tests/e2e/test_action_lint.sh), pinned
case " $groups " in
  *" test "*)
    root=$(dirname "$here")
    if [ ! -x "$root/node_modules/.bin/action-validator" ]; then
      echo "install-deps: npm ci (the pinned workflow validator, into node_modules/)"
      (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    ;;
esac
