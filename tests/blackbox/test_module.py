"""`import apython` under a plain python3: the extension module that
`make module` builds beside the binary (apython$(EXT_SUFFIX)), imported
by the interpreter apython was built with (not necessarily
/usr/bin/python3), with PYTHONPATH at it. install(), loop_factory,
asyncio.Runner, a console served from program code (answered by a plain
client and by `apython --connect`, a client's Ctrl-C included), ainput()
reading stdin, and what a second import or a subinterpreter gets."""

import re
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import (Proc, TIMEOUT, apython_path, clean_env,
                      end_all_started, run)
from serving import Client
from test_build import defined_dynamic_symbols, links_libpython_so
from test_connect import connect
from test_served_interrupt import INTERRUPTED, SPIN

# The fixture, used by name.
assert connect


@pytest.fixture(scope="session")
def module(embedded):
    """The embedded interpreter's executable and the directory holding
    the extension module built for it; skipped when there is none."""
    build = Path(apython_path()).resolve().parent
    cp = subprocess.run([embedded.executable, "-c",
                         "import sysconfig\n"
                         "print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                        stdout=subprocess.PIPE, env=clean_env(), check=True)
    path = build / ("apython" + cp.stdout.decode().strip())
    if not path.exists():
        pytest.skip("no extension module %s: `make module` builds it"
                    % path.name)
    config = build / "config.mk"
    if config.exists() and re.search(r"(?m)^SANITIZE = \S",
                                     config.read_text()):
        pytest.skip("a sanitizer build's module cannot be loaded by a "
                    "python3 built without the sanitizers")

    class Module:
        file = path
        python = embedded.executable
        version_info = embedded.version_info
        # Every symbol bound at load: one missing fails the import.
        env = {"PYTHONPATH": str(build), "LD_BIND_NOW": "1"}
    return Module


def run_module(module, source, input=b"", stdin=None):
    """Run source under the plain python3 with the module importable;
    the CompletedProcess."""
    return subprocess.run([module.python, "-c", textwrap.dedent(source)],
                          input=None if stdin else input, stdin=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env(module.env), timeout=TIMEOUT * 3)


@pytest.fixture
def start_module(module):
    """start_module(source) -> Proc of the plain python3 running source,
    ended by SIGINT as python3 is."""
    procs = []

    def _start(source):
        p = Proc([module.python, "-c", textwrap.dedent(source)],
                 env=module.env)
        procs.append((p, (signal.SIGINT,)))
        return p

    yield _start
    end_all_started(procs)


# Real I/O on whatever loop asyncio.run() makes: a TCP echo, a
# subprocess, call_later.
IO_MAIN = """\
import asyncio, sys
import apython

async def echo(reader, writer):
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()

async def main():
    loop = asyncio.get_running_loop()
    print(type(loop))
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\\n")
    print("echo", await reader.readline())
    writer.close()
    server.close()
    await server.wait_closed()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print(6 * 7)",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    print("subprocess", out, proc.returncode)
    later = loop.create_future()
    loop.call_later(0.01, later.set_result, 3)
    print("call_later", await later)
"""
IO_OUT = (b"<class 'apython.Loop'>\necho b'ping\\n'\n"
          b"subprocess b'42\\n' 0\ncall_later 3\n")


def test_install_makes_asyncio_run_use_apython_loop(module):
    cp = run_module(module, IO_MAIN + "apython.install()\n"
                    "asyncio.run(main())\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (IO_OUT, b"", 0)


def test_import_alone_leaves_asyncio_default_loop(module):
    cp = run_module(module, """\
        import asyncio, apython
        loop = asyncio.new_event_loop()
        print(type(loop).__module__, isinstance(loop, apython.Loop))
        loop.close()
        """)
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"asyncio.unix_events False\n", b"", 0)


def test_asyncio_run_with_loop_factory(module):
    if module.version_info < (3, 12):
        pytest.skip("asyncio.run(loop_factory=) is 3.12's")
    cp = run_module(module, IO_MAIN + "asyncio.run(main(), "
                    "loop_factory=apython.new_event_loop)\n"
                    "print(type(asyncio.get_event_loop_policy()).__module__)\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        IO_OUT + b"asyncio.unix_events\n", b"", 0)


def test_asyncio_runner_with_apython_loop(module):
    if module.version_info < (3, 11):
        pytest.skip("asyncio.Runner is 3.11's")
    cp = run_module(module, IO_MAIN + """\
with asyncio.Runner(loop_factory=apython.Loop) as runner:
    runner.run(main())
    print(runner.run(asyncio.sleep(0, "again")),
          type(runner.get_loop()).__name__)
""")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        IO_OUT + b"again Loop\n", b"", 0)


def test_module_has_the_binarys_names(module):
    names = ("import apython\n"
             "print(sorted(n for n in dir(apython) if n[:2] != '__'), "
             "apython.__version__)\n")
    cp = run_module(module, names)
    binary = run(["-c", names])
    assert cp.stdout == binary.stdout
    assert cp.stdout.startswith(
        b"['AsynchronousCli', 'AsynchronousConsole', 'EventLoopPolicy', "
        b"'Loop', 'aeval', 'aexec', 'ainput', 'aprint', "
        b"'get_standard_streams', 'install', 'interact', 'new_event_loop', "
        b"'start_console_server', 'start_interactive_server'] ")
    assert (cp.stderr, cp.returncode) == (b"", 0)


def test_module_links_no_libpython_and_exports_only_its_init(module):
    """The interpreter that imports it gives the C API (a venv's python3
    may be another build of the same version)."""
    assert not links_libpython_so(module.file)
    assert defined_dynamic_symbols(module.file) == {"PyInit_apython"}


SERVED = """\
import apython, asyncio
async def main():
    server = await apython.start_console_server(port=0, banner="mod",
                                                locals={"answer": 42})
    print(server.address, flush=True)
    await asyncio.sleep(3600)
apython.install()
asyncio.run(main())
"""


def served(start_module):
    proc = start_module(SERVED)
    m = proc.expect_stdout(re.compile(rb"\('127\.0\.0\.1', (\d+)\)\n"))
    return proc, "127.0.0.1:%s" % m.group(1).decode()


def test_console_served_from_program_code_answers_a_client(start_module):
    proc, address = served(start_module)
    c = Client(address)
    assert c.until(b">>> ") == b"mod\n>>> "
    assert c.run(b"answer") == b"42\n>>> "
    assert c.run(b"type(asyncio.get_running_loop()).__name__") == (
        b"'Loop'\n>>> ")
    assert c.run(b"await asyncio.sleep(0, 'awaited')") == (
        b"'awaited'\n>>> ")
    c.send(SPIN)
    c.until(b"busy\n")
    c.send(b"\xff\xf4")         # telnet IAC IP: the client's Ctrl-C
    assert c.until(b">>> ") == INTERRUPTED.replace("\r\n", "\n").encode()
    assert c.run(b"6*7") == b"42\n>>> "
    assert proc.popen.poll() is None


def test_console_served_from_program_code_with_apython_connect(
        start_module, connect):
    proc, address = served(start_module)
    child = connect(address)
    child.expect_exact("mod\r\n>>> ")
    child.sendline("await asyncio.sleep(0.1, result=answer)")
    child.expect_exact("42\r\n>>> ")
    # Ctrl-C on a statement holding the loop: the control thread and the
    # real-time signal, without sig/'s interposition.
    child.send(SPIN.decode().replace("\n", "\r"))
    child.expect_exact("busy\r\n")
    child.sendintr()
    child.expect_exact(INTERRUPTED)
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")
    child.sendeof()
    child.expect(__import__("pexpect").EOF)
    child.close()
    assert child.exitstatus == 0
    assert proc.popen.poll() is None


AINPUT = """\
import apython, asyncio
async def main():
    first = await apython.ainput("name? ")
    second = await apython.ainput()
    print(repr(first), repr(second))
    try:
        await apython.ainput("more? ")
    except EOFError:
        print("EOFError")
apython.install()
asyncio.run(main())
"""


def test_ainput_in_program_code_reads_piped_stdin(module):
    cp = run_module(module, AINPUT, input=b"ada\nb\xc3\xa9b\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        "name? 'ada' 'b\xe9b'\nmore? EOFError\n".encode(), b"", 0)


def test_ainput_reads_stdin_from_a_file(module, tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\nlast line without newline")
    with open(path, "rb") as f:
        cp = run_module(module, AINPUT, stdin=f)
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"name? 'one' 'last line without newline'\nmore? EOFError\n", b"", 0)


def test_second_import_and_reload_give_the_same_names(module):
    cp = run_module(module, """\
        import importlib, sys
        import apython as first
        del sys.modules["apython"]
        import apython as second
        print(first is second, first.Loop is second.Loop,
              second.__spec__.name, second.__file__ == first.__file__)
        print(importlib.reload(second).new_event_loop is first.new_event_loop)
        """)
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"False True apython True\nTrue\n", b"", 0)


def test_import_in_a_subinterpreter_is_an_import_error(module):
    cp = run_module(module, """\
        import apython
        try:
            import _testcapi
        except ImportError:
            print("no _testcapi")
        else:
            print(_testcapi.run_in_subinterp("import apython"))
        """)
    if cp.stdout == b"no _testcapi\n":
        pytest.skip("this python3 has no _testcapi")
    assert (cp.stdout, cp.returncode) == (b"-1\n", 0)
    assert cp.stderr.startswith(b"Traceback (most recent call last):\n")
    assert re.search(rb"\nImportError: [^\n]*\bapython\b[^\n]*"
                     rb"(interpreter)[^\n]*\n\Z", cp.stderr), cp.stderr


def test_sigint_is_pythons_keyboardinterrupt(start_module, module):
    """No interposition: SIGINT reaches Python's handler, and asyncio.run()
    ends as on asyncio's own loop."""
    proc = start_module("""\
        import apython, asyncio
        async def main():
            print("ready", flush=True)
            await asyncio.sleep(3600)
        apython.install()
        asyncio.run(main())
        """)
    proc.expect_stdout(b"ready\n")
    proc.popen.send_signal(signal.SIGINT)
    assert proc.wait() == -signal.SIGINT
    assert proc.stderr.endswith(b"\nKeyboardInterrupt\n")


def test_import_outside_the_main_thread_warns_of_the_slower_ctrl_c(module):
    cp = run_module(module, """\
        import threading
        t = threading.Thread(target=__import__, args=("apython",))
        t.start()
        t.join()
        import apython
        print(apython.Loop)
        """)
    assert (cp.stdout, cp.returncode) == (b"<class 'apython.Loop'>\n", 0)
    assert re.fullmatch(rb"[^\n]*: RuntimeWarning: apython: imported outside "
                        rb"the main thread: a served client's Ctrl-C waits "
                        rb"for the loop to turn\n", cp.stderr), cp.stderr
