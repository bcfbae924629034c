"""A TCP server that writes each reply in parts, in one callback, as web
frameworks do (headers, then body): what the peer receives, the
transport's buffer and the socket's options are asyncio's, whether the
callback ends normally, raises, writes EOF, closes or aborts after."""

import asyncio
import socket
import sys

ROUNDS = 40


class Parts(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.sizes = []

    def data_received(self, data):
        t = self.transport
        for line in data.decode().splitlines():
            cmd, _, arg = line.partition(" ")
            if cmd == "req":
                t.write(b"head " + arg.encode() + b"|")
                t.write(bytearray(b"body|"))
                t.write(memoryview(b"tail\n"))
                self.sizes.append(t.get_write_buffer_size())
            elif cmd == "once":
                t.write(b"single " + arg.encode() + b"\n")
            elif cmd == "eof":
                t.write(b"before eof|")
                t.write(b"last\n")
                t.write_eof()
            elif cmd == "close":
                t.write(b"before close|")
                t.write(b"last\n")
                t.close()
            elif cmd == "abort":
                t.write(b"before abort|")
                t.write(b"last\n")
                t.abort()
            elif cmd == "raise":
                asyncio.get_running_loop().call_soon(self.write_and_raise)
            elif cmd == "opts":
                sock = t.get_extra_info("socket")
                t.write(("%d %d\n" % (
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) != 0,
                )).encode())
            elif cmd == "nagle":
                sock = t.get_extra_info("socket")
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
                t.write(b"nagle on|")
                t.write(b"ok\n")

    def write_and_raise(self):
        self.transport.write(b"from a failing callback|")
        self.transport.write(b"kept\n")
        raise RuntimeError("callback failed")


async def ask(reader, writer, line, until=b"\n"):
    writer.write(line.encode() + b"\n")
    return await reader.readuntil(until)


async def session(port, lines):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got = [await ask(reader, writer, line) for line in lines]
    writer.close()
    return got


async def ending(port, cmd):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(cmd.encode() + b"\n")
    data = await reader.read()      # up to EOF
    writer.close()
    return data


async def main():
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda loop, ctx: print("handler:", ctx["exception"]))
    protos = []

    def factory():
        protos.append(Parts())
        return protos[-1]

    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    # Request and reply in turn: each reply must reach the peer.
    got = await session(port, ["req %d" % i for i in range(ROUNDS)])
    print("rounds:", len(got), got[0], got[-1])
    print("all whole:", all(g == b"head %d|body|tail\n" % i
                            for i, g in enumerate(got)))
    print("buffer sizes:", set(protos[-1].sizes))

    # Several writes, then one write, in turn.
    got = await session(port, ["req 1", "once 2", "req 3", "once 4", "once 5"])
    print("mixed:", got)

    # The socket's options are the program's, before and after.
    got = await session(port, ["opts", "req 1", "opts", "nagle", "opts"])
    print("options:", got)

    got = await session(port, ["req 7", "raise", "req 8"])
    print("raising callback:", got)

    for cmd in ("eof", "close", "abort"):
        print(cmd + ":", await ending(port, cmd))

    server.close()
    await server.wait_closed()


asyncio.run(main())
sys.stdout.flush()
