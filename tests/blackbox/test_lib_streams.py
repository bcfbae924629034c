"""aioconsole's stream functions in apython: ainput, aprint,
get_standard_streams, and aexec/aeval, under the binary and as the
extension module under a plain python3 (`make module`).  At a terminal a
standard reader's line is edited with readline (arrow keys move, Tab
completes with the reader's completer); under the binary with the
terminal console up, that line takes the terminal from the console and
gives it back.  Piped stdin, end of file, use_stderr, and writers that
receive bytes."""

import subprocess

import pytest

from conftest import (NO_CONSOLE, TIMEOUT, apython_path, clean_env,
                      run as run_apython)
from test_module import module, run_module

# The fixture, used by name.
assert module

LEFT = "\x1b[D"

# Reads names until end of file, Tab completing fruit; then shows what the
# completer was asked.
NAMES = """\
import apython, asyncio

asked = []

def fruit(line, text):
    asked.append((line, text))
    return [w for w in ("apple", "apricot", "banana") if w.startswith(text)]

async def main():
    reader, writer = await apython.get_standard_streams()
    reader.set_completer(fruit)
    while True:
        try:
            line = await apython.ainput("name? ")
        except EOFError:
            await apython.aprint("EOFError", asked)
            return
        await apython.aprint("got", repr(line))

asyncio.run(main())
"""


@pytest.fixture(params=["python3", "apython"])
def names(request, pty, write):
    """NAMES on a terminal: under the plain python3 with the module, or
    under the binary (its terminal console up, banner 'test')."""
    prog = write("names.py", NAMES)
    if request.param == "python3":
        module = request.getfixturevalue("module")
        return pty([module.python, prog], "dumb", module.env)
    t = pty([apython_path(), "--banner=test", prog], "dumb")
    t.expect("test\r\n")
    return t


def ask(t):
    """Wait for the prompt of ainput and for readline to have the keys
    (the terminal's echo off): keys typed before are the tty's."""
    t.wait_for_line("name?")
    assert t.child.waitnoecho(TIMEOUT)


def test_arrow_keys_edit_the_line_of_ainput_at_a_terminal(names):
    t = names
    ask(t)
    t.send("abd" + LEFT + LEFT + "c\r")
    t.expect("got 'acbd'\r\n")
    ask(t)
    screen = "\n".join(t.screen())
    assert "\x1b" not in screen and "[D" not in screen
    assert "name? acbd" in t.screen()


def test_tab_completes_with_the_readers_completer(names):
    t = names
    ask(t)
    t.send("ban\t")
    t.wait_for_line("name? banana")
    t.send("\r")
    t.expect("got 'banana'\r\n")
    ask(t)
    t.send("x apr\t\r")
    t.expect("got 'x apricot'\r\n")
    ask(t)
    t.eof()
    t.expect("EOFError [('ban', 'ban'), ('x apr', 'apr')]\r\n")


def test_ctrl_d_at_ainput_raises_eoferror(names):
    t = names
    ask(t)
    t.eof()
    t.expect("EOFError []\r\n")
    assert t.exited(10)
    assert t.child.exitstatus == 0


PIPED = """\
import apython, asyncio, sys

async def main():
    first = await apython.ainput("name? ")
    second = await apython.ainput("err? ", use_stderr=True)
    await apython.aprint("got", first, second, sep="|")
    await apython.aprint("to", "stderr", use_stderr=True, end="!\\n")
    reader, writer = await apython.get_standard_streams()
    again = await apython.get_standard_streams()
    print(again == (reader, writer), repr(await reader.readline()),
          flush=True)
    try:
        await apython.ainput("more? ")
    except EOFError:
        print("EOFError", repr(await reader.readline()), reader.at_eof())

asyncio.run(main())
"""


def test_piped_stdin_gives_lines_then_eoferror_under_python3(module):
    cp = run_module(module, PIPED, input=b"ada\nbob\nrest\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"name? got|ada|bob\nTrue b'rest\\n'\nmore? EOFError b'' True\n",
        b"err? to stderr!\n", 0)


