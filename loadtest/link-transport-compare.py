#!/usr/bin/env python3
"""Redis pub/sub against Redis Streams as the node-to-node link's transport, on loopback.

One writer process sends batches (one Redis command per batch, as NodeLink sends every
frame queued for one node in one loop turn), pipelined with a bounded window of
commands in flight; one reader process receives them (SUBSCRIBE, or XREAD BLOCK with
COUNT on its own connection) until it has seen every frame. Prints frames/s and MB/s
from the first send to the last receipt. Plain sockets and a few lines of RESP, so it
needs nothing but python3 and redis-server; both transports pay the same Python costs,
which makes the figures a comparison, not a ceiling (see `presence-loadtest link` for
NodeLink itself).

Usage: loadtest/link-transport-compare.py [--port P] [--seconds-per-case S]
Starts a private redis-server on a free loopback port unless --port is given.
"""
import argparse, multiprocessing as mp, os, shutil, socket, subprocess, struct, sys, tempfile, time


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n" % len(a))
        out.append(a)
        out.append(b"\r\n")
    return b"".join(out)


class Reader:
    """Buffered RESP2 reader."""

    def __init__(self, sock):
        self.sock, self.buf, self.pos = sock, bytearray(), 0

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError
        if self.pos > (1 << 20):
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos : i])
                self.pos = i + 2
                return line
            self._fill()

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = bytes(self.buf[self.pos : self.pos + n])
            self.pos += n + 2
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError(line)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def batch_payload(frame_size, per_batch, index):
    frame = bytes(frame_size)
    return struct.pack(">II", per_batch, index) + b"".join(struct.pack(">I", frame_size) + frame for _ in range(per_batch))


def writer(port, transport, channel, frame_size, per_batch, batches, window, ready, start_at):
    s = connect(port)
    r = Reader(s)
    def cmd(index):
        payload = batch_payload(frame_size, per_batch, index)
        if transport == "pubsub":
            return command("PUBLISH", channel, payload)
        return command("XADD", channel, "MAXLEN", "~", 1000, "*", "b", payload)
    body, last = cmd(0), cmd(batches - 1)
    ready.wait()
    start_at.value = time.time()
    in_flight = 0
    sent = 0
    while sent < batches:
        n = min(window - in_flight, batches - sent)
        if n > 0:
            s.sendall(body * n if sent + n < batches else body * (n - 1) + last)
            sent += n
            in_flight += n
        r.reply()
        in_flight -= 1
    while in_flight:
        r.reply()
        in_flight -= 1


def reader(port, transport, channel, total_frames, ready, end_at, seen_out):
    s = connect(port)
    r = Reader(s)
    seen = 0
    done = False
    if transport == "pubsub":
        s.sendall(command("SUBSCRIBE", channel))
        r.reply()
        ready.set()
        while not done:
            msg = r.reply()
            count, index = struct.unpack(">II", msg[2][:8])
            seen += count
            done = seen >= total_frames or index * count + count >= total_frames
    else:
        last = b"0-0"
        ready.set()
        while not done:
            s.sendall(command("XREAD", "COUNT", 256, "BLOCK", 1000, "STREAMS", channel, last))
            rep = r.reply()
            if rep is None:
                continue
            for _, entries in rep:
                for entry_id, fields in entries:
                    count, index = struct.unpack(">II", fields[1][:8])
                    seen += count
                    done = done or index * count + count >= total_frames
                    last = entry_id
    end_at.value = time.time()
    seen_out.value = seen


def run_case(port, transport, frame_size, per_batch, seconds_hint):
    channel = "bench:%s:%d:%d" % (transport, frame_size, time.monotonic_ns())
    # Aim for roughly `seconds_hint` of traffic at a conservative guess of the rate.
    batches = max(200, int(seconds_hint * (200_000_000 / (frame_size * per_batch + 64))))
    batches = min(batches, 200_000)
    total = batches * per_batch
    ready, start_at, end_at, seen = mp.Event(), mp.Value("d", 0.0), mp.Value("d", 0.0), mp.Value("q", 0)
    rd = mp.Process(target=reader, args=(port, transport, channel, total, ready, end_at, seen))
    wr = mp.Process(target=writer, args=(port, transport, channel, frame_size, per_batch, batches, 16, ready, start_at))
    rd.start()
    wr.start()
    wr.join(120)
    rd.join(120)
    if rd.is_alive() or wr.is_alive():
        rd.kill(); wr.kill()
        return None
    elapsed = end_at.value - start_at.value
    return seen.value / elapsed, seen.value * frame_size / elapsed / 1e6, elapsed, total - seen.value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--seconds-per-case", type=float, default=2.0)
    ap.add_argument("--frames-per-batch", type=int, default=32)
    args = ap.parse_args()
    server, tmp = None, None
    port = args.port
    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        tmp = tempfile.mkdtemp(prefix="link-compare-")
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)
        for _ in range(200):
            try:
                connect(port).close()
                break
            except OSError:
                time.sleep(0.02)
    try:
        print("transport  frame_B  frames/batch  frames/s    MB/s   seconds  frames_lost")
        for frame_size in (100, 2048):
            for transport in ("pubsub", "stream"):
                res = run_case(port, transport, frame_size, args.frames_per_batch, args.seconds_per_case)
                if res is None:
                    print("%-9s  %7d  %12d  timed out" % (transport, frame_size, args.frames_per_batch))
                    continue
                fps, mbs, el, lost = res
                print("%-9s  %7d  %12d  %9.0f  %6.1f   %5.2f  %d" % (transport, frame_size, args.frames_per_batch, fps, mbs, el, lost))
                sys.stdout.flush()
    finally:
        if server:
            server.kill()
            server.wait()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
