#!/usr/bin/env bash
# Cluster figures: presenced nodes sharing a private Redis and a private PostgreSQL on this
# machine, driven by presence-loadtest over loopback ("Cluster figures" in loadtest/README.md).
#   fanout    presence --changes-per-second 1000000 --flip-fraction 1 (nodes at --debounce-ms 0)
#             on FANOUT_USERS x CONTACTS, the clients spread over every node (connection i to
#             node i mod N), for each node count of CLUSTER_FANOUT_NODES: deliveries/s, p99,
#             and the CPU of every node and of the client over the busiest 3 s; with
#             CLUSTER_FANOUT_KNEE=1 also presence --find-knee (p99 <= 5 ms) per node count
#   sessions  SESSIONS signed-in sessions over SESSION_NODES nodes: idle --signed-in client
#             processes (at most CLIENT_MAX connections each, --first-user ranges) hold users
#             PRESENCE_USERS..SESSIONS-1; the time for them all to sign in; the sum of the
#             nodes' RSS growth / their sessions; then one presence process on users
#             0..PRESENCE_USERS-1 (500 changes/s, flip 0.1) while they stay: change -> contact
#             p50/p99 with contacts on other nodes, and the RSS again with every session in
#   kill      3 nodes, --node-lease-seconds 2, --disconnect-grace-seconds CLUSTER_KILL_GRACE (2):
#             kill -9 of node 3 -> its users shown offline to a contact signed in on node 1
#             (loadtest/cluster-kill-watch.py); not in the default CLUSTER_PARTS
# Every node count gets a fresh cluster (Redis flushed, a copy of the seeded database, fresh
# data directories), started completely before any client connects: a membership change
# closes every signed-in session with 1012. The summary table, the JSON reports, every
# node's log and the load average before and after every run go to OUTPUT_DIR.
#
# Usage: loadtest/cluster-figures.sh OUTPUT_DIR
#   CLUSTER_PARTS="fanout sessions kill"
#   CLUSTER_FANOUT_NODES="1 2 3"  CLUSTER_FANOUT_USERS=10000  CLUSTER_CONTACTS=50
#   CLUSTER_KILL_GRACE=2          --disconnect-grace-seconds of the kill part
#   CLUSTER_FANOUT_KNEE=0         1: also a knee search per node count (up to 90 s each)
#   CLUSTER_FANOUT_REPEATS=3      measured windows per node count (the median is reported)
#   CLUSTER_SESSIONS=100000  CLUSTER_SESSION_NODES=6  CLUSTER_PRESENCE_USERS=10000
#   CLUSTER_CLIENT_MAX=18000      connections per idle client process (the fd limit is 20,000)
#   CLUSTER_HOLD=240              seconds each idle process holds after its own sign-ins
#   CLUSTER_REST=35               seconds from the last sign-in to the nodes' RSS reading
#   CLUSTER_IDLE_ACK=1            --acknowledge-every of the idle processes: 1 acknowledges every event
#                                 at once (sessions at rest for the RSS figure, as issue 9 part a), but
#                                 during the presence run that is one op back per delivery to them
#   CLUSTER_SHARDS=1              --presence-shards of every node (nodes x shards <= 64)
#   CLUSTER_NODE_ARGS="..."       more presenced arguments for every node
#   CLUSTER_SEED_DIR=DIR          keep the PostgreSQL cluster and the seeded template databases
#                                 (seed_USERS_CONTACTS, with DIR/seed_USERS_CONTACTS.tokens) in DIR
#                                 across runs: seeding 100,000 x 50 takes ~10 min. Unset: a temp
#                                 directory, removed on exit.
#   CLUSTER_PG_OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
#                                 (a load test of presenced, not of the disk; max_connections=400 always)
# Nodes run with --ops-per-second-per-session 0, as in issue9-figures.sh. Every run is
# bounded by `timeout`; a failed run is marked in the table and the script goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: loadtest/cluster-figures.sh OUTPUT_DIR" >&2; exit 1; }
OUT=$1
PARTS=${CLUSTER_PARTS:-fanout sessions}
FANOUT_NODES=${CLUSTER_FANOUT_NODES:-1 2 3}
FANOUT_USERS=${CLUSTER_FANOUT_USERS:-10000}
CONTACTS=${CLUSTER_CONTACTS:-50}
FANOUT_KNEE=${CLUSTER_FANOUT_KNEE:-0}
FANOUT_REPEATS=${CLUSTER_FANOUT_REPEATS:-3}
SESSIONS=${CLUSTER_SESSIONS:-100000}
SESSION_NODES=${CLUSTER_SESSION_NODES:-6}
PRESENCE_USERS=${CLUSTER_PRESENCE_USERS:-10000}
CLIENT_MAX=${CLUSTER_CLIENT_MAX:-18000}
HOLD=${CLUSTER_HOLD:-240}
REST=${CLUSTER_REST:-35}
IDLE_ACK=${CLUSTER_IDLE_ACK:-1}
KILL_GRACE=${CLUSTER_KILL_GRACE:-2}
SHARDS=${CLUSTER_SHARDS:-1}
PG_OPTIONS=${CLUSTER_PG_OPTIONS:--c fsync=off -c synchronous_commit=off -c full_page_writes=off}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
{ echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- Sources loadtest/Sources Package.swift || echo ' + uncommitted changes')"
  echo "started $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"; } >"$OUT/build.txt"

