/* A client's console: started once the client may have one, handed the
 * client's lines, EOF, Ctrl-C and Tab, and writing back through the
 * console_peer below. Each call into the console runs Python, which may
 * close the connection: the session is held across it. */
#include "serve/serve-internal.h"

#include <stdlib.h>
#include <string.h>

#include "console/console.h"

static const struct console_peer conn_peer;

/* Start the client's console on the connection's loop. */
int
conn_start_console(struct conn *c)
{
	if (c->iface)
		return iface_start(c);
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

/* Hand queued lines to the console, one per line it asked for; at the
 * end of input, EOF after the last. */
int
conn_feed(struct conn *c)
{
	PyObject	*session;
	const char	*p;
	size_t		 n;
	int		 r;

	if (c->iface)
		return iface_feed(c);
	while (c->wanted > 0 && c->session != NULL && !c->closed) {
		/* Taken first (p stays valid: taking frees nothing), as
		 * feeding the line runs Python that may close us. */
		if (lines_next(&c->in, &p, &n)) {
			c->wanted--;
			conn_prompt_clear(c);
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
	if (c->paused && lines_held(&c->in) < SERVE_LINE_MAX) {
		c->paused = 0;
		return conn_watch(c, 0, 1);
	}
	return 0;
}

/* Ctrl-C from the client: type-ahead is dropped with the statement. */
int
conn_interrupt(struct conn *c)
{
	PyObject	*session;
	int		 r;

	lines_clear(&c->in);
	if (c->asking) {
		c->ask_interrupt = 1;	/* input() raises KeyboardInterrupt */
		return 0;
	}
	if (c->iface)
		return iface_interrupt(c);
	if (c->session == NULL)
		return 0;
	session = Py_NewRef(c->session);
	r = console_remote_interrupt(session);
	Py_DECREF(session);
	return r;
}

/* Tab from the client (the line before the word, NUL, the word): the
 * completions of the word, '\n' apart. */
int
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
	if (c->iface)
		list = iface_complete(c, p, before, word, n - (word - p));
	else
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

/* Peer callback: the console writes text. */
static int
conn_peer_write(PyObject *self, const char *p, size_t n)
{
	conn_send(conn_of(self), FRAME_OUTPUT, p, n);
	return 0;
}

/* Peer callback: the console shows a prompt and wants a line. */
static int
conn_peer_prompt(PyObject *self, const char *p, size_t n)
{
	struct conn	*c = conn_of(self);
	int		 r = 0;

	if (c->closed)
		return 0;
	conn_prompt_clear(c);
	if ((c->prompt = malloc(n + 1)) == NULL)
		return (PyErr_NoMemory(), -1);
	memcpy(c->prompt, p, n);
	c->promptlen = n;
	/* Sending may close the connection, and drop its last reference. */
	Py_INCREF(self);
	conn_send(c, FRAME_PROMPT, p, n);
	if (!c->closed) {
		c->wanted++;
		r = conn_call_later(c, &c->feeding, -1, "_feed");
	}
	Py_DECREF(self);
	return r;
}

/* The console (or interface) is over: close once the output is sent. */
void
conn_end(struct conn *c)
{
	PyObject	*self = (PyObject *)c;

	if (c->closed || c->ended)
		return;
	conn_bye(c);
	c->ended = 1;
	lines_clear(&c->in);
	/* Shutting down may close the connection and drop its last
	 * reference. */
	Py_INCREF(self);
	if (sbuf_len(&c->out) == 0)
		conn_shut_write(c);
	/* Read (and drop) what comes until the client closes. */
	c->paused = 0;
	if (!c->closed && (conn_call_later(c, &c->lingering, CONN_LINGER,
	    "_linger") != 0 || (!c->rdeof && conn_watch(c, 0, 1) != 0)))
		PyErr_WriteUnraisable(self);
	Py_DECREF(self);
}

/* Peer callback: the console is over. */
static void
conn_peer_end(PyObject *self)
{
	conn_end(conn_of(self));
}

/* Peer callback: a statement is complete: --connect keeps it as one
 * history entry; plain clients keep their own. */
static void
conn_peer_statement(PyObject *self, const char *p, size_t n)
{
	struct conn	*c = conn_of(self);

	if (c->state == CONN_FRAMED && n > 0 && n < FRAME_MAX) {
		Py_INCREF(self);	/* sending may close, and drop us */
		conn_send(c, FRAME_HISTORY, p, n);
		Py_DECREF(self);
	}
}

/* Peer callback: input() in a statement wants the client's next line. */
static int
conn_peer_read_line(PyObject *self, const char *p, size_t n,
    PyObject **line)
{
	return conn_ask(conn_of(self), p, n, line);
}

/* Peer callback: a statement's code goes on or off the CPU. */
static void
conn_peer_cpu(PyObject *self, int on)
{
	conn_ctl_cpu(conn_of(self), on);
}

static const struct console_peer conn_peer = {
	.cpu = conn_peer_cpu,
	.write = conn_peer_write,
	.prompt = conn_peer_prompt,
	.end = conn_peer_end,
	.statement = conn_peer_statement,
	.read_line = conn_peer_read_line,
};
