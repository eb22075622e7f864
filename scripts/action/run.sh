#!/bin/sh
# scripts/action/run.sh - the entry script of the flashsize GitHub Action
# (action.yml runs it; tests/e2e/test_action.sh runs it against the fake
# GitHub API).  Everything comes from the environment, as action.yml sets it:
#
#   FS_MODE         report (default): analyze, find the base, post the comment and status
#                   analyze: analyze only, into FS_OUT (the artifact of a pull_request job
#                            from a fork: no token, nothing posted), with the base found
#                   record:  analyze a push to the default branch into FS_OUT (uploaded as the
#                            artifact flashsize-analysis-SHA) and, with FS_SERVER_URL, to the server
#   FS_BOARDS       one "BOARD=path/to/firmware.elf[,path/to/firmware.map]" per line or
#                   separated by spaces; paths relative to the current directory
#   FS_HEAD_DIR     report mode: the head's analyses (an analyze-mode artifact: BOARD.json
#                   and flashsize-pr.txt) instead of FS_BOARDS
#   FS_RULES        budget file (optional)
#   FS_BASE         where the base's analysis comes from: auto (default: FS_BASE_DIR, then
#                   the artifact flashsize-analysis-BASE_SHA of a push run, then the server,
#                   then a build), artifact, server, build or none
#   FS_BASE_DIR     a folder of the base's BOARD.json analyses (optional)
#   FS_BASE_BUILD   shell command that builds the firmware, run in a git worktree of the
#                   base commit (FS_BOARDS' paths are then relative to it); only when no
#                   analysis of the base exists
#   FS_SERVER_URL, FS_SERVER_TOKEN, FS_PROJECT, FS_BRANCH   `flashsize serve` (optional)
#   FS_PR, FS_SHA, FS_BASE_SHA, FS_REPO   the pull request, its head and base commits
#   FS_OUT          output folder (default $RUNNER_TEMP/flashsize or ./flashsize-out)
#   FLASHSIZE       the flashsize binary (default: flashsize on PATH)
#   GITHUB_TOKEN, GITHUB_API_URL, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY   as the runner sets them
#
# Outputs (GITHUB_OUTPUT): report (the flashsize-diff JSON path), verdict (pass|fail),
# markdown (the comment's text), analysis-dir.  Exit status: the verdict (0 pass, 1 fail)
# in report mode, 0 in the others; 2 bad input or an error.  Nothing from an artifact
# is ever run: its analyses are data, its PR number and commits are checked.
set -eu

say() { echo "flashsize-action: $*" >&2; }
die() { say "$*"; exit 2; }

FLASHSIZE=${FLASHSIZE:-flashsize}
MODE=${FS_MODE:-report}
BASE_FROM=${FS_BASE:-auto}
OUT=${FS_OUT:-${RUNNER_TEMP:-.}/flashsize-out}
API=${GITHUB_API_URL:-https://api.github.com}
REPO=${FS_REPO:-${GITHUB_REPOSITORY:-}}
PR=${FS_PR:-}
SHA=${FS_SHA:-}
BASE_SHA=${FS_BASE_SHA:-}

case "$MODE" in report|analyze|record) ;; *) die "mode '$MODE': expected report, analyze or record" ;; esac
case "$BASE_FROM" in auto|artifact|server|build|none) ;; *) die "base '$BASE_FROM': expected auto, artifact, server, build or none" ;; esac
command -v "$FLASHSIZE" >/dev/null 2>&1 || die "flashsize not found ($FLASHSIZE)"

