"""What a console starts with: its namespace, and the exit and quit of a
served console (its banner is console/intro.c's).

C hands it tasks, the task views (console/tasks.py); console/intro.c runs
it once and keeps it."""

import asyncio
import builtins
import sys


def _not_mains(key):
    """Whether __main__'s name key is kept from an attached console: its
    dunders, and exit and quit (the console has its own)."""
    return type(key) is str and (key.startswith("__") or
                                 key in ("exit", "quit"))


class MainView(dict):
    """An attached console's namespace: its own names, then __main__'s
    globals read live (not a copy: the program's later bindings show,
    and what the console binds stays its own). exec() asks a dict
    subclass's __getitem__, so __missing__ serves its name look-ups."""
    __slots__ = ()

    def __missing__(self, key):
        main = sys.modules.get("__main__")
        if main is None or _not_mains(key):
            raise KeyError(key)
        return vars(main)[key]

    def items(self):
        """Its own names, then __main__'s (rlcompleter lists these)."""
        main = sys.modules.get("__main__")
        mains = list(vars(main).items()) if main is not None else []
        return list(dict.items(self)) + [
            (k, v) for k, v in mains
            if not _not_mains(k) and not dict.__contains__(self, k)]


def namespace(locals, quitters=False):
    """A console namespace: asyncio, ainput, tasks, exit and quit when
    quitters (a served console's: site's would close the program's
    stdin), then the items of locals (a dict, or None); a module as
    locals (an attached console's __main__) is read live (MainView)."""
    import apython
    live = isinstance(locals, type(sys))
    ns = (MainView if live else dict)()
    ns.update({"__name__": "__console__", "__doc__": None,
               "__builtins__": builtins.__dict__, "asyncio": asyncio,
               "ainput": apython.ainput, "tasks": tasks})
    if quitters:
        ns["exit"] = exit
        ns["quit"] = quit
    if locals is not None and not live:
        ns.update(locals)
    return ns


class Quitter:
    """exit() and quit() of a served console."""
    __module__ = "apython"
    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return "Use %s() or Ctrl-D (i.e. EOF) to exit" % self._name

    def __call__(self, code=None):
        raise SystemExit(code)


# help(exit) shows the methods as apython's, as it does the class.
for _method in (Quitter.__init__, Quitter.__repr__, Quitter.__call__):
    _method.__module__ = "apython"

exit = Quitter("exit")
quit = Quitter("quit")
