/* proto/handshake.c: the secret line, then the --connect hello. */
#include "proto/proto.h"
#include "tests/unit/unit.h"

static void
test_the_secret_line_loses_its_line_end(void)
{
	struct handshake_line	l;

	TEST_START("the secret line loses its line end");
	ASSERT_INT_EQ(handshake_secret("s3cret\r\nrest", 12, &l),
	    HANDSHAKE_LINE);
	ASSERT_INT_EQ(l.len, 6);
	ASSERT_INT_EQ(l.used, 8);
	ASSERT_INT_EQ(l.hello, 0);
	ASSERT_INT_EQ(handshake_secret("s3cret\n", 7, &l), HANDSHAKE_LINE);
	ASSERT_INT_EQ(l.len, 6);
	ASSERT_INT_EQ(l.used, 7);
	ASSERT_INT_EQ(handshake_secret("\n", 1, &l), HANDSHAKE_LINE);
	ASSERT_INT_EQ(l.len, 0);
	TEST_DONE();
}

static void
test_the_secret_line_waits_for_its_end(void)
{
	struct handshake_line	 l;
	char			*big;

	TEST_START("the secret line waits for its end, up to the limit");
	ASSERT_INT_EQ(handshake_secret("", 0, &l), HANDSHAKE_WAIT);
	ASSERT_INT_EQ(handshake_secret("s3cr", 4, &l), HANDSHAKE_WAIT);
	ASSERT_TRUE((big = malloc(SERVE_LINE_MAX + 1)) != NULL);
	memset(big, 'x', SERVE_LINE_MAX + 1);
	ASSERT_INT_EQ(handshake_secret(big, SERVE_LINE_MAX, &l),
	    HANDSHAKE_WAIT);
	ASSERT_INT_EQ(handshake_secret(big, SERVE_LINE_MAX + 1, &l),
	    HANDSHAKE_TOO_LONG);
	free(big);
	TEST_DONE();
}

static void
test_a_hello_instead_of_the_secret_is_told_apart(void)
{
	struct handshake_line	l;

	TEST_START("a hello instead of the secret is told apart");
	ASSERT_INT_EQ(handshake_secret(SERVE_HELLO "L", SERVE_HELLO_LEN + 1,
	    &l), HANDSHAKE_LINE);
	ASSERT_INT_EQ(l.hello, 1);
	ASSERT_INT_EQ(l.used, SERVE_HELLO_LEN);
	TEST_DONE();
}

static void
test_the_hello_makes_a_framed_client(void)
{
	size_t	used = 0;

	TEST_START("the hello makes a framed client");
	ASSERT_INT_EQ(handshake_hello(SERVE_HELLO, SERVE_HELLO_LEN, &used),
	    HANDSHAKE_FRAMED);
	ASSERT_INT_EQ(used, SERVE_HELLO_LEN);
	ASSERT_INT_EQ(handshake_hello(SERVE_HELLO "L\0\0", SERVE_HELLO_LEN + 3,
	    &used), HANDSHAKE_FRAMED);
	ASSERT_INT_EQ(used, SERVE_HELLO_LEN);
	TEST_DONE();
}

static void
test_an_unneeded_secret_before_the_hello_is_skipped(void)
{
	size_t	used = 0;

	TEST_START("an unneeded secret before the hello is skipped");
	ASSERT_INT_EQ(handshake_hello("s3cret\n" SERVE_HELLO,
	    7 + SERVE_HELLO_LEN, &used), HANDSHAKE_FRAMED);
	ASSERT_INT_EQ(used, 7 + SERVE_HELLO_LEN);
	TEST_DONE();
}

static void
test_anything_else_is_a_plain_client(void)
{
	char	*big;
	size_t	 used = 0;

	TEST_START("anything else is a plain client");
	ASSERT_INT_EQ(handshake_hello("", 0, &used), HANDSHAKE_WAIT);
	ASSERT_INT_EQ(handshake_hello("\0apython", 8, &used), HANDSHAKE_WAIT);
	ASSERT_INT_EQ(handshake_hello("1+1\n", 4, &used), HANDSHAKE_PLAIN);
	ASSERT_INT_EQ(handshake_hello("1+1\n2+2\n", 8, &used),
	    HANDSHAKE_PLAIN);
	/* Decided at the first line: the hello must follow it at once. */
	ASSERT_INT_EQ(handshake_hello("s3cret\n\0apy", 11, &used),
	    HANDSHAKE_PLAIN);
	ASSERT_INT_EQ(handshake_hello("\0apython-connect 2\n", 19, &used),
	    HANDSHAKE_PLAIN);
	ASSERT_TRUE((big = malloc(SERVE_LINE_MAX + 1)) != NULL);
	memset(big, 'x', SERVE_LINE_MAX + 1);
	ASSERT_INT_EQ(handshake_hello(big, SERVE_LINE_MAX, &used),
	    HANDSHAKE_WAIT);
	ASSERT_INT_EQ(handshake_hello(big, SERVE_LINE_MAX + 1, &used),
	    HANDSHAKE_PLAIN);
	free(big);
	TEST_DONE();
}

int
main(void)
{
	test_the_secret_line_loses_its_line_end();
	test_the_secret_line_waits_for_its_end();
	test_a_hello_instead_of_the_secret_is_told_apart();
	test_the_hello_makes_a_framed_client();
	test_an_unneeded_secret_before_the_hello_is_skipped();
	test_anything_else_is_a_plain_client();
	return unit_report("handshake");
}
