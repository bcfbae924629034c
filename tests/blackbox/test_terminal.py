"""The console on a real terminal (a pty, through pexpect): GNU readline in
the loop, output above the line being typed, Tab completion, history,
Ctrl-C and Ctrl-D, and the terminal left as it was found.

Most tests run with TERM=dumb, where readline draws with nothing but CR, BS
and spaces; `Term.screen()` replays that output the way a terminal would, so
that the tests can assert what the user sees."""

import io
import os
import re
import signal
import socket
import time
from pathlib import Path

import pexpect
import pytest

REPO = Path(__file__).resolve().parent.parent.parent
TIMEOUT = 10
UP = "\x1b[A"


def screen_lines(data):
    """The lines a terminal shows after receiving `data`: printable text,
    CR, LF, BS, BEL and the CSI sequences readline uses for cursor motion
    and erasing (K, C, D)."""
    lines, row, col = [[]], 0, 0
    text = data.decode("utf-8", "replace")
    i = 0
    while i < len(text):
        ch = text[i]
        m = re.match(r"\x1b\[(\d*)([A-Za-z])", text[i:])
        if m:
            n = int(m.group(1) or 1)
            if m.group(2) == "K":
                del lines[row][col:]
            elif m.group(2) == "C":
                col += n
            elif m.group(2) == "D":
                col = max(col - n, 0)
            i += m.end()
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            if row == len(lines):
                lines.append([])
        elif ch == "\b":
            col = max(col - 1, 0)
        elif ch >= " ":
            line = lines[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = ch
            col += 1
        i += 1
    return ["".join(line).rstrip() for line in lines]


class Term:
    """apython (or a shell command) on a pty, with everything it wrote kept."""

    def __init__(self, argv, env, cwd=None, term="dumb"):
        env = dict(env, TERM=term)
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=cwd,
                                   timeout=TIMEOUT, dimensions=(24, 80))
        self.log = io.BytesIO()
        self.child.logfile_read = self.log
        self.mark = 0

    def expect(self, text):
        """Wait until `text` (exact) comes after the previous match."""
        self.child.expect_exact(text)

    def expect_re(self, pattern):
        self.child.expect(pattern)
        return self.child.match

    def drain(self):
        """Read what the program has written so far (still expected)."""
        try:
            while True:
                self.child.buffer += self.child.read_nonblocking(65536, 0)
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass

    def send(self, keys):
        """Type keys; what the screen shows from then on is their answer."""
        self.drain()
        self.mark = len(self.log.getvalue())
        self.child.send(keys)

    def settle(self, seconds=0.3):
        """Let the program take in what was sent, and keep what it wrote
        meanwhile (what came before is no longer expected)."""
        self.child.expect(pexpect.TIMEOUT, timeout=seconds)

    def screen(self):
        return screen_lines(self.log.getvalue())

    def last_line(self):
        lines = self.screen()
        return lines[-1]

    def wait_for_line(self, line, timeout=TIMEOUT):
        """Wait until the screen's last line reads `line`, after some output
        that came after the last keys sent."""
        deadline = time.monotonic() + timeout
        while (len(self.log.getvalue()) <= self.mark or
               self.last_line() != line):
            if time.monotonic() > deadline:
                raise AssertionError("last line %r, wanted %r; screen:\n%s"
                                     % (self.last_line(), line,
                                        "\n".join(self.screen())))
            try:
                self.child.expect(r"\S", timeout=0.1)
            except pexpect.TIMEOUT:
                pass

    def interrupt(self):
        self.child.sendintr()

    def eof(self):
        self.child.sendeof()

    def wait(self):
        """Wait for the end; return (exit status, signal)."""
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus, self.child.signalstatus

    def close(self):
        if self.child.isalive():
            self.child.close(force=True)


