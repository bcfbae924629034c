/* One client of a console server: reads its lines (telnet bytes, over-long
 * lines, the --connect handshake and frames), sends what its console
 * writes through a bounded buffer, and closes without losing either. */
#include "serve/serve-internal.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console/console.h"

#define CONN_LINGER	5.0	/* seconds a closing client may take */
#define CONN_AUTH_TIME	60.0	/* seconds to send the secret */
#define CONN_PROBE	5.0	/* seconds between looks at a quiet client */
#define CONN_CHUNK	65536	/* bytes read at a time */
#define CONN_READS	8	/* reads per wake-up, for fairness */

enum conn_state {
	CONN_AUTH,		/* the first line must be the secret */
	CONN_HELLO,		/* the first line says: plain or framed */
	CONN_PLAIN,		/* lines, as nc or telnet send them */
	CONN_FRAMED		/* frames, from apython --connect */
};

/* Telnet: IAC, its commands, and what we do with them. */
enum telnet_state { TN_DATA, TN_IAC, TN_OPTION, TN_SB, TN_SB_IAC };
#define TN_IAC_BYTE	255
#define TN_IP		244	/* interrupt process: Ctrl-C */
#define TN_SB_BYTE	250
#define TN_SE		240
#define TN_WILL		251	/* WILL, WONT, DO, DONT take an option */

struct conn {
	PyObject_HEAD
	PyObject		*server;	/* borrowed; NULL once forgotten */
	PyObject		*loop;
	PyObject		*session;
	PyObject		*feeding;	/* handle: a feed is due */
	PyObject		*lingering;	/* handle: a deadline to close */
	PyObject		*probing;	/* handle: the next look */
	int			 fd;
	enum conn_state		 state;
	enum telnet_state	 telnet;
	int			 reading;	/* the loop watches input */
	int			 writing;	/* ... and room for output */
	int			 paused;	/* enough input is queued */
	int			 eof;		/* no line after those queued */
	int			 eof_fed;
	int			 rdeof;		/* the socket's input ended */
	int			 ended;		/* send what is left, close */
	int			 shut;		/* output shut down */
	int			 closed;
	int			 discarding;	/* an over-long line's rest */
	int			 wanted;	/* lines the console asked for */
	size_t			 partial;	/* unfinished line, end of in */
	struct sbuf		 in;		/* lines, '\n' after each */
	struct sbuf		 raw;		/* bytes not understood yet */
	struct sbuf		 out;		/* bytes not sent yet */
	char			*prompt;	/* shown, awaiting its line */
	size_t			 promptlen;
};

static PyTypeObject conn_type;
static const struct console_peer conn_peer;

#define C(o)	((struct conn *)(o))

static void	conn_drop(struct conn *);
static int	conn_flush(struct conn *);

/* Watch for input (write 0) or room to write (1), or stop (on 0). */
static int
conn_watch(struct conn *c, int write, int on)
{
	int		*flag = write ? &c->writing : &c->reading;
	PyObject	*cb, *r;

	if (*flag == on || c->loop == NULL)
		return 0;
	if (!on) {
		r = PyObject_CallMethod(c->loop, write ? "remove_writer" :
		    "remove_reader", "i", c->fd);
		if (r == NULL)
			PyErr_Clear();	/* the loop is closed: nothing left */
		Py_XDECREF(r);
		*flag = 0;
		return 0;
	}
	cb = PyObject_GetAttrString((PyObject *)c, write ? "_writable" :
	    "_readable");
	if (cb == NULL)
		return -1;
	r = PyObject_CallMethod(c->loop, write ? "add_writer" : "add_reader",
	    "iO", c->fd, cb);
	Py_DECREF(cb);
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	*flag = 1;
	return 0;
}

/* Cancel a loop handle, if any. */
static void
conn_cancel(PyObject **handle)
{
	PyObject	*r;

	if (*handle == NULL)
		return;
	if ((r = PyObject_CallMethod(*handle, "cancel", NULL)) == NULL)
		PyErr_Clear();
	Py_XDECREF(r);
	Py_CLEAR(*handle);
}

