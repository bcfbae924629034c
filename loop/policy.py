"""apython.Loop and apython.EventLoopPolicy: apython's C loop first in the
MRO, asyncio's Unix selector loop behind it for what is off the hot path
(transports' Python parts, pipes, subprocesses, signals).

Given by loop/policy.c: _core, the C loop type. The console follows
whatever loop runs (loop/hook.c), not only the ones made here."""

import asyncio
from asyncio import unix_events


class Loop(_core, unix_events.SelectorEventLoop):  # noqa: F821
    """An asyncio event loop written in C on libevent."""
    __module__ = "apython"


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio's event loop policy, making apython.Loop loops."""
    __module__ = "apython"
    _loop_factory = Loop


def new_event_loop():
    """Create a new apython.Loop."""
    import apython
    return apython.Loop()


# help() shows the function as apython's, as it does the classes.
new_event_loop.__module__ = "apython"
