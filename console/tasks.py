"""The task views: a loop's asyncio tasks as a tree of who awaits whom,
each with its coroutine stack (for --ps, and `tasks` in a console).

C hands it nothing; console/tasks.c runs it once, calls render() for
console_ps(), and hands `tasks` (a Views) to console/intro.py for the
console namespaces.

What one can see, on every Python 3.8 to 3.13, without help from the
program: a task's coroutine chain (cr_await / gi_yieldfrom), the future
it waits on (_fut_waiter), and the done callbacks of the futures it
waits for, which name their waiter (gather, wait_for, wait, shield,
TaskGroup)."""

import asyncio
import fnmatch
import gc
import linecache
import os
import re
import sys

# The console's own tasks: kept out of the tree unless asked for.
_CONSOLE = "apython-console"
_STATEMENT = "apython-statement: "

# A done callback's function name: how its waiter awaits the task.
_VIA = {
    "_done_callback": "gather",
    "_release_waiter": "wait_for",
    "_on_completion": "wait",
    "_inner_done_callback": "shield",
    "_outer_done_callback": "shield",
    "_on_task_done": "TaskGroup",
}

# Siblings of the same shape shown once, with a count, from this many.
_COLLAPSE = 3

# Tasks awaited through more tasks than this are left for tasks.ps(name).
_DEEPEST = 16


def _stdlib_dir():
    """The folder of the standard library ('' when unknown)."""
    path = getattr(asyncio, "__file__", None)
    if not isinstance(path, str):
        return ""
    return os.path.dirname(os.path.dirname(path)) + os.sep


_STDLIB = _stdlib_dir()


def _where(frame):
    """A frame as 'function file:line' (the standard library's files by
    their path inside it)."""
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    path = code.co_filename
    if _STDLIB and path.startswith(_STDLIB):
        path = path[len(_STDLIB):]
    return "%s %s:%s" % (name, path, frame.f_lineno)


def _chain(coro):
    """The frames of a coroutine and of what it awaits, outermost first,
    and the awaitable at the end of the chain (None: none)."""
    frames = []
    seen = set()
    while coro is not None and id(coro) not in seen:
        seen.add(id(coro))
        frame = None
        for attr in ("cr_frame", "gi_frame", "ag_frame"):
            frame = getattr(coro, attr, None)
            if frame is not None:
                break
        if frame is None:
            break
        frames.append(frame)
        inner = None
        for attr in ("cr_await", "gi_yieldfrom", "ag_await"):
            inner = getattr(coro, attr, None)
            if inner is not None:
                break
        coro = _agen_of(inner)
    return frames, coro


def _agen_of(step):
    """The async generator an `async for` step (asend, athrow) drives, or
    step itself: the step has no attribute for it, the collector knows."""
    if step is None or not type(step).__name__.startswith("async_gen"):
        return step
    for obj in gc.get_referents(step):
        if hasattr(obj, "ag_frame"):
            return obj
    return step


def _name(task):
    """A task's name (3.8+: get_name)."""
    try:
        return str(task.get_name())
    except Exception:
        return "Task-%x" % id(task)


def _order(task):
    """Sort key: names by their text and numbers (Task-2 before Task-10)."""
    parts = re.split(r"(\d+)", _name(task))
    parts[1::2] = [int(p) for p in parts[1::2]]
    return parts


def _callbacks(fut):
    """The done callbacks of a future (as functions)."""
    try:
        found = fut._callbacks
    except AttributeError:
        return []
    out = []
    for cb in found or ():
        out.append(cb[0] if isinstance(cb, tuple) else cb)
    return out


def _referred(cb):
    """What a done callback reports to: (objects, its function's name)."""
    func = getattr(cb, "func", None)          # functools.partial
    if func is not None and hasattr(cb, "args"):
        return list(cb.args), getattr(func, "__name__", "")
    owner = getattr(cb, "__self__", None)     # a bound method
    name = getattr(cb, "__name__", "")
    objs = [owner] if owner is not None else []
    for cell in getattr(cb, "__closure__", None) or ():
        try:
            objs.append(cell.cell_contents)
        except ValueError:
            pass
    return objs, name


