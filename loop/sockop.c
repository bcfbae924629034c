/* A sock_* call of the loop on a socket.socket itself is an operation
 * (the syscalls are in sockio.c): its own coroutine and, once it waits,
 * the future its task blocks on (sockfuture.c): no asyncio.Future, no
 * Handle, no done callback of our own. This file holds its life and its
 * coroutine side. */
#include <string.h>

#include "loop/loop-internal.h"

/* The loop's method each kind is, by index. */
static const char *const op_names[] = {
	"sock_recv", "sock_recv_into", "sock_sendall", "sock_accept",
	"sock_recvfrom", "sock_recvfrom_into", "sock_sendto"
};

static PyTypeObject op_type;
static PyObject *socket_type;		/* socket.socket */

/* The operation is over: stop waiting, call back. */
int
sockop_finish(struct sockop *op, int state)
{
	PyObject	*cb, *ctx, *more;
	Py_ssize_t	 i;
	int		 r = 0;

	if (op->state == SOCKOP_WAITING)
		sockpoll_forget(loop_sockpoll(op->loop, 0), op->fd, sockop_dir(op),
		    (PyObject *)op);
	op->state = state;
	if (op->has_view) {
		PyBuffer_Release(&op->view);
		op->has_view = 0;
	}
	cb = op->cb, ctx = op->ctx, more = op->more;
	op->cb = op->ctx = op->more = NULL;
	if (cb != NULL)
		r = sockop_schedule(op, cb, ctx);
	for (i = 0; more != NULL && r == 0 && i < PyList_GET_SIZE(more); i++)
		r = sockop_schedule(op, PyTuple_GET_ITEM(PyList_GET_ITEM(more, i),
		    0), PyTuple_GET_ITEM(PyList_GET_ITEM(more, i), 1));
	Py_XDECREF(cb);
	Py_XDECREF(ctx);
	Py_XDECREF(more);
	return r;
}

