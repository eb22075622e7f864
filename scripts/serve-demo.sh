#!/bin/sh
# `make serve-demo` (and the end of `make demo`): seed build/demo.db with a
# history of the bundled samples (scripts/seed-demo.sh) and serve the
# dashboard on 127.0.0.1 in the foreground until Ctrl-C.
#   sh scripts/serve-demo.sh build/flashsize [HOST:PORT]
# FLASHSIZE_DEMO_LISTEN overrides the address (default 127.0.0.1:8080).
set -u
fs=${1:-build/flashsize}
listen=${2:-${FLASHSIZE_DEMO_LISTEN:-127.0.0.1:8080}}
cd "$(dirname "$0")/.." || exit 2
db=build/demo.db
sh scripts/seed-demo.sh "$db" "$fs" || exit 2
echo
echo "== the size dashboard on $db (the bundled samples as a history; flagged boards included) =="
echo "   open http://$listen/  (Ctrl-C stops the server)"
echo "   API: curl http://$listen/api/v1/projects/micropython/boards"
exec "$fs" serve --db "$db" --listen "$listen" --web web --rules-dir rules
