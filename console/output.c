/* Output routing: while a console statement (or a task it started) runs,
 * sys.stdout, sys.stderr and the display hook write to its console. */
#include "console/console.h"

/* sys.stdout / sys.stderr: the program's stream, or the console's. */
struct proxy {
	PyObject_HEAD
	PyObject	*stream;	/* the program's own */
};

static PyObject *current_var;	/* contextvar: the session running */
static PyObject *program_displayhook;

/* The context variable naming the current console session. */
PyObject *
output_var(void)
{
	return current_var;
}

/* The session the running code belongs to (new reference), or NULL. */
PyObject *
output_current(void)
{
	PyObject	*v = NULL;

	if (current_var == NULL || PyContextVar_Get(current_var, NULL, &v))
		PyErr_Clear();
	return v;
}

/* The stream the running code should use (new reference). */
static PyObject *
proxy_target(struct proxy *self)
{
	PyObject	*s, *out;

	if ((s = output_current()) == NULL)
		return Py_NewRef(self->stream);
	out = Py_NewRef(session_out(s));
	Py_DECREF(s);
	return out;
}

/* Every attribute (write, flush, fileno, encoding...) is the target's. */
static PyObject *
proxy_getattro(struct proxy *self, PyObject *name)
{
	PyObject	*t, *r;

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
	PyObject	*s, *text = NULL;
	int		 r = -1;

	(void)module;
	if ((s = output_current()) == NULL)
		return PyObject_CallOneArg(program_displayhook, value);
	if (value == Py_None) {
		Py_DECREF(s);
		Py_RETURN_NONE;
	}
	if ((text = PyObject_Repr(value)) != NULL)
		Py_SETREF(text, PyUnicode_FromFormat("%U\n", text));
	if (text != NULL && session_write(s, text) == 0)
		r = PyDict_SetItemString(session_namespace(s), "_", value);
	Py_XDECREF(text);
	Py_DECREF(s);
	if (r != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef displayhook_def = {
	"displayhook", output_displayhook, METH_O,
	"Show a console statement's value on its console."
};

/* Install the proxies and the display hook. */
int
output_setup(void)
{
	PyObject	*hook;

	if (PyType_Ready(&proxy_type) != 0)
		return -1;
	current_var = PyContextVar_New("apython_console", NULL);
	if (current_var == NULL)
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
