"""Programs that once broke apython's loop (issue 9): each prints what the
python3 apython embeds prints for it."""

import os

from conftest import LONG_TIMEOUT, PROGRAMS


def check(same_output, name, expected):
    assert same_output(PROGRAMS / name, timeout=LONG_TIMEOUT) == expected


def test_loops_in_threads_each_read_their_own_bytes(same_output):
    # Four loops in four threads; collections inside the loop's C code
    # let the other threads run between a recv and the copy of its bytes.
    # Fewer transfers under the sanitizers, as the program says.
    transfers = 50 if "ASAN_OPTIONS" in os.environ else 200
    check(same_output, "threaded_streams_gc.py", b"".join(
        b"thread %d: %d transfers, 0 corrupted\n" % (i, transfers)
        for i in range(4)))


def test_timers_scheduled_while_cancelled_ones_are_dropped_all_run(
        same_output):
    check(same_output, "timers_reschedule_on_drop.py",
          b"kept: True\n"
          b"again: 150 True\n"
          b"again in deadline order: True\n"
          b"never: 0\n"
          b"all in deadline order: True\n")


def test_cycle_through_a_failed_callbacks_handle_is_collected(
        same_output):
    check(same_output, "failed_handle_cycle.py",
          b"handler got: ['exception', 'handle', 'message'] callback failed\n"
          b"cycle through the failed handle collected: True\n")


def test_throw_into_a_waiting_sock_call_keeps_the_given_traceback(
        run, same_python):
    given = b"['given_tb', 'outer', 'inner']"
    out = PROGRAMS / "sock_throw_traceback.py"
    cp = run([out])
    assert cp.stderr == b""
    assert cp.returncode == 0
    lines = cp.stdout.splitlines()
    assert [line.split(b" [")[0] for line in lines] == [
        b"ValueError(thrown) throw_into",
        b"ValueError(thrown) throw_into",
        b"ValueError(thrown) throw_into",
        b"ValueError() throw_into",
        b"TypeError(instance exception may not have a separate value) "
        b"throw_into",
        b"TypeError(throw() third argument must be a traceback) throw_into",
        b"ValueError(thrown) throw_into"]
    assert [given in line for line in lines] == [True] * 4 + [False] * 3
    assert cp.stdout == same_python(out).stdout


def test_callbacks_queued_while_close_drops_the_queue_leave_no_dangling_handle(
        run):
    # close() releases a queued callback whose finalizer cancels a waiting
    # sock_* call; its done callbacks are queued, then dropped too. Using
    # the loop again read freed memory (seen under the sanitizers).
    cp = run([PROGRAMS / "close_drops_while_queueing.py"])
    assert cp.stderr == b""
    assert cp.returncode == 0
    assert cp.stdout == b"cancelled: True\nclosed: True cancelled: True\n"


def test_a_refused_throw_ends_a_waiting_sock_call_as_asyncio_does(
        same_output):
    check(same_output, "sock_throw_bad_arguments.py",
          b"TypeError: throw() third argument must be a traceback\n"
          b"then: cannot reuse already awaited coroutine\n"
          b"TypeError: exceptions must be classes deriving BaseException "
          b"or instances of such a class\n"
          b"then: cannot reuse already awaited coroutine\n"
          b"TypeError: instance exception may not have a separate value\n"
          b"then: cannot reuse already awaited coroutine\n"
          b"b'x'\n")
