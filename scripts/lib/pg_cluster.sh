#!/usr/bin/env bash
# scripts/lib/pg_cluster.sh — a private PostgreSQL cluster for scripts and
# benchmarks (the C++ tests use tests/store/postgresql/pg_test_cluster.h).
#
#   pg_cluster.sh start DIR PORT    initdb in DIR (first time) and start the
#                                   server on 127.0.0.1:PORT (0 = a free
#                                   port); prints the DSN of database postgres
#   pg_cluster.sh stop DIR [MODE]   stop it (MODE fast, the default, or
#                                   immediate = as if it crashed); DIR stays,
#                                   `start DIR PORT` runs it again
#   pg_cluster.sh remove DIR        stop it if it runs, remove DIR
#   pg_cluster.sh dsn DIR [DB]      print the DSN (database DB, default postgres)
#   pg_cluster.sh createdb DIR DB   make database DB; print its DSN
#
# The server listens on 127.0.0.1 only, its unix socket in DIR; the
# superuser "posthorn" logs in without a password (trust): for tests only.
# fsync is off (nothing here must survive a power cut), unless
# POSTHORN_PG_DURABLE=1 (benchmarks: fsync, full_page_writes and
# synchronous_commit on, 128 MB of shared_buffers, so a commit costs what it
# costs on a real server). As root the server
# runs as the postgres user (initdb refuses root) and DIR is given to it.
# Logs: DIR/server.log, DIR/initdb.log. Every wait is bounded (pg_ctl -t 60).
#
# Environment: POSTHORN_PG_BINDIR = where initdb and pg_ctl are (default:
# `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

readonly wait_seconds=60   # pg_ctl -t: server start and stop
readonly superuser=posthorn
readonly marker=.posthorn-pg-cluster

die() { echo "pg_cluster.sh: $*" >&2; exit 1; }

bindir() {
  local dir candidates=()
  [ -n "${POSTHORN_PG_BINDIR:-}" ] && candidates+=("$POSTHORN_PG_BINDIR")
  dir=$(pg_config --bindir 2>/dev/null || true)
  [ -n "$dir" ] && candidates+=("$dir")
  # Debian: /usr/lib/postgresql/<major>/bin, newest first.
  while read -r dir; do
    candidates+=("$dir")
  done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -rn)
  for dir in "${candidates[@]}"; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  die "PostgreSQL is not installed (no initdb/pg_ctl): apt-get install postgresql"
}

# as_owner CMD...: runs CMD as the postgres user when we are root, in DIR
# (the postgres user may not enter our working directory), with a plain
# locale so initdb does not fail on one that is not generated.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$dir" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
       runuser -u postgres -- "$@")
  else
    (cd "$dir" && env -i PATH=/usr/bin:/bin LC_ALL=C HOME="${HOME:-/}" "$@")
  fi
}

free_port() {
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dsn_of() {  # dsn_of DB
  local port
  port=$(cat "$dir/port" 2>/dev/null) || die "$dir: no cluster here (start it first)"
  echo "host=127.0.0.1 port=$port user=$superuser dbname=$1"
}

# The server runs when its pid file names a live process (a crashed or
# killed server leaves a stale file behind).
running() {
  local pid
  pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cmd_start() {
  local port=$1 bin
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
  [ "$port" -eq 0 ] && port=$(free_port)
  bin=$(bindir)
  mkdir -p "$dir"
  touch "$dir/$marker"   # lets `remove` know the folder is ours
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U "$superuser" \
      --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
    echo "include 'posthorn_test.conf'" >>"$dir/data/postgresql.conf"
  fi
  running && die "$dir: the server is running already (stop it first)"
  local durability="fsync = off
full_page_writes = off
shared_buffers = 32MB"
  if [ "${POSTHORN_PG_DURABLE:-0}" = 1 ]; then
    durability="fsync = on
full_page_writes = on
synchronous_commit = on
shared_buffers = 128MB"
  fi
  # Rewritten at each start: the port may differ from the last one.
  cat >"$dir/data/posthorn_test.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '${dir//\'/\'\'}'
$durability
max_connections = 200
EOF
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir/data/posthorn_test.conf"
  fi
  echo "$port" >"$dir/port"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -t "$wait_seconds" -s start >&2 ||
    { tail -n 20 "$dir/server.log" >&2
      die "the server did not start (log: $dir/server.log)"; }
  dsn_of postgres
}

cmd_stop() {
  local mode=${1:-fast} bin
  case "$mode" in fast|immediate) ;; *) die "MODE is fast or immediate: $mode" ;; esac
  running || return 0
  bin=$(bindir)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t "$wait_seconds" \
    -s stop >&2 && return 0
  # Not stopped in time: do not leave it behind.
  local pid
  pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  die "pg_ctl stop failed; killed the postmaster ${pid:-(no pid)}"
}

cmd_createdb() {
  local db=$1
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] ||
    die "DB must match [a-z_][a-z0-9_]*: $db"
  local bin
  bin=$(bindir)
  "$bin/psql" -X -q -v ON_ERROR_STOP=1 -d "$(dsn_of postgres)" \
    -c "CREATE DATABASE $db TEMPLATE template0" >&2 ||
    die "CREATE DATABASE $db failed"
  dsn_of "$db"
}

usage() {
  die "usage: pg_cluster.sh start DIR PORT | stop DIR [fast|immediate]" \
      "| remove DIR | dsn DIR [DB] | createdb DIR DB"
}

[ $# -ge 2 ] || usage
command=$1
dir=$2
shift 2
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
dir=${dir%/}

case "$command" in
  start)
    [ $# -eq 1 ] || usage
    cmd_start "$1" ;;
  stop)
    [ $# -le 1 ] || usage
    cmd_stop "${1:-fast}" ;;
  remove)
    [ $# -eq 0 ] || usage
    [ -d "$dir" ] || exit 0
    [ -f "$dir/$marker" ] ||
      die "$dir: not made by pg_cluster.sh; not removing it"
    cmd_stop fast
    rm -rf "$dir" ;;
  dsn)
    [ $# -le 1 ] || usage
    dsn_of "${1:-postgres}" ;;
  createdb)
    [ $# -eq 1 ] || usage
    cmd_createdb "$1" ;;
  *) usage ;;
esac
