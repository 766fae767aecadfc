#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the tests that need one.
#   .ci/postgres.sh start   -> prints postgresql://postgres@127.0.0.1:PORT/postgres
#   .ci/postgres.sh stop
# PostgreSQL refuses to run as root: as root, the server runs as the user "pgtest".
set -euo pipefail
cmd=${1:-start}
port=${PGPORT:-55432}
data=${RESEARCH_PG_DIR:-/tmp/research-pg}
if [ "$(id -u)" = 0 ]; then
  user=pgtest
  id -u "$user" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$user"
  run=(runuser -u "$user" --)
else
  user=$(id -un)
  run=()
fi
case "$cmd" in
  start)
    if [ -f "$data/postmaster.pid" ]; then "${run[@]}" pg_ctl -D "$data" -m fast -w stop >/dev/null || true; fi
    rm -rf "$data"
    mkdir -p "$data"
    chown "$user" "$data"
    "${run[@]}" initdb -D "$data" -U postgres --auth=trust -E UTF8 >"$data.init.log" 2>&1
    "${run[@]}" pg_ctl -D "$data" -o "-h 127.0.0.1 -p $port -k $data -c max_connections=200" \
      -l "$data/server.log" -w start >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -d "$data" ]; then "${run[@]}" pg_ctl -D "$data" -m fast -w stop >/dev/null || true; fi
    rm -rf "$data" "$data.init.log"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
