/* The ready queue: FIFO order across growth and wrap-around. */
#include "lib/lib.h"
#include "tests/unit/unit.h"

static void
test_fifo_order_across_growth(void)
{
	struct ring	*r = ring_new();
	long		 i;

	TEST_START("fifo order across growth");
	ASSERT_TRUE(r != NULL);
	ASSERT_TRUE(ring_pop(r) == NULL);
	for (i = 1; i <= 1000; i++)
		ASSERT_INT_EQ(ring_push(r, (void *)i), 0);
	ASSERT_INT_EQ(ring_len(r), 1000);
	for (i = 1; i <= 1000; i++)
		ASSERT_INT_EQ((long)ring_pop(r), i);
	ASSERT_INT_EQ(ring_len(r), 0);
	ring_free(r);
	TEST_DONE();
}

static void
test_wrap_around_then_grow(void)
{
	struct ring	*r = ring_new();
	long		 i, next = 1, expect = 1;

	TEST_START("wrap around then grow");
	/* Keep 40 items in flight so the head wraps, then grow past 64. */
	for (i = 0; i < 40; i++)
		ring_push(r, (void *)next++);
	for (i = 0; i < 100; i++) {
		ASSERT_INT_EQ((long)ring_pop(r), expect++);
		ring_push(r, (void *)next++);
	}
	for (i = 0; i < 200; i++)
		ring_push(r, (void *)next++);
	ASSERT_INT_EQ((long)ring_at(r, 0), expect);
	while (ring_len(r) > 0)
		ASSERT_INT_EQ((long)ring_pop(r), expect++);
	ASSERT_INT_EQ(expect, next);
	ring_free(r);
	TEST_DONE();
}

int
main(void)
{
	test_fifo_order_across_growth();
	test_wrap_around_then_grow();
	return unit_report("ring");
}
