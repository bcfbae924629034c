/* The run loop: one iteration in asyncio's order (wait for I/O, queue
 * what is ready, expire timers, run the ready handles), run_forever()
 * around it, and Python's signal wakeup fd pointed at the running loop. */
#include <math.h>
#include <stdatomic.h>
#include <unistd.h>

#include <event2/event.h>

#include "loop/loop-internal.h"

static PyObject *s_stopping;
/* asyncio.events: its _set_running_loop is looked up at each run, as
 * asyncio's run_forever does, so that a swapped-in one is called (ours,
 * hook.c, which tells the observers). */
static PyObject *asyncio_events;
static PyObject *s_set_running_loop;
static PyObject *get_agen_hooks, *set_agen_hooks;

/* Wait for I/O up to timeout seconds (<0: no limit), GIL released. */
static int
loop_wait(struct loop *self, double timeout)
{
	struct timeval	tv;
	double		t0;
	int		flags = EVLOOP_ONCE, r;

	/* ONCE as well: NONBLOCK alone goes round while fds stay ready.
	 * Threads queue work holding the GIL, so until it is released below
	 * none can slip in unseen; after, they see sleeping and wake us. */
	if (timeout == 0)
		flags |= EVLOOP_NONBLOCK;
	else {
		atomic_store(&self->sleeping, 1);
		if (timeout > 0) {
			if (timeout > 86400)
				timeout = 86400;
			tv.tv_sec = (time_t)timeout;
			tv.tv_usec = (suseconds_t)ceil((timeout - tv.tv_sec) * 1e6);
			evtimer_add(self->timeout_ev, &tv);
		}
	}
	/* Only a wait that may block lets other threads have the GIL. */
	if (flags & EVLOOP_NONBLOCK)
		r = event_base_loop(self->base, flags);
	else {
		t0 = stats_wait_begin(self);
		Py_BEGIN_ALLOW_THREADS
		r = event_base_loop(self->base, flags);
		Py_END_ALLOW_THREADS
		stats_wait_end(self, t0);
	}
	atomic_store(&self->sleeping, 0);
	atomic_store(&self->woken, 0);
	evtimer_del(self->timeout_ev);
	if (r < 0) {
		PyErr_SetString(PyExc_RuntimeError, "libevent: dispatch failed");
		return -1;
	}
	return 0;
}

/* watchers_dispatch callback: queue the handle of a ready fd, or drop a
 * cancelled one as asyncio does. */
static int
loop_io_ready(void *arg, int fd, int write, PyObject *h)
{
	struct loop	*self = arg;
	PyObject	*old;
	int		 c;

	if ((c = handle_cancelled(h)) < 0)
		return -1;
	if (c) {
		watchers_set(self->io, fd, write, NULL, &old);
		Py_XDECREF(old);
		return 0;
	}
	Py_INCREF(h);
	return loop_push_ready(self, h);
}

/* sockpoll_dispatch callback: queue a sock operation whose socket is
 * ready, as asyncio queues a reader's handle. */
static int
loop_queue_op(void *arg, PyObject *op)
{
	return loop_push_ready(arg, op);
}

/* Run one handle: its _run() reports its own errors to the loop's
 * exception handler; only KeyboardInterrupt or SystemExit come out.
 * Timed when debug mode was on as it started, as asyncio does (one that
 * turns it on is not). */
static int
loop_run_handle(struct loop *self, PyObject *h)
{
	int		 timed = self->debug, c;
	double		 t0 = timed ? loop_now() : 0;

	if (sock_op_check(h))
		return sock_op_run(h);
	if ((c = handle_cancelled(h)) != 0)
		return c < 0 ? -1 : 0;
	if (handle_run(h) != 0)
		return -1;
	return timed ? loop_check_slow(self, h, loop_now() - t0) : 0;
}

/* Run the handles that were ready when this pass began. Socket writes
 * made while they run are held and leave together when the pass ends
 * (wbatch.c): every pass ends here, so nothing stays held past it. */
static int
loop_run_queued(struct loop *self)
{
	PyObject	*h;
	size_t		 n = ring_len(self->ready);
	int		 c = 0;

	self->wb.thread = PyThread_get_thread_ident();
	self->wb.depth++;
	while (c == 0 && n-- > 0 && (h = ring_pop(self->ready)) != NULL) {
		if (h == self->last_soon)
			self->last_soon = NULL;
		handle_unpark(h);
		if ((c = loop_run_handle(self, h)) == 0)
			c = stats_after_callback(self, h);
		Py_DECREF(h);
	}
	self->wb.depth--;
	if (self->wb.n > 0 && wbatch_flush_all(self) != 0)
		c = -1;
	return c < 0 ? -1 : 0;
}

