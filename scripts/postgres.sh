#!/usr/bin/env bash
# A private PostgreSQL for the tests, then the storage-touching suites run on it.
#
#   scripts/postgres.sh                 run StorageTests and the AccountsTests that store (with
#                                       PRESENCE_TEST_STORAGE=postgres) and PostgresGatewayTests on it,
#                                       then PostgresRestartTests alone (it stops and starts the server)
#   scripts/postgres.sh CMD ARGS...     run CMD with PRESENCE_TEST_DATABASE_URL set instead
#
# Installs postgresql and libpq-dev from Debian if missing, initdb's a cluster into a temp
# directory as the postgres user (initdb and postgres refuse to run as root), starts it
# on 127.0.0.1 at a free port with its unix socket in that directory, creates one
# database for this run, exports PRESENCE_TEST_DATABASE_URL, and stops and removes it
# all on exit, failed or not. Expects the tests built (swift build --build-tests).
# PRESENCE_POSTGRES_OPTIONS adds server options (`-c name=value …`), e.g. for measurements.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s postgresql libpq-dev >/dev/null 2>&1; then
  (apt-get install -y -q postgresql libpq-dev >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q postgresql libpq-dev >/dev/null; })
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/presence-postgres.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
stop() {
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 ${PRESENCE_POSTGRES_OPTIONS:-}"
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null
as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres presence_test
export PRESENCE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/presence_test"
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"

if [ $# -gt 0 ]; then
  "$@"
  exit $?
fi

# The suites that store, as SQLite runs them in the main `swift test`, now on PostgreSQL
# (the other AccountsTests touch no database), plus the end-to-end gateway tests.
log="$dir/swift-test.log"
status=0
PRESENCE_TEST_STORAGE=postgres swift test --skip-build \
  --filter 'StorageTests\.|AccountsTests\.(AccountLifecycleTests|OutboxTests|PasswordResetTests|SignInTests)/|GatewayTests\.PostgresGatewayTests' 2>&1 | tee "$log" || status=$?
summary=$(grep -E "Executed [0-9]+ tests?" "$log" | tail -n 1 || true)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE "^[0-9]+" | head -n 1 || true; }
executed=$(count "tests?,"); failed=$(count "failures?"); skipped=$(count "tests? skipped")
executed=${executed:-0}; failed=${failed:-0}; skipped=${skipped:-0}
# Swift Testing (the gateway suites) reports apart: "Test run with N tests ... passed/failed".
run=$(grep -E "Test run with [0-9]+ tests?" "$log" | tail -n 1 || true)
if [ -n "$run" ]; then
  total=$(grep -oE "with [0-9]+ tests?" <<<"$run" | grep -oE "[0-9]+")
  broken=$(grep -cE "Test [^rCS].* failed after" "$log" || true)
  executed=$((executed + total)); failed=$((failed + broken))
  skipped=$((skipped + $(grep -cE "Test [^rCS].* skipped" "$log" || true)))
fi

# PostgresRestartTests stops and starts this server, so it runs alone, after the others.
runner=""; [ "$(id -u)" = 0 ] && runner="runuser -u postgres --"
export PRESENCE_TEST_POSTGRES_STOP="$runner $(printf '%q ' "$bin/pg_ctl" -D "$dir/data" -m fast -w stop)"
export PRESENCE_TEST_POSTGRES_START="$runner $(printf '%q ' "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start)"
restart_log="$dir/swift-test-restart.log"
if swift test --skip-build --filter 'GatewayTests\.PostgresRestartTests' >"$restart_log" 2>&1 \
    && grep -qE "Test run with 1 test .*passed" "$restart_log"; then
  executed=$((executed + 1))
else
  cat "$restart_log"
  executed=$((executed + 1)); failed=$((failed + 1)); status=1
fi
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "PostgreSQL storage tests: $((executed - failed - skipped)) passed, $failed failed ($skipped skipped)"
exit "$status"
