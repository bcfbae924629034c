"""What a program and its peers see of socket transports written in one
pass of the loop (apython holds them to the pass's end, loop/wbatch.c):
the order in which two transports' bytes reach their peers, bytes written
just before run_until_complete() returns or in the callback that calls
loop.stop(), and is_closing() after a write into a connection the peer
reset. Compared with python3's asyncio."""

import asyncio
import socket
import struct
import time

TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)    # Linux's value


def stamped(sock):
    """The bytes waiting on sock and the kernel's time of their arrival."""
    data, anc, _, _ = sock.recvmsg(100, 64)
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", raw[:16])
            return data, sec * 10**9 + nsec
    raise SystemExit("no timestamp")


def tcp_pair():
    """A TCP connection: its server end and its client end (blocking,
    receive timestamps asked for)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    peer = socket.create_connection(ls.getsockname())
    conn, _ = ls.accept()
    ls.close()
    peer.setsockopt(socket.SOL_SOCKET, TIMESTAMPNS, 1)
    peer.settimeout(5)
    return conn, peer


def timestamps_on():
    """A connection whose peer keeps the kernel's receive timestamps on,
    once they are: Linux turns them on a moment after the first socket
    asks (in a work queue)."""
    conn, peer = tcp_pair()
    for _ in range(100):
        conn.send(b".")
        if peer.recvmsg(1, 64)[1]:
            return conn, peer
        time.sleep(0.05)
    raise SystemExit("no timestamps")


async def connected(loop, proto=asyncio.Protocol):
    """A transport on a TCP connection and the plain socket at its other
    end (blocking, timestamps on)."""
    conn, peer = tcp_pair()
    t, p = await loop.create_connection(proto, sock=conn)
    return t, p, peer


async def order():
    # Written in two callbacks of one pass, t1 first: t1's bytes reach
    # its peer no later than t2's reach theirs.
    loop = asyncio.get_running_loop()
    keep = timestamps_on()
    t1, _, p1 = await connected(loop)
    t2, _, p2 = await connected(loop)
    done = loop.create_future()
    loop.call_soon(t1.write, b"first")
    loop.call_soon(t2.write, b"second")
    loop.call_soon(done.set_result, None)
    await done
    await asyncio.sleep(0.05)
    d1, when1 = stamped(p1)
    d2, when2 = stamped(p2)
    print("order:", d1, d2, "t1 arrived first:", when1 <= when2)
    for t, p in ((t1, p1), (t2, p2)):
        t.close()
        p.close()
    for s in keep:
        s.close()


class Lost(asyncio.Protocol):
    def connection_lost(self, exc):
        print("reset: connection_lost", type(exc).__name__)


async def reset():
    # In one pass: the peer resets, a callback writes, the next one asks
    # is_closing(): asyncio's write failed, so True, and the connection is
    # lost with the write's error.
    loop = asyncio.get_running_loop()
    t, _, peer = await connected(loop, Lost)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    done = loop.create_future()
    loop.call_soon(peer.close)
    loop.call_soon(t.write, b"into a reset connection\n")
    loop.call_soon(lambda: print("reset: closing in the next callback:",
                                 t.is_closing()))
    loop.call_soon(done.set_result, None)
    await done
    await asyncio.sleep(0.05)
    t.close()


def until_complete():
    # The future's first done callback writes; its next one stops the
    # loop in the same pass: run_until_complete() returns with the bytes
    # sent.
    loop = asyncio.new_event_loop()
    t, _, peer = loop.run_until_complete(connected(loop))
    fut = loop.create_future()
    fut.add_done_callback(lambda f: t.write(b"written last\n"))
    loop.call_soon(fut.set_result, None)
    loop.run_until_complete(fut)
    peer.setblocking(False)
    try:
        print("until complete:", peer.recv(100))
    except BlockingIOError:
        print("until complete: nothing yet")
    t.close()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    peer.close()


def stop():
    # The callback that writes also stops the loop: run_forever() returns
    # with the bytes sent.
    loop = asyncio.new_event_loop()
    t, _, peer = loop.run_until_complete(connected(loop))

    def write_and_stop():
        t.write(b"then stop\n")
        loop.stop()
    loop.call_soon(write_and_stop)
    loop.run_forever()
    peer.setblocking(False)
    try:
        print("stop:", peer.recv(100))
    except BlockingIOError:
        print("stop: nothing yet")
    t.close()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    peer.close()


async def many():
    # One callback writes to 200 transports, twice each, and another
    # callback of the same pass once more: every peer gets its three
    # pieces, in order (more transports than the loop holds at once).
    loop = asyncio.get_running_loop()
    pairs = []
    for _ in range(200):
        conn, peer = socket.socketpair()
        t, _ = await loop.create_connection(asyncio.Protocol, sock=conn)
        pairs.append((t, peer))

    def broadcast(piece):
        for t, _ in pairs:
            t.write(piece)
    loop.call_soon(broadcast, b"a")
    loop.call_soon(broadcast, b"b")
    loop.call_soon(broadcast, b"c")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    got = set()
    for t, peer in pairs:
        peer.settimeout(5)
        data = b""
        while len(data) < 3:
            data += peer.recv(10)
        got.add(data)
        t.close()
        peer.close()
    print("many:", sorted(got))


async def main():
    await order()
    await reset()
    await many()


asyncio.run(main())
until_complete()
stop()
