"""Runs asyncio.run(main()) where main waits on a future forever.

It keeps its loop in LOOP and the future in FOREVER, so a console can check
it is on this loop; resolving FOREVER from the console ends the program
after it prints 'after'."""
import asyncio


async def main():
    global LOOP, FOREVER
    LOOP = asyncio.get_running_loop()
    FOREVER = LOOP.create_future()
    print("started", flush=True)
    await FOREVER
    print("after", flush=True)


asyncio.run(main())
