#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what the README's test command is.
#
#   1. swift test          unit tests and end-to-end tests over real loopback sockets,
#                          then scripts/postgres.sh: the storage suites again on a private
#                          PostgreSQL, and an end-to-end gateway test on it
#   2. the web client and presence-client.js in headless Chromium (Selenium)
#   3. testssl.sh          the TLS listener: no HIGH or CRITICAL finding
#   4. schemathesis        the server against Protocol/openapi.yaml
#   5. load generator      a seconds-long smoke run of every scenario (loadtest/smoke.sh)
#   6. Autobahn|Testsuite  all 517 RFC 6455 / RFC 7692 cases against `presenced --echo`
#                          (in the background, beside 2-5)
#   7. fuzzers             a short libFuzzer run of the frame decoder and handshake parser
#   8. cluster             three nodes behind nginx on a private Redis and PostgreSQL
#                          (scripts/cluster.sh): presence, Hidden, chats, calls and profile
#                          changes across nodes, kill -9 of a node, a Redis restart
#
# Everything it needs is installed or started here (Debian packages, Python venvs from
# PyPI, private servers on loopback). Set
# SKIP_AUTOBAHN=1 or SKIP_FUZZ=1 to leave a stage out while iterating locally.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stage() { echo; echo "=== $1 ($(( $(date +%s) - start )) s)"; }

stage "test tools"
# libcurl (to build: Google's keys over HTTPS) and the openssl command (the HTTPS key-set
# tests make their CA with it).
# libpq-dev: the PostgreSQL backend of Storage links libpq.
# libhiredis-dev: the Cluster module links hiredis; ClusterTests start private redis-servers.
# libjemalloc-dev: the gateway's allocator (Sources/CJemalloc).
if ! dpkg -s libcurl4-openssl-dev openssl libpq-dev libhiredis-dev libjemalloc-dev redis-server >/dev/null 2>&1; then
  (apt-get install -y -q libcurl4-openssl-dev openssl libpq-dev libhiredis-dev libjemalloc-dev redis-server >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libcurl4-openssl-dev openssl libpq-dev libhiredis-dev libjemalloc-dev redis-server >/dev/null; })
fi
# msmtp (Debian) and aiosmtpd (PyPI): mail leaves through a real sendmail-compatible
# program to a real SMTP server on loopback in MailDeliveryTests.
if ! command -v msmtp >/dev/null; then
  (apt-get install -y -q msmtp >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q msmtp >/dev/null; })
fi
tools=.venv-tools
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/python" -c "import aiosmtpd" 2>/dev/null || "$tools/bin/pip" install -q "aiosmtpd==1.4.6"
export PRESENCE_SMTP_PYTHON="$PWD/$tools/bin/python"

stage "swift test"
swift build --build-tests
# The Redis suites fail, rather than skip, if redis-server is missing.
PRESENCE_TEST_REQUIRE_REDIS=1 swift test --skip-build --parallel
# The presence core's whole suite again on three shards (seconds): every behaviour holds
# whichever shards its users land on.
PRESENCE_TEST_SHARDS=3 swift test --skip-build --filter PresenceTests

stage "storage on PostgreSQL"
scripts/postgres.sh

stage "release build"
swift build -c release --product presenced
swift build -c release --product presence-loadtest

# The stages below all use the release binary. Autobahn (CPU-bound wstest, two shards)
# runs in the background beside them: the browser, TLS and contract stages spend much of
# their time waiting on browsers, handshakes and sockets. Every stage runs even when an
# earlier one failed; the last line counts them.
logs=$(mktemp -d)
passed=0; failed=0; failures=()
record() {  # record NAME STATUS
  if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}
run() {  # run NAME COMMAND...
  local name=$1; shift
  stage "$name"
  local status=0
  "$@" || status=$?
  record "$name" "$status"
}

if [ "${SKIP_AUTOBAHN:-0}" != 1 ]; then
  scripts/autobahn.sh .build/release/presenced >"$logs/autobahn.log" 2>&1 &
  autobahn=$!
fi

run "web client in Chromium" scripts/browser-tests.sh .build/release/presenced
run "TLS configuration (testssl.sh)" scripts/testssl.sh .build/release/presenced
run "HTTP contract (schemathesis against openapi.yaml)" scripts/schemathesis.sh .build/release/presenced
run "load generator smoke run" loadtest/smoke.sh .build/release
run "presenced behind nginx (deploy/nginx.conf)" scripts/nginx.sh .build/release/presenced
run "three nodes as one cluster (scripts/cluster.sh)" scripts/cluster.sh .build/release/presenced

if [ -n "${autobahn:-}" ]; then
  stage "Autobahn|Testsuite (ran in the background)"
  status=0
  wait "$autobahn" || status=$?
  cat "$logs/autobahn.log"
  record "Autobahn|Testsuite" "$status"
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  run "fuzzers (10 s each)" scripts/fuzz.sh 10
fi

stage "done"
[ ${#failures[@]} = 0 ] || echo "failed stages: ${failures[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" = 0 ]
