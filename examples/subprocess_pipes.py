"""A child process and an os.pipe() driven from asyncio, to try apython on.

    python3 -m examples.subprocess_pipes
    apython -m examples.subprocess_pipes

Runs an upper-casing filter (sys.executable -c ...) with
asyncio.create_subprocess_exec, talking to it line by line through its stdin
and stdout pipes, then pushes a larger text through it with communicate().
Then connects both ends of an os.pipe() to the loop (connect_write_pipe,
connect_read_pipe) and sends lines and a 1 MiB block through it.  Prints
what came through; exit status 0.
"""

import asyncio
import os
import sys

FILTER = ("import sys\n"
          "for line in sys.stdin:\n"
          "    sys.stdout.write(line.upper())\n"
          "    sys.stdout.flush()\n")
LINES = ["hello, child", "asyncio pipes"]
BLOCK = 1024 * 1024


async def talk_to_child():
    """Send lines to the filter one at a time and print each answer."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FILTER,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    for line in LINES:
        proc.stdin.write(line.encode() + b"\n")
        await proc.stdin.drain()
        answer = await proc.stdout.readline()
        print("child answered: %s" % answer.decode().rstrip("\n"))
    proc.stdin.close()
    rest = await proc.stdout.read()
    print("child exited with status %d (%d bytes after stdin closed)"
          % (await proc.wait(), len(rest)))


async def communicate_with_child():
    """Push a text larger than a pipe buffer through the filter at once."""
    text = b"".join(b"line %05d of the text\n" % i for i in range(20000))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FILTER,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(text)
    print("communicate: %d bytes in, %d bytes out, upper-cased: %s, status %d"
          % (len(text), len(out), out == text.upper(), proc.returncode))


class WriteSide(asyncio.Protocol):
    """Protocol of the write end: the writer waits while the pipe is full."""

    def __init__(self):
        self.writable = asyncio.Event()
        self.writable.set()

    def pause_writing(self):
        self.writable.clear()

    def resume_writing(self):
        self.writable.set()


async def write_all(transport, protocol):
    """Write the lines, then BLOCK bytes in 64 KiB pieces, then close."""
    for line in LINES:
        transport.write(line.encode() + b"\n")
    piece = b"x" * 65536
    for _ in range(BLOCK // len(piece)):
        await protocol.writable.wait()
        transport.write(piece)
    transport.close()


async def through_os_pipe():
    """Connect both ends of an os.pipe() to the loop; print what comes out."""
    loop = asyncio.get_running_loop()
    rfd, wfd = os.pipe()
    reader = asyncio.StreamReader()
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(rfd, "rb", 0))
    write_transport, write_protocol = await loop.connect_write_pipe(
        WriteSide, os.fdopen(wfd, "wb", 0))
    writing = asyncio.ensure_future(write_all(write_transport, write_protocol))
    for _ in LINES:
        line = await reader.readline()
        print("pipe: %s" % line.decode().rstrip("\n"))
    block = await reader.read()
    await writing
    read_transport.close()
    print("pipe: %d more bytes, all 'x': %s, then EOF"
          % (len(block), block == b"x" * BLOCK))


async def main():
    await talk_to_child()
    await communicate_with_child()
    await through_os_pipe()


if __name__ == "__main__":
    asyncio.run(main())
