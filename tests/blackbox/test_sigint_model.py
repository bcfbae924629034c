"""Where SIGINT goes (design.md): a Ctrl-C typed at the terminal while the
terminal console is up is the console's; every other SIGINT (kill -INT, a
piped stdin's run) reaches the program's own handlers exactly as under
python3, and the program sees its own handlers."""

import os
import signal
import urllib.request

import pytest

from conftest import TIMEOUT
from vt import run_line

# Stops on SIGINT through loop.add_signal_handler (installed once the
# loop runs, after the console came up).
LOOP_HANDLER = """\
import asyncio, signal

async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def handler():
        print("program's handler", flush=True)
        stop.set_result(None)
    loop.add_signal_handler(signal.SIGINT, handler)
    print("ready", flush=True)
    await stop
    print("stopped", flush=True)

asyncio.run(main())
"""

# Stops on SIGINT through signal.signal (installed before the loop runs).
SIGNAL_HANDLER = """\
import asyncio, signal

got = []

def handler(signum, frame):
    got.append(signum)

signal.signal(signal.SIGINT, handler)

async def main():
    print("ready", signal.getsignal(signal.SIGINT) is handler, flush=True)
    while not got:
        await asyncio.sleep(0.05)
    print("program's handler", flush=True)
    print("stopped", flush=True)

asyncio.run(main())
"""

# No handler of its own: python3's (asyncio.run's on 3.11+).
NO_HANDLER = """\
import asyncio

async def main():
    print("ready", flush=True)
    await asyncio.sleep(100)

asyncio.run(main())
"""

# Ignores SIGINT, and says whether a child it runs inherits that.
IGNORES = """\
import asyncio, signal, subprocess

signal.signal(signal.SIGINT, signal.SIG_IGN)

async def main():
    status = subprocess.run(["cat", "/proc/self/status"],
                            stdout=subprocess.PIPE).stdout.decode()
    mask = int(status.split("SigIgn:")[1].split()[0], 16)
    print("child ignores SIGINT:", bool(mask & (1 << (signal.SIGINT - 1))),
          flush=True)
    print("SIG_IGN:", signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
          flush=True)
    await asyncio.sleep(100)

asyncio.run(main())
"""


def python3_on_kill_int(start_python, args, ready):
    """(status, stdout, last line of stderr) of python3 running args,
    sent SIGINT once it printed `ready`."""
    p = start_python(args)
    p.expect_stdout(ready)
    p.popen.send_signal(signal.SIGINT)
    rc = p.wait(TIMEOUT)
    return rc, p.stdout, (p.stderr.splitlines() or [b""])[-1]


def console_up(terminal, prog, ready):
    """apython running prog on a terminal, its console at the prompt."""
    t = terminal(["--banner=test", prog])
    t.expect(ready)
    t.wait_for_prompt()
    return t


def typed_ctrl_c_is_the_consoles(t):
    """A typed Ctrl-C drops to a fresh prompt; the console goes on."""
    t.send("1 +")
    t.wait_for_line(">>> 1 +")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_prompt()
    run_line(t, "6 * 7", "42")
    assert "program's handler" not in t.screen()


def kill_int_is_the_programs(t, python3, ready):
    """kill -INT runs the program's handler; it ends as under python3."""
    assert python3 == (0, ready + b"\nprogram's handler\nstopped\n", b"")
    os.kill(t.child.pid, signal.SIGINT)
    t.expect("program's handler\r\n")
    t.expect("stopped\r\n")
    assert t.wait() == (0, None)


@pytest.mark.parametrize("source, ready", [
    (LOOP_HANDLER, b"ready"),
    # signal.getsignal() in the program returns the handler it set.
    (SIGNAL_HANDLER, b"ready True"),
], ids=["add_signal_handler", "signal.signal"])
def test_typed_ctrl_c_is_the_consoles_and_kill_int_runs_the_programs_handler(
        terminal, start_python, write, source, ready):
    prog = write("handler.py", source)
    python3 = python3_on_kill_int(start_python, [prog], ready + b"\n")
    t = console_up(terminal, prog, ready.decode() + "\r\n")
    typed_ctrl_c_is_the_consoles(t)
    kill_int_is_the_programs(t, python3, ready)


