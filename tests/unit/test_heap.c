/* The timer heap: earliest first, ties in insertion order, filtering. */
#include "lib/lib.h"
#include "tests/unit/unit.h"

static void
test_pops_in_deadline_order(void)
{
	struct heap	*h = heap_new();
	double		 when, last = -1;
	long		 i;

	TEST_START("pops in deadline order");
	for (i = 0; i < 500; i++)
		ASSERT_INT_EQ(heap_push(h, (i * 7919) % 503, (void *)(i + 1)), 0);
	ASSERT_INT_EQ(heap_len(h), 500);
	while (heap_top(h, &when) != NULL) {
		ASSERT_TRUE(when >= last);
		last = when;
		heap_pop(h);
	}
	ASSERT_TRUE(heap_pop(h) == NULL);
	heap_free(h);
	TEST_DONE();
}

static void
test_equal_deadlines_keep_insertion_order(void)
{
	struct heap	*h = heap_new();
	long		 i;

	TEST_START("equal deadlines keep insertion order");
	for (i = 1; i <= 100; i++)
		heap_push(h, 5.0, (void *)i);
	heap_push(h, 1.0, (void *)0L);
	ASSERT_INT_EQ((long)heap_pop(h), 0);
	for (i = 1; i <= 100; i++)
		ASSERT_INT_EQ((long)heap_pop(h), i);
	heap_free(h);
	TEST_DONE();
}

static int dropped;

static int
keep_even(void *item, void *arg)
{
	(void)arg;
	return (long)item % 2 == 0;
}

static void
count_drop(void *item)
{
	(void)item;
	dropped++;
}

static void
test_filter_drops_and_keeps_order(void)
{
	struct heap	*h = heap_new();
	double		 when, last = -1;
	long		 i;

	TEST_START("filter drops and keeps order");
	for (i = 1; i <= 300; i++)
		heap_push(h, 1000 - i, (void *)i);
	ASSERT_INT_EQ(heap_filter(h, keep_even, count_drop, NULL), 0);
	ASSERT_INT_EQ(dropped, 150);
	ASSERT_INT_EQ(heap_len(h), 150);
	while (heap_top(h, &when) != NULL) {
		ASSERT_TRUE(when > last);
		last = when;
		ASSERT_INT_EQ((long)heap_pop(h) % 2, 0);
	}
	heap_free(h);
	TEST_DONE();
}

static struct heap *pushing_heap;

/* Dropping item i schedules item i + 1001 at deadline i, as a timer's
 * finalizer may call call_later while the loop drops cancelled timers. */
static void
push_on_drop(void *item)
{
	ASSERT_INT_EQ(heap_push(pushing_heap, (long)item, (void *)((long)item +
	    1001)), 0);
}

static void
test_filter_lets_drop_push_into_the_heap(void)
{
	struct heap	*h = heap_new();
	double		 when, last = -1;
	long		 i, item, seen[2300] = { 0 };

	TEST_START("filter lets drop push into the heap");
	pushing_heap = h;
	for (i = 1; i <= 300; i++)
		heap_push(h, 2000 - i, (void *)i);
	ASSERT_INT_EQ(heap_filter(h, keep_even, push_on_drop, NULL), 0);
	ASSERT_INT_EQ(heap_len(h), 300);
	while (heap_top(h, &when) != NULL) {
		ASSERT_TRUE(when >= last);
		last = when;
		item = (long)heap_pop(h);
		ASSERT_TRUE(item > 0 && item < 2300);
		seen[item]++;
	}
	for (i = 1; i <= 300; i++) {
		ASSERT_INT_EQ(seen[i], i % 2 == 0);
		ASSERT_INT_EQ(seen[i + 1001], i % 2);
	}
	heap_free(h);
	TEST_DONE();
}

int
main(void)
{
	test_pops_in_deadline_order();
	test_equal_deadlines_keep_insertion_order();
	test_filter_drops_and_keeps_order();
	test_filter_lets_drop_push_into_the_heap();
	return unit_report("heap");
}
