"""Runs a loop made directly from apython.Loop, not through the policy."""
import asyncio
import apython

loop = apython.Loop()
loop.run_until_complete(asyncio.sleep(0.3))
loop.close()
print("done", flush=True)
