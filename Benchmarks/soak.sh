#!/usr/bin/env bash
# Soak (issue 20, item 4): a mixed, bounded load on loopback for MINUTES (default 10), first
# against one replica on SQLite, then against two replicas on one throwaway PostgreSQL behind
# nginx (Benchmarks/replicas.sh; SSH on replica a). Benchmarks/soak.py makes the load and judges
# it (its header has the whole mix): device authorizations, polls at the interval, approvals and
# denials through the consent API on logged-in sessions, redemptions, refreshes with rotation,
# introspections by a resource server, push sockets held to the outcome or closed early, and an
# OpenSSH session to the consent screen every 30 s; at most SOAK_RATE (200) requests/s in all.
# Every 10 s it samples each replica's RSS and open descriptors and the window's req/s, p50/p99
# latency and 5xx answers.
# Warm-up is the first 2 minutes or 20 % of the run, whichever is shorter; at its end and at the
# end of the run the load pauses, the flows in flight finish, every connection closes and each
# replica is measured at rest. A setup fails on any 5xx, any lost approval (approved but never
# redeemed), any answer the protocol does not allow, RSS at rest at the end over 1.10 × RSS at
# rest after warm-up, or descriptors at rest at the end over those after warm-up + 5 (established
# HTTP and database connections left out: a load balancer's kept-alive connections and the
# PostgreSQL pool come and go without leaking; soak.py says why 5).
# By hand, not in CI: about MINUTES + 1 minutes per setup. soak.py needs only the system python3
# (standard library: no venv); nginx, PostgreSQL and the OpenSSH client come from scripts/bootstrap.sh.
# Usage: Benchmarks/soak.sh [MINUTES]   (fractions work: 0.5)
#   → bench-out/soak-sqlite.{json,png}, bench-out/soak-pg.{json,png}, a Markdown table per setup
#     on stdout; exit 1 if a setup failed (both run either way).
#   HALLPASS_BIN=PATH: that binary instead of the release build (scripts/build-release.sh);
#   SOAK_SKIP_PG=1: the SQLite setup only; SOAK_RATE: requests/s in all (200);
#   SOAK_PORT: HTTP port (18080; for PostgreSQL nginx's, the replicas on +1 and +2);
#   SOAK_SSH_PORT: the SSH front's port (18022); SOAK_WARMUP: warm-up in seconds instead of the rule
#   above.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "usage: Benchmarks/soak.sh [MINUTES]" >&2; exit 64; }
port=${SOAK_PORT:-18080}
ssh_port=${SOAK_SSH_PORT:-18022}
rate=${SOAK_RATE:-200}
for p in "$port" $((port + 1)) $((port + 2)) "$ssh_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "soak: port $p is already taken; stop what listens there or set SOAK_PORT / SOAK_SSH_PORT" >&2
    exit 1
  fi
done
scripts/bootstrap.sh              # nginx, PostgreSQL, the OpenSSH client: installs only what is missing
if [ -n "${HALLPASS_BIN:-}" ]; then hp=$(realpath "$HALLPASS_BIN"); else hp=$(scripts/build-release.sh); fi
out=$PWD/bench-out
mkdir -p "$out"
pw=soak-password-123
work=$(mktemp -d /tmp/hallpass-soak-XXXX)
pg_dir=""
running=()
cleanup() {
  for pid in "${running[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${running[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_dir" ]; then scripts/throwaway-postgres.sh stop "$pg_dir"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# alice's SSH key (soak.py logs in with it) and the introspecting resource server.
ssh-keygen -q -t ed25519 -N "" -C soak -f "$work/id"
export SOAK_PASSWORD=$pw SOAK_RS_SECRET=soak-resource-server-secret
accounts() {  # DB
  "$hp" users add-key alice --db "$1" <"$work/id.pub" >/dev/null
  "$hp" clients add rs --name "Resource server" --secret-stdin --scopes read --introspect --db "$1" <<<"$SOAK_RS_SECRET" >/dev/null
}
soak() {  # SETUP soak.py-arguments…
  local setup=$1; shift
  echo "soak: $setup, $minutes min" >&2
  python3 Benchmarks/soak.py --setup "$setup" --base "http://127.0.0.1:$port" --minutes "$minutes" --rate "$rate" \
    --ssh-port "$ssh_port" --ssh-key "$work/id" --out "$out" ${SOAK_WARMUP:+--warmup "$SOAK_WARMUP"} "$@"
}
status=0

# One replica on SQLite (the SSH host key beside the database).
mkdir -p "$work/sqlite"
"$hp" users add alice --password-stdin --db "$work/sqlite/h.db" <<<"$pw" >/dev/null
accounts "$work/sqlite/h.db"
"$hp" serve --db "$work/sqlite/h.db" --listen "127.0.0.1:$port" --ssh-listen "127.0.0.1:$ssh_port" --demo \
  --log-level warning >"$out/soak-sqlite.log" 2>&1 &
sqlite_pid=$!
running+=("$sqlite_pid")
wait_port "$port" || { echo "soak: the server did not start (bench-out/soak-sqlite.log)" >&2; exit 1; }
wait_port "$ssh_port"
soak sqlite --server "sqlite=$sqlite_pid=http://127.0.0.1:$port" || status=1
kill "$sqlite_pid" 2>/dev/null || true
wait "$sqlite_pid" 2>/dev/null || true

# Two replicas on one throwaway PostgreSQL behind nginx.
if [ -z "${SOAK_SKIP_PG:-}" ]; then
  eval "$(scripts/throwaway-postgres.sh start)"
  pg_dir=$HALLPASS_TEST_POSTGRES_DIR
  . Benchmarks/replicas.sh
  pg_database soak
  accounts "$pg_url"
  start_replicas "$work/pg" soak-pg "$port" "127.0.0.1:$ssh_port"
  running+=("$nginx_pid" "$pg_a" "$pg_b")
  wait_port "$ssh_port"
  db_port=${pg_url##*:} && db_port=${db_port%%/*}
  soak pg --server "pg-a=$pg_a=http://127.0.0.1:$((port + 1))" --server "pg-b=$pg_b=http://127.0.0.1:$((port + 2))" \
    --db-port "$db_port" || status=1
  stop_replicas
fi
exit "$status"
