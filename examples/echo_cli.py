"""The echo server of examples/echo.py with a command line beside it
(apython.AsynchronousCli), to look at what it echoed.

    python3 -m examples.echo_cli PORT
    python3 -m examples.echo_cli PORT --serve-cli [HOST:]PORT
    apython --serve :PORT -m examples.echo_cli PORT --serve-cli [HOST:]PORT

On the terminal (the first form), the command line reads the standard
streams, with line editing and Tab completion; it ends the program at
Ctrl-D or `exit`. With --serve-cli it is served instead, one for each
client, with apython's access control (loopback when HOST is left out):
`nc HOST PORT` or `apython --connect HOST:PORT` (Tab completion, Ctrl-C).
Run by `apython --serve`, the program also has apython's console served,
where the loop and `loop.history` can be looked at with Python.

Commands: `history [--pattern/-p PATTERN]` lists the messages received
(loop.history, as examples/echo.py keeps it), numbered from 0, only
those PATTERN matches (fnmatch, case-sensitive) with --pattern; and the
built-in help, list, exit. `import apython` under a plain python3 needs
the extension module (`make module`).
"""

import argparse
import asyncio
import fnmatch

import apython

from examples import echo


async def get_history(reader, writer, pattern=None):
    """The history command: its lines go to the writer; what it returns
    is shown after them."""
    history = asyncio.get_running_loop().history
    if not history:
        return "No message yet."
    shown = [(i, m) for i, m in enumerate(history)
             if pattern is None or fnmatch.fnmatchcase(m, pattern)]
    if not shown:
        return "No message matches %r." % pattern
    for i, message in shown:
        writer.write(("%d. %s\n" % (i, message)).encode())
    await writer.drain()
    return None


def make_cli(streams=None):
    """The command line, on streams (the standard ones when None)."""
    parser = argparse.ArgumentParser(
        description="Show the messages the echo server received.")
    parser.add_argument("--pattern", "-p", metavar="PATTERN",
                        help="only the messages PATTERN matches (fnmatch)")
    commands = {"history": (get_history, parser)}
    return apython.AsynchronousCli(commands, streams, prog="echo")


def address(text):
    """[HOST:]PORT as (host, port): host None (loopback) when left out."""
    host, _, port = text.rpartition(":")
    try:
        return host or None, int(port)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not [HOST:]PORT" % text)


async def run(port, serve_cli):
    """The echo service, and its command line until it ends (on the
    terminal) or for ever (served)."""
    service = await echo.start(port)
    try:
        if serve_cli is None:
            await make_cli().interact(stop=False)
            return
        server = await apython.start_interactive_server(
            make_cli, serve_cli[0], serve_cli[1])
        where = server.sockets[0].getsockname()
        echo.log("The command line is being served on %s:%d" % where[:2])
        async with server:
            await service.serve_forever()
    finally:
        # Not wait_closed(): since 3.12 it waits for the clients to leave;
        # asyncio.run() cancels their handlers as it ends.
        service.close()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m examples.echo_cli",
        description="Serve lines back on %s:PORT, with a command line "
        "that shows what was received." % echo.HOST)
    parser.add_argument("port", metavar="PORT", type=int,
                        help="the echo service's TCP port (0: any free one)")
    parser.add_argument("--serve-cli", metavar="[HOST:]PORT", type=address,
                        help="serve the command line there instead of "
                        "running it on the terminal")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args.port, args.serve_cli))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
