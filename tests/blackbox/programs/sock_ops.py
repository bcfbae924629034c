"""The loop's sock_* methods as a program sees them.

Runs on apython.Loop when apython is importable, else on asyncio's
selector loop, and prints the same lines on both (bar the loop's name).
"""

import asyncio
import gc
import os
import socket
import warnings

try:
    import apython
    loop = apython.Loop()
except ImportError:
    loop = asyncio.SelectorEventLoop()


def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


async def basics():
    a, b = pair()
    op = loop.sock_recv(a, 10)
    print("coroutine:", asyncio.iscoroutine(op), "future:", asyncio.isfuture(op))
    task = asyncio.ensure_future(op)
    await asyncio.sleep(0)
    b.send(b"hello")
    print("waited for:", await task)
    b.send(b"x")
    await asyncio.sleep(0.01)
    print("ready at once:", await loop.sock_recv(a, 10))
    buf = bytearray(4)
    b.send(b"abcdef")
    print("recv_into:", await loop.sock_recv_into(a, buf), buf)
    print("rest:", await loop.sock_recv(a, 100))
    print("empty sendall:", await loop.sock_sendall(a, b""))
    b.close()
    print("at EOF:", await loop.sock_recv(a, 10))
    a.close()


async def big_sendall():
    a, b = pair()
    size = 8 * 1024 * 1024

    async def reader():
        got = 0
        view = bytearray(65536)
        while got < size:
            got += await loop.sock_recv_into(b, view)
        return got

    task = loop.create_task(reader())
    print("sendall:", await loop.sock_sendall(a, memoryview(b"z" * size)),
          "received:", await task)
    a.close()
    b.close()


async def cancelling():
    a, b = pair()
    task = loop.create_task(loop.sock_recv(a, 10))
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("cancelled:", task.cancelled())
    b.send(b"kept")
    print("not lost:", await loop.sock_recv(a, 10))
    try:
        await asyncio.wait_for(loop.sock_recv(a, 10), 0.05)
    except asyncio.TimeoutError:
        print("timed out")
    b.send(b"again")
    print("after timeout:", await loop.sock_recv(a, 10))
    results = await asyncio.gather(loop.sock_recv(a, 10),
                                   loop.sock_sendall(b, b"both"))
    print("gather:", results)
    a.close()
    b.close()


async def errors():
    a, b = pair()
    for call in (lambda: loop.sock_recv(a, -1), lambda: loop.sock_recv(a, "x"),
                 lambda: loop.sock_recv_into(a, b"ro")):
        coro = call()
        try:
            await coro
        except (ValueError, TypeError) as e:
            print("refused:", type(e).__name__, e)
    b.close()
    try:
        while True:
            await loop.sock_sendall(a, b"x" * 65536)
    except OSError as e:
        print("peer gone:", type(e).__name__)
    a.close()
    try:
        await loop.sock_recv(a, 1)
    except OSError as e:
        print("closed:", e)
    coro = loop.sock_recv(a, 1)
    coro.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop.sock_sendall(a, b"forgotten")
        gc.collect()
    print("closed unawaited: no warning; forgotten:",
          [str(w.message) for w in caught])


async def reused_fds():
    # A socket that waited is closed while a dup keeps its file open;
    # a new socket gets its fd number: only the new socket's data counts.
    a, b = pair()
    t = loop.create_task(loop.sock_recv(a, 10))
    await asyncio.sleep(0)
    b.send(b"first")
    print("old:", await t)
    keep = os.dup(a.fileno())
    old_fd = a.fileno()
    a.close()
    c, d = pair()
    e, f = (c, d) if c.fileno() == old_fd else (d, c)
    print("fd reused:", e.fileno() == old_fd)
    t = loop.create_task(loop.sock_recv(e, 10))
    await asyncio.sleep(0.01)
    b.send(b"stale")
    await asyncio.sleep(0.01)
    print("stale data ignored:", not t.done())
    f.send(b"new")
    print("new:", await t)
    for s in (b, c, d):
        s.close()
    os.close(keep)


