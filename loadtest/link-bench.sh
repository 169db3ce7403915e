#!/usr/bin/env bash
# The node-to-node link's throughput on loopback: starts a private redis-server (no
# persistence, 127.0.0.1, a free port), runs `presence-loadtest link` against it (two
# NodeLinks, each on its own ClusterLoop, frames from node 1 to node 2), then prints the
# redis-server's CPU seconds over the whole run. Stops the server even on failure.
# Usage: loadtest/link-bench.sh [link options, e.g. --frame-sizes 100,2048 --seconds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${LOADTEST_SCRATCH:-.build-loadtest}
swift build -c release --product presence-loadtest --scratch-path "$SCRATCH" >&2
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" --daemonize no >"$DIR/redis.out" 2>&1 &
REDIS=$!
trap 'kill "$REDIS" 2>/dev/null; wait "$REDIS" 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
"$SCRATCH/release/presence-loadtest" link --redis-url "redis://127.0.0.1:$PORT" "$@"
TICKS=$(getconf CLK_TCK)
awk -v t="$TICKS" '{ printf "redis-server CPU over the run: %.2f s (user+system)\n", ($14 + $15) / t }' "/proc/$REDIS/stat"
