"""Named tasks that await each other in the ways the task views show
(test_task_views.py): gather, a task awaited directly, shield,
asyncio.wait, wait_for, an async for, 500 tasks alike, and with the argument
"group" a TaskGroup (3.11+). Writes "ready" once they all wait."""

import asyncio
import sys


async def leaf():
    await asyncio.sleep(3600)


async def worker():
    await leaf()


async def crowd():
    workers = [asyncio.create_task(worker(), name="worker-%d" % i)
               for i in range(500)]
    await asyncio.gather(*workers)


async def parent():
    await asyncio.create_task(leaf(), name="child")


async def guard():
    await asyncio.shield(asyncio.create_task(leaf(), name="guarded"))


async def pair():
    both = [asyncio.create_task(worker(), name="left"),
            asyncio.create_task(leaf(), name="right")]
    await asyncio.wait(both)


async def timed():
    await asyncio.wait_for(asyncio.create_task(leaf(), name="late"), 3600)


async def ticks():
    while True:
        await asyncio.sleep(3600)
        yield


async def reader():
    async for _ in ticks():
        pass


async def group():
    async with asyncio.TaskGroup() as tg:
        tg.create_task(leaf(), name="member-a")
        tg.create_task(worker(), name="member-b")


async def main():
    asyncio.current_task().set_name("main")
    starts = [crowd, parent, guard, pair, timed, reader]
    if "group" in sys.argv[1:]:
        starts.append(group)
    tasks = [asyncio.create_task(f(), name=f.__name__) for f in starts]
    for _ in range(5):
        await asyncio.sleep(0)
    print("ready", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
