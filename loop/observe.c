/* The observers of the loops: told when any loop starts running in the
 * main thread (hook.c sees it), and when an apython loop is about to
 * close. Each is called in the order it was added. */
#include "loop/loop-internal.h"

#define LOOP_OBSERVERS	4

static const struct loop_observer *observers[LOOP_OBSERVERS];
static size_t nobservers;

/* Add an observer; -1 with exception when there are too many. */
int
loop_observe(const struct loop_observer *o)
{
	if (nobservers == LOOP_OBSERVERS) {
		PyErr_SetString(PyExc_RuntimeError, "too many loop observers");
		return -1;
	}
	observers[nobservers++] = o;
	return 0;
}

/* loop starts running in the main thread. An observer's error never
 * stops the program's loop: it is reported (sys.unraisablehook) and the
 * others are told; only KeyboardInterrupt or SystemExit (a signal's
 * handler ran in the observer's Python) come out: -1. */
int
loop_notify_run(PyObject *loop)
{
	size_t	i;

	for (i = 0; i < nobservers; i++) {
		if (observers[i]->on_run == NULL || observers[i]->on_run(loop) == 0)
			continue;
		if (!PyErr_ExceptionMatches(PyExc_Exception))
			return -1;
		PyErr_WriteUnraisable(loop);
	}
	return 0;
}

/* The apython loop, not closed yet, is about to close: if it is not
 * running, tell the observers; -1 with exception. */
int
loop_notify_close(struct loop *self)
{
	PyObject	*r;
	size_t		 i;

	if (nobservers == 0)
		return 0;
	if ((r = PyObject_CallMethod((PyObject *)self, "is_running",
	    NULL)) == NULL)
		return -1;
	for (i = 0; r == Py_False && i < nobservers; i++)
		if (observers[i]->on_close != NULL)
			observers[i]->on_close((PyObject *)self);
	Py_DECREF(r);
	return 0;
}