/* The pending exception, with its traceback, kept as the outcome. */
void
sockop_keep_error(struct sockop *op)
{
	PyObject	*type, *exc, *tb;

	PyErr_Fetch(&type, &exc, &tb);
	PyErr_NormalizeException(&type, &exc, &tb);
	if (tb != NULL)
		PyException_SetTraceback(exc, tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	op->value = exc;
	op->failed = 1;
}

/* Whether o is a sock_* operation (the ready queue holds both kinds). */
int
sock_op_check(PyObject *o)
{
	return Py_TYPE(o) == &op_type;
}

/* The outcome of an operation that is over: result() as the
 * coroutine's return value (1, in *out) or its exception (-1). */
static int
op_outcome(struct sockop *op, PyObject **out)
{
	op->consumed = 1;
	return (*out = sockop_result(op, NULL)) != NULL ? 1 : -1;
}

/* Advance the coroutine: 0 with the future to block on in *out (itself),
 * 1 with its return value, -1 with an exception. */
static int
op_step(struct sockop *op, PyObject **out)
{
	if (op->consumed) {
		PyErr_SetString(PyExc_RuntimeError,
		    "cannot reuse already awaited coroutine");
		return -1;
	}
	if (op->state == SOCKOP_NEW && sockop_start(op) != 0) {
		op->consumed = 1;
		op->state = SOCKOP_DONE;
		return -1;
	}
	if (op->state != SOCKOP_WAITING)
		return op_outcome(op, out);
	if (op->yielded) {
		/* As asyncio's Future.__await__ resumed too early. */
		op->consumed = 1;
		sockop_finish(op, SOCKOP_CANCELLED);
		PyErr_SetString(PyExc_RuntimeError,
		    "await wasn't used with future");
		return -1;
	}
	op->yielded = op->blocking = 1;
	*out = Py_NewRef((PyObject *)op);
	return 0;
}

static PyObject *
op_iternext(struct sockop *op)
{
	PyObject	*out = NULL, *stop;
	int		 r;

	if ((r = op_step(op, &out)) <= 0)
		return r == 0 ? out : NULL;
	if (out == Py_None) {
		Py_DECREF(out);
		return NULL;	/* StopIteration(None), implied */
	}
	stop = PyObject_CallOneArg(PyExc_StopIteration, out);
	Py_DECREF(out);
	if (stop != NULL) {
		PyErr_SetObject(PyExc_StopIteration, stop);
		Py_DECREF(stop);
	}
	return NULL;
}

static PyObject *
op_send_method(struct sockop *op, PyObject *arg)
{
	PyObject	*r = op_iternext(op);

	(void)arg;
	if (r == NULL && !PyErr_Occurred())
		PyErr_SetNone(PyExc_StopIteration);
	return r;
}

#if PY_VERSION_HEX >= 0x030A0000
static PySendResult
op_am_send(PyObject *self, PyObject *arg, PyObject **out)
{
	int	r;

	(void)arg;
	*out = NULL;
	r = op_step(sockop_of(self), out);
	return r == 0 ? PYGEN_NEXT : r > 0 ? PYGEN_RETURN : PYGEN_ERROR;
}
#endif

/* Stop waiting for good, quietly: the coroutine was thrown into or
 * closed. */
static int
op_abandon(struct sockop *op)
{
	op->consumed = 1;
	if (op->state != SOCKOP_NEW && op->state != SOCKOP_WAITING)
		return 0;
	Py_XSETREF(op->value, NULL);
	return sockop_finish(op, SOCKOP_CANCELLED);
}

/* Set what throw(type, value, tb) raises, as a coroutine that awaits a
 * future does: the traceback given (or the instance's own) is kept, and
 * the caller's frames are added above it as the exception leaves. */
static void
op_set_thrown(PyObject *type, PyObject *value, PyObject *tb)
{
	if (value == Py_None)
		value = NULL;
	if (tb == Py_None)
		tb = NULL;
	else if (tb != NULL && !PyTraceBack_Check(tb)) {
		PyErr_SetString(PyExc_TypeError,
		    "throw() third argument must be a traceback");
		return;
	}
	if (PyExceptionInstance_Check(type)) {
		if (value != NULL) {
			PyErr_SetString(PyExc_TypeError, "instance exception "
			    "may not have a separate value");
			return;
		}
		value = Py_NewRef(type);
		tb = tb != NULL ? Py_NewRef(tb) : PyException_GetTraceback(value);
		PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(value)), value, tb);
		return;
	}
	if (!PyExceptionClass_Check(type)) {
		PyErr_SetString(PyExc_TypeError,
		    "exceptions must derive from BaseException");
		return;
	}
	Py_INCREF(type);
	Py_XINCREF(value);
	Py_XINCREF(tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL && value != NULL)
		PyException_SetTraceback(value, tb);
	PyErr_Restore(type, value, tb);
}

/* throw(type[, value[, tb]]): raise it where the coroutine waits. */
static PyObject *
op_throw(struct sockop *op, PyObject *args)
{
	PyObject	*type, *value = NULL, *tb = NULL;

	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb))
		return NULL;
#if PY_VERSION_HEX >= 0x030C0000
	if (PyTuple_GET_SIZE(args) > 1 && PyErr_WarnEx(
	    PyExc_DeprecationWarning, "the (type, exc, tb) signature of "
	    "throw() is deprecated, use the single-arg signature instead.",
	    1) < 0)
		return NULL;
#endif
	if (op_abandon(op) != 0)
		return NULL;
	op_set_thrown(type, value, tb);
	return NULL;
}

static PyObject *
op_close(struct sockop *op, PyObject *unused)
{
	(void)unused;
	if (op_abandon(op) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *
op_await(PyObject *self)
{
	return Py_NewRef(self);
}

static PyObject *
op_repr(struct sockop *op)
{
	static const char *const states[] = {
		"created", "pending", "finished", "cancelled"
	};

	return PyUnicode_FromFormat("<apython.sock_operation %s %s fd=%d>",
	    op_names[op->kind], states[op->state], op->fd);
}

static int
op_traverse(struct sockop *op, visitproc visit, void *arg)
{
	Py_VISIT(op->loop);
	Py_VISIT(op->sock);
	Py_VISIT(op->arg);
	Py_VISIT(op->arg2);
	Py_VISIT(op->value);
	Py_VISIT(op->cb);
	Py_VISIT(op->ctx);
	Py_VISIT(op->more);
	return 0;
}

static int
op_clear(struct sockop *op)
{
	if (op->has_view) {
		PyBuffer_Release(&op->view);
		op->has_view = 0;
	}
	Py_CLEAR(op->loop);
	Py_CLEAR(op->sock);
	Py_CLEAR(op->arg);
	Py_CLEAR(op->arg2);
	Py_CLEAR(op->value);
	Py_CLEAR(op->cb);
	Py_CLEAR(op->ctx);
	Py_CLEAR(op->more);
	return 0;
}

/* As a coroutine that was never awaited, warn when one goes unused. */
static void
op_finalize(PyObject *self)
{
	struct sockop	*op = sockop_of(self);
	PyObject	*type, *value, *tb;

	if (op->state != SOCKOP_NEW || op->consumed)
		return;
	PyErr_Fetch(&type, &value, &tb);
	if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "coroutine "
	    "'BaseSelectorEventLoop.%s' was never awaited", op_names[op->kind]))
		PyErr_WriteUnraisable(self);
	PyErr_Restore(type, value, tb);
}

