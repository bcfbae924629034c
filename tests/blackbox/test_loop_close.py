"""What loop.close() does with callbacks queued while it drops the queue:
what the python3 apython embeds does under asyncio's own loop."""

from conftest import PROGRAMS


def test_finalizer_queueing_while_close_drops_the_queue_is_refused(
        same_output):
    # A dropped callback's finalizer queues another like itself: asyncio
    # has marked the loop closed, so call_soon raises and the chain ends.
    # apython's loop once accepted it and dropped it in turn, for ever.
    assert same_output(PROGRAMS / "close_refuses_queueing.py") == (
        b"refused: Event loop is closed is_closed: True\n"
        b"queued while closing: 0 is_closed: True\n")
