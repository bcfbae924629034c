"""Uses the loop API a real program needs (call_soon/call_later/call_at,
time, run_forever/stop, run_until_complete, close, add/remove reader and
writer, streams) and prints deterministic results."""
import asyncio
import socket
import time


async def handle(reader, writer):
    writer.write((await reader.readline()).upper())
    await writer.drain()
    writer.close()


async def streams():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"stream line\n")
    await writer.drain()
    data = await reader.readline()
    eof = await reader.read()
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return data, eof


def main():
    out = []
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    print("get_event_loop:", asyncio.get_event_loop() is loop)

    loop.call_later(0.05, out.append, "later 0.05")
    loop.call_later(0.01, out.append, "later 0.01")
    loop.call_at(loop.time() + 0.03, out.append, "at 0.03")
    loop.call_soon(out.append, "soon 1")
    loop.call_soon(out.append, "soon 2")
    loop.call_soon(out.append, "cancelled").cancel()
    loop.call_later(0.1, loop.stop)
    t0 = time.monotonic()
    loop.run_forever()
    print("order:", out)
    print("stopped after 0.1 s:", 0.09 <= time.monotonic() - t0 < 1)
    print("time is monotonic:", abs(loop.time() - time.monotonic()) < 0.05)

    print("run_until_complete:",
          loop.run_until_complete(asyncio.sleep(0.01, result="done")))

    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    got = loop.create_future()

    def on_readable():
        loop.remove_reader(b)
        got.set_result(b.recv(100))

    def on_writable():
        loop.remove_writer(a)
        a.send(b"ping")

    loop.add_reader(b, on_readable)
    loop.add_writer(a, on_writable)
    print("reader got:", loop.run_until_complete(got))
    print("removed again:", loop.remove_reader(b), loop.remove_writer(a))
    a.close()
    b.close()

    print("streams:", loop.run_until_complete(streams()))
    loop.close()
    print("closed:", loop.is_closed())


main()
