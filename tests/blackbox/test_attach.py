"""apython --attach PID: a console (readline, Ctrl-C, Ctrl-D) inside a
running apython program, on the loop it runs, however it was started;
nothing listens in the program before someone asks; same uid or root;
opted out by APYTHON_NO_ATTACH or --no-attach; every error one line,
status 1."""

import os
import socket
import stat
import subprocess

import pexpect
import pytest

from attaching import (ECHO_PROGRAM, attach, attacher, dead_pid, detached,
                       env, fds, listening, runtime, wait_for)
from conftest import TIMEOUT, apython_path
from test_any_loop import has_uvloop, uvloop_needed

# Fixtures, used by name.
assert attach and detached and env and runtime and has_uvloop and uvloop_needed


def as_nobody(args, **kw):
    """`setpriv` running args as user and group 65534."""
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            *map(str, args)]


def nobody_can_run_apython(env):
    """Whether user 65534 can start apython (its libpython may be in a
    directory only root can enter)."""
    return subprocess.run(as_nobody([apython_path(), "-c", "pass"]),
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env,
                          timeout=TIMEOUT).returncode == 0


def echo_once(port, text):
    """What the echo server sends back for one line."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(text + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            assert chunk, "the echo server closed"
            data += chunk
        return data


def start_echo(detached, **kw):
    p = detached(ECHO_PROGRAM, **kw)
    port = int(p.line().split()[1])
    return p, port


def test_attach_reads_main_globals_and_awaits_on_the_programs_loop(
        detached, attach):
    p, port = start_echo(detached)
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("greeting")
    child.expect_exact("'hello from main'\r\n>>> ")
    child.sendline("import os; os.getpid() == %d" % p.pid)
    child.expect_exact("True\r\n>>> ")
    child.sendline("r, w = await asyncio.open_connection('127.0.0.1', %d)"
                   % port)
    child.expect_exact(">>> ")
    child.sendline("w.write(b'through the loop\\n'); await r.readline()")
    child.expect_exact("b'through the loop\\n'\r\n>>> ")
    assert echo_once(port, b"meanwhile") == b"meanwhile\n"
    # (3.12+: the server's serve_forever() ends once its clients have.)
    child.sendline("w.close(); await w.wait_closed()")
    child.expect_exact(">>> ")


def test_attach_ctrl_d_ends_the_console_only(detached, attach):
    p, port = start_echo(detached)
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert p.popen.poll() is None
    assert echo_once(port, b"still there") == b"still there\n"


def test_attach_ctrl_c_interrupts_a_cpu_bound_statement(detached, attach,
                                                        runtime):
    p, port = start_echo(detached)
    child = attach(p.pid)
    child.expect_exact(">>> ")
    flag = runtime / "running"
    # The statement says it runs (a file), then holds the CPU.
    child.sendline("import os; os.close(os.open(%r, os.O_CREAT)); "
                   "[0 for _ in iter(int, 1)]" % str(flag))
    wait_for(flag.exists, "the statement did not start")
    try:
        child.sendintr()
        child.expect_exact("KeyboardInterrupt\r\n>>> ")
    except pexpect.TIMEOUT:
        # Wedged: end both here, so that only the expectation fails.
        p.popen.kill()
        child.terminate(force=True)
        child.ended_by_test = True
        raise
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")
    assert echo_once(port, b"after") == b"after\n"


def test_no_listening_socket_before_during_or_after_an_attach(detached,
                                                              attach):
    p, port = start_echo(detached)
    assert listening(p.pid) == {("tcp", port)}
    child = attach(p.pid)
    child.expect_exact(">>> ")
    assert listening(p.pid) == {("tcp", port)}
    child.sendeof()
    child.expect(pexpect.EOF)
    assert listening(p.pid) == {("tcp", port)}


def test_attaches_leave_no_descriptor_in_the_program(detached, attach, env):
    p, port = start_echo(detached)
    sockets = {fd for fd, what in fds(p.pid).items()
               if what.startswith("socket:")}
    # The console's first attach sets up its output routing once; the
    # program closes that session's socket after the attacher has gone.
    attacher(["--attach", p.pid], env, input=b"1\n")
    wait_for(lambda: {fd for fd, what in fds(p.pid).items()
                      if what.startswith("socket:")} <= sockets,
             "the first attach's socket stays open: %r" % fds(p.pid))
    before = fds(p.pid)
    for i in range(3):
        cp = attacher(["--attach", p.pid], env, input=b"%d+1\n" % i)
        assert cp.returncode == 0, cp.stderr
        assert cp.stdout.endswith(b">>> %d\n>>> \n" % (i + 1)), cp.stdout
        cp = attacher(["--ps", p.pid], env)
        assert cp.returncode == 0, cp.stderr
    wait_for(lambda: fds(p.pid) == before,
             "descriptors left: %r, were %r" % (fds(p.pid), before))
    for fd in fds(p.pid):
        if fd > 2:
            with open("/proc/%d/fdinfo/%d" % (p.pid, fd)) as f:
                flags = int(f.read().split("flags:")[1].split()[0], 8)
            assert flags & os.O_CLOEXEC, (fd, fds(p.pid)[fd])


def test_attach_to_a_uvloop_program(detached, attach, uvloop_needed):
    p = detached("import asyncio, uvloop\n"
                 "kept = 'uv'\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "uvloop.install()\n"
                 "asyncio.run(main())\n")
    assert p.line() == "up\n"
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("kept, type(asyncio.get_running_loop()).__module__")
    child.expect_exact("('uv', 'uvloop')\r\n>>> ")
    child.sendline("await asyncio.sleep(0.01, result=5)")
    child.expect_exact("5\r\n>>> ")


def test_attach_to_a_served_program(detached, attach, runtime):
    sock = runtime / "console.sock"
    p = detached("import asyncio\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n", args=["--serve", sock])
    assert p.line().startswith("The console is being served on")
    assert p.line() == "up\n"
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("2**10")
    child.expect_exact("1024\r\n>>> ")


def test_attach_to_a_program_with_a_local_console(env, attach, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text("import asyncio\n"
                    "async def main():\n"
                    "    await asyncio.sleep(3600)\n"
                    "asyncio.run(main())\n")
    local = pexpect.spawn(apython_path(), ["--banner=local", str(prog)],
                          env=dict(env, TERM="dumb"), timeout=TIMEOUT)
    try:
        local.expect_exact("local\r\n>>> ")
        child = attach(local.pid)
        child.expect_exact(">>> ")
        child.sendline("'attached'")
        child.expect_exact("'attached'\r\n>>> ")
        child.sendeof()
        child.expect(pexpect.EOF)
        local.sendline("'local still'")
        local.expect_exact("'local still'\r\n>>> ")
    finally:
        local.sendeof()
        local.expect(pexpect.EOF)
        local.close()
    assert local.exitstatus == 0


def test_attach_to_a_forked_child_on_its_own(detached, attach):
    p = detached("import asyncio, os, time\n"
                 "pid = os.fork()\n"
                 "async def main():\n"
                 "    print('child' if pid == 0 else 'parent', os.getpid(),"
                 " flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "try:\n"
                 "    asyncio.run(main())\n"
                 "finally:\n"
                 "    if pid:\n"
                 "        os.kill(pid, 9)\n")
    pids = dict(p.line().split() for _ in range(2))
    for who in ("parent", "child"):
        child = attach(pids[who])
        child.expect_exact(">>> ")
        child.sendline("os.getpid(), pid == 0")
        child.expect_exact("(%s, %s)\r\n>>> " % (pids[who], who == "child"))
        child.sendeof()
        child.expect(pexpect.EOF)


def one_line_error(cp, text):
    assert (cp.returncode, cp.stdout, cp.stderr) == (1, b"", text.encode())


@pytest.mark.parametrize("option", ["--attach", "--ps"])
def test_attach_to_no_such_process(env, option):
    pid = dead_pid()
    one_line_error(attacher([option, pid], env),
                   "apython: %d: no such process\n" % pid)


@pytest.mark.parametrize("option", ["--attach", "--ps"])
def test_attach_to_a_python3_program_is_refused(detached, env, option):
    p = detached("print('up', flush=True)\nimport time\ntime.sleep(3600)\n",
                 interpreter="/usr/bin/python3")
    assert p.line() == "up\n"
    one_line_error(attacher([option, p.pid], env),
                   "apython: %d: not an apython program\n" % p.pid)


@pytest.mark.parametrize("how", ["env", "option"])
def test_attach_to_a_program_that_opted_out(detached, env, how):
    p = detached("import asyncio\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n",
                 extra={"APYTHON_NO_ATTACH": "1"} if how == "env" else None,
                 args=["--no-attach"] if how == "option" else ())
    assert p.line() == "up\n"
    for option in ("--attach", "--ps"):
        one_line_error(attacher([option, p.pid], env),
                       "apython: %d: attaching is turned off in that program"
                       " (APYTHON_NO_ATTACH or --no-attach)\n" % p.pid)
    assert not [fd for fd in fds(p.pid).values() if "inotify" in fd]


def test_attach_to_a_program_that_runs_no_loop(detached, env):
    p = detached("import time\nprint('up', flush=True)\ntime.sleep(3600)\n")
    assert p.line() == "up\n"
    one_line_error(attacher(["--attach", p.pid], env),
                   "apython: %d: the program runs no event loop now\n"
                   % p.pid)
    one_line_error(attacher(["--ps", p.pid], env),
                   "apython: %d: the program runs no event loop now\n"
                   % p.pid)


def test_attach_to_another_users_program_is_refused(detached, env):
    if os.geteuid() != 0:
        pytest.skip("needs root, to run the attacher as another user")
    p = detached("import time\nprint('up', flush=True)\ntime.sleep(3600)\n")
    assert p.line() == "up\n"
    if not nobody_can_run_apython(env):
        pytest.skip("user 65534 cannot run this apython")
    cp = subprocess.run(as_nobody([apython_path(), "--attach", p.pid]),
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        env=env, timeout=TIMEOUT)
    one_line_error(cp, "apython: %d: the process of another user\n" % p.pid)


def test_root_attaches_to_another_users_program(runtime, env):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    tmp_path = runtime
    os.chmod(tmp_path, 0o755)
    run = tmp_path / "nobody"
    run.mkdir(mode=0o700)
    os.chown(run, 65534, 65534)
    prog = tmp_path / "prog.py"
    prog.write_text("import asyncio, os\n"
                    "async def main():\n"
                    "    print('up', flush=True)\n"
                    "    await asyncio.sleep(3600)\n"
                    "asyncio.run(main())\n")
    if not nobody_can_run_apython(env):
        pytest.skip("user 65534 cannot run this apython")
    e = dict(env, XDG_RUNTIME_DIR=str(run), HOME=str(run))
    p = subprocess.Popen(as_nobody([apython_path(), prog]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e)
    try:
        assert p.stdout.readline() == b"up\n"
        cp = attacher(["--attach", p.pid], env, input=b"os.getuid()\n")
        assert (cp.returncode, cp.stdout.endswith(b">>> 65534\n>>> \n")) == \
            (0, True), (cp.stdout, cp.stderr)
    finally:
        p.kill()
        p.wait()


def test_runtime_directory_open_to_others_is_not_used(detached, env,
                                                       runtime):
    d = runtime / "apython"
    d.mkdir()
    os.chmod(d, 0o755)
    p = detached("import asyncio\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n")
    assert p.line() == "up\n"
    assert os.listdir(d) == []
    one_line_error(attacher(["--attach", p.pid], env),
                   "apython: %d: %s: open to other users (not 0700)\n"
                   % (p.pid, d))


def test_runtime_directory_and_marker(detached, runtime):
    p, port = start_echo(detached)
    d = runtime / "apython"
    assert stat.S_IMODE(os.lstat(d).st_mode) == 0o700
    assert os.listdir(d) == [str(p.pid)]
    assert stat.S_IMODE(os.lstat(d / str(p.pid)).st_mode) == 0o600
    p.end()
    assert os.listdir(d) == []


@pytest.mark.parametrize("args, error", [
    (["--attach", "abc"], "argument --attach: 'abc' is not a process id"),
    (["--ps", "0"], "argument --ps: '0' is not a process id"),
    (["--attach", "1", "-c", "pass"], "argument --attach: not allowed with "
     "--serve, --connect, --banner, --locals, -c, -m or FILE"),
    (["--name", "x"], "argument --name: only with --ps"),
])
def test_attach_usage_errors(env, args, error):
    cp = attacher(args, env)
    assert cp.returncode == 2
    assert cp.stderr.endswith(("apython: error: %s\n" % error).encode())


def test_program_that_ends_ends_the_attached_console_with_0(detached, attach,
                                                          env, runtime):
    flag = runtime / "go"
    p = detached("import asyncio, os\n"
                 "async def main():\n"
                 "    print('up', flush=True)\n"
                 "    while not os.path.exists(%r):\n"
                 "        await asyncio.sleep(0.05)\n"
                 "asyncio.run(main())\n"
                 "print('done', flush=True)\n" % str(flag))
    assert p.line() == "up\n"
    cp = attacher(["--ps", p.pid], env)
    assert cp.returncode == 0, cp.stderr
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.sendline("open(%r, 'w').close()" % str(flag))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    assert p.line() == "done\n"
    assert p.popen.wait(TIMEOUT) == 0
    assert os.listdir(runtime / "apython") == []


def test_attach_completes_the_programs_names_with_tab(detached, attach):
    p, port = start_echo(detached)
    child = attach(p.pid)
    child.expect_exact(">>> ")
    child.send("greet\t")
    child.expect_exact("greeting")
    child.send("\r")
    child.expect_exact("'hello from main'\r\n>>> ")
