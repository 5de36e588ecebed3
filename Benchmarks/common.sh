# Sourced by the benchmark scripts (compare.sh, introspect.sh, push.sh): from the repository
# root, copies the Authlib peer (../shared/bench, or $BENCH_DIR) to a fresh folder with its venv,
# builds the static release binary (scripts/build-release.sh), and defines the helpers
# (wait_port; cpu_ticks and wrk_cpu, the servers' CPU per request beside a wrk rate). Sets: root, out, bench, py, hp, pw.
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

# utime + stime, in clock ticks, of the given processes and their children.
cpu_ticks() {
  local total=0 p
  for p in "$@" $(for q in "$@"; do pgrep -P "$q" || true; done); do
    [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}

# wrk_cpu FILE WRK-ARGS...: wrk's lines into FILE, its JSON line with the CPU per request of the
# processes in $server_pids.
wrk_cpu() {
  local file=$1 before after
  shift
  before=$(cpu_ticks $server_pids)
  wrk "$@" >"$file"
  after=$(cpu_ticks $server_pids)
  python3 - "$file" $((after - before)) "$(getconf CLK_TCK)" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for i, line in enumerate(lines):
    if line.startswith("{"):
        run = json.loads(line)
        run["cpu_us_per_request"] = int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / max(run["requests"], 1)
        lines[i] = json.dumps(run)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
}
