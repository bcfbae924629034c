"""apython --connect: a served console with the local experience (readline,
local history, Tab answered by the server, Ctrl-C, Ctrl-D), through a real
pty; and what it does without one."""

import contextlib
import io
import os
import socket
import time

import pexpect
import pytest

from conftest import SANITIZER_REPORT, TIMEOUT
from serving import Client, open_fds, program_until, serve, wait_fds


@pytest.fixture
def connect(apython, clean_env, tmp_path):
    """connect(address, env=None) -> pexpect child running
    `apython --connect ADDRESS` on a pty, HOME in tmp_path. A client the
    test leaves running is ended as its user would, by Ctrl-D at the
    prompt, and must exit 0; none may print a sanitizer report."""
    children = []

    def _connect(address, env=None, args=()):
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        e = clean_env(dict({"HOME": home, "TERM": "xterm"}, **(env or {})))
        child = pexpect.spawn(apython, ["--connect", address, *args],
                              env=e, timeout=TIMEOUT, dimensions=(24, 200))
        child.logfile_read = io.BytesIO()
        children.append(child)
        return child

    yield _connect
    errors = []
    for child in children:
        if child.isalive():
            child.sendeof()
            try:
                child.expect(pexpect.EOF)
            except pexpect.TIMEOUT:
                child.terminate(force=True)
                errors.append("--connect did not end on Ctrl-D: killed")
            child.close()
            if child.exitstatus != 0:
                errors.append("--connect ended by Ctrl-D with status %r "
                              "(signal %r)" % (child.exitstatus,
                                               child.signalstatus))
        else:
            child.close()
        output = child.logfile_read.getvalue()
        if SANITIZER_REPORT.search(output):
            errors.append("sanitizer report from --connect:\n%s"
                          % output.decode(errors="replace"))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_connect_runs_statements_and_ctrl_d_ends_with_0(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact("test\r\n>>> ")
    child.sendline("await asyncio.sleep(0.1, result=6*7)")
    child.expect_exact("42\r\n>>> ")
    child.sendeof()
    assert finish(child) == 0
    assert proc.popen.poll() is None
    c = Client(address)
    assert c.until(b">>> ") == b"test\n>>> "


def test_connect_to_a_unix_socket(start, connect, tmp_path):
    path = str(tmp_path / "s.sock")
    proc, address = serve(start, path)
    child = connect(path)
    child.expect_exact(">>> ")
    child.sendline("'un' + 'ix'")
    child.expect_exact("'unix'\r\n>>> ")
    child.sendline("exit()")
    assert finish(child) == 0


def test_tab_completes_from_the_sessions_namespace(start, connect):
    proc, address = serve(start, ":0", "--locals", "{'unusual_name': 1}")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("my_own_variable = 5")
    child.expect_exact(">>> ")
    child.send("my_own_va\t")
    child.expect_exact("my_own_variable")
    child.send(" + unusual_na\t")
    child.expect_exact("unusual_name")
    child.send("\r")
    child.expect_exact("6\r\n>>> ")
    child.send("await asyncio.slee\t")
    child.expect_exact("asyncio.sleep(")
    child.send("0, 'x')\r")
    child.expect_exact("'x'\r\n>>> ")


def test_tab_at_the_start_of_a_line_indents(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("if True:")
    child.expect_exact("... ")
    child.send("\tx = 3\r")
    child.expect_exact("... ")
    child.sendline("")
    child.expect_exact(">>> ")
    child.sendline("x")
    child.expect_exact("3\r\n>>> ")


def test_ctrl_c_cancels_the_remote_statement_only(start, connect):
    proc, address = serve(start, ":0", "--locals", "{'box': []}")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("t = asyncio.ensure_future(asyncio.sleep(3600))")
    child.expect_exact(">>> ")
    # The result shows only once the statement runs (the echo has ')').
    child.sendline("print('sleep' + 'ing'); await asyncio.sleep(3600)")
    child.expect_exact("sleeping\r\n")
    child.sendintr()
    child.expect_exact("KeyboardInterrupt\r\n>>> ")
    child.sendline("t.done()")
    child.expect_exact("False\r\n>>> ")


def test_ctrl_c_at_the_prompt_drops_the_line(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("if True:")
    child.expect_exact("... ")
    child.send("    x = 1")
    child.expect_exact("    x = 1")
    child.sendintr()
    child.expect_exact("KeyboardInterrupt\r\n>>> ")
    child.sendline("'fre' + 'sh'")
    child.expect_exact("'fresh'\r\n>>> ")
    child.sendline("x")
    child.expect_exact("NameError: name 'x' is not defined\r\n>>> ")


def test_output_arriving_while_typing_keeps_the_line(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("h = loop.call_later(0.5, print, 'late news')")
    child.expect_exact(">>> ")
    child.send("1 + ")
    child.expect_exact("late news\r\n")
    child.expect_exact(">>> 1 + ")
    child.send("1\r")
    child.expect_exact("2\r\n>>> ")


def test_ainput_prompts_through_readline(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("await ainput('name? ')")
    child.expect_exact("name? ")
    child.sendline("bob")
    child.expect_exact("'bob'\r\n>>> ")


def test_history_is_kept_locally(start, connect, tmp_path):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("'remem' + 'bered'")
    child.expect_exact("'remembered'\r\n>>> ")
    child.sendeof()
    assert finish(child) == 0
    history = tmp_path / "home" / ".apython_connect_history"
    assert history.read_text() == "'remem' + 'bered'\n"
    assert oct(history.stat().st_mode & 0o777) == "0o600"
    child = connect(address)
    child.expect_exact(">>> ")
    child.send("\x1b[A")
    child.expect_exact("'remem' + 'bered'")
    child.send("\r")
    child.expect_exact("'remembered'\r\n>>> ")


def test_history_is_cut_back_to_1000_entries_and_keeps_blocks_whole(
        start, connect, tmp_path):
    proc, address = serve(start, ":0")
    home = tmp_path / "home"
    home.mkdir()
    history = home / ".apython_connect_history"
    history.write_bytes(b"".join(b"x%d\n" % i for i in range(1500)) +
                        b"if x:\r\n    y\n")
    child = connect(address)
    child.expect_exact(">>> ")
    child.send("\x1b[A")
    child.expect_exact("    y")
    child.send("\x1b[A")
    child.expect_exact("x1499")
    child.send("\x15")
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")
    child.sendeof()
    assert finish(child) == 0
    assert history.read_bytes() == (
        b"".join(b"x%d\n" % i for i in range(501, 1500)) +
        b"if x:\r\n    y\n6*7\n")
    assert oct(history.stat().st_mode & 0o777) == "0o600"


def test_server_ending_ends_the_client_with_0(start, connect, tmp_path):
    prog, stop = program_until(tmp_path)
    proc, address = serve(start, ":0", prog)
    child = connect(address)
    child.expect_exact(">>> ")
    stop.write_text("")
    assert finish(child) == 0
    assert b"lost" not in child.logfile_read.getvalue()


def test_killed_server_is_one_line_and_status_1(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    proc.popen.kill()
    child.expect_exact("apython: connection to %s lost\r\n" % address)
    assert finish(child) == 1
    assert child.before == b""


def test_server_ended_by_sigterm_ends_the_client_with_0(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")
    proc.popen.terminate()
    assert finish(child) == 0
    assert b"lost" not in child.logfile_read.getvalue()


@contextlib.contextmanager
def refusing_port():
    """A port bound on 127.0.0.1 and ::1 without listening: connecting to
    it is refused, and nothing else can take it meanwhile (a port found
    free and let go could be)."""
    for _ in range(20):
        with socket.socket() as v4, socket.socket(socket.AF_INET6) as v6:
            v4.bind(("127.0.0.1", 0))
            port = v4.getsockname()[1]
            try:
                v6.bind(("::1", port))
            except OSError:
                if socket.has_ipv6 and os.path.exists("/proc/net/if_inet6"):
                    continue
            yield port
            return
    raise AssertionError("no port free on both 127.0.0.1 and ::1")


def test_nothing_listening_is_one_line_and_status_1(run, tmp_path):
    with refusing_port() as port:
        cp = run(["--connect", "127.0.0.1:%d" % port])
    assert cp.returncode == 1
    assert cp.stderr == b"apython: cannot connect to 127.0.0.1:%d: " \
        b"Connection refused\n" % port
    with refusing_port() as port:
        cp = run(["--connect", ":%d" % port])
    assert cp.returncode == 1
    assert cp.stderr == b"apython: cannot connect to localhost:%d: " \
        b"Connection refused\n" % port
    path = tmp_path / "none.sock"
    cp = run(["--connect", path])
    assert cp.returncode == 1
    assert cp.stderr == b"apython: cannot connect to %s: No such file or " \
        b"directory\n" % str(path).encode()


def test_bad_connect_address_is_a_usage_error(run):
    cp = run(["--connect", "abc"])
    assert cp.returncode == 2
    assert cp.stderr.endswith(b"apython: error: 'abc' is not a valid server "
                              b"[HOST:]PORT\n")
    cp = run(["--connect", ":1", "-m", "x"])
    assert cp.returncode == 2


def test_without_a_terminal_it_reads_lines_like_nc(start, run):
    proc, address = serve(start, ":0")
    cp = run(["--connect", address],
             input=b"1+1\nawait asyncio.sleep(0.1, result='a')\n")
    assert cp.stdout == b"test\n>>> 2\n>>> 'a'\n>>> \n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_secret_from_the_environment_is_sent_first(start, run):
    env = {"APYTHON_SECRET": "s3cret"}
    proc, address = serve(start, ":0", env=env)
    cp = run(["--connect", address], input=b"'in'\n", env=env)
    assert cp.stdout == b"test\n>>> 'in'\n>>> \n"
    assert cp.returncode == 0
    cp = run(["--connect", address], input=b"'in'\n")
    assert cp.stdout == b""
    assert cp.stderr == b"apython: refused: this console needs a secret " \
        b"(APYTHON_SECRET)\n"
    assert cp.returncode == 1
    cp = run(["--connect", address], input=b"'in'\n",
             env={"APYTHON_SECRET": "wrong"})
    assert cp.stderr == b"apython: refused: wrong secret\n"
    assert cp.returncode == 1


def test_plain_clients_never_see_the_protocol(start, connect):
    proc, address = serve(start, ":0")
    framed = connect(address)
    framed.expect_exact(">>> ")
    plain = Client(address)
    plain.send(b"'apython-connect 1'\n1+1\n")
    plain.half_close()
    assert plain.rest() == b"test\n>>> 'apython-connect 1'\n>>> 2\n>>> \n"


def test_a_secret_the_server_does_not_need_is_ignored(start, run):
    proc, address = serve(start, ":0")
    cp = run(["--connect", address], input=b"'in'\n",
             env={"APYTHON_SECRET": "unneeded"})
    assert cp.stdout == b"test\n>>> 'in'\n>>> \n"
    assert cp.returncode == 0


def test_tab_completes_module_names_after_import(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.send("import asyncio.even\t")
    child.expect_exact("asyncio.events")
    child.send("\r")
    child.expect_exact(">>> ")
    child.sendline("asyncio.events.__name__")
    child.expect_exact("'asyncio.events'\r\n>>> ")


SWALLOW = (b"async def swallow():\n"
           b"    while 'stop' not in box:\n"
           b"        try:\n"
           b"            await asyncio.sleep(0.05)\n"
           b"        except asyncio.CancelledError:\n"
           b"            box.append('interrupted')\n"
           b"\n")


def wait_for_box(watcher, want):
    """Ask through watcher until box.count('interrupted') is want."""
    for _ in range(TIMEOUT * 10):
        got = watcher.run(b"box.count('interrupted')")
        if got == b"%d\n>>> " % want:
            return
        time.sleep(0.1)
    raise AssertionError("box.count('interrupted') stays %r, not %d"
                         % (got, want))


def test_three_unanswered_ctrl_c_leave_with_a_message_and_status_1(
        start, connect):
    proc, address = serve(start, ":0", "--locals", "{'box': []}")
    watcher = Client(address)
    watcher.until(b">>> ")
    child = connect(address)
    child.expect_exact(">>> ")
    # A statement that swallows its cancellation: Ctrl-C gets no answer.
    child.send(SWALLOW.decode().replace("\n", "\r"))
    child.expect_exact(">>> ")
    child.sendline("print('swallow' + 'ing'); await swallow()")
    child.expect_exact("swallowing\r\n")
    for count in (1, 2):
        child.sendintr()
        wait_for_box(watcher, count)
    child.sendintr()
    child.expect_exact("apython: %s: no answer to Ctrl-C; leaving\r\n"
                       % address)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    # Leaving closed the connection, which cancels the statement once more;
    # the server and its other sessions go on.
    wait_for_box(watcher, 3)
    assert watcher.run(b"box.append('stop'); 6*7") == b"42\n>>> "
    assert proc.popen.poll() is None


# input() in a served statement, and the history of statements.

def test_connect_input_shows_the_prompt_and_sends_the_line(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("input('x' '? ') * 2")
    child.expect_exact("x? ")
    child.send("hel")
    child.send("\x01")      # Ctrl-A: line editing at input()'s prompt
    child.send("o, \r")
    child.expect_exact("'o, helo, hel'\r\n>>> ")


def test_connect_ctrl_c_at_input_raises_keyboardinterrupt_there(start,
                                                                connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("try:\r    input('x' '? ')\rexcept KeyboardInterrupt:\r"
                   "    print('caught')\r")
    child.expect_exact("x? ")
    child.sendintr()
    child.expect_exact("caught\r\n>>> ")
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")


def test_connect_ctrl_d_at_input_is_eoferror_and_the_session_goes_on(
        start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("input('x' '? ')")
    child.expect_exact("x? ")
    child.sendeof()
    child.expect_exact("EOFError\r\n>>> ")
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")


def test_connect_killed_during_input_ends_only_its_session(start, connect):
    proc, address = serve(start, ":0")
    other = Client(address)
    assert other.until(b">>> ") == b"test\n>>> "
    before = open_fds(proc.popen.pid)
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("input('x' '? ')")
    child.expect_exact("x? ")
    child.kill(9)
    child.expect(pexpect.EOF)
    wait_fds(proc.popen.pid, before)
    assert other.run(b"6*7") == b"42\n>>> "
    assert proc.popen.poll() is None


def test_connect_history_keeps_a_block_as_one_entry(start, connect,
                                                    tmp_path):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    for line in ("def f():", "    x = 6", "    return x * 7", ""):
        child.sendline(line)
    child.expect_exact("... \r\n>>> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    history = tmp_path / "home" / ".apython_connect_history"
    assert history.read_bytes() == (
        b"def f():\r\n    x = 6\r\n    return x * 7\n")
    child = connect(address)
    child.expect_exact(">>> ")
    child.send("\x1b[A")
    child.expect_exact("    return x * 7")
    child.send("\r\r")
    child.expect_exact(">>> ")
    child.sendline("f()")
    child.expect_exact("42\r\n>>> ")
