/* The future's side of a sock_* operation, which tasks use while it
 * waits: done callbacks, result(), exception(), cancel(). */
#include "loop/loop-internal.h"

static PyObject *cancelled_error, *invalid_state;

/* Schedule fn(op) in ctx as asyncio's futures do, with call_soon. */
int
sockop_schedule(struct sockop *op, PyObject *fn, PyObject *ctx)
{
	return loop_soon_call(op->loop, fn, (PyObject *)op, ctx);
}

/* A new CancelledError, with the message cancel() was given. */
static PyObject *
op_cancelled_error(struct sockop *op)
{
	if (op->value == NULL || op->value == Py_None)
		return PyObject_CallNoArgs(cancelled_error);
	return PyObject_CallOneArg(cancelled_error, op->value);
}

/* Raise exc (a new reference, NULL when making it failed). */
static void
op_raise(PyObject *exc)
{
	if (exc != NULL)
		py_exception_raise(exc);
}

static PyObject *
op_get_blocking(struct sockop *op, void *unused)
{
	(void)unused;
	if (!op->yielded)
		Py_RETURN_NONE;	/* not a future before it waits */
	return PyBool_FromLong(op->blocking);
}

static int
op_set_blocking(struct sockop *op, PyObject *v, void *unused)
{
	int	on;

	(void)unused;
	if (v == NULL || (on = PyObject_IsTrue(v)) < 0) {
		if (v == NULL)
			PyErr_SetString(PyExc_AttributeError, "cannot delete");
		return -1;
	}
	op->blocking = on;
	return 0;
}

static PyObject *
op_get_loop(struct sockop *op, PyObject *unused)
{
	(void)unused;
	return Py_NewRef(op->loop);
}

static const char *const add_done_params[] = { "fn", "context", NULL };
static const struct loop_args add_done_args = {
	.name = "add_done_callback", .params = add_done_params,
	.npos = 1, .kwfrom = 1, .need = 1,
	.usage = "add_done_callback(fn, *, context=None)",
	.badkw = "add_done_callback(fn, *, context=None)",
};

/* add_done_callback(fn, *, context=None) */
static PyObject *
op_add_done_callback(struct sockop *op, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject	*a[2], *ctx = NULL, *t;
	int		 r;

	if (loop_args_parse(&add_done_args, args, nargs, kwnames, a) != 0)
		return NULL;
	if (a[1] != NULL && a[1] != Py_None)
		ctx = Py_NewRef(a[1]);
	else if ((ctx = PyContext_CopyCurrent()) == NULL)
		return NULL;
	if (!sockop_pending(op)) {
		r = sockop_schedule(op, a[0], ctx);
		Py_DECREF(ctx);
		return r == 0 ? Py_NewRef(Py_None) : NULL;
	}
	if (op->cb == NULL) {
		op->cb = Py_NewRef(a[0]);
		op->ctx = ctx;
		Py_RETURN_NONE;
	}
	if (op->more == NULL && (op->more = PyList_New(0)) == NULL) {
		Py_DECREF(ctx);
		return NULL;
	}
	t = PyTuple_Pack(2, a[0], ctx);
	Py_DECREF(ctx);
	r = t ? PyList_Append(op->more, t) : -1;
	Py_XDECREF(t);
	return r == 0 ? Py_NewRef(Py_None) : NULL;
}

/* remove_done_callback(fn): how many were removed. */
static PyObject *
op_remove_done_callback(struct sockop *op, PyObject *fn)
{
	Py_ssize_t	 i, removed = 0;
	int		 eq;

	if (op->cb != NULL) {
		if ((eq = PyObject_RichCompareBool(op->cb, fn, Py_EQ)) < 0)
			return NULL;
		if (eq) {
			Py_CLEAR(op->cb);
			Py_CLEAR(op->ctx);
			removed++;
		}
	}
	for (i = op->more ? PyList_GET_SIZE(op->more) - 1 : -1; i >= 0; i--) {
		eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(
		    PyList_GET_ITEM(op->more, i), 0), fn, Py_EQ);
		if (eq < 0 || (eq && PySequence_DelItem(op->more, i) != 0))
			return NULL;
		removed += eq;
	}
	return PyLong_FromSsize_t(removed);
}

