#!/usr/bin/env bash
# Introspection by an authenticated resource server (RFC 7662, HTTP Basic), Hallpass against the
# Authlib peer (../shared/bench) in the same run, loopback only. Each server first completes one
# device flow to get a live access token; then wrk introspects that token for 10 s (2 threads,
# 32 connections), and every answer must be 200 with "active":true. Hallpass is measured with a
# secret the operator chose (Argon2id at rest, remembered for a minute once verified) and with a
# generated one (keyed hash at rest); the peer stores its secret in clear (hmac.compare_digest).
# Usage: Benchmarks/introspect.sh [ROUNDS]   → bench-out/introspect-*.json and medians on stdout.
#   HALLPASS_BEFORE_BIN=PATH also measures another build (e.g. the baseline compare.sh made) in
#   every round, with the chosen secret.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
. Benchmarks/common.sh hallpass-bench
trap 'rm -rf "$bench"' EXIT
chosen=resource-server-secret-0123456789
field() { "$py" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# One device flow: device authorization, approval (the command in $3, {code} replaced), a poll
# after the interval. Prints the access token.
live_token() {  # base device_path token_path approve-command
  local base=$1 answer device user
  answer=$(curl -s -X POST "$base$2" -d client_id=demo-device -d 'scope=openid read')
  device=$(field device_code <<<"$answer"); user=$(field user_code <<<"$answer")
  eval "${4//\{code\}/$user}" >/dev/null
  sleep 5.5
  curl -s -X POST "$base$3" -d grant_type=urn:ietf:params:oauth:grant-type:device_code \
       -d client_id=demo-device -d "device_code=$device" | field access_token
}

run_wrk() {  # name round base path token id secret
  local credentials
  credentials=$(printf '%s:%s' "$6" "$7" | base64 -w0)
  wrk -t2 -c32 -d10s -s Benchmarks/load/introspect.lua "$3" -- "$4" "$5" "$credentials" \
    | tail -n 1 >"$out/introspect-$1-$2.json"
  cat "$out/introspect-$1-$2.json" >&2
}

# One Hallpass server from binary $2 on a fresh database; introspections with the chosen secret
# (as "$1-chosen", or "$1" for a baseline) and, if the binary can make one, a generated secret.
measure_hallpass() {  # name binary round
  local name=$1 bin=$2 round=$3 db=$bench/hp/h.db generated=""
  rm -rf "$bench/hp" && mkdir -p "$bench/hp"
  "$bin" users add alice --password-stdin --db "$db" <<<"$pw" >/dev/null
  "$bin" clients add rs-chosen --name "Resource server" --secret-stdin --scopes read --introspect --db "$db" <<<"$chosen" >/dev/null
  if [ "$name" = hallpass ]; then
    generated=$("$bin" clients add rs-generated --name "Resource server" --generate-secret --scopes read --introspect --db "$db" \
      | sed -n 's/^client_secret: //p')
  fi
  "$bin" serve --db "$db" --listen 127.0.0.1:8080 --no-ssh --demo --log-level warning >"$out/$name.log" 2>&1 &
  local pid=$!
  wait_port 8080
  token=$(live_token http://127.0.0.1:8080 /oauth/device_authorization /oauth/token \
    "echo $pw | $bin approve --server http://127.0.0.1:8080 --user alice --password-stdin --code {code} --decision approve")
  if [ -n "$generated" ]; then
    run_wrk "$name-chosen" "$round" http://127.0.0.1:8080 /oauth/introspect "$token" rs-chosen "$chosen"
    run_wrk "$name-generated" "$round" http://127.0.0.1:8080 /oauth/introspect "$token" rs-generated "$generated"
  else
    run_wrk "$name" "$round" http://127.0.0.1:8080 /oauth/introspect "$token" rs-chosen "$chosen"
  fi
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

names=(peer hallpass-chosen hallpass-generated)
[ -n "${HALLPASS_BEFORE_BIN:-}" ] && names+=(hallpass-before)
for round in $(seq 1 "$rounds"); do
  echo "round $round: peer" >&2
  PEER_RESET=1 PEER_DATA_DIR=$bench/peer-data "$py" "$bench/authlib_device_server.py" >"$out/peer.log" 2>&1 &
  wait_port 8628; sleep 1
  token=$(live_token http://127.0.0.1:8628 /device_authorization /token \
    "curl -s -X POST -H 'X-Admin-Token: peer-admin-secret' 'http://127.0.0.1:8628/admin/decide?user_code={code}&decision=approve'")
  run_wrk peer "$round" http://127.0.0.1:8628 /introspect "$token" demo-rs demo-rs-secret
  kill "$(cat "$bench/peer-data/gunicorn.pid")" 2>/dev/null || true; sleep 2
  if [ -n "${HALLPASS_BEFORE_BIN:-}" ]; then
    echo "round $round: hallpass before ($HALLPASS_BEFORE_BIN)" >&2
    measure_hallpass hallpass-before "$HALLPASS_BEFORE_BIN" "$round"
  fi
  echo "round $round: hallpass" >&2
  measure_hallpass hallpass "$hp" "$round"
done

python3 - "$out" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = {}
for name in names:
    runs = [json.load(open(f"{out}/introspect-{name}-{r}.json")) for r in range(1, rounds + 1)]
    bad = sum(r["other"] + r["socket_errors"] for r in runs)
    rows[name] = statistics.median(r["req_per_s"] for r in runs)
    print(f"{name:20s} median {rows[name]:9.1f} introspections/s  p50 {statistics.median(r['p50_ms'] for r in runs):.2f} ms"
          f"  runs {[round(r['req_per_s']) for r in runs]}  not active:true: {bad}")
for name in names[1:]:
    print(f"{name} / peer = {rows[name] / rows['peer']:.2f}")
PY
