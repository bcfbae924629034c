/* A session joins a loop (its input starts, its task is made there) and
 * leaves it (input stops, the tasks the loop takes along are let go). */
#include "console/console-internal.h"

/* Say nothing when a task of a closed loop is collected. */
static void
attach_quiet_task(PyObject *task)
{
	PyObject	*r;
	int		 done = future_done(task);

	if (done > 0) {
		r = PyObject_CallMethod(task, "cancelled", NULL);
		if (r == Py_False)
			Py_XDECREF(PyObject_CallMethod(task, "exception", NULL));
		Py_XDECREF(r);
	} else if (done == 0)
		PyObject_SetAttrString(task, "_log_destroy_pending", Py_False);
	PyErr_Clear();
}

/* Leave the loop: stop reading, and forget tasks the loop takes along. */
void
session_detach(PyObject *self)
{
	struct session	*s = session_of(self);

	if (s->loop == NULL)
		return;
	/* The prompt the io took down is shown again on the next loop. */
	if (s->io->detach != NULL && s->io->detach(self) > 0)
		s->prompted = 0;
	if (s->task != NULL)
		attach_quiet_task(s->task);
	if (s->stmt != NULL)
		attach_quiet_task(s->stmt);
	Py_CLEAR(s->stmt);
	Py_CLEAR(s->waiter);
	Py_CLEAR(s->task);
	Py_CLEAR(s->loop);
}

/* create_task for the console coroutine, in the session's context. */
static PyObject *
attach_make_task(PyObject *self, void *coro)
{
	PyObject	*task, *r;

	task = PyObject_CallMethod(session_of(self)->loop, "create_task", "O", coro);
	if (task == NULL)
		return NULL;
	r = PyObject_CallMethod(task, "set_name", "s", "apython-console");
	Py_XDECREF(r);
	if (r == NULL)
		Py_CLEAR(task);
	return task;
}

/* Run the console on loop (once per loop): read lines, start its task. */
int
session_attach(PyObject *self, PyObject *loop)
{
	struct session	*s = session_of(self);
	PyObject	*coro;
	int		 r;

	if (s->loop == loop && s->task != NULL)
		return 0;
	if (s->loop != loop) {
		session_detach(self);
		s->loop = Py_NewRef(loop);
		/* A namespace not made yet gets it when made. */
		if (s->ns != NULL &&
		    PyDict_SetItemString(s->ns, "loop", loop) != 0)
			return -1;
		if (!s->eof && s->io->attach != NULL &&
		    s->io->attach(self, loop) != 0)
			return -1;
	}
	if ((coro = step_coro_new(self)) == NULL)
		return -1;
	r = session_run_in(self, attach_make_task, coro, &s->task);
	Py_DECREF(coro);
	return r;
}
