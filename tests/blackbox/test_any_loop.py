"""The console joins whatever asyncio loop the program runs in its main
thread, whatever its class (apython's, uvloop's, asyncio's own from a loop
factory or another policy, one made directly), and follows it from loop to
loop: same namespace, no second banner, `loop` the loop that runs now."""

import pytest

from conftest import TIMEOUT
from vt import run_line

TWO_RUNS = """\
import asyncio

LOOPS = []


async def phase(n):
    global DONE
    LOOPS.append(asyncio.get_running_loop())
    DONE = asyncio.get_running_loop().create_future()
    print("waiting", n, flush=True)
    await DONE
    print("phase", n, "done", flush=True)


asyncio.run(phase(1))
asyncio.run(phase(2))
print("finished", flush=True)
"""


def test_terminal_console_follows_a_second_asyncio_run(terminal, write):
    t = terminal(["--banner=test", write("twice.py", TWO_RUNS)])
    t.expect("waiting 1\r\n")
    t.wait_for_prompt()
    run_line(t, "x = 42")
    t.send("import __main__; __main__.DONE.set_result(1)\r")
    t.expect("waiting 2\r\n")
    t.wait_for_prompt()
    run_line(t, "x", "42")
    run_line(t, "loop is __main__.LOOPS[1]", "True")
    run_line(t, "await asyncio.sleep(0, 5)", "5")
    t.send("__main__.DONE.set_result(2)\r")
    t.expect("phase 2 done\r\nfinished\r\n")
    assert t.wait() == (0, None)
    screen = "\n".join(t.screen())
    assert screen.count("test") == 1
    assert "Traceback" not in screen and "Task was destroyed" not in screen
