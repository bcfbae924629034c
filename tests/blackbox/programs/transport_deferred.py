"""What a program and its peer see of a socket transport's writes made in
a callback: the buffer size right after write(), a failing send shown by
is_closing(), the order against the socket used directly, writelines(),
another thread's writes and os.fork(), pause_writing() inside a large
write(), writes from call_soon_threadsafe() and from tasks, TLS, and a
write made outside any callback. Compared with python3's asyncio."""

import asyncio
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
BIG = 8 * 1024 * 1024


class Server(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.paused = False

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        pass

    def data_received(self, data):
        t = self.t
        cmd = data.decode().strip()
        if cmd == "size":
            t.write(b"sized|")
            size = t.get_write_buffer_size()
            t.write(b"%d\n" % size)
        elif cmd == "reset":
            time.sleep(1.0)     # the peer resets meanwhile
            t.write(b"into a reset connection\n")
            print("reset: closing after write:", t.is_closing())
        elif cmd == "raw":
            t.write(b"1|")
            os.write(t.get_extra_info("socket").fileno(), b"2|")
            t.write(b"3\n")
        elif cmd == "lines":
            t.write(b"a|")
            t.writelines([b"b|", b"c\n"])
        elif cmd == "thread":
            t.write(b"before|")
            th = threading.Thread(target=t.write, args=(b"thread|",))
            th.start()
            th.join()
            t.write(b"after\n")
        elif cmd == "tsafe":
            loop = asyncio.get_running_loop()

            def later():
                t.write(b"ts1|")
                t.write(b"ts2\n")
            th = threading.Thread(target=loop.call_soon_threadsafe,
                                  args=(later,))
            th.start()
            th.join()
        elif cmd == "fork":
            t.write(b"parent|")
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                print("fork: child sees buffer", t.get_write_buffer_size())
                sys.stdout.flush()
                os._exit(0)
            os.waitpid(pid, 0)
            print("fork: parent goes on")
            t.write(b"done\n")
        elif cmd == "big":
            t.write(b"x" * BIG)
            print("big: paused inside write:", self.paused)
            t.write(b"end\n")


async def ask(port, cmd, until=b"\n"):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(cmd.encode() + b"\n")
    data = await reader.readuntil(until)
    writer.close()
    return data


def reset(port):
    # A plain socket in a thread: the loop is held by the server's sleep.
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"reset\n")
    time.sleep(0.3)             # the server is in its callback by now
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    c.close()


async def big(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"big\n")
    await asyncio.sleep(0.5)    # not reading: the server's socket fills
    data = await reader.readexactly(BIG + 4)
    writer.close()
    return len(data)


async def tasks(reader, writer):
    await reader.readline()
    writer.write(b"t1|")
    await asyncio.sleep(0)
    writer.write(b"t2|")
    await writer.drain()
    writer.write(b"t3\n")
    await writer.drain()
    writer.close()


async def small_sndbuf(end):
    # A socket that takes only part of a write: the rest is buffered, as
    # get_write_buffer_size() right after the write shows, and close()
    # sends it before closing.
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    b.setblocking(False)
    t, _ = await loop.create_connection(asyncio.Protocol, sock=a)
    t.write(b"y" * 30000)
    if end == "close":
        t.close()
    buffered = end == "close" or t.get_write_buffer_size() > 0
    got = 0
    while True:
        data = await loop.sock_recv(b, 65536)
        got += len(data)
        if not data or got == 30000 and end != "close":
            break
    t.close()
    b.close()
    return buffered, got


def tls_contexts(tmp):
    cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    return server, client


async def echo(reader, writer, done):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(b"echo ")
        writer.write(line)
    writer.close()
    done.set()


async def tls(tmp):
    sctx, cctx = tls_contexts(tmp)
    # The handler ends before asyncio.run() does: 3.11.7's streams report
    # a cancelled handler as an exception in a callback (python3 too).
    done = asyncio.Event()
    server = await asyncio.start_server(
        lambda r, w: echo(r, w, done), "127.0.0.1", 0, ssl=sctx)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                   ssl=cctx)
    got = []
    for i in range(3):
        writer.write(b"line %d\n" % i)
        got.append(await reader.readline())
    writer.close()
    await done.wait()
    server.close()
    await server.wait_closed()
    return got


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for cmd in ("size", "raw", "lines", "thread", "tsafe", "fork"):
        print(cmd + ":", await ask(port, cmd))
    await asyncio.get_running_loop().run_in_executor(None, reset, port)
    await asyncio.sleep(0.1)
    print("big: peer got", await big(port))
    ts = await asyncio.start_server(tasks, "127.0.0.1", 0)
    print("task:", await ask(ts.sockets[0].getsockname()[1], "go"))
    ts.close()
    print("small sndbuf:", await small_sndbuf("size"))
    print("small sndbuf, close:", await small_sndbuf("close"))
    with tempfile.TemporaryDirectory() as tmp:
        print("tls:", await tls(tmp))
    server.close()
    await server.wait_closed()


class Quiet(asyncio.Protocol):
    pass


def outside():
    # A write made outside any callback leaves at once.
    loop = asyncio.new_event_loop()
    a, b = socket.socketpair()
    t, _ = loop.run_until_complete(loop.create_connection(Quiet, sock=a))
    t.write(b"outside\n")
    b.settimeout(5)
    print("outside:", b.recv(100))
    t.close()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    b.close()


asyncio.run(main())
outside()
sys.stdout.flush()
