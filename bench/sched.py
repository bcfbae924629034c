"""Scheduling micro-benchmarks of `make bench`, in operations per second.

    INTERPRETER bench/sched.py --loop LOOP [--time 0.3] [--repeat 3]
        [--cpu 1] [--json] </dev/null

LOOP: apython (under the apython binary), asyncio or uvloop (bench/run.py
runs those under /usr/bin/python3, as users do).

call_soon           a chain of callbacks, each scheduling the next
call_later_cancel   call_later(10, cb) then handle.cancel(), in batches of
                    1000 with a loop iteration between batches
sleep0              a task awaiting asyncio.sleep(0) in a loop
threadsafe          another thread calling call_soon_threadsafe(cb) N times;
                    ends when the loop has run the last callback

Each benchmark is calibrated to take about --time seconds, then run
--repeat times; the best rate counts.
"""

import argparse
import asyncio
import json
import sys
import threading
import time

import loops

BATCH = 1000


def call_soon_chain(loop, n):
    """Run a chain of n callbacks, each scheduled by the one before."""
    done = loop.create_future()
    left = n

    def step():
        nonlocal left
        left -= 1
        if left > 0:
            loop.call_soon(step)
        else:
            done.set_result(None)

    t0 = time.perf_counter()
    loop.call_soon(step)
    loop.run_until_complete(done)
    return time.perf_counter() - t0


def call_later_cancel(loop, n):
    """Schedule and cancel n timers, a batch per loop iteration."""
    def nothing():
        pass

    async def run():
        for _ in range(n // BATCH):
            for _ in range(BATCH):
                loop.call_later(10.0, nothing).cancel()
            await asyncio.sleep(0)

    t0 = time.perf_counter()
    loop.run_until_complete(run())
    return time.perf_counter() - t0


def sleep0_chain(loop, n):
    """Await asyncio.sleep(0) n times in one task."""
    async def run():
        for _ in range(n):
            await asyncio.sleep(0)

    t0 = time.perf_counter()
    loop.run_until_complete(run())
    return time.perf_counter() - t0


def threadsafe(loop, n):
    """Have another thread schedule n callbacks with call_soon_threadsafe."""
    done = loop.create_future()
    left = n

    def step():
        nonlocal left
        left -= 1
        if left == 0:
            done.set_result(None)

    def produce():
        for _ in range(n):
            loop.call_soon_threadsafe(step)

    t0 = time.perf_counter()
    thread = threading.Thread(target=produce)
    thread.start()
    loop.run_until_complete(done)
    elapsed = time.perf_counter() - t0
    thread.join()
    return elapsed


BENCHMARKS = {
    "call_soon": call_soon_chain,
    "call_later_cancel": call_later_cancel,
    "sleep0": sleep0_chain,
    "threadsafe": threadsafe,
}


def measure(loop, fn, seconds, repeat):
    """Best rate in ops/s of fn, sized to take about the given seconds."""
    n = BATCH
    while True:
        elapsed = fn(loop, n)
        if elapsed >= seconds / 4 or n >= 1 << 26:
            break
        n *= 2
    n = max(BATCH, int(n * seconds / elapsed) // BATCH * BATCH)
    return max(n / fn(loop, n) for _ in range(repeat))


def main(argv):
    p = argparse.ArgumentParser(description="scheduling micro-benchmarks")
    p.add_argument("--loop", choices=loops.NAMES, required=True)
    p.add_argument("--time", type=float, default=0.3,
                   help="seconds per run of a benchmark")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cpu", type=int, default=None,
                   help="pin the process to this core")
    p.add_argument("--only", action="append", choices=sorted(BENCHMARKS))
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead of a table")
    args = p.parse_args(argv)

    loops.pin(args.cpu)
    try:
        factory = loops.loop_factory(args.loop)
    except loops.Unavailable as e:
        print("sched: %s: %s" % (args.loop, e), file=sys.stderr)
        return 3
    results = {}
    for name in args.only or BENCHMARKS:
        loop = factory()
        asyncio.set_event_loop(loop)
        try:
            results[name] = measure(loop, BENCHMARKS[name], args.time,
                                    args.repeat)
        finally:
            asyncio.set_event_loop(None)
            loop.close()
    if args.json:
        print(json.dumps(results))
    else:
        for name, rate in results.items():
            print("%-18s %12.0f ops/s" % (name, rate))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
