"""input() and interactive help() in a served session read from that
client (behaviour.md, "--serve"), over a plain client byte for byte (over
--connect: test_connect.py). The program waits meanwhile, as input() in a
coroutine makes it wait under python3; a client that ends or vanishes
gives EOFError and leaks nothing."""

import socket

import pytest

from serving import Client, open_fds, serve, wait_fds

EOF_TRACEBACK = (b"Traceback (most recent call last):\n"
                 b'  File "<console>", line 1, in <module>\n'
                 b"EOFError\n")


def test_input_reads_the_nc_clients_next_line(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    assert c.until(b">>> ") == b"test\n>>> "
    c.send(b"print('got', input('x' '? '))\n")
    assert c.until(b"x? ") == b"x? "
    c.send(b"hello\n")
    assert c.until(b">>> ") == b"got hello\n>>> "
    assert proc.stderr == b""


def test_lines_after_the_answer_stay_for_the_console(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.send(b"x = input('x' '? ')\nhello\nx * 2\n")
    c.half_close()
    assert c.rest() == b"test\n>>> x? >>> 'hellohello'\n>>> \n"


def test_end_of_input_at_input_is_eoferror_then_the_session_ends(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.send(b"input('y' '? ')\n")
    assert c.until(b"y? ") == b"test\n>>> y? "
    c.half_close()
    assert c.rest() == EOF_TRACEBACK + b">>> \n"
    d = Client(address)
    assert d.until(b">>> ") == b"test\n>>> "
    assert d.run(b"6*7") == b"42\n>>> "


def test_other_clients_wait_while_input_waits_then_get_their_answer(start):
    proc, address = serve(start, ":0")
    a, b = Client(address), Client(address)
    assert b.until(b">>> ") == b"test\n>>> "
    assert a.until(b">>> ") == b"test\n>>> "
    a.send(b"print(input('x' '? ').upper())\n")
    assert a.until(b"x? ") == b"x? "
    b.send(b"6*7\n")
    b.sock.settimeout(0.5)
    with pytest.raises(socket.timeout):     # the program waits meanwhile
        b.sock.recv(65536)
    a.send(b"first\n")
    assert a.until(b">>> ") == b"FIRST\n>>> "
    assert b.until(b">>> ") == b"42\n>>> "


def test_client_vanishing_during_input_ends_only_its_session(start):
    proc, address = serve(start, ":0")
    other = Client(address)
    assert other.until(b">>> ") == b"test\n>>> "
    before = open_fds(proc.popen.pid)
    gone = Client(address)
    gone.send(b"input('x' '? ')\n")
    assert gone.until(b"x? ") == b"test\n>>> x? "
    gone.reset()
    wait_fds(proc.popen.pid, before)
    assert other.run(b"6*7") == b"42\n>>> "
    assert proc.popen.poll() is None


def test_interactive_help_talks_to_the_nc_client(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    assert c.until(b">>> ") == b"test\n>>> "
    c.send(b"help()\n")
    intro = c.until(b"help> ")      # its text depends on the version
    assert b"Welcome to Python " in intro
    assert intro.endswith(b"\nhelp> ")
    c.send(b"len\n")
    assert c.until(b"help> ") == (
        b"Help on built-in function len in module builtins:\n\n"
        b"len(obj, /)\n"
        b"    Return the number of items in a container.\n\nhelp> ")
    c.send(b"quit\n")
    assert c.until(b">>> ").startswith(b"\nYou are now leaving help ")
    assert c.run(b"help(len)") == (
        b"Help on built-in function len in module builtins:\n\n"
        b"len(obj, /)\n"
        b"    Return the number of items in a container.\n\n>>> ")
    assert proc.stderr == b""
