"""Helpers for the --serve and --connect tests: start a served console,
talk to it as a plain client (what nc does) over TCP or a unix socket."""

import os
import re
import socket
import struct
import time

from conftest import TIMEOUT

SERVED = re.compile(rb"The console is being served on (\S+)\n")


def serve(start, *args, env=None, cwd=None, banner="test"):
    """Start `apython --banner=BANNER --serve ARGS...`; return the Proc and
    the address it says it serves on."""
    proc = start(["--banner=" + banner, "--serve", *args], env=env, cwd=cwd)
    return proc, proc.expect_stdout(SERVED).group(1).decode()


def program_until(tmp_path, then=""):
    """A program that runs its asyncio loop until a file appears, then
    runs `then` (Python); return (program path, that file's path)."""
    prog, flag = tmp_path / "prog.py", tmp_path / "go"
    prog.write_text("import asyncio, os, sys\n"
                    "async def main():\n"
                    "    while not os.path.exists(%r):\n"
                    "        await asyncio.sleep(0.05)\n"
                    "    %s\n"
                    "asyncio.run(main())\n" % (str(flag), then or "pass"))
    return prog, flag


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def open_fds(pid):
    """How many file descriptors process pid has open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_fds(pid, most, timeout=TIMEOUT):
    """Wait until process pid has at most `most` file descriptors open."""
    deadline = time.monotonic() + timeout
    while open_fds(pid) > most:
        assert time.monotonic() < deadline, (open_fds(pid), most)
        time.sleep(0.05)


def fds_without(pid, client):
    """Close `client`, connected to process pid, and wait until its
    session's descriptor is closed there too; return how many pid has
    open then."""
    with_it = open_fds(pid)
    client.close()
    wait_fds(pid, with_it - 1)
    return open_fds(pid)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Client:
    """A plain client: bytes in, bytes out, as nc sees them."""

    def __init__(self, address, host="127.0.0.1", timeout=TIMEOUT,
                 rcvbuf=None):
        """rcvbuf: the socket's receive buffer, set before connecting."""
        if "/" in address:
            self.sock = socket.socket(socket.AF_UNIX)
        else:
            self.sock = socket.socket(socket.AF_INET6 if ":" in host
                                      else socket.AF_INET)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(address if "/" in address
                              else (host, port_of(address)))
        except OSError:
            self.sock.close()
            raise
        self.data = b""
        self.timeout = timeout

    def send(self, data):
        self.sock.sendall(data)

    def until(self, pattern, timeout=None):
        """Read until `pattern` (bytes or compiled regex) has come; return
        everything up to its end and keep the rest."""
        if isinstance(pattern, bytes):
            pattern = re.compile(re.escape(pattern))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = pattern.search(self.data)
            if m:
                got, self.data = self.data[:m.end()], self.data[m.end():]
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; got %r"
                                     % (pattern.pattern, self.data))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError("closed while waiting for %r; got %r"
                                     % (pattern.pattern, self.data))
            self.data += chunk

    def rest(self, timeout=None):
        """Everything until the server closes."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("not closed; got %r" % self.data)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                got, self.data = self.data, b""
                return got
            self.data += chunk

    def run(self, line):
        """Send a line at the prompt; what comes back up to the next one."""
        self.send(line + b"\n")
        return self.until(b">>> ")

    def half_close(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Close with a TCP reset (or just close, on a unix socket)."""
        if self.sock.family != socket.AF_UNIX:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()
