/* The extension module apython$(EXT_SUFFIX) for a plain python3
 * (`make module`): PyInit_apython, multi-phase, so that every import asks
 * Py_mod_create. apython's C state is the process's (static), so the
 * module is made once, in the main interpreter; a later import there
 * gets a new module object with the first one's names (as CPython does
 * for single-phase modules); another interpreter gets an ImportError.
 * What differs from the binary is in ext.h. */
#include "ext/ext-internal.h"

#include "console/console.h"
#include "py/py.h"

static PyObject *first;		/* the module first made, for the process */

/* Whether the calling thread's interpreter is the main one. */
static int
ext_main_interpreter(void)
{
#if PY_VERSION_HEX >= 0x03090000
	return PyInterpreterState_Get() == PyInterpreterState_Main();
#else
	return PyThreadState_Get()->interp == PyInterpreterState_Main();
#endif
}

/* threading.current_thread() is threading.main_thread(): 1, 0, or -1
 * with exception. */
static int
ext_main_thread(void)
{
	PyObject	*threading, *cur = NULL, *main = NULL;
	int		 r = -1;

	if ((threading = PyImport_ImportModule("threading")) == NULL)
		return -1;
	if ((cur = PyObject_CallMethod(threading, "current_thread", NULL)) !=
	    NULL && (main = PyObject_CallMethod(threading, "main_thread",
	    NULL)) != NULL)
		r = cur == main;
	Py_XDECREF(cur);
	Py_XDECREF(main);
	Py_DECREF(threading);
	return r;
}

/* _prepare(): console_prepare(), which the binary does at start-up. */
static PyObject *
ext_prepare(PyObject *unused, PyObject *unused2)
{
	(void)unused;
	(void)unused2;
	if (console_prepare() != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef prepare_def = {
	.ml_name = "_prepare",
	.ml_meth = ext_prepare,
	.ml_flags = METH_NOARGS,
	.ml_doc = "Ready console/ for a first served console.",
};

/* m.name becomes glue.wrapper(m.name, extra...): the extension's own
 * version of a name (ext.h). */
static int
ext_wrap(PyObject *m, const char *name, const char *wrapper,
    PyObject *extra)
{
	PyObject	*g, *orig, *fn;
	int		 r;

	if ((g = ext_glue()) == NULL ||
	    (orig = PyObject_GetAttrString(m, name)) == NULL)
		return -1;
	fn = PyObject_CallMethod(g, wrapper, extra != NULL ? "OO" : "O", orig,
	    extra);
	Py_DECREF(orig);
	if (fn == NULL)
		return -1;
	r = PyObject_SetAttrString(m, name, fn);
	Py_DECREF(fn);
	return r;
}

/* start_console_server() readying console/ first. */
static int
ext_plain_names(PyObject *m)
{
	PyObject	*prepare;
	int		 r;

	if ((prepare = PyCFunction_New(&prepare_def, NULL)) == NULL)
		return -1;
	r = ext_wrap(m, "start_console_server", "plain_start_console_server",
	    prepare);
	Py_DECREF(prepare);
	return r;
}

/* The real-time signal's handler; without one (valgrind keeps the last
 * real-time signals), a warning, and a served client's Ctrl-C waits for
 * the loop, as in the binary, which prints the error and goes on. -1
 * with exception when the warning is an error. */
static int
ext_signals(void)
{
	PyObject	*exc;
	int		 r;

	if (console_signals_setup() == 0)
		return 0;
	exc = py_exception_fetch();
	r = PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "apython: %S: a served "
	    "client's Ctrl-C waits for the loop to turn",
	    exc != NULL ? exc : Py_None);
	Py_XDECREF(exc);
	return r;
}

/* The first import: the module's names, the extension's own versions of
 * two, and the real-time signal's handler, which only the main thread
 * may install (ext.h). */
static PyObject *
ext_first(PyObject *name)
{
	PyObject	*m;
	int		 main_thread;

	if ((m = PyModule_NewObject(name)) == NULL)
		return NULL;
	if (ext_fill(m) != 0 || ext_plain_names(m) != 0 ||
	    (main_thread = ext_main_thread()) < 0 ||
	    (main_thread ? ext_signals() : PyErr_WarnEx(PyExc_RuntimeWarning,
	    "apython: imported outside the main thread: a served client's "
	    "Ctrl-C waits for the loop to turn", 1)) != 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}

/* Whether key is one of the attributes the import sets on each module. */
static int
ext_import_attr(PyObject *key)
{
	static const char *const attrs[] = { "__name__", "__spec__",
	    "__loader__", "__file__", "__package__" };
	size_t	i;

	for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
		if (PyUnicode_CompareWithASCIIString(key, attrs[i]) == 0)
			return 1;
	return 0;
}

/* A later import: a new module with the first one's names but its own
 * import attributes. The keys are str: setting them runs no Python. */
static PyObject *
ext_again(PyObject *name)
{
	PyObject	*m, *d, *key, *value;
	Py_ssize_t	 pos = 0;

	if ((m = PyModule_NewObject(name)) == NULL)
		return NULL;
	d = PyModule_GetDict(m);
	while (PyDict_Next(PyModule_GetDict(first), &pos, &key, &value)) {
		if (PyUnicode_Check(key) && !ext_import_attr(key) &&
		    PyDict_SetItem(d, key, value) != 0) {
			Py_DECREF(m);
			return NULL;
		}
	}
	return m;
}

/* Py_mod_create: the module for spec (ext.h's one-per-process rule). */
static PyObject *
ext_create(PyObject *spec, PyModuleDef *def)
{
	PyObject	*name, *m;

	(void)def;
	if (!ext_main_interpreter()) {
		PyErr_SetString(PyExc_ImportError, "apython can only be "
		    "imported in the main interpreter");
		return NULL;
	}
	if ((name = PyObject_GetAttrString(spec, "name")) == NULL)
		return NULL;
	if (first != NULL)
		m = ext_again(name);
	else if ((m = ext_first(name)) != NULL)
		first = Py_NewRef(m);
	Py_DECREF(name);
	return m;
}

static PyModuleDef_Slot ext_slots[] = {
	{ Py_mod_create, (void *)ext_create },
#if PY_VERSION_HEX >= 0x030C0000
	{ Py_mod_multiple_interpreters,
	  Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED },
#endif
	{ 0, NULL }
};

static struct PyModuleDef ext_def = {
	PyModuleDef_HEAD_INIT, "apython",
	"apython's native parts: the libevent event loop and the console.",
	0, NULL, ext_slots, NULL, NULL, NULL
};

/* The one symbol the extension exports. */
__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit_apython(void);

PyMODINIT_FUNC
PyInit_apython(void)
{
	return PyModuleDef_Init(&ext_def);
}
