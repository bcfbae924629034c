/* A served interface (apython.start_interactive_server): instead of
 * apython's console, each client gets factory(streams=(reader, writer))
 * run by a task (serve/iface.py), on the same listeners, access control
 * and protocol. Its reader's readline() takes the client's next line;
 * what its writer writes goes to the client, and the text after the
 * last newline is the prompt of the next readline(): sent as it comes to
 * a plain client, held back (conn's held) for a --connect one until it
 * becomes a prompt frame or more output. The loop's thread only; who
 * calls Python here holds the connection across it (conn.c's rule). */
#include "serve/serve-internal.h"

#include <stdlib.h>
#include <string.h>

#include "py/py.h"
#include "serve/iface.py.h"

static PyObject *glue;		/* serve/iface.py, for the process */
static PyObject *str_done;

/* serve/iface.py, run the first time. */
static PyObject *
iface_glue(void)
{
	if (glue != NULL)
		return glue;
	return py_embed_keep(&glue, PY_EMBED("apython._iface",
	    serve_iface_code, NULL));
}

/* A factory of console_class for start_console_server's filename= and
 * prompt_control=. */
PyObject *
iface_console_factory(PyObject *console_class, PyObject *locals,
    PyObject *filename, PyObject *prompt_control)
{
	PyObject	*g;

	if ((g = iface_glue()) == NULL)
		return NULL;
	return PyObject_CallMethod(g, "console_factory", "OOOO",
	    console_class, locals, filename, prompt_control);
}

