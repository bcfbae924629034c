"""The console inside a target program's event loop: it runs on the program's
loop, the loop is apython's native type, the program keeps serving while the
console awaits, output stays apart, and one console per process."""

import re
import socket

import pytest

from conftest import PROGRAMS, REPO

FOREVER = PROGRAMS / "forever.py"
EXAMPLE_ECHO = REPO / "examples" / "echo.py"


def test_console_runs_on_the_programs_loop(run):
    cp = run(["--banner=test", FOREVER],
             input=b"import __main__\n"
                   b"loop is __main__.LOOP\n"
                   b"asyncio.get_running_loop() is __main__.LOOP\n")
    assert cp.stderr == b"test\n>>> >>> True\n>>> True\n>>> \n"
    assert cp.stdout == b"started\n"
    assert cp.returncode == 0


def test_programs_loop_is_the_native_apython_loop(run):
    cp = run(["--banner=test", FOREVER],
             input=b"type(loop).__name__\ntype(loop).__module__\n"
                   b"import apython; type(loop) is apython.Loop\n")
    assert cp.stderr == b"test\n>>> 'Loop'\n>>> 'apython'\n>>> True\n>>> \n"


def test_loop_takes_arbitrary_attributes(run):
    cp = run(["--banner=test", FOREVER],
             input=b"loop.history = []\nloop.history.append(1)\n"
                   b"loop.history\n")
    assert cp.stderr == b"test\n>>> >>> >>> [1]\n>>> \n"


def test_console_eof_ends_the_program_with_status_0(run):
    # (An stdin that is empty from the start means no console at all:
    # test_detached.py.)
    cp = run(["--banner=test", FOREVER], input=b"6*7\n")
    assert cp.stderr == b"test\n>>> 42\n>>> \n"
    assert cp.stdout == b"started\n"
    assert cp.returncode == 0


def test_console_exit_ends_the_program_with_that_status(run):
    cp = run(["--banner=test", FOREVER], input=b"exit(5)\n")
    assert cp.returncode == 5
    assert cp.stdout == b"started\n"


def test_console_prints_the_default_banner_in_a_program(run, embedded):
    cp = run([FOREVER], input=b"\n")
    assert cp.stderr.startswith(b"Python " + embedded.version.encode()
                                + b" on linux\n")
    assert cp.stderr.endswith(b"---\n>>> >>> \n")


def test_program_output_stays_on_stdout_when_the_console_wakes_it(start):
    p = start(["--banner=test", FOREVER])
    p.expect_stdout(b"started\n")
    p.send(b"import __main__; __main__.FOREVER.set_result(None)\n")
    assert p.wait() == 0
    assert p.stdout == b"started\nafter\n"
    assert p.stderr in (b"test\n>>> ", b"test\n>>> >>> ")


def test_program_ending_on_its_own_ends_the_console_quietly(start, write,
                                                           tmp_path):
    flag = tmp_path / "go"
    prog = write("prog.py", "import asyncio, os\n"
                            "async def main():\n"
                            "    while not os.path.exists(%r):\n"
                            "        await asyncio.sleep(0.05)\n"
                            "asyncio.run(main())\n"
                            "print('bye')\n" % str(flag))
    p = start(["--banner=test", prog])
    # The banner waits for stdin's first byte (test_detached.py).
    p.send(b"1\n")
    p.expect_stderr(b"test\n>>> 1\n>>> ")
    flag.write_text("")
    assert p.wait() == 0
    assert p.stdout == b"bye\n"
    assert p.stderr == b"test\n>>> 1\n>>> "


def echo_programs():
    yield pytest.param([PROGRAMS / "echo.py"], id="tests-echo")
    yield pytest.param(["-m", "examples.echo"], id="examples-echo",
                       marks=pytest.mark.skipif(not EXAMPLE_ECHO.exists(),
                                                reason="no examples/echo.py"))


def echo_once(port, line):
    """Send one line to the echo server; return what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(line)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.parametrize("echo", echo_programs())
def test_echo_server_answers_while_the_console_awaits(start, echo):
    p = start(["--banner=test", *echo, 0], cwd=REPO,
              env={"PYTHONUNBUFFERED": "1"})
    port = int(p.expect_stdout(re.compile(
        rb"The echo service is being served on 127\.0\.0\.1:(\d+)\n"))
        .group(1))
    # A statement that awaits until the echo server has had a line: it
    # ends only if the server answers while the console awaits.
    p.send(b"async def until_echoed():\n"
           b"    while not loop.history:\n"
           b"        await asyncio.sleep(0.01)\n"
           b"    return loop.history\n"
           b"\n")
    p.expect_stderr(b"test\n>>> ... ... ... ... >>> ")
    p.send(b"print('awaiting'); await until_echoed()\n")
    p.expect_stderr(b"awaiting\n")
    assert echo_once(port, b"hello\n") == b"hello\n"
    p.expect_stderr(b"['hello']\n>>> ")
    p.close_stdin()
    assert p.wait() == 0
    assert p.stderr.endswith(b">>> \n")


def start_second_run(p):
    """Drive programs/run_twice.py into its second asyncio.run, after
    setting x = 42 in the console during the first."""
    p.expect_stdout(b"waiting 1\n")
    p.send(b"import __main__\nx = 42\n__main__.DONE.set_result(1)\n")
    p.expect_stdout(b"phase 1 done\nwaiting 2\n")


def test_console_moves_to_the_second_asyncio_run_with_its_namespace(start):
    p = start(["--banner=test", PROGRAMS / "run_twice.py"])
    start_second_run(p)
    p.send(b"x\n")
    p.expect_stderr(b"42\n>>> ")
    p.send(b"import __main__\n"
           b"asyncio.get_running_loop() is __main__.LOOPS[1]\n")
    p.expect_stderr(b"True\n>>> ")
    p.send(b"__main__.DONE.set_result(2)\n")
    assert p.wait() == 0
    assert p.stdout == (b"waiting 1\nphase 1 done\nwaiting 2\n"
                        b"phase 2 done\nfinished\n")
    assert b"Traceback" not in p.stderr
    assert b"Error" not in p.stderr


def test_console_banner_is_printed_once_across_two_asyncio_runs(start):
    p = start(["--banner=test", PROGRAMS / "run_twice.py"])
    start_second_run(p)
    p.send(b"__main__.DONE.set_result(2)\n")
    assert p.wait() == 0
    assert p.stderr.count(b"test") == 1
    assert p.stderr.startswith(b"test\n>>> ")


def test_console_loop_name_follows_the_second_loop(start):
    p = start(["--banner=test", PROGRAMS / "run_twice.py"])
    start_second_run(p)
    p.send(b"loop is __main__.LOOPS[1]\n")
    p.expect_stderr(b"True\n>>> ")
    p.close_stdin()
    assert p.wait() == 0


def test_loop_in_another_thread_gets_no_console(run):
    cp = run([PROGRAMS / "thread_loop.py"], input=b"")
    assert cp.stdout == b"thread done\ndone\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_loop_made_directly_from_apython_loop_gets_the_console(start):
    p = start(["--banner=test", PROGRAMS / "direct_loop.py"])
    p.expect_stdout(b"running\n")
    # The banner waits for stdin's first bytes.
    p.send(b"import __main__; loop is __main__.LOOP\n")
    p.expect_stderr(b"test\n>>> True\n>>> ")
    p.send(b"__main__.DONE.set_result(None)\n")
    assert p.wait() == 0
    assert p.stdout == b"running\ndone\n"
    assert b"Traceback" not in p.stderr
