/* Exceptions, calls and interned names, the same way in every folder. */
#include "py/py.h"

/* Call obj.name() and return its truth: 1 or 0, -1 with exception. */
int
py_call_truth(PyObject *obj, PyObject *name)
{
	PyObject	*r;
	int		 truth;

	if ((r = PyObject_CallMethodNoArgs(obj, name)) == NULL)
		return -1;
	truth = PyObject_IsTrue(r);
	Py_DECREF(r);
	return truth;
}

/* Take the exception being raised, normalized, its traceback attached
 * (as an except clause sees it); NULL when none is. */
PyObject *
py_exception_fetch(void)
{
#if PY_VERSION_HEX >= 0x030C0000
	return PyErr_GetRaisedException();
#else
	PyObject	*type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL)
		return NULL;
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL && value != NULL)
		PyException_SetTraceback(value, tb);
	Py_DECREF(type);
	Py_XDECREF(tb);
	return value;
#endif
}

/* Raise exc again, with the traceback it carries; steals the reference. */
void
py_exception_raise(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(exc);
#else
	PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
	    PyException_GetTraceback(exc));
#endif
}

/* Intern each name not interned yet; -1 with exception. */
int
py_intern_names(const struct py_name *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (*names[i].slot != NULL)
			continue;
		*names[i].slot = PyUnicode_InternFromString(names[i].text);
		if (*names[i].slot == NULL)
			return -1;
	}
	return 0;
}

/* os.register_at_fork() with those of before, after_in_parent and
 * after_in_child that are not NULL: 0, or -1 with exception. */
int
py_register_at_fork(PyMethodDef *before, PyMethodDef *after_in_parent,
    PyMethodDef *after_in_child)
{
	static const char	*kinds[] = { "before", "after_in_parent",
	    "after_in_child" };
	PyMethodDef		*defs[] = { before, after_in_parent,
	    after_in_child };
	PyObject		*kw, *fn, *os = NULL, *reg = NULL, *args = NULL;
	PyObject		*r = NULL;
	size_t			 i;

	if ((kw = PyDict_New()) == NULL)
		return -1;
	for (i = 0; i < 3; i++) {
		if (defs[i] == NULL)
			continue;
		if ((fn = PyCFunction_New(defs[i], NULL)) == NULL ||
		    PyDict_SetItemString(kw, kinds[i], fn) != 0) {
			Py_XDECREF(fn);
			goto done;
		}
		Py_DECREF(fn);
	}
	if ((os = PyImport_ImportModule("os")) != NULL &&
	    (reg = PyObject_GetAttrString(os, "register_at_fork")) != NULL &&
	    (args = PyTuple_New(0)) != NULL)
		r = PyObject_Call(reg, args, kw);
done:
	Py_XDECREF(args);
	Py_XDECREF(reg);
	Py_XDECREF(os);
	Py_DECREF(kw);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}
