"""presenced behind a real nginx, configured by deploy/nginx.conf itself.

Run by scripts/nginx.sh: python nginx_test.py PRESENCED DEPLOY_NGINX_CONF WORK_DIR
Starts, on loopback only and in one temporary directory: two presenced nodes (one with
--trusted-proxy 127.0.0.1, one without, the control) and one private nginx per node,
each rendered from deploy/nginx.conf with a handful of exact substitutions (paths, ports,
one upstream server, a 3 s WebSocket read timeout; on the first, the commented TLS example
switched on with a certificate for 127.0.0.1). Then checks over real sockets through
nginx, clients binding distinct loopback source addresses (127.0.0.2, 127.0.0.3, ...).
Prints one line per check and "N passed, N failed" last; stops everything it started.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

PRESENCED, DEPLOYED_CONF, WORK_DIR = sys.argv[1], sys.argv[2], sys.argv[3]
NGINX_READ_TIMEOUT = 3  # seconds; the deployed file says 120 s
PASSWORD = "Sunny#Day42x"

results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f": {detail}"), flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def render(template, tmp, listen_port, node_port, tls_port=None):
    """deploy/nginx.conf for a private nginx: each substitution must match exactly once.
    With tls_port, the file's commented TLS termination example is switched on, with a
    certificate made for 127.0.0.1."""
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read our 0700 temp dir
    substitutions = [
        ("user www-data;", user),
        ("pid /run/nginx.pid;", f"pid {tmp}/nginx.pid;"),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {tmp}/error.log warn;"),
        ("access_log /var/log/nginx/presenced.access.log presenced;", f"access_log {tmp}/access.log presenced;"),
        ("http {\n", "http {\n" + "".join(f"    {kind}_temp_path {tmp}/{kind};\n"
                                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))),
        ("        server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;\n"
         "        server 127.0.0.1:8082 max_fails=3 fail_timeout=10s;\n"
         "        server 127.0.0.1:8083 max_fails=3 fail_timeout=10s;\n",
         f"        server 127.0.0.1:{node_port} max_fails=3 fail_timeout=10s;\n"),
        ("        listen 80;\n        listen [::]:80;\n", f"        listen 127.0.0.1:{listen_port};\n"),
        ("proxy_read_timeout 120s;", f"proxy_read_timeout {NGINX_READ_TIMEOUT}s;"),
    ]
    if tls_port:
        substitutions += [
            ("#listen 443 ssl http2;\n        #listen [::]:443 ssl http2;\n", f"listen 127.0.0.1:{tls_port} ssl http2;\n"),
            ("#ssl_certificate     /etc/ssl/presence/fullchain.pem;", f"ssl_certificate {tmp}/cert.pem;"),
            ("#ssl_certificate_key /etc/ssl/presence/privkey.pem;", f"ssl_certificate_key {tmp}/key.pem;"),
            ("#ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.2 TLSv1.3;"),
            ("#ssl_session_cache shared:presence_tls:10m;", "ssl_session_cache shared:presence_tls:10m;"),
            ('#add_header Strict-Transport-Security "max-age=31536000" always;',
             'add_header Strict-Transport-Security "max-age=31536000" always;'),
        ]
    text = template
    for old, new in substitutions:
        count = text.count(old)
        if count != 1:
            raise RuntimeError(f"deploy/nginx.conf changed shape: {old!r} occurs {count} times, not once")
        text = text.replace(old, new)
    return text


class Stack:
    """One presenced node and one nginx in front of it."""

    def __init__(self, root, name, trusted):
        self.dir = os.path.join(root, name)
        self.trusted = trusted
        self.presenced = self.nginx = self.log = None
        os.makedirs(self.dir)
        self.node, self.admin, self.port = free_port(), free_port(), free_port()
        # The trusted stack also terminates TLS, as the file's commented example does.
        self.tls_port = free_port() if trusted else None

    def start(self):
        args = [PRESENCED, "--port", str(self.node), "--admin-listen", f"127.0.0.1:{self.admin}",
                "--data-dir", os.path.join(self.dir, "data"), "--log-level", "warning",
                "--sign-up-burst-per-address", "3", "--sign-up-refill-seconds-per-address", "3600",
                "--sign-in-burst-per-address", "3", "--sign-in-refill-seconds-per-address", "3600",
                "--max-connections-per-address", "3", "--presence-shards", "1"]
        if self.trusted:
            args += ["--trusted-proxy", "127.0.0.1"]
        self.log = open(os.path.join(self.dir, "presenced.log"), "w")
        self.presenced = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        if self.tls_port:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-keyout", os.path.join(self.dir, "key.pem"), "-out", os.path.join(self.dir, "cert.pem"),
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
        with open(DEPLOYED_CONF) as f:
            conf = render(f.read(), self.dir, self.port, self.node, self.tls_port)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        base = ["nginx", "-p", self.dir, "-c", self.conf, "-e", os.path.join(self.dir, "error.log")]
        test = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered deploy/nginx.conf: {test.stderr}")
        self.nginx = subprocess.Popen(base + ["-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.node, self.presenced, "presenced")
        wait_for_port(self.port, self.nginx, "nginx")

    def stop(self):
        for process in (self.nginx, self.presenced):
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.nginx, self.presenced):
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.log:
            self.log.close()

    def show_logs(self):
        # access.log: each request's status, time and upstream, for a failure's post-mortem
        # (a wss:// upgrade through the TLS listener once got no answer within 10 s, seen
        # once in a clean-clone run and not since).
        for name in ("error.log", "access.log", "presenced.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                print(f"--- {path} (last lines)")
                with open(path) as f:
                    print("".join(f.readlines()[-20:]), end="")

    # Clients

    def http(self, method, path, body=None, source="127.0.0.2", headers=None, direct=False):
        port = self.node if direct else self.port
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
        try:
            h = {"Content-Type": "application/json"} if body is not None else {}
            h.update(headers or {})
            c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
            r = c.getresponse()
            self.last_headers = dict(r.getheaders())
            return r.status, r.getheader("Content-Type") or "", r.read().decode()
        finally:
            c.close()

    def sign_up(self, email, source, headers=None, direct=False):
        status, _, body = self.http("POST", "/v1/accounts", {"email": email, "password": PASSWORD, "firstName": "T"},
                                    source=source, headers=headers, direct=direct)
        return status, body

    def tls_context(self):
        return ssl.create_default_context(cafile=os.path.join(self.dir, "cert.pem"))

    def ws(self, source, headers=None, tls=False):
        port = self.tls_port if tls else self.port
        sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
        scheme = "wss" if tls else "ws"
        return Client(connect(f"{scheme}://127.0.0.1:{port}/ws", sock=sock, subprotocols=["presence.v1"],
                              ssl=self.tls_context() if tls else None, additional_headers=headers or {},
                              open_timeout=10, ping_interval=None, legacy=True))


class Client:
    """A presence.v1 connection: requests matched by id, events kept in order."""

    def __init__(self, conn):
        self.conn = conn
        self.events = []
        self.next_id = 0
        self.last_seq = 0
        hello = json.loads(conn.recv(timeout=10))
        assert hello["type"] == "hello", hello

    def request(self, op, **fields):
        self.next_id += 1
        rid = str(self.next_id)
        self.conn.send(json.dumps({"op": op, "id": rid, **fields}))
        deadline = time.monotonic() + 10
        while True:
            message = json.loads(self.conn.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == rid:
                return message
            self.keep(message)

    def keep(self, message):
        if "seq" in message:
            self.last_seq = max(self.last_seq, message["seq"])
            self.events.append(message)

    def event(self, kind, seconds=10, **match):
        """The first event of this type (and members) seen or arriving within the time."""
        deadline = time.monotonic() + seconds
        while True:
            for e in self.events:
                if e.get("type") == kind and all(e.get(k) == v for k, v in match.items()):
                    return e
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                self.keep(json.loads(self.conn.recv(timeout=remaining)))
            except TimeoutError:
                return None

    def sign_in(self, email):
        return self.request("signIn", method="password", email=email, password=PASSWORD, device="desktop")

    def close(self):
        self.conn.close()


def run(trusted, plain):
    # 1. The web client, the API and the operator paths through nginx.
    status, ctype, body = trusted.http("GET", "/", source="127.0.0.9")
    check("web client / served through nginx", status == 200 and ctype.startswith("text/html"), f"{status} {ctype}")
    status, ctype, body = trusted.http("GET", "/v1/client-config", source="127.0.0.9")
    check("GET /v1/client-config through nginx", status == 200 and "json" in ctype, f"{status} {ctype} {body}")
    status, ctype, body = trusted.http("GET", "/no-such-file", source="127.0.0.9")
    check("a node's own error passes through nginx unchanged (404 not_found in JSON)",
          status == 404 and json.loads(body or "{}").get("code") == "not_found", f"{status} {body}")
    for path in ("/metrics", "/admin/sessions"):
        status, ctype, body = trusted.http("GET", path, source="127.0.0.9")
        check(f"{path} is not exposed through nginx (404 not_found)",
              status == 404 and ctype == "application/json" and json.loads(body).get("code") == "not_found", f"{status} {body}")
    status, ctype, body = trusted.http("POST", "/v1/accounts", body={"email": "x" * 70000}, source="127.0.0.9")
    check("a body over 64 KiB is refused by nginx: 413 request_too_large in JSON",
          status == 413 and ctype == "application/json" and json.loads(body).get("code") == "request_too_large", f"{status} {body}")
    c = http.client.HTTPConnection("127.0.0.1", trusted.admin, timeout=5)
    c.request("GET", "/metrics")
    r = c.getresponse()
    check("/metrics answers on the node's own admin listener (the positive control)", r.status == 200, r.status)
    r.read()
    c.close()

    # 2. Sign-up, sign-in and an event round trip over WebSockets through nginx.
    for email in ("ann@example.org", "bob@example.org"):
        status, body = trusted.sign_up(email, source="127.0.0.4")
        check(f"sign-up of {email} through nginx", status == 201, f"{status} {body}")
    ann, bob = trusted.ws("127.0.0.4"), trusted.ws("127.0.0.4")
    try:
        reply = ann.sign_in("ann@example.org")
        check("WebSocket sign-in through nginx", reply.get("type") == "ok" and reply.get("profile", {}).get("id") == "ann@example.org", reply)
        check("snapshot event after sign-in", ann.event("snapshot") is not None, ann.events)
        bob.sign_in("bob@example.org")
        ann.request("requestContact", user="bob@example.org")
        check("contact request arrives as an event", bob.event("contactRequest", **{"from": "ann@example.org"}) is not None, bob.events)
        bob.request("acceptContact", user="ann@example.org")
        added = ann.event("contactAdded", user="bob@example.org")
        # The view in contactAdded is the published one: bob's sign-in may still be in its
        # debounce (1 s), in which case a presence event follows.
        online = added if added and added.get("status") == "online" else ann.event("presence", user="bob@example.org", status="online")
        check("acceptance arrives as an event, then bob shows online", added is not None and online is not None, ann.events)
        reply = ann.request("send", to="bob@example.org", clientMessageId="m1", body="hello through nginx")
        chat = bob.event("chat", body="hello through nginx")
        check("chat round trip through nginx", reply.get("type") == "ok" and chat is not None and chat.get("from") == "ann@example.org",
              f"{reply} {chat}")
    finally:
        ann.close()
        bob.close()

    # 2b. TLS terminated by nginx (the file's example, switched on): wss:// and https://.
    c = http.client.HTTPSConnection("127.0.0.1", trusted.tls_port, timeout=10, context=trusted.tls_context())
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    c.close()
    check("https:// through nginx's TLS example, with Strict-Transport-Security",
          r.status == 200 and r.getheader("Strict-Transport-Security") == "max-age=31536000", f"{r.status} {r.getheaders()}")
    secure = trusted.ws("127.0.0.4", tls=True)
    try:
        reply = secure.sign_in("bob@example.org")
        check("wss:// sign-in through nginx's TLS termination", reply.get("type") == "ok", reply)
    finally:
        secure.close()

    # 3. nginx's read timeout (3 s here) does not cut a connection whose heartbeats flow,
    #    and does cut a silent one (the control: the timeout is live in this config, and
    #    presenced itself would not close it for 30 s).
    for email in ("dave@example.org", "erin@example.org"):
        trusted.sign_up(email, source="127.0.0.5")
    outcome = {}

    def heartbeating():
        client = trusted.ws("127.0.0.5")
        try:
            client.sign_in("dave@example.org")
            start = time.monotonic()
            while time.monotonic() - start < 2.5 * NGINX_READ_TIMEOUT:
                time.sleep(1)
                if client.request("heartbeat", lastSeq=client.last_seq).get("type") != "ok":
                    outcome["heartbeat"] = "heartbeat refused"
                    return
            outcome["heartbeat"] = client.request("activity").get("type")
            outcome["heartbeat_seconds"] = time.monotonic() - start
        except Exception as error:  # noqa: BLE001 - reported as the check's detail
            outcome["heartbeat"] = repr(error)
        finally:
            client.close()

    def silent():
        client = trusted.ws("127.0.0.6")
        try:
            client.sign_in("erin@example.org")
            start = time.monotonic()
            try:
                while True:
                    client.keep(json.loads(client.conn.recv(timeout=4 * NGINX_READ_TIMEOUT)))
            except ConnectionClosed:
                outcome["silent"] = time.monotonic() - start
            except TimeoutError:
                outcome["silent"] = None
        finally:
            client.close()

    threads = [threading.Thread(target=heartbeating), threading.Thread(target=silent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(f"a connection whose heartbeats flow outlives nginx's {NGINX_READ_TIMEOUT} s read timeout",
          outcome.get("heartbeat") == "ok" and outcome.get("heartbeat_seconds", 0) > 2 * NGINX_READ_TIMEOUT, outcome)
    cut = outcome.get("silent")
    check(f"control: a silent connection is cut by nginx after about {NGINX_READ_TIMEOUT} s",
          cut is not None and NGINX_READ_TIMEOUT - 0.5 <= cut <= NGINX_READ_TIMEOUT + 2, outcome)

    # 4. The per-address sign-up limit (3 here) counts each forwarded client.
    statuses = [trusted.sign_up(f"a{i}@example.org", source="127.0.0.2")[0] for i in range(3)]
    check("client 127.0.0.2 signs up 3 times through nginx", statuses == [201] * 3, statuses)
    status, body = trusted.sign_up("a3@example.org", source="127.0.0.2")
    check("control: its 4th sign-up is limited (429)", status == 429 and "rate_limited" in body, f"{status} {body}")
    status, body = trusted.sign_up("b0@example.org", source="127.0.0.3")
    check("client 127.0.0.3 is not limited by 127.0.0.2's sign-ups", status == 201, f"{status} {body}")
    for spoof in ("203.0.113.50", "127.0.0.3", "127.0.0.1, 203.0.113.50", "garbage"):
        status, body = trusted.sign_up("a4@example.org", source="127.0.0.2", headers={"X-Forwarded-For": spoof})
        check(f"a spoofed X-Forwarded-For: {spoof} does not lift 127.0.0.2's limit", status == 429, f"{status} {body}")
    status, body = trusted.sign_up("a5@example.org", source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.51"}, direct=True)
    check("straight to the node (an untrusted peer), X-Forwarded-For is ignored", status == 429, f"{status} {body}")

    # The control without --trusted-proxy: every client is nginx's 127.0.0.1, one budget.
    statuses = [plain.sign_up(f"p{i}@example.org", source="127.0.0.2")[0] for i in range(3)]
    status, body = plain.sign_up("q0@example.org", source="127.0.0.3")
    check("control: without trusted-proxy, 127.0.0.3 shares 127.0.0.2's limit (429)",
          statuses == [201] * 3 and status == 429, f"{statuses} {status}")

    # 4b. Failed WebSocket sign-ins (3 per address here) count the client found at upgrade.
    def failed_sign_in(client, n):
        return client.request("signIn", method="password", email=f"nobody{n}@example.org", password=PASSWORD,
                              device="desktop").get("code")

    guesser = trusted.ws("127.0.0.7")
    try:
        codes = [failed_sign_in(guesser, n) for n in range(4)]
        check("control: 127.0.0.7's 4th failed sign-in through nginx is rate_limited",
              codes == ["invalid_credentials"] * 3 + ["rate_limited"], codes)
    finally:
        guesser.close()
    spoofer = trusted.ws("127.0.0.7", headers={"X-Forwarded-For": "203.0.113.53"})
    try:
        code = failed_sign_in(spoofer, 10)
        check("a spoofed X-Forwarded-For on the upgrade does not lift 127.0.0.7's sign-in limit", code == "rate_limited", code)
    finally:
        spoofer.close()
    other = trusted.ws("127.0.0.8")
    try:
        code = failed_sign_in(other, 20)
        check("127.0.0.8's sign-in is not limited by 127.0.0.7's failures", code == "invalid_credentials", code)
    finally:
        other.close()

    # 5. The per-address connection limit (3 here) counts forwarded clients at upgrade.
    held = [trusted.ws("127.0.0.2") for _ in range(3)]
    try:
        try:
            extra = trusted.ws("127.0.0.2", headers={"X-Forwarded-For": "203.0.113.52"})
            extra.close()
            check("control: a 4th WebSocket of 127.0.0.2 is refused 503 (spoofed header and all)", False, "it opened")
        except InvalidStatus as error:
            check("control: a 4th WebSocket of 127.0.0.2 is refused 503 (spoofed header and all)",
                  error.response.status_code == 503, error.response.status_code)
        other = trusted.ws("127.0.0.3")
        check("127.0.0.3 still opens a WebSocket through the same nginx", other is not None)
        other.close()
    finally:
        for client in held:
            client.close()

    # 6. A malformed X-Forwarded-For from the trusted proxy address is counted.
    c = http.client.HTTPConnection("127.0.0.1", trusted.node, timeout=5, source_address=("127.0.0.1", 0))
    c.request("GET", "/healthz", headers={"X-Forwarded-For": "203.0.113.5:443"})
    c.getresponse().read()
    c.close()
    value = None
    for _ in range(30):  # loops publish their counts once a second
        c = http.client.HTTPConnection("127.0.0.1", trusted.admin, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        line = next((l for l in text.splitlines() if l.startswith("presence_forwarded_for_malformed_total")), None)
        value = line.split()[-1] if line else None
        if value == "1":
            break
        time.sleep(0.2)
    check("a malformed X-Forwarded-For from a trusted peer counts in presence_forwarded_for_malformed_total", value == "1", value)

    # 7. A node draining on SIGTERM (a restart): its Close 1001 with the reconnect hint
    #    reaches the client through nginx, and the node exits 0.
    client = trusted.ws("127.0.0.9")
    client.sign_in("ann@example.org")
    trusted.presenced.send_signal(signal.SIGTERM)
    close = None
    try:
        while True:
            client.keep(json.loads(client.conn.recv(timeout=10)))
    except ConnectionClosed as closed:
        close = closed.rcvd
    except TimeoutError:
        pass
    check("SIGTERM on the node: Close 1001 'server shutting down; reconnect in N ms' arrives through nginx",
          close is not None and close.code == 1001 and close.reason.startswith("server shutting down; reconnect in"), close)
    try:
        code = trusted.presenced.wait(timeout=15)
    except subprocess.TimeoutExpired:
        code = None
    check("the node drains and exits 0 behind nginx", code == 0, code)
    for path in ("/v1/client-config", "/ws"):
        status, ctype, body = trusted.http("GET", path, source="127.0.0.9")
        check(f"with its only node gone, nginx answers {path} 503 server_busy in presenced's JSON error shape",
              status == 503 and ctype == "application/json" and json.loads(body or "{}").get("code") == "server_busy"
              and trusted.last_headers.get("Retry-After") == "5", f"{status} {ctype} {body} {trusted.last_headers}")


def main():
    # SIGTERM (scripts/nginx.sh's trap) stops the processes through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = tempfile.mkdtemp(prefix="presence-nginx-", dir=WORK_DIR)
    stacks = []
    try:
        try:
            stacks = [Stack(root, "trusted", trusted=True), Stack(root, "plain", trusted=False)]
            for stack in stacks:
                stack.start()
            check("nginx accepts deploy/nginx.conf, rendered, and proxies to presenced", True)
            run(*stacks)
        except Exception:  # noqa: BLE001 - any crash is a failed check, with its trace
            traceback.print_exc()
            check("the test ran to the end", False, "exception above")
        if not all(results):
            for stack in stacks:
                stack.show_logs()
    finally:
        for stack in stacks:
            stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
