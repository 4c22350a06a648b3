#!/usr/bin/env bash
# Starts (or stops) a private PostgreSQL cluster for tests and benchmarks.
#   .ci/postgres.sh start DIR   → prints the DATABASE_URL on stdout
#   .ci/postgres.sh stop DIR
# Installs Debian's postgresql when no server binaries are found. The cluster runs as the
# postgres user on a free loopback port, with durable commits (fsync on).
set -euo pipefail
action=${1:?start|stop}
dir=${2:?data directory}

find_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/pg_ctl" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "installing postgresql from Debian…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    as_postgres "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB -c fsync=on -c synchronous_commit=on\" start >/dev/null"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast stop >/dev/null" || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
