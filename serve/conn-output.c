/* What a client is sent: plain bytes or frames, through a buffer bounded
 * by SERVE_OUTPUT_MAX (a client too far behind is closed), flushed
 * without blocking; then our side shut once all is sent. */
#include "serve/serve-internal.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queue bytes to send as they are (plain) or as frames of type. */
static int
conn_queue(struct conn *c, int type, const char *p, size_t n)
{
	size_t	k;

	if (c->state != CONN_FRAMED)
		return sbuf_add(&c->out, p, n);
	do {
		k = n < CONN_CHUNK ? n : CONN_CHUNK;
		if (frame_add(&c->out, type, p, k) != 0)
			return -1;
		p += k;
		n -= k;
	} while (n > 0);
	return 0;
}

/* Send bytes to the client; a client that is too far behind is closed.
 * Errors end the connection, not the caller. */
void
conn_send(struct conn *c, int type, const char *p, size_t n)
{
	if (c->closed || c->shut)
		return;
	if (conn_queue(c, type, p, n) != 0 || conn_flush(c) != 0 ||
	    sbuf_len(&c->out) > SERVE_OUTPUT_MAX)
		conn_close_now(c);
}

/* Send a C string as console output. */
void
conn_say(struct conn *c, const char *s)
{
	conn_send(c, FRAME_OUTPUT, s, strlen(s));
}

/* Everything is sent: shut our side and close when the client's input
 * ends (so unread input cannot turn our close into a reset). */
void
conn_shut_write(struct conn *c)
{
	c->shut = 1;
	shutdown(c->fd, SHUT_WR);
	if (c->rdeof)
		conn_close_now(c);
}

/* Send what the buffer holds, without blocking; -1 when the client is
 * gone. Waits for room to write when the socket is full. */
int
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (sbuf_len(&c->out) > 0) {
		n = send(c->fd, sbuf_ptr(&c->out), sbuf_len(&c->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conn_watch(c, 1, 1) != 0)
				PyErr_Clear();
			return 0;
		}
		if (n < 0)
			return -1;
		sbuf_drop(&c->out, n);
	}
	conn_watch(c, 1, 0);
	if (c->ended && !c->shut)
		conn_shut_write(c);
	return 0;
}

/* The session ends (exit(), EOF, the program ends): a --connect client
 * is told, to tell it from a lost connection; plain clients see nothing. */
void
conn_bye(struct conn *c)
{
	if (c->state == CONN_FRAMED && !c->ended)
		conn_send(c, FRAME_BYE, "", 0);
}

/* Refuse the client with a one-line explanation, then close. */
void
conn_refuse(struct conn *c, const char *why)
{
	c->state = CONN_PLAIN;
	conn_say(c, why);
	c->ended = 1;
	if (!c->closed && sbuf_len(&c->out) == 0)
		conn_shut_write(c);
}

/* A line over SERVE_LINE_MAX: dropped, said so, prompt shown again. */
void
conn_too_long(struct conn *c)
{
	char	msg[128];

	snprintf(msg, sizeof msg, "apython: a line over %d bytes was "
	    "dropped\n", SERVE_LINE_MAX);
	conn_say(c, msg);
	if (c->prompt != NULL)
		conn_send(c, FRAME_PROMPT, c->prompt, c->promptlen);
}

/* The line the console waits for is fed: its prompt is no longer shown. */
void
conn_prompt_clear(struct conn *c)
{
	free(c->prompt);
	c->prompt = NULL;
	c->promptlen = 0;
}
