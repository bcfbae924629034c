"""apython.Loop and apython.EventLoopPolicy: apython's C loop first in the
MRO, asyncio's Unix selector loop behind it for what is off the hot path
(transports' Python parts, pipes, subprocesses, signals).

Given by loop/policy.c: _core, the C loop type, and _observe(loop), which
marks a loop the policy made for the loop's observers (the console) to
follow."""

import asyncio
from asyncio import unix_events


class Loop(_core, unix_events.SelectorEventLoop):  # noqa: F821
    """An asyncio event loop written in C on libevent."""
    __module__ = "apython"


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio's event loop policy, making apython.Loop loops."""
    __module__ = "apython"
    _loop_factory = Loop

    def new_event_loop(self):
        """Create a new apython.Loop; in the main thread the console
        joins it."""
        loop = self._loop_factory()
        if isinstance(loop, _core):  # noqa: F821
            _observe(loop)  # noqa: F821
        return loop


def new_event_loop():
    """Create a new apython.Loop (no console joins it)."""
    import apython
    return apython.Loop()


# help() shows the functions as apython's, as it does the classes.
new_event_loop.__module__ = "apython"
EventLoopPolicy.new_event_loop.__module__ = "apython"
