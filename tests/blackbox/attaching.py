"""Helpers for the --attach and --ps tests: programs started with stdin
/dev/null (detached, no console), each test with a runtime directory of
its own (XDG_RUNTIME_DIR), and what a process holds (/proc)."""

import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

from conftest import SANITIZER_REPORT, TIMEOUT, apython_path, clean_env

# An echo server on 127.0.0.1 (its port on stdout), with globals to read.
ECHO_PROGRAM = """\
import asyncio
greeting = "hello from main"
async def echo(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def _default_sigint():
    """SIGINT as a shell's foreground job has it (a test run in the
    background inherits it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Detached:
    """A program run by apython (or another interpreter) with stdin
    /dev/null, its stdout and stderr read from pipes."""

    def __init__(self, argv, env):
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=env,
                                      preexec_fn=_default_sigint)
        self.pid = self.popen.pid

    def line(self):
        """The next line the program writes on stdout."""
        os.set_blocking(self.popen.stdout.fileno(), True)
        line = self.popen.stdout.readline()
        assert line, "the program ended: %r" % self.popen.stderr.read()
        return line.decode()

    def end(self):
        """Ctrl-C, as under python3; it must die of it or exit 0."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
                raise AssertionError("%s did not end on SIGINT"
                                     % self.popen.args)
        err = self.popen.stderr.read()
        assert not SANITIZER_REPORT.search(err), err.decode(errors="replace")
        return self.popen.returncode


@pytest.fixture
def runtime():
    """The test's own XDG_RUNTIME_DIR (apython makes apython/ in it),
    short enough for the sockets' paths."""
    d = tempfile.mkdtemp(prefix="apython-run.", dir="/tmp")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def env(runtime):
    """The environment of the programs and of the attacher."""
    return clean_env({"XDG_RUNTIME_DIR": runtime})


@pytest.fixture
def detached(tmp_path, env):
    """detached(text, args=(), env=None, interpreter=None) -> Detached:
    the program `text` run with stdin /dev/null; ended at the end."""
    started = []

    def _detached(text, args=(), extra=None, interpreter=None):
        prog = tmp_path / ("prog%d.py" % len(started))
        prog.write_text(text)
        e = dict(env, **(extra or {}))
        argv = [interpreter or apython_path(), *args, str(prog)]
        p = Detached(argv, e)
        started.append(p)
        return p

    yield _detached
    for p in started:
        p.end()


def attacher(args, env, **kw):
    """Run `apython ARGS` without a terminal; the CompletedProcess."""
    if "input" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    return subprocess.run([apython_path(), *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, timeout=TIMEOUT, **kw)


@pytest.fixture
def attach(env, tmp_path):
    """attach(pid, args=()) -> pexpect child running `apython --attach PID`
    on a pty. One the test leaves running is ended by Ctrl-D and must
    exit 0."""
    children = []

    def _attach(pid, args=()):
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        e = dict(env, HOME=str(home), TERM="xterm")
        child = pexpect.spawn(apython_path(), [*args, "--attach", str(pid)],
                              env=e, timeout=TIMEOUT, dimensions=(24, 200))
        child.logfile_read = io.BytesIO()
        children.append(child)
        return child

    yield _attach
    for child in children:
        if getattr(child, "ended_by_test", False):
            child.close()
            continue
        if child.isalive():
            child.sendeof()
            child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.logfile_read.getvalue()
        assert not SANITIZER_REPORT.search(child.logfile_read.getvalue())


def socket_inodes(pid):
    """The inodes of the sockets process pid holds."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(int(m.group(1)))
    return inodes


def listening(pid):
    """What process pid listens on: ('unix', path) and ('tcp', port)."""
    mine = socket_inodes(pid)
    found = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            flags, inode = int(fields[3], 16), int(fields[6])
            if inode in mine and flags & 0x10000:	# __SO_ACCEPTCON
                found.add(("unix", fields[7] if len(fields) > 7 else ""))
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                fields = line.split()
                if int(fields[9]) in mine and fields[3] == "0A":  # LISTEN
                    found.add(("tcp", int(fields[1].rsplit(":", 1)[1], 16)))
    return found


def fds(pid):
    """Process pid's open descriptors: {fd: what it is}."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return out


def wait_for(check, what):
    """Wait until check() is true (fail after TIMEOUT)."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def dead_pid():
    """A pid no process has now (one that just ended)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid
