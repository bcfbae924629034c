/* The coroutine a console's task runs: each send() is one step of the
 * console, which runs what can run and yields what to wait for. */
#include "console/console-internal.h"
#include "py/py.h"

struct step_coro {
	PY_CORO_HEAD
	PyObject	*session;
	int		 finished;
};

static PyTypeObject coro_type;

/* Hand a future to the task to wait on, as `await` would. */
static PyObject *
step_yield(PyObject *f)
{
	if (PyObject_SetAttrString(f, "_asyncio_future_blocking", Py_True))
		return NULL;
	return Py_NewRef(f);
}

/* Wait for the running statement through a future of our own, so that
 * cancelling the console task (the loop ends) is told apart from the
 * statement being cancelled (Ctrl-C, or its own doing); the statement's
 * task wakes it when done (stmt.c). */
static PyObject *
step_wait_stmt(struct session *s)
{
	s->waiter = PyObject_CallMethod(s->loop, "create_future", NULL);
	if (s->waiter == NULL)
		return NULL;
	return step_yield(s->waiter);
}

/* One step of the console: run what can run, then say what to wait for.
 * NULL without exception means the console is over. */
static PyObject *
step_console(struct session *s)
{
	PyObject	*line;
	int		 r;

	if (intro_run(s) != 0)
		return NULL;
	for (;;) {
		if (s->stmt != NULL) {
			if ((r = future_done(s->stmt)) < 0)
				return NULL;
			if (r == 0)
				return step_wait_stmt(s);
			if (repl_finish_stmt(s) != 0)
				return NULL;
		}
		if (!s->prompted && repl_prompt(s) != 0)
			return NULL;
		if (!s->prompted)
			continue;	/* a Ctrl-C took it down: again */
		if (PyList_GET_SIZE(s->lines) > 0) {
			line = Py_NewRef(PyList_GET_ITEM(s->lines, 0));
			r = PySequence_DelItem(s->lines, 0);
			s->prompted = 0;
			if (r == 0)
				r = repl_line(s, line);
			Py_DECREF(line);
			if (r != 0)
				return NULL;
			continue;
		}
		if (s->eof)
			break;
		s->waiter = PyObject_CallMethod(s->loop, "create_future", NULL);
		if (s->waiter == NULL)
			return NULL;
		/* A Ctrl-C handled while the future was made (a loop in
		 * Python runs bytecode there) found no waiter to wake. */
		if (!s->prompted) {
			Py_CLEAR(s->waiter);
			continue;
		}
		return step_yield(s->waiter);
	}
	/* EOF: end the prompt's line, then end as exit(0) would. */
	s->prompted = 0;
	if (session_write_str((PyObject *)s, "\n") != 0)
		return NULL;
	PyObject *exc = PyObject_CallFunction(PyExc_SystemExit, "i", 0);
	if (exc == NULL)
		return NULL;
	r = s->io->end((PyObject *)s, exc);
	Py_DECREF(exc);
	return NULL;
}

/* Stop the console task's work: the running statement is cancelled. */
static void
step_stop(struct session *s)
{
	PyObject	*r;

	if (s->stmt != NULL) {
		r = PyObject_CallMethod(s->stmt, "cancel", NULL);
		if (r == NULL)
			PyErr_WriteUnraisable(s->stmt);
		Py_XDECREF(r);
		Py_CLEAR(s->stmt);
	}
	Py_CLEAR(s->waiter);
	Py_CLEAR(s->task);
}
/* The coroutine self is. */
static inline struct step_coro *
step_coro_of(PyObject *self)
{
	return (struct step_coro *)self;
}

/* send(value): the task steps the console. */
static int
coro_send(PyObject *self, PyObject *value, PyObject **out)
{
	struct step_coro	*c = step_coro_of(self);

	(void)value;
	if (c->finished || c->session == NULL) {
		PyErr_SetString(PyExc_RuntimeError,
		    "cannot reuse already awaited coroutine");
		return -1;
	}
	if ((*out = step_console(session_of(c->session))) != NULL)
		return 0;
	c->finished = 1;
	if (PyErr_Occurred())
		return -1;
	*out = Py_NewRef(Py_None);
	return 1;
}

/* The console will not be stepped again: its statement is cancelled. */
static void
coro_finish(struct step_coro *c)
{
	if (!c->finished && c->session != NULL)
		step_stop(session_of(c->session));
	c->finished = 1;
}

/* throw(exc): the task is cancelled (the loop ends): stop, and raise
 * exc, its traceback after ours. */
static int
coro_throw(PyObject *self, PyObject *exc, PyObject **out)
{
	(void)out;
	coro_finish(step_coro_of(self));
	py_exception_raise(Py_NewRef(exc));
	return -1;
}

/* close(): the coroutine will not be stepped again. */
static int
coro_close(PyObject *self)
{
	coro_finish(step_coro_of(self));
	return 0;
}

static const struct py_coro_ops coro_ops = {
	.send = coro_send,
	.throw = coro_throw,
	.close = coro_close,
	.name = "console",
};

static int
coro_traverse(struct step_coro *self, visitproc visit, void *arg)
{
	Py_VISIT(self->session);
	return 0;
}

static int
coro_clear(struct step_coro *self)
{
	Py_CLEAR(self->session);
	return 0;
}

static void
coro_dealloc(struct step_coro *self)
{
	PyObject_GC_UnTrack(self);
	coro_clear(self);
	PyObject_GC_Del(self);
}

static PyMethodDef coro_methods[] = {
	PY_CORO_METHODS,
	{ .ml_name = NULL }
};

static PyGetSetDef coro_getset[] = {
	PY_CORO_GETSET,
	{ .name = NULL }
};

static PyTypeObject coro_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.console",
	.tp_doc = "The console's coroutine.",
	.tp_basicsize = sizeof(struct step_coro),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)coro_traverse,
	.tp_clear = (inquiry)coro_clear,
	.tp_dealloc = (destructor)coro_dealloc,
	.tp_repr = py_coro_repr,
	.tp_as_async = &py_coro_async,
	.tp_iter = py_coro_self,
	.tp_iternext = py_coro_next,
	.tp_methods = coro_methods,
	.tp_getset = coro_getset,
};

/* The coroutine for session's task. */
PyObject *
step_coro_new(PyObject *session)
{
	struct step_coro	*coro;

	coro = PyObject_GC_New(struct step_coro, &coro_type);
	if (coro == NULL)
		return NULL;
	coro->coro_ops = &coro_ops;
	coro->session = Py_NewRef(session);
	coro->finished = 0;
	PyObject_GC_Track(coro);
	return (PyObject *)coro;
}

/* Ready the type; -1 with exception. */
int
step_ready(void)
{
	return PyType_Ready(&coro_type);
}
