/* The observers of the loops: told when a loop the policy made in the
 * main thread starts running, and when any loop is about to close. Each
 * is called in the order it was added. */
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

/* Mark a loop the policy made in the main thread: observers see it run. */
void
loop_set_observed(PyObject *loop)
{
	if (loop_in_main_thread())
		loop_of(loop)->observed = 1;
}

/* The loop starts running; -1 with exception when an observer fails
 * (those after it are not told). */
int
loop_notify_run(struct loop *self)
{
	size_t	i;

	if (!self->observed)
		return 0;
	for (i = 0; i < nobservers; i++)
		if (observers[i]->on_run != NULL &&
		    observers[i]->on_run((PyObject *)self) != 0)
			return -1;
	return 0;
}

/* The loop, not closed yet, is about to close: if it is not running,
 * tell the observers; -1 with exception. */
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
