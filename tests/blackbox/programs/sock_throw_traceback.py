"""throw() into a sock_* call that waits: the traceback given is the one
the caller sees, below its own frames, as with asyncio's coroutines."""

import asyncio
import socket
import traceback
import warnings

try:
    import apython
    new_loop = apython.Loop
except ImportError:
    new_loop = asyncio.SelectorEventLoop


def inner():
    raise ValueError("given")


def outer():
    inner()


def given_tb():
    try:
        outer()
    except ValueError as e:
        return e.__traceback__


def throw_into(loop, sock, args):
    coro = loop.sock_recv(sock, 10)
    coro.send(None)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            coro.throw(*args)
    except BaseException as e:
        names = [f.f_code.co_name for f, _ in traceback.walk_tb(
            e.__traceback__)]
        given = [n for n in names if n in ("given_tb", "outer", "inner")]
        print("%s(%s)" % (type(e).__name__, e), names[0], given,
              sorted({w.category.__name__ for w in seen}))
    else:
        print("no exception")
    coro.close()


loop = new_loop()
a, b = socket.socketpair()
a.setblocking(False)
tb = given_tb()
for args in ((ValueError, "thrown", tb), (ValueError, ValueError("thrown"), tb),
             (ValueError("thrown"), None, tb), (ValueError, None, tb),
             (ValueError("thrown"), "value", tb), (ValueError, "thrown", 1),
             (ValueError, "thrown", None)):
    throw_into(loop, a, args)
a.close()
b.close()
loop.close()
