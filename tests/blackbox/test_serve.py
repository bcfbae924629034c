"""--serve: the console on TCP and unix sockets (behaviour.md, "--serve"):
plain clients byte for byte, a console per client, what ends a session,
who may connect, robustness, and apython.start_console_server."""

import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import PROGRAMS, TIMEOUT
from serving import (Client, fds_without, open_fds, port_of, program_until,
                     serve, wait_fds)


def other_host_ip():
    """An address of this machine that is not loopback, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


# Serving: where, and what a plain client sees.

def test_serve_says_where_on_stdout(start):
    proc, address = serve(start, ":0")
    assert address.startswith("127.0.0.1:")
    assert 0 < port_of(address) < 65536
    assert proc.stdout == b"The console is being served on %s\n" % \
        address.encode()


def test_nc_client_gets_banner_result_and_prompt_byte_for_byte(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    assert c.until(b"\n") == b"test\n"
    c.send(b"1+1\n")
    assert c.until(b">>> 2\n") == b">>> 2\n"
    c.half_close()
    assert c.rest() == b">>> \n"


def test_piped_lines_and_half_close_give_python3s_bytes(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.send(b"def x():\n    print(1)\n    print(2)\n\nx()\n")
    c.half_close()
    assert c.rest() == b"test\n>>> ... ... ... >>> 1\n2\n>>> \n"


def test_port_alone_serves_ipv4_and_ipv6_loopback(start):
    proc, address = serve(start, "0")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", address)
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    c = Client(address, host="::1")
    c.send(b"6*7\n")
    c.half_close()
    assert c.rest() == b"test\n>>> 42\n>>> \n"


def test_bracketed_ipv6_address(start):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    proc, address = serve(start, "[::1]:0")
    assert address.startswith("[::1]:")
    c = Client(address, host="::1")
    c.send(b"'v6'\n")
    c.half_close()
    assert c.rest() == b"test\n>>> 'v6'\n>>> \n"


def test_loopback_is_not_reachable_from_other_addresses(start):
    ip = other_host_ip()
    if ip is None:
        pytest.skip("no address but loopback")
    proc, address = serve(start, ":0")
    with pytest.raises(OSError):
        Client(address, host=ip, timeout=2)


def test_busy_port_is_an_error_with_status_2(start, run):
    proc, address = serve(start, ":0")
    cp = run(["--serve", address], input=b"")
    assert cp.returncode == 2
    assert cp.stdout == b""
    assert cp.stderr.startswith(b"apython: error: cannot listen on")
    assert cp.stderr.count(b"\n") == 1


def test_served_console_replaces_the_local_one(start):
    proc, address = serve(start, ":0", os.path.join(PROGRAMS, "forever.py"))
    proc.send(b"1+1\n")
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"loop.is_running()") == b"True\n>>> "
    c.send(b"import __main__; __main__.FOREVER.set_result(None)\n")
    assert proc.wait() == 0
    # Complete streams: no banner, prompt or answer to "1+1" at the
    # terminal's place, and the program's stdin left to it.
    assert proc.stderr == b""
    assert proc.stdout == b"The console is being served on %s\n" \
        b"started\nafter\n" % address.encode()


def test_served_console_runs_on_the_programs_loop(start, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        "import asyncio\n"
        "async def main():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    loop.ticks = 0\n"
        "    while True:\n"
        "        loop.ticks += 1\n"
        "        print('tick', flush=True)\n"
        "        await asyncio.sleep(0.05)\n"
        "asyncio.run(main())\n")
    proc, address = serve(start, ":0", prog)
    proc.expect_stdout(b"tick\n")
    c = Client(address)
    assert c.until(b">>> ") == b"test\n>>> "
    assert c.run(b"loop.ticks > 0") == b"True\n>>> "
    assert c.run(b"print('to the client')") == b"to the client\n>>> "
    assert b"to the client" not in proc.stdout


# A console per client.

def test_each_client_has_its_own_namespace(start):
    proc, address = serve(start, ":0")
    a, b = Client(address), Client(address)
    a.until(b">>> ")
    b.until(b">>> ")
    assert a.run(b"x = 1; x") == b"1\n>>> "
    assert b"NameError: name 'x' is not defined" in b.run(b"x")
    assert a.run(b"x") == b"1\n>>> "


def test_namespace_has_asyncio_loop_ainput_and_locals(start):
    proc, address = serve(start, ":0", "--locals", "{'answer': 42}")
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"asyncio.__name__, answer") == b"('asyncio', 42)\n>>> "
    assert c.run(b"loop is asyncio.get_running_loop()") == b"True\n>>> "
    assert c.run(b"ainput.__name__") == b"'ainput'\n>>> "


def test_default_banner_is_the_consoles(start):
    proc = start(["--serve", ":0"])
    address = proc.expect_stdout(re.compile(rb"served on (\S+)\n")).group(
        1).decode()
    c = Client(address)
    banner = c.until(b">>> ")
    assert banner.startswith(b"Python 3.")
    assert b"await asyncio.sleep(1, result=3)\n---\n>>> " in banner


def test_output_goes_to_the_client_whose_code_wrote_it(start):
    proc, address = serve(start, ":0")
    a, b = Client(address), Client(address)
    a.until(b">>> ")
    b.until(b">>> ")
    got = a.run(b"import sys; print('p'); sys.stdout.write('w\\n'); "
                b"sys.stderr.write('e\\n')")
    assert got == b"p\nw\n2\ne\n2\n>>> "
    a.run(b"t = asyncio.ensure_future(asyncio.sleep(0.1)); "
          b"t.add_done_callback(lambda t: print('later'))")
    assert a.until(b"later\n") == b"later\n"
    # Had b been sent "later", it would come before b's answer.
    assert b.run(b"1") == b"1\n>>> "
    assert proc.stdout.count(b"\n") == 1
    assert b"later" not in proc.stderr


def test_traceback_goes_to_the_client(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"1/0") == (b"Traceback (most recent call last):\n"
                             b'  File "<console>", line 1, in <module>\n'
                             b"ZeroDivisionError: division by zero\n>>> ")


def test_ainput_reads_a_line_from_its_client(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.send(b"await ainput('name? ')\n")
    c.until(b"name? ")
    assert c.run(b"bob") == b"'bob'\n>>> "


def test_a_slow_statement_does_not_hold_other_clients(start):
    proc, address = serve(start, ":0")
    slow, fast = Client(address), Client(address)
    slow.until(b">>> ")
    fast.until(b">>> ")
    slow.send(b"print('slow'); await asyncio.sleep(3600)\n")
    slow.until(b"slow\n")
    assert fast.run(b"await asyncio.sleep(0.1, result='fast')") == \
        b"'fast'\n>>> "


# What ends a session: only that session.

def test_exit_ends_only_that_session(start):
    proc, address = serve(start, ":0")
    a, b = Client(address), Client(address)
    a.until(b">>> ")
    b.until(b">>> ")
    a.send(b"exit()\n1+1\n")
    assert a.rest() == b""
    assert b.run(b"2+2") == b"4\n>>> "
    assert proc.popen.poll() is None


def test_exit_leaves_the_programs_stdin_open(start, tmp_path):
    prog, flag = program_until(tmp_path,
                               "print('stdin closed:', sys.stdin.closed)")
    proc, address = serve(start, ":0", prog)
    c = Client(address)
    c.send(b"exit\nquit()\n")
    assert c.rest() == b"test\n>>> Use exit() or Ctrl-D (i.e. EOF) to " \
        b"exit\n>>> "
    flag.write_text("")
    proc.expect_stdout(b"stdin closed: False\n")
    assert proc.wait() == 0


def test_exit_and_quit_are_apython_quitters_that_raise_system_exit(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"type(exit).__module__, type(exit).__name__, "
                 b"type(quit) is type(exit)") == \
        b"('apython', 'Quitter', True)\n>>> "
    assert c.run(b"type(exit).__doc__") == \
        b"'exit() and quit() of a served console.'\n>>> "
    assert c.run(b"repr(quit)") == \
        b"'Use quit() or Ctrl-D (i.e. EOF) to exit'\n>>> "
    assert c.run(b"try: exit(code=3)\nexcept SystemExit as e: e.code\n") \
        == b"... ... 3\n>>> "
    assert c.run(b"try: quit()\nexcept SystemExit as e: e.code\n") \
        == b"... ... >>> "


def test_exit_with_a_message_shows_it(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.send(b"exit('bye')\n")
    assert c.rest() == b"test\n>>> bye\n"


def test_exit_in_an_awaiting_statement_ends_the_session(start):
    proc, address = serve(start, ":0")
    c, other = Client(address), Client(address)
    other.until(b">>> ")
    c.send(b"await asyncio.sleep(0.1); exit(3)\n")
    assert c.rest() == b"test\n>>> "
    assert other.run(b"'still' + ' here'") == b"'still here'\n>>> "


def test_half_close_lets_the_running_statement_finish(start):
    # The statement waits for a future the other client resolves once
    # the half-close was sent (and is there to read on the server).
    proc, address = serve(start, ":0", "--locals", "{'box': []}")
    c, other = Client(address), Client(address)
    c.until(b">>> ")
    other.until(b">>> ")
    c.send(b"f = asyncio.get_running_loop().create_future(); box.append(f); "
           b"print('sleeping'); await f\n")
    c.until(b"sleeping\n")
    c.half_close()
    assert other.run(b"box[0].set_result(5)") == b">>> "
    assert c.rest() == b"5\n>>> \n"


def statement_and_watcher(start, where):
    """Serve on where; client a runs a statement that notes its own
    cancellation in a list it shares with client b; return (a, b)."""
    proc, address = serve(start, where, "--locals", "{'box': []}")
    a, b = Client(address), Client(address)
    a.until(b">>> ")
    b.until(b">>> ")
    a.send(b"try:\n    print('sleeping')\n    await asyncio.sleep(3600)\n"
           b"finally:\n    box.append('cancelled')\n\n")
    a.until(b"... ... ... ... ... sleeping\n")
    return a, b


def assert_cancelled_soon(b, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while b.run(b"box") != b"['cancelled']\n>>> ":
        assert time.monotonic() < deadline, "not cancelled"
        time.sleep(0.1)


def test_reset_cancels_the_running_statement(start):
    a, b = statement_and_watcher(start, ":0")
    a.reset()
    assert_cancelled_soon(b)


def test_unix_client_that_closes_cancels_its_statement(start, tmp_path):
    a, b = statement_and_watcher(start, str(tmp_path / "s.sock"))
    a.close()
    assert_cancelled_soon(b)


def test_client_gone_after_half_close_is_found_and_cancelled(start,
                                                            tmp_path):
    # a's statement says 'waiting' each time b resolves the future it
    # waits on: after the half-close it still runs and a still reads it.
    proc, address = serve(start, str(tmp_path / "s.sock"), "--locals",
                          "{'box': [], 'pings': []}")
    a, b = Client(address), Client(address)
    a.until(b">>> ")
    b.until(b">>> ")
    a.send(b"try:\n"
           b"    while True:\n"
           b"        f = asyncio.get_running_loop().create_future()\n"
           b"        pings.append(f)\n"
           b"        print('waiting')\n"
           b"        await f\n"
           b"finally:\n"
           b"    box.append('cancelled')\n\n")
    assert a.until(b"waiting\n") == b"... " * 8 + b"waiting\n"
    a.half_close()
    assert b.run(b"pings[-1].set_result(None)") == b">>> "
    assert a.until(b"waiting\n") == b"waiting\n"
    assert b.run(b"box, len(pings)") == b"([], 2)\n>>> "
    a.close()
    assert_cancelled_soon(b)


def test_program_exit_closes_sessions_and_removes_the_socket(start,
                                                             tmp_path):
    prog, flag = program_until(tmp_path, "print('done', flush=True)")
    path = str(tmp_path / "s.sock")
    proc, address = serve(start, path, prog)
    c = Client(path)
    c.until(b">>> ")
    c.send(b"print('sleeping'); await asyncio.sleep(3600)\n")
    c.until(b"sleeping\n")
    flag.write_text("")
    assert c.rest() == b""
    assert proc.wait() == 0
    assert proc.stdout.endswith(b"done\n")
    assert not os.path.exists(path)


def test_sessions_follow_the_program_from_loop_to_loop(start, tmp_path):
    prog = tmp_path / "prog.py"
    flag = tmp_path / "next"
    prog.write_text(
        "import asyncio, os\n"
        "async def phase(n):\n"
        "    asyncio.get_running_loop().phase = n\n"
        "    while not os.path.exists(%r + str(n)):\n"
        "        await asyncio.sleep(0.05)\n"
        "asyncio.run(phase(1))\n"
        "asyncio.run(phase(2))\n" % str(flag))
    proc, address = serve(start, ":0", prog)
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"loop.phase") == b"1\n>>> "
    open(str(flag) + "1", "w").close()
    deadline = time.monotonic() + TIMEOUT
    while c.run(b"asyncio.get_running_loop().phase") != b"2\n>>> ":
        assert time.monotonic() < deadline, "still on the first loop"
        time.sleep(0.1)
    open(str(flag) + "2", "w").close()
    assert proc.wait() == 0


def test_kill_int_ends_a_server_whose_client_holds_the_cpu(start):
    # design.md: every SIGINT but a Ctrl-C typed at the console's own
    # terminal reaches the program; serving alone, it ends the server.
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.run(b"import itertools")
    # It says so once it spins.
    c.send(b"for i in itertools.count():\n"
           b"    if i == 0: print('busy')\n"
           b"\n")
    c.until(b"busy\n")
    proc.popen.send_signal(signal.SIGINT)
    # A few seconds show it goes on (the process is ended at teardown).
    assert proc.wait(5) == 0
    assert proc.stderr == b""


def test_serving_alone_ends_quietly_on_ctrl_c_and_sigterm(start, tmp_path):
    for sig in (signal.SIGINT, signal.SIGTERM):
        path = str(tmp_path / ("s%d.sock" % sig))
        proc, address = serve(start, path)
        c = Client(path)
        c.until(b">>> ")
        proc.popen.send_signal(sig)
        assert proc.wait() == 0
        assert proc.stderr == b""
        assert c.rest() == b""
        assert not os.path.exists(path)


# Unix sockets.

def test_unix_socket_is_0600_and_removed_at_exit(start, tmp_path):
    path = str(tmp_path / "s.sock")
    proc, address = serve(start, path)
    assert address == path
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    c = Client(path)
    c.send(b"1+1\n")
    c.half_close()
    assert c.rest() == b"test\n>>> 2\n>>> \n"
    proc.popen.send_signal(signal.SIGINT)
    assert proc.wait() == 0
    assert not os.path.exists(path)


def test_stale_unix_socket_is_replaced(start, tmp_path):
    path = str(tmp_path / "s.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    proc, address = serve(start, path)
    c = Client(path)
    c.send(b"'fresh'\n")
    c.half_close()
    assert c.rest() == b"test\n>>> 'fresh'\n>>> \n"


def test_live_unix_socket_is_not_stolen(start, run, tmp_path):
    path = str(tmp_path / "s.sock")
    proc, address = serve(start, path)
    cp = run(["--serve", path], input=b"")
    assert cp.returncode == 2
    assert cp.stderr == b"apython: error: %s: something is already " \
        b"listening there\n" % path.encode()
    c = Client(path)
    c.send(b"'first'\n")
    c.half_close()
    assert c.rest() == b"test\n>>> 'first'\n>>> \n"


def test_a_file_in_the_way_is_left_alone(run, tmp_path):
    path = tmp_path / "file"
    path.write_text("data")
    cp = run(["--serve", str(path)], input=b"")
    assert cp.returncode == 2
    assert cp.stderr == b"apython: error: %s exists and is not a socket\n" \
        % str(path).encode()
    assert path.read_text() == "data"


def test_unix_peer_of_another_user_is_refused(start):
    if os.geteuid() != 0:
        pytest.skip("needs root to be another user")
    where = tempfile.TemporaryDirectory(dir="/tmp")
    os.chmod(where.name, 0o755)
    path = os.path.join(where.name, "s.sock")
    proc, address = serve(start, path)
    os.chmod(path, 0o666)
    code = ("import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
            "s.sendall(b'1+1\\n')\n"
            "data = b''\n"
            "while True:\n"
            "    chunk = s.recv(4096)\n"
            "    if not chunk: break\n"
            "    data += chunk\n"
            "sys.stdout.buffer.write(data)\n")
    cp = subprocess.run(["/usr/bin/python3", "-c", code, path],
                        stdout=subprocess.PIPE, timeout=10, user=65534)
    assert cp.stdout == b"apython: refused: this console belongs to " \
        b"another user\n"


# Other hosts, and the secret.

def test_other_hosts_are_warned_about_and_refused(start):
    ip = other_host_ip()
    if ip is None:
        pytest.skip("no address but loopback")
    proc, address = serve(start, "0.0.0.0:0")
    proc.expect_stderr(b"apython: warning: the console is served on "
                       b"0.0.0.0:%d, which other hosts can reach"
                       % port_of(address))
    c = Client(address, host=ip)
    c.send(b"1+1\n")
    assert c.rest() == b"apython: refused: this console takes clients " \
        b"from other hosts only with a secret, and none is set\n"
    local = Client(address)
    local.send(b"1+1\n")
    local.half_close()
    assert local.rest() == b"test\n>>> 2\n>>> \n"


def test_with_a_secret_the_first_line_must_be_it(start):
    ip = other_host_ip()
    proc, address = serve(start, "0.0.0.0:0",
                          env={"APYTHON_SECRET": "s3cret"})
    # A session that stays: the loop and its fds are up.
    stays = Client(address)
    stays.send(b"s3cret\n")
    stays.until(b">>> ")
    assert stays.run(b"'up'") == b"'up'\n>>> "
    before = open_fds(proc.popen.pid)
    host = ip or "127.0.0.1"
    good = Client(address, host=host)
    good.send(b"s3cret\n1+1\n")
    good.half_close()
    assert good.rest() == b"test\n>>> 2\n>>> \n"
    bad = Client(address, host=host)
    bad.send(b"guess\n1+1\n")
    assert bad.rest() == b"apython: refused: wrong secret\n"
    local = Client(address)
    local.send(b"1+1\n")
    assert local.rest() == b"apython: refused: wrong secret\n"
    # Each is closed once its client closes.
    for c in (good, bad, local):
        c.close()
    wait_fds(proc.popen.pid, before)


def test_secret_from_a_0600_file(start, run, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    secret.chmod(0o644)
    cp = run(["--serve", ":0"], env={"APYTHON_SECRET_FILE": secret},
             input=b"")
    assert cp.returncode == 2
    assert b"must be a file of yours that only you can read" in cp.stderr
    secret.chmod(0o600)
    proc, address = serve(start, ":0",
                          env={"APYTHON_SECRET_FILE": secret})
    c = Client(address)
    c.send(b"from-file\n'in'\n")
    c.half_close()
    assert c.rest() == b"test\n>>> 'in'\n>>> \n"


# Robustness.

def test_huge_line_is_dropped_with_an_error(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.send(b"x" * (3 * 1024 * 1024) + b"\n")
    assert c.until(b">>> ") == b"apython: a line over 1048576 bytes was " \
        b"dropped\n>>> "
    assert c.run(b"1+1") == b"2\n>>> "


def test_invalid_utf8_is_replaced(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"'a\x80\xc3b'") == "'a\ufffd\ufffdb'\n>>> ".encode()


def test_nul_bytes_are_a_clear_error(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    assert b"null bytes" in c.run(b"1\x00+1")
    assert c.run(b"1+1") == b"2\n>>> "


def test_telnet_negotiation_is_ignored_and_ip_interrupts(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.send(b"\xff\xfd\x01\xff\xfb\x03\xff\xfa\x18\x00xterm\xff\xf0"
           b"1+1\r\n")
    assert c.until(b">>> ") == b"test\n>>> "
    assert c.until(b">>> ") == b"2\n>>> "
    c.send(b"print('sleeping'); await asyncio.sleep(3600)\r\n")
    c.until(b"sleeping\n")
    c.send(b"\xff\xf4\xff\xfd\x06")
    assert c.until(b">>> ") == b"KeyboardInterrupt\n>>> "
    # IAC IAC is one 255 byte, which is not UTF-8.
    assert c.run(b"len('\xff\xff')\r") == b"1\n>>> "


def test_garbage_and_resets_never_take_the_server_down(start):
    proc, address = serve(start, ":0")
    warm = Client(address)
    warm.until(b">>> ")
    before = fds_without(proc.popen.pid, warm)
    for i in range(20):
        c = Client(address)
        c.send(os.urandom(200000))
        if i % 2:
            c.reset()
        else:
            c.close()
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"1+1") == b"2\n>>> "
    assert proc.popen.poll() is None
    # The closed clients' lines run out, then their sessions go.
    wait_fds(proc.popen.pid, before + 1)


def test_100_clients_at_once_each_get_their_own_answer(start):
    proc, address = serve(start, ":0", "--locals", "{'box': []}")
    warm = Client(address)
    warm.until(b">>> ")
    before = fds_without(proc.popen.pid, warm)
    clients = [Client(address) for i in range(100)]
    for c in clients:
        c.until(b">>> ")
    # Each statement ends only once all 100 run at the same time.
    for i, c in enumerate(clients):
        c.send(b"box.append(%d)\n"
               b"while len(box) < 100:\n"
               b"    await asyncio.sleep(0.01)\n"
               b"\n"
               b"%d\n" % (i, i))
    for i, c in enumerate(clients):
        assert c.until(b"\n>>> ") == b">>> ... ... >>> %d\n>>> " % i
    for c in clients:
        c.close()
    wait_fds(proc.popen.pid, before)


def test_1000_connections_leak_no_file_descriptor(start):
    proc, address = serve(start, ":0")
    warm = Client(address)
    warm.until(b">>> ")
    before = fds_without(proc.popen.pid, warm)
    for i in range(1000):
        c = Client(address)
        if i % 4 == 0:
            c.reset()
        elif i % 4 == 1:
            c.send(b"1+1\n")
            c.half_close()
            assert c.rest() == b"test\n>>> 2\n>>> \n"
        elif i % 4 == 2:
            c.until(b">>> ")
            c.send(b"await asyncio.sleep(1)\n")
            c.close()
        else:
            c.close()
    wait_fds(proc.popen.pid, before)
    c = Client(address)
    c.until(b">>> ")
    assert c.run(b"1+1") == b"2\n>>> "


# apython.start_console_server.

API_PROGRAM = """\
import apython, asyncio, os, sys
async def main():
    server = await apython.start_console_server({where}, locals={{'answer': 42}},
                                                banner='api')
    print(server.address, server.sockets[0].getsockname(), flush=True)
    while not os.path.exists({stop!r}):
        await asyncio.sleep(0.05)
    server.close()
    await server.wait_closed()
    print('closed', server.is_serving(), flush=True)
