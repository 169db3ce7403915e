"""Three presenced nodes as one cluster, end to end over real sockets.

Run by scripts/cluster.sh: python cluster_test.py PRESENCED DATABASE_URL DEPLOY_NGINX_CONF WORK_DIR
Starts (harness.py) a private redis-server, three nodes one after another sharing the
PostgreSQL database at DATABASE_URL (2 s lease, 5 s disconnect grace, 100 ms debounce),
and nginx rendered from deploy/nginx.conf in front of them. Users are chosen by their
rendezvous home (Protocol/cluster.md, "Homes") so that users and their contacts live on
different nodes, and every session's "n:" prefix is checked against it. Clients connect
through nginx or straight to the node a check needs. Sections:
  a. presence across nodes; Hidden looks byte for byte like signed out
  b. a chat to an offline user, delivered at sign-in on a third node
  c. a call across nodes; the caller is busy to its contacts meanwhile
  d. a profile change closes the user's sessions on two nodes with 4003
  h. a sign-in that storage holds up for longer than the sign-in allowance (a storm's
     queue) still completes across nodes, instead of being closed as lost
  e. SIGKILL of a node: its users shown offline within 2 leases + grace (those homed
     elsewhere only when the grace ends); no acknowledged chat lost; the other clients get
     1012 and sign in again; one who does shows no flap
  f. a Redis restart: presence flows across nodes again for clients that sign in again;
     no acknowledged chat lost
  g. SIGTERM drain of a node: its user signs in again on another node, and a contact never
     sees them offline (the drained node's rows carry them through the re-placement)
Prints one line per check ("PASS ..." / "FAIL ...: detail") and "N passed, N failed" last;
stops everything it started. PRESENCE_CLUSTER_LOGS=DIR keeps the logs (nodes, nginx's
access log with the upstream of each request, redis-server) in DIR.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from websockets.exceptions import WebSocketException

import client as client_module
from client import Client, Closed
from harness import Cluster, StartError, rendezvous_home

PRESENCED, DATABASE_URL, NGINX_CONF, WORK_DIR = sys.argv[1:5]
LEASE, GRACE, DEBOUNCE = 2, 5, 0.1   # seconds, as the nodes are started
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f": {detail}"), flush=True)
    return condition


def info(text):
    print(f"  .. {text}", flush=True)


class Run:
    """The cluster and the test's users and clients."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.clients = []
        self.homes = []  # (email, expected home, session) for every sign-in in a stable cluster

    @property
    def nodes(self):
        return self.cluster.nodes

    def live_ids(self):
        return sorted(n.id for n in self.cluster.live())

    def user(self, tag, home):
        """A new account whose rendezvous home among the live nodes is `home` (a Node)."""
        ids = self.live_ids()
        for i in range(10_000):
            email = f"{tag}{i}@example.org"
            if rendezvous_home(email, ids) == home.id:
                status, body = self.cluster.sign_up(email, first=tag.capitalize())
                if status != 201:
                    raise RuntimeError(f"sign-up of {email} through nginx: {status} {body}")
                return email
        raise RuntimeError(f"no {tag}N@example.org homed on node {home.id}")

    def connect(self, node, label):
        """A connection straight to `node`, or through nginx when node is None."""
        client = Client(node.port if node else self.cluster.nginx.port,
                        label=f"{label}@{'node' + str(node.id) if node else 'nginx'}")
        self.clients.append(client)
        return client

    def sign_in(self, email, node, label, token=None, record=True):
        client = self.connect(node, label)
        reply = client.sign_in_token(token) if token else client.sign_in(email)
        if reply.get("type") != "ok":
            raise RuntimeError(f"sign-in of {email} at {client.label}: {reply}")
        if record:
            self.homes.append((email, rendezvous_home(email, self.live_ids()), client.session))
        return client

    def sign_in_again(self, email, token, label, deadline, node=None):
        """Sign in with the device token (through nginx unless `node`), retrying what a
        client would retry (no hello, a refused or dropped connection, a closed one) until
        the deadline. Returns (client or None, [failed attempts])."""
        failures = []
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                return self.sign_in(email, node, label, token=token, record=False), failures
            except (OSError, TimeoutError, Closed, WebSocketException, RuntimeError, AssertionError) as error:
                failures.append(f"{type(error).__name__}: {error} ({time.monotonic() - started:.1f} s)")
                time.sleep(0.3)
        return None, failures

    def contacts(self, a, a_email, b, b_email):
        """a asks b, b accepts; both see the other added."""
        mark_a, mark_b = a.last_seq, b.last_seq
        reply = a.request("requestContact", user=b_email)
        assert reply.get("type") == "ok", reply
        if not b.event("contactRequest", after=mark_b, **{"from": a_email}):
            raise RuntimeError(f"no contactRequest from {a_email}: {b.describe()}")
        reply = b.request("acceptContact", user=a_email)
        assert reply.get("type") == "ok", reply
        if not (a.event("contactAdded", after=mark_a, user=b_email) and b.event("contactAdded", after=mark_b, user=a_email)):
            raise RuntimeError(f"contactAdded missing: {a.describe()} {b.describe()}")

    def sees(self, watcher, email, status, after, seconds=5):
        """A presence event about `email` with `status`, after seq `after`, within the time."""
        return watcher.event("presence", seconds=seconds, after=after, user=email, status=status)

    def close_all(self):
        for c in self.clients:
            c.close()
        self.clients = []


