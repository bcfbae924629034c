/* Byte buffers and the frames of the --connect protocol. */
#include "proto/proto.h"

#include <errno.h>
#include <stdint.h>
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

/* Append one frame; -1 with errno. */
int
frame_add(struct sbuf *b, int type, const void *p, size_t n)
{
	unsigned char	h[FRAME_HEADER];

	if (n > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	h[0] = (unsigned char)type;
	h[1] = (n >> 24) & 0xff;
	h[2] = (n >> 16) & 0xff;
	h[3] = (n >> 8) & 0xff;
	h[4] = n & 0xff;
	if (sbuf_add(b, h, sizeof h) != 0)
		return -1;
	return sbuf_add(b, p, n);
}

/* The frame at the front of b: 1 and its type and payload (consumed
 * from b, valid until b changes), 0 when incomplete, -1 when too big. */
int
frame_next(struct sbuf *b, int *type, const char **p, size_t *n)
{
	const unsigned char	*h = (const unsigned char *)sbuf_ptr(b);
	size_t			 len;

	if (sbuf_len(b) < FRAME_HEADER)
		return 0;
	len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 |
	    h[4];
	if (len > FRAME_MAX)
		return -1;
	if (sbuf_len(b) < FRAME_HEADER + len)
		return 0;
	*type = h[0];
	*p = sbuf_ptr(b) + FRAME_HEADER;
	*n = len;
	b->start += FRAME_HEADER + len;
	return 1;
}
