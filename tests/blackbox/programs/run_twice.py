"""Calls asyncio.run twice. Each run prints 'waiting N' and waits until the
console resolves DONE; LOOPS keeps both loops."""
import asyncio

LOOPS = []


async def phase(n):
    global DONE
    LOOPS.append(asyncio.get_running_loop())
    DONE = asyncio.get_running_loop().create_future()
    print("waiting", n, flush=True)
    await DONE
    print("phase", n, "done", flush=True)


asyncio.run(phase(1))
asyncio.run(phase(2))
print("finished", flush=True)
