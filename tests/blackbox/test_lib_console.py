"""apython.AsynchronousConsole and apython.interact() (aioconsole's API)
on a hand-written (reader, writer) pair fed from a queue, as a chat bot
would feed one: the exact bytes the writer receives, exit statuses, the
Python REPL a subclass overriding runsource() gets, completion, and
Ctrl-C (handle_sigint). Each runs under the apython binary and under a
plain python3 importing the extension module (`make module`)."""

import re
import signal
import subprocess
import textwrap

import pytest

from conftest import (NO_CONSOLE, SANITIZER_REPORT, Proc, TIMEOUT,
                      apython_path, clean_env, end_all_started, run)
from test_module import module
from vt import run_block, run_line

# The fixture, used by name.
assert module

# A reader whose lines come from a queue, a writer keeping the bytes:
# neither is asyncio's. show() prints what the writer got.
PAIR = """\
import asyncio, sys
import apython

class QueueReader:
    def __init__(self, lines):
        self.queue = asyncio.Queue()
        for line in lines:
            self.queue.put_nowait(line)

    async def readline(self):
        return await self.queue.get()

class BytesWriter:
    def __init__(self):
        self.data = b""

    def write(self, data):
        if not isinstance(data, bytes):
            raise TypeError("writer got %r" % type(data))
        self.data += data

    async def drain(self):
        await asyncio.sleep(0)

def show(writer):
    sys.stdout.write(repr(writer.data) + "\\n")
"""


@pytest.fixture(params=["binary", "module"])
def run_lib(request, tmp_path):
    """run_lib(source) -> CompletedProcess of source (after PAIR) under
    the binary (stdin empty: no terminal console) or a plain python3."""
    def _run(source):
        prog = tmp_path / "prog.py"
        prog.write_text(PAIR + textwrap.dedent(source))
        if request.param == "binary":
            cp = run([prog])
            assert not SANITIZER_REPORT.search(cp.stderr), cp.stderr
            assert cp.stderr.startswith(NO_CONSOLE), cp.stderr
            cp.stderr = cp.stderr[len(NO_CONSOLE):]
            return cp
        mod = request.getfixturevalue("module")
        return subprocess.run([mod.python, str(prog)],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=clean_env(mod.env), timeout=TIMEOUT * 3)
    return _run


