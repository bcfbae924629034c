"""A small HTTP/1.1 client on asyncio streams, to try apython on.

    python3 -m examples.http_client [-n COUNT] [-d DATA] [HOST:]PORT [PATH]
    apython -m examples.http_client -n 3 8080 /

Sends COUNT requests for PATH (default /) to HOST:PORT (default host
127.0.0.1) over one keep-alive connection, GET, or POST with DATA as the
body, and prints each response's status and body length, then how many
connections it took (a new one only when the server closes the previous).
Reads responses framed by Content-Length, as examples/http_server.py sends
them.  Exit status 0 when every response is 2xx, 1 otherwise.
"""

import argparse
import asyncio
import sys


async def read_response(reader):
    """Read one response: (status, reason, headers, body)."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed by the server")
    status_line = line.decode("latin-1").rstrip("\r\n")
    version, status, reason = status_line.split(" ", 2)
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
    return int(status), reason, headers, body


def request(host, port, path, data):
    """The bytes of one GET (or POST with data) request."""
    method = "GET" if data is None else "POST"
    body = b"" if data is None else data.encode()
    head = ["%s %s HTTP/1.1" % (method, path),
            "Host: %s:%d" % (host, port),
            "User-Agent: examples.http_client"]
    if data is not None:
        head.append("Content-Length: %d" % len(body))
    return ("\r\n".join(head + ["", ""])).encode("latin-1") + body


async def fetch(host, port, path, count, data=None):
    """Send count requests, print each status; return True if all were 2xx."""
    message = request(host, port, path, data)
    connections = 0
    writer = None
    ok = True
    try:
        for _ in range(count):
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
                connections += 1
            writer.write(message)
            await writer.drain()
            status, reason, headers, body = await read_response(reader)
            print("%d %s, %d bytes" % (status, reason, len(body)))
            ok = ok and 200 <= status < 300
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()
            await writer.wait_closed()
    print("%d %s over %d %s"
          % (count, "response" if count == 1 else "responses",
             connections, "connection" if connections == 1 else "connections"))
    return ok


def address(text):
    """Parse [HOST:]PORT into (host, port)."""
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m examples.http_client",
        description="Send HTTP requests over one keep-alive connection.")
    parser.add_argument("address", metavar="[HOST:]PORT", type=address,
                        help="server to ask (host 127.0.0.1 by default)")
    parser.add_argument("path", metavar="PATH", nargs="?", default="/",
                        help="path to ask for (default /)")
    parser.add_argument("-n", "--count", type=int, default=1,
                        help="number of requests (default 1)")
    parser.add_argument("-d", "--data", help="POST DATA instead of GET")
    args = parser.parse_args(argv)
    host, port = args.address
    try:
        ok = asyncio.run(fetch(host, port, args.path, args.count, args.data))
    except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
        print("http_client: %s" % exc, file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
