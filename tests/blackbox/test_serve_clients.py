"""--serve seen by clients the tests do not write themselves (Debian's
netcat-openbsd), and by a client that stops reading: the 8 MiB of unsent
output a session may have (serve/serve.h, SERVE_OUTPUT_MAX)."""

import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import TIMEOUT, Proc, clean_env
from serving import Client, open_fds, port_of, program_until, rss_kib, serve

OUTPUT_MAX = 8 * 1024 * 1024


def openbsd_nc():
    """The path of netcat-openbsd's nc, or skip (tests/run installs it)."""
    nc = shutil.which("nc")
    if nc is None:
        pytest.skip("no nc (Debian: netcat-openbsd)")
    cp = subprocess.run([nc, "-h"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=TIMEOUT)
    if b"OpenBSD netcat" not in cp.stdout:
        pytest.skip("nc is not netcat-openbsd")
    return nc


def test_nc_reads_the_banner_and_the_result_then_half_closes(start):
    nc = openbsd_nc()
    proc, address = serve(start, ":0")
    # -N: shut the socket down for writing at the end of stdin.
    client = Proc([nc, "-N", "127.0.0.1", str(port_of(address))])
    try:
        client.expect_stdout(b"test\n>>> ")
        client.send(b"1+1\n")
        client.expect_stdout(b"2\n>>> ")
        client.close_stdin()
        assert client.wait() == 0
    finally:
        client.kill()
    assert client.stdout == b"test\n>>> 2\n>>> \n"
    assert client.stderr == b""
    assert proc.popen.poll() is None


def test_nc_with_piped_lines_gets_python3s_bytes(start, tmp_path):
    nc = openbsd_nc()
    path = str(tmp_path / "s.sock")
    proc, address = serve(start, path)
    cp = subprocess.run([nc, "-N", "-U", path],
                        input=b"def x():\n    print(1)\n    print(2)\n\nx()\n",
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        env=clean_env(), timeout=TIMEOUT)
    assert cp.stdout == b"test\n>>> ... ... ... >>> 1\n2\n>>> \n"
    assert cp.stderr == b""
    assert cp.returncode == 0


# A client that does not read.

def slow_reader(address):
    """A client whose socket buffers as little as the kernel allows, so
    that what the server cannot send stays in the server."""
    return Client(address, rcvbuf=4096)


def wait_for(client, expr, want):
    """Ask through client until expr gives want (bytes, with the prompt)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        got = client.run(expr)
        if got == want:
            return
        assert time.monotonic() < deadline, (expr, got, want)
        time.sleep(0.1)


def drain(client, n=None):
    """Read n bytes (None: until the server closes) as fast as they come;
    what came after the end of client.data."""
    buf = bytearray(client.data)
    client.data = b""
    deadline = time.monotonic() + TIMEOUT
    while n is None or len(buf) < n:
        left = deadline - time.monotonic()
        assert left > 0, "%d bytes came, not %r" % (len(buf), n)
        client.sock.settimeout(left)
        try:
            chunk = client.sock.recv(1 << 20)
        except socket.timeout:
            continue
        if not chunk:
            assert n is None, "closed after %d of %d bytes" % (len(buf), n)
            break
        buf += chunk
    return bytes(buf)


def is_lines_of_x(data, width):
    """Whether data is lines of width x's, the last maybe cut short."""
    return re.fullmatch(rb"(x{%d}\n)*x*" % width, data) is not None


def test_8_mib_of_output_waits_for_a_client_that_does_not_read(start):
    proc, address = serve(start, ":0", "--locals", "{'box': []}")
    other = Client(address)
    other.until(b">>> ")
    c = slow_reader(address)
    c.until(b">>> ")
    # With the newline, exactly 8 MiB; then the prompt.
    c.send(b"print('x' * (8 * 1024 * 1024 - 1)); box.append('printed')\n")
    wait_for(other, b"box", b"['printed']\n>>> ")
    got = drain(c, OUTPUT_MAX + 4)
    assert len(got) == OUTPUT_MAX + 4
    assert got.endswith(b"\n>>> ")
    assert got.count(b"x") == OUTPUT_MAX - 1
    assert c.run(b"1+1") == b"2\n>>> "


HOG = (b"try:\n"
       b"    while True:\n"
       b"        print('x' * 65535)\n"
       b"        await asyncio.sleep(0)\n"
       b"finally:\n"
       b"    box.append('dropped')\n"
       b"\n")


def test_a_client_over_8_mib_behind_is_dropped_alone(start, tmp_path):
    prog, flag = program_until(tmp_path, "print('done', flush=True)")
    proc, address = serve(start, ":0", "--locals", "{'box': []}", prog)
    other = Client(address)
    other.until(b">>> ")
    pid = proc.popen.pid
    fds, rss = open_fds(pid), rss_kib(pid)
    hog = slow_reader(address)
    hog.until(b">>> ")
    hog.send(HOG)
    # Dropped: its statement is cancelled, the others go on.
    wait_for(other, b"box", b"['dropped']\n>>> ")
    assert other.run(b"1+1") == b"2\n>>> "
    assert rss_kib(pid) - rss < 64 * 1024
    deadline = time.monotonic() + TIMEOUT
    while open_fds(pid) > fds:
        assert time.monotonic() < deadline, (open_fds(pid), fds)
        time.sleep(0.1)
    # What the hog still gets is what was sent before, then the end
    # (not a reset: the server had read all it was sent).
    got = drain(hog)
    assert got[:24] == b"... " * 6
    assert len(got) > 24
    assert is_lines_of_x(got[24:], 65535)
    assert proc.popen.poll() is None
    flag.write_text("")
    assert proc.wait() == 0
    assert proc.stdout.endswith(b"done\n")
    assert proc.stderr == b""
