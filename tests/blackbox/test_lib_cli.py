"""apython.AsynchronousCli: a console of argparse commands, served (nc
sees plain text; --connect completes command names and options, and its
Ctrl-C cancels the running command) and on the terminal; and
examples/echo_cli.py, the echo server's command line, on the terminal,
served with --serve-cli and beside `apython --serve`. Under the binary
and, with the extension module, under a plain python3."""

import io
import re

import pexpect
import pytest

from conftest import REPO, SANITIZER_REPORT, TIMEOUT, clean_env
from serving import Client, serve
from test_connect import connect, finish
from test_lib_server import serve_program
from test_module import module

# The fixtures, used by name.
assert connect and module and serve_program

PROGRAM = """\
import argparse, asyncio
import apython

async def greet(reader, writer, name, loud=False):
    writer.write(b"(written)\\n")
    return ("HELLO %s" if loud else "hello %s") % name

async def divide(reader, writer, n):
    return 1 / n

async def sleep(reader, writer):
    await asyncio.sleep(3600)

def make_cli(streams=None):
    greet_parser = argparse.ArgumentParser(description="Greet someone.")
    greet_parser.add_argument("name")
    greet_parser.add_argument("--loud", "-l", action="store_true")
    divide_parser = argparse.ArgumentParser()
    divide_parser.add_argument("n", type=int)
    return apython.AsynchronousCli({
        "greet": (greet, greet_parser),
        "divide": (divide, divide_parser),
        "sleep": (sleep, argparse.ArgumentParser()),
    }, streams, prog="demo")

async def main():
    server = await START
    where = server.sockets[0].getsockname()
    print("SERVING", where[1], flush=True)
    THEN
    await asyncio.sleep(3600)

asyncio.run(main())
"""

BANNER = (b"The command line of demo: 'list' shows its commands, 'help' how "
          b"to use them.\n>>> ")


def serve_cli(serve_program):
    p, address = serve_program(
        "apython.start_interactive_server(make_cli, port=0)",
        program=PROGRAM)
    c = Client(address)
    assert c.until(b">>> ") == BANNER
    return c, address


def test_a_command_returns_text_and_writes_bytes(serve_program):
    c, _ = serve_cli(serve_program)
    c.send(b"greet bob\n")
    assert c.until(b">>> ") == b"(written)\nhello bob\n>>> "
    c.send(b"greet 'two words' --loud\n")
    assert c.until(b">>> ") == b"(written)\nHELLO two words\n>>> "


def test_an_unknown_command_is_one_line(serve_program):
    c, _ = serve_cli(serve_program)
    c.send(b"gre x\n")
    assert c.until(b">>> ") == (b"Command 'gre' does not exist. Did you mean "
                                b"'greet'?\n>>> ")
    c.send(b"xyzzy\n")
    assert c.until(b">>> ") == (b"Command 'xyzzy' does not exist. 'list' "
                                b"shows the commands.\n>>> ")


def test_the_parser_speaks_to_the_client(serve_program):
    c, _ = serve_cli(serve_program)
    c.send(b"greet\n")
    assert c.until(b">>> ") == (
        b"usage: greet [-h] [--loud] name\n"
        b"greet: error: the following arguments are required: name\n>>> ")
    c.send(b"greet -h\n")
    assert c.until(b">>> ").startswith(
        b"usage: greet [-h] [--loud] name\n\nGreet someone.\n\n")
    c.send(b"greet 'open\n")
    assert c.until(b">>> ") == b"No closing quotation.\n>>> "


def test_help_list_and_exit_are_built_in(serve_program):
    c, _ = serve_cli(serve_program)
    c.send(b"help\n")
    assert c.until(b">>> ") == (
        b"Each line is a command and its arguments, quoted as on a shell's "
        b"command line.\n'list' shows the commands, '<command> -h' the help "
        b"of one, 'exit' (or Ctrl-D) leaves.\n>>> ")
    c.send(b"list\n")
    assert c.until(b">>> ") == (
        b"Commands:\n  divide [-h] n\n  exit [-h]\n"
        b"  greet [-h] [--loud] name\n  help [-h]\n  list [-h]\n"
        b"  sleep [-h]\n>>> ")
    c.send(b"exit\n")
    assert c.rest() == b""


def test_a_failing_command_shows_its_traceback(serve_program):
    c, _ = serve_cli(serve_program)
    c.send(b"divide 0\n")
    out = c.until(b">>> ")
    assert out.startswith(b"Traceback (most recent call last):\n"
                          b'  File "')
    assert b", in divide\n    return 1 / n\n" in out
    assert out.endswith(b"\nZeroDivisionError: division by zero\n>>> ")
    c.send(b"divide 4\n")
    assert c.until(b">>> ") == b"0.25\n>>> "


