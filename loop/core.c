/* apython.LoopCore: the type, the parts each loop owns (libevent base,
 * ready queue, timer heap, watchers, read buffer) and their life. The
 * methods come from the files of each concern (schedule.c, run.c, io.c,
 * sock.c, transport.c, debug.c) and are gathered here. */
#include <malloc.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "loop/loop-internal.h"

static PyTypeObject loop_type;
static unsigned long main_thread;	/* the thread that started Python */

/* Whether the caller runs in the thread that started Python. */
int
loop_in_main_thread(void)
{
	return PyThread_get_thread_ident() == main_thread;
}

/* super(LoopCore, self): asyncio's methods behind ours. */
PyObject *
loop_super(struct loop *self)
{
	return PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type,
	    (PyObject *)&loop_type, (PyObject *)self, NULL);
}

/* Raise when the loop is closed, as asyncio does; in debug mode also
 * when called from a thread other than the loop's. */
int
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

/* The loop's read buffer for a transport's recv, LOOP_READ_MAX bytes,
 * until loop_read_release(); NULL (without exception) when loop is not
 * ours, its buffer is in use (Python run before the copy read again) or
 * cannot be made: the caller reads into one of its own. */
char *
loop_read_buffer(PyObject *loop)
{
	struct loop	*self = loop_of(loop);

	if (!PyObject_TypeCheck(loop, &loop_type) || self->read_busy)
		return NULL;
	if (self->read_buf == NULL &&
	    (self->read_buf = PyMem_RawMalloc(LOOP_READ_MAX)) == NULL)
		return NULL;
	self->read_busy = 1;
	return self->read_buf;
}

/* A read brought, or a sock_recv() makes room for, n bytes: from the
 * first large one on, glibc keeps freed blocks under 4 MiB in the heap
 * and trims it only past 32 MiB, instead of an mmap or a trim and page
 * faults for each message (its own adjustment comes too late or not at
 * all). bench/RESULTS.md ("glibc's malloc thresholds"): 100 KiB echo,
 * server CPU per request, streams 66 us against 476 untuned, sock 52
 * against 100; no change at 1 KiB. Not at start-up: it does not help
 * every program, as the memory freed stays (30 MiB of 1 MiB buffers
 * freed leave 31 MiB more resident), so only programs that move large
 * messages get it. Runs under the GIL, in the loop's thread. */
void
loop_read_size(size_t n)
{
	static int	tuned;

	if (tuned || n < LOOP_LARGE_READ)
		return;
	tuned = 1;
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

/* The bytes loop_read_buffer() gave room for are copied. */
void
loop_read_release(PyObject *loop)
{
	loop_of(loop)->read_busy = 0;
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
	{ .name = "_ready",
	  .get = (getter)loop_get_ready,
	  .set = (setter)loop_set_ready },
	{ .name = "_closed",
	  .get = (getter)loop_get_closed,
	  .set = (setter)loop_set_closed },
	{ .name = NULL },
};

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

/* close(): tell the observers, let asyncio close its parts (it sets
 * _closed, i.e. self->closed, before it drops the queue), then ours. */
static PyObject *
loop_close(struct loop *self, PyObject *unused)
{
	PyObject	*r;

	(void)unused;
	if (!self->closed && loop_notify_close(self) != 0)
		return NULL;
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
	wbatch_free(self);
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

static PyObject *
loop_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	struct loop	*self;
	struct timespec	 res;

	(void)args;
	(void)kwargs;
	if ((self = loop_of(type->tp_alloc(type, 0))) == NULL)
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
	self->st.turn = -1;
	loop_link(self);
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
	stats_clear(self);
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
	stats_clear(self);
	loop_free_parts(self);
	tp->tp_free((PyObject *)self);
}

/* Room for the methods of every concern (schedule.c and the others). */
static PyMethodDef loop_methods[48];

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
	.tp_repr = loop_repr,
};

/* Join n NULL-terminated method tables into dst, cap entries with the
 * NULL that ends it; -1 with exception when they do not fit. */
int
loop_methods_join(PyMethodDef *dst, size_t cap,
    const PyMethodDef *const *tables, size_t n)
{
	const PyMethodDef	*m;
	size_t			 i, k = 0;

	for (i = 0; i < n; i++) {
		for (m = tables[i]; m->ml_name != NULL; m++) {
			if (k + 1 >= cap) {
				PyErr_SetString(PyExc_SystemError,
				    "too many methods for their table");
				return -1;
			}
			dst[k++] = *m;
		}
	}
	memset(&dst[k], 0, sizeof dst[k]);
	return 0;
}

/* Gather each concern's methods into loop_methods, close() first. */
static int
loop_gather_methods(void)
{
	static const PyMethodDef own[] = {
		{ .ml_name = "close",
		  .ml_meth = (PyCFunction)loop_close,
		  .ml_flags = METH_NOARGS },
		{ .ml_name = NULL },
	};
	const PyMethodDef *const tables[] = {
		own, loop_schedule_methods, loop_run_methods,
		loop_debug_methods, loop_io_methods, loop_sock_methods,
		loop_transport_methods, loop_stats_methods
	};

	return loop_methods_join(loop_methods, sizeof loop_methods /
	    sizeof loop_methods[0], tables, sizeof tables / sizeof tables[0]);
}

/* The core type, ready once loop_core_ready() has succeeded. */
PyTypeObject *
loop_core_type(void)
{
	return &loop_type;
}

int
loop_is_apython(PyObject *loop)
{
	return PyObject_TypeCheck(loop, &loop_type);
}

/* Quiet libevent: errors reach Python as exceptions instead. */
static void
loop_log(int severity, const char *msg)
{
	(void)severity;
	(void)msg;
}

/* Ready the core type and what it needs from asyncio; -1 with exception. */
int
loop_core_ready(void)
{
	main_thread = PyThread_get_thread_ident();
	event_set_log_callback(loop_log);
	if (loop_gather_methods() != 0 || PyType_Ready(&loop_type) != 0 ||
	    selector_view_ready() != 0 || ready_view_ready() != 0)
		return -1;
	if (debug_ready() != 0 || handle_ready() != 0 ||
	    transport_ready() != 0 || sock_ready() != 0 || fork_ready() != 0)
		return -1;
	if (schedule_ready() != 0 || run_ready() != 0 || stats_ready() != 0)
		return -1;
	return 0;
}
