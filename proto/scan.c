/* Ctrl-C in a client's bytes read ahead of the loop: the control thread
 * reads a served client while a statement holds the loop, acts on its
 * Ctrl-C at once and leaves the rest for the loop; the Ctrl-C it acted
 * on is rewritten so that the loop does not act on it again. Pure C. */
#include "proto/proto.h"

#include <string.h>

/* The frame under way after partial, the bytes the loop keeps of an
 * unfinished frame (conn-input.c leaves no whole frame unread). */
void
scan_frames(struct scan *s, const char *partial, size_t n)
{
	const unsigned char	*h = (const unsigned char *)partial;
	size_t			 len;

	memset(s, 0, sizeof *s);
	s->framed = 1;
	s->hdr_at = -1;
	if (n < FRAME_HEADER) {
		memcpy(s->hdr, partial, n);
		s->have = n;
		return;
	}
	len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 |
	    h[4];
	if (len > FRAME_MAX || n >= FRAME_HEADER + len)
		s->broken = 1;	/* the loop will find it is not ours */
	else
		s->skip = FRAME_HEADER + len - n;
}

/* Frames: pass over payloads, mark each whole 'I'. */
static int
scan_run_frames(struct scan *s, char *buf, size_t i, size_t to,
    size_t *past)
{
	size_t	k, len;
	int	found = 0;

	while (i < to && !s->broken) {
		if (s->skip > 0) {
			k = to - i < s->skip ? to - i : s->skip;
			i += k;
			s->skip -= k;
			continue;
		}
		if (s->have == 0)
			s->hdr_at = (long)i;
		s->hdr[s->have++] = (unsigned char)buf[i++];
		if (s->have < FRAME_HEADER)
			continue;
		s->have = 0;
		len = (size_t)s->hdr[1] << 24 | (size_t)s->hdr[2] << 16 |
		    (size_t)s->hdr[3] << 8 | s->hdr[4];
		if (len > FRAME_MAX)
			s->broken = 1;
		s->skip = len;
		if (s->hdr[0] == FRAME_INTERRUPT && s->hdr_at >= 0) {
			buf[s->hdr_at] = FRAME_TAKEN;
			*past = i + len;
			found++;
		}
	}
	return found;
}

/* Scan buf's bytes from..to (new since the last call); the number of
 * Ctrl-Cs found, rewritten; *past: the offset just after the last. */
int
scan_run(struct scan *s, char *buf, size_t from, size_t to, size_t *past)
{
	size_t	after;
	int	found;

	if (s->framed)
		return scan_run_frames(s, buf, from, to, past);
	if ((found = lines_scan(&s->telnet, buf + from, to - from, &after)))
		*past = from + after;
	return found;
}

/* The buffer's first n bytes were taken: a header begun in them is out
 * of reach, one begun after moves up. */
void
scan_taken(struct scan *s, size_t n)
{
	if (s->hdr_at >= 0 && (size_t)s->hdr_at >= n)
		s->hdr_at -= (long)n;
	else
		s->hdr_at = -1;
}

/* Plain: where the loop's parser is in a telnet command. */
void
scan_plain(struct scan *s, const struct lines *l)
{
	memset(s, 0, sizeof *s);
	s->telnet = l->telnet;
	s->hdr_at = -1;
}
