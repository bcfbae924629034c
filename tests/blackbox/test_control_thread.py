"""apython's control thread (ctl/): every program has one, named
apython-ctl, that does not wake while nothing is watched, holds no fd a
child it execs inherits, and a forked child gets its own."""

import os
import time

PROGRAM = r"""
import os, sys, time

def ctl_threads():
    names = []
    for tid in os.listdir("/proc/self/task"):
        with open("/proc/self/task/%s/comm" % tid) as f:
            names.append(f.read().strip())
    return names.count("apython-ctl")

print("parent", ctl_threads(), flush=True)
pid = os.fork()
if pid == 0:
    print("child", ctl_threads(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)

def inheritable(fd):
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False    # listdir's own, closed since

print("inheritable", [fd for fd in map(int, os.listdir("/proc/self/fd"))
                      if fd > 2 and inheritable(fd)], flush=True)
"""


def test_every_program_and_its_forked_child_have_one(run, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    cp = run([str(prog)])
    assert cp.stdout == b"parent 1\nchild 1\ninheritable []\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def ctl_switches(pid):
    """The control thread's context switches so far."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() != "apython-ctl":
                continue
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            return [line for line in f if "ctxt_switches" in line]
    raise AssertionError("no apython-ctl thread in %d" % pid)


def test_it_does_not_wake_while_idle(start, tmp_path):
    prog = tmp_path / "idle.py"
    prog.write_text("import time\nprint('up', flush=True)\ntime.sleep(3)\n")
    proc = start([str(prog)])
    proc.expect_stdout(b"up\n")
    before = ctl_switches(proc.popen.pid)
    time.sleep(1)
    assert ctl_switches(proc.popen.pid) == before