/* Run the client's interface on the connection's loop. */
int
iface_attach(struct conn *c)
{
	PyObject	*r;

	if (c->session == NULL || c->loop == NULL)
		return 0;
	if ((r = PyObject_CallMethod(c->session, "start", "O", c->loop)) ==
	    NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

/* The client may have its interface: make it, and run it when on a
 * loop. */
int
iface_start(struct conn *c)
{
	PyObject	*g, *banner;

	if (c->session != NULL || c->server == NULL)
		return 0;
	if ((g = iface_glue()) == NULL)
		return -1;
	banner = server_banner(c->server);
	c->session = PyObject_CallMethod(g, "Served", "OOO", (PyObject *)c,
	    server_factory(c->server), banner != NULL ? banner : Py_None);
	if (c->session == NULL)
		return -1;
	return iface_attach(c);
}

/* Resolve future (when nobody cancelled it) with line; steals line. */
static int
iface_resolve(PyObject *future, PyObject *line)
{
	PyObject	*r;
	int		 done;

	if (line == NULL)
		return -1;
	if ((done = py_call_truth(future, str_done)) == 0)
		r = PyObject_CallMethod(future, "set_result", "O", line);
	else
		r = done < 0 ? NULL : Py_NewRef(Py_None);
	Py_DECREF(line);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* The next line for readline(), with its "\n"; b"" at the end (a
 * --connect client's Ctrl-D ends one readline() only); NULL without
 * exception when none is there yet. */
static PyObject *
iface_next_line(struct conn *c, int *none)
{
	const char	*p;
	size_t		 n;
	PyObject	*line;

	*none = 0;
	if (lines_next(&c->in, &p, &n)) {
		if ((line = PyBytes_FromStringAndSize(NULL, n + 1)) != NULL) {
			memcpy(PyBytes_AS_STRING(line), p, n);
			PyBytes_AS_STRING(line)[n] = '\n';
		}
		return line;
	}
	if (c->eof) {
		if (c->state == CONN_FRAMED && !c->rdeof)
			c->eof = 0;
		return PyBytes_FromStringAndSize("", 0);
	}
	*none = 1;
	return NULL;
}

/* Hand the waiting readline() its line, if one is there. */
int
iface_feed(struct conn *c)
{
	PyObject	*waiter, *line;
	int		 none, r;

	while (c->waiter != NULL && !c->closed) {
		if ((r = py_call_truth(c->waiter, str_done)) != 0) {
			Py_CLEAR(c->waiter);	/* cancelled: nobody reads */
			if (r < 0)
				return -1;
			break;
		}
		line = iface_next_line(c, &none);
		if (none)
			break;
		if (line == NULL)
			return -1;	/* the waiter stays, for the next feed */
		waiter = c->waiter;
		c->waiter = NULL;
		c->wanted = 0;
		conn_prompt_clear(c);
		r = iface_resolve(waiter, line);
		Py_DECREF(waiter);
		if (r != 0)
			return -1;
	}
	if (c->paused && lines_held(&c->in) < SERVE_LINE_MAX) {
		c->paused = 0;
		return conn_watch(c, 0, 1);
	}
	return 0;
}

/* The held text becomes the prompt: a --connect client is sent it as
 * one (a plain client has it already); kept to send again (a client
 * that turns out framed, a dropped line). */
static int
iface_prompt(struct conn *c)
{
	size_t	n = sbuf_len(&c->held);

	conn_prompt_clear(c);
	if ((c->prompt = malloc(n + 1)) == NULL)
		return (PyErr_NoMemory(), -1);
	memcpy(c->prompt, sbuf_ptr(&c->held), n);
	c->promptlen = n;
	sbuf_drop(&c->held, n);
	if (c->state == CONN_FRAMED)
		conn_send(c, FRAME_PROMPT, c->prompt, n);
	return 0;
}

/* _iface_readline(): a future of the client's next line. */
PyObject *
iface_on_readline(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(self);
	PyObject	*f, *r = NULL;
	int		 done;

	(void)unused;
	if (c->loop == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "the client's loop is gone");
		return NULL;
	}
	if (c->waiter != NULL &&
	    (done = py_call_truth(c->waiter, str_done)) <= 0) {
		if (done == 0)
			PyErr_SetString(PyExc_RuntimeError,
			    "readline() is already awaited for this client");
		return NULL;
	}
	if ((f = PyObject_CallMethod(c->loop, "create_future", NULL)) == NULL)
		return NULL;
	if (c->closed || c->ended) {
		r = PyObject_CallMethod(f, "set_result", "y#", "", 0);
		Py_XDECREF(r);
		return r != NULL ? f : (Py_DECREF(f), NULL);
	}
	Py_XSETREF(c->waiter, Py_NewRef(f));
	Py_INCREF(self);	/* sending may close the connection */
	if (iface_prompt(c) != 0)
		Py_CLEAR(f);
	else if (!c->closed) {
		c->wanted = 1;
		if (conn_call_later(c, &c->feeding, -1, "_feed") != 0)
			Py_CLEAR(f);
	}
	Py_DECREF(self);
	return f;
}

/* Send the held text as output, not as a prompt. */
static void
iface_send_held(struct conn *c)
{
	if (c->state == CONN_FRAMED && sbuf_len(&c->held) > 0)
		conn_send(c, FRAME_OUTPUT, sbuf_ptr(&c->held),
		    sbuf_len(&c->held));
	sbuf_drop(&c->held, sbuf_len(&c->held));
}

/* Output from the interface: up to its last newline sent; the rest held
 * (a plain client is sent it now as well). */
static int
iface_output(struct conn *c, const char *p, size_t n)
{
	const char	*nl = memrchr(p, '\n', n);
	size_t		 whole = nl != NULL ? (size_t)(nl + 1 - p) : 0;

	if (c->state != CONN_FRAMED)
		conn_send(c, FRAME_OUTPUT, p, n);
	if (whole > 0) {
		if (c->state == CONN_FRAMED) {
			if (sbuf_add(&c->held, p, whole) != 0)
				return (PyErr_NoMemory(), -1);
			conn_send(c, FRAME_OUTPUT, sbuf_ptr(&c->held),
			    sbuf_len(&c->held));
		}
		sbuf_drop(&c->held, sbuf_len(&c->held));
	}
	if (c->closed || sbuf_add(&c->held, p + whole, n - whole) != 0)
		return c->closed ? 0 : (PyErr_NoMemory(), -1);
	/* A line that does not end (progress dots) is shown as it grows. */
	if (sbuf_len(&c->held) > CONN_CHUNK)
		iface_send_held(c);
	return 0;
}

/* _iface_write(data): bytes for the client. */
PyObject *
iface_on_write(PyObject *self, PyObject *data)
{
	struct conn	*c = conn_of(self);
	Py_buffer	 view;
	int		 r = 0;

	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0)
		return NULL;
	Py_INCREF(self);	/* sending may close the connection */
	if (!c->closed && !c->ended)
		r = iface_output(c, view.buf, view.len);
	Py_DECREF(self);
	PyBuffer_Release(&view);
	if (r != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* _iface_end(): the interface is over: close once all is sent. */
PyObject *
iface_on_end(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(self);

	(void)unused;
	Py_INCREF(self);
	if (!c->closed && !c->ended) {
		iface_send_held(c);
		conn_end(c);
	}
	Py_DECREF(self);
	Py_RETURN_NONE;
}

/* The client's Ctrl-C: the interface's handle_sigint(). A --connect
 * client dropped its line: when the interface reads on (it did not
 * cancel the readline(), which Task.cancel() does at once), the prompt
 * is sent again. */
int
iface_interrupt(struct conn *c)
{
	PyObject	*self = (PyObject *)c, *session, *r;
	int		 done;

	if (c->session == NULL)
		return 0;
	Py_INCREF(self);
	session = Py_NewRef(c->session);
	r = PyObject_CallMethod(session, "interrupt", NULL);
	Py_DECREF(session);
	Py_XDECREF(r);
	if (r != NULL && c->waiter != NULL && !c->closed &&
	    c->state == CONN_FRAMED && c->prompt != NULL) {
		if ((done = py_call_truth(c->waiter, str_done)) == 0)
			conn_send(c, FRAME_PROMPT, c->prompt, c->promptlen);
		else if (done < 0)
			r = NULL;
	}
	Py_DECREF(self);
	return r == NULL ? -1 : 0;
}

/* The client's Tab: completions (a list of str) of word, which ends
 * line (line's first n bytes; UTF-8). */
PyObject *
iface_complete(struct conn *c, const char *line, size_t n, const char *word,
    size_t wordlen)
{
	PyObject	*session, *l, *w, *r = NULL;

	if ((l = PyUnicode_DecodeUTF8(line, n, "replace")) == NULL)
		return NULL;
	if ((w = PyUnicode_DecodeUTF8(word, wordlen, "replace")) != NULL) {
		PyUnicode_Append(&l, w);
		session = Py_NewRef(c->session);
		if (l != NULL)
			r = PyObject_CallMethod(session, "complete", "OO", l,
			    w);
		Py_DECREF(session);
		Py_DECREF(w);
	}
	Py_XDECREF(l);
	return r;
}

/* The connection is gone: the interface's task is cancelled, a waiting
 * readline() too. */
void
iface_close(struct conn *c, PyObject *session)
{
	PyObject	*waiter = c->waiter, *r;

	c->waiter = NULL;
	if (waiter != NULL) {
		r = PyObject_CallMethod(waiter, "cancel", NULL);
		if (r == NULL)
			PyErr_Clear();	/* its loop is closed */
		Py_XDECREF(r);
		Py_DECREF(waiter);
	}
	if ((r = PyObject_CallMethod(session, "close", NULL)) == NULL)
		PyErr_WriteUnraisable(session);
	Py_XDECREF(r);
}

/* Ready this file once; -1 with exception. */
int
iface_ready(void)
{
	static const struct py_name names[] = {
		{ .slot = &str_done, .text = "done" },
	};

	return py_intern_names(names, PY_NAMES_LEN(names));
}
