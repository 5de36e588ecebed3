#!/usr/bin/env bash
# Runs the libFuzzer targets (Fuzz/Sources) for a bounded time each, from the committed seed
# corpus (Fuzz/corpus/TARGET), after replaying every saved regression input (Fuzz/regressions/TARGET).
#   scripts/fuzz.sh [SECONDS_EACH] [TARGET ...]     (default: 30 s, every target)
# A crash stops the run with the input saved as fuzz-crash-TARGET-*; add it to Fuzz/regressions/TARGET.
set -euo pipefail
# A crash prints Swift's message and stops; Swift's own backtracer would trip AddressSanitizer.
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(form user-code ssh-key theme ip http-head utf8 dpop)
HALLPASS_FUZZ=1 swift build --scratch-path .build-fuzz --product hallpass-fuzz \
  -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E 'error:|^Build' || true
bin=.build-fuzz/debug/hallpass-fuzz
[ -x "$bin" ] || { echo "fuzz: the fuzz build failed" >&2; exit 1; }
for target in "${targets[@]}"; do
  [ -d "Fuzz/corpus/$target" ] || { echo "fuzz: no target '$target'" >&2; exit 2; }
  # TOMLKit 0.6 never frees a parsed table (no deinit; LebJe/TOMLKit#26): LeakSanitizer would
  # report every theme input as a leak, and at exit the sum of them (libFuzzer's flag governs only
  # the first, ASAN_OPTIONS the second). Memory errors are still caught.
  leaks=1
  [ "$target" = theme ] && leaks=0
  if compgen -G "Fuzz/regressions/$target/*" >/dev/null; then
    ASAN_OPTIONS=detect_leaks=$leaks HALLPASS_FUZZ_TARGET=$target "$bin" -detect_leaks=$leaks -runs=0 Fuzz/regressions/"$target"/* 2>&1 | tail -n 1
  fi
  work=$(mktemp -d)
  echo "fuzz: $target for ${seconds} s"
  ASAN_OPTIONS=detect_leaks=$leaks HALLPASS_FUZZ_TARGET=$target "$bin" -detect_leaks=$leaks -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -artifact_prefix="fuzz-crash-$target-" -print_final_stats=1 "$work" "Fuzz/corpus/$target" 2>"$work.log" \
    || { tail -n 40 "$work.log" >&2; echo "fuzz: $target FAILED" >&2; exit 1; }
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|INFO: Loaded|#[0-9]+.*DONE' "$work.log" | tr '\n' ' '; echo
  echo "fuzz: $target passed ($(ls "$work" | wc -l) new inputs)"
  rm -rf "$work" "$work.log"
done
