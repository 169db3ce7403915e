#!/usr/bin/env bash
# The full runs behind the figures table of loadtest/README.md. Each scenario gets a freshly
# started release presenced (so idle memory starts from a clean heap); the `peer` runs also
# start the Python websockets echo server (loadtest/peer_echo_server.py) from a venv.
# Usage: loadtest/full-run.sh [OUTPUT_DIR]     (about 10 minutes; run nothing else meanwhile)
#        LOADTEST_PART=echo|sessions loadtest/full-run.sh [OUTPUT_DIR]   (one half only)
# The signed-in half seeds users with presencectl into data directories under OUTPUT_DIR
# and starts presenced on them with --debounce-ms 0 (fan-out, not the 1 s debounce window).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-reports/loadtest}
SCRATCH=${LOADTEST_SCRATCH:-.build-loadtest}
PYTHON=${PEER_PYTHON:-.venv-loadtest/bin/python}
mkdir -p "$OUT"
swift build -c release --product presenced --scratch-path "$SCRATCH" >/dev/null
swift build -c release --product presence-loadtest --scratch-path "$SCRATCH" >/dev/null
swift build -c release --product presencectl --scratch-path "$SCRATCH" >/dev/null
PART=${LOADTEST_PART:-all}
BIN="$SCRATCH/release"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

gateway() {  # starts a fresh presenced on port $1; sets GW_PID
    "$BIN/presenced" --port "$1" --admin-listen off --echo --log-level warning & GW_PID=$!; PIDS+=("$GW_PID"); sleep 0.5
}
peer() {  # starts the Python peer on port $1; sets PEER_PID
    "$PYTHON" loadtest/peer_echo_server.py "$1" & PEER_PID=$!; PIDS+=("$PEER_PID"); sleep 1.5
}
stop() { kill "$@"; wait "$@" 2>/dev/null || true; }
LT="$BIN/presence-loadtest"

if [ "$PART" != sessions ]; then
gateway 18101
for n in 100 1000; do
    $LT echo --url ws://127.0.0.1:18101/echo --server-pid $GW_PID --connections $n --seconds 5 --json "$OUT/echo-$n.json"
    $LT echo --url ws://127.0.0.1:18101/echo --server-pid $GW_PID --connections $n --seconds 5 --deflate --json "$OUT/echo-$n-deflate.json"
done
stop $GW_PID

gateway 18102
$LT slow --url ws://127.0.0.1:18102/echo --server-pid $GW_PID --connections 100 --json "$OUT/slow.json"
stop $GW_PID

gateway 18103
$LT idle --url ws://127.0.0.1:18103/echo --server-pid $GW_PID --connections 10000 --json "$OUT/idle-10000.json"
stop $GW_PID

# 100,000 needs RLIMIT_NOFILE above 100,064 in both processes; this is the most that fits
# under a 20,000 limit, spread over two source addresses to exercise the spreading.
gateway 18104
$LT idle --url ws://127.0.0.1:18104/echo --server-pid $GW_PID --connections 19000 --connections-per-source-address 10000 \
    --json "$OUT/idle-19000.json"
stop $GW_PID

if [ -x "$PYTHON" ]; then
    gateway 18105; peer 18106
    $LT echo --url ws://127.0.0.1:18105/echo --server-pid $GW_PID --compare-url ws://127.0.0.1:18106/echo --compare-pid $PEER_PID \
        --connections 100 --seconds 5 --json "$OUT/echo-100-vs-websockets.json"
    stop $GW_PID $PEER_PID
    gateway 18107; peer 18108
    $LT idle --url ws://127.0.0.1:18107/echo --server-pid $GW_PID --compare-url ws://127.0.0.1:18108/echo --compare-pid $PEER_PID \
        --connections 10000 --json "$OUT/idle-10000-vs-websockets.json"
    stop $GW_PID $PEER_PID
fi
fi

if [ "$PART" != echo ]; then
CTL="$BIN/presencectl"
seed() {  # seed NAME USERS CONTACTS HIDDEN_FRACTION: a fresh data directory $OUT/NAME
    rm -rf "${OUT:?}/$1"
    "$CTL" seed-load --data-dir "$OUT/$1" --users "$2" --contacts "$3" --seed 1 --hidden-fraction "$4" --tokens "$OUT/$1/tokens.txt"
}
sessions() {  # starts a fresh presenced on data directory $OUT/$2, port $1; sets GW_PID
    "$BIN/presenced" --port "$1" --admin-listen off --data-dir "$OUT/$2" --debounce-ms 0 --ops-per-second-per-session 0 --log-level warning & GW_PID=$!; PIDS+=("$GW_PID"); sleep 0.5
}
seed users-1000 1000 50 0
seed users-10000 10000 50 0
seed users-10000-hidden 10000 50 0.1

sessions 18111 users-1000
$LT presence --url ws://127.0.0.1:18111/ws --server-pid $GW_PID --tokens "$OUT/users-1000/tokens.txt" --seconds 5 \
    --json "$OUT/presence-1000x50.json"
stop $GW_PID
sessions 18112 users-10000
$LT presence --url ws://127.0.0.1:18112/ws --server-pid $GW_PID --tokens "$OUT/users-10000/tokens.txt" --seconds 5 \
    --json "$OUT/presence-10000x50.json"
stop $GW_PID
sessions 18113 users-10000-hidden
$LT presence --url ws://127.0.0.1:18113/ws --server-pid $GW_PID --tokens "$OUT/users-10000-hidden/tokens.txt" --seconds 5 \
    --json "$OUT/presence-10000x50-hidden.json"
stop $GW_PID
sessions 18114 users-10000
$LT chat --url ws://127.0.0.1:18114/ws --server-pid $GW_PID --tokens "$OUT/users-10000/tokens.txt" --pairs 500 \
    --messages-per-second 2000 --seconds 5 --json "$OUT/chat-500-pairs.json"
stop $GW_PID
sessions 18115 users-10000
$LT storm --url ws://127.0.0.1:18115/ws --server-pid $GW_PID --tokens "$OUT/users-10000/tokens.txt" --json "$OUT/storm-10000.json"
stop $GW_PID
# A fresh server and one repeat: sessions of a repeat stay for their 30 s grace period.
sessions 18116 users-10000
$LT idle --signed-in --url ws://127.0.0.1:18116/ws --server-pid $GW_PID --tokens "$OUT/users-10000/tokens.txt" \
    --connections 10000 --repeats 1 --json "$OUT/idle-signed-in-10000.json"
stop $GW_PID
fi
echo "reports in $OUT"
