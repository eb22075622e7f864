# Shared helpers for the CLI tests: TAP output, one line per check.
#   . tests/e2e/lib.sh
#   run 1 "overflow exits 1" analyze samples/build/x.elf   # runs $FLASHSIZE
#   expect_err "names the file" "x.elf"                     # checks last stderr
# FLASHSIZE points at the binary under test (tests/run.sh sets it).
: "${FLASHSIZE:=build/flashsize}"
export FLASHSIZE_RULES="${FLASHSIZE_RULES:-$PWD/rules}"
TESTS_RUN=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT="$TMP/out"
ERR="$TMP/err"

ok()    { TESTS_RUN=$((TESTS_RUN + 1)); echo "ok $TESTS_RUN - $1"; }
notok() { TESTS_RUN=$((TESTS_RUN + 1)); echo "not ok $TESTS_RUN - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check() { # check NAME COMMAND...: ok if the command succeeds
  name=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$name"; else notok "$name" "failed: $*"; fi
}

# run WANT_STATUS NAME ARGS...: run flashsize, keep stdout/stderr, check status
run() {
  want=$1; name=$2; shift 2
  "$FLASHSIZE" "$@" >"$OUT" 2>"$ERR"
  got=$?
  if [ "$got" -eq "$want" ]; then ok "$name"
  else notok "$name" "flashsize $*" "exit $got, wanted $want" "stderr: $(head -c 400 "$ERR")"; fi
}

# expect_err NAME TEXT: the last run's stderr contains TEXT
expect_err() {
  if grep -qF -- "$2" "$ERR"; then ok "$1"; else notok "$1" "stderr lacks '$2'" "stderr: $(head -c 400 "$ERR")"; fi
}
# expect_out NAME TEXT: the last run's stdout contains TEXT
expect_out() {
  if grep -qF -- "$2" "$OUT"; then ok "$1"; else notok "$1" "stdout lacks '$2'"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got '$2', wanted '$3'"; fi
}
finish() { echo "1..$TESTS_RUN"; }
