#!/usr/bin/env python3
"""kill -9 of one cluster node -> its users shown offline to a contact on another node.

Usage: cluster-kill-watch.py --tokens FILE --watcher-url URL --subject-url URL --victim-pid PID
                             [--watcher W] [--hold S] [--json FILE]

Signs in user W (the watcher) on --watcher-url and each of W's contacts (from FILE.graph)
on --subject-url, the node that will be killed; waits until W has seen every contact
online (snapshot or presence event); then sends SIGKILL to --victim-pid and records, for
every contact, the time from the kill until W is shown it offline: in a presence event, or
in the snapshot of a fresh sign-in after the server closed W with 1012 (a membership
change re-places every session; W signs in again at once with its rotated token, on the
same node). The contacts' own sockets die with the node and are not reconnected.

Loopback only, stdlib only (a minimal RFC 6455 client: text frames, ping, close).
"""
import argparse, base64, json, os, select, signal, socket, struct, sys, time


class WS:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, _, path = url[5:].partition("/")
        host, port = hostport.rsplit(":", 1)
        assert host.startswith("127.") or host == "localhost", "loopback only"
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: presence.v1\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk: raise ConnectionError("closed during the handshake")
            head += chunk
        status, _, rest = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n")[0]: raise ConnectionError(status.decode(errors="replace"))
        self.buf = rest
        self.closed = None  # the close code, once closed
        self.sock.setblocking(False)

    def send(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.setblocking(True)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
        self.sock.setblocking(False)

    def fill(self):
        try:
            chunk = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            if self.closed is None: self.closed = 1006
            return
        self.buf += chunk

    def messages(self):
        """Complete text messages in the buffer (no fragmentation from presenced's small events)."""
        out = []
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4: break
                n, at = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10: break
                n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
            if len(self.buf) < at + n: break
            payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
            op = b0 & 0x0F
            if op == 1: out.append(json.loads(payload))
            elif op == 8:
                self.closed = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
            elif op == 9:  # ping -> pong
                mask = os.urandom(4)
                try:
                    self.sock.send(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
                except OSError:
                    pass
        return out


def email(index, width):
    return f"user{index:0{width}d}@load.test"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--watcher-url", required=True)
    ap.add_argument("--subject-url", required=True)
    ap.add_argument("--victim-pid", type=int, required=True)
    ap.add_argument("--watcher", type=int, default=0)
    ap.add_argument("--hold", type=float, default=60.0, help="most seconds to wait after the kill")
    ap.add_argument("--json")
    a = ap.parse_args()
    tokens = open(a.tokens).read().split()
    graph = open(a.tokens + ".graph").read().splitlines()
    width = int(dict(kv.split("=", 1) for kv in graph[0].split() if "=" in kv).get("width", 4))
    contacts = [int(x) for x in graph[1 + a.watcher].split()[1:]]
    names = {email(c, width): c for c in contacts}

    def sign_in(url, user):
        ws = WS(url)
        deadline = time.monotonic() + 30
        state = {"ws": ws, "user": user, "snapshot": None, "sent": False}
        while time.monotonic() < deadline and state["snapshot"] is None and ws.closed is None:
            select.select([ws.sock], [], [], 0.2)
            ws.fill()
            for m in ws.messages():
                if m.get("type") == "hello" and not state["sent"]:
                    ws.send({"op": "signIn", "id": "s", "method": "token", "deviceToken": tokens[user]})
                    state["sent"] = True
                elif m.get("id") == "s":
                    if m.get("type") != "ok":
                        raise RuntimeError(f"user {user}: sign-in refused: {m}")
                    tokens[user] = m["deviceToken"]  # a token sign-in rotates the token
                elif m.get("type") == "snapshot":
                    state["snapshot"] = m
                    ws.send({"op": "heartbeat", "id": "h", "lastSeq": m.get("seq", 1)})
        if state["snapshot"] is None: raise RuntimeError(f"user {user}: no snapshot (closed {ws.closed})")
        return state

    subjects = [sign_in(a.subject_url, c) for c in contacts]
    watcher = sign_in(a.watcher_url, a.watcher)
    shown = {}
    def read_view(m):
        for v in m.get("contacts", []):
            if v.get("user") in names: shown[names[v["user"]]] = v.get("status")
    read_view(watcher["snapshot"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(shown.get(c) != "online" for c in contacts):
        select.select([watcher["ws"].sock], [], [], 0.1)
        watcher["ws"].fill()
        for m in watcher["ws"].messages():
            if m.get("type") == "presence" and m.get("user") in names: shown[names[m["user"]]] = m.get("status")
    online = [c for c in contacts if shown.get(c) == "online"]
    print(f"watcher user {a.watcher} on {a.watcher_url}; {len(online)}/{len(contacts)} contacts on {a.subject_url} shown online")
    lastseq = 0
    killed = time.monotonic()
    os.kill(a.victim_pid, signal.SIGKILL)
    offline_at, events, closes = {}, [], []
    ws = watcher["ws"]
    while time.monotonic() < killed + a.hold and len(offline_at) < len(online):
        select.select([ws.sock], [], [], 0.05)
        ws.fill()
        now = time.monotonic() - killed
        for m in ws.messages():
            if m.get("type") == "presence" and m.get("user") in names:
                events.append((round(now, 3), m["user"], m.get("status")))
                if m.get("status") == "offline": offline_at.setdefault(names[m["user"]], now)
            if "seq" in m: lastseq = m["seq"]
        if ws.closed is not None:
            closes.append((round(now, 3), ws.closed))
            try:
                w = sign_in(a.watcher_url, a.watcher)
            except Exception as e:  # the node is re-placing: try again shortly
                events.append((round(time.monotonic() - killed, 3), "sign-in failed", str(e)[:100]))
                time.sleep(0.1)
                continue
            ws = w["ws"]
            now = time.monotonic() - killed
            for v in w["snapshot"].get("contacts", []):
                if v.get("user") in names:
                    events.append((round(now, 3), v["user"], "snapshot " + str(v.get("status"))))
                    if v.get("status") == "offline": offline_at.setdefault(names[v["user"]], now)
    times = sorted(offline_at.values())
    def pct(p): return round(times[min(len(times) - 1, int(p * len(times)))], 3) if times else None
    report = {"watcher": a.watcher, "contacts": len(contacts), "shown_online_before": len(online),
              "shown_offline_after_kill": len(times), "seconds_min": pct(0), "seconds_p50": pct(0.5),
              "seconds_max": round(times[-1], 3) if times else None, "closes": closes, "events": events[:200]}
    print(f"closed {closes}; {len(times)}/{len(online)} shown offline: first {pct(0)} s, median {pct(0.5)} s, last {report['seconds_max']} s after the kill")
    if a.json: json.dump(report, open(a.json, "w"), indent=1)
    for s in subjects:
        try: s["ws"].sock.close()
        except OSError: pass
    return 0 if len(times) == len(online) and online else 2


if __name__ == "__main__":
    sys.exit(main())
