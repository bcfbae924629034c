/* apython.AsynchronousCli (ext/cli.py), made from AsynchronousConsole
 * when first asked for, as console/streams.c makes its names: importing
 * apython stays cheap. The module's __getattr__ and __dir__ become ours,
 * which pass every other name to those they replace. */
#include "ext/ext-internal.h"

#include "ext/cli.py.h"
#include "py/py.h"

static PyObject *glue;		/* ext/cli.py, for the process */
static PyObject *next_getattr;	/* the module's __getattr__ before ours */
static PyObject *next_dir;	/* ... and its __dir__ */

/* The class, made and kept in module. */
static PyObject *
cli_make(PyObject *module, PyObject *name)
{
	PyObject	*base, *cls;

	if (glue == NULL && py_embed_keep(&glue, PY_EMBED("apython._cli",
	    ext_cli_code, NULL)) == NULL)
		return NULL;
	if ((base = PyObject_GetAttrString(module, "AsynchronousConsole")) ==
	    NULL)
		return NULL;
	cls = PyObject_CallMethod(glue, "make", "O", base);
	Py_DECREF(base);
	if (cls != NULL && PyObject_SetAttr(module, name, cls) != 0)
		Py_CLEAR(cls);
	return cls;
}

/* module.__getattr__(name): AsynchronousCli, else the next one's. */
static PyObject *
cli_getattr(PyObject *module, PyObject *name)
{
	if (PyUnicode_Check(name) &&
	    PyUnicode_CompareWithASCIIString(name, "AsynchronousCli") == 0)
		return cli_make(module, name);
	if (next_getattr != NULL)
		return PyObject_CallFunctionObjArgs(next_getattr, name, NULL);
	PyErr_Format(PyExc_AttributeError,
	    "module 'apython' has no attribute '%S'", name);
	return NULL;
}

/* module.__dir__(): the next one's names, with AsynchronousCli. */
static PyObject *
cli_dir(PyObject *module, PyObject *unused)
{
	PyObject	*names, *s;
	int		 r;

	(void)unused;
	if (next_dir != NULL)
		names = PyObject_CallNoArgs(next_dir);
	else
		names = PyDict_Keys(PyModule_GetDict(module));
	if (names == NULL || (s = PyUnicode_FromString("AsynchronousCli")) ==
	    NULL) {
		Py_XDECREF(names);
		return NULL;
	}
	if ((r = PySequence_Contains(names, s)) == 0)
		r = PyList_Append(names, s);
	Py_DECREF(s);
	if (r < 0)
		Py_CLEAR(names);
	return names;
}

static PyMethodDef cli_defs[] = {
	{ "__getattr__", cli_getattr, METH_O, NULL },
	{ "__dir__", cli_dir, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

/* Put def in the module instead of *next (a new reference to what was
 * there, or NULL). */
static int
cli_chain(PyObject *module, PyMethodDef *def, PyObject **next)
{
	PyObject	*d = PyModule_GetDict(module), *fn;

	if ((*next = PyDict_GetItemString(d, def->ml_name)) != NULL)
		Py_INCREF(*next);
	if ((fn = PyCFunction_NewEx(def, module, NULL)) == NULL)
		return -1;
	if (PyDict_SetItemString(d, def->ml_name, fn) != 0) {
		Py_DECREF(fn);
		return -1;
	}
	Py_DECREF(fn);
	return 0;
}

/* AsynchronousCli for the module, made on first use. */
int
ext_cli_add_to_module(PyObject *module)
{
	if (cli_chain(module, &cli_defs[0], &next_getattr) != 0 ||
	    cli_chain(module, &cli_defs[1], &next_dir) != 0)
		return -1;
	return 0;
}
