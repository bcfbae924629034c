/* What the hand-written coroutine types share: send(), throw(), close(),
 * __next__, __await__ and am_send over each type's py_coro_ops. */
#include "py/py.h"

struct py_coro {
	PY_CORO_HEAD
};

static const struct py_coro_ops *
coro_ops(PyObject *self)
{
	return ((struct py_coro *)self)->coro_ops;
}

/* StopIteration(value), raised as a generator's return does. */
static void
coro_stop(PyObject *value)
{
	PyObject	*stop;

	if (value == Py_None) {
		PyErr_SetNone(PyExc_StopIteration);
		return;
	}
	/* Built here: PyErr_SetObject would unpack a tuple or take an
	 * exception instance as the StopIteration itself. */
	if ((stop = PyObject_CallOneArg(PyExc_StopIteration, value)) == NULL)
		return;
	PyErr_SetObject(PyExc_StopIteration, stop);
	Py_DECREF(stop);
}

/* A step's outcome as a method returns it. */
static PyObject *
coro_outcome(int r, PyObject *out)
{
	if (r == 0)
		return out;
	if (r > 0) {
		coro_stop(out);
		Py_DECREF(out);
	}
	return NULL;
}

PyObject *
py_coro_self(PyObject *self)
{
	return Py_NewRef(self);
}

/* __next__: send(None); a None result ends the iteration quietly. */
PyObject *
py_coro_next(PyObject *self)
{
	PyObject	*out = NULL;
	int		 r = coro_ops(self)->send(self, Py_None, &out);

	if (r > 0 && out == Py_None) {
		Py_DECREF(out);
		return NULL;
	}
	return coro_outcome(r, out);
}

PyObject *
py_coro_send(PyObject *self, PyObject *value)
{
	PyObject	*out = NULL;
	int		 r = coro_ops(self)->send(self, value, &out);

	return coro_outcome(r, out);
}

/* The exception throw(type[, value[, tb]]) raises, checked as asyncio's
 * futures check it; a new reference, NULL with a TypeError. */
static PyObject *
coro_thrown(PyObject *type, PyObject *value, PyObject *tb)
{
	if (value == Py_None)
		value = NULL;
	if (tb == Py_None)
		tb = NULL;
	else if (tb != NULL && !PyTraceBack_Check(tb)) {
		PyErr_SetString(PyExc_TypeError,
		    "throw() third argument must be a traceback");
		return NULL;
	}
	if (PyExceptionInstance_Check(type)) {
		if (value != NULL) {
			PyErr_SetString(PyExc_TypeError, "instance exception "
			    "may not have a separate value");
			return NULL;
		}
		value = Py_NewRef(type);
	} else if (PyExceptionClass_Check(type)) {
		/* Made as asyncio's futures make it (no __context__ from an
		 * exception being handled); a failure to make it is thrown
		 * instead, as there. */
		PyObject *t = Py_NewRef(type), *tb_made = NULL;

		Py_XINCREF(value);
		PyErr_NormalizeException(&t, &value, &tb_made);
		Py_DECREF(t);
		Py_XDECREF(tb_made);
		if (value == NULL || !PyExceptionInstance_Check(value)) {
			Py_XDECREF(value);
			PyErr_SetString(PyExc_SystemError,
			    "throw(): exception could not be made");
			return NULL;
		}
	} else {
		PyErr_SetString(PyExc_TypeError, "exceptions must be classes "
		    "deriving BaseException or instances of such a class");
		return NULL;
	}
	if (tb != NULL && PyException_SetTraceback(value, tb) != 0)
		Py_CLEAR(value);
	return value;
}

/* throw(type[, value[, tb]]): raise it where the coroutine waits. */
PyObject *
py_coro_throw(PyObject *self, PyObject *args)
{
	PyObject	*type, *value = NULL, *tb = NULL, *exc, *out = NULL;
	int		 r;

	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb))
		return NULL;
#if PY_VERSION_HEX >= 0x030C0000
	if (PyTuple_GET_SIZE(args) > 1 && PyErr_WarnEx(
	    PyExc_DeprecationWarning, "the (type, exc, tb) signature of "
	    "throw() is deprecated, use the single-arg signature instead.",
	    1) < 0)
		return NULL;
#endif
	/* Arguments refused are raised where the coroutine waits, as a
	 * coroutine awaiting a future gets its TypeError. */
	if ((exc = coro_thrown(type, value, tb)) == NULL &&
	    (exc = py_exception_fetch()) == NULL)
		return NULL;
	r = coro_ops(self)->throw(self, exc, &out);
	Py_DECREF(exc);
	return coro_outcome(r, out);
}

PyObject *
py_coro_close(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (coro_ops(self)->close(self) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* __name__ and __qualname__. */
PyObject *
py_coro_name(PyObject *self, void *unused)
{
	(void)unused;
	return PyUnicode_FromString(coro_ops(self)->name);
}

PyObject *
py_coro_repr(PyObject *self)
{
	return PyUnicode_FromFormat("<%s coroutine object at %p>",
	    Py_TYPE(self)->tp_name, (void *)self);
}

#if PY_VERSION_HEX >= 0x030A0000
static PySendResult
coro_am_send(PyObject *self, PyObject *value, PyObject **out)
{
	int	r;

	*out = NULL;
	r = coro_ops(self)->send(self, value, out);
	return r == 0 ? PYGEN_NEXT : r > 0 ? PYGEN_RETURN : PYGEN_ERROR;
}
#endif

PyAsyncMethods py_coro_async = {
	.am_await = py_coro_self,
#if PY_VERSION_HEX >= 0x030A0000
	.am_send = coro_am_send,
#endif
};

/* The value a StopIteration being raised carries; -1 when another
 * exception is raised. */
static int
coro_stop_value(PyObject **out)
{
	PyObject	*stop;

	if (!PyErr_ExceptionMatches(PyExc_StopIteration))
		return -1;
	if ((stop = py_exception_fetch()) == NULL)
		return -1;
	*out = Py_NewRef(((PyStopIterationObject *)stop)->value);
	Py_DECREF(stop);
	return 1;
}

int
py_coro_resume(PyObject *coro, PyObject *value, PyObject *exc,
    PyObject **out)
{
	static PyObject	*s_send, *s_throw;
	static const struct py_name names[] = {
		{ &s_send, "send" }, { &s_throw, "throw" },
	};

	*out = NULL;
	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0)
		return -1;
	*out = exc != NULL ? PyObject_CallMethodOneArg(coro, s_throw, exc) :
	    PyObject_CallMethodOneArg(coro, s_send, value);
	if (*out != NULL)
		return 0;
	return coro_stop_value(out);
}
