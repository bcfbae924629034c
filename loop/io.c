/* File descriptor watchers on libevent, the loop's _add_reader() and
 * kin on them, and the selector view of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "loop/loop-internal.h"

struct watcher {
	struct event	*ev;
	PyObject	*handle[2];	/* reader, writer */
	short		 events;	/* registered with libevent */
	short		 fired;		/* seen by libevent, not dispatched */
};

struct watchers {
	struct event_base	 *base;
	struct watcher		**tab;
	int			  ntab;
	int			 *fired;
	size_t			  nfired;
	size_t			  cap;
};

static PyObject *selector_key;	/* selectors.SelectorKey */

/* Create an empty table of watchers on base. */
struct watchers *
watchers_new(struct event_base *base)
{
	struct watchers	*ws;

	ws = calloc(1, sizeof *ws);
	if (ws != NULL)
		ws->base = base;
	return ws;
}

/* Drop every watcher and its handles; the table stays usable. */
void
watchers_clear(struct watchers *ws)
{
	struct watcher	*w;
	int		 fd;

	for (fd = 0; fd < ws->ntab; fd++) {
		if ((w = ws->tab[fd]) == NULL)
			continue;
		ws->tab[fd] = NULL;
		event_free(w->ev);
		Py_XDECREF(w->handle[0]);
		Py_XDECREF(w->handle[1]);
		free(w);
	}
	ws->nfired = 0;
}

/* Free the table and everything in it. */
void
watchers_free(struct watchers *ws)
{
	if (ws == NULL)
		return;
	watchers_clear(ws);
	free(ws->tab);
	free(ws->fired);
	free(ws);
}

/* libevent callback, run without the GIL: only note what fired. */
static void
watchers_fired(evutil_socket_t fd, short what, void *arg)
{
	struct watchers	*ws = arg;
	struct watcher	*w = ws->tab[fd];
	int		*fired;
	size_t		 cap;

	if (w->fired == 0) {
		if (ws->nfired == ws->cap) {
			cap = ws->cap ? ws->cap * 2 : 64;
			fired = realloc(ws->fired, cap * sizeof *fired);
			if (fired == NULL)
				return;	/* level-triggered: it fires again */
			ws->fired = fired;
			ws->cap = cap;
		}
		ws->fired[ws->nfired++] = fd;
	}
	w->fired |= what;
}

/* Find or make the watcher of fd. */
static struct watcher *
watchers_slot(struct watchers *ws, int fd)
{
	struct watcher	**tab;
	int		  n;

	if (fd >= ws->ntab) {
		n = fd < 64 ? 64 : fd * 2;
		tab = realloc(ws->tab, n * sizeof *tab);
		if (tab == NULL)
			return NULL;
		memset(tab + ws->ntab, 0, (n - ws->ntab) * sizeof *tab);
		ws->tab = tab;
		ws->ntab = n;
	}
	if (ws->tab[fd] == NULL) {
		ws->tab[fd] = calloc(1, sizeof **tab);
		if (ws->tab[fd] == NULL)
			return NULL;
		ws->tab[fd]->ev = event_new(ws->base, fd, 0, watchers_fired, ws);
		if (ws->tab[fd]->ev == NULL) {
			free(ws->tab[fd]);
			ws->tab[fd] = NULL;
			return NULL;
		}
	}
	return ws->tab[fd];
}

