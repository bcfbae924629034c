"""The echo server of `make bench`, on the loop chosen by --loop.

    INTERPRETER bench/server.py --loop LOOP --mode protocol|streams|sock \
        [--port 0] [--cpu 1] </dev/null

bench/run.py runs --loop apython under the apython binary, asyncio and
uvloop under /usr/bin/python3 (bench/loops.py).

Modes: protocol (asyncio.Protocol, transport.write), streams
(asyncio.start_server, reader.read / writer.write + drain), sock
(loop.sock_accept / sock_recv / sock_sendall). It listens on 127.0.0.1,
prints "port N" once it accepts connections, and serves until it is
terminated or --lifetime seconds have passed.
"""

import argparse
import asyncio
import socket
import sys

import loops

READ_SIZE = 65536
BACKLOG = 1024


class EchoProtocol(asyncio.Protocol):
    """Write back whatever arrives."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def echo_stream(reader, writer):
    """Echo one connection with streams."""
    try:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def echo_sock(loop, conn):
    """Echo one connection with the loop's sock_* methods."""
    try:
        while True:
            data = await loop.sock_recv(conn, READ_SIZE)
            if not data:
                break
            await loop.sock_sendall(conn, data)
    except ConnectionError:
        pass
    finally:
        conn.close()


async def serve_sock(loop, listener):
    """Accept connections with sock_accept, each echoed by its own task."""
    tasks = set()
    while True:
        conn, _ = await loop.sock_accept(listener)
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = loop.create_task(echo_sock(loop, conn))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def announce(port):
    """Tell bench/run.py where we listen."""
    print("port %d" % port, flush=True)


async def main(args):
    loop = asyncio.get_running_loop()
    if args.mode == "sock":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", args.port))
        listener.listen(BACKLOG)
        listener.setblocking(False)
        announce(listener.getsockname()[1])
        serving = loop.create_task(serve_sock(loop, listener))
    else:
        if args.mode == "protocol":
            server = await loop.create_server(
                EchoProtocol, "127.0.0.1", args.port, backlog=BACKLOG)
        else:
            server = await asyncio.start_server(
                echo_stream, "127.0.0.1", args.port, backlog=BACKLOG)
        announce(server.sockets[0].getsockname()[1])
        serving = None
    await asyncio.sleep(args.lifetime)
    if serving is not None:
        serving.cancel()


def parse_args(argv):
    p = argparse.ArgumentParser(description="echo server for make bench")
    p.add_argument("--loop", choices=loops.NAMES, required=True)
    p.add_argument("--mode", choices=("protocol", "streams", "sock"),
                   required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cpu", type=int, default=None,
                   help="pin the server to this core")
    p.add_argument("--lifetime", type=float, default=1800,
                   help="stop by itself after this many seconds")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    loops.pin(args.cpu)
    try:
        loops.install_policy(args.loop)
    except loops.Unavailable as e:
        print("server: %s: %s" % (args.loop, e), file=sys.stderr)
        sys.exit(3)
    asyncio.run(main(args))
