"""Pure-Python kernels of `make bench`: the interpreter's own speed.

    INTERPRETER bench/pure.py [--scale F] </dev/null

Runs each kernel once and prints one JSON line, {kernel: seconds}
(time.perf_counter around the kernel). bench/run.py runs this under
apython and under /usr/bin/python3 in turn, several times, and compares
the best time of each kernel. No event loop: this measures the
interpreter as the binary links it, nothing of apython's own.
"""

import argparse
import json
import sys
import time


def arith(n):
    """An integer loop: arithmetic, comparisons, local variables."""
    total = 0
    for i in range(n):
        total += i * i % 7
        if total > 1 << 30:
            total -= 1 << 30
    return total


def dicts(n):
    """Insert, look up and iterate a dict with str keys."""
    d = {}
    for i in range(n):
        d["k%d" % i] = i
    found = 0
    for i in range(0, n, 3):
        found += d.get("k%d" % i, 0)
    return found + sum(v for k, v in d.items() if k[-1] == "7")


def strings(n):
    """Format, split, join and search str objects."""
    words = []
    for i in range(n):
        line = "%d,%s,%x" % (i, "abc" * (i % 5), i)
        parts = line.split(",")
        words.append("-".join(reversed(parts)).upper())
    text = " ".join(words)
    return text.count("ABC") + len(text.replace("-", ""))


def calls(n):
    """Function and method calls with positional and keyword arguments."""
    class Point:
        __slots__ = ("x", "y")

        def __init__(self, x, y):
            self.x = x
            self.y = y

        def moved(self, dx, dy=0):
            return Point(self.x + dx, self.y + dy)

    def step(p, i):
        return p.moved(i & 3, dy=1)

    p = Point(0, 0)
    for i in range(n):
        p = step(p, i)
    return p.x + p.y


def generators(n):
    """Generators and comprehensions feeding each other."""
    def evens(limit):
        for i in range(limit):
            if not i & 1:
                yield i

    def squares(it):
        for x in it:
            yield x * x

    return sum(squares(evens(n))) + len([x for x in range(n // 4) if x % 3])


KERNELS = {  # name: (function, size at --scale 1)
    "arith": (arith, 3_000_000),
    "dict": (dicts, 200_000),
    "str": (strings, 150_000),
    "calls": (calls, 1_000_000),
    "generators": (generators, 2_000_000),
}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every kernel's size by F")
    args = parser.parse_args(argv)
    out = {}
    for name, (kernel, size) in KERNELS.items():
        start = time.perf_counter()
        kernel(max(1, int(size * args.scale)))
        out[name] = time.perf_counter() - start
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
