#!/usr/bin/env bash
# Approval → token latency with the push channel, beside the Authlib peer's polling, in one run
# (../shared/bench's driver, latency phase only; loopback). Hallpass is approved through its
# consent API with curl and one consent session (the approval hook of the peer is an HTTP call
# too); the figure that matters is from the approval's acknowledgement (committed) to the
# device holding its token.
# Usage: Benchmarks/push.sh [FLOWS]   → bench-out/push-*.json and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-60}
. Benchmarks/common.sh hallpass-push
for port in 8628 8080; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is already taken; stop what listens there" >&2; exit 1; fi
done
driver() { "$py" "$bench/bench_device_flow.py" --phases latency --flows "$flows" --flow-concurrency "$flows" \
             --approve-min 1 --approve-max 6 "$@"; }

PEER_RESET=1 PEER_DATA_DIR=$bench/peer-data "$py" "$bench/authlib_device_server.py" >"$out/push-peer.log" 2>&1 &
wait_port 8628; sleep 1
driver --base-url http://127.0.0.1:8628 --device-path /device_authorization --token-path /token \
  --approve-url 'http://127.0.0.1:8628/admin/decide?user_code={user_code}&decision={decision}' \
  --approve-header 'X-Admin-Token: peer-admin-secret' --out "$out/push-peer.json" 2>"$out/push-peer-driver.log" >/dev/null
kill "$(cat "$bench/peer-data/gunicorn.pid")" 2>/dev/null || true; sleep 2

mkdir -p "$bench/hp"
"$hp" users add alice --password-stdin --db "$bench/hp/h.db" <<<"$pw" >/dev/null
"$hp" serve --db "$bench/hp/h.db" --listen 127.0.0.1:8080 --no-ssh --demo --log-level warning >"$out/push-hallpass.log" 2>&1 &
hp_pid=$!
trap 'kill $hp_pid 2>/dev/null || true' EXIT
wait_port 8080
session=$(curl -s -X POST -H 'Content-Type: application/json' -d "{\"username\":\"alice\",\"password\":\"$pw\"}" \
  http://127.0.0.1:8080/consent/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"])')
driver --base-url http://127.0.0.1:8080 --device-path /oauth/device_authorization --token-path /oauth/token \
  --ws-url 'ws://127.0.0.1:8080/oauth/device/push' --ws-subscribe \
  --approve-cmd "curl -sf -o /dev/null -X POST -H 'Authorization: Bearer $session' -H 'Content-Type: application/json' -d '{{\"user_code\":\"{user_code}\"}}' http://127.0.0.1:8080/consent/{decision}" \
  --out "$out/push-hallpass.json" 2>"$out/push-hallpass-driver.log" >/dev/null
kill "$hp_pid"; wait "$hp_pid" 2>/dev/null || true
rm -rf "$bench"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print(f"{'server':<10} {'delivered via':<14} {'from ack p50':>13} {'p99':>9} {'from sent p50':>14} {'p99':>9} {'hook p50':>9}")
for name in ("peer", "hallpass"):
    a = json.load(open(f"{out}/push-{name}.json"))["approval_latency"]
    ack, sent, hook = a["approval_to_token_from_ack"], a["approval_to_token_from_sent"], a["approval_hook_roundtrip"]
    print(f"{name:<10} {json.dumps(a['delivered_via']):<14} {ack['p50_ms']:>10.1f} ms {ack['p99_ms']:>6.1f} ms "
          f"{sent['p50_ms']:>11.1f} ms {sent['p99_ms']:>6.1f} ms {hook['p50_ms']:>6.1f} ms")
PY
