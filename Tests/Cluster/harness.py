"""The processes of a private presenced cluster on loopback: redis-server, nginx and the nodes.

Used by cluster_test.py and harness_test.py (run by scripts/cluster.sh, which also starts
the private PostgreSQL they share and passes its URL). Every process is a child of this
Python process, in the process group scripts/cluster.sh made, and Cluster.stop() ends
them all; the script's trap kills the group as a backstop.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

ADMIN_TOKEN = "cluster-test-admin-token-0123456789"
PASSWORD = "Sunny#Day42x"


class StartError(RuntimeError):
    """A process did not come up; the message carries the tail of its log."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def tail(path, lines=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return f"(no {path})"


def wait_for_port(port, process, what, log, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"{what} exited with {process.returncode} before listening on {port}; "
                             f"last lines of {log}:\n{tail(log)}")
        if is_listening(port):
            return
        time.sleep(0.05)
    raise StartError(f"{what} did not listen on {port} within {seconds} s; last lines of {log}:\n{tail(log)}")


def stop_process(process, sig=signal.SIGTERM, seconds=10):
    """Signal a child and reap it; SIGKILL if it outlives `seconds`. Returns its exit code."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


def rendezvous_home(user, members):
    """Protocol/cluster.md, "Homes": FNV-1a 64 of the user id, MurmurHash3's fmix64, the
    highest weight wins and a tie goes to the lower id. Pinned against
    Tests/ClusterTests/RendezvousHashTests.swift by harness_test.py."""
    mask = (1 << 64) - 1

    def fmix(k):
        k ^= k >> 33
        k = (k * 0xFF51AFD7ED558CCD) & mask
        k ^= k >> 33
        k = (k * 0xC4CEB9FE1A85EC53) & mask
        k ^= k >> 33
        return k

    h = 0xCBF29CE484222325
    for byte in user.encode():
        h = ((h ^ byte) * 0x100000001B3) & mask
    best = None
    for node in sorted(members):
        w = fmix(h ^ fmix((node * 0x9E3779B97F4A7C15) & mask))
        if best is None or w > best[1]:
            best = (node, w)
    return best[0] if best else None


class Redis:
    """A private redis-server without persistence, restartable on the same port."""

    def __init__(self, root):
        self.dir = os.path.join(root, "redis")
        os.makedirs(self.dir)
        self.port = free_port()
        self.process = None
        self.log = os.path.join(self.dir, "redis.log")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", self.log, "--daemonize", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "redis-server", self.log, seconds=10)
        deadline = time.monotonic() + 10
        while self.command("PING") != "PONG":  # listening comes before loading is done
            if time.monotonic() > deadline:
                raise StartError(f"redis-server on {self.port} does not answer PING:\n{tail(self.log)}")
            time.sleep(0.05)

    def stop(self):
        code = stop_process(self.process)
        self.process = None
        return code

    def command(self, *args, timeout=2):
        """One command over RESP; the reply decoded (str, int, list, None), or an
        OSError/RuntimeError's text when Redis is unreachable or answers an error."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
                out = f"*{len(args)}\r\n".encode()
                for a in args:
                    b = str(a).encode()
                    out += b"$%d\r\n%s\r\n" % (len(b), b)
                s.sendall(out)
                return _read_resp(s.makefile("rb"))
        except (OSError, RuntimeError) as error:
            return f"error: {error}"

    def live_nodes(self):
        """The live-node index presenced keeps (Protocol/cluster.md, "Keys and channels")."""
        reply = self.command("ZRANGE", "presence:nodes", 0, -1)
        return sorted(int(m) for m in reply) if isinstance(reply, list) else None


def _read_resp(f):
    line = f.readline()
    if not line:
        raise RuntimeError("connection closed")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_resp(f) for _ in range(n)]
    raise RuntimeError(f"unexpected RESP {line!r}")


