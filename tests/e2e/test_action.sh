#!/bin/sh
# The GitHub Action end to end: a real git repository (in a temp dir) of
# sample firmware sources with a base commit and a pull request commit, and
# the action's own entry script (scripts/action/run.sh, what action.yml runs)
# against the fake GitHub API (tests/tools/fakegithub.c):
#   - a same-repository PR: the base is built in a worktree (no analysis of it
#     kept), the comment and the status are posted, the job summary and the
#     outputs written, exit 0;
#   - a fork PR: the pull_request half analyzes with no token, the
#     workflow_run half reads that artifact, GitHub answers 403 to the writes:
#     one line on stderr, the report in the job summary, exit by the verdict
#     (0, and 1 for a head that overflows);
#   - a kept base analysis (base-dir): the base is not built.
# Expected numbers come from `xtensa-lx106-elf-size -A` of the ELFs the test
# builds itself from the two commits, never from flashsize.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
ROOT=$PWD
RUN="$ROOT/scripts/action/run.sh"
FAKE="$(dirname "$FLASHSIZE")/tools/fakegithub"
if [ ! -x "$FAKE" ] || ! command -v xtensa-lx106-elf-gcc >/dev/null; then
  notok "fake GitHub server and xtensa toolchain present ($FAKE)"
  finish
  exit 1
fi
FLASHSIZE=$(cd "$(dirname "$FLASHSIZE")" && pwd)/$(basename "$FLASHSIZE")
export FLASHSIZE
TOKEN="ghs_aCtIoNtEsT$$tOkEn"
unset GITHUB_TOKEN FLASHSIZE_GITHUB_TOKEN GITHUB_SERVER_URL GITHUB_RUN_ID GITHUB_REPOSITORY GITHUB_OUTPUT GITHUB_STEP_SUMMARY
unset FS_MODE FS_BOARDS FS_HEAD_DIR FS_RULES FS_BASE FS_BASE_DIR FS_BASE_BUILD FS_SERVER_URL FS_SERVER_TOKEN FS_PR FS_SHA FS_BASE_SHA FS_REPO FS_OUT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
export FLASHSIZE_BOT_BACKOFF_MS=10 FLASHSIZE_BOT_TIMEOUT=10 FLASHSIZE_BOT_ATTEMPTS=2
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# --- the firmware repository: sample sources, a base commit and a PR commit -----------------
R="$TMP/fw"
mkdir -p "$R/ld" "$R/py"
cp samples/ld/esp8266_2MiB.ld samples/ld/esp8266_common.ld "$R/ld/"
cat >"$R/py/table.c" <<'EOF'
/* a table the firmware keeps in flash (irom0: objects under py/) */
#include "../config.h"
const unsigned int mp_table[TABLE_WORDS] = {1};
unsigned int mp_lookup(unsigned int i) { return mp_table[i % TABLE_WORDS]; }
EOF
cat >"$R/main.c" <<'EOF'
/* the entry point; everything else is in py/ */
unsigned int mp_lookup(unsigned int i);
volatile unsigned int sink;
void firmware_start(void) { for (unsigned i = 0;; i++) sink = mp_lookup(i); }
EOF
cat >"$R/build.sh" <<'EOF'
#!/bin/sh
# build/fw.elf and build/fw.map with the xtensa toolchain
set -e
mkdir -p build/py
xtensa-lx106-elf-gcc -Os -ffunction-sections -fdata-sections -mlongcalls -nostdlib -c py/table.c -o build/py/table.o
xtensa-lx106-elf-gcc -Os -mlongcalls -nostdlib -c main.c -o build/main.o
xtensa-lx106-elf-gcc -nostdlib -Lld -Wl,--gc-sections -Wl,--noinhibit-exec -Wl,-Map=build/fw.map \
  -T ld/esp8266_2MiB.ld build/main.o build/py/table.o -o build/fw.elf 2>build/ld.log