def test_kill_int_ends_a_program_without_handler_as_python3(
        terminal, start_python, write):
    prog = write("no_handler.py", NO_HANDLER)
    rc, out, last = python3_on_kill_int(start_python, [prog], b"ready\n")
    assert (rc, out, last) == (-signal.SIGINT, b"ready\n",
                               b"KeyboardInterrupt")
    t = console_up(terminal, prog, "ready\r\n")
    os.kill(t.child.pid, signal.SIGINT)
    assert t.wait() == (None, signal.SIGINT)
    screen = "\n".join(t.screen()).rstrip("\n")
    assert "Traceback (most recent call last):\n" in screen
    assert screen.endswith("\nKeyboardInterrupt")


def test_sigint_with_stdin_a_pipe_reaches_the_programs_handler(
        start, start_python, write):
    prog = write("signal_handler.py", SIGNAL_HANDLER)
    python3 = python3_on_kill_int(start_python, [prog], b"ready True\n")
    p = start(["--banner=test", prog])
    p.expect_stdout(b"ready True\n")
    p.send(b"1\n")     # the banner waits for stdin's first bytes
    p.expect_stderr(b"test\n>>> 1\n>>> ")
    p.popen.send_signal(signal.SIGINT)
    assert p.wait(TIMEOUT) == python3[0] == 0
    assert p.stdout == python3[1] == (
        b"ready True\nprogram's handler\nstopped\n")


def test_a_program_that_ignores_sigint_passes_that_on_to_its_children(
        terminal, start_python, write):
    prog = write("ignores.py", IGNORES)
    p = start_python([prog])
    p.expect_stdout(b"child ignores SIGINT: True\n"
                    b"SIG_IGN: True\n")
    p.popen.terminate()
    p.wait(TIMEOUT)
    t = console_up(terminal, prog, "SIG_IGN: True\r\n")
    assert "child ignores SIGINT: True" in t.screen()
    t.child.kill(signal.SIGTERM)
    t.wait()


AIOHTTP_APP = """\
import sys
from aiohttp import web

async def hello(request):
    return web.Response(text="hello")

app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]),
            print=lambda *args: print("ready", flush=True))
print("stopped", flush=True)
"""


def test_aiohttp_run_app_survives_typed_ctrl_c_and_stops_on_kill_int(
        terminal, start_python, write, free_port, embedded):
    pytest.importorskip("aiohttp", reason="python3-aiohttp is not installed")
    if embedded.executable != "/usr/bin/python3":
        pytest.skip("apython does not embed /usr/bin/python3")
    prog = write("app.py", AIOHTTP_APP)
    port = free_port()
    url = "http://127.0.0.1:%d/" % port
    t = terminal(["--banner=test", prog, str(port)])
    t.expect("ready\r\n")
    t.wait_for_prompt()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_prompt()
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
        assert r.read() == b"hello"
    os.kill(t.child.pid, signal.SIGINT)
    t.expect("stopped\r\n")
    assert t.wait() == (0, None)
    assert python3_on_kill_int(start_python, [prog, str(free_port())],
                               b"ready\n") == (0, b"ready\nstopped\n", b"")


BETWEEN_RUNS = """\
import asyncio, os, signal, time

def handler(signum, frame):
    print("program's handler", flush=True)
    os._exit(3)

signal.signal(signal.SIGINT, handler)
loop = asyncio.new_event_loop()
loop.run_until_complete(asyncio.sleep(0.1))
print("between runs", flush=True)
time.sleep(100)
"""


def test_typed_ctrl_c_while_the_consoles_loop_is_not_running_is_the_programs(
        terminal, write):
    # The console is on a loop that is not closed but does not run: it
    # cannot take the Ctrl-C, the program's handler does.
    prog = write("between.py", BETWEEN_RUNS)
    t = terminal(["--banner=test", prog])
    t.expect("between runs\r\n")
    t.interrupt()
    t.expect("program's handler\r\n")
    assert t.wait() == (3, None)
