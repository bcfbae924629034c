/* The loop's core in C: ready queue, timer heap, fd watchers on libevent,
 * and one iteration of the loop in asyncio's order. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "loop/loop.h"

struct loop {
	PyObject_HEAD
	struct event_base	*base;
	struct event		*timeout_ev;
	struct event		*wake_ev;
	int			 wake_fd;	/* eventfd: threads wake us */
	struct ring		*ready;	/* loop._ready shows it (ready.c) */
	struct heap		*timers;
	size_t			 cancelled;	/* cancelled timers in the heap */
	struct watchers		*io;
	struct sockpoll		*sp;		/* where sock_* wait, once used */
	PyObject		*future_kw;	/* {'loop': self} */
	PyObject		*last_soon;	/* newest queued handle, borrowed */
	char			*read_buf;	/* LOOP_READ_MAX bytes, once used */
	int			 read_busy;	/* read_buf holds bytes not copied */
	atomic_int		 sleeping;
	atomic_int		 woken;		/* eventfd written, not yet read */
	int			 closed;
	int			 debug;		/* set_debug(): asyncio's checks */
	int			 eligible;	/* the console may attach */
	struct loop		*next;		/* all loops, for fork */
	double			 resolution;
};

static PyTypeObject loop_type;
static struct loop_hooks hooks;
static PyObject *s_stopping;
static unsigned long main_thread;
static struct loop *all_loops;
static PyObject *base_events;		/* asyncio.base_events */
/* asyncio.events: its _set_running_loop is looked up at each run, as
 * asyncio's run_forever does, so that a swapped-in one is called. */
static PyObject *asyncio_events;
static PyObject *s_set_running_loop;
static PyObject *get_agen_hooks, *set_agen_hooks;
static PyObject *futures;		/* asyncio.futures */
static PyObject *s_future, *s_context, *empty_tuple;

/* super(LoopCore, self): asyncio's methods behind ours. */
static PyObject *
loop_super(struct loop *self)
{
	return PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type,
	    (PyObject *)&loop_type, (PyObject *)self, NULL);
}

/* The debug flag of a loop (ours: set_debug's; others: get_debug()). */
int
loop_debug(PyObject *loop)
{
	PyObject	*r;
	int		 on;

	if (PyObject_TypeCheck(loop, &loop_type))
		return ((struct loop *)loop)->debug;
	if ((r = PyObject_CallMethod(loop, "get_debug", NULL)) == NULL)
		return -1;
	on = PyObject_IsTrue(r);
	Py_DECREF(r);
	return on;
}

/* Let the console follow loops. */
void
loop_set_hooks(const struct loop_hooks *h)
{
	hooks = *h;
}

/* Mark a loop the policy made in the main thread. */
void
loop_set_eligible(PyObject *self)
{
	if (PyThread_get_thread_ident() == main_thread)
		((struct loop *)self)->eligible = 1;
}

/* Seconds on CLOCK_MONOTONIC, as time.monotonic(). */
static double
loop_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Raise when the loop is closed, as asyncio does; in debug mode also
 * when called from a thread other than the loop's. */