EOF
echo '#define TABLE_WORDS 150000' >"$R/config.h"
echo 'build/' >"$R/.gitignore"
git_() { git -C "$R" -c user.name=t -c user.email=t@example.invalid "$@"; }
git_ init -q -b main && git_ add -A && git_ commit -qm "base firmware"
BASE=$(git_ rev-parse HEAD)
echo '#define TABLE_WORDS 150321' >"$R/config.h"      # +321 words = +1,284 bytes
git_ commit -qam "grow the table"
HEAD=$(git_ rev-parse HEAD)
git_ checkout -q -b fat "$HEAD"
echo '#define TABLE_WORDS 260000' >"$R/config.h"      # past irom0_0_seg (0xF7000)
git_ commit -qam "too big"
FAT=$(git_ rev-parse HEAD)

# ground truth: build each commit in its own checkout, size -A
truth() { # truth SHA NAME: the .irom0.text size of that commit's ELF
  git_ worktree add -q --detach "$TMP/t-$2" "$1" >/dev/null 2>&1
  (cd "$TMP/t-$2" && sh build.sh) >/dev/null 2>&1
  xtensa-lx106-elf-size -A "$TMP/t-$2/build/fw.elf" | awk '$1 == ".irom0.text" { print $2 }'
}
A=$(truth "$BASE" base); B=$(truth "$HEAD" head); F=$(truth "$FAT" fat)
git_ worktree prune
DELTA=+$(commas $((B - A)))
PCT=$(awk -v d=$((B - A)) -v a="$A" 'BEGIN { printf "%+.2f%%", d * 100 / a }')
USED=$(awk -v b="$B" 'BEGIN { printf "%.1f%%", b * 100 / 1011712 }')
expect_eq "ground truth: the PR grows irom0 by 1,284 B" "$DELTA" "+1,284"

