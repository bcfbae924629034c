"""A call_soon callback that raises: the exception handler keeps the
context, so a cycle runs through the handle; the collector frees it."""

import asyncio
import gc
import weakref

try:
    import apython
    new_loop = apython.Loop
except ImportError:
    new_loop = asyncio.SelectorEventLoop


class Holder:
    pass


def run():
    loop = new_loop()
    holder = Holder()

    def fail():
        raise ValueError("callback failed")

    def keep(loop, context):
        holder.context = context

    fail.holder = holder
    loop.set_exception_handler(keep)
    loop.call_soon(fail)
    loop.call_soon(lambda: None)
    loop.run_until_complete(asyncio.sleep(0))
    print("handler got:", sorted(holder.context),
          holder.context["exception"])
    loop.close()
    return weakref.ref(holder)


ref = run()
gc.collect()
print("cycle through the failed handle collected:", ref() is None)
