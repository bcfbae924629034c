/* What a client sends: the secret and hello first (proto/handshake.c),
 * then plain lines (proto/lines.c) or frames, read a few chunks at a
 * time, paused while enough lines wait for the console; and the end of
 * the client's input. */
#include "serve/serve-internal.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <string.h>

/* Plain input: telnet commands out, lines queued, events acted on. */
static int
conn_plain_input(struct conn *c, const char *p, size_t n)
{
	int	r;

	while (n > 0 && !c->closed) {
		if ((r = lines_input(&c->in, &p, &n)) < 0)
			return (PyErr_NoMemory(), -1);
		if (r == LINES_TOO_LONG)
			conn_too_long(c);
		else if (r == LINES_INTERRUPT && conn_interrupt(c) != 0)
			return -1;
	}
	return 0;
}

/* Framed input: act on every complete frame. */
static int
conn_frame_input(struct conn *c)
{
	const char	*p;
	size_t		 n;
	int		 type, r = 0;

	/* Closed on entry (sending the prompt closed it): nothing to do. */
	while (!c->closed && (r = frame_next(&c->raw, &type, &p, &n)) == 1) {
		switch (type) {
		case FRAME_LINE:
			if (n > SERVE_LINE_MAX)
				conn_too_long(c);
			else if (lines_add(&c->in, p, n) != 0)
				return (PyErr_NoMemory(), -1);
			break;
		case FRAME_EOF:
			/* Ctrl-D at input()'s prompt ends that input only. */
			if (c->asking)
				c->ask_eof = 1;
			else
				c->eof = 1;
			break;
		case FRAME_INTERRUPT:
			if (conn_interrupt(c) != 0)
				return -1;
			break;
		case FRAME_COMPLETE:
			if (conn_complete(c, p, n) != 0)
				return -1;
			break;
		}
	}
	if (r < 0)
		conn_close_now(c);	/* not our client */
	return 0;
}

/* The client turned out plain: what it sent so far is lines. */
static int
conn_become_plain(struct conn *c)
{
	struct sbuf	raw = c->raw;
	int		r;

	c->state = CONN_PLAIN;
	memset(&c->raw, 0, sizeof c->raw);
	r = conn_plain_input(c, sbuf_ptr(&raw), sbuf_len(&raw));
	sbuf_free(&raw);
	return r;
}

/* The client is apython --connect: answer, show the prompt again as a
 * frame, and read frames from now on. */
static int
conn_become_framed(struct conn *c)
{
	if (sbuf_add(&c->out, SERVE_HELLO, SERVE_HELLO_LEN) != 0)
		return (PyErr_NoMemory(), -1);
	c->state = CONN_FRAMED;
	/* An empty entry: statements come for the client's history (older
	 * clients pass over a frame type they do not know). An interface's
	 * client keeps the lines it sends. */
	if (!c->iface)
		conn_send(c, FRAME_HISTORY, "", 0);
	if (c->prompt != NULL)
		conn_send(c, FRAME_PROMPT, c->prompt, c->promptlen);
	return conn_frame_input(c);
}

/* The secret line: the client gets its console, or is refused. */
static int
conn_check_secret(struct conn *c)
{
	struct handshake_line	l;
	int			ok;

	switch (handshake_secret(sbuf_ptr(&c->raw), sbuf_len(&c->raw), &l)) {
	case HANDSHAKE_WAIT:
		return 0;
	case HANDSHAKE_LINE:
		break;
	default:
		conn_refuse(c, "apython: refused: wrong secret\n");
		return 0;
	}
	ok = c->server != NULL && server_check_secret(c->server,
	    sbuf_ptr(&c->raw), l.len);
	sbuf_drop(&c->raw, l.used);
	if (!ok) {
		conn_refuse(c, l.hello ? "apython: refused: this console "
		    "needs a secret (APYTHON_SECRET)\n" :
		    "apython: refused: wrong secret\n");
		return 0;
	}
	c->state = CONN_HELLO;
	conn_cancel_call(&c->lingering);
	return conn_start_console(c);
}

