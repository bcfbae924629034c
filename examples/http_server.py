"""A small HTTP/1.1 server on asyncio streams, to try apython on.

    python3 -m examples.http_server PORT
    apython -m examples.http_server PORT > http.log

Serves on 127.0.0.1:PORT (PORT 0 picks a free port):

    GET /             a short text greeting
    GET /echo?TEXT    TEXT (the raw query string) as the body
    POST /echo        the request body as the body
    anything else     404 Not Found

Every response carries a Content-Length, and connections are kept alive as
HTTP/1.1 says (HTTP/1.0 only on "Connection: keep-alive").  The number of
requests served is kept in ``loop.requests``, an attribute of the running
loop, so that a console on that loop can look at it:

    >>> loop.requests
    3

The server writes one line per request to stdout, flushed.  Try it with
examples/http_client.py or curl.
"""

import argparse
import asyncio

HOST = "127.0.0.1"
GREETING = b"Hello from an asyncio streams HTTP server.\n"
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


class BadRequest(Exception):
    """The client sent something this server does not understand."""


def log(message):
    """Write one line to stdout at once, even when stdout is a file."""
    print(message, flush=True)


async def read_request(reader):
    """Read one request: (method, target, version, headers, body), or None
    when the client closed the connection between requests."""
    try:
        line = await reader.readline()
        if not line:
            return None
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest("bad request line %r" % line)
        headers = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n"):
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise BadRequest("bad header line %r" % line)
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            raise BadRequest("Transfer-Encoding is not supported")
        length = int(headers.get("content-length", "0"))
        if length < 0:
            raise BadRequest("negative Content-Length")
        body = await reader.readexactly(length)
    except (ValueError, asyncio.IncompleteReadError) as exc:
        raise BadRequest(str(exc)) from None
    return parts[0], parts[1], parts[2], headers, body


def respond(method, target, body):
    """Route one request: (status, response body)."""
    path, _, query = target.partition("?")
    if path == "/" and method == "GET":
        return 200, GREETING
    if path == "/echo" and method == "GET":
        return 200, query.encode("latin-1")
    if path == "/echo" and method == "POST":
        return 200, body
    return 404, b"Not Found\n"


def keep_alive(version, headers):
    """Whether the connection stays open after this request."""
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def send(writer, status, body, keep):
    """Write one response with its Content-Length."""
    head = ["HTTP/1.1 %d %s" % (status, REASONS[status]),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Length: %d" % len(body),
            "Connection: %s" % ("keep-alive" if keep else "close"),
            "", ""]
    writer.write("\r\n".join(head).encode("latin-1") + body)


async def handle(reader, writer, number):
    """Serve the requests of one connection until either side closes it."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                request = await read_request(reader)
            except BadRequest as exc:
                log("connection %d: bad request (%s)" % (number, exc))
                send(writer, 400, b"Bad Request\n", False)
                await writer.drain()
                break
            if request is None:
                break
            method, target, version, headers, body = request
            loop.requests += 1
            status, reply = respond(method, target, body)
            keep = keep_alive(version, headers)
            send(writer, status, reply, keep)
            await writer.drain()
            log('connection %d: "%s %s %s" %d %d'
                % (number, method, target, version, status, len(reply)))
            if not keep:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(port):
    """Run the HTTP service on HOST:port until cancelled."""
    loop = asyncio.get_running_loop()
    loop.requests = 0
    connections = 0

    async def connected(reader, writer):
        nonlocal connections
        connections += 1
        await handle(reader, writer, connections)

    server = await asyncio.start_server(connected, HOST, port)
    port = server.sockets[0].getsockname()[1]
    log("Serving HTTP on %s:%d" % (HOST, port))
    async with server:
        await server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m examples.http_server",
        description="Serve HTTP/1.1 on %s:PORT." % HOST)
    parser.add_argument("port", metavar="PORT", type=int,
                        help="TCP port to listen on (0: any free port)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
