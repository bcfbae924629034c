"""asyncio.run(asyncio.sleep(100)), saying 'ready' once the loop runs."""
import asyncio


async def main():
    print("ready", flush=True)
    await asyncio.sleep(100)


asyncio.run(main())