asyncio.run(main())
"""


def test_start_console_server_serves_tcp_and_closes(start, tmp_path):
    stop = str(tmp_path / "stop")
    prog = tmp_path / "prog.py"
    prog.write_text(API_PROGRAM.format(where="port=0", stop=stop))
    proc = start([prog])
    m = proc.expect_stdout(re.compile(rb"\('127\.0\.0\.1', (\d+)\) "
                                      rb"\('127\.0\.0\.1', (\d+)\)\n"))
    assert m.group(1) == m.group(2)
    c = Client("127.0.0.1:%s" % m.group(1).decode())
    assert c.until(b">>> ") == b"api\n>>> "
    assert c.run(b"answer") == b"42\n>>> "
    c.send(b"await asyncio.sleep(30)\n")
    open(stop, "w").close()
    assert c.rest() == b""
    proc.expect_stdout(b"closed False\n")
    assert proc.wait() == 0


def test_start_console_server_on_a_unix_socket(start, tmp_path):
    stop = str(tmp_path / "stop")
    path = str(tmp_path / "api.sock")
    prog = tmp_path / "prog.py"
    prog.write_text(API_PROGRAM.format(where="path=%r" % path, stop=stop))
    proc = start([prog])
    proc.expect_stdout(b"%s %s\n" % (path.encode(), path.encode()))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    c = Client(path)
    c.send(b"answer\n")
    c.half_close()
    assert c.rest() == b"api\n>>> 42\n>>> \n"
    open(stop, "w").close()
    proc.expect_stdout(b"closed False\n")
    assert proc.wait() == 0
    assert not os.path.exists(path)


def test_start_console_server_needs_an_address(run, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        "import apython, asyncio\n"
        "async def main():\n"
        "    for kw in ({}, {'port': 1, 'path': '/x'}, {'port': 70000}):\n"
        "        try:\n"
        "            await apython.start_console_server(**kw)\n"
        "        except (TypeError, ValueError) as e:\n"
        "            print(type(e).__name__)\n"
        "asyncio.run(main())\n")
    cp = run([prog])
    assert cp.stdout == b"TypeError\nTypeError\nValueError\n"
    assert cp.returncode == 0
