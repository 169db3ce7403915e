"""A presence.v1 client for the cluster test (Protocol/README.md): requests matched by id,
events kept in order with their raw text, the close code kept when the server closes."""
import json
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from harness import PASSWORD

# Connections whose hello did not come within HELLO_SECONDS: (label, port, when); a node
# sends hello as soon as the upgrade is done, so the test counts these as failures.
HELLO_SECONDS = 5
missing_hellos = []


class Closed(Exception):
    """The connection is closed; `code` is the server's close code (1006: no Close frame)."""

    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class Client:
    def __init__(self, port, label=""):
        self.port = port
        self.label = label
        self.conn = connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["presence.v1"], open_timeout=10,
                            ping_interval=None, close_timeout=2)
        self.events = []       # parsed events (with "seq"), in arrival order
        self.raw = []          # their text as sent, same order
        self.notices = []      # "closing" notices
        self.closed = None     # Closed once the server closed
        self.next_id = 0
        self.last_seq = 0
        self.last_sent = time.monotonic()
        self.session = self.reply = None
        self.device_token = None
        try:
            hello = json.loads(self.conn.recv(timeout=HELLO_SECONDS))
        except TimeoutError:
            missing_hellos.append((label, port, time.strftime("%H:%M:%S")))
            self.conn.close()
            raise TimeoutError(f"{label}: no hello within {HELLO_SECONDS} s of the upgrade on port {port}") from None
        assert hello.get("type") == "hello", hello
        self.hello = hello

    # Receiving

    def _recv(self, timeout):
        if self.closed:
            raise self.closed
        try:
            text = self.conn.recv(timeout=timeout)
        except ConnectionClosed as error:
            rcvd = error.rcvd
            self.closed = Closed(rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "")
            raise self.closed from None
        message = json.loads(text)
        if "seq" in message:
            self.last_seq = max(self.last_seq, message["seq"])
            self.events.append(message)
            self.raw.append(text)
        elif message.get("type") == "closing":
            self.notices.append(message)
        return message

    def pump(self, seconds):
        """Read whatever arrives for `seconds` (less if the connection closes)."""
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                self._step(left)
        except Closed:
            pass

    def _step(self, left):
        """Heartbeat if due, then read for at most a second (Closed when the server closed)."""
        self._keep_alive()
        try:
            self._recv(min(left, 1))
        except TimeoutError:
            pass

    def _keep_alive(self):
        # presenced ends a session silent for two heartbeat intervals (50 s): send one
        # every 10 s of waiting. Its reply carries an id nobody waits for and is dropped.
        if not self.closed and time.monotonic() - self.last_sent > 10:
            self.next_id += 1
            try:
                self.conn.send(json.dumps({"op": "heartbeat", "id": f"hb{self.next_id}", "lastSeq": self.last_seq}))
            except ConnectionClosed:
                pass
            self.last_sent = time.monotonic()

    def request(self, op, seconds=10, **fields):
        self.next_id += 1
        rid = str(self.next_id)
        try:
            self.conn.send(json.dumps({"op": op, "id": rid, **fields}))
        except ConnectionClosed:
            self._recv(0)  # records and raises the close
        self.last_sent = time.monotonic()
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {op} within {seconds} s")
            message = self._recv(left)
            if message.get("id") == rid:
                return message

    def find(self, kind, **match):
        for e in self.events:
            if e.get("type") == kind and all(e.get(k) == v for k, v in match.items()):
                return e
        return None

    def event(self, kind, seconds=10, after=0, **match):
        """The first event of this type (and members) with seq > after, seen or arriving
        within the time; None on timeout or close."""
        deadline = time.monotonic() + seconds
        while True:
            for e in self.events:
                if e["seq"] > after and e.get("type") == kind and all(e.get(k) == v for k, v in match.items()):
                    return e
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                return None
            try:
                self._step(left)
            except Closed:
                return None

    def wait_closed(self, seconds):
        """The Closed the server sent within the time, or None."""
        deadline = time.monotonic() + seconds
        while not self.closed and (left := deadline - time.monotonic()) > 0:
            self._keep_alive()
            try:
                self._recv(min(left, 1))
            except (TimeoutError, Closed):
                pass
        return self.closed

    def raw_of(self, event):
        return self.raw[self.events.index(event)]

    # Signing in

    def sign_in(self, email, stay=True):
        reply = self.request("signIn", method="password", email=email, password=PASSWORD, device="desktop",
                             staySignedIn=stay)
        return self._signed_in(reply)

    def sign_in_token(self, token):
        return self._signed_in(self.request("signIn", method="token", deviceToken=token))

    def _signed_in(self, reply):
        self.reply = reply
        if reply.get("type") == "ok":
            self.session = reply.get("session")
            self.device_token = reply.get("deviceToken", self.device_token)
        return reply

    @property
    def home(self):
        """The node id in the session ("n:<session>"), or None for a plain session."""
        s = self.session or ""
        return int(s.split(":")[0]) if ":" in s and s.split(":")[0].isdigit() else None

    def close(self):
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass

    def describe(self, last=8):
        closed = f"closed {self.closed.code} {self.closed.reason!r}" if self.closed else "open"
        return (f"[{self.label} port {self.port} session {self.session} {closed}; "
                f"notices {self.notices}; last events {self.events[-last:]}]")
