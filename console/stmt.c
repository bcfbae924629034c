/* A statement's coroutine, wrapped: KeyboardInterrupt and SystemExit it
 * raises end the statement (for its console to report), never the loop,
 * and the session knows when its code is on the CPU (for Ctrl-C). */
#include "console/console-internal.h"

struct stmt {
	PyObject_HEAD
	PyObject	*coro;
	PyObject	*session;
};

static PyTypeObject stmt_type;
static PyObject *s_send, *s_throw, *s_close;

/* After the inner coroutine ran: keep a KeyboardInterrupt or SystemExit
 * for the console and end the statement normally instead. */
static PyObject *
stmt_after(struct stmt *self, PyObject *r)
{
	PyObject	*type, *value, *tb;

	session_set_on_cpu(self->session, 0);
	if (r != NULL || (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) &&
	    !PyErr_ExceptionMatches(PyExc_SystemExit)))
		return r;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL)
		PyException_SetTraceback(value, tb);
	session_set_caught(self->session, value);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_SetNone(PyExc_StopIteration);
	return NULL;
}

static PyObject *
stmt_send(struct stmt *self, PyObject *value)
{
	session_set_on_cpu(self->session, 1);
	return stmt_after(self, PyObject_CallMethodOneArg(self->coro, s_send,
	    value));
}

static PyObject *
stmt_iternext(struct stmt *self)
{
	PyObject	*r = stmt_send(self, Py_None);

	if (r == NULL && PyErr_ExceptionMatches(PyExc_StopIteration)) {
		PyObject *type, *value, *tb;
		PyErr_Fetch(&type, &value, &tb);
		PyErr_NormalizeException(&type, &value, &tb);
		/* A result other than None must reach the task. */
		if (value != NULL && ((PyStopIterationObject *)value)->value !=
		    Py_None) {
			PyErr_Restore(type, value, tb);
			return NULL;
		}
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
	}
	return r;
}

static PyObject *
stmt_throw(struct stmt *self, PyObject *args)
{
	PyObject	*m, *r;

	if ((m = PyObject_GetAttr(self->coro, s_throw)) == NULL)
		return NULL;
	session_set_on_cpu(self->session, 1);
	r = PyObject_Call(m, args, NULL);
	Py_DECREF(m);
	return stmt_after(self, r);
}

static PyObject *
stmt_close(struct stmt *self, PyObject *unused)
{
	(void)unused;
	return PyObject_CallMethodNoArgs(self->coro, s_close);
}

static PyObject *
stmt_await(PyObject *self)
{
	return Py_NewRef(self);
}

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
	{ "send", (PyCFunction)stmt_send, METH_O, NULL },
	{ "throw", (PyCFunction)stmt_throw, METH_VARARGS, NULL },
	{ "close", (PyCFunction)stmt_close, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyAsyncMethods stmt_async = { .am_await = stmt_await };

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
	.tp_as_async = &stmt_async,
	.tp_iter = stmt_await,
	.tp_iternext = (iternextfunc)stmt_iternext,
	.tp_methods = stmt_methods,
};

/* Wrap a statement's coroutine for session. */
PyObject *
stmt_wrap(PyObject *session, PyObject *coro)
{
	struct stmt	*self;

	if ((self = PyObject_GC_New(struct stmt, &stmt_type)) == NULL)
		return NULL;
	self->coro = Py_NewRef(coro);
	self->session = Py_NewRef(session);
	PyObject_GC_Track(self);
	return (PyObject *)self;
}

/* Ready the type; -1 with exception. */
int
stmt_ready(void)
{
	s_send = PyUnicode_InternFromString("send");
	s_throw = PyUnicode_InternFromString("throw");
	s_close = PyUnicode_InternFromString("close");
	if (s_send == NULL || s_throw == NULL || s_close == NULL)
		return -1;
	return PyType_Ready(&stmt_type);
}