def status_in(event, email):
    """The status of `email` in a snapshot or contactAdded/presence event, else None."""
    if event is None:
        return None
    if event.get("type") == "snapshot":
        return next((c.get("status") for c in event.get("contacts", []) if c.get("user") == email), None)
    return event.get("status") if event.get("user") == email else None


def last_view(client, email):
    """The status of `email` that `client` was last told (snapshot, contactAdded, presence)."""
    seen = None
    for e in client.events:
        seen = status_in(e, email) or seen
    return seen


def without_seq(raw):
    return re.sub(r'^\{"seq":\d+,', "{", raw)


def masked(raw):
    return re.sub(r'"lastSeen":\d+', '"lastSeen":"T"', without_seq(raw))


# a. Presence across nodes, and Hidden as signed out.

def presence_across_nodes(run):
    n1, n2, n3 = run.nodes
    a, b, c = run.user("ann", n1), run.user("bob", n2), run.user("cat", n3)
    A, B, C = run.sign_in(a, n1, "A"), run.sign_in(b, n2, "B"), run.sign_in(c, None, "C")
    info(f"A {a} session {A.session} on node{n1.id}; B {b} session {B.session} on node{n2.id}; "
         f"C {c} session {C.session} through nginx")
    for node in run.nodes:
        status, body = node.admin_get("/admin/sessions")
        listed = [s.get("session") for s in json.loads(body).get("sessions", [])] if status == 200 else body
        info(f"node{node.id} (port {node.port}) /admin/sessions: {status} {listed}")
    run.contacts(A, a, B, b)
    run.contacts(C, c, B, b)
    # Let the debounce windows of the sign-ins settle before watching B's stream.
    B.pump(3 * DEBOUNCE + 0.5)

    mark = B.last_seq
    A.request("setStatus", status="busy")
    check("a. A (home node 1) sets Busy: B (home node 2) gets presence busy",
          run.sees(B, a, "busy", mark), B.describe())
    mark = B.last_seq
    A.request("setStatus", status="online")
    check("a. A back to Online: B gets presence online", run.sees(B, a, "online", mark), B.describe())
    B.pump(3 * DEBOUNCE + 0.3)

    # Hidden: what B receives about A, then the same for A signing out.
    mark = B.last_seq
    hid_at = time.time() * 1000
    A.request("setStatus", status="hidden")
    hidden = B.event("presence", after=mark, user=a)
    B.pump(1.0)  # anything more about A that follows
    hidden_stream = [B.raw_of(e) for e in B.events if e["seq"] > mark and e.get("user") == a]
    mark = B.last_seq
    A.request("setStatus", status="online")
    run.sees(B, a, "online", mark)
    B.pump(3 * DEBOUNCE + 0.3)
    mark = B.last_seq
    out_at = time.time() * 1000
    reply = A.request("logOut")
    closed = A.wait_closed(5)
    check("a. A's logOut: ok, then close 4000", reply.get("type") == "ok" and closed and closed.code == 4000, A.describe())
    out = B.event("presence", after=mark, user=a)
    B.pump(1.0)
    out_stream = [B.raw_of(e) for e in B.events if e["seq"] > mark and e.get("user") == a]
    info(f"B's view of A hidden:     {[without_seq(r) for r in hidden_stream]}")
    info(f"B's view of A signed out: {[without_seq(r) for r in out_stream]}")
    check("a. B receives one presence event about A for Hidden and one for signing out, both offline",
          hidden and out and len(hidden_stream) == 1 and len(out_stream) == 1
          and hidden.get("status") == "offline" and out.get("status") == "offline", f"{hidden_stream} {out_stream}")
    check("a. Hidden is byte for byte signed out (payload without seq; lastSeen's value masked)",
          len(hidden_stream) == len(out_stream) and [masked(r) for r in hidden_stream] == [masked(r) for r in out_stream],
          f"{hidden_stream} vs {out_stream}")
    # lastSeen's value is the instant of each act (presence-rules.md, "Visibility"), so it is
    # checked against the act rather than compared.
    def near(event, at):
        ls = (event or {}).get("lastSeen")
        return ls is None or at - 2000 <= ls <= at + 3000
    check("a. and each lastSeen (if any) is the instant A hid / signed out, within 2-3 s",
          near(hidden, hid_at) and near(out, out_at) and ((hidden or {}).get("lastSeen") is None) == ((out or {}).get("lastSeen") is None),
          f"hid at {hid_at:.0f}: {hidden}; out at {out_at:.0f}: {out}")
    mark = B.last_seq
    C.request("setStatus", status="busy")
    check("a. control: B does receive events meanwhile (C, home node 3, via nginx, sets Busy)",
          run.sees(B, c, "busy", mark), B.describe())
    run.close_all()


