"""The console on a real terminal (a pty, through pexpect): GNU readline in
the loop, output above the line being typed, Tab completion, history,
Ctrl-C and Ctrl-D, and the terminal left as it was found.

Most tests run with TERM=dumb, where readline draws with nothing but CR, BS
and spaces; vt.py replays that output the way a terminal would, so that the
tests can assert what the user sees.  A test that needs the program to act
after something it saw tells it through a Trigger (conftest.py) rather
than sleeping."""

import os
import signal
import socket

import pytest

from conftest import REPO, TIMEOUT
from vt import UP, run_block, run_line


def console(terminal, *args, **kwargs):
    """apython's console alone, at its first prompt."""
    t = terminal(["--banner=test", *args], **kwargs)
    t.expect("test\r\n>>> ")
    return t


def spin(t):
    """Enter a statement that says it runs, then holds the CPU; return
    once it has run 0.3 s. (A slow build on a loaded machine can spend
    that long before the statement starts: a Ctrl-C then found the
    console reading its lines, not the statement.)"""
    for line in ("if 1:", "  print('spin')", "  while True: pass"):
        t.send(line + "\r")
        t.expect("... ")
    t.send("\r")
    t.expect("spin\r\n")
    t.wait_cpu(0.3)


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


def connect_to(t, trigger):
    """At the console: r and w, a connection to the test's trigger."""
    run_line(t, "r, w = await asyncio.open_connection('127.0.0.1', %d)"
             % trigger.port)


def test_background_task_output_appears_above_the_line_being_typed(
        terminal, trigger):
    t = console(terminal)
    connect_to(t, trigger)
    run_block(t, "async def tick():", "    for i in range(3):",
              "        await r.readline()", "        print('tick', i)")
    run_line(t, "task = asyncio.ensure_future(tick())")
    t.send("6 *")
    t.wait_for_line(">>> 6 *")
    for i in range(3):
        trigger.fire()
        t.expect("tick %d\r\n" % i)
        t.wait_for_line(">>> 6 *")
    t.send(" 7\r")
    t.expect("42\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-6:] == ["tick 0", "tick 1", "tick 2", ">>> 6 * 7",
                               "42", ">>>"]


def test_program_output_and_logging_appear_above_the_prompt(terminal, write,
                                                            trigger):
    prog = write("beat.py", """\
import asyncio, logging, sys

async def main():
    logging.basicConfig(format="log: %(message)s")
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    for i in range(3):
        await r.readline()
        sys.stdout.write("beat ")
        print(i, flush=True)
        logging.warning("beat %d", i)
    await asyncio.sleep(100)

asyncio.run(main())
""")
    t = terminal(["--banner=test", prog, trigger.port])
    t.expect(">>> ")
    t.send("x = 'typed'")
    t.wait_for_line(">>> x = 'typed'")
    for i in range(3):
        trigger.fire()
        t.expect("log: beat %d\r\n" % i)
        t.wait_for_line(">>> x = 'typed'")
    t.send("\r")
    t.wait_for_line(">>>")
    run_line(t, "x", "'typed'")
    assert t.screen()[1:] == ["beat 0", "log: beat 0", "beat 1", "log: beat 1",
                              "beat 2", "log: beat 2", ">>> x = 'typed'",
                              ">>> x", "'typed'", ">>>"]


