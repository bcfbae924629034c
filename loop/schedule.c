/* What runs when: the ready queue, the timer heap, call_soon and its
 * kin, waking the loop from other threads, and create_future(). */
#include <stdatomic.h>
#include <unistd.h>

#include "loop/loop-internal.h"

static PyObject *futures;		/* asyncio.futures */
static PyObject *s_future, *empty_tuple;

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

/* The parameters of call_soon(callback, *args, context=None) and kin
 * (np: 1, or 2 with when/delay first), with their messages as they were. */
#define CALLBACK_ARGS(m, np, ...)					\
static const char *const m##_params[] = { __VA_ARGS__, NULL };		\
static const struct loop_args m##_args = {				\
	.name = #m, .params = m##_params, .npos = np, .kwfrom = np,	\
	.need = np, .rest = 1,						\
	.usage = #m "() missing required arguments",			\
	.badkw = #m "() got an unexpected keyword argument",		\
}

CALLBACK_ARGS(call_soon, 1, "callback", "context");
CALLBACK_ARGS(call_soon_threadsafe, 1, "callback", "context");
CALLBACK_ARGS(call_at, 2, "when", "callback", "context");
CALLBACK_ARGS(call_later, 2, "delay", "callback", "context");

/* Split fastcall arguments: the callback, the positionals after it as a
 * tuple, and the context= keyword (None when not given). */
static int
loop_parse_callback(const struct loop_args *a, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames, PyObject **cb, PyObject **cbargs,
    PyObject **context)
{
	PyObject	*out[3];

	if (loop_args_parse(a, args, nargs, kwnames, out) != 0)
		return -1;
	*cb = out[a->npos - 1];
	*context = out[a->npos] != NULL ? out[a->npos] : Py_None;
	if (loop_check_callback(*cb, a->name) != 0)
		return -1;
	*cbargs = loop_args_tuple(args + a->npos, nargs - a->npos);
	return *cbargs == NULL ? -1 : 0;
}

/* Queue h (a new reference, consumed) to run in the next iteration. */
int
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
	h = loop_soon(loop_of(loop), cb, args, ctx);
	Py_DECREF(args);
	Py_XDECREF(h);
	return h == NULL ? -1 : 0;
}

/* call_soon(callback, *args, context=None) */
static PyObject *
loop_call_soon(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*cb, *cbargs, *ctx, *h;

	if (loop_check_open(self) != 0)
		return NULL;
	if (loop_parse_callback(&call_soon_args, args, nargs, kwnames,
	    &cb, &cbargs, &ctx) != 0)
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
	if (loop_parse_callback(&call_at_args, args, nargs, kwnames,
	    &cb, &cbargs, &ctx) != 0)
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
	if (loop_parse_callback(&call_later_args, args, nargs, kwnames,
	    &cb, &cbargs, &ctx) != 0)
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
	if (loop_parse_callback(&call_soon_threadsafe_args, args, nargs,
	    kwnames, &cb, &cbargs, &ctx) != 0)
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
int
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

/* Move the timers expired at now to the ready queue. */
int
loop_expire_timers(struct loop *self, double now)
{
	PyObject	*h;
	double		 when, end = now + self->resolution;

	while ((h = heap_top(self->timers, &when)) != NULL && when < end) {
		heap_pop(self->timers);
		timer_set_scheduled(h, 0);
		if (handle_cancelled_bool(h) != 1)
			stats_timer_late(self, now - when, now);
		if (loop_push_ready(self, h) != 0)
			return -1;
	}
	return 0;
}

/* create_future(): futures.Future(loop=self), looked up as asyncio does. */
static PyObject *
loop_create_future(PyObject *self, PyObject *unused)
{
	struct loop	*loop = loop_of(self);
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

/* Drop what is queued to run; a release may queue more, dropped too. */
void
loop_drop_ready(struct loop *self)
{
	PyObject	*h;

	while ((h = ring_pop(self->ready)) != NULL) {
		if (h == self->last_soon)
			self->last_soon = NULL;
		Py_DECREF(h);
	}
}

/* The ready queue, for loop._ready's view (ready.c). */
struct ring *
loop_ready_ring(PyObject *loop)
{
	return loop_of(loop)->ready;
}

/* loop._ready.append(h): queue h as asyncio's _run_once would run it. */
int
loop_ready_append(PyObject *loop, PyObject *h)
{
	return loop_push_ready(loop_of(loop), Py_NewRef(h));
}

/* loop._ready.clear(). */
void
loop_ready_clear(PyObject *loop)
{
	loop_drop_ready(loop_of(loop));
}

const PyMethodDef loop_schedule_methods[] = {
	{ .ml_name = "time",
	  .ml_meth = loop_time,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "The loop's clock: time.monotonic()." },
	{ .ml_name = "call_soon",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_call_soon,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "call_later",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_call_later,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "call_at",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_call_at,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "call_soon_threadsafe",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_call_soon_threadsafe,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "_call_soon",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_call_soon_internal,
	  .ml_flags = METH_FASTCALL },
	{ .ml_name = "_add_callback",
	  .ml_meth = (PyCFunction)loop_add_callback,
	  .ml_flags = METH_O },
	{ .ml_name = "_timer_handle_cancelled",
	  .ml_meth = (PyCFunction)loop_timer_handle_cancelled,
	  .ml_flags = METH_O },
	{ .ml_name = "_write_to_self",
	  .ml_meth = (PyCFunction)loop_write_to_self,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "create_future",
	  .ml_meth = loop_create_future,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL },
};

/* Names and asyncio's parts that scheduling needs; -1 with exception. */
int
schedule_ready(void)
{
	if ((s_future = PyUnicode_InternFromString("Future")) == NULL ||
	    (empty_tuple = PyTuple_New(0)) == NULL ||
	    (futures = PyImport_ImportModule("asyncio.futures")) == NULL)
		return -1;
	return 0;
}
