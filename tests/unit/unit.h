/* A tiny unit test helper: TEST_START, ASSERT_*, TEST_DONE. */
#ifndef APYTHON_UNIT_H
#define APYTHON_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char	*unit_name;
static int		 unit_failed;
static int		 unit_passed;

#define TEST_START(name) do {						\
	unit_name = (name);						\
} while (0)

#define TEST_DONE() do {						\
	unit_passed++;							\
} while (0)

#define ASSERT_TRUE(e) do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: %s: failed: %s\n", __FILE__,	\
		    __LINE__, unit_name, #e);				\
		unit_failed++;						\
		return;							\
	}								\
} while (0)

#define ASSERT_INT_EQ(a, b) do {					\
	long long unit_a = (a), unit_b = (b);				\
	if (unit_a != unit_b) {						\
		fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n",\
		    __FILE__, __LINE__, unit_name, #a, unit_a, unit_b);	\
		unit_failed++;						\
		return;							\
	}								\
} while (0)

#define ASSERT_STR_EQ(a, b) do {					\
	if (strcmp((a), (b)) != 0) {					\
		fprintf(stderr, "%s:%d: %s: \"%s\", expected \"%s\"\n",	\
		    __FILE__, __LINE__, unit_name, (a), (b));		\
		unit_failed++;						\
		return;							\
	}								\
} while (0)

/* Print the closing line and return the exit status for main(). */
static int
unit_report(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