def render_nginx(template, tmp, listen_port, node_ports):
    """deploy/nginx.conf for a private nginx in front of the test's nodes; each substitution
    must match exactly once (as in Tests/Nginx/nginx_test.py), so a change of the file's
    shape fails here loudly instead of testing something else."""
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read our 0700 temp dir
    upstream = "".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in node_ports)
    substitutions = [
        ("user www-data;", user),
        ("pid /run/nginx.pid;", f"pid {tmp}/nginx.pid;"),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {tmp}/error.log warn;"),
        ("access_log /var/log/nginx/presenced.access.log presenced;", f"access_log {tmp}/access.log presenced;"),
        ("http {\n", "http {\n" + "".join(f"    {kind}_temp_path {tmp}/{kind};\n"
                                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))),
        ("        server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;\n"
         "        server 127.0.0.1:8082 max_fails=3 fail_timeout=10s;\n"
         "        server 127.0.0.1:8083 max_fails=3 fail_timeout=10s;\n", upstream),
        ("        listen 80;\n        listen [::]:80;\n", f"        listen 127.0.0.1:{listen_port};\n"),
    ]
    text = template
    for old, new in substitutions:
        count = text.count(old)
        if count != 1:
            raise StartError(f"deploy/nginx.conf changed shape: {old!r} occurs {count} times, not once")
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, root, template_path, node_ports):
        self.dir = os.path.join(root, "nginx")
        os.makedirs(self.dir)
        self.port = free_port()
        self.node_ports = node_ports
        self.template_path = template_path
        self.process = None
        self.log = os.path.join(self.dir, "error.log")

    def start(self):
        with open(self.template_path) as f:
            conf = render_nginx(f.read(), self.dir, self.port, self.node_ports)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        base = ["nginx", "-p", self.dir, "-c", self.conf, "-e", self.log]
        test = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise StartError(f"nginx -t refused the rendered deploy/nginx.conf: {test.stderr}")
        self.process = subprocess.Popen(base + ["-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "nginx", self.log, seconds=10)

    def stop(self):
        code = stop_process(self.process)  # SIGTERM: fast shutdown of master and workers
        self.process = None
        return code


class Node:
    """One presenced node of the cluster: public port, operator listener, own data dir."""

    def __init__(self, root, name, presenced, database_url, redis, options):
        self.name = name
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.presenced = presenced
        self.database_url = database_url
        self.redis = redis
        self.options = options
        self.port, self.admin = free_port(), free_port()
        self.process = None
        self.id = None  # the node id it drew in Redis (Protocol/cluster.md, "Node ids")
        self.log = os.path.join(self.dir, "presenced.log")

    def args(self):
        o = self.options
        return [self.presenced, "--host", "127.0.0.1", "--port", str(self.port),
                "--admin-listen", f"127.0.0.1:{self.admin}", "--admin-token", ADMIN_TOKEN,
                "--data-dir", os.path.join(self.dir, "data"),
                "--database-url", self.database_url, "--cluster-url", self.redis.url,
                "--node-lease-seconds", str(o["lease"]), "--disconnect-grace-seconds", str(o["grace"]),
                "--presence-shards", str(o["shards"]), "--debounce-ms", str(o["debounce_ms"]),
                "--log-level", o.get("log_level", "info"),
                # Through nginx every client is 127.0.0.1 (no trusted-proxy here): lift
                # the per-address budgets so the test's own sign-ups never hit them.
                "--sign-up-burst-per-address", "1000", "--sign-in-burst-per-address", "1000",
                "--sign-in-burst-per-account", "1000", "--max-connections-per-address", "10000"]

    def start(self, seconds=30):
        before = set(self.redis.live_nodes() or [])
        self.logfile = open(self.log, "a")
        try:
            self.process = subprocess.Popen(self.args(), stdout=self.logfile, stderr=subprocess.STDOUT)
        except OSError as error:
            raise StartError(f"presenced {self.name} could not be started: {error}") from None
        wait_for_port(self.port, self.process, f"presenced {self.name}", self.log, seconds=seconds)
        # Its id: the member that appeared in the live-node index since it started.
        deadline = time.monotonic() + 10
        while True:
            now = set(self.redis.live_nodes() or [])
            new = sorted(now - before)
            if len(new) == 1:
                self.id = new[0]
                return
            if self.process.poll() is not None:
                raise StartError(f"presenced {self.name} exited with {self.process.returncode}:\n{tail(self.log)}")
            if time.monotonic() > deadline:
                raise StartError(f"presenced {self.name} listens on {self.port} but no single new member "
                                 f"joined presence:nodes (before {sorted(before)}, now {sorted(now)})\n{tail(self.log)}")
            time.sleep(0.05)

    def kill(self):
        """SIGKILL: no drain, no lease release; the others learn it when the lease expires."""
        self.process.kill()
        self.process.wait(timeout=5)

    def stop(self):
        code = stop_process(self.process, seconds=15)
        if getattr(self, "logfile", None):
            self.logfile.close()
        return code

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None

    def admin_get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.admin, timeout=5)
        try:
            c.request("GET", path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def members_seen(self):
        """How many live members this node reports, if its /metrics has such a gauge (its
        name is not specified; any presence_cluster_*members/nodes gauge is taken)."""
        try:
            status, text = self.admin_get("/metrics")
        except OSError:
            return None
        if status != 200:
            return None
        for line in text.splitlines():
            m = re.match(r"^presence_cluster_\w*(members|nodes)\w*(\{[^}]*\})?\s+([0-9.]+)$", line)
            if m:
                return int(float(m.group(3)))
        return None


class Cluster:
    """Redis, N nodes started one after another (so ids follow join order), nginx in front."""

    def __init__(self, root, presenced, database_url, nginx_template, nodes=3, **options):
        self.root = root
        self.options = {"lease": 2, "grace": 5, "shards": 2, "debounce_ms": 100}
        self.options.update(options)
        self.redis = Redis(root)
        self.nodes = [Node(root, f"node{i + 1}", presenced, database_url, self.redis, self.options)
                      for i in range(nodes)]
        self.nginx = Nginx(root, nginx_template, [n.port for n in self.nodes])

    def start(self):
        self.redis.start()
        self.nginx.start()
        for node in self.nodes:
            node.start()
        self.settle()

    def live(self):
        return [n for n in self.nodes if n.alive]

    def by_id(self, node_id):
        return next((n for n in self.nodes if n.id == node_id), None)

    def settle(self, seconds=10):
        """Wait until Redis lists exactly the live nodes and each node (where /metrics says)
        sees them all, then one poll interval more: a sign-in before every node agrees on
        the members would be closed with 1012 by the next membership change."""
        want = sorted(n.id for n in self.live())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            seen = [n.members_seen() for n in self.live()]
            if self.redis.live_nodes() == want and all(s is None or s == len(want) for s in seen):
                break
            time.sleep(0.1)
        time.sleep(1.5)

    def stop(self):
        """Everything, in an order that keeps nginx from retrying dead nodes: nodes, nginx, redis."""
        for node in self.nodes:
            try:
                node.stop()
            except Exception:  # noqa: BLE001 - stop the rest regardless
                pass
        for part in (self.nginx, self.redis):
            try:
                part.stop()
            except Exception:  # noqa: BLE001
                pass

    def show_logs(self):
        for path in [n.log for n in self.nodes] + [self.nginx.log, self.redis.log]:
            if os.path.exists(path):
                print(f"--- {path} (last lines)")
                print(tail(path, 30), end="")

    def http(self, method, path, body=None, port=None):
        c = http.client.HTTPConnection("127.0.0.1", port or self.nginx.port, timeout=15)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def sign_up(self, email, first="T"):
        return self.http("POST", "/v1/accounts", {"email": email, "password": PASSWORD, "firstName": first})
