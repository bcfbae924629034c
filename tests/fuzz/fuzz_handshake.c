/* Fuzz a client's first bytes as the server reads them: the secret line
 * (checked with secret_equal against "s3cret" when the input's second
 * byte is odd, or no secret), then the hello, then frames or plain
 * lines, in reads of any length. What the parsers say was used must lie
 * in what was received. */
#include "proto/proto.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

enum state { AUTH, HELLO, PLAIN, FRAMED, REFUSED };

struct client {
	enum state	 state;
	struct sbuf	 raw;
	struct lines	 lines;
};

static const char	secret[] = "s3cret";

/* The secret line: on to the hello, or refused. */
static void
check_secret(struct client *c)
{
	struct handshake_line	l;
	size_t			len = sbuf_len(&c->raw);

	switch (handshake_secret(sbuf_ptr(&c->raw), len, &l)) {
	case HANDSHAKE_WAIT:
		return;
	case HANDSHAKE_LINE:
		if (l.used > len || l.len >= l.used)
			abort();
		if (l.hello && l.used != SERVE_HELLO_LEN)
			abort();
		c->state = secret_equal(sbuf_ptr(&c->raw), l.len, secret,
		    sizeof secret - 1) ? HELLO : REFUSED;
		sbuf_drop(&c->raw, l.used);
		return;
	case HANDSHAKE_TOO_LONG:
		if (len <= SERVE_LINE_MAX)
			abort();
		c->state = REFUSED;
		return;
	default:
		abort();
	}
}

/* Plain input, as serve/ takes it. */
static void
plain(struct client *c, const char *p, size_t n)
{
	const char	*line;
	size_t		 len;

	while (n > 0)
		if (lines_input(&c->lines, &p, &n) < 0)
			abort();
		else
			while (lines_next(&c->lines, &line, &len))
				if (len > SERVE_LINE_MAX)
					abort();
}

/* The hello: framed or plain. */
static void
check_hello(struct client *c)
{
	struct sbuf	raw;
	size_t		used = 0, len = sbuf_len(&c->raw);

	switch (handshake_hello(sbuf_ptr(&c->raw), len, &used)) {
	case HANDSHAKE_WAIT:
		return;
	case HANDSHAKE_FRAMED:
		if (used < SERVE_HELLO_LEN || used > len ||
		    memcmp(sbuf_ptr(&c->raw) + used - SERVE_HELLO_LEN,
		    SERVE_HELLO, SERVE_HELLO_LEN) != 0)
			abort();
		sbuf_drop(&c->raw, used);
		c->state = FRAMED;
		return;
	case HANDSHAKE_PLAIN:
		c->state = PLAIN;
		raw = c->raw;
		memset(&c->raw, 0, sizeof c->raw);
		plain(c, sbuf_ptr(&raw), sbuf_len(&raw));
		sbuf_free(&raw);
		return;
	default:
		abort();
	}
}

/* Take every complete frame. */
static void
frames(struct client *c)
{
	const char	*p;
	size_t		 n;
	int		 type, r;

	while ((r = frame_next(&c->raw, &type, &p, &n)) == 1)
		if (type == FRAME_LINE && n <= SERVE_LINE_MAX &&
		    lines_add(&c->lines, p, n) != 0)
			abort();
	if (r < 0)
		c->state = REFUSED;
}

/* One read from the client. */
static void
client_read(struct client *c, const char *p, size_t n)
{
	if (c->state == PLAIN) {
		plain(c, p, n);
		return;
	}
	if (sbuf_add(&c->raw, p, n) != 0)
		abort();
	if (c->state == AUTH)
		check_secret(c);
	if (c->state == HELLO)
		check_hello(c);
	if (c->state == FRAMED)
		frames(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client	 c = { 0 };
	struct reads	 r;
	char		*chunk;
	size_t		 n;

	if (size < 1)
		return 0;
	c.state = data[0] & 1 ? AUTH : HELLO;
	reads_start(&r, data + 1, size - 1);
	while (c.state != REFUSED && reads_next(&r, &chunk, &n)) {
		client_read(&c, chunk, n);
		free(chunk);
	}
	sbuf_free(&c.raw);
	lines_clear(&c.lines);
	return 0;
}
