"""apython.AsynchronousConsole and apython.interact(): a console on any
pair of streams, aioconsole's API. The reader needs an awaitable
readline() (bytes or str, empty at the end); the writer write(bytes) and
an awaitable drain().

Two ways to run: by default interact() runs apython's native console
(console/streams.c: top-level await, apython's tracebacks, a statement's
output to the writer); when a subclass overrides runsource() (as
AsynchronousCli does), the Python REPL below runs instead: raw_input(),
push(), runsource(), with the same banner, prompts, stop and
handle_sigint.

C hands it _native (console/streams.c): new(pump, ns, banner) a session,
start(session, loop) its task, interrupt(session),
on_cpu_interrupt(session),
complete(session, before, text), stop(session), prepare()
before the streams are made, banner(text)."""

import asyncio
import code
import codeop
import contextvars
import signal
import sys
import threading
import traceback

_TOP_LEVEL_AWAIT = 0x2000        # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT (3.8+)
_CO_COROUTINE = 0x0080           # inspect.CO_COROUTINE


# Consoles that took SIGINT, the latest last: the signal is the latest's,
# and what had it before the first comes back when the last ends (in any
# order: interact() calls may overlap).
_sigint_takers = []
_sigint_before = [None]


def _sigint_dispatch(signum, frame):
    if _sigint_takers:
        _sigint_takers[-1]._sigint(signum, frame)


# The console whose Python REPL runs the current statement: its
# expressions' values go to its writer (see _display).
_display_to = contextvars.ContextVar("apython_display_to", default=None)
_display_users = [0, None]      # statements running, the hook before


def _display(value):
    """sys.displayhook while Python REPL statements run: a value is shown
    on the statement's console and bound to _ there, as aioconsole does;
    other code's goes to the hook that was there."""
    console = _display_to.get()
    if console is None:
        return _display_users[1](value)
    if value is not None:
        console.locals["_"] = value
        console.write(repr(value) + "\n")


def _running_loop():
    """The running loop, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _as_text(line):
    """A line the reader gave (bytes or str) as str, without its end."""
    if isinstance(line, (bytes, bytearray)):
        line = bytes(line).decode("utf-8", "replace")
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):
        line = line[:-1]
    return line


class _AwaitCompiler(codeop.CommandCompiler):
    """codeop's compiler for a console line, with top-level await."""

    def __init__(self):
        super().__init__()
        self.compiler.flags |= _TOP_LEVEL_AWAIT


