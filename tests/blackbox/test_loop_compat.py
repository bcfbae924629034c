"""apython.Loop's compatibility with asyncio's loop where programs (and
CPython's own tests) reach into asyncio's private parts."""

from conftest import PROGRAMS


def test_loop_ready_shows_and_takes_the_queued_handles(same_output):
    # Truthiness, len() and iteration of loop._ready, stepping the loop
    # while it is not empty, a handle appended to it running, close()
    # emptying it.
    assert same_output(PROGRAMS / "ready_queue.py") == (
        b"new: False 0 []\n"
        b"queued: True 3 ['a', 'cancelled', 'a']\n"
        b"a ran\n"
        b"a ran\n"
        b"after a pass: False 0 []\n"
        b"gathered: [1, 2] stepped: True\n"
        b"appended: True 1 ['appended']\n"
        b"appended ran\n"
        b"after it ran: False 0 []\n"
        b"closed: False 0 []\n")


def test_run_forever_calls_the_set_running_loop_in_place_when_it_runs(
        same_output):
    assert same_output(PROGRAMS / "running_loop_swap.py") == (
        b"before the swap: True []\n"
        b"swapped: True ['set', 'cleared']\n"
        b"restored: True ['set', 'cleared']\n")
