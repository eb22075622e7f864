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
# skip NAME REASON: a check this machine cannot make (an optional file that
# is not here); tests/run.sh counts it apart, as skipped.
skip()  { TESTS_RUN=$((TESTS_RUN + 1)); echo "ok $TESTS_RUN - $1 # SKIP $2"; }
# skip_capability NAME REASON: a capability the CI machine has (root,
# script(1), Chromium: what scripts/install-deps.sh installs on Debian).  A
# skip elsewhere; with FLASHSIZE_CI=1 (.ci/run) a failure.
skip_capability() {
  if [ -n "${FLASHSIZE_CI:-}" ]; then notok "$1" "skipped on the CI machine: $2"; else skip "$1" "$2"; fi
}
# map_object_bytes MAP OBJECT LO HI: the bytes of OBJECT's input sections
# that GNU ld placed at addresses LO <= a < HI, summed from the map file's
# own "ADDR SIZE OBJECT" lines (the toolchain's word, not flashsize's parser)
map_object_bytes() {
  awk -v obj="$2" -v lo="$(($3))" -v hi="$(($4))" '
    function hexval(h,    i, v) { v = 0; h = tolower(substr(h, 3))
      for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
      return v }
    /^Linker script and memory map/ { on = 1; next }
    on && NF >= 3 && $NF == obj && $(NF - 2) ~ /^0x/ && $(NF - 1) ~ /^0x/ {
      a = hexval($(NF - 2)); if (a >= lo && a < hi) t += hexval($(NF - 1)) }
    END { print t + 0 }' "$1"
}
# budget_max FILE: the [budget] section's max (the main region's limit) of a
# budget file, its ld expression (1M - 36K - 32K) evaluated by the shell
budget_max() {
  e=$(awk -F' *= *' '/^\[/ { sec = $0 } sec == "[budget]" && $1 == "max" { print $2; exit }' "$1")
  echo $(( $(echo "$e" | sed 's/K/ * 1024/g; s/M/ * 1048576/g') ))
}
# memusage NAME REGION used|length: ld's --print-memory-usage line for REGION
# in samples/build/NAME.memusage, in bytes (B, KB, MB, GB units)
memusage() {
  awk -v r="$2:" -v w="$3" '$1 == r {
    u = (w == "used") ? $3 : $5; n = (w == "used") ? $2 : $4
    if (u == "KB") n *= 1024; else if (u == "MB") n *= 1048576; else if (u == "GB") n *= 1073741824
    printf "%d\n", n }' "samples/build/$1.memusage"
}
# diff_summary LABEL A B LENGTH: the diff comment's summary line for irom0
# used bytes A -> B of a region LENGTH long (numbers from size -A and ld),
# formatted as docs/bot.md shows it: "- LABEL: irom0 +1,234 B (+0.50%) 95.5% used"
diff_summary() {
  awk -v label="$1" -v a="$2" -v b="$3" -v l="$4" 'BEGIN {
    d = b - a; sign = d < 0 ? "-" : "+"; n = sprintf("%d", d < 0 ? -d : d); s = ""
    while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) }
    printf "- %s: irom0 %s%s%s B (%+.2f%%) %.1f%% used\n", label, sign, n, s, d * 100 / a, b * 100 / l }'
}
# sidecar KIND NAME FILE: a number the frozen generator wrote (.sizes)
sidecar() { awk -v k="$1" -v n="$2" '$1 == k && $2 == n { print $3 }' "$3"; }
finish() { echo "1..$TESTS_RUN"; }