# b. A chat to an offline user, delivered at sign-in on a third node.

def offline_chat(run):
    n1, n2, n3 = run.nodes
    s, r = run.user("sam", n1), run.user("rey", n2)
    S, R = run.sign_in(s, n1, "S"), run.sign_in(r, None, "R")
    run.contacts(S, s, R, r)
    mark = S.last_seq
    R.request("logOut")
    R.wait_closed(5)
    run.sees(S, r, "offline", mark)
    reply = S.request("send", to=r, clientMessageId="b-1", body="while you were away")
    accepted = S.event("chatAccepted", clientMessageId="b-1")
    check("b. S (node 1) sends to R, who is signed out: ok after commit, receipt stored",
          reply.get("type") == "ok" and reply.get("receipt") == "stored"
          and (accepted is None or accepted.get("receipt") == "stored"), f"{reply} {accepted}")
    message_id = (accepted or {}).get("messageId") or reply.get("messageId")
    mark = S.last_seq
    R2 = run.sign_in(r, n3, "R2")
    chat = R2.event("chat", messageId=message_id) if message_id else R2.event("chat", clientMessageId="b-1")
    check(f"b. R signs in on node 3 (home node {n2.id}) and gets the chat in its backlog",
          chat and chat.get("body") == "while you were away" and chat.get("from") == s, R2.describe())
    snapshot_seq = (R2.find("snapshot") or {}).get("seq", 0)
    check("b. the backlog chat comes after the snapshot", chat and chat["seq"] > snapshot_seq, R2.describe())
    # The receipt is "delivered" exactly when the sender is shown the recipient present
    # (presence-rules.md, "Chats"): wait for R's sign-in to reach S first.
    check("b. S (node 1) is shown R online after R's sign-in on node 3", run.sees(S, r, "online", mark), S.describe())
    reply = S.request("send", to=r, clientMessageId="b-2", body="and now live")
    accepted = S.event("chatAccepted", clientMessageId="b-2")
    live = R2.event("chat", clientMessageId="b-2")
    check("b. control: with R signed in on node 3, the next chat goes live, receipt delivered",
          live and reply.get("receipt") == "delivered", f"{reply} {accepted} {R2.describe()}")
    run.close_all()


# c. A call across nodes.

def call_across_nodes(run):
    n1, n2, n3 = run.nodes
    p, q, w = run.user("pat", n1), run.user("quinn", n2), run.user("wes", n3)
    P, Q, W = run.sign_in(p, n1, "P"), run.sign_in(q, n2, "Q"), run.sign_in(w, None, "W")
    run.contacts(P, p, Q, q)
    run.contacts(W, w, P, p)
    W.pump(3 * DEBOUNCE + 0.3)
    mark_w = W.last_seq
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}
    reply = P.request("invite", to=q, payload=offer)
    call = reply.get("call")
    info(f"invite reply {reply} (node part of the call id: {call >> 32 if isinstance(call, int) else None})")
    incoming = Q.event("callIncoming", call=call, **{"from": p}) if call else None
    check("c. P (node 1) invites Q (node 2): Q gets callIncoming with the offer as sent",
          incoming and incoming.get("payload") == offer, f"{reply} {Q.describe()}")
    Q.request("ringing", call=call)
    check("c. Q rings: P gets callRinging", P.event("callRinging", call=call), P.describe())
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    Q.request("accept", call=call, payload=answer)
    accepted = P.event("callAccepted", call=call)
    check("c. Q answers: P gets callAccepted with the answer", accepted and accepted.get("payload") == answer, P.describe())
    P.request("signal", call=call, payload="candidate:1 1 udp 2122260223 10.0.0.1 49152 typ host")
    check("c. P's signal reaches Q", Q.event("callSignal", call=call), Q.describe())
    check("c. P's contact W (home node 3, via nginx) sees P busy during the call",
          run.sees(W, p, "busy", mark_w), W.describe())
    mark_w = W.last_seq
    Q.request("hangUp", call=call)
    ended = P.event("callEnded", call=call)
    check("c. Q hangs up: P gets callEnded hungUp", ended and ended.get("reason") == "hungUp", P.describe())
    check("c. and W sees P online again", run.sees(W, p, "online", mark_w), W.describe())
    run.close_all()