def test_the_standard_reader_reads_on_after_a_console_server_starts(
        module):
    # start_console_server readies apython's consoles, which put a
    # sys.stdin of theirs over stdin's buffer: a reader made before reads
    # on through it (it raised "underlying buffer has been detached").
    cp = run_module(module, """if 1:
        import asyncio, apython
        async def main():
            reader, writer = await apython.get_standard_streams()
            server = await apython.start_console_server(port=0)
            print(repr(await reader.readline()))
            print(repr(await apython.ainput()))
            server.close()
        asyncio.run(main())
        """, input=b"one\ntwo\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"b'one\\n'\n'two'\n", b"", 0)


BYTES_WRITER = """\
import apython, asyncio

class Reader:
    def __init__(self, lines):
        self.lines = list(lines)
    async def readline(self):
        return self.lines.pop(0) if self.lines else b""

class Writer:
    got = []
    def write(self, data):
        self.got.append(data)
    async def drain(self):
        self.got.append("drained")

async def main():
    streams = (Reader([b"one\\n", b"last"]), Writer())
    print(repr(await apython.ainput("a? ", streams=streams)))
    print(repr(await apython.ainput("b? ", streams=streams)))
    try:
        await apython.ainput("c? ", streams=streams)
    except EOFError:
        print("EOFError")
    await apython.aprint(1, "x", sep="-", streams=streams)
    await apython.aprint("no flush", end="", flush=False, streams=streams)
    print(Writer.got)
    # The standard writers take bytes and str.
    reader, writer = await apython.get_standard_streams()
    writer.write(b"bytes ")
    writer.write("str\\n")
    await writer.drain()
    writer.close()
    print(writer.is_closing(), await writer.wait_closed())
    fresh = await apython.get_standard_streams()
    print(fresh[1] is not writer)

asyncio.run(main())
"""


@pytest.mark.parametrize("how", ["python3", "apython"])
def test_writers_receive_bytes(request, how):
    out = (b"'one'\n'last'\nEOFError\n"
           b"[b'a? ', 'drained', b'b? ', 'drained', b'c? ', 'drained', "
           b"b'1-x\\n', 'drained', b'no flush']\n"
           b"bytes str\nTrue None\nTrue\n")
    if how == "python3":
        cp = run_module(request.getfixturevalue("module"), BYTES_WRITER)
    else:
        cp = run_apython(["-c", BYTES_WRITER])
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        out, b"" if how == "python3" else NO_CONSOLE, 0)