def _asyncio_await(task):
    """The asyncio function through which task awaits another directly
    (wait_for since 3.12), or None."""
    try:
        frames, _ = _chain(task.get_coro())
    except Exception:
        return None
    if not frames:
        return None
    code = frames[-1].f_code
    if code.co_name == "wait_for" and \
            code.co_filename.endswith(os.path.join("asyncio", "tasks.py")):
        return "wait_for"
    return None


class _Graph:
    """Who awaits whom among a loop's tasks."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.ids = {id(t): t for t in tasks}
        self.parents = {id(t): [] for t in tasks}    # [(task, via)]
        self.children = {id(t): [] for t in tasks}
        waiting = {}                                 # id(future) -> tasks
        for t in tasks:
            w = getattr(t, "_fut_waiter", None)
            if w is not None:
                waiting.setdefault(id(w), []).append(t)
                self._awaits(t, w, _asyncio_await(t), 0)
        for t in tasks:
            for cb in _callbacks(t):
                try:
                    self._reported(t, cb, waiting)
                except Exception:       # a callback of another shape
                    pass

    def _link(self, parent, child, via):
        """parent awaits child (through via, or directly: None)."""
        if parent is child:
            return
        known = self.parents[id(child)]
        for i, (p, v) in enumerate(known):
            if p is parent:
                if v is None and via is not None:
                    known[i] = (p, via)
                return
        known.append((parent, via))
        self.children[id(parent)].append(child)

    def _awaits(self, task, fut, via, depth):
        """task waits on fut: a task, or gather's children."""
        if id(fut) in self.ids:
            self._link(task, fut, via)
            return
        kids = getattr(fut, "_children", None)
        if isinstance(kids, list) and depth < 8:
            for kid in kids:
                self._awaits(task, kid, "gather", depth + 1)

    def _reported(self, task, cb, waiting):
        """task's done callback cb names who waits for it."""
        objs, fname = _referred(cb)
        via = _VIA.get(fname)
        for obj in objs:
            if id(obj) in self.ids:             # a task's wakeup
                self._link(obj, task, via)
            elif via == "TaskGroup":
                parent = getattr(obj, "_parent_task", None)
                if parent is not None and id(parent) in self.ids:
                    self._link(parent, task, via)
            else:
                for waiter in waiting.get(id(obj), ()):
                    self._link(waiter, task, via or fname or None)

    def awaiters(self, task):
        """Who awaits task: [(task, via)]."""
        return self.parents.get(id(task), [])


def _running(task, current):
    """True when task runs now: the caller's, or one whose step holds
    the loop (its coroutine is running: a stuck loop)."""
    if task is current:
        return True
    try:
        return bool(getattr(task.get_coro(), "cr_running", False))
    except Exception:
        return False


def _cancelling(task):
    """True when task was asked to cancel and has not finished yet."""
    count = getattr(task, "cancelling", None)    # 3.11+
    if callable(count):
        return count() > 0
    return bool(getattr(task, "_must_cancel", False))


def _created(coro):
    """True when a coroutine has not started yet."""
    frame = getattr(coro, "cr_frame", None)
    if frame is None or getattr(coro, "cr_running", False):
        return False
    suspended = getattr(coro, "cr_suspended", None)     # 3.11+
    if suspended is not None:
        return not suspended
    return frame.f_lasti < 0


def _state(task, current):
    """What a task does, when its stack does not say it: running, not
    started, ready (to go on at the loop's next turn), cancelling."""
    notes = []
    if _running(task, current):
        notes.append("running")
    elif task.done():
        notes.append("done")
    elif getattr(task, "_fut_waiter", None) is None:
        try:
            created = _created(task.get_coro())
        except Exception:
            created = False
        notes.append("not started" if created else "ready")
    if _cancelling(task):
        notes.append("cancelling")
    return notes


def _awaiting(task, graph):
    """What a task waits on, in words (None: nothing)."""
    w = getattr(task, "_fut_waiter", None)
    if w is None:
        return None
    if id(w) in graph.ids:
        return "task " + _name(w)
    kids = getattr(w, "_children", None)
    if isinstance(kids, list):
        return "gather of %d" % len(kids)
    return type(w).__name__


