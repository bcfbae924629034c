"""What README.md tells a newcomer to type, on a real terminal:

    ./apython -m examples.echo 8888 > echo.log

the program's output goes to the file, the console is on the terminal, and
the echo server answers a socket client meanwhile.  Port 0 stands for
8888 (the server picks a free port and says which in the log)."""

import re
import socket
import time

from conftest import TIMEOUT
from vt import run_line

SERVED = re.compile(rb"\AThe echo service is being served on "
                    rb"127\.0\.0\.1:(\d+)\n")


def wait_for_file(path, pattern):
    """Wait until the file's content matches `pattern`; return the match."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        data = path.read_bytes() if path.exists() else b""
        m = pattern.search(data)
        if m:
            return m
        assert time.monotonic() < deadline, \
            "waited for %r in %s, which holds %r" % (pattern.pattern, path,
                                                     data)
        time.sleep(0.05)


def echo(conn, line):
    """Send a line to the echo server; return its answer."""
    conn.sendall(line)
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        assert chunk, "the echo server closed the connection"
        data += chunk
    return data


def test_echo_example_with_stdout_to_a_file_keeps_the_console_on_the_terminal(
        shell, tmp_path):
    log = tmp_path / "echo.log"
    t = shell('"$APYTHON" -m examples.echo 0 > %s; echo "status=$?"' % log,
              term="dumb")
    t.expect(">>> ")
    port = int(wait_for_file(log, SERVED).group(1))
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=TIMEOUT) as conn:
        assert echo(conn, b"Hello!\n") == b"Hello!\n"
        client = conn.getsockname()
        # Line editing is readline's, though stdout is not the terminal.
        t.send("loop.hi\t")
        t.wait_for_line(">>> loop.history")
        t.send("\r")
        t.expect("['Hello!']\r\n")
        t.wait_for_line(">>>")
        run_line(t, "await asyncio.sleep(1, result=3)", "3")
        assert echo(conn, b"again\n") == b"again\n"
    t.eof()
    t.expect("status=0\r\n")
    assert log.read_bytes() == (
        b"The echo service is being served on 127.0.0.1:%d\n"
        b"Echoed 'Hello!' to %s:%d\n"
        b"Echoed 'again' to %s:%d\n"
        % (port, client[0].encode(), client[1], client[0].encode(),
           client[1]))
    screen = t.screen()
    assert screen[0].startswith("Python 3.")
    assert screen[-7:] == [">>> loop.history", "['Hello!']",
                           ">>> await asyncio.sleep(1, result=3)", "3",
                           ">>>", "status=0", ""]
    assert not [line for line in screen if "echo" in line.lower()]