# d. A profile change closes the user's sessions on two nodes.

def profile_change(run):
    n1, n2, n3 = run.nodes
    u, v = run.user("uma", n3), run.user("val", n2)
    U1, U2, V = run.sign_in(u, n1, "U1"), run.sign_in(u, n2, "U2"), run.sign_in(v, n2, "V")
    token = U2.device_token
    reply = U1.request("updateProfile", firstName="Renamed")
    check("d. updateProfile on node 1 answers ok with the new profile",
          reply.get("type") == "ok" and reply.get("profile", {}).get("firstName") == "Renamed", reply)
    c1, c2 = U1.wait_closed(5), U2.wait_closed(5)
    check("d. U's session on node 1 closes with 4003 after a closing notice",
          c1 and c1.code == 4003 and any(n.get("code") == 4003 for n in U1.notices), U1.describe())
    check("d. U's session on node 2 closes with 4003 after a closing notice",
          c2 and c2.code == 4003 and any(n.get("code") == 4003 for n in U2.notices), U2.describe())
    V.pump(0.5)
    check("d. control: V's session on node 2 stays signed in", not V.closed and V.request("activity").get("type") == "ok",
          V.describe())
    U3 = run.sign_in(u, None, "U3", token=token)
    check("d. U signs in again with the device token through nginx and gets the new profile",
          U3.reply.get("profile", {}).get("firstName") == "Renamed", U3.reply)
    run.close_all()


# h. A sign-in held up by storage for longer than the sign-in allowance.

# PostgresConnection.writeLockKey: every outermost transaction of every node takes it.
WRITE_LOCK_KEY = 0x7072_6573
SIGN_IN_ALLOWANCE = 10  # presenced's default --sign-in-timeout-seconds


