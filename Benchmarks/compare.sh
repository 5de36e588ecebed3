#!/usr/bin/env bash
# Hallpass against the Authlib peer (../shared/bench), same machine, same run, loopback only.
# Per round and server: the shared driver (device authorization, paced polls, approval→token
# latency, peak RSS), then wrk for the rates the driver cannot reach: 20 s of device
# authorizations (the codes are kept), then 10 s of polls over those codes, each code no more
# often than every ~6 s, so every correct answer is authorization_pending.
# Three servers per round: the peer, one Hallpass replica on SQLite, and two Hallpass replicas on
# one PostgreSQL (a throwaway cluster this script starts) behind nginx, round-robin.
# Usage: Benchmarks/compare.sh [ROUNDS]   → bench-out/summary.json and a table on stdout.
#   HALLPASS_BASELINE=REV also measures that revision's release build ("hallpass-before", one
#   SQLite replica) in every round, for before/after figures from one run; COMPARE_SKIP_PG=1
#   leaves out the two-replica PostgreSQL setup; HALLPASS_BEFORE_BIN=PATH measures that binary as
#   "before" instead of building one. Each wrk line also gets the servers' CPU per request
#   (utime + stime of the server processes over the run: the peer's gunicorn and its workers,
#   the replicas without nginx), "cpu_us_per_request".
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
rm -rf bench-out
. Benchmarks/common.sh hallpass-bench
hp_after=$hp
if [ -n "${HALLPASS_BEFORE_BIN:-}" ]; then
  hp_before=$(realpath "$HALLPASS_BEFORE_BIN")
  HALLPASS_BASELINE=${HALLPASS_BASELINE:-$HALLPASS_BEFORE_BIN}
elif [ -n "${HALLPASS_BASELINE:-}" ]; then
  baseline=/tmp/hallpass-baseline-$(git rev-parse --short "$HALLPASS_BASELINE")
  [ -d "$baseline" ] || git worktree add -q --detach "$baseline" "$HALLPASS_BASELINE"
  (cd "$baseline" && swift build -c release --product hallpass >/dev/null)
  hp_before=$baseline/.build/release/hallpass
fi

start_peer() {
  PEER_RESET=1 PEER_DATA_DIR=$bench/peer-data "$py" "$bench/authlib_device_server.py" >"$out/peer.log" 2>&1 &
  wait_port 8628
  sleep 1
}
stop_peer() { kill "$(cat "$bench/peer-data/gunicorn.pid")" 2>/dev/null || true; sleep 2; }

start_hallpass() {
  rm -rf "$bench/hp" && mkdir -p "$bench/hp"
  "$hp" users add alice --password-stdin --db "$bench/hp/h.db" <<<"$pw" >/dev/null
  "$hp" serve --db "$bench/hp/h.db" --listen 127.0.0.1:8080 --no-ssh --demo --log-level warning >"$out/hallpass.log" 2>&1 &
  hp_pid=$!
  wait_port 8080
}
stop_hallpass() { kill "$hp_pid" 2>/dev/null || true; wait "$hp_pid" 2>/dev/null || true; }

# Two replicas on one PostgreSQL database behind nginx (Benchmarks/replicas.sh), the load
# balancer listening where the others do.
if [ -z "${COMPARE_SKIP_PG:-}" ]; then
  eval "$(scripts/throwaway-postgres.sh start)"
  trap 'scripts/throwaway-postgres.sh stop "$HALLPASS_TEST_POSTGRES_DIR"' EXIT
fi
. Benchmarks/replicas.sh
start_hallpass_pg() {  # round
  rm -rf "$bench/pg"
  pg_database "bench_$1"
  start_replicas "$bench/pg" hallpass-pg 8080
}
stop_hallpass_pg() { stop_replicas; }

measure() {  # name base device_path token_path approve-args...
  local name=$1 base=$2 dpath=$3 tpath=$4 round=$5; shift 5
  "$py" "$bench/bench_device_flow.py" --base-url "$base" --device-path "$dpath" --token-path "$tpath" \
      --flows 20 --approve-min 1 --approve-max 8 "$@" --out "$out/$name-driver-$round.json" 2>"$out/$name-driver-$round.log" >/dev/null || true
  sleep 2
  rm -f "$out/$name-codes".*
  wrk_cpu "$out/$name-wrk-da-$round.txt" -t2 -c64 -d20s -s Benchmarks/load/device_authorization.lua "$base" -- \
      demo-device "$dpath" "openid profile read write" "$out/$name-codes"
  cat "$out/$name-codes".[0-9]* >"$out/$name-codes.all"
  sleep 6
  wrk_cpu "$out/$name-wrk-poll-$round.txt" -t2 -c64 -d10s -s Benchmarks/load/poll.lua "$base" -- \
      "$out/$name-codes.all" 2 demo-device "$tpath"
}

for round in $(seq 1 "$rounds"); do
  echo "round $round: peer" >&2
  start_peer
  server_pids=$(cat "$bench/peer-data/gunicorn.pid")
  measure peer http://127.0.0.1:8628 /device_authorization /token "$round" \
      --approve-url 'http://127.0.0.1:8628/admin/decide?user_code={user_code}&decision={decision}' \
      --approve-header 'X-Admin-Token: peer-admin-secret'
  stop_peer
  if [ -n "${hp_before:-}" ]; then
    echo "round $round: hallpass before ($HALLPASS_BASELINE)" >&2
    hp=$hp_before
    start_hallpass
    server_pids=$hp_pid
    measure hallpass-before http://127.0.0.1:8080 /oauth/device_authorization /oauth/token "$round" \
        --approve-cmd "echo $pw | $hp approve --server http://127.0.0.1:8080 --user alice --password-stdin --code {user_code} --decision {decision}"
    stop_hallpass
    hp=$hp_after
  fi
  echo "round $round: hallpass" >&2
  start_hallpass
  server_pids=$hp_pid
  measure hallpass http://127.0.0.1:8080 /oauth/device_authorization /oauth/token "$round" \
      --approve-cmd "echo $pw | $hp approve --server http://127.0.0.1:8080 --user alice --password-stdin --code {user_code} --decision {decision}"
  stop_hallpass
  [ -n "${COMPARE_SKIP_PG:-}" ] && continue
  echo "round $round: hallpass, two replicas on PostgreSQL behind nginx" >&2
  start_hallpass_pg "$round"
  server_pids="$pg_a $pg_b"
  measure hallpass-pg http://127.0.0.1:8080 /oauth/device_authorization /oauth/token "$round" \
      --server-pid "$pg_a" --server-pid "$pg_b" \
      --approve-cmd "echo $pw | $hp approve --server http://127.0.0.1:8080 --user alice --password-stdin --code {user_code} --decision {decision}"
  stop_hallpass_pg
done
rm -rf "$bench"
python3 Benchmarks/summarize.py "$out" "$rounds"
