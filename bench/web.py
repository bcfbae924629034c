"""The aiohttp application of `make bench`: a hello-world and a small JSON API.

    apython bench/web.py [--port P] [--host H]                 # apython's loop
    /usr/bin/python3 bench/web.py --loop uvloop|asyncio [...]  # as users run it

Routes (keep-alive, as aiohttp serves by default):
    GET  /             text "Hello, World!"
    GET  /json         {"message": "Hello, World!"}
    GET  /users/{id}   one user of an in-memory table, 404 if unknown
    GET  /users        ?limit=N: the first N users (default 10)
    POST /users        a JSON object with "name": stored, 201 with its id

Prints "ready PORT" on stdout once listening (port 0 picks a free one),
then serves until SIGTERM or SIGINT. --loop default runs whatever loop
asyncio gives the program: under the apython binary, apython's.
"""

import argparse
import asyncio
import signal
import socket
import sys

from aiohttp import web


def make_users(n):
    return {i: {"id": i, "name": "user%d" % i, "email": "user%d@example.org" % i,
                "tags": ["t%d" % (i % 7), "t%d" % (i % 11)]}
            for i in range(1, n + 1)}


def make_app():
    users = make_users(1000)

    async def hello(request):
        return web.Response(text="Hello, World!")

    async def hello_json(request):
        return web.json_response({"message": "Hello, World!"})

    async def get_user(request):
        try:
            user = users[int(request.match_info["id"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound(text="no such user\n")
        return web.json_response(user)

    async def list_users(request):
        try:
            limit = max(0, min(100, int(request.query.get("limit", "10"))))
        except ValueError:
            raise web.HTTPBadRequest(text="limit: not a number\n")
        return web.json_response([users[i] for i in range(1, limit + 1)])

    async def add_user(request):
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise web.HTTPBadRequest(text="a JSON object with a name\n")
        uid = len(users) + 1
        users[uid] = {"id": uid, "name": body["name"],
                      "email": body.get("email", ""), "tags": []}
        return web.json_response({"id": uid}, status=201)

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", hello_json)
    app.router.add_get("/users/{id}", get_user)
    app.router.add_get("/users", list_users)
    app.router.add_post("/users", add_user)
    return app


async def serve(host, port):
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    print("ready %d" % sock.getsockname()[1], flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    try:
        await stop
    finally:
        await runner.cleanup()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--loop", choices=("default", "asyncio", "uvloop"),
                        default="default")
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif args.loop == "asyncio":
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main(sys.argv[1:])