def test_interact_runs_statements_with_top_level_await_on_the_pair(run_lib):
    cp = run_lib("""\
        async def main():
            r = QueueReader([b"x = await asyncio.sleep(0, result=6)\\n",
                             b"print(x * 7)\\n", b"x\\n",
                             b"for i in 'ab':\\n", b"  print(i)\\n", b"\\n",
                             b""])
            w = BytesWriter()
            try:
                await apython.interact(banner="hello", streams=(r, w))
            except SystemExit as e:
                print("SystemExit", e.code)
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == (
        b"SystemExit None\n"
        b"b'hello\\n>>> >>> 42\\n>>> 6\\n>>> ... ... a\\nb\\n>>> \\n'\n")
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_statement_output_and_tracebacks_go_to_the_writer(run_lib):
    cp = run_lib("""\
        async def main():
            r = QueueReader(["import sys\\n",
                             "sys.stdout.write('out\\\\n')\\n",
                             "print('err', file=sys.stderr)\\n",
                             "1/0\\n", "'\\u00e9'\\n", ""])
            w = BytesWriter()
            await apython.AsynchronousConsole(streams=(r, w)).interact(
                banner="", stop=False)
            print("returned")
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == (
        b"returned\n"
        b"b'\\n>>> >>> out\\n4\\n>>> err\\n>>> "
        b"Traceback (most recent call last):\\n"
        b"  File \"<console>\", line 1, in <module>\\n"
        b"ZeroDivisionError: division by zero\\n"
        b">>> \\'\\xc3\\xa9\\'\\n>>> \\n'\n")
    assert cp.stderr == b""


def test_exit_in_the_console_ends_the_program_with_its_status(run_lib):
    cp = run_lib("""\
        async def main():
            w = BytesWriter()
            try:
                await apython.interact(banner="b", streams=(
                    QueueReader([b"exit(3)\\n", b"never()\\n"]), w))
            finally:
                show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == b"b'b\\n>>> '\n"
    assert cp.returncode == 3


def test_stop_false_returns_after_exit(run_lib):
    cp = run_lib("""\
        async def main():
            w = BytesWriter()
            import signal
            before = signal.getsignal(signal.SIGINT)
            await apython.interact(banner="b", stop=False, streams=(
                QueueReader([b"exit(3)\\n"]), w))
            # Its SIGINT handler is gone.
            print("returned", signal.getsignal(signal.SIGINT) == before)
        asyncio.run(main())
        """)
    assert cp.stdout == b"returned True\n"
    assert cp.returncode == 0


def test_ainput_in_a_statement_reads_the_next_line_of_the_reader(run_lib):
    cp = run_lib("""\
        async def main():
            r = QueueReader([b"name = await ainput('name? ')\\n", b"bob\\n",
                             b"name.upper()\\n", b""])
            w = BytesWriter()
            console = apython.AsynchronousConsole(streams=(r, w))
            await console.interact(banner="", stop=False)
            print(console.locals["name"])
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == b"bob\nb\"\\n>>> name? >>> 'BOB'\\n>>> \\n\"\n"


def test_streams_may_be_an_awaitable_and_locals_are_the_consoles(run_lib):
    cp = run_lib("""\
        async def main():
            w = BytesWriter()
            async def streams():
                return QueueReader([b"y = seed + 1\\n", b""]), w
            ns = {"seed": 41}
            await apython.interact(banner="", streams=streams(), locals=ns,
                                   stop=False)
            console = apython.AsynchronousConsole(streams=streams())
            print(ns["y"], console.loop is asyncio.get_running_loop())
        asyncio.run(main())
        """)
    assert cp.stdout == b"42 True\n"


def test_prompt_control_wraps_the_prompts(run_lib):
    cp = run_lib("""\
        async def main():
            w = BytesWriter()
            await apython.interact(banner="", prompt_control="\\x01",
                                   streams=(QueueReader([b""]), w),
                                   stop=False)
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == b"b'\\n\\x01>>> \\x01\\n'\n"


def test_subclass_overriding_runsource_gets_the_python_repl(run_lib):
    cp = run_lib("""\
        class Shout(apython.AsynchronousConsole):
            async def runsource(self, source, filename=None, symbol=None):
                if source.endswith("\\\\"):
                    return True
                self.write(source.replace("\\\\\\n", " ").upper() + "\\n")
                await self.flush()
                return False

        async def main():
            w = BytesWriter()
            r = QueueReader([b"hi\\n", b"a\\\\\\n", b"b\\n", b""])
            await Shout(streams=(r, w)).interact(banner="B", stop=False)
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == b"b'B\\n>>> HI\\n>>> ... A B\\n>>> \\n'\n"


def test_base_runsource_runs_code_with_await(run_lib):
    cp = run_lib("""\
        async def main():
            w = BytesWriter()
            c = apython.AsynchronousConsole(streams=(QueueReader([]), w))
            c.writer = w
            print(await c.push("v = await asyncio.sleep(0, result=5)"),
                  await c.push("if v:"), await c.push("  print(v * 2)"),
                  await c.push(""), await c.runsource("1 +* 2"))
            show(w)
        asyncio.run(main())
        """)
    assert re.match(rb"False True True False False\nb'10\\n"
                    rb"  File \"<ainput>\", line 1\\n.*"
                    rb"SyntaxError: invalid syntax\\n'\n\Z", cp.stdout), cp.stdout


def test_apython_complete_gives_names_of_the_console(run_lib):
    cp = run_lib("""\
        async def main():
            c = apython.AsynchronousConsole(
                streams=(QueueReader([]), BytesWriter()),
                locals={"spam_and_eggs": 1})
            print(c._apython_complete("x = spam_a", "spam_a"))
            print(c._apython_complete("asyncio.sle", "asyncio.sle"))
        asyncio.run(main())
        """)
    assert cp.stdout == b"['spam_and_eggs']\n['asyncio.sleep(']\n"


def test_default_banner_is_apythons(run_lib):
    cp = run_lib("""\
        async def main():
            c = apython.AsynchronousConsole(streams=(QueueReader([]), None))
            b = c.get_default_banner()
            print(b.startswith("Python "), b.splitlines()[-1])
        asyncio.run(main())
        """)
    assert cp.stdout == b"True ---\n"



def test_what_the_console_writes_last_is_drained(run_lib):
    # A writer that delivers on drain(), as a chat bot sending messages.
    cp = run_lib("""\
        class Batches:
            def __init__(self):
                self.pending, self.sent = b"", []

            def write(self, data):
                self.pending += data

            async def drain(self):
                await asyncio.sleep(0)
                if self.pending:
                    self.sent.append(self.pending)
                    self.pending = b""

        async def main():
            w = Batches()
            await apython.interact(banner="B", stop=False, streams=(
                QueueReader([b"1 + 1\\n", b""]), w))
            print(b"".join(w.sent), w.pending)
        asyncio.run(main())
        """)
    assert cp.stdout == b"b'B\\n>>> 2\\n>>> \\n' b''\n"


def test_a_readers_error_ends_interact_with_it(run_lib):
    cp = run_lib("""\
        class Broken:
            async def readline(self):
                raise ValueError("reader broke")

        async def main():
            w = BytesWriter()
            try:
                await apython.interact(banner="B", streams=(Broken(), w))
            except ValueError as e:
                print("ValueError", e)
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == b"ValueError reader broke\nb'B\\n>>> \\n'\n"


def test_cancelling_interact_stops_its_statement_and_reading(run_lib):
    cp = run_lib("""\
        class Reader:
            def __init__(self):
                self.lines = [b"print('started'); await asyncio.sleep(60)\\n"]

            async def readline(self):
                if self.lines:
                    return self.lines.pop()
                await asyncio.sleep(60)

        class Announcing(BytesWriter):
            def write(self, data):
                super().write(data)
                if self.data.endswith(b"started\\n"):
                    started.set_result(None)

        async def main():
            global started
            started = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(apython.interact(
                banner="B", streams=(Reader(), Announcing())))
            await started
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                print("cancelled")
            others = [t for t in asyncio.all_tasks()
                      if t is not asyncio.current_task()]
            await asyncio.sleep(0)
            print([t for t in others if not t.done()])
        asyncio.run(main())
        """)
    assert cp.stdout == b"cancelled\n[]\n"
    assert cp.stderr == b""

# A console whose reader waits on the test's trigger socket and whose
# writer is stdout: the test sees it and sends SIGINT.
SIGINT_PROG = PAIR + """\
class TriggerReader:
    def __init__(self, reader):
        self.reader = reader

    async def readline(self):
        return await self.reader.readline()

class Out:
    def write(self, data):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()

    async def drain(self):
        pass

async def main():
    r, _ = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    await apython.interact(banner="up", streams=(TriggerReader(r), Out()),
                           stop=False)
    print("returned")
asyncio.run(main())
"""


@pytest.fixture(params=["binary", "module"])
def start_lib(request, tmp_path):
    procs = []

    def _start(port, source=SIGINT_PROG):
        prog = tmp_path / "sig.py"
        prog.write_text(source)
        if request.param == "binary":
            p = Proc([apython_path(), str(prog), str(port)])
        else:
            mod = request.getfixturevalue("module")
            p = Proc([mod.python, str(prog), str(port)], env=mod.env)
        p.close_stdin()
        procs.append((p, (signal.SIGKILL,)))
        return p

    yield _start
    end_all_started(procs)


def test_sigint_cancels_the_running_statement_then_the_console_goes_on(
        start_lib, trigger):
    p = start_lib(trigger.port)
    p.expect_stdout(b"up\n>>> ")
    trigger.fire("print('sleeps'); await asyncio.sleep(60)")
    p.expect_stdout(b"sleeps\n")
    p.popen.send_signal(signal.SIGINT)
    p.expect_stdout(b"KeyboardInterrupt\n>>> ")
    trigger.fire("print('in')")
    p.expect_stdout(b"in\n>>> ")
    for line in ("def spin():", "  print('spin')", "  while True: pass",
                 "", "spin()", "print('out')"):
        trigger.fire(line)
    # The statement holds the CPU: the signal raises in it.
    p.expect_stdout(b"spin\n")
    p.popen.send_signal(signal.SIGINT)
    p.expect_stdout(re.compile(rb"Traceback \(most recent call last\):\n"
                               rb".*\nKeyboardInterrupt\n>>> out\n>>> ",
                               re.S))
    p.popen.send_signal(signal.SIGINT)
    p.expect_stdout(b"\nKeyboardInterrupt\n>>> ")
    trigger.close()
    assert p.wait() == 0
    assert p.stdout.endswith(b">>> \nreturned\n")


# At a terminal: the same console, its writer the terminal.
TERMINAL_PROG = SIGINT_PROG.replace('stop=False)\n    print("returned")',
                                    ')')


def test_ctrl_c_typed_under_python3_is_the_streams_consoles(
        module, pty, trigger, tmp_path):
    prog = tmp_path / "term.py"
    prog.write_text(TERMINAL_PROG)
    t = pty([module.python, prog, trigger.port], "dumb", env=module.env)
    t.expect("up\r\n>>> ")
    trigger.fire("print('sleeps'); await asyncio.sleep(60)")
    t.expect("sleeps\r\n")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n>>> ")
    for line in ("def spin():", "  print('spin')", "  while True: pass",
                 "", "spin()"):
        trigger.fire(line)
    t.expect("spin\r\n")
    t.interrupt()
    t.expect_re(rb"Traceback \(most recent call last\):\r\n.*"
                rb"\r\nKeyboardInterrupt\r\n>>> ")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n>>> ")
    trigger.fire("exit(5)")
    assert t.wait() == (5, None)


def test_ctrl_c_typed_in_the_binary_is_the_terminal_consoles(terminal):
    # A console on streams started from the terminal console: its output
    # (print in the writer) shows there; a typed Ctrl-C is the terminal
    # console's, which cancels its statement, the interact() call.
    t = terminal(["-q"])
    t.wait_for_prompt()
    run_line(t, "import apython")
    run_block(t, "class R:", "  async def readline(self):",
              "    return b'print(6 * 7); await asyncio.sleep(60)\\n'")
    run_block(t, "class W:", "  def write(self, b): print(b)",
              "  async def drain(self): pass")
    t.send("await apython.interact(streams=(R(), W()), banner='in')\r")
    t.expect("b'in\\n'\r\nb'>>> '\r\nb'42'\r\nb'\\n'\r\n")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_prompt()
    run_line(t, "print('back')", "back")


def test_an_interface_on_stdio_has_the_terminal_while_it_runs(
        terminal, tmp_path):
    # The program's own console on the standard streams, under the
    # binary at a terminal: the terminal console steps aside until it
    # ends (design.md: a program using stdin gets no terminal console).
    # Keys typed while its statement runs are its next line, a typed
    # Ctrl-C is its own (handle_sigint); after it, the console is back.
    prog = tmp_path / "iface.py"
    prog.write_text("import asyncio, apython\n"
                    "async def main():\n"
                    "    await apython.interact(banner='mine', stop=False,\n"
                    "                           locals={'who': 'mine'})\n"
                    "    print('over')\n"
                    "    await asyncio.sleep(60)\n"
                    "asyncio.run(main())\n")
    t = terminal(["-q", str(prog)])
    t.expect("mine\r\n>>> ")
    t.send("print('a'); await asyncio.sleep(1)\r")
    t.expect("a\r\n")
    t.send("who\r")
    t.expect("'mine'\r\n>>> ")
    t.send("await asyncio.sleep(60)\r")
    t.wait_asleep()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n>>> ")
    t.send("who\r")
    t.expect("'mine'\r\n>>> ")
    # Ctrl-D once the line editor reads (echo off): one before is lost.
    assert t.child.waitnoecho(TIMEOUT)
    t.eof()
    t.expect("over\r\n")
    t.wait_for_prompt()
    t.send("'who' in dir()\r")
    t.expect("False\r\n>>> ")
    assert t.child.waitnoecho(TIMEOUT)
    t.eof()
    assert t.wait() == (0, None)


# The Python REPL (a subclass overriding runsource) on the same streams.
PY_REPL_PROG = SIGINT_PROG.replace("async def main():", '''\
class Slow(apython.AsynchronousConsole):
    async def runsource(self, source, filename=None, symbol=None):
        self.write("got %s\\n" % source)
        await self.flush()
        if source == "sleep":
            await asyncio.sleep(60)
        return False

apython.interact = lambda banner, streams, stop: Slow(streams).interact(
    banner, stop)

async def main():''')


def test_sigint_in_the_python_repl_drops_what_it_awaits(start_lib, trigger):
    p = start_lib(trigger.port, PY_REPL_PROG)
    p.expect_stdout(b"up\n>>> ")
    trigger.fire("sleep")
    p.expect_stdout(b"got sleep\n")
    p.popen.send_signal(signal.SIGINT)
    p.expect_stdout(b"\nKeyboardInterrupt\n>>> ")
    trigger.fire("more")
    p.expect_stdout(b"got more\n>>> ")
    p.popen.send_signal(signal.SIGINT)
    p.expect_stdout(b"\nKeyboardInterrupt\n>>> ")
    trigger.close()
    assert p.wait() == 0
    assert p.stdout.endswith(b">>> \nreturned\n")


def test_interact_on_the_standard_streams_at_a_terminal_under_python3(
        module, pty):
    # No streams: apython.get_standard_streams(); the line is edited with
    # readline, Tab completes in the console's namespace, Ctrl-C cancels
    # the statement or drops the line for a fresh prompt, Ctrl-D ends.
    t = pty([module.python, "-c", "import asyncio, apython\n"
             "asyncio.run(apython.interact(banner='hi'))"], "dumb",
            env=module.env)
    t.expect("hi\r\n>>> ")
    t.send("x = await asyncio.sleep(0, result=21)\r")
    t.expect("\r\n>>> ")
    t.send("await asyncio.slee\t")
    t.expect("await asyncio.sleep(")
    t.send("0, x * 2)\r")
    t.expect(")\r\n42\r\n>>> ")
    t.send("print('s'); await asyncio.sleep(60)\r")
    t.expect("s\r\n")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n>>> ")
    t.send("abc")
    t.expect("abc")
    t.interrupt()
    t.expect("\r\nKeyboardInterrupt\r\n>>> ")
    assert t.screen()[-3:] == [">>> abc", "KeyboardInterrupt", ">>>"]
    t.send("1 + 2\r")
    t.expect("1 + 2\r\n3\r\n>>> ")
    t.eof()
    assert t.wait() == (0, None)
    assert t.screen()[-2:] == [">>>", ""]


def test_python_repl_on_the_standard_streams_at_a_terminal(module, pty):
    # Made outside a coroutine, as asyncio.run's argument: it runs on the
    # loop interact() runs on.
    prog = """if 1:
        import asyncio, apython
        class Echo(apython.AsynchronousConsole):
            async def runsource(self, source, filename=None, symbol=None):
                self.write("got %r\\n" % source)
                if source == "sleep":
                    await asyncio.sleep(60)
                return False
        asyncio.run(Echo().interact(banner="hi"))
        """
    t = pty([module.python, "-c", prog], "dumb", env=module.env)
    t.expect("hi\r\n>>> ")
    t.send("sleep\r")
    t.expect("got 'sleep'\r\n")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n>>> ")
    t.send("abc")
    t.expect("abc")
    t.interrupt()
    t.expect("\r\nKeyboardInterrupt\r\n>>> ")
    assert t.screen()[-3:] == [">>> abc", "KeyboardInterrupt", ">>>"]
    t.send("x\r")
    t.expect("got 'x'\r\n>>> ")
    t.eof()
    assert t.wait() == (0, None)
    assert t.screen()[-2:] == [">>>", ""]


# asyncio's own streams: a console per client of an asyncio server.
SERVER_PROG = """\
import asyncio, sys
import apython

async def client(reader, writer):
    await apython.interact(banner="welcome", streams=(reader, writer),
                           locals={"peer": "you"}, stop=False,
                           handle_sigint=False)
    writer.close()
    print("client gone", flush=True)

async def main():
    server = await asyncio.start_server(client, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.fixture(params=["binary", "module"])
def start_prog(request, tmp_path):
    procs = []

    def _start(source):
        prog = tmp_path / "prog.py"
        prog.write_text(source)
        if request.param == "binary":
            p = Proc([apython_path(), str(prog)])
        else:
            mod = request.getfixturevalue("module")
            p = Proc([mod.python, str(prog)], env=mod.env)
        p.close_stdin()
        procs.append((p, (signal.SIGINT,)))
        return p

    yield _start
    end_all_started(procs)


def test_a_console_per_client_of_an_asyncio_server(start_prog):
    import socket
    p = start_prog(SERVER_PROG)
    port = int(p.expect_stdout(re.compile(rb"(\d+)\n")).group(1))
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")

        def answer(line, until=b">>> "):
            if line is not None:
                s.sendall(line)
            got = b""
            while not got.endswith(until):
                chunk = f.read1(4096)
                assert chunk, got
                got += chunk
            return got
        assert answer(None) == b"welcome\n>>> "
        assert answer(b"await asyncio.sleep(0, result=peer)\n") == \
            b"'you'\n>>> "
        assert answer(b"print('x' * 3); 1 / 0\n") == (
            b"xxx\nTraceback (most recent call last):\n"
            b"  File \"<console>\", line 1, in <module>\n"
            b"ZeroDivisionError: division by zero\n>>> ")
        s.shutdown(socket.SHUT_WR)
        assert f.read() == b"\n"
    p.expect_stdout(b"client gone\n")


def test_handle_sigint_called_in_a_statement_on_the_cpu_raises_there(
        run_lib):
    # As a served interface's Ctrl-C may call it (from a pending call).
    cp = run_lib("""\
        async def main():
            w = BytesWriter()
            c = apython.AsynchronousConsole(streams=(QueueReader([
                b"import sys\\n",
                b"try:\\n", b"  console.handle_sigint(None)\\n",
                b"except KeyboardInterrupt:\\n", b"  print('raised')\\n",
                b"\\n", b""]), w))
            c.locals["console"] = c
            await c.interact(banner="", stop=False, handle_sigint=False)
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == (b"b'\\n>>> >>> ... ... ... ... raised\\n"
                         b">>> \\n'\n")


def test_a_subclass_repl_shows_expression_values_on_its_writer(run_lib):
    # The Python REPL (runsource overridden) shows values as the native
    # console does: on the writer, bound to _, not on the program's stdout.
    cp = run_lib("""\
        class Mine(apython.AsynchronousConsole):
            async def runsource(self, source, filename="<ainput>",
                                symbol="single"):
                return await super().runsource(source, filename, symbol)

        async def main():
            r = QueueReader([b"1+41\\n", b"x = await asyncio.sleep(0, 'v')\\n",
                             b"x\\n", b"_\\n", b""])
            w = BytesWriter()
            await Mine(streams=(r, w)).interact(banner="", stop=False)
            show(w)
        asyncio.run(main())
        """)
    assert cp.stdout == b"b\"\\n>>> 42\\n>>> >>> 'v'\\n>>> 'v'\\n>>> \\n\"\n"
    assert cp.stderr == b""


def test_output_from_a_statements_thread_reaches_the_writer(run_lib):
    cp = run_lib("""\
        import threading
        class ThreadNoting(BytesWriter):
            def write(self, data):
                if threading.current_thread() is not threading.main_thread():
                    print("write from another thread")
                super().write(data)

        async def main():
            # Debug mode says a call off the loop's thread; slow steps
            # (a sanitizer build) it need not say.
            asyncio.get_running_loop().slow_callback_duration = 3600
            r = QueueReader([b"import threading\\n",
                             b"t = threading.Thread(target=print, "
                             b"args=('from thread',))\\n",
                             b"t.start(); t.join()\\n",
                             b"await asyncio.sleep(0.1)\\n", b""])
            w = ThreadNoting()
            await apython.interact(banner="", streams=(r, w), stop=False)
            show(w)
        asyncio.run(main(), debug=True)
        """)
    assert cp.stdout == b"b'\\n>>> >>> >>> >>> from thread\\n>>> \\n'\n"
    assert cp.stderr == b""


def test_overlapping_consoles_give_sigint_back_and_print_flush_is_quiet(
        run_lib):
    cp = run_lib("""\
        import signal, warnings
        warnings.simplefilter("always")

        class Slow(QueueReader):
            def __init__(self, lines, delay):
                super().__init__(lines)
                self.delay = delay
            async def readline(self):
                await asyncio.sleep(self.delay)
                return await super().readline()

        async def main():
            before = signal.getsignal(signal.SIGINT)
            w1, w2 = BytesWriter(), BytesWriter()
            c1 = apython.interact(banner="", stop=False, streams=(
                Slow([b"print('a', flush=True)\\n", b""], 0.1), w1))
            c2 = apython.interact(banner="", stop=False,
                                  streams=(Slow([b""], 0.5), w2))
            t1 = asyncio.ensure_future(c1)
            await asyncio.sleep(0.05)
            await asyncio.gather(t1, c2)
            print(signal.getsignal(signal.SIGINT) == before)
            show(w1)
        asyncio.run(main())
        """)
    assert cp.stdout == b"True\nb'\\n>>> a\\n>>> \\n'\n"
    assert cp.stderr == b""
