/* The coroutine a console's task runs: each send() is one step of the
 * console, which runs what can run and yields what to wait for. */
#include "console/console-internal.h"

struct step_coro {
	PyObject_HEAD
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

/* The statement's task finished: step the console. */
static PyObject *
step_stmt_done(PyObject *self, PyObject *task)
{
	(void)task;
	if (session_wake(session_of(self)) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef stmt_done_def = {
	"console_statement_done", step_stmt_done, METH_O, NULL
};

/* Wait for the running statement through a future of our own, so that
 * cancelling the console task (the loop ends) is told apart from the
 * statement being cancelled (Ctrl-C, or its own doing). */
static PyObject *
step_wait_stmt(struct session *s)
{
	PyObject	*cb, *r;

	s->waiter = PyObject_CallMethod(s->loop, "create_future", NULL);
	if (s->waiter == NULL)
		return NULL;
	if ((cb = PyCFunction_New(&stmt_done_def, (PyObject *)s)) == NULL)
		return NULL;
	r = PyObject_CallMethod(s->stmt, "add_done_callback", "O", cb);
	Py_DECREF(cb);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
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
		return s->waiter ? step_yield(s->waiter) : NULL;
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

/* send(value): the task steps the console. */
static PyObject *
coro_send(struct step_coro *self, PyObject *value)
{
	PyObject	*r;

	(void)value;
	if (self->finished || self->session == NULL) {
		PyErr_SetString(PyExc_RuntimeError,
		    "cannot reuse already awaited coroutine");
		return NULL;
	}
	if ((r = step_console(session_of(self->session))) == NULL) {
		self->finished = 1;
		if (!PyErr_Occurred())
			PyErr_SetNone(PyExc_StopIteration);
	}
	return r;
}

static PyObject *
coro_iternext(struct step_coro *self)
{
	PyObject	*r = coro_send(self, Py_None);

	if (r == NULL && PyErr_ExceptionMatches(PyExc_StopIteration))
		PyErr_Clear();
	return r;
}

/* The exception throw(type[, value[, tb]]) raises, as a generator's
 * throw makes it: *type, *value, *tb (new references); -1 with a
 * TypeError for arguments a generator refuses. */
static int
coro_exception(PyObject **type, PyObject **value, PyObject **tb)
{
	if (*tb == Py_None)
		*tb = NULL;
	else if (*tb != NULL && !PyTraceBack_Check(*tb)) {
		PyErr_SetString(PyExc_TypeError,
		    "throw() third argument must be a traceback object");
		return -1;
	}
	if (PyExceptionClass_Check(*type)) {
		Py_INCREF(*type);
		Py_XINCREF(*value);
		Py_XINCREF(*tb);
		PyErr_NormalizeException(type, value, tb);
		return 0;
	}
	if (!PyExceptionInstance_Check(*type)) {
		PyErr_Format(PyExc_TypeError, "exceptions must be classes or "
		    "instances deriving from BaseException, not %s",
		    Py_TYPE(*type)->tp_name);
		return -1;
	}
	if (*value != NULL && *value != Py_None) {
		PyErr_SetString(PyExc_TypeError,
		    "instance exception may not have a separate value");
		return -1;
	}
	*value = Py_NewRef(*type);
	*type = Py_NewRef((PyObject *)Py_TYPE(*value));
	if (*tb == NULL)
		*tb = PyException_GetTraceback(*value);
	else
		Py_INCREF(*tb);
	return 0;
}

/* throw(type[, value[, tb]]): the task is cancelled (the loop ends):
 * stop, and raise that exception, its traceback after ours. */
static PyObject *
coro_throw(struct step_coro *self, PyObject *args)
{
	PyObject	*type, *value = NULL, *tb = NULL;

	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb) ||
	    coro_exception(&type, &value, &tb) != 0)
		return NULL;
	if (!self->finished && self->session != NULL)
		step_stop(session_of(self->session));
	self->finished = 1;
	PyErr_Restore(type, value, tb);
	return NULL;
}

/* close(): the coroutine will not be stepped again. */
static PyObject *
coro_close(struct step_coro *self, PyObject *unused)
{
	(void)unused;
	if (!self->finished && self->session != NULL)
		step_stop(session_of(self->session));
	self->finished = 1;
	Py_RETURN_NONE;
}

static PyObject *
coro_await(PyObject *self)
{
	return Py_NewRef(self);
}

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
	{ "send", (PyCFunction)coro_send, METH_O, NULL },
	{ "throw", (PyCFunction)coro_throw, METH_VARARGS, NULL },
	{ "close", (PyCFunction)coro_close, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyAsyncMethods coro_async = { .am_await = coro_await };

static PyTypeObject coro_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.console",
	.tp_doc = "The console's coroutine.",
	.tp_basicsize = sizeof(struct step_coro),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)coro_traverse,
	.tp_clear = (inquiry)coro_clear,
	.tp_dealloc = (destructor)coro_dealloc,
	.tp_as_async = &coro_async,
	.tp_iter = coro_await,
	.tp_iternext = (iternextfunc)coro_iternext,
	.tp_methods = coro_methods,
};

/* The coroutine for session's task. */
PyObject *
step_coro_new(PyObject *session)
{
	struct step_coro	*coro;

	coro = PyObject_GC_New(struct step_coro, &coro_type);
	if (coro == NULL)
		return NULL;
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
