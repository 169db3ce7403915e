#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what the README's test command is.
#
#   1. swift test          unit tests and end-to-end tests over real loopback sockets
#      then scripts/postgres.sh: the storage suites again on a private PostgreSQL
#   2. Autobahn|Testsuite  all 517 RFC 6455 / RFC 7692 cases against `presenced --echo`
#   3. load generator      a seconds-long smoke run of every scenario (loadtest/smoke.sh)
#   4. fuzzers             a short libFuzzer run of the frame decoder and handshake parser
#
# Everything it needs is installed or started here (msmtp from Debian, Python venvs from
# PyPI). Set
# SKIP_AUTOBAHN=1 or SKIP_FUZZ=1 to leave a stage out while iterating locally.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stage() { echo; echo "=== $1 ($(( $(date +%s) - start )) s)"; }

stage "test tools"
# libcurl (to build: Google's keys over HTTPS) and the openssl command (the HTTPS key-set
# tests make their CA with it).
# libpq-dev: the PostgreSQL backend of Storage links libpq.
if ! dpkg -s libcurl4-openssl-dev openssl libpq-dev >/dev/null 2>&1; then
  (apt-get install -y -q libcurl4-openssl-dev openssl libpq-dev >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libcurl4-openssl-dev openssl libpq-dev >/dev/null; })
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
swift test --skip-build --parallel

stage "storage on PostgreSQL"
scripts/postgres.sh

stage "release build"
swift build -c release --product presenced
swift build -c release --product presence-loadtest

if [ "${SKIP_AUTOBAHN:-0}" != 1 ]; then
  stage "Autobahn|Testsuite"
  scripts/autobahn.sh .build/release/presenced
fi

if [ -x loadtest/smoke.sh ]; then
  stage "load generator smoke run"
  loadtest/smoke.sh .build/release
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzzers (10 s each)"
  scripts/fuzz.sh 10
fi

stage "done"
