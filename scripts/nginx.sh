#!/usr/bin/env bash
# presenced behind a real nginx, configured by deploy/nginx.conf itself (Tests/Nginx/).
#
#   scripts/nginx.sh [PRESENCED]
#
# PRESENCED defaults to .build/release/presenced, built if missing. Installs nginx from
# Debian if missing, and the Python `websockets` client in the git-ignored venv .venv-nginx.
# Tests/Nginx/nginx_test.py starts private nginx and presenced processes on free loopback
# ports in one temporary directory (nginx with its own pid, logs and temp paths, never the
# system's), renders deploy/nginx.conf for them with exact substitutions, and checks over
# real sockets through nginx: sign-up, WebSocket sign-in and an event round trip, wss://
# through the file's TLS example switched on; a
# heartbeating connection outliving nginx's read timeout (a silent one cut: the control);
# per-address sign-up, failed sign-in and connection limits counting each forwarded
# client (and, as the control, one budget for all without trusted-proxy); spoofed
# X-Forwarded-For headers changing nothing; a node's SIGTERM drain (Close 1001) through
# nginx. Everything started is stopped on exit.
# The last line is "N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bin="${1:-$here/.build/release/presenced}"

# openssl makes the certificate of the TLS termination check.
if ! { command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null || ! command -v openssl >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # Where an init system runs, the package also starts the system's nginx on port 80; the
  # test never uses it.
  apt-get install -y -q nginx openssl >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx openssl >/dev/null; }
fi
export PATH="$PATH:/usr/sbin"
venv=.venv-nginx
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import websockets, sys; sys.exit(websockets.__version__ != '17.4')" 2>/dev/null \
  || "$venv/bin/pip" install -q "websockets==17.4"

if [ ! -x "$bin" ]; then
  swift build -c release --product presenced
  bin="$here/.build/release/presenced"
fi

work=$(mktemp -d)
pgid=""
cleanup() {
  # The test and the nginx and presenced processes it started share one process group.
  if [ -n "$pgid" ]; then kill -TERM -- "-$pgid" 2>/dev/null || true; sleep 1; kill -KILL -- "-$pgid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

set +e
setsid "$venv/bin/python" Tests/Nginx/nginx_test.py "$bin" "$here/deploy/nginx.conf" "$work" &
pgid=$!
wait "$pgid"
status=$?
pgid=""
set -e
exit "$status"
