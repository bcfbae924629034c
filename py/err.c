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
