"""A served interface's Python side (serve/iface.c): the client's streams
over its connection, and the task that runs
factory(streams=(reader, writer)).interact(banner, stop=False,
handle_sigint=False) on the server's loop.

The connection (a ConsoleConnection of serve/conn.c) gives
_iface_readline() (a future: the client's next line as bytes with its
b"\\n", b"" at the end), _iface_write(bytes) and _iface_end() (close
once what was written is sent). C calls interrupt() for the client's
Ctrl-C, complete(line, text) for its Tab, close() when the connection
is gone."""



class StreamReader:
    """The client's lines, as asyncio.StreamReader.readline() gives them;
    set_completer(fn) answers a --connect client's Tab with fn(line,
    text) while no interface completes (None: no completer)."""

    def __init__(self, conn):
        self._conn = conn
        self._eof = False
        self.completer = None

    async def readline(self):
        if self._eof:
            return b""
        line = await self._conn._iface_readline()
        self._eof = not line
        return line

    def at_eof(self):
        return self._eof

    def set_completer(self, fn):
        self.completer = fn

    def __aiter__(self):
        return self

    async def __anext__(self):
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class StreamWriter:
    """Bytes (or str, as UTF-8) for the client; drain() returns at once
    (a client too far behind is closed, as a console's is)."""

    def __init__(self, conn):
        self._conn = conn
        self._closing = False

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "backslashreplace")
        if not self._closing:
            self._conn._iface_write(data)

    def writelines(self, lines):
        for data in lines:
            self.write(data)

    async def drain(self):
        pass

    def can_write_eof(self):
        return False

    def close(self):
        if not self._closing:
            self._closing = True
            self._conn._iface_end()

    def is_closing(self):
        return self._closing

    async def wait_closed(self):
        pass

    def get_extra_info(self, name, default=None):
        return default


class Served:
    """One client's interface and the task running it."""

    def __init__(self, conn, factory, banner):
        self.reader = StreamReader(conn)
        self.writer = StreamWriter(conn)
        self.factory = factory
        self.banner = banner
        self.interface = None
        self.task = None
        self.ending = False

    def start(self, loop):
        """Run the interface on loop (once)."""
        if self.task is None:
            self.task = loop.create_task(self._run())
            self.task.add_done_callback(self._done)

    async def _run(self):
        try:
            self.interface = self.factory(streams=(self.reader, self.writer))
            await self.interface.interact(banner=self.banner, stop=False,
                                          handle_sigint=False)
        except SystemExit:
            pass
        except Exception as e:
            self.writer.write("apython: the interface failed: %s: %s\n" %
                              (type(e).__name__, e))
            raise
        finally:
            self.ending = True
            self.writer.close()

    def _done(self, task):
        """An exception out of the interface goes to the loop's handler
        (the client was told in one line)."""
        if task.cancelled() or task.exception() is None:
            return
        task.get_loop().call_exception_handler({
            "message": "apython: a served interface failed",
            "exception": task.exception(),
            "task": task,
        })

    def interrupt(self):
        """The client's Ctrl-C: the interface's handle_sigint(task)."""
        handler = getattr(self.interface, "handle_sigint", None)
        if handler is not None and self.task is not None and \
                not self.task.done():
            handler(self.task)

    def complete(self, line, text):
        """Candidates for the client's Tab: the interface's own
        completion, else the reader's completer."""
        fn = getattr(self.interface, "_apython_complete", None)
        if fn is None:
            fn = self.reader.completer
        if fn is None:
            return []
        return [str(m) for m in (fn(line, text) or ())]

    def close(self):
        """The connection is gone: the interface's task is cancelled."""
        if self.task is not None and not self.task.done() and \
                not self.ending:
            try:
                self.task.cancel()
            except RuntimeError:
                pass    # its loop is closed: nothing runs it any more


def console_factory(console_class, locals, filename, prompt_control):
    """A factory of console_class (AsynchronousConsole) with a copy of
    locals each, for start_console_server's prompt_control=."""
    def factory(streams):
        return console_class(streams=streams,
                             locals=dict(locals) if locals is not None else None,
                             filename=filename or "<console>",
                             prompt_control=prompt_control)
    return factory
