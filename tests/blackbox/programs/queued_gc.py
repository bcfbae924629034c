"""The garbage collector and callbacks queued with call_soon: a loop
dropped with callbacks pending is collected (cycles through its handles
too), and handles the program keeps run and stay tracked."""

import asyncio
import gc
import warnings
import weakref

try:
    import apython
    new_loop = apython.Loop
except ImportError:
    new_loop = asyncio.SelectorEventLoop

warnings.simplefilter("ignore", ResourceWarning)


def dropped(cycle):
    loop = new_loop()

    def cb():
        pass

    for _ in range(1000):
        h = loop.call_soon(cb)
    if cycle:
        cb.h = h
    return weakref.ref(loop), weakref.ref(cb)


for cycle in (False, True):
    refs = dropped(cycle)
    gc.collect()
    print("cycle=%s collected:" % cycle, [r() is None for r in refs])

loop = new_loop()
out = []
kept = [loop.call_soon(out.append, i) for i in range(3)]
for i in range(10000):
    loop.call_soon(out.append, -1)
gc.collect()
loop.run_until_complete(asyncio.sleep(0))
print(out[:3], len(out), [h.cancelled() for h in kept],
      all(gc.is_tracked(h) for h in kept))
loop.close()
