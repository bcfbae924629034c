"""asyncio streams in the cases a C fast path could get wrong; prints what
it sees. Run as `streams_cases.py apython|asyncio` to pick the loop."""
import asyncio
import gc
import sys

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


async def until(cond, timeout=5.0):
    """Wait (a few ms at a time) until cond() is true."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise TimeoutError("condition never came true")
        await asyncio.sleep(0.005)


async def serve(factory):
    """A server from a protocol factory and a client connected to it."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return server, reader, writer


async def finish(server, writer, conns=()):
    """Close both ends (3.12's wait_closed() waits for the server's)."""
    writer.close()
    for _, w in conns:
        w.close()
    server.close()
    await asyncio.sleep(0.01)


def errors():
    """Capture what the loop's exception handler gets."""
    got = []
    asyncio.get_running_loop().set_exception_handler(
        lambda loop, ctx: got.append(
            "%s: %s" % (ctx["message"], type(ctx.get("exception")).__name__)))
    return got


def stream_server(reader_cls=asyncio.StreamReader,
                  proto_cls=asyncio.StreamReaderProtocol, limit=2 ** 16):
    """A protocol factory like start_server's; the server side's reader and
    writer land in the returned list."""
    conns = []

    def cb(reader, writer):
        conns.append((reader, writer))

    def factory():
        return proto_cls(reader_cls(limit=limit), cb)
    return factory, conns


@case
async def subclass_protocol_gets_its_data_received():
    seen = []

    class Proto(asyncio.StreamReaderProtocol):
        def data_received(self, data):
            seen.append(bytes(data))
            super().data_received(data.upper())
    factory, conns = stream_server(proto_cls=Proto)
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    writer.write(b"abc")
    reader = conns[0][0]
    print("read:", await reader.read(100), "seen:", seen)
    await finish(server, writer, conns)


@case
async def subclass_reader_gets_its_feed_data():
    seen = []

    class Reader(asyncio.StreamReader):
        def feed_data(self, data):
            seen.append(bytes(data))
            super().feed_data(data[::-1])
    factory, conns = stream_server(reader_cls=Reader)
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    writer.write(b"abc")
    print("read:", await conns[0][0].read(100), "seen:", seen)
    await finish(server, writer, conns)


@case
async def patched_methods_are_called():
    seen = []
    factory, conns = stream_server()
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    feed = reader.feed_data
    reader.feed_data = lambda data: (seen.append("feed"), feed(data))
    writer.write(b"one")
    print("read:", await reader.read(100), "seen:", seen)
    del reader.feed_data
    wakeup = reader._wakeup_waiter
    reader._wakeup_waiter = lambda: (seen.append("wakeup"), wakeup())
    writer.write(b"two")
    print("read:", await reader.read(100), "seen:", seen)
    await finish(server, writer, conns)


@case
async def flow_control_pauses_and_resumes_reading():
    factory, conns = stream_server(limit=4)
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader, swriter = conns[0]
    writer.write(b"x" * 20)
    await until(lambda: len(reader._buffer) >= 20)
    print("paused:", reader._paused, swriter.transport.is_reading())
    print("read:", await reader.read(100))
    print("paused:", reader._paused, swriter.transport.is_reading())
    await finish(server, writer, conns)


@case
async def flow_control_with_a_large_limit():
    size = 400 * 1024
    factory, conns = stream_server(limit=2 ** 16)
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader, swriter = conns[0]
    writer.write(b"y" * size)
    await until(lambda: reader._paused)
    print("paused:", reader._paused, swriter.transport.is_reading(),
          len(reader._buffer) > 2 ** 17)
    got = 0
    while got < size:
        got += len(await reader.read(2 ** 16))
    print("read:", got, "paused:", reader._paused,
          swriter.transport.is_reading())
    await finish(server, writer, conns)


@case
async def transport_that_cannot_pause_is_forgotten():
    class Unpausable:
        def pause_reading(self):
            raise NotImplementedError
    factory, conns = stream_server(limit=2)
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    reader._transport = Unpausable()
    writer.write(b"z" * 10)
    await until(lambda: reader._transport is None)
    print("transport:", reader._transport, "paused:", reader._paused,
          "buffered:", len(reader._buffer))
    await finish(server, writer, conns)


@case
async def cancelled_waiter_is_left_alone():
    factory, conns = stream_server()
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    waiter = asyncio.get_running_loop().create_future()
    waiter.cancel()
    reader._waiter = waiter
    writer.write(b"data")
    await until(lambda: reader._buffer)
    print("waiter:", reader._waiter, waiter.cancelled())
    print("read:", await reader.read(100))
    await finish(server, writer, conns)


@case
async def cancelled_read_keeps_the_data_for_the_next():
    factory, conns = stream_server()
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    task = asyncio.ensure_future(reader.read(100))
    await asyncio.sleep(0.01)
    task.cancel()
    writer.write(b"kept")
    try:
        await task
    except asyncio.CancelledError:
        print("cancelled")
    print("read:", await reader.read(100))
    await finish(server, writer, conns)


@case
async def done_waiter_fails_the_connection():
    got = errors()
    factory, conns = stream_server()
    server, creader, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    waiter = asyncio.get_running_loop().create_future()
    waiter.set_result(1)
    reader._waiter = waiter
    writer.write(b"data")
    print("client read:", await creader.read(100), got)
    print("buffered:", bytes(reader._buffer), reader._waiter)
    await finish(server, writer, conns)


@case
async def eof_after_data():
    factory, conns = stream_server()
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    writer.write(b"last")
    writer.write_eof()
    print("read:", await reader.read(100), await reader.read(100),
          reader.at_eof())
    await finish(server, writer, conns)


@case
async def data_after_feed_eof_fails_the_connection():
    got = errors()
    factory, conns = stream_server()
    server, creader, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    reader.feed_eof()
    writer.write(b"late")
    print("client read:", await creader.read(100), got)
    print("buffered:", bytes(reader._buffer))
    await finish(server, writer, conns)


@case
async def exported_buffer_fails_the_connection():
    got = errors()
    factory, conns = stream_server()
    server, creader, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    view = memoryview(reader._buffer)
    writer.write(b"blocked")
    print("client read:", await creader.read(100), got)
    view.release()
    await finish(server, writer, conns)


@case
async def reader_gone_drops_the_data():
    got = errors()
    protos = []

    def factory():
        protos.append(asyncio.StreamReaderProtocol(asyncio.StreamReader()))
        return protos[-1]
    server, _, writer = await serve(factory)
    gc.collect()
    await until(lambda: protos)
    writer.write(b"nobody")
    await writer.drain()
    await asyncio.sleep(0.05)
    print("reader:", protos[0]._stream_reader, "errors:", got)
    protos[0]._transport.close()
    await finish(server, writer)


@case
async def non_bytearray_buffer_is_extended():
    class Buffer(bytearray):
        def extend(self, data):
            print("extend", bytes(data))
            super().extend(data)
    factory, conns = stream_server()
    server, _, writer = await serve(factory)
    await until(lambda: conns)
    reader = conns[0][0]
    reader._buffer = Buffer()
    writer.write(b"own")
    print("read:", await reader.read(100))
    await finish(server, writer, conns)


async def main():
    for fn in CASES:
        print("--", fn.__name__)
        await fn()


def new_loop(name):
    if name == "apython":
        import apython
        return apython.Loop()
    return asyncio.SelectorEventLoop()


if __name__ == "__main__":
    loop = new_loop(sys.argv[1])
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
