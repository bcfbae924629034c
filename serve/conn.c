/* One client of a console server, as an object: made on accept, moved
 * between the program's loops (the loop watches its socket and runs its
 * timers), and closed without losing what is still to be sent. Its input
 * is in conn-input.c, its output in conn-output.c, its console in
 * conn-console.c. */
#include "serve/serve-internal.h"

#include <string.h>
#include <unistd.h>

#include "console/console.h"

static PyTypeObject conn_type;

/* Watch for input (write 0) or room to write (1), or stop (on 0). */
int
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
void
conn_cancel_call(PyObject **handle)
{
	PyObject	*r;

	if (*handle == NULL)
		return;
	if ((r = PyObject_CallMethod(*handle, "cancel", NULL)) == NULL)
		PyErr_Clear();
	Py_XDECREF(r);
	Py_CLEAR(*handle);
}

/* Call the method name of ours soon (delay < 0) or after delay seconds;
 * *handle keeps the call (none is made while it holds one). */
int
conn_call_later(struct conn *c, PyObject **handle, double delay,
    const char *name)
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

/* Stop watching the socket and cancel the timers. */
static void
conn_quiet(struct conn *c)
{
	conn_watch(c, 0, 0);
	conn_watch(c, 1, 0);
	conn_cancel_call(&c->feeding);
	conn_cancel_call(&c->lingering);
	conn_cancel_call(&c->probing);
	conn_cancel_call(&c->taking);
	conn_cancel_call(&c->interrupting);
}

/* Close the connection now: what is unsent is lost, a console that has
 * not ended is stopped (its running statement cancelled), the server
 * forgets the client. */
void
conn_close_now(struct conn *c)
{
	PyObject	*self = (PyObject *)c, *session;

	if (c->closed)
		return;
	c->closed = 1;
	Py_INCREF(self);
	conn_quiet(c);
	conn_ctl_free(c);	/* before the fd goes */
	close(c->fd);
	c->fd = -1;
	lines_clear(&c->in);
	sbuf_free(&c->raw);
	sbuf_free(&c->out);
	sbuf_free(&c->held);
	conn_prompt_clear(c);
	if ((session = c->session) != NULL) {
		c->session = NULL;
		if (c->iface)
			iface_close(c, session);
		else if (!c->ended)
			console_remote_close(session);
		Py_DECREF(session);
	}
	if (c->server != NULL)
		server_remove_conn(c->server, self);
	c->server = NULL;
	Py_CLEAR(c->loop);
	Py_DECREF(self);
}

/* Run on loop: read, send, and start (or move) the console. */
int
conn_attach_loop(struct conn *c, PyObject *loop)
{
	if (c->closed)
		return 0;
	Py_XSETREF(c->loop, Py_NewRef(loop));
	if (!c->rdeof && !c->paused && conn_watch(c, 0, 1) != 0)
		return -1;
	if (sbuf_len(&c->out) > 0 && conn_flush(c) != 0) {
		conn_close_now(c);
		return 0;
	}
	if (c->session != NULL && c->iface) {
		if (iface_attach(c) != 0)
			return -1;
	} else if (c->session != NULL) {
		if (console_remote_start(c->session, loop) != 0)
			return -1;
	} else if (c->state == CONN_HELLO && conn_start_console(c) != 0)
		return -1;
	if (!c->closed && (c->ended || c->state == CONN_AUTH) &&
	    conn_call_later(c, &c->lingering, c->ended ? CONN_LINGER :
	    CONN_AUTH_TIME, "_linger") != 0)
		return -1;
	if (c->rdeof && !c->ended && !c->closed && conn_call_later(c,
	    &c->probing, CONN_PROBE, "_probe") != 0)
		return -1;
	if (c->wanted > 0 && !c->closed)
		return conn_call_later(c, &c->feeding, -1, "_feed");
	return 0;
}

/* The loop closes: stop watching; the console leaves it too. The client
 * stays connected, waiting for the next loop; an interface's client does
 * not (its task was the loop's). */
void
conn_detach_loop(struct conn *c)
{
	if (c->closed || c->loop == NULL)
		return;
	if (c->iface) {
		conn_close_now(c);
		return;
	}
	conn_quiet(c);
	if (c->session != NULL)
		console_remote_leave(c->session);
	Py_CLEAR(c->loop);
}

