"""Detached runs (behaviour.md, "Command line"): stdin not a terminal that
ends before its first byte (/dev/null, nohup, an empty pipe, a service)
means no console at all: the program runs as under python3, byte for byte
on stdout and with its exit status, and one line on stderr says so when
a console would have come up (the program runs a loop). A stdin with
content is console input, as before; the banner waits for its first
byte."""

import subprocess

import pytest

from conftest import NO_CONSOLE, SYSTEM_PYTHON, TIMEOUT, clean_env
from serving import Client, SERVED


# Prints, writes to stderr before its loop, runs a loop (its tasks are its
# own: the console's is gone), exits with 3.
LOOP_PROGRAM = """\
import asyncio, sys
print("before", flush=True)
sys.stderr.write("to stderr\\n")
async def main():
    for i in range(3):
        await asyncio.sleep(0.01)
        print("tick", i)
    print("tasks", len(asyncio.all_tasks()))
    return 3
sys.exit(asyncio.run(main()))
"""

NO_LOOP_PROGRAM = """\
import sys
print("no loop")
sys.stderr.write("to stderr\\n")
sys.exit(3)
"""


@pytest.fixture
def program(tmp_path):
    def _program(text):
        path = tmp_path / "prog.py"
        path.write_text(text)
        return path
    return _program


def both(argv_of, **kw):
    """Run argv_of(interpreter) for apython and python3 the same way;
    return both CompletedProcesses."""
    from conftest import apython_path
    return [subprocess.run(argv_of(exe), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=clean_env(),
                           timeout=TIMEOUT, **kw)
            for exe in (apython_path(), SYSTEM_PYTHON)]


def test_devnull_stdin_runs_the_program_as_python3_with_one_line(program):
    prog = program(LOOP_PROGRAM)
    ours, py3 = both(lambda exe: [exe, str(prog)],
                     stdin=subprocess.DEVNULL)
    assert py3.stdout == b"before\ntick 0\ntick 1\ntick 2\ntasks 1\n"
    assert (ours.stdout, ours.returncode) == (py3.stdout, 3)
    assert ours.stderr == py3.stderr + NO_CONSOLE


def test_empty_pipe_runs_the_program_as_python3_with_one_line(program):
    prog = program(LOOP_PROGRAM)
    ours, py3 = both(lambda exe: "true | '%s' '%s'" % (exe, prog),
                     shell=True)
    assert (ours.stdout, ours.returncode) == (py3.stdout, 3)
    assert ours.stderr == py3.stderr + NO_CONSOLE


def test_nohup_run_is_as_python3s_with_one_line(program, tmp_path):
    prog = program(LOOP_PROGRAM)
    ours, py3 = both(lambda exe: ["nohup", exe, str(prog)],
                     stdin=subprocess.DEVNULL, start_new_session=True)
    assert (ours.stdout, ours.returncode) == (py3.stdout, 3)
    assert ours.stderr == py3.stderr + NO_CONSOLE


def test_program_without_a_loop_writes_exactly_what_python3_writes(
        program):
    prog = program(NO_LOOP_PROGRAM)
    ours, py3 = both(lambda exe: [exe, str(prog)],
                     stdin=subprocess.DEVNULL)
    assert (ours.stdout, ours.stderr, ours.returncode) == (
        py3.stdout, py3.stderr, 3)


def test_no_program_and_empty_stdin_is_the_console_ending_at_once(run):
    # Without a program the console is what runs: as before.
    cp = run(["--banner=test"], input=b"")
    assert (cp.stdout, cp.stderr, cp.returncode) == (b"", b"test\n>>> \n", 0)


def test_stdin_with_content_is_console_input_and_its_end_ends_it(
        run, program, tmp_path):
    prog = program("import asyncio\n"
                   "asyncio.run(asyncio.sleep(%d))\n" % (4 * TIMEOUT))
    cp = run(["--banner=test", prog], input=b"1+1\n")
    assert (cp.stdout, cp.stderr, cp.returncode) == (
        b"", b"test\n>>> 2\n>>> \n", 0)


def test_banner_waits_for_the_first_byte_of_stdin(start, tmp_path):
    flag = tmp_path / "go"
    prog = tmp_path / "prog.py"
    prog.write_text("import asyncio, os\n"
                    "async def main():\n"
                    "    await asyncio.sleep(0.2)\n"
                    "    print('ran a while', flush=True)\n"
                    "    while not os.path.exists(%r):\n"
                    "        await asyncio.sleep(0.05)\n"
                    "asyncio.run(main())\n" % str(flag))
    proc = start(["--banner=test", prog])
    proc.expect_stdout(b"ran a while\n")
    assert proc.stderr == b""
    proc.send(b"1+1\n")
    proc.expect_stderr(b"test\n>>> 2\n>>> ")
    proc.close_stdin()
    assert proc.wait() == 0
    assert proc.stderr == b"test\n>>> 2\n>>> \n"


def test_served_console_with_devnull_stdin_works_and_says_nothing(tmp_path):
    from conftest import apython_path
    flag = tmp_path / "go"
    prog = tmp_path / "prog.py"
    prog.write_text("import asyncio, os\n"
                    "async def main():\n"
                    "    while not os.path.exists(%r):\n"
                    "        await asyncio.sleep(0.05)\n"
                    "asyncio.run(main())\n" % str(flag))
    p = subprocess.Popen([apython_path(), "--banner=test", "--serve", ":0",
                          str(prog)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=clean_env())
    try:
        address = SERVED.match(p.stdout.readline()).group(1).decode()
        c = Client(address)
        assert c.until(b">>> ") == b"test\n>>> "
        assert c.run(b"6*7") == b"42\n>>> "
        c.close()
        flag.write_text("")
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert (out, err, p.returncode) == (b"", b"", 0)


# A loop of the program's own class that has no readers (asyncio's
# BaseEventLoop leaves add_reader unimplemented), as test harnesses make.
READERLESS_LOOP_PROGRAM = """\
import asyncio, selectors
class Loop(asyncio.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._selector = selectors.DefaultSelector()
    def _process_events(self, events):
        pass
    def _write_to_self(self):
        pass
loop = Loop()
loop.run_until_complete(asyncio.sleep(0.05))
loop.close()
print("done")
"""


def test_loop_without_readers_gets_no_traceback_with_an_empty_stdin(program):
    prog = program(READERLESS_LOOP_PROGRAM)
    ours, python3 = both(lambda exe: [exe, str(prog)],
                         stdin=subprocess.DEVNULL)
    assert ours.returncode == python3.returncode == 0
    assert ours.stdout == python3.stdout == b"done\n"
    assert ours.stderr == NO_CONSOLE


# python3 imports pydoc only when something asks for help: a program's
# loop under apython must not pay for importing it either (it showed in
# --ps as a slow start-up callback of every program).
PYDOC_PROGRAM = """\
import asyncio, sys
async def main():
    for i in range(5):
        await asyncio.sleep(0.01)
    print("pydoc" in sys.modules)
asyncio.run(main())
"""


def test_a_program_gets_no_pydoc_import_it_did_not_ask_for(program):
    prog = program(PYDOC_PROGRAM)
    ours, py3 = both(lambda exe: [exe, str(prog)],
                     stdin=subprocess.DEVNULL)
    assert py3.stdout == b"False\n"
    assert (ours.stdout, ours.returncode) == (py3.stdout, 0)
