"""Consoles and console servers let go of what they hold (a session's
namespace is freed when the console ends, as python3 frees __main__'s),
served exit() takes its keyword as site's does, and the console's
coroutine takes throw()'s traceback as a generator does."""

import os

import pexpect

from conftest import PROGRAMS, TIMEOUT
from serving import Client, serve

# An object of the console's namespace that says when it is freed.
FREED = (b"import os\n"
         b"class Noisy:\n"
         b"    def __del__(self):\n"
         b"        os.write(1, b'freed\\n')\n"
         b"\n"
         b"noisy = Noisy()\n")


# The session and its namespace are freed once the console is over.

def test_piped_console_namespace_is_freed_at_exit_as_python3s(run,
                                                               run_python):
    cp = run(["--banner=test"], input=FREED, timeout=TIMEOUT)
    assert cp.stdout == b"freed\n"
    assert cp.returncode == 0
    assert run_python(["-"], input=FREED).stdout == b"freed\n"


def test_console_namespace_is_freed_when_the_program_ends(start, tmp_path):
    prog, flag = tmp_path / "prog.py", tmp_path / "go"
    prog.write_text("import asyncio, os\n"
                    "async def main():\n"
                    "    while not os.path.exists(%r):\n"
                    "        await asyncio.sleep(0.05)\n"
                    "asyncio.run(main())\n"
                    "print('program over', flush=True)\n" % str(flag))
    proc = start(["--banner=test", prog])
    proc.send(FREED)
    proc.expect_stderr(b">>> >>> ... ... ... >>> >>> ", timeout=TIMEOUT)
    flag.write_text("")
    assert proc.wait(TIMEOUT) == 0
    assert proc.stdout == b"program over\nfreed\n"


def test_terminal_console_namespace_is_freed_at_exit(apython, clean_env,
                                                     tmp_path):
    env = clean_env({"HOME": tmp_path, "TERM": "dumb"})
    child = pexpect.spawn(apython, ["--banner=test"], env=env, timeout=TIMEOUT)
    child.expect_exact(">>> ")
    child.sendline("import os")
    child.expect_exact(">>> ")
    child.sendline("class Noisy:")
    child.sendline("    def __del__(self): os.write(1, b'fr' b'eed\\n')")
    child.sendline("")
    child.expect_exact(">>> ")
    child.sendline("noisy = Noisy()")
    child.expect_exact(">>> ")
    child.sendeof()
    child.expect_exact("freed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# exit() and quit() of a served console take code= as site's do.

def test_served_exit_with_code_keyword_shows_the_message(start):
    proc, address = serve(start, ":0")
    c = Client(address, timeout=TIMEOUT)
    c.send(b"exit(code='bye')\n")
    assert c.rest() == b"test\n>>> bye\n"


def test_served_exit_with_a_numeric_code_keyword_ends_the_session(start):
    proc, address = serve(start, ":0")
    c = Client(address, timeout=TIMEOUT)
    c.send(b"quit(code=3)\n1+1\n")
    assert c.rest() == b"test\n>>> "
    assert proc.popen.poll() is None


def test_served_exit_with_an_unknown_keyword_is_a_type_error(start):
    proc, address = serve(start, ":0")
    c = Client(address, timeout=TIMEOUT)
    c.until(b">>> ")
    c.send(b"exit(status=3)\n")
    out = c.until(b">>> ")
    assert out.startswith(b"Traceback (most recent call last):\n")
    assert out.splitlines()[-2].startswith(b"TypeError: ")
    assert b"status" in out.splitlines()[-2]
    assert c.run(b"1+1") == b"2\n>>> "


def test_served_exit_with_two_codes_is_a_type_error(start):
    proc, address = serve(start, ":0")
    c = Client(address, timeout=TIMEOUT)
    c.until(b">>> ")
    c.send(b"exit(1, 2)\n")
    out = c.until(b">>> ")
    assert out.splitlines()[-2].startswith(b"TypeError: ")
    assert c.run(b"1+1") == b"2\n>>> "


# The console's coroutine: throw(type, value, tb) as a generator's.

def test_throw_into_the_console_coroutine_keeps_the_traceback(start):
    proc = start([os.path.join(PROGRAMS, "console_throw_tb.py")])
    proc.send(b"None\n")
    proc.expect_stdout(b"['main', 'a_traceback']\n", timeout=TIMEOUT)
    proc.close_stdin()
    assert proc.wait(TIMEOUT) == 0


# A console server freed without close() closes without running Python
# from its dealloc: what is under way (an exception) is left alone.

def test_server_freed_while_an_exception_passes_keeps_the_exception(start):
    proc = start([os.path.join(PROGRAMS, "server_dropped_raising.py")])
    proc.send(b"None\n")
    proc.expect_stdout(b"caught ValueError('kept')\n", timeout=TIMEOUT)
    proc.close_stdin()
    assert proc.wait(TIMEOUT) == 0
