"""apython --ps PID: the program's asyncio tasks as a tree with their
stacks, on stdout, status 0; answered even when the loop is stuck, with
the stack that holds it."""

import re

from attaching import attacher, detached, env, runtime
from test_any_loop import has_uvloop, uvloop_needed

# Fixtures, used by name.
assert detached and env and runtime and has_uvloop and uvloop_needed

NESTED = """\
import asyncio
async def leaf(n):
    await asyncio.sleep(3600)
async def middle():
    await asyncio.gather(asyncio.create_task(leaf(1), name="leaf-1"),
                         asyncio.create_task(leaf(2), name="leaf-2"))
async def main():
    t = asyncio.create_task(middle(), name="middle")
    await asyncio.sleep(0)
    print("up", flush=True)
    await t
asyncio.run(main())
"""


# apython's loop's figures come first (their numbers vary).
FIGURES = (r"loop: ready \d+, timers \d+, readers \d+, [^\n]*\n"
           r"(slow callbacks:\n( [^\n]*\n)*)?")


def expected(text, prog, figures=True):
    """A pattern for text after the loop's figures: PROG stands for the
    program's path, SLEEP for asyncio's own line in sleep (its number
    differs between versions)."""
    pattern = re.escape(text).replace("PROG", re.escape(str(prog)))
    pattern = pattern.replace("SLEEP", r"sleep asyncio/tasks\.py:\d+")
    return re.compile((FIGURES if figures else "") + pattern)


def prog_path(p):
    return p.popen.args[-1]


def test_ps_prints_named_nested_tasks_as_a_tree(detached, env):
    p = detached(NESTED)
    assert p.line() == "up\n"
    cp = attacher(["--ps", p.pid], env)
    assert (cp.returncode, cp.stderr) == (0, b"")
    assert expected(
        "4 tasks\n"
        "└── (T) Task-1\n"
        "    │ main PROG:11\n"
        "    └── (T) middle\n"
        "        │ middle PROG:5\n"
        "        ├── (T) leaf-1  [via gather]\n"
        "        │     leaf PROG:3\n"
        "        │     SLEEP\n"
        "        └── (T) leaf-2  [via gather]\n"
        "              leaf PROG:3\n"
        "              SLEEP\n", prog_path(p)).fullmatch(cp.stdout.decode())


def test_ps_name_filters_the_tasks(detached, env):
    p = detached(NESTED)
    assert p.line() == "up\n"
    cp = attacher(["--ps", p.pid, "--name", "leaf-2"], env)
    assert (cp.returncode, cp.stderr) == (0, b"")
    assert expected(
        "1 of 4 tasks match 'leaf-2'\n"
        "awaited by middle (gather) <- Task-1\n"
        "└── (T) leaf-2\n"
        "      leaf PROG:3\n"
        "      SLEEP\n", prog_path(p)).fullmatch(cp.stdout.decode())


def test_ps_on_a_uvloop_program(detached, env, uvloop_needed):
    p = detached("import asyncio, uvloop\n"
                 "async def worker():\n"
                 "    await asyncio.sleep(3600)\n"
                 "async def main():\n"
                 "    t = asyncio.create_task(worker(), name='uv-worker')\n"
                 "    await asyncio.sleep(0)\n"
                 "    print(type(asyncio.get_running_loop()).__module__,"
                 " flush=True)\n"
                 "    await t\n"
                 "uvloop.install()\n"
                 "asyncio.run(main())\n")
    assert p.line() == "uvloop\n"
    cp = attacher(["--ps", p.pid], env)
    assert (cp.returncode, cp.stderr) == (0, b"")
    assert expected(
        "2 tasks\n"
        "└── (T) Task-1\n"
        "    │ main PROG:8\n"
        "    └── (T) uv-worker\n"
        "          worker PROG:3\n"
        "          SLEEP\n", prog_path(p), figures=False).fullmatch(
            cp.stdout.decode())


def test_ps_on_a_loop_stuck_in_time_sleep_shows_the_callback(detached, env):
    p = detached("import asyncio, time\n"
                 "def holds_the_loop():\n"
                 "    print('holding', flush=True)\n"
                 "    time.sleep(3600)\n"
                 "async def main():\n"
                 "    asyncio.get_running_loop().call_soon(holds_the_loop)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n")
    assert p.line() == "holding\n"
    cp = attacher(["--ps", p.pid], env)
    out = cp.stdout.decode()
    assert (cp.returncode, cp.stderr) == (0, b""), out
    # The main thread answered (the real-time signal's handler runs inside
    # time.sleep): how long, its stack, then the tasks.
    assert re.search(r"\nloop stuck for \d+\.\d s\n"
                     r"main thread \(most recent call last\):\n", out), out
    assert ('  File "%s", line 4, in holds_the_loop\n'
            '    time.sleep(3600)\n' % prog_path(p)) in out, out
    assert re.search(r"\n1 task\n└── \(T\) Task-1\n", out), out
    # SIGINT cannot end it, as under python3: asyncio.run's handler waits
    # for the loop.
    p.popen.kill()
    p.popen.wait()


def test_ps_on_a_loop_held_by_c_code_with_the_gil_dumps_the_stacks(detached,
                                                                  env):
    # sum() over a range runs in C: no bytecode, so no signal handler and
    # no other thread gets the GIL until it ends.
    p = detached("import asyncio\n"
                 "def holds_the_gil():\n"
                 "    print('holding', flush=True)\n"
                 "    sum(range(10 ** 13))\n"
                 "async def main():\n"
                 "    asyncio.get_running_loop().call_soon(holds_the_gil)\n"
                 "    await asyncio.sleep(3600)\n"
                 "asyncio.run(main())\n")
    assert p.line() == "holding\n"
    cp = attacher(["--ps", p.pid], env)
    out = cp.stdout.decode()
    assert (cp.returncode, cp.stderr) == (0, b""), out
    held = (r"The loop has been held for \d+\.\d seconds by what the "
            r"main thread runs\.\n")
    if "cannot be read" in out:
        # A libpython that does not export faulthandler's dump.
        assert re.fullmatch(held + r"Its stack cannot be read while it "
                            r"holds the GIL: this Python does not export "
                            r"faulthandler's dump\.\n", out), out
    else:
        assert re.match(held + r"The threads' stacks \(faulthandler's "
                        r"dump, most recent call first\):\n", out), out
        assert re.search(r'\n  File "%s", line 4 in holds_the_gil\n'
                         % re.escape(prog_path(p)), out), out
    p.popen.kill()
    p.popen.wait()


def test_ps_of_a_program_without_tasks_answers(detached, env):
    p = detached("import asyncio\n"
                 "loop = asyncio.new_event_loop()\n"
                 "loop.call_later(0.01, lambda: print('up', flush=True))\n"
                 "loop.run_forever()\n")
    assert p.line() == "up\n"
    cp = attacher(["--ps", p.pid], env)
    assert (cp.returncode, cp.stderr) == (0, b"")
    assert re.fullmatch(FIGURES + "0 tasks\n", cp.stdout.decode())