for product in presenced presence-loadtest presencectl; do
    if ! swift build -c release --product "$product" >"$OUT/build-$product.log" 2>&1; then
        tail -20 "$OUT/build-$product.log"; exit 1
    fi
done
BIN=$(swift build -c release --show-bin-path)
LT="$BIN/presence-loadtest"
CTL="$BIN/presencectl"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- PostgreSQL and Redis, private ---------------------------------------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -n "${CLUSTER_SEED_DIR:-}" ]; then
    PGDIR=$CLUSTER_SEED_DIR; KEEP_PG=1
    mkdir -p "$PGDIR"
else
    PGDIR=$(mktemp -d /tmp/cluster-figures-pg.XXXXXX); KEEP_PG=0
fi
[ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
PG_STARTED=0
REDIS_PORT=""
NODE_PIDS=()
CLIENT_PIDS=()
SAMPLER_PID=""
cleanup() {
    for pid in "${CLIENT_PIDS[@]}" "${NODE_PIDS[@]}" $SAMPLER_PID; do kill "$pid" 2>/dev/null; done
    for pid in "${CLIENT_PIDS[@]}" "${NODE_PIDS[@]}" $SAMPLER_PID; do wait "$pid" 2>/dev/null; done
    [ -n "$REDIS_PORT" ] && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
    [ "$PG_STARTED" = 1 ] && as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1
    [ "$KEEP_PG" = 0 ] && rm -rf "$PGDIR"
    rm -rf "$OUT"/node-data-*
}
trap cleanup EXIT

[ -d "$PGDIR/data" ] || as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
if as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
    # Already running over CLUSTER_SEED_DIR (a seed still under way, say): use it, leave it running.
    PG_PORT=$(sed -n 4p "$PGDIR/data/postmaster.pid")
else
    PG_PORT=$(free_port)
    # shellcheck disable=SC2086 # PG_OPTIONS is a list of words
    as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGDIR -c max_connections=400 $PG_OPTIONS" start >/dev/null || exit 1
    PG_STARTED=1
fi
PG="postgresql://postgres@127.0.0.1:$PG_PORT"
psql_c() { PGOPTIONS="-c client_min_messages=warning" as_postgres "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc "$1"; }
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir "$OUT" \
    --logfile "$OUT/redis.log" >/dev/null || exit 1
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on :$PG_PORT ($PGDIR), Redis $(redis-server --version | awk '{print $3}') on :$REDIS_PORT" | tee -a "$OUT/build.txt"
echo "part|run|exit|load before|load after|seconds" >"$OUT/runs.txt"
# Redis relays every node-to-node frame; PostgreSQL (all its processes) stores sign-ins and statuses.
SIDE_LABELS=("redis=$(redis-cli -p "$REDIS_PORT" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')"
             "postgres=children:$(head -n 1 "$PGDIR/data/postmaster.pid")")

# template USERS: the seeded database seed_USERS_CONTACTS (seeded once; kept with CLUSTER_SEED_DIR).
template() {
    local name="seed_$1_$CONTACTS"
    if [ "$(psql_c "select 1 from pg_database where datname = '$name'")" = 1 ] && [ -s "$PGDIR/$name.tokens" ]; then
        echo "using seeded $name ($PGDIR)"; return 0
    fi
    psql_c "drop database if exists $name" && psql_c "create database $name" || return 1
    local started; started=$(date +%s)
    echo "seeding $1 users x $CONTACTS contacts into $name (load $(load))"
    timeout 3600 "$CTL" seed-load --data-dir "$OUT/seed-scratch" --database-url "$PG/$name" --users "$1" --contacts "$CONTACTS" \
        --seed 1 --tokens "$PGDIR/$name.tokens.new" >"$OUT/seed-$name.log" 2>&1 || { cat "$OUT/seed-$name.log"; return 1; }
    mv "$PGDIR/$name.tokens.new.graph" "$PGDIR/$name.tokens.graph" && mv "$PGDIR/$name.tokens.new" "$PGDIR/$name.tokens"
    rm -rf "$OUT/seed-scratch"
    echo "seeded in $(( $(date +%s) - started )) s: $(tail -n 3 "$OUT/seed-$name.log" | head -n 1)" | tee -a "$OUT/build.txt"
}

# fresh_db NAME USERS: database NAME copied from the template, its token file at OUT/NAME.tokens.
fresh_db() {
    local t="seed_$2_$CONTACTS"
    psql_c "drop database if exists $1" && psql_c "create database $1 template $t" || return 1
    cp "$PGDIR/$t.tokens" "$OUT/$1.tokens" && cp "$PGDIR/$t.tokens.graph" "$OUT/$1.tokens.graph"
    DB=$1; TOKENS="$OUT/$1.tokens"
}

# start_nodes NAME N [PRESENCED-ARGS...]: N nodes of a fresh cluster on database $DB; returns once
# every node's latest "re-placed" names all N members with the same epoch. Sets NODE_PIDS,
# NODE_LOGS, URLS (comma-separated) and ADMINS.
start_nodes() {
    local name=$1 n=$2; shift 2
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    NODE_PIDS=(); NODE_LOGS=(); ADMINS=(); URLS=""
    local i port admin
    for i in $(seq 1 "$n"); do
        port=$(free_port); admin=$(free_port)
        rm -rf "$OUT/node-data-$i"; mkdir -p "$OUT/node-data-$i"
        # shellcheck disable=SC2086 # CLUSTER_NODE_ARGS is a list of words
        "$BIN/presenced" --port "$port" --admin-listen "127.0.0.1:$admin" --data-dir "$OUT/node-data-$i" \
            --cluster-url "redis://127.0.0.1:$REDIS_PORT" --database-url "$PG/$DB" --presence-shards "$SHARDS" \
            --ops-per-second-per-session 0 --log-level info "$@" ${CLUSTER_NODE_ARGS:-} >"$OUT/$name-node$i.log" 2>&1 &
        NODE_PIDS+=($!); NODE_LOGS+=("$OUT/$name-node$i.log"); ADMINS+=("127.0.0.1:$admin")
        URLS+="${URLS:+,}ws://127.0.0.1:$port/ws"
    done
    local deadline=$(( $(date +%s) + 60 )) epochs
    while [ "$(date +%s)" -lt $deadline ]; do
        epochs=$(for log in "${NODE_LOGS[@]}"; do
            grep 're-placed' "$log" | tail -n 1 | sed -n 's/.*epoch=\([0-9]*\).*members=\[\([0-9, ]*\)\].*/\1 \2/p'
        done | sort -u)
        if [ "$(wc -l <<<"$epochs")" = 1 ] && [ "$(tr ',' '\n' <<<"${epochs#* }" | grep -c '[0-9]')" = "$n" ]; then
            sleep 1  # past the settle wait of the last re-placement
            echo "$n nodes up, one epoch: members [${epochs#* }] (load $(load))"
            return 0
        fi
        for pid in "${NODE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a node exited while starting"; tail -n 5 "${NODE_LOGS[@]}"; return 1; }; done
        sleep 0.2
    done
    echo "the $n nodes did not agree on one epoch within 60 s:"; for log in "${NODE_LOGS[@]}"; do grep -E 'members|re-placed' "$log" | tail -n 2; done
    return 1
}

stop_nodes() {
    for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    NODE_PIDS=()
    rm -rf "$OUT"/node-data-*
    [ -n "${DB:-}" ] && psql_c "drop database if exists $DB" >/dev/null
}

# The CPU and RSS of every node (and of the client processes in CLIENT_PIDS) every 0.5 s:
# lines "t label cpu_seconds rss_bytes", for the busiest-3-s figures of the summary.
start_sampler() {  # FILE LABEL=PID...
    local file=$1; shift
    python3 - "$file" "$@" <<'EOF' &
import os, sys, time
file, pairs = sys.argv[1], [a.split("=") for a in sys.argv[2:]]
tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
def stat(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / tick  # ppid, CPU s
with open(file, "w") as out:
    while True:
        now = time.monotonic()
        for label, pid in pairs:
            try:
                if pid.startswith("children:"):
                    # every child of that process (PostgreSQL's backends), plus itself; RSS not summed
                    parent, cpu = int(pid[9:]), 0.0
                    for entry in os.listdir("/proc"):
                        if entry.isdigit():
                            try:
                                ppid, c = stat(entry)
                                if ppid == parent or int(entry) == parent: cpu += c
                            except (OSError, IndexError, ValueError):
                                pass
                    out.write(f"{now:.3f} {label} {cpu:.2f} 0\n")
                    continue
                _, cpu = stat(pid)
                rss = int(open(f"/proc/{pid}/statm").read().split()[1]) * page
                out.write(f"{now:.3f} {label} {cpu:.2f} {rss}\n")
            except (OSError, IndexError):
                pass
        out.flush()
        time.sleep(0.5)
EOF
    SAMPLER_PID=$!
}
stop_sampler() { [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""; }

rss_sum() { local s=0 pid; for pid in "${NODE_PIDS[@]}"; do s=$(( s + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") * 1024 )); done; echo $s; }
sessions_sum() {  # presence_core_sessions over every node (the sessions each homes)
    local s=0 a v
    for a in "${ADMINS[@]}"; do
        v=$(curl -s "http://$a/metrics" | awk '$1 == "presence_core_sessions" {printf "%d", $2}')
        s=$(( s + ${v:-0} ))
    done
    echo $s
}

# run PART NAME LIMIT COMMAND...: one bounded measurement; output to OUT/NAME.out.
run() {
    local part=$1 name=$2 limit=$3; shift 3
    local before after started rc
    before=$(load); started=$(date +%s)
    echo "== $part $name (load $before): $*" | tee -a "$OUT/commands.txt"
    timeout "$limit" "$@" >"$OUT/$name.out" 2>&1; rc=$?
    after=$(load)
    grep -E '^(median|knee|  #|  signed|        CPU|correct|INCORRECT|  - )' "$OUT/$name.out" | head -30
    echo "$part|$name|$rc|$before|$after|$(( $(date +%s) - started ))" >>"$OUT/runs.txt"
}

fanout() {
    template "$FANOUT_USERS" || return 1
    local n
    for n in $FANOUT_NODES; do
        fresh_db "fanout_$n" "$FANOUT_USERS" && start_nodes "fanout-$n" "$n" --debounce-ms 0 || { stop_nodes; continue; }
        local labels=() i
        for i in "${!NODE_PIDS[@]}"; do labels+=("node$((i + 1))=${NODE_PIDS[$i]}"); done
        start_sampler "$OUT/fanout-$n.cpu" "${labels[@]}" "${SIDE_LABELS[@]}"
        run fanout "fanout-$n" 400 "$LT" presence --url "$URLS" --tokens "$TOKENS" --changes-per-second 1000000 --connect-timeout 300 \
            --flip-fraction 1 --seconds 3 --warmup 1 --drain 10 --repeats "$FANOUT_REPEATS" --json "$OUT/fanout-$n.json"
        stop_sampler
        if [ "$FANOUT_KNEE" = 1 ]; then
            run fanout "fanout-$n-knee" 400 "$LT" presence --url "$URLS" --tokens "$TOKENS" --find-knee --p99-limit-ms 5 --connect-timeout 300 \
                --changes-per-second 500 --flip-fraction 1 --seconds 2 --warmup 0.5 --drain 3 --knee-max-steps 10 \
                --knee-max-seconds 90 --json "$OUT/fanout-$n-knee.json"
        fi
        stop_nodes
    done
}

sessions() {
    template "$SESSIONS" || return 1
    fresh_db sessions "$SESSIONS" && start_nodes sessions "$SESSION_NODES" --debounce-ms 0 || { stop_nodes; return 1; }
    local labels=() i
    for i in "${!NODE_PIDS[@]}"; do labels+=("node$((i + 1))=${NODE_PIDS[$i]}"); done
    start_sampler "$OUT/sessions.cpu" "${labels[@]}" "${SIDE_LABELS[@]}"
    sleep 3
    local rss0; rss0=$(rss_sum)
    echo "nodes' RSS before any client: $rss0 B (load $(load))" | tee "$OUT/sessions-rss.txt"
    # Idle processes for users PRESENCE_USERS..SESSIONS-1, at most CLIENT_MAX each.
    local first=$PRESENCE_USERS k=0 count t0 before
    before=$(load); t0=$(date +%s.%N)
    CLIENT_PIDS=()
    while [ "$first" -lt "$SESSIONS" ]; do
        count=$(( SESSIONS - first < CLIENT_MAX ? SESSIONS - first : CLIENT_MAX ))
        k=$((k + 1))
        echo "== sessions sessions-idle-$k (load $before): $LT idle --signed-in --url $URLS --tokens $TOKENS --first-user $first --connections $count --repeats 1 --settle $HOLD --connect-timeout 300 --acknowledge-every $IDLE_ACK --json $OUT/sessions-idle-$k.json" | tee -a "$OUT/commands.txt"
        timeout $((HOLD + 400)) "$LT" idle --signed-in --url "$URLS" --tokens "$TOKENS" --first-user "$first" --connections "$count" \
            --repeats 1 --settle "$HOLD" --connect-timeout 300 --acknowledge-every "$IDLE_ACK" \
            --json "$OUT/sessions-idle-$k.json" >"$OUT/sessions-idle-$k.out" 2>&1 &
        CLIENT_PIDS+=($!)
        first=$((first + count))
    done
    local clabels=() c=0 pid
    for pid in "${CLIENT_PIDS[@]}"; do c=$((c + 1)); clabels+=("idle$c=children:$pid"); done  # $! is timeout: its child is the client
    local node_sampler=$SAMPLER_PID
    start_sampler "$OUT/sessions-clients.cpu" "${clabels[@]}"
    local client_sampler=$SAMPLER_PID
    SAMPLER_PID=$node_sampler
    local held=$((SESSIONS - PRESENCE_USERS)) deadline=$(( $(date +%s) + 330 )) ready
    while [ "$(date +%s)" -lt $deadline ]; do
        ready=$(grep -l 'connect phase over' "$OUT"/sessions-idle-*.out 2>/dev/null | wc -l)
        [ "$ready" = "$k" ] && break
        sleep 0.25
    done
    local t1; t1=$(date +%s.%N)
    local signin; signin=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
    echo "idle processes: $ready/$k done signing in after $signin s (load $before -> $(load)); sessions homed: $(sessions_sum)" | tee -a "$OUT/sessions-rss.txt"
    echo "sessions|sessions-idle-signin|$([ "$ready" = "$k" ] && echo 0 || echo 1)|$before|$(load)|$signin" >>"$OUT/runs.txt"
    # At rest, as issue 9 part a: the storage writer gives its page cache back after 10 s idle
    # and freed heap goes back to the kernel every 10 s.
    sleep "$REST"
    local rss1 homed; rss1=$(rss_sum); homed=$(sessions_sum)
    echo "held $held: nodes' RSS $rss1 B, sessions homed $homed, $(( (rss1 - rss0) / (homed > 0 ? homed : 1) )) B per session (load $(load))" | tee -a "$OUT/sessions-rss.txt"
    for i in "${!NODE_PIDS[@]}"; do
        echo "  node$((i + 1)): VmRSS $(awk '/VmRSS/ {print $2}' "/proc/${NODE_PIDS[$i]}/status") kB, $(curl -s "http://${ADMINS[$i]}/metrics" | awk '$1 == "presence_core_sessions" || $1 ~ /^presence_connections.state="open"/ {printf "%s=%d ", $1, $2}')" | tee -a "$OUT/sessions-rss.txt"
    done
    echo "sessions|sessions-rss|0|$before|$(load)|$rss0 $rss1 $homed" >>"$OUT/runs.txt"
    echo "presence run starts at uptime $(cut -d' ' -f1 /proc/uptime) (the samples' clock)" >>"$OUT/sessions-rss.txt"
    run sessions sessions-presence 200 "$LT" presence --url "$URLS" --tokens "$TOKENS" --users "$PRESENCE_USERS" --connect-timeout 300 \
        --seconds 5 --repeats 3 --json "$OUT/sessions-presence.json"
    echo "presence run ends at uptime $(cut -d' ' -f1 /proc/uptime)" >>"$OUT/sessions-rss.txt"
    local homed2; homed2=$(sessions_sum)
    echo "after the presence run: sessions homed $homed2 (its sessions are in their grace), nodes' RSS $(rss_sum) B (load $(load))" | tee -a "$OUT/sessions-rss.txt"
    echo "waiting for the idle processes (they hold $HOLD s after signing in)"
    local rc=0 pid
    for pid in "${CLIENT_PIDS[@]}"; do wait "$pid" || rc=$?; done
    CLIENT_PIDS=()
    for i in $(seq 1 "$k"); do grep -E '^(median|  gateway|correct|INCORRECT|  - )' "$OUT/sessions-idle-$i.out" | head -8; done
    echo "sessions|sessions-idle-hold|$rc|$before|$(load)|" >>"$OUT/runs.txt"
    stop_sampler
    SAMPLER_PID=$client_sampler
    stop_sampler
    stop_nodes
}

# kill: 3 nodes with a 2 s lease and a KILL_GRACE s disconnect grace; user 0 watches from
# node 1, its contacts are signed in on node 3, node 3 gets SIGKILL: the time until user 0 is
# shown each contact offline (loadtest/cluster-kill-watch.py), and what the survivors logged.
killpart() {
    template "$FANOUT_USERS" || return 1
    fresh_db kill "$FANOUT_USERS" && start_nodes kill 3 --debounce-ms 0 --node-lease-seconds 2 \
        --disconnect-grace-seconds "$KILL_GRACE" || { stop_nodes; return 1; }
    local urls; IFS=, read -r -a urls <<<"$URLS"
    run kill kill-watch 120 python3 loadtest/cluster-kill-watch.py --tokens "$TOKENS" --watcher 0 \
        --watcher-url "${urls[0]}" --subject-url "${urls[2]}" --victim-pid "${NODE_PIDS[2]}" --json "$OUT/kill-watch.json"
    cat "$OUT/kill-watch.out"
    local log
    for log in "${NODE_LOGS[0]}" "${NODE_LOGS[1]}"; do
        echo "$(basename "$log"), after the kill:"; grep -E 'members changed|re-placed|lease|gap|warning|error' "$log" | tail -n 6 | cut -c1-220
    done | tee "$OUT/kill-survivors.txt"
    stop_nodes
}

for part in $PARTS; do
    case $part in
    fanout) fanout ;;
    sessions) sessions ;;
    kill) killpart ;;
    *) echo "unknown part $part (fanout sessions kill)" >&2 ;;
    esac
done

python3 - "$OUT" <<'EOF'
import glob, json, os, re, sys
out = sys.argv[1]
def load(name):
    try: return json.load(open(os.path.join(out, name)))
    except (OSError, ValueError): return None
runs = {}
for line in open(os.path.join(out, "runs.txt")).read().splitlines()[1:]:
    part, name, rc, before, after, secs = line.split("|")
    runs[name] = (rc, before, after, secs)
def fmt(x, digits=0):
    return "?" if x is None else f"{x:,.{digits}f}"
def busiest(cpu_file, span=3.0):
    """Cores of every label over the `span` s in which the nodes together used the most CPU."""
    series = {}
    try:
        for line in open(cpu_file):
            t, label, cpu, _ = line.split()
            series.setdefault(label, []).append((float(t), float(cpu)))
    except OSError:
        return {}
    nodes = [l for l in series if l.startswith("node")]
    if not nodes: return {}
    times = [t for t, _ in series[nodes[0]]]
    def at(label, t):
        pts = series[label]
        best = min(pts, key=lambda p: abs(p[0] - t))
        return best[1]
    best, best_t = -1, None
    for t in times:
        if t + span > times[-1]: break
        total = sum(at(l, t + span) - at(l, t) for l in nodes)
        if total > best: best, best_t = total, t
    if best_t is None: return {}
    return {l: (at(l, best_t + span) - at(l, best_t)) / span for l in series}
rows = []
def row(part, name, figure, value, report=None):
    rc, before, after, secs = runs.get(name, ("-", "", "", ""))
    ok = "" if report is None else ("" if report.get("correct") else " (INCORRECT)")
    rows.append((part, figure, value + ok, f"exit {rc}", f"{before} → {after}" if before else "", secs))
for path in sorted(glob.glob(os.path.join(out, "fanout-*.json"))):
    name = os.path.basename(path)[:-5]
    d = load(name + ".json") or {}
    if name.endswith("-knee"):
        k = d.get("knee") or {}
        steps = ", ".join(f"{s['deliveries_per_second']:,.0f}:{s['latency_us']['p99']:,.0f}µs{'✓' if s['passed'] else '✗'}" for s in k.get("steps", []))
        row("fanout", name, f"{name.split('-')[1]} node(s): knee, p99 ≤ 5 ms", f"{fmt(k.get('knee_deliveries_per_second'))}/s (p99 {fmt(k.get('knee_p99_us'))} µs); steps {steps}", d or None)
        continue
    n = name.split("-")[1]
    lat = d.get("latency_us") or {}
    per = ", ".join(fmt(r.get("deliveries_per_second")) for r in (d.get("gateway") or {}).get("runs", []))
    cpu = busiest(os.path.join(out, name + ".cpu"))
    cpus = " ".join(f"{l} {c:.2f}" for l, c in sorted(cpu.items()))
    row("fanout", name, f"{n} node(s), {fmt(d.get('users') or (d.get('parameters') or {}).get('users'))} users, 1M changes/s offered, flip 1: deliveries/s (median of the windows)",
        f"{fmt(d.get('deliveries_per_second'))}/s (windows {per}; p50 {fmt(lat.get('p50'))} / p99 {fmt(lat.get('p99'))} µs; client {fmt(d.get('client_cpu_cores'), 2)} cores in the windows; busiest 3 s cores: {cpus})", d or None)
if "sessions-rss" in runs:
    rc, before, after, figs = runs["sessions-rss"]
    rss0, rss1, homed = (int(x) for x in figs.split())
    sign = runs.get("sessions-idle-signin", ("?", "", "", "?"))
    row("sessions", "sessions-idle-signin", f"{homed:,} sessions held by idle processes: time from their start to all signed in", f"{sign[3]} s")
    rows.append(("sessions", "server RSS per held session (Σ node RSS growth / sessions homed)",
                 f"{(rss1 - rss0) / max(homed, 1):,.0f} B ({(rss1 - rss0) / 2**20:,.0f} MiB over {homed:,})", "", f"{before} → {after}", ""))
if "sessions-presence" in runs:
    d = load("sessions-presence.json") or {}
    lat = d.get("latency_us") or {}
    per = ", ".join(fmt((r.get("latency_us") or {}).get("p99")) for r in (d.get("gateway") or {}).get("runs", []))
    row("sessions", "sessions-presence", "presence on users 0..P-1 beside the held sessions, 500 changes/s, flip 0.1: change → contact p50 / p99",
        f"{fmt(lat.get('p50'))} / {fmt(lat.get('p99'))} µs (p99 per window {per}; {fmt(d.get('deliveries_per_second'))} deliveries/s)", d or None)
for path in sorted(glob.glob(os.path.join(out, "sessions-idle-*.json"))):
    name = os.path.basename(path)[:-5]
    d = load(name + ".json") or {}
    row("sessions", "sessions-idle-hold", f"{name}: {fmt(d.get('connections'))} held; WebSocket handshakes (not sign-ins) done in",
        f"{fmt(d.get('connect_seconds'), 1)} s", d or None)
if "kill-watch" in runs:
    d = load("kill-watch.json") or {}
    row("kill", "kill-watch", f"kill -9 of node 3 (lease 2 s): its {d.get('contacts', '?')} signed-in users shown offline to a contact on node 1",
        f"{d.get('shown_offline_after_kill', '?')}/{d.get('shown_online_before', '?')} after first {d.get('seconds_min')} s, median {d.get('seconds_p50')} s, last {d.get('seconds_max')} s; watcher closed {d.get('closes')}")
header = ("part", "figure", "value", "exit", "load 1/5/15 min before → after", "s")
widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(6)]
print("\ncluster figures (" + out + "; " + open(os.path.join(out, "build.txt")).read().replace("\n", "; ").strip("; ") + ")")
for r in [header] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
EOF
