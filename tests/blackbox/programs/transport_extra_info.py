"""get_extra_info() of a socket transport: values, defaults, keywords,
wrong calls (Python's own messages), a replaced BaseTransport.get_extra_info
and an _extra that is not a plain dict give what asyncio gives."""

import asyncio, asyncio.transports as T
async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    tr, _ = await loop.create_connection(asyncio.Protocol, *srv.sockets[0].getsockname())
    print(tr.get_extra_info("peername") == srv.sockets[0].getsockname())
    print(tr.get_extra_info("nope"), tr.get_extra_info("nope", 5), tr.get_extra_info(name="nope", default=6))
    for a, k in [((), {}), (("a", 1, 2), {}), (("a",), {"bad": 1}), (([],), {})]:
        try: tr.get_extra_info(*a, **k)
        except Exception as e: print(type(e).__name__, str(e))
    orig = T.BaseTransport.get_extra_info
    T.BaseTransport.get_extra_info = lambda self, name, default=None: ("patched", name)
    print(tr.get_extra_info("peername"))
    T.BaseTransport.get_extra_info = orig
    print(tr.get_extra_info("x", "back"))
    class E(dict):
        def get(self, k, d=None): return ("sub", k, d)
    tr._extra = E()
    print(tr.get_extra_info("y"))
    tr.close(); srv.close()
asyncio.run(main())
