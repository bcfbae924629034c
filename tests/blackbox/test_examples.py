"""The programs in examples/ under apython: each prints exactly what it prints
under /usr/bin/python3 and ends with the same status, and the console on the
HTTP server's loop sees its request count grow."""

import re
import signal
import socket

import pytest

from conftest import REPO, TIMEOUT

INTERPRETERS = ("apython", "python3")

GREETING = b"200 OK, 43 bytes\n"

SUBPROCESS_PIPES_OUTPUT = b"""\
child answered: HELLO, CHILD
child answered: ASYNCIO PIPES
child exited with status 0 (0 bytes after stdin closed)
communicate: 460000 bytes in, 460000 bytes out, upper-cased: True, status 0
pipe: hello, child
pipe: asyncio pipes
pipe: 1048576 more bytes, all 'x': True, then EOF
"""


@pytest.fixture
def launch(start, start_python):
    """launch(interpreter, args) -> Proc running `-m examples...` from the
    repository under apython (with its console, banner 'test') or python3;
    stdin stays an open pipe until the test closes it."""
    def _launch(interpreter, args):
        if interpreter == "apython":
            return start(["--banner=test", *args], cwd=REPO)
        return start_python(args, cwd=REPO)
    return _launch


def finish(p, interpreter):
    """Wait for a program that ends on its own; return its status after
    checking that apython's console stayed quiet (nothing typed: nothing
    shown, not even the banner)."""
    status = p.wait()
    assert p.stderr == b""
    return status


def start_server(launch, interpreter):
    """Start examples/http_server.py on a port it picks and wait until it
    serves; (process, port)."""
    p = launch(interpreter, ["-m", "examples.http_server", "0"])
    m = p.expect_stdout(re.compile(rb"Serving HTTP on 127\.0\.0\.1:(\d+)\n"))
    return p, int(m.group(1))


def stop_server(p, interpreter):
    """End the server as a user would: EOF at apython's console (after a
    line: an stdin empty from the start is no console), Ctrl-C (SIGINT)
    for python3; return its status."""
    if interpreter == "apython":
        p.send(b"\n")
        p.close_stdin()
    else:
        p.popen.send_signal(signal.SIGINT)
    return p.wait()


def client(launch, interpreter, *args):
    """Run examples/http_client.py with args to its end; (status, stdout)."""
    p = launch(interpreter, ["-m", "examples.http_client", *args])
    return finish(p, interpreter), p.stdout


def subprocess_pipes(launch, interpreter):
    """Run examples/subprocess_pipes.py to its end; (status, stdout)."""
    p = launch(interpreter, ["-m", "examples.subprocess_pipes"])
    return finish(p, interpreter), p.stdout


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_subprocess_pipes_example_prints_what_came_through(launch,
                                                           interpreter):
    assert subprocess_pipes(launch, interpreter) == (0,
                                                     SUBPROCESS_PIPES_OUTPUT)


def test_subprocess_pipes_example_prints_the_same_as_under_python3(launch):
    assert (subprocess_pipes(launch, "apython")
            == subprocess_pipes(launch, "python3"))


@pytest.mark.parametrize("server_interpreter", INTERPRETERS,
                         ids=["server-apython", "server-python3"])
@pytest.mark.parametrize("client_interpreter", INTERPRETERS,
                         ids=["client-apython", "client-python3"])
def test_http_client_and_server_examples_talk_over_keep_alive(
        launch, server_interpreter, client_interpreter):
    server, port = start_server(launch, server_interpreter)
    assert client(launch, client_interpreter, "-n", "3", port) == (
        0, GREETING * 3 + b"3 responses over 1 connection\n")
    assert client(launch, client_interpreter,
                  "-n", "2", "-d", "posted body", port, "/echo") == (
        0, b"200 OK, 11 bytes\n" * 2 + b"2 responses over 1 connection\n")
    assert client(launch, client_interpreter, port, "/echo?query") == (
        0, b"200 OK, 5 bytes\n1 response over 1 connection\n")
    assert client(launch, client_interpreter, port, "/missing") == (
        1, b"404 Not Found, 10 bytes\n1 response over 1 connection\n")
    assert stop_server(server, server_interpreter) == 0
    assert server.stdout == (
        b"Serving HTTP on 127.0.0.1:%d\n" % port
        + b'connection 1: "GET / HTTP/1.1" 200 43\n' * 3
        + b'connection 2: "POST /echo HTTP/1.1" 200 11\n' * 2
        + b'connection 3: "GET /echo?query HTTP/1.1" 200 5\n'
        + b'connection 4: "GET /missing HTTP/1.1" 404 10\n')


def exchange(port, data):
    """Send data on one connection, half-close, return all that comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return received
            received += chunk


def response(status, body, connection="keep-alive"):
    """The exact bytes examples/http_server.py answers with."""
    return (b"HTTP/1.1 %s\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: %s\r\n\r\n%s"
            % (status, len(body), connection.encode(), body))


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_http_server_example_answers_pipelined_requests_on_one_connection(
        launch, interpreter):
    server, port = start_server(launch, interpreter)
    received = exchange(port,
                        b"GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"POST /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
                        b"PUT / HTTP/1.1\r\n\r\n"
                        b"GET / HTTP/1.0\r\n\r\n"
                        b"GET / HTTP/1.1\r\n\r\n")
    assert received == (
        response(b"200 OK", b"a=1")
        + response(b"200 OK", b"body")
        + response(b"404 Not Found", b"Not Found\n")
        + response(b"200 OK", b"Hello from an asyncio streams HTTP server.\n",
                   "close"))
    assert exchange(port, b"NONSENSE\r\n\r\n") == response(
        b"400 Bad Request", b"Bad Request\n", "close")
    assert stop_server(server, interpreter) == 0


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_http_server_example_echoes_a_4_mib_body(launch, interpreter):
    server, port = start_server(launch, interpreter)
    body = bytes(range(256)) * 16384
    received = exchange(port,
                        b"POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n"
                        % len(body) + body
                        + b"GET /echo?done HTTP/1.1\r\n"
                          b"Connection: close\r\n\r\n")
    assert received == (response(b"200 OK", body)
                        + response(b"200 OK", b"done", "close"))
    assert stop_server(server, interpreter) == 0


def test_console_sees_loop_requests_grow_while_the_server_serves(launch):
    server, port = start_server(launch, "apython")
    server.send(b"loop.requests\n")
    server.expect_stderr(b"test\n>>> 0\n>>> ")
    assert client(launch, "apython", "-n", "3", port)[0] == 0
    server.send(b"loop.requests\n")
    server.expect_stderr(b"3\n>>> ")
    assert client(launch, "python3", "-n", "2", port, "/missing")[0] == 1
    server.send(b"loop.requests\n")
    server.expect_stderr(b"5\n>>> ")
    server.send(b"type(loop.requests).__name__\n")
    server.expect_stderr(b"'int'\n>>> ")
    assert stop_server(server, "apython") == 0
    assert server.stderr == (b"test\n>>> 0\n>>> 3\n>>> 5\n>>> 'int'\n"
                             b">>> >>> \n")
    assert server.stdout.count(b"\n") == 6