def test_program_ainput_gets_the_piped_consoles_next_line(run):
    """Under the binary a piped stdin is the console's: a line asked
    for by the program's ainput() goes to it, the rest are statements."""
    cp = run(["--banner=test", "-c", "import apython, asyncio\n"
              "async def main():\n"
              "    print(repr(await apython.ainput('name? ')), flush=True)\n"
              "    await asyncio.sleep(3600)\n"
              "asyncio.run(main())\n"], input=b"ada\n6*7\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"name? 'ada'\n", b"test\n>>> 42\n>>> \n", 0)


def test_aprint_and_ainput_in_a_console_statement_are_the_consoles(run):
    cp = run(["--banner=test"], input=b"import apython\n"
             b"await apython.aprint('hi', 2)\n"
             b"await apython.ainput('name? ')\nbob\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"", b"test\n>>> >>> hi 2\n>>> name? 'bob'\n>>> \n", 0)


EXEC = """\
import apython, asyncio

async def main():
    ns = {"asyncio": asyncio}
    await apython.aexec("x = await asyncio.sleep(0, 6)\\n"
                        "def f(): return x * 7\\n"
                        "x + 1", ns)
    print(ns["x"], ns["f"](), sorted(ns))
    print(await apython.aeval("await asyncio.sleep(0, f())", ns))
    print(await apython.aeval("[i async for i in agen()]",
                              {"agen": agen}))
    for bad in ("return 1", "yield 2"):
        try:
            await apython.aexec(bad)
        except SyntaxError as e:
            print("SyntaxError", e.msg)
    try:
        await apython.aeval("1", [])
    except TypeError as e:
        print("TypeError", e)
    try:
        await apython.aexec("1/0")
    except ZeroDivisionError as e:
        tb = e.__traceback__
        while tb.tb_next:
            tb = tb.tb_next
        print(tb.tb_frame.f_code.co_filename)

async def agen():
    yield 1
    await asyncio.sleep(0)
    yield 2

asyncio.run(main())
"""


@pytest.mark.parametrize("how", ["python3", "apython"])
def test_aexec_and_aeval_run_top_level_await(request, how):
    if how == "python3":
        cp = run_module(request.getfixturevalue("module"), EXEC)
    else:
        cp = run_apython(["-c", EXEC])
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"6 42 ['__builtins__', 'asyncio', 'f', 'x']\n42\n[1, 2]\n"
        b"SyntaxError 'return' outside function\n"
        b"SyntaxError 'yield' outside function\n"
        b"TypeError globals must be a dict\n<aexec>\n",
        b"" if how == "python3" else NO_CONSOLE, 0)


# A task prints a tick each time the test fires while ainput's line is
# being typed; then Ctrl-C, and input() after asyncio.run().
TICKS = """\
import apython, asyncio, sys

async def ticks(port):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    for i in range(2):
        await r.readline()
        print("tick", i, flush=True)

async def main():
    asyncio.ensure_future(ticks(int(sys.argv[1])))
    try:
        await apython.ainput("name? ")
    finally:
        print("finally", flush=True)

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("KeyboardInterrupt")
print("got", repr(input("again? ")))
"""


@pytest.fixture(params=["python3", "apython"])
def ticks(request, pty, write, trigger):
    prog = write("ticks.py", TICKS)
    if request.param == "python3":
        module = request.getfixturevalue("module")
        return request.param, pty([module.python, prog, trigger.port],
                                  "dumb", module.env)
    t = pty([apython_path(), "--banner=test", prog, trigger.port], "dumb")
    t.expect("test\r\n")
    return request.param, t


def test_ctrl_c_at_ainputs_line_is_the_programs_keyboardinterrupt(ticks):
    how, t = ticks
    ask(t)
    t.send("ab")
    t.wait_for_line("name? ab")
    t.interrupt()
    t.expect("finally\r\n")
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line("again?")
    t.send("x\r")
    t.expect("got 'x'\r\n")
    assert t.exited(TIMEOUT)
    assert t.child.exitstatus == 0
    assert t.screen()[-5:] == ["finally", "KeyboardInterrupt", "again? x",
                               "got 'x'", ""]
    assert "name? ab" in t.screen()


def test_output_of_other_tasks_goes_above_ainputs_line_under_apython(
        pty, write, trigger):
    prog = write("ticks.py", TICKS)
    t = pty([apython_path(), "--banner=test", prog, trigger.port], "dumb")
    t.expect("test\r\n")
    ask(t)
    t.send("ab")
    t.wait_for_line("name? ab")
    for i in range(2):
        trigger.fire()
        t.expect("tick %d\r\n" % i)
        t.wait_for_line("name? ab")
    t.send("c\r")
    t.expect("finally\r\n")
    t.wait_for_line("again?")
    t.send("x\r")
    t.expect("got 'x'\r\n")
    assert t.screen()[-7:] == ["tick 0", "tick 1", "name? abc", "finally",
                               "again? x", "got 'x'", ""]


def test_ainputs_prompt_is_shown_at_the_terminal_when_stdout_is_a_file(
        shell, write, tmp_path):
    prog = write("names.py", NAMES)
    out = tmp_path / "out.txt"
    t = shell('"$APYTHON" --banner=test %s > %s' % (prog, out), term="dumb")
    t.expect("test\r\n")
    ask(t)
    t.send("ab\r")
    ask(t)
    t.eof()
    assert t.exited(TIMEOUT)
    assert "name? ab" in t.screen()
    assert out.read_bytes() == b"name? got 'ab'\nname? EOFError []\n"


# Three asyncio.run()s that use the standard streams: each loop is freed
# once it is closed (the cache keys on the loop; its streams hold it
# weakly). Then two readline()s at once on a piped stdin get a line each.
LOOPS_AND_READERS = """\
import apython, asyncio, gc, weakref

async def use():
    await apython.get_standard_streams()
    await apython.aprint("used")
    return weakref.ref(asyncio.get_running_loop())

refs = [asyncio.run(use()) for _ in range(3)]
gc.collect()
print("loops alive:", sum(r() is not None for r in refs))

async def both():
    reader, _ = await apython.get_standard_streams()
    lines = await asyncio.wait_for(
        asyncio.gather(reader.readline(), reader.readline()), 10)
    print(sorted(lines))

asyncio.run(both())
"""


def test_standard_streams_free_their_loop_and_share_stdin_in_turn(module):
    cp = run_module(module, LOOPS_AND_READERS, input=b"a\nb\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"used\nused\nused\nloops alive: 0\n[b'a\\n', b'b\\n']\n", b"", 0)


def test_aprint_and_ainputs_prompt_use_the_streams_encoding(module):
    env = dict(module.env, PYTHONIOENCODING="latin-1")
    cp = subprocess.run(
        [module.python, "-c", "import apython, asyncio\n"
         "asyncio.run(apython.aprint('\\u00e9-x'))\n"
         "asyncio.run(apython.ainput('\\u00e9? '))\n"],
        input=b"\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=clean_env(env), timeout=TIMEOUT * 3)
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"\xe9-x\n\xe9? ", b"", 0)
