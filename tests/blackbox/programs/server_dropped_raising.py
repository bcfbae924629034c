"""A console server the program lets go of (its loop closed, not the
server) is freed while an exception passes: the exception goes on."""
import asyncio

import apython

servers = []


async def main():
    server = await apython.start_console_server(port=0)
    server.wait_closed()
    servers.append(server)


def items():
    yield servers.pop()
    raise ValueError("kept")


asyncio.run(main())
try:
    list(items())
except ValueError as e:
    print("caught", repr(e), flush=True)
