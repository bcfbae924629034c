/* asyncio's own Handle and TimerHandle, made and run from C: the slots
 * are filled and read directly instead of through their Python methods.
 * The loop makes subclasses of them that only add a C cancel(), so the
 * objects stay asyncio's: isinstance(), repr and other methods work.
 *
 * Collector invariant: a handle of ours is untracked (parked) only while
 * the ready queue holds its one reference, and the loop's traverse then
 * visits its slots; the moment it leaves the queue it is tracked again,
 * before it runs, whoever else comes to hold it (the exception handler's
 * context when its callback raises). */
#include <stddef.h>

#include "loop/loop-internal.h"
#include "structmember.h"


static PyTypeObject *handle_type;	/* asyncio.events.Handle */
static PyTypeObject *timer_type;	/* asyncio.events.TimerHandle */
static PyTypeObject *our_handle;	/* subclasses with a C cancel() */
static PyTypeObject *our_timer;
static PyObject *format_source;		/* format_helpers._format_callback_source */
static Py_ssize_t off_callback, off_args, off_cancelled, off_loop;
static Py_ssize_t off_source_tb, off_repr, off_context, off_when;
static Py_ssize_t off_scheduled;

/* The slot of a handle at offset off (found by handle_slot()). */
static inline PyObject **
handle_at(PyObject *h, Py_ssize_t off)
{
	return (PyObject **)((char *)h + off);
}

/* The offset of slot name of type; -1 with exception. */
static Py_ssize_t
handle_slot(PyTypeObject *type, const char *name)
{
	PyObject	*d;

	d = PyDict_GetItemString(type->tp_dict, name);
	if (d == NULL || Py_TYPE(d) != &PyMemberDescr_Type ||
	    ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
		PyErr_Format(PyExc_RuntimeError, "asyncio's %s has no slot %s",
		    type->tp_name, name);
		return -1;
	}
	return ((PyMemberDescrObject *)d)->d_member->offset;
}

/* cancel(): Handle.cancel() (and TimerHandle's), without Python frames. */
static PyObject *
handle_cancel(PyObject *h, PyObject *unused)
{
	PyObject	*loop, *r;
	int		 debug = 0;

	(void)unused;
	if (*handle_at(h, off_cancelled) == Py_True)
		Py_RETURN_NONE;
	/* Held: the loop's method may let go of what the slot held. */
	if ((loop = *handle_at(h, off_loop)) != NULL) {
		Py_INCREF(loop);
		r = PyObject_TypeCheck(h, timer_type) ? PyObject_CallMethod(loop,
		    "_timer_handle_cancelled", "O", h) : Py_NewRef(Py_None);
		if (r != NULL)
			debug = loop_debug(loop);
		Py_DECREF(loop);
		if (r == NULL || debug < 0) {
			Py_XDECREF(r);
			return NULL;
		}
		Py_DECREF(r);
	}
	Py_XSETREF(*handle_at(h, off_cancelled), Py_NewRef(Py_True));
	if (debug) {
		/* As asyncio: keep what it was, for slow callback warnings. */
		if ((r = PyObject_Repr(h)) == NULL)
			return NULL;
		Py_XSETREF(*handle_at(h, off_repr), r);
	}
	Py_XSETREF(*handle_at(h, off_callback), Py_NewRef(Py_None));
	Py_XSETREF(*handle_at(h, off_args), Py_NewRef(Py_None));
	Py_RETURN_NONE;
}

static PyMethodDef cancel_def = {
	.ml_name = "cancel",
	.ml_meth = handle_cancel,
	.ml_flags = METH_NOARGS,
	.ml_doc = "Cancel the callback.",
};

/* A subclass of base named like it, with no slots of its own and a C
 * cancel(); NULL with exception. */
static PyTypeObject *
handle_subclass(PyTypeObject *base)
{
	PyObject	*cls, *ns, *meth;

	ns = Py_BuildValue("{s()ss}", "__slots__", "__module__", "apython");
	if (ns == NULL)
		return NULL;
	cls = PyObject_CallFunction((PyObject *)&PyType_Type, "s(O)O",
	    base->tp_name, (PyObject *)base, ns);
	Py_DECREF(ns);
	if (cls == NULL)
		return NULL;
	meth = PyDescr_NewMethod((PyTypeObject *)cls, &cancel_def);
	if (meth == NULL || PyObject_SetAttrString(cls, "cancel", meth) != 0)
		Py_CLEAR(cls);
	Py_XDECREF(meth);
	return (PyTypeObject *)cls;
}

