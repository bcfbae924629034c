"""loop._ready, asyncio's private ready queue, read and appended to as
CPython's own tests and some libraries do.
Runs on apython.Loop when apython is importable, else on asyncio's
own loop.
"""
import asyncio


def show(label, loop):
    names = [h._callback.__name__ if h._callback else "cancelled"
             for h in loop._ready]
    print(label, bool(loop._ready), len(loop._ready), names)


def a():
    print("a ran")


def b():
    print("b ran")


def appended():
    print("appended ran")


async def nothing():
    pass


def run_briefly(loop):
    loop.run_until_complete(nothing())


try:
    import apython
    loop = apython.Loop()
except ImportError:
    loop = asyncio.SelectorEventLoop()
show("new:", loop)
loop.call_soon(a)
loop.call_soon(b).cancel()
loop.call_soon_threadsafe(a)
show("queued:", loop)
run_briefly(loop)
show("after a pass:", loop)

# The gather tests' way of stepping the loop.
first, second = loop.create_future(), loop.create_future()
both = asyncio.gather(first, second)
first.set_result(1)
second.set_result(2)
steps = 0
while loop._ready:
    steps += 1
    run_briefly(loop)
print("gathered:", both.done() and both.result(), "stepped:", steps > 0)

loop._ready.append(asyncio.Handle(appended, (), loop))
show("appended:", loop)
run_briefly(loop)
show("after it ran:", loop)

loop.call_soon(a)
loop.close()
show("closed:", loop)