class _Writer:
    """Text for a writer as bytes, drained in order by one task at a
    time (asyncio's drain() must not be awaited twice at once). The
    writer's code, and the reader's, run in the context interact() was
    called in (ctx), not the console's: there sys.stdout is the
    program's, not this console's own output (which would loop)."""

    def __init__(self, writer, loop, ctx):
        self.writer = writer
        self.loop = loop
        self.thread = threading.get_ident()     # the loop's
        self.ctx = ctx
        self.closed = False
        self._dirty = False
        self._drainer = None

    def write(self, text):
        if self.closed or not text:
            return
        if threading.get_ident() != self.thread:
            # A thread the statement's context went to (to_thread):
            # the writer and the loop are the loop thread's.
            self.loop.call_soon_threadsafe(self.write, text)
            return
        self.ctx.run(self.writer.write,
                     text.encode("utf-8", "backslashreplace"))
        self._dirty = True
        if self._drainer is None or self._drainer.done():
            self._drainer = self.task(self._drain())

    def task(self, coro):
        """A task for coro, in the context of interact()'s caller."""
        return self.ctx.run(self.loop.create_task, coro)

    async def _drain(self):
        # Written before the console closed it is still drained.
        while self._dirty:
            self._dirty = False
            try:
                await self.writer.drain()
            except (ConnectionError, RuntimeError):
                self.closed = True
                return

    async def flush(self):
        """Until what was written is drained."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)


class _Pump:
    """What the native session (console/streams.c) calls: write(text) for
    its output, prompt(text) when it wants a line (one readline() in
    flight at most: the prompt is written first, drained, then the line
    read), end(exc) when it is over. Lines go back through
    _native.line(session, text) and _native.eof(session)."""

    def __init__(self, console, reader, out):
        self.console = console
        self.reader = reader
        self.out = out
        self.session = None
        self.exit = None
        self.eof = False
        self.error = None
        self._skip_newline = False
        self._reading = None

    def write(self, text):
        if self._skip_newline and text == "\n":
            self._skip_newline = False
        else:
            self.out.write(text)
        return len(text)

    def flush(self):
        pass

    # What code may ask of sys.stdout while it is this console's.
    encoding = "utf-8"
    errors = "backslashreplace"
    closed = False

    def isatty(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        import io
        raise io.UnsupportedOperation("fileno")

    def prompt(self, text):
        self.out.write(self.console._controlled(text))
        if self._reading is None or self._reading.done():
            self._reading = self.out.task(self._read())

    async def _read(self):
        await self.out.flush()
        try:
            line = await self.reader.readline()
        except (ConnectionError, EOFError, asyncio.IncompleteReadError):
            line = b""
        except Exception as e:
            # The console ends; interact() raises it.
            self.error = e
            line = b""
        session = self.session
        if session is None:
            return
        if not line:
            self.eof = True
            # The console ends the prompt's line, unless the reader did.
            self._skip_newline = self.console._at_line_start()
            _native.eof(session)
        else:
            _native.line(session, _as_text(line))

    def restart(self, then):
        """Ctrl-C: a line being read is dropped (at a terminal the line
        edited is the gone prompt's); then() once its reader has let go
        of it (a line editor ends its line first), and the console's next
        prompt reads anew."""
        reading, self._reading = self._reading, None
        if reading is None or reading.done():
            then()
            return
        reading.cancel()
        reading.add_done_callback(lambda _: self.session and then())

    def end(self, exc):
        """exc: exit()'s SystemExit, or SystemExit(0) at EOF, which
        interact() raises as aioconsole does: SystemExit()."""
        if self.exit is None:
            self.exit = SystemExit() if self.eof else exc
        self.out.closed = True
        if self._reading is not None:
            self._reading.cancel()


class AsynchronousConsole(code.InteractiveConsole):
    """A console on streams (reader, writer), or an awaitable giving
    them, or None: apython.get_standard_streams(use_stderr=True).
    interact() runs it; a subclass overriding runsource() gets the
    Python REPL (raw_input, push, runsource) instead of apython's."""

    def __init__(self, streams=None, locals=None, filename="<console>",
                 prompt_control=None, *, loop=None):
        super().__init__(locals, filename)
        # Made outside a coroutine (Console().interact() as asyncio.run's
        # argument), its loop is the one interact() runs on.
        self.loop = loop if loop is not None else _running_loop()
        self._loop_given = loop is not None
        self._standard = streams is None
        self.streams = streams
        self.reader = None
        self.writer = None
        self.prompt_control = prompt_control
        self.compile = _AwaitCompiler()
        self._out = None
        self._session = None
        self._cancelled_by_sigint = False
        self.locals["asyncio"] = asyncio
        self.locals["loop"] = self.loop
        self.locals["ainput"] = self.ainput
        self.locals["print"] = self.print

    def _native(self):
        """Whether interact() runs apython's console (runsource is ours)."""
        return type(self).runsource is AsynchronousConsole.runsource

    def _controlled(self, prompt):
        """prompt between prompt_control characters, when set."""
        pc = self.prompt_control
        if pc and pc not in prompt:
            return pc + prompt + pc
        return prompt

    # Output.

    def write(self, data):
        """Text for the writer (as UTF-8 bytes)."""
        if self._out is not None:
            self._out.write(data)
        else:
            self.writer.write(data.encode("utf-8", "backslashreplace"))

    async def flush(self):
        """Until the writer has taken what was written."""
        if self._out is not None:
            await self._out.flush()
            return
        try:
            await self.writer.drain()
        except ConnectionError:
            pass

    def print(self, *args, **kwargs):
        """print(), to the console's writer unless file= says otherwise."""
        kwargs.setdefault("file", self)
        if kwargs["file"] is self:
            # flush() is a coroutine here; the console drains anyway.
            kwargs.pop("flush", None)
        print(*args, **kwargs)

    # Input.

    async def ainput(self, prompt="", *, streams=None, use_stderr=False,
                     loop=None):
        """A line (str, without its newline) from the console's reader, or
        from streams; EOFError at the end."""
        if streams is None and not use_stderr:
            if self._session is not None and self._out is not None:
                return await _native.ainput(self._session, prompt)
            self.write(self._controlled(str(prompt)))
            await self.flush()
            line = await self.reader.readline()
            if not line:
                raise EOFError
            return _as_text(line)
        import apython
        return await apython.ainput(prompt, streams=streams,
                                    use_stderr=use_stderr, loop=loop)

    async def raw_input(self, prompt=""):
        """The Python REPL's line: ainput(prompt)."""
        return await self.ainput(prompt)

    # The Python REPL.

    def get_default_banner(self):
        """The banner interact() shows by default, as apython's console."""
        return _native.banner(None).rstrip("\n")

    def resetbuffer(self):
        self.buffer = []

    async def push(self, line):
        """line joins the statement; True while more lines are needed."""
        self.buffer.append(line)
        more = await self.runsource("\n".join(self.buffer), self.filename)
        if not more:
            self.resetbuffer()
        return more

    async def runsource(self, source, filename="<ainput>", symbol="single"):
        """Compile and run source (top-level await allowed): True when it
        is incomplete, else False once it ran."""
        try:
            compiled = self.compile(source, filename, symbol)
        except (OverflowError, SyntaxError, ValueError):
            self.showsyntaxerror(filename)
            await self.flush()
            return False
        if compiled is None:
            return True
        await self.runcode(compiled)
        return False

    async def runcode(self, compiled):
        """Run code in the locals, awaiting it when it awaits; its
        exception is shown (SystemExit ends the console)."""
        token = _display_to.set(self)
        if _display_users[0] == 0 and sys.displayhook is not _display:
            _display_users[1] = sys.displayhook
            sys.displayhook = _display
        _display_users[0] += 1
        try:
            result = eval(compiled, self.locals)
            if compiled.co_flags & _CO_COROUTINE:
                await result
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()
        finally:
            _display_to.reset(token)
            _display_users[0] -= 1
            if _display_users[0] == 0 and sys.displayhook is _display:
                sys.displayhook = _display_users[1]
        await self.flush()

    def showtraceback(self):
        """The exception being handled, as python3's console shows it."""
        typ, value, tb = sys.exc_info()
        sys.last_type, sys.last_value, sys.last_traceback = typ, value, tb
        if tb is not None:
            tb = tb.tb_next
        self.write("".join(traceback.format_exception(typ, value, tb)))

    def showsyntaxerror(self, filename=None):
        """The SyntaxError being handled, under filename."""
        typ, value, tb = sys.exc_info()
        if filename and typ is SyntaxError and len(value.args) == 2:
            msg, where = value.args
            if isinstance(where, tuple) and len(where) >= 4:
                value = SyntaxError(msg, (filename,) + tuple(where[1:]))
        sys.last_type, sys.last_value, sys.last_traceback = typ, value, tb
        self.write("".join(traceback.format_exception_only(typ, value)))

    async def _interact_python(self, banner):
        """The Python REPL: banner, then lines until EOF; a Ctrl-C
        (handle_sigint) drops the statement for a fresh prompt."""
        for name, value in (("ps1", ">>> "), ("ps2", "... ")):
            if not hasattr(sys, name):
                setattr(sys, name, value)
        if banner is None:
            banner = self.get_default_banner()
        self.write(banner + "\n")
        more = False
        while True:
            try:
                try:
                    line = await self.raw_input(sys.ps2 if more else sys.ps1)
                except EOFError:
                    if not self._at_line_start():
                        self.write("\n")
                    try:
                        await self.flush()
                    except OSError:
                        pass
                    return None
                more = await self.push(line)
            except asyncio.CancelledError:
                if not self._cancelled_by_sigint:
                    raise
                self._cancelled_by_sigint = False
                uncancel = getattr(asyncio.current_task(), "uncancel", None)
                if uncancel is not None:
                    uncancel()
                self.write("KeyboardInterrupt\n" if self._at_line_start()
                           else "\nKeyboardInterrupt\n")
                await self.flush()
                self.resetbuffer()
                more = False

    # Ctrl-C.

    def handle_sigint(self, task):
        """A SIGINT while interact() runs in task: apython's console
        raises KeyboardInterrupt in a statement holding the CPU (called
        from a signal handler or a pending call then), else cancels its
        running statement or drops the line being typed; the Python REPL
        cancels what task awaits (its statement or its line) and shows a
        fresh prompt."""
        if self._session is not None and self._out is not None:
            _native.on_cpu_interrupt(self._session)
            self._pump.restart(self._interrupt_native)
            return
        self._cancelled_by_sigint = True
        task.cancel()

    def _interrupt_native(self):
        """Ctrl-C in apython's console: its statement cancelled, or the
        line dropped, said on a line of its own (a standard writer knows
        where a terminal's cursor is: a line editor ends its line)."""
        if _native.interrupt(self._session):
            self._out.write("KeyboardInterrupt\n" if self._at_line_start()
                            else "\nKeyboardInterrupt\n")

    def _at_line_start(self):
        """Whether the writer is known to be at the start of a line: a
        standard writer knows where a terminal's cursor is after a line
        editor ended its line (Enter, Ctrl-C, Ctrl-D)."""
        return getattr(self.writer, "_partial", None) == ""

    def _sigint(self, signum, frame):
        """signal's handler: KeyboardInterrupt in a statement that holds
        the CPU (as at apython's terminal), else handle_sigint on the
        loop."""
        if self._session is not None:
            _native.on_cpu_interrupt(self._session)
        # Not at once: the loop may be between two of its callbacks.
        self.loop.call_soon_threadsafe(self.handle_sigint, self._task)

    def _take_sigint(self):
        """SIGINT is this console's until it ends; a function giving it
        back (to the console that had it before, or once the last ends to
        what had it: a handler set from C, which signal cannot give back,
        becomes Python's own), or None when signals cannot be had here
        (not the main thread)."""
        if not _sigint_takers:
            try:
                previous = signal.signal(signal.SIGINT, _sigint_dispatch)
            except ValueError:
                return None
            _sigint_before[0] = previous if previous is not None else \
                signal.default_int_handler
        _sigint_takers.append(self)
        return self._give_sigint

    def _give_sigint(self):
        _sigint_takers.remove(self)
        if not _sigint_takers and \
                signal.getsignal(signal.SIGINT) is _sigint_dispatch:
            signal.signal(signal.SIGINT, _sigint_before[0])

    # Completion.

    def _apython_complete(self, line, text):
        """Completions of the word text that ends line, in the console's
        namespace (apython's completer: names, attributes, modules)."""
        before = line[:len(line) - len(text)] if line.endswith(text) \
            else line
        return _native.complete(self._completion_session(), before, text)

    def _completion_session(self):
        if self._session is None:
            self._session = _native.new(None, self.locals, None)
        return self._session

    # interact().

    async def _streams(self):
        if not self._loop_given:
            self.loop = self.locals["loop"] = asyncio.get_running_loop()
        if self._standard:
            import apython
            self._standard = False
            self.streams = apython.get_standard_streams(use_stderr=True,
                                                        loop=self.loop)
        streams, self.streams = self.streams, None
        if streams is not None:
            if hasattr(streams, "__await__"):
                streams = await streams
            self.reader, self.writer = streams

    async def _interact_native(self, banner):
        """apython's console on the streams; its end's SystemExit."""
        self._out = _Writer(self.writer, self.loop,
                            contextvars.copy_context())
        self._pump = pump = _Pump(self, self.reader, self._out)
        self._session = session = _native.new(pump, self.locals,
                                              banner)
        pump.session = session
        setter = getattr(self.reader, "set_completer", None)
        if setter is not None:
            setter(self._apython_complete)
        try:
            await _native.start(session, self.loop)
            await self._out.flush()
        finally:
            pump.session = None
            pump.end(None)
            _native.stop(session)
            if setter is not None:
                setter(None)
            self._out = None
        if pump.error is not None:
            raise pump.error
        return pump.exit

    async def interact(self, banner=None, stop=True, handle_sigint=True):
        """Run the console until EOF or exit(); then, when stop, raise
        SystemExit (exit()'s code), else return."""
        if self._native():
            _native.prepare()
        await self._streams()
        self._task = asyncio.current_task()
        # On stdio at the terminal, the terminal console steps aside.
        take = getattr(self.reader, "_apython_take_terminal", None)
        give_terminal = take() if take is not None else None
        give_back = None
        try:
            give_back = self._take_sigint() if handle_sigint else None
            if self._native():
                exit = await self._interact_native(banner)
            else:
                exit = await self._interact_python(banner)
            if stop:
                raise exit if exit is not None else SystemExit
        except SystemExit:
            if stop:
                raise
        finally:
            if give_back is not None:
                give_back()
            if give_terminal is not None:
                give_terminal()


AsynchronousConsole.__module__ = "apython"


async def interact(banner=None, streams=None, locals=None,
                   prompt_control=None, stop=True, handle_sigint=True, *,
                   loop=None):
    """A console on streams (default: the standard streams) until EOF or
    exit(); stop: then raise SystemExit."""
    console = AsynchronousConsole(streams, locals=locals,
                                  prompt_control=prompt_control, loop=loop)
    await console.interact(banner, stop, handle_sigint)


interact.__module__ = "apython"
