/* The worker threads' hold on the GIL (attach.c, attach-ps.c): a
 * worker takes it only while Python lives, and Python's end waits,
 * briefly, for those that hold it. Also the loop a worker asks. */
#include "serve/serve-internal.h"

#include <pthread.h>
#include <time.h>

static int		 gil_users;	/* workers that may take the GIL; ps_lock */
static int		 finishing;	/* Python ends: no worker takes it */
static pthread_cond_t	 gil_idle = PTHREAD_COND_INITIALIZER;

/* A worker is about to take the GIL: -1 when Python is ending (then it
 * must not: PyGILState_Ensure during or after Py_FinalizeEx). */
int
worker_enter(void)
{
	int	r = -1;

	pthread_mutex_lock(&ps_lock);
	if (!finishing) {
		gil_users++;
		r = 0;
	}
	pthread_mutex_unlock(&ps_lock);
	return r;
}

/* The worker has released the GIL for good. */
void
worker_leave(void)
{
	pthread_mutex_lock(&ps_lock);
	if (--gil_users == 0)
		pthread_cond_broadcast(&gil_idle);
	pthread_mutex_unlock(&ps_lock);
}

/* Python ends (main thread, GIL held): no worker takes the GIL from now
 * on, and those that may are waited for, briefly, without it. */
void
workers_finish(void)
{
	struct timespec	until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&ps_lock);
	finishing = 1;
	while (gil_users > 0 &&
	    pthread_cond_timedwait(&gil_idle, &ps_lock, &until) == 0)
		;
	pthread_mutex_unlock(&ps_lock);
	Py_END_ALLOW_THREADS
}

/* In a forked child, its only thread: the workers were the parent's
 * threads. */
void
workers_forked(void)
{
	gil_users = 0;
}

/* The running loop, if the main thread runs one (new ref); GIL held. */
PyObject *
attach_running_loop(void)
{
	PyObject	*r;

	if (attach_running == NULL)
		return NULL;
	r = PyObject_CallMethod(attach_running, "is_running", NULL);
	if (r == NULL)
		PyErr_Clear();
	if (r != Py_True) {
		Py_XDECREF(r);
		return NULL;
	}
	Py_DECREF(r);
	return Py_NewRef(attach_running);
}

/* Worker, GIL held: run def's function (self: capsule) soon on the loop
 * the main thread runs. 0, or -1 when none runs or it refused (no
 * exception left). */
int
attach_call_soon(PyMethodDef *def, PyObject *capsule)
{
	PyObject	*loop, *fn, *h = NULL;

	if ((loop = attach_running_loop()) == NULL)
		return -1;
	if ((fn = PyCFunction_New(def, capsule)) != NULL)
		h = PyObject_CallMethod(loop, "call_soon_threadsafe", "O", fn);
	Py_XDECREF(fn);
	Py_DECREF(loop);
	if (h == NULL) {
		PyErr_Clear();
		return -1;
	}
	Py_DECREF(h);
	return 0;
}
