"""The event loops `make bench` compares, for bench/server.py and bench/sched.py.

bench/run.py runs them as users do: --loop apython under the apython binary,
asyncio and uvloop under /usr/bin/python3 (and, with --same-binary, uvloop
under the apython binary too); this module imports apython only when that
loop is asked for. Run on its own, `INTERPRETER bench/loops.py` prints in
JSON the interpreter's version and, for each loop, its version or why it
cannot be had under that interpreter.
"""

import asyncio
import json
import os
import sys

NAMES = ("apython", "asyncio", "uvloop")


class Unavailable(Exception):
    """The loop cannot be had under this interpreter."""


def loop_factory(name):
    """The callable that makes a new loop of the given kind."""
    if name == "apython":
        try:
            import apython
        except ImportError:
            raise Unavailable("not running under the apython binary")
        # apython.Loop itself, not apython.EventLoopPolicy: that policy
        # attaches the interactive console to the loop.
        return apython.Loop
    if name == "asyncio":
        return asyncio.SelectorEventLoop
    if name == "uvloop":
        try:
            import uvloop
        except ImportError as e:
            raise Unavailable("uvloop is not importable (%s); on Debian: "
                              "apt-get install -y python3-uvloop" % e)
        return uvloop.new_event_loop
    raise ValueError("unknown loop %r (one of %s)" % (name, ", ".join(NAMES)))


def install_policy(name):
    """Make asyncio.run() and friends use loops of the given kind."""
    factory = loop_factory(name)
    if name == "asyncio":
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
        return

    class Policy(asyncio.DefaultEventLoopPolicy):
        _loop_factory = staticmethod(factory)

    asyncio.set_event_loop_policy(Policy())


def pin(cpu):
    """Pin this process (and the threads it starts later) to one core."""
    if cpu is not None and cpu >= 0:
        os.sched_setaffinity(0, {cpu})


def describe():
    """The interpreter's version and each loop's version or absence."""
    info = {"python": sys.version.split()[0], "loops": {}}
    for name in NAMES:
        try:
            loop_factory(name)
        except Unavailable as e:
            info["loops"][name] = {"available": False, "reason": str(e)}
            continue
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None)
        if name == "asyncio":
            version = info["python"]
        info["loops"][name] = {"available": True, "version": version}
    return info


if __name__ == "__main__":
    print(json.dumps(describe()))