/* Find asyncio's handle classes and their slots; -1 with exception. */
int
handle_ready(void)
{
	PyObject	*events, *fh;

	if ((events = PyImport_ImportModule("asyncio.events")) == NULL)
		return -1;
	if ((handle_type = (PyTypeObject *)PyObject_GetAttrString(events,
	    "Handle")) != NULL)
		timer_type = (PyTypeObject *)PyObject_GetAttrString(events,
		    "TimerHandle");
	Py_DECREF(events);
	if (handle_type == NULL || timer_type == NULL)
		return -1;
	if ((fh = PyImport_ImportModule("asyncio.format_helpers")) == NULL)
		return -1;
	format_source = PyObject_GetAttrString(fh, "_format_callback_source");
	Py_DECREF(fh);
	if (format_source == NULL)
		return -1;
	if ((off_callback = handle_slot(handle_type, "_callback")) < 0 ||
	    (off_args = handle_slot(handle_type, "_args")) < 0 ||
	    (off_cancelled = handle_slot(handle_type, "_cancelled")) < 0 ||
	    (off_loop = handle_slot(handle_type, "_loop")) < 0 ||
	    (off_source_tb = handle_slot(handle_type, "_source_traceback")) < 0 ||
	    (off_repr = handle_slot(handle_type, "_repr")) < 0 ||
	    (off_context = handle_slot(handle_type, "_context")) < 0 ||
	    (off_when = handle_slot(timer_type, "_when")) < 0 ||
	    (off_scheduled = handle_slot(timer_type, "_scheduled")) < 0)
		return -1;
	if ((our_handle = handle_subclass(handle_type)) == NULL ||
	    (our_timer = handle_subclass(timer_type)) == NULL)
		return -1;
	return 0;
}

/* A handle of type (Handle or TimerHandle) with its slots as
 * Handle.__init__ sets them outside debug mode. */
static PyObject *
handle_alloc(PyTypeObject *type, PyObject *loop, PyObject *cb,
    PyObject *args, PyObject *ctx)
{
	PyObject	*h;

	if (ctx == Py_None)
		ctx = PyContext_CopyCurrent();
	else
		Py_INCREF(ctx);
	if (ctx == NULL)
		return NULL;
	if ((h = type->tp_alloc(type, 0)) == NULL) {
		Py_DECREF(ctx);
		return NULL;
	}
	*handle_at(h, off_context) = ctx;
	*handle_at(h, off_loop) = Py_NewRef(loop);
	*handle_at(h, off_callback) = Py_NewRef(cb);
	*handle_at(h, off_args) = Py_NewRef(args);
	*handle_at(h, off_cancelled) = Py_NewRef(Py_False);
	*handle_at(h, off_repr) = Py_NewRef(Py_None);
	*handle_at(h, off_source_tb) = Py_NewRef(Py_None);
	return h;
}

/* In debug mode, is there a Python caller for asyncio's __init__ to
 * record (sys._getframe(1))? Not when the loop was run from C (the
 * console alone): such a handle has no source traceback. */
static int
handle_traced(int debug)
{
	return debug && PyEval_GetFrame() != NULL;
}

/* Handle(callback, args, loop, context); in debug mode through asyncio's
 * own __init__, which records where it was made. */
PyObject *
handle_new(PyObject *loop, PyObject *cb, PyObject *args, PyObject *ctx,
    int debug)
{
	if (handle_traced(debug))
		return PyObject_CallFunctionObjArgs((PyObject *)our_handle, cb,
		    args, loop, ctx, NULL);
	return handle_alloc(our_handle, loop, cb, args, ctx);
}

/* TimerHandle(when, callback, args, loop, context). */
PyObject *
timer_new(PyObject *loop, PyObject *when, PyObject *cb, PyObject *args,
    PyObject *ctx, int debug)
{
	PyObject	*h;

	if (handle_traced(debug))
		return PyObject_CallFunctionObjArgs((PyObject *)our_timer, when,
		    cb, args, loop, ctx, NULL);
	if ((h = handle_alloc(our_timer, loop, cb, args, ctx)) == NULL)
		return NULL;
	*handle_at(h, off_when) = Py_NewRef(when);
	*handle_at(h, off_scheduled) = Py_NewRef(Py_False);
	return h;
}

/* Once only the ready queue holds a handle the loop made, nothing can
 * reach it but the loop, and the collector need not track it (a flood of
 * queued callbacks made every collection walk them all): the loop's
 * traverse visits what the handle refers to instead. */
void
handle_park(PyObject *h)
{
	if (Py_TYPE(h) == our_handle && Py_REFCNT(h) == 1 &&
	    PyObject_GC_IsTracked(h))
		PyObject_GC_UnTrack(h);
}

/* Out of the queue: tracked again, before it runs. */
void
handle_unpark(PyObject *h)
{
	if (Py_TYPE(h) == our_handle && !PyObject_GC_IsTracked(h))
		PyObject_GC_Track(h);
}

/* The loop's traverse of a queued handle: the handle, or, parked, its
 * slots. */
