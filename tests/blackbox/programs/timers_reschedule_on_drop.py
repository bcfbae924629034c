"""Cancelled timers, most of the heap, whose release schedules new ones
(a __del__ of what their context holds calls call_later): when the loop
drops them all at once, no timer is lost, repeated or run out of order."""

import asyncio
import contextvars

try:
    import apython
    new_loop = apython.Loop
except ImportError:
    new_loop = asyncio.SelectorEventLoop

var = contextvars.ContextVar("var")
loop = new_loop()
fired = []
rescheduled = {}


class Reschedule:
    """Held by a cancelled timer's context only."""

    def __init__(self, i):
        self.i = i

    def __del__(self):
        rescheduled[self.i] = loop.call_later(0.001 * (self.i % 7),
                                              fired.append, ("again", self.i))


def doomed(i):
    ctx = contextvars.copy_context()
    ctx.run(var.set, Reschedule(i))
    return loop.call_later(10 + i, fired.append, ("never", i), context=ctx)


kept = [loop.call_later(0.2 + 0.001 * i, fired.append, ("kept", i))
        for i in range(50)]
cancelled = [doomed(i) for i in range(150)]
for h in cancelled:
    h.cancel()
del cancelled, h
loop.run_until_complete(asyncio.sleep(0.5))
again = [i for kind, i in fired if kind == "again"]
print("kept:", [i for kind, i in fired if kind == "kept"] == list(range(50)))
print("again:", len(again), sorted(again) == list(range(150)))
whens = [rescheduled[i].when() for i in again]
print("again in deadline order:", whens == sorted(whens))
print("never:", sum(kind == "never" for kind, i in fired))
# Whenever the first pass comes (the kept timers may be due by then), the
# timers run in the order of their deadlines, the kept ones among the others.
whens = {("kept", i): h.when() for i, h in enumerate(kept)}
whens.update((("again", i), h.when()) for i, h in rescheduled.items())
order = [whens[f] for f in fired if f in whens]
print("all in deadline order:", len(order) == 200 and order == sorted(order))
loop.close()