is_hex() { case "$1" in ''|*[!0-9a-fA-F]*) return 1 ;; esac; [ ${#1} -ge 7 ] && [ ${#1} -le 64 ]; }
is_num() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; [ ${#1} -le 10 ]; }
is_board() { case "$1" in ''|*[!A-Za-z0-9._-]*|.*) return 1 ;; esac; }

mkdir -p "$OUT/head" "$OUT/base"

# ---- the head's analyses -------------------------------------------------------------
BOARDS=""
# analyze_into DIR ROOT: every FS_BOARDS entry, its ELF (and map) under ROOT, to DIR/BOARD.json
analyze_into() {
  dir=$1 root=$2
  set -f   # entries are split on blanks and newlines, never globbed
  # shellcheck disable=SC2086
  for spec in ${FS_BOARDS:-}; do
    case "$spec" in ''|'#'*) continue ;; *=*) ;; *) die "boards: '$spec' is not BOARD=path/to/firmware.elf" ;; esac
    b=${spec%%=*} files=${spec#*=}
    is_board "$b" || die "boards: '$b' is not a board name"
    elf=${files%%,*} map=""
    [ "$elf" = "$files" ] || map=${files#*,}
    case "$elf" in /*) ;; *) elf="$root/$elf" ;; esac
    case "$map" in ''|/*) ;; *) map="$root/$map" ;; esac
    set -- --board "$b" --format json -o "$dir/$b.json"
    [ -z "$map" ] || set -- "$@" --map "$map"
    rc=0
    "$FLASHSIZE" analyze "$@" "$elf" || rc=$?
    [ "$rc" -le 1 ] || die "analyze $b ($elf) failed"
    case " $BOARDS " in *" $b "*) ;; *) BOARDS="$BOARDS $b" ;; esac
  done
  set +f
  [ -n "$BOARDS" ] || die "boards: no BOARD=path/to/firmware.elf given"
}

if [ "$MODE" = report ] && [ -n "${FS_HEAD_DIR:-}" ]; then
  # an artifact of the analyze mode: data only, checked
  info="$FS_HEAD_DIR/flashsize-pr.txt"
  [ -f "$info" ] || die "$info: missing (not an analyze-mode artifact)"
  PR=$(sed -n 's/^pr=//p' "$info" | head -n 1)
  SHA=$(sed -n 's/^sha=//p' "$info" | head -n 1)
  BASE_SHA=$(sed -n 's/^base_sha=//p' "$info" | head -n 1)
  is_num "$PR" || die "$info: pr '$PR' is not a pull request number"
  is_hex "$SHA" || die "$info: sha '$SHA' is not a commit"
  [ -z "$BASE_SHA" ] || is_hex "$BASE_SHA" || die "$info: base_sha '$BASE_SHA' is not a commit"
  for f in "$FS_HEAD_DIR"/head/*.json; do
    [ -f "$f" ] || continue
    b=$(basename "$f" .json)
    is_board "$b" || die "$f: '$b' is not a board name"
    cp "$f" "$OUT/head/$b.json"
    BOARDS="$BOARDS $b"
    if [ -f "$FS_HEAD_DIR/base/$b.json" ]; then cp "$FS_HEAD_DIR/base/$b.json" "$OUT/base/$b.json"; fi
  done
  [ -n "$BOARDS" ] || die "$FS_HEAD_DIR: no head/BOARD.json analyses"
else
  analyze_into "$OUT/head" .
fi

# ---- record: keep the analysis of a push -----------------------------------------------
if [ "$MODE" = record ]; then
  [ -n "$SHA" ] || SHA=$(git rev-parse HEAD)
  is_hex "$SHA" || die "sha '$SHA' is not a commit"
  printf 'sha=%s\nboards=%s\n' "$SHA" "${BOARDS# }" >"$OUT/flashsize-pr.txt"
  if [ -n "${FS_SERVER_URL:-}" ]; then
    [ -n "${FS_SERVER_TOKEN:-}" ] || die "server-url without server-token: cannot upload"
    for b in $BOARDS; do
      jq -n --arg p "${FS_PROJECT:-${REPO##*/}}" --arg b "$b" --arg c "$SHA" --arg br "${FS_BRANCH:-main}" \
        --slurpfile a "$OUT/head/$b.json" '{project: $p, board: $b, commit: $c, branch: $br, analysis: $a[0]}' |
        curl -fsS -H "Authorization: Bearer $FS_SERVER_TOKEN" -H 'Content-Type: application/json' \
          --data-binary @- -o /dev/null "${FS_SERVER_URL%/}/api/v1/builds" || die "upload of $b to $FS_SERVER_URL failed"
      say "recorded $b at $SHA on $FS_SERVER_URL"
    done
  fi
  [ -z "${GITHUB_OUTPUT:-}" ] || printf 'analysis-dir=%s\n' "$OUT" >>"$GITHUB_OUTPUT"
  exit 0
fi

# ---- the base's analyses: kept ones first, a build only when there are none -----------
have_base() { for b in $BOARDS; do [ -f "$OUT/base/$b.json" ] || return 1; done; }
from_dir() {
  [ -n "${FS_BASE_DIR:-}" ] || return 0
  for b in $BOARDS; do
    for f in "$FS_BASE_DIR/$b.json" "$FS_BASE_DIR/head/$b.json"; do
      if [ ! -f "$OUT/base/$b.json" ] && [ -f "$f" ]; then cp "$f" "$OUT/base/$b.json"; fi
    done
  done
}
# the artifact flashsize-analysis-BASE_SHA that a push run of the default branch uploaded
from_artifact() {
  [ -n "$BASE_SHA" ] && [ -n "$REPO" ] && [ -n "${GITHUB_TOKEN:-}" ] || return 0
  list=$(curl -fsS -H "Authorization: Bearer $GITHUB_TOKEN" -H "Accept: application/vnd.github+json" \
    "$API/repos/$REPO/actions/artifacts?name=flashsize-analysis-$BASE_SHA&per_page=1" 2>/dev/null) || {
    say "could not list the artifacts of $REPO"; return 0; }
  url=$(printf '%s' "$list" | jq -r '[.artifacts[]? | select(.expired != true)][0].archive_download_url // empty')
  [ -n "$url" ] || { say "no artifact flashsize-analysis-$BASE_SHA"; return 0; }
  case "$url" in "$API"/*) ;; *) say "artifact URL not on $API: not sending the token there"; return 0 ;; esac
  curl -fsSL -H "Authorization: Bearer $GITHUB_TOKEN" -o "$OUT/base.zip" "$url" || { say "artifact download failed"; return 0; }
  mkdir -p "$OUT/base-artifact"
  unzip -q -o "$OUT/base.zip" -d "$OUT/base-artifact" || { say "artifact is not a zip file"; return 0; }
  FS_BASE_DIR="$OUT/base-artifact" from_dir
  say "base analyses of $BASE_SHA from the artifact flashsize-analysis-$BASE_SHA"
}
# the server has the base when it has a build of that commit for every board
SERVER_BASE=0
from_server() {
  [ -n "${FS_SERVER_URL:-}" ] && [ -n "$BASE_SHA" ] || return 0
  for b in $BOARDS; do
    curl -fsS "${FS_SERVER_URL%/}/api/v1/projects/${FS_PROJECT:-${REPO##*/}}/boards/$b/history?limit=1000" 2>/dev/null |
      jq -e --arg c "$BASE_SHA" '.builds | map(select(.commit == $c)) | length > 0' >/dev/null || return 0
  done
  SERVER_BASE=1
  say "base $BASE_SHA is on $FS_SERVER_URL"
}
from_build() {
  if [ -z "${FS_BASE_BUILD:-}" ]; then
    [ "$BASE_FROM" != build ] || die "no analysis of the base $BASE_SHA exists and base-build is not set"
    return 0
  fi
  is_hex "$BASE_SHA" || die "base sha '$BASE_SHA' is not a commit"
  say "no analysis of the base $BASE_SHA kept: building it"
  wt="$OUT/base-src"
  rm -rf "$wt"
  git worktree add --detach "$wt" "$BASE_SHA" >/dev/null 2>&1 || die "git worktree add $BASE_SHA failed"
  (cd "$wt" && git submodule update --init --recursive >/dev/null 2>&1 || true; sh -c "$FS_BASE_BUILD") ||
    die "the base build failed"
  saved=$BOARDS
  analyze_into "$OUT/base" "$wt"
  BOARDS=$saved
  git worktree remove --force "$wt" >/dev/null 2>&1 || true
}

