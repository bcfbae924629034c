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


def test_replies_written_in_parts_reach_the_peer_as_under_asyncio(
        same_output):
    # The edges of any write coalescing: the peer gets every reply whole
    # and in turn, after a single write, a failing callback, write_eof(),
    # close() and abort(), and the socket's TCP_NODELAY and TCP_CORK stay
    # what the program set.
    out = same_output(PROGRAMS / "transport_writes.py")
    assert b"all whole: True\nbuffer sizes: {0}\n" in out
    assert b"options: [b'1 0\\n', b'head 1|body|tail\\n', b'1 0\\n', " \
        b"b'nagle on|ok\\n', b'0 0\\n']\n" in out
    assert out.endswith(b"eof: b'before eof|last\\n'\n"
                        b"close: b'before close|last\\n'\n"
                        b"abort: b'before abort|last\\n'\n")


def test_get_extra_info_of_a_transport_is_asyncios(same_output):
    # The C get_extra_info() (loop/transport.c) steps aside for keywords,
    # wrong calls, a replaced BaseTransport.get_extra_info and an _extra
    # that is not a plain dict.
    out = same_output(PROGRAMS / "transport_extra_info.py")
    assert out.startswith(b"True\nNone 5 6\n")
    assert b"('patched', 'peername')\nback\n('sub', 'y', None)\n" in out


def test_deferred_writes_show_what_asyncio_shows(same_output):
    # A transport's writes in a pass leave when it ends (loop/wbatch.c);
    # everything that shows the transport's state or orders bytes against
    # them sends them first, as does os.fork(); is_closing() when a send
    # would fail now.
    out = same_output(PROGRAMS / "transport_deferred.py")
    assert out.startswith(b"size: b'sized|0\\n'\nraw: b'1|2|3\\n'\n"
                          b"lines: b'a|b|c\\n'\n"
                          b"thread: b'before|thread|after\\n'\n"
                          b"tsafe: b'ts1|ts2\\n'\n")
    assert b"fork: child sees buffer 0\nfork: parent goes on\n" \
        b"fork: b'parent|done\\n'\n" in out
    assert b"reset: closing after write: True\n" in out
    assert b"big: paused inside write: True\nbig: peer got 8388612\n" in out
    assert out.endswith(b"task: b't1|t2|t3\\n'\n"
                        b"small sndbuf: (True, 30000)\n"
                        b"small sndbuf, close: (True, 30000)\n"
                        b"tls: [b'echo line 0\\n', b'echo line 1\\n', "
                        b"b'echo line 2\\n']\noutside: b'outside\\n'\n")


def test_writes_of_one_pass_reach_peers_as_under_asyncio(same_output):
    # Writes held to the pass's end (loop/wbatch.c) leave in the order of
    # the transports' first writes, before run_until_complete() or
    # run_forever() returns, and a reset peer shows in is_closing() and
    # connection_lost() as the failed write shows it in asyncio; a pass
    # that writes to more transports than are held at once.
    out = same_output(PROGRAMS / "transport_batched.py")
    assert out == (b"order: b'first' b'second' t1 arrived first: True\n"
                   b"reset: closing in the next callback: True\n"
                   b"reset: connection_lost ConnectionResetError\n"
                   b"many: [b'abc']\n"
                   b"until complete: b'written last\\n'\n"
                   b"stop: b'then stop\\n'\n")
