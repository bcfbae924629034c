/* Fuzz the telnet filter and line splitter: a plain client's bytes, in
 * reads of any length, give the same lines and events as in one read;
 * no line holds a newline or runs over SERVE_LINE_MAX. */
#include "proto/proto.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

/* The lines and events seen, in order: 'L', a line's length and its
 * bytes; 'T' (too long) or 'I' (interrupt) for an event. */
struct seen {
	struct sbuf	log;
};

static void
seen_add(struct seen *s, const void *p, size_t n)
{
	if (sbuf_add(&s->log, p, n) != 0)
		abort();
}

/* Take the lines queued in l into s. */
static void
take_lines(struct lines *l, struct seen *s)
{
	const char	*p;
	size_t		 n;

	while (lines_next(l, &p, &n)) {
		if (n > SERVE_LINE_MAX || memchr(p, '\n', n) != NULL)
			abort();
		seen_add(s, "L", 1);
		seen_add(s, &n, sizeof n);
		seen_add(s, p, n);
	}
}

/* Feed one read to l, acting on events as serve/ does. */
static void
feed(struct lines *l, const char *p, size_t n, struct seen *s)
{
	int	r;

	while (n > 0) {
		if ((r = lines_input(l, &p, &n)) < 0)
			abort();
		/* Lines before the event are taken first: which of them the
		 * console has taken by a Ctrl-C depends on timing. */
		take_lines(l, s);
		if (r == LINES_TOO_LONG)
			seen_add(s, "T", 1);
		else if (r == LINES_INTERRUPT) {
			seen_add(s, "I", 1);
			lines_clear(l);
		} else if (n != 0)
			abort();
		if (lines_held(l) > SERVE_LINE_MAX + lines_queued(l))
			abort();
	}
}

/* Feed a whole input, in reads as r says; the end of input last. */
static void
feed_all(struct reads *r, struct seen *s)
{
	struct lines	 l = { 0 };
	char		*chunk;
	size_t		 n;

	while (reads_next(r, &chunk, &n)) {
		feed(&l, chunk, n, s);
		free(chunk);
	}
	if (lines_end(&l) != 0)
		abort();
	take_lines(&l, s);
	if (lines_held(&l) != 0)
		abort();
	lines_clear(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen	split = { 0 }, whole = { 0 };
	struct reads	r;

	reads_start(&r, data, size);
	feed_all(&r, &split);
	reads_start(&r, data, size);
	r.step = (size_t)-1;
	feed_all(&r, &whole);
	if (sbuf_len(&split.log) != sbuf_len(&whole.log) ||
	    memcmp(sbuf_ptr(&split.log), sbuf_ptr(&whole.log),
	    sbuf_len(&whole.log)) != 0)
		abort();
	sbuf_free(&split.log);
	sbuf_free(&whole.log);
	return 0;
}
