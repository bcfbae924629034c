"""A program on a real terminal (a pty, through pexpect), and what a user
would see on that terminal.

Terminal tests mostly run with TERM=dumb, where readline draws with nothing
but CR, BS and spaces (and scrolls a line wider than the window sideways,
marking it with '<' or '>'); `screen_lines()` replays that output the way a
terminal would, so that tests can assert what the user sees.  Every wait
here ends on an event (some text, a screen state) or fails after `timeout`
seconds: nothing sleeps for a fixed time and then looks."""

import io
import os
import re
import time

import pexpect

UP = "\x1b[A"
CSI = re.compile(r"\x1b\[(\d*)([A-Za-z])")
BRACKETED_PASTE = re.compile(rb"\x1b\[\?2004[hl]")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def screen_lines(data):
    """The lines a terminal shows after receiving `data`: printable text,
    CR, LF, BS, BEL and the CSI sequences readline uses for cursor motion
    and erasing (K, C, D)."""
    lines, row, col = [[]], 0, 0
    text = data.decode("utf-8", "replace")
    i = 0
    while i < len(text):
        ch = text[i]
        m = CSI.match(text, i)
        if m:
            n = int(m.group(1) or 1)
            if m.group(2) == "K":
                del lines[row][col:]
            elif m.group(2) == "C":
                col += n
            elif m.group(2) == "D":
                col = max(col - n, 0)
            i = m.end()
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            if row == len(lines):
                lines.append([])
        elif ch == "\b":
            col = max(col - 1, 0)
        elif ch >= " ":
            line = lines[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = ch
            col += 1
        i += 1
    return ["".join(line).rstrip() for line in lines]


class Term:
    """A program on a pty of 24x80, with everything it wrote kept.

    `expect*` consume what they match, in order, as pexpect does; the
    screen is everything written since the start, whatever was matched."""

    def __init__(self, argv, env, timeout, cwd=None):
        self.timeout = timeout
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=cwd,
                                   timeout=timeout, dimensions=(24, 80))
        self.log = io.BytesIO()
        self.child.logfile_read = self.log
        self.mark = 0

    def expect(self, text):
        """Wait until `text` (exact) comes after the previous match."""
        self.child.expect_exact(text)

    def expect_re(self, pattern):
        self.child.expect(pattern)
        return self.child.match

    def _pump(self, timeout):
        """Read what the program writes within `timeout` seconds (at least
        what is there now), keeping it for the next expect."""
        try:
            while True:
                self.child.buffer += self.child.read_nonblocking(65536,
                                                                 timeout)
                timeout = 0
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass

    def drain(self):
        """Read what the program has written so far (still expected)."""
        self._pump(0)

    def send(self, keys):
        """Type keys; what the screen shows from then on is their answer."""
        self.drain()
        self.mark = len(self.log.getvalue())
        self.child.send(keys)

    def resize(self, rows, cols):
        """Change the window size (the program gets SIGWINCH); what the
        screen shows from then on is its answer."""
        self.drain()
        self.mark = len(self.log.getvalue())
        self.child.setwinsize(rows, cols)

    def written_since_mark(self):
        """What the program wrote since the last keys sent (or resize)."""
        self.drain()
        return self.log.getvalue()[self.mark:]

    def screen(self):
        return screen_lines(self.log.getvalue())

    def last_line(self):
        return self.screen()[-1]

    def wait_until(self, check, what):
        """Wait until check(screen lines) is true, after some output that
        came after the last keys sent; fail with the screen after the
        timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            self.drain()
            if len(self.log.getvalue()) > self.mark and check(self.screen()):
                return
            if time.monotonic() > deadline:
                raise AssertionError("waited for %s; screen:\n%s"
                                     % (what, "\n".join(self.screen())))
            self._pump(0.1)

    def wait_for_prompt(self, prompt=">>> "):
        """Wait until the program's output ends in the whole prompt (its
        last space included), after some output that came after the last
        keys sent: what is written after it is then an answer to the keys
        sent next."""
        end = prompt.encode()
        self.wait_until(lambda screen: BRACKETED_PASTE.sub(
            b"", self.log.getvalue()[self.mark:]).endswith(end),
            "the prompt %r" % prompt)

    def wait_for_line(self, line):
        """Wait until the screen's last line reads `line`, after some output
        that came after the last keys sent."""
        self.wait_until(lambda screen: screen[-1] == line,
                        "last line %r" % line)

    def _stat(self):
        """(state letter, CPU seconds used) of the program's main thread."""
        with open("/proc/%d/stat" % self.child.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def _poll(self, check, what):
        deadline = time.monotonic() + self.timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("waited for the program to %s" % what)
            time.sleep(0.01)

    def wait_asleep(self):
        """Wait until the program sleeps (its loop waits for events): after
        a statement was seen entered, it then awaits."""
        self._poll(lambda: self._stat()[0] == "S", "sleep")

    def wait_cpu(self, seconds):
        """Wait until the program has used `seconds` more of CPU time: it
        is running code that never waits."""
        start = self._stat()[1]
        self._poll(lambda: self._stat()[1] - start >= seconds,
                   "use %s s of CPU" % seconds)

    def interrupt(self):
        self.child.sendintr()

    def eof(self):
        self.child.sendeof()

    def wait(self):
        """Wait for the end; return (exit status, signal)."""
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus, self.child.signalstatus

    def at_prompt(self, after=0):
        """Whether the screen ends in an empty primary prompt, shown after
        the first `after` bytes of output (readline's bracketed-paste
        switches, which screen_lines does not know, left out)."""
        self.drain()
        log = self.log.getvalue()
        return len(log) > after and screen_lines(
            BRACKETED_PASTE.sub(b"", log))[-1] == ">>>"

    def exited(self, timeout, until=lambda: False):
        """Wait up to `timeout` seconds for the program to exit (or for
        until() to be true), reading what it writes; whether it exited.
        Once it has, everything it wrote is in the log."""
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if until() or time.monotonic() > deadline:
                return False
            self._pump(0.05)
            if self.child.flag_eof:
                time.sleep(0.05)
        if not self.child.closed:
            self.drain()
            self.child.close()
        return True

    def kill(self):
        """SIGKILL, the last resort."""
        if self.child.isalive():
            self.child.close(force=True)


# apython's console on a Term


def run_line(t, line, answer=None):
    """Type `line` and Enter; wait for the next prompt (after `answer`)."""
    t.send(line + "\r")
    t.expect(line + "\r\n" + (answer + "\r\n" if answer else ""))
    t.wait_for_prompt()


def run_block(t, *lines):
    """Type the lines of a block, each answered by ps2, then the empty line
    that ends it; wait for the next prompt."""
    for line in lines:
        t.send(line + "\r")
        t.expect(line + "\r\n... ")
    t.send("\r")
    t.wait_for_prompt()
