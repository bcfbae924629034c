"""The console joins whatever asyncio loop the program runs in its main
thread, whatever its class (apython's, uvloop's, asyncio's own from a loop
factory or another policy, one made directly), and follows it from loop to
loop: same namespace, no second banner, `loop` the loop that runs now.

uvloop is Debian's python3-uvloop, there only for /usr/bin/python3: its
tests are skipped when the interpreter apython embeds cannot import it."""

import subprocess

import pytest

from conftest import PROGRAMS, clean_env
from serving import Client, serve
from vt import run_line

# The program ends once the console resolves DONE.
END = "import __main__; __main__.DONE.set_result(None)"

MAIN = """\
import asyncio

async def main():
    global DONE
    DONE = asyncio.get_running_loop().create_future()
    print("running", flush=True)
    await DONE
"""


# asyncio's own loops, from another policy.
OTHER_POLICY = """\
import asyncio

class Policy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = asyncio.SelectorEventLoop

asyncio.set_event_loop_policy(Policy())
"""


@pytest.fixture(scope="module")
def has_uvloop(embedded):
    """Whether the python3 apython embeds can import uvloop."""
    return subprocess.run([embedded.executable, "-c", "import uvloop"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL,
                          env=clean_env()).returncode == 0


@pytest.fixture
def uvloop_needed(has_uvloop):
    if not has_uvloop:
        pytest.skip("uvloop is not installed for the embedded python3")


@pytest.fixture
def needs(embedded):
    """needs(3, 11): skip unless the embedded python3 is that recent."""
    def _needs(*version):
        if tuple(embedded.version_info) < version:
            pytest.skip("needs Python %s" % ".".join(map(str, version)))
    return _needs


def console_on(terminal, write, source):
    """Run `source` (it prints 'running' on its loop) with the terminal
    console; the Term at the console's first prompt there."""
    t = terminal(["--banner=test", write("prog.py", source)])
    t.expect("running\r\n")
    t.wait_for_prompt()
    return t


def uses_the_loop_then_ends(t, name):
    """At the prompt: `loop` is the running loop, of class `name`; a
    statement awaits on it; then the program ends, with status 0 and
    nothing said about the console's tasks."""
    run_line(t, "type(loop).__name__", repr(name))
    run_line(t, "loop is asyncio.get_running_loop()", "True")
    run_line(t, "await asyncio.sleep(0, 5)", "5")
    t.send(END + "\r")
    t.expect("done\r\n")
    assert t.wait() == (0, None)
    screen = "\n".join(t.screen())
    assert screen.count("test") == 1
    assert "Traceback" not in screen
    assert "Task was destroyed" not in screen
    assert "Exception ignored" not in screen


def test_console_joins_uvloop_installed_for_asyncio_run(
        terminal, write, uvloop_needed):
    t = console_on(terminal, write, MAIN + """\
import uvloop
uvloop.install()
asyncio.run(main())
print("done", flush=True)
""")
    run_line(t, "type(loop).__module__", "'uvloop'")
    uses_the_loop_then_ends(t, "Loop")


def test_console_joins_a_uvloop_loop_run_forever(terminal, write,
                                                 uvloop_needed):
    t = console_on(terminal, write, """\
import asyncio, uvloop

LOOP = uvloop.new_event_loop()
DONE = LOOP.create_future()
DONE.add_done_callback(lambda f: LOOP.stop())
LOOP.call_soon(lambda: print("running", flush=True))
LOOP.run_forever()
LOOP.close()
print("done", flush=True)
""")
    run_line(t, "loop is __import__('__main__').LOOP", "True")
    uses_the_loop_then_ends(t, "Loop")


def test_console_joins_a_runners_loop_factory(terminal, write, needs):
    needs(3, 11)
    t = console_on(terminal, write, MAIN + """\
with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
    runner.run(main())
print("done", flush=True)
""")
    uses_the_loop_then_ends(t, "_UnixSelectorEventLoop")


def test_console_joins_asyncio_runs_loop_factory(terminal, write, needs):
    needs(3, 12)
    t = console_on(terminal, write, MAIN + """\
asyncio.run(main(), loop_factory=asyncio.SelectorEventLoop)
print("done", flush=True)
""")
    uses_the_loop_then_ends(t, "_UnixSelectorEventLoop")


def test_console_joins_the_loop_of_another_policy(terminal, write):
    t = console_on(terminal, write, OTHER_POLICY + MAIN + """\
asyncio.run(main())
print("done", flush=True)
""")
    uses_the_loop_then_ends(t, "_UnixSelectorEventLoop")


def test_console_joins_an_apython_loop_made_directly(terminal, write):
    t = console_on(terminal, write, MAIN + """\
import apython

loop = apython.Loop()
loop.run_until_complete(main())
loop.close()
print("done", flush=True)
""")
    run_line(t, "type(loop).__module__", "'apython'")
    uses_the_loop_then_ends(t, "Loop")


# programs/run_twice.py, run after a prelude of each test's own.
TWO_RUNS = (PROGRAMS / "run_twice.py").read_text()


@pytest.mark.parametrize("prelude, name", [
    ("", "Loop"), (OTHER_POLICY, "_UnixSelectorEventLoop")],
    ids=["apython", "other-policy"])
def test_terminal_console_follows_a_second_asyncio_run(terminal, write,
                                                       prelude, name):
    t = terminal(["--banner=test", write("twice.py", prelude + TWO_RUNS)])
    t.expect("waiting 1\r\n")
    t.wait_for_prompt()
    run_line(t, "x = 42")
    t.send("import __main__; __main__.DONE.set_result(1)\r")
    t.expect("waiting 2\r\n")
    t.wait_for_prompt()
    run_line(t, "x", "42")
    run_line(t, "type(loop).__name__", repr(name))
    run_line(t, "loop is __main__.LOOPS[1]", "True")
    run_line(t, "__main__.LOOPS[0].is_closed()", "True")
    run_line(t, "await asyncio.sleep(0, 5)", "5")
    t.send("__main__.DONE.set_result(2)\r")
    t.expect("phase 2 done\r\n")
    t.expect("finished\r\n")
    assert t.wait() == (0, None)
    screen = "\n".join(t.screen())
    assert screen.count("test") == 1
    assert "Traceback" not in screen and "Task was destroyed" not in screen


def test_served_console_follows_foreign_loops_from_run_to_run(start,
                                                               tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(OTHER_POLICY + TWO_RUNS)
    proc, address = serve(start, ":0", prog)
    proc.expect_stdout(b"waiting 1\n")
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"type(loop).__name__") == b"'_UnixSelectorEventLoop'\n>>> "
    assert c.run(b"x = 42") == b">>> "
    c.send(b"import __main__; __main__.DONE.set_result(1)\n")
    proc.expect_stdout(b"waiting 2\n")
    c.until(b">>> ")
    assert c.run(b"x, loop is __main__.LOOPS[1], "
                 b"__main__.LOOPS[0].is_closed()") == b"(42, True, True)\n>>> "
    assert c.run(b"await asyncio.sleep(0, 5)") == b"5\n>>> "
    c.send(b"__main__.DONE.set_result(2)\n")
    assert proc.wait() == 0
    assert proc.stdout.endswith(b"finished\n")
    assert b"Traceback" not in proc.stderr
    assert b"Task was destroyed" not in proc.stderr


# What the console's own tasks look like to the program and to asyncio.


def test_console_tasks_have_readable_names_and_coroutines(terminal):
    t = terminal(["--banner=test"])
    t.expect("test\r\n>>> ")
    run_line(t, "A = asyncio.all_tasks")
    run_line(t, "mine = lambda w: [t for t in A() if w in t.get_name()]")
    run_line(t, "mine('console')", "[<Task pending name='apython-console' "
                                    "coro=<console()>>]")
    stmt = 'await asyncio.sleep(0); print(mine("state"))'
    run_line(t, stmt, "[<Task pending name='apython-statement: %s...' "
                      "coro=<statement() running at <console>:1> "
                      "cb=[ConsoleSession.console_statement_done()]>]"
                      % stmt[:40])
    run_line(t, "c = mine('console')[0].get_coro()")
    run_line(t, "c.__name__, c.__qualname__", "('console', 'console')")
    t.send("c\r")
    t.expect_re(r"<apython.console coroutine object at 0x[0-9a-f]+>\r\n")


def test_debug_mode_names_the_console_task_that_was_slow(terminal, write):
    t = console_on(terminal, write, MAIN + "asyncio.run(main())\n")
    run_line(t, "import time")
    # The step that turns debug mode on is not timed (asyncio's way).
    run_line(t, "loop.set_debug(True); loop.slow_callback_duration = 1")
    run_line(t, "time.sleep(1.5)")
    t.expect_re(r"Executing <Task pending name='apython-console' "
                r"coro=<console\(\)> .*took \d\.\d{3} seconds\r\n")
    t.wait_for_prompt()
    t.send("await asyncio.sleep(0); time.sleep(1.5)\r")
    t.expect_re(r"Executing <Task finished name='apython-statement: await "
                r"asyncio.sleep\(0\); time.sleep\(1.5\)' coro=<statement"
                r"\(\) done, defined at <console>:1> .*took \d\.\d{3} "
                r"seconds")
    t.wait_for_prompt()
    screen = t.screen()
    debug_on = screen.index(">>> loop.set_debug(True); "
                            "loop.slow_callback_duration = 1")
    assert screen[debug_on + 1] == ">>> time.sleep(1.5)"


def test_debug_mode_on_the_console_alone_runs_statements(run):
    # Handles made from C with no Python frame to record (the console
    # alone) have no source traceback, rather than failing to be made.
    cp = run(["--banner=test"], input=b"loop.set_debug(True)\n"
                                       b"await asyncio.sleep(0, 1)\n2\n")
    assert cp.stderr == b"test\n>>> >>> 1\n>>> 2\n>>> \n"
    assert cp.returncode == 0