# start_fake NAME [options]: a fresh fake GitHub; sets LOG and API
start_fake() {
  name=$1; shift
  LOG="$TMP/$name.log"
  : >"$LOG"
  "$FAKE" --port-file "$TMP/$name.port" --log "$LOG" --token "$TOKEN" --idle 60 "$@" 2>"$TMP/$name.fake-err" &
  PIDS="$PIDS $!"
  i=0
  while [ ! -s "$TMP/$name.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  API="http://127.0.0.1:$(cat "$TMP/$name.port")"
}
# action NAME WANT_STATUS TEST [VAR=VALUE ...]: run the entry script in the repository
action() {
  tag=$1 want=$2 what=$3; shift 3
  : >"$TMP/$tag.summary"; : >"$TMP/$tag.output"
  (cd "$R" && env GITHUB_API_URL="$API" GITHUB_STEP_SUMMARY="$TMP/$tag.summary" GITHUB_OUTPUT="$TMP/$tag.output" \
    FS_OUT="$TMP/$tag.out" FS_REPO=octo/fw FS_PR=7 FS_SHA="$HEAD" FS_BASE_SHA="$BASE" "$@" sh "$RUN") \
    >"$TMP/$tag.stdout" 2>"$TMP/$tag.stderr"
  got=$?
  if [ "$got" -eq "$want" ]; then ok "$what"
  else notok "$what" "exit $got, wanted $want" "stderr: $(tail -c 600 "$TMP/$tag.stderr")"; fi
}
BOARDS="esp8266-2m=build/fw.elf,build/fw.map"

# --- 1. a same-repository PR: base built in a worktree, comment and status posted --------
git_ checkout -q main 2>/dev/null; git_ checkout -q --detach "$HEAD"
(cd "$R" && sh build.sh)
start_fake same --filler 1
action same 0 "same-repo PR: the entry script exits 0" GITHUB_TOKEN="$TOKEN" FS_BOARDS="$BOARDS" FS_BASE_BUILD="sh build.sh"
check "no analysis of the base was kept: it was built" grep -q "no analysis of the base $BASE kept: building it" "$TMP/same.stderr"
expect_eq "requests: list, create, status" "$(jq -r 'select(.path | startswith("/repos/octo/fw/issues") or startswith("/repos/octo/fw/statuses")) | .method + " " + .path' "$LOG" | tr '\n' ';')" \
  "GET /repos/octo/fw/issues/7/comments;POST /repos/octo/fw/issues/7/comments;POST /repos/octo/fw/statuses/$HEAD;"
jq -j 'select(.method == "POST" and (.path | endswith("/comments"))) | .body.body' "$LOG" >"$TMP/same.md"
check "the comment starts with the marker" grep -qx "<!-- flashsize-report -->" "$TMP/same.md"
check "the comment's board line: irom0 $DELTA B ($PCT) $USED used (size -A)" \
  grep -qF -- "esp8266-2m: irom0 $DELTA B ($PCT) $USED used" "$TMP/same.md"
expect_eq "status: success" "$(jq -r 'select(.path | startswith("/repos/octo/fw/statuses")) | .body.state' "$LOG")" success
expect_eq "status description names the board and the size -A delta" \
  "$(jq -r 'select(.path | startswith("/repos/octo/fw/statuses")) | .body.description' "$LOG")" "esp8266-2m: irom0 $DELTA B, $USED used"
check "the job summary holds the comment" grep -qF -- "esp8266-2m: irom0 $DELTA B ($PCT) $USED used" "$TMP/same.summary"
check "output verdict=pass" grep -qx "verdict=pass" "$TMP/same.output"
REPORT=$(sed -n 's/^report=//p' "$TMP/same.output")
expect_eq "output report: the diff JSON's irom0 delta" "$(jq -r '.boards[0].regions[] | select(.name == "irom0_0_seg") | .delta' "$REPORT")" $((B - A))
check "output markdown: the comment" grep -qF -- "irom0 $DELTA B ($PCT)" "$TMP/same.output"
check "the base worktree was removed" test ! -e "$TMP/same.out/base-src"

# --- 2. a fork PR: analyze without a token, then report with GitHub refusing writes ------
action fork-analyze 0 "fork PR, pull_request half: analyze exits 0 without a token" \
  FS_MODE=analyze FS_BOARDS="$BOARDS" FS_BASE_BUILD="sh build.sh"
check "the artifact has the head and the base analyses" test -s "$TMP/fork-analyze.out/head/esp8266-2m.json" -a -s "$TMP/fork-analyze.out/base/esp8266-2m.json"
expect_eq "the artifact says which PR and commits" "$(cat "$TMP/fork-analyze.out/flashsize-pr.txt")" \
  "$(printf 'pr=7\nsha=%s\nbase_sha=%s\nboards=esp8266-2m' "$HEAD" "$BASE")"
start_fake fork --fork
action fork 0 "fork PR, workflow_run half: GitHub refuses the comment (403), exit 0 by the verdict" \
  GITHUB_TOKEN="$TOKEN" FS_HEAD_DIR="$TMP/fork-analyze.out" FS_PR= FS_SHA= FS_BASE_SHA=
expect_eq "requests: list (200), create refused (403), no status tried" \
  "$(jq -r '(.status | tostring) + " " + .method + " " + .path' "$LOG" | grep -v actions/artifacts | tr '\n' ';')" \
  "200 GET /repos/octo/fw/issues/7/comments;403 POST /repos/octo/fw/issues/7/comments;"
expect_eq "one line on stderr says why" "$(grep -c 'not posted, GitHub refused the write' "$TMP/fork.stderr")" 1
check "that line names the 403" grep -q "HTTP 403 Resource not accessible by integration" "$TMP/fork.stderr"
check "the job summary holds the report" grep -qF -- "esp8266-2m: irom0 $DELTA B ($PCT) $USED used" "$TMP/fork.summary"
check "and the status it could not set" grep -qF "**Status (flashsize): success** - esp8266-2m: irom0 $DELTA B, $USED used" "$TMP/fork.summary"
check "output verdict=pass" grep -qx "verdict=pass" "$TMP/fork.output"

# a fork PR whose firmware overflows irom0: refused writes, exit 1 all the same
git_ checkout -q --detach "$FAT"
(cd "$R" && sh build.sh)
action fat-analyze 0 "overflowing fork PR: analyze exits 0" FS_MODE=analyze FS_BOARDS="$BOARDS" FS_SHA="$FAT" FS_BASE_DIR="$TMP/fork-analyze.out/base"
action fat 1 "overflowing fork PR: refused writes, exit 1 by the verdict" \
  GITHUB_TOKEN="$TOKEN" FS_HEAD_DIR="$TMP/fat-analyze.out" FS_PR= FS_SHA= FS_BASE_SHA=
OVER=$(commas $((F - 1011712)))
check "the summary names the overflow (size -A: over by $((F - 1011712)) bytes)" \
  grep -qF "over by $((F - 1011712)) bytes" "$TMP/fat.summary"
check "the summary's status line says failure" grep -qF "**Status (flashsize): failure**" "$TMP/fat.summary"
check "output verdict=fail" grep -qx "verdict=fail" "$TMP/fat.output"
: "$OVER"

# --- 3. a kept base analysis: no base build ------------------------------------------------
git_ checkout -q --detach "$HEAD"
(cd "$R" && sh build.sh)
start_fake kept
action kept 0 "base analysis kept (base-dir): exit 0" GITHUB_TOKEN="$TOKEN" FS_BOARDS="$BOARDS" \
  FS_BASE_DIR="$TMP/fork-analyze.out/base" FS_BASE_BUILD="touch $TMP/base-was-built"
check "the base was not built" test ! -e "$TMP/base-was-built"
check "same comment line from the kept base" grep -qF -- "esp8266-2m: irom0 $DELTA B ($PCT) $USED used" "$TMP/kept.summary"

# --- 4. a push keeps its analysis (record); a later PR takes its base from that artifact -----
git_ checkout -q --detach "$BASE"
(cd "$R" && sh build.sh)
action record 0 "push to main: record exits 0" FS_MODE=record FS_BOARDS="$BOARDS" FS_SHA="$BASE" FS_PR= FS_BASE_SHA=
expect_eq "the kept analysis is of the base commit (size -A of its irom0)" \
  "$(jq -r '.regions[] | select(.name == "irom0_0_seg") | .used' "$TMP/record.out/head/esp8266-2m.json")" "$A"
check "and says which commit" grep -qx "sha=$BASE" "$TMP/record.out/flashsize-pr.txt"
(cd "$TMP/record.out" && zip -qr "$TMP/artifact.zip" head flashsize-pr.txt)
git_ checkout -q --detach "$HEAD"
(cd "$R" && sh build.sh)
start_fake art --artifact "flashsize-analysis-$BASE=$TMP/artifact.zip"
rm -f "$TMP/base-was-built"
action art 0 "PR with the base's artifact: exit 0" GITHUB_TOKEN="$TOKEN" FS_BOARDS="$BOARDS" FS_BASE_BUILD="touch $TMP/base-was-built"
check "the base was not built" test ! -e "$TMP/base-was-built"
expect_eq "requests: the artifact looked up by commit and downloaded, then list, create, status" \
  "$(jq -r '.method + " " + .path + (if .query != "" then "?" + .query else "" end)' "$LOG" | tr '\n' ';')" \
  "GET /repos/octo/fw/actions/artifacts?name=flashsize-analysis-$BASE&per_page=1;GET /repos/octo/fw/actions/artifacts/1/zip;GET /repos/octo/fw/issues/7/comments?per_page=100;POST /repos/octo/fw/issues/7/comments;POST /repos/octo/fw/statuses/$HEAD;"
check "the comment: the same size -A delta from the kept base" grep -qF -- "esp8266-2m: irom0 $DELTA B ($PCT) $USED used" "$TMP/art.summary"
check "says where the base came from" grep -q "base analyses of $BASE from the artifact flashsize-analysis-$BASE" "$TMP/art.stderr"

# --- 5. with `flashsize serve`: the push is uploaded, the PR's base taken from the server ----
. tests/e2e/server_lib.sh
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; kill_servers; rm -rf "$TMP"' EXIT
"$FLASHSIZE" token create --db "$TMP/sizes.db" --project fw >"$TMP/srv-token" 2>"$TMP/srv-token.err"
STOK=$(cat "$TMP/srv-token")
start_server srv --db "$TMP/sizes.db"
git_ checkout -q --detach "$BASE"
(cd "$R" && sh build.sh)
action srv-record 0 "push to main with a server: record exits 0" FS_MODE=record FS_BOARDS="$BOARDS" FS_SHA="$BASE" \
  FS_SERVER_URL="$URL" FS_SERVER_TOKEN="$STOK" FS_PROJECT=fw FS_BRANCH=main
expect_eq "the server has the base commit's build, irom0 as size -A says" \
  "$(curl -fsS "$URL/api/v1/projects/fw/boards/esp8266-2m/history?branch=main" | jq -r --arg c "$BASE" '.builds[] | select(.commit == $c) | .used')" "$A"
git_ checkout -q --detach "$HEAD"
(cd "$R" && sh build.sh)
start_fake srvpr
rm -f "$TMP/base-was-built"
action srv-pr 0 "PR with the base on the server: exit 0" GITHUB_TOKEN="$TOKEN" FS_BOARDS="$BOARDS" \
  FS_SERVER_URL="$URL" FS_SERVER_TOKEN="$STOK" FS_PROJECT=fw FS_BRANCH=main FS_BASE_BUILD="touch $TMP/base-was-built"
check "the base was not built" test ! -e "$TMP/base-was-built"
check "says the base is on the server" grep -q "base $BASE is on $URL" "$TMP/srv-pr.stderr"
jq -j 'select(.method == "POST" and (.path | endswith("/comments"))) | .body.body' "$LOG" >"$TMP/srv-pr.md"
check "the comment: the server's diff, the same size -A delta" grep -qF -- "esp8266-2m: irom0 $DELTA B ($PCT) $USED used" "$TMP/srv-pr.md"
expect_eq "the head was uploaded as the PR's build" \
  "$(curl -fsS "$URL/api/v1/projects/fw/boards/esp8266-2m/history" | jq -r --arg c "$HEAD" '.builds[] | select(.commit == $c) | .branch + " " + (.pr | tostring)')" "pr-7 7"

# --- bad input: exit 2 -----------------------------------------------------------------------
action bad-board 2 "a board entry without '=': exit 2" FS_MODE=analyze FS_BOARDS="build/fw.elf"
check "says what it expected" grep -q "is not BOARD=path/to/firmware.elf" "$TMP/bad-board.stderr"
mkdir -p "$TMP/evil/head"
cp "$TMP/fork-analyze.out/head/esp8266-2m.json" "$TMP/evil/head/"
printf 'pr=7; rm -rf /\nsha=%s\n' "$HEAD" >"$TMP/evil/flashsize-pr.txt"
action evil 2 "an artifact whose PR number is not a number: exit 2" GITHUB_TOKEN="$TOKEN" FS_HEAD_DIR="$TMP/evil"
check "names the file" grep -q "flashsize-pr.txt: pr 'pr=7; rm -rf /' is not\|flashsize-pr.txt: pr '7; rm -rf /' is not" "$TMP/evil.stderr"
expect_eq "the token appears in no output, summary or log" "$(grep -rlF "$TOKEN" "$TMP" | wc -l | tr -d ' ')" 0
expect_eq "the server token appears in no output or log but the file it was created into" \
  "$(grep -rlF "$STOK" "$TMP" | grep -v 'srv-token$' | grep -v 'sizes.db' | wc -l | tr -d ' ')" 0
finish
