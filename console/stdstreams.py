"""aioconsole's stream and execution functions in the module apython:
ainput, aprint, get_standard_streams, aexec, aeval (console/stdstreams.c
adds __all__ to the module, for the binary and the extension alike).

The standard streams: a reader of stdin and writers that write through
sys.stdout and sys.stderr (so that, under the binary, what they write
goes above the terminal console's prompt, and inside a console session
to that console). Writers take bytes (str too). The reader's line:
- the local console's next line when it reads a stdin that is not a
  terminal (its lines are the console's: they go to the program's
  readers first);
- at a terminal, a line edited with readline after the prompt, which is
  what the last standard writer wrote after its last newline; with the
  terminal console up, that line takes the terminal as input() does;
- else stdin's bytes, read on the loop.

C gives (console/stdstreams.c): has_session(), session_ainput(prompt),
local_reads(), local_line(), take_held(stream), line_begin(prompt, shown, fd,
completer), line_keys(), line_take(), line_end(), withdraw(on)."""

import asyncio
import ast
import inspect
import io
import os
import sys
import threading
import types
import weakref

__all__ = ["ainput", "aprint", "get_standard_streams", "aexec", "aeval"]

# stdin's bytes read past the last line given, for every loop.
_stdin_rest = bytearray()
_stdin_eof = False
# The standard writer that wrote last: its line's end is the prompt (a
# weak reference: the streams must not keep their loop alive).
_last_writer = lambda: None


def _weak(loop):
    """A callable giving loop back, holding it weakly when it can: the
    cache keys on the loop, and its streams must not keep it alive."""
    try:
        return weakref.ref(loop)
    except TypeError:
        return lambda: loop


def _fileno(stream):
    """stream's file descriptor, or None."""
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _isatty(fd):
    return fd is not None and os.isatty(fd)


async def _readable(loop, fd):
    """Until fd has bytes (or EOF); at once for a file, which the loop
    cannot watch and which never blocks."""
    ready = loop.create_future()
    try:
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    except PermissionError:
        return
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def _fill(loop, fd, enough):
    """Read fd into _stdin_rest until enough() or end of file."""
    global _stdin_eof
    while not _stdin_eof and not enough():
        await _readable(loop, fd)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        _stdin_rest.extend(chunk)
        _stdin_eof = not chunk


def _has_line():
    return b"\n" in _stdin_rest


def _cut(end):
    """The first end bytes of _stdin_rest, taken out."""
    data = bytes(_stdin_rest[:end])
    del _stdin_rest[:end]
    return data


