"""Throws into the console's coroutine as into a generator, with a
traceback (throw(type, value, tb)); prints the functions the raised
exception's traceback goes through."""
import asyncio


def a_traceback():
    try:
        raise KeyError("k")
    except KeyError as e:
        return e.__traceback__


def frames(tb):
    names = []
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return names


async def main():
    tasks = []
    while not tasks:
        await asyncio.sleep(0.01)
        tasks = [t for t in asyncio.all_tasks()
                 if t.get_name() == "apython-console"]
    try:
        tasks[0].get_coro().throw(ValueError, ValueError("v"), a_traceback())
    except ValueError as e:
        print(frames(e.__traceback__), flush=True)


asyncio.run(main())
