"""apython.start_interactive_server(): an interface of the program's own
(here a small class of the test's) served to each client on apython's
listeners: plain text for nc, apython's protocol for --connect (Tab
completion from the interface, Ctrl-C calling its handle_sigint), the
same access control as a served console; and start_console_server() in
aioconsole's positional order. Each runs under the binary and, with the
extension module, under a plain python3."""

import os
import re
import stat
import textwrap
import time

import pytest

from conftest import TIMEOUT, Proc, end_all_started
from serving import Client
from test_connect import connect, finish
from test_module import module

# The fixtures, used by name.
assert connect and module

# A program awaiting START (then THEN, Python run once it serves),
# saying where: "SERVING <port or path>".
PROGRAM = """\
import asyncio, os, sys
import apython

class Lines:
    '''What the test serves: a line in, "got LINE" out.'''

    def __init__(self, streams):
        self.reader, self.writer = streams

    def handle_sigint(self, task):
        self.writer.write(b"<interrupted>\\n")

    def _apython_complete(self, line, text):
        return [w for w in ("whale", "wombat", "zebra")
                if w.startswith(text)]

    async def interact(self, banner=None, stop=True, handle_sigint=True):
        self.writer.write(("%s\\n" % banner).encode())
        while True:
            self.writer.write(b"lines> ")
            await self.writer.drain()
            line = await self.reader.readline()
            if not line:
                self.writer.write(b"the end\\n")
                return
            if line == b"fail\\n":
                raise ValueError("asked to")
            self.writer.write(b"got " + line)

async def main():
    server = await START
    where = server.sockets[0].getsockname()
    print("SERVING", where if isinstance(where, str) else where[1],
          flush=True)
    THEN
    await asyncio.sleep(3600)

asyncio.run(main())
"""

SERVING = re.compile(rb"SERVING (\S+)\n")


@pytest.fixture(params=["apython", "python3"])
def serve_program(request, tmp_path, apython):
    """serve_program(start, then="", env=None, program=PROGRAM) -> (Proc,
    address): program (PROGRAM above, or one like it) under the binary or
    under a plain python3 importing the extension module."""
    procs = []

    def _serve(start, then="", env=None, program=PROGRAM):
        prog = tmp_path / "prog.py"
        prog.write_text(program.replace("START", start).replace(
            "THEN", then or "pass"))
        if request.param == "apython":
            argv, extra = [apython, str(prog)], dict(env or {})
        else:
            mod = request.getfixturevalue("module")
            argv = [mod.python, str(prog)]
            extra = dict(mod.env, **(env or {}))
        p = Proc(argv, env=extra)
        procs.append((p, (15,)))
        where = p.expect_stdout(SERVING).group(1).decode()
        return p, where if "/" in where else "127.0.0.1:" + where

    yield _serve
    end_all_started(procs)


def test_a_plain_client_gets_the_interface_as_plain_text(serve_program):
    p, address = serve_program(
        "apython.start_interactive_server(Lines, port=0, banner='hi')")
    c = Client(address)
    assert c.until(b"lines> ") == b"hi\nlines> "
    c.send(b"one\ntwo\n")
    assert c.until(b"got two\nlines> ") == b"got one\nlines> got two\nlines> "
    c.half_close()
    assert c.rest() == b"the end\n"


def test_connect_completes_from_the_interface_and_ctrl_c_calls_handle_sigint(
        serve_program, connect):
    p, address = serve_program(
        "apython.start_interactive_server(Lines, port=0, banner='hi')")
    child = connect(address)
    child.expect_exact("hi\r\nlines> ")
    child.send("wh\t")
    child.expect_exact("whale")
    child.send("\r")
    child.expect_exact("got whale\r\nlines> ")
    # The client edits the prompt's line (the tty's echo off): keys typed
    # before it does are the tty's, and so is a Ctrl-C.
    assert child.waitnoecho(TIMEOUT)
    child.send("half typed")
    child.expect_exact("half typed")
    child.sendintr()
    child.expect_exact("<interrupted>\r\nlines> ")
    child.sendline("after")
    child.expect_exact("got after\r\nlines> ")
    child.sendeof()
    child.expect_exact("the end\r\n")
    assert finish(child) == 0


def test_a_unix_socket_is_0600(serve_program, tmp_path):
    path = str(tmp_path / "iface.sock")
    p, address = serve_program(
        "apython.start_interactive_server(Lines, path=%r, banner='u')" % path)
    assert address == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    c = Client(path)
    assert c.until(b"lines> ") == b"u\nlines> "


def test_the_secret_comes_first_when_one_is_set(serve_program):
    p, address = serve_program(
        "apython.start_interactive_server(Lines, port=0, banner='s')",
        env={"APYTHON_SECRET": "open sesame"})
    c = Client(address)
    c.send(b"wrong\n")
    assert c.rest() == b"apython: refused: wrong secret\n"
    c = Client(address)
    c.send(b"open sesame\nx\n")
    assert c.until(b"got x\nlines> ") == b"s\nlines> got x\nlines> "


