/* Shims for CPython C-API calls newer than 3.8, the oldest we embed. */
#ifndef APYTHON_COMPAT_H
#define APYTHON_COMPAT_H

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#if PY_VERSION_HEX < 0x03090000
static inline PyObject *
PyObject_CallNoArgs(PyObject *f)
{
	return PyObject_CallFunctionObjArgs(f, NULL);
}

static inline PyObject *
PyObject_CallOneArg(PyObject *f, PyObject *a)
{
	return PyObject_CallFunctionObjArgs(f, a, NULL);
}

static inline PyObject *
PyObject_CallMethodNoArgs(PyObject *o, PyObject *name)
{
	return PyObject_CallMethodObjArgs(o, name, NULL);
}

static inline PyObject *
PyObject_CallMethodOneArg(PyObject *o, PyObject *name, PyObject *a)
{
	return PyObject_CallMethodObjArgs(o, name, a, NULL);
}

static inline PyObject *
PyObject_Vectorcall(PyObject *f, PyObject *const *args, size_t nargsf,
    PyObject *kwnames)
{
	return _PyObject_Vectorcall(f, args, nargsf, kwnames);
}

static inline void
Py_SET_SIZE(PyVarObject *o, Py_ssize_t n)
{
	o->ob_size = n;
}
#define Py_SET_SIZE(o, n)	Py_SET_SIZE((PyVarObject *)(o), (n))
#endif

/* Does weak reference ref point to o? */
static inline int
compat_weakref_is(PyObject *ref, PyObject *o)
{
#if PY_VERSION_HEX >= 0x030D0000
	PyObject	*t;
	int		 r;

	if ((r = PyWeakref_GetRef(ref, &t)) <= 0) {
		PyErr_Clear();
		return 0;
	}
	r = t == o;
	Py_DECREF(t);
	return r;
#else
	return PyWeakref_GET_OBJECT(ref) == o;
#endif
}

#if PY_VERSION_HEX < 0x03090000
static inline int
PyObject_GC_IsTracked(PyObject *o)
{
	return PyObject_IS_GC(o) && _PyObject_GC_IS_TRACKED(o);
}
#endif

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
Py_NewRef(PyObject *o)
{
	Py_INCREF(o);
	return o;
}

static inline PyObject *
Py_XNewRef(PyObject *o)
{
	Py_XINCREF(o);
	return o;
}
#endif

#endif
