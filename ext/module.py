"""The module apython's names written in Python, for the binary's built-in
module and the extension alike (ext/module.c): install(); and for the
extension (ext/pyinit.c): start_console_server() readying the console
first. ainput() and its kin are console/stdstreams.py's."""

import asyncio
import functools


def install():
    """Make apython.Loop asyncio's default event loop: set
    apython.EventLoopPolicy as asyncio's event loop policy (as
    uvloop.install() does). The binary has done so at start-up."""
    import apython
    asyncio.set_event_loop_policy(apython.EventLoopPolicy())


install.__module__ = "apython"


def plain_start_console_server(start, prepare):
    """The extension's start_console_server: console/ is readied (its
    output routing, sys.stdin, sys.displayhook) the first time a console
    is served, not at import, so that importing apython changes nothing."""
    @functools.wraps(start)
    def start_console_server(*args, **kwargs):
        prepare()
        return start(*args, **kwargs)
    return start_console_server
