/* proto/scan.c: Ctrl-C in bytes read ahead of the loop. A whole 'I'
 * frame is found and rewritten, wherever the reads split it; an 'I' in
 * a payload, or one whose header was taken before it was whole, is
 * not; telnet's IAC IP becomes IAC NOP, which lines_input() passes
 * over, and IAC IAC is the byte 255, not a command. */
#include "proto/proto.h"
#include "tests/unit/unit.h"

/* Scan b's bytes from `from` to its end. */
static int
scan_all(struct scan *s, struct sbuf *b, size_t from, size_t *past)
{
	return scan_run(s, sbuf_ptr(b), from, sbuf_len(b), past);
}

static void
test_frame_interrupt_found_and_rewritten(void)
{
	struct sbuf	b = { 0 };
	struct scan	s;
	size_t		past = 0;
	const char	*p;
	size_t		n;
	int		type;

	TEST_START("frame interrupt found and rewritten");
	scan_frames(&s, "", 0);
	ASSERT_INT_EQ(frame_add(&b, FRAME_LINE, "xIx", 3), 0);
	ASSERT_INT_EQ(frame_add(&b, FRAME_INTERRUPT, NULL, 0), 0);
	ASSERT_INT_EQ(frame_add(&b, FRAME_LINE, "after", 5), 0);
	/* Read in three pieces: the 'I' frame split in the middle. */
	ASSERT_INT_EQ(scan_run(&s, sbuf_ptr(&b), 0, 10, &past), 0);
	ASSERT_INT_EQ(scan_run(&s, sbuf_ptr(&b), 10, 13, &past), 1);
	ASSERT_INT_EQ(past, 13);
	ASSERT_INT_EQ(scan_all(&s, &b, 13, &past), 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 1);
	ASSERT_INT_EQ(type, FRAME_LINE);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 1);
	ASSERT_INT_EQ(type, FRAME_TAKEN);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 1);
	ASSERT_INT_EQ(type, FRAME_LINE);
	sbuf_free(&b);
	TEST_DONE();
}

static void
test_frame_begun_before_is_left_alone(void)
{
	struct sbuf	b = { 0 };
	struct scan	s;
	size_t		past = 0;

	TEST_START("frame begun before is left alone");
	/* The loop kept 3 bytes of an 'L' frame of 4: one more is payload. */
	scan_frames(&s, "L\0\0", 3);
	ASSERT_INT_EQ(sbuf_add(&b, "\0\4I\0\0\0", 6), 0);
	ASSERT_INT_EQ(frame_add(&b, FRAME_INTERRUPT, NULL, 0), 0);
	ASSERT_INT_EQ(scan_all(&s, &b, 0, &past), 1);
	ASSERT_INT_EQ(past, 11);
	/* An 'I' whose first byte was taken before it was whole. */
	sbuf_free(&b);
	ASSERT_INT_EQ(sbuf_add(&b, "I\0", 2), 0);
	ASSERT_INT_EQ(scan_all(&s, &b, 0, &past), 0);
	scan_taken(&s, 2);
	sbuf_free(&b);
	ASSERT_INT_EQ(sbuf_add(&b, "\0\0\0", 3), 0);
	ASSERT_INT_EQ(scan_all(&s, &b, 0, &past), 0);
	ASSERT_INT_EQ(sbuf_ptr(&b)[0], '\0');
	sbuf_free(&b);
	TEST_DONE();
}

static void
test_telnet_ip_becomes_a_nop(void)
{
	struct lines	l = { 0 };
	struct scan	s;
	char		text[] = "a\377\377\364b\377\364c\n";
	const char	*p = text;
	size_t		n = sizeof text - 1, past = 0, len;

	TEST_START("telnet ip becomes a nop");
	scan_plain(&s, &l);
	ASSERT_INT_EQ(scan_run(&s, text, 0, n, &past), 1);
	ASSERT_INT_EQ(past, 7);
	ASSERT_INT_EQ(lines_input(&l, &p, &n), LINES_DONE);
	ASSERT_INT_EQ(lines_next(&l, &p, &len), 1);
	ASSERT_INT_EQ(len, 5);
	ASSERT_TRUE(memcmp(p, "a\377\364bc", 5) == 0);
	lines_clear(&l);
	TEST_DONE();
}

static void
test_telnet_state_is_the_loops(void)
{
	struct lines	l = { 0 };
	struct scan	s;
	char		first[] = "x\377", rest[] = "\364";
	const char	*p = first;
	size_t		n = 2, past = 0;

	TEST_START("telnet state is the loop's");
	/* The loop read up to an IAC; the scanner goes on from there. */
	ASSERT_INT_EQ(lines_input(&l, &p, &n), LINES_DONE);
	scan_plain(&s, &l);
	ASSERT_INT_EQ(scan_run(&s, rest, 0, 1, &past), 1);
	lines_clear(&l);
	TEST_DONE();
}

int
main(void)
{
	test_frame_interrupt_found_and_rewritten();
	test_frame_begun_before_is_left_alone();
	test_telnet_ip_becomes_a_nop();
	test_telnet_state_is_the_loops();
	return unit_report("scan");
}
