/* proto/lines.c: a plain client's bytes in, lines and telnet events out. */
#include "proto/proto.h"
#include "tests/unit/unit.h"

/* What feeding bytes gave: the lines, each followed by '|', and the
 * events in order ('T' too long, 'I' interrupt), all in one string. */
struct seen {
	char	text[256];
	size_t	len;
};

static void
seen_add(struct seen *s, const char *p, size_t n)
{
	if (s->len + n < sizeof s->text) {
		memcpy(s->text + s->len, p, n);
		s->len += n;
		s->text[s->len] = '\0';
	}
}

/* Take the queued lines into s. */
static void
take_lines(struct lines *l, struct seen *s)
{
	const char	*p;
	size_t		 n;

	while (lines_next(l, &p, &n)) {
		seen_add(s, p, n);
		seen_add(s, "|", 1);
	}
}

/* Feed n bytes, in pieces of at most step bytes, taking lines and
 * events as they come; 0, or -1 on a failure. */
static int
feed(struct lines *l, const char *p, size_t n, size_t step, struct seen *s)
{
	const char	*q;
	size_t		 k, left;
	int		 r;

	while (n > 0) {
		k = n < step ? n : step;
		q = p;
		left = k;
		while (left > 0) {
			if ((r = lines_input(l, &q, &left)) < 0)
				return -1;
			take_lines(l, s);
			if (r == LINES_TOO_LONG)
				seen_add(s, "T", 1);
			else if (r == LINES_INTERRUPT) {
				seen_add(s, "I", 1);
				lines_clear(l);
			}
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* The same bytes give the same lines and events however reads split
 * them: in one piece, and in pieces of 1 to n bytes. */
static int
check_every_split(const char *p, size_t n, const char *want)
{
	struct lines	l;
	struct seen	s;
	size_t		step;

	for (step = 1; step <= n; step++) {
		memset(&l, 0, sizeof l);
		memset(&s, 0, sizeof s);
		if (feed(&l, p, n, step, &s) != 0 || strcmp(s.text, want) != 0) {
			fprintf(stderr, "split every %zu bytes: \"%s\", "
			    "expected \"%s\"\n", step, s.text, want);
			lines_clear(&l);
			return 0;
		}
		lines_clear(&l);
	}
	return 1;
}

#define LINES_GIVE(bytes, want) \
	ASSERT_TRUE(check_every_split(bytes, sizeof bytes - 1, want))

static void
test_lines_end_at_newlines_and_lose_their_cr(void)
{
	TEST_START("lines end at newlines and lose their CR");
	LINES_GIVE("1+1\nprint(2)\r\n\nno end", "1+1|print(2)||");
	TEST_DONE();
}

static void
test_telnet_negotiation_is_not_text(void)
{
	TEST_START("telnet negotiation is not text");
	/* IAC DO ECHO, IAC WILL SGA, IAC NOP, IAC SB ... IAC SE. */
	LINES_GIVE("a\377\375\001b\377\373\003c\377\361d\377\372\030\001x"
	    "\377\377y\377\360e\n", "abcde|");
	TEST_DONE();
}

static void
test_telnet_ip_interrupts_after_the_text_before_it(void)
{
	TEST_START("telnet IP interrupts after the text before it");
	LINES_GIVE("one\ntwo\377\364three\n", "one|Ithree|");
	TEST_DONE();
}

static void
test_iac_iac_is_one_byte_255(void)
{
	TEST_START("IAC IAC is one byte 255");
	LINES_GIVE("a\377\377b\n", "a\377b|");
	TEST_DONE();
}

static void
test_iac_before_a_plain_byte_is_text(void)
{
	TEST_START("IAC before a plain byte is text");
	LINES_GIVE("a\377b\n\377\n", "a\377b|\377|");
	TEST_DONE();
}

static void
test_a_line_at_the_limit_is_kept(void)
{
	struct lines	 l;
	struct sbuf	 b;
	const char	*p, *q;
	size_t		 n, left;

	TEST_START("a line at the limit is kept");
	memset(&l, 0, sizeof l);
	memset(&b, 0, sizeof b);
	while (sbuf_len(&b) < SERVE_LINE_MAX)
		ASSERT_INT_EQ(sbuf_add(&b, "x", 1), 0);
	ASSERT_INT_EQ(sbuf_add(&b, "\n", 1), 0);
	q = sbuf_ptr(&b);
	left = sbuf_len(&b);
	ASSERT_INT_EQ(lines_input(&l, &q, &left), LINES_DONE);
	ASSERT_INT_EQ(left, 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_INT_EQ(n, SERVE_LINE_MAX);
	ASSERT_INT_EQ(lines_held(&l), 0);
	lines_clear(&l);
	sbuf_free(&b);
	TEST_DONE();
}

static void
test_a_line_over_the_limit_is_dropped_once(void)
{
	struct lines	 l;
	const char	*p, *q;
	char		*big;
	size_t		 n, left;
	int		 i;

	TEST_START("a line over the limit is dropped once");
	memset(&l, 0, sizeof l);
	ASSERT_TRUE((big = malloc(SERVE_LINE_MAX)) != NULL);
	memset(big, 'x', SERVE_LINE_MAX);
	q = "ok\n";
	left = 3;
	ASSERT_INT_EQ(lines_input(&l, &q, &left), LINES_DONE);
	/* Three reads of a line twice the limit and more: one event. */
	for (i = 0; i < 3; i++) {
		q = big;
		left = SERVE_LINE_MAX;
		ASSERT_INT_EQ(lines_input(&l, &q, &left),
		    i == 1 ? LINES_TOO_LONG : LINES_DONE);
		ASSERT_INT_EQ(left, 0);
	}
	ASSERT_INT_EQ(lines_queued(&l), 3);
	ASSERT_INT_EQ(lines_held(&l), 3);
	q = "tail\nnext\n";
	left = 10;
	ASSERT_INT_EQ(lines_input(&l, &q, &left), LINES_DONE);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_TRUE(n == 2 && memcmp(p, "ok", 2) == 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_TRUE(n == 4 && memcmp(p, "next", 4) == 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 0);
	lines_clear(&l);
	free(big);
	TEST_DONE();
}

static void
test_a_line_one_byte_over_the_limit_says_so_where_it_ends(void)
{
	struct lines	 l;
	const char	*q;
	char		*big;
	size_t		 left;

	TEST_START("a line one byte over the limit says so where it ends");
	memset(&l, 0, sizeof l);
	ASSERT_TRUE((big = malloc(SERVE_LINE_MAX + 3)) != NULL);
	memset(big, 'x', SERVE_LINE_MAX + 1);
	memcpy(big + SERVE_LINE_MAX + 1, "\na", 2);
	q = big;
	left = SERVE_LINE_MAX + 3;
	ASSERT_INT_EQ(lines_input(&l, &q, &left), LINES_TOO_LONG);
	ASSERT_INT_EQ(left, 1);		/* "a" is still to be read */
	ASSERT_INT_EQ(lines_input(&l, &q, &left), LINES_DONE);
	ASSERT_INT_EQ(lines_held(&l), 1);
	ASSERT_INT_EQ(lines_queued(&l), 0);
	lines_clear(&l);
	free(big);
	TEST_DONE();
}

static void
test_the_end_of_input_ends_the_last_line(void)
{
	struct lines	 l;
	const char	*p, *q = "a\nb";
	size_t		 n, left = 3;

	TEST_START("the end of input ends the last line");
	memset(&l, 0, sizeof l);
	ASSERT_INT_EQ(lines_input(&l, &q, &left), LINES_DONE);
	ASSERT_INT_EQ(lines_queued(&l), 2);
	ASSERT_INT_EQ(lines_end(&l), 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_TRUE(n == 1 && *p == 'b');
	ASSERT_INT_EQ(lines_end(&l), 0);
	ASSERT_INT_EQ(lines_held(&l), 0);
	lines_clear(&l);
	TEST_DONE();
}

static void
test_whole_lines_are_queued_as_they_are(void)
{
	struct lines	 l;
	const char	*p;
	size_t		 n;

	TEST_START("whole lines are queued as they are");
	memset(&l, 0, sizeof l);
	ASSERT_INT_EQ(lines_add(&l, "x = 1\r", 6), 0);
	ASSERT_INT_EQ(lines_add(&l, "", 0), 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_TRUE(n == 5 && memcmp(p, "x = 1", 5) == 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 1);
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(lines_next(&l, &p, &n), 0);
	lines_clear(&l);
	TEST_DONE();
}

int
main(void)
{
	test_lines_end_at_newlines_and_lose_their_cr();
	test_telnet_negotiation_is_not_text();
	test_telnet_ip_interrupts_after_the_text_before_it();
	test_iac_iac_is_one_byte_255();
	test_iac_before_a_plain_byte_is_text();
	test_a_line_at_the_limit_is_kept();
	test_a_line_over_the_limit_is_dropped_once();
	test_a_line_one_byte_over_the_limit_says_so_where_it_ends();
	test_the_end_of_input_ends_the_last_line();
	test_whole_lines_are_queued_as_they_are();
	return unit_report("lines");
}