/* The timeout of this pass: 0 with work queued, else until the next timer. */
static int
loop_timeout(struct loop *self, double *timeout)
{
	PyObject	*v;
	double		 when;
	int		 stopping;

	if ((v = PyObject_GetAttr((PyObject *)self, s_stopping)) == NULL)
		return -1;
	stopping = PyObject_IsTrue(v);
	Py_DECREF(v);
	if (stopping < 0)
		return -1;
	*timeout = -1;
	if (ring_len(self->ready) > 0 || stopping)
		*timeout = 0;
	else if (heap_top(self->timers, &when) != NULL) {
		*timeout = when - loop_now();
		if (*timeout < 0)
			*timeout = 0;
	}
	return 0;
}

/* _run_once(): one iteration in asyncio's order: I/O callbacks, then
 * expired timers, then what was ready. */
static PyObject *
loop_run_once(struct loop *self, PyObject *unused)
{
	double	timeout, now;

	(void)unused;
	if (loop_prune_timers(self) != 0)
		return NULL;
	if (loop_timeout(self, &timeout) != 0 || loop_wait(self, timeout) != 0)
		return NULL;
	if (watchers_dispatch(self->io, loop_io_ready, self) != 0 ||
	    sockpoll_dispatch(self->sp, loop_queue_op, self) != 0)
		return NULL;
	if (PyErr_CheckSignals() != 0)
		return NULL;
	stats_turn(self, now = loop_now());
	if (loop_expire_timers(self, now) != 0 || loop_run_queued(self) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* The fd of self._csock, which Python's signal handler writes to. */
static int
loop_signal_fd(struct loop *self)
{
	PyObject	*sock, *fd;
	int		 r = -1;

	sock = PyObject_GetAttrString((PyObject *)self, "_csock");
	if (sock == NULL || sock == Py_None) {
		Py_XDECREF(sock);
		PyErr_Clear();
		return -1;
	}
	fd = PyObject_CallMethod(sock, "fileno", NULL);
	if (fd != NULL)
		r = (int)PyLong_AsLong(fd);
	Py_DECREF(sock);
	Py_XDECREF(fd);
	if (r < 0)
		PyErr_Clear();
	return r;
}

/* Call self.name(arg) (arg NULL: no argument) and drop the result. */
static int
loop_call(struct loop *self, const char *name, PyObject *arg)
{
	PyObject	*r;

	r = arg ? PyObject_CallMethod((PyObject *)self, name, "O", arg) :
	    PyObject_CallMethod((PyObject *)self, name, NULL);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Iterate until stop(): asyncio's run_forever() loop, in C. */
static int
loop_iterate(struct loop *self)
{
	PyObject	*r, *v;
	int		 stopping;

	for (;;) {
		if ((r = loop_run_once(self, NULL)) == NULL)
			return -1;
		Py_DECREF(r);
		if ((v = PyObject_GetAttr((PyObject *)self, s_stopping)) == NULL)
			return -1;
		stopping = PyObject_IsTrue(v);
		Py_DECREF(v);
		if (stopping != 0)
			return stopping < 0 ? -1 : 0;
	}
}

/* Set or clear what a running loop announces: its thread, the running
 * loop, async generator hooks, coroutine origin tracking. */
static int
loop_announce(struct loop *self, int on, PyObject **agen_hooks)
{
	PyObject	*tid, *first, *fin, *r = NULL;
	int		 rc;

	tid = on ? PyLong_FromUnsignedLong(PyThread_get_thread_ident()) :
	    Py_NewRef(Py_None);
	rc = tid == NULL || PyObject_SetAttrString((PyObject *)self,
	    "_thread_id", tid) != 0;
	Py_XDECREF(tid);
	if (!on && PyObject_SetAttrString((PyObject *)self, "_stopping",
	    Py_False) != 0)
		rc = 1;
	if (rc != 0)
		return -1;
	if (on) {
		first = PyObject_GetAttrString((PyObject *)self,
		    "_asyncgen_firstiter_hook");
		fin = PyObject_GetAttrString((PyObject *)self,
		    "_asyncgen_finalizer_hook");
		if (first != NULL && fin != NULL)
			r = PyObject_CallFunctionObjArgs(set_agen_hooks, first,
			    fin, NULL);
		Py_XDECREF(first);
		Py_XDECREF(fin);
	} else
		r = PyObject_CallObject(set_agen_hooks, *agen_hooks);
	Py_XDECREF(r);
	if (r == NULL)
		return -1;
	r = PyObject_CallMethodObjArgs(asyncio_events, s_set_running_loop,
	    on ? (PyObject *)self : Py_None, NULL);
	Py_XDECREF(r);
	if (r == NULL)
		return -1;
	return loop_call(self, "_set_coroutine_origin_tracking",
	    on && self->debug ? Py_True : Py_False);
}

/* run_forever()'s body, as asyncio's: check, announce, iterate, and
 * clean up whatever way the loop ends. */
static PyObject *
loop_run(struct loop *self)
{
	PyObject	*agen_hooks, *type, *value, *tb;
	int		 r;

	if (loop_call(self, "_check_closed", NULL) != 0 ||
	    loop_call(self, "_check_running", NULL) != 0)
		return NULL;
	if ((agen_hooks = PyObject_CallNoArgs(get_agen_hooks)) == NULL)
		return NULL;
	if ((r = loop_announce(self, 1, &agen_hooks)) == 0) {
		stats_run_begin(self);
		r = loop_iterate(self);
		stats_run_end(self);
	}
	PyErr_Fetch(&type, &value, &tb);
	if (loop_announce(self, 0, &agen_hooks) != 0) {
		if (type != NULL)
			PyErr_WriteUnraisable((PyObject *)self);
		else
			r = -1;
	}
	if (type != NULL)
		PyErr_Restore(type, value, tb);
	Py_DECREF(agen_hooks);
	if (r != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* signal.set_wakeup_fd(fd): the old fd, -2 with exception. */
static int
loop_set_wakeup_fd(int fd)
{
	PyObject	*signal, *r;
	int		 old = -2;

	if ((signal = PyImport_ImportModule("signal")) == NULL)
		return -2;
	r = PyObject_CallMethod(signal, "set_wakeup_fd", "i", fd);
	Py_DECREF(signal);
	if (r != NULL)
		old = (int)PyLong_AsLong(r);
	Py_XDECREF(r);
	return old == -1 && PyErr_Occurred() ? -2 : old;
}

/* run_forever(): asyncio's, with Python's signal wakeup fd pointed at
 * this loop while it runs in the main thread, so that Ctrl-C ends the
 * wait at once. */
static PyObject *
loop_run_forever(struct loop *self, PyObject *unused)
{
	PyObject	*r, *type, *value, *tb;
	int		 fd = -1, old = -1;

	(void)unused;
	if (loop_check_open(self) != 0)
		return NULL;
	if (loop_in_main_thread() &&
	    (fd = loop_signal_fd(self)) >= 0 &&
	    (old = loop_set_wakeup_fd(fd)) == -2)
		return NULL;
	r = loop_run(self);
	if (fd >= 0 && old != fd) {
		PyErr_Fetch(&type, &value, &tb);
		if (loop_set_wakeup_fd(old) == -2)
			PyErr_WriteUnraisable((PyObject *)self);
		PyErr_Restore(type, value, tb);
	}
	return r;
}

/* remove_signal_handler(sig): asyncio's; it drops the signal wakeup fd
 * with the last handler, so while we run, point it back at us. */
static PyObject *
loop_remove_signal_handler(struct loop *self, PyObject *sig)
{
	PyObject	*sup, *r, *running;
	int		 fd;

	sup = loop_super(self);
	r = sup ? PyObject_CallMethod(sup, "remove_signal_handler", "O", sig) :
	    NULL;
	Py_XDECREF(sup);
	if (r == NULL || !loop_in_main_thread())
		return r;
	running = PyObject_CallMethod((PyObject *)self, "is_running", NULL);
	if (running == Py_True && (fd = loop_signal_fd(self)) >= 0 &&
	    loop_set_wakeup_fd(fd) == -2)
		Py_CLEAR(r);
	if (running == NULL)
		Py_CLEAR(r);
	Py_XDECREF(running);
	return r;
}

/* module.name, or NULL with exception. */
static PyObject *
loop_import(const char *module, const char *name)
{
	PyObject	*m, *v;

	if ((m = PyImport_ImportModule(module)) == NULL)
		return NULL;
	v = PyObject_GetAttrString(m, name);
	Py_DECREF(m);
	return v;
}

const PyMethodDef loop_run_methods[] = {
	{ .ml_name = "_run_once",
	  .ml_meth = (PyCFunction)loop_run_once,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "run_forever",
	  .ml_meth = (PyCFunction)loop_run_forever,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "remove_signal_handler",
	  .ml_meth = (PyCFunction)loop_remove_signal_handler,
	  .ml_flags = METH_O },
	{ .ml_name = NULL },
};

/* Names and what run_forever() calls; -1 with exception. */
int
run_ready(void)
{
	if ((s_stopping = PyUnicode_InternFromString("_stopping")) == NULL ||
	    (asyncio_events = PyImport_ImportModule("asyncio.events")) == NULL ||
	    (s_set_running_loop = PyUnicode_InternFromString(
	    "_set_running_loop")) == NULL ||
	    (get_agen_hooks = loop_import("sys", "get_asyncgen_hooks")) == NULL ||
	    (set_agen_hooks = loop_import("sys", "set_asyncgen_hooks")) == NULL)
		return -1;
	return 0;
}
