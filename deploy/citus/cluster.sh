#!/usr/bin/env bash
# A throw-away local Citus cluster for tests: a coordinator and two workers, each its own initdb on its
# own port under one directory.
#   cluster.sh build          install Citus into this PostgreSQL if missing (source: $CITUS_SRC)
#   cluster.sh start DIR      create and start the three nodes under DIR (ports $CITUS_PORT..+2)
#   cluster.sh stop DIR       stop them and delete DIR
# Nodes are joined per database (Citus keeps its metadata in each database): core.testing does that for
# the database a test run creates. initdb and postgres refuse to run as root, so as root the nodes run
# as the postgres OS user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${CITUS_PORT:-55432}"
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
  local i p
  for i in 0 1 2; do
    p=$((port + i))
    as_pg "$bindir/initdb" -D "$dir/n$i" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/n$i/postgresql.conf" <<EOF
shared_preload_libraries = 'citus'
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
max_prepared_transactions = 100
citus.shard_count = 8
EOF
    as_pg "$bindir/pg_ctl" -D "$dir/n$i" -l "$dir/n$i.log" -w start >/dev/null
  done
  for i in 0 1 2; do
    "$bindir/pg_isready" -h 127.0.0.1 -p $((port + i)) -q
  done
  echo "citus cluster up: coordinator 127.0.0.1:$port, workers 127.0.0.1:$((port + 1)), 127.0.0.1:$((port + 2))"
}

stop() {
  local dir="$1" i
  for i in 0 1 2; do
    if [ -f "$dir/n$i/postmaster.pid" ]; then as_pg "$bindir/pg_ctl" -D "$dir/n$i" -m immediate -w stop >/dev/null || true; fi
  done
  rm -rf "$dir"
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?data directory}" ;;
  stop) stop "${2:?data directory}" ;;
  *) echo "usage: $0 build | start DIR | stop DIR" >&2; exit 2 ;;
esac
