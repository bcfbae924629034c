"""Real programs on apython's loop: what the loop API gives them is what
python3's asyncio gives them."""

from conftest import PROGRAMS

LOOP_FEATURES_OUTPUT = b"""\
get_event_loop: True
order: ['soon 1', 'soon 2', 'later 0.01', 'at 0.03', 'later 0.05']
stopped after 0.1 s: True
time is monotonic: True
run_until_complete: done
reader got: b'ping'
removed again: False False
streams: (b'STREAM LINE\\n', b'')
closed: True
"""


def test_loop_api_program_prints_what_it_prints_under_python3(start):
    p = start(["--banner=test", PROGRAMS / "loop_features.py"])
    assert p.wait() == 0
    assert p.stdout == LOOP_FEATURES_OUTPUT
    assert p.stderr == b""      # nothing typed: the console shows nothing


def test_loop_api_program_output_is_python3s(run_python):
    # The expectation above is python3's own output for the same program.
    cp = run_python([PROGRAMS / "loop_features.py"])
    assert cp.stdout == LOOP_FEATURES_OUTPUT


def test_new_event_loop_and_asyncio_run_give_the_apython_loop(start, write):
    prog = write("prog.py", """\
import asyncio
def name(loop):
    return type(loop).__module__ + "." + type(loop).__name__
new = asyncio.new_event_loop()
print(name(new))
new.close()
async def main():
    print(name(asyncio.get_running_loop()))
asyncio.run(main())
""")
    p = start([prog])
    assert p.wait() == 0
    assert p.stdout == b"apython.Loop\napython.Loop\n"


def test_program_with_many_timers_runs_them_in_deadline_order(start, write):
    prog = write("prog.py", """\
import asyncio, random
async def main():
    loop = asyncio.get_running_loop()
    done = []
    rnd = random.Random(4)
    delays = [rnd.randrange(0, 50) / 1000 for _ in range(200)]
    handles = [loop.call_later(d, done.append, i)
               for i, d in enumerate(delays)]
    await asyncio.sleep(0.2)
    # Deadlines are each call's time plus its delay: a busy machine can
    # make a later call's shorter delay end after an earlier call's one.
    # Same deadlines may run in any order (asyncio leaves it undefined).
    whens = [handles[i].when() for i in done]
    print(whens == sorted(whens), len(done))
asyncio.run(main())
""")
    p = start(["--banner=test", prog])
    assert p.wait() == 0
    assert p.stdout == b"True 200\n"


def test_sock_methods_refuse_an_ssl_socket_as_asyncio_does(run, write,
                                                           run_python):
    prog = write("prog.py", """\
import asyncio, socket, ssl
try:
    import apython
    loop = apython.Loop()
except ImportError:
    loop = asyncio.SelectorEventLoop()
s = ssl.create_default_context().wrap_socket(
    socket.socket(), server_hostname="x", do_handshake_on_connect=False)
for call in (lambda: loop.sock_recv(s, 1), lambda: loop.sock_sendall(s, b"x")):
    try:
        loop.run_until_complete(call())
    except TypeError as e:
        print(type(loop).__name__, e)
s.close()
loop.close()
""")
    cp = run([prog])
    assert cp.returncode == 0
    assert cp.stdout == (b"Loop Socket cannot be of type SSLSocket\n" * 2)
    assert run_python([prog]).stdout == (
        b"_UnixSelectorEventLoop Socket cannot be of type SSLSocket\n" * 2)


def test_sock_operations_behave_as_asyncios(same_output):
    # The sock_* methods: at once or after waiting, cancelled, timed out,
    # failing, never awaited, on reused fds, owned by a transport, on a
    # socket subclass, in debug mode, with keywords, with datagrams and
    # across fork.
    out = same_output(PROGRAMS / "sock_ops.py")
    assert b"stale data ignored: True\nnew: b'new'\n" in out
    assert out.endswith(b"child exit: 0\ndone\n")


def test_queued_callbacks_and_the_garbage_collector(same_output):
    # Handles only the ready queue holds are not tracked by the collector:
    # what they refer to must still keep cycles collectable.
    assert same_output(PROGRAMS / "queued_gc.py") == (
        b"cycle=False collected: [True, True]\n"
        b"cycle=True collected: [True, True]\n"
        b"[0, 1, 2] 10003 [False, False, False] True\n")