def test_partial_line_waits_for_its_end_below_the_prompt(terminal, trigger):
    t = console(terminal)
    connect_to(t, trigger)
    run_block(t, "async def part():", "    await r.readline()",
              "    print('part', end='', flush=True)",
              "    w.write(b'written\\n')")
    run_line(t, "task = asyncio.ensure_future(part())")
    t.send("'in'")
    t.wait_for_line(">>> 'in'")
    trigger.fire()
    assert trigger.reply() == "written"
    # 'part' went out of print and its flush: nothing of it is on the
    # terminal while the prompt is there.
    assert t.written_since_mark() == b"'in'"
    t.send("\r")
    t.expect("'in'\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-3:] == [">>> 'in'", "part'in'", ">>>"]


def test_statement_output_comes_as_it_is_produced(terminal, trigger):
    t = console(terminal)
    connect_to(t, trigger)
    t.send("for i in range(2): print(i); await r.readline()\r\r")
    # 0 is printed while the statement waits for the trigger.
    t.expect("0\r\n")
    trigger.fire()
    t.expect("1\r\n")
    trigger.fire()
    t.wait_for_line(">>>")


def test_window_resize_is_followed(terminal):
    t = console(terminal)
    # 50 columns with the prompt: wider than 30, narrower than 80.
    line = "x = '" + "a" * 40 + "'"
    t.send(line)
    t.wait_for_line(">>> " + line)
    # A dumb terminal scrolls a line wider than the window sideways, and
    # readline marks that with '<'; readline draws the line again when the
    # size changes.  (vt.py keeps what a narrower window would cut off.)
    t.resize(24, 30)
    t.wait_until(lambda screen: screen[-1].startswith("<"),
                 "the line scrolled sideways")
    t.resize(24, 80)
    t.wait_for_line(">>> " + line)
    t.send("\r")
    t.wait_for_line(">>>")
    run_line(t, "len(x)", "40")


# Keys


def test_ctrl_c_at_the_prompt_drops_the_line_and_prints_keyboardinterrupt_once(
        terminal):
    t = console(terminal)
    t.send("undefined_name")
    t.wait_for_line(">>> undefined_name")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    assert t.screen() == ["test", ">>> undefined_name", "KeyboardInterrupt",
                          ">>> 1+1", "2", ">>>"]


def test_ctrl_c_while_the_prompt_is_being_shown_gives_a_fresh_prompt(
        terminal):
    # The SIGINT handler runs inside the Python the prompt's set-up calls
    # (the loop's add_reader for stdin): the prompt it took down comes
    # back, and the console goes on. It used to wait with no prompt.
    t = console(terminal)
    run_line(t, "import os, signal; l = asyncio.get_running_loop()")
    run_block(t, "def once(*args):", "    del l.add_reader",
              "    os.kill(os.getpid(), signal.SIGINT)",
              "    return l.add_reader(*args)")
    t.send("l.add_reader = once\r")
    t.expect("l.add_reader = once\r\n")
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_prompt()
    run_line(t, "6 * 7", "42")
    assert t.screen()[-6:] == [">>> l.add_reader = once", ">>>",
                               "KeyboardInterrupt", ">>> 6 * 7", "42", ">>>"]


def test_ctrl_c_in_a_block_drops_the_whole_statement(terminal):
    t = console(terminal)
    t.send("if True:\r")
    t.expect("... ")
    t.send("    y = 1")
    t.wait_for_line("...     y = 1")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "'y' in dir()", "False")


def test_ctrl_c_cancels_an_awaited_statement_without_a_traceback(terminal):
    t = console(terminal)
    t.send("await asyncio.sleep(100)\r")
    t.expect("await asyncio.sleep(100)\r\n")
    t.wait_asleep()
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    # The terminal echoes ^C: no prompt is being edited.
    assert t.screen() == ["test", ">>> await asyncio.sleep(100)",
                          "^CKeyboardInterrupt", ">>> 1+1", "2", ">>>"]


