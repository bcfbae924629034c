/* A client's first bytes: the secret line when the server has a secret
 * (compared by the caller, with secret_equal), then SERVE_HELLO when the
 * client is apython --connect. Pure C: the caller keeps the bytes and
 * drops what these say was used. */
#include "proto/proto.h"

#include <string.h>

/* Whether p (n bytes) starts with the hello. */
static int
handshake_is_hello(const char *p, size_t n)
{
	return n >= SERVE_HELLO_LEN && memcmp(p, SERVE_HELLO,
	    SERVE_HELLO_LEN) == 0;
}

/* The secret line at the front of p: HANDSHAKE_LINE and *l, or
 * HANDSHAKE_WAIT, or HANDSHAKE_TOO_LONG (no newline in SERVE_LINE_MAX). */
enum handshake_result
handshake_secret(const char *p, size_t n, struct handshake_line *l)
{
	const char	*nl;
	size_t		 len;

	if ((nl = memchr(p, '\n', n)) == NULL)
		return n <= SERVE_LINE_MAX ? HANDSHAKE_WAIT : HANDSHAKE_TOO_LONG;
	l->used = nl + 1 - p;
	l->hello = l->used == SERVE_HELLO_LEN && handshake_is_hello(p, n);
	len = nl - p;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	l->len = len;
	return HANDSHAKE_LINE;
}

/* What the client is, from the bytes at the front of p: HANDSHAKE_FRAMED
 * with *used (the hello, after a secret line this server does not need),
 * HANDSHAKE_PLAIN, or HANDSHAKE_WAIT. Decided at the first line: a plain
 * client may wait for an answer to it. */
enum handshake_result
handshake_hello(const char *p, size_t n, size_t *used)
{
	const char	*nl;
	size_t		 line;

	if ((nl = memchr(p, '\n', n)) == NULL)
		return n <= SERVE_LINE_MAX ? HANDSHAKE_WAIT : HANDSHAKE_PLAIN;
	line = nl + 1 - p;
	if (line == SERVE_HELLO_LEN && handshake_is_hello(p, n)) {
		*used = SERVE_HELLO_LEN;
		return HANDSHAKE_FRAMED;
	}
	/* A secret this server does not need may come first. */
	if (!handshake_is_hello(nl + 1, n - line))
		return HANDSHAKE_PLAIN;
	*used = line + SERVE_HELLO_LEN;
	return HANDSHAKE_FRAMED;
}
