"""PYTHONSTARTUP runs into the console namespace when there is no target;
what a run that never gets a console imports; what a console that comes up
late still has; what a program's start clears from the runtime
directory."""

import os
import subprocess

import pytest

from attaching import dead_pid, detached, env, runtime, wait_for
from conftest import PROGRAMS, TIMEOUT, clean_env

# Fixtures, used by name.
assert detached and env and runtime

FOREVER = PROGRAMS / "forever.py"


def test_pythonstartup_definitions_are_in_the_console_namespace(run, write):
    startup = write("startup.py", "startup_value = 5\n"
                                  "def hello():\n    return 'hi'\n")
    cp = run(["--banner=test"], input=b"startup_value\nhello()\n",
             env={"PYTHONSTARTUP": startup})
    assert cp.stderr == b"test\n>>> 5\n>>> 'hi'\n>>> \n"
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_missing_pythonstartup_is_reported_and_the_console_goes_on(
        run, tmp_path):
    missing = tmp_path / "nostartup.py"
    cp = run(["--banner=test"], input=b"1+1\n",
             env={"PYTHONSTARTUP": missing})
    assert (b"Could not open PYTHONSTARTUP - No such file: %s"
            % str(missing).encode()) in cp.stderr
    assert cp.stderr.endswith(b">>> 2\n>>> \n")
    assert cp.returncode == 0


def test_pythonstartup_is_not_run_for_a_file_target(run, write, tmp_path):
    marker = tmp_path / "ran"
    startup = write("startup.py", "open(%r, 'w').close()\n" % str(marker))
    prog = write("prog.py", "print('prog')\n")
    cp = run([prog], env={"PYTHONSTARTUP": startup})
    assert cp.stdout == b"prog\n"
    assert cp.stderr == b""
    assert not marker.exists()


def test_pythonstartup_is_not_run_into_a_programs_console(run, write,
                                                          tmp_path):
    marker = tmp_path / "ran"
    startup = write("startup.py", "startup_value = 5\n"
                                  "open(%r, 'w').close()\n" % str(marker))
    cp = run(["--banner=test", FOREVER], input=b"startup_value\n",
             env={"PYTHONSTARTUP": startup})
    assert b"NameError: name 'startup_value' is not defined" in cp.stderr
    assert not marker.exists()
    assert cp.returncode == 0


def test_console_alone_that_gets_no_statement_imports_no_pydoc(run):
    # help()'s pager goes in before the first statement, not as the
    # console comes up: `apython </dev/null` starts without pydoc.
    cp = run(["-X", "importtime", "--banner=test"], input=b"")
    assert cp.returncode == 0
    assert cp.stderr.endswith(b"test\n>>> \n")
    assert b"| pydoc\n" not in cp.stderr
    assert b" asyncio\n" in cp.stderr  # -X importtime did list


def test_help_in_the_first_console_statement_prints_in_the_console(run):
    cp = run(["--banner=test"], input=b"help(len)\n")
    assert (cp.returncode, cp.stdout) == (0, b"")
    assert cp.stderr.startswith(b"test\n>>> Help on built-in function len "
                                b"in module builtins:\n\nlen(obj, /)\n")
    assert cp.stderr.endswith(b"\n>>> \n")


# Modules only a console needs (the compiler, the task views): apython
# imports those of them that python3 imports too, no more (3.11.7's
# asyncio imports fnmatch, for one).
CONSOLE_ONLY = ("print([m for m in ('codeop', '__future__', 'fnmatch') "
                "if m in sys.modules])\n")


def test_a_program_with_empty_stdin_imports_no_console_module(run, embedded):
    # stdin at EOF: the console that would come up beside the program
    # never does, so nothing of it is built.
    prog = "import asyncio, sys\n" + CONSOLE_ONLY
    cp = run(["-c", prog])
    assert (cp.returncode, cp.stderr) == (0, b"")
    assert cp.stdout == subprocess.run(
        [embedded.executable, "-c", prog], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, env=clean_env(), timeout=TIMEOUT).stdout


def test_a_program_whose_loop_runs_with_empty_stdin_imports_no_console_module(
        run, embedded):
    prog = ("import asyncio, sys\n"
            "async def main():\n"
            "    await asyncio.sleep(0)\n"
            "asyncio.run(main())\n" + CONSOLE_ONLY)
    cp = run(["-c", prog])
    assert cp.returncode == 0
    assert cp.stdout == subprocess.run(
        [embedded.executable, "-c", prog], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, env=clean_env(), timeout=TIMEOUT).stdout


def test_a_programs_console_has_its_names_and_the_running_loop(run):
    cp = run(["--banner=test", "--locals", "{'given': 7}", FOREVER],
             input=b"sorted(k for k in globals() if k[0] != '_')\n"
                   b"loop is asyncio.get_running_loop(), given\n"
                   b"import __main__; loop is __main__.LOOP\n")
    assert cp.stdout == b"started\n"
    assert cp.stderr == (b"test\n>>> ['ainput', 'asyncio', 'given', 'loop', "
                         b"'tasks']\n>>> (True, 7)\n>>> True\n>>> \n")
    assert cp.returncode == 0


@pytest.mark.parametrize("args", [(), ("--no-attach",)],
                         ids=["attachable", "not-attachable"])
def test_a_program_sweeps_what_dead_processes_left_as_it_starts(
        detached, runtime, args):
    d = runtime / "apython"
    d.mkdir(mode=0o700)
    gone = dead_pid()
    (d / str(gone)).write_text("apython %d 1 1 1 on\n" % gone)
    (d / (".mark-%d" % gone)).write_text("")
    p = detached("import asyncio, time\n"
                 "print('up', flush=True)\n"
                 "time.sleep(3600)\n", args)
    assert p.line() == "up\n"
    # No attacher comes, no loop runs: the program's start alone sweeps.
    wait_for(lambda: sorted(os.listdir(d)) == [str(p.pid)],
             "what dead processes left is swept: %s" % os.listdir(d))
