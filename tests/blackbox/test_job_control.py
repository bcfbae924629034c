"""apython as a job of an interactive shell (bash in a real pty): started
in the background it keeps running and leaves the terminal alone; `fg`
brings its console up; Ctrl-Z and `fg` leave the terminal as the shell
had it and bring the line being edited back."""

import time

from conftest import TIMEOUT

TICKS = """\
import asyncio, itertools

async def main():
    for i in itertools.count():
        print("tick", i, flush=True)
        await asyncio.sleep(0.05)

asyncio.run(main())
"""


def ticks(log):
    """How many lines the program has written to its log."""
    return log.read_text().count("\n") if log.exists() else 0


def wait_ticks(log, n):
    """Wait until the log has more than n lines."""
    deadline = time.monotonic() + TIMEOUT
    while ticks(log) <= n:
        assert time.monotonic() < deadline, "the job wrote %d lines" % (
            ticks(log))
        time.sleep(0.05)
    return ticks(log)


def shell_line(t, line):
    """Type a command at bash's prompt; wait for the next prompt."""
    t.send(line + "\r")
    t.expect(line + "\r\n")
    t.expect("$ ")


def test_background_job_runs_and_its_console_comes_up_on_fg(
        pty, apython, write, tmp_path):
    prog = write("ticks.py", TICKS)
    log = tmp_path / "log"
    t = pty(["bash", "--norc", "--noprofile", "-i"], "dumb",
            env={"PS1": "$ ", "HISTFILE": "/dev/null", "A": apython},
            cwd=tmp_path)
    t.expect("$ ")
    shell_line(t, "stty -a > before")
    shell_line(t, "$A --banner=test %s > log &" % prog.name)
    n = wait_ticks(log, 3)
    t.send("jobs\r")
    t.expect_re(rb"\[1\]\+  Running +")
    t.expect("$ ")
    wait_ticks(log, n)
    # In the background, the console has not come up.
    assert b">>>" not in t.log.getvalue()
    t.send("fg\r")
    t.expect("test\r\n>>> ")
    t.send("6 * 7\r")
    t.expect("42\r\n>>> ")
    t.send("1 +")
    t.expect("1 +")
    t.send("\x1a")
    t.expect("Stopped")
    t.expect("$ ")
    n = ticks(log)
    shell_line(t, "stty -a > stopped")
    # Stopped, the program writes nothing.
    assert ticks(log) == n
    t.send("fg\r")
    t.expect(">>> 1 +")
    t.send(" 1\r")
    t.expect("2\r\n>>> ")
    wait_ticks(log, n)
    t.eof()
    t.expect("$ ")
    t.send("echo status=$?\r")
    t.expect("status=0\r\n")
    t.expect("$ ")
    shell_line(t, "stty -a > after")
    before = (tmp_path / "before").read_text()
    assert (tmp_path / "stopped").read_text() == before
    assert (tmp_path / "after").read_text() == before
    t.send("exit\r")
    t.wait()


def test_ctrl_z_then_bg_runs_on_and_fg_brings_the_line_back(
        pty, apython, write, tmp_path):
    write("ticks.py", TICKS)
    log = tmp_path / "log"
    t = pty(["bash", "--norc", "--noprofile", "-i"], "dumb",
            env={"PS1": "$ ", "HISTFILE": "/dev/null", "A": apython},
            cwd=tmp_path)
    t.expect("$ ")
    shell_line(t, "stty -a > before")
    t.send("$A --banner=test ticks.py > log\r")
    t.expect("test\r\n>>> ")
    t.send("1 +")
    t.expect("1 +")
    t.send("\x1a")
    t.expect("Stopped")
    t.expect("$ ")
    shell_line(t, "bg")
    n = wait_ticks(log, 0)
    t.send("jobs\r")
    t.expect_re(rb"\[1\]\+  Running +")
    t.expect("$ ")
    # Keys typed for the shell meanwhile are the shell's.
    shell_line(t, "stty -a > running")
    wait_ticks(log, n)
    t.send("fg\r")
    t.expect(">>> 1 +")
    t.send(" 1\r")
    t.expect("2\r\n>>> ")
    t.eof()
    t.expect("$ ")
    t.send("echo status=$?\r")
    t.expect("status=0\r\n")
    t.expect("$ ")
    shell_line(t, "stty -a > after")
    before = (tmp_path / "before").read_text()
    assert (tmp_path / "running").read_text() == before
    assert (tmp_path / "after").read_text() == before
    t.send("exit\r")
    t.wait()


def bash(pty, apython, tmp_path):
    """An interactive bash in a pty, at its first prompt."""
    t = pty(["bash", "--norc", "--noprofile", "-i"], "dumb",
            env={"PS1": "$ ", "HISTFILE": "/dev/null", "A": apython},
            cwd=tmp_path)
    t.expect("$ ")
    return t


