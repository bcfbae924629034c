"""apython.AsynchronousCli (aioconsole's API): a console whose lines are
commands. commands maps a name to (coroutine function, ArgumentParser);
a line is split as a shell would (shlex), its first word names the
command, the parser parses the rest, and the coroutine function is
awaited with (reader, writer, **the parsed arguments): what it returns
is shown (str()), what it writes to the writer (bytes) goes to the
console's client. help, list and exit are built in. Tab completes
command names, and a command's options after its name.

ext/cli.c calls make(AsynchronousConsole) on first use of the name."""

import argparse
import asyncio
import difflib
import os
import shlex
import sys


def _parser(description):
    return argparse.ArgumentParser(description=description)


def make(AsynchronousConsole):
    """The class, on apython's AsynchronousConsole."""

    class AsynchronousCli(AsynchronousConsole):
        """A console of commands on streams (see the module apython's
        manual): AsynchronousCli(commands, streams=None, *, prog=None,
        prompt_control=None, loop=None)."""

        def __init__(self, commands, streams=None, *, prog=None,
                     prompt_control=None, loop=None):
            super().__init__(streams=streams, prompt_control=prompt_control,
                             loop=loop)
            self.prog = prog
            self.commands = dict(commands)
            self.commands["help"] = (self.help_command, _parser(
                "Show how to use this interface."))
            self.commands["list"] = (self.list_command, _parser(
                "Show the commands and their arguments."))
            self.commands["exit"] = (self.exit_command, _parser(
                "Leave the interface."))
            for name, (_, parser) in self.commands.items():
                parser.prog = name

        def get_default_banner(self):
            prog = self.prog or os.path.basename(sys.argv[0] or "apython")
            return ("The command line of %s: 'list' shows its commands, "
                    "'help' how to use them." % prog)

        async def help_command(self, reader, writer):
            return ("Each line is a command and its arguments, quoted as "
                    "on a shell's command line.\n"
                    "'list' shows the commands, '<command> -h' the help of "
                    "one, 'exit' (or Ctrl-D) leaves.")

        async def list_command(self, reader, writer):
            lines = ["Commands:"]
            for name in sorted(self.commands):
                usage = self.commands[name][1].format_usage()
                if usage.startswith("usage: "):
                    usage = usage[len("usage: "):]
                lines.append("  " + usage.rstrip("\n"))
            return "\n".join(lines)

        async def exit_command(self, reader, writer):
            raise SystemExit

        def _unknown(self, name):
            """The one line for a name that is no command."""
            msg = "Command '%s' does not exist." % name
            close = [c for c in self.commands if c.startswith(name)]
            if len(close) != 1:
                close = difflib.get_close_matches(name, list(self.commands),
                                                  1)
            if close:
                return msg + " Did you mean '%s'?" % close[0]
            return msg + " 'list' shows the commands."

        def _parse(self, parser, args):
            """parser's namespace for args, its messages (usage, errors,
            -h) written to the console; None when it exits."""
            saved = parser.__dict__.get("_print_message")

            def to_console(message, file=None):
                if message:
                    self.write(message)
            parser._print_message = to_console
            try:
                return parser.parse_args(args)
            except SystemExit:
                return None
            except argparse.ArgumentError as e:
                self.write("%s: error: %s\n" % (parser.prog, e))
                return None
            finally:
                if saved is None:
                    del parser._print_message
                else:
                    parser._print_message = saved

        async def runsource(self, source, filename=None, symbol=None):
            """Run the command line source: True while a line ends with
            a backslash (it goes on), else False once it ran."""
            if source.rstrip().endswith("\\"):
                return True
            try:
                words = shlex.split(source.replace("\\\n", ""))
            except ValueError as e:
                self.write("%s.\n" % e)
                await self.flush()
                return False
            if not words:
                return False
            name, args = words[0], words[1:]
            if name not in self.commands:
                self.write(self._unknown(name) + "\n")
                await self.flush()
                return False
            corofunc, parser = self.commands[name]
            namespace = self._parse(parser, args)
            if namespace is not None:
                await self._run(corofunc, namespace)
            await self.flush()
            return False

        async def _run(self, corofunc, namespace):
            """Await the command; show what it returns, or its
            traceback. SystemExit ends the interface; a cancellation
            (Ctrl-C) is interact()'s."""
            try:
                result = await corofunc(self.reader, self.writer,
                                        **vars(namespace))
            except (SystemExit, asyncio.CancelledError):
                raise
            except BaseException:
                self.showtraceback()
            else:
                if result is not None:
                    self.write("%s\n" % (result,))

        async def raw_input(self, prompt=""):
            """A command line, Tab completing it (the reader's completer
            while it reads the line, when it takes one)."""
            setter = getattr(self.reader, "set_completer", None)
            if setter is not None:
                setter(self._apython_complete)
            try:
                return await super().raw_input(prompt)
            finally:
                if setter is not None:
                    setter(None)

        def _apython_complete(self, line, text):
            """Completions of the word text, which ends line: a command
            name first, then the command's options. The word may be the
            end of an option (a line editor that breaks words at '-'):
            candidates are cut to match it."""
            before = line[:len(line) - len(text)] if line.endswith(text) \
                else line
            head = before + text
            words = head.split()
            if not words or head[-1].isspace():
                words.append("")
            current = words[-1]
            cut = len(current) - len(text)
            if len(words) == 1:
                candidates = self.commands
            elif current.startswith("-") and words[0] in self.commands:
                candidates = self.commands[words[0]][1]._option_string_actions
            else:
                return []
            return sorted(c[cut:] for c in candidates
                          if c.startswith(current))

    AsynchronousCli.__module__ = "apython"
    AsynchronousCli.__qualname__ = "AsynchronousCli"
    return AsynchronousCli