static int
loop_check_open(struct loop *self)
{
	PyObject	*r;

	if (self->closed) {
		PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
		return -1;
	}
	if (!self->debug)
		return 0;
	r = PyObject_CallMethod((PyObject *)self, "_check_thread", NULL);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Refuse what asyncio refuses as a callback. */
static int
loop_check_callback(PyObject *cb, const char *method)
{
	if (PyCoro_CheckExact(cb) || (PyFunction_Check(cb) &&
	    ((PyCodeObject *)PyFunction_GET_CODE(cb))->co_flags &
	    CO_COROUTINE)) {
		PyErr_Format(PyExc_TypeError,
		    "coroutines cannot be used with %s()", method);
		return -1;
	}
	if (!PyCallable_Check(cb)) {
		PyErr_Format(PyExc_TypeError,
		    "a callable object was expected by %s(), got %R", method, cb);
		return -1;
	}
	return 0;
}

/* A tuple of n objects from an array. */
static PyObject *
loop_tuple(PyObject *const *items, Py_ssize_t n)
{
	PyObject	*t;
	Py_ssize_t	 i;

	if ((t = PyTuple_New(n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		Py_INCREF(items[i]);
		PyTuple_SET_ITEM(t, i, items[i]);
	}
	return t;
}

/* Split fastcall arguments: the callback at args[first], the rest of the
 * positionals as a tuple, and an optional context= keyword. */
static int
loop_parse_callback(PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames, Py_ssize_t first, const char *method, PyObject **cb,
    PyObject **cbargs, PyObject **context)
{
	Py_ssize_t	nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	*context = Py_None;
	if (nargs <= first) {
		PyErr_Format(PyExc_TypeError, "%s() missing required arguments",
		    method);
		return -1;
	}
	/* Keyword names come interned: compare pointers first. */
	if (nkw > 1 || (nkw == 1 && PyTuple_GET_ITEM(kwnames, 0) != s_context &&
	    PyUnicode_Compare(PyTuple_GET_ITEM(kwnames, 0), s_context) != 0)) {
		PyErr_Format(PyExc_TypeError,
		    "%s() got an unexpected keyword argument", method);
		return -1;
	}
	if (nkw == 1)
		*context = args[nargs];
	*cb = args[first];
	if (loop_check_callback(*cb, method) != 0)
		return -1;
	*cbargs = loop_tuple(args + first + 1, nargs - first - 1);
	return *cbargs == NULL ? -1 : 0;
}

/* Queue h (a new reference, consumed) to run in the next iteration. */
static int
loop_push_ready(struct loop *self, PyObject *h)
{
	if (ring_push(self->ready, h) == 0)
		return 0;
	Py_DECREF(h);
	PyErr_NoMemory();
	return -1;
}

/* time(): the loop's clock. */
static PyObject *
loop_time(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyFloat_FromDouble(loop_now());
}

/* Make a Handle for cb(*cbargs) and queue it. */
static PyObject *
loop_soon(struct loop *self, PyObject *cb, PyObject *cbargs, PyObject *ctx)
{
	PyObject	*h;

	h = handle_new((PyObject *)self, cb, cbargs, ctx, self->debug);
	if (h == NULL)
		return NULL;
	Py_INCREF(h);
	if (loop_push_ready(self, h) != 0) {
		Py_DECREF(h);
		return NULL;
	}
	/* Its caller has let go of the one before, or never will. */
	if (self->last_soon != NULL)
		handle_park(self->last_soon);
	self->last_soon = h;
	return h;
}

/* call_soon(cb, arg, context=ctx) from C, for sock operations' futures. */
int
loop_soon_call(PyObject *loop, PyObject *cb, PyObject *arg, PyObject *ctx)
{
	PyObject	*args, *h;

	if ((args = PyTuple_Pack(1, arg)) == NULL)
		return -1;
	h = loop_soon((struct loop *)loop, cb, args, ctx);
	Py_DECREF(args);
	Py_XDECREF(h);
	return h == NULL ? -1 : 0;
}

/* The loop's sock_* epoll set, made on first need when create is set;
 * NULL (with an exception only if create was set) when there is none. */
struct sockpoll *
loop_sockpoll(PyObject *loop, int create)
{
	struct loop	*self = (struct loop *)loop;

	if (self->sp != NULL || !create)
		return self->sp;
	if (self->closed) {
		PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
		return NULL;
	}
	return self->sp = sockpoll_new(self->base);
}

/* The loop's read buffer for a transport's recv, LOOP_READ_MAX bytes,
 * until loop_read_release(); NULL (without exception) when loop is not
 * ours, its buffer is in use (Python run before the copy read again) or
 * cannot be made: the caller reads into one of its own. */
char *
loop_read_buffer(PyObject *loop)
{
	struct loop	*self = (struct loop *)loop;

	if (!PyObject_TypeCheck(loop, &loop_type) || self->read_busy)
		return NULL;
	if (self->read_buf == NULL &&
	    (self->read_buf = PyMem_RawMalloc(LOOP_READ_MAX)) == NULL)
		return NULL;
	self->read_busy = 1;
	return self->read_buf;
}

/* The bytes loop_read_buffer() gave room for are copied. */
void
loop_read_release(PyObject *loop)
{
	((struct loop *)loop)->read_busy = 0;
}

/* call_soon(callback, *args, context=None) */
static PyObject *
loop_call_soon(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*cb, *cbargs, *ctx, *h;

	if (loop_check_open(self) != 0)
		return NULL;
	if (loop_parse_callback(args, nargs, kwnames, 0, "call_soon", &cb,
	    &cbargs, &ctx) != 0)
		return NULL;
	h = loop_soon(self, cb, cbargs, ctx);
	Py_DECREF(cbargs);
	return h;
}

/* _call_soon(callback, args, context): asyncio's internal form. */
static PyObject *
loop_call_soon_internal(struct loop *self, PyObject *const *args,
    Py_ssize_t nargs)
{
	if (nargs != 3 || !PyTuple_Check(args[1])) {
		PyErr_SetString(PyExc_TypeError,
		    "_call_soon(callback, args, context)");
		return NULL;
	}
	return loop_soon(self, args[0], args[1], args[2]);
}

/* Schedule cb(*cbargs) at when (the object given, and as a double). */
static PyObject *
loop_at(struct loop *self, PyObject *when, double at, PyObject *cb,
    PyObject *cbargs, PyObject *ctx)
{
	PyObject	*h;

	h = timer_new((PyObject *)self, when, cb, cbargs, ctx, self->debug);
	if (h == NULL)
		return NULL;
	timer_set_scheduled(h, 1);
	if (heap_push(self->timers, at, h) != 0) {
		Py_DECREF(h);
		return PyErr_NoMemory();
	}
	Py_INCREF(h);
	return h;
}

/* call_at(when, callback, *args, context=None) */
static PyObject *
loop_call_at(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*cb, *cbargs, *ctx, *h;
	double		 at;

	if (loop_check_open(self) != 0)
		return NULL;
	if (loop_parse_callback(args, nargs, kwnames, 1, "call_at", &cb,
	    &cbargs, &ctx) != 0)
		return NULL;
	at = PyFloat_AsDouble(args[0]);
	h = at == -1 && PyErr_Occurred() ? NULL :
	    loop_at(self, args[0], at, cb, cbargs, ctx);
	Py_DECREF(cbargs);
	return h;
}

/* call_later(delay, callback, *args, context=None) */
static PyObject *
loop_call_later(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*cb, *cbargs, *ctx, *h = NULL, *when;
	double		 delay;

	if (loop_check_open(self) != 0)
		return NULL;
	if (loop_parse_callback(args, nargs, kwnames, 1, "call_later", &cb,
	    &cbargs, &ctx) != 0)
		return NULL;
	if (args[0] == Py_None)
		PyErr_SetString(PyExc_TypeError, "delay must not be None");
	else if ((delay = PyFloat_AsDouble(args[0])) != -1 || !PyErr_Occurred()) {
		when = PyFloat_FromDouble(loop_now() + delay);
		if (when != NULL)
			h = loop_at(self, when, PyFloat_AS_DOUBLE(when), cb,
			    cbargs, ctx);
		Py_XDECREF(when);
	}
	Py_DECREF(cbargs);
	return h;
}

/* Wake the loop if it sleeps (any thread). */
static void
loop_wake(struct loop *self)
{
	uint64_t	one = 1;
	ssize_t		n;

	/* One write wakes it: later callers see woken and need not. It
	 * fails only when the eventfd is full, so readable: it wakes. */
	if (atomic_load(&self->sleeping) && !atomic_exchange(&self->woken, 1)) {
		n = write(self->wake_fd, &one, sizeof one);
		(void)n;
	}
}

/* call_soon_threadsafe(callback, *args, context=None): the same FIFO as
 * call_soon (the GIL guards it, as it guards asyncio's deque), and the
 * eventfd is written only when the loop sleeps. */
static PyObject *
loop_call_soon_threadsafe(struct loop *self, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject	*cb, *cbargs, *ctx, *h;

	if (self->closed) {
		PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
		return NULL;
	}
	if (loop_parse_callback(args, nargs, kwnames, 0,
	    "call_soon_threadsafe", &cb, &cbargs, &ctx) != 0)
		return NULL;
	h = loop_soon(self, cb, cbargs, ctx);
	Py_DECREF(cbargs);
	if (h != NULL)
		loop_wake(self);
	return h;
}

/* _write_to_self(): asyncio's way to wake the loop from elsewhere. */
static PyObject *
loop_write_to_self(struct loop *self, PyObject *unused)
{
	(void)unused;
	loop_wake(self);
	Py_RETURN_NONE;
}

/* _add_callback(handle): queue a handle asyncio made itself. */
static PyObject *
loop_add_callback(struct loop *self, PyObject *h)
{
	int	c;

	if ((c = handle_cancelled(h)) < 0)
		return NULL;
	if (!c) {
		Py_INCREF(h);
		if (loop_push_ready(self, h) != 0)
			return NULL;
	}
	Py_RETURN_NONE;
}

/* _timer_handle_cancelled(handle): count it for heap compaction. */
static PyObject *
loop_timer_handle_cancelled(struct loop *self, PyObject *h)
{
	if (timer_scheduled(h))
		self->cancelled++;
	Py_RETURN_NONE;
}

/* Take a timer out of the heap: no longer scheduled. */
static void
loop_unschedule(void *h)
{
	timer_set_scheduled(h, 0);
	Py_DECREF((PyObject *)h);
}

/* heap_filter callback, which runs no Python: keep timers not known to be
 * cancelled; one whose _cancelled is not a bool waits for the head
 * pruning, which may ask Python. */
static int
loop_keep_timer(void *h, void *arg)
{
	(void)arg;
	return handle_cancelled_bool(h) != 1;
}

/* Drop cancelled timers: all of them when they are most of the heap
 * (asyncio's rule), else those at its head. */
static int
loop_prune_timers(struct loop *self)
{
	PyObject	*h;
	size_t		 n;
	int		 c;

	/* Counted again from 0 before the drops, whose finalizers may cancel
	 * timers; out of memory, only the head is pruned. */
	if (heap_len(self->timers) > 100 &&
	    self->cancelled * 2 > heap_len(self->timers)) {
		n = self->cancelled;
		self->cancelled = 0;
		if (heap_filter(self->timers, loop_keep_timer, loop_unschedule,
		    NULL) == 0)
			return 0;
		self->cancelled = n;
	}
	while ((h = heap_top(self->timers, NULL)) != NULL) {
		if ((c = handle_cancelled(h)) < 0)
			return -1;
		if (!c)
			break;
		if (self->cancelled > 0)
			self->cancelled--;
		loop_unschedule(heap_pop(self->timers));
	}
	return 0;
}

/* libevent callback for the eventfd: drain it (no GIL here). */
static void
loop_woken(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	n;
	ssize_t		r;

	(void)what;
	(void)arg;
	r = read(fd, &n, sizeof n);
	(void)r;
}

/* libevent callback for the deadline: its only job is to end the wait. */
static void
loop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Wait for I/O up to timeout seconds (<0: no limit), GIL released. */
static int
loop_wait(struct loop *self, double timeout)
{
	struct timeval	tv;
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
		Py_BEGIN_ALLOW_THREADS
		r = event_base_loop(self->base, flags);
		Py_END_ALLOW_THREADS
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

/* Move expired timers to the ready queue. */
static int
loop_expire_timers(struct loop *self)
{
	PyObject	*h;
	double		 when, end = loop_now() + self->resolution;

	while ((h = heap_top(self->timers, &when)) != NULL && when < end) {
		heap_pop(self->timers);
		timer_set_scheduled(h, 0);
		if (loop_push_ready(self, h) != 0)
			return -1;
	}
	return 0;
}

/* In debug mode, warn as asyncio does about a callback that took long. */
static int
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

/* Run one handle: its _run() reports its own errors to the loop's
 * exception handler; only KeyboardInterrupt or SystemExit come out. */
static int
loop_run_handle(struct loop *self, PyObject *h)
{
	double		 t0 = self->debug ? loop_now() : 0;
	int		 c;

	if (sock_op_check(h))
		return sock_op_run(h);
	if ((c = handle_cancelled(h)) != 0)
		return c < 0 ? -1 : 0;
	if (handle_run(h) != 0)
		return -1;
	return self->debug ? loop_check_slow(self, h, loop_now() - t0) : 0;
}

/* Run the handles that were ready when this pass began. */
static int
loop_run_ready(struct loop *self)
{
	PyObject	*h;
	size_t		 n = ring_len(self->ready);
	int		 c;

	while (n-- > 0 && (h = ring_pop(self->ready)) != NULL) {
		if (h == self->last_soon)
			self->last_soon = NULL;
		handle_unpark(h);
		c = loop_run_handle(self, h);
		Py_DECREF(h);
		if (c < 0)
			return -1;
	}
	return 0;
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
	double	timeout;

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
	if (loop_expire_timers(self) != 0 || loop_run_ready(self) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* Set the reader (write=0) or writer of fd to handle or to nothing. */
static int
loop_set_watcher(struct loop *self, PyObject *fdobj, int write,
    PyObject *h, int *had)
{
	PyObject	*old;
	int		 fd;

	if ((fd = PyObject_AsFileDescriptor(fdobj)) < 0)
		return -1;
	if (watchers_set(self->io, fd, write, h, &old) != 0) {
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	*had = old != NULL;
	if (old == NULL)
		return 0;
	/* As asyncio: the replaced handle is cancelled. */
	h = PyObject_CallMethod(old, "cancel", NULL);
	Py_DECREF(old);
	Py_XDECREF(h);
	return h == NULL ? -1 : 0;
}

/* _add_reader/_add_writer(fd, callback, *args) */
static PyObject *
loop_add_watcher(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    int write)
{
	PyObject	*cbargs, *h;
	int		 had;

	if (loop_check_open(self) != 0)
		return NULL;
	if (nargs < 2) {
		PyErr_SetString(PyExc_TypeError, "expected fd and callback");
		return NULL;
	}
	if ((cbargs = loop_tuple(args + 2, nargs - 2)) == NULL)
		return NULL;
	h = handle_new((PyObject *)self, args[1], cbargs, Py_None, self->debug);
	Py_DECREF(cbargs);
	if (h != NULL && loop_set_watcher(self, args[0], write, h, &had) != 0)
		Py_CLEAR(h);
	return h;
}

static PyObject *
loop_add_reader(struct loop *self, PyObject *const *args, Py_ssize_t nargs)
{
	return loop_add_watcher(self, args, nargs, 0);
}

static PyObject *
loop_add_writer(struct loop *self, PyObject *const *args, Py_ssize_t nargs)
{
	return loop_add_watcher(self, args, nargs, 1);
}

/* _remove_reader/_remove_writer(fd): True when one was removed. */
static PyObject *
loop_remove_watcher(struct loop *self, PyObject *fd, int write)
{
	int	had;

	if (self->closed)
		Py_RETURN_FALSE;
	if (loop_set_watcher(self, fd, write, NULL, &had) != 0)
		return NULL;
	return PyBool_FromLong(had);
}

static PyObject *
loop_remove_reader(struct loop *self, PyObject *fd)
{
	return loop_remove_watcher(self, fd, 0);
}

static PyObject *
loop_remove_writer(struct loop *self, PyObject *fd)
{
	return loop_remove_watcher(self, fd, 1);
}

/* _process_events(events): selectors' hook; libevent feeds us instead. */
static PyObject *
loop_process_events(PyObject *self, PyObject *events)
{
	(void)self;
	(void)events;
	Py_RETURN_NONE;
}

/* _make_socket_transport(sock, protocol, waiter=None, *, extra=None,
 * server=None): a transport with C read and write paths. */
static PyObject *
loop_make_socket_transport(struct loop *self, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	return transport_make((PyObject *)self, args, nargs, kwnames);
}

/* Place keyword arguments among the positional ones by the names of
 * the parameters; the count in *n; -1 with TypeError as Python's. */
static int
loop_sock_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
    const char *name, const char *const *params, PyObject **out,
    Py_ssize_t *n)
{
	Py_ssize_t	i, k, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	for (i = 0; params[i] != NULL; i++)
		out[i] = i < nargs ? args[i] : NULL;
	if (nargs > i) {
		PyErr_Format(PyExc_TypeError, "%s() takes %zd positional "
		    "arguments but %zd were given", name, i + 1, nargs + 1);
		return -1;
	}
	for (k = 0; k < nkw; k++) {
		for (i = 0; params[i] != NULL && PyUnicode_CompareWithASCIIString(
		    PyTuple_GET_ITEM(kwnames, k), params[i]) != 0; i++)
			;
		if (params[i] == NULL || out[i] != NULL) {
			PyErr_Format(PyExc_TypeError, params[i] ? "%s() got "
			    "multiple values for argument '%U'" : "%s() got an "
			    "unexpected keyword argument '%U'", name,
			    PyTuple_GET_ITEM(kwnames, k));
			return -1;
		}
		out[i] = args[nargs + k];
	}
	for (*n = 0; params[*n] != NULL && out[*n] != NULL; (*n)++)
		;
	return 0;
}

/* A sock_* method with need required parameters: our operation for a
 * socket.socket, asyncio's coroutine for anything else. */
static PyObject *
loop_sock_op(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames, int kind, const char *name, const char *const *params,
    Py_ssize_t need)
{
	PyObject	*op, *sup, *meth, *all[4];
	Py_ssize_t	 n;

	if (loop_sock_args(args, nargs, kwnames, name, params, all, &n) != 0)
		return NULL;
	if (n < need) {
		PyErr_Format(PyExc_TypeError, "%s() missing required argument "
		    "'%s'", name, params[n]);
		return NULL;
	}
	if (loop_check_open(self) != 0)
		return NULL;
	if ((op = sock_op_new((PyObject *)self, kind, all, n)) != NULL ||
	    PyErr_Occurred())
		return op;
	if ((sup = loop_super(self)) == NULL)
		return NULL;
	meth = PyObject_GetAttrString(sup, name);
	Py_DECREF(sup);
	if (meth == NULL)
		return NULL;
	op = PyObject_Vectorcall(meth, all, n, NULL);
	Py_DECREF(meth);
	return op;
}

/* loop_<m>(): the sock_* method m; need of its parameters are required. */
#define LOOP_SOCK_METHOD(m, kind, need, ...)				\
static PyObject *							\
loop_##m(struct loop *self, PyObject *const *args, Py_ssize_t nargs,	\
    PyObject *kwnames)							\
{									\
	static const char *const params[] = { __VA_ARGS__, NULL };	\
									\
	return loop_sock_op(self, args, nargs, kwnames, kind, #m, params, \
	    need);							\
}

LOOP_SOCK_METHOD(sock_recv, SOCK_RECV, 2, "sock", "n")
LOOP_SOCK_METHOD(sock_recv_into, SOCK_RECV_INTO, 2, "sock", "buf")
LOOP_SOCK_METHOD(sock_sendall, SOCK_SENDALL, 2, "sock", "data")
LOOP_SOCK_METHOD(sock_accept, SOCK_ACCEPT, 1, "sock")
#if PY_VERSION_HEX >= 0x030B0000
LOOP_SOCK_METHOD(sock_recvfrom, SOCK_RECVFROM, 2, "sock", "bufsize")
LOOP_SOCK_METHOD(sock_recvfrom_into, SOCK_RECVFROM_INTO, 2, "sock", "buf",
    "nbytes")
LOOP_SOCK_METHOD(sock_sendto, SOCK_SENDTO, 3, "sock", "data", "address")
#endif

/* Call super(LoopCore, self).name(). */
static PyObject *
loop_super_call(struct loop *self, const char *name)
{
	PyObject	*sup, *r;

	sup = loop_super(self);
	if (sup == NULL)
		return NULL;
	r = PyObject_CallMethod(sup, name, NULL);
	Py_DECREF(sup);
	return r;
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
	r = loop_announce(self, 1, &agen_hooks) == 0 ? loop_iterate(self) : -1;
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
 * wait at once; a loop made by the policy first lets the console in. */
static PyObject *
loop_run_forever(struct loop *self, PyObject *unused)
{
	PyObject	*r, *type, *value, *tb;
	int		 fd = -1, old = -1;

	(void)unused;
	if (loop_check_open(self) != 0)
		return NULL;
	if (self->eligible && hooks.on_run != NULL &&
	    hooks.on_run((PyObject *)self) != 0)
		return NULL;
	if (PyThread_get_thread_ident() == main_thread &&
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

/* create_future(): futures.Future(loop=self), looked up as asyncio does. */
static PyObject *
loop_create_future(PyObject *self, PyObject *unused)
{
	struct loop	*loop = (struct loop *)self;
	PyObject	*cls, *fut;

	(void)unused;
	/* One keywords dict per loop: Future has no vectorcall to spare
	 * making one per call. */
	if (loop->future_kw == NULL &&
	    (loop->future_kw = Py_BuildValue("{sO}", "loop", self)) == NULL)
		return NULL;
	if ((cls = PyObject_GetAttr(futures, s_future)) == NULL)
		return NULL;
	fut = PyObject_Call(cls, empty_tuple, loop->future_kw);
	Py_DECREF(cls);
	return fut;
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
	if (r == NULL || PyThread_get_thread_ident() != main_thread)
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

/* repr(): asyncio's facts, and what the loop holds. */
static PyObject *
loop_repr(struct loop *self)
{
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

/* In a forked child, each loop's libevent base needs its own epoll. */
static PyObject *
loop_after_fork(PyObject *module, PyObject *unused)
{
	struct loop	*l;

	(void)module;
	(void)unused;
	for (l = all_loops; l != NULL; l = l->next) {
		if (l->base != NULL && event_reinit(l->base) != 0) {
			PyErr_SetString(PyExc_OSError,
			    "libevent: cannot re-initialise after fork");
			return NULL;
		}
		if (l->sp != NULL && sockpoll_after_fork(l->sp) != 0)
			return NULL;
	}
	Py_RETURN_NONE;
}

static PyMethodDef after_fork_def = {
	"_apython_loop_after_fork", loop_after_fork, METH_NOARGS, NULL
};

/* Drop what is queued to run; a release may queue more, dropped too. */
static void
loop_drop_ready(struct loop *self)
{
	PyObject	*h;

	while ((h = ring_pop(self->ready)) != NULL) {
		if (h == self->last_soon)
			self->last_soon = NULL;
		Py_DECREF(h);
	}
}

/* Drop everything queued, timed or watched. Each release may run
 * finalizers that queue more: what they reach stays whole (the ring and
 * heap between releases, the epoll set detached before it is freed). */
static void
loop_drop_all(struct loop *self)
{
	struct sockpoll	*sp;
	PyObject	*h;

	loop_drop_ready(self);
	while ((h = heap_pop(self->timers)) != NULL)
		Py_DECREF(h);
	self->cancelled = 0;
	watchers_clear(self->io);
	if ((sp = self->sp) != NULL) {
		self->sp = NULL;
		sockpoll_free(sp);
	}
}

/* The ready queue, for loop._ready's view (ready.c). */
struct ring *
loop_ready_ring(PyObject *loop)
{
	return ((struct loop *)loop)->ready;
}

/* loop._ready.append(h): queue h as asyncio's _run_once would run it. */
int
loop_ready_append(PyObject *loop, PyObject *h)
{
	return loop_push_ready((struct loop *)loop, Py_NewRef(h));
}

/* loop._ready.clear(). */
void
loop_ready_clear(PyObject *loop)
{
	loop_drop_ready((struct loop *)loop);
}

/* loop._ready: asyncio's BaseEventLoop keeps its ready queue there, a
 * deque; ours is the ring self->ready, which call_soon and the run loop
 * use directly. Reading _ready gives a view of the ring (ready.c), made
 * only then, for the code and tests that read or append to it. Of
 * asyncio's methods that use _ready (3.8-3.13), _call_soon, _add_callback
 * and _run_once are ours; its close() calls clear() and its __init__
 * assigns an empty deque, which empties the queue. */
static PyObject *
loop_get_ready(struct loop *self, void *closure)
{
	(void)closure;
	return ready_view_new((PyObject *)self);
}

/* loop._ready = collection: only an empty one (asyncio's __init__). */
static int
loop_set_ready(struct loop *self, PyObject *value, void *closure)
{
	Py_ssize_t	n;

	(void)closure;
	if (value == NULL || (n = PyObject_Length(value)) > 0) {
		PyErr_SetString(PyExc_AttributeError, "_ready is apython.Loop's "
		    "C ready queue: it can be emptied, not replaced");
		return -1;
	}
	if (n < 0)
		return -1;
	loop_drop_ready(self);
	return 0;
}

/* loop._closed: asyncio's flag, kept as self->closed so that call_soon
 * and the rest refuse from the moment asyncio's close() sets it, before
 * it drops the queue (whose finalizers may try to queue more). */
static PyObject *
loop_get_closed(struct loop *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->closed);
}

/* loop._closed = flag: asyncio's __init__ (False) and close() (True);
 * a closed loop's parts are gone, so it is not reopened. */
static int
loop_set_closed(struct loop *self, PyObject *value, void *closure)
{
	int	closed;

	(void)closure;
	if (value == NULL || (closed = PyObject_IsTrue(value)) < 0) {
		if (value == NULL)
			PyErr_SetString(PyExc_AttributeError,
			    "cannot delete _closed");
		return -1;
	}
	if (self->closed && !closed) {
		PyErr_SetString(PyExc_RuntimeError,
		    "a closed apython.Loop cannot be reopened");
		return -1;
	}
	self->closed = closed;
	return 0;
}

static PyGetSetDef loop_getset[] = {
	{ "_ready", (getter)loop_get_ready, (setter)loop_set_ready, NULL, NULL },
	{ "_closed", (getter)loop_get_closed, (setter)loop_set_closed, NULL,
	    NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

/* close(): tell the console, let asyncio close its parts (it sets
 * _closed, i.e. self->closed, before it drops the queue), then ours. */
static PyObject *
loop_close(struct loop *self, PyObject *unused)
{
	PyObject	*r;

	(void)unused;
	if (!self->closed && hooks.on_close != NULL) {
		r = PyObject_CallMethod((PyObject *)self, "is_running", NULL);
		if (r == NULL)
			return NULL;
		if (r == Py_False)
			hooks.on_close((PyObject *)self);
		Py_DECREF(r);
	}
	if ((r = loop_super_call(self, "close")) == NULL)
		return NULL;
	loop_drop_all(self);
	return r;
}

/* __init__(): asyncio's selector loop set-up, on our watchers. */
static int
loop_init(struct loop *self, PyObject *args, PyObject *kwargs)
{
	PyObject	*view, *sup, *r;

	if (PyTuple_GET_SIZE(args) != 0 || (kwargs && PyDict_GET_SIZE(kwargs))) {
		PyErr_SetString(PyExc_TypeError, "Loop() takes no arguments");
		return -1;
	}
	if ((view = selector_view_new((PyObject *)self, self->io)) == NULL)
		return -1;
	sup = loop_super(self);
	r = sup == NULL ? NULL : PyObject_CallMethod(sup, "__init__", "O", view);
	Py_XDECREF(sup);
	Py_DECREF(view);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Free what tp_new made. */
static void
loop_free_parts(struct loop *self)
{
	if (self->io != NULL)
		loop_drop_all(self);
	watchers_free(self->io);
	ring_free(self->ready);
	heap_free(self->timers);
	if (self->timeout_ev != NULL)
		event_free(self->timeout_ev);
	if (self->wake_ev != NULL)
		event_free(self->wake_ev);
	if (self->base != NULL)
		event_base_free(self->base);
	if (self->wake_fd >= 0)
		close(self->wake_fd);
	PyMem_RawFree(self->read_buf);
	self->read_buf = NULL;
	self->io = NULL;
	self->ready = NULL;
	self->timers = NULL;
	self->timeout_ev = self->wake_ev = NULL;
	self->base = NULL;
	self->wake_fd = -1;
}

/* Make a libevent base without locks (one thread drives it) and without
 * EVENT_* environment surprises. */
static struct event_base *
loop_new_base(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK |
	    EVENT_BASE_FLAG_IGNORE_ENV);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Keep the list of live loops for fork. */
static void
loop_unlink(struct loop *self)
{
	struct loop	**p;

	for (p = &all_loops; *p != NULL; p = &(*p)->next) {
		if (*p == self) {
			*p = self->next;
			return;
		}
	}
}

static PyObject *
loop_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	struct loop	*self;
	struct timespec	 res;

	(void)args;
	(void)kwargs;
	if ((self = (struct loop *)type->tp_alloc(type, 0)) == NULL)
		return NULL;
	self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	self->base = loop_new_base();
	self->ready = ring_new();
	self->timers = heap_new();
	if (self->base != NULL) {
		self->io = watchers_new(self->base);
		self->timeout_ev = evtimer_new(self->base, loop_deadline, NULL);
		self->wake_ev = event_new(self->base, self->wake_fd,
		    EV_READ | EV_PERSIST, loop_woken, NULL);
	}
	if (self->wake_fd < 0 || self->io == NULL || self->ready == NULL ||
	    self->timers == NULL ||
	    self->timeout_ev == NULL || self->wake_ev == NULL ||
	    event_add(self->wake_ev, NULL) != 0) {
		PyErr_SetString(PyExc_OSError, "cannot create the event loop");
		Py_DECREF(self);
		return NULL;
	}
	clock_getres(CLOCK_MONOTONIC, &res);
	self->resolution = res.tv_sec + res.tv_nsec * 1e-9;
	self->next = all_loops;
	all_loops = self;
	return (PyObject *)self;
}

static int
loop_traverse(struct loop *self, visitproc visit, void *arg)
{
	size_t	i;
	int	r;

	for (i = 0; self->ready != NULL && i < ring_len(self->ready); i++)
		if ((r = handle_traverse(ring_at(self->ready, i), visit,
		    arg)) != 0)
			return r;
	for (i = 0; self->timers != NULL && i < heap_len(self->timers); i++)
		Py_VISIT((PyObject *)heap_at(self->timers, i));
	if ((r = sockpoll_traverse(self->sp, visit, arg)) != 0)
		return r;
	Py_VISIT(self->future_kw);
	return watchers_traverse(self->io, visit, arg);
}

static int
loop_clear(struct loop *self)
{
	Py_CLEAR(self->future_kw);
	if (self->io != NULL)
		loop_drop_all(self);
	return 0;
}

static void
loop_dealloc(struct loop *self)
{
	PyTypeObject	*tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	loop_unlink(self);
	Py_CLEAR(self->future_kw);
	loop_free_parts(self);
	tp->tp_free((PyObject *)self);
}

#define FASTKW (METH_FASTCALL | METH_KEYWORDS)
static PyMethodDef loop_methods[] = {
	{ "time", loop_time, METH_NOARGS, "The loop's clock: time.monotonic()." },
	{ "call_soon", (PyCFunction)(void (*)(void))loop_call_soon, FASTKW, NULL },
	{ "call_later", (PyCFunction)(void (*)(void))loop_call_later, FASTKW, NULL },
	{ "call_at", (PyCFunction)(void (*)(void))loop_call_at, FASTKW, NULL },
	{ "call_soon_threadsafe",
	  (PyCFunction)(void (*)(void))loop_call_soon_threadsafe, FASTKW, NULL },
	{ "_call_soon", (PyCFunction)(void (*)(void))loop_call_soon_internal,
	  METH_FASTCALL, NULL },
	{ "_add_callback", (PyCFunction)loop_add_callback, METH_O, NULL },
	{ "_timer_handle_cancelled", (PyCFunction)loop_timer_handle_cancelled,
	  METH_O, NULL },
	{ "_write_to_self", (PyCFunction)loop_write_to_self, METH_NOARGS, NULL },
	{ "_run_once", (PyCFunction)loop_run_once, METH_NOARGS, NULL },
	{ "run_forever", (PyCFunction)loop_run_forever, METH_NOARGS, NULL },
	{ "close", (PyCFunction)loop_close, METH_NOARGS, NULL },
	{ "set_debug", (PyCFunction)loop_set_debug, METH_O, NULL },
	{ "get_debug", (PyCFunction)loop_get_debug, METH_NOARGS, NULL },
	{ "create_future", loop_create_future, METH_NOARGS, NULL },
	{ "remove_signal_handler", (PyCFunction)loop_remove_signal_handler,
	  METH_O, NULL },
	{ "_add_reader", (PyCFunction)(void (*)(void))loop_add_reader,
	  METH_FASTCALL, NULL },
	{ "_add_writer", (PyCFunction)(void (*)(void))loop_add_writer,
	  METH_FASTCALL, NULL },
	{ "_remove_reader", (PyCFunction)loop_remove_reader, METH_O, NULL },
	{ "_remove_writer", (PyCFunction)loop_remove_writer, METH_O, NULL },
	{ "_process_events", loop_process_events, METH_O, NULL },
	{ "sock_recv", (PyCFunction)(void (*)(void))loop_sock_recv,
	    FASTKW, NULL },
	{ "sock_recv_into", (PyCFunction)(void (*)(void))loop_sock_recv_into,
	    FASTKW, NULL },
	{ "sock_sendall", (PyCFunction)(void (*)(void))loop_sock_sendall,
	    FASTKW, NULL },
	{ "sock_accept", (PyCFunction)(void (*)(void))loop_sock_accept,
	    FASTKW, NULL },
#if PY_VERSION_HEX >= 0x030B0000
	{ "sock_recvfrom", (PyCFunction)(void (*)(void))loop_sock_recvfrom,
	    FASTKW, NULL },
	{ "sock_recvfrom_into",
	    (PyCFunction)(void (*)(void))loop_sock_recvfrom_into,
	    FASTKW, NULL },
	{ "sock_sendto", (PyCFunction)(void (*)(void))loop_sock_sendto,
	    FASTKW, NULL },
#endif
	{ "_make_socket_transport",
	  (PyCFunction)(void (*)(void))loop_make_socket_transport, FASTKW, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject loop_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.LoopCore",
	.tp_doc = "The C core of apython.Loop.",
	.tp_basicsize = sizeof(struct loop),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_new = loop_new,
	.tp_init = (initproc)loop_init,
	.tp_traverse = (traverseproc)loop_traverse,
	.tp_clear = (inquiry)loop_clear,
	.tp_dealloc = (destructor)loop_dealloc,
	.tp_methods = loop_methods,
	.tp_getset = loop_getset,
	.tp_repr = (reprfunc)loop_repr,
};

/* The core type, readied on first use; NULL with exception. */
PyTypeObject *
loop_core_type(void)
{
	return &loop_type;
}

/* Quiet libevent: errors reach Python as exceptions instead. */
static void
loop_log(int severity, const char *msg)
{
	(void)severity;
	(void)msg;
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

/* os.register_at_fork(after_in_child=...) for our libevent bases. */
static int
loop_register_fork(void)
{
	PyObject	*os, *fn, *kw = NULL, *reg = NULL, *r = NULL, *args;

	if ((os = PyImport_ImportModule("os")) == NULL)
		return -1;
	fn = PyCFunction_New(&after_fork_def, NULL);
	if (fn != NULL)
		kw = Py_BuildValue("{sO}", "after_in_child", fn);
	if (kw != NULL)
		reg = PyObject_GetAttrString(os, "register_at_fork");
	if (reg != NULL && (args = PyTuple_New(0)) != NULL) {
		r = PyObject_Call(reg, args, kw);
		Py_DECREF(args);
	}
	Py_DECREF(os);
	Py_XDECREF(fn);
	Py_XDECREF(kw);
	Py_XDECREF(reg);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Ready the core type and what it needs from asyncio; -1 with exception. */
int
loop_core_ready(void)
{
	main_thread = PyThread_get_thread_ident();
	event_set_log_callback(loop_log);
	if (PyType_Ready(&loop_type) != 0 || selector_view_ready() != 0 ||
	    ready_view_ready() != 0)
		return -1;
	if ((base_events = PyImport_ImportModule("asyncio.base_events")) == NULL ||
	    handle_ready() != 0 || transport_ready() != 0 || sock_ready() != 0 ||
	    loop_register_fork() != 0)
		return -1;
	if ((s_stopping = PyUnicode_InternFromString("_stopping")) == NULL ||
	    (s_future = PyUnicode_InternFromString("Future")) == NULL ||
	    (s_context = PyUnicode_InternFromString("context")) == NULL ||
	    (empty_tuple = PyTuple_New(0)) == NULL ||
	    (futures = PyImport_ImportModule("asyncio.futures")) == NULL)
		return -1;
	if ((asyncio_events = PyImport_ImportModule("asyncio.events")) == NULL ||
	    (s_set_running_loop = PyUnicode_InternFromString(
	    "_set_running_loop")) == NULL ||
	    (get_agen_hooks = loop_import("sys", "get_asyncgen_hooks")) == NULL ||
	    (set_agen_hooks = loop_import("sys", "set_asyncgen_hooks")) == NULL)
		return -1;
	return 0;
}
