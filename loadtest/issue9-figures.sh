#!/usr/bin/env bash
# The figures of issue 9 ("Figures"), each on a freshly started release presenced over a
# data directory freshly seeded by `presencectl seed-load` (10,000 users x 50 contacts):
#   a   idle --signed-in, 10,000 sessions at rest (every event acknowledged, read 35 s after the
#       last sign-in: presenced's storage writer gives its page cache back after 10 s idle, and
#       freed heap goes back to the kernel every 10 s): server RSS and live
#       heap (mallinfo2) per session,
#       once as configured, once more with MALLOC_ARENA_MAX=$FIGURES_ARENA_COMPARE, and once
#       with $FIGURES_CONTACTS_COMPARE contacts per user: the difference is the cost per contact
#   b   bare idle, 10,000 WebSocket connections: RSS (and live heap) per connection
#   c   presence --changes-per-second 1000000 --flip-fraction 1, server pinned to core 0
#       (taskset -c 0) with one presence shard and the client to core 1: deliveries/s
#   h   the same with 2 presence shards and nothing pinned (server and client share both cores)
#   d   presence --find-knee: the highest deliveries/s whose change -> contact p99 stays
#       under 5 ms (unpinned)
#   e   presence at the default 25,000 deliveries/s (500 changes/s, 1,000 flippers): p50/p99
#   f   storm: 10,000 token sign-ins at once (and the resume of all)
#   g   echo against the raw epoll ceiling (loadtest/ceiling.sh), server CPU per message
# Then one summary table; the JSON reports, server logs and the load average before and
# after every run go to OUTPUT_DIR.
#
# Usage: loadtest/issue9-figures.sh OUTPUT_DIR            (~6-8 minutes after the builds)
#   FIGURES_PARTS="a b c d e f g h" which parts to run (parts d, e, f use the default shards: one per core)
#   FIGURES_USERS=10000 FIGURES_CONTACTS=50
#   SERVER_MALLOC_ARENA_MAX=N       MALLOC_ARENA_MAX for every presenced started (not the client)
#   SERVER_ENV="K=V ..."            more environment for every presenced started (e.g.
#                                   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2)
#   FIGURES_ARENA_COMPARE=N         the MALLOC_ARENA_MAX of a second part a run (unset: none; a
#                                   glibc setting, kept for comparing a server on glibc: presenced's
#                                   allocator is jemalloc, which ignores it)
#   FIGURES_CONTACTS_COMPARE=10     contacts per user of part a's third run ("" skips it)
#   FIGURES_CEILING_CONNECTIONS="100 1000"
#   FIGURES_SERVER_ARGS="..."       extra presenced arguments for every server started (e.g. --presence-shards 1)
#   FIGURES_NICE=-10                run every server and client under `nice -n`, and set the same
#                                   nice on this session's autogroup (negative needs CAP_SYS_NICE):
#                                   ahead of other builders' compiles on a shared machine; the
#                                   table says so. Unset: normal priority.
# Every run is bounded by `timeout`; a run that fails or times out is marked in the table,
# and the script goes on with the next part.
set -uo pipefail
cd "$(dirname "$0")/.."
. loadtest/listening-port.sh
[ $# -eq 1 ] || { echo "usage: loadtest/issue9-figures.sh OUTPUT_DIR" >&2; exit 1; }
OUT=$1
SCRATCH=${LOADTEST_SCRATCH:-.build-loadtest}
PARTS=${FIGURES_PARTS:-a b c d e f g h}
USERS=${FIGURES_USERS:-10000}
CONTACTS=${FIGURES_CONTACTS:-50}
ARENA_COMPARE=${FIGURES_ARENA_COMPARE-}
CONTACTS_COMPARE=${FIGURES_CONTACTS_COMPARE-10}
CEILING_COUNTS=${FIGURES_CEILING_CONNECTIONS:-100 1000}
NICE=()
[ -n "${FIGURES_NICE:-}" ] && NICE=(nice -n "$FIGURES_NICE")
# With CFS autogroup (/proc/sys/kernel/sched_autogroup_enabled = 1, the default) nice only
# orders threads within one session: every other session (a neighbour's compile) still gets
# an equal share of the core, and a pinned server at nice -10 got 0.45 of core 0. So the
# session this script runs in takes the same nice as a group.
AUTOGROUP=""
if [ -n "${FIGURES_NICE:-}" ] && [ -w /proc/self/autogroup ]; then
    echo "$FIGURES_NICE" >/proc/self/autogroup 2>/dev/null && AUTOGROUP=", autogroup nice $FIGURES_NICE"
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
{ echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ' + uncommitted changes to Sources')"
  echo "started $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, nice ${FIGURES_NICE:-0}$AUTOGROUP"; } >"$OUT/build.txt"

