#!/usr/bin/env bash
# Footprint of hallpass binaries (issue 20): file size (as built and stripped), the shared
# objects it loads, and the idle RSS of `serve --demo` on loopback (after 5 s, median of 3
# starts), split into anonymous and file-backed pages from /proc/PID/status.
# Usage: Benchmarks/footprint.sh BINARY [BINARY…]   → one Markdown row per binary on stdout.
# Build the static release binary first: swift build -c release --static-swift-stdlib --product hallpass
set -euo pipefail
port=18080
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }

echo "| binary | size, MB (stripped) | shared objects | idle RSS, MiB | anonymous | file-backed |"
echo "|---|---|---|---|---|---|"
for bin in "$@"; do
  bin=$(realpath "$bin")
  size=$(stat -c %s "$bin")
  stripped=$(mktemp) && strip -o "$stripped" "$bin" && ssize=$(stat -c %s "$stripped") && rm -f "$stripped"
  libs=$(ldd "$bin" | grep -c '=>\|ld-linux' || true)
  totals=() anons=() files=()
  for _ in 1 2 3; do
    dir=$(mktemp -d)
    (cd "$dir" && exec "$bin" serve --demo --db "$dir/h.db" --listen 127.0.0.1:$port --no-ssh --log-level warning >"$dir/log" 2>&1) &
    pid=$!
    wait_port $port
    sleep 5
    totals+=("$(kib VmRSS $pid)") anons+=("$(kib RssAnon $pid)") files+=("$(kib RssFile $pid)")
    kill $pid; wait $pid 2>/dev/null || true
    rm -rf "$dir"
  done
  mib() { printf '%s\n' "$@" | median | awk '{printf "%.1f", $1 / 1024}'; }
  printf '| %s | %s (%s) | %s | %s | %s | %s |\n' "$bin" "$(awk -v b="$size" 'BEGIN {printf "%.1f", b / 1e6}')" \
    "$(awk -v b="$ssize" 'BEGIN {printf "%.1f", b / 1e6}')" \
    "$libs" "$(mib "${totals[@]}")" "$(mib "${anons[@]}")" "$(mib "${files[@]}")"
done