/* The first lines: the secret, if one is set; then the --connect hello. */
static int
conn_handshake(struct conn *c)
{
	size_t	used;

	if (c->closed || c->ended)
		return 0;
	if (c->state == CONN_AUTH) {
		if (conn_check_secret(c) != 0)
			return -1;
		if (c->state == CONN_AUTH)
			return 0;	/* waiting */
		if (c->closed || c->ended)
			return 0;
	}
	switch (handshake_hello(sbuf_ptr(&c->raw), sbuf_len(&c->raw), &used)) {
	case HANDSHAKE_WAIT:
		return 0;
	case HANDSHAKE_FRAMED:
		sbuf_drop(&c->raw, used);
		return conn_become_framed(c);
	default:
		return conn_become_plain(c);
	}
}

/* Bytes from the client. */
static int
conn_input(struct conn *c, const char *p, size_t n)
{
	if (c->ended)
		return 0;	/* closing: input is not wanted */
	if (c->state == CONN_PLAIN)
		return conn_plain_input(c, p, n);
	if (sbuf_add(&c->raw, p, n) != 0)
		return (PyErr_NoMemory(), -1);
	if (c->state == CONN_FRAMED)
		return conn_frame_input(c);
	return conn_handshake(c);
}

/* True when the client is gone: a unix socket closed entirely (not just
 * half-closed), or a TCP peer that reset (keepalive finds those). */
int
conn_hung_up(struct conn *c)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

/* A plain client's input ended while its console goes on: TCP probes
 * the peer, and a look now and then closes the client once it is gone. */
static int
conn_probe_start(struct conn *c)
{
	int	one = 1, idle = 10, interval = 5, count = 3;

	if (setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) ==
	    0) {
		setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
		setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval,
		    sizeof interval);
		setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &count,
		    sizeof count);
	}
	return conn_call_later(c, &c->probing, CONN_PROBE, "_probe");
}

/* The client's input ended. A --connect client that closes is gone (its
 * statement is cancelled); a plain client's lines run, then it ends. */
static int
conn_input_ended(struct conn *c)
{
	c->eof = c->rdeof = 1;
	conn_watch(c, 0, 0);
	if (c->shut || (c->ended && sbuf_len(&c->out) == 0)) {
		conn_close_now(c);
		return 0;
	}
	if (c->ended)
		return 0;
	if (c->state == CONN_AUTH || c->state == CONN_FRAMED ||
	    conn_hung_up(c)) {
		conn_close_now(c);
		return 0;
	}
	if (c->state == CONN_HELLO && conn_become_plain(c) != 0)
		return -1;
	if (lines_end(&c->in) != 0)
		return (PyErr_NoMemory(), -1);
	return conn_probe_start(c);
}

/* What the control thread read ahead while a statement held the loop
 * (conn-ctl.c): it comes before anything read now; all of it, or what
 * came up to the client's last Ctrl-C. */
int
conn_read_ahead(struct conn *c, int upto_interrupt)
{
	struct sbuf	b;
	int		r = 0;

	if (conn_ctl_take(c, &b, upto_interrupt) != 0)
		return (PyErr_NoMemory(), -1);
	if (sbuf_len(&b) > 0)
		r = conn_input(c, sbuf_ptr(&b), sbuf_len(&b));
	sbuf_free(&b);
	return r;
}

/* The loop says the socket is readable: read a few chunks. */
int
conn_read(struct conn *c)
{
	char	 chunk[CONN_CHUNK];
	ssize_t	 n;
	int	 i;

	if (conn_read_ahead(c, 0) != 0)
		return -1;
	for (i = 0; i < CONN_READS && c->reading && !c->closed; i++) {
		n = recv(c->fd, chunk, sizeof chunk, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_close_now(c);	/* reset */
			return 0;
		}
		if (n == 0)
			return conn_input_ended(c);
		c->reads++;	/* bytes the control thread did not see */
		if (conn_input(c, chunk, n) != 0)
			return -1;
	}
	if (!c->closed && c->reading && lines_queued(&c->in) >=
	    SERVE_LINE_MAX) {
		c->paused = 1;
		conn_watch(c, 0, 0);
	}
	return 0;
}
