# tests/lib/pgcluster.sh - a throwaway PostgreSQL cluster for the tests
# (sourceable, POSIX sh).  Debian's postgresql package provides the
# binaries (/usr/lib/postgresql/VERSION/bin); the cluster listens on a Unix
# socket in DIR only (no TCP), runs as the unprivileged user nobody when
# the caller is root (DIR is handed to that user), and trusts local
# connections of its superuser "flashsize".
#
#   . tests/lib/pgcluster.sh
#   pg_cluster_start DIR   initdb + pg_ctl start; creates the database
#                          "flashsize" and exports FS_PG_URI
#                          (postgresql:///flashsize?host=DIR&user=flashsize),
#                          FS_PG_DIR and FS_PG_BIN; status 1 (with a message on
#                          stderr) when PostgreSQL is missing or does not start
#   pg_cluster_stop DIR    stop it (fast shutdown) and remove DIR's cluster
#   pg_cluster_restart DIR stop and start again (same data, same URI)
#   pg_cluster_uri DIR DB  the URI of database DB of the cluster in DIR
#   pg_cluster_createdb DIR DB   create database DB
#   pg_cluster_psql DIR ARGS...  run psql on database flashsize
#
# DIR must be an absolute path, short enough for a socket path (under 90
# characters), and every directory above it must be searchable by nobody
# (mktemp -d under /tmp is: DIR itself is made 0755 here).

pg_cluster_bin() {
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Run a command as the cluster's owner.
pg_cluster_as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

pg_cluster_uri() {
  echo "postgresql:///$2?host=$1&user=flashsize"
}

pg_cluster_start() {
  dir=$1
  FS_PG_BIN=$(pg_cluster_bin) || { echo "pgcluster: PostgreSQL is not installed (Debian package postgresql)" >&2; return 1; }
  case "$dir" in /*) ;; *) echo "pgcluster: $dir: not an absolute path" >&2; return 1 ;; esac
  mkdir -p "$dir" || return 1
  chmod 0755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
  if [ ! -d "$dir/data" ]; then
    pg_cluster_as "$FS_PG_BIN/initdb" -D "$dir/data" -A trust -U flashsize -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { echo "pgcluster: initdb failed:" >&2; cat "$dir/initdb.log" >&2; return 1; }
  fi
  # no TCP; the socket in DIR; fsync off: a test cluster needs no durability
  pg_cluster_as "$FS_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses= -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
    start >"$dir/pg_ctl.log" 2>&1 || { echo "pgcluster: the server did not start:" >&2; cat "$dir/server.log" >&2; return 1; }
  if ! pg_cluster_psql_db "$dir" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'flashsize'" | grep -q 1; then
    pg_cluster_createdb "$dir" flashsize || return 1
  fi
  FS_PG_DIR=$dir
  FS_PG_URI=$(pg_cluster_uri "$dir" flashsize)
  export FS_PG_URI FS_PG_DIR FS_PG_BIN
}

pg_cluster_psql_db() {
  d=$1 db=$2
  shift 2
  "${FS_PG_BIN:-$(pg_cluster_bin)}/psql" -X -q -v ON_ERROR_STOP=1 "$(pg_cluster_uri "$d" "$db")" "$@"
}

pg_cluster_psql() {
  d=$1
  shift
  pg_cluster_psql_db "$d" flashsize "$@"
}

pg_cluster_createdb() {
  pg_cluster_psql_db "$1" postgres -c "CREATE DATABASE \"$2\" TEMPLATE template0" >/dev/null
}

pg_cluster_stop() {
  dir=$1
  [ -d "$dir/data" ] || return 0
  pg_cluster_as "${FS_PG_BIN:-$(pg_cluster_bin)}/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  rm -rf "$dir/data"
}

pg_cluster_restart() {
  dir=$1
  pg_cluster_as "${FS_PG_BIN:-$(pg_cluster_bin)}/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  pg_cluster_start "$dir"
}