static void
op_dealloc(struct sockop *op)
{
	if (PyObject_CallFinalizerFromDealloc((PyObject *)op) < 0)
		return;	/* brought back to life by a warning's handler */
	PyObject_GC_UnTrack(op);
	op_clear(op);
	PyObject_GC_Del(op);
}

#define FASTKW	(METH_FASTCALL | METH_KEYWORDS)

/* The coroutine's methods, then the future's (sockfuture.c). */
static PyMethodDef op_methods[16];

static PyAsyncMethods op_async = {
	.am_await = op_await,
#if PY_VERSION_HEX >= 0x030A0000
	.am_send = op_am_send,
#endif
};

static PyTypeObject op_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.sock_operation",
	.tp_doc = "A sock_* call of apython.Loop: a coroutine, and the "
	    "future its task waits on.",
	.tp_basicsize = sizeof(struct sockop),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)op_traverse,
	.tp_clear = (inquiry)op_clear,
	.tp_dealloc = (destructor)op_dealloc,
	.tp_finalize = op_finalize,
	.tp_repr = (reprfunc)op_repr,
	.tp_as_async = &op_async,
	.tp_iter = op_await,
	.tp_iternext = (iternextfunc)op_iternext,
	.tp_methods = op_methods,
	.tp_getset = sockop_future_getset,
};

/* A new operation on args[0] with the method's arguments after it; NULL
 * when that is not a socket.socket itself, for asyncio's coroutine to
 * handle (no exception set then). */
PyObject *
sock_op_new(PyObject *loop, int kind, PyObject *const *args,
    Py_ssize_t nargs)
{
	struct sockop	*op;

	if ((PyObject *)Py_TYPE(args[0]) != socket_type)
		return NULL;
	if ((op = PyObject_GC_New(struct sockop, &op_type)) == NULL)
		return NULL;
	memset((char *)op + sizeof(PyObject), 0,
	    sizeof *op - sizeof(PyObject));
	op->loop = Py_NewRef(loop);
	op->sock = Py_NewRef(args[0]);
	op->arg = nargs > 1 ? Py_NewRef(args[1]) : NULL;
	op->arg2 = nargs > 2 ? Py_NewRef(args[2]) : NULL;
	op->kind = kind;
	op->fd = -1;
	PyObject_GC_Track(op);
	return (PyObject *)op;
}

/* Get ready; -1 with exception. */
int
sock_ready(void)
{
	static const PyMethodDef coro[] = {
		{ .ml_name = "send",
		  .ml_meth = (PyCFunction)op_send_method,
		  .ml_flags = METH_O },
		{ .ml_name = "throw",
		  .ml_meth = (PyCFunction)op_throw,
		  .ml_flags = METH_VARARGS },
		{ .ml_name = "close",
		  .ml_meth = (PyCFunction)op_close,
		  .ml_flags = METH_NOARGS },
		{ .ml_name = NULL },
	};
	const PyMethodDef *const tables[] = { coro, sockop_future_methods };
	PyObject	*m;

	if (loop_methods_join(op_methods, sizeof op_methods /
	    sizeof op_methods[0], tables, 2) != 0 ||
	    PyType_Ready(&op_type) != 0 || sockio_ready() != 0 ||
	    sockfuture_ready() != 0)
		return -1;
	if ((m = PyImport_ImportModule("socket")) == NULL)
		return -1;
	socket_type = PyObject_GetAttrString(m, "socket");
	Py_DECREF(m);
	return socket_type == NULL ? -1 : 0;
}
