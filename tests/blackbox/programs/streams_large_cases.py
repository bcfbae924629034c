"""asyncio streams after a large read, when apython's transport may recv
straight into the StreamReader's buffer: each case first brings one large
read (WARM bytes at once), then does what a fast path could get wrong, and
prints what it sees. Run as `streams_large_cases.py apython|asyncio`."""
import asyncio
import sys

from streams_cases import errors, finish, new_loop, serve, stream_server, \
    until

CASES = []
WARM = 96 * 1024


def case(fn):
    CASES.append(fn)
    return fn


def pattern(n, seed=0):
    """n bytes that differ from one offset to the next."""
    turn = bytes(range(seed, 251)) + bytes(range(seed))
    return (turn * (n // 251 + 1))[:n]


async def connect(**kw):
    """Server and client ends, the server's reader having had a large read."""
    factory, conns = stream_server(**kw)
    server, creader, writer = await serve(factory)
    await until(lambda: conns)
    reader, swriter = conns[0]
    # Held back by the server, the whole message comes in one recv.
    swriter.transport.pause_reading()
    writer.write(pattern(WARM))
    await writer.drain()
    await asyncio.sleep(0.05)
    swriter.transport.resume_reading()
    assert await reader.readexactly(WARM) == pattern(WARM)
    return server, creader, writer, conns


@case
async def large_messages_read_across_chunks():
    server, _, writer, conns = await connect()
    reader = conns[0][0]
    data = pattern(300 * 1024, 3)
    writer.write(data)
    parts = [await reader.readexactly(1000), await reader.readexactly(70000),
             await reader.readexactly(len(data) - 71000)]
    print("readexactly:", [len(p) for p in parts], b"".join(parts) == data,
          len(reader._buffer))
    await finish(server, writer, conns)


@case
async def eof_in_the_middle_of_a_message():
    server, _, writer, conns = await connect()
    reader = conns[0][0]
    writer.write(pattern(100000, 5))
    writer.write_eof()
    try:
        await reader.readexactly(150000)
    except asyncio.IncompleteReadError as e:
        print("incomplete:", len(e.partial), e.expected,
              e.partial == pattern(100000, 5))
    print("at eof:", reader.at_eof(), await reader.read(10))
    await finish(server, writer, conns)


@case
async def limit_overrun_raises_as_asyncio_does():
    server, _, writer, conns = await connect(limit=2 ** 16)
    reader = conns[0][0]
    writer.write(b"a" * 100000 + b"\n")
    await until(lambda: len(reader._buffer) >= 100001)
    try:
        await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as e:
        print("readuntil:", type(e).__name__, e.consumed, e.args[0])
    try:
        await reader.readline()
    except ValueError as e:
        print("readline:", type(e).__name__, e)
    print("left:", len(reader._buffer))
    await finish(server, writer, conns)


@case
async def pause_and_resume_at_the_high_water_mark():
    server, _, writer, conns = await connect(limit=2 ** 14)
    reader, swriter = conns[0]
    print("after warm:", reader._paused, swriter.transport.is_reading())
    writer.write(b"h" * 50000)
    await until(lambda: reader._paused)
    print("paused:", reader._paused, swriter.transport.is_reading(),
          len(reader._buffer) > 2 ** 15)
    got = 0
    while got < 50000:
        got += len(await reader.read(2 ** 12))
    print("read:", got, reader._paused, swriter.transport.is_reading())
    await finish(server, writer, conns)


@case
async def patched_feed_data_is_called():
    seen = []
    server, _, writer, conns = await connect()
    reader = conns[0][0]
    feed = reader.feed_data
    reader.feed_data = lambda data: (seen.append(len(data)), feed(data))
    writer.write(b"p" * 1000)
    print("read:", len(await reader.readexactly(1000)), "fed:", sum(seen))
    await finish(server, writer, conns)


@case
async def subclass_reader_gets_its_feed_data():
    class Reader(asyncio.StreamReader):
        upper = False

        def feed_data(self, data):
            super().feed_data(bytes(data).upper() if self.upper else data)
    server, _, writer, conns = await connect(reader_cls=Reader)
    conns[0][0].upper = True
    writer.write(b"abc" * 30000)
    data = await conns[0][0].readexactly(90000)
    print("read:", data[:6], data == b"ABC" * 30000)
    await finish(server, writer, conns)


@case
async def exported_buffer_fails_the_connection():
    got = errors()
    server, creader, writer, conns = await connect()
    reader = conns[0][0]
    view = memoryview(reader._buffer)
    writer.write(b"blocked")
    print("client read:", await creader.read(100), got)
    view.release()
    print("buffered:", bytes(reader._buffer))
    await finish(server, writer, conns)


@case
async def data_after_feed_eof_fails_the_connection():
    got = errors()
    server, creader, writer, conns = await connect()
    reader = conns[0][0]
    reader.feed_eof()
    writer.write(b"late" * 1000)
    print("client read:", await creader.read(100), got)
    print("buffered:", bytes(reader._buffer))
    await finish(server, writer, conns)


@case
async def done_waiter_fails_the_connection_and_keeps_the_data():
    got = errors()
    server, creader, writer, conns = await connect()
    reader = conns[0][0]
    waiter = asyncio.get_running_loop().create_future()
    waiter.set_result(1)
    reader._waiter = waiter
    writer.write(b"data")
    print("client read:", await creader.read(100), got)
    print("buffered:", bytes(reader._buffer), reader._waiter)
    await finish(server, writer, conns)


@case
async def non_bytearray_buffer_is_extended():
    class Buffer(bytearray):
        def extend(self, data):
            print("extend", len(data))
            super().extend(data)
    server, _, writer, conns = await connect()
    reader = conns[0][0]
    reader._buffer = Buffer()
    writer.write(b"own")
    print("read:", await reader.read(100))
    await finish(server, writer, conns)


@case
async def writer_paused_by_the_transport_then_drain():
    server, creader, writer, conns = await connect()
    swriter = conns[0][1]
    swriter.transport.set_write_buffer_limits(high=2 ** 16)
    size = 8 * 2 ** 20
    swriter.write(b"d" * size)
    drain = asyncio.ensure_future(swriter.drain())
    await asyncio.sleep(0.05)
    print("buffered:", swriter.transport.get_write_buffer_size() > 0,
          "draining:", not drain.done())
    got = 0
    while got < size:
        got += len(await creader.read(2 ** 16))
    await drain
    print("drained:", got, swriter.transport.get_write_buffer_size())
    await finish(server, writer, conns)


async def main():
    for fn in CASES:
        print("--", fn.__name__)
        await fn()


if __name__ == "__main__":
    loop = new_loop(sys.argv[1])
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
