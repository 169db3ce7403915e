#!/usr/bin/env bash
# TLS configuration check: testssl.sh (Debian package testssl.sh) against presenced's TLS
# listener on loopback, with a certificate from a throw-away CA made here. Fails on any
# HIGH or CRITICAL finding.
#
#   scripts/testssl.sh [path/to/presenced]      (default .build/release/presenced)
#
# Checks run: protocols (-p), cipher categories (-s), forward secrecy (-f), every
# vulnerability check (-U) and the certificate and server defaults (-S). Left out as not
# applicable to a TLS server with no web pages and slow: the per-cipher listing (-e, -E),
# the client simulations (-c) and the HTTP header checks (-h). About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/release/presenced}"
[ -x "$bin" ] || { echo "no presenced at $bin (build it first)"; exit 1; }

if ! command -v testssl >/dev/null; then
  apt-get install -y -q testssl.sh >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q testssl.sh >/dev/null; }
fi

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# A CA and a server certificate for localhost/127.0.0.1 (a year, so the expiry checks pass;
# a CRL distribution point, so the revocation check has something to find).
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$work/ca-key.pem" -out "$work/ca.pem" -days 365 -subj "/CN=presence testssl CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req "${ec[@]}" -keyout "$work/key.pem" -out "$work/cert.csr" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "crlDistributionPoints=URI:http://127.0.0.1/ca.crl" \
  -addext "extendedKeyUsage=serverAuth" 2>/dev/null
openssl x509 -req -in "$work/cert.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial \
  -copy_extensions copyall -days 365 -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/ca.pem" > "$work/chain.pem"

"$bin" --host 127.0.0.1 --port 0 --tls-port 0 --tls-cert "$work/chain.pem" --tls-key "$work/key.pem" \
  --admin-listen off --data-dir "$work/data" --log-level info 2>"$work/server.log" &
server=$!
tls_port=""
for _ in $(seq 100); do
  tls_port=$(sed -n 's/.*ports=[0-9]*,\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
  [ -n "$tls_port" ] && break
  sleep 0.1
done
[ -n "$tls_port" ] || { echo "presenced did not start:"; cat "$work/server.log"; echo "0 passed, 1 failed"; exit 1; }

echo "testssl.sh against 127.0.0.1:$tls_port"
testssl --quiet --color 0 --warnings batch --add-ca "$work/ca.pem" --jsonfile "$work/testssl.json" \
  -p -s -f -U -S "127.0.0.1:$tls_port" >"$work/testssl.out" 2>&1 || true
kill -0 "$server" 2>/dev/null || { echo "presenced died during the scan"; echo "0 passed, 1 failed"; exit 1; }

python3 - "$work/testssl.json" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
if not findings:
    print("testssl.sh produced no findings"); print("0 passed, 1 failed"); sys.exit(1)
bad = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL")]
notes = [f for f in findings if f.get("severity") in ("MEDIUM", "LOW", "WARN")]
for f in notes: print(f"note  {f['severity']:<8} {f['id']}: {f['finding']}")
for f in bad: print(f"FAIL  {f['severity']:<8} {f['id']}: {f['finding']}")
print(f"{len(findings) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
PY
