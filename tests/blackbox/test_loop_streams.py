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


LARGE_CASES = PROGRAMS / "streams_large_cases.py"

LARGE_EXPECTED = b"""\
-- large_messages_read_across_chunks
readexactly: [1000, 70000, 236200] True 0
-- eof_in_the_middle_of_a_message
incomplete: 100000 150000 True
at eof: True b''
-- limit_overrun_raises_as_asyncio_does
readuntil: LimitOverrunError 100000 Separator is found, but chunk is longer \
than limit
readline: ValueError Separator is found, but chunk is longer than limit
left: 0
-- pause_and_resume_at_the_high_water_mark
after warm: False True
paused: True False True
read: 50000 False True
-- patched_feed_data_is_called
read: 1000 fed: 1000
-- subclass_reader_gets_its_feed_data
read: b'ABCABC' True
-- exported_buffer_fails_the_connection
client read: b'' ['Fatal error: protocol.data_received() call failed.: \
BufferError']
buffered: b''
-- data_after_feed_eof_fails_the_connection
client read: b'' ['Fatal error: protocol.data_received() call failed.: \
AssertionError']
buffered: b''
-- done_waiter_fails_the_connection_and_keeps_the_data
client read: b'' ['Fatal error: protocol.data_received() call failed.: \
InvalidStateError']
buffered: b'data' None
-- non_bytearray_buffer_is_extended
extend 3
read: b'own'
-- writer_paused_by_the_transport_then_drain
buffered: True draining: True
drained: 8388608 0
"""


def test_streams_after_a_large_read_behave_as_on_asyncios_loop(run):
    # After a large read, apython's transport may recv straight into the
    # reader's buffer: each case here reads large messages first.
    ours = run([LARGE_CASES, "apython"], timeout=300)
    theirs = run([LARGE_CASES, "asyncio"], timeout=300)
    assert ours.stderr == NO_CONSOLE
    assert ours.returncode == 0
    assert ours.stdout == theirs.stdout


def test_streams_after_a_large_read_print_what_python3_prints(run,
                                                              run_python):
    ours = run([LARGE_CASES, "apython"], timeout=300)
    assert ours.stdout == LARGE_EXPECTED
    assert run_python([LARGE_CASES, "asyncio"],
                      timeout=300).stdout == LARGE_EXPECTED
