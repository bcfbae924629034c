/* A statement's coroutine, wrapped: KeyboardInterrupt and SystemExit it
 * raises end the statement (for its console to report), never the loop,
 * and the session knows when its code is on the CPU (for Ctrl-C). */
#include "console/console-internal.h"
#include "py/py.h"

struct stmt {
	PY_CORO_HEAD
	PyObject	*coro;
	PyObject	*session;
};

static PyTypeObject stmt_type;
static PyObject *s_close;

/* The wrapper self is. */
static inline struct stmt *
stmt_of(PyObject *self)
{
	return (struct stmt *)self;
}

/* Step the inner coroutine with console code on the CPU; a
 * KeyboardInterrupt or SystemExit is kept for the console, and the
 * statement ends normally instead. */
static int
stmt_resume(PyObject *self, PyObject *value, PyObject *exc, PyObject **out)
{
	struct stmt	*st = stmt_of(self);
	PyObject	*caught;
	int		 r;

	session_set_on_cpu(st->session, 1);
	r = py_coro_resume(st->coro, value, exc, out);
	session_set_on_cpu(st->session, 0);
	if (r >= 0 || (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) &&
	    !PyErr_ExceptionMatches(PyExc_SystemExit)))
		return r;
	caught = py_exception_fetch();
	session_set_caught(st->session, caught);
	Py_DECREF(caught);
	*out = Py_NewRef(Py_None);
	return 1;
}

static int
stmt_send(PyObject *self, PyObject *value, PyObject **out)
{
	return stmt_resume(self, value, NULL, out);
}

static int
stmt_throw(PyObject *self, PyObject *exc, PyObject **out)
{
	return stmt_resume(self, NULL, exc, out);
}

static int
stmt_close(PyObject *self)
{
	PyObject	*r;

	if ((r = PyObject_CallMethodNoArgs(stmt_of(self)->coro, s_close)) == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

static const struct py_coro_ops stmt_ops = {
	.send = stmt_send,
	.throw = stmt_throw,
	.close = stmt_close,
};

static int
stmt_traverse(struct stmt *self, visitproc visit, void *arg)
{
	Py_VISIT(self->coro);
	Py_VISIT(self->session);
	return 0;
}

static int
stmt_clear(struct stmt *self)
{
	Py_CLEAR(self->coro);
	Py_CLEAR(self->session);
	return 0;
}

static void
stmt_dealloc(struct stmt *self)
{
	PyObject_GC_UnTrack(self);
	stmt_clear(self);
	PyObject_GC_Del(self);
}

static PyObject *
stmt_repr(struct stmt *self)
{
	return PyObject_Repr(self->coro);
}

static PyMethodDef stmt_methods[] = {
	PY_CORO_METHODS,
	{ .ml_name = NULL }
};

static PyTypeObject stmt_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.statement",
	.tp_doc = "A console statement's coroutine.",
	.tp_basicsize = sizeof(struct stmt),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)stmt_traverse,
	.tp_clear = (inquiry)stmt_clear,
	.tp_dealloc = (destructor)stmt_dealloc,
	.tp_repr = (reprfunc)stmt_repr,
	.tp_as_async = &py_coro_async,
	.tp_iter = py_coro_self,
	.tp_iternext = py_coro_next,
	.tp_methods = stmt_methods,
};

/* Wrap a statement's coroutine for session. */
PyObject *
stmt_wrap(PyObject *session, PyObject *coro)
{
	struct stmt	*self;

	if ((self = PyObject_GC_New(struct stmt, &stmt_type)) == NULL)
		return NULL;
	self->coro_ops = &stmt_ops;
	self->coro = Py_NewRef(coro);
	self->session = Py_NewRef(session);
	PyObject_GC_Track(self);
	return (PyObject *)self;
}

/* Ready the type; -1 with exception. */
int
stmt_ready(void)
{
	static const struct py_name	names[] = { { &s_close, "close" } };

	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0)
		return -1;
	return PyType_Ready(&stmt_type);
}
