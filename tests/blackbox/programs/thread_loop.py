"""Runs an asyncio loop in another thread only."""
import asyncio
import threading


def worker():
    asyncio.run(asyncio.sleep(0.3))
    print("thread done", flush=True)


t = threading.Thread(target=worker)
t.start()
t.join()
print("done", flush=True)
