"""--attach and --ps where the runtime directory or the marker is not
what it should be, and root attaching to another user's program: one
line and status 1 for what is wrong; root works as the program's user."""

import os
import subprocess

import pytest

from attaching import attacher, detached, env, runtime, wait_for
from conftest import TIMEOUT, apython_path
from test_attach import as_nobody, nobody_can_run_apython, one_line_error

# Fixtures, used by name.
assert detached and env and runtime

SLEEPER = ("import asyncio\n"
           "async def main():\n"
           "    print('up', flush=True)\n"
           "    await asyncio.sleep(3600)\n"
           "asyncio.run(main())\n")

# A program that says which uids its attacher runs with (the Uid: line
# of /proc/PID/status of the process whose arguments are --attach ITS_PID).
WHO_ATTACHES = """\
import asyncio, os
def attacher_uids():
    found = []
    for d in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                if b'--attach\\0%d\\0' % os.getpid() not in f.read():
                    continue
            with open('/proc/%s/status' % d) as f:
                found += [l.split()[1:] for l in f if l.startswith('Uid:')]
        except OSError:
            pass
    return found
async def main():
    print('up', flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


@pytest.mark.parametrize("option", ["--attach", "--ps"])
def test_a_fifo_for_a_marker_is_not_waited_on(detached, env, runtime,
                                              option):
    p = detached(SLEEPER)
    assert p.line() == "up\n"
    marker = runtime / "apython" / str(p.pid)
    os.unlink(marker)
    os.mkfifo(marker, 0o600)
    one_line_error(attacher([option, p.pid], env),
                   "apython: %d: not an apython program\n" % p.pid)


def test_a_marker_that_is_a_link_is_not_followed(detached, env, runtime):
    p = detached(SLEEPER)
    assert p.line() == "up\n"
    marker = runtime / "apython" / str(p.pid)
    real = runtime / "elsewhere"
    os.rename(marker, real)
    os.symlink(real, marker)
    one_line_error(attacher(["--ps", p.pid], env),
                   "apython: %d: not an apython program\n" % p.pid)


def test_a_runtime_directory_that_is_a_link_is_named(detached, env,
                                                     runtime):
    (runtime / "real").mkdir(mode=0o700)
    os.symlink(runtime / "real", runtime / "apython")
    p = detached(SLEEPER)
    assert p.line() == "up\n"
    assert os.listdir(runtime / "real") == []
    one_line_error(attacher(["--attach", p.pid], env),
                   "apython: %d: %s/apython: not a directory\n"
                   % (p.pid, runtime))


def test_root_attaches_as_the_programs_user(runtime, env):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    os.chmod(runtime, 0o755)
    run = runtime / "nobody"
    run.mkdir(mode=0o700)
    os.chown(run, 65534, 65534)
    prog = runtime / "prog.py"
    prog.write_text(WHO_ATTACHES)
    if not nobody_can_run_apython(env):
        pytest.skip("user 65534 cannot run this apython")
    e = dict(env, XDG_RUNTIME_DIR=str(run), HOME=str(run))
    p = subprocess.Popen(as_nobody([apython_path(), prog]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e)
    try:
        assert p.stdout.readline() == b"up\n"
        # Root's HOME cannot be written by 65534: the history is skipped
        # without a word.
        cp = attacher(["--attach", p.pid], env, input=b"attacher_uids()\n")
        assert (cp.returncode, cp.stderr) == (0, b""), cp.stderr
        assert cp.stdout.endswith(b">>> [['65534', '65534', '65534', "
                                  b"'65534']]\n>>> \n"), cp.stdout
        cp = attacher(["--ps", p.pid], env)
        assert (cp.returncode, cp.stderr) == (0, b""), cp.stderr
        # Nothing of root's is left in the user's directory.
        wait_for(lambda: os.listdir(run / "apython") == [str(p.pid)],
                 "left: %r" % os.listdir(run / "apython"))
    finally:
        p.kill()
        p.wait(TIMEOUT)
