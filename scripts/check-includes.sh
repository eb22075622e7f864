#!/bin/sh
# check-includes.sh - no include cycles between the modules of analyzer/ and
# server/ (run by `make test`).  A module is a file name without its
# extension: X.c and X.h together; the store's files (store*.c, store*.h)
# are one module, and so are the server's daemon and its private header
# (server.c, server.h, http.h).  Headers also respect the layers of the
# flow: read <- analyze <- report <- cli/server, and the store beside the
# analyses, never included by them (see layer below).  Each `#include "Y.h"` in X.c or X.h is
# an edge X -> Y; tsort(1) fails on a loop, and this script prints the loop
# and exits 1.  Also: nothing outside the store includes store_db.h,
# and no file outside the store names sqlite3 or libpq (the store is the only code
# that speaks SQL).
set -u
cd "$(dirname "$0")/.." || exit 2
# module FILE: the module a file belongs to
module() {
  m=$(basename "$1"); m=${m%.*}
  case "$m" in store_*) m=store ;; http) m=server ;; esac
  echo "$m"
}
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in analyzer/*/*.c analyzer/*/*.h server/*.c server/*.h; do
  [ -e "$f" ] || continue
  from=$(module "$f")
  sed -n 's/^#include "\([^"]*\.h\)".*/\1/p' "$f" | while read -r to; do
    to=$(module "$to")
    [ "$to" = "$from" ] || echo "$from $to"
  done
done | sort -u >"$edges"
# layer MODULE: where a module sits in the flow, from the folder its files
# are in (docs: the architecture's layers): analyzer/read 0, analyzer/analyze
# and analyzer/store 1 (side by side: neither includes the other),
# analyzer/report 2, analyzer/cli and server 3.  A header may include headers
# of its own layer or of a lower one only.
layer() {
  case "$1" in
    store) f=analyzer/store/store.h ;;
    server) f=server/server.h ;;
    *) f=$(ls analyzer/*/"$1".h analyzer/*/"$1".c server/"$1".h server/"$1".c 2>/dev/null | head -n 1) ;;
  esac
  case "$f" in
    analyzer/read/*) echo "0 read" ;;
    analyzer/analyze/*) echo "1 analyze" ;;
    analyzer/store/*) echo "1 store" ;;
    analyzer/report/*) echo "2 report" ;;
    analyzer/cli/*) echo "3 cli" ;;
    *) echo "3 server" ;;
  esac
}
status=0
for h in analyzer/*/*.h server/*.h; do
  [ -e "$h" ] || continue
  from=$(module "$h")
  set -- $(layer "$from"); lf=$1; nf=$2
  for to in $(sed -n 's/^#include "\([^"]*\.h\)".*/\1/p' "$h"); do
    to=$(module "$to")
    set -- $(layer "$to"); lt=$1; nt=$2
    if [ "$lt" -gt "$lf" ] || { [ "$lt" -eq "$lf" ] && [ "$nt" != "$nf" ]; }; then
      echo "check-includes: $h ($nf) includes $to.h ($nt), a layer above or beside it" >&2
      status=1
    fi
  done
done
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
  echo "check-includes: include cycle between modules:" >&2
  grep -v '^tsort: -' "$edges.err" | sed 's/^tsort: /  /' >&2
  status=1
fi
rm -f "$edges.err"
bad=$(grep -l 'store_db\.h' analyzer/*/*.c analyzer/*/*.h server/*.c server/*.h 2>/dev/null |
  grep -v '^analyzer/store/store[a-z_]*\.[ch]$')
if [ -n "$bad" ]; then
  echo "check-includes: store_db.h included outside the store: $bad" >&2
  status=1
fi
bad=$(grep -l 'sqlite3' analyzer/*/*.c analyzer/*/*.h server/*.c server/*.h 2>/dev/null |
  grep -v '^analyzer/store/store[a-z_]*\.[ch]$')
if [ -n "$bad" ]; then
  echo "check-includes: SQLite used outside the store: $bad" >&2
  status=1
fi
bad=$(grep -lE 'libpq-fe\.h|PQconnect|PQexec|PGresult' analyzer/*/*.c analyzer/*/*.h server/*.c server/*.h 2>/dev/null |
  grep -v '^analyzer/store/store[a-z_]*\.[ch]$')
if [ -n "$bad" ]; then
  echo "check-includes: libpq used outside the store: $bad" >&2
  status=1
fi
[ $status -eq 0 ] && echo "check-includes: no include cycles, headers follow the layers, SQL only in the store"
exit $status
