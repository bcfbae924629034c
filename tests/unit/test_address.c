/* --serve / --connect addresses: [HOST:]PORT, [IPV6]:PORT and PATH. */
#include "proto/proto.h"
#include "tests/unit/unit.h"

static void
test_port_alone_means_loopback(void)
{
	struct serve_address	a;

	TEST_START("port alone means loopback");
	ASSERT_INT_EQ(serve_parse_address("8889", &a), 0);
	ASSERT_INT_EQ(a.kind, SERVE_TCP);
	ASSERT_STR_EQ(a.host, "");
	ASSERT_INT_EQ(a.port, 8889);
	ASSERT_INT_EQ(serve_parse_address(":0", &a), 0);
	ASSERT_STR_EQ(a.host, "");
	ASSERT_INT_EQ(a.port, 0);
	TEST_DONE();
}

static void
test_host_and_ipv6(void)
{
	struct serve_address	a;

	TEST_START("host and ipv6");
	ASSERT_INT_EQ(serve_parse_address("0.0.0.0:80", &a), 0);
	ASSERT_STR_EQ(a.host, "0.0.0.0");
	ASSERT_INT_EQ(a.port, 80);
	ASSERT_INT_EQ(serve_parse_address("[::1]:65535", &a), 0);
	ASSERT_STR_EQ(a.host, "::1");
	ASSERT_INT_EQ(a.port, 65535);
	ASSERT_INT_EQ(serve_parse_address("localhost:1", &a), 0);
	ASSERT_STR_EQ(a.host, "localhost");
	TEST_DONE();
}

static void
test_path_means_unix_socket(void)
{
	struct serve_address	a;

	TEST_START("path means unix socket");
	ASSERT_INT_EQ(serve_parse_address("./console.sock", &a), 0);
	ASSERT_INT_EQ(a.kind, SERVE_UNIX);
	ASSERT_STR_EQ(a.path, "./console.sock");
	TEST_DONE();
}

static void
test_rejects_what_is_not_an_address(void)
{
	static const char	*bad[] = {
		"", "abc", ":", "host:", "65536", "-1", "12a", "::1:80",
		"[::1]", "[::1]80", "[]:80", "1.2.3.4:123456", "+80"
	};
	struct serve_address	a;
	char			long_path[200];
	size_t			i;

	TEST_START("rejects what is not an address");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (serve_parse_address(bad[i], &a) != -1) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			ASSERT_TRUE(0);
		}
	}
	memset(long_path, 'a', sizeof long_path - 1);
	long_path[0] = '/';
	long_path[sizeof long_path - 1] = '\0';
	ASSERT_INT_EQ(serve_parse_address(long_path, &a), -1);
	TEST_DONE();
}

int
main(void)
{
	test_port_alone_means_loopback();
	test_host_and_ipv6();
	test_path_means_unix_socket();
	test_rejects_what_is_not_an_address();
	return unit_report("address");
}
