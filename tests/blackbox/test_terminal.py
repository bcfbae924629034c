"""The plain-line console on a real terminal (pty)."""

import pexpect


def test_console_on_a_terminal_without_readline_evaluates_lines(apython,
                                                                clean_env):
    child = pexpect.spawn(apython, ["--no-readline"], env=clean_env(),
                          timeout=10)
    try:
        child.expect_exact('Type "help", "copyright", "credits" or "license"')
        child.expect_exact("Try: await asyncio.sleep(1, result=3)\r\n---\r\n"
                           ">>> ")
        child.sendline("1+1")
        child.expect_exact("1+1\r\n2\r\n>>> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
