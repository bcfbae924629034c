"""loop.stats(): apython's loop's own figures (issue 12), read by programs
running under apython."""

import textwrap


def program(tmp_path, source):
    """The program `source` as a file; its path."""
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(source))
    return path


def line_of(path, text):
    """The number of the line of path that holds text."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


def output(run, path, *args):
    """stdout of path run by apython; it must end well."""
    cp = run([path, *args])
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.decode()


# Slow callbacks caught as asyncio's debug mode logs them, both names.
SLOW = """\
    import asyncio, logging, sys, time

    class Catch(logging.Handler):
        def __init__(self):
            super().__init__()
            self.names = []

        def emit(self, record):
            if record.msg.startswith("Executing"):
                self.names.append(record.args[0])

    def slow_one():
        time.sleep(0.2)

    async def sleepy():
        time.sleep(0.2)
        await asyncio.sleep(0)

    async def main(debug):
        loop = asyncio.get_running_loop()
        catch = Catch()
        logging.getLogger("asyncio").addHandler(catch)
        loop.set_debug(debug)
        t0 = loop.time()
        loop.call_soon(slow_one)
        await asyncio.sleep(0)
        t1 = loop.time()
        await asyncio.create_task(sleepy(), name="sleepy")
        for word in ("<Handle slow_one()", "<Task pending name='sleepy'"):
            kept = [(n, s, at) for n, s, at in loop.stats()["slow_callbacks"]
                    if n.startswith(word)]
            print(word, "kept:", len(kept))
            for name, seconds, at in kept:
                print("name:", name.split(" cb=")[0])
                print("at least 0.2 s:", seconds >= 0.2)
                if "slow_one" in word:
                    print("at between:", t0 <= at <= t1)
                if debug:
                    print("as debug mode logs it:", name in catch.names)

    asyncio.run(main(sys.argv[1] == "debug"))
"""


def test_a_slow_callback_is_kept_under_asyncio_debug_name(run, tmp_path):
    path = program(tmp_path, SLOW)
    assert output(run, path, "nodebug") == (
        "<Handle slow_one() kept: 1\n"
        "name: <Handle slow_one() at %s:%d>\n"
        "at least 0.2 s: True\n"
        "at between: True\n"
        "<Task pending name='sleepy' kept: 1\n"
        "name: <Task pending name='sleepy' coro=<sleepy() running at %s:%d>\n"
        "at least 0.2 s: True\n" % (
            path, line_of(path, "def slow_one"),
            path, line_of(path, "await asyncio.sleep(0)")))


def test_slow_callback_names_are_those_debug_mode_logs(run, tmp_path):
    path = program(tmp_path, SLOW)
    out = output(run, path, "debug").splitlines()
    assert [line for line in out if not line.startswith("name:")] == [
        "<Handle slow_one() kept: 1",
        "at least 0.2 s: True",
        "at between: True",
        "as debug mode logs it: True",
        "<Task pending name='sleepy' kept: 1",
        "at least 0.2 s: True",
        "as debug mode logs it: True"]


def test_slow_callbacks_keep_the_ten_slowest_slowest_first(run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, random, threading, time

        def slow(hundredths):
            def slow():
                time.sleep(hundredths / 100)
            # 3.13's Handle repr leaves the arguments out: a name each.
            slow.__qualname__ = "slow_%d" % hundredths
            return slow

        async def main():
            loop = asyncio.get_running_loop()
            hundredths = list(range(2, 25, 2))
            random.shuffle(hundredths)
            for h in hundredths:
                loop.call_soon(slow(h))
            await asyncio.sleep(0)
            for name, seconds, at in loop.stats()["slow_callbacks"]:
                if name.startswith("<Handle slow_"):
                    h = int(name.split("_")[1].split("(")[0])
                    print(name.split(" at ")[0], seconds >= h / 100)

        # In a thread: no console's callbacks on this loop.
        th = threading.Thread(target=asyncio.run, args=(main(),))
        th.start()
        th.join()
    """)
    assert output(run, path) == "".join(
        "<Handle slow_%d() True\n" % h for h in range(24, 5, -2))


def test_fast_callbacks_are_not_kept(run, tmp_path):
    path = program(tmp_path, """\
        import asyncio

        async def main():
            loop = asyncio.get_running_loop()
            for _ in range(1000):
                loop.call_soon(int)
            await asyncio.sleep(0)
            # One the machine held up 10 ms or more is slow by the
            # loop's clock, and kept: only those may be there.
            print([n for n, s, at in loop.stats()["slow_callbacks"]
                   if "int" in n and s < 0.010])

        asyncio.run(main())
    """)
    assert output(run, path) == "[]\n"


