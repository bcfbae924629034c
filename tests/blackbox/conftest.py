"""Shared helpers for apython's black-box tests.

Every test runs the built binary (APYTHON, default: the repository's ./apython)
with a clean environment: the caller's PYTHON* variables and VIRTUAL_ENV are
dropped, PYTHONDONTWRITEBYTECODE=1 is set, HOME is a directory of the test's
own, INPUTRC is /dev/null and TERM is dumb (see clean_env).  Tests on a
terminal use the `terminal` and `shell` fixtures (vt.py).

TIMEOUT and REPO are defined here only; test files and helper modules
import them (`from conftest import REPO, TIMEOUT`).  Every test is failed
after TEST_TIMEOUT seconds in each of its phases, so that a hung server
cannot hang the run.
"""

import ast
import atexit
import errno
import faulthandler
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from vt import Term

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROGRAMS = HERE / "programs"
SYSTEM_PYTHON = "/usr/bin/python3"
# Seconds a test waits for one thing (an answer, an exit).  A sanitizer
# build is several times slower: tests/run sets ASAN_OPTIONS for it.
# APYTHON_TEST_TIMEOUT=SECONDS overrides.
TIMEOUT = int(os.environ.get("APYTHON_TEST_TIMEOUT") or
              (30 if "ASAN_OPTIONS" in os.environ else 10))
# Seconds a long program (a stress test) may run.
LONG_TIMEOUT = 12 * TIMEOUT
# Seconds each phase of a test (set-up, call, tear-down) may take.
TEST_TIMEOUT = 18 * TIMEOUT


def apython_path():
    """Path of the binary under test."""
    return os.environ.get("APYTHON") or str(REPO / "apython")


# The HOME of the test running (set by the autouse fixture own_home).
_home = None


def clean_env(extra=None):
    """os.environ without PYTHON* and VIRTUAL_ENV, plus PYTHONDONTWRITEBYTECODE=1,
    nothing of the caller's terminal set-up (HOME is the test's own empty
    directory, INPUTRC /dev/null, TERM dumb, no COLUMNS or LINES), then
    `extra` on top (a value of None removes the variable).
    PYTHONMALLOC stays: the sanitizer run sets it for the allocator."""
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith("PYTHON") or k == "PYTHONMALLOC")
           and k not in ("VIRTUAL_ENV", "COLUMNS", "LINES")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["HOME"] = str(_home or _session_home())
    env["INPUTRC"] = "/dev/null"
    env["TERM"] = "dumb"
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


_session_home_dir = None


def _session_home():
    """A HOME for what runs outside a test (session fixtures)."""
    global _session_home_dir
    if _session_home_dir is None:
        _session_home_dir = tempfile.mkdtemp(prefix="apython-tests-home.")
        atexit.register(shutil.rmtree, _session_home_dir, True)
    return _session_home_dir


def _port_range():
    """The ports to pick from: below the kernel's ephemeral range (what it
    hands out for port 0 and for outgoing connections), or above it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = map(int, f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low - 10000 >= 5000:
        return 10000, low
    return high + 1, 65536


def _bindable(family, host, port):
    """Whether host:port can be bound now (True when the host has no
    IPv6 and host is an IPv6 address: only IPv4 matters then)."""
    try:
        with socket.socket(family) as s:
            s.bind((host, port))
    except OSError as e:
        return family == socket.AF_INET6 and e.errno in (
            errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL)
    return True


def free_port():
    """A TCP port free on 127.0.0.1 and ::1 a moment ago.  It is drawn at
    random outside the kernel's ephemeral range, so that nothing but
    another caller of free_port() can take it before the test binds it.
    Where a server can pick its own port (port 0) and say which, prefer
    that."""
    low, high = _port_range()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(low, high)
        if (_bindable(socket.AF_INET, "127.0.0.1", port) and
                _bindable(socket.AF_INET6, "::1", port)):
            return port
    raise AssertionError("no free TCP port found in %d-%d" % (low, high))


class Trigger:
    """A socket on 127.0.0.1 that a program under test connects to
    (`await asyncio.open_connection('127.0.0.1', trigger.port)`) to be told
    when to go on: fire() sends it a line, reply() reads one it sends.
    Lets a test order what the program does after what the test saw,
    instead of sleeping."""

    def __init__(self, timeout=TIMEOUT):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(timeout)
        self.port = self.sock.getsockname()[1]
        self.conn = self.file = None

    def _accept(self):
        if self.conn is None:
            self.conn = self.sock.accept()[0]
            self.conn.settimeout(self.sock.gettimeout())
            self.file = self.conn.makefile("rb")

    def fire(self, line="go"):
        self._accept()
        self.conn.sendall(line.encode() + b"\n")

    def reply(self):
        """The next line the program sent (without its newline)."""
        self._accept()
        line = self.file.readline()
        assert line.endswith(b"\n"), "the program closed the trigger"
        return line[:-1].decode()

    def close(self):
        for s in (self.file, self.conn, self.sock):
            if s is not None:
                s.close()


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory):
    """Each test's HOME: an empty directory of its own."""
    global _home
    _home = tmp_path_factory.mktemp("home")
    yield _home
    _home = None