def test_ctrl_c_interrupts_cpu_bound_code_with_its_traceback(terminal):
    t = console(terminal)
    spin(t)
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "1+1", "2")
    assert t.screen()[-6:] == ["^CTraceback (most recent call last):",
                               '  File "<console>", line 3, in <module>',
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
    # The terminal echoes what is typed before the console reads it: wait
    # for the console's own sign that it has the statement.
    if case == "prompt":
        t.send("undefined_name")
        t.expect("undefined_name")
    elif case == "await":
        t.send("print('waiting'); await asyncio.sleep(100)\r")
        t.expect("waiting\r\n")
        t.wait_asleep()
    else:
        spin(t)
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
    t.wait_for_line("name?")  # the prompt, not the echo of the line
    t.send("Ada")
    t.wait_for_line("name? Ada")
    t.send("\r")
    t.expect("'Ada'\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-4:] == [">>> await ainput('name? ')", "name? Ada",
                               "'Ada'", ">>>"]


def test_ctrl_c_at_an_ainput_prompt_cancels_the_statement(terminal):
    t = console(terminal)
    t.send("await ainput('name? ')\r")
    t.wait_for_line("name?")  # the prompt, not the echo of the line
    t.send("Ad")
    t.wait_for_line("name? Ad")
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


INPUTRC = """\
$if python
"\\C-xq": "'in python'"
$else
"\\C-xq": "'not python'"
$endif
"""


@pytest.mark.parametrize("where", ["home", "INPUTRC"])
def test_inputrc_is_read_with_the_application_name_python(terminal, tmp_path,
                                                          where):
    if where == "home":
        (tmp_path / "home" / ".inputrc").write_text(INPUTRC)
        env = {"INPUTRC": None}
    else:
        (tmp_path / "rc").write_text(INPUTRC)
        env = {"INPUTRC": tmp_path / "rc"}
    t = console(terminal, env=env)
    t.send("\x18q")  # Ctrl-X q
    t.wait_for_line(">>> 'in python'")
    t.send("\r")
    t.expect("'in python'\r\n")
    t.wait_for_line(">>>")


# Completion


def test_tab_completes_an_attribute_of_the_echo_servers_loop(terminal):
    t, port = echo_server(terminal)
    t.send("loop.hi\t")
    t.wait_for_line(">>> loop.history")
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
    t.wait_for_line(">>> " + completed + "|")


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
    t.wait_until(lambda screen: "alpha_one  alpha_two" in screen and
                 screen[-1] == ">>> alpha_", "the choices listed")


def test_completion_does_not_import_modules(terminal):
    t = console(terminal)
    t.send("import ctypes.util\t")
    t.send("\x15")  # kill the line (after Tab: keys are taken in order)
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
    t.send(UP + "\r\r")
    t.wait_for_line(">>>")
    t.send(UP + UP + UP)
    t.wait_for_line(">>> 6 * 7")
    t.send(" + 1\r")
    t.expect("43\r\n")
    run_line(t, "f()", "'block'")


def test_history_file_is_private_and_kept_to_1000_entries(terminal,
                                                          tmp_path):
    hist = tmp_path / "history"
    hist.write_text("".join("x%d\n" % i for i in range(1500)))
    t = console(terminal)
    t.send(UP)
    t.wait_for_line(">>> x1499")
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


def test_history_file_has_each_statement_as_soon_as_it_is_entered(terminal,
                                                                   tmp_path):
    hist = tmp_path / "history"
    t = console(terminal)
    run_line(t, "6 * 7", "42")
    assert hist.read_bytes() == b"6 * 7\n"
    run_block(t, "if True:", "    'block'")
    assert hist.read_bytes() == b"6 * 7\nif True:\r\n    'block'\n"
    run_line(t, "'last'", "'last'")
    assert hist.read_bytes() == (b"6 * 7\nif True:\r\n    'block'\n"
                                 b"'last'\n")
    t.eof()
    assert t.wait() == (0, None)
    assert hist.read_bytes() == (b"6 * 7\nif True:\r\n    'block'\n"
                                 b"'last'\n")


def test_history_file_keeps_what_was_entered_when_the_program_is_killed(
        terminal, tmp_path):
    t = console(terminal)
    run_line(t, "'first'", "'first'")
    run_line(t, "'second'", "'second'")
    t.child.kill(signal.SIGKILL)
    assert t.wait() == (None, signal.SIGKILL)
    assert (tmp_path / "history").read_bytes() == b"'first'\n'second'\n"


def test_history_file_defaults_to_the_home_directory(terminal, tmp_path):
    t = console(terminal, env={"APYTHON_HISTORY": None})
    run_line(t, "'home'")
    t.eof()
    t.wait()
    assert (tmp_path / "home" / ".apython_history").read_text() == "'home'\n"


# The terminal left as it was


# The program ends by itself on a line being typed: `partial` is typed,
# then the trigger tells the program to go on.
WHEN_TOLD = ("    r, w = await asyncio.open_connection('127.0.0.1',\n"
             "                                      int(sys.argv[1]))\n"
             "    await r.readline()\n")
PROGRAM_ENDS = {
    "eof": ("", "\x04", 0),
    "exit": ("", "exit(5)\r", 5),
    "nonblocking": ("", "import os; os.set_blocking(0, False); exit(4)\r", 4),
    "uncaught": ("async def main():\n" + WHEN_TOLD +
                 "    raise RuntimeError('boom')\n", "partial", 1),
    "sigint": ("async def main():\n" + WHEN_TOLD +
               "    raise KeyboardInterrupt\n", "partial", 128 + 2),
    "sigterm": ("async def main():\n" + WHEN_TOLD +
                "    os.kill(os.getpid(), signal.SIGTERM)\n"
                "    await asyncio.sleep(10)\n", "partial", 128 + 15),
    "sigquit": ("async def main():\n" + WHEN_TOLD +
                "    os.kill(os.getpid(), signal.SIGQUIT)\n"
                "    await asyncio.sleep(10)\n", "partial", 128 + 3),
}


@pytest.mark.parametrize("way", sorted(PROGRAM_ENDS))
def test_terminal_and_stdin_are_restored_on_every_way_out(shell, write,
                                                          trigger, way):
    body, keys, status = PROGRAM_ENDS[way]
    prog = write("prog.py", "import asyncio, os, signal, sys\n" + body + (
        "asyncio.run(main())\n" if body else
        "asyncio.run(asyncio.sleep(100))\n"))
    t = shell('ulimit -c 0; stty -g; "$APYTHON" --banner=test %s %d; '
              'echo "status=$?"; stty -g; /usr/bin/python3 -c "import fcntl, '
              'os; print(\'nonblock=%%d\' %% bool(fcntl.fcntl(0, '
              'fcntl.F_GETFL) & os.O_NONBLOCK))"' % (prog, trigger.port))
    before = t.expect_re(rb"([0-9a-f:]+)\r\n").group(1)
    t.expect(">>> ")
    t.send(keys)
    if keys == "partial":
        t.expect("partial")
        trigger.fire()
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
    t.expect("typing")
    os.kill(pid, signal.SIGTERM)
    after = t.expect_re(rb"status=(\d+)\r\n([0-9a-f:]+)\r\n")
    assert int(after.group(1)) == 128 + signal.SIGTERM
    assert after.group(2) == before


def test_ctrl_backslash_at_the_prompt_restores_the_terminal_and_dies_by_sigquit(
        shell):
    # The key signals the shell too: it catches QUIT (apython gets it with
    # its default action) to live on and report.
    t = shell('trap : QUIT; ulimit -c 0; stty -g; "$APYTHON" --banner=test; '
              'echo "status=$?"; stty -g')
    before = t.expect_re(rb"([0-9a-f:]+)\r\n").group(1)
    t.expect(">>> ")
    t.send("typing")
    t.expect("typing")
    t.send("\x1c")  # Ctrl-\\, the terminal's QUIT key
    after = t.expect_re(rb"status=(\d+)\r\n([0-9a-f:]+)\r\n")
    assert int(after.group(1)) == 128 + signal.SIGQUIT
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


def test_console_on_a_terminal_without_readline_evaluates_lines(terminal):
    t = terminal(["--no-readline"])
    t.expect('Type "help", "copyright", "credits" or "license"')
    t.expect("Try: await asyncio.sleep(1, result=3)\r\n---\r\n>>> ")
    t.child.sendline("1+1")
    t.expect("1+1\r\n2\r\n>>> ")
    t.eof()
    assert t.wait() == (0, None)
