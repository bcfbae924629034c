/* What the fuzz targets share: the input cut into reads. */
#ifndef APYTHON_FUZZ_H
#define APYTHON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* A fuzz target's entry point, called by libFuzzer for each input. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The first byte of an input says how long its reads are (1 to 256
 * bytes): a client's bytes arrive split anywhere. */
struct reads {
	const uint8_t	*p;
	size_t		 n;
	size_t		 step;
};

static inline void
reads_start(struct reads *r, const uint8_t *data, size_t size)
{
	r->step = size > 0 ? (size_t)data[0] + 1 : 1;
	r->p = size > 0 ? data + 1 : data;
	r->n = size > 0 ? size - 1 : 0;
}

/* The next read: 1 and its bytes, or 0 at the end. Each read is copied
 * to a buffer of its own size, so reading past it is caught. */
static inline int
reads_next(struct reads *r, char **p, size_t *n)
{
	if (r->n == 0)
		return 0;
	*n = r->n < r->step ? r->n : r->step;
	if ((*p = malloc(*n)) == NULL)
		abort();
	for (size_t i = 0; i < *n; i++)
		(*p)[i] = (char)r->p[i];
	r->p += *n;
	r->n -= *n;
	return 1;
}

#endif
