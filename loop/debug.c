/* Debug mode and what shows a loop: set_debug() and get_debug(), the
 * slow callback warning asyncio gives in debug mode, and repr(). */
#include <event2/event.h>

#include "loop/loop-internal.h"

static PyObject *base_events;		/* asyncio.base_events */
static PyObject *s_get_debug;

/* The debug flag of a loop (ours: set_debug's; others: get_debug()). */
int
loop_debug(PyObject *loop)
{
	if (PyObject_TypeCheck(loop, loop_core_type()))
		return loop_of(loop)->debug;
	return py_call_truth(loop, s_get_debug);
}

/* set_debug(enabled): asyncio's, and our own checks follow it. */
static PyObject *
loop_set_debug(struct loop *self, PyObject *enabled)
{
	PyObject	*sup, *r;
	int		 on;

	if ((on = PyObject_IsTrue(enabled)) < 0)
		return NULL;
	sup = loop_super(self);
	r = sup ? PyObject_CallMethod(sup, "set_debug", "O", enabled) : NULL;
	Py_XDECREF(sup);
	if (r != NULL)
		self->debug = on;
	return r;
}

/* get_debug(): as asyncio's, without a Python frame per future made. */
static PyObject *
loop_get_debug(struct loop *self, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(self->debug);
}

/* In debug mode, warn as asyncio does about a callback that took long. */
int
loop_check_slow(struct loop *self, PyObject *h, double dt)
{
	PyObject	*limit, *fmt, *logger, *r;
	double		 slow;

	if ((limit = PyObject_GetAttrString((PyObject *)self,
	    "slow_callback_duration")) == NULL)
		return -1;
	slow = PyFloat_AsDouble(limit);
	Py_DECREF(limit);
	if (slow == -1 && PyErr_Occurred())
		return -1;
	if (dt < slow)
		return 0;
	fmt = PyObject_CallMethod(base_events, "_format_handle", "O", h);
	logger = PyObject_GetAttrString(base_events, "logger");
	r = fmt && logger ? PyObject_CallMethod(logger, "warning", "sOd",
	    "Executing %s took %.3f seconds", fmt, dt) : NULL;
	Py_XDECREF(fmt);
	Py_XDECREF(logger);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* repr(): asyncio's facts, and what the loop holds. */
PyObject *
loop_repr(PyObject *o)
{
	struct loop	*self = loop_of(o);
	PyObject	*running;
	size_t		 fds = 0;

	if ((running = PyObject_CallMethod((PyObject *)self, "is_running",
	    NULL)) == NULL)
		return NULL;
	if (self->io != NULL)
		fds = watchers_count(self->io);
	Py_SETREF(running, PyUnicode_FromFormat("<%s running=%s closed=%s "
	    "debug=%s ready=%zu timers=%zu fds=%zu backend=%s>",
	    Py_TYPE(self)->tp_name, running == Py_True ? "True" : "False",
	    self->closed ? "True" : "False", self->debug ? "True" : "False",
	    self->ready ? ring_len(self->ready) : 0,
	    self->timers ? heap_len(self->timers) : 0, fds,
	    self->base ? event_base_get_method(self->base) : "none"));
	return running;
}

const PyMethodDef loop_debug_methods[] = {
	{ .ml_name = "set_debug",
	  .ml_meth = (PyCFunction)loop_set_debug,
	  .ml_flags = METH_O },
	{ .ml_name = "get_debug",
	  .ml_meth = (PyCFunction)loop_get_debug,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL },
};

/* What the slow callback warning needs; -1 with exception. */
int
debug_ready(void)
{
	if ((s_get_debug = PyUnicode_InternFromString("get_debug")) == NULL)
		return -1;
	base_events = PyImport_ImportModule("asyncio.base_events");
	return base_events == NULL ? -1 : 0;
}
