"""asyncio streams on apython's loop, whose transport feeds asyncio's own
StreamReaderProtocol and StreamReader from C: whatever a program can see
is what asyncio's own loop shows it, under the same interpreter."""

from conftest import NO_CONSOLE, PROGRAMS

CASES = PROGRAMS / "streams_cases.py"

EXPECTED = b"""\
-- subclass_protocol_gets_its_data_received
read: b'ABC' seen: [b'abc']
-- subclass_reader_gets_its_feed_data
read: b'cba' seen: [b'abc']
-- patched_methods_are_called
read: b'one' seen: ['feed']
read: b'two' seen: ['feed', 'wakeup']
-- flow_control_pauses_and_resumes_reading
paused: True False
read: b'xxxxxxxxxxxxxxxxxxxx'
paused: False True
-- flow_control_with_a_large_limit
paused: True False True
read: 409600 paused: False True
-- transport_that_cannot_pause_is_forgotten
transport: None paused: False buffered: 10
-- cancelled_waiter_is_left_alone
waiter: None True
read: b'data'
-- cancelled_read_keeps_the_data_for_the_next
cancelled
read: b'kept'
-- done_waiter_fails_the_connection
client read: b'' ['Fatal error: protocol.data_received() call failed.: \
InvalidStateError']
buffered: b'data' None
-- eof_after_data
read: b'last' b'' True
-- data_after_feed_eof_fails_the_connection
client read: b'' ['Fatal error: protocol.data_received() call failed.: \
AssertionError']
buffered: b''
-- exported_buffer_fails_the_connection
client read: b'' ['Fatal error: protocol.data_received() call failed.: \
BufferError']
-- reader_gone_drops_the_data
reader: None errors: []
-- non_bytearray_buffer_is_extended
extend b'own'
read: b'own'
"""


def test_streams_on_apython_loop_behave_as_on_asyncios_loop(run):
    ours = run([CASES, "apython"], timeout=60)
    theirs = run([CASES, "asyncio"], timeout=60)
    assert ours.stderr == NO_CONSOLE
    assert ours.returncode == 0
    assert ours.stdout == theirs.stdout


def test_streams_cases_print_what_python3_prints(run, run_python):
    ours = run([CASES, "apython"], timeout=60)
    assert ours.stdout == EXPECTED
    assert run_python([CASES, "asyncio"], timeout=60).stdout == EXPECTED
