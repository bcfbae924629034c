/* Arguments of the loop's C methods. */
#include "loop/loop-internal.h"

/* A tuple of n objects from an array. */
PyObject *
loop_args_tuple(PyObject *const *items, Py_ssize_t n)
{
	PyObject	*t;
	Py_ssize_t	 i;

	if ((t = PyTuple_New(n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		Py_INCREF(items[i]);
		PyTuple_SET_ITEM(t, i, items[i]);
	}
	return t;
}
