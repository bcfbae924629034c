"""Runs a loop made directly from apython.Loop, not through the policy,
until the console resolves DONE."""
import asyncio
import apython

LOOP = apython.Loop()
DONE = LOOP.create_future()
print("running", flush=True)
LOOP.run_until_complete(DONE)
LOOP.close()
print("done", flush=True)