/* Call the method name of ours soon (delay < 0) or after delay seconds. */
static int
conn_later(struct conn *c, PyObject **handle, double delay, const char *name)
{
	PyObject	*cb;

	if (*handle != NULL || c->loop == NULL)
		return 0;
	if ((cb = PyObject_GetAttrString((PyObject *)c, name)) == NULL)
		return -1;
	if (delay < 0)
		*handle = PyObject_CallMethod(c->loop, "call_soon", "O", cb);
	else
		*handle = PyObject_CallMethod(c->loop, "call_later", "dO",
		    delay, cb);
	Py_DECREF(cb);
	return *handle == NULL ? -1 : 0;
}

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

/* Send bytes to the client; a client that is too far behind is dropped.
 * Errors end the connection, not the caller. */
static void
conn_send(struct conn *c, int type, const char *p, size_t n)
{
	if (c->closed || c->shut)
		return;
	if (conn_queue(c, type, p, n) != 0 || conn_flush(c) != 0 ||
	    sbuf_len(&c->out) > SERVE_OUTPUT_MAX)
		conn_drop(c);
}

/* Send a C string as console output. */
static void
conn_say(struct conn *c, const char *s)
{
	conn_send(c, FRAME_OUTPUT, s, strlen(s));
}

/* Everything is sent: shut our side and close when the client's input
 * ends (so unread input cannot turn our close into a reset). */
static void
conn_shutdown(struct conn *c)
{
	c->shut = 1;
	shutdown(c->fd, SHUT_WR);
	if (c->rdeof)
		conn_drop(c);
}

/* Send what the buffer holds, without blocking; -1 when the client is
 * gone. Waits for room to write when the socket is full. */
static int
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
		conn_shutdown(c);
	return 0;
}

/* The line the console waits for is fed: its prompt is no longer shown. */
static void
conn_prompt_used(struct conn *c)
{
	free(c->prompt);
	c->prompt = NULL;
	c->promptlen = 0;
}

/* Hand queued lines to the console, one per line it asked for; at the
 * end of input, EOF after the last. */
static int
conn_feed(struct conn *c)
{
	PyObject	*session;
	char		*p, *nl;
	size_t		 n, len;
	int		 r;

	while (c->wanted > 0 && c->session != NULL && !c->closed) {
		p = sbuf_ptr(&c->in);
		len = sbuf_len(&c->in);
		if ((nl = memchr(p, '\n', len)) != NULL) {
			n = nl - p;
			if (n > 0 && p[n - 1] == '\r')
				n--;
			c->wanted--;
			conn_prompt_used(c);
			/* Dropped first (p stays valid: dropping frees nothing),
			 * as feeding the line runs Python that may close us. */
			sbuf_drop(&c->in, nl + 1 - p);
			session = Py_NewRef(c->session);
			r = console_remote_line(session, p, n);
			Py_DECREF(session);
			if (r != 0)
				return -1;
		} else if (c->eof && !c->eof_fed) {
			c->eof_fed = 1;
			c->wanted = 0;
			session = Py_NewRef(c->session);
			r = console_remote_eof(session);
			Py_DECREF(session);
			return r;
		} else
			break;
	}
	if (c->paused && sbuf_len(&c->in) < SERVE_LINE_MAX) {
		c->paused = 0;
		return conn_watch(c, 0, 1);
	}
	return 0;
}

/* Ctrl-C from the client: type-ahead is dropped with the statement. */
static int
conn_interrupt(struct conn *c)
{
	PyObject	*session;
	int		 r;

	sbuf_free(&c->in);
	c->partial = 0;
	if (c->session == NULL)
		return 0;
	session = Py_NewRef(c->session);
	r = console_remote_interrupt(session);
	Py_DECREF(session);
	return r;
}

/* A line over SERVE_LINE_MAX: dropped, said so, prompt shown again. */
static void
conn_too_long(struct conn *c)
{
	char	msg[128];

	snprintf(msg, sizeof msg, "apython: a line over %d bytes was "
	    "dropped\n", SERVE_LINE_MAX);
	conn_say(c, msg);
	if (c->prompt != NULL)
		conn_send(c, FRAME_PROMPT, c->prompt, c->promptlen);
}

