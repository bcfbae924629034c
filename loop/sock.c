/* The loop's sock_* methods: an operation of ours (sockop.c) for a
 * socket.socket itself, asyncio's coroutine for anything else; and the
 * epoll set where operations wait, made on first need. */
#include "loop/loop-internal.h"

/* The loop's sock_* epoll set, made on first need when create is set;
 * NULL (with an exception only if create was set) when there is none. */
struct sockpoll *
loop_sockpoll(PyObject *loop, int create)
{
	struct loop	*self = loop_of(loop);

	if (self->sp != NULL || !create)
		return self->sp;
	if (self->closed) {
		PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
		return NULL;
	}
	return self->sp = sockpoll_new(self->base);
}

/* Place keyword arguments among the positional ones by the names of
 * the parameters; the count in *n; -1 with TypeError as Python's. */
static int
loop_sock_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
    const char *name, const char *const *params, PyObject **out,
    Py_ssize_t *n)
{
	Py_ssize_t	i, k, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	for (i = 0; params[i] != NULL; i++)
		out[i] = i < nargs ? args[i] : NULL;
	if (nargs > i) {
		PyErr_Format(PyExc_TypeError, "%s() takes %zd positional "
		    "arguments but %zd were given", name, i + 1, nargs + 1);
		return -1;
	}
	for (k = 0; k < nkw; k++) {
		for (i = 0; params[i] != NULL && PyUnicode_CompareWithASCIIString(
		    PyTuple_GET_ITEM(kwnames, k), params[i]) != 0; i++)
			;
		if (params[i] == NULL || out[i] != NULL) {
			PyErr_Format(PyExc_TypeError, params[i] ? "%s() got "
			    "multiple values for argument '%U'" : "%s() got an "
			    "unexpected keyword argument '%U'", name,
			    PyTuple_GET_ITEM(kwnames, k));
			return -1;
		}
		out[i] = args[nargs + k];
	}
	for (*n = 0; params[*n] != NULL && out[*n] != NULL; (*n)++)
		;
	return 0;
}

/* A sock_* method with need required parameters: our operation for a
 * socket.socket, asyncio's coroutine for anything else. */
static PyObject *
loop_sock_op(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames, int kind, const char *name, const char *const *params,
    Py_ssize_t need)
{
	PyObject	*op, *sup, *meth, *all[4];
	Py_ssize_t	 n;

	if (loop_sock_args(args, nargs, kwnames, name, params, all, &n) != 0)
		return NULL;
	if (n < need) {
		PyErr_Format(PyExc_TypeError, "%s() missing required argument "
		    "'%s'", name, params[n]);
		return NULL;
	}
	if (loop_check_open(self) != 0)
		return NULL;
	if ((op = sock_op_new((PyObject *)self, kind, all, n)) != NULL ||
	    PyErr_Occurred())
		return op;
	if ((sup = loop_super(self)) == NULL)
		return NULL;
	meth = PyObject_GetAttrString(sup, name);
	Py_DECREF(sup);
	if (meth == NULL)
		return NULL;
	op = PyObject_Vectorcall(meth, all, n, NULL);
	Py_DECREF(meth);
	return op;
}

/* loop_<m>(): the sock_* method m; need of its parameters are required. */
#define LOOP_SOCK_METHOD(m, kind, need, ...)				\
static PyObject *							\
loop_##m(struct loop *self, PyObject *const *args, Py_ssize_t nargs,	\
    PyObject *kwnames)							\
{									\
	static const char *const params[] = { __VA_ARGS__, NULL };	\
									\
	return loop_sock_op(self, args, nargs, kwnames, kind, #m, params, \
	    need);							\
}

LOOP_SOCK_METHOD(sock_recv, SOCK_RECV, 2, "sock", "n")
LOOP_SOCK_METHOD(sock_recv_into, SOCK_RECV_INTO, 2, "sock", "buf")
LOOP_SOCK_METHOD(sock_sendall, SOCK_SENDALL, 2, "sock", "data")
LOOP_SOCK_METHOD(sock_accept, SOCK_ACCEPT, 1, "sock")
#if PY_VERSION_HEX >= 0x030B0000
LOOP_SOCK_METHOD(sock_recvfrom, SOCK_RECVFROM, 2, "sock", "bufsize")
LOOP_SOCK_METHOD(sock_recvfrom_into, SOCK_RECVFROM_INTO, 2, "sock", "buf",
    "nbytes")
LOOP_SOCK_METHOD(sock_sendto, SOCK_SENDTO, 3, "sock", "data", "address")
#endif


const PyMethodDef loop_sock_methods[] = {
	{ "sock_recv", (PyCFunction)(void (*)(void))loop_sock_recv,
	    LOOP_FASTKW, NULL },
	{ "sock_recv_into", (PyCFunction)(void (*)(void))loop_sock_recv_into,
	    LOOP_FASTKW, NULL },
	{ "sock_sendall", (PyCFunction)(void (*)(void))loop_sock_sendall,
	    LOOP_FASTKW, NULL },
	{ "sock_accept", (PyCFunction)(void (*)(void))loop_sock_accept,
	    LOOP_FASTKW, NULL },
#if PY_VERSION_HEX >= 0x030B0000
	{ "sock_recvfrom", (PyCFunction)(void (*)(void))loop_sock_recvfrom,
	    LOOP_FASTKW, NULL },
	{ "sock_recvfrom_into",
	    (PyCFunction)(void (*)(void))loop_sock_recvfrom_into,
	    LOOP_FASTKW, NULL },
	{ "sock_sendto", (PyCFunction)(void (*)(void))loop_sock_sendto,
	    LOOP_FASTKW, NULL },
#endif
	{ NULL, NULL, 0, NULL }
};
