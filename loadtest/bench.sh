#!/usr/bin/env bash
# Hot-path micro-benchmarks with allocations counted: builds the counting malloc
# (malloc-counter/malloc_counter.c) and runs `presence-loadtest bench` with it preloaded.
# Usage: loadtest/bench.sh [bench options, e.g. --filter deflate --json bench.json]
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${LOADTEST_SCRATCH:-.build-loadtest}
swift build -c release --product presence-loadtest --scratch-path "$SCRATCH" >&2
mkdir -p "$SCRATCH"
cc -O2 -shared -fPIC -o "$SCRATCH/libloadtest_malloc_counter.so" loadtest/malloc-counter/malloc_counter.c -ljemalloc
LD_PRELOAD="$PWD/$SCRATCH/libloadtest_malloc_counter.so" "$SCRATCH/release/presence-loadtest" bench "$@"