class _Render:
    """The text of the views, line by line."""

    def __init__(self, graph, current):
        self.graph = graph
        self.current = current
        self.lines = []
        self.shown = set()
        self.stacks = {}
        self.shapes = {}                # id(task): its shape's number
        self.numbers = {}               # a shape: its number

    def out(self, line=""):
        self.lines.append(line)

    def text(self):
        return "".join(line + "\n" for line in self.lines)

    def stack(self, task):
        """A task's frames as 'function file:line' lines, outermost
        first."""
        lines = self.stacks.get(id(task))
        if lines is None:
            try:
                frames, end = _chain(task.get_coro())
            except Exception as e:
                frames, end = [], e
            lines = [_where(f) for f in frames]
            if end is not None and not frames:
                lines.append("<%s>" % type(end).__name__)
            self.stacks[id(task)] = lines
        return lines

    def shape(self, task):
        """A number for a subtree with its names left out: siblings
        alike share it. Made bottom up without recursion (chains of
        tasks can be deep), a task of a cycle counting as one shape."""
        todo = [(task, False)]
        while todo:
            t, kids_done = todo.pop()
            if not kids_done:
                if id(t) in self.shapes:
                    continue
                self.shapes[id(t)] = -1         # a cycle meets it so
                todo.append((t, True))
                todo.extend((k, False) for k, _ in self.kids(t))
                continue
            key = (tuple(_state(t, self.current)), tuple(self.stack(t)),
                   tuple((v, self.shapes[id(k)]) for k, v in self.kids(t)))
            self.shapes[id(t)] = self.numbers.setdefault(key,
                                                         len(self.numbers))
        return self.shapes[id(task)]

    def kids(self, task):
        """The tasks task awaits, with how: [(child, via)]."""
        out = []
        for child in self.graph.children.get(id(task), ()):
            for p, v in self.graph.awaiters(child):
                if p is task:
                    out.append((child, v))
                    break
        return out

    def tree(self, task, via, prefix, last, names=None):
        """Print task, its stack and the tasks it awaits below prefix."""
        head = prefix + ("└── " if last else "├── ")
        body = prefix + ("    " if last else "│   ")
        label = "(T) " + (names or _name(task))
        if id(task) in self.shown:
            self.out(head + label + "  (shown above)")
            return
        if len(prefix) >= 4 * _DEEPEST:
            self.shown.add(id(task))
            below = self.hide_below(task)
            self.out(head + label + "  (%d below: tasks.ps(%r))"
                     % (below, _name(task)))
            return
        self.shown.add(id(task))
        notes = (["via " + via] if via else []) + \
            _state(task, self.current)
        self.out(head + label + ("  [%s]" % ", ".join(notes)
                                 if notes else ""))
        kids = self.kids(task)
        bar = "│ " if kids else "  "
        for line in self.stack(task):
            self.out(body + bar + line)
        self.siblings(kids, body)

    def hide_below(self, task):
        """Mark the tasks task awaits, and theirs, as shown (a tree too
        deep to draw): how many they are."""
        count = 0
        todo = list(self.graph.children.get(id(task), ()))
        while todo:
            t = todo.pop()
            if id(t) not in self.shown:
                self.shown.add(id(t))
                count += 1
                todo.extend(self.graph.children.get(id(t), ()))
        return count

    def siblings(self, kids, prefix):
        """Print tasks side by side, those alike once with a count."""
        groups = []
        index = {}
        for child, via in kids:
            key = (via, self.shape(child))
            if key in index:
                groups[index[key]][1].append(child)
            else:
                index[key] = len(groups)
                groups.append((via, [child]))
        shown = []
        for via, members in groups:
            if len(members) >= _COLLAPSE:
                shown.append((members[0], via, _alike(members)))
                for m in members[1:]:         # drawn as the first is
                    self.shown.add(id(m))
                    self.hide_below(m)
            else:
                shown.extend((m, via, None) for m in members)
        for i, (child, via, names) in enumerate(shown):
            self.tree(child, via, prefix, i == len(shown) - 1, names)


def _alike(members):
    """The label of siblings alike: their first and last names, and how
    many."""
    names = [_name(m) for m in members]
    if len(names) > 3:
        names[2:-1] = ["\u2026"]
    return "%s (%d alike)" % (", ".join(names), len(members))


