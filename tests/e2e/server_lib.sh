# Start and stop `flashsize serve` for the server tests, on loopback only.
#   . tests/e2e/lib.sh; . tests/e2e/server_lib.sh
# Every server started is remembered in $SERVER_PIDS; the caller's EXIT trap
# runs kill_servers so that none outlives the test.
SERVER_PIDS=""

# start_server NAME ARGS...: start flashsize serve on 127.0.0.1 port 0 (a free
# port the kernel picks); set PID, PORT and URL; logs in $TMP/NAME.{log,err}.
start_server() {
  name=$1; shift
  : >"$TMP/$name.err"
  "$FLASHSIZE" serve --listen 127.0.0.1:0 --log "$TMP/$name.log" "$@" 2>"$TMP/$name.err" &
  PID=$!
  SERVER_PIDS="$SERVER_PIDS $PID"
  PORT=""
  i=0
  while [ $i -lt 100 ] && [ -z "$PORT" ]; do
    PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$TMP/$name.err")
    [ -n "$PORT" ] || sleep 0.05
    i=$((i + 1))
  done
  [ -n "$PORT" ] || echo "# server $name did not start: $(cat "$TMP/$name.err")"
  URL="http://127.0.0.1:$PORT"
}

# stop_server PID: SIGTERM, then at most 5 s for a clean stop (a failed check
# if it takes longer), then SIGKILL: never hangs.
stop_server() {
  kill "$1" 2>/dev/null
  n=0
  while [ $n -lt 50 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
  if kill -0 "$1" 2>/dev/null; then notok "server $1 did not stop on SIGTERM within 5 s"; kill -9 "$1"; fi
  wait "$1" 2>/dev/null
}

# kill_servers: SIGKILL every server still running (for EXIT traps).
kill_servers() {
  for p in $SERVER_PIDS; do kill -9 "$p" 2>/dev/null; done
  for p in $SERVER_PIDS; do wait "$p" 2>/dev/null; done
}
