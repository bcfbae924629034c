"""apython's control thread (ctl/): every program has it from start-up
(attach watches the runtime directory), named apython-ctl, paused around
os.fork() so that python3 3.12+ sees one thread and says nothing; it does
not wake while idle, its fds are never inherited by what the program
execs, and a forked child gets its own."""

import os
import re
import time

import pexpect
import pytest

from attaching import attach, detached, env, runtime
from conftest import NO_CONSOLE, TIMEOUT
from serving import Client, serve

# Fixtures, used by name.
assert attach and detached and env and runtime

CTL_THREADS = ("lambda: [pathlib.Path('/proc/self/task', t, 'comm')"
               ".read_text() for t in os.listdir('/proc/self/task')]"
               ".count('apython-ctl\\n')")

# Forks twice (os.forkpty, os.fork) while attach is armed, then parent
# and child each run a loop until an attached console sets `done`.
PROGRAM = r"""
import asyncio, os, pathlib, sys, warnings
if not sys.warnoptions:
    warnings.simplefilter("always")
ctl = %s

def inheritable(fd):
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False    # listdir's own, closed since

print("start", ctl(), flush=True)
pid, master = os.forkpty()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
os.close(master)
pid = os.fork()
if pid != 0:
    print("inheritable", [fd for fd in map(int, os.listdir("/proc/self/fd"))
                          if fd > 2 and inheritable(fd)], flush=True)

async def main():
    global done
    done = asyncio.get_running_loop().create_future()
    # Said once the loop runs: a forked child is attachable from then on.
    print("child" if pid == 0 else "parent", ctl(), os.getpid(), flush=True)
    await done          # set from an attached console
asyncio.run(main())
""" % CTL_THREADS


@pytest.mark.parametrize("args", [(), ("-W", "error::DeprecationWarning")],
                         ids=["default", "W-error"])
def test_a_program_has_it_from_start_up_and_forks_quietly(detached, attach,
                                                          args):
    p = detached(PROGRAM, args=args)
    assert p.line() == "start 1\n"
    lines = dict(p.line().split(None, 1) for _ in range(3))
    assert lines["inheritable"] == "[]\n"
    pids = {}
    for who in ("parent", "child"):
        count, pids[who] = lines[who].split()
        assert count == "1"
    for who in ("child", "parent"):
        child = attach(pids[who])
        child.expect_exact(">>> ")
        child.sendline("os.getpid(), pid == 0")
        child.expect_exact("(%s, %s)\r\n>>> " % (pids[who], who == "child"))
        child.sendline("pid and os.waitpid(pid, 0)[1]")
        child.expect_exact("0\r\n>>> ")
        child.sendline("done.set_result(None)")
        child.expect(pexpect.EOF)
    p.popen.wait(TIMEOUT)
    assert p.popen.stderr.read() == NO_CONSOLE * 2   # each loop says it
    assert p.popen.stdout.read() == b""
    assert p.popen.returncode == 0


def served_with_it(start):
    """A served console whose first statement started the thread."""
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.run(b"import os, pathlib")
    assert c.run(b"ctl = " + CTL_THREADS.encode()) == b">>> "
    assert c.run(b"ctl()") == b"1\n>>> "
    return proc, c


def test_a_forked_child_gets_its_own(start):
    proc, c = served_with_it(start)
    c.run(b"r, w = os.pipe()")
    c.run(b"pid = os.fork(); pid or (os.write(w, b'%d' % ctl()), "
          b"os._exit(0))")
    assert c.run(b"os.waitpid(pid, 0)[1], os.read(r, 9)").endswith(
        b"(0, b'1')\n>>> ")


# poll, epoll_wait, ppoll, epoll_pwait, epoll_pwait2 (x86_64 numbers).
WAITS = {"7", "232", "271", "281", "441"}


def ctl_task(pid):
    """The control thread's /proc directory."""
    for tid in os.listdir("/proc/%d/task" % pid):
        task = "/proc/%d/task/%s/" % (pid, tid)
        with open(task + "comm") as f:
            if f.read().strip() == "apython-ctl":
                return task
    raise AssertionError("no apython-ctl thread in %d" % pid)


def ctl_switches(pid):
    """The control thread's context switches so far."""
    with open(ctl_task(pid) + "status") as f:
        return [line for line in f if "ctxt_switches" in line]


def ctl_waiting(pid):
    """Whether the control thread sleeps in its poll: a wake asked for
    (a statement's watch, the marker's arrival) makes it runnable at once,
    so none is pending then."""
    task = ctl_task(pid)
    with open(task + "stat") as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    with open(task + "syscall") as f:
        call = f.read().split()[0]
    return state == "S" and call in WAITS


def ctl_settled(pid):
    """The control thread's switches once it has done what it was asked
    before (on a loaded machine it may get the CPU late)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        before = ctl_switches(pid)
        if ctl_waiting(pid):
            time.sleep(0.05)
            if ctl_waiting(pid) and ctl_switches(pid) == before:
                return before
        time.sleep(0.01)
    raise AssertionError("the control thread never settled")


def test_it_does_not_wake_while_idle(start, runtime, monkeypatch):
    # A runtime directory of its own: other programs of the user come and
    # go in the shared one, which the thread watches.
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    proc, c = served_with_it(start)
    before = ctl_settled(proc.popen.pid)
    time.sleep(1)
    assert ctl_switches(proc.popen.pid) == before


# Closes every fd but the standard ones (as daemonizers do), opens files
# that get the control thread's fd numbers, forks.
CLOSE_AND_FORK = r"""
import os, sys
os.closerange(3, 4096)
fs = [open(os.path.join(sys.argv[1], "f%d" % i), "w") for i in range(8)]
pid = os.fork()
if pid == 0:
    os._exit(0)
print("child", os.waitpid(pid, 0)[1], flush=True)
for f in fs:
    f.close()
print(sorted(os.path.getsize(f.name) for f in fs))
"""


def test_a_program_that_closed_its_fds_forks(start, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(CLOSE_AND_FORK)
    p = start([prog, tmp_path])
    p.expect_stdout(re.compile(rb"\]\n"))
    assert p.out["stdout"] == b"child 0\n[0, 0, 0, 0, 0, 0, 0, 0]\n"
    assert p.popen.wait(TIMEOUT) == 0


# The same, the child writing to the files it inherited: apython's own
# after-fork code must close none of them (they took the numbers of
# apython's fds, closed by the program).
CLOSE_FORK_AND_WRITE = CLOSE_AND_FORK.replace(
    "    os._exit(0)\n",
    "    for f in fs:\n"
    "        f.write('x')\n"
    "        f.flush()\n"
    "    os._exit(0)\n")


def test_a_forked_child_keeps_the_files_that_took_apythons_fd_numbers(
        start, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(CLOSE_FORK_AND_WRITE)
    p = start([prog, tmp_path])
    p.expect_stdout(re.compile(rb"\]\n"))
    assert p.out["stdout"] == b"child 0\n[1, 1, 1, 1, 1, 1, 1, 1]\n"
    assert p.popen.wait(TIMEOUT) == 0
