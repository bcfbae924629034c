"""The program's side of --attach and --ps: what a forked child keeps of
its parent's attachers, what an attached console's namespace sees of
__main__, and what the runtime directory keeps of processes that are
gone."""

import os
import re
import signal
import socket
import subprocess
import time

import pexpect
import pytest

from test_any_loop import has_uvloop, uvloop_needed
from attaching import (attach, attacher, dead_pid, detached, env, runtime,
                       wait_for)
from conftest import TIMEOUT, apython_path

# Fixtures, used by name.
assert attach and detached and env and runtime and has_uvloop and uvloop_needed

SLEEPER = """\
import asyncio
async def main():
    print('up', flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""

COUNTER = """\
import asyncio
count = 0
loop = "the program's loop"
async def main():
    global count
    print('up', flush=True)
    while True:
        count += 1
        await asyncio.sleep(0.01)
asyncio.run(main())
"""


def test_attached_console_ends_when_the_parent_dies_though_a_child_lives(
        detached, attach):
    p = detached(SLEEPER)
    assert p.line() == "up\n"
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("import os, time; kid = os.fork() or time.sleep(600) "
                   "or os._exit(0); print('kid', kid)")
    child.expect(r"kid (\d+)\r\n>>> ")
    kid = int(child.match.group(1))
    try:
        os.kill(p.pid, signal.SIGKILL)
        p.popen.wait(TIMEOUT)
        child.expect(pexpect.EOF)
        child.close()
        out = child.logfile_read.getvalue().decode()
        assert re.search(r"\r\napython: connection to [^\r\n]+ lost\r\n\Z",
                         out), out
        assert out.count("connection to") == 1, out
        assert child.exitstatus == 1, out
        child.ended_by_test = True
    finally:
        os.kill(kid, signal.SIGKILL)


def test_attached_console_sees_main_globals_live_and_keeps_its_own_names(
        detached, attach):
    p = detached(COUNTER)
    assert p.line() == "up\n"
    for first in (True, False):
        child = attach(p.pid)
        child.expect_exact(">>> ")
        if not first:
            child.sendline("mine")
            child.expect_exact("NameError: name 'mine' is not defined")
            child.expect_exact(">>> ")
        child.sendline("a = count; await asyncio.sleep(0.3); count > a")
        child.expect_exact("True\r\n>>> ")
        child.sendline("mine = 1; count = -5; mine")
        child.expect_exact("1\r\n>>> ")
        child.sendline("import __main__; __main__.loop, "
                       "__main__.count >= 0, 'mine' in vars(__main__)")
        child.expect_exact("(\"the program's loop\", True, False)\r\n>>> ")
        child.sendline("type(loop).__name__ != 'str'")
        child.expect_exact("True\r\n>>> ")
        child.sendeof()
        child.expect(pexpect.EOF)


def test_attached_console_completes_main_names_bound_after_the_attach(
        detached, attach):
    p = detached(SLEEPER.replace("await asyncio.sleep(3600)",
                                 "await asyncio.sleep(0.5)\n"
                                 "    global late_name_xyz\n"
                                 "    late_name_xyz = 1\n"
                                 "    await asyncio.sleep(3600)"))
    assert p.line() == "up\n"
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("await asyncio.sleep(1)")
    child.expect_exact(">>> ")
    child.send("late_name_x\t")
    child.expect_exact("late_name_xyz")
    child.send("\r")
    child.expect_exact("1\r\n>>> ")


def test_forked_children_that_exit_leave_no_marker(detached, runtime):
    p = detached("import asyncio, os\n"
                 "for _ in range(20):\n"
                 "    if os.fork() == 0:\n"
                 "        os._exit(0)\n"
                 "    os.wait()\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n")
    assert p.line() == "up\n"
    assert os.listdir(runtime / "apython") == [str(p.pid)]


def test_what_dead_processes_left_is_swept_when_an_attacher_comes(
        detached, runtime, env):
    p = detached(SLEEPER)
    assert p.line() == "up\n"
    d = runtime / "apython"
    gone = dead_pid()
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(d / (".sock-%d-00112233aabbccdd" % gone)))  # attacher.c's form
    s.close()
    (d / str(gone)).write_text("apython %d 1 1 1 on\n" % gone)
    cp = attacher(["--ps", p.pid], env)
    assert cp.returncode == 0, cp.stderr
    wait_for(lambda: sorted(os.listdir(d)) == [str(p.pid)],
             "what dead processes left is swept: %s" % os.listdir(d))


def test_ps_answers_while_another_ps_reader_is_stalled(detached, env):
    # 100 threads 100 calls deep: faulthandler's dump is far more than a
    # socket's and a pipe's buffers, so the first --ps, whose stdout
    # nobody reads, stops taking it. The main thread holds the GIL in C.
    p = detached("import asyncio, threading\n"
                 "ready = threading.Barrier(101)\n"
                 "def deep(n):\n"
                 "    return deep(n - 1) if n else (ready.wait(), "
                 "threading.Event().wait())\n"
                 "for _ in range(100):\n"
                 "    threading.Thread(target=deep, args=(100,),"
                 " daemon=True).start()\n"
                 "ready.wait()\n"
                 "def holds_the_gil():\n"
                 "    print('holding', flush=True)\n"
                 "    sum(range(10 ** 13))\n"
                 "async def main():\n"
                 "    asyncio.get_running_loop().call_soon(holds_the_gil)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n")
    assert p.line() == "holding\n"
    stalled = subprocess.Popen([apython_path(), "--ps", str(p.pid)],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env)
    try:
        time.sleep(4)	# its answer is being written, and stalls
        cp = attacher(["--ps", p.pid], env)
        out = cp.stdout.decode()
        if "cannot be read" in out:
            pytest.skip("this libpython does not export faulthandler's "
                        "dump")
        assert (cp.returncode, cp.stderr) == (0, b""), out
        assert re.match(r"The loop has been held for \d+\.\d seconds by "
                        r"what the main thread runs\.\n", out), out
    finally:
        stalled.kill()
        stalled.wait()
        p.popen.kill()
        p.popen.wait()


def test_a_uvloop_parent_keeps_its_attached_console_after_a_fork(
        detached, attach, uvloop_needed):
    # uvloop's epoll set is shared with a forked child: the child must
    # not take the parent's attached client out of it.
    p = detached("import asyncio, uvloop\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "uvloop.install()\n"
                 "asyncio.run(main())\n")
    assert p.line() == "up\n"
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("import os, time; kid = os.fork() or time.sleep(600) "
                   "or os._exit(0); print('kid', kid)")
    child.expect(r"kid (\d+)\r\n>>> ")
    kid = int(child.match.group(1))
    try:
        child.sendline("await asyncio.sleep(0.01, result=6)")
        child.expect_exact("6\r\n>>> ")
    finally:
        os.kill(kid, signal.SIGKILL)
