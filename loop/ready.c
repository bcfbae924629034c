/* loop._ready: asyncio's ready queue as its code and CPython's tests use
 * it (truthiness, len(), iteration, indexing, append(), clear()), made on
 * each read as a view of the loop's C ring; call_soon and the run loop
 * never touch it. */
#include "loop/loop-internal.h"

struct ready_view {
	PyObject_HEAD
	PyObject	*loop;		/* an apython loop, never NULL */
};

static PyTypeObject ready_view_type;

/* len(): the handles queued for the next pass. */
static Py_ssize_t
ready_view_len(struct ready_view *self)
{
	return (Py_ssize_t)ring_len(loop_ready_ring(self->loop));
}

/* A new reference to the i-th queued handle; the queue no longer holds
 * the only one, so the collector tracks it again. */
static PyObject *
ready_view_ref(struct ready_view *self, size_t i)
{
	PyObject	*h = ring_at(loop_ready_ring(self->loop), i);

	handle_unpark(h);
	return Py_NewRef(h);
}

/* view[i], negative i from the end as a deque's. */
static PyObject *
ready_view_item(struct ready_view *self, Py_ssize_t i)
{
	if (i < 0 || i >= ready_view_len(self)) {
		PyErr_SetString(PyExc_IndexError, "deque index out of range");
		return NULL;
	}
	return ready_view_ref(self, (size_t)i);
}

/* iter(): over the handles queued now, the queue changing later or not. */
static PyObject *
ready_view_iter(struct ready_view *self)
{
	PyObject	*list, *it;
	Py_ssize_t	 i, n = ready_view_len(self);

	if ((list = PyList_New(n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		PyList_SET_ITEM(list, i, ready_view_ref(self, (size_t)i));
	it = PyObject_GetIter(list);
	Py_DECREF(list);
	return it;
}

/* append(handle): queue it to run in the next pass, as call_soon's. */
static PyObject *
ready_view_append(struct ready_view *self, PyObject *h)
{
	if (loop_ready_append(self->loop, h) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* clear(): drop what is queued, as close() does. */
static PyObject *
ready_view_clear(struct ready_view *self, PyObject *unused)
{
	(void)unused;
	loop_ready_clear(self->loop);
	Py_RETURN_NONE;
}

static PyObject *
ready_view_repr(struct ready_view *self)
{
	PyObject	*list, *r;

	if ((list = PySequence_List((PyObject *)self)) == NULL)
		return NULL;
	r = PyUnicode_FromFormat("ready(%R)", list);
	Py_DECREF(list);
	return r;
}

/* No tp_clear: the view holds only its loop, whose own clear breaks any
 * cycle through it (its __dict__), and a view's loop is never NULL. */
static int
ready_view_traverse(struct ready_view *self, visitproc visit, void *arg)
{
	Py_VISIT(self->loop);
	return 0;
}

static void
ready_view_dealloc(struct ready_view *self)
{
	PyObject_GC_UnTrack(self);
	Py_DECREF(self->loop);
	Py_TYPE(self)->tp_free(self);
}

static PySequenceMethods ready_view_seq = {
	.sq_length = (lenfunc)ready_view_len,
	.sq_item = (ssizeargfunc)ready_view_item,
};

static PyMethodDef ready_view_methods[] = {
	{ .ml_name = "append",
	  .ml_meth = (PyCFunction)ready_view_append,
	  .ml_flags = METH_O },
	{ .ml_name = "clear",
	  .ml_meth = (PyCFunction)ready_view_clear,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL },
};

static PyTypeObject ready_view_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.ReadyView",
	.tp_doc = "The loop's ready queue, as asyncio's loop._ready.",
	.tp_basicsize = sizeof(struct ready_view),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)ready_view_traverse,
	.tp_dealloc = (destructor)ready_view_dealloc,
	.tp_as_sequence = &ready_view_seq,
	.tp_iter = (getiterfunc)ready_view_iter,
	.tp_methods = ready_view_methods,
	.tp_repr = (reprfunc)ready_view_repr,
};

/* Ready the view type; -1 with exception. */
int
ready_view_ready(void)
{
	return PyType_Ready(&ready_view_type);
}

/* A view of loop's ready queue. */
PyObject *
ready_view_new(PyObject *loop)
{
	struct ready_view	*self;

	self = PyObject_GC_New(struct ready_view, &ready_view_type);
	if (self == NULL)
		return NULL;
	self->loop = Py_NewRef(loop);
	PyObject_GC_Track(self);
	return (PyObject *)self;
}