def test_connect_completes_commands_and_options_and_ctrl_c_cancels(
        serve_program, connect):
    _, address = serve_cli(serve_program)
    child = connect(address)
    child.expect_exact(">>> ")
    child.send("gr\t")
    child.expect_exact("greet")
    child.send(" --lo\t")
    child.expect_exact("--loud")
    child.send(" ann\r")
    child.expect_exact("(written)\r\nHELLO ann\r\n>>> ")
    child.sendline("sleep")
    child.expect_exact("sleep\r\n")
    child.sendintr()
    child.expect_exact("KeyboardInterrupt\r\n>>> ")
    child.sendline("greet again")
    child.expect_exact("hello again\r\n>>> ")
    child.sendline("exit")
    assert finish(child) == 0


@pytest.fixture(params=["apython", "python3"])
def terminal_run(request, apython):
    """terminal_run(args) -> pexpect child running `-m ARGS` from the
    repository on a pty, under the binary or a plain python3 with the
    extension module, and the command line's prompt: under the binary the
    terminal console steps aside while the command line reads stdio."""
    children = []

    def _run(args):
        env = {"TERM": "xterm"}
        if request.param == "apython":
            argv = [apython, "-q", *args]
        else:
            mod = request.getfixturevalue("module")
            argv = [mod.python, *args]
            env.update(mod.env)
            env["PYTHONPATH"] = "%s:%s" % (REPO, mod.env["PYTHONPATH"])
        child = pexpect.spawn(argv[0], argv[1:], env=clean_env(env),
                              cwd=str(REPO), timeout=TIMEOUT,
                              dimensions=(24, 200))
        child.logfile_read = io.BytesIO()
        children.append(child)
        return child, ">>> "

    yield _run
    for child in children:
        if child.isalive():
            child.terminate(force=True)
            pytest.fail("still running: killed")
        assert not SANITIZER_REPORT.search(child.logfile_read.getvalue())


def test_echo_cli_on_the_terminal(terminal_run):
    child, prompt = terminal_run(["-m", "examples.echo_cli", "0"])
    child.expect(r"The echo service is being served on 127\.0\.0\.1:(\d+)")
    port = int(child.match.group(1))
    child.expect_exact("'help' how to use them.\r\n")
    child.expect_exact(prompt)
    child.sendline("history")
    child.expect_exact("No message yet.\r\n")
    child.expect_exact(prompt)
    c = Client("127.0.0.1:%d" % port)
    c.send(b"Hello!\nBye\n")
    assert c.until(b"Bye\n") == b"Hello!\nBye\n"
    # The server's log lines come first: typing goes on after them.
    child.expect_exact("Echoed 'Bye' to ")
    child.expect_exact("\r\n")
    child.send("his\t")
    child.expect_exact("history")
    child.send(" --pat\t")
    child.expect_exact("--pattern")
    child.send(" 'H*'\r")
    child.expect_exact("0. Hello!\r\n")
    child.expect_exact(prompt)
    # Ctrl-D once the line editor reads (the tty's echo off): one typed
    # between the prompt and the editor is lost, as under python3's
    # readline (a slow sanitizer build on a loaded machine shows that).
    assert child.waitnoecho(TIMEOUT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


ECHO_SERVED = re.compile(rb"The echo service is being served on "
                         rb"127\.0\.0\.1:(\d+)\n")
CLI_SERVED = re.compile(rb"The command line is being served on "
                        rb"127\.0\.0\.1:(\d+)\n")


def test_echo_cli_serves_its_command_line(start):
    p = start(["-m", "examples.echo_cli", "0", "--serve-cli", "0"],
              cwd=REPO)
    echo = int(p.expect_stdout(ECHO_SERVED).group(1))
    cli = int(p.expect_stdout(CLI_SERVED).group(1))
    e = Client("127.0.0.1:%d" % echo)
    e.send(b"Hello!\nHow are you?\nHello again\n")
    assert e.until(b"again\n") == b"Hello!\nHow are you?\nHello again\n"
    c = Client("127.0.0.1:%d" % cli)
    assert c.until(b">>> ") == (
        b"The command line of echo: 'list' shows its commands, 'help' how "
        b"to use them.\n>>> ")
    c.send(b"history --pattern 'Hello*'\n")
    assert c.until(b">>> ") == b"0. Hello!\n2. Hello again\n>>> "
    c.send(b"history -p x\n")
    assert c.until(b">>> ") == b"No message matches 'x'.\n>>> "


def test_echo_cli_beside_apythons_served_console(start):
    p, console = serve(start, ":0", "-m", "examples.echo_cli", "0",
                       "--serve-cli", "0", cwd=REPO)
    echo = int(p.expect_stdout(ECHO_SERVED).group(1))
    cli = int(p.expect_stdout(CLI_SERVED).group(1))
    e = Client("127.0.0.1:%d" % echo)
    e.send(b"ping\n")
    assert e.until(b"ping\n") == b"ping\n"
    con = Client(console)
    con.until(b">>> ")
    assert con.run(b"loop.history") == b"['ping']\n>>> "
    c = Client("127.0.0.1:%d" % cli)
    c.until(b">>> ")
    c.send(b"history\n")
    assert c.until(b">>> ") == b"0. ping\n>>> "
    assert con.run(b"loop.history.append('from the console')") == b">>> "
    c.send(b"history -p from*\n")
    assert c.until(b">>> ") == b"1. from the console\n>>> "