if [ "$BASE_FROM" != none ]; then
  from_dir
  if ! have_base && { [ "$BASE_FROM" = auto ] || [ "$BASE_FROM" = artifact ]; }; then from_artifact; fi
  if ! have_base && { [ "$BASE_FROM" = auto ] || [ "$BASE_FROM" = server ]; }; then from_server; fi
  if ! have_base && [ "$SERVER_BASE" -eq 0 ] && { [ "$BASE_FROM" = auto ] || [ "$BASE_FROM" = build ]; }; then
    from_build
  fi
fi
# no base at all: the head against itself (sizes, findings and budgets still count)
for b in $BOARDS; do
  if [ ! -f "$OUT/base/$b.json" ] && [ "$SERVER_BASE" -eq 0 ]; then
    [ "$BASE_FROM" = none ] || say "$b: no base analysis; comparing the head with itself"
    cp "$OUT/head/$b.json" "$OUT/base/$b.json"
  fi
done

if [ "$MODE" = analyze ]; then
  printf 'pr=%s\nsha=%s\nbase_sha=%s\nboards=%s\n' "$PR" "$SHA" "$BASE_SHA" "${BOARDS# }" >"$OUT/flashsize-pr.txt"
  [ -z "${GITHUB_OUTPUT:-}" ] || printf 'analysis-dir=%s\n' "$OUT" >>"$GITHUB_OUTPUT"
  say "analyses of${BOARDS} in $OUT"
  exit 0
