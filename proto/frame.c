/* The frames of the --connect protocol: a type byte, a 4-byte big-endian
 * length, the payload. */
#include "proto/proto.h"

#include <errno.h>

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