/* Register the events libevent should watch for w; -1 with errno. */
static int
watchers_apply(struct watchers *ws, struct watcher *w, int fd)
{
	short	events = 0;

	if (w->handle[0] != NULL)
		events |= EV_READ;
	if (w->handle[1] != NULL)
		events |= EV_WRITE;
	if (events == w->events)
		return 0;
	if (w->events != 0)
		event_del(w->ev);
	w->events = 0;
	w->fired &= events;
	if (events == 0)
		return 0;
	event_assign(w->ev, ws->base, fd, events | EV_PERSIST,
	    watchers_fired, ws);
	errno = 0;
	if (event_add(w->ev, NULL) != 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	w->events = events;
	return 0;
}

/* Set (handle) or clear (NULL) the reader or writer of fd; the old one
 * goes to *old. -1 with errno when libevent refuses the fd. */
int
watchers_set(struct watchers *ws, int fd, int write, PyObject *handle,
    PyObject **old)
{
	struct watcher	*w;
	int		 saved;

	*old = NULL;
	if (handle == NULL && (fd >= ws->ntab || ws->tab[fd] == NULL))
		return 0;
	if ((w = watchers_slot(ws, fd)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*old = w->handle[write];
	Py_XINCREF(handle);
	w->handle[write] = handle;
	if (watchers_apply(ws, w, fd) == 0)
		return 0;
	saved = errno;
	w->handle[write] = *old;
	*old = NULL;
	Py_XDECREF(handle);
	watchers_apply(ws, w, fd);
	errno = saved;
	return -1;
}

/* The reader or writer handle of fd (borrowed), or NULL. */
static PyObject *
watchers_get(struct watchers *ws, int fd, int write)
{
	if (fd < 0 || fd >= ws->ntab || ws->tab[fd] == NULL)
		return NULL;
	return ws->tab[fd]->handle[write];
}

/* Hand each handle whose fd fired to fn; stop at fn's first error. */
int
watchers_dispatch(struct watchers *ws, watcher_fn fn, void *arg)
{
	struct watcher	*w;
	size_t		 i;
	int		 fd, write;
	short		 what;

	for (i = 0; i < ws->nfired; i++) {
		fd = ws->fired[i];
		for (write = 0; write < 2; write++) {
			w = fd < ws->ntab ? ws->tab[fd] : NULL;
			if (w == NULL)
				break;
			what = write ? EV_WRITE : EV_READ;
			if (!(w->fired & what) || w->handle[write] == NULL)
				continue;
			w->fired &= ~what;
			if (fn(arg, fd, write, w->handle[write]) != 0) {
				ws->nfired = 0;
				return -1;
			}
		}
		if (fd < ws->ntab && ws->tab[fd] != NULL)
			ws->tab[fd]->fired = 0;
	}
	ws->nfired = 0;
	return 0;
}

/* How many fds have a reader or a writer. */
size_t
watchers_count(struct watchers *ws)
{
	size_t	n = 0;
	int	fd;

	for (fd = 0; fd < ws->ntab; fd++)
		if (ws->tab[fd] != NULL && ws->tab[fd]->events != 0)
			n++;
	return n;
}

/* How many fds have a reader, and how many a writer. */
void
watchers_kinds(struct watchers *ws, size_t *readers, size_t *writers)
{
	int	fd;

	*readers = *writers = 0;
	for (fd = 0; fd < ws->ntab; fd++) {
		if (ws->tab[fd] == NULL)
			continue;
		*readers += ws->tab[fd]->handle[0] != NULL;
		*writers += ws->tab[fd]->handle[1] != NULL;
	}
}

/* Visit the handles for the garbage collector. */
int
watchers_traverse(struct watchers *ws, visitproc visit, void *arg)
{
	int	fd;

	for (fd = 0; ws != NULL && fd < ws->ntab; fd++) {
		if (ws->tab[fd] == NULL)
			continue;
		Py_VISIT(ws->tab[fd]->handle[0]);
		Py_VISIT(ws->tab[fd]->handle[1]);
	}
	return 0;
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
	if ((cbargs = loop_args_tuple(args + 2, nargs - 2)) == NULL)
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


const PyMethodDef loop_io_methods[] = {
	{ .ml_name = "_add_reader",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_add_reader,
	  .ml_flags = METH_FASTCALL },
	{ .ml_name = "_add_writer",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_add_writer,
	  .ml_flags = METH_FASTCALL },
	{ .ml_name = "_remove_reader",
	  .ml_meth = (PyCFunction)loop_remove_reader,
	  .ml_flags = METH_O },
	{ .ml_name = "_remove_writer",
	  .ml_meth = (PyCFunction)loop_remove_writer,
	  .ml_flags = METH_O },
	{ .ml_name = "_process_events",
	  .ml_meth = loop_process_events,
	  .ml_flags = METH_O },
	{ .ml_name = NULL },
};

/* The view of the watchers that asyncio's transports read as
 * loop._selector (they only ask what an fd is registered for). */
struct selector_view {
	PyObject_HEAD
	PyObject	*loop;
	struct watchers	*ws;
};

/* Make the SelectorKey of fd, or NULL without exception when unwatched. */
static PyObject *
selector_view_key(struct selector_view *self, PyObject *fileobj, int fd)
{
	PyObject	*r, *w;
	int		 events = 0;

	r = watchers_get(self->ws, fd, 0);
	w = watchers_get(self->ws, fd, 1);
	if (r != NULL)
		events |= 1;
	if (w != NULL)
		events |= 2;
	if (events == 0)
		return NULL;
	return PyObject_CallFunction(selector_key, "Oii(OO)", fileobj, fd,
	    events, r ? r : Py_None, w ? w : Py_None);
}

/* get_key(fileobj): as selectors, KeyError when not registered. */
static PyObject *
selector_view_get_key(struct selector_view *self, PyObject *fileobj)
{
	PyObject	*key;
	int		 fd;

	if ((fd = PyObject_AsFileDescriptor(fileobj)) < 0)
		return NULL;
	key = selector_view_key(self, fileobj, fd);
	if (key == NULL && !PyErr_Occurred())
		PyErr_Format(PyExc_KeyError, "%R is not registered", fileobj);
	return key;
}

/* get_map(): a dict of fd to SelectorKey. */
static PyObject *
selector_view_get_map(struct selector_view *self, PyObject *unused)
{
	PyObject	*map, *fdo = NULL, *key;
	int		 fd;

	(void)unused;
	if ((map = PyDict_New()) == NULL)
		return NULL;
	for (fd = 0; fd < self->ws->ntab; fd++) {
		if ((fdo = PyLong_FromLong(fd)) == NULL)
			goto error;
		key = selector_view_key(self, fdo, fd);
		if (key == NULL && PyErr_Occurred())
			goto error;
		if (key != NULL && PyDict_SetItem(map, fdo, key) != 0) {
			Py_DECREF(key);
			goto error;
		}
		Py_XDECREF(key);
		Py_CLEAR(fdo);
	}
	return map;
error:
	Py_XDECREF(fdo);
	Py_DECREF(map);
	return NULL;
}

/* close(): the loop owns the watchers; nothing to do. */
static PyObject *
selector_view_close(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	Py_RETURN_NONE;
}

static int
selector_view_traverse(struct selector_view *self, visitproc visit, void *arg)
{
	Py_VISIT(self->loop);
	return 0;
}

static int
selector_view_clear(struct selector_view *self)
{
	Py_CLEAR(self->loop);
	return 0;
}

static void
selector_view_dealloc(struct selector_view *self)
{
	PyObject_GC_UnTrack(self);
	selector_view_clear(self);
	Py_TYPE(self)->tp_free(self);
}

static PyMethodDef selector_view_methods[] = {
	{ .ml_name = "get_key",
	  .ml_meth = (PyCFunction)selector_view_get_key,
	  .ml_flags = METH_O },
	{ .ml_name = "get_map",
	  .ml_meth = (PyCFunction)selector_view_get_map,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "close",
	  .ml_meth = selector_view_close,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL },
};

static PyTypeObject selector_view_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.SelectorView",
	.tp_doc = "What the loop watches, as asyncio's transports ask it.",
	.tp_basicsize = sizeof(struct selector_view),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)selector_view_traverse,
	.tp_clear = (inquiry)selector_view_clear,
	.tp_dealloc = (destructor)selector_view_dealloc,
	.tp_methods = selector_view_methods,
};

/* Ready the view type; -1 with exception. */
int
selector_view_ready(void)
{
	PyObject	*selectors;

	if (PyType_Ready(&selector_view_type) != 0)
		return -1;
	if ((selectors = PyImport_ImportModule("selectors")) == NULL)
		return -1;
	selector_key = PyObject_GetAttrString(selectors, "SelectorKey");
	Py_DECREF(selectors);
	return selector_key == NULL ? -1 : 0;
}

/* A view of ws, which lives as long as loop does. */
PyObject *
selector_view_new(PyObject *loop, struct watchers *ws)
{
	struct selector_view	*self;

	self = PyObject_GC_New(struct selector_view, &selector_view_type);
	if (self == NULL)
		return NULL;
	Py_INCREF(loop);
	self->loop = loop;
	self->ws = ws;
	PyObject_GC_Track(self);
	return (PyObject *)self;
}
