/* Python that is apython's own code, compiled at build time (py/freeze.py)
 * and run from the binary: cold-path glue that reads best as Python. */
#include "py/py.h"

#include <marshal.h>

/* Run the marshalled code of a module made for version (PY_VERSION_HEX's
 * major and minor) as a new module named name, kept out of sys.modules,
 * with the names in given (a dict, or NULL) set first: what C hands it.
 * The module, or NULL with exception. */
PyObject *
py_embed_module(const char *name, const unsigned char *code, size_t len,
    unsigned long version, PyObject *given)
{
	PyObject	*co, *module, *globals, *r;

	if ((version & 0xFFFF0000UL) != (PY_VERSION_HEX & 0xFFFF0000UL)) {
		PyErr_Format(PyExc_ImportError, "%s: built for another Python "
		    "version (%lx.%lx)", name, version >> 24,
		    (version >> 16) & 0xFF);
		return NULL;
	}
	co = PyMarshal_ReadObjectFromString((const char *)code,
	    (Py_ssize_t)len);
	if (co == NULL || (module = PyModule_New(name)) == NULL) {
		Py_XDECREF(co);
		return NULL;
	}
	globals = PyModule_GetDict(module);
	if (PyDict_SetItemString(globals, "__builtins__",
	    PyEval_GetBuiltins()) != 0 ||
	    (given != NULL && PyDict_Update(globals, given) != 0))
		r = NULL;
	else
		r = PyEval_EvalCode(co, globals, globals);
	Py_DECREF(co);
	if (r == NULL) {
		Py_DECREF(module);
		return NULL;
	}
	Py_DECREF(r);
	return module;
}

/* Keep module m (NULL: an exception is set) in *kept for the process,
 * unless running it let in another thread that kept one first: that one
 * stays. The module kept (borrowed), or NULL with exception. */
PyObject *
py_embed_keep(PyObject **kept, PyObject *m)
{
	if (m == NULL)
		return NULL;
	if (*kept == NULL)
		*kept = m;
	else
		Py_DECREF(m);
	return *kept;
}
