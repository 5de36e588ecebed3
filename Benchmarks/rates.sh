#!/usr/bin/env bash
# The paths a deployment spends most on, Hallpass against the Authlib peer (../shared/bench) in the
# same run, loopback only, each with the server's CPU per request (utime + stime of the server's
# processes over the wrk run, divided by the requests; the peer's are gunicorn's master and its
# two workers):
#   introspection   RFC 7662, one live access token, the resource server authenticated by
#                   HTTP Basic (Hallpass: a generated secret); good = 200 with "active": true
#   refresh         the refresh-token grant with rotation: each request redeems a token never
#                   presented before (load/refresh.lua), from a pool of device flows made first
#                   (Benchmarks/token_pool.py) with scope "read"; good = 200 with a new
#                   refresh_token
#   refresh-oidc    Hallpass only: the same with scope "openid read", so every answer also
#                   carries a new ID token, signed RS256 (OIDC's default; the peer issues none)
#   approvals       Hallpass only: POST /consent/approve, the TUI's call, each for a different
#                   pending user code, all with one consent session
#   code exchange   Hallpass only: the authorization code grant with PKCE, each request a
#                   different approved code (the peer has no authorization endpoint)
# wrk runs with 2 threads and 32 connections: 10 s for introspection and refresh, 5 s for
# approvals, and for code exchange as long as its pool lasts (RATES_CODES codes, default 6,000;
# the script says so when a pool ran out, which shows as "other" answers).
# Usage: Benchmarks/rates.sh [ROUNDS]   → bench-out/rates-*.json and a table of medians on stdout.
#   HALLPASS_BIN=PATH measures that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
pool=${RATES_POOL:-400}
codes=${RATES_CODES:-6000}
. Benchmarks/common.sh hallpass-rates
trap 'rm -rf "$bench"' EXIT
hp=${HALLPASS_BIN:-$hp}

# run NAME ROUND "PIDS" WRK-ARGS...: one wrk run; its JSON line, with the CPU per request of
# PIDS (common.sh's wrk_cpu), in rates-NAME-ROUND.json.
run() {
  local name=$1 round=$2
  server_pids=$3
  shift 3
  wrk_cpu "$out/rates-$name-$round.txt" "$@"
  grep '^{' "$out/rates-$name-$round.txt" >"$out/rates-$name-$round.json"
  cat "$out/rates-$name-$round.json" >&2
}

basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }

measure_peer() {  # round
  local base=http://127.0.0.1:8628 round=$1 master
  PEER_RESET=1 PEER_DATA_DIR=$bench/peer-data "$py" "$bench/authlib_device_server.py" >"$out/peer.log" 2>&1 &
  wait_port 8628; sleep 1
  master=$(cat "$bench/peer-data/gunicorn.pid")
  python3 Benchmarks/token_pool.py device-pool "$base" "$pool" "$bench/peer-refresh" --device-path /device_authorization \
    --token-path /token --admin-url "$base/admin/decide?user_code={user_code}&decision={decision}" \
    --admin-header 'X-Admin-Token: peer-admin-secret' --scope read
  run peer-introspect "$round" "$master" -t2 -c32 -d10s -s Benchmarks/load/introspect.lua "$base" -- \
    /introspect "$(cat "$bench/peer-refresh.access")" "$(basic demo-rs demo-rs-secret)"
  run peer-refresh "$round" "$master" -t2 -c32 -d10s -s Benchmarks/load/refresh.lua "$base" -- \
    "$bench/peer-refresh" 2 demo-device /token
  kill "$master" 2>/dev/null || true; sleep 2
}

