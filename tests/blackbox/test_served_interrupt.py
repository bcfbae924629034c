"""Ctrl-C from a served console's client while its statement holds the
loop (CPU-bound, or blocked in a call such as time.sleep): apython's
control thread hears it and the statement gets KeyboardInterrupt, as at
the local console; the program, its SIGINT handler and the other
sessions are untouched. Through --connect on a real pty, and a plain
client's telnet IAC IP."""

import os
import signal

from serving import Client, serve
from test_connect import connect

# The fixture, used by name.
assert connect

# A statement that spins, and says so once it runs.
SPIN = b"b = 0\nwhile True: b = b or print('busy') or 1\n\n"
IAC_IP = b"\xff\xf4"
INTERRUPTED = ('Traceback (most recent call last):\r\n'
               '  File "<console>", line 1, in <module>\r\n'
               'KeyboardInterrupt\r\n>>> ')


def test_connect_ctrl_c_interrupts_a_cpu_bound_statement(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.send(SPIN.decode().replace("\n", "\r"))
    child.expect_exact("busy\r\n")
    child.sendintr()
    child.expect_exact(INTERRUPTED)
    # One prompt: the next line's answer comes right after it.
    one_prompt(child)
    assert proc.popen.poll() is None


def one_prompt(child):
    """After the prompt that followed KeyboardInterrupt: no other comes
    before the next line's answer."""
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")
    assert child.before == b"6*7\r\n"


def interrupt_a_sleep(child):
    """At child's prompt, a statement blocked in time.sleep(); Ctrl-C."""
    child.expect_exact(">>> ")
    child.sendline("import time; print('sle' + 'eping'); time.sleep(3600)")
    child.expect_exact("sleeping\r\n")
    child.sendintr()
    child.expect_exact(INTERRUPTED)


def test_connect_ctrl_c_interrupts_time_sleep(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    interrupt_a_sleep(child)
    one_prompt(child)


def test_connect_ctrl_c_in_a_coroutine_on_the_cpu(start, connect):
    proc, address = serve(start, ":0")
    child = connect(address)
    child.expect_exact(">>> ")
    child.sendline("await asyncio.sleep(0); print('sp' + 'inning'); "
                   "import time; time.sleep(3600)")
    child.expect_exact("spinning\r\n")
    child.sendintr()
    child.expect_exact("KeyboardInterrupt\r\n>>> ")
    one_prompt(child)


def test_served_interrupt_leaves_the_program_and_other_sessions(start,
                                                               connect):
    proc, address = serve(start, ":0", "--locals", "{'box': []}")
    other = Client(address)
    other.until(b">>> ")
    assert other.run(b"import signal; mine = 7; signal.signal("
                     b"signal.SIGINT, lambda *a: box.append('program'))"
                     ) != b""
    child = connect(address)
    interrupt_a_sleep(child)
    assert other.run(b"box, mine") == b"([], 7)\n>>> "
    child.sendline("6*7")
    child.expect_exact("42\r\n>>> ")


def test_plain_client_iac_ip_interrupts_a_cpu_bound_statement(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.send(SPIN)
    c.until(b"busy\n")
    c.send(IAC_IP)
    assert c.until(b">>> ") == INTERRUPTED.replace("\r\n", "\n").encode()
    assert c.run(b"6*7") == b"42\n>>> "


def test_lines_sent_while_a_statement_holds_the_loop_run_after_it(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.run(b"import time")
    c.send(b"print('sle' + 'eping'); time.sleep(1); print('woke')\n")
    c.until(b"sleeping\n")
    c.send(b"6*7\n")
    assert c.until(b"42\n>>> ") == b"woke\n>>> 42\n>>> "


def test_ctrl_c_after_lines_sent_during_the_statement_drops_them(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.send(SPIN)
    c.until(b"busy\n")
    c.send(b"print('dropped')\n" + IAC_IP)
    assert c.until(b">>> ") == INTERRUPTED.replace("\r\n", "\n").encode()
    assert c.run(b"6*7") == b"42\n>>> "


def test_client_ctrl_c_after_a_sigint_the_program_ignored(start, tmp_path):
    """The program's SIGINT handler ran during the statement and raised
    nothing; the client's Ctrl-C then is the statement's, not the
    program's: the server lives on."""
    prog = tmp_path / "prog.py"
    prog.write_text("import asyncio, signal\n"
                    "signal.signal(signal.SIGINT,\n"
                    "              lambda *a: print('ign' + 'ored', flush=True))\n"
                    "async def main():\n"
                    "    while True:\n"
                    "        await asyncio.sleep(1)\n"
                    "asyncio.run(main())\n")
    proc, address = serve(start, ":0", prog)
    c = Client(address)
    c.until(b">>> ")
    c.send(SPIN)
    c.until(b"busy\n")
    os.kill(proc.popen.pid, signal.SIGINT)
    # It runs in the statement, whose output goes to its client.
    c.until(b"ignored\n")
    c.send(IAC_IP)
    assert c.until(b">>> ") == INTERRUPTED.replace("\r\n", "\n").encode()
    assert c.run(b"6*7") == b"42\n>>> "
    assert proc.popen.poll() is None


def test_a_line_after_input_answered_in_a_callback_runs_at_once(start):
    """input() from a callback (no statement on the CPU) reads the client
    itself; afterwards the loop reads it again, not the control
    thread."""
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.run(b"import asyncio")
    c.send(b"asyncio.get_running_loop().call_soon("
           b"lambda: print('got', input('x? ')))\n")
    c.until(b"x? ")
    c.send(b"hello\n")
    c.until(b"got hello\n")
    assert c.run(b"6*7").endswith(b"42\n>>> ")


def test_ctrl_c_after_a_200_kb_line_sent_during_the_statement(start):
    proc, address = serve(start, ":0")
    c = Client(address)
    c.until(b">>> ")
    c.send(SPIN)
    c.until(b"busy\n")
    c.send(b"#" + b"x" * 200000 + b"\n" + IAC_IP)
    assert c.until(b">>> ") == INTERRUPTED.replace("\r\n", "\n").encode()
    assert c.run(b"6*7") == b"42\n>>> "
