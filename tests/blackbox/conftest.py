"""Shared helpers for apython's black-box tests.

Every test runs the built binary (APYTHON, default: the repository's ./apython)
with a clean environment: the caller's PYTHON* variables and VIRTUAL_ENV are
dropped, PYTHONDONTWRITEBYTECODE=1 is set.  Nothing here needs a terminal;
tests that do use pexpect themselves.
"""

import ast
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROGRAMS = HERE / "programs"
SYSTEM_PYTHON = "/usr/bin/python3"
TIMEOUT = 10


def apython_path():
    """Path of the binary under test."""
    return os.environ.get("APYTHON") or str(REPO / "apython")


def clean_env(extra=None):
    """os.environ without PYTHON* and VIRTUAL_ENV, plus PYTHONDONTWRITEBYTECODE=1,
    then `extra` on top (a value of None removes the variable).
    PYTHONMALLOC stays: the sanitizer run sets it for the allocator."""
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith("PYTHON") or k == "PYTHONMALLOC")
           and k != "VIRTUAL_ENV"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def run(args, input=b"", env=None, cwd=None, timeout=TIMEOUT):
    """Run apython with `args` and `input` on a pipe; return the CompletedProcess
    (stdout and stderr as bytes)."""
    return subprocess.run([apython_path(), *map(str, args)], input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env(env), cwd=cwd, timeout=timeout)


def run_python(args, input=b"", env=None, cwd=None, timeout=TIMEOUT):
    """Run the system python3 the same way, for side-by-side comparisons."""
    return subprocess.run([SYSTEM_PYTHON, *map(str, args)], input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env(env), cwd=cwd, timeout=timeout)


class Proc:
    """A running process with stdin on a pipe and stdout/stderr collected by
    reader threads, so a test can wait for output on either stream."""

    def __init__(self, argv, env=None, cwd=None):
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE,
                                      env=clean_env(env), cwd=cwd)
        self.out = {"stdout": b"", "stderr": b""}
        self.pos = {"stdout": 0, "stderr": 0}
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._reader, args=(name,),
                                         daemon=True)
                        for name in ("stdout", "stderr")]
        for t in self.threads:
            t.start()

    def _reader(self, name):
        stream = getattr(self.popen, name)
        while True:
            chunk = os.read(stream.fileno(), 65536)
            with self.cond:
                if not chunk:
                    self.out[name + "_eof"] = True
                    self.cond.notify_all()
                    return
                self.out[name] += chunk
                self.cond.notify_all()

    @property
    def stdout(self):
        with self.cond:
            return self.out["stdout"]

    @property
    def stderr(self):
        with self.cond:
            return self.out["stderr"]

    def expect(self, name, pattern, timeout=TIMEOUT):
        """Wait until `pattern` (bytes, or a compiled bytes regex) appears on
        stream `name` after the previous match there; return the match."""
        if isinstance(pattern, bytes):
            pattern = re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = pattern.search(self.out[name], self.pos[name])
                if m:
                    self.pos[name] = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.out.get(name + "_eof"):
                    raise AssertionError(
                        "timed out waiting for %r on %s\nstdout: %r\nstderr: %r"
                        % (pattern.pattern, name, self.out["stdout"],
                           self.out["stderr"]))
                self.cond.wait(left)

    def expect_stdout(self, pattern, timeout=TIMEOUT):
        return self.expect("stdout", pattern, timeout)

    def expect_stderr(self, pattern, timeout=TIMEOUT):
        return self.expect("stderr", pattern, timeout)

    def send(self, data):
        self.popen.stdin.write(data)
        self.popen.stdin.flush()

    def close_stdin(self):
        self.popen.stdin.close()

    def wait(self, timeout=TIMEOUT):
        """Wait for the exit and for both streams' EOF; return the status."""
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                "still running after %s s\nstdout: %r\nstderr: %r"
                % (timeout, self.stdout, self.stderr)) from None
        for t in self.threads:
            t.join(timeout)
        return rc

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def apython():
    path = apython_path()
    if not os.access(path, os.X_OK):
        pytest.fail("no apython binary at %s (run make)" % path)
    return path


@pytest.fixture(name="run")
def run_fixture(apython):
    """The `run` helper as a fixture (tests do not import conftest)."""
    return run


@pytest.fixture(name="run_python")
def run_python_fixture():
    """The `run_python` helper as a fixture."""
    return run_python


@pytest.fixture(name="clean_env")
def clean_env_fixture():
    """clean_env(extra=None) -> the environment every test runs with."""
    return clean_env


@pytest.fixture(name="free_port")
def free_port_fixture():
    """free_port() -> a TCP port that was free a moment ago."""
    return free_port


@pytest.fixture
def start(apython):
    """start(args, env=None, cwd=None) -> Proc running apython; killed at the end."""
    procs = []

    def _start(args, env=None, cwd=None):
        p = Proc([apython, *map(str, args)], env=env, cwd=cwd)
        procs.append(p)
        return p

    yield _start
    for p in procs:
        p.kill()


@pytest.fixture
def start_python():
    """Same as `start`, with the system python3 instead of apython."""
    procs = []

    def _start(args, env=None, cwd=None):
        p = Proc([SYSTEM_PYTHON, *map(str, args)], env=env, cwd=cwd)
        procs.append(p)
        return p

    yield _start
    for p in procs:
        p.kill()


@pytest.fixture(scope="session")
def embedded(apython, tmp_path_factory):
    """sys.version, sys.version_info[:2] and sys.executable (the python3
    it stands in for) of the interpreter inside apython, asked by a program
    run under it."""
    prog = tmp_path_factory.mktemp("embedded") / "version.py"
    prog.write_text("import sys\nprint(repr(sys.version))\n"
                    "print(tuple(sys.version_info[:2]))\n"
                    "print(repr(sys.executable))\n")
    cp = run([prog])
    m = re.match(rb"(.*)\n(.*)\n(.*)\n\Z", cp.stdout)
    if cp.returncode != 0 or not m:
        pytest.fail("cannot ask apython for its Python version: status %r, "
                    "stdout %r, stderr %r"
                    % (cp.returncode, cp.stdout, cp.stderr))

    class Embedded:
        version = ast.literal_eval(m.group(1).decode())
        version_info = ast.literal_eval(m.group(2).decode())
        executable = ast.literal_eval(m.group(3).decode())
    return Embedded


@pytest.fixture(scope="session")
def same_as_system_python(embedded):
    """True when apython embeds the same minor version as /usr/bin/python3,
    so their behaviour can be compared byte for byte."""
    cp = subprocess.run([SYSTEM_PYTHON, "-c",
                         "import sys; print(tuple(sys.version_info[:2]))"],
                        stdout=subprocess.PIPE, env=clean_env())
    return ast.literal_eval(cp.stdout.decode()) == embedded.version_info


@pytest.fixture
def write(tmp_path):
    """write(relpath, text) -> absolute Path of a new file under tmp_path."""
    def _write(rel, text):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path
    return _write
