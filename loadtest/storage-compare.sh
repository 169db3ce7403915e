#!/usr/bin/env bash
# The chat scenario (send → durable reply) on both storage backends, same machine, same
# users: a SQLite data directory, then a private PostgreSQL (scripts/postgres.sh).
#
#   loadtest/storage-compare.sh [PAIRS] [MESSAGES_PER_SECOND] [SECONDS]
#
# Needs the release builds (swift build -c release --product presenced / presencectl /
# presence-loadtest). Prints one line per backend from the load generator's JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
. loadtest/listening-port.sh
PAIRS=${1:-500} RATE=${2:-2000} SECONDS_=${3:-5}
BIN=.build/release
USERS=$((PAIRS * 2))

if [ -z "${PRESENCE_TEST_DATABASE_URL:-}" ]; then
  exec scripts/postgres.sh "$0" "$@"
fi

OUT=$(mktemp -d /tmp/storage-compare.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$OUT"' EXIT

run() {  # NAME, then the storage arguments for presencectl and presenced
  local name=$1; shift
  "$BIN/presencectl" seed-load --data-dir "$OUT/$name" --users "$USERS" --contacts 2 --seed 1 \
    --tokens "$OUT/$name.tokens" "$@" >/dev/null
  : >"$OUT/$name.log"  # exists before the server writes to it: the port is read from it below
  "$BIN/presenced" --port 0 --data-dir "$OUT/$name" --log-level info "$@" >"$OUT/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_for_port "$OUT/$name.log" || exit 1
  local port=$PORT
  "$BIN/presence-loadtest" chat --url "ws://127.0.0.1:$port/ws" --server-pid "$pid" --tokens "$OUT/$name.tokens" \
    --pairs "$PAIRS" --messages-per-second "$RATE" --seconds "$SECONDS_" --json "$OUT/$name.json" >"$OUT/$name.out" 2>&1 \
    || { tail -20 "$OUT/$name.out"; exit 1; }
  curl -s "http://127.0.0.1:$port/metrics" | grep -E "^presence_storage_commit" >"$OUT/$name.metrics" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$name" "$OUT/$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
lat = r.get("latency_us", {})
line = f"{name:10} {r.get('messages_per_second', 0):8.0f} msg/s  send→durable reply p50 {lat.get('p50')} µs  p99 {lat.get('p99')} µs  max {lat.get('max')} µs"
# The writer's group commits over the whole server life (sign-ins included), from /metrics.
metrics = {}
for text in open(path.replace(".json", ".metrics")):
    key, _, value = text.strip().rpartition(" ")
    metrics[key] = float(value)
count = metrics.get("presence_storage_commit_seconds_count", 0)
if count:
    line += f"  | {count:.0f} group commits, mean {1000 * metrics['presence_storage_commit_seconds_sum'] / count:.1f} ms"
print(line)
PY
}

echo "chat: $PAIRS pairs, $RATE msg/s offered, $SECONDS_ s"
run sqlite
run postgresql --database-url "$PRESENCE_TEST_DATABASE_URL"
