#!/usr/bin/env bash
# The web client and presence-client.js in real Chromium (Tests/Browser/).
#
#   scripts/browser-tests.sh [PRESENCED]
#
# PRESENCED defaults to .build/release/presenced, built if missing. Installs what it needs:
# chromium, chromium-driver and node-typescript (the JSDoc type check) from Debian, Selenium,
# pytest and cryptography from PyPI in the git-ignored venv .venv-browser. The tests start their own presenced servers on free loopback ports,
# each with a temporary data directory (Tests/Browser/conftest.py); everything started here
# is stopped on exit. Screenshots go to Tests/Browser/screenshots/ (git-ignored), and the
# messenger screenshot is copied to docs/web-client.png for the README.
# The last line is "N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bin="${1:-$here/.build/release/presenced}"

# node-typescript only checks the JSDoc types of the shipped scripts (Tests/Browser/test_types.py).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v tsc >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium chromium-driver node-typescript >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver node-typescript >/dev/null; }
fi
venv=.venv-browser
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# cryptography signs the stand-in Google ID tokens of the Sign in with Google test.
"$venv/bin/python" -c "import selenium, pytest, cryptography" 2>/dev/null \
  || "$venv/bin/pip" install -q "selenium==4.*" "pytest>=8" "cryptography>=42"

if [ ! -x "$bin" ]; then
  swift build -c release --product presenced
  bin="$here/.build/release/presenced"
fi

work=$(mktemp -d)
pgid=""
cleanup() {
  # pytest and the servers it started share one process group.
  if [ -n "$pgid" ]; then kill -TERM -- "-$pgid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

set +e
PRESENCED="$bin" CHROMIUM="$(command -v chromium)" CHROMEDRIVER="$(command -v chromedriver)" \
  setsid "$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$work/junit.xml" Tests/Browser &
pgid=$!
wait "$pgid"
status=$?
pgid=""
set -e

if [ -f Tests/Browser/screenshots/08-messenger.png ]; then
  mkdir -p docs && cp Tests/Browser/screenshots/08-messenger.png docs/web-client.png
fi
python3 - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 passed, 1 failed (no test report)")
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{total - failed - skipped} passed, {failed} failed")
PY
exit "$status"
