"""The echo server of aioconsole's README: echo.py PORT.

Serves on 127.0.0.1:PORT (0: any free port), answers each client's line with the same line and
saves the received lines (stripped) in loop.history."""
import asyncio
import sys


async def echo(reader, writer):
    loop = asyncio.get_running_loop()
    data = await reader.readline()
    loop.history.append(data.decode().strip())
    writer.write(data)
    await writer.drain()
    writer.close()


async def main(host, port):
    loop = asyncio.get_running_loop()
    loop.history = []
    server = await asyncio.start_server(echo, host, port)
    port = server.sockets[0].getsockname()[1]
    print("The echo service is being served on %s:%d" % (host, port),
          flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main("127.0.0.1", int(sys.argv[1])))
