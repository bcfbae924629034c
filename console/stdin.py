"""sys.stdin while apython runs consoles: a TextIOWrapper over the same
buffer, whose reading asks apython first (console/stdin.c) and reads the
usual way when apython has no line to give.

C hands it read_line(prompt): the line with its newline, '' at end of
file, or None: read the usual way (no console takes the line)."""

import io
import operator


def _size(size):
    """A read size as TextIOWrapper takes it (None: all)."""
    return -1 if size is None else operator.index(size)


class TextIOWrapper(io.TextIOWrapper):
    """sys.stdin: while a console is up, the program's lines come from
    it (the terminal, with line editing; a served statement's client)."""

    _apython_pending = ""   # the rest of a line read in part

    def _apython_text(self):
        """The text apython has next ('' at end of file), or None."""
        text = self._apython_pending
        if text:
            self._apython_pending = ""
            return text
        return read_line("")

    def _apython_keep(self, text, size):
        """text, cut to size; what is cut is kept for the next read."""
        if 0 <= size < len(text):
            self._apython_pending = text[size:]
            return text[:size]
        return text

    def readline(self, size=-1):
        size = _size(size)
        if size == 0:
            return ""
        text = self._apython_text()
        if text is None:
            return super().readline(size)
        return self._apython_keep(text, size)

    def read(self, size=-1):
        size = _size(size)
        parts = []
        while size != 0:
            text = self._apython_text()
            if text is None:
                parts.append(super().read(size))
                break
            if not text:
                break
            text = self._apython_keep(text, size)
            parts.append(text)
            if size > 0:
                size -= len(text)
        return "".join(parts)

    def __repr__(self):
        text = super().__repr__()
        mine = "<" + type(self).__name__
        if text.startswith(mine):
            text = "<_io.TextIOWrapper" + text[len(mine):]
        return text


TextIOWrapper.__module__ = "_io"


def wrap(stream):
    """Our TextIOWrapper over stream's buffer, with its settings; stream
    is detached (it must not read ahead of ours)."""
    settings = (stream.encoding, stream.errors, "\n", stream.line_buffering,
                stream.write_through)
    mode = getattr(stream, "mode", None)
    ours = TextIOWrapper(stream.detach(), *settings)
    if mode is not None:
        ours.mode = mode
    return ours
