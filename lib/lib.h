/* lib/: containers in pure C (no Python), unit-tested on their own. */
#ifndef APYTHON_LIB_H
#define APYTHON_LIB_H

#include <stddef.h>

/* ring.c: a FIFO of pointers (the loop's ready queue). */
struct ring;
struct ring	*ring_new(void);
void		 ring_free(struct ring *);
int		 ring_push(struct ring *, void *);
void		*ring_pop(struct ring *);
void		*ring_at(const struct ring *, size_t);
size_t		 ring_len(const struct ring *);

/* heap.c: a binary min-heap of pointers keyed by a double (timers). */
struct heap;
struct heap	*heap_new(void);
void		 heap_free(struct heap *);
int		 heap_push(struct heap *, double, void *);
size_t		 heap_len(const struct heap *);
void		*heap_top(const struct heap *, double *);
void		*heap_pop(struct heap *);
void		*heap_at(const struct heap *, size_t);
int		 heap_filter(struct heap *, int (*)(void *, void *),
		     void (*)(void *), void *);

#endif
