"""What loop.close() does with callbacks queued while it drops the queue:
what the python3 apython embeds does under asyncio's own loop."""

import subprocess

from conftest import PROGRAMS, TIMEOUT


def same_python(embedded, clean_env, prog):
    """prog run by the python3 apython stands in for: the same version."""
    return subprocess.run([embedded.executable, str(prog)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=clean_env(),
                          timeout=TIMEOUT)


def test_finalizer_queueing_while_close_drops_the_queue_is_refused(
        run, embedded, clean_env):
    # A dropped callback's finalizer queues another like itself: asyncio
    # has marked the loop closed, so call_soon raises and the chain ends.
    # apython's loop once accepted it and dropped it in turn, for ever.
    prog = PROGRAMS / "close_refuses_queueing.py"
    cp = run([prog])
    assert cp.stderr == b""
    assert cp.returncode == 0
    assert cp.stdout == same_python(embedded, clean_env, prog).stdout == (
        b"refused: Event loop is closed is_closed: True\n"
        b"queued while closing: 0 is_closed: True\n")