fi

# ---- report: the diff, the comment and the status ---------------------------------------
is_num "$PR" || die "pr '$PR' is not a pull request number"
is_hex "$SHA" || die "sha '$SHA' is not a commit"
set --
for b in $BOARDS; do set -- "$@" "$OUT/base/$b.json" "$OUT/head/$b.json"; done
if [ "$SERVER_BASE" -eq 1 ]; then
  # the server compares the head with its own copy of the base
  [ -n "${FS_SERVER_TOKEN:-}" ] || die "server-url without server-token: cannot upload the head"
  echo '{"schema":"flashsize-diff","schema_version":1,"boards":[]}' >"$OUT/report.json"
  for b in $BOARDS; do
    jq -n --arg p "${FS_PROJECT:-${REPO##*/}}" --arg b "$b" --arg c "$SHA" --arg pr "$PR" --arg base "${FS_BRANCH:-main}" \
      --slurpfile a "$OUT/head/$b.json" '{project: $p, board: $b, commit: $c, branch: ("pr-" + $pr), pr: ($pr | tonumber), base: $base, analysis: $a[0]}' |
      curl -fsS -H "Authorization: Bearer $FS_SERVER_TOKEN" -H 'Content-Type: application/json' \
        --data-binary @- "${FS_SERVER_URL%/}/api/v1/builds" >"$OUT/upload-$b.json" || die "upload of $b failed"
    jq -s '.[0].boards += (.[1].diff.boards // []) | .[0]' "$OUT/report.json" "$OUT/upload-$b.json" >"$OUT/report.tmp"
    mv "$OUT/report.tmp" "$OUT/report.json"
  done
  set -- --diff "$OUT/report.json"
  [ -z "${FS_RULES:-}" ] || say "rules $FS_RULES: not applied to the server's diff (the server checks its own budgets/BOARD.ini)"
else
  "$FLASHSIZE" diff --format json "$@" >"$OUT/report.json" || [ $? -eq 1 ] || die "diff failed"
  [ -z "${FS_RULES:-}" ] || set -- --rules "$FS_RULES" "$@"
fi
"$FLASHSIZE" bot --dry-run --pr "$PR" --repo "${REPO:-o/r}" --sha "$SHA" "$@" >"$OUT/dry.txt" 2>/dev/null || true
sed -n '2,/^--- end of comment ---$/p' "$OUT/dry.txt" | sed '$d' >"$OUT/report.md"
rc=0
"$FLASHSIZE" bot --pr "$PR" --repo "$REPO" --sha "$SHA" "$@" || rc=$?
[ "$rc" -le 1 ] || exit 2
verdict=pass
[ "$rc" -eq 0 ] || verdict=fail
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  delim="FLASHSIZE_MARKDOWN_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  { printf 'report=%s\nverdict=%s\nanalysis-dir=%s\n' "$OUT/report.json" "$verdict" "$OUT"
    printf 'markdown<<%s\n' "$delim"; cat "$OUT/report.md"; printf '%s\n' "$delim"; } >>"$GITHUB_OUTPUT"
fi
exit "$rc"
