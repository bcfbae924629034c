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
	op->value = py_exception_fetch();
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

/* send(value): the value is ignored, as a future's __await__ does. */
static int
op_send(PyObject *self, PyObject *value, PyObject **out)
{
	(void)value;
	return op_step(sockop_of(self), out);
}

/* throw(): stop waiting and raise exc where the coroutine waits. */
static int
op_throw(PyObject *self, PyObject *exc, PyObject **out)
{
	(void)out;
	if (op_abandon(sockop_of(self)) != 0)
		return -1;
	py_exception_raise(Py_NewRef(exc));
	return -1;
}

static int
op_close(PyObject *self)
{
	return op_abandon(sockop_of(self));
}

static const struct py_coro_ops op_coro = {
	.send = op_send,
	.throw = op_throw,
	.close = op_close,
};

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
	.tp_as_async = &py_coro_async,
	.tp_iter = py_coro_self,
	.tp_iternext = py_coro_next,
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
	op->coro_ops = &op_coro;
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
		PY_CORO_METHODS,
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
