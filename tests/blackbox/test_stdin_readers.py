"""Programs that read their own stdin while the terminal console is up
(input() in a thread or in the main thread, sys.stdin, with or without
`import readline`): the program's prompt is shown at the terminal, the
next line typed goes to it, Ctrl-D gives it end of file, and then the
console's prompt comes back, its completion and history its own.  Also:
the terminal is left on a clean line when the console leaves."""

import time

import pytest

from conftest import TIMEOUT
from vt import UP, run_line


def wait_for_file(path, text):
    """Wait until the file at path holds text; fail after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        content = path.read_text() if path.exists() else ""
        if content == text:
            return
        if time.monotonic() > deadline:
            raise AssertionError("%s holds %r, not %r" % (path, content, text))
        time.sleep(0.05)


THREAD_INPUT = """\
import asyncio

async def main():
    loop = asyncio.get_running_loop()
    name = await loop.run_in_executor(None, input, "name? ")
    print("got", repr(name), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_input_in_a_thread_reads_the_next_line_with_stdout_to_a_file(
        shell, write, tmp_path):
    prog = write("prog.py", THREAD_INPUT)
    out = tmp_path / "out.txt"
    t = shell('"$APYTHON" --banner=test %s > %s' % (prog, out), term="dumb")
    t.wait_for_line("name?")
    t.send("bob\r")
    wait_for_file(out, "got 'bob'\n")
    t.wait_for_line(">>>")
    run_line(t, "6 * 7", "42")
    screen = t.screen()
    assert "name? bob" in screen
    assert screen[-3:] == [">>> 6 * 7", "42", ">>>"]


# A program that reads once told (by the test's trigger, given as its
# first argument), its console then up: `read` is the body's code.
AFTER_TRIGGER = """\
import asyncio, sys
if sys.argv[2:] == ["readline"]:
    import readline

async def main():
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    await r.readline()
    loop = asyncio.get_running_loop()
%s
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def reader_at_the_console(terminal, write, trigger, read, *args):
    """The program reading with `read` (lines of code, indented), started
    at the console's prompt; the Term."""
    prog = write("prog.py", AFTER_TRIGGER % read)
    t = terminal(["--banner=test", prog, trigger.port, *args])
    t.wait_for_line(">>>")
    return t


@pytest.mark.parametrize("imports", [(), ("readline",)],
                         ids=["plain", "import_readline"])
def test_input_in_the_main_thread_reads_the_next_line_then_the_console_is_back(
        terminal, write, trigger, imports):
    t = reader_at_the_console(terminal, write, trigger, """\
    name = input("name? ")
    print("got", repr(name), flush=True)""", *imports)
    t.send("6 *")
    t.wait_for_line(">>> 6 *")
    trigger.fire()
    t.wait_for_line("name?")
    t.send("bob\r")
    t.expect("got 'bob'\r\n")
    t.wait_for_line(">>> 6 *")
    t.send(" 7\r")
    t.expect("42\r\n")
    t.wait_for_line(">>>")
    assert t.screen()[-5:] == ["name? bob", "got 'bob'", ">>> 6 * 7", "42",
                               ">>>"]


def test_sys_stdin_readline_in_a_thread_reads_the_next_line(terminal, write,
                                                           trigger):
    t = reader_at_the_console(terminal, write, trigger, """\
    line = await loop.run_in_executor(None, sys.stdin.readline)
    print("got", repr(line), flush=True)""")
    t.send("")
    trigger.fire()
    # The program's line (no prompt) takes the console's place.
    t.wait_for_line("")
    t.send("bob\r")
    t.expect("got 'bob\\n'\r\n")
    t.wait_for_line(">>>")
    run_line(t, "6 * 7", "42")


def test_ctrl_d_at_the_programs_prompt_gives_it_eoferror(terminal, write,
                                                         trigger):
    t = reader_at_the_console(terminal, write, trigger, """\
    try:
        await loop.run_in_executor(None, input, "name? ")
    except EOFError:
        print("EOFError", flush=True)""")
    t.send("")
    trigger.fire()
    t.wait_for_line("name?")
    t.eof()
    t.expect("EOFError\r\n")
    t.wait_for_line(">>>")
    run_line(t, "6 * 7", "42")


def test_programs_readline_completer_and_history_stay_its_own(terminal,
                                                                write):
    prog = write("prog.py", """\
import asyncio, readline

readline.set_completer(lambda text, state: None if state else "xylophone")
readline.parse_and_bind("tab: complete")
readline.add_history("program-entry")

async def main():
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, input, "prog> ")
    print("program got", repr(line), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
""")
    t = terminal(["--banner=test", prog])
    t.wait_for_line("prog>")
    t.send("xy\t")
    t.wait_for_line("prog> xylophone")
    t.send("\r")
    t.expect("program got 'xylophone'\r\n")
    t.wait_for_line(">>>")
    run_line(t, "6 * 7", "42")
    t.send("asyncio.sle\t")
    t.wait_for_line(">>> asyncio.sleep(")
    t.send("\x15" + UP)
    t.wait_for_line(">>> 6 * 7")
    t.send(UP + "|")
    t.wait_for_line(">>> 6 * 7|")


def test_apython_m_asyncio_ends_with_ctrl_d_and_never_aborts(terminal):
    for _ in range(10):
        t = terminal(["-m", "asyncio"])
        t.expect("Try: await")   # apython's console is up
        t.wait_for_line(">>>")
        for _ in range(3):
            t.eof()
            if t.exited(TIMEOUT):
                break
        else:
            raise AssertionError("still running after three Ctrl-D")
        assert (t.child.exitstatus, t.child.signalstatus) == (0, None), (
            "\n".join(t.screen()))


def test_the_program_ending_leaves_a_clean_line_after_a_half_typed_one(
        terminal, write, trigger):
    prog = write("prog.py", """\
import asyncio, sys

async def main():
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    await r.readline()

asyncio.run(main())
print("after the loop", flush=True)
""")
    t = terminal(["--banner=test", prog, trigger.port])
    t.wait_for_line(">>>")
    t.send("half typed")
    t.wait_for_line(">>> half typed")
    trigger.fire()
    assert t.wait() == (0, None)
    assert t.screen()[-2:] == ["after the loop", ""]


def test_ctrl_c_at_the_programs_prompt_is_the_programs(terminal, write,
                                                       trigger):
    prog = write("prog.py", """\
import asyncio, signal, sys

signal.signal(signal.SIGINT, lambda *a: print("program's SIGINT"))

async def main():
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    await r.readline()
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, input, "name? ")
    print("got", repr(line), flush=True)
    await asyncio.sleep(3600)

loop = asyncio.new_event_loop()
loop.run_until_complete(main())
""")
    t = terminal(["--banner=test", prog, trigger.port])
    t.wait_for_line(">>>")
    t.send("")
    trigger.fire()
    t.wait_for_line("name?")
    t.send("bo")
    t.wait_for_line("name? bo")
    t.interrupt()
    t.expect("program's SIGINT\r\n")
    t.send("b\r")
    t.expect("got 'bob'\r\n")
    t.wait_for_line(">>>")
    t.interrupt()
    t.expect("KeyboardInterrupt\r\n")
    t.wait_for_line(">>>")
    run_line(t, "6 * 7", "42")


def test_pdb_in_a_coroutine_keeps_its_completion_and_history_apart(
        terminal, write):
    prog = write("prog.py", """\
import asyncio

async def main():
    x_local = 42
    breakpoint()
    await asyncio.sleep(3600)

asyncio.run(main())
""")
    t = terminal(["--banner=test", prog])
    t.wait_for_line("(Pdb)")
    t.send("p x_lo\t")
    t.wait_for_line("(Pdb) p x_local")
    t.send("\r")
    t.expect("42\r\n")
    t.wait_for_line("(Pdb)")
    t.send("c\r")
    t.wait_for_line(">>>")
    t.send("asyncio.sle\t")
    t.wait_for_line(">>> asyncio.sleep(")
    t.send("\x15")
    run_line(t, "6 * 7", "42")
    t.send(UP + UP + "|")
    t.wait_for_line(">>> 6 * 7|")
    t.send("\x15")
    t.wait_for_line(">>>")
    t.eof()   # pdb took Ctrl-C (as under python3): Ctrl-D ends it here
    assert t.wait() == (0, None)


def test_tab_at_the_prompt_of_a_program_without_readline_is_a_tab(
        terminal, write, trigger):
    t = reader_at_the_console(terminal, write, trigger, """\
    line = await loop.run_in_executor(None, input, "name? ")
    print("got", repr(line), flush=True)""")
    t.send("")
    trigger.fire()
    t.wait_for_line("name?")
    t.send("a\tb\r")
    t.expect("got 'a\\tb'\r\n")
    t.wait_for_line(">>>")
    run_line(t, "6 * 7", "42")