int
handle_traverse(PyObject *h, visitproc visit, void *arg)
{
	static const Py_ssize_t *const offs[] = {
		&off_callback, &off_args, &off_cancelled, &off_loop,
		&off_source_tb, &off_repr, &off_context
	};
	size_t	i;

	if (Py_TYPE(h) != our_handle || PyObject_GC_IsTracked(h)) {
		Py_VISIT(h);
		return 0;
	}
	for (i = 0; Py_REFCNT(h) == 1 && i < sizeof offs / sizeof *offs; i++)
		Py_VISIT(*handle_at(h, *offs[i]));
	return 0;
}

/* True (1) when h was cancelled, -1 on error. */
int
handle_cancelled(PyObject *h)
{
	PyObject	*v;
	int		 r;

	if (PyObject_TypeCheck(h, handle_type) &&
	    (v = *handle_at(h, off_cancelled)) != NULL)
		return v == Py_True ? 1 : (v == Py_False ? 0 : PyObject_IsTrue(v));
	if ((v = PyObject_GetAttrString(h, "_cancelled")) == NULL)
		return -1;
	r = PyObject_IsTrue(v);
	Py_DECREF(v);
	return r;
}

/* handle_cancelled without running Python: 1 or 0 when h is a handle
 * whose _cancelled is True or False (asyncio's always is), else -1. */
int
handle_cancelled_bool(PyObject *h)
{
	PyObject	*v;

	if (!PyObject_TypeCheck(h, handle_type) ||
	    (v = *handle_at(h, off_cancelled)) == NULL)
		return -1;
	return v == Py_True ? 1 : (v == Py_False ? 0 : -1);
}

/* True (1) when timer h is in a loop's heap. */
int
timer_scheduled(PyObject *h)
{
	PyObject	*v;

	if (!PyObject_TypeCheck(h, timer_type) ||
	    (v = *handle_at(h, off_scheduled)) == NULL)
		return 0;
	return v == Py_True;
}

/* Mark timer h as in (1) or out of (0) a loop's heap. */
void
timer_set_scheduled(PyObject *h, int scheduled)
{
	if (PyObject_TypeCheck(h, timer_type))
		Py_XSETREF(*handle_at(h, off_scheduled),
		    Py_NewRef(scheduled ? Py_True : Py_False));
}

/* Report an exception a callback raised, as Handle._run() does. */
static int
handle_report(PyObject *h)
{
	PyObject	*exc, *src = NULL, *msg = NULL, *ctx = NULL;
	PyObject	*stb, *r = NULL;

	exc = py_exception_fetch();
	src = PyObject_CallFunctionObjArgs(format_source, *handle_at(h, off_callback),
	    *handle_at(h, off_args), NULL);
	if (src != NULL)
		msg = PyUnicode_FromFormat("Exception in callback %U", src);
	if (msg != NULL)
		ctx = Py_BuildValue("{sOsOsO}", "message", msg, "exception", exc,
		    "handle", h);
	stb = *handle_at(h, off_source_tb);
	if (ctx != NULL && stb != NULL && PyObject_IsTrue(stb) == 1 &&
	    PyDict_SetItemString(ctx, "source_traceback", stb) != 0)
		Py_CLEAR(ctx);
	if (ctx != NULL)
		r = PyObject_CallMethod(*handle_at(h, off_loop),
		    "call_exception_handler", "O", ctx);
	Py_XDECREF(exc);
	Py_XDECREF(src);
	Py_XDECREF(msg);
	Py_XDECREF(ctx);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Run h in its context. Only KeyboardInterrupt and SystemExit (or a
 * failing exception handler) come out, as from Handle._run(). */
int
handle_run(PyObject *h)
{
	PyObject	*ctx, *cb, *args, *r;

	if (!PyObject_TypeCheck(h, handle_type) ||
	    (ctx = *handle_at(h, off_context)) == NULL ||
	    (cb = *handle_at(h, off_callback)) == NULL ||
	    (args = *handle_at(h, off_args)) == NULL || !PyTuple_Check(args)) {
		r = PyObject_CallMethod(h, "_run", NULL);
		Py_XDECREF(r);
		return r == NULL ? -1 : 0;
	}
	Py_INCREF(ctx);
	Py_INCREF(cb);
	Py_INCREF(args);
	if (PyContext_Enter(ctx) == 0) {
		r = PyTuple_GET_SIZE(args) == 0 ? PyObject_CallNoArgs(cb) :
		    PyObject_Call(cb, args, NULL);
		if (PyContext_Exit(ctx) != 0)
			Py_CLEAR(r);
	} else
		r = NULL;
	Py_DECREF(ctx);
	Py_DECREF(cb);
	Py_DECREF(args);
	if (r != NULL) {
		Py_DECREF(r);
		return 0;
	}
	if (PyErr_ExceptionMatches(PyExc_SystemExit) ||
	    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
		return -1;
	return handle_report(h);
}
