"""An echo server to try apython on.

    python3 -m examples.echo PORT
    apython -m examples.echo PORT > echo.log

Serves on 127.0.0.1:PORT (PORT 0 picks a free port): every line a client
sends is written back to it.  Each received message is kept in
``loop.history``, a list set on the running loop, so that a console on that
loop can look at it:

    >>> loop.history
    ['Hello!']

Everything the server says goes to stdout, flushed line by line.
"""

import argparse
import asyncio

HOST = "127.0.0.1"


def log(message):
    """Write one line to stdout at once, even when stdout is a file."""
    print(message, flush=True)


async def echo(reader, writer):
    """Send each line of one client back to it until it closes."""
    history = asyncio.get_running_loop().history
    peer = writer.get_extra_info("peername")
    try:
        while True:
            data = await reader.readline()
            if not data:
                break
            message = data.decode(errors="replace").rstrip("\r\n")
            history.append(message)
            writer.write(data)
            await writer.drain()
            log("Echoed %r to %s:%s" % (message, peer[0], peer[1]))
    except ConnectionError:
        pass
    finally:
        writer.close()


async def start(port):
    """Start the echo service on HOST:port; its asyncio server."""
    asyncio.get_running_loop().history = []
    server = await asyncio.start_server(echo, HOST, port)
    port = server.sockets[0].getsockname()[1]
    log("The echo service is being served on %s:%d" % (HOST, port))
    return server


async def serve(port):
    """Run the echo service on HOST:port until cancelled."""
    async with await start(port) as server:
        await server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m examples.echo",
        description="Serve lines back on %s:PORT." % HOST)
    parser.add_argument("port", metavar="PORT", type=int,
                        help="TCP port to listen on (0: any free port)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
