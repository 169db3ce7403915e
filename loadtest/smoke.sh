#!/usr/bin/env bash
# Smoke run of presence-loadtest: every scenario for about a second against freshly started
# `presenced --echo` servers on ephemeral ports, checking correctness only (every echo
# answered, everyone connected, the slow client closed, the JSON written). The signed-in
# scenarios (presence, chat, storm, idle --signed-in) run against a third presenced on a
# data directory seeded by `presencectl seed-load` (200 users x 10 contacts, 10% hidden):
# everyone signed in, no event lost or out of sequence, no hidden user revealed. Timings are
# never asserted. Exits non-zero on any failure; the last line is "N passed, M failed".
#   LOADTEST_CONFIG=debug loadtest/smoke.sh     # debug builds instead of release
set -uo pipefail
cd "$(dirname "$0")/.."
. loadtest/listening-port.sh
CONFIG=${LOADTEST_CONFIG:-release}
SCRATCH=${LOADTEST_SCRATCH:-.build-loadtest}
OUT=$(mktemp -d /tmp/loadtest-smoke.XXXXXX)
PASSED=0
FAILED=0
SERVER_PIDS=()

cleanup() {
    for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT

for product in presenced presence-loadtest presencectl; do
    if ! swift build -c "$CONFIG" --product "$product" --scratch-path "$SCRATCH" >"$OUT/build-$product.log" 2>&1; then
        tail -20 "$OUT/build-$product.log"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
BIN="$SCRATCH/$CONFIG"

# Starts presenced --echo on a free port (extra arguments are passed on); sets PORT and PID.
start_server() {
    local log="$OUT/server-$1.log"
    shift
    # The operator listener on a free port too: servers run side by side, never all on 9090.
    "$BIN/presenced" --port 0 --admin-listen 127.0.0.1:0 --echo --log-level info "$@" >"$log" 2>&1 &
    PID=$!
    SERVER_PIDS+=("$PID")
    wait_for_port "$log"
}

# check NAME JSON-KEY... -- COMMAND...: passes when COMMAND exits 0 and its JSON has every key.
check() {
    local name=$1; shift
    local keys=()
    while [ "$1" != "--" ]; do keys+=("$1"); shift; done
    shift
    local json="$OUT/$name.json"
    if timeout 120 "$BIN/presence-loadtest" "$@" --json "$json" >"$OUT/$name.out" 2>&1; then
        local missing=""
        for key in "${keys[@]}"; do grep -q "\"$key\"" "$json" || missing="$missing $key"; done
        if [ -z "$missing" ]; then
            PASSED=$((PASSED + 1)); echo "PASS $name"; return
        fi
        echo "FAIL $name: JSON lacks$missing"
    else
        echo "FAIL $name (exit $?):"
    fi
    sed 's/^/    /' "$OUT/$name.out" | tail -15
    FAILED=$((FAILED + 1))
}

start_server gateway || { echo "0 passed, 1 failed"; exit 1; }
GW_PORT=$PORT; GW_PID=$PID
start_server peer || { echo "0 passed, 1 failed"; exit 1; }
PEER_PORT=$PORT; PEER_PID=$PID
GW="--url ws://127.0.0.1:$GW_PORT/echo --server-pid $GW_PID --repeats 1"
PEER="--compare-url ws://127.0.0.1:$PEER_PORT/echo --compare-pid $PEER_PID"
LATENCY="latency_us p50 p90 p99 p999 max"

check echo scenario connections seconds messages_per_second $LATENCY machine parameters seed -- \
    echo $GW --connections 20 --in-flight 4 --seconds 1 --warmup 0.2
check echo-deflate messages_per_second $LATENCY -- \
    echo $GW --connections 20 --in-flight 2 --seconds 1 --warmup 0.2 --deflate
check echo-two-threads-compared messages_per_second compare ratio -- \
    echo $GW $PEER --connections 40 --seconds 1 --warmup 0.2 --threads 2
# 300 connections over 3 source addresses (100 each) exercises the address spreading.
check idle-spread-compared server_rss_bytes_per_connection connect_seconds compare -- \
    idle $GW $PEER --connections 300 --connections-per-source-address 100
check slow slow_client_closed latency_without_slow_us p99_ratio -- \
    slow $GW --connections 10 --seconds 1 --warmup 0.2

# Signed-in scenarios: users seeded straight into a fresh data directory, then a server on
# it that publishes status changes at once (--debounce-ms 0), so deliveries are fan-out.
if "$BIN/presencectl" seed-load --data-dir "$OUT/data" --users 200 --contacts 10 --seed 1 --hidden-fraction 0.1 \
        --tokens "$OUT/tokens.txt" >"$OUT/seed.out" 2>&1 && start_server sessions --data-dir "$OUT/data" --debounce-ms 0 --ops-per-second-per-session 0; then
    SES_PID=$PID
    SES="--url ws://127.0.0.1:$PORT/ws --server-pid $SES_PID --tokens $OUT/tokens.txt --repeats 1"
    check presence deliveries_per_second $LATENCY changes deliveries_expected -- \
        presence $SES --seconds 1 --warmup 0.2 --changes-per-second 200 --settle 0.3 --drain 3
    # The knee search: a few short steps; that it stepped and reported them (whether one passed is timing).
    check presence-knee knee steps p99_limit_ms changes_per_second passed -- \
        presence $SES --find-knee --changes-per-second 100 --seconds 0.5 --warmup 0.2 --settle 0.3 --drain 2 \
        --knee-max-steps 3 --knee-retries 0 --knee-max-seconds 20
    check chat messages_per_second delivery_latency_us $LATENCY -- \
        chat $SES --pairs 50 --messages-per-second 300 --seconds 1 --warmup 0.2 --drain 3
    check storm sign_in_seconds resume_seconds resume_latency_us -- \
        storm $SES --settle 0.3 --drain 3
    # --server-heap calls mallinfo2() in the server through gdb (skipped where gdb is missing).
    HEAP=(); HEAP_KEYS=()
    command -v gdb >/dev/null && { HEAP=(--server-heap); HEAP_KEYS=(server_memory live_heap_bytes_per_connection allocated_bytes); }
    check idle-signed-in server_rss_bytes_per_connection signed_in "${HEAP_KEYS[@]}" -- \
        idle $SES --signed-in --connections 200 "${HEAP[@]}"
    SERVER_PIDS_ALIVE_CHECK=$SES_PID
else
    FAILED=$((FAILED + 1)); echo "FAIL seeding or starting the signed-in server:"; sed 's/^/    /' "$OUT/seed.out" | tail -5
    SERVER_PIDS_ALIVE_CHECK=""
fi

# The benchmarks run (a few ms each) and count allocations through the preloaded counter.
cc -O2 -shared -fPIC -o "$SCRATCH/libloadtest_malloc_counter.so" loadtest/malloc-counter/malloc_counter.c -ljemalloc
if LD_PRELOAD="$PWD/$SCRATCH/libloadtest_malloc_counter.so" timeout 60 "$BIN/presence-loadtest" bench --seconds 0.01 --samples 1 \
        --json "$OUT/bench.json" >"$OUT/bench.out" 2>&1 && grep -q '"allocations_per_op"' "$OUT/bench.json"; then
    PASSED=$((PASSED + 1)); echo "PASS bench"
else
    FAILED=$((FAILED + 1)); echo "FAIL bench:"; sed 's/^/    /' "$OUT/bench.out" | tail -15
fi

# The servers must have survived all of it.
for pid in "$GW_PID" "$PEER_PID" $SERVER_PIDS_ALIVE_CHECK; do
    if kill -0 "$pid" 2>/dev/null; then PASSED=$((PASSED + 1)); echo "PASS server $pid alive"
    else FAILED=$((FAILED + 1)); echo "FAIL server $pid exited"; fi
done

[ "$FAILED" -eq 0 ] && rm -rf "$OUT" || echo "logs in $OUT"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
