"""The task views of a console (behaviour.md: one name in the namespace
for them): `tasks` shows the program's tasks as a tree of who awaits whom
with each one's coroutine stack, tasks.ps(filter) the matching ones,
tasks.where(name) a task's stack, tasks.cancel(name) cancels it; on the
terminal and to a served client alike.

The program is programs/task_tree.py: its own lines are asserted exactly;
the standard library's line numbers, which change with the version, are
not (STDLIB_LINE)."""

import re

import pytest

from conftest import PROGRAMS
from serving import Client, serve
from vt import run_block, run_line

PROG = PROGRAMS / "task_tree.py"
STDLIB_LINE = re.compile(r"(asyncio/\w+\.py)(:|\", line )\d+")
STDLIB_FILE = re.compile(r'File "/\S+/(asyncio/\w+\.py)"')


def plain(text):
    """text with the program's path as PROG and the standard library's
    line numbers as N."""
    text = text.replace(str(PROG), "PROG")
    text = STDLIB_FILE.sub(r'File "\1"', text)
    return STDLIB_LINE.sub(r"\1\2N", text)


def tree_console(terminal, *args):
    """task_tree.py under apython with its console, its tasks waiting."""
    t = terminal(["--banner=test", str(PROG), *args])
    t.expect("ready\r\n")
    t.wait_for_line(">>>")
    return t


def answer(t, line, figures=False):
    """Type line at the prompt; the lines it printed, made plain, without
    the loop's figures that come before the tasks unless figures."""
    run_line(t, line)
    screen = t.screen()
    start = len(screen) - 1 - screen[::-1].index(">>> " + line)
    assert screen[-1] == ">>>"
    lines = [plain(s) for s in screen[start + 1:-1]]
    return lines if figures else without_figures(lines)


def without_figures(lines):
    """lines without the loop's figures at their start."""
    lines = list(lines)
    while lines and lines[0].startswith(("loop: ", " ", "slow ")):
        del lines[0]
    return lines


TREE = """\
512 tasks (and 1 of the console's)
└── (T) main
    │ main PROG:68
    ├── (T) crowd  [via gather]
    │   │ crowd PROG:21
    │   └── (T) worker-0, worker-1, …, worker-499 (500 alike)  [via gather]
    │         worker PROG:15
    │         leaf PROG:11
    │         sleep asyncio/tasks.py:N
    ├── (T) parent  [via gather]
    │   │ parent PROG:25
    │   └── (T) child
    │         leaf PROG:11
    │         sleep asyncio/tasks.py:N
    ├── (T) guard  [via gather]
    │   │ guard PROG:29
    │   └── (T) guarded  [via shield]
    │         leaf PROG:11
    │         sleep asyncio/tasks.py:N
    ├── (T) pair  [via gather]
    │   │ pair PROG:35
    │   │ wait asyncio/tasks.py:N
    │   │ _wait asyncio/tasks.py:N
    │   ├── (T) left  [via wait]
    │   │     worker PROG:15
    │   │     leaf PROG:11
    │   │     sleep asyncio/tasks.py:N
    │   └── (T) right  [via wait]
    │         leaf PROG:11
    │         sleep asyncio/tasks.py:N
    ├── (T) timed  [via gather]
    │   │ timed PROG:39
    │   │ wait_for asyncio/tasks.py:N
    │   └── (T) late  [via wait_for]
    │         leaf PROG:11
    │         sleep asyncio/tasks.py:N
    └── (T) reader  [via gather]
          reader PROG:49
          ticks PROG:44
          sleep asyncio/tasks.py:N"""


def test_tasks_shows_who_awaits_whom_with_each_stack_and_alike_ones_once(
        terminal):
    t = tree_console(terminal)
    assert answer(t, "tasks") == TREE.split("\n")


def test_tasks_called_prints_the_same_tree(terminal):
    t = tree_console(terminal)
    assert answer(t, "tasks()") == TREE.split("\n")


def test_ps_shows_the_matching_tasks_under_who_awaits_them(terminal):
    t = tree_console(terminal)
    assert answer(t, "tasks.ps('left')") == [
        "1 of 512 tasks match 'left'",
        "awaited by pair (wait) <- main (gather)",
        "└── (T) left",
        "      worker PROG:15",
        "      leaf PROG:11",
        "      sleep asyncio/tasks.py:N"]


def test_ps_takes_a_glob_and_shows_alike_matches_once(terminal):
    t = tree_console(terminal)
    assert answer(t, "tasks.ps('worker-4?')") == [
        "10 of 512 tasks match 'worker-4?'",
        "awaited by crowd (gather) <- main (gather)",
        "└── (T) worker-40, worker-41, …, worker-49 (10 alike)",
        "      worker PROG:15",
        "      leaf PROG:11",
        "      sleep asyncio/tasks.py:N"]


def test_where_shows_a_tasks_stack_with_its_source_lines(terminal):
    t = tree_console(terminal)
    assert answer(t, "tasks.where('left')") == [
        "task left",
        "awaited by pair (wait) <- main (gather)",
        '  File "PROG", line 15, in worker',
        "    await leaf()",
        '  File "PROG", line 11, in leaf',
        "    await asyncio.sleep(3600)",
        '  File "asyncio/tasks.py", line N, in sleep',
        "    return await future",
        "awaiting Future"]


def test_cancel_cancels_the_named_task_only(terminal):
    t = tree_console(terminal)
    run_line(t, "named = {t.get_name(): t for t in asyncio.all_tasks()}")
    assert answer(t, "tasks.cancel('right')") == ["cancelled right"]
    run_line(t, "await asyncio.wait([named['right']])")
    assert answer(t, "named['right'].cancelled(), named['left'].done()") \
        == ["(True, False)"]


