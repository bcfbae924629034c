/* Byte buffers, read from the front: what a connection has received and
 * not yet understood, or has to send. */
#include "proto/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where an empty buffer points: never NULL, for mem*() calls. */
char	sbuf_empty[1];

/* Append n bytes; -1 with errno ENOMEM. */
int
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	char	*data;
	size_t	 cap;

	if (n == 0)
		return 0;
	if (b->start > 0 && b->end + n > b->cap) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	if (b->end + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->end + n)
			cap *= 2;
		if ((data = realloc(b->data, cap)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->end, p, n);
	b->end += n;
	return 0;
}

/* Forget the first n bytes. */
void
sbuf_drop(struct sbuf *b, size_t n)
{
	b->start += n;
	if (b->start >= b->end)
		b->start = b->end = 0;
}

/* Free the buffer; it may be used again. */
void
sbuf_free(struct sbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
