/* proto/: byte buffers, the --connect frames, the shared secret. */
#include "proto/proto.h"
#include "tests/unit/unit.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

static void
test_buffer_reads_from_the_front(void)
{
	struct sbuf	b;
	int		i;

	TEST_START("buffer reads from the front");
	memset(&b, 0, sizeof b);
	ASSERT_INT_EQ(sbuf_len(&b), 0);
	ASSERT_TRUE(sbuf_ptr(&b) != NULL);
	ASSERT_INT_EQ(sbuf_add(&b, "hello ", 6), 0);
	ASSERT_INT_EQ(sbuf_add(&b, "world", 5), 0);
	sbuf_drop(&b, 6);
	ASSERT_INT_EQ(sbuf_len(&b), 5);
	ASSERT_TRUE(memcmp(sbuf_ptr(&b), "world", 5) == 0);
	for (i = 0; i < 10000; i++)
		ASSERT_INT_EQ(sbuf_add(&b, "0123456789", 10), 0);
	ASSERT_INT_EQ(sbuf_len(&b), 100005);
	sbuf_drop(&b, 100005);
	ASSERT_INT_EQ(sbuf_len(&b), 0);
	sbuf_free(&b);
	ASSERT_TRUE(sbuf_ptr(&b) != NULL);
	TEST_DONE();
}

static void
test_frames_round_trip_and_wait_for_their_end(void)
{
	struct sbuf	 b, half;
	const char	*p;
	size_t		 n;
	int		 type;

	TEST_START("frames round trip and wait for their end");
	memset(&b, 0, sizeof b);
	memset(&half, 0, sizeof half);
	ASSERT_INT_EQ(frame_add(&b, FRAME_LINE, "1+1", 3), 0);
	ASSERT_INT_EQ(frame_add(&b, FRAME_EOF, NULL, 0), 0);
	ASSERT_INT_EQ(sbuf_len(&b), 2 * FRAME_HEADER + 3);
	ASSERT_TRUE(memcmp(sbuf_ptr(&b), "L\0\0\0\0031+1", 8) == 0);
	sbuf_add(&half, sbuf_ptr(&b), 6);
	ASSERT_INT_EQ(frame_next(&half, &type, &p, &n), 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 1);
	ASSERT_INT_EQ(type, FRAME_LINE);
	ASSERT_INT_EQ(n, 3);
	ASSERT_TRUE(memcmp(p, "1+1", 3) == 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 1);
	ASSERT_INT_EQ(type, FRAME_EOF);
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 0);
	sbuf_free(&b);
	sbuf_free(&half);
	TEST_DONE();
}

static void
test_a_frame_waits_for_its_last_byte(void)
{
	struct sbuf	 b;
	const char	*p;
	size_t		 n;
	int		 type;

	TEST_START("a frame waits for its last byte");
	memset(&b, 0, sizeof b);
	ASSERT_INT_EQ(sbuf_add(&b, "L\0\0\0\0031+", 7), 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 0);
	ASSERT_INT_EQ(sbuf_len(&b), 7);
	ASSERT_INT_EQ(sbuf_add(&b, "1", 1), 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), 1);
	ASSERT_TRUE(n == 3 && memcmp(p, "1+1", 3) == 0);
	ASSERT_INT_EQ(sbuf_len(&b), 0);
	sbuf_free(&b);
	TEST_DONE();
}

static void
test_oversized_frames_are_refused(void)
{
	struct sbuf	 b;
	const char	*p;
	size_t		 n;
	int		 type;

	TEST_START("oversized frames are refused");
	memset(&b, 0, sizeof b);
	ASSERT_INT_EQ(frame_add(&b, FRAME_LINE, "", FRAME_MAX + 1), -1);
	ASSERT_INT_EQ(sbuf_add(&b, "L\xff\xff\xff\xff", 5), 0);
	ASSERT_INT_EQ(frame_next(&b, &type, &p, &n), -1);
	sbuf_free(&b);
	TEST_DONE();
}

static void
test_secret_comparison(void)
{
	TEST_START("secret comparison");
	ASSERT_TRUE(secret_equal("s3cret", 6, "s3cret", 6));
	ASSERT_TRUE(!secret_equal("s3cres", 6, "s3cret", 6));
	ASSERT_TRUE(!secret_equal("s3cre", 5, "s3cret", 6));
	ASSERT_TRUE(!secret_equal("s3crets3cret", 12, "s3cret", 6));
	ASSERT_TRUE(!secret_equal("", 0, "s3cret", 6));
	ASSERT_TRUE(!secret_equal("", 0, "", 0));
	TEST_DONE();
}

static void
test_secret_from_the_environment_or_a_private_file(void)
{
	char	 path[] = "/tmp/apython-unit-secretXXXXXX", *s, *cause;
	size_t	 len;
	int	 fd;

	TEST_START("secret from the environment or a private file");
	unsetenv("APYTHON_SECRET");
	unsetenv("APYTHON_SECRET_FILE");
	ASSERT_INT_EQ(secret_load(&s, &len, &cause), 0);
	ASSERT_TRUE(s == NULL);
	setenv("APYTHON_SECRET", "from-env", 1);
	ASSERT_INT_EQ(secret_load(&s, &len, &cause), 0);
	ASSERT_STR_EQ(s, "from-env");
	ASSERT_INT_EQ(len, 8);
	free(s);
	setenv("APYTHON_SECRET", "two\nlines", 1);
	ASSERT_INT_EQ(secret_load(&s, &len, &cause), -1);
	free(cause);
	unsetenv("APYTHON_SECRET");
	ASSERT_TRUE((fd = mkstemp(path)) >= 0);
	ASSERT_INT_EQ(write(fd, "from-file\nrest\n", 15), 15);
	close(fd);
	setenv("APYTHON_SECRET_FILE", path, 1);
	ASSERT_INT_EQ(secret_load(&s, &len, &cause), 0);
	ASSERT_STR_EQ(s, "from-file");
	free(s);
	chmod(path, 0644);
	ASSERT_INT_EQ(secret_load(&s, &len, &cause), -1);
	ASSERT_TRUE(strstr(cause, "chmod 600") != NULL);
	free(cause);
	unlink(path);
	unsetenv("APYTHON_SECRET_FILE");
	TEST_DONE();
}

int
main(void)
{
	test_buffer_reads_from_the_front();
	test_frames_round_trip_and_wait_for_their_end();
	test_a_frame_waits_for_its_last_byte();
	test_oversized_frames_are_refused();
	test_secret_comparison();
	test_secret_from_the_environment_or_a_private_file();
	return unit_report("frame");
}
