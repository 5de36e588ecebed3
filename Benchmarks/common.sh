# Sourced by the benchmark scripts (compare.sh, introspect.sh, push.sh): from the repository
# root, copies the Authlib peer (../shared/bench, or $BENCH_DIR) to a fresh folder with its venv,
# builds the static release binary (scripts/build-release.sh), and defines the helpers. Sets: root, out, bench, py, hp, pw.
# Usage: . Benchmarks/common.sh PREFIX
root=$PWD
out=$root/bench-out
mkdir -p "$out"
shared=${BENCH_DIR:-$root/../shared/bench}
bench=$(mktemp -d "/tmp/$1-XXXX")
cp -r "$shared"/. "$bench"/ && chmod -R u+w "$bench"
"$bench/setup.sh" >/dev/null
py=$bench/.venv-bench/bin/python
command -v wrk >/dev/null || { scripts/bootstrap.sh; apt-get install -y -qq wrk >/dev/null; }
hp=$(scripts/build-release.sh 2>/dev/null)   # the static release binary the README documents
pw=bench-password-123

wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
