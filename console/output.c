/* Output routing: while a console statement (or a task it started) runs,
 * sys.stdout, sys.stderr and the display hook write to its console. */
#include <unistd.h>

#include "console/console-internal.h"

/* sys.stdout / sys.stderr: the program's stream, or the console's. */
struct proxy {
	PyObject_HEAD
	PyObject	*stream;	/* the program's own */
};

static PyTypeObject proxy_type;
static PyObject *program_displayhook;
static PyObject *s_write;	/* "write" */
static const struct output_editor *editor;
static PyObject *held;		/* {stream: the end of a line not written} */

/* The stream the running code should use (new reference). */
static PyObject *
proxy_target(struct proxy *self)
{
	PyObject	*s, *out;

	if ((s = session_current()) == NULL)
		return Py_NewRef(self->stream);
	out = Py_NewRef(session_out(s));
	Py_DECREF(s);
	return out;
}

/* The line editor in charge of the terminal, or NULL. */
void
output_set_editor(const struct output_editor *e)
{
	editor = e;
}

/* True when stream t writes to a terminal. */
static int
output_is_terminal(PyObject *t)
{
	int	fd;

	if ((fd = PyObject_AsFileDescriptor(t)) < 0) {
		PyErr_Clear();
		return 0;
	}
	return isatty(fd);
}

/* Write text to t and flush it. */
static int
output_write_flush(PyObject *t, PyObject *text)
{
	PyObject	*r;

	if ((r = PyObject_CallMethodOneArg(t, s_write, text)) == NULL)
		return -1;
	Py_DECREF(r);
	if ((r = PyObject_CallMethod(t, "flush", NULL)) == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

/* Write text to stream t and flush it; on a terminal where a prompt is
 * shown (a program's line, while the console writes), above it. */
int
output_write_console(PyObject *t, PyObject *text)
{
	int	r;

	if (editor == NULL || !editor->shown() || !output_is_terminal(t))
		return output_write_flush(t, text);
	editor->hide();
	r = output_write_flush(t, text);
	editor->show();
	return r;
}

/* Write what was held back, now that no prompt is shown. The items are
 * taken out first: writing runs Python, which may hold text again. */
int
output_flush_held(void)
{
	PyObject	*items, *item;
	Py_ssize_t	 i;
	int		 r = 0;

	if (held == NULL || PyDict_GET_SIZE(held) == 0)
		return 0;
	if ((items = PyDict_Items(held)) == NULL)
		return -1;
	PyDict_Clear(held);
	for (i = 0; r == 0 && i < PyList_GET_SIZE(items); i++) {
		item = PyList_GET_ITEM(items, i);
		r = output_write_flush(PyTuple_GET_ITEM(item, 0),
		    PyTuple_GET_ITEM(item, 1));
	}
	Py_DECREF(items);
	return r;
}

/* The end of a line held for stream (a proxy: its program's stream). */
PyObject *
output_take_held(PyObject *stream)
{
	PyObject	*t, *text;

	if (Py_TYPE(stream) == &proxy_type)
		stream = ((struct proxy *)stream)->stream;
	if (held == NULL)
		Py_RETURN_NONE;
	t = Py_NewRef(stream);
	text = PyDict_GetItemWithError(held, t);
	if (text == NULL) {
		Py_DECREF(t);
		return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
	}
	Py_INCREF(text);
	if (PyDict_DelItem(held, t) != 0)
		Py_CLEAR(text);
	Py_DECREF(t);
	return text;
}

/* Write text to terminal stream t above the editor's prompt: complete
 * lines go out at once, the end of a line waits for its newline. */
static PyObject *
output_write_above(PyObject *t, PyObject *text)
{
	PyObject	*prev, *all, *head = NULL, *tail = NULL;
	Py_ssize_t	 len, nl;
	int		 r = -1;

	if ((prev = PyDict_GetItemWithError(held, t)) == NULL &&
	    PyErr_Occurred())
		return NULL;
	if (prev != NULL)
		all = PyUnicode_Concat(prev, text);
	else
		all = Py_NewRef(text);
	if (all == NULL)
		return NULL;
	len = PyUnicode_GET_LENGTH(all);
	if ((nl = PyUnicode_FindChar(all, '\n', 0, len, -1)) == -2)
		goto out;
	if (nl == -1) {
		r = PyDict_SetItem(held, t, all);
		goto out;
	}
	head = PyUnicode_Substring(all, 0, nl + 1);
	tail = PyUnicode_Substring(all, nl + 1, len);
	if (head == NULL || tail == NULL)
		goto out;
	if (PyUnicode_GET_LENGTH(tail) > 0)
		r = PyDict_SetItem(held, t, tail);
	else
		r = prev != NULL ? PyDict_DelItem(held, t) : 0;
	if (r == 0) {
		editor->hide();
		r = output_write_flush(t, head);
		editor->show();
	}
out:
	Py_XDECREF(head);
	Py_XDECREF(tail);
	Py_DECREF(all);
	return r == 0 ? PyLong_FromSsize_t(PyUnicode_GET_LENGTH(text)) : NULL;
}

/* write(text): to the target, above the prompt if one is shown there. */
static PyObject *
proxy_write(PyObject *self, PyObject *text)
{
	PyObject	*t, *r;

	t = proxy_target((struct proxy *)self);
	if (editor != NULL && editor->shown() && PyUnicode_Check(text) &&
	    output_is_terminal(t))
		r = output_write_above(t, text);
	else
		r = PyObject_CallMethodOneArg(t, s_write, text);
	Py_DECREF(t);
	return r;
}

static PyMethodDef write_def = {
	.ml_name = "write",
	.ml_meth = proxy_write,
	.ml_flags = METH_O,
	.ml_doc = "Write to the current target stream.",
};

/* Every attribute (flush, fileno, encoding...) is the target's; write
 * is ours, to keep a prompt being edited intact. */
static PyObject *
proxy_getattro(struct proxy *self, PyObject *name)
{
	PyObject	*t, *r;

	if (PyUnicode_Check(name) && PyUnicode_Compare(name, s_write) == 0)
		return PyCFunction_New(&write_def, (PyObject *)self);
	t = proxy_target(self);
	r = PyObject_GetAttr(t, name);
	Py_DECREF(t);
	return r;
}

static int
proxy_setattro(struct proxy *self, PyObject *name, PyObject *v)
{
	PyObject	*t;
	int		 r;

	t = proxy_target(self);
	r = PyObject_SetAttr(t, name, v);
	Py_DECREF(t);
	return r;
}

static PyObject *
proxy_repr(struct proxy *self)
{
	PyObject	*t, *r;

	t = proxy_target(self);
	r = PyObject_Repr(t);
	Py_DECREF(t);
	return r;
}

static PyObject *
proxy_iter(struct proxy *self)
{
	PyObject	*t, *r;

	t = proxy_target(self);
	r = PyObject_GetIter(t);
	Py_DECREF(t);
	return r;
}

static int
proxy_traverse(struct proxy *self, visitproc visit, void *arg)
{
	Py_VISIT(self->stream);
	return 0;
}

static void
proxy_dealloc(struct proxy *self)
{
	PyObject_GC_UnTrack(self);
	Py_CLEAR(self->stream);
	PyObject_GC_Del(self);
}

static PyTypeObject proxy_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.StreamProxy",
	.tp_doc = "sys.stdout/sys.stderr: the console's while a console "
	    "statement runs, the program's otherwise.",
	.tp_basicsize = sizeof(struct proxy),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)proxy_traverse,
	.tp_dealloc = (destructor)proxy_dealloc,
	.tp_getattro = (getattrofunc)proxy_getattro,
	.tp_setattro = (setattrofunc)proxy_setattro,
	.tp_repr = (reprfunc)proxy_repr,
	.tp_iter = (getiterfunc)proxy_iter,
};