for product in presenced presence-loadtest presencectl; do
    if ! swift build -c release --product "$product" --scratch-path "$SCRATCH" >"$OUT/build-$product.log" 2>&1; then
        tail -20 "$OUT/build-$product.log"; exit 1
    fi
done
BIN="$SCRATCH/release"
LT="$BIN/presence-loadtest"
CTL="$BIN/presencectl"
command -v gdb >/dev/null || echo "note: no gdb; the live-heap figures of parts a and b will be missing" >&2

SERVER_PID=""
DATA=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    [ -n "$DATA" ] && rm -rf "$DATA"
}
trap cleanup EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "part|run|exit|load before|load after|seconds" >"$OUT/runs.txt"

# seed NAME [CONTACTS]: a fresh data directory with USERS x CONTACTS; sets DATA and TOKENS.
seed() {
    DATA="$OUT/data-$1"
    rm -rf "$DATA"
    TOKENS="$DATA/tokens.txt"
    timeout 300 "$CTL" seed-load --data-dir "$DATA" --users "$USERS" --contacts "${2:-$CONTACTS}" --seed 1 \
        --tokens "$TOKENS" >"$OUT/seed-$1.log" 2>&1
}

# start NAME [ENV=VALUE...] [taskset -c N] -- PRESENCED-ARGS...: a fresh presenced on an
# ephemeral port; sets SERVER_PID and PORT. `env` and `taskset` exec, so $! is presenced.
start() {
    local name=$1; shift
    local prefix=()
    while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
    shift
    local log="$OUT/server-$name.log"
    local arena=()
    [ -n "${SERVER_MALLOC_ARENA_MAX:-}" ] && arena=("MALLOC_ARENA_MAX=$SERVER_MALLOC_ARENA_MAX")
    # shellcheck disable=SC2086 # SERVER_ENV is a list of K=V words
    env "${arena[@]}" ${SERVER_ENV:-} "${NICE[@]}" "${prefix[@]}" "$BIN/presenced" --port 0 --admin-listen off --ops-per-second-per-session 0 --log-level info "$@" ${FIGURES_SERVER_ARGS:-} >"$log" 2>&1 &
    SERVER_PID=$!
    wait_for_port "$log"
}

stop() {
    kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    [ -n "$DATA" ] && rm -rf "$DATA"
    DATA=""
}

# run PART NAME LIMIT_SECONDS COMMAND...: runs one measurement bounded in time, with the
# load average before and after; output to OUT/NAME.out.
run() {
    local part=$1 name=$2 limit=$3; shift 3
    local before after started rc
    before=$(load); started=$(date +%s)
    echo "== $part $name (load $before): $*" | tee -a "$OUT/commands.txt"
    timeout "$limit" "${NICE[@]}" "$@" >"$OUT/$name.out" 2>&1; rc=$?
    after=$(load)
    grep -E '^(median|knee|  knee|  server per|  #|  signed|correct|INCORRECT|  - )' "$OUT/$name.out" | head -40
    echo "$part|$name|$rc|$before|$after|$(( $(date +%s) - started ))" >>"$OUT/runs.txt"
}

# Part a: signed-in idle sessions, memory per session (one repeat: sessions outlive it).
idle_signed_in() {  # NAME [MALLOC_ARENA_MAX [CONTACTS]]
    local name=$1 saved=${SERVER_MALLOC_ARENA_MAX:-}
    [ -n "${2:-}" ] && SERVER_MALLOC_ARENA_MAX=$2
    seed "$name" "${3:-}" && start "$name" -- --data-dir "$DATA" --debounce-ms 0 && \
        run a "$name" 300 "$LT" idle --signed-in --server-heap --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER_PID" \
            --tokens "$TOKENS" --connections "$USERS" --repeats 1 --settle 35 --json "$OUT/$name.json"
    stop
    SERVER_MALLOC_ARENA_MAX=$saved
}

for part in $PARTS; do
case $part in
a)
    idle_signed_in a-idle-signed-in
    [ -n "$ARENA_COMPARE" ] && idle_signed_in "a-idle-signed-in-arena-$ARENA_COMPARE" "$ARENA_COMPARE"
    [ -n "$CONTACTS_COMPARE" ] && idle_signed_in "a-idle-signed-in-contacts-$CONTACTS_COMPARE" "" "$CONTACTS_COMPARE"
    ;;
b)
    start b-idle -- --echo && \
        run b b-idle 300 "$LT" idle --server-heap --url "ws://127.0.0.1:$PORT/echo" --server-pid "$SERVER_PID" \
            --connections "$USERS" --repeats 1 --json "$OUT/b-idle.json"
    stop
    ;;
c)
    seed c && start c-presence-pinned taskset -c 0 -- --data-dir "$DATA" --debounce-ms 0 --presence-shards 1 && \
        run c c-presence-pinned 300 taskset -c 1 "$LT" presence --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER_PID" \
            --tokens "$TOKENS" --changes-per-second 1000000 --flip-fraction 1 --seconds 3 --warmup 1 --drain 10 \
            --repeats 3 --json "$OUT/c-presence-pinned.json"
    stop
    ;;