def _matches(name, pattern):
    """A task name against a filter: a glob when it has *?[, else a
    part of the name."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def _figures(loop, out):
    """The loop's own figures, when it has them (apython's: stats())."""
    stats = getattr(loop, "stats", None)
    if not callable(stats):
        return
    try:
        figures = stats()
    except Exception as e:
        out("loop figures: <%s>" % type(e).__name__)
        return
    if not isinstance(figures, dict):
        return
    plain = []
    lists = []
    for key, value in figures.items():
        if isinstance(value, (list, tuple)):
            lists.append((key, value))
        elif isinstance(value, float):          # seconds
            plain.append("%s %.3f s" % (key, value))
        else:
            plain.append("%s %s" % (key, value))
    out("loop: " + ", ".join(plain))
    for key, value in lists:
        if value:
            out("%s:" % str(key).replace("_", " "))
            for item in value:
                out("    " + _figure_item(item, loop))


def _figure_item(item, loop):
    """One entry of a list in the loop's figures: a slow callback is
    (name, seconds, at loop.time())."""
    if isinstance(item, (tuple, list)) and len(item) == 3:
        name, seconds, at = item
        try:
            return "%8.3f s  %s  (%.1f s ago)" % (seconds, name,
                                                  loop.time() - at)
        except Exception:
            pass
    return str(item)


def _traceback(frames, out):
    """Frames as a traceback shows them, with their source lines."""
    for f in frames:
        code = f.f_code
        out('  File "%s", line %s, in %s' % (
            code.co_filename, f.f_lineno,
            getattr(code, "co_qualname", code.co_name)))
        src = linecache.getline(code.co_filename, f.f_lineno,
                                f.f_globals).strip()
        if src:
            out("    " + src)


def _main_stack(frame, stuck, out):
    """How long the loop has been stuck, and where the main thread is."""
    if stuck is not None and stuck > 0:
        out("loop stuck for %.1f s" % stuck)
    if frame is None:
        return
    out("main thread (most recent call last):")
    frames = []
    while frame is not None and len(frames) < 200:
        frames.append(frame)
        frame = frame.f_back
    _traceback(reversed(frames), out)


def _loop_tasks(loop):
    """The loop's tasks not yet done, in the order of their names."""
    if loop is None:
        return []
    for _ in range(5):
        try:
            tasks = list(asyncio.all_tasks(loop))
            break
        except RuntimeError:        # the set changed while read
            continue
    else:
        return []
    try:
        tasks.sort(key=_order)
    except Exception:
        pass
    return tasks


def _console_task(task, current):
    """One of the console's own, kept out of the way: the statement that
    asks, and its sessions' tasks unless one holds the loop."""
    name = _name(task)
    if task is current:
        return name == _CONSOLE or name.startswith(_STATEMENT)
    return name == _CONSOLE and not _running(task, None)


def render(loop, pattern=None, frame=None, stuck=-1.0, all_tasks=False,
           current=None):
    """The views as text: the loop's figures, where a stuck loop is,
    then the tree of its tasks (those whose name matches pattern)."""
    lines = []
    _figures(loop, lines.append)
    _main_stack(frame, stuck, lines.append)
    tasks = _loop_tasks(loop)
    hidden = 0
    if not all_tasks:
        mine = [_console_task(t, current) for t in tasks]
        hidden = sum(mine)
        tasks = [t for t, m in zip(tasks, mine) if not m]
    r = _Render(_Graph(tasks), current)
    r.lines = lines
    if pattern:
        _filtered(r, pattern)
    else:
        _whole(r, hidden)
    return r.text()


def _whole(r, hidden):
    """Every task, under who awaits it; those nobody awaits at the top."""
    tasks = r.graph.tasks
    r.out("%d task%s%s" % (len(tasks), "" if len(tasks) == 1 else "s",
                           " (and %d of the console's)" % hidden
                           if hidden else ""))
    r.siblings([(t, None) for t in tasks if not r.graph.awaiters(t)], "")
    # Tasks in a cycle of awaits have no root: each cycle from its first.
    cycles = _cycle_heads(r.graph, [t for t in tasks if id(t) not in r.shown])
    if cycles:
        r.out("in cycles of awaits:")
    for i, t in enumerate(cycles):
        r.tree(t, None, "", i == len(cycles) - 1)


def _cycle_heads(graph, rest):
    """Of the tasks not under a root, one per group that awaits itself."""
    heads = []
    reached = set()
    for t in rest:
        if id(t) in reached:
            continue
        heads.append(t)
        todo = [t]
        while todo:
            u = todo.pop()
            if id(u) not in reached:
                reached.add(id(u))
                todo.extend(graph.children.get(id(u), ()))
    return heads


