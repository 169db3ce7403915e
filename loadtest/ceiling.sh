#!/usr/bin/env bash
# The raw epoll ceiling of issue 4's echo target: presenced --echo against
# loadtest/baseline/raw_echo.c (the least work a WebSocket echo server can do per message)
# in one presence-loadtest invocation per connection count, alternately inside each repeat.
#
# Usage: loadtest/ceiling.sh [OUTPUT_DIR]        (default reports/ceiling; ~1.5 min after builds)
#   CEILING_CONNECTIONS="100 1000"   connection counts, one invocation (fresh servers) each
#   CEILING_SECONDS=5 CEILING_REPEATS=3
#   CEILING_QUIET_WAIT=1200          before each invocation, wait up to this many seconds
#                                    (polling every 15 s) until no `wstest`, `swift-build`
#                                    or other `presence-loadtest` runs (a CI run); busy after
#                                    that: exit 3 without measuring. 0 skips the check.
#   CEILING_GW_PORT=18121 CEILING_RAW_PORT=18122   the two servers' ports
# Prints each invocation's summary and then a table with the ratio presenced / ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-reports/ceiling}
SCRATCH=${LOADTEST_SCRATCH:-.build-loadtest}
CONNECTIONS=${CEILING_CONNECTIONS:-100 1000}
SECONDS_PER_RUN=${CEILING_SECONDS:-5}
REPEATS=${CEILING_REPEATS:-3}
QUIET_WAIT=${CEILING_QUIET_WAIT:-1200}
GW_PORT=${CEILING_GW_PORT:-18121}
RAW_PORT=${CEILING_RAW_PORT:-18122}
mkdir -p "$OUT" .build-baseline

swift build -c release --product presenced --scratch-path "$SCRATCH" >/dev/null
swift build -c release --product presence-loadtest --scratch-path "$SCRATCH" >/dev/null
cc -O2 -Wall -o .build-baseline/raw_echo loadtest/baseline/raw_echo.c -lcrypto
BIN="$SCRATCH/release"
LT="$BIN/presence-loadtest"

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$OUT/gateway-data"
}
trap cleanup EXIT

# The bracket keeps pgrep from matching a command line that merely names the pattern.
# Another presence-loadtest (a smoke or full run) would distort the figures just as much.
busy() { pgrep -f '[w]stest' >/dev/null || pgrep -f '[s]wift-build' >/dev/null || pgrep -f '[p]resence-loadtest' >/dev/null; }
wait_quiet() {
    [ "$QUIET_WAIT" -gt 0 ] || return 0
    local waited=0
    while busy; do
        if [ "$waited" -ge "$QUIET_WAIT" ]; then
            echo "ceiling: machine still busy (wstest, swift-build or presence-loadtest) after ${QUIET_WAIT} s; not measuring" >&2
            exit 3
        fi
        [ "$waited" -eq 0 ] && echo "ceiling: waiting for wstest / swift-build / presence-loadtest to finish (up to ${QUIET_WAIT} s)" >&2
        sleep 15; waited=$((waited + 15))
    done
    echo "ceiling: quiet (waited ${waited} s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

for n in $CONNECTIONS; do
    wait_quiet
    # Each server is started as a simple command, so $! is its own PID (what --server-pid
    # reads), never a subshell's. raw_echo exits by itself after 900 s in any case.
    .build-baseline/raw_echo "$RAW_PORT" 900 >/dev/null & RAW_PID=$!; PIDS+=("$RAW_PID")
    "$BIN/presenced" --port "$GW_PORT" --admin-listen off --echo --loops 1 --log-level warning --data-dir "$OUT/gateway-data" & GW_PID=$!
    PIDS+=("$GW_PID")
    sleep 1
    timeout 600 "$LT" echo --url "ws://127.0.0.1:$GW_PORT/echo" --server-pid "$GW_PID" \
        --compare-url "ws://127.0.0.1:$RAW_PORT/echo" --compare-pid "$RAW_PID" \
        --connections "$n" --seconds "$SECONDS_PER_RUN" --repeats "$REPEATS" --json "$OUT/ceiling-$n.json"
    kill "$GW_PID" "$RAW_PID" 2>/dev/null || true; wait "$GW_PID" "$RAW_PID" 2>/dev/null || true
    PIDS=()
done

python3 - "$OUT" $CONNECTIONS <<'EOF'
import json, sys
out, counts = sys.argv[1], sys.argv[2:]
print("\nraw epoll ceiling (medians; presenced first, then raw_echo, alternately in each repeat)")
print(f"{'conns':>6} {'server':<10} {'msg/s':>9} {'p50 µs':>8} {'p99 µs':>8} {'server CPU':>10} {'client CPU':>10} {'server CPU µs/msg':>17}")
for n in counts:
    d = json.load(open(f"{out}/ceiling-{n}.json"))
    for name, r in (("presenced", d["gateway"]), ("raw_echo", d["compare"]["peer"])):
        lat = r["latency_us"]
        print(f"{n:>6} {name:<10} {r['messages_per_second']:>9,.0f} {lat['p50']:>8,.0f} {lat['p99']:>8,.0f}"
              f" {r.get('server_cpu_cores') or 0:>10.2f} {r.get('client_cpu_cores') or 0:>10.2f}"
              f" {(r.get('server_cpu_cores') or 0) * 1e6 / r['messages_per_second']:>17.2f}")
    ratio = d["compare"]["ratio"]
    g, p = d["gateway"]["messages_per_second"], d["compare"]["peer"]["messages_per_second"]
    per = [a["messages_per_second"] / b["messages_per_second"]
           for a, b in zip(d["gateway"]["runs"], d["compare"]["peer"]["runs"])]
    print(f"{n:>6} ratio presenced/ceiling: msg/s {g / p:.3f}, p99 ×{ratio.get('p99')}"
          f"  (per repeat: {', '.join(f'{x:.3f}' for x in per)})")
EOF
