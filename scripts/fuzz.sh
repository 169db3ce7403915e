#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer and runs each for a while.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
#
# Corpora live in .build-fuzz/corpus/<target> (kept between runs); a crash leaves a
# crash-* file in the working directory and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
export SWIFT_BACKTRACE=enable=no   # a backtrace after a fuzzer crash can hang for minutes
for target in fuzz-frame-decoder fuzz-handshake fuzz-cluster-wire; do
  swift build -c release --scratch-path .build-fuzz --product "$target" \
    --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address >/dev/null
  corpus=".build-fuzz/corpus/$target"
  mkdir -p "$corpus"
  echo "== $target: $seconds s"
  ".build-fuzz/release/$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$corpus" 2>&1 \
    | grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done" || true
  [ -z "$(ls crash-* 2>/dev/null)" ] || { echo "crash found"; exit 1; }
done