def test_statement_ending_after_bg_leaves_the_prompt_for_fg(
        pty, apython, write, tmp_path):
    write("ticks.py", TICKS)
    log = tmp_path / "log"
    t = bash(pty, apython, tmp_path)
    shell_line(t, "stty -a > before")
    t.send("$A --banner=test ticks.py > log\r")
    t.expect("test\r\n>>> ")
    t.send("await asyncio.sleep(2); open('done', 'w').close()\r")
    t.expect("close()\r\n")
    t.send("\x1a")
    t.expect("Stopped")
    t.expect("$ ")
    shell_line(t, "bg")
    deadline = time.monotonic() + TIMEOUT
    while not (tmp_path / "done").exists():
        assert time.monotonic() < deadline, "the statement did not end"
        time.sleep(0.05)
    # The job runs on past the statement's end, showing no prompt.
    n = wait_ticks(log, ticks(log) + 10)
    wait_ticks(log, n)
    t.send("jobs\r")
    t.expect_re(rb"\[1\]\+  Running +")
    t.expect("$ ")
    shell_line(t, "stty -a > running")
    assert b">>>" not in t.log.getvalue().split(b"close()")[-1]
    t.send("fg\r")
    t.expect(">>> ")
    t.send("6 * 7\r")
    t.expect("42\r\n>>> ")
    t.eof()
    t.expect("$ ")
    t.send("echo status=$?\r")
    t.expect("status=0\r\n")
    t.expect("$ ")
    shell_line(t, "stty -a > after")
    before = (tmp_path / "before").read_text()
    assert (tmp_path / "running").read_text() == before
    assert (tmp_path / "after").read_text() == before
    t.send("exit\r")
    t.wait()


ENDS = """\
import asyncio, os, sys

async def main():
    print("started", flush=True)
    while not os.path.exists("go"):
        await asyncio.sleep(0.05)

asyncio.run(main())
sys.exit(3)
"""


def test_program_started_with_ampersand_ends_with_its_status(
        pty, apython, write, tmp_path):
    write("ends.py", ENDS)
    t = bash(pty, apython, tmp_path)
    shell_line(t, "stty -a > before")
    shell_line(t, "$A ends.py > log &")
    wait_ticks(tmp_path / "log", 0)
    shell_line(t, "touch go")
    t.send("wait %1; echo status=$?\r")
    t.expect("status=3\r\n")
    t.expect("$ ")
    shell_line(t, "stty -a > after")
    assert (tmp_path / "after").read_text() == (
        tmp_path / "before").read_text()
    t.send("exit\r")
    t.wait()


def test_program_ending_after_ctrl_z_and_bg_ends_with_its_status(
        pty, apython, write, tmp_path):
    write("ends.py", ENDS)
    t = bash(pty, apython, tmp_path)
    shell_line(t, "stty -a > before")
    t.send("$A --banner=test ends.py > log\r")
    t.expect("test\r\n>>> ")
    t.send("1 +")
    t.expect("1 +")
    t.send("\x1a")
    t.expect("Stopped")
    t.expect("$ ")
    shell_line(t, "bg")
    shell_line(t, "touch go")
    t.send("wait %1; echo status=$?\r")
    t.expect("status=3\r\n")
    t.expect("$ ")
    shell_line(t, "stty -a > after")
    assert (tmp_path / "after").read_text() == (
        tmp_path / "before").read_text()
    t.send("exit\r")
    t.wait()


def test_forked_child_and_exec_do_not_catch_sigtstp(
        pty, apython, write, tmp_path):
    write("ticks.py", TICKS)
    t = bash(pty, apython, tmp_path)
    t.send("$A --banner=test ticks.py > log\r")
    t.expect("test\r\n>>> ")
    # SigCgt is the mask of caught signals; SIGTSTP is its bit 20.
    t.send("def tstp(): return int([l for l in open('/proc/self/status') "
           "if l.startswith('SigCgt')][0].split()[1], 16) >> 19 & 1\r\r")
    t.expect(">>> ")
    t.send("tstp()\r")
    t.expect("1\r\n>>> ")
    # The child's status is its tstp().
    t.send("import os, subprocess; (lambda pid: os._exit(tstp()) "
           "if pid == 0 else os.waitpid(pid, 0)[1] >> 8)(os.fork())\r")
    t.expect(")\r\n0\r\n>>> ")
    # And a program it execs (exec resets a caught signal).
    t.send("int(subprocess.run(['grep', 'SigCgt', '/proc/self/status'], "
           "capture_output=True).stdout.split()[1], 16) >> 19 & 1\r")
    t.expect("\r\n0\r\n>>> ")
    t.eof()
    t.expect("$ ")
    t.send("exit\r")
    t.wait()
