#!/bin/sh
# check-includes.sh - no include cycles between the modules of analyzer/ and
# server/ (run by `make test`).  A module is a file name without its
# extension: X.c and X.h together; the store's files (store*.c, store*.h)
# are one module, and so are the server's daemon and its private header
# (server.c, server.h, http.h).  Each `#include "Y.h"` in X.c or X.h is
# an edge X -> Y; tsort(1) fails on a loop, and this script prints the loop
# and exits 1.  Also: nothing outside the store includes store_sqlite.h,
# and no file outside the store names sqlite3 (the store is the only code
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
for f in analyzer/*.c analyzer/*.h server/*.c server/*.h; do
  [ -e "$f" ] || continue
  from=$(module "$f")
  sed -n 's/^#include "\([^"]*\.h\)".*/\1/p' "$f" | while read -r to; do
    to=$(module "$to")
    [ "$to" = "$from" ] || echo "$from $to"
  done
done | sort -u >"$edges"
status=0
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
  echo "check-includes: include cycle between modules:" >&2
  grep -v '^tsort: -' "$edges.err" | sed 's/^tsort: /  /' >&2
  status=1
fi
rm -f "$edges.err"
bad=$(grep -l 'store_sqlite\.h' analyzer/*.c analyzer/*.h server/*.c server/*.h 2>/dev/null |
  grep -v -e '^analyzer/store\.c$' -e '^analyzer/store_[a-z]*\.[ch]$')
if [ -n "$bad" ]; then
  echo "check-includes: store_sqlite.h included outside the store: $bad" >&2
  status=1
fi
bad=$(grep -l 'sqlite3' analyzer/*.c analyzer/*.h server/*.c server/*.h 2>/dev/null |
  grep -v -e '^analyzer/store\.[ch]$' -e '^analyzer/store_[a-z]*\.[ch]$')
if [ -n "$bad" ]; then
  echo "check-includes: SQLite used outside the store: $bad" >&2
  status=1
fi
[ $status -eq 0 ] && echo "check-includes: no include cycles, SQL only in the store"
exit $status
