"""close() drops a queued callback whose argument's finalizer queues
another callback holding an object like itself: asyncio's close() marks
the loop closed before it drops the queue, so the finalizer's call_soon
is refused and the chain ends.

Runs on apython.Loop when apython is importable, else on asyncio's
selector loop, and prints the same lines on both."""

import asyncio

try:
    import apython
    loop = apython.Loop()
except ImportError:
    loop = asyncio.SelectorEventLoop()

LIMIT = 100     # finalizers that queued another before the chain stops
queued = 0
kept = []


class Chain:
    def __del__(self):
        global queued
        if queued >= LIMIT:
            return
        nxt = Chain()
        try:
            loop.call_soon(print, nxt)
        except RuntimeError as e:
            print("refused:", e, "is_closed:", loop.is_closed())
            kept.append(nxt)
            return
        queued += 1


loop.call_soon(print, Chain())
loop.close()
print("queued while closing:", queued, "is_closed:", loop.is_closed())
queued = LIMIT  # the kept one is released at exit without queueing