/* Put a proxy in front of sys.<name>, unless it is None. */
static int
output_wrap(const char *name)
{
	struct proxy	*p;
	PyObject	*stream = PySys_GetObject(name);
	int		 r;

	if (stream == NULL || stream == Py_None)
		return 0;
	if ((p = PyObject_GC_New(struct proxy, &proxy_type)) == NULL)
		return -1;
	p->stream = Py_NewRef(stream);
	PyObject_GC_Track(p);
	r = PySys_SetObject(name, (PyObject *)p);
	Py_DECREF(p);
	return r;
}

/* sys.displayhook: a console statement's value is shown on its console
 * and bound to _ in its namespace; the program's go the usual way. */
static PyObject *
output_displayhook(PyObject *module, PyObject *value)
{
	PyObject	*s, *ns, *text = NULL;
	int		 r = -1;

	(void)module;
	if ((s = session_current()) == NULL)
		return PyObject_CallOneArg(program_displayhook, value);
	if (value == Py_None) {
		Py_DECREF(s);
		Py_RETURN_NONE;
	}
	if ((text = PyObject_Repr(value)) != NULL)
		Py_SETREF(text, PyUnicode_FromFormat("%U\n", text));
	if (text != NULL && session_write(s, text) == 0 &&
	    (ns = session_namespace(s)) != NULL)
		r = PyDict_SetItemString(ns, "_", value);
	Py_XDECREF(text);
	Py_DECREF(s);
	if (r != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef displayhook_def = {
	.ml_name = "displayhook",
	.ml_meth = output_displayhook,
	.ml_flags = METH_O,
	.ml_doc = "Show a console statement's value on its console.",
};

/* Install the proxies and the display hook. */
int
output_setup(void)
{
	PyObject	*hook;

	if (PyType_Ready(&proxy_type) != 0)
		return -1;
	if ((s_write = PyUnicode_InternFromString("write")) == NULL ||
	    (held = PyDict_New()) == NULL)
		return -1;
	program_displayhook = Py_XNewRef(PySys_GetObject("displayhook"));
	if (program_displayhook == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "lost sys.displayhook");
		return -1;
	}
	if ((hook = PyCFunction_New(&displayhook_def, NULL)) == NULL)
		return -1;
	if (PySys_SetObject("displayhook", hook) != 0) {
		Py_DECREF(hook);
		return -1;
	}
	Py_DECREF(hook);
	if (output_wrap("stdout") != 0 || output_wrap("stderr") != 0)
		return -1;
	return 0;
}
