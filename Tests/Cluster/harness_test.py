"""The cluster harness itself, without a cluster: `scripts/cluster.sh --harness-only [PRESENCED]`.

Run by scripts/cluster.sh: python harness_test.py PRESENCED DATABASE_URL DEPLOY_NGINX_CONF WORK_DIR
Checks what cluster_test.py relies on and needs no presenced with --cluster-url: the
private PostgreSQL answers; redis-server starts without persistence and restarts on the
same port empty; nginx accepts deploy/nginx.conf rendered with the three test nodes and,
with none of them up, answers 503 server_busy in presenced's JSON shape; the Python
rendition of rendezvous hashing gives the values RendezvousHashTests pins; and a node
that fails to start (PRESENCED is e.g. a binary without --cluster-url) is reported with
its log and leaves no process behind. Last line "N passed, N failed".
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

from harness import Cluster, StartError, is_listening, rendezvous_home

PRESENCED, DATABASE_URL, NGINX_CONF, WORK_DIR = sys.argv[1:5]
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f": {detail}"), flush=True)
    return condition


def run(root):
    # Rendezvous hashing as Tests/ClusterTests/RendezvousHashTests.swift pins it.
    pinned = [rendezvous_home(u, range(1, 7)) for u in
              ("ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com")]
    check("the Python rendition of rendezvous hashing gives the pinned homes [2, 4, 1, 2, 6]",
          pinned == [2, 4, 1, 2, 6], pinned)

    # PostgreSQL from scripts/cluster.sh.
    out = subprocess.run(["psql", DATABASE_URL, "-tAc", "select 40 + 2"], capture_output=True, text=True, timeout=20)
    check("the private PostgreSQL answers at the URL the nodes get", out.stdout.strip() == "42", out.stderr)

    cluster = Cluster(root, PRESENCED, DATABASE_URL, NGINX_CONF)
    try:
        redis = cluster.redis
        redis.start()
        check(f"redis-server answers PING on 127.0.0.1:{redis.port}", redis.command("PING") == "PONG")
        redis.command("SET", "presence:harness", "1")
        check("control: a key set before the restart reads back", redis.command("GET", "presence:harness") == "1")
        redis.stop()
        check("redis-server stopped: its port is closed", not is_listening(redis.port))
        check("redis-server reports no PING while stopped", str(redis.command("PING")).startswith("error"))
        redis.start()
        check("redis-server restarts on the same port, empty (no persistence)",
              redis.command("PING") == "PONG" and redis.command("GET", "presence:harness") is None,
              redis.command("GET", "presence:harness"))
        check("no dump.rdb or appendonly file in its directory",
              not any(f.startswith(("dump", "appendonly")) for f in os.listdir(redis.dir)), os.listdir(redis.dir))
        check("the live-node index reads empty before any node joins", redis.live_nodes() == [], redis.live_nodes())

        nginx = cluster.nginx
        nginx.start()
        with open(nginx.conf) as f:
            conf = f.read()
        servers = [f"server 127.0.0.1:{n.port} max_fails=3 fail_timeout=10s;" for n in cluster.nodes]
        check("nginx runs deploy/nginx.conf rendered with the three test nodes as its upstream",
              all(conf.count(s) == 1 for s in servers) and "server 127.0.0.1:808" not in conf, servers)
        status, body = cluster.http("GET", "/v1/client-config")
        check("with no node up, nginx answers 503 server_busy in presenced's JSON shape",
              status == 503 and json.loads(body).get("code") == "server_busy", f"{status} {body}")
        status, body = cluster.http("GET", "/metrics")
        check("nginx does not expose /metrics (404 not_found)", status == 404, f"{status} {body}")

        # A node that cannot start: reported with its log; the rest keeps running until stop().
        node = cluster.nodes[0]
        try:
            node.start(seconds=15)
            check("a node started (PRESENCED has --cluster-url): the failure path is not exercised", True)
            node.stop()
        except StartError as error:
            check("a node that fails to start is reported with its exit and log",
                  "presenced node1" in str(error), error)
            print(f"  (as reported: {str(error).splitlines()[0]})")
        check("control: redis-server and nginx are still up before the cluster stops",
              is_listening(redis.port) and is_listening(nginx.port))
    finally:
        processes = [p for p in (cluster.redis.process, cluster.nginx.process) + tuple(n.process for n in cluster.nodes) if p]
        ports = [cluster.redis.port, cluster.nginx.port] + [n.port for n in cluster.nodes]
        cluster.stop()
    check("Cluster.stop() ends redis-server, nginx and the nodes",
          all(p.poll() is not None for p in processes), [(p.args[0], p.poll()) for p in processes])
    check("and their ports are closed", not any(is_listening(p) for p in ports), ports)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = tempfile.mkdtemp(prefix="presence-cluster-harness-", dir=WORK_DIR)
    try:
        run(root)
    except Exception:  # noqa: BLE001 - any crash is a failed check, with its trace
        traceback.print_exc()
        check("the harness test ran to the end", False, "exception above")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
