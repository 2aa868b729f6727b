#!/usr/bin/env bash
# A throw-away local Citus cluster for tests: a coordinator and two workers, each its own initdb on its
# own port under one directory.
#   cluster.sh build          install Citus into this PostgreSQL if missing (source: $CITUS_SRC)
#   cluster.sh start DIR      create and start the nodes under DIR (ports $CITUS_PORT..+N)
#   cluster.sh stop DIR       stop them and delete DIR
#   cluster.sh node DIR I stop|start   stop or start node I alone (1, 2: the workers; a fault drill)
#   CITUS_WORKERS=1|2         how many workers start creates (default 2)
#   CITUS_STAT_STATEMENTS=1   preload pg_stat_statements, which citus_stat_statements needs
# Nodes are joined per database (Citus keeps its metadata in each database): core.testing does that for
# the database a test run creates. initdb and postgres refuse to run as root, so as root the nodes run
# as the postgres OS user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${CITUS_PORT:-55432}"
workers="${CITUS_WORKERS:-2}"
bindir="$(pg_config --bindir)"
libdir="$(pg_config --pkglibdir)"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

build() {
  if [ -f "$libdir/citus.so" ]; then return 0; fi
  # The vendored source sits in ../shared/vendor beside the checkout (or beside a worktree's parent).
  local root src="${CITUS_SRC:-}"
  root="$(cd "$here/../.." && pwd)"
  if [ -z "$src" ]; then
    for src in "$root/../shared/vendor" "$root/../../shared/vendor"; do [ -d "$src" ] && break; done
  fi
  if [ -d "$src" ]; then src="$src/citus-13.2.2.tar.gz"; fi
  [ -f "$src" ] || { echo "no Citus source at $src (set CITUS_SRC to the tarball)" >&2; exit 1; }
  local build_script
  build_script="$(dirname "$src")/build-citus.sh"
  if [ -x "$build_script" ]; then "$build_script"; return; fi
  echo "no build-citus.sh beside $src" >&2; exit 1
}

start() {
  local dir="$1"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  local i p preload=citus
  # pg_stat_statements after citus: Citus's planner hooks must run first.
  local track=none
  if [ "${CITUS_STAT_STATEMENTS:-0}" = 1 ]; then preload="citus,pg_stat_statements"; track=all; fi
  for i in $(seq 0 "$workers"); do
    p=$((port + i))
    as_pg "$bindir/initdb" -D "$dir/n$i" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/n$i/postgresql.conf" <<EOF
shared_preload_libraries = '$preload'
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
# Shard moves copy with logical replication (force_logical, or auto's catch-up): it needs these, and
# Citus's own decoder plugin for its shard names.
wal_level = logical
max_wal_senders = 20
max_replication_slots = 20
max_logical_replication_workers = 8
max_worker_processes = 24
max_prepared_transactions = 100
citus.shard_count = 8
citus.stat_statements_track = '$track'
EOF
    as_pg "$bindir/pg_ctl" -D "$dir/n$i" -l "$dir/n$i.log" -w start >/dev/null
  done
  local list=""
  for i in $(seq 0 "$workers"); do
    "$bindir/pg_isready" -h 127.0.0.1 -p $((port + i)) -q
    [ "$i" = 0 ] || list="$list 127.0.0.1:$((port + i))"
  done
  echo "citus cluster up: coordinator 127.0.0.1:$port, workers$list"
}

stop() {
  local dir="$1" i
  for i in 0 1 2 3 4; do
    if [ -f "$dir/n$i/postmaster.pid" ]; then as_pg "$bindir/pg_ctl" -D "$dir/n$i" -m immediate -w stop >/dev/null || true; fi
  done
  rm -rf "$dir"
}

node() {
  local dir="$1" i="$2" action="$3"
  [ -d "$dir/n$i" ] || { echo "no node $i under $dir" >&2; exit 1; }
  case "$action" in
    # immediate: as if the machine died (no shutdown checkpoint, clients cut off).
    stop) as_pg "$bindir/pg_ctl" -D "$dir/n$i" -m immediate -w stop >/dev/null ;;
    start) as_pg "$bindir/pg_ctl" -D "$dir/n$i" -l "$dir/n$i.log" -w start >/dev/null ;;
    *) echo "node: stop or start" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?data directory}" ;;
  stop) stop "${2:?data directory}" ;;
  node) node "${2:?data directory}" "${3:?node number}" "${4:?stop or start}" ;;
  *) echo "usage: $0 build | start DIR | stop DIR | node DIR I stop|start" >&2; exit 2 ;;
esac