def test_an_interface_that_fails_tells_its_client_in_one_line(
        serve_program):
    p, address = serve_program(
        "apython.start_interactive_server(Lines, port=0, banner='f')")
    c = Client(address)
    c.send(b"fail\n")
    assert c.rest() == b"f\nlines> apython: the interface failed: " \
        b"ValueError: asked to\n"
    p.expect_stderr(b"apython: a served interface failed")
    c = Client(address)
    assert c.until(b"lines> ") == b"f\nlines> "


def test_closing_the_server_ends_its_clients(serve_program):
    p, address = serve_program(
        "apython.start_interactive_server(Lines, port=0, banner='c')",
        then="asyncio.get_running_loop().call_later(1, server.close)")
    c = Client(address)
    assert c.until(b"lines> ") == b"c\nlines> "
    assert c.rest() == b""


def test_start_console_server_takes_aioconsoles_positional_order(
        serve_program):
    p, address = serve_program(
        "apython.start_console_server(None, 0, None, {'x': 6}, "
        "'<console>', 'positional')")
    c = Client(address)
    assert c.until(b">>> ") == b"positional\n>>> "
    assert c.run(b"x * 7") == b"42\n>>> "


def test_start_console_server_prompt_control_wraps_the_prompts(
        serve_program):
    p, address = serve_program(
        "apython.start_console_server(port=0, banner='pc', "
        "prompt_control='\\x01')")
    c = Client(address)
    assert c.until(b"\x01>>> \x01") == b"pc\n\x01>>> \x01"
    c.send(b"6 * 7\n")
    assert c.until(b"\x01>>> \x01") == b"42\n\x01>>> \x01"


def test_the_default_factory_is_asynchronous_console(serve_program):
    p, address = serve_program(
        "apython.start_interactive_server(port=0, banner='default')")
    c = Client(address)
    assert c.until(b">>> ") == b"default\n>>> "
    assert c.run(b"await asyncio.sleep(0, 'slept')") == b"'slept'\n>>> "


def test_an_address_is_needed(run, tmp_path):
    prog = tmp_path / "noaddr.py"
    prog.write_text(textwrap.dedent("""\
        import asyncio, apython
        async def main():
            try:
                await apython.start_interactive_server(object)
            except TypeError as e:
                print(e)
        asyncio.run(main())
        """))
    cp = run([prog])
    assert cp.stdout == b"start_interactive_server() needs port= or path=\n"


def test_start_console_server_with_a_filename_stays_apythons_console(
        serve_program):
    p, address = serve_program(
        "apython.start_console_server(None, 0, None, None, '<mine>', 'fn')")
    c = Client(address)
    assert c.until(b">>> ") == b"fn\n>>> "
    # input() in a statement reads the client: apython's served console.
    c.send(b"input('? ')\n")
    assert c.until(b"? ") == b"? "
    assert c.run(b"typed") == b"'typed'\n>>> "


def test_connect_to_a_served_asynchronous_console_completes_and_interrupts(
        serve_program, connect):
    p, address = serve_program(
        "apython.start_interactive_server(port=0, banner='ac')")
    child = connect(address)
    child.expect_exact("ac\r\n>>> ")
    child.sendline("my_long_name = 6")
    child.expect_exact(">>> ")
    child.send("my_long_n\t")
    child.expect_exact("my_long_name")
    child.send(" * 7\r")
    child.expect_exact("42\r\n>>> ")
    child.sendline("print('wait' + 'ing'); await asyncio.sleep(3600)")
    child.expect_exact("waiting\r\n")
    child.sendintr()
    child.expect_exact("KeyboardInterrupt\r\n>>> ")
    child.sendline("'still' + ' here'")
    child.expect_exact("'still here'\r\n>>> ")
    # The default factory is apython's served console: a statement that
    # holds the CPU is interrupted too (the control thread reads Ctrl-C).
    child.sendline("n = 0")
    child.expect_exact(">>> ")
    child.sendline("while True: n += 1")
    child.expect_exact("... ")
    child.sendline("")
    time.sleep(0.5)
    child.sendintr()
    child.expect_exact("KeyboardInterrupt\r\n>>> ")
    child.sendline("'after' + ' spin'")
    child.expect_exact("'after spin'\r\n>>> ")


def test_reachable_from_other_hosts_says_an_interface_is_served(run,
                                                               tmp_path):
    # The non-loopback warning says what is served: an interface, or
    # (the default factory) the console.
    prog = tmp_path / "wide.py"
    prog.write_text(textwrap.dedent("""\
        import asyncio, apython
        async def main():
            for factory in (lambda streams: None,
                            apython.AsynchronousConsole):
                server = await apython.start_interactive_server(
                    factory, host="0.0.0.0", port=0)
                print(server.sockets[0].getsockname()[1], flush=True)
                server.close()
        asyncio.run(main())
        """))
    cp = run([prog])
    ports = cp.stdout.split()
    assert cp.stderr.startswith(
        b"apython: warning: an interface is served on 0.0.0.0:%s, which "
        b"other hosts can reach; they are refused, as no secret is set "
        b"(APYTHON_SECRET)\n"
        b"apython: warning: the console is served on 0.0.0.0:%s, which "
        b"other hosts can reach; they are refused" % (ports[0], ports[1]))
