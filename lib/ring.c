/* A growable ring buffer of pointers: the loop's ready queue, which
 * call_soon_threadsafe() fills too (under the GIL). */
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

struct ring {
	void	**items;
	size_t	  head;
	size_t	  len;
	size_t	  cap;
};

/* Create an empty ring; NULL when out of memory. */
struct ring *
ring_new(void)
{
	return calloc(1, sizeof(struct ring));
}

/* Free the ring itself; the caller owns what is still in it. */
void
ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	free(r->items);
	free(r);
}

/* Double the capacity, unwrapping the items to the start. */
static int
ring_grow(struct ring *r)
{
	size_t	  cap = r->cap ? r->cap * 2 : 64, first;
	void	**items;

	items = malloc(cap * sizeof *items);
	if (items == NULL)
		return -1;
	first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
	if (r->len > 0) {
		memcpy(items, r->items + r->head, first * sizeof *items);
		memcpy(items + first, r->items, (r->len - first) * sizeof *items);
	}
	free(r->items);
	r->items = items;
	r->head = 0;
	r->cap = cap;
	return 0;
}

/* Append an item at the tail; -1 when out of memory. */
int
ring_push(struct ring *r, void *item)
{
	if (r->len == r->cap && ring_grow(r) != 0)
		return -1;
	r->items[(r->head + r->len) % r->cap] = item;
	r->len++;
	return 0;
}

/* Remove and return the head item, NULL when empty. */
void *
ring_pop(struct ring *r)
{
	void	*item;

	if (r->len == 0)
		return NULL;
	item = r->items[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return item;
}

/* Return the i-th item from the head (i < len). */
void *
ring_at(const struct ring *r, size_t i)
{
	return r->items[(r->head + i) % r->cap];
}

/* Number of items in the ring. */
size_t
ring_len(const struct ring *r)
{
	return r->len;
}
