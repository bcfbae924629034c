"""loop.run_forever() with no asyncio.run around it: says 'ready' from a
callback, then idles until interrupted."""
import asyncio


def ready():
    print("ready", flush=True)


loop = asyncio.new_event_loop()
loop.call_soon(ready)
loop.run_forever()
