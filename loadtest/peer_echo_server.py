#!/usr/bin/env python3
"""A reference RFC 6455 echo server to compare presenced with (presence-loadtest --compare-url).

Uses `websockets` from PyPI (see loadtest/README.md). Usage: peer_echo_server.py PORT
It echoes every message on any path, with permessage-deflate available, and prints its PID.
"""
import asyncio, os, sys
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

async def echo(ws):
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass  # the load client resets its sockets at the end of a run

async def main(port):
    async with serve(echo, "127.0.0.1", port, max_size=16 * 2**20, compression="deflate") as server:
        print(f"peer echo server pid {os.getpid()} on ws://127.0.0.1:{port}/echo", flush=True)
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