def slow_sign_in(run):
    """In a storm, sign-ins queue for storage (one write lock for the whole cluster), so
    one can take longer than the sign-in allowance at its edge. The cluster's safety net
    for a sign-in its home lost must not take it for lost: the net starts only when the
    edge hands the sign-in to its home."""
    n1, n2, _ = run.nodes
    h = run.user("hal", n2)
    hold = SIGN_IN_ALLOWANCE + 4
    # The write lock held from outside, as a long queue of other nodes' batches would.
    holder = subprocess.Popen(["psql", DATABASE_URL, "-Atq", "-c",
                               f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY}); SELECT pg_sleep({hold}); COMMIT;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        granted = ""
        for _ in range(50):
            granted = subprocess.run(["psql", DATABASE_URL, "-Atqc",
                                      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"],
                                     capture_output=True, text=True, timeout=10).stdout.strip()
            if granted == "1":
                break
            time.sleep(0.1)
        check("h. control: the write lock is held from outside", granted == "1", granted)
        H = run.connect(n1, "H")
        started = time.monotonic()
        try:
            reply = H._signed_in(H.request("signIn", seconds=hold + 15, method="password", email=h,
                                           password=client_module.PASSWORD, device="desktop", staySignedIn=True))
        except Closed:
            reply = {}
        took = time.monotonic() - started
        info(f"the held sign-in took {took:.1f} s; closed: {H.closed.code if H.closed else 'no'}")
        check(f"h. control: the sign-in waited for storage longer than the allowance ({SIGN_IN_ALLOWANCE} s)",
              took > SIGN_IN_ALLOWANCE, f"{took:.1f} s")
        check("h. the held sign-in on node 1 completes with its home on node 2, not closed as lost",
              reply.get("type") == "ok" and H.home == n2.id and not H.closed, H.describe())
        check("h. and the session works", not H.closed and H.request("activity").get("type") == "ok", H.describe())
    finally:
        try:
            holder.wait(timeout=hold + 15)
        except subprocess.TimeoutExpired:
            holder.kill()
        run.close_all()


# e. SIGKILL of a node.

def node_killed(run):
    """Protocol/cluster.md, "A node dies, drains or joins": users homed on the dead node
    show offline at once (their shown rows died with it) unless they sign in again; users
    homed elsewhere whose sockets it held show what they showed until the grace ends."""
    n1, n2, n3 = run.nodes
    x, x2, x3 = run.user("xena", n3), run.user("xavi", n3), run.user("xeno", n1)
    y, z = run.user("yuri", n1), run.user("zoe", n2)
    X = run.sign_in(x, n3, "X")            # homed on and connected to the node that dies
    X2 = run.sign_in(x2, n1, "X2")         # homed on it, connected elsewhere: comes back
    X3 = run.sign_in(x3, n3, "X3")         # homed elsewhere, connected to it: never comes back
    Y = run.sign_in(y, n1, "Y")            # their contact, the watcher
    Z = run.sign_in(z, n2, "Z")            # anyone else (straight to node 2: through nginx
                                           # it could land on the node that dies)
    for client, email in ((X, x), (X2, x2), (X3, x3)):
        run.contacts(client, email, Y, y)
    acked = []
    for i in range(3):
        r = X.request("send", to=y, clientMessageId=f"e-x{i}", body=f"x to y {i}")
        if r.get("type") == "ok":
            acked.append(r.get("messageId"))
    for i in range(2):
        r = Y.request("send", to=x, clientMessageId=f"e-y{i}", body=f"y to x {i}")
        if r.get("type") == "ok":
            acked.append(r.get("messageId"))
    check("e. five chats between X and Y acknowledged before the kill", len(acked) == 5 and all(acked), acked)
    Y.pump(3 * DEBOUNCE + 0.3)
    check("e. before the kill Y sees X, X2 and X3 online",
          all(last_view(Y, u) == "online" or Y.event("presence", user=u, status="online", seconds=3) for u in (x, x2, x3)),
          Y.describe(12))

    bound = 2 * LEASE + GRACE + 3
    state = {"y_closes": [], "y_snapshots": [], "y_failures": [], "offline": {}, "x2_offline": [], "left_index": None,
             "other": {}, "closes": {}}
    t0 = time.monotonic()
    n3.kill()
    info(f"node{n3.id} (port {n3.port}) killed with SIGKILL")
    deadline = t0 + bound + 3

    def watch_index():
        while time.monotonic() < deadline:
            live = run.cluster.redis.live_nodes()
            if live is not None and n3.id not in live:
                state["left_index"] = time.monotonic() - t0
                return
            time.sleep(0.1)

    def watch_y():
        client = Y
        offline = state["offline"]
        while time.monotonic() < deadline:
            for e in client.events:
                for u in (x, x3):
                    if u not in offline and status_in(e, u) == "offline":
                        offline[u] = time.monotonic() - t0
                if e.get("user") == x2 and e.get("type") == "presence" and e.get("status") == "offline":
                    state["x2_offline"].append(e)
            if len(offline) == 2 and time.monotonic() - t0 > max(offline.values()) + 1.5:
                break
            closed = client.wait_closed(0.2)
            if closed:
                state["y_closes"].append((closed.code, round(time.monotonic() - t0, 2)))
                again, failures = run.sign_in_again(y, client.device_token, "Y'", deadline)
                state["y_failures"] += failures
                if again is None:
                    break
                client = again
                state["y_snapshots"].append((round(time.monotonic() - t0, 2), client.event("snapshot", seconds=3)))
        state["y_last"] = client.describe(12)

    def returner(name, client, email):
        closed = client.wait_closed(LEASE * 2 + 4)
        entry = state["other"][name] = {"close": closed.code if closed else None,
                                        "after": round(time.monotonic() - t0, 2)}
        if closed:
            again, entry["failures"] = run.sign_in_again(email, client.device_token, name + "'", deadline)
            entry["again"] = again.session if again else "failed"
            if again:
                again.pump(max(0.0, deadline - time.monotonic()))  # stays signed in while Y watches

    def victim(name, client):
        closed = client.wait_closed(5)
        state["closes"][name] = closed.code if closed else None

    threads = [threading.Thread(target=f, args=a) for f, a in
               ((watch_index, ()), (watch_y, ()), (returner, ("X2", X2, x2)), (returner, ("Z", Z, z)),
                (victim, ("X", X)), (victim, ("X3", X3)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=bound + 15)
    left, off = state["left_index"], state["offline"]
    info(f"node{n3.id} left presence:nodes after {left} s; X's and X3's connections ended with {state['closes']}; "
         f"Y's closes {state['y_closes']}, failed attempts to sign in again {state['y_failures']}, "
         f"snapshots {[(t, status_in(s, x), status_in(s, x3)) for t, s in state['y_snapshots']]}; "
         f"X2 and Z: {state['other']}")
    info(f"shown offline to Y after the kill: X (homed on the dead node) {off.get(x) and round(off[x], 2)} s, "
         f"X3 (homed elsewhere) {off.get(x3) and round(off[x3], 2)} s; bound 2 x lease + grace + 3 s = {bound} s")
    check(f"e. the dead node leaves the live-node index within lease + poll + slack (< {LEASE + 3} s)",
          left is not None and left < LEASE + 3, left)
    detail = f"Y's closes {state['y_closes']}, failed sign-ins {state['y_failures']}, {state.get('y_last')}"
    check(f"e. Y sees X (homed on the dead node, gone) offline within {bound} s",
          off.get(x) is not None and off[x] <= bound, detail)
    check(f"e. Y sees X3 (homed elsewhere, its socket on the dead node, gone) offline within {bound} s",
          off.get(x3) is not None and off[x3] <= bound, detail)
    check("e. X3's view was carried for the grace: shown offline no sooner than the grace after the dead node "
          "left the index (- 1.5 s slack)", off.get(x3) is not None and left is not None
          and off[x3] >= left + GRACE - 1.5, f"offline {off.get(x3)}, left the index {left}")
    snaps = state["y_snapshots"]
    check("e. Y's first snapshot after signing in again still shows X3 online (carried for the grace)",
          snaps and status_in(snaps[0][1], x3) == "online", snaps[:1])
    check("e. control for no flap: X2 (homed on the dead node, signed in again at once) is never shown offline to Y",
          not state["x2_offline"], state["x2_offline"])
    for name in ("X2", "Z"):
        entry = state["other"].get(name, {})
        check(f"e. {name} (connected to a live node) gets 1012 and signs in again",
              entry.get("close") == 1012 and entry.get("again") not in (None, "failed"), entry)
    check("e. Y (home and socket on a live node) gets 1012 too and signs in again",
          state["y_closes"] and state["y_closes"][0][0] == 1012 and state["y_snapshots"], state["y_closes"])
    unanswered = [f for f in state["y_failures"] + [f for e in state["other"].values() for f in e.get("failures", [])]
                  if f.startswith("TimeoutError")]
    check("e. no sign-in after the kill goes unanswered (each gets a reply or a close within 10 s)",
          not unanswered, unanswered)
    # Every chat acknowledged before the kill is still there.
    Xb, failures = run.sign_in_again(x, X.device_token, "X'", time.monotonic() + 15)
    if Xb is None:
        check("e. X signs in again through nginx", False, failures)
        return
    run.homes.append((x, rendezvous_home(x, run.live_ids()), Xb.session))
    history = Xb.request("history", **{"with": y, "limit": 100})
    ids = {m.get("messageId") for m in history.get("messages", [])}
    check("e. X signs in again through nginx (home now a survivor) and its history with Y holds all 5 acknowledged chats",
          history.get("type") == "ok" and set(acked) <= ids and Xb.home == rendezvous_home(x, run.live_ids()),
          f"home {Xb.home}, acked {acked}, history {history}")
    run.close_all()


# f. A Redis restart.

def redis_restart(run):
    live = run.cluster.live()
    if len(live) < 2:
        check("f. two live nodes for the Redis restart", False, [n.id for n in live])
        return
    n1, n2 = live[0], live[1]
    a, b = run.user("fay", n1), run.user("gus", n2)
    A, B = run.sign_in(a, n1, "A"), run.sign_in(b, n2, "B")
    run.contacts(A, a, B, b)
    B.pump(3 * DEBOUNCE + 0.3)
    mark = B.last_seq
    A.request("setStatus", status="busy")
    check("f. control before the restart: A busy reaches B across nodes", run.sees(B, a, "busy", mark), B.describe())
    chosen = "busy"
    acked = []

    def send(client, tag):
        r = client.request("send", to=b, clientMessageId=tag, body=f"chat {tag}")
        if r.get("type") == "ok":
            acked.append(r.get("messageId") or (client.event("chatAccepted", clientMessageId=tag) or {}).get("messageId"))
        return r

    send(A, "f-before")
    redis = run.cluster.redis
    t_down = time.monotonic()
    redis.stop()
    info("redis-server stopped")
    time.sleep(1)
    try:
        during = send(A, "f-during")
    except (Closed, TimeoutError) as error:
        during = repr(error)
    info(f"a chat sent while Redis is down: {during}")
    time.sleep(max(0.0, LEASE + 1 - (time.monotonic() - t_down)))
    redis.start()
    t_back = time.monotonic()
    info(f"redis-server started again on port {redis.port} after {t_back - t_down:.1f} s down")
    want = sorted(n.id for n in live)
    while time.monotonic() - t_back < 10 and redis.live_nodes() != want:
        time.sleep(0.1)
    check("f. both nodes re-assert their leases in the restarted Redis (none declared dead, both alive)",
          redis.live_nodes() == want and all(n.alive for n in live), f"{redis.live_nodes()} vs {want}")
    A.pump(LEASE + 2)
    B.pump(0.1)
    info(f"after the restart: A {A.closed.code if A.closed else 'open'}, B {B.closed.code if B.closed else 'open'}")

    # Clients that sign in again see presence flow across nodes again.
    ok_after = None
    attempts = []
    while time.monotonic() - t_back < 25 and ok_after is None:
        A.close()
        B.close()
        A2, failed_a = run.sign_in_again(a, A.device_token, "A'", t_back + 25)
        B2, failed_b = run.sign_in_again(b, B.device_token, "B'", t_back + 25, node=n2)
        if failed_a or failed_b:
            attempts.append(("failed sign-ins", failed_a, failed_b))
        if not (A2 and B2):
            break
        A, B = A2, B2
        B.pump(3 * DEBOUNCE + 0.3)
        chosen = "online" if chosen == "busy" else "busy"
        mark = B.last_seq
        try:
            A.request("setStatus", status=chosen)
            seen = run.sees(B, a, chosen, mark, seconds=4)
        except (Closed, TimeoutError) as error:
            # Each node re-places when it hears its own gap, up to a backoff step apart: a
            # client that signed in again between two of them gets 1012 once more and signs
            # in again (Protocol/cluster.md, "What a Redis restart does at this layer").
            seen = None
            attempts.append(("closed again", repr(error)))
            continue
        attempts.append((chosen, bool(seen), A.closed and A.closed.code, B.closed and B.closed.code))
        if seen:
            ok_after = time.monotonic() - t_back
    info(f"sign-in-again attempts after the restart: {attempts}")
    check("f. after the restart, A and B sign in again and A's status reaches B across nodes",
          ok_after is not None, f"attempts {attempts}; {B.describe()}")
    reply = send(A, "f-after")
    check("f. a chat after the restart is acknowledged and reaches B live",
          reply.get("type") == "ok" and B.event("chat", clientMessageId="f-after"), f"{reply} {B.describe()}")
    history = B.request("history", **{"with": a, "limit": 100})
    ids = {m.get("messageId") for m in history.get("messages", [])}
    check(f"f. no acknowledged chat lost across the Redis restart ({len(acked)} acknowledged)",
          history.get("type") == "ok" and all(acked) and set(acked) <= ids, f"acked {acked}, history {history}")
    run.close_all()

def node_drained(run):
    """Protocol/cluster.md, "A node dies, drains or joins": a drained node (SIGTERM) writes
    what its users showed and leaves at once; its users sign in again elsewhere and their
    contacts never see them offline (no flap)."""
    live = run.cluster.live()
    if len(live) < 2:
        check("g. two live nodes for the drain", False, [n.id for n in live])
        return
    keep, drained = live[0], live[1]
    d, e = run.user("dee", drained), run.user("eli", keep)
    D = run.sign_in(d, drained, "D")   # homed on, and connected to, the node that drains
    E = run.sign_in(e, keep, "E")      # the contact, on the node that stays
    run.contacts(D, d, E, e)
    E.pump(3 * DEBOUNCE + 0.3)
    check("g. control: before the drain E sees D online",
          last_view(E, d) == "online" or E.event("presence", user=d, status="online", seconds=3), E.describe())
    t0 = time.monotonic()
    stopper = threading.Thread(target=drained.stop)
    stopper.start()
    closed = D.wait_closed(10)
    check("g. D's connection to the drained node closes with 1001", closed and closed.code == 1001, D.describe())
    D2, failures = run.sign_in_again(d, D.device_token, "D'", t0 + 15, node=keep)
    info(f"g. D signed in again on node {keep.id} after {time.monotonic() - t0:.2f} s ({failures})")
    stopper.join(timeout=20)
    watchers = [E]
    closed = E.wait_closed(LEASE + 3)
    info(f"g. E: {closed.code if closed else 'still open'} after {time.monotonic() - t0:.2f} s")
    if closed:
        E2, _ = run.sign_in_again(e, E.device_token, "E'", t0 + 20, node=keep)
        if E2:
            watchers.append(E2)
            snapshot = E2.event("snapshot", seconds=3)
            check("g. E's snapshot after the re-placement shows D online", status_in(snapshot, d) == "online",
                  E2.describe())
    if D2:
        D2.pump(0.1)
    # Past the grace: a missing row would have shown D offline by now.
    for w in watchers:
        if not w.closed:
            w.pump(GRACE + 1)
    flaps = [ev for w in watchers for ev in w.events if ev.get("type") == "presence" and ev.get("user") == d
             and ev.get("status") == "offline"]
    check("g. D back on another node: E never sees D offline across the drain (no flap)", D2 is not None and not flaps,
          f"{flaps} {[w.describe() for w in watchers]}")
    run.close_all()


def main():
    # SIGTERM (scripts/cluster.sh's trap) stops the processes through the finally below,
    # and counts as a failure there (an interrupted run never reads as passed).
    def interrupted(*_):
        check("the test ran to the end", False, "interrupted by SIGTERM")
        sys.exit(143)
    signal.signal(signal.SIGTERM, interrupted)
    root = tempfile.mkdtemp(prefix="presence-cluster-", dir=WORK_DIR)
    cluster = None
    started = time.monotonic()
    try:
        help_text = subprocess.run([PRESENCED, "--help"], capture_output=True, text=True, timeout=20)
        if "--cluster-url" not in help_text.stdout + help_text.stderr:
            check(f"{PRESENCED} knows --cluster-url", False, "its --help does not list it; build presenced with clustering")
            return
        cluster = Cluster(root, PRESENCED, DATABASE_URL, NGINX_CONF, lease=LEASE, grace=GRACE,
                          debounce_ms=int(DEBOUNCE * 1000))
        try:
            cluster.start()
        except StartError as error:
            check("redis-server, three nodes and nginx start", False, error)
            return
        ids = [n.id for n in cluster.nodes]
        check("three nodes join the cluster one after another, ids in join order", ids == sorted(ids) and len(set(ids)) == 3,
              ids)
        info(f"nodes (id: public port, admin port): {[(n.id, n.port, n.admin) for n in cluster.nodes]}; "
             f"nginx {cluster.nginx.port}; redis {cluster.redis.port}; started in {time.monotonic() - started:.1f} s")
        run = Run(cluster)
        for section in (presence_across_nodes, offline_chat, call_across_nodes, profile_change, slow_sign_in, node_killed, redis_restart,
                        node_drained):
            t = time.monotonic()
            try:
                section(run)
            except Exception:  # noqa: BLE001 - a crash fails the section, the next still runs
                traceback.print_exc()
                check(f"{section.__name__} ran to the end", False, "exception above; open clients: "
                      + " ".join(c.describe(5) for c in run.clients))
                run.close_all()
            info(f"{section.__name__}: {time.monotonic() - t:.1f} s")
        # Sign-ins in a settled cluster (not those racing a membership change).
        wrong = [(e, h, s) for e, h, s in run.homes if s is None or ":" not in s or int(s.split(":")[0]) != h]
        check(f"every session ID names its user's rendezvous home among the live nodes ({len(run.homes)} sign-ins)",
              not wrong and run.homes, wrong)
        check(f"every WebSocket got its hello within {client_module.HELLO_SECONDS} s of the upgrade",
              not client_module.missing_hellos, client_module.missing_hellos)
    except Exception:  # noqa: BLE001 - any crash is a failed check, with its trace
        traceback.print_exc()
        check("the test ran to the end", False, "exception above")
    finally:
        if cluster:
            if not all(results):
                cluster.show_logs()
            cluster.stop()
        keep = os.environ.get("PRESENCE_CLUSTER_LOGS")
        if keep:  # the nodes', nginx's and redis-server's logs, for a failure's post-mortem
            shutil.copytree(root, keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data", "proxy", "client_body",
                                                                                          "fastcgi", "uwsgi", "scgi"))
        shutil.rmtree(root, ignore_errors=True)
        passed = sum(results)
        print(f"({time.monotonic() - started:.0f} s)")
        print(f"{passed} passed, {len(results) - passed} failed")
        sys.exit(0 if passed == len(results) and results else 1)


if __name__ == "__main__":
    main()