h)
    seed h && start h-presence-2-shards -- --data-dir "$DATA" --debounce-ms 0 --presence-shards 2 && \
        run h h-presence-2-shards 300 "$LT" presence --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER_PID" \
            --tokens "$TOKENS" --changes-per-second 1000000 --flip-fraction 1 --seconds 3 --warmup 1 --drain 10 \
            --repeats 3 --json "$OUT/h-presence-2-shards.json"
    stop
    ;;
d)
    seed d && start d-knee -- --data-dir "$DATA" --debounce-ms 0 && \
        run d d-knee 300 "$LT" presence --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER_PID" --tokens "$TOKENS" \
            --find-knee --p99-limit-ms 5 --changes-per-second 500 --flip-fraction 1 --seconds 2 --warmup 0.5 --drain 3 \
            --knee-max-steps 10 --knee-max-seconds 90 --json "$OUT/d-knee.json"
    stop
    ;;
e)
    seed e && start e-presence -- --data-dir "$DATA" --debounce-ms 0 && \
        run e e-presence 300 "$LT" presence --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER_PID" --tokens "$TOKENS" \
            --seconds 5 --repeats 3 --json "$OUT/e-presence.json"
    stop
    ;;
f)
    seed f && start f-storm -- --data-dir "$DATA" --debounce-ms 0 && \
        run f f-storm 300 "$LT" storm --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER_PID" --tokens "$TOKENS" \
            --repeats 3 --json "$OUT/f-storm.json"
    stop
    ;;
g)
    # ceiling.sh on two free ports; it does its own builds (no-ops by now) and servers.
    read -r GW_FREE RAW_FREE < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
    run g g-ceiling 600 env CEILING_QUIET_WAIT=0 CEILING_CONNECTIONS="$CEILING_COUNTS" CEILING_GW_PORT="$GW_FREE" \
        CEILING_RAW_PORT="$RAW_FREE" ${SERVER_MALLOC_ARENA_MAX:+MALLOC_ARENA_MAX=$SERVER_MALLOC_ARENA_MAX} \
        loadtest/ceiling.sh "$OUT/ceiling"
    ;;
*) echo "unknown part $part (a b c d e f g)" >&2 ;;
esac
done

python3 - "$OUT" "$CEILING_COUNTS" <<'EOF'
import json, os, re, sys
out, counts = sys.argv[1], sys.argv[2].split()
def load(name):
    try:
        return json.load(open(os.path.join(out, name)))
    except (OSError, ValueError):
        return None
runs = {}
for line in open(os.path.join(out, "runs.txt")).read().splitlines()[1:]:
    part, name, rc, before, after, secs = line.split("|")
    runs[name] = (rc, before, after, secs)
def fmt(x, digits=0):
    if x is None: return "?"
    return f"{x:,.{digits}f}"
rows = []
def row(part, name, figure, value, target, report=None):
    rc, before, after, secs = runs.get(name, ("-", "", "", ""))
    ok = "" if report is None else ("" if report.get("correct") else " (INCORRECT)")
    rows.append((part, figure, value + ok, target, f"exit {rc}", f"{before} → {after}" if before else "", secs))

def contacts_of(name):
    try:
        found = re.search(r"users × (\d+) contacts", open(os.path.join(out, f"seed-{name}.log")).read())
        return int(found.group(1)) if found else None
    except OSError:
        return None
per_session = {}
for name in sorted(n for n in runs if n.startswith("a-")):
    d = load(name + ".json")
    m = (d or {}).get("server_memory") or {}
    arena = ((d or {}).get("parameters") or {}).get("server_malloc_arena_max") or "unset"
    contacts = contacts_of(name)
    if arena == "unset" and contacts is not None and m.get("live_heap_bytes_per_connection") is not None:
        per_session[contacts] = (m["live_heap_bytes_per_connection"], m["rss_bytes_per_connection"])
    row("a", name, f"idle signed-in {fmt((d or {}).get('connections'))} × {contacts or '?'} contacts, MALLOC_ARENA_MAX {arena}: RSS / live heap per session",
        f"{fmt(m.get('rss_bytes_per_connection'))} B / {fmt(m.get('live_heap_bytes_per_connection'))} B "
        f"(VmRSS {fmt((d or {}).get('server_rss_bytes_per_connection'))} B; free in arenas {fmt(m.get('free_in_arenas_bytes_per_connection'))} B)",
        "≤ 1,024 B RSS", d)
