"""Four threads, each running its own loop, stream data over local TCP
while the collector runs at almost every allocation and, when it runs
inside the loop's own code, lets the other threads have the GIL (as a
finalizer that sleeps would): every transfer must arrive intact."""

import asyncio
import gc
import os
import sys
import threading
import time
import zlib

THREADS = 4
# Fewer under the sanitizers (tests/run sets ASAN_OPTIONS), which are
# many times slower; 50 still show the bug on the normal build.
TRANSFERS = 50 if "ASAN_OPTIONS" in os.environ else 200
SIZE = 251 * 260


def payload(tid, n):
    """The bytes of transfer n of thread tid: a pattern of their own."""
    return bytes([(tid * 37 + n * 11 + i) % 251 for i in range(251)]) * (
        SIZE // 251)


def give_way(phase, info):
    """A collection that starts below the loop's run_until_complete (in
    the loop's C code, or asyncio's) sleeps, releasing the GIL."""
    try:
        caller = sys._getframe(1).f_code.co_name
    except ValueError:
        return
    if phase == "start" and caller == "run_until_complete":
        time.sleep(0.0002)


async def main(tid, results):
    bad = 0

    async def serve(reader, writer):
        nonlocal bad
        for n in range(TRANSFERS):
            data = await reader.readexactly(SIZE)
            if zlib.crc32(data) != zlib.crc32(payload(tid, n)):
                bad += 1
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for n in range(TRANSFERS):
        writer.write(payload(tid, n))
        await writer.drain()
    await reader.read()
    writer.close()
    server.close()
    await server.wait_closed()
    results[tid] = bad


def worker(tid, results):
    asyncio.run(main(tid, results))


results = {}
threads = [threading.Thread(target=worker, args=(i, results))
           for i in range(THREADS)]
gc.callbacks.append(give_way)
gc.set_threshold(1, 100, 100)
for t in threads:
    t.start()
for t in threads:
    t.join()
gc.set_threshold(700, 10, 10)
gc.callbacks.remove(give_way)
for tid in range(THREADS):
    print("thread %d: %d transfers, %s corrupted" % (
        tid, TRANSFERS, results.get(tid)))