measure_hallpass() {  # round
  local base=http://127.0.0.1:8080 round=$1 db=$bench/hp/h.db secret pid session
  rm -rf "$bench/hp" && mkdir -p "$bench/hp"
  "$hp" users add alice --password-stdin --db "$db" <<<"$pw" >/dev/null
  secret=$("$hp" clients add rs --name "Resource server" --generate-secret --scopes read --introspect --db "$db" \
    | sed -n 's/^client_secret: //p')
  "$hp" clients add cli --name "Team CLI" --public --scopes "openid read" --grant authorization_code \
    --grant refresh_token --redirect-uri http://127.0.0.1:45678/callback --db "$db" >/dev/null
  "$hp" serve --db "$db" --listen 127.0.0.1:8080 --no-ssh --demo --log-level warning >"$out/hallpass-rates.log" 2>&1 &
  pid=$!
  wait_port 8080
  python3 Benchmarks/token_pool.py device-pool "$base" "$pool" "$bench/hp-refresh" --password "$pw" --scope read
  python3 Benchmarks/token_pool.py device-pool "$base" "$pool" "$bench/hp-refresh-oidc" --password "$pw" --scope "openid read"
  run hallpass-introspect "$round" "$pid" -t2 -c32 -d10s -s Benchmarks/load/introspect.lua "$base" -- \
    /oauth/introspect "$(cat "$bench/hp-refresh.access")" "$(basic rs "$secret")"
  run hallpass-refresh "$round" "$pid" -t2 -c32 -d10s -s Benchmarks/load/refresh.lua "$base" -- \
    "$bench/hp-refresh" 2 demo-device /oauth/token
  run hallpass-refresh-oidc "$round" "$pid" -t2 -c32 -d10s -s Benchmarks/load/refresh.lua "$base" -- \
    "$bench/hp-refresh-oidc" 2 demo-device /oauth/token
  # Pending requests to approve: 5 s of device authorizations, their user codes kept.
  rm -f "$bench/user-codes".*
  wrk -t2 -c32 -d5s -s Benchmarks/load/device_authorization.lua "$base" -- demo-device /oauth/device_authorization \
    "openid read" "$bench/user-codes" user_code >/dev/null
  cat "$bench/user-codes".[0-9]* >"$bench/user-codes.all"
  session=$(python3 Benchmarks/token_pool.py login "$base" --password "$pw")
  run hallpass-approve "$round" "$pid" -t2 -c32 -d5s -s Benchmarks/load/consent_approve.lua "$base" -- \
    "$bench/user-codes.all" 2 "$session"
  python3 Benchmarks/token_pool.py code-pool "$base" "$codes" "$bench/codes" --password "$pw"
  run hallpass-exchange "$round" "$pid" -t2 -c32 -d2s -s Benchmarks/load/code_exchange.lua "$base" -- \
    "$bench/codes" 2 /oauth/token http://127.0.0.1:45678/callback
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

for round in $(seq 1 "$rounds"); do
  echo "round $round: peer" >&2
  measure_peer "$round"
  echo "round $round: hallpass" >&2
  measure_hallpass "$round"
done

python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def runs(name):
    return [json.load(open(f"{out}/rates-{name}-{r}.json")) for r in range(1, rounds + 1)]
print("| path | peer /s | peer µs CPU | Hallpass /s | Hallpass µs CPU | ratio | Hallpass p50 ms | runs (Hallpass) | other answers |")
print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
for path, peer in [("introspect", True), ("refresh", True), ("refresh-oidc", False), ("approve", False), ("exchange", False)]:
    hp = runs(f"hallpass-{path}")
    rate = statistics.median(r["req_per_s"] for r in hp)
    cpu = statistics.median(r["cpu_us_per_request"] for r in hp)
    other = sum(r["other"] + r["socket_errors"] for r in hp)
    cells = ["", "", ""]
    if peer:
        pr = runs(f"peer-{path}")
        prate = statistics.median(r["req_per_s"] for r in pr)
        other += sum(r["other"] + r["socket_errors"] for r in pr)
        cells = [f"{prate:,.0f}", f"{statistics.median(r['cpu_us_per_request'] for r in pr):,.0f}", f"{rate / prate:.2f}×"]
    print(f"| {path} | {cells[0]} | {cells[1]} | {rate:,.0f} | {cpu:,.0f} | {cells[2]} | "
          f"{statistics.median(r['p50_ms'] for r in hp):.2f} | {' / '.join(format(r['req_per_s'], ',.0f') for r in hp)} | {other} |")
PY