if len(per_session) >= 2:
    lo, hi = min(per_session), max(per_session)
    heap = (per_session[hi][0] - per_session[lo][0]) / (hi - lo)
    rss = (per_session[hi][1] - per_session[lo][1]) / (hi - lo)
    rows.append(("a", f"per contact of a session (× {hi} − × {lo} contacts, ÷ {hi - lo})",
                 f"live heap {heap:,.1f} B, RSS {rss:,.1f} B per contact; at 0 contacts: heap {per_session[lo][0] - lo * heap:,.0f} B, "
                 f"RSS {per_session[lo][1] - lo * rss:,.0f} B per session", "", "", "", ""))
if "b-idle" in runs:
    d = load("b-idle.json"); m = (d or {}).get("server_memory") or {}
    row("b", "b-idle", f"bare idle {fmt((d or {}).get('connections'))}: RSS / live heap per connection",
        f"{fmt(m.get('rss_bytes_per_connection'))} B / {fmt(m.get('live_heap_bytes_per_connection'))} B "
        f"(VmRSS {fmt((d or {}).get('server_rss_bytes_per_connection'))} B)", "≤ 272 B", d)
if "c-presence-pinned" in runs:
    d = load("c-presence-pinned.json") or {}
    lat = d.get("latency_us") or {}
    row("c", "c-presence-pinned", "presence 1M changes/s offered, flip 1, server on core 0: deliveries/s",
        f"{fmt(d.get('deliveries_per_second'))}/s (server {fmt(d.get('server_cpu_cores'), 2)} cores, p99 {fmt(lat.get('p99'))} µs)",
        "≥ 1,000,000/s", d or None)
if "h-presence-2-shards" in runs:
    d = load("h-presence-2-shards.json") or {}
    lat = d.get("latency_us") or {}
    row("h", "h-presence-2-shards", "presence 1M changes/s offered, flip 1, 2 presence shards, nothing pinned: deliveries/s",
        f"{fmt(d.get('deliveries_per_second'))}/s (server {fmt(d.get('server_cpu_cores'), 2)} cores, p99 {fmt(lat.get('p99'))} µs)",
        "", d or None)
if "d-knee" in runs:
    d = load("d-knee.json") or {}
    k = d.get("knee") or {}
    steps = ", ".join(f"{s['deliveries_per_second']:,.0f}:{s['latency_us']['p99']:,.0f}µs{'✓' if s['passed'] else '✗'}" for s in k.get("steps", []))
    row("d", "d-knee", "knee: highest deliveries/s with p99 ≤ 5 ms (unpinned)",
        f"{fmt(k.get('knee_deliveries_per_second'))}/s (p99 {fmt(k.get('knee_p99_us'))} µs); steps {steps}", "", d or None)
if "e-presence" in runs:
    d = load("e-presence.json") or {}
    lat = d.get("latency_us") or {}
    per = ", ".join(fmt((r.get("latency_us") or {}).get("p99")) for r in (d.get("gateway") or {}).get("runs", []))
    row("e", "e-presence", "presence 25,000 deliveries/s: p50 / p99 change → contact",
        f"{fmt(lat.get('p50'))} / {fmt(lat.get('p99'))} µs (p99 per window {per}; {fmt(d.get('deliveries_per_second'))}/s)",
        "p99 < 5,000 µs", d or None)
if "f-storm" in runs:
    d = load("f-storm.json") or {}
    per = ", ".join(fmt(r.get("sign_in_seconds"), 2) for r in (d.get("gateway") or {}).get("runs", []))
    row("f", "f-storm", "storm: all 10,000 token sign-ins / all resumed",
        f"{fmt(d.get('sign_in_seconds'), 2)} s (repeats {per}) / {fmt(d.get('resume_seconds'), 2)} s", "< 1.5 s", d or None)
for n in counts:
    d = load(f"ceiling/ceiling-{n}.json")
    if not d: continue
    g, p = d["gateway"], d["compare"]["peer"]
    def us_per_msg(r): return (r.get("server_cpu_cores") or 0) * 1e6 / r["messages_per_second"] if r.get("messages_per_second") else None
    row("g", "g-ceiling", f"echo {n} conns: presenced / raw epoll ceiling, msg/s",
        f"{fmt(g['messages_per_second'])} / {fmt(p['messages_per_second'])} = {g['messages_per_second'] / p['messages_per_second']:.3f}; "
        f"server CPU {fmt(us_per_msg(g), 2)} vs {fmt(us_per_msg(p), 2)} µs/msg", "≥ 0.93 (no worse)", d)

widths = [max(len(str(r[i])) for r in rows + [("part", "figure", "value", "target", "exit", "load 1/5/15 min before → after", "s")]) for i in range(7)]
header = ("part", "figure", "value", "target", "exit", "load 1/5/15 min before → after", "s")
print("\nissue 9 figures (" + out + "; " + open(os.path.join(out, "build.txt")).read().replace("\n", "; ").strip("; ") + ")")
for r in [header] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
EOF
