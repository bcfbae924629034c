"""asyncio.events._set_running_loop swapped after import, as CPython's
test_events does: run_forever calls the one in place when it runs.
Runs on apython.Loop when apython is importable, else on asyncio's
own loop.
"""
import asyncio
import asyncio.events as events

calls = []
original = events._set_running_loop


def spy(loop):
    calls.append("set" if loop is not None else "cleared")
    original(loop)


async def main():
    return asyncio.get_running_loop() is loop


try:
    import apython
    loop = apython.Loop()
except ImportError:
    loop = asyncio.SelectorEventLoop()
print("before the swap:", loop.run_until_complete(main()), calls)
events._set_running_loop = spy
print("swapped:", loop.run_until_complete(main()), calls)
events._set_running_loop = original
print("restored:", loop.run_until_complete(main()), calls)
loop.close()
