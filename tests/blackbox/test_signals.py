"""Ctrl-C (SIGINT) while a program's loop runs is a KeyboardInterrupt in the
loop: the program dies of it like under python3."""

import signal

import pytest

from conftest import PROGRAMS, TIMEOUT

SLEEP_LONG = PROGRAMS / "sleep_long.py"
RUN_FOREVER = PROGRAMS / "run_forever_ready.py"


def interrupt(p, settle=True):
    """Wait until the program's loop runs (and, if `settle`, until the
    console shows its prompt: it waits for stdin's first byte), send
    SIGINT, return the exit status."""
    p.expect_stdout(b"ready\n")
    if settle:
        p.send(b"\n")
        p.expect_stderr(b"test\n>>> >>> ")
    p.popen.send_signal(signal.SIGINT)
    return p.wait(TIMEOUT)


def assert_died_of_keyboard_interrupt(p, rc):
    assert rc == -signal.SIGINT, p.stderr
    assert b"Traceback (most recent call last):\n" in p.stderr
    assert p.stderr.endswith(b"\nKeyboardInterrupt\n")
    assert b"Exception ignored" not in p.stderr


def test_sigint_during_asyncio_run_kills_by_sigint_after_traceback(start):
    p = start(["--no-readline", "--banner=test", SLEEP_LONG])
    assert_died_of_keyboard_interrupt(p, interrupt(p))
    assert p.stdout == b"ready\n"


def test_sigint_during_bare_run_forever_kills_by_sigint(start):
    p = start(["--no-readline", "--banner=test", RUN_FOREVER])
    assert_died_of_keyboard_interrupt(p, interrupt(p))


@pytest.mark.parametrize("attempt", range(5))
def test_sigint_right_after_the_loop_starts_is_not_lost(start, attempt):
    # SIGINT as soon as the program has printed, while the console may
    # still be starting: python3 dies of it every time.
    p = start(["--no-readline", "--banner=test", SLEEP_LONG])
    assert_died_of_keyboard_interrupt(p, interrupt(p, settle=False))


def test_sigint_during_asyncio_run_ends_like_python3(start, start_python,
                                                      same_as_system_python):
    if not same_as_system_python:
        pytest.skip("apython does not embed /usr/bin/python3's version")
    a = start(["--no-readline", "--banner=test", SLEEP_LONG])
    p = start_python([SLEEP_LONG])
    rc_a = interrupt(a)
    p.expect_stdout(b"ready\n")
    p.popen.send_signal(signal.SIGINT)
    rc_p = p.wait()
    assert rc_a == rc_p == -signal.SIGINT
    assert a.stderr.splitlines()[-1] == p.stderr.splitlines()[-1]
    assert a.stdout == p.stdout == b"ready\n"
