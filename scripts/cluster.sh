#!/usr/bin/env bash
# Three presenced nodes as one cluster, end to end over real sockets (Tests/Cluster/).
#
#   scripts/cluster.sh [PRESENCED]                  the cluster test (Tests/Cluster/cluster_test.py)
#   scripts/cluster.sh --harness-only [PRESENCED]   only the harness, no cluster needed
#                                                   (Tests/Cluster/harness_test.py)
#
# PRESENCED defaults to .build/release/presenced, built if missing; it must know
# --cluster-url. Installs redis-server, postgresql, nginx and openssl from Debian if
# missing, and the Python `websockets` client in the git-ignored venv .venv-cluster.
# Starts a private PostgreSQL exactly as scripts/postgres.sh does (initdb into a temp
# directory, as the postgres user when root, on a free loopback port) with one database
# all nodes share. Then the test, in a process group of its own, starts on free loopback
# ports in one temporary directory: a private redis-server without persistence (its own
# directory), three nodes one after another (node ids 1, 2, 3 in join order) with
# --cluster-url, --database-url, a 2 s lease and a 5 s disconnect grace, and a private
# nginx rendered from deploy/nginx.conf with the three nodes as its upstream; and checks
# presence, chats, calls and profile changes across nodes, a sign-in held up by storage
# past the sign-in allowance, a node's SIGKILL, a Redis restart and a SIGTERM drain.
# Everything started is stopped on exit, failed or not (the process group and the
# PostgreSQL server). The last line is "N passed, N failed".
# PRESENCE_CLUSTER_LOGS=DIR keeps the nodes', nginx's and redis-server's logs in DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
test=Tests/Cluster/cluster_test.py
if [ "${1:-}" = "--harness-only" ]; then test=Tests/Cluster/harness_test.py; shift; fi
bin="${1:-$here/.build/release/presenced}"

export PATH="$PATH:/usr/sbin"
if ! command -v redis-server >/dev/null || ! command -v nginx >/dev/null || ! command -v openssl >/dev/null \
    || ! dpkg -s postgresql >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Where an init system runs, the packages also start the system's redis, PostgreSQL and
  # nginx on their usual ports; the test never uses them.
  apt-get install -y -q redis-server postgresql nginx openssl >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q redis-server postgresql nginx openssl >/dev/null; }
fi
venv=.venv-cluster
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import websockets, sys; sys.exit(websockets.__version__ != '17.4')" 2>/dev/null \
  || "$venv/bin/pip" install -q "websockets==17.4"

if [ ! -x "$bin" ] && [ "$test" = Tests/Cluster/cluster_test.py ]; then
  swift build -c release --product presenced
  bin="$here/.build/release/presenced"
fi

pg=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d)
pgdir=$(mktemp -d /tmp/presence-postgres.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$pgdir"
pgid=""
cleanup() {
  # The test and the redis-server, nginx and presenced processes it started share one
  # process group; PostgreSQL (pg_ctl daemonizes it) is stopped by its data directory.
  # The group is signalled even after the test exits, in case it left a child behind.
  if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null || true; sleep 1; kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  as_postgres "$pg/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work" "$pgdir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres "$pg/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
as_postgres "$pg/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c max_connections=200" start >/dev/null
as_postgres "$pg/createdb" -h 127.0.0.1 -p "$port" -U postgres presence_cluster
database_url="postgresql://postgres@127.0.0.1:$port/presence_cluster"
echo "PostgreSQL $("$pg/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, redis-server $(redis-server --version | grep -oE 'v=[0-9.]+' | cut -d= -f2), $(nginx -v 2>&1 | cut -d' ' -f3)"

set +e
setsid "$venv/bin/python" "$test" "$bin" "$database_url" "$here/deploy/nginx.conf" "$work" &
pgid=$!
wait "$pgid"
status=$?
set -e
exit "$status"