def _filtered(r, pattern):
    """The tasks whose name matches, under who awaits them."""
    tasks = r.graph.tasks
    found = [t for t in tasks if _matches(_name(t), pattern)]
    r.out("%d of %d tasks match %r" % (len(found), len(tasks), pattern))
    groups = {}
    for t in found:
        groups.setdefault(tuple(_awaited_by(r.graph, t)), []).append(t)
    for chain, members in groups.items():
        members = [t for t in members if id(t) not in r.shown]
        if not members:
            continue
        if chain:
            r.out("awaited by " + " <- ".join(chain))
        r.siblings([(t, None) for t in members], "")


def _awaited_by(graph, task, most=6):
    """The names of who awaits task, and who awaits them, nearest first;
    past most of them, how many more."""
    names = []
    seen = {id(task)}
    while True:
        up = graph.awaiters(task)
        if not up or id(up[0][0]) in seen:
            return names
        task, via = up[0]
        seen.add(id(task))
        if len(names) == most:
            break
        names.append(_name(task) + (" (%s)" % via if via else ""))
    more = 1
    while graph.awaiters(task) and id(graph.awaiters(task)[0][0]) not in seen:
        task = graph.awaiters(task)[0][0]
        seen.add(id(task))
        more += 1
    names.append("\u2026 %d more" % more)
    return names


def where(loop, name, current=None):
    """The stacks of the tasks called name, as a traceback shows them."""
    every = _loop_tasks(loop)
    tasks = [t for t in every if _name(t) == name]
    if not tasks:
        return "no task named %r\n" % (name,)
    graph = _Graph(every)
    lines = []
    for t in tasks:
        notes = _state(t, current)
        lines.append("task %s%s" % (_name(t), "  [%s]" % ", ".join(notes)
                                    if notes else ""))
        chain = _awaited_by(graph, t)
        if chain:
            lines.append("awaited by " + " <- ".join(chain))
        try:
            frames, _ = _chain(t.get_coro())
        except Exception:
            frames = []
        _traceback(frames, lines.append)
        what = _awaiting(t, graph)
        if what:
            lines.append("awaiting " + what)
    return "".join(line + "\n" for line in lines)


def cancel(loop, name):
    """Cancel the tasks called name: what was done, as a line."""
    tasks = [t for t in _loop_tasks(loop) if _name(t) == name]
    if not tasks:
        return "no task named %r\n" % (name,)
    for t in tasks:
        t.cancel()
    if len(tasks) == 1:
        return "cancelled %s\n" % name
    return "cancelled %d tasks named %s\n" % (len(tasks), name)


def _here():
    """The running loop and task of the caller (None, None: no loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None, None
    return loop, asyncio.current_task(loop)


class Views:
    """The task views of the running loop: `tasks` or tasks() shows the
    tree; tasks.ps('filter') the tasks whose name matches (a part of it,
    or a glob) under who awaits them; tasks.where('name') a task's
    stack; tasks.cancel('name') cancels it. all=True shows the
    console's own tasks too."""

    __module__ = "apython"
    __slots__ = ()

    def __repr__(self):
        loop, current = _here()
        if loop is None:
            return "<apython task views: no running loop>"
        return render(loop, current=current).rstrip("\n")

    def __call__(self, filter=None, all=False):
        self.ps(filter, all)

    def ps(self, filter=None, all=False):
        """Print the tree of tasks, those whose name matches filter."""
        loop, current = _here()
        if loop is None:
            raise RuntimeError("no running event loop")
        sys.stdout.write(render(loop, filter, all_tasks=all,
                                current=current))

    def where(self, name):
        """Print the coroutine stack of the task called name."""
        loop, current = _here()
        if loop is None:
            raise RuntimeError("no running event loop")
        sys.stdout.write(where(loop, name, current))

    def cancel(self, name):
        """Cancel the task called name (all of them, when several)."""
        loop, _ = _here()
        if loop is None:
            raise RuntimeError("no running event loop")
        sys.stdout.write(cancel(loop, name))


for _method in (Views.__repr__, Views.__call__, Views.ps, Views.where,
                Views.cancel):
    _method.__module__ = "apython"

tasks = Views()