def _too_long(signum, frame):
    pytest.fail("still running after %d s, 18 times TIMEOUT "
                "(APYTHON_TEST_TIMEOUT sets TIMEOUT)" % TEST_TIMEOUT)


def _time_limited():
    """Fail the running phase of a test after TEST_TIMEOUT seconds; if even
    that is stuck (in C code that never returns), dump every thread's
    stack and exit a minute later."""
    old = signal.signal(signal.SIGALRM, _too_long)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    faulthandler.dump_traceback_later(TEST_TIMEOUT + 60, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _time_limited()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _time_limited()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _time_limited()


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


SANITIZER_REPORT = re.compile(
    rb"ERROR: \w+Sanitizer|SUMMARY: \w+Sanitizer|runtime error: ")
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
                 signal.SIGILL)


def end_all_started(procs):
    """end_started on each (Proc, steps); then fail with what was wrong,
    so that one bad process does not leave the others running."""
    errors = []
    for p, steps in procs:
        try:
            end_started(p, steps)
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


# How a process a test leaves running is ended, step by step, as its user
# would: a local console by EOF on its stdin (then Ctrl-C); a served one by
# SIGTERM, as a service manager does (serving alone, apython then exits 0
# through its exit path; Ctrl-C can be taken by a session, see the xfail
# in test_serve.py); python3, which has no console, by Ctrl-C.
LOCAL_CONSOLE_END = ("EOF", signal.SIGINT)
SERVED_END = (signal.SIGTERM,)
PYTHON3_END = (signal.SIGINT,)


def end_started(p, steps):
    """End a process a test left running (see LOCAL_CONSOLE_END) and
    check how it ended. The exit path then runs, LeakSanitizer's check
    too: the console or server alone exits 0, a program dies of the
    signal as under python3 (the one way LeakSanitizer does not check).
    Only when that does not end it in time is it killed, and that fails
    the test. A test that reaped the process checked its status; every
    process is checked for sanitizer reports and for a crash."""
    reaped = p.popen.returncode is not None
    rc = p.popen.poll()
    if rc is None:
        for step in steps:
            if step == "EOF":
                try:
                    p.close_stdin()
                except BrokenPipeError:
                    pass
            else:
                p.popen.send_signal(step)
            try:
                rc = p.popen.wait(TIMEOUT)
                break
            except subprocess.TimeoutExpired:
                pass
        else:
            p.kill()
            raise AssertionError("%s still running after %s: killed\n"
                                 "stdout: %r\nstderr: %r"
                                 % (p.popen.args, steps, p.stdout,
                                    p.stderr))
        allowed = (0,) if step == "EOF" else (0, -step)
    else:
        allowed = None
    for t in p.threads:
        t.join(TIMEOUT)
    report = SANITIZER_REPORT.search(p.stderr)
    assert report is None, "sanitizer report from %s:\n%s" % (
        p.popen.args, p.stderr[report.start():].decode(errors="replace"))
    assert -rc not in CRASH_SIGNALS, "%s crashed (status %d)\nstderr: %r" % (
        p.popen.args, rc, p.stderr)
    if allowed is not None and not reaped:
        assert rc in allowed, "%s ended with status %d\nstderr: %r" % (
            p.popen.args, rc, p.stderr)


@pytest.fixture
def start(apython):
    """start(args, env=None, cwd=None) -> Proc running apython; ended at
    the end of the test as its user would (see end_started)."""
    procs = []

    def _start(args, env=None, cwd=None):
        args = [str(a) for a in args]
        p = Proc([apython, *args], env=env, cwd=cwd)
        served = "--serve" in args or "-s" in args or any(
            a.startswith("--serve=") for a in args)
        procs.append((p, SERVED_END if served else LOCAL_CONSOLE_END))
        return p

    yield _start
    end_all_started(procs)


@pytest.fixture
def start_python():
    """Same as `start`, with the system python3 instead of apython."""
    procs = []

    def _start(args, env=None, cwd=None):
        p = Proc([SYSTEM_PYTHON, *map(str, args)], env=env, cwd=cwd)
        procs.append((p, PYTHON3_END))
        return p

    yield _start
    end_all_started(procs)


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