def test_unknown_names_are_said_so(terminal):
    t = tree_console(terminal)
    assert answer(t, "tasks.where('nope')") == ["no task named 'nope'"]
    assert answer(t, "tasks.cancel('nope')") == ["no task named 'nope'"]
    assert answer(t, "tasks.ps('nope')") == ["0 of 512 tasks match 'nope'"]


def test_the_consoles_own_task_is_shown_with_all(terminal):
    t = tree_console(terminal)
    lines = answer(t, "tasks(all=True)")
    assert lines[:3] == ["513 tasks", "├── (T) apython-console  [running]",
                         "│     <console>"]


def test_an_awaiting_statement_leaves_itself_out(terminal):
    t = tree_console(terminal)
    lines = answer(t, "await asyncio.sleep(0); tasks()")
    assert lines[0] == "512 tasks (and 2 of the console's)"
    assert "apython-statement" not in "\n".join(lines)


def test_loop_figures_come_first_when_the_loop_has_stats(terminal):
    t = tree_console(terminal)
    run_line(t, "slow = lambda: [('on_data()', 0.25, loop.time() - 5)]")
    run_line(t, "loop.stats = lambda: dict(ready=1, timers=2, "
             "slow_callbacks=slow())")
    assert answer(t, "tasks.ps('right')", figures=True) == [
        "loop: ready 1, timers 2",
        "slow callbacks:",
        "       0.250 s  on_data()  (5.0 s ago)",
        "1 of 512 tasks match 'right'",
        "awaited by pair (wait) <- main (gather)",
        "└── (T) right",
        "      leaf PROG:11",
        "      sleep asyncio/tasks.py:N"]


def test_roots_are_tasks_nobody_awaits_and_cycles_come_after(terminal):
    t = terminal(["--banner=test"])
    t.expect("test\r\n>>> ")
    run_line(t, "box = {}")
    run_block(t, "async def hold(k):", "    await asyncio.sleep(0)",
              "    await box[k]")
    run_line(t, "go = lambda k, o: "
             "asyncio.create_task(hold(o), name='cyc-' + k)")
    run_line(t, "box.update(b=go('b', 'a'), a=go('a', 'b'))")
    run_line(t, "late = asyncio.create_task(asyncio.sleep(99), name='late')")
    run_block(t, "for _ in range(3): await asyncio.sleep(0)")
    assert answer(t, "tasks") == [
        "3 tasks (and 1 of the console's)",
        "└── (T) late",
        "      sleep asyncio/tasks.py:N",
        "in cycles of awaits:",
        "└── (T) cyc-a",
        "    │ hold <console>:3",
        "    └── (T) cyc-b",
        "        │ hold <console>:3",
        "        └── (T) cyc-a  (shown above)"]


def test_a_chain_of_awaits_deeper_than_16_ends_in_how_many_are_below(
        terminal):
    t = terminal(["--banner=test"])
    t.expect("test\r\n>>> ")
    run_block(t, "async def down(n):", "    if n:",
              "        name = 'level-%d' % (n - 1)",
              "        await asyncio.create_task(down(n - 1), name=name)",
              "    await asyncio.sleep(99)")
    run_line(t, "top = asyncio.create_task(down(30), name='level-30')")
    run_block(t, "for _ in range(40): await asyncio.sleep(0)")
    lines = answer(t, "tasks")
    assert lines[0] == "31 tasks (and 1 of the console's)"
    assert lines[-2:] == [
        " " * 64 + "│ down <console>:4",
        " " * 64 + "└── (T) level-14  (14 below: tasks.ps('level-14'))"]


def test_apythons_loop_shows_its_ready_queue_timers_and_fds_first(terminal):
    t = tree_console(terminal)
    lines = answer(t, "tasks.ps('right')", figures=True)
    assert re.match(r"loop: ready \d+, timers \d+, readers \d+, "
                    r"writers \d+,", lines[0])
    assert lines[-5:] == [
        "1 of 512 tasks match 'right'",
        "awaited by pair (wait) <- main (gather)",
        "└── (T) right",
        "      leaf PROG:11",
        "      sleep asyncio/tasks.py:N"]


def test_taskgroup_tasks_hang_under_the_task_of_the_group(terminal, embedded):
    if embedded.version_info < (3, 11):
        pytest.skip("asyncio.TaskGroup is 3.11's")
    t = tree_console(terminal, "group")
    assert answer(t, "tasks.ps('group')") == [
        "1 of 515 tasks match 'group'",
        "awaited by main (gather)",
        "└── (T) group",
        "    │ group PROG:54",
        "    │ TaskGroup.__aexit__ asyncio/taskgroups.py:N",
        "    ├── (T) member-a  [via TaskGroup]",
        "    │     leaf PROG:11",
        "    │     sleep asyncio/tasks.py:N",
        "    └── (T) member-b  [via TaskGroup]",
        "          worker PROG:15",
        "          leaf PROG:11",
        "          sleep asyncio/tasks.py:N"]


def test_a_served_client_gets_the_views_and_the_program_output_none(start):
    proc, address = serve(start, ":0", str(PROG))
    proc.expect_stdout(b"ready\n")
    c = Client(address)
    c.until(b"test\n>>> ")
    got = c.run(b"tasks.ps('left')").decode()
    assert "\n".join(without_figures(plain(got).split("\n"))) == (
        "1 of 512 tasks match 'left'\n"
        "awaited by pair (wait) <- main (gather)\n"
        "└── (T) left\n"
        "      worker PROG:15\n"
        "      leaf PROG:11\n"
        "      sleep asyncio/tasks.py:N\n"
        ">>> ")
    assert c.run(b"tasks.cancel('right')") == b"cancelled right\n>>> "
    assert proc.stdout.endswith(b"ready\n")
