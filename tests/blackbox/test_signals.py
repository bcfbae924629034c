"""Ctrl-C (SIGINT) while a program's loop runs is a KeyboardInterrupt in the
loop: the program dies of it like under python3."""

import signal
from pathlib import Path

import pytest

SLEEP_LONG = Path(__file__).resolve().parent / "programs" / "sleep_long.py"


def interrupt(p):
    """Wait until the program's loop runs, send SIGINT, return the status."""
    p.expect_stdout(b"ready\n")
    p.popen.send_signal(signal.SIGINT)
    return p.wait()


def test_sigint_during_asyncio_run_kills_by_sigint_after_traceback(start):
    p = start(["--no-readline", "--banner=test", SLEEP_LONG])
    rc = interrupt(p)
    assert rc == -signal.SIGINT
    assert b"Traceback (most recent call last):\n" in p.stderr
    assert p.stderr.endswith(b"\nKeyboardInterrupt\n")
    assert p.stdout == b"ready\n"


def test_sigint_during_asyncio_run_ends_like_python3(start, start_python,
                                                      same_as_system_python):
    if not same_as_system_python:
        pytest.skip("apython does not embed /usr/bin/python3's version")
    a = start(["--no-readline", "--banner=test", SLEEP_LONG])
    p = start_python([SLEEP_LONG])
    rc_a, rc_p = interrupt(a), interrupt(p)
    assert rc_a == rc_p == -signal.SIGINT
    assert a.stderr.splitlines()[-1] == p.stderr.splitlines()[-1]
    assert a.stdout == p.stdout == b"ready\n"


def test_sigint_during_bare_run_forever_kills_by_sigint(start):
    p = start(["--no-readline", "--banner=test",
               SLEEP_LONG.parent / "run_forever_ready.py"])
    rc = interrupt(p)
    assert rc == -signal.SIGINT
    assert b"Traceback (most recent call last):\n" in p.stderr
    assert p.stderr.endswith(b"\nKeyboardInterrupt\n")