@pytest.fixture
def term_env(clean_env, tmp_path):
    """The environment of a terminal test: its own HOME and history file."""
    home = tmp_path / "home"
    home.mkdir()
    return clean_env({"HOME": home, "APYTHON_HISTORY": tmp_path / "history",
                      "PAGER": "echo PAGER-WAS-USED", "MANPAGER": None,
                      "COLUMNS": None, "LINES": None, "INPUTRC": "/dev/null"})


@pytest.fixture
def terminal(apython, term_env):
    """terminal(args, cwd=None, term='dumb', env=None) -> Term running
    apython with `args`; killed at the end."""
    terms = []

    def _start(args, cwd=None, term="dumb", env=None):
        env = {k: v for k, v in dict(term_env, **(env or {})).items()
               if v is not None}
        t = Term([apython, *map(str, args)], env, cwd=cwd, term=term)
        terms.append(t)
        return t

    yield _start
    for t in terms:
        t.close()


@pytest.fixture
def shell(apython, term_env):
    """shell(script) -> Term running `sh -c script` with $APYTHON set."""
    terms = []

    def _start(script, term="xterm"):
        t = Term(["/bin/sh", "-c", script], dict(term_env, APYTHON=apython),
                 cwd=REPO, term=term)
        terms.append(t)
        return t

    yield _start
    for t in terms:
        t.close()


def console(terminal, *args, **kwargs):
    """apython's console alone, at its first prompt."""
    t = terminal(["--banner=test", *args], **kwargs)
    t.expect("test\r\n>>> ")
    return t


def run_line(t, line, answer=None):
    """Type `line` and Enter; wait for the next prompt (after `answer`)."""
    t.send(line + "\r")
    t.expect(line + "\r\n" + (answer + "\r\n" if answer else ""))
    t.wait_for_line(">>>")


def run_block(t, *lines):
    """Type the lines of a block, each answered by ps2, then the empty line
    that ends it; wait for the next prompt."""
    for line in lines:
        t.send(line + "\r")
        t.expect(line + "\r\n... ")
    t.send("\r")
    t.wait_for_line(">>>")


def echo_server(terminal):
    """examples/echo.py under apython with its console; (Term, port)."""
    t = terminal(["--banner=test", "-m", "examples.echo", "0"], cwd=REPO)
    m = t.expect_re(rb"served on 127\.0\.0\.1:(\d+)\r\n")
    t.wait_for_line(">>>")
    return t, int(m.group(1))