/* End a loop callback: an unexpected error closes the client, not the
 * loop. Drops the reference the callback took. */
static PyObject *
conn_callback_done(struct conn *c, int r)
{
	if (r != 0) {
		PyErr_WriteUnraisable((PyObject *)c);
		conn_close_now(c);
	}
	Py_DECREF(c);
	Py_RETURN_NONE;
}

/* _readable(): input (or its end) is there. */
static PyObject *
conn_on_readable(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));
	int		 r;

	(void)unused;
	r = conn_read(c);
	if (r == 0 && !c->closed)
		r = conn_feed(c);
	return conn_callback_done(c, r);
}

/* _writable(): there is room to send more. */
static PyObject *
conn_on_writable(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));

	(void)unused;
	if (!c->closed && conn_flush(c) != 0)
		conn_close_now(c);
	return conn_callback_done(c, 0);
}

/* _feed(): the console asked for lines. */
static PyObject *
conn_on_feed(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));

	(void)unused;
	Py_CLEAR(c->feeding);
	return conn_callback_done(c, c->closed ? 0 : conn_feed(c));
}

/* _take(): what the control thread read while a statement held the
 * loop. */
static PyObject *
conn_on_take(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));
	int		 r;

	(void)unused;
	Py_CLEAR(c->taking);
	r = c->closed ? 0 : conn_read_ahead(c, 0);
	if (r == 0 && !c->closed)
		r = conn_feed(c);
	return conn_callback_done(c, r);
}

/* _interrupt(): a client's Ctrl-C that waited for its statement to
 * leave the CPU. */
static PyObject *
conn_on_interrupt(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));

	(void)unused;
	Py_CLEAR(c->interrupting);
	return conn_callback_done(c, c->closed ? 0 :
	    conn_ctl_interrupt_now(c));
}

/* _probe(): close the client if it is gone, else look again later. */
static PyObject *
conn_on_probe(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));
	int		 r = 0;

	(void)unused;
	Py_CLEAR(c->probing);
	if (c->closed || c->ended)
		return conn_callback_done(c, 0);
	if (conn_hung_up(c))
		conn_close_now(c);
	else
		r = conn_call_later(c, &c->probing, CONN_PROBE, "_probe");
	return conn_callback_done(c, r);
}

/* _linger(): the client took too long to send the secret, or to take
 * its last output. */
static PyObject *
conn_on_linger(PyObject *self, PyObject *unused)
{
	struct conn	*c = conn_of(Py_NewRef(self));

	(void)unused;
	Py_CLEAR(c->lingering);
	conn_close_now(c);
	return conn_callback_done(c, 0);
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
	c->iface = server_factory(server) != NULL;
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
	Py_VISIT(c->taking);
	Py_VISIT(c->interrupting);
	Py_VISIT(c->waiter);
	return 0;
}

static int
conn_clear(struct conn *c)
{
	Py_CLEAR(c->session);
	Py_CLEAR(c->feeding);
	Py_CLEAR(c->lingering);
	Py_CLEAR(c->probing);
	Py_CLEAR(c->taking);
	Py_CLEAR(c->interrupting);
	Py_CLEAR(c->waiter);
	Py_CLEAR(c->loop);
	return 0;
}

static void
conn_dealloc(struct conn *c)
{
	PyObject_GC_UnTrack(c);
	conn_ctl_free(c);
	if (c->fd >= 0)
		close(c->fd);
	lines_clear(&c->in);
	sbuf_free(&c->raw);
	sbuf_free(&c->out);
	sbuf_free(&c->held);
	conn_prompt_clear(c);
	conn_clear(c);
	PyObject_GC_Del(c);
}

static PyMethodDef conn_methods[] = {
	{ .ml_name = "_readable",
	  .ml_meth = conn_on_readable,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_writable",
	  .ml_meth = conn_on_writable,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_feed",
	  .ml_meth = conn_on_feed,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_linger",
	  .ml_meth = conn_on_linger,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_take",
	  .ml_meth = conn_on_take,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_interrupt",
	  .ml_meth = conn_on_interrupt,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_probe",
	  .ml_meth = conn_on_probe,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_iface_readline",
	  .ml_meth = iface_on_readline,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "_iface_write",
	  .ml_meth = iface_on_write,
	  .ml_flags = METH_O },
	{ .ml_name = "_iface_end",
	  .ml_meth = iface_on_end,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL }
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