static PyObject *
op_done(struct sockop *op, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(!sockop_pending(op));
}

static PyObject *
op_cancelled(struct sockop *op, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(op->state == SOCKOP_CANCELLED);
}

static PyObject *
op_exception(struct sockop *op, PyObject *unused)
{
	(void)unused;
	if (sockop_pending(op)) {
		PyErr_SetString(invalid_state, "Exception is not set.");
		return NULL;
	}
	if (op->state == SOCKOP_CANCELLED) {
		op_raise(op_cancelled_error(op));
		return NULL;
	}
	return Py_NewRef(op->failed ? op->value : Py_None);
}

/* result(): the outcome, raised when it is an exception. */
PyObject *
sockop_result(struct sockop *op, PyObject *unused)
{
	(void)unused;
	if (sockop_pending(op)) {
		PyErr_SetString(invalid_state, "Result is not ready.");
		return NULL;
	}
	if (op->state == SOCKOP_CANCELLED) {
		op_raise(op_cancelled_error(op));
		return NULL;
	}
	if (op->failed) {
		op_raise(Py_NewRef(op->value));
		return NULL;
	}
	return Py_NewRef(op->value);
}

static const char *const cancel_params[] = { "msg", NULL };
static const struct loop_args cancel_args = {
	.name = "cancel", .params = cancel_params, .npos = 1,
	.usage = "cancel(msg=None)", .badkw = "cancel(msg=None)",
};

/* cancel(msg=None): stop waiting; the awaiting task gets CancelledError. */
static PyObject *
op_cancel(struct sockop *op, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*msg;

	if (loop_args_parse(&cancel_args, args, nargs, kwnames, &msg) != 0)
		return NULL;
	if (msg == NULL)
		msg = Py_None;
	if (!sockop_pending(op))
		Py_RETURN_FALSE;
	Py_XSETREF(op->value, Py_NewRef(msg));
	if (sockop_finish(op, SOCKOP_CANCELLED) != 0)
		return NULL;
	Py_RETURN_TRUE;
}


const PyMethodDef sockop_future_methods[] = {
	{ .ml_name = "get_loop",
	  .ml_meth = (PyCFunction)op_get_loop,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "add_done_callback",
	  .ml_meth = (PyCFunction)(void (*)(void))op_add_done_callback,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "remove_done_callback",
	  .ml_meth = (PyCFunction)op_remove_done_callback,
	  .ml_flags = METH_O },
	{ .ml_name = "done",
	  .ml_meth = (PyCFunction)op_done,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "cancelled",
	  .ml_meth = (PyCFunction)op_cancelled,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "result",
	  .ml_meth = (PyCFunction)sockop_result,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "exception",
	  .ml_meth = (PyCFunction)op_exception,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "cancel",
	  .ml_meth = (PyCFunction)(void (*)(void))op_cancel,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = NULL },
};

PyGetSetDef sockop_future_getset[] = {
	{ .name = "_asyncio_future_blocking",
	  .get = (getter)op_get_blocking,
	  .set = (setter)op_set_blocking },
	{ .name = NULL },
};

/* asyncio's exceptions; -1 with exception. */
int
sockfuture_ready(void)
{
	PyObject	*m;

	if ((m = PyImport_ImportModule("asyncio.exceptions")) == NULL)
		return -1;
	if ((cancelled_error = PyObject_GetAttrString(m,
	    "CancelledError")) != NULL)
		invalid_state = PyObject_GetAttrString(m, "InvalidStateError");
	Py_DECREF(m);
	return invalid_state == NULL ? -1 : 0;
}