def echo(port, conn, text):
    """Send a line to the echo server on conn; return the answer."""
    conn.sendall(text.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        assert chunk, "the echo server closed the connection"
        data += chunk
    return data.decode()


# Readline in the loop


def test_readline_console_evaluates_lines_and_shows_prompts(terminal):
    t = console(terminal)
    run_line(t, "1+1", "2")
    run_block(t, "for i in range(2):", "    print(i)")
    assert t.screen()[1:] == [">>> 1+1", "2", ">>> for i in range(2):",
                              "...     print(i)", "...", "0", "1", ">>>"]


def test_ctrl_d_on_an_empty_line_ends_the_console_with_status_0(terminal):
    t = console(terminal)
    t.eof()
    assert t.wait() == (0, None)
    assert t.screen() == ["test", ">>>", ""]


def test_exit_with_a_number_ends_the_console_with_that_status(terminal):
    t = console(terminal)
    t.send("exit(3)\r")
    assert t.wait() == (3, None)


def test_background_task_output_appears_above_the_line_being_typed(terminal):
    t = console(terminal)
    run_block(t, "async def tick():", "    for i in range(3):",
              "        await asyncio.sleep(0.2)", "        print('tick', i)")
    run_line(t, "task = asyncio.ensure_future(tick())")
    t.send("6 *")
    t.expect("tick 2\r\n")
    t.wait_for_line(">>> 6 *")
    t.send(" 7\r")
    t.expect("42\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-6:] == ["tick 0", "tick 1", "tick 2", ">>> 6 * 7",
                               "42", ">>>"]


def test_program_output_and_logging_appear_above_the_prompt(terminal, write):
    prog = write("beat.py", """\
import asyncio, logging, sys

async def main():
    logging.basicConfig(format="log: %(message)s")
    for i in range(3):
        await asyncio.sleep(0.3)
        sys.stdout.write("beat ")
        print(i, flush=True)
        logging.warning("beat %d", i)
    await asyncio.sleep(100)

asyncio.run(main())
""")
    t = terminal(["--banner=test", prog])
    t.expect(">>> ")
    t.send("x = 'typed'")
    t.expect("log: beat 2\r\n")
    t.wait_for_line(">>> x = 'typed'")
    t.send("\r")
    t.wait_for_line(">>>")
    run_line(t, "x", "'typed'")
    assert t.screen()[1:] == ["beat 0", "log: beat 0", "beat 1", "log: beat 1",
                              "beat 2", "log: beat 2", ">>> x = 'typed'",
                              ">>> x", "'typed'", ">>>"]


def test_partial_line_waits_for_its_end_below_the_prompt(terminal):
    t = console(terminal)
    run_line(t, "import sys")
    run_line(t, "loop.call_later(0.2, sys.stdout.write, 'part')")
    t.send("'in'")
    t.settle(0.5)
    assert t.last_line() == ">>> 'in'"
    t.send("\r")
    t.expect("'in'\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-3:] == [">>> 'in'", "part'in'", ">>>"]


def test_statement_output_comes_as_it_is_produced(terminal):
    t = console(terminal)
    t.send("for i in range(2): print(i); await asyncio.sleep(0.5)\r\r")
    t.expect("0\r\n")
    time.sleep(0.1)
    assert "1" not in t.screen()[-1]
    t.expect("1\r\n")
    t.wait_for_line(">>>")


def test_window_resize_is_followed(terminal):
    t = console(terminal)
    long_line = "x = '" + "a" * 40 + "'"
    t.child.setwinsize(24, 30)
    t.settle()
    t.send(long_line)
    t.settle()
    # A dumb terminal scrolls the line sideways once it is wider than the
    # window, and readline marks that with '<'.
    assert t.last_line().startswith("<")
    t.child.setwinsize(24, 80)
    t.send("\r")
    t.wait_for_line(">>>")
    t.send("'b' * 50")
    t.settle()
    assert t.last_line() == ">>> 'b' * 50"


# Keys


def test_ctrl_c_at_the_prompt_drops_the_line_and_prints_keyboardinterrupt_once(
        terminal):
    t = console(terminal)
    t.send("undefined_name")
    t.settle()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    assert t.screen() == ["test", ">>> undefined_name", "KeyboardInterrupt",
                          ">>> 1+1", "2", ">>>"]


def test_ctrl_c_in_a_block_drops_the_whole_statement(terminal):
    t = console(terminal)
    t.send("if True:\r")
    t.expect("... ")
    t.send("    y = 1")
    t.settle()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "'y' in dir()", "False")


def test_ctrl_c_cancels_an_awaited_statement_without_a_traceback(terminal):
    t = console(terminal)
    t.send("await asyncio.sleep(100)\r")
    t.expect("await asyncio.sleep(100)\r\n")
    t.settle()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    # The terminal echoes ^C: no prompt is being edited.
    assert t.screen() == ["test", ">>> await asyncio.sleep(100)",
                          "^CKeyboardInterrupt", ">>> 1+1", "2", ">>>"]


def test_ctrl_c_interrupts_cpu_bound_code_with_its_traceback(terminal):
    t = console(terminal)
    t.send("while True: pass\r")
    t.expect("... ")
    t.send("\r")
    t.settle()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    assert t.screen()[-6:] == ["^CTraceback (most recent call last):",
                               '  File "<console>", line 1, in <module>',
                               "KeyboardInterrupt", ">>> 1+1", "2", ">>>"]


def test_ctrl_c_cancels_only_the_statement_while_the_echo_server_serves(
        terminal):
    t, port = echo_server(terminal)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
        t.send("await asyncio.sleep(100)\r")
        t.expect("await asyncio.sleep(100)\r\n")
        assert echo(port, c, "during") == "during\n"
        t.interrupt()
        t.expect("KeyboardInterrupt\r\n")
        t.wait_for_line(">>>")
        assert echo(port, c, "after") == "after\n"
        run_line(t, "loop.history", "['during', 'after']")
    screen = "\n".join(t.screen())
    assert "CancelledError" not in screen
    assert "Traceback" not in screen


def test_ctrl_c_with_no_statement_never_ends_the_program(terminal):
    t, port = echo_server(terminal)
    for _ in range(3):
        t.interrupt()
        t.expect("KeyboardInterrupt\r\n")
        t.wait_for_line(">>>")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
        assert echo(port, c, "alive") == "alive\n"
    assert t.screen().count("KeyboardInterrupt") == 3


def test_ctrl_c_after_the_console_left_is_python3s_again(terminal, write):
    prog = write("after.py", """\
import asyncio, signal, time

asyncio.run(asyncio.sleep(0.3))
print("handler is python3's:",
      signal.getsignal(signal.SIGINT) is signal.default_int_handler,
      flush=True)
time.sleep(100)
""")
    t = terminal(["--banner=test", prog])
    t.expect("handler is python3's: True\r\n")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    assert t.wait() == (None, signal.SIGINT)


def test_ctrl_d_ends_the_echo_server_with_status_0(terminal):
    t, port = echo_server(terminal)
    t.eof()
    assert t.wait() == (0, None)


@pytest.mark.parametrize("case", ["prompt", "await", "cpu"])
def test_ctrl_c_without_readline_on_a_terminal_does_the_same(terminal, case):
    t = console(terminal, "--no-readline")
    if case == "prompt":
        t.send("undefined_name")
    elif case == "await":
        t.send("await asyncio.sleep(100)\r")
    else:
        t.send("while True: pass\r\r")
    t.settle()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.expect(">>> ")
    run_line(t, "1+1", "2")
    screen = t.screen()
    assert [line for line in screen if "KeyboardInterrupt" in line] == [
        {"prompt": "KeyboardInterrupt", "await": "^CKeyboardInterrupt",
         "cpu": "KeyboardInterrupt"}[case]]
    assert ("Traceback" in "\n".join(screen)) == (case == "cpu")
    if case == "prompt":
        assert screen[1:3] == [">>> undefined_name^C", "KeyboardInterrupt"]


def test_ainput_reads_a_line_through_the_readline_prompt(terminal):
    t = console(terminal)
    t.send("await ainput('name? ')\r")
    t.expect("name? ")
    t.send("Ada")
    t.settle()
    assert t.last_line() == "name? Ada"
    t.send("\r")
    t.expect("'Ada'\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-4:] == [">>> await ainput('name? ')", "name? Ada",
                               "'Ada'", ">>>"]


def test_ctrl_c_at_an_ainput_prompt_cancels_the_statement(terminal):
    t = console(terminal)
    t.send("await ainput('name? ')\r")
    t.expect("name? ")
    t.send("Ad")
    t.settle()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    assert t.screen()[-5:] == ["name? Ad", "KeyboardInterrupt", ">>> 1+1", "2",
                               ">>>"]


def test_help_prints_into_the_console_without_a_pager(terminal):
    # PAGER is set to a command that would announce itself.
    t = console(terminal, term="xterm")
    t.send("help(len)\r")
    t.expect("Help on built-in function len")
    t.expect(">>> ")
    screen = "\n".join(t.screen())
    assert "Return the number of items in a container." in screen
    assert "PAGER-WAS-USED" not in screen


def test_programs_own_pydoc_still_uses_its_pager(terminal, write):
    prog = write("doc.py", """\
import asyncio, pydoc

async def main():
    pydoc.pager("some text")
    await asyncio.sleep(100)

asyncio.run(main())
""")
    t = terminal(["--banner=test", prog], term="xterm")
    t.expect("PAGER-WAS-USED")
    t.expect(">>> ")


# Completion


def test_tab_completes_an_attribute_of_the_echo_servers_loop(terminal):
    t, port = echo_server(terminal)
    t.send("loop.hi\t")
    t.settle()
    assert t.last_line() == ">>> loop.history"
    t.send("\r")
    t.expect("[]\r\n")


@pytest.mark.parametrize("typed, completed", [
    ("pri", "print("),
    ("whil", "while "),
    ("asyncio.sle", "asyncio.sleep("),
    ("import jso", "import json"),
    ("import asyncio.even", "import asyncio.events"),
    ("from asyncio import Queu", "from asyncio import Queue"),
    ("from collections.ab", "from collections.abc"),
])
def test_tab_completes_names_keywords_attributes_and_modules(
        terminal, typed, completed):
    t = console(terminal)
    t.send(typed + "\t|")
    t.settle()
    assert t.last_line() == ">>> " + completed + "|"


def test_tab_on_an_empty_line_indents(terminal):
    t = console(terminal)
    t.send("if True:\r\t")
    t.send("z = 5\r\r")
    t.wait_for_line(">>>")
    run_line(t, "z", "5")


def test_tab_lists_the_choices_when_they_are_many(terminal):
    t = console(terminal)
    run_line(t, "alpha_one = alpha_two = 0")
    t.send("alpha_\t\t")
    t.settle()
    screen = t.screen()
    assert "alpha_one  alpha_two" in screen
    assert screen[-1] == ">>> alpha_"


def test_completion_does_not_import_modules(terminal):
    t = console(terminal)
    t.send("import ctypes.util\t")
    t.settle()
    t.send("\x15")  # kill the line
    run_line(t, "import sys; 'ctypes' in sys.modules", "False")


# History


def test_history_is_recalled_with_up_across_two_runs(terminal, tmp_path):
    t = console(terminal)
    run_line(t, "6 * 7", "42")
    run_block(t, "def f():", "    return 'block'")
    t.eof()
    assert t.wait() == (0, None)
    assert (tmp_path / "history").read_bytes() == (
        b"6 * 7\ndef f():\r\n    return 'block'\n")

    t = console(terminal)
    t.send(UP)
    t.settle()
    t.send("\r\r")
    t.wait_for_line(">>>")
    t.send(UP + UP + UP)
    t.settle()
    assert t.last_line() == ">>> 6 * 7"
    t.send(" + 1\r")
    t.expect("43\r\n")
    run_line(t, "f()", "'block'")


def test_history_file_is_private_and_kept_to_1000_entries(terminal,
                                                          tmp_path):
    hist = tmp_path / "history"
    hist.write_text("".join("x%d\n" % i for i in range(1500)))
    t = console(terminal)
    t.send(UP)
    t.settle()
    assert t.last_line() == ">>> x1499"
    t.send("\x15")
    run_line(t, "1")
    t.eof()
    t.wait()
    lines = hist.read_text().splitlines()
    assert len(lines) == 1001
    assert lines[0] == "x500" and lines[-1] == "1"
    assert hist.stat().st_mode & 0o777 == 0o600


def test_history_file_can_be_turned_off(terminal, tmp_path):
    t = console(terminal, env={"APYTHON_HISTORY": ""})
    run_line(t, "1")
    t.eof()
    t.wait()
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_history_file_defaults_to_the_home_directory(terminal, tmp_path):
    t = console(terminal, env={"APYTHON_HISTORY": None})
    run_line(t, "'home'")
    t.eof()
    t.wait()
    assert (tmp_path / "home" / ".apython_history").read_text() == "'home'\n"


# The terminal left as it was


PROGRAM_ENDS = {
    "eof": ("", "\x04", 0),
    "exit": ("", "exit(5)\r", 5),
    "nonblocking": ("", "import os; os.set_blocking(0, False); exit(4)\r", 4),
    "uncaught": ("async def main():\n"
                 "    await asyncio.sleep(0.5)\n"
                 "    raise RuntimeError('boom')\n", "partial", 1),
    "sigint": ("async def main():\n"
               "    await asyncio.sleep(0.5)\n"
               "    raise KeyboardInterrupt\n", "partial", 128 + 2),
    "sigterm": ("async def main():\n"
                "    await asyncio.sleep(0.5)\n"
                "    os.kill(os.getpid(), signal.SIGTERM)\n"
                "    await asyncio.sleep(10)\n", "partial", 128 + 15),
}


@pytest.mark.parametrize("way", sorted(PROGRAM_ENDS))
def test_terminal_and_stdin_are_restored_on_every_way_out(shell, write, way):
    body, keys, status = PROGRAM_ENDS[way]
    prog = write("prog.py", "import asyncio, os, signal\n" + body + (
        "asyncio.run(main())\n" if body else
        "asyncio.run(asyncio.sleep(100))\n"))
    t = shell('stty -g; "$APYTHON" --banner=test %s; echo "status=$?"; '
              'stty -g; /usr/bin/python3 -c "import fcntl, os; print('
              '\'nonblock=%%d\' %% bool(fcntl.fcntl(0, fcntl.F_GETFL) & '
              'os.O_NONBLOCK))"' % prog)
    before = t.expect_re(rb"([0-9a-f:]+)\r\n").group(1)
    t.expect(">>> ")
    t.send(keys)
    after = t.expect_re(rb"status=(\d+)\r\n([0-9a-f:]+)\r\n")
    assert int(after.group(1)) == status
    assert after.group(2) == before
    t.expect("nonblock=0")


def test_stdin_left_non_blocking_is_made_blocking_again_without_readline(
        shell):
    t = shell('"$APYTHON" --banner=test --no-readline; /usr/bin/python3 -c '
              '"import fcntl, os; print(\'nonblock=%d\' % bool(fcntl.fcntl('
              '0, fcntl.F_GETFL) & os.O_NONBLOCK))"')
    t.expect(">>> ")
    t.send("import os; os.set_blocking(0, False); exit(4)\r")
    t.expect("nonblock=0")


def test_sigterm_at_the_prompt_restores_the_terminal_and_dies_by_sigterm(
        shell):
    t = shell('stty -g; "$APYTHON" --banner=test; echo "status=$?"; stty -g')
    before = t.expect_re(rb"([0-9a-f:]+)\r\n").group(1)
    t.expect(">>> ")
    t.send("import os; os.getpid()\r")
    pid = int(t.expect_re(rb"\r\n(\d+)\r\n").group(1))
    t.expect(">>> ")
    t.send("typing")
    t.settle()
    os.kill(pid, signal.SIGTERM)
    after = t.expect_re(rb"status=(\d+)\r\n([0-9a-f:]+)\r\n")
    assert int(after.group(1)) == 128 + signal.SIGTERM
    assert after.group(2) == before


def test_terminal_is_in_readline_mode_only_while_a_prompt_waits(shell):
    # Sanity check of the tests above: the prompt does change the terminal.
    t = shell('"$APYTHON" --banner=test')
    t.expect(">>> ")
    t.send("import subprocess\r")
    t.expect(">>> ")
    t.send("subprocess.run(['stty', '-g'], stdin=0).returncode\r")
    running = t.expect_re(rb"([0-9a-f:]+)\r\n0\r\n").group(1)
    t.expect(">>> ")
    t.eof()
    t.wait()
    t2 = shell("stty -g")
    assert t2.expect_re(rb"([0-9a-f:]+)\r\n").group(1) == running


# The console without readline


def test_console_on_a_terminal_without_readline_evaluates_lines(apython,
                                                                clean_env):
    child = pexpect.spawn(apython, ["--no-readline"], env=clean_env(),
                          timeout=10)
    try:
        child.expect_exact('Type "help", "copyright", "credits" or "license"')
        child.expect_exact("Try: await asyncio.sleep(1, result=3)\r\n---\r\n"
                           ">>> ")
        child.sendline("1+1")
        child.expect_exact("1+1\r\n2\r\n>>> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
