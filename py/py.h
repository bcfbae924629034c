/* py/: small CPython C-API helpers shared by loop/, console/ and serve/. */
#ifndef APYTHON_PY_H
#define APYTHON_PY_H

#include "compat.h"

/* err.c: exceptions and calls. */
int		 py_call_truth(PyObject *, PyObject *name);
PyObject	*py_exception_fetch(void);
void		 py_exception_raise(PyObject *);
int		 py_register_at_fork(PyMethodDef *before,
		     PyMethodDef *after_in_parent, PyMethodDef *after_in_child);

/* A table of names to intern once, each into its slot. */
struct py_name {
	PyObject	**slot;
	const char	 *text;
};
#define PY_NAMES_LEN(t)	(sizeof (t) / sizeof (t)[0])
int		 py_intern_names(const struct py_name *, size_t);

/* embed.c: apython's own Python, compiled at build time. A folder's
 * X/name.py becomes X/name.py.h (X_name_code and X_name_code_version),
 * included by the C file that runs it: */
#define PY_EMBED(name, code, given)					\
	py_embed_module((name), (code), sizeof (code), code##_version, (given))
PyObject	*py_embed_module(const char *, const unsigned char *, size_t,
		     unsigned long, PyObject *);
PyObject	*py_embed_keep(PyObject **, PyObject *);

/* coro.c: coroutine types written in C. Each step returns 0 with the
 * value yielded in *out, 1 with the return value in *out, or -1 with an
 * exception set. */
struct py_coro_ops {
	/* Resume with value (None for __next__). */
	int	(*send)(PyObject *self, PyObject *value, PyObject **out);
	/* Raise exc (an instance, its traceback attached; borrowed) where
	 * the coroutine waits. */
	int	(*throw)(PyObject *self, PyObject *exc, PyObject **out);
	/* close(): 0, or -1 with exception. */
	int	(*close)(PyObject *self);
	/* Its __name__ and __qualname__ (PY_CORO_GETSET, for a type
	 * that sets it), which asyncio shows in a task's repr and in debug
	 * mode's warnings. */
	const char	*name;
};

/* A coroutine type's struct starts with PY_CORO_HEAD; its constructor
 * sets coro_ops. */
#define PY_CORO_HEAD	PyObject_HEAD const struct py_coro_ops *coro_ops;

/* Its type gets send(), throw() and close() from PY_CORO_METHODS, and
 * tp_iter, tp_iternext and tp_as_async from these. */
extern PyAsyncMethods	 py_coro_async;
PyObject	*py_coro_self(PyObject *);
PyObject	*py_coro_next(PyObject *);
PyObject	*py_coro_send(PyObject *, PyObject *);
PyObject	*py_coro_throw(PyObject *, PyObject *);
PyObject	*py_coro_close(PyObject *, PyObject *);

/* __name__ and __qualname__ from the ops' name, for tp_getset; repr():
 * "<TYPE coroutine object at ADDRESS>", for tp_repr. */
PyObject	*py_coro_name(PyObject *, void *);
PyObject	*py_coro_repr(PyObject *);

#define PY_CORO_GETSET							\
	{ .name = "__name__", .get = py_coro_name },			\
	{ .name = "__qualname__", .get = py_coro_name }

#define PY_CORO_METHODS							\
	{ .ml_name = "send", .ml_meth = py_coro_send, .ml_flags = METH_O }, \
	{ .ml_name = "throw", .ml_meth = py_coro_throw,			\
	    .ml_flags = METH_VARARGS },					\
	{ .ml_name = "close", .ml_meth = py_coro_close,			\
	    .ml_flags = METH_NOARGS }

/* Step another coroutine or generator (one a C coroutine wraps): send
 * value into it, or throw exc (borrowed) when exc is not NULL; same
 * returns as a step. */
int		 py_coro_resume(PyObject *coro, PyObject *value, PyObject *exc,
		     PyObject **out);

#endif
