#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (RFC 6455 + RFC 7692 conformance) against
# `presenced --port PORT --echo` and fails unless every expected case passed.
#
#   scripts/autobahn.sh [BINARY] [CASES]
#
# BINARY defaults to .build/release/presenced; CASES to "*" (all 517). A case passes when
# Autobahn's verdict is OK, NON-STRICT or INFORMATIONAL for both behaviour and close;
# FAILED, UNIMPLEMENTED, WRONG CODE or a missing case fails the run. The last line is
# "N passed, M failed".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="${1:-$here/.build/release/presenced}"
cases="${2:-*}"
expected="${AUTOBAHN_EXPECTED:-517}"
venv=$("$here/scripts/autobahn-venv.sh")
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

"$bin" --port "$port" --admin-listen off --echo --log-level warning &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then break; fi
  sleep 0.1
done

# wstest is single-threaded and spends most of the run in its own CPU (the compression
# groups 12 and 13 above all), so the cases run as two wstest processes in parallel, one
# per core, against the same server; their reports are merged below.
if [ "$cases" = "*" ]; then shards=("*|13.*" "13.*|"); else shards=("$cases|"); fi
pids=()
for i in "${!shards[@]}"; do
  include="${shards[$i]%%|*}"; exclude="${shards[$i]#*|}"
  excl_json=$([ -n "$exclude" ] && echo "\"$exclude\"" || true)
  mkdir -p "$work/$i"
  cat > "$work/$i/fuzzingclient.json" <<JSON
{
  "outdir": "$work/$i/reports/servers",
  "servers": [{"agent": "presenced", "url": "ws://127.0.0.1:$port/echo"}],
  "cases": ["$include"],
  "exclude-cases": [$excl_json],
  "exclude-agent-cases": {}
}
JSON
  (cd "$work/$i" && "$venv/bin/wstest" -m fuzzingclient -s fuzzingclient.json > "$work/$i/wstest.log" 2>&1) &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "wstest shard $i exited non-zero; its log:"; tail -30 "$work/$i/wstest.log"; exit 1; }
done

kill -0 $server 2>/dev/null || { echo "presenced died during the run"; exit 1; }
mkdir -p "$here/reports"
rm -rf "$here/reports/autobahn"; mkdir -p "$here/reports/autobahn"
for d in "$work"/*/reports/servers; do cp -r "$d"/. "$here/reports/autobahn/"; done

"$venv/bin/python" - "$expected" "$cases" "$here/reports/autobahn/index.json" "$work"/*/reports/servers/index.json <<'PY'
import json, sys
index = {"presenced": {}}
for path in sys.argv[4:]:
    index["presenced"].update(json.load(open(path)).get("presenced", {}))
json.dump(index, open(sys.argv[3], "w"), indent=1, sort_keys=True)
expected = int(sys.argv[1]) if sys.argv[2] == "*" else None
results = index.get("presenced", {})
good = {"OK", "NON-STRICT", "INFORMATIONAL"}
passed, failed = 0, []
for case, r in sorted(results.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
    if r["behavior"] in good and r["behaviorClose"] in good:
        passed += 1
    else:
        failed.append("%s: behavior=%s close=%s" % (case, r["behavior"], r["behaviorClose"]))
missing = (expected - len(results)) if expected is not None and len(results) < expected else 0
for f in failed: print("FAILED " + f)
if missing: print("MISSING %d of %d expected cases (the server stopped answering?)" % (missing, expected))
print("Autobahn: %d cases reported" % len(results))
print("%d passed, %d failed" % (passed, len(failed) + missing))
sys.exit(1 if failed or missing else 0)
PY
