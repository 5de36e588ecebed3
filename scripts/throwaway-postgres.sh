#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: a new cluster in a temporary directory, run by a non-root
# user, on a free loopback port, with a random password (SCRAM). Never touches a system cluster.
#
#   eval "$(scripts/throwaway-postgres.sh start)"   # exports HALLPASS_TEST_POSTGRES and HALLPASS_TEST_POSTGRES_DIR
#   scripts/throwaway-postgres.sh stop "$HALLPASS_TEST_POSTGRES_DIR"
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "throwaway-postgres: no PostgreSQL server (apt install postgresql)" >&2; exit 1; }

# initdb refuses to run as root: run the cluster as the package's 'postgres' user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  dir=$(mktemp -d /tmp/hallpass-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pwfile"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/initdb" -D "$dir/data" -U hallpass --pwfile="$dir/pwfile" --auth-host=scram-sha-256 \
    --auth-local=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/psql" -q -h "$dir" -p "$port" -U hallpass -d postgres -c "CREATE DATABASE hallpass" >/dev/null
  echo "export HALLPASS_TEST_POSTGRES='postgres://hallpass:$password@127.0.0.1:$port/hallpass'"
  echo "export HALLPASS_TEST_POSTGRES_DIR='$dir'"
  ;;
stop)
  dir=${2:?usage: throwaway-postgres.sh stop DIR}
  case "$dir" in /tmp/hallpass-pg.*) ;; *) echo "throwaway-postgres: refusing to remove $dir" >&2; exit 1 ;; esac
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: throwaway-postgres.sh start | stop DIR" >&2
  exit 64
  ;;
esac