def test_counts_follow_what_is_queued_timed_and_watched(run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, socket, threading

        def noop():
            pass

        async def main():
            loop = asyncio.get_running_loop()
            a, b = socket.socketpair()
            c, d = socket.socketpair()
            before = loop.stats()

            def show(what):
                now = loop.stats()
                print(what, {k: now[k] - before[k] for k in
                             ("ready", "timers", "readers", "writers")})

            loop.add_reader(a, noop)
            loop.add_reader(b, noop)
            loop.add_writer(b, noop)
            later = [loop.call_later(100, noop) for _ in range(3)]
            later[0].cancel()
            loop.call_at(loop.time() + 100, noop)
            for _ in range(4):
                loop.call_soon(noop)
            show("added:")
            await asyncio.sleep(0)
            show("ran:")
            loop.remove_reader(a)
            loop.remove_writer(b)
            for h in later:
                h.cancel()
            show("removed:")
            loop.remove_reader(b)
            recv = asyncio.ensure_future(loop.sock_recv(c, 1))
            c.setblocking(False)
            await asyncio.sleep(0)
            print("sock_waiting:", loop.stats()["sock_waiting"])
            d.send(b"x")
            print("received:", await recv)
            print("sock_waiting:", loop.stats()["sock_waiting"])

        # In a thread: no console comes and goes on this loop meanwhile.
        th = threading.Thread(target=asyncio.run, args=(main(),))
        th.start()
        th.join()
    """)
    # After the pass, b's writer (b is writable) is queued behind the task;
    # removed, it stays queued, cancelled, as in asyncio's loop._ready.
    assert output(run, path) == (
        "added: {'ready': 4, 'timers': 3, 'readers': 2, 'writers': 1}\n"
        "ran: {'ready': 1, 'timers': 3, 'readers': 2, 'writers': 1}\n"
        "removed: {'ready': 1, 'timers': 1, 'readers': 1, 'writers': 0}\n"
        "sock_waiting: 1\n"
        "received: b'x'\n"
        "sock_waiting: 0\n")


def test_iterations_and_callbacks_count_each_pass_and_each_callback(
        run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, threading

        async def main():
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            left = 50

            def step():
                nonlocal left
                left -= 1
                if left:
                    loop.call_soon(step)
                else:
                    done.set_result(None)

            before = loop.stats()
            loop.call_soon(step)
            await done
            after = loop.stats()
            print({k: after[k] - before[k] for k in ("iterations", "callbacks")})

        th = threading.Thread(target=asyncio.run, args=(main(),))
        th.start()
        th.join()
    """)
    # 50 passes of one step each, then one for the task's wake-up.
    assert output(run, path) == "{'iterations': 51, 'callbacks': 51}\n"


def test_stuck_is_zero_while_waiting_and_grows_while_a_callback_holds(
        run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, threading, time

        async def main():
            loop = asyncio.get_running_loop()
            seen = {}

            def look(key):
                time.sleep(0.3)
                seen[key] = loop.stats()["stuck"]

            def hold():
                th = threading.Thread(target=look, args=("held",))
                th.start()
                time.sleep(0.6)
                th.join()

            th = threading.Thread(target=look, args=("waiting",))
            th.start()
            await asyncio.sleep(0.6)
            th.join()
            loop.call_soon(hold)
            await asyncio.sleep(0)
            print("waiting:", seen["waiting"])
            print("held 0.3 s or more:", seen["held"] >= 0.3)
            return loop

        loop = asyncio.run(main())
        print("closed:", loop.stats()["stuck"])
        other = asyncio.new_event_loop()
        print("not running:", other.stats()["stuck"])
        print("a pass:", other.run_until_complete(asyncio.sleep(0, result=1)))
        other.close()
    """)
    assert output(run, path) == (
        "waiting: 0.0\n"
        "held 0.3 s or more: True\n"
        "closed: None\n"
        "not running: None\n"
        "a pass: 1\n")


def test_idle_counts_time_blocked_and_busy_time_running(run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, threading, time

        async def main():
            loop = asyncio.get_running_loop()
            before = loop.stats()
            await asyncio.sleep(0.3)
            middle = loop.stats()
            time.sleep(0.3)
            after = loop.stats()
            idle = middle["idle"] - before["idle"]
            busy = middle["busy"] - before["busy"]
            print("idle while sleeping:", idle > 0)
            print("idle and busy are the time run:", idle + busy >= 0.3)
            print("busy while holding:", after["busy"] - middle["busy"] >= 0.3)
            print("not idle while holding:", after["idle"] == middle["idle"])

        th = threading.Thread(target=asyncio.run, args=(main(),))
        th.start()
        th.join()
    """)
    assert output(run, path) == (
        "idle while sleeping: True\n"
        "idle and busy are the time run: True\n"
        "busy while holding: True\n"
        "not idle while holding: True\n")


def test_a_slow_callback_whose_repr_fails_is_kept_by_its_handle_type(
        run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, threading, time

        class Slow:
            def __init__(self, error):
                self.error = error

            def __call__(self):
                time.sleep(0.05)

            def __repr__(self):
                raise self.error

        async def main(error):
            loop = asyncio.get_running_loop()
            loop.call_soon(Slow(error))
            await asyncio.sleep(0)
            print([n for n, s, at in loop.stats()["slow_callbacks"]])

        def run(error):
            try:
                asyncio.run(main(error))
            except BaseException as e:
                print("came out:", type(e).__name__)

        # In a thread: no console's callbacks on this loop.
        for error in (ValueError, KeyboardInterrupt):
            th = threading.Thread(target=run, args=(error,))
            th.start()
            th.join()
    """)
    assert output(run, path) == (
        "['<Handle>']\n"
        "came out: KeyboardInterrupt\n")


def test_timer_lag_is_how_late_a_held_loop_ran_a_timer(run, tmp_path):
    path = program(tmp_path, """\
        import asyncio, threading, time

        async def main():
            loop = asyncio.get_running_loop()
            print("no timer yet:", loop.stats()["timer_lag"])
            due = loop.create_future()
            loop.call_later(0.05, due.set_result, None)
            loop.call_soon(time.sleep, 0.3)
            await due
            print("held 0.3 s past 0.05 s:", loop.stats()["timer_lag"] >= 0.25)

        # In a thread: no console's callbacks on this loop.
        th = threading.Thread(target=asyncio.run, args=(main(),))
        th.start()
        th.join()
    """)
    assert output(run, path) == (
        "no timer yet: 0.0\n"
        "held 0.3 s past 0.05 s: True\n")