# What apython says when stdin is empty and so gives no console.
NO_CONSOLE = (b"apython: stdin is not a terminal and is empty: no console "
              b"(--serve [HOST:]PORT|PATH serves one)\n")


@pytest.fixture(scope="session")
def same_python(embedded):
    """same_python(prog) -> CompletedProcess of prog run by the python3
    apython stands in for (the same version), stdin empty, given
    LONG_TIMEOUT seconds."""
    def _run(prog):
        return subprocess.run([embedded.executable, str(prog)],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=clean_env(), timeout=LONG_TIMEOUT)
    return _run


@pytest.fixture
def same_output(same_python):
    """same_output(prog, timeout=TIMEOUT) -> prog's stdout under apython,
    after checking that it wrote nothing on stderr, exited 0 and printed
    exactly what the python3 apython stands in for prints."""
    def _check(prog, timeout=TIMEOUT):
        cp = run([prog], timeout=timeout)
        # A program that runs a loop is told that stdin gives no console.
        assert cp.stderr in (b"", NO_CONSOLE)
        assert cp.returncode == 0
        assert cp.stdout == same_python(prog).stdout
        return cp.stdout
    return _check


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


@pytest.fixture
def trigger():
    """A Trigger: a socket the program under test connects to, to be told
    when to go on."""
    t = Trigger()
    yield t
    t.close()


@pytest.fixture
def term_env(clean_env, tmp_path):
    """The environment of a terminal test: HOME is tmp_path/home, the
    history file tmp_path/history, a PAGER that would announce itself."""
    home = tmp_path / "home"
    home.mkdir()
    return clean_env({"HOME": home, "APYTHON_HISTORY": tmp_path / "history",
                      "PAGER": "echo PAGER-WAS-USED", "MANPAGER": None})


@pytest.fixture
def pty(term_env):
    """pty(argv, term, env=None, cwd=None) -> vt.Term running argv on a pty
    with TERM=term, env on top of term_env (None removes); ended at the
    end of the test as its user would (see end_terminal)."""
    terms = []

    def _start(argv, term, env=None, cwd=None):
        env = {k: str(v) for k, v in {**term_env, "TERM": term,
                                      **(env or {})}.items()
               if v is not None}
        t = Term([str(a) for a in argv], env, TIMEOUT, cwd=cwd)
        terms.append(t)
        return t

    yield _start
    errors = []
    for t in terms:
        try:
            end_terminal(t)
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


def end_terminal(t):
    """End a program a test left running on a terminal as its user would:
    Ctrl-C first unless the console waits at an empty prompt (a statement
    may be running, a line half typed), then Ctrl-D at the prompt; once
    more from Ctrl-C if it goes on (Ctrl-C ends a program without a
    console). Only when that does not end it in time is it killed, and
    that fails the test. Whoever ended it, what it wrote is searched for
    sanitizer reports and its end for a crash."""
    for attempt in range(2):
        if t.exited(0):
            break
        if attempt or not t.at_prompt():
            n = len(t.log.getvalue())
            t.interrupt()
            if t.exited(TIMEOUT, until=lambda: t.at_prompt(after=n)):
                break
        t.eof()
        if t.exited(TIMEOUT):
            break
    else:
        t.kill()
        raise AssertionError(
            "%s still running after Ctrl-C and Ctrl-D: killed\nscreen:\n%s"
            % (t.child.args, "\n".join(t.screen())))
    log = t.log.getvalue()
    report = SANITIZER_REPORT.search(log)
    assert report is None, "sanitizer report from %s:\n%s" % (
        t.child.args, log[report.start():].decode(errors="replace"))
    assert t.child.signalstatus not in CRASH_SIGNALS, (
        "%s crashed (signal %d)\nscreen:\n%s"
        % (t.child.args, t.child.signalstatus, "\n".join(t.screen())))


@pytest.fixture
def terminal(apython, pty):
    """terminal(args, cwd=None, term='dumb', env=None) -> vt.Term running
    apython with `args` on a pty."""
    def _start(args, cwd=None, term="dumb", env=None):
        return pty([apython, *args], term, env, cwd)
    return _start


@pytest.fixture
def shell(apython, pty):
    """shell(script, term='xterm', env=None) -> vt.Term running
    `sh -c script` on a pty in the repository, with $APYTHON set."""
    def _start(script, term="xterm", env=None):
        return pty(["/bin/sh", "-c", script], term,
                   dict(env or {}, APYTHON=apython), REPO)
    return _start
