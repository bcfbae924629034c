"""apython's own options: help, version, and the errors for bad options,
a bad --locals and a bad --serve (usage line, one-line error, status 2)."""

import re

import pytest


def test_help_prints_usage_on_stdout(run):
    cp = run(["--help"])
    assert cp.stdout.startswith(b"usage: apython")
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_short_help_prints_usage_on_stdout(run):
    cp = run(["-h"])
    assert cp.stdout.startswith(b"usage: apython")
    assert cp.returncode == 0


def test_help_lists_the_options(run):
    out = run(["--help"]).stdout
    for option in (b"--serve", b"--no-readline", b"--banner", b"--locals",
                   b"-m", b"--version", b"--help"):
        assert option in out


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_version_prints_apython_and_its_version(run, option):
    cp = run([option])
    # One line: "apython VERSION", optionally followed by what it was
    # built with.
    assert re.fullmatch(rb"apython \d+\.\d+[^\s(]*( \(.*\))?\n", cp.stdout), \
        cp.stdout
    assert cp.stderr == b""
    assert cp.returncode == 0


def usage_then_error(cp, message):
    """stderr is a usage line (or block) then exactly `message`; status 2."""
    assert cp.stderr.startswith(b"usage: apython"), cp.stderr
    assert cp.stderr.endswith(b"\n" + message + b"\n"), cp.stderr
    assert cp.stdout == b""
    assert cp.returncode == 2


def test_unknown_option_prints_usage_and_error(run):
    cp = run(["--bogus"])
    usage_then_error(cp, b"apython: error: unrecognized option '--bogus'")


def test_unknown_option_does_not_start_a_console(run):
    cp = run(["--bogus"], input=b"1+1\n")
    assert b">>>" not in cp.stderr
    assert cp.returncode == 2


@pytest.mark.parametrize("value", ["[1]", "x y", "{'a': len}"])
def test_bad_locals_gives_one_line_error_and_status_2(run, value):
    cp = run(["--locals", value], input=b"1+1\n")
    usage_then_error(cp, b"apython: error: argument --locals: expected a "
                         b"Python literal dict, got '%s'" % value.encode())
    assert b"Traceback" not in cp.stderr


@pytest.mark.parametrize("option", ["--serve", "-s"])
@pytest.mark.parametrize("value", ["abc", "70000", "host:", ":x"])
def test_bad_serve_value_gives_usage_and_error(run, option, value):
    cp = run([option, value], input=b"")
    usage_then_error(cp, b"apython: error: '%s' is not a valid server "
                         b"[HOST:]PORT" % value.encode())


def test_m_without_a_module_is_a_usage_error(run):
    cp = run(["-m"], input=b"1+1\n")
    assert cp.returncode == 2
    assert cp.stdout == b""
    assert b">>>" not in cp.stderr
