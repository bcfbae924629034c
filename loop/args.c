/* Arguments of the loop's C methods: keyword arguments placed among the
 * positional ones by the names of the parameters, with Python's messages
 * or the method's own. */
#include "loop/loop-internal.h"

/* A wrong count of positional arguments. */
static int
args_count_error(const struct loop_args *a, Py_ssize_t nargs,
    Py_ssize_t missing)
{
	if (a->usage != NULL)
		PyErr_SetString(PyExc_TypeError, a->usage);
	else if (missing >= 0)
		PyErr_Format(PyExc_TypeError, "%s() missing required argument "
		    "'%s'", a->name, a->params[missing]);
	else
		PyErr_Format(PyExc_TypeError, "%s() takes %zd positional "
		    "arguments but %zd were given", a->name, a->npos + 1,
		    nargs + 1);
	return -1;
}

/* A keyword that names no parameter (known 0) or one already given. */
static int
args_keyword_error(const struct loop_args *a, PyObject *key, int known)
{
	if (a->badkw != NULL)
		PyErr_SetString(PyExc_TypeError, a->badkw);
	else
		PyErr_Format(PyExc_TypeError, known ? "%s() got multiple values "
		    "for argument '%U'" : "%s() got an unexpected keyword "
		    "argument '%U'", a->name, key);
	return -1;
}

/* Fill out[i] for each parameter of a (NULL when not given) from a
 * vectorcall's arguments; positionals past a->npos are left to the
 * caller when a->rest is set. -1 with TypeError. */
int
loop_args_parse(const struct loop_args *a, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames, PyObject **out)
{
	Py_ssize_t	i, k, n, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	PyObject	*key;

	for (n = 0; a->params[n] != NULL; n++)
		out[n] = n < a->npos && n < nargs ? args[n] : NULL;
	if (nargs > a->npos && !a->rest)
		return args_count_error(a, nargs, -1);
	/* Those that only come by position are checked first. */
	if (nargs < a->need && nargs < a->kwfrom)
		return args_count_error(a, nargs, nargs);
	for (k = 0; k < nkw; k++) {
		key = PyTuple_GET_ITEM(kwnames, k);
		for (i = a->kwfrom; i < n && PyUnicode_CompareWithASCIIString(key,
		    a->params[i]) != 0; i++)
			;
		if (i == n || out[i] != NULL)
			return args_keyword_error(a, key, i < n);
		out[i] = args[nargs + k];
	}
	for (i = 0; i < a->need; i++)
		if (out[i] == NULL)
			return args_count_error(a, nargs, i);
	return 0;
}

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
