"""throw() with arguments a future refuses, into a sock_* call that waits:
the TypeError is raised where the call waits, so the call is over (as
asyncio's coroutine awaiting its future is), and the socket stays usable."""

import asyncio
import socket
import warnings

try:
    import apython
    new_loop = apython.Loop
except ImportError:
    new_loop = asyncio.SelectorEventLoop

warnings.simplefilter("ignore", DeprecationWarning)
loop = new_loop()
a, b = socket.socketpair()
a.setblocking(False)
for args in ((ValueError, "thrown", 1), (1,), (ValueError("x"), "value")):
    coro = loop.sock_recv(a, 10)
    coro.send(None)
    try:
        coro.throw(*args)
    except TypeError as e:
        print("TypeError:", e)
    try:
        coro.send(None)
    except RuntimeError as e:
        print("then:", e)
    else:
        print("then: still waiting")
    coro.close()
b.send(b"x")
print(loop.run_until_complete(loop.sock_recv(a, 10)))
a.close()
b.close()
loop.close()