async def transports():
    a, b = pair()
    tr, _ = await loop.connect_accepted_socket(asyncio.Protocol, a)
    try:
        await loop.sock_recv(a, 1)
    except RuntimeError as e:
        print("owned by a transport:", str(e).split(" is used")[0][:15])
    tr.close()
    await asyncio.sleep(0)
    b.close()


class Sock(socket.socket):
    def recv(self, n):
        print("subclass recv called")
        return super().recv(n)


async def subclass():
    a0, b = socket.socketpair()
    a = Sock(fileno=a0.detach())
    a.setblocking(False)
    b.send(b"s")
    print("subclass:", await loop.sock_recv(a, 5))
    a.close()
    b.close()


async def debug_mode():
    loop.set_debug(True)
    a, b = socket.socketpair()
    try:
        await loop.sock_recv(a, 1)
    except ValueError as e:
        print("debug:", e)
    loop.set_debug(False)
    a.close()
    b.close()


async def accept_and_keywords():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()
    lsock.setblocking(False)
    acc = loop.create_task(loop.sock_accept(lsock))
    await asyncio.sleep(0.01)
    c = socket.socket()
    c.setblocking(False)
    await loop.sock_connect(c, lsock.getsockname())
    conn, addr = await acc
    print("accepted:", conn.getblocking(), addr == c.getsockname(),
          type(conn).__name__)
    await loop.sock_sendall(sock=c, data=b"kw")
    print("keywords:", await loop.sock_recv(sock=conn, n=10))
    for call in (lambda: loop.sock_recv(conn, 1, 2),
                 lambda: loop.sock_recv(conn, m=1),
                 lambda: loop.sock_recv(conn)):
        try:
            call()
        except TypeError:
            print("bad call: TypeError")
    for s in (conn, c, lsock):
        s.close()


async def datagrams():
    if not hasattr(loop, "sock_recvfrom"):     # Python 3.11 and later
        print("datagrams: skipped")
        return
    u1, u2 = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
              for _ in range(2))
    for u in (u1, u2):
        u.bind(("127.0.0.1", 0))
        u.setblocking(False)
    t = loop.create_task(loop.sock_recvfrom(u1, 100))
    await asyncio.sleep(0.01)
    print("sendto:", await loop.sock_sendto(u2, b"dgram", u1.getsockname()))
    data, addr = await t
    print("recvfrom:", data, addr == u2.getsockname())
    buf = bytearray(3)
    t = loop.create_task(loop.sock_recvfrom_into(u1, buf))
    await asyncio.sleep(0.01)
    await loop.sock_sendto(u2, b"abc", u1.getsockname())
    print("recvfrom_into:", (await t)[0], buf)
    buf = bytearray(4)
    await loop.sock_sendto(u2, b"abcdef", u1.getsockname())
    await asyncio.sleep(0.01)
    print("nbytes:", (await loop.sock_recvfrom_into(u1, buf, nbytes=2))[0],
          buf)
    u1.close()
    u2.close()


def forked():
    # The child waits on its own copy of the loop, the parent on its own.
    a, b = pair()
    c, d = pair()
    pid = os.fork()
    if pid == 0:
        b.send(b"from child")
        print("child got:", loop.run_until_complete(loop.sock_recv(c, 20)),
              flush=True)
        os._exit(0)
    print("parent got:", loop.run_until_complete(loop.sock_recv(a, 20)),
          flush=True)
    d.send(b"from parent")
    print("child exit:", os.waitpid(pid, 0)[1])
    for s in (a, b, c, d):
        s.close()


for step in (basics, big_sendall, cancelling, errors, reused_fds,
             transports, subclass, debug_mode, accept_and_keywords,
             datagrams):
    loop.run_until_complete(step())
forked()
loop.close()
print("done")