/* Add text (telnet bytes gone) to the queued lines, keeping every line
 * under SERVE_LINE_MAX. */
static int
conn_add_text(struct conn *c, const char *p, size_t n)
{
	const char	*nl;
	size_t		 k, line;

	while (n > 0 && !c->closed) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		line = nl != NULL ? k - 1 : k;
		if (c->discarding || c->partial + line > SERVE_LINE_MAX) {
			if (!c->discarding) {
				c->in.end -= c->partial;
				c->partial = 0;
				conn_too_long(c);
			}
			c->discarding = nl == NULL;
		} else {
			if (sbuf_add(&c->in, p, k) != 0)
				return (PyErr_NoMemory(), -1);
			c->partial = nl != NULL ? 0 : c->partial + k;
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* Plain input: strip telnet negotiation (IAC IP is Ctrl-C), queue lines. */
static int
conn_plain(struct conn *c, const char *p, size_t n)
{
	unsigned char	 ch;
	char		*text;
	size_t		 i, m = 0;
	int		 r = 0;

	if ((text = malloc(n + 1)) == NULL)
		return (PyErr_NoMemory(), -1);
	for (i = 0; i < n && r == 0; i++) {
		ch = p[i];
		switch (c->telnet) {
		case TN_DATA:
			if (ch == TN_IAC_BYTE) {
				c->telnet = TN_IAC;
				continue;
			}
			break;
		case TN_IAC:
			c->telnet = TN_DATA;
			if (ch == TN_IAC_BYTE)
				break;
			if (ch == TN_IP) {
				if ((r = conn_add_text(c, text, m)) == 0)
					r = conn_interrupt(c);
				m = 0;
				continue;
			}
			if (ch >= TN_WILL && ch < TN_IAC_BYTE)
				c->telnet = TN_OPTION;
			else if (ch == TN_SB_BYTE)
				c->telnet = TN_SB;
			if (ch >= TN_SE)
				continue;
			/* Not telnet: both bytes are text. */
			text[m++] = (char)TN_IAC_BYTE;
			break;
		case TN_OPTION:
			c->telnet = TN_DATA;
			continue;
		case TN_SB:
			if (ch == TN_IAC_BYTE)
				c->telnet = TN_SB_IAC;
			continue;
		case TN_SB_IAC:
			c->telnet = ch == TN_SE ? TN_DATA : TN_SB;
			continue;
		}
		text[m++] = ch;
	}
	if (r == 0)
		r = conn_add_text(c, text, m);
	free(text);
	return r;
}

/* Tab from the client (the line before the word, NUL, the word): the
 * completions of the word, '\n' apart. */
static int
conn_complete(struct conn *c, const char *p, size_t n)
{
	PyObject	*session, *list, *sep, *all = NULL, *b = NULL;
	const char	*word;
	size_t		 before = 0;

	if (c->session == NULL)
		return 0;
	if ((word = memchr(p, '\0', n)) != NULL)
		before = word - p;
	word = word != NULL ? word + 1 : p;
	/* Completing runs Python (__dir__, __getattr__): hold the session. */
	session = Py_NewRef(c->session);
	list = console_remote_complete(session, p, before, word,
	    n - (word - p));
	Py_DECREF(session);
	if (list == NULL)
		PyErr_Clear();	/* nothing to offer */
	else if ((sep = PyUnicode_FromString("\n")) != NULL) {
		all = PyUnicode_Join(sep, list);
		Py_DECREF(sep);
	}
	Py_XDECREF(list);
	if (all != NULL) {
		b = PyUnicode_AsEncodedString(all, "utf-8", "backslashreplace");
		Py_DECREF(all);
	}
	if (b == NULL && list != NULL)
		return -1;
	if (b != NULL && PyBytes_GET_SIZE(b) < FRAME_MAX)
		conn_send(c, FRAME_MATCHES, PyBytes_AS_STRING(b),
		    PyBytes_GET_SIZE(b));
	else
		conn_send(c, FRAME_MATCHES, "", 0);
	Py_XDECREF(b);
	return 0;
}

/* Framed input: act on every complete frame. */
static int
conn_frames(struct conn *c)
{
	const char	*p;
	size_t		 n;
	int		 type, r = 0;

	/* Closed on entry (sending the prompt dropped it): nothing to do. */
	while (!c->closed && (r = frame_next(&c->raw, &type, &p, &n)) == 1) {
		switch (type) {
		case FRAME_LINE:
			if (n > SERVE_LINE_MAX)
				conn_too_long(c);
			else if (sbuf_add(&c->in, p, n) != 0 ||
			    sbuf_add(&c->in, "\n", 1) != 0)
				return (PyErr_NoMemory(), -1);
			break;
		case FRAME_EOF:
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
		conn_drop(c);	/* not our client */
	return 0;
}

/* Start the client's console on the connection's loop. */
static int
conn_start_session(struct conn *c)
{
	if (c->session != NULL || c->server == NULL)
		return 0;
	c->session = console_remote_new(&conn_peer, (PyObject *)c,
	    server_banner(c->server), server_locals(c->server));
	if (c->session == NULL)
		return -1;
	if (c->loop == NULL)
		return 0;
	return console_remote_start(c->session, c->loop);
}

/* The client turned out plain: what it sent so far is lines. */
static int
conn_go_plain(struct conn *c)
{
	struct sbuf	raw = c->raw;
	int		r;

	c->state = CONN_PLAIN;
	memset(&c->raw, 0, sizeof c->raw);
	r = conn_plain(c, sbuf_ptr(&raw), sbuf_len(&raw));
	sbuf_free(&raw);
	return r;
}

/* The client is apython --connect: answer, show the prompt again as a
 * frame, and read frames from now on. */
static int
conn_go_framed(struct conn *c)
{
	if (sbuf_add(&c->out, SERVE_HELLO, SERVE_HELLO_LEN) != 0)
		return (PyErr_NoMemory(), -1);
	c->state = CONN_FRAMED;
	if (c->prompt != NULL)
		conn_send(c, FRAME_PROMPT, c->prompt, c->promptlen);
	return conn_frames(c);
}

/* Refuse the client with a one-line explanation, then close. */
static void
conn_refuse(struct conn *c, const char *why)
{
	c->state = CONN_PLAIN;
	conn_say(c, why);
	c->ended = 1;
	if (!c->closed && sbuf_len(&c->out) == 0)
		conn_shutdown(c);
}

/* The first line: the secret, if one is set; then the --connect hello. */
static int
conn_first_lines(struct conn *c)
{
	const char	*p, *nl;
	size_t		 n, len;
	int		 hello, ok;

	while (!c->closed && !c->ended &&
	    (c->state == CONN_AUTH || c->state == CONN_HELLO)) {
		p = sbuf_ptr(&c->raw);
		len = sbuf_len(&c->raw);
		if ((nl = memchr(p, '\n', len)) == NULL) {
			if (len <= SERVE_LINE_MAX)
				return 0;
			if (c->state == CONN_HELLO)
				return conn_go_plain(c);
			conn_refuse(c, "apython: refused: wrong secret\n");
			return 0;
		}
		n = nl - p;
		hello = (size_t)(nl + 1 - p) == SERVE_HELLO_LEN &&
		    memcmp(p, SERVE_HELLO, SERVE_HELLO_LEN) == 0;
		if (c->state == CONN_HELLO) {
			/* A secret this server does not need may come first. */
			if (!hello && (len - (nl + 1 - p) < SERVE_HELLO_LEN ||
			    memcmp(nl + 1, SERVE_HELLO, SERVE_HELLO_LEN) != 0))
				return conn_go_plain(c);
			if (!hello)
				sbuf_drop(&c->raw, nl + 1 - p);
			sbuf_drop(&c->raw, SERVE_HELLO_LEN);
			return conn_go_framed(c);
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		ok = c->server != NULL && server_check_secret(c->server, p, n);
		sbuf_drop(&c->raw, nl + 1 - p);
		if (!ok) {
			conn_refuse(c, hello ? "apython: refused: this console "
			    "needs a secret (APYTHON_SECRET)\n" :
			    "apython: refused: wrong secret\n");
			return 0;
		}
		c->state = CONN_HELLO;
		conn_cancel(&c->lingering);
		if (conn_start_session(c) != 0)
			return -1;
	}
	return 0;
}

/* Bytes from the client. */
static int
conn_input(struct conn *c, const char *p, size_t n)
{
	if (c->ended)
		return 0;	/* closing: input is not wanted */
	if (c->state == CONN_PLAIN)
		return conn_plain(c, p, n);
	if (sbuf_add(&c->raw, p, n) != 0)
		return (PyErr_NoMemory(), -1);
	if (c->state == CONN_FRAMED)
		return conn_frames(c);
	return conn_first_lines(c);
}

/* True when the client is gone: a unix socket closed entirely (not just
 * half-closed), or a TCP peer that reset (keepalive finds those). */
static int
conn_hung_up(struct conn *c)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

/* A plain client's input ended while its console goes on: TCP probes
 * the peer, and a look now and then drops the client once it is gone. */
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
	return conn_later(c, &c->probing, CONN_PROBE, "_probe");
}

/* The client's input ended. A --connect client that closes is gone (its
 * statement is cancelled); a plain client's lines run, then it ends. */
static int
conn_input_end(struct conn *c)
{
	c->eof = c->rdeof = 1;
	conn_watch(c, 0, 0);
	if (c->shut || (c->ended && sbuf_len(&c->out) == 0)) {
		conn_drop(c);
		return 0;
	}
	if (c->ended)
		return 0;
	if (c->state == CONN_AUTH || c->state == CONN_FRAMED ||
	    conn_hung_up(c)) {
		conn_drop(c);
		return 0;
	}
	if (c->state == CONN_HELLO && conn_go_plain(c) != 0)
		return -1;
	if (c->partial > 0 && !c->discarding) {
		if (sbuf_add(&c->in, "\n", 1) != 0)
			return (PyErr_NoMemory(), -1);
		c->partial = 0;
	}
	return conn_probe_start(c);
}

/* The loop says the socket is readable: read a few chunks. */
static int
conn_read(struct conn *c)
{
	char	 chunk[CONN_CHUNK];
	ssize_t	 n;
	int	 i;

	for (i = 0; i < CONN_READS && c->reading && !c->closed; i++) {
		n = recv(c->fd, chunk, sizeof chunk, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_drop(c);	/* reset */
			return 0;
		}
		if (n == 0)
			return conn_input_end(c);
		if (conn_input(c, chunk, n) != 0)
			return -1;
	}
	if (!c->closed && c->reading &&
	    sbuf_len(&c->in) - c->partial >= SERVE_LINE_MAX) {
		c->paused = 1;
		conn_watch(c, 0, 0);
	}
	return 0;
}

/* End a callback: an unexpected error drops the client, not the loop. */
static PyObject *
conn_done(struct conn *c, int r)
{
	if (r != 0) {
		PyErr_WriteUnraisable((PyObject *)c);
		conn_drop(c);
	}
	Py_DECREF(c);
	Py_RETURN_NONE;
}

/* _readable(): input (or its end) is there. */
static PyObject *
conn_readable(PyObject *self, PyObject *unused)
{
	struct conn	*c = C(Py_NewRef(self));
	int		 r;

	(void)unused;
	r = conn_read(c);
	if (r == 0 && !c->closed)
		r = conn_feed(c);
	return conn_done(c, r);
}

/* _writable(): there is room to send more. */
static PyObject *
conn_writable(PyObject *self, PyObject *unused)
{
	struct conn	*c = C(Py_NewRef(self));

	(void)unused;
	if (!c->closed && conn_flush(c) != 0)
		conn_drop(c);
	return conn_done(c, 0);
}

/* _feed(): the console asked for lines. */
static PyObject *
conn_feed_soon(PyObject *self, PyObject *unused)
{
	struct conn	*c = C(Py_NewRef(self));

	(void)unused;
	Py_CLEAR(c->feeding);
	return conn_done(c, c->closed ? 0 : conn_feed(c));
}

/* _probe(): drop the client if it is gone, else look again later. */
static PyObject *
conn_probe(PyObject *self, PyObject *unused)
{
	struct conn	*c = C(Py_NewRef(self));
	int		 r = 0;

	(void)unused;
	Py_CLEAR(c->probing);
	if (c->closed || c->ended)
		return conn_done(c, 0);
	if (conn_hung_up(c))
		conn_drop(c);
	else
		r = conn_later(c, &c->probing, CONN_PROBE, "_probe");
	return conn_done(c, r);
}

/* _linger(): the client took too long to send the secret, or to take
 * its last output. */
static PyObject *
conn_linger(PyObject *self, PyObject *unused)
{
	struct conn	*c = C(Py_NewRef(self));

	(void)unused;
	Py_CLEAR(c->lingering);
	conn_drop(c);
	return conn_done(c, 0);
}

/* Peer callback: the console writes text. */
static int
conn_peer_write(PyObject *self, const char *p, size_t n)
{
	conn_send(C(self), FRAME_OUTPUT, p, n);
	return 0;
}

/* Peer callback: the console shows a prompt and wants a line. */
static int
conn_peer_prompt(PyObject *self, const char *p, size_t n)
{
	struct conn	*c = C(self);
	int		 r = 0;

	if (c->closed)
		return 0;
	conn_prompt_used(c);
	if ((c->prompt = malloc(n + 1)) == NULL)
		return (PyErr_NoMemory(), -1);
	memcpy(c->prompt, p, n);
	c->promptlen = n;
	/* Sending may drop the connection, and with it its last reference. */
	Py_INCREF(self);
	conn_send(c, FRAME_PROMPT, p, n);
	if (!c->closed) {
		c->wanted++;
		r = conn_later(c, &c->feeding, -1, "_feed");
	}
	Py_DECREF(self);
	return r;
}

/* Peer callback: the console is over: close once the output is sent. */
static void
conn_peer_end(PyObject *self)
{
	struct conn	*c = C(self);

	if (c->closed || c->ended)
		return;
	c->ended = 1;
	sbuf_free(&c->in);
	c->partial = 0;
	/* Shutting down may drop the connection and its last reference. */
	Py_INCREF(self);
	if (sbuf_len(&c->out) == 0)
		conn_shutdown(c);
	/* Read (and drop) what comes until the client closes. */
	c->paused = 0;
	if (!c->closed && (conn_later(c, &c->lingering, CONN_LINGER,
	    "_linger") != 0 || (!c->rdeof && conn_watch(c, 0, 1) != 0)))
		PyErr_WriteUnraisable(self);
	Py_DECREF(self);
}

static const struct console_peer conn_peer = {
	conn_peer_write, conn_peer_prompt, conn_peer_end
};

/* Close the connection now; a console that has not ended is stopped
 * (its running statement cancelled). */
static void
conn_drop(struct conn *c)
{
	PyObject	*self = (PyObject *)c, *session;

	if (c->closed)
		return;
	c->closed = 1;
	Py_INCREF(self);
	conn_watch(c, 0, 0);
	conn_watch(c, 1, 0);
	conn_cancel(&c->feeding);
	conn_cancel(&c->lingering);
	conn_cancel(&c->probing);
	close(c->fd);
	c->fd = -1;
	sbuf_free(&c->in);
	sbuf_free(&c->raw);
	sbuf_free(&c->out);
	conn_prompt_used(c);
	if ((session = c->session) != NULL) {
		c->session = NULL;
		if (!c->ended)
			console_remote_close(session);
		Py_DECREF(session);
	}
	if (c->server != NULL)
		server_forget(c->server, self);
	c->server = NULL;
	Py_CLEAR(c->loop);
	Py_DECREF(self);
}

/* Close the connection now, cancelling its console's statement. */
void
conn_close(PyObject *self)
{
	conn_drop(C(self));
}

/* Run on loop: read, send, and start (or move) the console. */
int
conn_attach(PyObject *self, PyObject *loop)
{
	struct conn	*c = C(self);

	if (c->closed)
		return 0;
	Py_XSETREF(c->loop, Py_NewRef(loop));
	if (!c->rdeof && !c->paused && conn_watch(c, 0, 1) != 0)
		return -1;
	if (sbuf_len(&c->out) > 0 && conn_flush(c) != 0) {
		conn_drop(c);
		return 0;
	}
	if (c->session != NULL) {
		if (console_remote_start(c->session, loop) != 0)
			return -1;
	} else if (c->state == CONN_HELLO && conn_start_session(c) != 0)
		return -1;
	if (!c->closed && (c->ended || c->state == CONN_AUTH) &&
	    conn_later(c, &c->lingering, c->ended ? CONN_LINGER :
	    CONN_AUTH_TIME, "_linger") != 0)
		return -1;
	if (c->rdeof && !c->ended && !c->closed && conn_later(c, &c->probing,
	    CONN_PROBE, "_probe") != 0)
		return -1;
	if (c->wanted > 0 && !c->closed)
		return conn_later(c, &c->feeding, -1, "_feed");
	return 0;
}

/* The loop closes: stop watching; the console leaves it too. */
void
conn_detach(PyObject *self)
{
	struct conn	*c = C(self);

	if (c->closed || c->loop == NULL)
		return;
	conn_watch(c, 0, 0);
	conn_watch(c, 1, 0);
	conn_cancel(&c->feeding);
	conn_cancel(&c->lingering);
	conn_cancel(&c->probing);
	if (c->session != NULL)
		console_remote_leave(c->session);
	Py_CLEAR(c->loop);
}

/* A connection on fd for server; auth: its first line must be the
 * secret; refuse: a reason to turn it away with. Not yet on a loop. */
PyObject *
conn_new(PyObject *server, int fd, int auth, const char *refuse)
{
	struct conn	*c;

	if ((c = PyObject_GC_New(struct conn, &conn_type)) == NULL)
		return NULL;
	memset((char *)c + sizeof(PyObject), 0, sizeof *c - sizeof(PyObject));
	c->server = server;
	c->fd = fd;
	c->state = auth ? CONN_AUTH : CONN_HELLO;
	PyObject_GC_Track(c);
	if (refuse != NULL)
		conn_refuse(c, refuse);
	return (PyObject *)c;
}

static int
conn_traverse(struct conn *c, visitproc visit, void *arg)
{
	Py_VISIT(c->loop);
	Py_VISIT(c->session);
	Py_VISIT(c->feeding);
	Py_VISIT(c->lingering);
	Py_VISIT(c->probing);
	return 0;
}

static int
conn_clear(struct conn *c)
{
	Py_CLEAR(c->session);
	Py_CLEAR(c->feeding);
	Py_CLEAR(c->lingering);
	Py_CLEAR(c->probing);
	Py_CLEAR(c->loop);
	return 0;
}

static void
conn_dealloc(struct conn *c)
{
	PyObject_GC_UnTrack(c);
	if (c->fd >= 0)
		close(c->fd);
	sbuf_free(&c->in);
	sbuf_free(&c->raw);
	sbuf_free(&c->out);
	free(c->prompt);
	conn_clear(c);
	PyObject_GC_Del(c);
}

static PyMethodDef conn_methods[] = {
	{ "_readable", conn_readable, METH_NOARGS, NULL },
	{ "_writable", conn_writable, METH_NOARGS, NULL },
	{ "_feed", conn_feed_soon, METH_NOARGS, NULL },
	{ "_linger", conn_linger, METH_NOARGS, NULL },
	{ "_probe", conn_probe, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject conn_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.ConsoleConnection",
	.tp_doc = "A client of a console server.",
	.tp_basicsize = sizeof(struct conn),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)conn_traverse,
	.tp_clear = (inquiry)conn_clear,
	.tp_dealloc = (destructor)conn_dealloc,
	.tp_methods = conn_methods,
};

/* Ready the type; -1 with exception. */
int
conn_ready(void)
{
	return PyType_Ready(&conn_type);
}