class StandardReader:
    """Reads stdin for the standard streams of one loop."""

    def __init__(self, loop, stdin):
        self._loop_ref = _weak(loop)
        self._stdin = stdin
        self._completer = None
        self._eof = False
        self._lock = None       # one reader's line at a time (on fd 0)
        self._apython_decoding = (
            getattr(stdin, "encoding", None) or "utf-8",
            getattr(stdin, "errors", None) or "strict")

    def set_completer(self, completer):
        """completer(line, text) -> list of str, for Tab while this reader
        edits a line at a terminal: line is the text before the cursor,
        text the word it ends with. None: no completion."""
        if completer is not None and not callable(completer):
            raise TypeError("the completer must be callable or None")
        self._completer = completer

    @property
    def _loop(self):
        return self._loop_ref()

    @property
    def _stream(self):
        """The stdin read: the one seen when made, or the sys.stdin that
        replaced it over the same buffer (console/stdin.py detaches the
        first when a console comes up, e.g. start_console_server())."""
        if isinstance(self._stdin, io.TextIOWrapper) and \
                self._stdin.buffer is None:
            self._stdin = sys.stdin
        return self._stdin

    def at_eof(self):
        return self._eof

    async def readline(self):
        """The next line, with its b"\\n"; b"" at end of file. Readers
        awaiting at once get lines in turn."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            line = await self._line()
        self._eof = not line
        return line

    async def read(self, n=-1):
        """Up to n bytes (all until end of file when n < 0); at a terminal
        or from the local console, a line at most."""
        if n == 0:
            return b""
        fd = _fileno(self._stream)
        if fd is None or os.isatty(fd) or (fd == 0 and local_reads()):
            return await self.readline()
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await _fill(self._loop, fd, (lambda: False) if n < 0 else
                        (lambda: bool(_stdin_rest)))
            data = _cut(len(_stdin_rest) if n < 0 else n)
        self._eof = not data
        return data

    def __aiter__(self):
        return self

    async def __anext__(self):
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    def _apython_take_terminal(self):
        """An interface (interact()) reads this reader until it ends: at
        the terminal, with the terminal console up (the binary), the
        console withdraws meanwhile (its prompt aside, Ctrl-C the
        program's). A function that gives the terminal back, or None."""
        if _fileno(self._stream) != 0 or not os.isatty(0) or \
                threading.current_thread() is not threading.main_thread():
            return None
        if not withdraw(True):
            return None
        return lambda: withdraw(False)

    async def _line(self):
        stream = self._stream
        fd = _fileno(stream)
        if fd is None:
            data = await self._loop.run_in_executor(None, stream.readline)
            return data.encode() if isinstance(data, str) else data
        if fd == 0:
            future = local_line()
            if future is not None:
                return await self._console_line(future)
        if fd == 0 and os.isatty(fd):
            edit = self._editing()
            if edit is not None:
                return await self._edited(*edit)
        await _fill(self._loop, fd, _has_line)
        end = _stdin_rest.find(b"\n")
        return _cut(len(_stdin_rest) if end < 0 else end + 1)

    async def _console_line(self, future):
        """The local console's next line, as bytes."""
        try:
            text = await future
        except EOFError:
            return b""
        return (text + "\n").encode(*self._apython_decoding)

    def _editing(self):
        """(prompt, shown, fd) for a line edited at the terminal: the
        prompt is the last standard writer's line so far, on the screen
        already when that writer writes to the terminal (unless held
        back above the terminal console's prompt); drawn on its fd, or on
        stderr's. None: no terminal to draw on."""
        w = _last_writer()
        prompt, fd = ("", None) if w is None else (w._partial, w._fd)
        held = take_held(w._stream) if w is not None else None
        shown = held is None and _isatty(fd)
        if held is not None:
            prompt = held
        if not _isatty(fd):
            fd = 2 if os.isatty(2) else 1 if os.isatty(1) else None
        if fd is None:
            return None
        return prompt.encode(*self._apython_decoding), shown, fd

    async def _edited(self, prompt, shown, fd):
        """A line edited with readline after prompt, keys read on the
        loop; b"" at end of file (Ctrl-D)."""
        while not line_begin(prompt, shown, fd, self._completer):
            await asyncio.sleep(0.05)   # another line has the terminal
        try:
            state = await self._keys()
            line = line_take() if state > 0 else None
        finally:
            line_end()
            if _last_writer() is not None:
                _last_writer()._partial = ""
        return b"" if line is None else line + b"\n"

    async def _keys(self):
        """Feed stdin's keys to the line until it is in (1) or taken down
        (-1: the terminal console went)."""
        done = self._loop.create_future()

        def keys():
            try:
                state = line_keys()
            except Exception as e:
                if not done.done():
                    done.set_exception(e)
                return
            if state and not done.done():
                done.set_result(state)
        self._loop.add_reader(0, keys)
        try:
            keys()
            return await done
        finally:
            self._loop.remove_reader(0)


class StandardWriter:
    """Writes to sys.stdout or sys.stderr (the one current when made),
    at once: drain() has nothing to wait for."""

    def __init__(self, loop, stream, streams):
        self._loop_ref = _weak(loop)
        self._stream = stream
        self._fd = _fileno(stream)
        self._streams = streams     # the cache's entry, dropped at close
        self._partial = ""          # written after the last newline
        self._closed = False

    def write(self, data):
        """Write bytes (or str) to the stream."""
        global _last_writer
        if self._closed:
            raise RuntimeError("This writer stream is already closed")
        if isinstance(data, str):
            text = data
        else:
            data = bytes(data)
            encoding = getattr(self._stream, "encoding", None) or "utf-8"
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                self._write_raw(data)
                text = data.decode(encoding, "replace")
                data = None
        if text and data is not None:
            self._stream.write(text)
            self._stream.flush()
        end = text.rfind("\n")
        self._partial = text[end + 1:] if end >= 0 else self._partial + text
        _last_writer = weakref.ref(self)

    def _write_raw(self, data):
        """Bytes that are not text in the stream's encoding: to its
        buffer, as they are."""
        self._stream.flush()
        buffer = getattr(self._stream, "buffer", None)
        if buffer is None:
            raise TypeError("%r takes text only" % (self._stream,))
        buffer.write(data)
        buffer.flush()

    def writelines(self, data):
        for item in data:
            self.write(item)

    async def drain(self):
        """Written already."""
        if self._closed:
            raise ConnectionResetError("the writer is closed")

    def close(self):
        """The writer is no longer used (the stream stays open); the next
        get_standard_streams() makes new streams."""
        self._closed = True
        loop = self._loop_ref()
        if loop is None:
            return
        per_loop = _cache_of(loop)
        for key, value in list(per_loop.items()):
            if value is self._streams:
                del per_loop[key]

    def is_closing(self):
        return self._closed

    async def wait_closed(self):
        pass

    def can_write_eof(self):
        return False

    def get_extra_info(self, name, default=None):
        return default


_cache = weakref.WeakKeyDictionary()
_cache_strong = {}      # loops that take no weak reference


def _cache_of(loop):
    """The standard streams made for loop, by the standard streams'
    objects they use."""
    try:
        return _cache.setdefault(loop, {})
    except TypeError:
        return _cache_strong.setdefault(loop, {})


async def get_standard_streams(*, use_stderr=False, loop=None):
    """(reader, writer): stdin's reader and a writer of sys.stdout, or of
    sys.stderr with use_stderr; made once per loop (and per sys.stdin,
    sys.stdout and sys.stderr)."""
    if loop is None:
        loop = asyncio.get_running_loop()
    per_loop = _cache_of(loop)
    key = (id(sys.stdin), id(sys.stdout), id(sys.stderr))
    streams = per_loop.get(key)
    if streams is None:
        streams = []
        streams += [StandardReader(loop, sys.stdin),
                    StandardWriter(loop, sys.stdout, streams),
                    StandardWriter(loop, sys.stderr, streams)]
        per_loop[key] = streams
    return streams[0], streams[2 if use_stderr else 1]


def _for(writer, text, encoding, errors):
    """text as writer takes it: a standard writer takes str and writes it
    in its stream's encoding; any other gets bytes."""
    if isinstance(writer, StandardWriter):
        return text
    return text.encode(encoding, errors)


async def ainput(prompt="", *, streams=None, use_stderr=False, loop=None):
    """Await a line (str, without its newline), after writing prompt:
    from streams (reader, writer), else the console session's when the
    running code is a console's, else the standard streams'. EOFError at
    end of input; a last line without a newline is given, as input()
    gives it."""
    prompt = str(prompt)
    if streams is None:
        if has_session():
            return await session_ainput(prompt)
        streams = await get_standard_streams(use_stderr=use_stderr,
                                             loop=loop)
    reader, writer = streams
    encoding, errors = getattr(reader, "_apython_decoding", ("utf-8",
                                                             "strict"))
    writer.write(_for(writer, prompt, encoding, errors))
    await writer.drain()
    data = await reader.readline()
    if not data:
        raise EOFError
    text = data.decode(encoding, errors)
    return text[:-1] if text.endswith("\n") else text


async def aprint(*values, sep=None, end="\n", flush=True, streams=None,
                 use_stderr=False, loop=None):
    """print() to a writer (bytes): streams' (reader, writer), else the
    standard streams' (inside a console session, sys.stdout and
    sys.stderr are that console's); flush: await its drain()."""
    if streams is None:
        streams = await get_standard_streams(use_stderr=use_stderr,
                                             loop=loop)
    writer = streams[1]
    sep = " " if sep is None else sep
    end = "\n" if end is None else end
    if not isinstance(sep, str) or not isinstance(end, str):
        raise TypeError("sep and end must be None or a string")
    text = sep.join(map(str, values)) + end
    writer.write(_for(writer, text, "utf-8", "surrogateescape"))
    if flush:
        await writer.drain()


_TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _compiled(source, filename, mode):
    """source compiled with top-level await (a code object as it is)."""
    if isinstance(source, types.CodeType):
        return source
    return compile(source, filename, mode, _TOP_LEVEL_AWAIT,
                   dont_inherit=True)


def _namespace(local):
    if local is None:
        return {}
    if not isinstance(local, dict):
        raise TypeError("globals must be a dict")
    return local


async def aexec(source, local=None, stream=None, filename="<aexec>"):
    """exec() with top-level await: source runs in the dict local (its
    globals; exec() adds __builtins__). stream is taken for aioconsole's
    signature: source runs as a module, whose expressions show nothing."""
    local = _namespace(local)
    code = _compiled(source, filename, "exec")
    if code.co_flags & inspect.CO_COROUTINE:
        await eval(code, local)
    else:
        exec(code, local)


async def aeval(source, local=None):
    """eval() with top-level await: the value of the expression source in
    the dict local."""
    local = _namespace(local)
    code = _compiled(source, "<aeval>", "eval")
    value = eval(code, local)
    if code.co_flags & inspect.CO_COROUTINE:
        value = await value
    return value


for _f in (ainput, aprint, get_standard_streams, aexec, aeval):
    _f.__module__ = "apython"
del _f
