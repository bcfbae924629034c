/* A binary min-heap of timers ordered by deadline, then by insertion. */
#include <stdlib.h>

#include "lib/lib.h"

struct heap_entry {
	double			 when;
	unsigned long long	 seq;
	void			*item;
};

struct heap {
	struct heap_entry	*v;
	size_t			 len;
	size_t			 cap;
	unsigned long long	 seq;
};

/* Create an empty heap; NULL when out of memory. */
struct heap *
heap_new(void)
{
	return calloc(1, sizeof(struct heap));
}

/* Free the heap itself; the caller owns the items still in it. */
void
heap_free(struct heap *h)
{
	if (h == NULL)
		return;
	free(h->v);
	free(h);
}

/* True when entry a fires before entry b. */
static int
heap_less(const struct heap_entry *a, const struct heap_entry *b)
{
	if (a->when != b->when)
		return a->when < b->when;
	return a->seq < b->seq;
}

/* Move entry i up to its place. */
static void
heap_up(struct heap *h, size_t i)
{
	struct heap_entry	e = h->v[i];

	while (i > 0 && heap_less(&e, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = e;
}

/* Move entry i down to its place. */
static void
heap_down(struct heap *h, size_t i)
{
	struct heap_entry	e = h->v[i];
	size_t			c;

	while ((c = 2 * i + 1) < h->len) {
		if (c + 1 < h->len && heap_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!heap_less(&h->v[c], &e))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = e;
}

/* Add an item firing at when; -1 when out of memory. */
int
heap_push(struct heap *h, double when, void *item)
{
	struct heap_entry	*v;
	size_t			 cap;

	if (h->len == h->cap) {
		cap = h->cap ? h->cap * 2 : 64;
		v = realloc(h->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->len].when = when;
	h->v[h->len].seq = h->seq++;
	h->v[h->len].item = item;
	heap_up(h, h->len++);
	return 0;
}

/* Number of items in the heap. */
size_t
heap_len(const struct heap *h)
{
	return h->len;
}

/* The earliest item (NULL when empty), its deadline in *when. */
void *
heap_top(const struct heap *h, double *when)
{
	if (h->len == 0)
		return NULL;
	if (when != NULL)
		*when = h->v[0].when;
	return h->v[0].item;
}

/* Remove and return the earliest item, NULL when empty. */
void *
heap_pop(struct heap *h)
{
	void	*item;

	if (h->len == 0)
		return NULL;
	item = h->v[0].item;
	h->v[0] = h->v[--h->len];
	if (h->len > 0)
		heap_down(h, 0);
	return item;
}

/* Return the i-th item in storage order (i < len), for traversal. */
void *
heap_at(const struct heap *h, size_t i)
{
	return h->v[i].item;
}

/* Keep the items for which keep() says true and hand the others to
 * drop() once the heap is whole again: drop() may push into it (a timer
 * released runs finalizers, which may call call_later); keep() runs while
 * the heap is torn, so it must run no Python. -1, with nothing dropped,
 * when out of memory. */
int
heap_filter(struct heap *h, int (*keep)(void *, void *), void (*drop)(void *),
    void *arg)
{
	void	**gone;
	size_t	  i, n = 0, ngone = 0;

	if (h->len == 0)
		return 0;
	if ((gone = malloc(h->len * sizeof *gone)) == NULL)
		return -1;
	for (i = 0; i < h->len; i++) {
		if (keep(h->v[i].item, arg))
			h->v[n++] = h->v[i];
		else
			gone[ngone++] = h->v[i].item;
	}
	h->len = n;
	for (i = n / 2; i-- > 0;)
		heap_down(h, i);
	for (i = 0; i < ngone; i++)
		drop(gone[i]);
	free(gone);
	return 0;
}
