#!/usr/bin/env bash
# Verified requests per second on Examples/resource-server (issue 16), release builds, loopback
# only, in one run: the same Hummingbird app's open route (/health, no authentication), then
# GET /api/notes with a real Hallpass access token in JWT mode (AccessTokenVerifier: signature
# and claims on every request), in DPoP mode (the same verifier, a DPoP-bound token and a fresh
# proof per request, made beforehand by Benchmarks/dpop_proofs.py: proof signature, ath, cnf.jkt
# and replay memory on every request) and in introspection mode (IntrospectionVerifier, 5 s cache).
# wrk: 2 threads, 32 connections, 10 s per case; every answer must be 2xx.
# Usage: Benchmarks/resource-server.sh [ROUNDS]   → bench-out/resource-server-*.txt, medians on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product hallpass >/dev/null
swift build -c release --product hallpass-resource-example >/dev/null
hp=$PWD/.build/release/hallpass
example=$PWD/.build/release/hallpass-resource-example
out=$PWD/bench-out
mkdir -p "$out"
tmp=$(mktemp -d /tmp/hallpass-rs-bench-XXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

db=$tmp/hallpass.db
secret=resource-server-secret-0123456789
"$hp" scopes add read --description "Read your data" --db "$db" >/dev/null
"$hp" clients add tv --name TV --public --scopes read --grant device_code --interval 1s --db "$db" >/dev/null
echo "$secret" | "$hp" clients add rs --name RS --secret-stdin --scopes read --introspect --db "$db" >/dev/null
echo bench-password-123 | "$hp" users add alice --password-stdin --db "$db" >/dev/null
"$hp" serve --db "$db" --listen 127.0.0.1:18080 --no-ssh >"$tmp/serve.log" 2>&1 & pids+=($!)
wait_port 18080
issuer=http://127.0.0.1:18080

# One device flow for a live token: login in the background, approval through the CLI.
"$hp" login --server "$issuer" --client-id tv --json >"$tmp/login.out" 2>&1 & login=$!
for _ in $(seq 1 100); do code=$(grep -o '"user_code":"[A-Z-]*"' "$tmp/login.out" | cut -d'"' -f4 || true); [ -n "$code" ] && break; sleep 0.1; done
echo bench-password-123 | "$hp" approve --server "$issuer" --user alice --password-stdin --code "$code" --decision approve >/dev/null
wait "$login"
token=$(tail -1 "$tmp/login.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"]["access_token"])')
# And one bound to a DPoP key (RFC 9449), saved with its key file.
"$hp" login --server "$issuer" --client-id tv --dpop --token-file "$tmp/dpop.json" >"$tmp/dpop-login.out" 2>&1 & login=$!
for _ in $(seq 1 100); do code=$(grep -oE '[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}' "$tmp/dpop-login.out" | head -1 || true); [ -n "$code" ] && break; sleep 0.1; done
echo bench-password-123 | "$hp" approve --server "$issuer" --user alice --password-stdin --code "$code" --decision approve >/dev/null
wait "$login"
dpop_token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$tmp/dpop.json")
python=${HALLPASS_BENCH_PYTHON:-.venv-test/bin/python}
[ -x "$python" ] || { echo "DPoP mode needs Python with cryptography: scripts/bootstrap.sh --tests makes .venv-test" >&2; exit 1; }

"$example" --issuer "$issuer" --listen 127.0.0.1:19090 >"$tmp/jwt.log" 2>&1 & pids+=($!)
HALLPASS_INTROSPECTION_SECRET=$secret "$example" --issuer "$issuer" --listen 127.0.0.1:19091 --introspect-as rs \
  --introspection-cache 5 >"$tmp/introspect.log" 2>&1 & pids+=($!)
wait_port 19090; wait_port 19091
# Each must answer 200 before it is measured.
for url in http://127.0.0.1:19090/api/notes http://127.0.0.1:19091/api/notes; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
  [ "$status" = 200 ] || { echo "$url answered $status" >&2; exit 1; }
done
status=$(curl -s -o /dev/null -w '%{http_code}' -H @<("$hp" token --token-file "$tmp/dpop.json" --server "$issuer" \
  --url http://127.0.0.1:19090/api/notes) http://127.0.0.1:19090/api/notes)
[ "$status" = 200 ] || { echo "DPoP mode answered $status" >&2; exit 1; }

measure_dpop() {  # round: fresh proofs, then wrk with them
  local file=$out/resource-server-dpop-$1.txt
  "$python" Benchmarks/dpop_proofs.py "$tmp/dpop.dpop-key.json" "$dpop_token" http://127.0.0.1:19090/api/notes 300000 >"$tmp/proofs"
  PROOFS=$tmp/proofs TOKEN=$dpop_token THREADS=2 wrk -t2 -c32 -d10s -s Benchmarks/load/dpop.lua http://127.0.0.1:19090/api/notes >"$file"
  if grep -q 'Non-2xx' "$file"; then echo "dpop: non-2xx answers" >&2; cat "$file" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$file"
}

measure() {  # name url [header]
  local name=$1 url=$2 file=$out/resource-server-$1-$3.txt
  if [ -n "${4:-}" ]; then wrk -t2 -c32 -d10s -H "$4" "$url" >"$file"; else wrk -t2 -c32 -d10s "$url" >"$file"; fi
  if grep -q 'Non-2xx' "$file"; then echo "$name: non-2xx answers" >&2; cat "$file" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$file"
}

declare -A results
for round in $(seq 1 "$rounds"); do
  results[open]+="$(measure open http://127.0.0.1:19090/health "$round") "
  results[jwt]+="$(measure jwt http://127.0.0.1:19090/api/notes "$round" "Authorization: Bearer $token") "
  results[dpop]+="$(measure_dpop "$round") "
  results[introspection]+="$(measure introspection http://127.0.0.1:19091/api/notes "$round" "Authorization: Bearer $token") "
done
for name in open jwt dpop introspection; do
  python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[2:]]; print(f'{sys.argv[1]:14} median {statistics.median(v):>10,.0f} req/s   rounds: ' + ', '.join(f'{x:,.0f}' for x in v))" \
    "$name" ${results[$name]}
done
