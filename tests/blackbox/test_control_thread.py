"""apython's control thread (ctl/): a program gets it when first needed
(a served statement), not before (python3 3.12+ warns at fork() in a
threaded process), named apython-ctl; it does not wake while idle, its
fds are there from start-up and never inherited by what the program
execs, and a forked child gets its own."""

import os
import time

from serving import Client, serve

CTL_THREADS = ("lambda: [pathlib.Path('/proc/self/task', t, 'comm')"
               ".read_text() for t in os.listdir('/proc/self/task')]"
               ".count('apython-ctl\\n')")

PROGRAM = r"""
import os, pathlib, warnings
warnings.simplefilter("always")
ctl = %s

def inheritable(fd):
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False    # listdir's own, closed since

print("parent", ctl(), flush=True)
pid = os.fork()
if pid == 0:
    print("child", ctl(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("inheritable", [fd for fd in map(int, os.listdir("/proc/self/fd"))
                      if fd > 2 and inheritable(fd)], flush=True)
""" % CTL_THREADS


def test_a_program_has_none_until_needed_and_forks_quietly(run, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    cp = run([str(prog)])
    assert cp.stderr == b""
    assert cp.stdout == b"parent 0\nchild 0\ninheritable []\n"
    assert cp.returncode == 0


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


def ctl_switches(pid):
    """The control thread's context switches so far."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() != "apython-ctl":
                continue
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            return [line for line in f if "ctxt_switches" in line]
    raise AssertionError("no apython-ctl thread in %d" % pid)


def test_it_does_not_wake_while_idle(start):
    proc, c = served_with_it(start)
    before = ctl_switches(proc.popen.pid)
    time.sleep(1)
    assert ctl_switches(proc.popen.pid) == before
